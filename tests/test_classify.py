"""Tests of classify() and consistency_report() with the default rules, on hand-made units."""

from pathlib import Path

import pandas as pd
import pytest

from es_survey.classify import classify, consistency_report
from es_survey.errors import DataError
from es_survey.rules import blank_data

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RULES = (ROOT / "data" / "raw" / "rules.toml").read_text(encoding="utf-8")
NA = pd.NA

# A complete, consistent answer: an association that earns and employs nobody.
BASE = {
    "entity_type": "STOW",
    "in_liquidation": False,
    "active_declared": True,
    "runs_dg": False,
    "runs_odplatna_dpp": False,
    "runs_other_paid": False,
    "emp_uop": 0,
    "emp_uop_fte": 0.0,
    "emp_uop_half_fte": 0,
    "emp_civil": 0,
    "emp_at_risk": 0,
    "emp_disabled": 0,
    "emp_disabled_moderate": 0,
    "participants": NA,
    "revenue_total": 10_000.0,
    "revenue_public": 10_000.0,
    "revenue_private": 0.0,
    "revenue_earned": 0.0,
    "revenue_other": 0.0,
}


def units(*changes):
    """One row per dict of changes to BASE, in codebook dtypes."""
    df = blank_data(len(changes))
    for i, change in enumerate(changes):
        for name, value in {**BASE, **change}.items():
            df.loc[i, name] = value
    return df


def flag(out, name):
    return [None if v is NA else bool(v) for v in out[name].tolist()]


def reasons(out, name):
    return out[f"{name}_reason"].tolist()


def rules_with(tmp_path, old, new):
    assert old in DEFAULT_RULES
    path = tmp_path / "my_rules.toml"
    path.write_text(DEFAULT_RULES.replace(old, new, 1), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- active
ZERO = {"revenue_total": 0.0, "revenue_public": 0.0}  # no revenue, nobody employed


def test_active_clauses():
    df = units(
        {"in_liquidation": True},  # liquidation beats revenue
        {**ZERO, "active_declared": False},  # GUS: no revenue, nobody employed
        {**ZERO, "active_declared": NA},  # GUS decides when activity is not declared
        {},  # revenue > 0
        {**ZERO, "emp_civil": 2},  # civil-law staff
        {**ZERO, "entity_type": "KIS", "participants": 14, "active_declared": NA},
        {"active_declared": False},  # declared inactive, but revenue > 0
        {**ZERO},  # volunteer association that declares activity
    )
    out = classify(df)
    assert flag(out, "active") == [False, False, False, True, True, True, True, True]
    assert reasons(out, "active") == [
        "in_liquidation",
        "no_revenue_no_employment",
        "no_revenue_no_employment",
        "revenue_or_staff",
        "revenue_or_staff",
        "revenue_or_staff",
        "revenue_or_staff",
        "declared_active",
    ]


def test_active_with_missing_answers():
    df = units(
        # revenue and declaration unknown, nobody employed: nothing decides
        {"revenue_total": NA, "active_declared": NA},
        # revenue unknown, nobody employed, but declared active
        {"revenue_total": NA},
        # register silent about liquidation, revenue > 0: might be in liquidation
        {"in_liquidation": NA},
        # register silent, but the GUS clause decides "inactive" either way
        {**ZERO, "in_liquidation": NA, "active_declared": False},
        # revenue unknown but staff on UoP: active whatever the revenue
        {"revenue_total": NA, "emp_uop": 2, "emp_uop_half_fte": 2, "emp_uop_fte": 1.5},
    )
    out = classify(df)
    assert flag(out, "active") == [None, True, None, False, True]
    assert reasons(out, "active") == [
        "missing: active_declared, revenue_total",
        "declared_active",
        "missing: in_liquidation",
        "no_revenue_no_employment",
        "revenue_or_staff",
    ]


SKIPPED = {  # declared inactive: the questionnaire routes past sections D-F
    name: NA for name in BASE if name not in ("entity_type", "in_liquidation", "active_declared")
}


def test_declared_inactive_respondent_routed_past_sections():
    df = units(
        {**SKIPPED, "active_declared": False},
        {**SKIPPED, "active_declared": False, "participants": 0, "emp_civil": 0},
        # declared inactive, but reports staff on UoP: evidence wins
        {**SKIPPED, "active_declared": False, "emp_uop": 3},
        # no declaration and nothing else: nothing can be decided
        {**SKIPPED, "active_declared": NA},
    )
    out = classify(df)
    assert flag(out, "active") == [False, False, True, None]
    assert reasons(out, "active")[:3] == [
        "declared_inactive",
        "declared_inactive",
        "revenue_or_staff",
    ]
    assert flag(out, "earning") == [False, False, None, None]
    assert reasons(out, "earning")[:2] == ["declared_inactive", "declared_inactive"]
    assert flag(out, "employing") == [False, False, True, None]
    assert flag(out, "employing_broad") == [False, False, True, None]
    assert reasons(out, "employing_broad")[:2] == ["declared_inactive", "declared_inactive"]
    assert flag(out, "social_enterprise")[:2] == [False, False]


def test_reported_staff_decides_employing_even_if_activity_is_undetermined():
    # the register and the declaration are silent, revenue unknown: activity undetermined,
    # but 2 employees on UoP were reported, so the unit employs
    df = units(
        {
            "in_liquidation": NA,
            "active_declared": NA,
            "revenue_total": NA,
            "emp_uop": 2,
            "emp_uop_half_fte": 2,
            "emp_uop_fte": 2.0,
        }
    )
    out = classify(df)
    assert flag(out, "active") == [None]
    assert reasons(out, "active") == ["missing: in_liquidation"]
    assert flag(out, "employing") == [True]
    assert reasons(out, "employing") == ["uop_employees"]
    assert flag(out, "employing_broad") == [True]


def test_gus_rule_parameters(tmp_path):
    df = units(ZERO, {**ZERO, "active_declared": NA})
    assert flag(classify(df), "active") == [True, False]
    strict = rules_with(
        tmp_path, "gus_rule_overrides_declaration = false", "gus_rule_overrides_declaration = true"
    )
    out = classify(df, rules=strict)
    assert flag(out, "active") == [False, False]
    assert reasons(out, "active") == ["no_revenue_no_employment"] * 2
    off = rules_with(
        tmp_path, "apply_gus_inactivity_rule = true", "apply_gus_inactivity_rule = false"
    )
    out = classify(df, rules=off)
    assert flag(out, "active") == [True, None]
    assert reasons(out, "active") == ["declared_active", "missing: active_declared"]


def test_when_missing_false_resolves_undetermined(tmp_path):
    df = units({"revenue_total": NA, "active_declared": NA})
    path = rules_with(
        tmp_path,
        'name = "active"\nlabel_pl = "Podmiot aktywny w roku badania"\n'
        'label_en = "Active in the reference year"\nwhen_missing = "unknown"',
        'name = "active"\nlabel_pl = "Podmiot aktywny w roku badania"\n'
        'label_en = "Active in the reference year"\nwhen_missing = "false"',
    )
    out = classify(df, rules=path)
    assert flag(out, "active") == [False]
    assert reasons(out, "active") == ["missing: active_declared, revenue_total (resolved false)"]


# ----------------------------------------------------------------------------- earning
def test_earning():
    df = units(
        {"runs_dg": True},
        {"runs_odplatna_dpp": True},
        {"runs_other_paid": True},
        {"revenue_earned": 500.0},  # nothing ticked, but earned revenue
        {},  # nothing ticked, no earned revenue
        {"revenue_earned": NA},  # nothing ticked, earned revenue unknown
        {"runs_dg": NA, "revenue_earned": 500.0},  # unknown tick, revenue decides
        {"runs_dg": NA, "runs_odplatna_dpp": True},  # true or unknown = true
    )
    out = classify(df)
    assert flag(out, "earning") == [True, True, True, True, False, None, True, True]
    assert reasons(out, "earning") == [
        "declared_paid_activity",
        "declared_paid_activity",
        "declared_paid_activity",
        "earned_revenue",
        "no_paid_activity",
        "missing: revenue_earned",
        "earned_revenue",
        "declared_paid_activity",
    ]


# ----------------------------------------------------------------------------- employing
def test_employing_and_participants():
    df = units(
        {"emp_uop": 3, "emp_uop_half_fte": 3, "emp_uop_fte": 2.5},
        {},
        {"emp_uop": NA},
        # CIS: 12 "employees" = 12 participants → participants reported as employees
        {"entity_type": "CIS", "participants": 12, "emp_uop": 12},
        # CIS with 3 staff and 40 participants: employs (staff), participants not counted
        {"entity_type": "CIS", "participants": 40, "emp_uop": 3},
        # WTZ with 25 participants and no staff on UoP: does not employ
        {"entity_type": "WTZ", "participants": 25, "emp_uop": 0},
        # CIS, participants not reported: staff count is used
        {"entity_type": "CIS", "participants": NA, "emp_uop": 4},
    )
    out = classify(df)
    assert flag(out, "employing") == [True, False, None, None, True, False, True]
    assert reasons(out, "employing") == [
        "uop_employees",
        "no_uop_employees",
        "missing: emp_uop",
        "participants_reported_as_employees",
        "uop_employees",
        "no_uop_employees",
        "uop_employees",
    ]


def test_employing_broad():
    df = units(
        {"emp_civil": 2},
        {"emp_uop": 1},
        {},
        {"emp_civil": NA},
        {"emp_civil": NA, "emp_uop": 1},
        {"entity_type": "KIS", "participants": 8, "emp_uop": 8, "emp_civil": 1},
    )
    out = classify(df)
    assert flag(out, "employing_broad") == [True, True, False, None, True, True]
    assert reasons(out, "employing_broad") == [
        "civil_contracts",
        "uop_employees",
        "no_paid_staff",
        "missing: emp_civil",
        "uop_employees",
        "civil_contracts",
    ]


# ----------------------------------------------------------------------------- social_enterprise
def ps(**change):
    base = {
        "runs_dg": True,
        "emp_uop": 5,
        "emp_uop_half_fte": 4,
        "emp_uop_fte": 4.0,
        "emp_at_risk": 0,
    }
    return {**base, **change}


def test_social_enterprise():
    df = units(
        ps(),  # service type (STOW): earning, 4 employees at >= 1/2 FTE
        ps(emp_uop_half_fte=2),  # only 2 at >= 1/2 FTE (< 3)
        ps(emp_uop=2, emp_uop_half_fte=2, emp_uop_fte=2.0),  # fewer than 3 employees
        ps(runs_dg=False),  # not earning
        ps(entity_type="SS", emp_at_risk=1),  # reintegration type: 1/5 = 20% < 30%
        ps(entity_type="SS", emp_at_risk=2),  # 2/5 = 40% >= 30%
        ps(entity_type="SS", emp_uop=10, emp_uop_half_fte=10, emp_at_risk=3),  # 3/10 = 30%
        ps(entity_type="CIS", participants=20),  # a unit of its founder: not a PS itself
        ps(emp_uop_half_fte=NA),  # half-FTE count unknown
        ps(runs_dg=NA, emp_uop=1, emp_uop_half_fte=1),  # earning unknown, but 1 employee
        ps(entity_type="SS", emp_at_risk=NA),  # at-risk share unknown
    )
    out = classify(df)
    assert flag(out, "social_enterprise") == [
        True,
        False,
        False,
        False,
        False,
        True,
        True,
        False,
        None,
        False,
        None,
    ]
    assert reasons(out, "social_enterprise") == [
        "meets_ps_conditions",
        "too_few_half_fte_employees",
        "too_few_employees",
        "not_earning",
        "at_risk_share_below_min",
        "meets_ps_conditions",
        "meets_ps_conditions",
        "not applicable: entity_type CIS",
        "missing: emp_uop_half_fte",
        "too_few_employees",
        "missing: emp_at_risk",
    ]


def test_threshold_change_in_toml_changes_result(tmp_path):
    df = units(ps(emp_uop_half_fte=2))
    assert flag(classify(df), "social_enterprise") == [False]
    path = rules_with(tmp_path, "ps_min_half_fte_employees = 3", "ps_min_half_fte_employees = 2")
    out = classify(df, rules=path)
    assert flag(out, "social_enterprise") == [True]
    assert reasons(out, "social_enterprise") == ["meets_ps_conditions"]


def test_reintegration_types_are_a_parameter(tmp_path):
    df = units(ps(entity_type="FUND", emp_at_risk=1))  # 20% at risk
    assert flag(classify(df), "social_enterprise") == [True]  # service type by default
    path = rules_with(
        tmp_path, 'ps_reintegration_types = ["SS"]', 'ps_reintegration_types = ["SS", "FUND"]'
    )
    assert reasons(classify(df, rules=path), "social_enterprise") == ["at_risk_share_below_min"]


# ----------------------------------------------------------------------------- zaz_rule
def zaz(**change):
    base = {
        "entity_type": "ZAZ",
        "runs_dg": True,
        "emp_uop": 10,
        "emp_uop_half_fte": 10,
        "emp_uop_fte": 9.0,
        "emp_disabled": 7,
        "emp_disabled_moderate": 3,
    }
    return {**base, **change}


def test_zaz_rule():
    df = units(
        zaz(),  # 7/10 = 70% disabled (boundary), 3/10 moderate
        zaz(emp_disabled=6),  # 60% < 70%
        zaz(emp_disabled_moderate=4),  # 40% > 35%
        zaz(emp_uop=20, emp_uop_half_fte=20, emp_disabled=14, emp_disabled_moderate=7),  # 35%
        zaz(
            emp_uop=0, emp_uop_half_fte=0, emp_uop_fte=0.0, emp_disabled=0, emp_disabled_moderate=0
        ),
        zaz(emp_disabled=NA),
        {"entity_type": "STOW"},  # not a ZAZ
    )
    out = classify(df)
    assert flag(out, "zaz_rule") == [True, False, False, True, False, None, None]
    assert reasons(out, "zaz_rule") == [
        "meets_zaz_shares",
        "disabled_share_below_min",
        "moderate_share_above_max",
        "meets_zaz_shares",
        "no_employees",
        "missing: emp_disabled",
        "not applicable: entity_type STOW",
    ]


def test_unknown_entity_type_leaves_typed_flags_undetermined():
    df = units({"entity_type": NA})
    out = classify(df)
    assert flag(out, "zaz_rule") == [None]
    # a ZAZ with no employees fails the rule, any other type is "not applicable" (<NA>)
    assert reasons(out, "zaz_rule") == ["missing: entity_type"]
    # not earning decides social_enterprise = false whatever the type
    assert flag(out, "social_enterprise") == [False]


# ----------------------------------------------------------------------------- classify frame
def test_classify_returns_new_frame_and_keeps_input():
    df = units({}, {"emp_uop": 2})
    df["regon"] = ["123456785", "satellite"]
    before = df.copy()
    out = classify(df)
    pd.testing.assert_frame_equal(df, before)
    assert out is not df
    assert list(out.columns[: len(df.columns)]) == list(df.columns)
    pd.testing.assert_frame_equal(out[df.columns], before)
    added = [c for c in out.columns if c not in df.columns]
    assert added == [
        "active",
        "active_reason",
        "earning",
        "earning_reason",
        "employing",
        "employing_reason",
        "employing_broad",
        "employing_broad_reason",
        "social_enterprise",
        "social_enterprise_reason",
        "zaz_rule",
        "zaz_rule_reason",
    ]
    assert str(out["active"].dtype) == "boolean"
    assert str(out["active_reason"].dtype) == "string"


def test_classify_errors():
    df = units({})
    with pytest.raises(DataError, match=r"already have column\(s\) 'active' that classify adds"):
        classify(df.assign(active=True))
    with pytest.raises(
        DataError,
        match=r"the data lack 1 variable\(s\) that the rules of rules\.toml \(packaged default\) "
        r"use \(flag 'active': revenue_total\); map each to a column of your file in the "
        r"codebook",
    ):
        classify(df.drop(columns="revenue_total"))


def test_every_missing_variable_is_named_at_once_by_flag_and_check():
    df = units({}).drop(columns=["revenue_total", "runs_dg", "emp_uop_fte"])
    with pytest.raises(DataError) as err:
        consistency_report(df)
    text = str(err.value)
    assert text.startswith("the data lack 3 variable(s) that the rules of rules.toml")
    # each flag and check that uses them, in rule order (the default rules, read by hand)
    listed = (
        "(flag 'active': revenue_total; flag 'earning': runs_dg; "
        "check 'declared_inactive_with_revenue': revenue_total; "
        "check 'fte_above_headcount': emp_uop_fte; "
        "check 'no_paid_activity_but_earned_revenue': runs_dg; "
        "check 'revenue_sources_exceed_total': revenue_total)"
    )
    assert listed in text
    assert "optional = true" in text
    with pytest.raises(DataError, match="the data lack 2 variable"):  # flags only
        classify(df)


def test_an_optional_clause_without_its_variable_is_unknown(tmp_path):
    extra = (
        '\n[[flags]]\nname = "has_volunteers"\nlabel_pl = "x"\nlabel_en = "x"\n'
        'when_missing = "unknown"\notherwise = false\notherwise_reason = "none"\n'
        '\n[[flags.clauses]]\nwhen = "in_liquidation"\nvalue = false\nreason = "liquidation"\n'
        '\n[[flags.clauses]]\nwhen = "volunteers > 0"\nvalue = true\nreason = "volunteers"\n'
        "optional = true\n"
    )
    path = tmp_path / "rules.toml"
    path.write_text(DEFAULT_RULES + extra, encoding="utf-8")
    df = units({"in_liquidation": True, "volunteers": 0}, {"volunteers": 0}, {"volunteers": 3})
    with_column = classify(df, rules=path)
    assert flag(with_column, "has_volunteers") == [False, False, True]
    out = classify(df.drop(columns="volunteers"), rules=path)
    # in liquidation: decided before the clause; otherwise the clause might have fired
    # (true) or not (otherwise: false), so the flag is unknown and says why
    assert flag(out, "has_volunteers") == [False, None, None]
    assert reasons(out, "has_volunteers") == [
        "liquidation", "missing: volunteers", "missing: volunteers"
    ]  # fmt: skip
    assert flag(out, "active") == flag(with_column, "active")  # other flags unaffected
    bad = path.read_text(encoding="utf-8").replace("optional = true", 'optional = "yes"')
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(DataError, match=r"clause 2: optional = 'yes'; expected true or false"):
        classify(df, rules=path)


# ----------------------------------------------------------------------------- consistency checks
def report_for(*changes):
    df = units(*changes)
    df["regon"] = [f"R{i}" for i in range(len(df))]
    df["source_row"] = list(range(2, 2 + len(df)))
    return consistency_report(df)


def test_consistent_unit_has_no_report_rows():
    rep = report_for({})
    assert rep.empty
    assert list(rep.columns) == ["regon", "source_row", "check", "variables", "values", "decision"]


def test_check_declared_inactive_with_staff():
    rep = report_for(
        {"active_declared": False, "emp_uop": 2, "emp_uop_half_fte": 2, "emp_uop_fte": 2.0},
        {"active_declared": False, "emp_civil": NA},  # unknown → not reported
    )
    row = rep[rep["check"] == "declared_inactive_with_staff"]
    assert row["regon"].tolist() == ["R0"]
    assert row["source_row"].tolist() == [2]
    assert row["values"].tolist() == ["active_declared=False, emp_uop=2, emp_civil=0"]
    assert row["decision"].tolist() == ["active=True (revenue_or_staff)"]


def test_check_declared_inactive_with_revenue():
    rep = report_for({"active_declared": False}, {"active_declared": True})
    row = rep[rep["check"] == "declared_inactive_with_revenue"]
    assert row["regon"].tolist() == ["R0"]
    assert row["values"].tolist() == ["active_declared=False, revenue_total=10000"]


def test_check_fte_above_headcount():
    rep = report_for(
        {"emp_uop": 2, "emp_uop_half_fte": 2, "emp_uop_fte": 3.5},
        {"emp_uop": 2, "emp_uop_half_fte": 2, "emp_uop_fte": 2.0},  # equal is fine
    )
    assert rep["check"].tolist() == ["fte_above_headcount"]
    assert rep["variables"].tolist() == ["emp_uop_fte, emp_uop"]
    assert rep["decision"].tolist() == ["employing=True (uop_employees)"]


def test_check_half_fte_above_headcount():
    rep = report_for({"emp_uop": 2, "emp_uop_half_fte": 3, "emp_uop_fte": 2.0})
    assert rep["check"].tolist() == ["half_fte_above_headcount"]
    assert rep["decision"].tolist() == ["social_enterprise=False (not_earning)"]


def test_check_subgroup_above_headcount():
    rep = report_for(
        {"emp_uop": 1, "emp_uop_half_fte": 1, "emp_uop_fte": 1.0, "emp_at_risk": 2},
        {
            "emp_uop": 1,
            "emp_uop_half_fte": 1,
            "emp_uop_fte": 1.0,
            "emp_disabled": 1,
            "emp_disabled_moderate": 2,
        },
        {
            "emp_uop": 3,
            "emp_uop_half_fte": 3,
            "emp_uop_fte": 3.0,
            "emp_disabled": 3,
            "emp_disabled_moderate": 3,
            "emp_at_risk": 3,
        },  # consistent
    )
    assert rep["check"].tolist() == ["subgroup_above_headcount"] * 2
    assert rep["regon"].tolist() == ["R0", "R1"]
    assert rep["decision"].iloc[0] == (
        "social_enterprise=False (not_earning); zaz_rule=<NA> (not applicable: entity_type STOW)"
    )


def test_check_no_paid_activity_but_earned_revenue():
    rep = report_for(
        {"revenue_earned": 2_000.0, "revenue_public": 8_000.0},
        {"revenue_earned": 2_000.0, "revenue_public": 8_000.0, "runs_dg": NA},  # not known
        {"revenue_earned": 2_000.0, "revenue_public": 8_000.0, "runs_dg": True},
    )
    assert rep["check"].tolist() == ["no_paid_activity_but_earned_revenue"]
    assert rep["regon"].tolist() == ["R0"]
    assert rep["decision"].tolist() == ["earning=True (earned_revenue)"]


def test_check_participants_reported_as_employees():
    rep = report_for(
        {
            "entity_type": "CIS",
            "participants": 12,
            "emp_uop": 12,
            "emp_uop_half_fte": 12,
            "emp_uop_fte": 12.0,
        },
        {
            "entity_type": "CIS",
            "participants": 12,
            "emp_uop": 3,
            "emp_uop_half_fte": 3,
            "emp_uop_fte": 3.0,
        },
        {
            "entity_type": "FUND",
            "participants": 12,
            "emp_uop": 12,
            "emp_uop_half_fte": 12,
            "emp_uop_fte": 12.0,
        },  # a foundation: participants rule does not apply
    )
    assert rep["check"].tolist() == ["participants_reported_as_employees"]
    assert rep["values"].tolist() == ["entity_type=CIS, emp_uop=12, participants=12"]
    assert rep["decision"].tolist() == [
        "employing=<NA> (participants_reported_as_employees); "
        "employing_broad=<NA> (participants_reported_as_employees)"
    ]


def test_check_revenue_sources_exceed_total():
    rep = report_for(
        {"revenue_private": 5_000.0},  # 10k + 5k > 10k
        {"revenue_public": NA, "revenue_earned": 12_000.0, "runs_dg": True},  # one source > total
        {"revenue_public": 10_000.5},  # within the 1 zł rounding tolerance
        {"revenue_public": NA},  # sum unknown, no single source above total
    )
    assert rep["check"].tolist() == ["revenue_sources_exceed_total"] * 2
    assert rep["regon"].tolist() == ["R0", "R1"]
    assert rep["values"].iloc[0] == (
        "revenue_total=10000, revenue_public=10000, revenue_private=5000, revenue_earned=0, "
        "revenue_other=0"
    )


def test_report_rows_ordered_by_entity_then_check_and_input_unchanged():
    df = units(
        {"active_declared": False, "emp_uop": 2, "emp_uop_half_fte": 2, "emp_uop_fte": 3.0},
        {"revenue_private": 5_000.0},
    )
    before = df.copy()
    rep = consistency_report(df)
    pd.testing.assert_frame_equal(df, before)
    assert rep["check"].tolist() == [
        "declared_inactive_with_staff",
        "declared_inactive_with_revenue",
        "fte_above_headcount",
        "revenue_sources_exceed_total",
    ]
    assert rep.index.tolist() == [0, 0, 0, 1]
    assert rep["regon"].isna().all()  # no regon column in the input


def test_analyst_can_add_a_check(tmp_path):
    extra = (
        '\n[[checks]]\nname = "many_volunteers_no_members"\nlabel_pl = "x"\nlabel_en = "x"\n'
        'when = "emp_uop > 100"\nflags = ["employing"]\n'
    )
    path = tmp_path / "rules.toml"
    path.write_text(DEFAULT_RULES + extra, encoding="utf-8")
    df = units({"emp_uop": 150, "emp_uop_half_fte": 150, "emp_uop_fte": 150.0})
    rep = consistency_report(df, rules=path)
    assert rep["check"].tolist() == ["many_volunteers_no_members"]


# ----------------------------------------------------------------------------- synthetic truth
def truth_answers():
    """The synthetic population's true answers (data/raw/truth.csv) in codebook dtypes."""
    truth = pd.read_csv(ROOT / "data" / "raw" / "truth.csv", dtype={"regon": str})
    answers = truth.drop(columns=["active", "earning", "employing"])
    template = blank_data(0)
    for name in template.columns:
        dtype = template[name].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            answers[name] = pd.Categorical(answers[name], categories=dtype.categories)
        else:
            answers[name] = answers[name].astype(dtype)
    return truth, answers


def test_default_rules_reproduce_synthetic_truth():
    # The generator (es_survey.synth) knows each entity's true status; its true answers
    # are complete and consistent, so the default rules must reproduce every flag.
    truth, answers = truth_answers()
    out = classify(answers)
    for name in ["active", "earning", "employing"]:
        assert out[name].notna().all(), name
        assert (out[name].astype(bool) == truth[name].astype(bool)).all(), name
    assert consistency_report(answers).empty


@pytest.fixture(scope="module")
def demo():
    from es_survey.validate import load_study

    raw = ROOT / "data" / "raw"
    study = load_study(raw / "frame.xlsx", raw / "responses.xlsx")
    linked = study.linked[study.linked["in_frame"].astype(bool)]
    truth = pd.read_csv(ROOT / "data" / "raw" / "truth.csv", dtype={"regon": str})
    return linked, truth


def test_demo_respondents_classified_as_the_truth(demo):
    linked, truth = demo
    out = classify(linked).merge(
        truth[["regon", "active", "earning", "employing", "corruption"]],
        on="regon",
        suffixes=("", "_true"),
    )
    clean = out["corruption"].isna()
    for name in ["active", "earning", "employing"]:
        decided = clean & out[name].notna()
        assert (out.loc[decided, name].astype(bool) == out.loc[decided, f"{name}_true"]).all()
        # undecided only where an answer is missing, never for another reason
        assert out.loc[clean & out[name].isna(), f"{name}_reason"].str.startswith("missing: ").all()
    # every clean respondent's activity is decided
    assert out.loc[clean, "active"].notna().all()


def test_demo_consistency_report_finds_the_planted_contradictions(demo):
    linked, truth = demo
    report = consistency_report(linked)
    planted = truth[
        truth["corruption"].isin(
            [
                "fte_above_headcount",
                "declared_inactive_with_employees",
                "no_paid_activity_with_earned_revenue",
            ]
        )
    ]
    assert set(report["regon"]) == set(planted["regon"])
    found = report.groupby("regon")["check"].agg(set)
    for regon, tag in zip(planted["regon"], planted["corruption"], strict=True):
        expected = {
            "fte_above_headcount": {"fte_above_headcount"},
            "declared_inactive_with_employees": {
                "declared_inactive_with_staff",
                "declared_inactive_with_revenue",
            },
            "no_paid_activity_with_earned_revenue": {"no_paid_activity_but_earned_revenue"},
        }[tag]
        assert found[regon] == expected, regon
