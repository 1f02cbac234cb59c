"""Pattern-mixture sensitivity (delta) and R-indicators, by hand and against the funnel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import es_survey as es
from es_survey.errors import DataError, DesignError

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"


def _two_strata() -> tuple[es.SurveyDesign, es.SurveyDesign]:
    # stratum a: N 40, 4 sampled (d = 10), 2 respond (1 active); stratum b: N 30,
    # 3 sampled (d = 10), 2 respond (both active)
    df = pd.DataFrame(
        {
            "h": ["a"] * 4 + ["b"] * 3,
            "N": [40] * 4 + [30] * 3,
            "eligible": True,
            "responded": [True, True, False, False, True, True, False],
            "active": pd.array([True, False, None, None, True, True, None], dtype="boolean"),
            "workers": [5.0, 0.0, np.nan, np.nan, 2.0, 4.0, np.nan],
        }
    )
    before = es.SurveyDesign(df, strata="h", fpc="N")
    return before, before.adjust_nonresponse("responded", by="h", outcome=None)


def test_delta_estimate_by_hand() -> None:
    # adjusted weights: a 10 x 4/2 = 20, b 10 x 3/2 = 15. T_R = sum d y = 10 + 20 = 30;
    # T_NR = sum (w - d) y = 10 x 1 + 5 x 2 = 20; estimate T_R + delta T_NR
    before, after = _two_strata()
    out = es.delta_sensitivity(before, after, "active", deltas=[0.5, 0.75, 1.0])
    np.testing.assert_allclose(out["estimate"], [40.0, 45.0, 50.0], rtol=1e-12)
    assert (out["lower"] <= out["estimate"]).all() and (out["estimate"] <= out["upper"]).all()
    # workers: T_R = 10 x 5 + 10 x 2 + 10 x 4 = 110, T_NR = 10 x 5 + 5 x 6 = 80
    workers = es.delta_sensitivity(before, after, "workers", deltas=[0.5, 1.0])
    np.testing.assert_allclose(workers["estimate"], [150.0, 190.0], rtol=1e-12)


def test_delta_one_is_the_adjusted_funnel() -> None:
    units = es.survey_frame(es.load_study(RAW / "frame.xlsx", RAW / "responses.xlsx"))
    units["workers"] = units["emp_uop"].astype("Float64") + units["emp_civil"].astype("Float64")
    before = es.SurveyDesign.from_frame(units, "sampled", strata="stratum")
    after = before.adjust_nonresponse(
        "responded", model="logit",
        covariates=["statement_filed", "krs_economic", "year_registered"],
        ineligible="observed",
    )  # fmt: skip
    funnel = es.sector_funnel(after).to_frame().set_index("stage")
    totals = es.population_totals(after, "workers").iloc[0]
    for stage in ("active", "earning", "employing"):
        row = es.delta_sensitivity(before, after, stage).iloc[-1]
        assert row["delta"] == 1.0
        assert row["estimate"] == pytest.approx(funnel.loc[stage, "estimate"], rel=1e-10)
        assert row["se"] == pytest.approx(funnel.loc[stage, "se"], rel=1e-8)
    w = es.delta_sensitivity(before, after, "workers")
    assert w["estimate"].iloc[-1] == pytest.approx(totals["estimate"], rel=1e-10)
    assert w["estimate"].is_monotonic_increasing  # fewer active nonrespondents: fewer workers


def test_r_indicator_by_hand() -> None:
    # no covariate: every propensity is the response rate, S = 0, R = 1
    df = pd.DataFrame({"w": [10.0] * 4 + [20.0] * 2, "g": list("aaabbb"),
                       "responded": [True, False, False, True, True, False]})  # fmt: skip
    d = es.SurveyDesign(df, weights="w")
    flat = es.r_indicator(d)
    assert flat["R"] == pytest.approx(1.0) and flat["CV"] == pytest.approx(0.0, abs=1e-12)
    # a category: weighted response rates 10/30 = 1/3 (a) and (10 + 20)/50 = 0.6 (b);
    # mean = (30/3 + 50 x 0.6) / 80 = 0.5, S^2 = (30 (1/3 - m)^2 + 50 (0.6 - m)^2) / 79
    r = es.r_indicator(d, covariates=["g"])
    m = (30 / 3 + 50 * 0.6) / 80
    s = np.sqrt((30 * (1 / 3 - m) ** 2 + 50 * (0.6 - m) ** 2) / 79)
    assert r["mean_propensity"] == pytest.approx(m, rel=1e-8)
    assert r["R"] == pytest.approx(1 - 2 * s, rel=1e-8)
    assert r["CV"] == pytest.approx(s / m, rel=1e-8)


def test_errors() -> None:
    before, after = _two_strata()
    with pytest.raises(DesignError, match=r"deltas=\[0\.0\]: give positive numbers"):
        es.delta_sensitivity(before, after, deltas=[0.0])
    with pytest.raises(DesignError, match="'h' is neither a funnel stage"):
        es.delta_sensitivity(before, after, "h")
    with pytest.raises(DataError, match="covariate 'nope' is not a column"):
        es.r_indicator(before, covariates=["nope"])
