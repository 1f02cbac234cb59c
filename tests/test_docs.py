"""The API reference (docs/) documents exactly ``es_survey.__all__``.

docs/api.rst holds one ``es-survey-api`` directive whose content ``docs/conf.py``
generates from ``es_survey.__all__`` at build time. These tests check that
generator, and the pages around it, without Sphinx installed (the docs extra is
not needed to run the test suite); CI builds the site itself with ``sphinx -W``.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import tomllib
import types
from pathlib import Path

import pytest

import es_survey

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DIRECTIVE = re.compile(r"^\.\. (auto\w+):: es_survey\.(\w+)\s*$", re.M)


@pytest.fixture(scope="module")
def conf() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("_es_survey_docs_conf", DOCS / "conf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expected_names() -> list[str]:
    return sorted(name for name in es_survey.__all__ if name != "__version__")


def documented(rst: str) -> list[str]:
    return sorted(name for _, name in DIRECTIVE.findall(rst))


def summarised(rst: str) -> list[str]:
    names = []
    for block in re.findall(r"^\.\. autosummary::\n\n((?:   \S.*\n)+)", rst, re.M):
        names += [line.strip() for line in block.splitlines()]
    return sorted(names)


def test_api_page_documents_exactly_all(conf: types.ModuleType) -> None:
    rst = conf.api_rst()
    assert documented(rst) == expected_names()  # each name once, nothing else
    assert summarised(rst) == expected_names()
    assert sorted(name for _, name, _ in conf.api_entries()) == expected_names()
    assert "__version__" not in rst


def test_directive_per_kind(conf: types.ModuleType) -> None:
    rst = conf.api_rst()
    kinds = dict((name, kind) for kind, name in DIRECTIVE.findall(rst))
    assert kinds["SurveyDesign"] == "autoclass"
    assert kinds["DataError"] == "autoexception"
    assert kinds["PrecisionWarning"] == "autoexception"
    assert kinds["load_study"] == "autofunction"
    # classes come with their public methods and properties, inherited ones too
    block = rst.split(".. autoclass:: es_survey.SurveyDesign\n", 1)[1].split("\n\n", 1)[0]
    assert ":members:" in block
    assert ":inherited-members:" in block


def test_api_page_follows_all(conf: types.ModuleType) -> None:
    """A name added to or removed from ``__all__`` changes the page: no static list."""
    fake = types.ModuleType("es_survey")
    fake.__all__ = ["SurveyDesign", "load_study", "__version__"]
    fake.SurveyDesign = es_survey.SurveyDesign
    fake.load_study = es_survey.load_study
    fake.__version__ = "0"
    assert documented(conf.api_rst(fake)) == ["SurveyDesign", "load_study"]


def test_api_rst_uses_the_generated_list_only() -> None:
    text = (DOCS / "api.rst").read_text(encoding="utf-8")
    assert re.search(r"^\.\. es-survey-api::\s*$", text, re.M)
    # no hand-written entries that could drift from __all__
    assert not re.search(r"^\s*\.\. (auto\w+|py:\w+|autosummary)::", text, re.M)


def test_conf_imports_no_sphinx_at_module_level() -> None:
    """conf.py stays importable without the docs extra (Sphinx only inside setup())."""
    tree = ast.parse((DOCS / "conf.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        else:
            continue
        for module in modules:
            assert module.split(".")[0] not in {"sphinx", "docutils", "myst_parser"}, module


def test_site_includes_api_and_markdown_pages() -> None:
    index = (DOCS / "index.rst").read_text(encoding="utf-8")
    toctree = index.split(".. toctree::", 1)[1]
    entries = {line.strip() for line in toctree.splitlines() if line.startswith("   ")}
    assert {"api", "methods", "report"} <= entries
    assert (DOCS / "methods.md").is_file()
    assert (DOCS / "report.md").is_file()


def test_docs_extra_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    docs = project["optional-dependencies"]["docs"]
    names = {re.split(r"[<>=!~\[ ]", req, maxsplit=1)[0].lower() for req in docs}
    assert {"sphinx", "myst-parser"} <= names
    assert all(">=" in req for req in docs)
