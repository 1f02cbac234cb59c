"""Replicate-weight designs against R's survey package, and known properties.

Reference values: tests/reference/r_weighting.json, written by
tests/reference/make_reference_weighting.R (R survey 4.1.1; the R call is stored
with each case as `r_call`). Every replicate case (ids starting `clus1_jk1`,
`clus1_supplied_jk1`, `strat_jkn`, `stratclus_jkn`, `pairs_brr`, `pairs_fay`,
`clus1_jk1_ps`) is rebuilt with es_survey and compared at rtol=1e-8 (estimate,
se, lower, upper, deff; df exactly).

BRR/Fay: R's Hadamard matrix of order 104 differs from ours, which changes the
replicates but not the SE of a total (any balanced orthogonal set gives the
linearisation variance). So totals are compared with R for the generated
design, and means/ratios/domains are compared through a ReplicateDesign built
from R's own factors (tests/reference/apistrat_pairs_brr.csv, `b1..b104`; Fay
factors 0.3 + 0.7 b, as the script checks).

The bootstrap has no R counterpart replicate by replicate (R's draws differ);
it is checked by its known properties with a fixed rng (see the tests).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import es_survey as es
from es_survey.errors import DataError, DesignError
from es_survey.replicate import ReplicateWarning, hadamard

REF = Path(__file__).parent / "reference"
WEIGHTING = json.loads((REF / "r_weighting.json").read_text())
PREFIXES = (
    "clus1_jk1",
    "clus1_supplied_jk1",
    "strat_jkn",
    "stratclus_jkn",
    "pairs_brr",
    "pairs_fay",
)  # clus1_jk1 includes clus1_jk1_mse and clus1_jk1_ps
CASES = [c for c in WEIGHTING["cases"] if c["id"].startswith(PREFIXES)]
RTOL = 1e-8

_DATA: dict[str, pd.DataFrame] = {}


def _data(name: str) -> pd.DataFrame:
    if name not in _DATA:
        _DATA[name] = pd.read_csv(REF / name)
    return _DATA[name].copy()


def _pairs_with_r_factors(rho: float | None) -> tuple[pd.DataFrame, list[str]]:
    """apistrat_pairs plus R's BRR (or Fay) replicate analysis weights pw * factor."""
    df = _data("apistrat_pairs.csv")
    brr = _data("apistrat_pairs_brr.csv")
    cols = [f"b{i}" for i in range(1, 105)]
    merged = df.merge(brr[["snum", *cols]], on="snum", how="left", validate="one_to_one")
    assert merged[cols].notna().all().all()
    factors = merged[cols].to_numpy(dtype=float)
    if rho is not None:
        factors = rho + (1 - rho) * factors
    weights = pd.DataFrame(
        factors * merged["pw"].to_numpy()[:, None], columns=[f"rep{i}" for i in range(1, 105)]
    )
    return pd.concat([merged.drop(columns=cols), weights], axis=1), list(weights.columns)


_R_FACTOR_DESIGNS: dict[tuple, es.ReplicateDesign] = {}


def _uses_r_factors(case: dict) -> bool:
    return case["id"].startswith(("pairs_brr", "pairs_fay")) and case["estimator"] != "total"


def _design(case: dict) -> es.ReplicateDesign:
    if case.get("design_class") == "ReplicateDesign":
        return es.ReplicateDesign(_data(case["data"]), **case["design"])
    steps = case["steps"]
    if _uses_r_factors(case):
        step = steps[0]
        key = (step["method"], step["rho"], step["mse"])
        if key not in _R_FACTOR_DESIGNS:  # designs are immutable: build each once
            rho = step["rho"] if step["method"] == "Fay" else None
            df, cols = _pairs_with_r_factors(rho)
            extra = {"rho": rho} if rho is not None else {}
            _R_FACTOR_DESIGNS[key] = es.ReplicateDesign(
                df,
                weights="pw",
                replicate_weights=cols,
                method=step["method"],
                mse=step["mse"],
                **extra,
            )
        return _R_FACTOR_DESIGNS[key]
    d = es.SurveyDesign(_data(case["data"]), **case["design"], nest=True)
    for step in steps:
        if step["op"] == "replicate":
            d = d.replicate(step["method"], rho=step["rho"], mse=step["mse"])
        elif step["op"] == "poststratify":
            d = d.poststratify(step["variable"], step["totals"])
        else:
            raise AssertionError(step)
    return d


def _estimate(case: dict, d: es.ReplicateDesign) -> es.Estimate:
    a = case["args"]
    if case["estimator"] == "total":
        return d.total(a["y"], a["by"], na_rm=a["na_rm"])
    if case["estimator"] == "mean":
        return d.mean(a["y"], a["by"], na_rm=a["na_rm"])
    if case["estimator"] == "ratio":
        return d.ratio(a["numerator"], a["denominator"], a["by"], na_rm=a["na_rm"])
    raise AssertionError(case["estimator"])


def _match(frame: pd.DataFrame, row: dict) -> pd.Series:
    sel = np.ones(len(frame), dtype=bool)
    for col, value in row["by"].items():
        sel &= frame[col].astype(str).to_numpy() == str(value)
    assert sel.sum() == 1, (row, frame)
    return frame[sel].iloc[0]


def _reference_cases() -> list[dict]:
    return CASES


def _check(case: dict, d: es.ReplicateDesign) -> float:
    frame = _estimate(case, d).to_frame()
    assert len(frame) == len(case["rows"])
    worst = 0.0
    for row in case["rows"]:
        ours = _match(frame, row)
        label = f"{case['id']} {row['by']}"
        assert ours["df"] == row["df"], label
        for key in ("estimate", "se", "lower", "upper"):
            np.testing.assert_allclose(ours[key], row[key], rtol=RTOL, err_msg=f"{key} {label}")
            worst = max(worst, abs(ours[key] - row[key]) / abs(row[key]))
        if row["deff"] is None:
            assert np.isnan(ours["deff"]), label
        else:
            np.testing.assert_allclose(ours["deff"], row["deff"], rtol=RTOL, err_msg=label)
    return worst


@pytest.mark.parametrize("case", _reference_cases(), ids=[c["id"] for c in _reference_cases()])
def test_replicate_against_r(case: dict) -> None:
    d = _design(case)
    rep = case["replicate"]
    assert d.n_replicates == rep["n_replicates"]
    assert d.mse == rep["mse"]
    np.testing.assert_allclose(d.scale, rep["scale"], rtol=1e-12)
    if not case["id"].startswith("pairs_"):  # BRR/Fay: rscales all 1, order irrelevant
        np.testing.assert_allclose(np.sort(d.rscales), np.sort(rep["rscales"]), rtol=1e-12)
    assert d.df == rep["degf"]
    _check(case, d)


def test_supplied_equals_generated_jk1() -> None:
    # The script checks that the supplied JK1 weights reproduce clus1_jk1 in R.
    df = _data("apiclus1_jk1_repweights.csv")
    sup = es.ReplicateDesign(
        df, weights="pw", replicate_weights="rw[0-9]+", method="JK1", scale=14 / 15
    )
    gen = es.SurveyDesign(_data("apiclus1.csv"), weights="pw", psu="dnum").replicate("JK1")
    a = sup.mean("api00", "stype").to_frame()
    b = gen.mean("api00", "stype").to_frame()
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-12)
    assert list(a["df"]) == list(b["df"])


def test_poststratified_replicates_match_r_weights() -> None:
    # weights_check of clus1_jk1_ps (R: postStratify(rep_clus1_jk1, ~stype, pop.types)):
    # every replicate sums to N = 6194, and row 1's replicate weights.
    case = next(c for c in CASES if c["id"] == "clus1_jk1_ps_total_enroll")
    d = _design(case)
    check = case["weights_check"]
    np.testing.assert_allclose(d.replicate_weights.sum(axis=0), check["replicate_sums"], rtol=1e-12)
    np.testing.assert_allclose(d.replicate_weights[0], check["row1_replicate_weights"], rtol=1e-12)
    np.testing.assert_allclose(d.weights[:5], check["first5"], rtol=1e-12)
    assert d.df == check_df(case)


def check_df(case: dict) -> float:
    return case["replicate"]["degf"]


# ---------------------------------------------------------------- more R values
# R 4.2.2, survey 4.1.1, on tests/reference/apiclus1.csv (read.csv(na.strings = "")):
#   d1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1)
#   r1 <- as.svrepdesign(d1, type = "JK1")
# Numbers printed with sprintf("%.17g") / print(digits = 17).


def _clus1_jk1() -> es.ReplicateDesign:
    df = _data("apiclus1.csv")
    return es.SurveyDesign(df, weights="pw", psu="dnum").replicate("JK1")


def test_quantile_jk1_against_r() -> None:
    # svyquantile(~api00, r1, quantiles = c(0.25, 0.5, 0.75), ci = TRUE)
    # (interval.type = "mean": Woodruff with the replicate SE of the CDF, df = degf = 14)
    est = _clus1_jk1().quantile("api00", [0.25, 0.5, 0.75]).to_frame()
    assert est["estimate"].tolist() == [552, 652, 719]
    assert est["lower"].tolist() == [482, 551, 691]
    assert est["upper"].tolist() == [629, 722, 781]
    np.testing.assert_allclose(
        est["se"], [34.269142201434995, 39.864104193506016, 20.981107470266323], rtol=RTOL
    )
    assert est["df"].tolist() == [14, 14, 14]


def test_quantile_jkn_against_r() -> None:
    # rs <- as.svrepdesign(svydesign(id = ~1, strata = ~stype, weights = ~pw,
    #                                data = apistrat), type = "JKn")
    # svyquantile(~api00, rs, quantiles = 0.5, ci = TRUE)
    d = es.SurveyDesign(_data("apistrat.csv"), weights="pw", strata="stype").replicate("JKn")
    est = d.quantile("api00", 0.5).to_frame()
    assert (est["estimate"].iloc[0], est["lower"].iloc[0], est["upper"].iloc[0]) == (668, 641, 695)
    np.testing.assert_allclose(est["se"].iloc[0], 13.691134856937266, rtol=RTOL)


def test_na_rm_against_r() -> None:
    # svymean(~acs.k3, r1, na.rm = TRUE, deff = TRUE); degf(subset(r1, !is.na(acs.k3)))
    # svytotal(~acs.k3, r1, na.rm = TRUE, deff = TRUE)
    r1 = _clus1_jk1()
    m = r1.mean("acs.k3", na_rm=True).to_frame().iloc[0]
    np.testing.assert_allclose(
        [m["estimate"], m["se"], m["deff"]],
        [20.034722222222221, 0.56687393823736476, 13.142377162648661],
        rtol=RTOL,
    )
    assert m["df"] == 14
    t = r1.total("acs.k3", na_rm=True).to_frame().iloc[0]
    np.testing.assert_allclose(
        [t["estimate"], t["se"], t["deff"]],
        [97648.584346771095, 26528.374765377917, 1211.5936281551812],
        rtol=RTOL,
    )
    with pytest.raises(DesignError, match=r"'acs\.k3' has 39 missing values"):
        r1.mean("acs.k3")


def test_factor_mean_and_proportions_against_r() -> None:
    # m <- svymean(~stype, r1, deff = TRUE): coef, SE, deff
    r1 = _clus1_jk1()
    f = r1.mean("stype").to_frame()
    np.testing.assert_allclose(
        f["estimate"], [0.78688524590163933, 0.07650273224043716, 0.13661202185792348], rtol=RTOL
    )
    np.testing.assert_allclose(
        f["se"], [0.051958671241823351, 0.028059292178515008, 0.03350794202459887], rtol=RTOL
    )
    np.testing.assert_allclose(
        f["deff"], [3.0191661455448555, 2.0899539752033989, 1.7852393662648391], rtol=RTOL
    )
    # svyciprop(~sw, r1, method = "logit" | "beta"): coef, SE, confint (df = degf = 14)
    # (R's logit estimate comes from svyglm IRLS: 0.87431693988704007 vs the exact
    # 0.87431693989071035, relative 4e-12)
    logit = r1.proportion("sw", method="logit").to_frame().iloc[0]
    np.testing.assert_allclose(
        [logit["estimate"], logit["se"], logit["lower"], logit["upper"]],
        [0.87431693988704007, 0.020762751077168969, 0.82287843095475555, 0.9124071578018299],
        rtol=RTOL,
    )
    beta = r1.proportion("sw", method="beta").to_frame().iloc[0]
    np.testing.assert_allclose(
        [beta["estimate"], beta["se"], beta["lower"], beta["upper"]],
        [0.87431693989071035, 0.020762751077168969, 0.82255138245109383, 0.91543648811886291],
        rtol=RTOL,
    )


def test_rake_and_calibrate_replicates_against_r() -> None:
    # pop.types / pop.schwide / pop.cal as in tests/reference/README.md
    # rr <- rake(r1, list(~stype, ~sch.wide), list(pop.types, pop.schwide),
    #            control = list(epsilon = 1e-12, maxit = 200))
    # rc <- calibrate(r1, ~stype + api99, pop.cal)                    # linear
    # rk <- calibrate(r1, ~stype + api99, pop.cal, calfun = "raking", epsilon = 1e-12)
    # svytotal(~enroll, .), svymean(~api00, .), degf(.)
    r1 = _clus1_jk1()
    types = {"E": 4421, "H": 755, "M": 1018}
    rr = r1.rake(
        {"stype": types, "sch.wide": {"No": 1072, "Yes": 5122}}, epsilon=1e-12, max_iter=200
    )
    cal = {"stype": types, "api99": 3914069.0}
    rc = r1.calibrate(cal)
    rk = r1.calibrate(cal, method="raking", epsilon=1e-12)
    expected = {
        "rake": (rr, [3647280.1480652126, 468244.54474440834, 641.2303209268199, 27.1442585775909]),
        "linear": (
            rc,
            [3638487.2041318817, 483563.75741718156, 665.30907116577976, 3.9825087280317408],
        ),
        "raking": (
            rk,
            [3616588.5632687537, 489750.42165996082, 665.39379600015025, 3.9182985593440263],
        ),
    }
    for name, (d, values) in expected.items():
        t = d.total("enroll")
        m = d.mean("api00")
        ours = [t.estimate[0], t.se[0], m.estimate[0], m.se[0]]
        np.testing.assert_allclose(ours, values, rtol=1e-8, err_msg=name)
        assert d.df == 14
        assert r1.df == 14  # the input design is unchanged


def test_vcov_by_domain_against_r() -> None:
    # vcov(svyby(~api00, ~stype, r1, svymean, covmat = TRUE))
    r = np.array(
        [
            [656.87122310285827, 702.57540656584922, 794.03160566442921],
            [702.57540656584922, 2191.19630537977810, 826.68399641363305],
            [794.03160566442921, 826.68399641363305, 1157.79756882391621],
        ]
    )
    est = _clus1_jk1().mean("api00", "stype")
    np.testing.assert_allclose(est.vcov(), r, rtol=RTOL)
    diff = est.contrast({"E": 1, "H": -1}).to_frame().iloc[0]
    np.testing.assert_allclose(diff["se"] ** 2, r[0, 0] + r[1, 1] - 2 * r[0, 1], rtol=RTOL)


# ------------------------------------------------------------ known identities
def test_jackknife_totals_equal_linearisation() -> None:
    # For a total, the JK1 (scale (n-1)/n) and JKn (rscales (n_h-1)/n_h) variances equal
    # the with-replacement linearisation variance exactly (Wolter 2007, 4.2). The JKn
    # check is the peers' known failure 3: the unstratified coefficient gives +5.3%.
    clus = es.SurveyDesign(_data("apiclus1.csv"), weights="pw", psu="dnum")
    strat = es.SurveyDesign(_data("apistrat.csv"), weights="pw", strata="stype")
    for d, method in ((clus, "JK1"), (strat, "JKn")):
        t = d.total("enroll", "stype")
        r = d.replicate(method).total("enroll", "stype")
        np.testing.assert_allclose(r.se, t.se, rtol=1e-10, err_msg=method)
        np.testing.assert_allclose(r.estimate, t.estimate, rtol=1e-12)
    # R's stratnofpc_total_enroll (svytotal(~enroll, dstrat_nofpc)) SE, r_reference.json
    ref = json.loads((REF / "r_reference.json").read_text())["cases"]
    r_se = next(c for c in ref if c["id"] == "stratnofpc_total_enroll")["rows"][0]["se"]
    np.testing.assert_allclose(strat.replicate("JKn").total("enroll").se[0], r_se, rtol=RTOL)
    rs = strat.replicate("JKn").rscales
    assert sorted(set(np.round(rs, 12))) == [0.98, 0.99]  # (n_h - 1)/n_h: n_h = 50, 100


def test_brr_and_fay_totals_equal_linearisation() -> None:
    # Any balanced set of Hadamard rows gives the linearisation variance of a total
    # (R's script checks this for dpairs); Fay's scale 1/(R (1-rho)^2) keeps it.
    d = es.SurveyDesign(
        _data("apistrat_pairs.csv"), weights="pw", strata="pair", psu="half", nest=True
    )
    lin = d.total("enroll", "stype")
    for r in (d.replicate("BRR"), d.replicate("Fay", rho=0.5), d.replicate("BRR", mse=True)):
        assert r.n_replicates == 104
        np.testing.assert_allclose(r.total("enroll", "stype").se, lin.se, rtol=1e-10)
    fay = d.replicate("Fay", rho=0.3)
    np.testing.assert_allclose(fay.scale, 1 / (104 * 0.7**2), rtol=1e-15)
    assert set(np.unique(fay.replicate_weights / d.weights[:, None]).round(12)) == {0.3, 1.7}


@pytest.mark.parametrize(
    "order", [1, 2, 4, 12, 20, 28, 36, 44, 52, 60, 100, 101, 104, 108, 140, 200, 300]
)
def test_hadamard_is_orthogonal_and_normalised(order: int) -> None:
    h = hadamard(order)
    m = h.shape[0]
    assert m >= order and (m in (1, 2) or m % 4 == 0)
    assert m - order < 12  # the next orders are all constructible in this range
    np.testing.assert_array_equal(h @ h.T, m * np.eye(m, dtype=np.int64))
    assert (h[0] == 1).all() and (h[:, 0] == 1).all()


def test_degrees_of_freedom_are_rank_minus_one() -> None:
    # R's degf of a replicate design: qr(analysis weights)$rank - 1; for a domain, of the
    # domain's rows. The construction-based ranks are checked against numpy's rank.
    rng = np.random.default_rng(5)
    strat = es.SurveyDesign(_data("apistrat.csv"), weights="pw", strata="stype")
    clus = es.SurveyDesign(_data("apiclus1.csv"), weights="pw", psu="dnum")
    pairs = es.SurveyDesign(
        _data("apistrat_pairs.csv"), weights="pw", strata="pair", psu="half", nest=True
    )
    designs = [
        strat.replicate("JKn"),
        clus.replicate("JK1"),
        pairs.replicate("BRR"),
        pairs.replicate("Fay", rho=0.3),
        es.SurveyDesign(_data("apistrat.csv"), weights="pw", strata="stype").replicate(
            "bootstrap", replicates=60, rng=1
        ),
    ]
    for r in designs:
        w = r.replicate_weights
        for _ in range(4):
            mask = rng.random(w.shape[0]) < rng.choice([0.05, 0.3, 0.9, 1.0])
            if not mask.any():
                continue
            expected = np.linalg.matrix_rank(w[mask]) - 1
            assert r.domain(mask).df == expected, (r, mask.sum())
    assert strat.replicate("JKn").df == 197  # R: degf 197 (200 PSUs, 3 strata)


# ------------------------------------------------------------------ bootstrap
def _simulated(
    n_strata: int = 20, psu_per: int = 50, rows_per: int = 20, seed: int = 11
) -> pd.DataFrame:
    g = np.random.default_rng(seed)
    n = n_strata * psu_per * rows_per
    stratum = np.repeat(np.arange(n_strata), psu_per * rows_per)
    psu = np.repeat(np.arange(n_strata * psu_per), rows_per)
    effect = g.normal(0, 3, n_strata * psu_per)[psu]
    y = 10 + stratum * 0.5 + effect + g.normal(0, 5, n)
    w = np.repeat(g.uniform(5, 50, n_strata), psu_per * rows_per)
    return pd.DataFrame({"h": stratum, "psu": psu, "y": y, "w": w, "dom": g.integers(0, 4, n)})


def test_bootstrap_properties() -> None:
    # Rao-Wu with m_h = n_h - 1: E*(theta_r) = theta for a total, and E*(variance) is the
    # with-replacement linearisation variance. With R = 2000 replicates the Monte Carlo
    # relative SD of a bootstrap SE is about 1 / sqrt(2 (R - 1)) = 1.6%, so 5% is a
    # 3-SD tolerance (the rng is fixed, so the test is deterministic).
    df = _simulated()
    d = es.SurveyDesign(df, weights="w", strata="h", psu="psu", nest=True)
    r = d.replicate("bootstrap", replicates=2000, rng=2024)
    assert r.n_replicates == 2000 and r.scale == 1 / 1999 and r.df == 980
    t_lin, t_boot = d.total("y", "dom"), r.total("y", "dom")
    np.testing.assert_allclose(t_boot.estimate, t_lin.estimate, rtol=1e-12)
    np.testing.assert_allclose(t_boot.se, t_lin.se, rtol=0.05)
    m_lin, m_boot = d.mean("y", "dom"), r.mean("y", "dom")
    np.testing.assert_allclose(m_boot.se, m_lin.se, rtol=0.05)
    # mean of the replicate totals: within 3 Monte Carlo SEs (se / sqrt(R)) of the estimate
    engine = r._engine
    reps = engine.replicate_sums(df[["y"]].to_numpy(), np.zeros(len(df), dtype=np.int64), 1)
    reps = reps[:, 0, 0]
    total = float(t_lin.to_frame()["estimate"].sum())
    assert abs(reps.mean() - total) < 3 * reps.std() / np.sqrt(2000)
    # n_h - 1 draws, each with factor n_h/(n_h - 1): a stratum's PSU factors sum to n_h = 50
    per_stratum = engine.factors.reshape(20, 50, 2000).sum(axis=1)
    np.testing.assert_allclose(per_stratum, 50.0, rtol=1e-12)


def test_bootstrap_rng_is_reproducible_and_local() -> None:
    d = es.SurveyDesign(_data("apistrat.csv"), weights="pw", strata="stype")
    a = d.replicate("bootstrap", replicates=50, rng=7).replicate_weights
    state = np.random.get_state()  # noqa: NPY002 (checking the legacy global state)
    b = d.replicate("bootstrap", replicates=50, rng=np.random.default_rng(7)).replicate_weights
    np.testing.assert_array_equal(a, b)
    assert np.random.get_state()[1].tolist() == state[1].tolist()  # noqa: NPY002
    c = d.replicate("bootstrap", replicates=50, rng=8).replicate_weights
    assert not np.array_equal(a, c)


# --------------------------------------------------------------- behaviour
def test_domain_route_equals_by_route() -> None:
    r = _clus1_jk1()
    df = _data("apiclus1.csv")
    by = r.mean("api00", "stype").to_frame()
    for i, level in enumerate(["E", "H", "M"]):
        dom = r.domain(df["stype"] == level).mean("api00").to_frame().iloc[0]
        np.testing.assert_allclose(
            [dom["estimate"], dom["se"], dom["df"]],
            by.loc[i, ["estimate", "se", "df"]].to_numpy(dtype=float),
            rtol=1e-12,
        )


def test_estimate_columns_and_immutability() -> None:
    r = _clus1_jk1()
    d = es.SurveyDesign(_data("apiclus1.csv"), weights="pw", psu="dnum")
    assert list(r.mean("api00", "stype").to_frame().columns) == list(
        d.mean("api00", "stype").to_frame().columns
    )
    assert np.isnan(r.ratio("api00", "api99").deff).all()
    with pytest.raises(AttributeError, match="immutable"):
        r.scale = 1.0  # type: ignore[misc]
    before = r.replicate_weights.copy()
    r.poststratify("stype", {"E": 4421, "H": 755, "M": 1018})
    np.testing.assert_array_equal(r.replicate_weights, before)
    assert "JK1 with 15 replicates" in repr(r)


def test_fpc_conventions() -> None:
    # R: as.svrepdesign(dclus1, type = "JK1") keeps the fpc: scale (1 - n/N)(n - 1)/n;
    # svytotal(~enroll, as.svrepdesign(dclus1, type="JK1")) has the SE of dclus1 (fpc),
    # r_reference.json case clus1_total_enroll.
    df = _data("apiclus1.csv")
    d = es.SurveyDesign(df, weights="pw", psu="dnum", fpc="fpc")
    r = d.replicate("JK1")
    np.testing.assert_allclose(r.scale, (1 - 15 / 757) * 14 / 15, rtol=1e-15)
    ref = json.loads((REF / "r_reference.json").read_text())["cases"]
    r_se = next(c for c in ref if c["id"] == "clus1_total_enroll")["rows"][0]["se"]
    np.testing.assert_allclose(r.total("enroll").se[0], r_se, rtol=RTOL)
    with pytest.warns(ReplicateWarning, match="do not use the finite population correction"):
        es.SurveyDesign(
            _data("apistrat_pairs.csv").assign(N=1000),
            weights="pw",
            strata="pair",
            psu="half",
            fpc="N",
            nest=True,
        ).replicate("BRR")
    with pytest.warns(ReplicateWarning, match="ignores the finite population correction"):
        es.SurveyDesign(_data("apistrat.csv"), weights="pw", strata="stype", fpc="fpc").replicate(
            "bootstrap", replicates=5, rng=1
        )


# ------------------------------------------------------------------ errors
def test_replicate_argument_errors() -> None:
    strat = es.SurveyDesign(_data("apistrat.csv"), weights="pw", strata="stype")
    clus = es.SurveyDesign(_data("apiclus1.csv"), weights="pw", psu="dnum")
    with pytest.raises(DesignError, match=r"method='jk' is not a replicate method"):
        strat.replicate("jk")  # type: ignore[arg-type]
    with pytest.raises(DesignError, match=r"this design has strata \('stype'\): use method='JKn'"):
        strat.replicate("JK1")
    with pytest.raises(DesignError, match="this design has no strata: use method='JK1'"):
        clus.replicate("JKn")
    with pytest.raises(
        DesignError,
        match="needs exactly 2 PSUs per stratum; stratum 'E', 'H', 'M' has 100, 50, 50 PSUs",
    ):
        strat.replicate("BRR")
    with pytest.raises(DesignError, match="BRR needs a stratified design"):
        clus.replicate("BRR")
    with pytest.raises(DesignError, match=r"rho=None: Fay's method needs 0 < rho < 1"):
        strat.replicate("Fay")
    with pytest.raises(DesignError, match=r"rho=0\.3 applies only to method='Fay'"):
        strat.replicate("BRR", rho=0.3)
    with pytest.raises(DesignError, match="replicates=10 applies only to method='bootstrap'"):
        strat.replicate("JKn", replicates=10)
    with pytest.raises(DesignError, match="rng= applies only to method='bootstrap'"):
        strat.replicate("JKn", rng=1)
    with pytest.raises(DesignError, match="replicates=1 must be an integer of at least 2"):
        strat.replicate("bootstrap", replicates=1)
    with pytest.raises(DesignError, match="mse='yes' must be True or False"):
        strat.replicate("JKn", mse="yes")  # type: ignore[arg-type]
    lonely = es.SurveyDesign(
        _data("apistrat_lonely.csv"),
        weights="pw",
        strata="stratum2",
        lonely_psu="remove",
        nest=True,
    )
    with pytest.raises(DesignError, match="stratum 'X' has 1 PSU: collapse strata"):
        lonely.replicate("bootstrap", rng=1)
    with pytest.raises(DesignError, match="JK1 needs at least 2 PSUs"):
        es.SurveyDesign(
            pd.DataFrame({"w": [1.0, 2.0], "c": [1, 1]}), weights="w", psu="c", lonely_psu="remove"
        ).replicate("JK1")
    weighted = clus.poststratify("stype", {"E": 4421, "H": 755, "M": 1018})
    with pytest.raises(DesignError, match=r"replicate\(\) needs the design before weighting"):
        weighted.replicate("JK1")
    with pytest.raises(DesignError, match="applies to the whole sample, not a domain"):
        clus.replicate("JK1").domain(_data("apiclus1.csv")["stype"] == "E").poststratify(
            "stype", {"E": 4421}
        )


def test_jkn_lonely_rules() -> None:
    # lonely stratum 'X' (1 PSU): "remove"/"certainty" give it no replicate, as R's
    # jknweights; "average" also multiplies the scale by PSUs / replicates.
    data = _data("apistrat_lonely.csv")
    for rule, scale in (("remove", 1.0), ("certainty", 1.0), ("average", 200 / 199)):
        r = es.SurveyDesign(
            data, weights="pw", strata="stratum2", lonely_psu=rule, nest=True
        ).replicate("JKn")
        assert r.n_replicates == 199, rule
        np.testing.assert_allclose(r.scale, scale, rtol=1e-15)
    adj = es.SurveyDesign(
        data, weights="pw", strata="stratum2", lonely_psu="adjust", nest=True
    ).replicate("JKn")
    assert adj.n_replicates == 200
    np.testing.assert_allclose(sorted(adj.rscales)[0], 3 / 4, rtol=1e-15)  # (H - 1)/H, H = 4


def test_supplied_weights_errors() -> None:
    df = _data("apiclus1_jk1_repweights.csv")
    cols = [f"rw{i}" for i in range(1, 16)]
    with pytest.raises(DesignError, match="weights column 'wt' is not in the data"):
        es.ReplicateDesign(df, weights="wt", replicate_weights=cols, method="JK1", scale=0.9)
    with pytest.raises(DesignError, match="replicate weight column 'rw99' is not in the data"):
        es.ReplicateDesign(df, weights="pw", replicate_weights=["rw99"], method="JK1", scale=0.9)
    with pytest.raises(DesignError, match="replicate_weights='repw' matches no column"):
        es.ReplicateDesign(df, weights="pw", replicate_weights="repw", method="JK1", scale=0.9)
    with pytest.raises(DesignError, match="replicate_weights is empty"):
        es.ReplicateDesign(df, weights="pw", replicate_weights=[], method="JK1", scale=0.9)
    bad = df.copy()
    bad.loc[3, "rw2"] = -1.0
    with pytest.raises(
        DataError,
        match=r"replicate weight column 'rw2' has 1 missing, "
        r"non-numeric or negative values \(first -1.0 at row 3\)",
    ):
        es.ReplicateDesign(bad, weights="pw", replicate_weights=cols, method="JK1", scale=0.9)
    bad = df.copy()
    bad.loc[0, "pw"] = np.nan
    with pytest.raises(DataError, match="weights column 'pw' has 1 missing"):
        es.ReplicateDesign(bad, weights="pw", replicate_weights=cols, method="JK1", scale=0.9)
    with pytest.raises(DesignError, match=r"method='JK1' needs scale= \(\(n - 1\)/n"):
        es.ReplicateDesign(df, weights="pw", replicate_weights=cols, method="JK1")
    with pytest.raises(DesignError, match="method='JKn' needs rscales="):
        es.ReplicateDesign(df, weights="pw", replicate_weights=cols, method="JKn", scale=1.0)
    with pytest.raises(DesignError, match="rscales has 2 values but there are 15 replicate"):
        es.ReplicateDesign(
            df, weights="pw", replicate_weights=cols, method="JKn", scale=1.0, rscales=[1.0, 1.0]
        )
    with pytest.raises(DesignError, match="rscales must be finite and non-negative"):
        es.ReplicateDesign(
            df, weights="pw", replicate_weights=cols, method="JKn", scale=1.0, rscales=[-1.0] * 15
        )
    with pytest.raises(DesignError, match="scale= is fixed for method='BRR'"):
        es.ReplicateDesign(df, weights="pw", replicate_weights=cols, method="BRR", scale=0.5)
    with pytest.raises(DesignError, match="method='Fay' needs Fay's 0 < rho < 1"):
        es.ReplicateDesign(df, weights="pw", replicate_weights=cols, method="Fay")
    with pytest.raises(DesignError, match=r"rho=0\.3 applies only to method='Fay'"):
        es.ReplicateDesign(
            df, weights="pw", replicate_weights=cols, method="JK1", scale=0.9, rho=0.3
        )
    with pytest.raises(DesignError, match="scale=-1 must be a positive number"):
        es.ReplicateDesign(df, weights="pw", replicate_weights=cols, method="other", scale=-1)
    with pytest.raises(DesignError, match="method='XYZ' is not a replicate method"):
        es.ReplicateDesign(df, weights="pw", replicate_weights=cols, method="XYZ", scale=1.0)  # type: ignore[arg-type]
    with pytest.raises(DesignError, match="data must be a pandas DataFrame"):
        es.ReplicateDesign(
            df.to_numpy(),
            weights="pw",
            replicate_weights=cols,  # type: ignore[arg-type]
            method="JK1",
            scale=0.9,
        )
    with pytest.raises(DesignError, match="mse=1 must be True or False"):
        es.ReplicateDesign(df, weights="pw", replicate_weights=cols, method="JK1", scale=0.9, mse=1)  # type: ignore[arg-type]
    r = es.ReplicateDesign(df, weights="pw", replicate_weights=cols, method="bootstrap")
    assert r.scale == 1 / 14
    with pytest.raises(DesignError, match="domain mask has shape"):
        r.domain(np.ones(3, dtype=bool))
    with pytest.raises(DesignError, match="domain mask selects no row"):
        r.domain(np.zeros(len(df), dtype=bool))
    with pytest.raises(DesignError, match="domain mask must be boolean"):
        r.domain(np.ones(len(df)))
    with pytest.raises(DesignError, match="interval='x' is not available"):
        r.total("enroll", interval="x")  # type: ignore[arg-type]
    with pytest.raises(DesignError, match="method='x' is not available"):
        r.proportion("sw", method="x")  # type: ignore[arg-type]
    with pytest.raises(DesignError, match="proportion\\(\\) of 'enroll' needs a boolean"):
        r.proportion("enroll")


def test_linear_engine_methods_and_nan_replicates() -> None:
    # The VarianceEngine methods take weighted influence values w_i u_i: for a total
    # (u = y) they give the replicate variance of the total, domain by domain.
    r = _clus1_jk1()
    df = _data("apiclus1.csv")
    codes, _ = pd.factorize(df["stype"], sort=True)
    z = (r.weights * df["enroll"].to_numpy())[:, None]
    cov = r._engine.domain_cov(z, codes.astype(np.int64), 3)
    np.testing.assert_allclose(np.sqrt(cov[:, 0, 0]), r.total("enroll", "stype").se, rtol=1e-12)
    full = r._engine.full_cov(z, codes.astype(np.int64), 3, np.ones(len(df), bool))
    np.testing.assert_allclose(full, r.total("enroll", "stype").vcov(), rtol=1e-12)
    # A domain inside one PSU: deleting that PSU leaves no row, the replicate mean is NaN
    # and is left out (R's svrVar na.action), so the SE uses the other n - 1 replicates.
    tiny = pd.DataFrame(
        {
            "psu": [1, 1, 2, 2, 3, 3],
            "y": [1.0, 3.0, 2.0, 4.0, 6.0, 8.0],
            "g": ["a", "a", "b", "b", "b", "b"],
            "w": [1.0] * 6,
        }
    )
    rep = es.SurveyDesign(tiny, weights="w", psu="psu").replicate("JK1")
    est = rep.mean("y", "g").to_frame()
    # domain a: replicates 2 and 3 both give mean 2 (PSU 1 weighted 3/2): SE 0
    # domain b: replicate 1 gives 5, 2 gives 7, 3 gives 3 -> mean 5, scale 2/3:
    # 2/3 * (0 + 4 + 4) = 16/3
    np.testing.assert_allclose(est["se"], [0.0, np.sqrt(16 / 3)], atol=1e-12)
    assert est["df"].tolist() == [0.0, 1.0]


def test_jkn_with_fpc_against_r() -> None:
    # R: dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat,
    #                        fpc = ~fpc); r <- as.svrepdesign(dstrat, type = "JKn")
    # svytotal(~enroll, r); svymean(~api00, r, deff = TRUE); unique(r$rscales)
    # rscales = (1 - n_h/N_h)(n_h - 1)/n_h; the total's SE is the published 114642.
    d = es.SurveyDesign(_data("apistrat.csv"), weights="pw", strata="stype", fpc="fpc")
    r = d.replicate("JKn")
    np.testing.assert_allclose(
        sorted(set(r.rscales)),
        sorted([0.96760687627233655, 0.93186640471512772, 0.91509933774834440]),
        rtol=1e-14,
    )
    t = r.total("enroll").to_frame().iloc[0]
    np.testing.assert_allclose(
        [t["estimate"], t["se"]], [3687177.5324382801, 114641.71610078026], rtol=RTOL
    )
    assert t["df"] == 197
    m = r.mean("api00").to_frame().iloc[0]
    np.testing.assert_allclose(
        [m["estimate"], m["se"], m["deff"]],
        [662.28736315932076, 9.4089408027845032, 1.2044572685376971],
        rtol=RTOL,
    )


# ------------------------------------------- jackknife from PSU totals (any size)
_JK_CASES = [
    c
    for c in _reference_cases()
    if c.get("design_class") != "ReplicateDesign"
    and [s["op"] for s in c["steps"]] == ["replicate"]
    and c["steps"][0]["method"] in ("JK1", "JKn")
]


@pytest.mark.parametrize("case", _JK_CASES, ids=[c["id"] for c in _JK_CASES])
def test_jackknife_from_psu_totals_agrees_with_r(case: dict, monkeypatch) -> None:
    # Past the size of a PSU x replicate matrix, JK1/JKn replicates are computed from
    # PSU and stratum totals (no matrix). Forced here on R's cases: same numbers.
    import es_survey.replicate as replicate_module

    monkeypatch.setattr(replicate_module, "_MAX_FACTOR_CELLS", 0)
    d = _design(case)
    assert type(d._engine).__name__ == "_PsuJackknife"
    assert d.df == case["replicate"]["degf"]
    _check(case, d)


def test_jackknife_of_many_psus_needs_no_matrix_and_equals_linearisation() -> None:
    # 40,000 one-unit PSUs in 50 strata: a JKn matrix would be 40,000 x 40,000 (refused
    # before). Totals' jackknife SEs equal the linearised SEs exactly (a linear statistic).
    rng = np.random.default_rng(3)
    n = 40_000
    df = pd.DataFrame(
        {
            "h": np.repeat(np.arange(50), n // 50),
            "y": rng.gamma(2.0, 3.0, n),
            "g": rng.integers(0, 20, n),
            "w": 10.0,
        }
    )
    d = es.SurveyDesign(df, weights="w", strata="h")
    r = d.replicate("JKn")
    assert r.n_replicates == n
    lin = d.total("y", by="g")
    jk = r.total("y", by="g")
    np.testing.assert_allclose(jk.se, lin.se, rtol=1e-9)
    with pytest.raises(DesignError, match="weight the design before making replicates"):
        r.replicate_weights  # noqa: B018


@pytest.mark.parametrize("rule", ["remove", "certainty", "average", "adjust"])
def test_jackknife_from_psu_totals_keeps_the_lonely_psu_rules(rule: str, monkeypatch) -> None:
    # The same replicates as the matrix route (checked against R's jknweights above),
    # including "adjust"'s extra replicate that drops the lonely stratum.
    import es_survey.replicate as replicate_module

    data = _data("apistrat_lonely.csv")
    d = es.SurveyDesign(data, weights="pw", strata="stratum2", lonely_psu=rule, nest=True)
    dense = d.replicate("JKn")
    monkeypatch.setattr(replicate_module, "_MAX_FACTOR_CELLS", 0)
    totals = d.replicate("JKn")
    assert type(totals._engine).__name__ == "_PsuJackknife"
    assert totals.n_replicates == dense.n_replicates and totals.df == dense.df
    for est in ("total", "mean"):
        a = getattr(dense, est)("api00", by="stype")
        b = getattr(totals, est)("api00", by="stype")
        np.testing.assert_allclose(b.se, a.se, rtol=1e-10)
        assert b.df.tolist() == a.df.tolist()
