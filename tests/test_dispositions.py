"""Tests of final dispositions, reconciliation and AAPOR rates against hand calculations."""

import numpy as np
import pandas as pd
import pytest

from es_survey.dispositions import (
    assign_dispositions,
    eligibility_rate,
    reconcile,
    response_rates,
)
from es_survey.errors import DataError, DesignError

OUTCOME_CODES = [
    "complete",
    "partial",
    "refusal",
    "non_contact",
    "ineligible_liquidated",
    "ineligible_ceased",
    "ineligible_not_es",
    "unknown_eligibility",
]


def make_frame(counts_by_stratum, not_sampled=0):
    """A frame with the given outcome counts per stratum, plus units not sampled."""
    rows = []
    for stratum, counts in counts_by_stratum.items():
        for outcome, k in counts.items():
            rows += [(stratum, True, outcome)] * k
    rows += [("A", False, None)] * not_sampled
    frame = pd.DataFrame(rows, columns=["stratum", "sampled", "contact_outcome"])
    frame["sampled"] = frame["sampled"].astype("boolean")
    frame["contact_outcome"] = pd.Categorical(frame["contact_outcome"], categories=OUTCOME_CODES)
    frame.insert(0, "regon", [f"{i:09d}" for i in range(len(frame))])
    frame["source_row"] = np.arange(2, len(frame) + 2)
    return frame


# Hand-made study: I=40, P=5, R=10, NC=15, O=0, U=10, ineligible=30 (10 liquidated,
# 15 ceased, 5 not ES), and 50 frame units not sampled. Frame = 160, sample = 110.
OVERALL = {
    "A": {
        "complete": 40,
        "partial": 5,
        "refusal": 10,
        "non_contact": 15,
        "ineligible_liquidated": 10,
        "ineligible_ceased": 15,
        "ineligible_not_es": 5,
        "unknown_eligibility": 10,
    }
}


@pytest.fixture
def frame():
    return make_frame(OVERALL, not_sampled=50)


def test_every_unit_gets_one_disposition(frame):
    before = frame.copy()
    d = assign_dispositions(frame)
    pd.testing.assert_frame_equal(frame, before)  # input unchanged
    assert len(d) == 160
    assert d["disposition"].notna().all()
    counts = d["disposition"].value_counts()
    assert counts.to_dict() == {
        "not_sampled": 50,
        "complete": 40,
        "ineligible": 30,
        "non_contact": 15,
        "refusal": 10,
        "unknown_eligibility": 10,
        "partial": 5,
    }
    assert d["ineligible_reason"].value_counts().to_dict() == {
        "ceased": 15,
        "liquidation": 10,
        "not_es": 5,
    }
    assert d["eligibility"].value_counts().to_dict() == {
        "eligible": 70,
        "ineligible": 30,
        "unknown": 10,
    }
    assert int(d["respondent"].sum()) == 45
    assert d["problem"].isna().all()
    assert d["has_response"].isna().all()  # no responses given


def test_reconcile_identities(frame):
    table = reconcile(assign_dispositions(frame))
    # frame 160 = 160; 160 = 110 + 50; 110 = 40+5+10+15+30+10; 30 = 10+15+5; 45 = 40+5
    assert table["left"].tolist() == [160, 160, 110, 30, 45]
    assert table["right"].tolist() == [160, 160, 110, 30, 45]
    assert (table["difference"] == 0).all()


def test_eligibility_rate_overall(frame):
    e = eligibility_rate(assign_dispositions(frame))
    # e = (I+P+R+NC+O) / (that + ineligible) = 70 / (70 + 30) = 0.7
    assert e[["eligible", "ineligible", "unknown"]].iloc[0].tolist() == [70, 30, 10]
    assert e["e"].iloc[0] == pytest.approx(0.7, rel=1e-12)


def test_response_rates_hand_calculation_with_given_e(frame):
    r = response_rates(assign_dispositions(frame), e=0.8).iloc[0]
    # I=40, P=5, R=10, NC=15, O=0, U=10, e=0.8:
    # (I+P)=45, (R+NC+O)=25, U=10, eU=8
    expected = {
        "RR1": 40 / (45 + 25 + 10),  # 0.5
        "RR2": 45 / (45 + 25 + 10),  # 0.5625
        "RR3": 40 / (45 + 25 + 8),
        "RR4": 45 / (45 + 25 + 8),
        "RR5": 40 / (45 + 25),
        "RR6": 45 / (45 + 25),
        "COOP1": 40 / (45 + 10 + 0),
        "COOP2": 45 / (45 + 10 + 0),
        "COOP3": 40 / (45 + 10),
        "COOP4": 45 / (45 + 10),
        "REF1": 10 / (45 + 25 + 10),
        "REF2": 10 / (45 + 25 + 8),
        "REF3": 10 / (45 + 25),
        "CON1": (45 + 10 + 0) / (45 + 25 + 10),
        "CON2": (45 + 10 + 0) / (45 + 25 + 8),
        "CON3": (45 + 10 + 0) / (45 + 25),
    }
    for name, value in expected.items():
        assert r[name] == pytest.approx(value, rel=1e-12), name
    assert r["RR1"] == pytest.approx(0.5, rel=1e-12)
    assert [r["I"], r["P"], r["R"], r["NC"], r["O"], r["U"], r["ineligible"]] == [
        40,
        5,
        10,
        15,
        0,
        10,
        30,
    ]
    assert r["e"] == 0.8


def test_response_rates_with_estimated_e(frame):
    r = response_rates(assign_dispositions(frame)).iloc[0]
    # e estimated = 70/100 = 0.7, so e*U = 7
    assert r["e"] == pytest.approx(0.7, rel=1e-12)
    assert r["RR3"] == pytest.approx(40 / 77, rel=1e-12)
    assert r["RR4"] == pytest.approx(45 / 77, rel=1e-12)
    assert r["REF2"] == pytest.approx(10 / 77, rel=1e-12)
    assert r["CON2"] == pytest.approx(55 / 77, rel=1e-12)


def test_rates_by_stratum():
    frame = make_frame(
        {
            "A": {
                "complete": 30,
                "partial": 5,
                "refusal": 5,
                "non_contact": 5,
                "ineligible_ceased": 5,
                "unknown_eligibility": 4,
            },
            "B": {
                "complete": 10,
                "refusal": 5,
                "non_contact": 10,
                "ineligible_not_es": 25,
                "unknown_eligibility": 6,
            },
        }
    )
    d = assign_dispositions(frame)
    e = eligibility_rate(d, by="stratum").set_index("stratum")
    # A: 45 eligible, 5 ineligible → 0.9; B: 25 eligible, 25 ineligible → 0.5
    assert e.loc["A", "e"] == pytest.approx(0.9, rel=1e-12)
    assert e.loc["B", "e"] == pytest.approx(0.5, rel=1e-12)
    r = response_rates(d, by="stratum").set_index("stratum")
    # A: RR1 = 30/(35+10+4) = 30/49; RR3 = 30/(35+10+0.9*4) = 30/48.6
    assert r.loc["A", "RR1"] == pytest.approx(30 / 49, rel=1e-12)
    assert r.loc["A", "RR3"] == pytest.approx(30 / 48.6, rel=1e-12)
    assert r.loc["A", "COOP1"] == pytest.approx(30 / 40, rel=1e-12)
    # B: RR1 = 10/(10+15+6) = 10/31; RR3 = 10/(10+15+0.5*6) = 10/28; CON3 = 15/25
    assert r.loc["B", "RR1"] == pytest.approx(10 / 31, rel=1e-12)
    assert r.loc["B", "RR3"] == pytest.approx(10 / 28, rel=1e-12)
    assert r.loc["B", "CON3"] == pytest.approx(15 / 25, rel=1e-12)
    assert r.loc["B", "P"] == 0
    # overall e pools the strata: 70 / 100
    assert eligibility_rate(d)["e"].iloc[0] == pytest.approx(0.7, rel=1e-12)


def test_empty_group_rates_are_nan():
    frame = make_frame({"A": {"ineligible_ceased": 2}, "B": {"complete": 1}})
    r = response_rates(assign_dispositions(frame), by="stratum").set_index("stratum")
    assert np.isnan(r.loc["A", "RR1"])
    assert r.loc["B", "RR1"] == 1.0


def test_responses_contradicting_outcomes_are_reported_and_fail_reconcile():
    frame = make_frame({"A": {"complete": 2, "refusal": 1, "partial": 1}}, not_sampled=1)
    # responses for unit 0 (complete), unit 2 (refusal!) and unit 4 (not sampled!);
    # unit 1 (complete) and unit 3 (partial) have none
    responses = pd.DataFrame({"regon": [frame["regon"][i] for i in (0, 2, 4)]})
    d = assign_dispositions(frame, responses)
    assert d["has_response"].tolist() == [True, False, True, False, True]
    assert d["disposition"].astype(str).tolist() == [
        "complete",
        "complete",
        "refusal",
        "partial",
        "not_sampled",
    ]  # outcomes are kept, not overwritten
    assert d["problem"].tolist() == [
        pd.NA,
        "disposition=complete but no response linked",
        "response linked but disposition=refusal",
        "disposition=partial but no response linked",
        "not sampled but a response is linked",
    ]
    with pytest.raises(
        DataError,
        match=r"do not reconcile: respondents = complete \+ partial: 2 != 3; units with "
        r"contradicting records \(row 3, 4, 5, 6\)",
    ):
        reconcile(d)


def test_responses_consistent_with_outcomes_reconcile():
    frame = make_frame({"A": {"complete": 2, "partial": 1, "non_contact": 2}})
    responses = pd.DataFrame({"regon": frame["regon"][:3]})
    d = assign_dispositions(frame, responses)
    assert d["problem"].isna().all()
    assert reconcile(d)["left"].tolist()[-1] == 3


def test_stray_outcome_for_unsampled_and_missing_outcome_for_sampled():
    frame = pd.DataFrame(
        {
            "sampled": pd.array([False, True], dtype="boolean"),
            "contact_outcome": ["refusal", None],
        }
    )
    d = assign_dispositions(frame)
    assert d["disposition"].astype(str).tolist() == ["not_sampled", "unknown_eligibility"]
    assert d["problem"].tolist() == [
        "not sampled but contact_outcome=refusal",
        "sampled but contact_outcome is missing",
    ]
    reconcile(d)  # counts still add up


def test_reconcile_detects_tampered_counts(frame):
    d = assign_dispositions(frame)
    d.loc[d.index[0], "disposition"] = "refusal"  # a complete turned into a refusal
    d.loc[d.index[-1], "disposition"] = np.nan  # a unit without a disposition
    with pytest.raises(DataError, match=r"frame = sum of all dispositions: 160 != 159"):
        reconcile(d)
    table = reconcile(d, strict=False)
    # the last unit (not sampled) lost its disposition: 160 units, 159 dispositions, and
    # 110 sampled + 49 not sampled = 159; the sample still sums to 110; a complete became
    # a refusal: 45 respondents against complete 39 + partial 5 = 44
    assert table["difference"].tolist() == [1, 1, 0, 0, 1]


def test_missing_group_is_an_error():
    frame = make_frame({"A": {"complete": 2}, "B": {"refusal": 1}})
    frame.loc[1, "stratum"] = None
    with pytest.raises(
        DataError,
        match=r"'stratum' is missing for sampled unit\(s\) "
        r"in row\(s\) 3;",
    ):
        response_rates(assign_dispositions(frame), by="stratum")


@pytest.fixture(scope="module")
def demo():
    from pathlib import Path

    from es_survey.validate import load_study

    raw = Path(__file__).resolve().parents[1] / "data" / "raw"
    study = load_study(raw / "frame.xlsx", raw / "responses.xlsx")
    truth = pd.read_csv(raw / "truth.csv", dtype={"regon": str})
    return study, truth


def test_demo_dispositions_against_synthetic_truth(demo):
    study, truth = demo
    d = assign_dispositions(study.frame, study.responses)
    assert len(d) == len(truth) == 632
    merged = d.merge(
        truth[["regon", "sampled", "contact_outcome", "corruption"]],
        on="regon",
        suffixes=("", "_true"),
    )
    assert (merged["sampled"].astype(bool) == merged["sampled_true"]).all()
    assert (merged["disposition"].astype(str) == "not_sampled").sum() == (~truth["sampled"]).sum()
    # the only contradictions are the completes whose REGON was mistyped in the responses
    flagged = merged.loc[merged["problem"].notna()]
    assert set(flagged["problem"]) == {"disposition=complete but no response linked"}
    mistyped = truth.loc[truth["corruption"] == "regon_mistyped", "regon"]
    assert set(flagged["regon"]) == set(mistyped)
    with pytest.raises(DataError, match=r"respondents = complete \+ partial: 137 != 140"):
        reconcile(d)
    table = reconcile(d, strict=False)
    assert table["difference"].tolist() == [0, 0, 0, 0, -3]


def test_input_errors():
    frame = pd.DataFrame(
        {"sampled": pd.array([True, None], dtype="boolean"), "contact_outcome": ["complete", None]}
    )
    with pytest.raises(DataError, match=r"'sampled' is missing in row\(s\) 1; expected true"):
        assign_dispositions(frame)
    frame = pd.DataFrame({"sampled": [True, True], "contact_outcome": ["complete", "moved"]})
    with pytest.raises(DataError, match=r"'contact_outcome' has value\(s\) 'moved' in row\(s\) 1"):
        assign_dispositions(frame)
    with pytest.raises(DataError, match=r"no column 'contact_outcome'"):
        assign_dispositions(frame.drop(columns="contact_outcome"))
    frame = pd.DataFrame({"sampled": ["tak"], "contact_outcome": ["complete"]})
    with pytest.raises(DataError, match=r"'sampled' has dtype (object|str); expected yes/no"):
        assign_dispositions(frame)
    ok = pd.DataFrame({"sampled": [True], "contact_outcome": ["complete"]})
    with pytest.raises(DataError, match=r"the responses has no key column 'regon'"):
        assign_dispositions(ok.assign(regon="1"), pd.DataFrame({"id": ["1"]}))
    with pytest.raises(DataError, match=r"the frame has no key column 'regon'"):
        assign_dispositions(ok, pd.DataFrame({"regon": ["1"]}))
    d = assign_dispositions(ok)
    with pytest.raises(DesignError, match=r"e = 1.5; expected a number between 0 and 1"):
        response_rates(d, e=1.5)
    with pytest.raises(DesignError, match=r"column\(s\) 'stratum' not in the dispositions"):
        eligibility_rate(d, by="stratum")
    with pytest.raises(DesignError, match=r"reconcile: column\(s\) 'disposition'"):
        reconcile(ok)


def test_weighted_eligibility_and_rates():
    frame = make_frame(
        {
            "A": {"complete": 3, "ineligible_ceased": 1},
            "B": {"complete": 1, "ineligible_not_es": 1, "unknown_eligibility": 1},
        }
    )
    frame["w"] = np.where(frame["stratum"] == "A", 2.0, 10.0)
    d = assign_dispositions(frame)
    # unweighted: e = 4 / (4 + 2)
    assert eligibility_rate(d)["e"].iloc[0] == pytest.approx(4 / 6, rel=1e-12)
    # weighted: eligible = 3*2 + 1*10 = 16, ineligible = 1*2 + 1*10 = 12 → e = 16/28 = 4/7
    e = eligibility_rate(d, weight="w").iloc[0]
    assert [e["eligible"], e["ineligible"], e["unknown"]] == [16.0, 12.0, 10.0]
    assert e["e"] == pytest.approx(4 / 7, rel=1e-12)
    r = response_rates(d, weight="w").iloc[0]
    # RR1 = 16 / (16 + 0 + 10); RR3 = 16 / (16 + (4/7)*10) = 112/152
    assert r["RR1"] == pytest.approx(16 / 26, rel=1e-12)
    assert r["RR3"] == pytest.approx(112 / 152, rel=1e-12)
    # within a stratum the weights are equal, so the weighted rates equal the unweighted
    by_w = response_rates(d, by="stratum", weight="w").set_index("stratum")
    by_u = response_rates(d, by="stratum").set_index("stratum")
    assert by_w.loc["B", "RR3"] == pytest.approx(by_u.loc["B", "RR3"], rel=1e-12)
    frame.loc[0, "w"] = -1.0
    with pytest.raises(DataError, match=r"'w' has non-numeric or negative weights in row\(s\) 2"):
        eligibility_rate(assign_dispositions(frame), weight="w")


def test_rates_by_two_columns():
    frame = make_frame({"A": {"complete": 2, "refusal": 2}, "B": {"complete": 1}})
    frame["type"] = ["X", "Y", "X", "Y", "X"]
    r = response_rates(assign_dispositions(frame), by=["stratum", "type"])
    got = {(a, b): v for a, b, v in zip(r["stratum"], r["type"], r["RR1"], strict=True)}
    # A/X: complete + refusal → 1/2; A/Y: complete + refusal → 1/2; B/X: 1/1
    assert got[("A", "X")] == 0.5 and got[("A", "Y")] == 0.5 and got[("B", "X")] == 1.0
    assert np.isnan(got[("B", "Y")])  # an empty cell is kept, its rate undefined


def test_followup_outcomes_beside_the_fieldwork_disposition():
    # issue 13: the demo follows up 56 units of unknown status; the disposition stays the
    # fieldwork's (refusal, non-contact, ...), the follow-up's finding is beside it
    from pathlib import Path

    import es_survey as es

    raw = Path(__file__).resolve().parents[1] / "data" / "raw"
    data = es.load_study(raw / "frame.xlsx", raw / "responses.xlsx")
    d = es.assign_dispositions(data.frame)
    followed = d[d["followup"].notna()]
    assert len(followed) == 56
    assert set(followed["disposition"].astype(str)) <= {
        "refusal", "non_contact", "unknown_eligibility", "ineligible"
    }  # fmt: skip
    counts = followed["followup"].value_counts()
    # the methodology's follow-up table: 27 active, 6 inactive, 21 ceased, 2 in liquidation
    assert (counts["active"], counts["inactive"], counts["ceased"], counts["liquidation"]) == (
        27, 6, 21, 2,
    )  # fmt: skip
    assert d.loc[d["followup"].isna(), "followup"].shape[0] == len(d) - 56
