"""The variance engine against hand calculations and against R through both code paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import test_reference_r as ref

import es_survey as es
import es_survey.variance as variance
from es_survey.errors import DesignError


def _tiny() -> pd.DataFrame:
    # Two strata; h=a: 3 PSUs of N_a = 10, h=b: 2 PSUs of N_b = 4; one row per PSU.
    return pd.DataFrame(
        {
            "h": ["a", "a", "a", "b", "b"],
            "y": [2.0, 4.0, 9.0, 1.0, 5.0],
            "N": [10, 10, 10, 4, 4],
        }
    )


def test_stratified_total_hand_calculation() -> None:
    d = es.SurveyDesign(_tiny(), strata="h", fpc="N")
    est = d.total("y")
    # weights N_h / n_h: a -> 10/3, b -> 2.
    # z_hi = w y: a: 20/3, 40/3, 30; b: 2, 10.
    # V = sum_h (1 - n_h/N_h) n_h/(n_h-1) sum_i (z_hi - zbar_h)^2
    za = np.array([20 / 3, 40 / 3, 30.0])
    zb = np.array([2.0, 10.0])
    va = (1 - 3 / 10) * 3 / 2 * ((za - za.mean()) ** 2).sum()
    vb = (1 - 2 / 4) * 2 / 1 * ((zb - zb.mean()) ** 2).sum()
    assert est.estimate[0] == pytest.approx(za.sum() + zb.sum(), rel=1e-12)
    assert est.se[0] == pytest.approx(np.sqrt(va + vb), rel=1e-12)
    assert est.df[0] == 5 - 2


def test_without_fpc_is_with_replacement() -> None:
    d = es.SurveyDesign(_tiny().assign(w=1.0), strata="h", weights="w")
    # V = sum_h n_h/(n_h-1) sum_i (y_hi - ybar_h)^2 (f_h = 0).
    ya = np.array([2.0, 4.0, 9.0])
    yb = np.array([1.0, 5.0])
    v = 3 / 2 * ((ya - ya.mean()) ** 2).sum() + 2 * ((yb - yb.mean()) ** 2).sum()
    assert d.total("y").se[0] == pytest.approx(np.sqrt(v), rel=1e-12)


def test_certainty_stratum_contributes_nothing() -> None:
    df = _tiny()
    df.loc[df["h"] == "b", "N"] = 2  # stratum b fully sampled
    d = es.SurveyDesign(df, strata="h", fpc="N")
    za = np.array([20 / 3, 40 / 3, 30.0])
    va = (1 - 3 / 10) * 3 / 2 * ((za - za.mean()) ** 2).sum()
    assert d.total("y").se[0] == pytest.approx(np.sqrt(va), rel=1e-12)


def _lonely() -> pd.DataFrame:
    # Strata a (3 PSUs), b (2 PSUs), c (1 PSU); weight 2 everywhere, no fpc.
    return pd.DataFrame(
        {
            "h": ["a", "a", "a", "b", "b", "c"],
            "y": [2.0, 4.0, 9.0, 1.0, 5.0, 7.0],
            "w": 2.0,
        }
    )


def _va_vb() -> tuple[float, float]:
    za = 2 * np.array([2.0, 4.0, 9.0])
    zb = 2 * np.array([1.0, 5.0])
    return 3 / 2 * ((za - za.mean()) ** 2).sum(), 2 * ((zb - zb.mean()) ** 2).sum()


@pytest.mark.parametrize("rule", ["remove", "certainty"])
def test_lonely_remove_and_certainty_drop_the_stratum(rule: str) -> None:
    va, vb = _va_vb()
    d = es.SurveyDesign(_lonely(), strata="h", weights="w", lonely_psu=rule, nest=True)
    assert d.total("y").se[0] == pytest.approx(np.sqrt(va + vb), rel=1e-12)
    # df counts the lonely stratum's PSU and the stratum (R degf): 6 - 3
    assert d.df == 3


def test_lonely_adjust_centres_at_zero() -> None:
    # R survey 4.1: the lonely PSU total is centred at 0: contribution (1 - f) z^2 = 14^2.
    va, vb = _va_vb()
    d = es.SurveyDesign(_lonely(), strata="h", weights="w", lonely_psu="adjust", nest=True)
    assert d.total("y").se[0] == pytest.approx(np.sqrt(va + vb + 14.0**2), rel=1e-12)


def test_lonely_average_scales_by_strata_ratio() -> None:
    # Sum over strata with several PSUs times (3 strata) / (2 such strata).
    va, vb = _va_vb()
    d = es.SurveyDesign(_lonely(), strata="h", weights="w", lonely_psu="average", nest=True)
    assert d.total("y").se[0] == pytest.approx(np.sqrt((va + vb) * 3 / 2), rel=1e-12)


def test_lonely_fail_names_the_stratum() -> None:
    with pytest.raises(DesignError, match=r"stratum 'c' has 1 PSU at stage 1.*lonely_psu='adjust'"):
        es.SurveyDesign(_lonely(), strata="h", weights="w")


def test_lonely_psu_with_fpc_one_is_a_certainty_not_an_error() -> None:
    df = _lonely().assign(N=[10, 10, 10, 5, 5, 1])
    d = es.SurveyDesign(df, strata="h", fpc="N", weights="w")
    za = 2 * np.array([2.0, 4.0, 9.0])
    zb = 2 * np.array([1.0, 5.0])
    v = 0.7 * 1.5 * ((za - za.mean()) ** 2).sum() + 0.6 * 2 * ((zb - zb.mean()) ** 2).sum()
    assert d.total("y").se[0] == pytest.approx(np.sqrt(v), rel=1e-12)


def test_two_stage_hand_calculation() -> None:
    # Stage 1: 3 of N1 = 6 clusters (SRS); stage 2: m_i of M_i units in each cluster.
    df = pd.DataFrame(
        {
            "c": [1, 1, 2, 2, 2, 3, 3],
            "u": [1, 2, 1, 2, 3, 1, 2],
            "y": [3.0, 5.0, 2.0, 2.0, 8.0, 6.0, 1.0],
            "N1": 6,
            "M": [4, 4, 5, 5, 5, 2, 2],
        }
    )
    d = es.SurveyDesign(df, psu=["c", "u"], fpc=["N1", "M"])
    w = (6 / 3) * df["M"] / df.groupby("c")["u"].transform("size")
    z = (w * df["y"]).groupby(df["c"]).sum().to_numpy()
    v1 = (1 - 3 / 6) * 3 / 2 * ((z - z.mean()) ** 2).sum()
    # Stage 2 within cluster i, scaled by the stage-1 sampling fraction 3/6:
    # (1 - m_i/M_i) m_i/(m_i - 1) sum_j (z_ij - zbar_i)^2 with z_ij = w_ij y_ij.
    v2 = 0.0
    for _, g in df.assign(z=w * df["y"]).groupby("c"):
        m, big_m = len(g), g["M"].iloc[0]
        v2 += (1 - m / big_m) * m / (m - 1) * ((g["z"] - g["z"].mean()) ** 2).sum()
    assert d.total("y").estimate[0] == pytest.approx(z.sum(), rel=1e-12)
    assert d.total("y").se[0] == pytest.approx(np.sqrt(v1 + 3 / 6 * v2), rel=1e-12)
    # Without fpc only the first stage counts (ultimate cluster).
    d_wr = es.SurveyDesign(df.assign(w=w), psu=["c", "u"], weights="w")
    assert d_wr.total("y").se[0] == pytest.approx(np.sqrt(v1 / 0.5), rel=1e-12)


def test_full_cov_diagonal_matches_domain_variances() -> None:
    df = pd.read_csv(ref.REF / "apiclus1.csv")
    d = es.SurveyDesign(df, psu="dnum", weights="pw", fpc="fpc")
    est = d.total(["enroll", "api00"], by="stype")
    np.testing.assert_allclose(np.sqrt(np.diag(est.vcov())), est.se, rtol=1e-12)


def test_full_cov_too_large_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    df = pd.read_csv(ref.REF / "apiclus1.csv")
    d = es.SurveyDesign(df, psu="dnum", weights="pw", fpc="fpc")
    monkeypatch.setattr(variance, "_MAX_FULL_CELLS", 10)
    est = d.total("enroll", by="stype")  # the estimate itself is fine
    assert np.isfinite(est.se).all()
    with pytest.raises(DesignError, match="full covariance of 3 domains x 1 variables"):
        est.vcov()


def test_vcov_of_many_rows_needs_covmat() -> None:
    df = pd.read_csv(ref.REF / "apistrat.csv")
    d = es.SurveyDesign(df, strata="stype", weights="pw", fpc="fpc")
    est = d.total("enroll", by="dnum")  # more than 100 domains: not kept by default
    assert len(est) > 100
    with pytest.raises(DesignError, match="covmat=True"):
        est.vcov()
    full = d.total("enroll", by="dnum", covmat=True)
    np.testing.assert_allclose(np.sqrt(np.diag(full.vcov())), est.se, rtol=1e-12)


# The cases where presence matters: domains (by, domain(), na_rm), lonely PSUs, contrasts.
_SPARSE_CASES = [
    c
    for c in ref.CASES
    if not c.get("expect_error")
    and (
        c["args"].get("by")
        or c["args"].get("domain")
        or c["args"].get("na_rm")
        or c["design"]["lonely_psu"] != "fail"
        or c["estimator"] == "contrast"
    )
]


@pytest.mark.parametrize("route", ["hashed", "blocks", "one-stratum-blocks"])
@pytest.mark.parametrize("case", _SPARSE_CASES, ids=[c["id"] for c in _SPARSE_CASES])
def test_sparse_path_agrees_with_r(case: dict, route: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Force the routes that large designs with many domains take: the unit x domain
    # cells by hashing, or dense tables a block of strata at a time (one stratum per
    # block at the smallest).
    monkeypatch.setattr(variance, "_DENSE_MIN_CELLS", 0)
    monkeypatch.setattr(variance, "_DENSE_FACTOR", 0)
    monkeypatch.setattr(variance, "_CHUNKED", route != "hashed")
    if route == "one-stratum-blocks":
        monkeypatch.setattr(variance, "_CHUNK_CELLS", 1)
    ref.test_against_r(case)


def test_many_domains_vectorised_equals_one_at_a_time() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    df = pd.DataFrame(
        {
            "h": rng.integers(0, 10, n),
            "p": rng.integers(0, 30, n),
            "g": rng.integers(0, 40, n),
            "y": rng.gamma(2.0, 3.0, n),
            "w": rng.uniform(1, 5, n),
        }
    )
    d = es.SurveyDesign(df, strata="h", psu="p", weights="w", nest=True)
    by = d.total("y", by="g").to_frame()
    for g in (0, 17, 39):
        one = d.domain(df["g"] == g).total("y").to_frame().iloc[0]
        row = by[by["g"] == g].iloc[0]
        assert row["estimate"] == pytest.approx(one["estimate"], rel=1e-12)
        assert row["se"] == pytest.approx(one["se"], rel=1e-12)
        assert row["df"] == one["df"]


def test_blocks_in_threads_give_the_same_bits_as_one_thread(monkeypatch) -> None:
    # A large stage's blocks may run in two threads; their sums are added in block
    # order, so the result is bit-identical to the one-thread run, every time.
    df = pd.read_csv(ref.REF / "apiclus2.csv")
    d = es.SurveyDesign(df, psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    monkeypatch.setattr(variance, "_DENSE_MIN_CELLS", 0)
    monkeypatch.setattr(variance, "_DENSE_FACTOR", 0)
    monkeypatch.setattr(variance, "_CHUNK_CELLS", 8)
    threaded = [d.total("enroll", by="stype", na_rm=True).se for _ in range(3)]
    monkeypatch.setattr(variance, "_THREADS", 1)
    single = d.total("enroll", by="stype", na_rm=True).se
    for se in threaded:
        assert se.tobytes() == single.tobytes()
