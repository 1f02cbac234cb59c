"""Tests of es_survey.io: every reader format and locale, dtypes, row numbers, faults.

Every file is written by the test itself (openpyxl, plain bytes, pyreadstat).
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import openpyxl
import pandas as pd
import pyreadstat
import pytest

from es_survey.codebook import load_codebook
from es_survey.errors import DataError
from es_survey.io import PROBLEM_COLUMNS, problems_of, read_frame, read_responses

FRAME_HEADERS = [
    "REGON",
    "Nazwa",
    "Typ podmiotu",
    "TERYT powiat",
    "Status OPP",
    "Rok rejestracji",
    "W próbie",
    "Uwagi",
]
FRAME_ROWS = [
    ["000331501", "Fundacja A", "fundacja", "2604", "TAK ", "2004", "tak", "x"],
    ["291010180", "Stowarzyszenie B", "Stowarzyszenie", "2661", "nie", "1999", "nie", ""],
    ["000001695", "KGW C", "koło gospodyń wiejskich", "2601", "brak danych", "", "tak", ""],
]

RESP_HEADERS = [
    "Nr REGON",
    "Liczba osób zatrudnionych na umowę o pracę (31.12)",
    "Etaty przeliczeniowe (31.12)",
    "Przychody ogółem (zł)",
    "Czy podmiot korzystał z dotacji bezzwrotnych?",
]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_xlsx(path: Path, headers, rows, sheet="Dane") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(headers)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def _write_csv(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def _assert_frame_dtypes(df: pd.DataFrame) -> None:
    cb = load_codebook()
    expected = {
        "regon": "string",
        "name": "string",
        "teryt_powiat": "string",
        "opp": "boolean",
        "year_registered": "Int64",
        "source_row": "int64",
    }
    for column, dtype in expected.items():
        if column in df.columns:
            assert df[column].dtype == dtype, column
    assert isinstance(df["entity_type"].dtype, pd.CategoricalDtype)
    assert list(df["entity_type"].cat.categories) == cb.codes("entity_type")


# ---------------------------------------------------------------- xlsx
def test_read_frame_xlsx(tmp_path):
    rows = [list(r) for r in FRAME_ROWS]
    rows[1][0] = 291010180  # a REGON typed as a number
    rows[1][5] = 1999  # a year typed as a number
    rows[2][0] = 1695  # leading zeros lost by Excel: 000001695
    path = _write_xlsx(tmp_path / "frame.xlsx", FRAME_HEADERS, rows)
    before = _sha(path)
    df = read_frame(path)
    assert _sha(path) == before
    _assert_frame_dtypes(df)
    assert df["regon"].tolist() == ["000331501", "291010180", "000001695"]
    assert df["entity_type"].tolist() == ["FUND", "STOW", "KGW"]
    assert df["opp"].tolist() == [True, False, pd.NA]
    assert df["year_registered"].tolist() == [2004, 1999, pd.NA]
    assert df["sampled"].tolist() == [True, False, True]
    assert df["source_row"].tolist() == [2, 3, 4]
    assert df.attrs["source_file"] == str(path)
    assert df.attrs["headers"]["regon"] == "REGON"
    # the unmapped column is kept as text under its header
    assert df["Uwagi"].tolist() == ["x", pd.NA, pd.NA]
    problems = problems_of(df)
    assert list(problems.columns) == list(PROBLEM_COLUMNS)
    rules = [
        (None if pd.isna(row) else int(row), column, rule, severity)
        for row, column, rule, severity in zip(
            problems["row"],
            problems["column"],
            problems["rule"],
            problems["severity"],
            strict=True,
        )
    ]
    assert (4, "Status OPP", "missing_answer", "info") in rules
    assert (None, "Uwagi", "unmapped_column", "info") in rules
    msg = problems.loc[problems["rule"] == "missing_answer", "message"].item()
    assert msg == "'brak danych' means no answer (reason: no_data)"


def test_xlsx_sheet_by_name_and_index(tmp_path):
    path = tmp_path / "two.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Opis"
    wb.active.append(["To jest opis"])
    ws = wb.create_sheet("Operat")
    ws.append(FRAME_HEADERS)
    ws.append(FRAME_ROWS[0])
    wb.save(path)
    assert read_frame(path, sheet="Operat")["regon"].tolist() == ["000331501"]
    assert read_frame(path, sheet=1)["regon"].tolist() == ["000331501"]
    with pytest.raises(
        DataError,
        match=r"two\.xlsx: no sheet named 'Nope'; the workbook has "
        r"sheets: 'Opis', 'Operat'",
    ):
        read_frame(path, sheet="Nope")
    with pytest.raises(DataError, match=r"sheet index 5 does not exist; the workbook has 2"):
        read_frame(path, sheet=5)


def test_xlsx_blank_rows_keep_numbering(tmp_path):
    path = _write_xlsx(
        tmp_path / "f.xlsx", FRAME_HEADERS, [FRAME_ROWS[0], [None] * 8, FRAME_ROWS[1]]
    )
    df = read_frame(path)
    assert df["source_row"].tolist() == [2, 4]


# ---------------------------------------------------------------- csv
def test_csv_utf8_comma(tmp_path):
    lines = [
        ",".join(RESP_HEADERS),
        '000331501,12,"10,5",1234.5,TAK',
        '291010180,3,2.5,"1 234,5",nie',
    ]
    df = read_responses(_write_csv(tmp_path / "r.csv", lines))
    assert df["regon"].tolist() == ["000331501", "291010180"]
    assert df["emp_uop"].dtype == "Int64" and df["emp_uop"].tolist() == [12, 3]
    assert df["emp_uop_fte"].dtype == "Float64" and df["emp_uop_fte"].tolist() == [10.5, 2.5]
    assert df["revenue_total"].tolist() == [1234.5, 1234.5]
    assert df["grants"].tolist() == [True, False]


def test_csv_stray_quote_is_an_error_naming_the_line(tmp_path):
    # issue "Untrusted input" section 2: one stray quote swallowed 628 of 632 frame units
    # with exit 0. Rows read must be the file's records, or the line is named.
    lines = [",".join(RESP_HEADERS)]
    lines += [f"00033150{i},{i},1,100,TAK" for i in range(1, 5)]
    lines[3] = '000331503,3,"1,100,TAK'  # line 4: an opening quote never closed
    lines += [f"29101018{i},{i},1,100,nie" for i in range(0, 6)]
    with pytest.raises(
        DataError,
        match=r"line 4: a quote opened on this line is closed only "
        r"at line 11, so 7 line\(s\) were read as one field",
    ):
        read_responses(_write_csv(tmp_path / "r.csv", lines))


def test_csv_quoted_line_break_in_one_field_is_kept(tmp_path):
    # a legitimate line break inside a quoted text (an address; no delimiter in it) is
    # one record, and the next record is numbered by its own physical line
    from es_survey.rawread import read_raw

    path = tmp_path / "f.csv"
    path.write_text(
        'regon;adres\n000331501;"ul. Długa 1\nKielce"\n291010180;Rynek 2\n', encoding="utf-8"
    )
    raw = read_raw(path)
    assert [r[1] for r in raw.rows] == ["ul. Długa 1\nKielce", "Rynek 2"]
    assert raw.row_numbers == [2, 4]


def test_csv_utf8_bom(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "REGON;Liczba członków\n000331501;7\n".encode())
    df = read_responses(path)
    assert list(df.columns) == ["source_row", "regon", "members"]
    assert df["members"].tolist() == [7]


def test_csv_cp1250_semicolon_decimal_comma(tmp_path):
    lines = [
        ";".join(RESP_HEADERS),
        "000331501;12;10,5;1 234,5;tak",
        "291010180;3;2,25;1.234,5;Nie wiem",
        "000001695;0;0;1\u00a0234,5;nie",
        "001024020;1;1;1\u2009234,5;nie",
        "450669944;1;1;1\u202f234,5;nie",
    ]
    path = _write_csv(tmp_path / "r1250.csv", lines[:4], encoding="cp1250")
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the file really is cp1250, not UTF-8
    df = read_responses(path)
    assert df["emp_uop_fte"].tolist() == [10.5, 2.25, 0.0]
    assert df["revenue_total"].tolist() == [1234.5, 1234.5, 1234.5]
    assert df["grants"].tolist() == [True, pd.NA, False]
    # thin spaces cannot be written in cp1250: check them in UTF-8
    df = read_responses(_write_csv(tmp_path / "thin.csv", [lines[0], *lines[4:]]))
    assert df["revenue_total"].tolist() == [1234.5, 1234.5]


def test_csv_tab_delimited_and_quoted_fields(tmp_path):
    lines = [
        "\t".join(FRAME_HEADERS[:4]),
        '000331501\t"Fundacja ""Razem""; Kielce"\tfundacja\t2604',
    ]
    df = read_frame(_write_csv(tmp_path / "tab.csv", lines))
    assert df["name"].tolist() == ['Fundacja "Razem"; Kielce']
    assert df["teryt_powiat"].tolist() == ["2604"]


def test_csv_keeps_leading_zeros_and_row_numbers(tmp_path):
    lines = [
        "REGON;TERYT powiat;Typ podmiotu;TERYT gmina",
        "000331501;2604;fundacja;2604011",
        "",
        "000001695;2601;fundacja;2601013",
    ]
    df = read_frame(_write_csv(tmp_path / "z.csv", lines))
    assert df["regon"].tolist() == ["000331501", "000001695"]
    assert df["source_row"].tolist() == [2, 4]


def test_undecodable_cells_become_missing_and_are_recorded(tmp_path):
    lines = [";".join(RESP_HEADERS), "000331501;-2;dużo;12 34;może"]
    df = read_responses(_write_csv(tmp_path / "bad.csv", lines))
    assert df.loc[0, ["emp_uop", "emp_uop_fte", "revenue_total", "grants"]].isna().all()
    p = problems_of(df).set_index("column")
    col = "Liczba osób zatrudnionych na umowę o pracę (31.12)"
    assert p.loc[col, "rule"] == "out_of_range"
    assert p.loc[col, "value"] == "-2"
    assert p.loc[col, "row"] == 2
    assert p.loc[col, "message"] == "-2 is outside the allowed range [0, 100000] of emp_uop"
    assert p.loc["Etaty przeliczeniowe (31.12)", "rule"] == "not_a_number"
    assert p.loc["Przychody ogółem (zł)", "value"] == "12 34"
    assert p.loc["Czy podmiot korzystał z dotacji bezzwrotnych?", "message"].startswith(
        "answer 'może' is not in answer set 'tak_nie'"
    )
    assert set(p["severity"]) == {"error"}


def test_read_frames_can_be_merged(tmp_path):
    # pandas compares attrs when merging; ours must not break that
    f = read_frame(_write_xlsx(tmp_path / "f.xlsx", FRAME_HEADERS, FRAME_ROWS))
    r = read_responses(_write_csv(tmp_path / "r.csv", ["REGON;Liczba członków", "000331501;x"]))
    merged = f.merge(r, on="regon", how="left")
    assert len(merged) == 3
    assert len(pd.concat([f, f])) == 6


def test_codebook_path_argument(tmp_path):
    cbfile = tmp_path / "cb.toml"
    cbfile.write_text(
        '[meta]\nkey = "id"\n[missing]\n"" = "blank"\n'
        '[[variables]]\nname = "id"\nsource = "both"\ntype = "id"\nrequired = true\n'
        'headers = ["Identyfikator"]\n',
        encoding="utf-8",
    )
    df = read_responses(_write_csv(tmp_path / "r.csv", ["Identyfikator,REGON", "A1,1"]), cbfile)
    assert df["id"].tolist() == ["A1"]
    assert df["REGON"].tolist() == ["1"]  # not in this codebook: kept as text


# ---------------------------------------------------------------- sav
def test_read_sav_with_value_labels(tmp_path):
    data = pd.DataFrame(
        {
            "REGON": ["000331501", "291010180", "000001695"],
            "typ": [3.0, 1.0, 5.0],
            "opp": [1.0, 0.0, float("nan")],
            "rok": [2004.0, 1999.0, 2010.0],
            "TERYT": ["2604", "2661", "2601"],
        }
    )
    path = tmp_path / "frame.sav"
    pyreadstat.write_sav(
        data,
        str(path),
        column_labels=["REGON", "Typ podmiotu", "Status OPP", "Rok rejestracji", "TERYT powiat"],
        variable_value_labels={
            "typ": {1.0: "stowarzyszenie", 3.0: "fundacja", 5.0: "koło gospodyń wiejskich"},
            "opp": {1.0: "tak", 0.0: "nie"},
        },
    )
    df = read_frame(path)
    _assert_frame_dtypes(df)
    assert df["entity_type"].tolist() == ["FUND", "STOW", "KGW"]
    assert df["opp"].tolist() == [True, False, pd.NA]
    assert df["year_registered"].tolist() == [2004, 1999, 2010]
    assert df["teryt_powiat"].tolist() == ["2604", "2661", "2601"]
    assert df["source_row"].tolist() == [2, 3, 4]  # case number + 1
    assert df.attrs["headers"]["entity_type"] == "Typ podmiotu"  # matched by its label


def test_sav_unlabelled_code_is_reported(tmp_path):
    data = pd.DataFrame({"REGON": ["000331501"], "typ": [9.0], "TERYT": ["2604"]})
    path = tmp_path / "f.sav"
    pyreadstat.write_sav(
        data,
        str(path),
        column_labels=["REGON", "Typ podmiotu", "TERYT powiat"],
        variable_value_labels={"typ": {1.0: "stowarzyszenie"}},
    )
    df = read_frame(path)
    assert df["entity_type"].isna().all()
    p = problems_of(df)
    assert p.loc[0, "rule"] == "answer_not_in_codebook"
    assert p.loc[0, "value"] == "9"


# ---------------------------------------------------------------- structural faults
def test_file_missing(tmp_path):
    with pytest.raises(DataError, match=r"nothere\.xlsx: file not found; check the path"):
        read_frame(tmp_path / "nothere.xlsx")


def test_unsupported_extension(tmp_path):
    path = tmp_path / "frame.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(
        DataError,
        match=r"frame\.xls: unsupported file type '\.xls'; save it as "
        r"\.xlsx, \.csv or \.sav",
    ):
        read_frame(path)


def test_unreadable_xlsx(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_text("not a zip", encoding="utf-8")
    with pytest.raises(
        DataError,
        match=r"broken\.xlsx: cannot be read as an Excel \.xlsx "
        r"workbook .*save it again as \.xlsx",
    ):
        read_frame(path)


def test_unreadable_sav(tmp_path):
    path = tmp_path / "broken.sav"
    path.write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"broken\.sav: cannot be read as an SPSS \.sav file"):
        read_responses(path)


def test_csv_neither_utf8_nor_cp1250(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(b"REGON\n\x81\x98\n")
    with pytest.raises(
        DataError, match=r"odd\.csv, line 2, byte 1: byte 0x81 is neither UTF-8 nor Windows-1250"
    ):
        read_responses(path)


def test_empty_csv(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.csv: the file is empty; expected a header row"):
        read_responses(path)


def test_required_column_absent_lists_accepted_headers(tmp_path):
    path = _write_csv(tmp_path / "nokey.csv", ["Nazwa;Liczba członków", "A;3"])
    with pytest.raises(
        DataError,
        match=r"nokey\.csv: required column for 'regon' \(REGON statistical number\) is missing; "
        r"add a column with one of the headers 'REGON', 'Numer REGON', 'Nr REGON', 'regon'",
    ):
        read_responses(path)


def test_frame_requires_its_own_columns(tmp_path):
    path = _write_csv(tmp_path / "f.csv", ["REGON", "000331501"])
    with pytest.raises(
        DataError,
        match=r"f\.csv: 2 structural faults \[read: UTF-8, ';'-separated\]; the first row "
        r"holds 'REGON':\n  required column for 'entity_type'.*\n  required column for "
        r"'teryt_powiat'",
    ):
        read_frame(path)


def test_two_columns_map_to_one_variable(tmp_path):
    path = _write_xlsx(tmp_path / "dup.xlsx", ["REGON", "Nazwa", "Nr REGON"], [["1", "a", "1"]])
    with pytest.raises(
        DataError,
        match=r"dup\.xlsx: columns 'REGON' \(column A\) and 'Nr REGON' "
        r"\(column C\) both map to variable 'regon'; delete or "
        r"rename one of them",
    ):
        read_responses(path)


def test_reader_does_not_modify_codebook(tmp_path):
    cb = load_codebook()
    snapshot = copy.deepcopy((cb.meta.copy(), cb.variables, dict(cb.missing)))
    read_responses(_write_csv(tmp_path / "r.csv", ["REGON,Liczba członków", "000331501,3"]), cb)
    assert (cb.meta.copy(), cb.variables, dict(cb.missing)) == snapshot


def test_delimiter_sniffing_ignores_commas_in_headers(tmp_path):
    # two ';' columns, but the long header has two commas
    header = "REGON;Inna działalność odpłatna (oświatowa, kulturalna, zarobkowa KGW)"
    df = read_responses(_write_csv(tmp_path / "s.csv", [header, "000331501;tak", "291010180;nie"]))
    assert df["runs_other_paid"].tolist() == [True, False]
    # a ',' file whose quoted header holds a ';' and whose data has decimal commas in quotes
    lines = ['REGON,"Etaty; przeliczeniowe",Etaty przeliczeniowe (31.12)', '000331501,x,"2,5"']
    df = read_responses(_write_csv(tmp_path / "c.csv", lines))
    assert df["emp_uop_fte"].tolist() == [2.5]
    assert df["Etaty; przeliczeniowe"].tolist() == ["x"]


def test_sav_user_missing_codes_keep_their_reason(tmp_path):
    data = pd.DataFrame({"REGON": ["000331501", "291010180"], "czl": [12.0, 99.0]})
    path = tmp_path / "r.sav"
    pyreadstat.write_sav(
        data,
        str(path),
        column_labels=["REGON", "Liczba członków"],
        variable_value_labels={"czl": {99.0: "brak danych"}},
        missing_ranges={"czl": [99.0]},
    )
    df = read_responses(path)
    assert df["members"].tolist() == [12, pd.NA]
    p = problems_of(df)
    assert p[["row", "column", "value", "rule"]].iloc[0].tolist() == [
        3,
        "Liczba członków",
        "brak danych",
        "missing_answer",
    ]
    assert p.loc[0, "message"] == "'brak danych' means no answer (reason: no_data)"


def test_sav_unlabelled_user_missing_code_is_missing(tmp_path):
    data = pd.DataFrame(
        {"REGON": ["000331501", "291010180", "000001695"], "czl": [12.0, 98.0, 99.0]}
    )
    path = tmp_path / "r.sav"
    pyreadstat.write_sav(
        data,
        str(path),
        column_labels=["REGON", "Liczba członków"],
        missing_ranges={"czl": [{"lo": 97.0, "hi": 99.0}]},
    )
    df = read_responses(path)
    assert df["members"].tolist() == [12, pd.NA, pd.NA]  # 98 and 99 are not counts
    p = problems_of(df)
    assert p["row"].tolist() == [3, 4]
    assert p["message"].tolist() == [
        "SPSS user-missing code 98 means no answer (reason: user_missing)",
        "SPSS user-missing code 99 means no answer (reason: user_missing)",
    ]


def test_unnamed_and_repeated_unmapped_columns(tmp_path):
    path = _write_xlsx(
        tmp_path / "u.xlsx",
        ["REGON", None, "Uwagi", "Uwagi", "Typ podmiotu"],
        [["000331501", "a", "b", "c", "fundacja"]],
    )
    df = read_responses(path)
    assert list(df.columns) == [
        "source_row",
        "regon",
        "column B",
        "Uwagi",
        "Uwagi (unmapped)",
        "Typ podmiotu",
    ]
    messages = problems_of(df)["message"].tolist()
    assert messages[0] == "column 'B' kept as text under its own header: it is not in the codebook"
    assert messages[-1] == (
        "column 'Typ podmiotu' kept as text under its own header: it belongs to frame variable "
        "'entity_type', not to a responses file"
    )


def test_attrs_are_cheap_to_copy_pickle_and_json(tmp_path):
    import json
    import pickle

    df = read_frame(_write_xlsx(tmp_path / "f.xlsx", FRAME_HEADERS, FRAME_ROWS))
    assert copy.deepcopy(df.attrs)["problems"] is df.attrs["problems"]
    back = pickle.loads(pickle.dumps(df))
    assert back.attrs == df.attrs
    assert problems_of(back).equals(problems_of(df))
    # pandas writes attrs to Parquet metadata with json.dumps
    assert json.loads(json.dumps(df.attrs))["headers"]["regon"] == "REGON"
    with pytest.raises(TypeError, match="HeaderMap is read-only"):
        df.attrs["headers"]["regon"] = "x"


def test_sheet_option_only_for_xlsx(tmp_path):
    from es_survey.errors import DesignError

    path = _write_csv(tmp_path / "r.csv", ["REGON", "000331501"])
    with pytest.raises(
        DesignError,
        match=r"sheet='Dane' applies to \.xlsx workbooks only; "
        r".*r\.csv is a \.csv file",
    ):
        read_responses(path, sheet="Dane")
