"""The es-survey command line: demo and validate, checked against the demo's known truth."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from es_survey.cli import main

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return pd.read_csv(RAW / "truth.csv", dtype={"regon": str})


def test_demo_summary_matches_the_generators_record(truth, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    before = _hashes(RAW)
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    # Counts known from the generator's own record of the population (truth.csv),
    # not from the loader: every frame unit, the sampled ones, the responding ones
    # plus the one deliberately duplicated response, and the 3 mistyped REGONs.
    duplicated = int((truth["corruption"] == "duplicate_response").sum())
    n_responses = int(truth["responded"].sum()) + duplicated
    assert f"frame units          {len(truth):>6}" in out
    assert f"sampled units        {int(truth['sampled'].sum()):>6}" in out
    assert f"responses            {n_responses:>6}" in out
    mistyped = int((truth["corruption"] == "regon_mistyped").sum())
    assert f"not in the frame     {mistyped:>6}" in out
    assert "regon_checksum" in out and "response_not_in_frame" in out
    for name in ("problems.csv", "frame.csv", "responses.csv", "linked.csv"):
        assert (tmp_path / name).is_file()
    problems = pd.read_csv(tmp_path / "problems.csv")
    assert (problems["rule"] == "regon_checksum").sum() == mistyped
    assert len(pd.read_csv(tmp_path / "frame.csv")) == len(truth)
    assert _hashes(RAW) == before, "the demo must not alter data/raw/"


def test_demo_regenerates_from_seed_outside_a_checkout(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--out", "out"]) == 0
    out = capsys.readouterr().out
    assert "generated from seed 2023" in out
    assert (tmp_path / "out" / "linked.csv").is_file()


def test_validate_missing_file_is_one_line_error(tmp_path, capsys):
    code = main(["validate", str(tmp_path / "frame.xlsx"), str(RAW / "responses.xlsx"),
                 "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("es-survey: error: ")
    assert "frame.xlsx" in err and "file not found" in err
    assert "Traceback" not in err


def test_validate_strict_lists_every_error(tmp_path, capsys):
    code = main(["validate", str(RAW / "frame.xlsx"), str(RAW / "responses.xlsx"),
                 "--out", str(tmp_path), "--strict"])
    assert code == 2
    err = capsys.readouterr().err
    assert "strict=True" in err
    assert err.count("regon_checksum") == 3
