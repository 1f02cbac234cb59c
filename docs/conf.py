"""Sphinx configuration of the es_survey documentation.

Build (from the repository root, with the ``docs`` extra installed)::

    .venv/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html

The API page (``api.rst``) holds a single ``es-survey-api`` directive; the list of
documented objects is computed here, at build time, from ``es_survey.__all__``
(without ``__version__``), so the page can never drift from the public API.
``api_entries`` and ``api_rst`` import nothing from Sphinx: ``tests/test_docs.py``
checks them without the docs extra installed.
"""

from __future__ import annotations

import inspect
import itertools
import sys
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_ROOT / "src"))  # document the source tree even when not installed

import es_survey  # noqa: E402

# -- Project ---------------------------------------------------------------------------

project = "es_survey"
author = "es_survey developers"
copyright = "es_survey developers, MIT licence"
release = es_survey.__version__
version = ".".join(release.split(".")[:2])

# -- General ---------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
# Single backticks in the docstrings (`SurveyDesign`) are cross-references where they
# name an object, and code otherwise.
default_role = "py:obj"
language = "en"
pygments_style = "sphinx"

# -- autodoc / napoleon (numpy-style docstrings) ---------------------------------------

autodoc_default_options = {
    "members": True,
    "member-order": "bysource",
}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_member_order = "bysource"
autosummary_generate = False
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
# Attributes sections become ``:ivar:`` fields, so an attribute that is also a
# documented property is not described twice.
napoleon_use_ivar = True
napoleon_preprocess_types = False

# -- MyST (docs/methods.md and docs/report.md) -----------------------------------------

myst_heading_anchors = 3

# -- HTML ------------------------------------------------------------------------------

html_theme = "alabaster"
html_title = f"es_survey {release}"
html_static_path: list[str] = []
html_theme_options = {
    "description": "Design-based estimation for surveys of the social-economy sector",
    "fixed_sidebar": True,
}

# -- The API page, generated from es_survey.__all__ -------------------------------------

#: Order of the sections of the API page, following the analysis (load, validate,
#: classify, weight, estimate, report). It only orders: a module that is not listed
#: still gets its section, after these.
MODULE_ORDER = (
    "es_survey.codebook",
    "es_survey.io",
    "es_survey.validate",
    "es_survey.rules",
    "es_survey.classify",
    "es_survey.dispositions",
    "es_survey.design",
    "es_survey.replicate",
    "es_survey.estimate",
    "es_survey.result",
    "es_survey.funnel",
    "es_survey.tables",
    "es_survey.charts",
    "es_survey.report",
    "es_survey.errors",
)


def public_names(package: Any = es_survey) -> list[str]:
    """Names the API page documents: ``package.__all__`` without ``__version__``."""
    return [name for name in package.__all__ if name != "__version__"]


def _directive(obj: Any) -> str:
    """Autodoc directive for ``obj``."""
    if inspect.isclass(obj):
        return "autoexception" if issubclass(obj, BaseException) else "autoclass"
    if callable(obj):
        return "autofunction"
    return "autodata"


def api_entries(package: Any = es_survey) -> list[tuple[str, str, str]]:
    """List ``(module, name, directive)`` for every public name, in the order of the page.

    Names are grouped by the module that defines them (``MODULE_ORDER`` first, any
    other module after, alphabetically) and sorted case-insensitively within a module.
    """
    rank = {module: i for i, module in enumerate(MODULE_ORDER)}
    entries = []
    for name in public_names(package):
        obj = getattr(package, name)
        module = getattr(obj, "__module__", None)
        if not isinstance(module, str) or not module.startswith(package.__name__):
            module = package.__name__
        entries.append((module, name, _directive(obj)))
    return sorted(
        entries,
        key=lambda e: (rank.get(e[0], len(rank)), e[0], e[1].lower(), e[1]),
    )


def _summary(module_name: str) -> str:
    """First line of a module's docstring ("" when there is none)."""
    module = sys.modules.get(module_name)
    doc = inspect.getdoc(module) if module is not None else None
    return doc.strip().splitlines()[0].strip() if doc else ""


def api_rst(package: Any = es_survey) -> str:
    """Write the reStructuredText of the API page body: one section per defining module.

    Each section has a summary table and the full entries; classes show their
    public methods and properties, including those inherited from private bases.
    Objects are documented under their public name ``es_survey.<name>``.
    """
    pkg = package.__name__
    lines = [f".. currentmodule:: {pkg}", ""]
    for module, group in itertools.groupby(api_entries(package), key=lambda e: e[0]):
        entries = list(group)
        title = f"``{module}``"
        lines += [title, "-" * len(title), ""]
        summary = _summary(module)
        if summary:
            lines += [summary, ""]
        lines += [".. autosummary::", ""]
        lines += [f"   {name}" for _, name, _ in entries]
        lines += [""]
        for _, name, directive in entries:
            lines += [f".. {directive}:: {pkg}.{name}"]
            if directive == "autoclass":
                lines += ["   :members:", "   :inherited-members:"]
            elif directive == "autoexception":
                lines += ["   :members:", "   :show-inheritance:"]
            lines += [""]
    return "\n".join(lines)


def _resolve_public_name(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve ``es_survey.<module>.<Name>[.<member>]`` to ``es_survey.<Name>[.<member>]``.

    Docstrings and type annotations name objects by their defining module
    (``es_survey.estimate.Estimate``); the API page documents them under the
    package (``es_survey.Estimate``). Other missing references are left alone.
    """
    if node.get("refdomain") != "py":
        return None
    parts = str(node.get("reftarget", "")).split(".")
    pkg = es_survey.__name__
    if len(parts) < 3 or parts[0] != pkg or parts[2] not in public_names():
        return None
    target = ".".join([pkg, *parts[2:]])
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], target, node, contnode
    )


def setup(app: Any) -> dict[str, Any]:
    """Register the ``es-survey-api`` directive that renders ``api_rst()``."""
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    class EsSurveyApi(SphinxDirective):
        """Insert the generated API reference (see ``api_rst``)."""

        has_content = False

        def run(self) -> list[nodes.Node]:
            # Rebuild the page whenever the package's public names may have changed.
            self.env.note_dependency(str(Path(es_survey.__file__).resolve()))
            source = self.get_source_info()[0] or "api.rst"
            content = StringList()
            for i, line in enumerate(api_rst().splitlines()):
                content.append(line, f"{source}:<es-survey-api>", i)
            node = nodes.section()
            node.document = self.state.document
            nested_parse_with_titles(self.state, content, node)
            return node.children

    app.add_directive("es-survey-api", EsSurveyApi)
    app.connect("missing-reference", _resolve_public_name)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
