"""Estimators and the Estimate result: invariances, hand calculations, peers' known failures."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
import test_reference_r as ref
from scipy import stats

import es_survey as es
from es_survey.errors import DesignError

COLUMNS = [
    "variable",
    "category",
    "statistic",
    "estimate",
    "se",
    "lower",
    "upper",
    "level",
    "cv",
    "deff",
    "df",
    "n",
]


@pytest.fixture(scope="module")
def clus1() -> tuple[pd.DataFrame, es.SurveyDesign]:
    df = pd.read_csv(ref.REF / "apiclus1.csv")
    return df, es.SurveyDesign(df, psu="dnum", weights="pw", fpc="fpc")


@pytest.fixture(scope="module")
def strat() -> tuple[pd.DataFrame, es.SurveyDesign]:
    df = pd.read_csv(ref.REF / "apistrat.csv")
    return df, es.SurveyDesign(df, strata="stype", weights="pw", fpc="fpc")


# ------------------------------------------------------------------ invariances
def test_domain_mean_three_routes_agree(clus1: tuple[pd.DataFrame, es.SurveyDesign]) -> None:
    # As R's own tests: svyby mean, subset() mean and svyratio with the domain
    # indicator give the same estimate and SE.
    df, d = clus1
    by = d.mean("api00", by="stype").to_frame().set_index("stype")
    ratio_df = df.assign(
        e=(df["stype"] == "E").astype(float), ye=df["api00"] * (df["stype"] == "E")
    )
    d_ratio = es.SurveyDesign(ratio_df, psu="dnum", weights="pw", fpc="fpc")
    via_domain = d.domain(df["stype"] == "E").mean("api00").to_frame().iloc[0]
    via_ratio = d_ratio.ratio("ye", "e").to_frame().iloc[0]
    for other in (via_domain, via_ratio):
        assert other["estimate"] == pytest.approx(by.loc["E", "estimate"], rel=1e-12)
        assert other["se"] == pytest.approx(by.loc["E", "se"], rel=1e-12)
    assert via_domain["df"] == by.loc["E", "df"]


def test_domain_totals_sum_to_the_total(clus1: tuple[pd.DataFrame, es.SurveyDesign]) -> None:
    _, d = clus1
    parts = d.total("enroll", by="stype").estimate
    assert parts.sum() == pytest.approx(d.total("enroll").estimate[0], rel=1e-12)
    # category totals sum to the estimated population size (sum of weights)
    assert d.total("stype").estimate.sum() == pytest.approx(d.weights.sum(), rel=1e-12)


def test_na_rm_is_a_domain_not_dropped_rows(clus1: tuple[pd.DataFrame, es.SurveyDesign]) -> None:
    # Known failure 1: dropping the rows with missing values can remove whole PSUs,
    # changing n_h and the SE; na_rm=True keeps every PSU, as R's na.rm (checked
    # against R in test_reference_r: clus1_mean_avged_narm, *_acsk3_narm).
    df, d = clus1
    ours = d.mean("avg.ed", na_rm=True)
    as_domain = d.domain(df["avg.ed"].notna()).mean("avg.ed")
    assert ours.se[0] == pytest.approx(as_domain.se[0], rel=1e-12)
    assert ours.df[0] == as_domain.df[0]
    # Two strata of 3 PSUs; the third PSU of stratum a has only missing values.
    small = pd.DataFrame(
        {
            "h": ["a"] * 6 + ["b"] * 6,
            "p": [1, 1, 2, 2, 3, 3] * 2,
            "w": 2.0,
            "y": [1.0, 2.0, 4.0, 6.0, np.nan, np.nan, 3.0, 5.0, 2.0, 2.0, 7.0, 9.0],
        }
    )
    spec = {"strata": "h", "psu": "p", "weights": "w", "nest": True}
    kept = es.SurveyDesign(small, **spec).total("y", na_rm=True)
    dropped = es.SurveyDesign(small.dropna(), **spec).total("y")
    # By hand: PSU totals a: 6, 20, 0 (kept, n_a = 3) versus 6, 20 (dropped, n_a = 2);
    # b: 16, 8, 32. V = sum_h n_h/(n_h-1) sum (z - zbar)^2.
    za, zb = np.array([6.0, 20.0, 0.0]), np.array([16.0, 8.0, 32.0])
    v_b = 1.5 * ((zb - zb.mean()) ** 2).sum()
    v_kept = 1.5 * ((za - za.mean()) ** 2).sum() + v_b
    v_dropped = 2.0 * ((za[:2] - za[:2].mean()) ** 2).sum() + v_b
    assert kept.se[0] == pytest.approx(np.sqrt(v_kept), rel=1e-12)
    assert dropped.se[0] == pytest.approx(np.sqrt(v_dropped), rel=1e-12)
    assert kept.df[0] == 3  # PSUs with non-missing rows (5) - strata (2)


def test_missing_values_without_na_rm_name_variable_and_count(
    clus1: tuple[pd.DataFrame, es.SurveyDesign],
) -> None:
    _, d = clus1
    with pytest.raises(
        DesignError,
        match=r"variable 'avg.ed' has 26 missing values among the "
        r"rows being estimated; pass na_rm=True",
    ):
        d.mean("avg.ed")
    with pytest.raises(DesignError, match=r"variable 'acs.k3' has 39 missing values"):
        d.total(["api00", "acs.k3"], by="stype")


def test_domain_df_are_the_domains_own(clus1: tuple[pd.DataFrame, es.SurveyDesign]) -> None:
    # Known failure 2: a small domain gets its own (smaller) degrees of freedom.
    # R: degf(subset(dclus1, stype == "H")) = 7 while degf(dclus1) = 14
    # (tests/reference/r_reference.json, clus1_mean_api00_by_stype).
    _, d = clus1
    frame = d.mean("api00", by="stype").to_frame().set_index("stype")
    assert frame.loc["H", "df"] == 7
    assert d.df == 14
    t = stats.t.ppf(0.975, 7)
    row = frame.loc["H"]
    assert row["upper"] - row["estimate"] == pytest.approx(t * row["se"], rel=1e-12)


def test_zero_estimate_domain_has_nan_cv_and_no_warning() -> None:
    # Known failure 8: a zero total is a legitimate answer; CV is NaN, never a crash.
    df = pd.DataFrame(
        {
            "h": ["a", "a", "b", "b"],
            "g": ["x", "y", "x", "y"],
            "y": [0.0, 2.0, 0.0, 5.0],
            "w": [1.0, 2.0, 3.0, 4.0],
        }
    )
    d = es.SurveyDesign(df, strata="h", weights="w")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = d.total("y", by="g").to_frame()
        repr(d.total("y", by="g"))
    x = frame.set_index("g").loc["x"]
    assert x["estimate"] == 0 and np.isnan(x["cv"])
    assert frame.set_index("g").loc["y", "cv"] == pytest.approx(
        frame.set_index("g").loc["y", "se"] / 24.0, rel=1e-12
    )


# ------------------------------------------------------------ hand calculations
def _srs(k: int, n: int) -> es.SurveyDesign:
    return es.SurveyDesign(pd.DataFrame({"f": [1] * k + [0] * (n - k), "w": 1.0}), weights="w")


def test_wilson_interval_hand_calculation() -> None:
    # Equal weights, 3 of 10, with replacement: se^2 = p(1-p)/(n-1), so n_eff = 9.
    # Wilson with z = qnorm(0.975):
    #   (p + z^2/(2 n) -/+ z/(2 n) sqrt(4 n p (1-p) + z^2)) / (1 + z^2/n), n = 9.
    est = _srs(3, 10).proportion("f", method="wilson", df=np.inf)
    p, n, z = 0.3, 9.0, 1.959963984540054
    centre = p + z * z / (2 * n)
    half = z / (2 * n) * np.sqrt(4 * n * p * (1 - p) + z * z)
    frame = est.to_frame().iloc[0]
    assert frame["se"] == pytest.approx(np.sqrt(0.21 / 9), rel=1e-12)
    assert frame["lower"] == pytest.approx((centre - half) / (1 + z * z / n), rel=1e-12)
    assert frame["upper"] == pytest.approx((centre + half) / (1 + z * z / n), rel=1e-12)


def test_beta_interval_is_clopper_pearson_for_srs() -> None:
    # With replacement and equal weights, n_eff (t-adjusted on df = n - 1) = n - 1 ... the
    # Korn-Graubard interval is Clopper-Pearson on n_eff = (n - 1) * (t_{n-1}/t_{n-1})^2.
    est = _srs(3, 10).proportion("f", method="beta")
    n_eff, p = 9.0, 0.3
    lower = stats.beta.ppf(0.025, n_eff * p, n_eff * (1 - p) + 1)
    upper = stats.beta.ppf(0.975, n_eff * p + 1, n_eff * (1 - p))
    frame = est.to_frame().iloc[0]
    assert frame["lower"] == pytest.approx(lower, rel=1e-12)
    assert frame["upper"] == pytest.approx(upper, rel=1e-12)


def test_log_interval_for_totals() -> None:
    df = pd.DataFrame({"h": ["a", "a", "b", "b"], "y": [1.0, 3.0, 2.0, 6.0], "w": 2.0})
    d = es.SurveyDesign(df, strata="h", weights="w")
    est = d.total("y", interval="log")
    total, se = est.estimate[0], est.se[0]
    # exp(log(T) -/+ t_df se / T), df = 4 PSUs - 2 strata
    t = stats.t.ppf(0.975, 2)
    frame = est.to_frame().iloc[0]
    assert total == 24.0
    assert frame["lower"] == pytest.approx(np.exp(np.log(24.0) - t * se / 24.0), rel=1e-12)
    assert frame["upper"] == pytest.approx(np.exp(np.log(24.0) + t * se / 24.0), rel=1e-12)


def test_confint_recomputes_at_any_level(strat: tuple[pd.DataFrame, es.SurveyDesign]) -> None:
    _, d = strat
    est = d.mean("api00", by="stype")
    ci = est.confint(0.9)
    t = stats.t.ppf(0.95, est.df)
    np.testing.assert_allclose(ci["upper"], est.estimate + t * est.se, rtol=1e-12)
    assert list(ci.columns) == ["stype", "variable", "category", "statistic", "lower", "upper"]
    assert (est.to_frame(level=0.9)["level"] == 0.9).all()


def test_boolean_and_zero_one_columns_are_counts_and_shares() -> None:
    df = pd.DataFrame({"b": [True, False, True, True], "w": [1.0, 2.0, 3.0, 4.0]})
    d = es.SurveyDesign(df, weights="w")
    assert d.total("b").estimate[0] == 8.0
    assert d.mean("b").estimate[0] == pytest.approx(0.8)
    assert d.proportion("b").to_frame()["category"].tolist() == [""]


def test_text_and_categorical_give_one_row_per_category() -> None:
    df = pd.DataFrame(
        {
            "t": ["b", "a", "b", "c"],
            "w": [1.0, 1.0, 2.0, 4.0],
            "c": pd.Categorical(["lo", "hi", "hi", "lo"], categories=["lo", "hi", "none"]),
        }
    )
    d = es.SurveyDesign(df, weights="w")
    assert d.total("t").to_frame()["category"].tolist() == ["a", "b", "c"]
    frame = d.proportion("c").to_frame()
    assert frame["category"].tolist() == ["lo", "hi", "none"]
    np.testing.assert_allclose(frame["estimate"], [5 / 8, 3 / 8, 0.0])


def test_several_by_columns_sorted(strat: tuple[pd.DataFrame, es.SurveyDesign]) -> None:
    _, d = strat
    frame = d.total("enroll", by=["stype", "sch.wide"]).to_frame()
    assert list(zip(frame["stype"], frame["sch.wide"], strict=True)) == [
        ("E", "No"),
        ("E", "Yes"),
        ("H", "No"),
        ("H", "Yes"),
        ("M", "No"),
        ("M", "Yes"),
    ]
    assert list(frame.columns) == ["stype", "sch.wide", *COLUMNS]


def test_quantile_rule_and_domain(strat: tuple[pd.DataFrame, es.SurveyDesign]) -> None:
    # qrule "math": the smallest x with weighted CDF >= q.
    df = pd.DataFrame({"y": [5.0, 1.0, 3.0, 2.0, 4.0], "w": [1.0, 1.0, 1.0, 1.0, 6.0]})
    est = es.SurveyDesign(df, weights="w").quantile("y", [0.1, 0.3, 0.5])
    # sorted y 1 2 3 4 5 with weights 1 1 1 6 1 of 10: CDF .1 .2 .3 .9 1
    assert est.estimate.tolist() == [1.0, 3.0, 4.0]
    assert est.to_frame()["category"].tolist() == ["0.1", "0.3", "0.5"]
    assert np.isnan(est.deff).all()


def test_quantile_below_the_first_weight_share_is_the_smallest_value() -> None:
    # Five equal weights: F(10) = 0.2, so every q <= 0.2 gives 10 (the documented rule
    # "smallest x with F(x) >= q"). R survey 4.1.1's qrule_math gives 20 for q = 0.1
    # (its position search steps past the first value): es_survey does not follow it.
    df = pd.DataFrame({"y": [30.0, 10.0, 50.0, 20.0, 40.0], "w": [1.0] * 5})
    q = [0.0, 0.05, 0.1, 0.2, 0.21, 0.4, 0.41, 1.0]
    est = es.SurveyDesign(df, weights="w").quantile("y", q)
    assert est.estimate.tolist() == [10.0, 10.0, 10.0, 10.0, 20.0, 20.0, 30.0, 50.0]
    assert (np.diff(est.estimate) >= 0).all()


def test_constant_variable_has_exact_zero_se_and_no_deff() -> None:
    # A constant within every domain: mean = the constant, SE exactly 0, deff 0/0 = NaN.
    rng = np.random.default_rng(7)
    df = pd.DataFrame(
        {"h": np.repeat(["a", "b", "c"], 30), "y": 0.1, "w": rng.uniform(1.0, 9.0, 90)}
    )
    d = es.SurveyDesign(df, weights="w", strata="h")
    for by in (None, "h"):
        est = d.mean("y", by=by)
        assert (est.estimate == 0.1).all()
        assert (est.se == 0.0).all()
        assert np.isnan(est.deff).all()
    assert (d.replicate("JKn").mean("y").se == 0.0).all()


@pytest.mark.parametrize("method", ["logit", "beta", "wilson", "wald"])
def test_proportion_of_exactly_one_or_zero_has_a_degenerate_interval(method: str) -> None:
    # All units in domain a have the flag, none in b: p = 1 and 0 with SE 0, interval
    # [1, 1] and [0, 0] (R's svyciprop gives [1, 1] for the logit method), never NaN.
    df = pd.DataFrame(
        {"g": ["a"] * 4 + ["b"] * 4, "f": [True] * 4 + [False] * 4, "w": [1.0, 2.0, 3.0, 4.0] * 2}
    )
    est = es.SurveyDesign(df, weights="w").proportion("f", by="g", method=method)
    frame = est.to_frame()
    assert frame["estimate"].tolist() == [1.0, 0.0]
    assert frame["se"].tolist() == [0.0, 0.0]
    assert frame["lower"].tolist() == [1.0, 0.0] and frame["upper"].tolist() == [1.0, 0.0]


# ---------------------------------------------------------------- the result
def test_to_frame_columns_and_types(strat: tuple[pd.DataFrame, es.SurveyDesign]) -> None:
    _, d = strat
    frame = d.total("enroll").to_frame()
    assert list(frame.columns) == COLUMNS
    assert frame["n"].dtype == np.int64
    assert frame["n"].iloc[0] == 200


def test_estimate_is_immutable_and_deterministic(
    strat: tuple[pd.DataFrame, es.SurveyDesign],
) -> None:
    df, d = strat
    before = df.copy()
    est = d.mean("api00", by="stype")
    with pytest.raises(dataclasses.FrozenInstanceError):
        est.level = 0.9  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        est.estimate[0] = 0.0
    frame = est.to_frame()
    frame.loc[0, "estimate"] = -1.0  # a copy
    assert est.estimate[0] > 0
    # Known failure 10: reusing the design gives the same answer every time.
    again = d.mean("api00", by="stype").to_frame()
    pd.testing.assert_frame_equal(est.to_frame(), again)
    pd.testing.assert_frame_equal(df, before)


def test_repr_and_html(strat: tuple[pd.DataFrame, es.SurveyDesign]) -> None:
    _, d = strat
    est = d.mean("api00", by="stype")
    text = repr(est)
    assert text.splitlines()[0] == "Estimate (mean; 3 rows; 95% intervals)"
    assert "674.43" in text
    html = est._repr_html_()
    assert "<table" in html and "674.43" in html


def test_contrast_forms_and_errors(clus1: tuple[pd.DataFrame, es.SurveyDesign]) -> None:
    _, d = clus1
    est = d.mean("api00", by="stype")
    by_dict = est.contrast({"E": 1, "H": -1}).to_frame().iloc[0]
    by_list = est.contrast([1, -1, 0]).to_frame().iloc[0]
    assert by_dict["estimate"] == by_list["estimate"]
    assert by_dict["se"] == by_list["se"]
    assert by_dict["category"] == "E - H"
    with pytest.raises(DesignError, match=r"contrast label 'X' is not a row of this estimate"):
        est.contrast({"X": 1})
    with pytest.raises(DesignError, match=r"contrast has 2 coefficients but the estimate has 3"):
        est.contrast([1, -1])
    with pytest.raises(DesignError, match=r"quantiles are not smooth functions of totals"):
        d.quantile("api00", 0.5, by="stype").contrast({"E": 1, "H": -1})


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda d: d.total("api00", interval="boot"), r"interval='boot' is not available"),
        (lambda d: d.proportion("sw", method="exact"), r"method='exact' is not available"),
        (lambda d: d.proportion("api00"), r"proportion\(\) of 'api00' needs a boolean, 0/1"),
        (lambda d: d.mean("api00", level=95), r"level=95 must be a number between 0 and 1"),
        (lambda d: d.quantile("api00", 1.5), r"q=1.5 must be probabilities between 0 and 1"),
        (lambda d: d.ratio("stype", "api99"), r"variable 'stype' has dtype (object|str) but this"),
        (lambda d: d.mean("nope"), r"variable 'nope' is not in the data; available columns"),
        (lambda d: d.mean("api00", by="nope"), r"by column 'nope' is not in the data"),
        (lambda d: d.mean([]), r"no variable given"),
    ],
)
def test_argument_errors(
    strat: tuple[pd.DataFrame, es.SurveyDesign], call: object, message: str
) -> None:
    # Known failure 6: an option either takes effect or raises.
    _, d = strat
    with pytest.raises(DesignError, match=message):
        call(d)  # type: ignore[operator]


def test_by_column_with_missing_values() -> None:
    df = pd.DataFrame({"g": ["a", None, "b", "b"], "y": [1.0, 2.0, 3.0, 4.0], "w": 1.0})
    d = es.SurveyDesign(df, weights="w")
    with pytest.raises(DesignError, match=r"by column 'g' has 1 missing values"):
        d.total("y", by="g")
    # Leaving them out with domain() is the explicit route.
    assert d.domain(df["g"].notna()).total("y", by="g").estimate.tolist() == [1.0, 7.0]


def test_normal_intervals_with_infinite_df(strat: tuple[pd.DataFrame, es.SurveyDesign]) -> None:
    _, d = strat
    est = d.total("enroll", df=np.inf)
    frame = est.to_frame().iloc[0]
    assert frame["df"] == np.inf
    assert frame["upper"] == pytest.approx(
        frame["estimate"] + 1.959963984540054 * frame["se"], rel=1e-12
    )
