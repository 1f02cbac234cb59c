"""The sector funnel: against R's svycontrast, and against the demo population's truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import es_survey as es
from es_survey.errors import DesignError
from es_survey.funnel import sector_funnel, survey_frame

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    df = pd.read_csv(REF / "funnel_small.csv")
    return df.assign(
        eligible=df["eligible"].astype(bool),
        active=df["active"].astype("boolean"),
        employing=df["employing"].astype("boolean"),
    )


def test_matches_r_svycontrast_overall_and_by_domain(small):
    # R: tests/reference/make_reference_funnel.R — svycontrast(svytotal(...),
    # quote(eligible * y / d)) on svydesign(id=~1, strata=~h, fpc=~N), and on subset().
    ref = pd.DataFrame(json.loads((REF / "r_funnel.json").read_text())["rows"])
    design = es.SurveyDesign(small, strata="h", fpc="N")
    overall = sector_funnel(design, stages=["active", "employing"]).to_frame()
    by = sector_funnel(design, by="g", stages=["active", "employing"]).to_frame()
    for row in ref.itertuples():
        table = overall if row.domain == "" else by[by["g"] == row.domain]
        got = table[table["stage"] == row.stage].iloc[0]
        assert got["estimate"] == pytest.approx(row.estimate, rel=1e-8)
        assert got["se"] == pytest.approx(row.se, rel=1e-8)
        assert got["df"] == row.df
    assert overall.loc[overall["stage"] == "registered", "estimate"].item() == pytest.approx(70)
    assert overall.loc[overall["stage"] == "registered", "se"].item() == pytest.approx(0, abs=1e-9)


def test_hand_calculation_of_the_active_stage(small):
    # Weights: a 40/5 = 8, b 20/6, c 10/3. Eligible: a 4*8 = 32, b 5*20/6, c 3*10/3.
    w = {"a": 8.0, "b": 20 / 6, "c": 10 / 3}
    t_e = 4 * w["a"] + 5 * w["b"] + 3 * w["c"]
    # Decided eligible units and active ones: a 4 of which 3 active; b 4 (one NA) of
    # which 3 active; c 3 of which 2 active.
    t_d = 4 * w["a"] + 4 * w["b"] + 3 * w["c"]
    t_y = 3 * w["a"] + 3 * w["b"] + 2 * w["c"]
    f = sector_funnel(es.SurveyDesign(small, strata="h", fpc="N"), stages=["active"]).to_frame()
    assert f.loc[f["stage"] == "active", "estimate"].item() == pytest.approx(t_e * t_y / t_d)
    assert f["stage"].tolist() == ["registered", "eligible", "active"]
    assert f.loc[f["stage"] == "active", "n"].item() == 11


def test_errors_name_the_problem(small):
    design = es.SurveyDesign(small, strata="h", fpc="N")
    with pytest.raises(DesignError, match=r"unknown funnel stage\(s\) \['paid'\]"):
        sector_funnel(design, stages=["paid"])
    with pytest.raises(DesignError, match="no flag column 'earning'"):
        sector_funnel(design, stages=["earning"])
    with pytest.raises(DesignError, match="no column 'elig'"):
        sector_funnel(design, eligible="elig")
    undecided = small.assign(active=pd.array([pd.NA] * len(small), dtype="boolean"))
    # eligible units but no decided answer: no estimate (NaN, "not available"), never 0
    none = sector_funnel(es.SurveyDesign(undecided, strata="h", fpc="N"), stages=["active"])
    row = none.to_frame().set_index("stage").loc["active"]
    assert np.isnan(row["estimate"]) and np.isnan(row["se"])


@pytest.fixture(scope="module")
def demo():
    data = es.load_study(ROOT / "data/raw/frame.xlsx", ROOT / "data/raw/responses.xlsx")
    truth = pd.read_csv(ROOT / "data/raw/truth.csv", dtype={"regon": str})
    return survey_frame(data), truth


def test_survey_frame_links_answers_to_the_right_units(demo):
    sf, truth = demo
    merged = sf.merge(truth, on="regon", suffixes=("", "_true"))
    assert len(sf) == len(truth) == len(merged)
    assert sf["responded"].sum() == truth["responded"].sum()
    mistyped = (truth["corruption"] == "regon_mistyped").sum()
    assert sf["has_answers"].sum() == truth["responded"].sum() - mistyped
    clean = merged["has_answers"] & merged["corruption"].isna() & merged["active"].notna()
    assert clean.sum() > 100
    assert (merged.loc[clean, "active"].astype(bool) == merged.loc[clean, "active_true"]).all()


def test_demo_funnel_intervals_cover_the_truth(demo):
    sf, truth = demo
    design = es.SurveyDesign.from_frame(sf, "sampled", strata="stratum")
    adjusted = design.adjust_nonresponse("responded", by="stratum", ineligible="observed")
    funnel = sector_funnel(adjusted).to_frame().set_index("stage")
    assert funnel.loc["registered", "estimate"] == pytest.approx(len(truth))
    true = {
        "active": truth["active"].sum(),
        "earning": (truth["active"] & truth["earning"]).sum(),
        "employing": (truth["active"] & truth["employing"]).sum(),
    }
    for stage, value in true.items():
        assert funnel.loc[stage, "lower"] <= value <= funnel.loc[stage, "upper"], stage
    by_type = sector_funnel(adjusted, by="subregion").to_frame()
    assert set(by_type["subregion"]) == {"kielecki", "sandomiersko-jędrzejowski"}
    sums = by_type.groupby("stage")["estimate"].sum()
    for stage in ("registered", "eligible"):
        assert sums[stage] == pytest.approx(funnel.loc[stage, "estimate"])
    assert np.isfinite(by_type["se"]).all()


def test_population_totals_treat_missing_answers_as_item_nonresponse():
    # 4 eligible units of weight 10; jobs among active: 3, missing, (inactive), 5.
    # Decided: 3, 0, 5 -> mean 8/3; total = 40 * 8/3. Treating the missing answer as
    # 0 would give 80, the biased answer the peers give.
    df = pd.DataFrame(
        {
            "h": ["a"] * 4,
            "N": [40] * 4,
            "eligible": [True] * 4,
            "active": pd.array([True, True, False, True], dtype="boolean"),
            "jobs": [3.0, None, 7.0, 5.0],
        }
    )
    d = es.SurveyDesign(df, strata="h", fpc="N")
    got = es.population_totals(d, "jobs")
    assert got["estimate"].item() == pytest.approx(40 * 8 / 3)
    assert got["n"].item() == 3
    with pytest.raises(DesignError, match="no column 'wages'"):
        es.population_totals(d, "wages")


def test_demo_worker_total_covers_the_truth(demo):
    sf, truth = demo
    sf = sf.assign(workers=sf["emp_uop"].astype("Float64") + sf["emp_civil"].astype("Float64"))
    design = es.SurveyDesign.from_frame(sf, "sampled", strata="stratum")
    adjusted = design.adjust_nonresponse("responded", by="stratum", ineligible="observed")
    got = es.population_totals(adjusted, ["workers", "emp_uop"]).set_index("variable")
    active = truth[truth["active"]]
    for name in ("workers", "emp_uop"):
        assert got.loc[name, "lower"] <= active[name].sum() <= got.loc[name, "upper"], name


# ------------------------------------------- one path: domains, replicates, result
def test_funnel_of_a_domain_equals_the_by_row_of_that_domain(small):
    # Reproduced defect: the funnel's own domain coding ignored domain(mask), so the
    # domain gave 18.148 active entities where by= gave 18.0.
    d = es.SurveyDesign(small, strata="h", fpc="N")
    by = sector_funnel(d, by="g", stages=["active", "employing"]).to_frame()
    for g in small["g"].unique():
        sub = sector_funnel(d.domain(small["g"] == g), stages=["active", "employing"])
        row = by[by["g"] == g].reset_index(drop=True)
        got = sub.to_frame()
        np.testing.assert_allclose(got["estimate"], row["estimate"], rtol=1e-12)
        np.testing.assert_allclose(got["se"], row["se"], rtol=1e-12)
        assert got["df"].tolist() == row["df"].tolist()


def test_funnel_is_an_estimate_with_the_funnel_columns(small):
    f = sector_funnel(es.SurveyDesign(small, strata="h", fpc="N"), stages=["active"])
    assert isinstance(f, es.Estimate)
    assert list(f.to_frame().columns) == list(es.funnel.FUNNEL_COLUMNS)
    assert f.labels["statistic"].eq("funnel").all()
    f.vcov()  # the covariance of the stages is kept (for contrasts between them)
    assert "funnel" in repr(f) and "<table" in f._repr_html_()


def test_funnel_on_replicate_weights(small):
    # Reproduced defect: sector_funnel(replicate_design) raised AttributeError.
    # Without fpc, JKn replicate SEs of totals equal the linearised SEs exactly
    # (the jackknife of a linear statistic); the item-adjusted stages are close.
    w = small["N"] / small.groupby("h")["h"].transform("size")
    d = es.SurveyDesign(small.assign(w=w), strata="h", weights="w")
    lin = sector_funnel(d, stages=["active", "employing"]).to_frame().set_index("stage")
    rep = sector_funnel(d.replicate("JKn"), stages=["active", "employing"])
    rep = rep.to_frame().set_index("stage")
    np.testing.assert_allclose(rep["estimate"], lin["estimate"], rtol=1e-12)
    for stage in ("registered", "eligible"):
        assert rep.loc[stage, "se"] == pytest.approx(lin.loc[stage, "se"], rel=1e-10)
    for stage in ("active", "employing"):
        assert rep.loc[stage, "se"] == pytest.approx(lin.loc[stage, "se"], rel=0.1)


# ------------------------------------------------ counts the register knows (issue 10 §1)
def test_register_counts_are_exact_and_stages_scale_to_them_as_r(small):
    # R: make_reference_funnel.R — svycontrast(svytotal(~one + ...), N * e * y / d / one)
    # within each domain, N the register's count (register_small.csv: 35 x, 25 y).
    ref = json.loads((REF / "r_funnel.json").read_text())
    frame = pd.read_csv(REF / "register_small.csv")
    design = es.SurveyDesign(small, strata="h", fpc="N")
    stages = ["active", "employing"]
    overall = sector_funnel(design, stages=stages, register=frame).to_frame()
    by = sector_funnel(design, by="g", stages=stages, register=frame).to_frame()
    for row in ref["register_rows"]:
        table = overall if row["domain"] == "" else by[by["g"] == row["domain"]]
        got = table[table["stage"] == row["stage"]].iloc[0]
        assert got["estimate"] == pytest.approx(row["estimate"], rel=1e-8)
        assert got["se"] == pytest.approx(row["se"], rel=1e-8)
        assert got["df"] == row["df"]
    registered = by[by["stage"] == "registered"].set_index("g")
    assert registered["estimate"].to_dict() == {"x": 35.0, "y": 25.0}  # exact, from the frame
    assert (registered["se"] == 0).all() and (registered["lower"] == registered["estimate"]).all()
    assert overall.loc[overall["stage"] == "registered", "estimate"].item() == 60.0
    # a Series of counts gives the same; no stage exceeds the register; monotone funnel
    counts = pd.Series({"x": 35, "y": 25})
    same = sector_funnel(design, by="g", stages=stages, register=counts).to_frame()
    pd.testing.assert_frame_equal(same, by)
    for _, table in by.groupby("g"):
        values = table.set_index("stage")["estimate"]
        assert (np.diff(values[["registered", "eligible", "active", "employing"]]) <= 0).all()


def test_register_must_know_every_sampled_domain(small):
    design = es.SurveyDesign(small, strata="h", fpc="N")
    with pytest.raises(DesignError, match="domain 'y' of the sample is not in the register"):
        sector_funnel(design, by="g", stages=["active"], register=pd.Series({"x": 35}))
    with pytest.raises(DesignError, match="register frame has no column"):
        sector_funnel(design, by="g", stages=["active"], register=pd.DataFrame({"h": ["a"]}))


def test_demo_register_counts_and_no_estimate_above_them(demo):
    # On the demo (frame of 632 units): registered rows equal the frame's counts in every
    # domain the frame forms, and no stage estimate exceeds its domain's register count.
    sf, _ = demo
    design = es.SurveyDesign.from_frame(sf, "sampled", strata="stratum")
    adjusted = design.adjust_nonresponse("responded", by="stratum", ineligible="observed")
    for domain in ("entity_type", "powiat_name", "subregion"):
        f = sector_funnel(adjusted, by=domain, register=sf).to_frame()
        reg = f[f["stage"] == "registered"].set_index(domain)["estimate"]
        frame_counts = sf.groupby(domain, observed=True).size()
        assert reg.to_dict() == {k: float(v) for k, v in frame_counts.items() if k in reg}
        merged = f.merge(reg.rename("N_d"), left_on=domain, right_index=True)
        assert not (merged["estimate"] > merged["N_d"] + 1e-9).any(), domain
        for _, table in f.groupby(domain):
            v = table.set_index("stage")["estimate"]
            if v.isna().any():  # no respondent in the domain: only the register count
                assert v.drop("registered").isna().all() and v["registered"] > 0
                continue
            assert v["eligible"] <= v["registered"] and v["active"] <= v["eligible"] + 1e-9
            assert v["earning"] <= v["active"] + 1e-9 and v["employing"] <= v["active"] + 1e-9


def test_followed_up_units_carry_what_the_follow_up_found():
    # issue 13: the demo's frame records a 30% follow-up of the units of unknown status;
    # survey_frame takes their flags from it, and they match the generator's truth
    from pathlib import Path

    raw = Path(__file__).resolve().parents[1] / "data" / "raw"
    units = es.survey_frame(es.load_study(raw / "frame.xlsx", raw / "responses.xlsx"))
    truth = pd.read_csv(raw / "truth.csv", dtype={"regon": str}).set_index("regon")
    followed = units[units["followed_up"].astype("boolean").fillna(False)]
    assert len(followed) == int(truth["followed_up"].sum()) == 56
    assert not followed["status_known"].any() and not followed["responded"].any()
    t = truth.loc[followed["regon"]]
    np.testing.assert_array_equal(followed["active"].to_numpy(bool), t["active"].to_numpy(bool))
    active = t["active"].to_numpy(bool)
    np.testing.assert_array_equal(
        followed["employing"].to_numpy(bool), (t["employing"] & t["active"]).to_numpy(bool)
    )
    # in liquidation or ceased: not eligible; the others are
    gone = t["in_liquidation"].to_numpy(bool) | (
        ~active & (t["inactive_reason"] == "ceased").to_numpy(bool)
    )
    np.testing.assert_array_equal(followed["eligible"].to_numpy(bool), ~gone)
    assert (followed["active_reason"] == "followup").all()


def test_a_followed_up_respondent_is_an_error():
    import dataclasses
    from pathlib import Path

    raw = Path(__file__).resolve().parents[1] / "data" / "raw"
    data = es.load_study(raw / "frame.xlsx", raw / "responses.xlsx")
    frame = data.frame.copy()
    first = frame.index[frame["contact_outcome"].eq("complete").fillna(False)][0]
    frame.loc[first, "followed_up"] = True
    bad = dataclasses.replace(data, frame=frame)
    with pytest.raises(DesignError, match="is marked followed_up but has a known status"):
        es.survey_frame(bad)
