"""Hand-made tests of the weighting functions and design methods.

Numbers are hand calculations written out in each test (or R values where said).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import es_survey as es
from es_survey import weighting
from es_survey.errors import CalibrationError, DataError, DesignError
from es_survey.weighting import (
    calibrate_weights,
    logistic_propensity,
    model_matrix,
    poststratify_weights,
    rake_weights,
    trim_weights,
    weights_summary,
)


# ------------------------------------------------------------ post-stratification
def test_poststratify_hand():
    # cell 0: weights 1 + 1 = 2 -> total 10 (x5); cell 1: 2 -> 4 (x2)
    w = np.array([1.0, 1.0, 2.0])
    out = poststratify_weights(w, np.array([0, 0, 1]), np.array([10.0, 4.0]))
    assert out.tolist() == [5.0, 5.0, 4.0]
    assert w.tolist() == [1.0, 1.0, 2.0]  # input untouched


def test_poststratify_matrix_columns_independent():
    w = np.array([[1.0, 2.0], [1.0, 1.0], [2.0, 0.0], [2.0, 4.0]])
    cells = np.array([0, 0, 1, 1])
    out = poststratify_weights(w, cells, np.array([6.0, 8.0]))
    # column 0: cell sums 2, 4 -> x3, x2; column 1: 3, 4 -> x2, x2
    assert out.tolist() == [[3.0, 4.0], [3.0, 2.0], [4.0, 0.0], [4.0, 8.0]]


def test_poststratify_empty_cell_raises_with_table():
    w = np.array([[1.0, 1.0], [1.0, 0.0]])
    with pytest.raises(CalibrationError, match=r"cell\(s\) \['b'\] have a target but zero") as e:
        poststratify_weights(
            w, np.array([0, 1]), np.array([3.0, 4.0]), names=["a", "b"], margin="g"
        )
    table = e.value.table
    assert table["column"].tolist() == [1, 1]
    assert table["achieved"].tolist() == [1.0, 0.0]
    assert table["target"].tolist() == [3.0, 4.0]


def test_poststratify_bad_codes():
    with pytest.raises(DesignError, match=r"codes outside 0\.\.1"):
        poststratify_weights(np.ones(2), np.array([0, 2]), np.array([1.0, 1.0]))
    with pytest.raises(DesignError, match="integer codes"):
        poststratify_weights(np.ones(2), np.array([0.0, 1.0]), np.array([1.0, 1.0]))
    with pytest.raises(DesignError, match="negative values"):
        poststratify_weights(np.array([1.0, -1.0]), np.array([0, 1]), np.array([1.0, 1.0]))


# --------------------------------------------------------------------- raking
def test_rake_hand():
    # after margin a (6, 4): [3, 3, 2, 2]; margin b sums 3 + 2 = 5 and 5: done
    a, b = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    out = rake_weights(np.ones(4), [(a, np.array([6.0, 4.0])), (b, np.array([5.0, 5.0]))])
    np.testing.assert_allclose(out, [3.0, 3.0, 2.0, 2.0], rtol=1e-12)


def test_rake_equals_calibrate_raking_and_matrix():
    rng = np.random.default_rng(3)
    n = 60
    a, b = rng.integers(0, 3, n), rng.integers(0, 2, n)
    w = rng.uniform(1, 3, (n, 2))
    ta, tb = np.array([40.0, 50.0, 30.0]), np.array([70.0, 50.0])
    raked = rake_weights(w, [(a, ta), (b, tb)], epsilon=1e-13, max_iter=500)
    df = pd.DataFrame({"a": a, "b": b})
    X, t, _ = model_matrix(df, {"a": dict(enumerate(ta)), "b": dict(enumerate(tb))})
    cal = calibrate_weights(w, X, t, method="raking", epsilon=1e-13)
    np.testing.assert_allclose(raked, cal, rtol=1e-10)
    for j in range(2):  # column by column gives the same
        np.testing.assert_allclose(
            rake_weights(w[:, j], [(a, ta), (b, tb)], epsilon=1e-13, max_iter=500),
            raked[:, j],
            rtol=1e-12,
        )
    np.testing.assert_allclose(np.bincount(a, raked[:, 1]), ta, rtol=1e-12)


def test_rake_no_convergence_raises_with_table():
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 3, 50), rng.integers(0, 3, 50)
    margins = [(a, np.array([10.0, 20.0, 30.0])), (b, np.array([25.0, 5.0, 30.0]))]
    msg = r"did not converge to epsilon=1e-10 in 1 passes"
    with pytest.raises(CalibrationError, match=msg) as e:
        rake_weights(
            np.ones(50), margins, max_iter=1, names=[("a", ["x", "y", "z"]), ("b", ["u", "v", "w"])]
        )
    table = e.value.table
    assert table["margin"].tolist() == ["a"] * 3 + ["b"] * 3
    assert table["category"].tolist() == ["x", "y", "z", "u", "v", "w"]
    assert table["rel_diff"].max() > 1e-10


def test_rake_zero_weight_category_and_totals_disagree():
    a = np.array([0, 0, 1, 1])
    with pytest.raises(CalibrationError, match="zero sample weight"):
        rake_weights(np.array([1.0, 1.0, 0.0, 0.0]), [(a, np.array([2.0, 2.0]))])
    with pytest.raises(DesignError, match="raking margins have different totals: 0=4, 1=5"):
        rake_weights(np.ones(4), [(a, np.array([2.0, 2.0])), (a, np.array([2.0, 3.0]))])


# ---------------------------------------------------------------- calibration
def test_linear_calibration_hand():
    # X'X = [[3, 6], [6, 14]], T - X'd = (3, 7) -> lambda = (0, 0.5), g = 1 + 0.5 x
    X = np.array([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
    w = calibrate_weights(np.ones(3), X, np.array([6.0, 13.0]))
    np.testing.assert_allclose(w, [1.5, 2.0, 2.5], rtol=1e-14)


def test_raking_single_margin_is_poststratification():
    cells = np.array([0, 0, 1, 1, 1])
    d = np.array([1.0, 2.0, 1.0, 1.0, 3.0])
    X = np.eye(2)[cells]
    t = np.array([6.0, 10.0])
    ps = poststratify_weights(d, cells, t)
    for method in ("linear", "raking"):
        np.testing.assert_allclose(calibrate_weights(d, X, t, method=method), ps, rtol=1e-12)


def test_bounded_calibration_respects_bounds():
    rng = np.random.default_rng(5)
    n = 80
    x = rng.uniform(0, 10, n)
    X = np.column_stack([np.ones(n), x])
    d = np.full(n, 2.0)
    t = np.array([170.0, 170.0 * x.mean() * 1.1])
    for method in ("linear", "raking", "logit"):
        w = calibrate_weights(d, X, t, method=method, bounds=(0.6, 1.6))
        g = w / d
        assert g.min() >= 0.6 - 1e-12 and g.max() <= 1.6 + 1e-12
        np.testing.assert_allclose(X.T @ w, t, rtol=1e-10)


def test_calibration_argument_errors():
    X = np.ones((3, 1))
    with pytest.raises(DesignError, match="method='probit' is not available"):
        calibrate_weights(np.ones(3), X, np.array([3.0]), method="probit")  # type: ignore[arg-type]
    with pytest.raises(DesignError, match="must satisfy lower < 1 < upper"):
        calibrate_weights(np.ones(3), X, np.array([3.0]), bounds=(1.2, 2.0))
    with pytest.raises(DesignError, match="needs finite bounds"):
        calibrate_weights(np.ones(3), X, np.array([3.0]), method="logit")
    with pytest.raises(DesignError, match="targets has shape"):
        calibrate_weights(np.ones(3), X, np.array([3.0, 1.0]))
    with pytest.raises(CalibrationError, match=r"column\(s\) \['b'\] have a target but zero"):
        calibrate_weights(
            np.ones(3), np.array([[1.0, 0], [1, 0], [1, 0]]), np.array([3.0, 1]), labels=["a", "b"]
        )


def test_calibration_infeasible_bounds_table():
    X = np.array([[1.0], [1.0]])
    with pytest.raises(CalibrationError, match="within bounds") as e:
        calibrate_weights(np.ones(2), X, np.array([4.0]), method="linear", bounds=(0.5, 1.5))
    assert e.value.table["achieved"].iloc[0] == pytest.approx(3.0)
    assert e.value.table["target"].iloc[0] == 4.0


# --------------------------------------------------------------- model matrix
def test_model_matrix_collinear_margins_and_errors():
    df = pd.DataFrame({"a": ["x", "y", "y", "x"], "b": [1, 1, 2, 2], "z": [1.0, 2, 3, 5]})
    X, t, labels = model_matrix(df, {"a": {"x": 10, "y": 20}, "b": {"1": 12, "2": 18}, "z": 55})
    assert labels == ["a=x", "a=y", "b=2", "z"]  # b=1 implied: both margins sum to 30
    assert t.tolist() == [10.0, 20.0, 18.0, 55.0]
    assert np.linalg.matrix_rank(X) == 4
    with pytest.raises(DataError, match=r"'a': categories in the data without a total: \['y'\]"):
        model_matrix(df, {"a": {"x": 30}})
    with pytest.raises(DataError, match=r"totals for categories not in the data: \['w'\]"):
        model_matrix(df, {"a": {"x": 10, "y": 20, "w": 1}})
    with pytest.raises(DataError, match="'a' and 'b' have different totals"):
        model_matrix(df, {"a": {"x": 10, "y": 20}, "b": {1: 12, 2: 19}})
    with pytest.raises(DataError, match="'q' is not in the data"):
        model_matrix(df, {"q": 1.0})
    with pytest.raises(DataError, match="is categorical"):
        model_matrix(df, {"a": 3.0})
    with pytest.raises(DesignError, match=r"collinear in the sample: \['z2'\]"):
        model_matrix(df.assign(z2=2 * df["z"]), {"z": 55.0, "z2": 110.0})
    with pytest.raises(DataError, match="has 1 missing values"):
        model_matrix(df.assign(z=[1.0, np.nan, 3, 5]), {"z": 55.0})


# ------------------------------------------------------------------- trimming
def test_trim_preserves_total_and_bounds():
    # excess 3 over 3 units of weight 1 -> each x2
    assert trim_weights(np.array([1.0, 1.0, 1.0, 7.0]), upper=4.0).tolist() == [2, 2, 2, 4]
    rng = np.random.default_rng(2)
    w = rng.lognormal(0, 1, (200, 3))
    out = trim_weights(w, lower=0.5, upper=4.0)
    np.testing.assert_allclose(out.sum(axis=0), w.sum(axis=0), rtol=1e-12)
    assert out.min() >= 0.5 - 1e-12 and out.max() <= 4.0 + 1e-12
    zeros = np.array([0.0, 1.0, 1.0, 6.0])
    assert trim_weights(zeros, lower=0.5, upper=3.0).tolist() == [0.0, 2.5, 2.5, 3.0]


def test_trim_errors():
    with pytest.raises(CalibrationError, match="cannot keep the total"):
        trim_weights(np.array([5.0, 5.0]), upper=4.0)
    with pytest.raises(DesignError, match="trim needs lower= or upper="):
        trim_weights(np.ones(3))
    with pytest.raises(DesignError, match="must be below upper"):
        trim_weights(np.ones(3), lower=2.0, upper=1.0)


def test_weights_summary_hand():
    # n 4, sum 8, sum w^2 = 22: deff = 4 * 22 / 64 = 1.375, n_eff = 32 / 11
    s = weights_summary(np.array([1.0, 1.0, 2.0, 4.0, 0.0]))
    assert s["n"].iloc[0] == 4 and s["n_zero"].iloc[0] == 1
    assert s["deff_kish"].iloc[0] == pytest.approx(1.375)
    assert s["n_eff"].iloc[0] == pytest.approx(32 / 11)
    assert s["cv"].iloc[0] == pytest.approx(np.sqrt(0.375))
    assert s["min"].iloc[0] == 1.0 and s["max"].iloc[0] == 4.0


def test_logistic_propensity_hand():
    # saturated model: fitted = weighted share of 1s per group (2/3 of weight 3 in group 1)
    X = np.column_stack([np.ones(5), [0, 0, 1, 1, 1]])
    p = logistic_propensity(X, np.array([1, 0, 1, 0, 1]), np.array([1.0, 1.0, 1.0, 1.0, 2.0]))
    np.testing.assert_allclose(p, [0.5, 0.5, 0.75, 0.75, 0.75], rtol=1e-8)


# ------------------------------------------------------------- design methods
def _demo() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 40
    return pd.DataFrame(
        {
            "h": np.repeat(["A", "B"], n // 2),
            "g": rng.choice(["x", "y"], n),
            "k": rng.choice(["u", "v", "s"], n),
            "y": rng.normal(10, 3, n),
            "w": np.repeat([3.0, 5.0], n // 2),
        }
    )


def test_design_steps_do_not_modify_input():
    df = _demo()
    before = df.copy()
    d = es.SurveyDesign(df, weights="w", strata="h")
    w0 = d.weights.copy()
    d.poststratify("g", {"x": 80, "y": 80}).rake(
        {"g": {"x": 80, "y": 80}, "k": {"u": 50, "v": 60, "s": 50}}
    ).calibrate({"g": {"x": 80, "y": 80}, "y": 1700.0}).trim(upper=12.0)
    pd.testing.assert_frame_equal(df, before)
    np.testing.assert_array_equal(d.weights, w0)
    assert type(d._engine).__name__ == "TaylorVariance"


def test_domain_by_and_domain_agree_after_calibration():
    d = es.SurveyDesign(_demo(), weights="w", strata="h").calibrate(
        {"g": {"x": 80, "y": 80}, "y": 1700.0}
    )
    by = d.mean("y", by="k").to_frame().set_index("k")
    for k in ("u", "v", "s"):
        one = d.domain(d.data["k"] == k).mean("y").to_frame()
        assert one["se"].iloc[0] == pytest.approx(by.loc[k, "se"], rel=1e-12)
    # the domain totals still sum to the overall total
    tot = d.total("y", by="k").to_frame()["estimate"].sum()
    assert tot == pytest.approx(1700.0, rel=1e-12)


def test_calibrating_again_to_met_totals_changes_nothing():
    d = es.SurveyDesign(_demo(), weights="w", strata="h").poststratify("g", {"x": 70, "y": 90})
    again = d.calibrate({"g": {"x": 70, "y": 90}})
    np.testing.assert_allclose(again.weights, d.weights, rtol=1e-13)
    se1 = d.total("y").to_frame()["se"].iloc[0]
    se2 = again.total("y").to_frame()["se"].iloc[0]
    assert se2 == pytest.approx(se1, rel=1e-10)
    assert len(again._engine.steps) == 2


def test_design_weighting_errors():
    d = es.SurveyDesign(_demo(), weights="w", strata="h")
    with pytest.raises(DesignError, match="poststratify applies to the whole sample"):
        d.domain(d.data["g"] == "x").poststratify("g", {"x": 1})
    with pytest.raises(DataError, match=r"totals for categories not in the data: \['z'\]"):
        d.poststratify("g", {"x": 80, "y": 80, "z": 3})
    with pytest.raises(DesignError, match="margins must be a mapping"):
        d.rake({})
    with pytest.raises(CalibrationError, match="within bounds"):
        d.calibrate({"g": {"x": 10, "y": 300}}, bounds=(0.9, 1.1))


# ---------------------------------------------------------------- nonresponse
def test_adjust_nonresponse_hand():
    # one class, weights 2: R = rows 0, 2 (W 4), NR = row 1 (2), I = row 3 (2), U = row 4 (2)
    # step 1: known W 8 of 10 -> x 1.25: R 2.5 each, NR 2.5, I 2.5, U 0
    # step 2: R x (5 + 2.5) / 5 = 1.5 -> 3.75; NR 0; I keeps 2.5
    df = pd.DataFrame(
        {
            "w": [2.0] * 5,
            "r": [True, False, True, False, False],
            "contact_outcome": [
                "complete",
                "refusal",
                "partial",
                "ineligible_ceased",
                "unknown_eligibility",
            ],
        }
    )
    d = es.SurveyDesign(df, weights="w").adjust_nonresponse("r")
    assert d.weights.tolist() == [3.75, 0.0, 3.75, 2.5, 0.0]
    assert d.weights.sum() == pytest.approx(10.0)


def test_adjust_nonresponse_variance_hand():
    # SRS with replacement (one stratum, no fpc), one class, no ineligibles:
    # t = N_hat * ybar_R; influence z_i = d m + r_i a d (y_i - m), m = ybar_R, a = n / n_R
    y = np.array([3.0, 5.0, 4.0, 0.0, 0.0, 8.0])
    r = np.array([True, True, True, False, False, True])
    d = 2.0
    df = pd.DataFrame({"y": y, "r": r, "w": d})
    des = es.SurveyDesign(df, weights="w").adjust_nonresponse("r", outcome=None)
    est = des.total("y").to_frame()
    m = y[r].mean()
    a = 6 / 4
    z = d * m + r * a * d * (y - m)
    n = 6
    var = n / (n - 1) * ((z - z.mean()) ** 2).sum()
    assert est["estimate"].iloc[0] == pytest.approx(12 * m)
    assert est["se"].iloc[0] == pytest.approx(np.sqrt(var), rel=1e-12)


def test_adjust_nonresponse_classes_and_errors():
    df = pd.DataFrame(
        {
            "w": [1.0] * 6,
            "c": ["a", "a", "a", "b", "b", "b"],
            "r": [True, False, True, False, False, True],
            "contact_outcome": [
                "complete",
                "refusal",
                "complete",
                "non_contact",
                "refusal",
                "complete",
            ],
        }
    )
    d = es.SurveyDesign(df, weights="w")
    assert d.adjust_nonresponse("r", by="c").weights.tolist() == [1.5, 0, 1.5, 0, 0, 3.0]
    bad = df.assign(
        r=[True, False, True, False, False, False],
        contact_outcome=["complete", "refusal", "complete", "non_contact", "refusal", "refusal"],
    )
    with pytest.raises(DesignError, match="class c='b' has eligible nonrespondents but no resp"):
        es.SurveyDesign(bad, weights="w").adjust_nonresponse("r", by="c")
    clash = df.assign(contact_outcome=["refusal"] * 6)
    with pytest.raises(DataError, match="r=True but contact_outcome='refusal'"):
        es.SurveyDesign(clash, weights="w").adjust_nonresponse("r")
    odd = df.assign(
        contact_outcome=["complete", "moved", "complete", "refusal", "refusal", "complete"]
    )
    with pytest.raises(DataError, match="has the value 'moved' at row 1"):
        es.SurveyDesign(odd, weights="w").adjust_nonresponse("r")
    with pytest.raises(DesignError, match=r"either by= .* or model='logit', not both"):
        d.adjust_nonresponse("r", by="c", model="logit", covariates=["w"])
    with pytest.raises(DesignError, match="needs covariates"):
        d.adjust_nonresponse("r", model="logit")
    with pytest.raises(DataError, match="must be boolean"):
        es.SurveyDesign(df.assign(r=1), weights="w").adjust_nonresponse("r")


# ----------------------------------------------------------------- from_frame
def test_from_frame_hand_and_errors():
    frame = pd.DataFrame(
        {
            "id": list("abcdefg"),
            "stratum": ["A"] * 4 + ["B"] * 3,
            "s": [True, True, False, False, True, True, False],
        }
    )
    d = es.SurveyDesign.from_frame(frame, "s")
    assert d.weights.tolist() == [2.0, 2.0, 1.5, 1.5]  # 4/2, 3/2
    assert d.data["frame_N_h"].tolist() == [4, 4, 3, 3]
    sample = pd.DataFrame({"id": ["e", "a", "f", "b"], "y": [1.0, 2.0, 3.0, 4.0]})
    d2 = es.SurveyDesign.from_frame(frame, sample, key="id")
    assert d2.weights.tolist() == [1.5, 2.0, 1.5, 2.0]
    assert d2.total("y").to_frame()["estimate"].iloc[0] == pytest.approx(1.5 * 4 + 2 * 6)
    with pytest.raises(DataError, match="1 sampled units are not in the frame"):
        es.SurveyDesign.from_frame(frame, pd.DataFrame({"id": ["a", "z"]}), key="id")
    with pytest.raises(DataError, match="more than once"):
        es.SurveyDesign.from_frame(frame, pd.DataFrame({"id": ["a", "a"]}), key="id")
    with pytest.raises(DesignError, match=r"stratum 'B' .* has no sampled unit"):
        es.SurveyDesign.from_frame(frame, pd.DataFrame({"id": ["a", "b"]}), key="id")
    with pytest.raises(DesignError, match="must be boolean"):
        es.SurveyDesign.from_frame(frame.assign(s=1), "s")


def test_adjust_nonresponse_ineligible_observed_hand():
    # observed: ineligible row 3 is a unit of known status, unknown row 4 a nonrespondent;
    # one class: known weight 6 of 10 -> x 10/6 on rows 0, 2, 3
    df = pd.DataFrame(
        {
            "w": [2.0] * 5,
            "r": [True, False, True, False, False],
            "contact_outcome": [
                "complete",
                "refusal",
                "partial",
                "ineligible_ceased",
                "unknown_eligibility",
            ],
        }
    )
    d = es.SurveyDesign(df, weights="w")
    w = d.adjust_nonresponse("r", ineligible="observed").weights
    np.testing.assert_allclose(w, [10 / 3, 0, 10 / 3, 10 / 3, 0], rtol=1e-14)
    with pytest.raises(DesignError, match="ineligible='drop' must be 'keep' or 'observed'"):
        d.adjust_nonresponse("r", ineligible="drop")  # type: ignore[arg-type]


def test_nonresponse_variance_in_a_census_stratum_hand():
    # take-all stratum (fpc = n = 6): the design variance is 0, the response phase is not:
    # V = sum_R (1 - phi) (w1 y - w1 m)^2, phi = 4/6, w1 = 1.5, m = mean of respondents
    y = np.array([3.0, 5.0, 4.0, 0.0, 0.0, 8.0])
    r = np.array([True, True, True, False, False, True])
    df = pd.DataFrame({"y": y, "r": r, "w": 1.0, "h": "A", "N": 6})
    d = es.SurveyDesign(df, weights="w", strata="h", fpc="N", lonely_psu="certainty", nest=True)
    est = d.adjust_nonresponse("r", outcome=None).total("y").to_frame()
    m = y[r].mean()
    var = ((1 - 4 / 6) * (1.5 * (y[r] - m)) ** 2).sum()
    assert est["se"].iloc[0] == pytest.approx(np.sqrt(var), rel=1e-12)


def test_poststratify_then_calibrate_variance_by_hand():
    # R's svyrecvar applies the post-stratification residual, then the calibration one;
    # written out with numpy least squares on a with-replacement design (one stratum)
    rng = np.random.default_rng(8)
    n = 30
    df = pd.DataFrame(
        {
            "g": rng.choice(["a", "b", "c"], n),
            "x": rng.uniform(1, 5, n),
            "y": rng.normal(10, 2, n),
            "k": rng.choice(["p", "q"], n),
            "w": rng.uniform(5, 15, n),
        }
    )
    tg = {"a": 110, "b": 100, "c": 90}
    d1 = es.SurveyDesign(df, weights="w").poststratify("g", tg)
    d2 = d1.calibrate({"g": tg, "x": 900.0})
    w0, w1, w2 = df["w"].to_numpy(), d1.weights, d2.weights
    cells = pd.factorize(df["g"])[0]
    dummies = np.eye(3)[cells]
    X = np.column_stack([dummies, df["x"]])

    def se(values):
        z = w2 * values
        v = z / w1  # post-stratification: w0-weighted cell means of z / w1
        b = np.bincount(cells, w0 * v) / np.bincount(cells, w0)
        z = w1 * (v - b[cells])
        v = z / w2  # calibration: regression on X weighted by the post-stratified weights
        coef = np.linalg.lstsq(X * np.sqrt(w1)[:, None], v * np.sqrt(w1), rcond=None)[0]
        z = w2 * (v - X @ coef)
        return np.sqrt(n / (n - 1) * ((z - z.mean()) ** 2).sum())

    y = df["y"].to_numpy()
    assert d2.total("y").se[0] == pytest.approx(se(y), rel=1e-10)
    by = d2.total("y", by="k").to_frame().set_index("k")
    for k in ("p", "q"):
        assert by.loc[k, "se"] == pytest.approx(se(y * (df["k"] == k).to_numpy()), rel=1e-10)


@pytest.mark.parametrize("table", ["unit x domain table", "row by row"])
def test_domain_ses_low_rank_route_equals_dense_route(table, monkeypatch):
    # by= uses the low-rank route (calibration steps, no lonely PSU); domain() of one
    # domain the dense one: three composed steps on a stratified cluster design with fpc
    if table == "row by row":
        monkeypatch.setattr(weighting, "_DENSE_CROSS", 0)
        monkeypatch.setattr(weighting, "_DENSE_MIN", 0)
    rng = np.random.default_rng(4)
    n = 400
    df = pd.DataFrame(
        {
            "h": rng.choice(["A", "B", "C"], n),
            "psu": rng.integers(0, 40, n),
            "g": rng.choice(["a", "b", "c"], n),
            "k": rng.choice(list("pqrst"), n),
            "x": rng.uniform(1, 5, n),
            "y": rng.normal(10, 2, n),
            "w": rng.uniform(5, 15, n),
        }
    )
    df["N"] = df["h"].map({"A": 100, "B": 120, "C": 90})
    tg = {"a": 2000, "b": 1900, "c": 2100}
    d = es.SurveyDesign(df, weights="w", strata="h", psu="psu", fpc="N", nest=True)
    c = (
        d.poststratify("g", tg)
        .rake({"g": tg, "k": {"p": 1200, "q": 1200, "r": 1200, "s": 1200, "t": 1200}})
        .calibrate({"g": tg, "x": 18000.0}, method="raking")
    )
    by = c.ratio("y", "x", by="k").to_frame().set_index("k")
    for k in "pqrst":
        one = c.domain(c.data["k"] == k).ratio("y", "x").se[0]
        assert by.loc[k, "se"] == pytest.approx(one, rel=1e-10)


def test_adjust_nonresponse_needs_the_outcome_column():
    df = pd.DataFrame({"w": [1.0] * 3, "r": [True, False, True]})
    with pytest.raises(DesignError, match="outcome column 'contact_outcome' is not in the data"):
        es.SurveyDesign(df, weights="w").adjust_nonresponse("r")
    w = es.SurveyDesign(df, weights="w").adjust_nonresponse("r", outcome=None).weights
    assert w.tolist() == [1.5, 0.0, 1.5]
