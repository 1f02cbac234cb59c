"""Tests of the rule language: tokenizer, parser, type checks, Kleene evaluation."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from es_survey.errors import DataError
from es_survey.rules import blank_data, evaluate, load_rules

ROOT = Path(__file__).resolve().parents[1]
NA = pd.NA

MINIMAL_FLAG = """
[[flags]]
name = "x"
label_pl = "x"
label_en = "x"
when_missing = "unknown"
otherwise = false
[[flags.clauses]]
when = {when}
value = true
reason = "r"
"""


def write_rules(tmp_path, text, name="rules.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def flag_file(tmp_path, when):
    return write_rules(tmp_path, MINIMAL_FLAG.format(when=when))


def bools(values):
    return pd.array(values, dtype="boolean")


def test_packaged_rules_identical_to_data_raw():
    raw = (ROOT / "data" / "raw" / "rules.toml").read_bytes()
    packaged = (ROOT / "src" / "es_survey" / "data" / "rules.toml").read_bytes()
    assert raw == packaged


def test_default_rules_load():
    rules = load_rules()
    assert rules.flag_names == [
        "active",
        "earning",
        "employing",
        "employing_broad",
        "social_enterprise",
        "zaz_rule",
    ]
    assert rules.parameters["ps_min_half_fte_employees"] == 3
    assert rules.parameters["zaz_min_disabled_share"] == 0.70
    assert rules.flags[0].when_missing == "unknown"
    assert load_rules(ROOT / "data" / "raw" / "rules.toml").flag_names == rules.flag_names


# ----------------------------------------------------------------------------- Kleene logic
# Three-valued truth table (T = true, F = false, U = unknown), written out by hand:
#   a  b | a and b | a or b | not a
#   T  T |    T    |   T    |   F
#   T  F |    F    |   T    |   F
#   T  U |    U    |   T    |   F
#   F  T |    F    |   T    |   T
#   F  F |    F    |   F    |   T
#   F  U |    F    |   U    |   T
#   U  T |    U    |   T    |   U
#   U  F |    F    |   U    |   U
#   U  U |    U    |   U    |   U
A = [True, True, True, False, False, False, NA, NA, NA]
B = [True, False, NA, True, False, NA, True, False, NA]
AND = [True, False, NA, False, False, False, NA, False, NA]
OR = [True, True, True, True, False, NA, True, NA, NA]
NOT_A = [False, False, False, True, True, True, NA, NA, NA]


@pytest.fixture
def ab():
    df = blank_data(9)
    df["runs_dg"] = bools(A)
    df["runs_odplatna_dpp"] = bools(B)
    return df


def same(series, expected):
    got = [None if v is NA else bool(v) for v in series.tolist()]
    want = [None if v is NA else v for v in expected]
    return got == want


def test_truth_table_and(ab):
    assert same(evaluate(ab, "runs_dg and runs_odplatna_dpp"), AND)


def test_truth_table_or(ab):
    assert same(evaluate(ab, "runs_dg or runs_odplatna_dpp"), OR)


def test_truth_table_not(ab):
    assert same(evaluate(ab, "not runs_dg"), NOT_A)


def test_is_missing_is_never_unknown(ab):
    assert same(evaluate(ab, "runs_odplatna_dpp is missing"), [v is NA for v in B])
    assert same(evaluate(ab, "runs_odplatna_dpp is not missing"), [v is not NA for v in B])


def test_input_not_modified(ab):
    before = ab.copy()
    evaluate(ab, "runs_dg and not runs_odplatna_dpp")
    pd.testing.assert_frame_equal(ab, before)


# ----------------------------------------------------------------------------- arithmetic
@pytest.fixture
def nums():
    df = blank_data(5)
    df["emp_uop"] = pd.array([10, 10, 0, NA, 4], dtype="Int64")
    df["emp_disabled"] = pd.array([7, 6, 0, 3, NA], dtype="Int64")
    return df


def test_share_and_division_by_zero(nums):
    # 7/10 = 0.7 >= 0.7 true; 6/10 false; 0/0 unknown; 3/NA unknown; NA/4 unknown
    assert same(evaluate(nums, "emp_disabled / emp_uop >= 0.7"), [True, False, NA, NA, NA])
    share = evaluate(nums, "emp_disabled / emp_uop")
    assert share.iloc[0] == pytest.approx(0.7)
    assert share.iloc[2] is NA


def test_precedence_and_unary_minus(nums):
    assert same(evaluate(nums, "1 + 2 * 3 == 7"), [True] * 5)
    assert same(evaluate(nums, "(1 + 2) * 3 == 9 and -2 < 0 and 10 - 4 / 2 == 8"), [True] * 5)
    assert same(evaluate(nums, "not 1 > 2 or emp_uop > 100"), [True] * 5)
    # emp_uop - emp_disabled: 3, 4, 0, NA, NA
    assert same(evaluate(nums, "emp_uop - emp_disabled > 3"), [False, True, False, NA, NA])


def test_comparisons_with_missing_are_unknown(nums):
    assert same(evaluate(nums, "emp_uop != 10"), [False, False, True, NA, True])
    assert same(evaluate(nums, "emp_uop <= 4"), [False, False, True, NA, True])


def test_in_lists_and_list_parameters():
    df = blank_data(4)
    df["entity_type"] = pd.Categorical(
        ["CIS", "STOW", None, "WTZ"], categories=sorted(df["entity_type"].cat.categories)
    )
    assert same(evaluate(df, "entity_type in ['CIS', 'KIS']"), [True, False, NA, False])
    assert same(evaluate(df, 'entity_type not in ["CIS", "KIS",]'), [False, True, NA, True])
    # participant_types = ["CIS", "KIS", "WTZ"] in the default rules
    assert same(evaluate(df, "entity_type in participant_types"), [True, False, NA, True])
    assert same(evaluate(df, "entity_type == 'STOW'"), [False, True, NA, False])


def test_numbers_in_list():
    df = blank_data(3)
    df["emp_uop"] = pd.array([1, 2, NA], dtype="Int64")
    assert same(evaluate(df, "emp_uop in [2, 3, -1]"), [False, True, NA])


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("expr", "match"),
    [
        ("revenue_total > ", r"line 1, column 17: expected a name, number.*found end"),
        ("revenue_total >> 0", r"line 1, column 16: expected a name, number.*found '>'"),
        ("(emp_uop > 0", r"line 1, column 13: expected '\)' closing"),
        ("emp_uop > 0 emp_civil", r"line 1, column 13: expected 'and', 'or'"),
        ("emp_uop = 0", r"line 1, column 9: unexpected '=': expected '=='"),
        ("entity_type == 'CIS", r"line 1, column 16: unterminated string"),
        ("emp_uop in 3", r"line 1, column 12: expected '\[' opening a list"),
        ("emp_uop is 0", r"line 1, column 12: expected 'missing'"),
        ("emp_uop > 0 & emp_civil > 0", r"line 1, column 13: unexpected character '&'"),
        ("", r"line 1, column 1: expected a condition"),
    ],
)
def test_syntax_errors_name_position_and_expectation(tmp_path, expr, match):
    path = flag_file(tmp_path, repr(expr).replace("'", '"') if "'" not in expr else f'"{expr}"')
    with pytest.raises(DataError, match=r"rules\.toml: flag 'x', clause 1 \('when'\): " + match):
        load_rules(path)


def test_multiline_expression_error_on_second_line(tmp_path):
    path = flag_file(tmp_path, '"""emp_uop > 0\n   and (revenue_total > 0"""')
    with pytest.raises(DataError, match=r"flag 'x', clause 1 \('when'\): line 2, column 26"):
        load_rules(path)


@pytest.mark.parametrize(
    ("expr", "match"),
    [
        ('"revenue_totl > 0"', r"line 1, column 1: unknown name 'revenue_totl': expected"),
        ('"runs_dg > 0"', r"line 1, column 9: '>' compares numbers, found a yes/no value"),
        ('"emp_uop and runs_dg"', r"line 1, column 1: 'and' expects yes/no conditions"),
        ('"emp_uop + 1"', r"line 1, column 9: expected a yes/no condition, found a number"),
        ("\"entity_type == 'ZAZZ'\"", r"line 1, column 16: 'ZAZZ' is not a code of entity_type"),
        ("\"entity_type in ['CIS', 3]\"", r"line 1, column 24: list item 3.0 is a number"),
        ('"runs_dg == 1"', r"line 1, column 9: '==' compares values of one kind"),
        ('"not emp_uop"', r"line 1, column 1: 'not' expects a yes/no value, found a number"),
        # a flag cannot use itself
        ('"x"', r"line 1, column 1: unknown name 'x'"),
        ('"participant_types"', r"line 1, column 1: list parameter 'participant_types' can only"),
        ('"emp_uop in emp_civil"', r"line 1, column 12: expected a list parameter after 'in'"),
    ],
)
def test_type_and_name_errors(tmp_path, expr, match):
    text = '[parameters]\nparticipant_types = ["CIS"]\n' + MINIMAL_FLAG.format(when=expr)
    path = write_rules(tmp_path, text)
    with pytest.raises(DataError, match=r"rules\.toml: flag 'x', clause 1 \('when'\): " + match):
        load_rules(path)


def test_flag_used_before_definition_is_unknown(tmp_path):
    text = MINIMAL_FLAG.format(when='"later"') + MINIMAL_FLAG.replace('"x"', '"later"', 1).format(
        when='"emp_uop > 0"'
    )
    with pytest.raises(DataError, match=r"flag 'x', clause 1 .*unknown name 'later'"):
        load_rules(write_rules(tmp_path, text))


def test_error_message_names_the_line_of_the_file(tmp_path):
    # the condition of clause 2 starts on line 13 of the file; the error is on its line 2
    text = MINIMAL_FLAG.format(when='"emp_uop > 0"') + (
        '[[flags.clauses]]\nwhen = """emp_civil > 0\n  or emp_uop >> 1"""\nvalue = true\n'
        'reason = "s"\n'
    )
    assert text.splitlines()[12].startswith('when = """emp_civil')
    with pytest.raises(
        DataError, match=r"flag 'x', clause 2 \('when'\): line 2, column 15: .* \[file line 14\]"
    ):
        load_rules(write_rules(tmp_path, text))


def test_error_message_shows_the_expression_and_a_caret(tmp_path):
    with pytest.raises(DataError, match=r"(?s)column 17.*\n    revenue_total > \n {20}\^"):
        load_rules(flag_file(tmp_path, '"revenue_total > "'))


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (
            ('when_missing = "unknown"', 'when_mising = "unknown"'),
            r"flag 'x': unknown field\(s\) 'when_mising'",
        ),
        (('when_missing = "unknown"\n', ""), r"flag 'x': missing required field 'when_missing'"),
        (
            ('when_missing = "unknown"', 'when_missing = "maybe"'),
            r"flag 'x': when_missing = 'maybe'; expected one of",
        ),
        (
            ("value = true", 'value = "yes"'),
            r"flag 'x', clause 1: value = 'yes'; expected true, false or \"unknown\"",
        ),
        (('reason = "r"\n', ""), r"flag 'x', clause 1: missing required field 'reason'"),
        (
            ("otherwise = false", "otherwise = 0"),
            r"flag 'x': field 'otherwise' has value 0 of the wrong type",
        ),
        (
            ('name = "x"', 'name = "emp_uop"'),
            r"flag 'emp_uop': the name is already used by a column",
        ),
    ],
)
def test_structural_errors(tmp_path, edit, match):
    text = MINIMAL_FLAG.format(when='"emp_uop > 0"').replace(*edit)
    with pytest.raises(DataError, match=r"rules\.toml: " + match):
        load_rules(write_rules(tmp_path, text))


def test_applies_to_must_be_entity_type_codes(tmp_path):
    text = MINIMAL_FLAG.format(when='"emp_uop > 0"').replace(
        "otherwise = false", 'otherwise = false\napplies_to = ["ZAZ", "ZOO"]'
    )
    with pytest.raises(DataError, match=r"flag 'x': applies_to has 'ZOO', not entity_type codes"):
        load_rules(write_rules(tmp_path, text))


def test_parameter_errors(tmp_path):
    text = "[parameters]\nemp_uop = 3\n" + MINIMAL_FLAG.format(when='"emp_uop > 0"')
    with pytest.raises(DataError, match=r"parameter 'emp_uop': clashes with the codebook"):
        load_rules(write_rules(tmp_path, text))
    text = "[parameters]\nmixed = [1, 'a']\n" + MINIMAL_FLAG.format(when='"emp_uop > 0"')
    with pytest.raises(DataError, match=r"parameter 'mixed': value \[1, 'a'\]; expected a number"):
        load_rules(write_rules(tmp_path, text))


def test_check_errors(tmp_path):
    base = MINIMAL_FLAG.format(when='"emp_uop > 0"')
    check = '[[checks]]\nname = "c"\nlabel_pl = "c"\nlabel_en = "c"\nwhen = "emp_uop > "\n'
    with pytest.raises(DataError, match=r"check 'c' \('when'\): line 1, column 11: expected"):
        load_rules(write_rules(tmp_path, base + check))
    check = check.replace("emp_uop > ", "emp_uop > 0") + 'flags = ["nope"]\n'
    with pytest.raises(DataError, match=r"check 'c': flags names 'nope', which is not a flag"):
        load_rules(write_rules(tmp_path, base + check))


def test_file_level_errors(tmp_path):
    with pytest.raises(DataError, match=r"nothere\.toml: cannot read the rule file"):
        load_rules(tmp_path / "nothere.toml")
    with pytest.raises(DataError, match=r"bad\.toml: not valid TOML"):
        load_rules(write_rules(tmp_path, "[[flags]\nname=", "bad.toml"))
    with pytest.raises(DataError, match=r"empty\.toml: expected at least one \[\[flags\]\] table"):
        load_rules(write_rules(tmp_path, "[parameters]\na = 1\n", "empty.toml"))
    with pytest.raises(DataError, match=r"top\.toml: unknown field\(s\) 'flag'"):
        load_rules(write_rules(tmp_path, "[[flag]]\nname='a'\n", "top.toml"))


def test_evaluate_errors():
    df = pd.DataFrame({"emp_uop": pd.array([1], dtype="Int64")})
    with pytest.raises(DataError, match=r"expression 'emp_uop >': line 1, column 10: expected"):
        evaluate(df, "emp_uop >")
    with pytest.raises(DataError, match=r"lack column\(s\) 'emp_civil' that the expression"):
        evaluate(df, "emp_civil > 0")
    bad = pd.DataFrame({"emp_uop": ["3"], "runs_dg": pd.array([1], dtype="Int64")})
    with pytest.raises(DataError, match=r"'emp_uop' has dtype (object|str); expected numbers"):
        evaluate(bad, "emp_uop > 0")
    with pytest.raises(DataError, match=r"column 'runs_dg' has dtype Int64; expected yes/no"):
        evaluate(bad, "runs_dg")


def test_plain_numpy_dtypes_are_accepted():
    df = pd.DataFrame({"emp_uop": np.array([0, 3]), "runs_dg": np.array([True, False])})
    assert same(evaluate(df, "emp_uop > 0 and not runs_dg"), [False, True])
    assert same(evaluate(df, "emp_uop > 0 or runs_dg"), [True, True])


def test_evaluate_can_use_flags_of_a_classified_frame():
    df = blank_data(3)
    df["active"] = bools([True, True, NA])
    df["earning"] = bools([True, False, False])
    assert same(evaluate(df, "active and not earning"), [False, True, NA])


def test_inline_clause_tables_are_accepted(tmp_path):
    text = (
        '[[flags]]\nname = "big"\nlabel_pl = "d"\nlabel_en = "b"\nwhen_missing = "false"\n'
        "otherwise = false\n"
        'clauses = [{when = "emp_uop >= 50", value = true, reason = "large", note = "n"},'
        ' {when = "emp_uop < 50", value = false, reason = "small"}]\n'
    )
    rules = load_rules(write_rules(tmp_path, text))
    assert [c.reason for c in rules.flags[0].clauses] == ["large", "small"]


def test_rules_as_a_table():
    table = load_rules().to_frame()
    rules = load_rules()
    assert len(table) == sum(len(f.clauses) + 1 for f in rules.flags)
    row = table[(table["flag"] == "zaz_rule") & (table["step"] == "2")].iloc[0]
    assert row["when"] == "emp_disabled / emp_uop < zaz_min_disabled_share"
    assert row["applies_to"] == "ZAZ"
    assert row["value"] == "false"


@pytest.mark.parametrize(
    ("expr", "match"),
    [
        ('"emp_uop not 3"', r"line 1, column 13: expected 'in' after 'not'"),
        ('"emp_uop in [-x]"', r"line 1, column 14: expected a number after '-' in the list"),
        ('"emp_uop in [1 2]"', r"line 1, column 15: expected ',' or '\]' in the list"),
        ('"emp_uop in [true]"', r"line 1, column 13: expected a number or a string in the list"),
        ('"-runs_dg"', r"line 1, column 1: '-' expects a number, found a yes/no value"),
        ('"runs_dg in [1]"', r"line 1, column 9: 'in' expects a number or a text/code"),
        ('"runs_dg + 1 > 0"', r"line 1, column 1: '\+' expects numbers, found a yes/no value"),
    ],
)
def test_more_syntax_and_type_errors(tmp_path, expr, match):
    with pytest.raises(DataError, match=r"flag 'x', clause 1 \('when'\): " + match):
        load_rules(flag_file(tmp_path, expr))


FLAG_HEAD = '[[flags]]\nname = "x"\nlabel_pl = "x"\nlabel_en = "x"\nwhen_missing = "unknown"\n'
CLAUSE = '[[flags.clauses]]\nwhen = "emp_uop > 0"\nvalue = true\nreason = "r"\n'


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "parameters = 3\n" + FLAG_HEAD + "otherwise = false\n" + CLAUSE,
            r"\[parameters\] must be a table of name = value",
        ),
        (
            '[parameters]\n"bad name" = 3\n' + FLAG_HEAD + "otherwise = false\n" + CLAUSE,
            r"parameter 'bad name': expected a name of letters",
        ),
        (
            FLAG_HEAD.replace('"x"', '"2x"', 1) + "otherwise = false\n" + CLAUSE,
            r"flag '2x': the name must be letters, digits and '_'",
        ),
        (
            FLAG_HEAD + "otherwise = false\notherwise_reason = 3\n" + CLAUSE,
            r"flag 'x': otherwise_reason must be a string",
        ),
        (
            FLAG_HEAD + 'otherwise = false\napplies_to = "ZAZ"\n' + CLAUSE,
            r"flag 'x': applies_to must be a list of entity_type codes",
        ),
        (
            FLAG_HEAD + "otherwise = false\nclauses = []\n",
            r"flag 'x': expected at least one clause",
        ),
        (
            FLAG_HEAD + "otherwise = false\nclauses = [3]\n",
            r"flag 'x', clause 1: expected a table with when, value, reason",
        ),
        ("flags = [3]\n", r"flag #1: expected a table"),
        (
            FLAG_HEAD
            + "otherwise = false\n"
            + CLAUSE
            + '[[checks]]\nname = "c"\nlabel_pl = "c"\nlabel_en = "c"\nwhen = "emp_uop > 1"\n'
            + '[[checks]]\nname = "c"\nlabel_pl = "c"\nlabel_en = "c"\nwhen = "emp_uop > 2"\n',
            r"check 'c' is defined twice",
        ),
        (
            "checks = [3]\n" + FLAG_HEAD + "otherwise = false\n" + CLAUSE,
            r"check #1: expected a table",
        ),
        (
            FLAG_HEAD
            + "otherwise = false\n"
            + CLAUSE
            + '[[checks]]\nname = "c"\nlabel_pl = "c"\nlabel_en = "c"\n'
            + 'when = "x"\nvariables = "x"\n',
            r"check 'c': variables must be a list of names",
        ),
        (
            FLAG_HEAD
            + "otherwise = false\n"
            + CLAUSE
            + '[[checks]]\nname = "c"\nlabel_pl = "c"\nlabel_en = "c"\nwhen = "x"\n'
            + 'variables = ["revenue"]\n',
            r"check 'c': variables names 'revenue', which is not a codebook variable or flag",
        ),
    ],
)
def test_more_structural_errors(tmp_path, text, match):
    with pytest.raises(DataError, match=r"rules\.toml: " + match):
        load_rules(write_rules(tmp_path, text))


def test_codebook_errors(tmp_path):
    rules = flag_file(tmp_path, '"emp_uop > 0"')
    with pytest.raises(DataError, match=r"nobook\.toml: cannot read the codebook"):
        load_rules(rules, codebook=tmp_path / "nobook.toml")
    book = write_rules(tmp_path, "[[variables]\n", "book.toml")
    with pytest.raises(DataError, match=r"book\.toml: not valid TOML"):
        load_rules(rules, codebook=book)
    book = write_rules(tmp_path, '[[variables]]\nname = "emp_uop"\ntype = "float"\n', "b2.toml")
    with pytest.raises(DataError, match=r"b2\.toml: variable 'emp_uop' has type 'float'; expected"):
        load_rules(rules, codebook=book)
    book = write_rules(tmp_path, '[[variables]]\nname = "emp_uop"\ntype = "integer"\n', "b3.toml")
    assert load_rules(rules, codebook=book).variables == ("emp_uop",)


def test_evaluate_rejects_a_non_string_expression():
    with pytest.raises(DataError, match=r"expected the condition as a string, found 3"):
        evaluate(blank_data(1), 3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[parameters]\nx = nan\n", r"parameter 'x': value nan; a threshold must be a finite"),
        ("[parameters]\nx = [1.0, inf]\n", r"parameter 'x': value \[1\.0, inf\]"),
        ("[parameter]\nx = 1\n", r"unknown field\(s\) 'parameter' \(did you mean 'parameters'\?\)"),
    ],
)
def test_rule_file_typos_and_non_finite_parameters(tmp_path, text, message):
    # issue 15: `nan` thresholds and misspelled tables are errors naming the key
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_rules(path)


@pytest.mark.parametrize(
    ("when", "match"),
    [
        # 150 nested parentheses: Python's own recursion limit would be hit near 120
        ("(" * 150 + "revenue_total > 0" + ")" * 150, "nests parentheses"),
        ("not " * 150 + "revenue_total > 0", "nests parentheses"),
        (" or ".join(["revenue_total > 0"] * 300), "chains more than 200 operators"),
        ("revenue_total > 0 or " + "x" * 20_000, "at most 10,000 are accepted"),
    ],
)
def test_deep_or_long_conditions_are_syntax_errors_not_recursion(tmp_path, when, match):
    with pytest.raises(DataError, match=match):
        load_rules(flag_file(tmp_path, f'"{when}"'))


def test_a_chain_within_the_limit_is_evaluated(tmp_path):
    # 150 'or' terms: within MAX_DEPTH = 200, evaluated without a RecursionError;
    # the hand result: true where any term holds (revenue 7 > 6), false for 0, unknown for NA
    terms = " or ".join(f"revenue_total > {k}" for k in range(6, 156))
    load_rules(flag_file(tmp_path, f'"{terms}"'))  # accepted by the file loader
    data = pd.DataFrame({"revenue_total": pd.array([7.0, 0.0, None], dtype="Float64")})
    out = evaluate(data, terms)
    assert out.tolist() == [True, False, pd.NA]
