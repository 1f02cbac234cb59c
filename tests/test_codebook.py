"""Tests of es_survey.codebook: loading, checking, header and answer matching, decoding."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from es_survey.codebook import Codebook, load_codebook, normalize_text, parse_number
from es_survey.errors import DataError, DesignError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cb() -> Codebook:
    return load_codebook()


# ---------------------------------------------------------------- bundled codebook
def test_packaged_copy_is_identical_to_data_raw():
    raw = ROOT / "data" / "raw" / "codebook.toml"
    packaged = ROOT / "src" / "es_survey" / "data" / "codebook.toml"
    assert raw.read_bytes() == packaged.read_bytes()


def test_default_and_path_load_the_same_codebook(cb):
    from_path = load_codebook(ROOT / "data" / "raw" / "codebook.toml")
    assert from_path.variables == cb.variables
    assert dict(from_path.missing) == dict(cb.missing)
    assert cb.key == "regon"


def test_variables_by_source(cb):
    frame = {v.name for v in cb.for_source("frame")}
    responses = {v.name for v in cb.for_source("responses")}
    assert {"regon", "name", "entity_type", "stratum", "sampled", "contact_outcome"} <= frame
    assert "emp_uop" not in frame
    assert {"regon", "name", "emp_uop", "revenue_total"} <= responses
    assert "entity_type" not in responses
    with pytest.raises(DesignError, match=r"source='panel' is not allowed; use 'frame' or"):
        cb.for_source("panel")


def test_unknown_variable_is_named(cb):
    with pytest.raises(DesignError, match=r"variable 'jobs' is not in the codebook .*known"):
        cb.variable("jobs")


def test_codes_keep_codebook_order(cb):
    # [answers.entity_type] lists STOW, STOW_ZW, FUND, ... in this order
    assert cb.codes("entity_type")[:4] == ["STOW", "STOW_ZW", "FUND", "OSP"]
    assert cb.codes("opp") == [True, False]
    assert cb.codes("emp_uop") == []


# ---------------------------------------------------------------- normalisation
@pytest.mark.parametrize(
    "text",
    [
        "Numer REGON",
        "  numer regon  ",
        "NUMER\u00a0REGON",  # no-break space
        "Numer\u2009REGON",  # thin space
        "Numer\u202fREGON",  # narrow no-break space
        "Numer \t  REGON",
    ],
)
def test_header_matching_normalises(cb, text):
    assert cb.match_header(text).name == "regon"


def test_nfc_normalisation(cb):
    decomposed = "Liczba cz\u0142onko\u0301w"  # 'ó' written as o + U+0301
    assert decomposed != "Liczba członków"
    assert normalize_text(decomposed) == "liczba członków"
    assert cb.match_header(decomposed).name == "members"


def test_canonical_names_are_accepted_as_headers(cb):
    assert cb.match_header("emp_uop_fte").name == "emp_uop_fte"
    assert cb.match_header("Uwagi ankietera") is None


# ---------------------------------------------------------------- decoding answers
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("tak", True),
        ("TAK ", True),
        (" Nie", False),
        ("t", True),
        ("1", True),
        (0, False),
        (1.0, True),
        (True, True),
    ],
)
def test_decode_bool(cb, raw, expected):
    assert cb.decode("opp", raw) == (expected, None)


def test_decode_category_texts_and_codes(cb):
    assert cb.decode("entity_type", "Fundacja") == ("FUND", None)
    assert cb.decode("entity_type", "spółdzielnia\u00a0SOCJALNA") == ("SS", None)
    assert cb.decode("entity_type", "FUND") == ("FUND", None)


def test_decode_unknown_answer(cb):
    value, issue = cb.decode("opp", "chyba tak")
    assert value is None
    assert issue.rule == "answer_not_in_codebook"
    assert issue.severity == "error"
    assert re.search(
        r"answer 'chyba tak' is not in answer set 'tak_nie' \(allowed: 'tak'", issue.message
    )
    assert "[answers.tak_nie] in codebook.toml" in issue.message


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("brak danych", "no_data"),
        ("Nie wiem", "dont_know"),
        ("ODMOWA", "refused"),
        ("trudno  powiedzieć", "dont_know"),
        ("-", "no_data"),
    ],
)
def test_missing_texts_are_missing_with_reason(cb, raw, reason):
    for var in ("opp", "emp_uop", "entity_type", "regon"):
        value, issue = cb.decode(var, raw)
        assert value is None
        assert issue.rule == "missing_answer"
        assert issue.severity == "info"
        assert f"(reason: {reason})" in issue.message


@pytest.mark.parametrize("raw", [None, "", "   ", "\u00a0", float("nan")])
def test_blank_cells_are_missing_without_problem(cb, raw):
    assert cb.decode("emp_uop", raw) == (None, None)
    assert cb.missing_reason(raw) == "blank"


# ---------------------------------------------------------------- decoding numbers
@pytest.mark.parametrize(
    "text",
    [
        "1234.5",
        "1234,5",
        "1 234,5",
        "1\u00a0234,5",
        "1\u2009234,5",
        "1\u202f234,5",
        "1.234,5",
        "1,234.5",
        " 1 234,50 ",
    ],
)
def test_parse_number_forms(text):
    assert parse_number(text) == 1234.5


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 234 567", 1234567.0),
        ("1.234.567", 1234567.0),
        ("-12,5", -12.5),
        ("0", 0.0),
        ("\u22123", -3.0),
        (7, 7.0),
    ],
)
def test_parse_number_more(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize(
    "text", ["12 34", "1.23.4", "abc", "12zł", "1,2,3", "", True, float("inf")]
)
def test_parse_number_rejects(text):
    assert parse_number(text) is None


def test_decode_numbers(cb):
    assert cb.decode("emp_uop_fte", "2,75") == (2.75, None)
    assert cb.decode("emp_uop", "12") == (12, None)
    assert cb.decode("revenue_total", "1 234 567,89") == (1234567.89, None)
    value, issue = cb.decode("emp_uop", "12,5")
    assert value is None and issue.rule == "not_a_number"
    assert issue.message.startswith("'12,5' is not a whole number")
    value, issue = cb.decode("revenue_total", "dużo")
    assert value is None and issue.rule == "not_a_number"
    assert issue.message.startswith("'dużo' is not a number; write digits")


def test_decode_out_of_range(cb):
    value, issue = cb.decode("emp_uop", "-3")
    assert value is None
    # the default plausibility limit of a count of people is 100 000 (codebook.PLAUSIBLE_MAX)
    msg = "-3 is outside the allowed range [0, 100000] of emp_uop"
    assert issue == ("out_of_range", "error", msg)
    # issue 15: 10^12 employees and 1.2e21 zl of revenue are keying errors
    assert cb.decode("emp_uop", 10**12)[1].rule == "out_of_range"
    assert (
        cb.decode("revenue_total", 1.2e21)[1].message.endswith(
            "outside the allowed range [0, 100000000000] of revenue_total"
        )
        or cb.decode("revenue_total", 1.2e21)[1].rule == "out_of_range"
    )
    # "12.000" / "12,000" people: 12 or 12 000? an error that says how to write it
    value, issue = cb.decode("emp_uop", "12.000")
    assert value is None and issue.rule == "ambiguous_number"
    assert issue.message == (
        "'12.000' is ambiguous for a count of osoby: 12 or 12000? Write the number "
        "without a separator (12000) or with a space (12 000)"
    )
    assert cb.decode("emp_uop", "12 000") == (12000, None)
    assert cb.decode("emp_uop_fte", "0,125") == (0.125, None)  # not a count: a decimal
    _, issue = cb.decode("year_registered", 1899)
    assert issue.message == "1899 is outside the allowed range [1900, 2024] of year_registered"


def test_decode_identifiers(cb):
    # numbers stored as numbers lose leading zeros; the reader pads them back
    assert cb.decode("regon", 331501) == ("000331501", None)
    assert cb.decode("regon", " 000331501 ") == ("000331501", None)
    assert cb.decode("nip", "526-104-08-28") == ("5261040828", None)
    assert cb.decode("krs", "6865") == ("0000006865", None)
    assert cb.decode("krs", 413516) == ("0000413516", None)
    assert cb.decode("teryt_powiat", 2604.0) == ("2604", None)
    assert cb.decode("name", "  Fundacja X ") == ("Fundacja X", None)


# ---------------------------------------------------------------- malformed codebooks
GOOD = """
[meta]
key = "regon"

[missing]
"brak danych" = "no_data"

[answers.tak_nie]
"tak" = true
"nie" = false

[[variables]]
name = "regon"
source = "both"
type = "id"
check = "regon"
required = true
headers = ["REGON"]
"""


def _write(tmp_path: Path, extra: str, base: str = GOOD) -> Path:
    path = tmp_path / "my_codebook.toml"
    path.write_text(base + extra, encoding="utf-8")
    return path


def test_minimal_codebook_loads(tmp_path):
    cb = load_codebook(_write(tmp_path, ""))
    assert cb.names == ("regon",)
    assert cb.path.endswith("my_codebook.toml")


@pytest.mark.parametrize(
    ("extra", "pattern"),
    [
        (
            '\n[[variables]]\nname = "x"\nsource = "frame"\ntype = "float"\n',
            r"my_codebook\.toml: variable 'x': unknown type 'float'; use one of id, text",
        ),
        (
            '\n[[variables]]\nname = "x"\nsource = "frame"\ntype = "bool"\nanswers = "yes_no"\n',
            r"variable 'x': answers = 'yes_no' names an answer set that does not exist; "
            r"defined sets: tak_nie",
        ),
        (
            '\n[[variables]]\nname = "regon"\nsource = "frame"\ntype = "text"\n',
            r"my_codebook\.toml: variable 'regon' is defined twice",
        ),
        (
            '\n[[variables]]\nname = "nr"\nsource = "frame"\ntype = "text"\nheaders = ["regon "]\n',
            r"variable 'nr': header 'regon ' is already claimed by variable 'regon'",
        ),
        (
            '\n[[variables]]\nname = "x"\nsource = "panel"\ntype = "text"\n',
            r"variable 'x': unknown source 'panel'",
        ),
        (
            '\n[[variables]]\nname = "x"\nsource = "frame"\ntype = "id"\ncheck = "pesel"\n',
            r"variable 'x': unknown check 'pesel'",
        ),
        (
            '\n[[variables]]\nname = "x"\nsource = "frame"\ntype = "integer"\nmin = 5\nmax = 1\n',
            r"variable 'x': min = 5 is above max = 1",
        ),
        (
            '\n[[variables]]\nname = "x"\nsource = "frame"\ntype = "integer"\nhedaers = ["X"]\n',
            r"variable 'x': unknown field 'hedaers'; did you mean 'headers'\?",
        ),
        (
            '\n[[variables]]\nname = "source_row"\nsource = "frame"\ntype = "integer"\n',
            r"is named 'source_row', a name es_survey gives to a column it adds",
        ),
        (
            '\n[[variables]]\nname = "x"\nsource = "frame"\ntype = "category"\n',
            r"variable 'x': type 'category' needs answers",
        ),
        (
            '\n[[variables]]\nname = "x"\nsource = "frame"\ntype = "text"\nmin = 0\n',
            r"variable 'x': min is only allowed for integer, number or year",
        ),
    ],
)
def test_malformed_codebook(tmp_path, extra, pattern):
    with pytest.raises(DataError, match=pattern):
        load_codebook(_write(tmp_path, extra))


def test_bad_toml_names_file(tmp_path):
    path = _write(tmp_path, "\n[[variables]\nname = 1\n")
    with pytest.raises(DataError, match=r"my_codebook\.toml: not valid TOML \(.*line"):
        load_codebook(path)


def test_missing_codebook_file(tmp_path):
    with pytest.raises(DataError, match=r"nothere\.toml: codebook file not found"):
        load_codebook(tmp_path / "nothere.toml")


def test_key_must_be_a_variable(tmp_path):
    path = _write(tmp_path, "", base=GOOD.replace('key = "regon"', 'key = "nip"'))
    with pytest.raises(DataError, match=r"\[meta\] key = 'nip' is not a variable"):
        load_codebook(path)


def test_answer_also_missing_text(tmp_path):
    var = (
        '\n[[variables]]\nname = "outcome"\nsource = "responses"\ntype = "category"\n'
        'answers = "x"\n'
    )
    path = _write(tmp_path, '\n[answers.x]\n"Brak danych" = "B"\n"wywiad" = "W"\n' + var)
    with pytest.raises(
        DataError,
        match=r"variable 'outcome': answer 'Brak danych' of \[answers\.x\] is also a "
        r"missing text in \[missing\]; keep it in one place \(give the variable its own list",
    ):
        load_codebook(path)


def test_a_variable_may_have_its_own_missing_answers(tmp_path):
    # a fieldwork outcome whose answers include "odmowa" (refusal) and "brak danych":
    # with its own list ("nie wiem" only), both are answers, not missing values; other
    # variables keep the codebook's [missing] list
    var = (
        '\n[answers.wynik]\n"wywiad" = "interview"\n"odmowa" = "refusal"\n'
        '"brak danych" = "no_data_code"\n'
        '\n[[variables]]\nname = "outcome"\nsource = "responses"\ntype = "category"\n'
        'answers = "wynik"\nmissing = {"nie wiem" = "dont_know"}\n'
        '\n[[variables]]\nname = "opp"\nsource = "frame"\ntype = "bool"\nanswers = "tak_nie"\n'
    )
    cb = load_codebook(_write(tmp_path, var))
    assert cb.decode("outcome", "Odmowa") == ("refusal", None)
    assert cb.decode("outcome", "brak danych") == ("no_data_code", None)
    value, issue = cb.decode("outcome", "Nie wiem")
    assert value is None and issue.rule == "missing_answer" and "dont_know" in issue.message
    assert cb.decode("outcome", "") == (None, None)  # a blank cell is always missing
    value, issue = cb.decode("opp", "brak danych")  # the codebook's list still applies
    assert value is None and issue.rule == "missing_answer"
    assert cb.missing_reason("brak danych", "outcome") is None
    assert cb.missing_reason("brak danych") == "no_data"
    bad = var.replace('missing = {"nie wiem" = "dont_know"}', 'missing = ["nie wiem"]')
    with pytest.raises(DataError, match=r"variable 'outcome': missing must be a table"):
        load_codebook(_write(tmp_path, bad))


def test_no_variables(tmp_path):
    path = tmp_path / "empty.toml"
    path.write_text('[meta]\nkey = "regon"\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"empty\.toml: no \[\[variables\]\] defined"):
        load_codebook(path)


def test_codebook_is_frozen_and_hashable(cb):
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        cb.path = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cb.variable("regon").required = False  # type: ignore[misc]
    assert hash(cb) == hash(load_codebook())
    assert cb == load_codebook()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[meta]\nkye = "nip"\n', r"\[meta\] unknown key 'kye'; did you mean 'key'\?"),
        (
            '[answer.tak_nie]\n"tak" = true\n',
            r"unknown section \[answer\]; did you mean "
            r"'answers'\?",
        ),
    ],
)
def test_unknown_codebook_keys_name_the_nearest(tmp_path, text, message) -> None:
    # issue 15: a typo in a TOML key is an error naming the key and the nearest valid one
    path = tmp_path / "codebook.toml"
    path.write_text(
        text + '\n[[variables]]\nname = "regon"\nsource = "frame"\ntype = "id"\n',
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=message):
        load_codebook(path)
