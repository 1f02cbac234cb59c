"""A corpus of hostile and broken inputs, run through the command line.

Issue "Untrusted input", "Done when": every class of fault is covered; each case
asserts the exit status, that an error is one line (never a traceback), and, where
data is read, that every record of the input is accounted for (loaded, with the
fault in the problems table). The cases are built from the bundled demo files in a
temporary folder; big files are generated there, never committed.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from es_survey.cli import INTERNAL_ERROR, main
from es_survey.errors import DataError
from es_survey.io import Limits, problems_of, read_responses

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
EMP = "Liczba osób zatrudnionych na umowę o pracę (31.12)"
NAME = "Nazwa"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict:
    """The demo's responses as text cells, and the demo frame (unchanged)."""
    folder = tmp_path_factory.mktemp("hostile")
    responses = pd.read_excel(
        RAW / "responses.xlsx", dtype=str, keep_default_na=False, engine="calamine"
    )
    return {"folder": folder, "responses": responses, "frame": RAW / "frame.xlsx"}


def _csv(path: Path, table: pd.DataFrame, *, encoding: str = "utf-8", before: bytes = b"") -> Path:
    path.write_bytes(before + table.to_csv(index=False, sep=";").encode(encoding))
    return path


def _validate(base: dict, responses: Path, capsys, *extra: str) -> tuple[int, list[str], Path]:
    out = responses.parent / f"out_{responses.stem}"
    code = main(["validate", str(base["frame"]), str(responses), "--out", str(out), *extra])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code != INTERNAL_ERROR, err
    return code, err, out


def _loaded(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    responses = pd.read_csv(out / "responses.csv", dtype=str, keep_default_na=False)
    problems = pd.read_csv(out / "problems.csv", dtype=str, keep_default_na=False)
    return responses, problems


def _refused(code: int, err: list[str], *fragments: str) -> None:
    assert code == 2
    assert len(err) == 1 and err[0].startswith("es-survey: error: "), err
    for fragment in fragments:
        assert fragment in err[0], err[0]


# ------------------------------------------------------------ never lose rows or values
def test_mixed_encoding_is_refused_naming_line_and_byte(base, tmp_path, capsys):
    lines = base["responses"].to_csv(index=False, sep=";").encode("utf-8").split(b"\n")
    lines[5] += b"\xb9"  # one cp1250 "ą" in a UTF-8 file
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\n".join(lines))
    code, err, _ = _validate(base, path, capsys)
    _refused(code, err, "line 6", "byte 0xB9 is not UTF-8", "mixes two encodings")


def test_formulas_without_saved_results_are_errors_not_blanks(base, tmp_path, capsys):
    table = base["responses"]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(table.columns))
    j = list(table.columns).index(EMP)
    for row in table.itertuples(index=False):
        cells = list(row)
        cells[j] = "=2+2"  # openpyxl stores a formula and no cached value
        sheet.append(cells)
    path = tmp_path / "formulas.xlsx"
    book.save(path)
    code, _, out = _validate(base, path, capsys)
    responses, problems = _loaded(out)
    assert code == 0 and len(responses) == len(table)
    flagged = problems[problems["rule"] == "formula_without_value"]
    assert len(flagged) == len(table)  # every formula cell, none read as a silent blank
    assert set(flagged["column"]) == {EMP} and set(flagged["severity"]) == {"error"}
    assert "'=2+2" in set(flagged["value"])  # neutralised in the CSV, named in the table


def test_merged_cells_are_flagged_on_every_blanked_cell(base, tmp_path, capsys):
    book = openpyxl.load_workbook(RAW / "responses.xlsx")
    book.active.merge_cells("C2:C4")  # the activity answer of rows 3 and 4 is lost
    path = tmp_path / "merged.xlsx"
    book.save(path)
    code, _, out = _validate(base, path, capsys)
    responses, problems = _loaded(out)
    assert code == 0 and len(responses) == len(base["responses"])
    merged = problems[problems["rule"] == "merged_cell"]
    assert merged["row"].tolist() == ["3", "4"]
    assert all("merged range C2:C4" in m for m in merged["message"])


def test_short_and_long_csv_rows_are_flagged_and_kept(base, tmp_path, capsys):
    lines = base["responses"].to_csv(index=False, sep=";").rstrip("\n").split("\n")
    lines[3] += ";przesunięte;x"  # line 4: two values more than the header
    lines[6] = ";".join(lines[6].split(";")[:20])  # line 7: the last 5 fields missing
    path = tmp_path / "widths.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, out = _validate(base, path, capsys)
    responses, problems = _loaded(out)
    assert code == 0 and len(responses) == len(lines) - 1
    extra = problems[problems["rule"] == "extra_fields"]
    short = problems[problems["rule"] == "short_row"]
    assert extra["row"].tolist() == ["4"] and "'przesunięte', 'x'" in extra["message"].iloc[0]
    assert (
        short["row"].tolist() == ["7"]
        and "has 20 fields, the header 25" in short["message"].iloc[0]
    )
    assert (responses["column Z"] == "przesunięte").sum() == 1  # the extra value is kept


# ------------------------------------------------------------------- no traceback
def test_a_23_digit_count_is_out_of_range_not_an_overflow(base, tmp_path, capsys):
    table = base["responses"].copy()
    table.loc[0, EMP] = "12345678901234567890123"
    code, _, out = _validate(base, _csv(tmp_path / "digits.csv", table), capsys)
    responses, problems = _loaded(out)
    assert code == 0 and len(responses) == len(table)
    hit = problems[(problems["rule"] == "out_of_range") & (problems["row"] == "2")]
    assert hit["value"].tolist() == ["12345678901234567890123"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_cell_longer_than_excel_allows_is_refused(base, tmp_path, capsys, kind):
    table = base["responses"].copy()
    table.loc[1, NAME] = "x" * 200_000
    if kind == "csv":
        path = _csv(tmp_path / "long.csv", table)
        where = "line 3"
    else:
        # openpyxl cuts long texts when it writes, so the sheet's XML is edited instead
        with zipfile.ZipFile(RAW / "responses.xlsx") as z:
            sheet = z.read(_SHEET)
        at = sheet.index(b"<t>", sheet.index(b'<c r="B3"')) + 3
        sheet = sheet[:at] + b"x" * 200_000 + sheet[at:]
        path = _rewrite(RAW / "responses.xlsx", tmp_path / "long.xlsx", _SHEET, sheet)
        where = "cell B3"
    code, err, _ = _validate(base, path, capsys)
    _refused(code, err, where, "32,767 characters")


def _rewrite(src: Path, dst: Path, part: str, data: bytes) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, data if info.filename == part else zin.read(info))
    return dst


_SHEET = "xl/worksheets/sheet1.xml"
_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@pytest.mark.parametrize(
    ("case", "make", "fragment"),
    [
        ("truncated", lambda raw: raw[: len(raw) // 2], "cannot be read as an Excel .xlsx"),
        ("not a zip", lambda raw: b"PK\x03\x04 not really", "cannot be read as an Excel .xlsx"),
    ],
)
def test_a_broken_workbook_file_is_one_line(base, tmp_path, capsys, case, make, fragment):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(make((RAW / "responses.xlsx").read_bytes()))
    code, err, _ = _validate(base, path, capsys)
    _refused(code, err, fragment)


@pytest.mark.parametrize(
    ("case", "xml", "fragment"),
    [
        ("damaged xml", None, "is damaged and cannot be read"),
        (
            "billion laughs",
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
            b'"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><worksheet ' + _NS + b">"
            b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
            b"</sheetData></worksheet>",
            "declares a DOCTYPE or XML entities",
        ),
        (
            "external entity",
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b"<worksheet " + _NS + b'><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&e;'
            b"</t></is></c></row></sheetData></worksheet>",
            "declares a DOCTYPE or XML entities",
        ),
    ],
)
def test_hostile_workbook_xml_is_refused_before_parsing(
    base, tmp_path, capsys, case, xml, fragment
):
    src = RAW / "responses.xlsx"
    if xml is None:
        with zipfile.ZipFile(src) as z:
            whole = z.read(_SHEET)
        xml = whole[: len(whole) // 2]  # cut in the middle of a tag
    path = _rewrite(src, tmp_path / "hostile.xlsx", _SHEET, xml)
    code, err, _ = _validate(base, path, capsys)
    _refused(code, err, fragment)


def test_deeply_nested_rules_are_a_config_error_through_run(tmp_path, capsys):
    study = tmp_path / "study"
    shutil.copytree(RAW, study)
    rules = (study / "rules.toml").read_text(encoding="utf-8")
    deep = "(" * 150 + "revenue_total > 0" + ")" * 150
    rules += (
        '\n[[flags]]\nname = "deep"\nlabel_pl = "g"\nlabel_en = "d"\nwhen_missing = "unknown"\n'
        f'otherwise = false\n[[flags.clauses]]\nwhen = "{deep}"\nvalue = true\nreason = "r"\n'
    )
    (study / "rules.toml").write_text(rules, encoding="utf-8")
    code = main(["run", str(study / "study.toml"), "--out", str(tmp_path / "out")])
    err = [x for x in capsys.readouterr().err.splitlines() if x and not x.startswith("  ...")]
    assert code == 2 and "nests parentheses" in err[0]


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (("seed = 2023", 'seed = "abc"'), "[study] seed = 'abc': expected a whole number"),
        (("level = 0.95", 'level = "high"'), "[estimates] level = 'high'"),
        (('model = "logit"', 'modle = "logit"'), "unknown key 'modle'; did you mean 'model'?"),
        (
            ('totals = ["workers", "emp_uop", "emp_civil"]', 'totals = "workers"'),
            "[estimates] totals = 'workers': expected a list of names",
        ),
        (("[outputs]", "[limits]\nmax_rows = -1\n[outputs]"), "[limits] max_rows = -1"),
    ],
)
def test_config_values_of_the_wrong_type_are_named(tmp_path, capsys, edit, fragment):
    study = tmp_path / "study"
    shutil.copytree(RAW, study)
    text = (study / "study.toml").read_text(encoding="utf-8")
    assert edit[0] in text
    (study / "study.toml").write_text(text.replace(edit[0], edit[1]), encoding="utf-8")
    code = main(["run", str(study / "study.toml"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err
    assert "Traceback" not in err and "['w', 'o'" not in err  # a string is not split


@pytest.mark.parametrize("epoch", ["abc", "99999999999999999999999"])
def test_a_bad_source_date_epoch_is_one_line(tmp_path, capsys, monkeypatch, epoch):
    study = tmp_path / "study"
    shutil.copytree(RAW, study)
    text = (study / "study.toml").read_text(encoding="utf-8")
    (study / "study.toml").write_text(text.replace('date = "2026-11-26"', ""), encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    code = main(["run", str(study / "study.toml"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and len(err) == 1 and "SOURCE_DATE_EPOCH" in err[0]


def test_an_unexpected_failure_is_one_line_with_status_3(monkeypatch, capsys):
    import es_survey.cli as cli

    def broken(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli, "_validate", broken)
    code = main(["validate", "a.csv", "b.csv"])
    err = capsys.readouterr().err.splitlines()
    assert code == 3 and len(err) == 1
    assert err[0].startswith("es-survey: internal error (ZeroDivisionError: division by zero)")


# --------------------------------------------------------------- bounded work
def test_a_stray_cell_at_the_last_excel_cell_is_one_unmapped_column(base, tmp_path, capsys):
    # openpyxl pads rows to the widest one; this once meant 140 x 16384 cells per row and
    # a read that had not ended after 90 s. The cell is kept: one more record, one column.
    book = openpyxl.load_workbook(RAW / "responses.xlsx")
    book.active["XFD1048576"] = "zbłąkana"
    path = tmp_path / "stray.xlsx"
    book.save(path)
    code, _, out = _validate(base, path, capsys)
    responses, problems = _loaded(out)
    assert code == 0 and len(responses) == len(base["responses"]) + 1
    assert responses["column XFD"].tolist()[-1] == "zbłąkana"
    assert responses["source_row"].tolist()[-1] == "1048576"
    assert "column XFD" in set(problems["column"])


def test_a_zip_bomb_workbook_is_refused_before_unpacking(base, tmp_path, capsys):
    src = RAW / "responses.xlsx"
    # a 20 MB text compresses about a thousand times
    with zipfile.ZipFile(src) as z:
        sheet = z.read(_SHEET)
    assert b"<t>" in sheet
    bomb = sheet.replace(b"<t>", b"<t>" + b"a" * 20_000_000, 1)
    path = _rewrite(src, tmp_path / "bomb.xlsx", _SHEET, bomb)
    assert path.stat().st_size < 200_000
    code, err, _ = _validate(base, path, capsys)
    _refused(code, err, f"{_SHEET} unpacks", "possible 'zip bomb'")


def test_limits_bound_file_size_rows_and_unpacked_size(tmp_path):
    path = RAW / "responses.xlsx"
    with pytest.raises(DataError, match=r"unpacks to .* MB, more than the limit of 0.01 MB"):
        read_responses(path, limits=Limits(max_unpacked_mb=0.01))
    with pytest.raises(DataError, match=r"more than the limit of 0\.001 MB"):
        read_responses(path, limits=Limits(max_file_mb=0.001))
    with pytest.raises(DataError, match=r"beyond the limit of 100 records"):
        read_responses(path, limits=Limits(max_rows=100))
    assert len(read_responses(path, limits=Limits(max_rows=141))) == 141  # exactly at the cap


# ------------------------------------------------------------ errors that say what to do
def test_utf16_and_excel_sep_line_files_are_read_whole(base, tmp_path, capsys):
    table = base["responses"]
    for name, path in [
        ("utf16", _csv(tmp_path / "utf16.csv", table, encoding="utf-16")),
        ("sep", _csv(tmp_path / "sep.csv", table, before=b"sep=;\n")),
    ]:
        code, _, out = _validate(base, path, capsys)
        responses, _ = _loaded(out)
        assert code == 0 and len(responses) == len(table), name
        assert responses["regon"].tolist() == table["REGON"].tolist(), name
    read = read_responses(tmp_path / "sep.csv")
    assert read["source_row"].iloc[0] == 3  # the sep= line, then the header: line 3


def test_title_rows_above_the_header_are_pointed_out(base, tmp_path, capsys):
    path = _csv(tmp_path / "title.csv", base["responses"], before=b"Badanie PES 2023;;\n\n")
    code, err, _ = _validate(base, path, capsys)
    _refused(code, err, "[read: UTF-8, ';'-separated]", "row 3 looks like the header")


def test_data_on_a_second_sheet_is_pointed_out_and_read_with_the_option(base, tmp_path, capsys):
    table = base["responses"]
    book = openpyxl.Workbook()
    book.active.title = "Opis"
    book.active.append(["Badanie PES 2023: odpowiedzi w arkuszu Dane"])
    data = book.create_sheet("Dane")
    data.append(list(table.columns))
    for row in table.itertuples(index=False):
        data.append(list(row))
    path = tmp_path / "two_sheets.xlsx"
    book.save(path)
    code, err, _ = _validate(base, path, capsys)
    _refused(code, err, "sheet 'Opis' (the workbook also has 'Dane')", "--responses-sheet 'Dane'")
    code, _, out = _validate(base, path, capsys, "--responses-sheet", "Dane")
    assert code == 0 and len(_loaded(out)[0]) == len(table)
    code, _, out = _validate(base, path, capsys, "--responses-sheet", "1")
    assert code == 0 and len(_loaded(out)[0]) == len(table)


def test_no_response_linked_is_said_first(base, tmp_path, capsys):
    table = base["responses"].copy()
    table["REGON"] = "260000017"  # valid, but not a unit of the frame
    code, err, _ = _validate(base, _csv(tmp_path / "unlinked.csv", table), capsys)
    _refused(code, err, f"0 of {len(table)} responses linked to the 632 units of the frame")


def test_problems_keep_the_reader_notes_with_file_and_row(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("REGON;Liczba członków\n000331501;7;extra\n", encoding="utf-8")
    problems = problems_of(read_responses(path))
    row = problems[problems["rule"] == "extra_fields"].iloc[0]
    assert (row["file"], row["row"], row["column"], row["value"]) == (
        str(path),
        2,
        "column C",
        "extra",
    )


def test_a_report_folder_that_is_a_file_fails_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "report"
    blocker.write_text("not a folder", encoding="utf-8")
    code = main(["run", str(RAW / "study.toml"), "--out", str(blocker)])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""  # nothing computed, nothing printed
    assert captured.err.splitlines() == [
        f"es-survey: error: the output folder {blocker} is a file; name a folder for the outputs"
    ]
    assert blocker.read_text(encoding="utf-8") == "not a folder"
