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
PREFIXES = ("clus1_jk1", "clus1_supplied_jk1", "strat_jkn", "stratclus_jkn", "pairs_brr",
            "pairs_fay")  # clus1_jk1 includes clus1_jk1_mse and clus1_jk1_ps
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
    weights = pd.DataFrame(factors * merged["pw"].to_numpy()[:, None],
                           columns=[f"rep{i}" for i in range(1, 105)])
    return pd.concat([merged.drop(columns=cols), weights], axis=1), list(weights.columns)


def _uses_r_factors(case: dict) -> bool:
    return case["id"].startswith(("pairs_brr", "pairs_fay")) and case["estimator"] != "total"


def _design(case: dict) -> es.ReplicateDesign:
    if case.get("design_class") == "ReplicateDesign":
        return es.ReplicateDesign(_data(case["data"]), **case["design"])
    steps = case["steps"]
    if _uses_r_factors(case):
        step = steps[0]
        rho = step["rho"] if step["method"] == "Fay" else None
        df, cols = _pairs_with_r_factors(rho)
        extra = {"rho": rho} if rho is not None else {}
        return es.ReplicateDesign(df, weights="pw", replicate_weights=cols,
                                  method=step["method"], mse=step["mse"], **extra)
    d = es.SurveyDesign(_data(case["data"]), **case["design"])
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
    sup = es.ReplicateDesign(df, weights="pw", replicate_weights="rw[0-9]+", method="JK1",
                             scale=14 / 15)
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
    np.testing.assert_allclose(d.replicate_weights.sum(axis=0), check["replicate_sums"],
                               rtol=1e-12)
    np.testing.assert_allclose(d.replicate_weights[0], check["row1_replicate_weights"],
                               rtol=1e-12)
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
    np.testing.assert_allclose(est["se"], [34.269142201434995, 39.864104193506016,
                                           20.981107470266323], rtol=RTOL)
    assert est["df"].tolist() == [14, 14, 14]


def test_quantile_jkn_against_r() -> None:
    # rs <- as.svrepdesign(svydesign(id = ~1, strata = ~stype, weights = ~pw,
    #                                data = apistrat), type = "JKn")
    # svyquantile(~api00, rs, quantiles = 0.5, ci = TRUE)
    d = es.SurveyDesign(_data("apistrat.csv"), weights="pw", strata="stype").replicate("JKn")
    est = d.quantile("api00", 0.5).to_frame()
    assert (est["estimate"].iloc[0], est["lower"].iloc[0], est["upper"].iloc[0]) == (668, 641,
                                                                                      695)
    np.testing.assert_allclose(est["se"].iloc[0], 13.691134856937266, rtol=RTOL)


def test_na_rm_against_r() -> None:
    # svymean(~acs.k3, r1, na.rm = TRUE, deff = TRUE); degf(subset(r1, !is.na(acs.k3)))
    # svytotal(~acs.k3, r1, na.rm = TRUE, deff = TRUE)
    r1 = _clus1_jk1()
    m = r1.mean("acs.k3", na_rm=True).to_frame().iloc[0]
    np.testing.assert_allclose([m["estimate"], m["se"], m["deff"]],
                               [20.034722222222221, 0.56687393823736476, 13.142377162648661],
                               rtol=RTOL)
    assert m["df"] == 14
    t = r1.total("acs.k3", na_rm=True).to_frame().iloc[0]
    np.testing.assert_allclose([t["estimate"], t["se"], t["deff"]],
                               [97648.584346771095, 26528.374765377917, 1211.5936281551812],
                               rtol=RTOL)
    with pytest.raises(DesignError, match="'acs.k3' has 39 missing values"):
        r1.mean("acs.k3")


def test_factor_mean_and_proportions_against_r() -> None:
    # m <- svymean(~stype, r1, deff = TRUE): coef, SE, deff
    r1 = _clus1_jk1()
    f = r1.mean("stype").to_frame()
    np.testing.assert_allclose(f["estimate"], [0.78688524590163933, 0.07650273224043716,
                                               0.13661202185792348], rtol=RTOL)
    np.testing.assert_allclose(f["se"], [0.051958671241823351, 0.028059292178515008,
                                         0.03350794202459887], rtol=RTOL)
    np.testing.assert_allclose(f["deff"], [3.0191661455448555, 2.0899539752033989,
                                           1.7852393662648391], rtol=RTOL)
    # svyciprop(~sw, r1, method = "logit" | "beta"): coef, SE, confint (df = degf = 14)
    # (R's logit estimate comes from svyglm IRLS: 0.87431693988704007 vs the exact
    # 0.87431693989071035, relative 4e-12)
    logit = r1.proportion("sw", method="logit").to_frame().iloc[0]
    np.testing.assert_allclose([logit["estimate"], logit["se"], logit["lower"], logit["upper"]],
                               [0.87431693988704007, 0.020762751077168969,
                                0.82287843095475555, 0.9124071578018299], rtol=RTOL)
    beta = r1.proportion("sw", method="beta").to_frame().iloc[0]
    np.testing.assert_allclose([beta["estimate"], beta["se"], beta["lower"], beta["upper"]],
                               [0.87431693989071035, 0.020762751077168969,
                                0.82255138245109383, 0.91543648811886291], rtol=RTOL)


def test_rake_and_calibrate_replicates_against_r() -> None:
    # pop.types / pop.schwide / pop.cal as in tests/reference/README.md
    # rr <- rake(r1, list(~stype, ~sch.wide), list(pop.types, pop.schwide),
    #            control = list(epsilon = 1e-12, maxit = 200))
    # rc <- calibrate(r1, ~stype + api99, pop.cal)                    # linear
    # rk <- calibrate(r1, ~stype + api99, pop.cal, calfun = "raking", epsilon = 1e-12)
    # svytotal(~enroll, .), svymean(~api00, .), degf(.)
    r1 = _clus1_jk1()
    types = {"E": 4421, "H": 755, "M": 1018}
    rr = r1.rake({"stype": types, "sch.wide": {"No": 1072, "Yes": 5122}}, epsilon=1e-12,
                 max_iter=200)
    cal = {"stype": types, "api99": 3914069.0}
    rc = r1.calibrate(cal)
    rk = r1.calibrate(cal, method="raking", epsilon=1e-12)
    expected = {
        "rake": (rr, [3647280.1480652126, 468244.54474440834, 641.2303209268199,
                      27.1442585775909]),
        "linear": (rc, [3638487.2041318817, 483563.75741718156, 665.30907116577976,
                        3.9825087280317408]),
        "raking": (rk, [3616588.5632687537, 489750.42165996082, 665.39379600015025,
                        3.9182985593440263]),
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
    r = np.array([[656.87122310285827, 702.57540656584922, 794.03160566442921],
                  [702.57540656584922, 2191.19630537977810, 826.68399641363305],
                  [794.03160566442921, 826.68399641363305, 1157.79756882391621]])
    est = _clus1_jk1().mean("api00", "stype")
    np.testing.assert_allclose(est.vcov(), r, rtol=RTOL)
    diff = est.contrast({"E": 1, "H": -1}).to_frame().iloc[0]
    np.testing.assert_allclose(diff["se"] ** 2, r[0, 0] + r[1, 1] - 2 * r[0, 1], rtol=RTOL)
