"""The module structure: imports run one way (issue "One estimation path").

Every runtime import between es_survey's modules is at module level (no import hidden
in a function to dodge a cycle), and the graph of those imports has no cycle.
Imports under ``if TYPE_CHECKING:`` are annotations only and are not counted.

The one exception is the command line (``cli.py``), an entry point that no module
imports: its commands import what they need when they run, so that
``es-survey --version`` answers at once (issue 12, section 5). Its function-level
imports still count as edges of the graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

import es_survey as es

SRC = Path(__file__).resolve().parents[1] / "src" / "es_survey"


def _module_imports(tree: ast.Module) -> tuple[set[str], list[str]]:
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            type_only.update(id(sub) for sub in ast.walk(node))
    deps: set[str] = set()
    local: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for sub in ast.walk(node):
                if isinstance(sub, ast.ImportFrom) and (sub.module or "").startswith("es_survey"):
                    local.append(f"{node.name}: from {sub.module} import ...")
                    deps.add((sub.module or "").split(".")[1])
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and id(node) not in type_only:
            module = node.module or ""
            if module == "es_survey":
                deps.update(a.name for a in node.names)
            elif module.startswith("es_survey."):
                deps.add(module.split(".")[1])
    return {d for d in deps if (SRC / f"{d}.py").is_file()}, local


def test_no_import_inside_a_function_and_no_cycle():
    graph = {}
    for path in sorted(SRC.glob("*.py")):
        deps, local = _module_imports(ast.parse(path.read_text(encoding="utf-8")))
        if path.stem != "cli":
            assert not local, f"{path.name} imports inside functions: {local}"
        graph[path.stem] = deps - {path.stem}
    assert not [m for m, deps in graph.items() if "cli" in deps], "cli must stay an entry point"
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            raise AssertionError("import cycle: " + " -> ".join([*path[path.index(node) :], node]))
        if node in done:
            return
        for dep in sorted(graph.get(node, ())):
            visit(dep, [*path, node])
        done.add(node)

    for module in graph:
        visit(module, [])


def test_engine_internals_are_not_public():
    for name in ("Stage", "DomainKeys", "CalibrationStep", "NonresponseStep", "Domains"):
        assert name not in es.__all__
    assert not hasattr(es.SurveyDesign, "variance_engine")
    assert not hasattr(es.ReplicateDesign, "variance_engine")
