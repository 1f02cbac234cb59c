"""Fixtures shared by the test modules: the demo study is run, and its report written,
once per test session (each takes seconds; several modules check the same outputs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from es_survey.report import write_report
from es_survey.study import load_config, run_study

ROOT = Path(__file__).resolve().parents[1]
DEMO_STUDY = ROOT / "data" / "raw" / "study.toml"


@pytest.fixture(scope="session")
def demo_results():
    """``run_study`` of the bundled demo study (data/raw/study.toml)."""
    return run_study(load_config(DEMO_STUDY))


@pytest.fixture(scope="session")
def demo_report(demo_results, tmp_path_factory):
    """The demo's Polish report: (folder, files written, progress messages)."""
    out = tmp_path_factory.mktemp("report_pl")
    messages: list[str] = []
    files = write_report(demo_results, out, progress=messages.append)
    return out, files, messages
