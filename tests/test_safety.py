"""Outputs never destroy inputs, never leave their folder, never carry a formula.

Issue "Untrusted input", section 1. Each test builds the hostile case and checks the
file system afterwards (bytes of the inputs, where files were written).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from es_survey.cli import _write_outputs, main
from es_survey.errors import DataError
from es_survey.report import write_report
from es_survey.safety import check_outputs, neutralise_csv, slug, write_csv
from es_survey.study import load_config, run_study

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_validate_refuses_to_write_over_its_inputs(tmp_path, capsys):
    frame = tmp_path / "frame.csv"  # an input named as one of the outputs
    frame.write_bytes(b"regon;nazwa\n260004500;A\n")
    responses = tmp_path / "responses.xlsx"
    responses.write_bytes((RAW / "responses.xlsx").read_bytes())
    before = {p.name: _sha(p) for p in (frame, responses)}
    code = main(["validate", str(frame), str(responses), "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "refusing to write" in err[0] and "over the input file" in err[0]
    assert {p.name: _sha(p) for p in (frame, responses)} == before


def test_empty_or_file_output_folder_is_refused(tmp_path):
    with pytest.raises(DataError, match="output folder is empty"):
        check_outputs("", ["a.csv"], [])
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(DataError, match="is a file"):
        check_outputs(f, ["a.csv"], [])


def test_formulas_in_data_are_neutralised_in_every_csv(tmp_path):
    hostile = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "@SUM(1+1)", "+cmd", "\t=1+1"]
    table = pd.DataFrame({"name": hostile, "n": [1, -2, 3, 4, 5]})
    data = SimpleNamespace(problems=table, frame=table, responses=table, linked=table)
    for path in _write_outputs(data, tmp_path):  # type: ignore[arg-type]
        back = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert all(v.startswith("'") for v in back["name"]), path.name
        assert back["n"].tolist() == ["1", "-2", "3", "4", "5"]  # numbers untouched
    # the neutralised text keeps the original after the quote
    assert neutralise_csv(table)["name"].str[1:].tolist() == hostile


def test_study_name_and_domain_names_cannot_leave_the_output_folder(tmp_path):
    assert slug("../../../../X") == "X" and "/" not in slug("a/../../b")
    results = run_study(load_config(RAW / "study.toml", language="en",
                                    domains=("entity_type",)))  # fmt: skip
    hostile = "../../../ESCAPED_fig"
    fb = {hostile: results.funnel_by["entity_type"].rename(columns={"entity_type": hostile})}
    tb = {hostile: results.totals_by["entity_type"].rename(columns={"entity_type": hostile})}
    strict = replace(results, funnel_by=fb, totals_by=tb)
    out = tmp_path / "deep" / "report"
    files = write_report(strict, out)
    for path in files.values():
        assert out.resolve() in path.resolve().parents
    assert not list(tmp_path.rglob("*ESCAPED*")) or all(
        out.resolve() in p.resolve().parents for p in tmp_path.rglob("*ESCAPED*")
    )


def test_config_name_with_a_path_stays_under_reports(tmp_path):
    for name in ("frame.xlsx", "responses.xlsx"):
        (tmp_path / name).write_bytes((RAW / name).read_bytes())
    (tmp_path / "study.toml").write_text(
        '[study]\nname = "../../../../X"\nyear = 2023\n'
        '[inputs]\nframe = "frame.xlsx"\nresponses = "responses.xlsx"\n',
        encoding="utf-8",
    )
    cfg = load_config(tmp_path / "study.toml")
    assert cfg.output_dir == tmp_path / "reports" / "X"


def test_write_csv_is_plain_utf8_with_newlines(tmp_path):
    p = write_csv(pd.DataFrame({"a": ["ą", "=1"]}), tmp_path / "t.csv")
    assert p.read_bytes() == "a\ną\n'=1\n".encode()


def test_cli_refuses_an_empty_output_folder(capsys):
    code = main(["validate", str(RAW / "frame.xlsx"), str(RAW / "responses.xlsx"), "--out", ""])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == ['es-survey: error: the output folder is empty (--out ""); '
                                 "name a folder for the outputs"]  # fmt: skip


def test_a_label_that_looks_like_mathtext_is_drawn_literally(tmp_path):
    # issue "Untrusted input" section 3: a stratum named "$\foo{x}$" crashed matplotlib
    import es_survey as es

    frame = pd.DataFrame(
        {"typ": [r"$\foo{x}$", "zwykły"], "estimate": [10.0, 20.0], "se": [1.0, 2.0],
         "lower": [8.0, 16.0], "upper": [12.0, 24.0], "level": [0.95, 0.95],
         "cv": [0.1, 0.1], "n": [30, 40]}
    )  # fmt: skip
    ax = es.plot_by_category(frame, by="typ", source="test", year=2023)
    path = es.save_figure(ax, tmp_path / "f.svg")
    assert path.stat().st_size > 0


def test_worksheet_titles_from_data_are_valid_and_distinct():
    # issue "Untrusted input" section 3: a domain column named "Typ?" crashed the workbook
    from openpyxl import Workbook

    from es_survey.report import _sheet_title

    book = Workbook()
    names = ["Typ?", "a/b\\c[d]:e*", "'quoted'", "x" * 40, "x" * 40, ""]
    titles = []
    for name in names:
        title = _sheet_title(name, book.sheetnames)
        book.create_sheet(title=title)  # openpyxl refuses an invalid title
        titles.append(title)
    assert titles == ["Typ_", "a_b_c_d__e_", "quoted", "x" * 31, "x" * 29 + "~2", "sheet"]
