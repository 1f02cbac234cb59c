"""The es-survey command line: demo, run and validate, checked against the demo's truth."""

from __future__ import annotations

import hashlib
import re
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


def _interval(out: str, quantity: str) -> tuple[float, float, float]:
    # "  active         299  95% CI 266 – 332" (Polish digits: narrow no-break space)
    line = next(x for x in out.splitlines() if x.strip().startswith(quantity))
    numbers = [
        float(n.replace("\u202f", "").replace(",", "."))
        for n in re.findall(r"\d[\d\u202f]*(?:,\d+)?", line.split(quantity, 1)[1])
    ]
    estimate, _level, lower, upper = numbers[:4]
    return estimate, lower, upper


def test_validate_summary_matches_the_generators_record(truth, tmp_path, capsys):
    before = _hashes(RAW)
    code = main(
        ["validate", str(RAW / "frame.xlsx"), str(RAW / "responses.xlsx"), "--out", str(tmp_path)]
    )
    assert code == 0
    out = capsys.readouterr().out
    # Counts known from the generator's own record of the population (truth.csv),
    # not from the loader: every frame unit, the sampled ones, the responding ones
    # plus the one deliberately duplicated response, and the 3 mistyped REGONs.
    duplicated = int((truth["corruption"] == "duplicate_response").sum())
    n_responses = int(truth["responded"].sum()) + duplicated
    mistyped = int((truth["corruption"] == "regon_mistyped").sum())
    assert f"frame units          {len(truth):>6}" in out
    assert f"sampled units        {int(truth['sampled'].sum()):>6}" in out
    assert f"responses            {n_responses:>6}" in out
    assert f"not in the frame     {mistyped:>6}" in out
    assert "regon_checksum" in out and "response_not_in_frame" in out
    for name in ("problems.csv", "frame.csv", "responses.csv", "linked.csv"):
        assert (tmp_path / name).is_file()
    problems = pd.read_csv(tmp_path / "problems.csv")
    assert (problems["rule"] == "regon_checksum").sum() == mistyped
    assert len(pd.read_csv(tmp_path / "frame.csv")) == len(truth)
    assert _hashes(RAW) == before, "no command may alter data/raw/"


def test_demo_outside_a_checkout_regenerates_and_reports(truth, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "generated from seed 2023" in out
    assert (tmp_path / "data" / "processed" / "linked.csv").is_file()
    report = tmp_path / "reports" / "swietokrzyskie-demo"
    for name in ("index.html", "tables.xlsx", "estimates.csv"):
        assert (report / name).is_file()
    assert list((report / "figures").glob("*.svg")) and list((report / "figures").glob("*.png"))
    # The headline states active entities and workers with 95% intervals covering the truth.
    _est, lower, upper = _interval(out, "active")
    assert lower <= truth["active"].sum() <= upper
    _est, lower, upper = _interval(out, "workers")
    assert lower <= truth.loc[truth["active"], "workers"].sum() <= upper


def test_run_writes_the_report_where_asked(tmp_path, capsys):
    # A small config of its own (one domain, one total) keeps this test quick; the
    # full demo config is exercised by the demo test above and by test_report.py.
    before = _hashes(RAW)
    config = tmp_path / "study.toml"
    config.write_text(
        f'[study]\nname = "mini"\nyear = 2023\nlanguage = "en"\n'
        f'[inputs]\nframe = "{(RAW / "frame.xlsx").as_posix()}"\n'
        f'responses = "{(RAW / "responses.xlsx").as_posix()}"\n'
        f'[estimates]\ntotals = ["workers"]\ndomains = ["subregion"]\n',
        encoding="utf-8",
    )
    assert main(["run", str(config), "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "Study 'mini' (2023)" in out
    html = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en"' in html
    assert _hashes(RAW) == before


def test_run_bad_config_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "study.toml"
    bad.write_text("[study]\nyear = 2023\n", encoding="utf-8")
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("es-survey: error: ")
    assert "[inputs] frame is required" in err and "Traceback" not in err


def test_validate_missing_file_is_one_line_error(tmp_path, capsys):
    code = main(
        [
            "validate",
            str(tmp_path / "frame.xlsx"),
            str(RAW / "responses.xlsx"),
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("es-survey: error: ")
    assert "frame.xlsx" in err and "file not found" in err
    assert "Traceback" not in err


def test_validate_strict_lists_every_error(tmp_path, capsys):
    code = main(
        [
            "validate",
            str(RAW / "frame.xlsx"),
            str(RAW / "responses.xlsx"),
            "--out",
            str(tmp_path),
            "--strict",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "strict=True" in err
    assert err.count("regon_checksum") == 3
