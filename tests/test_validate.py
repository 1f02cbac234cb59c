"""Tests of es_survey.validate and es_survey.checksums.

Check digits are tested against numbers published by their owners (sources in the
comments) and against hand computations written out here; every rule has a bad-input
case whose message is asserted; inputs are compared with deep copies after each call.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pandas as pd
import pytest

from es_survey.checksums import (
    is_valid_krs,
    is_valid_nip,
    is_valid_regon,
    krs_problem,
    nip_problem,
    regon_problem,
)
from es_survey.errors import DataError, DesignError
from es_survey.io import read_frame, read_responses
from es_survey.validate import (
    RULES,
    SurveyData,
    check_frame,
    check_responses,
    flag_records,
    link,
    load_study,
)

ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------- published numbers
# REGON numbers as published by (or for) their owners:
PUBLISHED_REGON = [
    # Główny Urząd Statystyczny: GUS BIR1 (API REGON) lookup result "Regon": 331501,
    # "Nip": 5261040828, "Nazwa": "GŁÓWNY URZĄD STATYSTYCZNY" (ul. ... 208, Warszawa),
    # quoted in the README of a public BIR client; 331501 = 000331501 without zeros.
    "000331501",
    # Gmina Łączna (powiat skarżyski): BZP notice 2022/BZP 00266069/01,
    # https://uglaczna.bip.doc.pl/index.php?kontrast=1&rejestr=1&wiad=141304
    "291010180",
    # Politechnika Świętokrzyska, Kielce: BZP notice 2021/BZP 00330112, https://przetargi.
    # favore.pl/zamowienia/budowlane,1011/usluga-wykonania-dokumentacji-projektowo-
    # kosztorysowej-wraz-ze-sprawowaniem-nadzoru,3203593.html
    "000001695",
    # Instytut Chemii i Techniki Jądrowej: BZP notice 2025/BZP 00607294/01 (komunikaty.pl)
    "001024020",
    # Gmina Łomża: BZP notice 2024/BZP 00467905 (przetargi.egospodarka.pl)
    "450669944",
    # Wojewódzki Urząd Pracy we Wrocławiu: BZP notice 2025/BZP 00398118/01 (komunikaty.pl)
    "891129301",
    # Urząd Miasta Łodzi: BZP notice 2022/BZP 00030954 (przetargi.egospodarka.pl)
    "472057632",
]
# NIP numbers as published:
PUBLISHED_NIP = [
    # Główny Urząd Statystyczny (same BIR1 lookup as above): NIP 526-104-08-28
    "5261040828",
    # SWLEX sp. z o.o., KRS 0000413516: KRS extract (odpis aktualny, 08.03.2022) as
    # returned by the KRS API, quoted in github.com/michal-bed/el-proyecte-grande-naspolke
    # (KRSMock.java): "regon": "30204683000000", "nip": "9721237317"
    "9721237317",
]


@pytest.mark.parametrize("regon", PUBLISHED_REGON)
def test_published_regons_are_valid(regon):
    assert regon_problem(regon) is None
    assert is_valid_regon(regon)


@pytest.mark.parametrize("regon", PUBLISHED_REGON)
def test_regon_with_changed_check_digit_is_invalid(regon):
    wrong = regon[:-1] + str((int(regon[-1]) + 1) % 10)
    assert regon_problem(wrong) == (
        f"REGON {wrong!r} fails its check digit: the last digit should be "
        f"{regon[-1]}, not {wrong[-1]}"
    )


def test_regon_hand_computations():
    # 291010180 with digits 3-4 swapped -> 290110180:
    # 2*8 + 9*9 + 0*2 + 1*3 + 1*4 + 0*5 + 1*6 + 8*7 = 16+81+0+3+4+0+6+56 = 166;
    # 166 mod 11 = 1, so the check digit should be 1, not 0.
    assert regon_problem("290110180") == (
        "REGON '290110180' fails its check digit: the last digit should be 1, not 0"
    )
    # remainder 10 gives check digit 0: 00000003 -> 3*7 = 21, 21 mod 11 = 10 -> 0
    assert is_valid_regon("000000030")
    assert not is_valid_regon("000000031")
    # 14-digit REGON, the textbook example 123456785 + 1234 + check digit
    # (pl.wikipedia.org/wiki/REGON; ceidg-online.pl "Budowa numeru REGON"):
    # first 9: 1*8+2*9+3*2+4*3+5*4+6*5+7*6+8*7 = 192, 192 mod 11 = 5 (valid 123456785);
    # 14: 1*2+2*4+3*8+4*5+5*0+6*9+7*7+8*3+5*6+1*1+2*2+3*4+4*8 = 260, 260 mod 11 = 7.
    assert is_valid_regon("12345678512347")
    assert regon_problem("12345678512348") == (
        "REGON '12345678512348' fails its check digit: the last digit should be 7, not 8"
    )
    # KRS API pads a 9-digit REGON with 00000 (SWLEX, KRS 0000413516, source above):
    # 302046830 is valid (3*8+0+2*2+0+4*4+6*5+8*6+3*7 = 143 = 13*11 -> 0), but as a
    # 14-digit number 3*2+2*8+4*0+6*9+8*7+3*3 = 141, 141 mod 11 = 9 -> should end in 9.
    assert is_valid_regon("302046830")
    assert regon_problem("30204683000000") == (
        "REGON '30204683000000' fails its check digit: the last digit should be 9, not 0; "
        "KRS extracts write a 9-digit REGON padded with 00000 — if so, use its first 9 digits"
    )
    assert regon_problem("12345678612347").startswith(
        "REGON '12345678612347': its first 9 digits are no valid REGON"
    )
    assert regon_problem("1234567") == "REGON '1234567' is not 9 or 14 digits"
    assert regon_problem("00033150X") == "REGON '00033150X' is not 9 or 14 digits"


@pytest.mark.parametrize("nip", PUBLISHED_NIP)
def test_published_nips_are_valid(nip):
    assert nip_problem(nip) is None
    assert is_valid_nip(nip)


def test_nip_hand_computations():
    # 5261040828: 5*6+2*5+6*7+1*2+0*3+4*4+0*5+8*6+2*7 = 30+10+42+2+0+16+0+48+14 = 162,
    # 162 mod 11 = 8 = last digit. Mutated last digit:
    assert nip_problem("5261040829") == (
        "NIP '5261040829' fails its check digit: the last digit should be 8, not 9"
    )
    # 9721237317: 54+35+14+2+6+12+35+18+7 = 183, 183 mod 11 = 7. Swap digits 2-3:
    # 9271237317: 9*6+2*5+7*7+1*2+2*3+3*4+7*5+3*6+1*7 = 54+10+49+2+6+12+35+18+7 = 193,
    # 193 mod 11 = 6.
    assert nip_problem("9271237317") == (
        "NIP '9271237317' fails its check digit: the last digit should be 6, not 7"
    )
    # remainder 10 is never issued: 000000003 -> 3*7 = 21 -> 10
    assert nip_problem("0000000030") == (
        "NIP '0000000030' is invalid: its weighted sum gives remainder 10, never issued"
    )
    assert nip_problem("526104082") == "NIP '526104082' is not 10 digits"


def test_krs_format():
    # KRS 0000413516 (SWLEX sp. z o.o., source above); KRS has no check digit
    assert krs_problem("0000413516") is None
    assert is_valid_krs("413516")
    assert not is_valid_krs("00004135161")
    assert krs_problem("0000A13516") == (
        "KRS '0000A13516' is not 10 digits (KRS numbers have no check digit; "
        "only the format is checked)"
    )


# ---------------------------------------------------------------- a small study on disk
FRAME_LINES = [
    "REGON;NIP;KRS;Nazwa;Typ podmiotu;TERYT powiat;TERYT gmina;W próbie",
    "000331501;5261040828;0000413516;Fundacja A;fundacja;2601;2601013;tak",  # row 2 ok
    "291010180;5261040829;413516;Stow B;stowarzyszenie;2604;2601013;tak",  # 3 nip, gmina
    "000001695;9721237317;12345678901;KGW C;koło gospodyń wiejskich;2699;;tak",  # 4 krs, teryt
    "001024020;;;Spółdzielnia D;spółdzielnia socjalna;2661;2661011;nie",  # 5 ok
    "001024020;;;Spółdzielnia D bis;spółdzielnia socjalna;2661;2661011;nie",  # 6 duplicate
    "450669945;;;E;fundacja;2604;2604012;tak",  # 7 regon
    ";;;F;fundacja;2604;2604012;nie",  # 8 key missing
]
RESP_LINES = [
    ";".join(
        [
            "REGON",
            "Liczba osób zatrudnionych na umowę o pracę (31.12)",
            "Etaty przeliczeniowe (31.12)",
            "w tym osoby z niepełnosprawnościami",
            "Przychody ogółem (zł)",
            "Przychody ze źródeł publicznych (zł)",
            "Przychody ze źródeł prywatnych (zł)",
            "Czy podmiot korzystał z dotacji bezzwrotnych?",
            "Uwagi",
        ]
    ),
    "000331501;3;2,5;1;10 000,00;6 000;4 000,50;tak;",  # 2: ok (sum 10000.5 < +1 zł)
    "291010180;2;2,5;3;1.000,00;800;300;może;pilne",  # 3: fte, subgroup, revenue, answer
    "000331501;-1;abc;;;;;brak danych;",  # 4: duplicate, range, nan
    "291010181;0;0;0;0;0;0;nie;",  # 5: regon + not in frame
    "001024020;1;1;0;0;0;0;nie;",  # 6: frame duplicate
    ";1;1;0;0;0;0;nie;",  # 7: key missing
]


@pytest.fixture()
def study_files(tmp_path):
    frame = tmp_path / "frame.csv"
    frame.write_text("\n".join(FRAME_LINES) + "\n", encoding="utf-8")
    responses = tmp_path / "responses.csv"
    responses.write_text("\n".join(RESP_LINES) + "\n", encoding="cp1250")
    return frame, responses


def _find(problems: pd.DataFrame, rule: str, row: int | None = None) -> pd.DataFrame:
    hit = problems[problems["rule"] == rule]
    if row is not None:
        hit = hit[hit["row"] == row]
    return hit


def _message(problems: pd.DataFrame, rule: str, row: int) -> str:
    hit = _find(problems, rule, row)
    assert len(hit) == 1, (rule, row, problems)
    return hit["message"].iloc[0]


def test_frame_rules(study_files):
    frame = read_frame(study_files[0])
    problems = check_frame(frame)
    name = str(study_files[0])
    assert set(problems["file"]) == {name}
    assert _message(problems, "nip_checksum", 3) == (
        "NIP '5261040829' fails its check digit: the last digit should be 8, not 9"
    )
    assert _message(problems, "gmina_not_in_powiat", 3) == (
        "gmina '2601013' lies in powiat '2601', not in powiat '2604' given in column 'TERYT powiat'"
    )
    assert _message(problems, "krs_format", 4).startswith("KRS '12345678901' is not 10 digits")
    assert _message(problems, "teryt_unknown", 4) == (
        "powiat code '2699' is not in TERYT (state 2024-01-01): voivodeship 26 świętokrzyskie "
        "has no powiat 2699; if the data use the codes of another date, check them against "
        "that date's TERC file"
    )
    assert _message(problems, "regon_checksum", 7) == (
        "REGON '450669945' fails its check digit: the last digit should be 4, not 5"
    )
    dup = _find(problems, "duplicate_in_frame")
    assert dup["row"].tolist() == [5, 6]
    assert dup["message"].iloc[0] == (
        "REGON '001024020' appears in 2 frame rows (rows 5, 6); each unit must appear once"
    )
    assert _message(problems, "key_missing", 8) == "REGON is blank; this frame row cannot be linked"
    # clean rows have no problems
    assert _find(problems, "regon_checksum", 2).empty
    assert problems[problems["row"] == 2].empty
    row3 = problems[problems["row"] == 3]
    assert row3.loc[row3["rule"] == "nip_checksum", ["column", "value", "severity"]].iloc[
        0
    ].tolist() == ["NIP", "5261040829", "error"]


def test_teryt_gmina_unknown_and_wrong_length():
    frame = pd.DataFrame(
        {
            "regon": ["000331501", "291010180"],
            "teryt_powiat": ["2601", "2601"],
            "teryt_gmina": ["2601999", "260101"],
        }
    )
    problems = check_frame(frame)
    assert _message(problems, "teryt_unknown", 2) == (
        "gmina code '2601999' is not in TERYT (state 2024-01-01): powiat 2601 buski has no "
        "gmina 2601999; if the data use the codes of another date, check them against that "
        "date's TERC file"
    )
    assert _message(problems, "teryt_unknown", 3) == (
        "gmina code '260101' is not 7 digits (TERYT gmina code)"
    )


def test_teryt_of_every_voivodeship_and_of_none():
    # 1465 Warszawa and gmina 1465011 are valid (TERC 2020-01-01); 99 is no voivodeship
    frame = pd.DataFrame(
        {
            "regon": ["000331501", "291010180"],
            "teryt_powiat": ["1465", "9901"],
            "teryt_gmina": ["1465011", "9901011"],
        }
    )
    problems = check_frame(frame)
    assert _find(problems, "teryt_unknown", 2).empty
    row3 = _find(problems, "teryt_unknown", 3).set_index("column")["message"]
    assert row3.to_dict() == {
        "teryt_powiat": "powiat code '9901' is not in TERYT (state 2020-01-01): 99 is not a "
        "voivodeship code (02, 04, …, 32)",
        "teryt_gmina": "gmina code '9901011' is not in TERYT (state 2020-01-01): 99 is not a "
        "voivodeship code (02, 04, …, 32)",
    }


def test_response_rules(study_files):
    responses = read_responses(study_files[1])
    problems = check_responses(responses)
    assert _message(problems, "fte_above_headcount", 3) == (
        "FTE 2.5 ('Etaty przeliczeniowe (31.12)') is above the headcount 2 "
        "('Liczba osób zatrudnionych na umowę o pracę (31.12)'); full-time equivalents "
        "cannot exceed the number of employees"
    )
    assert _message(problems, "subgroup_above_total", 3) == (
        "'w tym osoby z niepełnosprawnościami' = 3 is above its total "
        "'Liczba osób zatrudnionych na umowę o pracę (31.12)' = 2"
    )
    # 800 + 300 = 1100 > 1000 + 1 zł
    assert _message(problems, "revenue_sources_exceed_total", 3) == (
        "revenue by source adds up to 1100 zł ('Przychody ze źródeł publicznych (zł)', "
        "'Przychody ze źródeł prywatnych (zł)'), above the total revenue 1000 zł in "
        "'Przychody ogółem (zł)'"
    )
    assert _message(problems, "answer_not_in_codebook", 3).startswith(
        "answer 'może' is not in answer set 'tak_nie' (allowed: 'tak', 'nie', 't', 'n', '1', '0')"
    )
    assert _message(problems, "out_of_range", 4) == (
        "-1 is outside the allowed range [0, 100000] of emp_uop"
    )
    assert _message(problems, "not_a_number", 4).startswith("'abc' is not a number")
    assert _message(problems, "missing_answer", 4) == (
        "'brak danych' means no answer (reason: no_data)"
    )
    dup = _find(problems, "duplicate_in_responses")
    assert dup["row"].tolist() == [2, 4]
    assert dup["message"].iloc[0] == (
        "REGON '000331501' appears in 2 responses (rows 2, 4); each unit must appear once"
    )
    assert _message(problems, "regon_checksum", 5).startswith("REGON '291010181' fails")
    assert _message(problems, "key_missing", 7) == "REGON is blank; this response cannot be linked"
    unmapped = _find(problems, "unmapped_column")
    assert unmapped["column"].tolist() == ["Uwagi"]
    assert unmapped["row"].isna().all()
    # row 2: revenue parts 6000 + 4000.5 = 10000.5 <= 10000 + 1 zł tolerance: no problem
    assert problems[(problems["row"] == 2) & (problems["severity"] != "info")].rule.tolist() == [
        "duplicate_in_responses"
    ]
    assert set(problems["severity"]) <= set(RULES.values())
    assert all(RULES[r] == s for r, s in zip(problems["rule"], problems["severity"], strict=True))


def test_in_memory_value_checks():
    responses = pd.DataFrame(
        {
            "regon": ["000331501", "291010180"],
            "emp_uop": [-2, 3],
            "market_range": ["lokalny", "galaktyczny"],
            "grants": ["tak", "może"],
            "revenue_total": ["1 000,5", "dużo"],
        }
    )
    problems = check_responses(responses)
    assert _message(problems, "out_of_range", 2) == (
        "-2 is outside the allowed range [0, 100000] of emp_uop"
    )
    answers = _find(problems, "answer_not_in_codebook", 3)
    assert answers["column"].tolist() == ["market_range", "grants"]
    assert (
        answers["message"]
        .iloc[0]
        .startswith(
            "answer 'galaktyczny' is not in answer set 'market_range' (allowed: 'lokalny', "
        )
    )
    assert _message(problems, "not_a_number", 3).startswith("'dużo' is not a number")


# ---------------------------------------------------------------- linking
def test_link_reports_every_mismatch(study_files):
    frame = read_frame(study_files[0])
    responses = read_responses(study_files[1])
    result = link(frame, responses)
    linked = result.linked
    assert len(linked) == len(responses)
    assert linked["source_row"].tolist() == [2, 3, 4, 5, 6, 7]
    assert linked["in_frame"].tolist() == [True, True, True, False, False, False]
    assert linked["source_row_frame"].tolist()[:3] == [2, 3, 2]
    assert linked["name"].tolist()[:2] == ["Fundacja A", "Stow B"]  # from the frame
    assert "name_frame" not in linked.columns  # responses here have no name column
    assert result.unmatched_responses["source_row"].tolist() == [5, 6, 7]
    p = result.problems
    assert p["rule"].tolist() == ["response_not_in_frame", "duplicate_in_frame"]
    assert p["message"].tolist() == [
        f"REGON '291010181' matches no unit of the frame {study_files[0]} (it also fails the "
        f"REGON check, so it is probably mistyped)",
        "REGON '001024020' matches 2 frame rows (5, 6); the response stays unlinked until "
        "the frame has one row per unit",
    ]
    assert p["file"].unique().tolist() == [str(study_files[1])]
    dk = result.duplicated_keys
    assert dk.to_dict("records") == [
        {
            "key": "000331501",
            "n_frame": 1,
            "n_responses": 2,
            "frame_rows": "2",
            "response_rows": "2, 4",
        },
        {
            "key": "001024020",
            "n_frame": 2,
            "n_responses": 1,
            "frame_rows": "5, 6",
            "response_rows": "6",
        },
    ]


def test_link_suffixes_shared_columns():
    frame = pd.DataFrame({"regon": ["000331501"], "name": ["GUS"], "x": [1]})
    responses = pd.DataFrame({"regon": ["000331501"], "name": ["G.U.S."]})
    linked = link(frame, responses).linked
    assert linked[["name", "name_frame", "x"]].iloc[0].tolist() == ["G.U.S.", "GUS", 1]


def test_link_needs_key():
    with pytest.raises(
        DesignError,
        match=r"key='regon' is not a column of the responses; its "
        r"columns are: id",
    ):
        link(pd.DataFrame({"regon": ["1"]}), pd.DataFrame({"id": ["1"]}))


# ---------------------------------------------------------------- load_study
def test_load_study_flags_records(study_files):
    study = load_study(*study_files)
    assert isinstance(study, SurveyData)
    assert study.frame["problems"].tolist() == [
        "",
        "nip_checksum;gmina_not_in_powiat",
        "krs_format;teryt_unknown",
        "duplicate_in_frame",
        "duplicate_in_frame",
        "regon_checksum",
        "key_missing",
    ]
    assert study.responses["problems"].tolist() == [
        "duplicate_in_responses",
        "answer_not_in_codebook;fte_above_headcount;subgroup_above_total;"
        "revenue_sources_exceed_total",
        "out_of_range;not_a_number;duplicate_in_responses",
        "regon_checksum;response_not_in_frame",
        "duplicate_in_frame",
        "key_missing",
    ]
    assert study.linked["problems"].tolist() == study.responses["problems"].tolist()
    assert study.linked["problems_frame"].tolist()[:3] == [
        "",
        "nip_checksum;gmina_not_in_powiat",
        "",
    ]
    # nothing dropped, nothing fixed: the bad values are missing, the rows are there
    assert len(study.frame) == 7 and len(study.responses) == 6
    summary = study.summary()
    assert {
        k: summary[k]
        for k in ("frame_units", "sampled", "responses", "linked", "unmatched_responses")
    } == {
        "frame_units": 7,
        "sampled": 4,
        "responses": 6,
        "linked": 3,
        "unmatched_responses": 3,
    }
    counts = summary["problems"].set_index("rule")["count"].to_dict()
    assert counts["duplicate_in_frame"] == 3  # 2 frame rows + 1 response
    assert counts["missing_answer"] == 1
    assert summary["problems"]["severity"].tolist()[-2:] == ["info", "info"]


def test_strict_lists_all_errors(study_files):
    # errors by hand: frame rows 3 (nip, gmina), 4 (krs, teryt), 5 and 6 (duplicate),
    # 7 (regon), 8 (key) = 8; responses rows 2 (duplicate), 3 (answer, fte, subgroup,
    # revenue), 4 (range, number, duplicate), 5 (regon, not in frame), 6 (frame
    # duplicate), 7 (key) = 12; 20 in all
    pattern = r"^20 error\(s\) in the study data \(strict=True\)"
    with pytest.raises(DataError, match=pattern) as info:
        load_study(*study_files, strict=True)
    message = str(info.value)
    assert message.count("\n  ") == 20
    assert re.search(
        r"frame\.csv, row 3, column 'NIP', value '5261040829': nip_checksum — NIP", message
    )
    assert re.search(
        r"responses\.csv, row 5, column 'REGON', value '291010181': "
        r"response_not_in_frame — ",
        message,
    )
    assert len(info.value.problems) == 20
    assert set(info.value.problems["severity"]) == {"error"}


def test_strict_passes_on_clean_files(tmp_path):
    (tmp_path / "f.csv").write_text(
        "REGON,Typ podmiotu,TERYT powiat\n000331501,fundacja,2601\n", encoding="utf-8"
    )
    (tmp_path / "r.csv").write_text("REGON,Liczba członków\n000331501,nie wiem\n", encoding="utf-8")
    study = load_study(tmp_path / "f.csv", tmp_path / "r.csv", strict=True)
    assert study.problems["rule"].tolist() == ["missing_answer"]
    assert study.responses["problems"].tolist() == [""]


def test_structural_fault_propagates(tmp_path):
    (tmp_path / "f.csv").write_text("REGON\n000331501\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"f\.csv: 2 structural faults"):
        load_study(tmp_path / "f.csv", tmp_path / "r.csv")


# ---------------------------------------------------------------- inputs unchanged
def _snapshot(df: pd.DataFrame):
    return df.copy(deep=True), copy.deepcopy(df.attrs)


def _same(df: pd.DataFrame, snap) -> None:
    pd.testing.assert_frame_equal(df, snap[0])
    assert df.attrs == snap[1]


def test_inputs_are_not_modified(study_files):
    frame = read_frame(study_files[0])
    responses = read_responses(study_files[1])
    fs, rs = _snapshot(frame), _snapshot(responses)
    problems = check_frame(frame)
    _same(frame, fs)
    check_responses(responses)
    _same(responses, rs)
    link(frame, responses)
    _same(frame, fs)
    _same(responses, rs)
    flagged = flag_records(frame, problems)
    _same(frame, fs)
    assert "problems" in flagged.columns and "problems" not in frame.columns
    memory = pd.DataFrame({"regon": ["000331501", "x"], "emp_uop": ["-1", "2"]})
    ms = _snapshot(memory)
    check_responses(memory)
    _same(memory, ms)


# ---------------------------------------------------------------- the bundled demo study
DEMO_FRAME = ROOT / "data" / "raw" / "frame.xlsx"
DEMO_RESPONSES = ROOT / "data" / "raw" / "responses.xlsx"
DEMO_TRUTH = ROOT / "data" / "raw" / "truth.csv"


def test_demo_study_faults_are_found():
    study = load_study(DEMO_FRAME, DEMO_RESPONSES)
    truth = pd.read_csv(DEMO_TRUTH, dtype=str, keep_default_na=False)
    # truth.csv (written by es_survey.synth) lists the deliberate faults of each unit
    # and the sheet rows of its responses
    expected: dict[str, set[int]] = {}
    for corruption, rows in zip(truth["corruption"], truth["response_rows"], strict=True):
        for label in filter(None, corruption.split(";")):
            expected.setdefault(label, set()).update(int(r) for r in rows.split(";"))
    p = study.problems
    responses_file = str(DEMO_RESPONSES)

    def rows_of(rule: str) -> set[int]:
        hit = p[(p["rule"] == rule) & (p["file"] == responses_file)]
        return {int(r) for r in hit["row"]}

    assert len(expected["regon_mistyped"]) == 3
    assert rows_of("regon_checksum") == expected["regon_mistyped"]
    assert rows_of("response_not_in_frame") == expected["regon_mistyped"]
    assert rows_of("fte_above_headcount") == expected["fte_above_headcount"]
    assert rows_of("duplicate_in_responses") == expected["duplicate_response"]
    # the register extract is clean, and so are the responses apart from those faults
    assert p[(p["file"] == str(DEMO_FRAME)) & (p["severity"] != "info")].empty
    # no false alarms: every error lies in a response row of a deliberately corrupted unit
    corrupted_rows = set().union(*expected.values())
    error_rows = {int(r) for r in p.loc[p["severity"] == "error", "row"]}
    assert error_rows <= corrupted_rows
    summary = study.summary()
    n_respondent_rows = sum(len(r.split(";")) for r in truth["response_rows"] if r)
    assert summary["frame_units"] == len(truth)
    assert summary["sampled"] == int((truth["sampled"] == "True").sum())
    assert summary["responses"] == n_respondent_rows
    assert summary["unmatched_responses"] == 3
    assert summary["linked"] == n_respondent_rows - 3


def test_flag_records_in_memory_responses():
    responses = pd.DataFrame({"regon": ["000331501", "000331502"]})
    problems = check_responses(responses)
    assert problems["file"].unique().tolist() == ["<responses>"]
    flagged = flag_records(responses, problems, source="responses")
    assert flagged["problems"].tolist() == ["", "regon_checksum"]
    assert flag_records(responses, problems)["problems"].tolist() == ["", ""]  # '<frame>'


def test_in_memory_numeric_columns():
    responses = pd.DataFrame(
        {
            "regon": ["000331501", "291010180", "000001695"],
            "emp_uop": pd.array([3, -1, None], dtype="Int64"),
            "emp_civil": [1.0, 2.5, float("nan")],  # a count with a fraction
            "revenue_total": [10.5, -0.5, 0.0],
        }
    )
    problems = check_responses(responses)
    assert problems[["row", "column", "rule"]].to_dict("records") == [
        {"row": 3, "column": "emp_uop", "rule": "out_of_range"},
        {"row": 3, "column": "emp_civil", "rule": "not_a_number"},
        {"row": 3, "column": "revenue_total", "rule": "out_of_range"},
    ]
    assert problems["message"].tolist()[1:] == [
        "'2.5' is not a whole number; emp_civil counts osoby in whole numbers",
        "-0.5 is outside the allowed range [0, 100000000000] of revenue_total",
    ]


def test_linked_dtypes_survive_unmatched_rows(study_files):
    study = load_study(*study_files)
    linked = study.linked
    assert linked["regon"].dtype == "string"
    assert linked["source_row"].dtype == "int64"
    assert linked["source_row_frame"].dtype == "Int64"
    assert linked["source_row_frame"].tolist() == [2, 3, 2, pd.NA, pd.NA, pd.NA]
    assert isinstance(linked["entity_type"].dtype, pd.CategoricalDtype)
    assert linked["sampled"].dtype == "boolean"
