"""The area-level Fay-Herriot model (es_survey.sae) against metafor and by hand.

Reference: tests/reference/make_reference_sae.R -> r_sae.json, on the 20 areas of
sae_areas.csv: metafor::rma(yi, vi, mods = ~ x1 + x2) is the FH model (tau2 = sigma2_u,
blup() = EBLUP). The Prasad-Rao MSE is written out below with numbers from the fit.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import es_survey as es
from es_survey.errors import DataError, DesignError

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "r_sae.json").read_text())
AREAS = pd.read_csv(REF / "sae_areas.csv")
SHARES = pd.read_csv(REF / "sae_transformed.csv")


def _fit(method: str) -> es.FayHerriot:
    return es.fay_herriot(
        AREAS,
        estimate="direct",
        variance="direct_var",
        covariates=["x1", "x2"],
        area="area",
        method=method,
    )


@pytest.mark.parametrize("fit", R["fits"], ids=lambda f: f["method"])
def test_matches_metafor(fit: dict) -> None:
    fh = _fit(fit["method"])
    assert fh.sigma2_u == pytest.approx(fit["sigma2_u"], rel=1e-6)
    np.testing.assert_allclose(fh.beta.to_numpy(), fit["beta"], rtol=1e-6)
    np.testing.assert_allclose(fh.to_frame()["estimate"], fit["blup"], rtol=1e-6)
    assert list(fh.beta.index) == ["intercept", "x1", "x2"]


def test_prasad_rao_mse_written_out() -> None:
    # REML: mse_i = g1 + g2 + 2 g3 (Rao & Molina 2015, eq. 6.2.30), from sigma2 and beta.
    fh = _fit("REML")
    s2 = fh.sigma2_u
    psi = AREAS["direct_var"].to_numpy()
    x = np.column_stack([np.ones(len(AREAS)), AREAS["x1"], AREAS["x2"]])
    v = s2 + psi
    gamma = s2 / v
    xtvx_inv = np.linalg.inv(x.T @ (x / v[:, None]))
    g1 = gamma * psi
    g2 = (1 - gamma) ** 2 * np.einsum("ij,jk,ik->i", x, xtvx_inv, x)
    g3 = psi**2 / v**3 * (2.0 / np.sum(1.0 / v**2))
    table = fh.to_frame()
    np.testing.assert_allclose(table["mse"], g1 + g2 + 2 * g3, rtol=1e-12)
    np.testing.assert_allclose(table["gamma"], gamma, rtol=1e-12)
    # area A01 by hand: psi = 2.359, x = (1, 43, 0.405)
    first = table.iloc[0]
    assert first["direct_var"] == 2.359
    assert first["gamma"] == pytest.approx(s2 / (s2 + 2.359), rel=1e-12)
    # the MSE is below the direct variance (the point of the model)
    assert (table["mse"] < table["direct_var"]).all()


def test_area_without_sample_gets_the_synthetic_estimate() -> None:
    areas = AREAS.copy()
    areas.loc[3, ["direct", "direct_var"]] = np.nan
    fh = es.fay_herriot(
        areas, estimate="direct", variance="direct_var", covariates=["x1", "x2"], area="area"
    )
    row = fh.to_frame().iloc[3]
    x = np.array([1.0, areas.loc[3, "x1"], areas.loc[3, "x2"]])
    assert row["method"] == "synthetic" and row["gamma"] == 0
    assert row["estimate"] == pytest.approx(float(x @ fh.beta.to_numpy()), rel=1e-12)
    known = areas.drop(index=3)
    v = fh.sigma2_u + known["direct_var"].to_numpy()
    xk = np.column_stack([np.ones(len(known)), known["x1"], known["x2"]])
    xtvx_inv = np.linalg.inv(xk.T @ (xk / v[:, None]))
    assert row["mse"] == pytest.approx(fh.sigma2_u + x @ xtvx_inv @ x, rel=1e-10)


def test_benchmark_and_errors() -> None:
    fh = _fit("REML")
    bench = fh.benchmark(1000.0)
    assert bench["estimate"].sum() == pytest.approx(1000.0)
    np.testing.assert_allclose(bench["mse"], fh.to_frame()["mse"])
    with pytest.raises(DesignError, match="transform='sqrt' is not available"):
        es.fay_herriot(
            AREAS, estimate="direct", variance="direct_var", area="area", transform="sqrt"
        )  # type: ignore[arg-type]
    bad = AREAS.assign(direct_var=AREAS["direct_var"].where(AREAS.index != 2, 0.0))
    with pytest.raises(DataError, match=r"area 'A03' has a direct estimate but variance 0\.0"):
        es.fay_herriot(bad, estimate="direct", variance="direct_var", area="area")
    with pytest.raises(DataError, match="covariate 'nope' is not a column"):
        es.fay_herriot(
            AREAS, estimate="direct", variance="direct_var", area="area", covariates=["nope"]
        )


@pytest.mark.slow
def test_fh_beats_direct_on_a_population_with_known_truth() -> None:
    # Monte Carlo on the model itself (200 draws of 20 areas): the EBLUP's RMSE is below
    # the direct estimator's and the MSE-based 95% intervals cover about 95%.
    rng = np.random.default_rng(11)
    x = np.column_stack([np.ones(20), AREAS["x1"], AREAS["x2"]])
    psi = AREAS["direct_var"].to_numpy()
    truth_beta = np.array([2.0, 0.35, 8.0])
    err_fh, err_direct, cover = [], [], []
    for _ in range(200):
        theta = x @ truth_beta + rng.normal(0, 2.5, 20)
        y = theta + rng.normal(0, np.sqrt(psi))
        fh = es.fay_herriot(
            AREAS.assign(direct=y),
            estimate="direct",
            variance="direct_var",
            covariates=["x1", "x2"],
            area="area",
        )
        t = fh.to_frame()
        err_fh.append(t["estimate"].to_numpy() - theta)
        err_direct.append(y - theta)
        cover.append((t["lower"] <= theta) & (theta <= t["upper"]))
    rmse_fh = np.sqrt(np.mean(np.square(err_fh)))
    rmse_direct = np.sqrt(np.mean(np.square(err_direct)))
    assert rmse_fh < 0.8 * rmse_direct
    assert 0.90 <= np.mean(cover) <= 0.98


# ------------------------------------------------------------ transformed scales
def _transformed(kind: str, **kw) -> es.FayHerriot:
    if kind == "arcsin":
        cols = {"estimate": "share", "variance": "share", "effective_n": "n_eff"}
    else:
        cols = {"estimate": "count", "variance": "count_var"}
    return es.fay_herriot(SHARES, covariates=["x1"], area="area", transform=kind, **cols, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("ref", R["transformed"], ids=lambda f: f["transform"])
def test_transformed_fit_matches_metafor_and_numerical_integration(ref: dict) -> None:
    # The model on the arcsin / log scale is metafor's rma on the transformed data; the
    # bias-corrected back-transform E h(theta), theta ~ N(EBLUP, gamma psi), is R's
    # integrate() for arcsin and exp(EBLUP + g1/2) for log (make_reference_sae.R).
    fh = _transformed(ref["transform"])
    assert fh.transform == ref["transform"]
    assert fh.sigma2_u == pytest.approx(ref["sigma2_u"], rel=1e-6)
    np.testing.assert_allclose(fh.beta.to_numpy(), ref["beta"], rtol=1e-6)
    np.testing.assert_allclose(fh.to_frame()["estimate"], ref["estimate"], rtol=1e-6)


def test_arcsin_back_transform_by_hand() -> None:
    # E sin^2(theta) for theta ~ N(mu, s2) without truncation is (1 - cos(2 mu) e^{-2 s2})/2;
    # far inside [0, pi/2] the truncation does not matter.
    from es_survey.sae import _back

    mu, s2 = np.array([0.7, 0.8]), np.array([0.001, 0.004])
    np.testing.assert_allclose(
        _back("arcsin", mu, s2), (1 - np.cos(2 * mu) * np.exp(-2 * s2)) / 2, rtol=1e-12
    )
    # far below 0 every draw is clipped to 0, far above pi/2 to 1
    np.testing.assert_allclose(_back("arcsin", np.array([-5.0, 7.0]), np.array([0.01] * 2)), [0, 1])
    assert _back("log", np.array([1.0]), np.array([0.5]))[0] == pytest.approx(np.exp(1.25))


def test_transformed_intervals_and_delta_method_mse() -> None:
    fh = _transformed("arcsin")
    t = fh.to_frame()
    # intervals: the model-scale interval EBLUP -/+ z rmse_theta, transformed back, so
    # shares stay in [0, 1]; Prasad-Rao MSE by the delta method: sin(2 EBLUP)^2 mse_theta
    y = np.arcsin(np.sqrt(SHARES["share"].to_numpy()))
    psi = 1 / (4 * SHARES["n_eff"].to_numpy())
    model = es.fay_herriot(
        SHARES.assign(y=y, psi=psi), estimate="y", variance="psi", covariates=["x1"], area="area"
    ).to_frame()
    eblup, mse_theta = model["estimate"].to_numpy(), model["mse"].to_numpy()
    np.testing.assert_allclose(t["mse"], np.sin(2 * eblup) ** 2 * mse_theta, rtol=1e-12)
    z = 1.959963984540054
    lo = np.sin(np.clip(eblup - z * np.sqrt(mse_theta), 0, np.pi / 2)) ** 2
    np.testing.assert_allclose(t["lower"], lo, rtol=1e-12)
    assert ((t["lower"] >= 0) & (t["upper"] <= 1) & (t["lower"] <= t["estimate"])).all()
    assert (t["estimate"] <= t["upper"]).all()
    log = _transformed("log").to_frame()
    assert (log["lower"] > 0).all()


def test_bootstrap_mse_agrees_with_the_second_order_mse() -> None:
    # The parametric bootstrap estimates E(theta_hat - theta)^2 at the fitted parameters,
    # whose second-order value is g1 + g2 + g3 (Rao & Molina 2015, 6.2.4; the Prasad-Rao
    # estimator adds a second g3 to correct g1's bias). Over 20 areas and B = 2000 it is
    # within 15% of it on average, and between g1 + g2 and g1 + g2 + 2 g3 area by area
    # up to the Monte Carlo error.
    s2 = _fit("REML").sigma2_u
    psi = AREAS["direct_var"].to_numpy()
    x = np.column_stack([np.ones(len(AREAS)), AREAS["x1"], AREAS["x2"]])
    v = s2 + psi
    gamma = s2 / v
    lev = np.einsum("ij,jk,ik->i", x, np.linalg.inv(x.T @ (x / v[:, None])), x)
    g12 = gamma * psi + (1 - gamma) ** 2 * lev
    g3 = psi**2 / v**3 * (2.0 / np.sum(1.0 / v**2))
    boot = es.fay_herriot(
        AREAS, estimate="direct", variance="direct_var", covariates=["x1", "x2"], area="area",
        mse="bootstrap", B=2000, rng=3,
    )  # fmt: skip
    mse = boot.to_frame()["mse"].to_numpy()
    assert boot.mse_method == "bootstrap"
    assert 0.85 < np.mean(mse / (g12 + g3)) < 1.15
    assert (mse > 0.9 * g12).all() and (mse < 1.1 * (g12 + 2 * g3)).all()
    again = es.fay_herriot(
        AREAS, estimate="direct", variance="direct_var", covariates=["x1", "x2"], area="area",
        mse="bootstrap", B=2000, rng=3,
    )  # fmt: skip
    pd.testing.assert_frame_equal(boot.to_frame(), again.to_frame())  # same seed, same MSE


@pytest.mark.slow
def test_arcsin_model_covers_on_data_drawn_from_it() -> None:
    # 300 draws of the 20 share areas from the arcsin model (theta = x'beta + u, sigma_u
    # 0.1; y = theta + N(0, 1/(4 n_eff))): the bias-corrected estimate beats the direct
    # share and the bootstrap intervals cover 90-98% on the share scale.
    rng = np.random.default_rng(5)
    x = np.column_stack([np.ones(20), SHARES["x1"]])
    psi = 1 / (4 * SHARES["n_eff"].to_numpy())
    err_fh, err_direct, cover = [], [], []
    for _ in range(300):
        theta = np.clip(x @ [0.4, 0.7] + rng.normal(0, 0.1, 20), 0, np.pi / 2)
        y = np.clip(theta + rng.normal(0, np.sqrt(psi)), 0, np.pi / 2)
        truth = np.sin(theta) ** 2
        fh = es.fay_herriot(
            SHARES.assign(share=np.sin(y) ** 2), estimate="share", variance="share",
            effective_n="n_eff", covariates=["x1"], area="area", transform="arcsin",
            mse="bootstrap", B=100, rng=rng,
        ).to_frame()  # fmt: skip
        err_fh.append(fh["estimate"].to_numpy() - truth)
        err_direct.append(np.sin(y) ** 2 - truth)
        cover.append((fh["lower"] <= truth) & (truth <= fh["upper"]))
    assert np.sqrt(np.mean(np.square(err_fh))) < 0.8 * np.sqrt(np.mean(np.square(err_direct)))
    assert 0.90 <= np.mean(cover) <= 0.98


def test_transform_errors_name_the_area() -> None:
    bad = SHARES.assign(share=SHARES["share"].where(SHARES.index != 4, 1.2))
    with pytest.raises(DataError, match=r"area 'S05' has direct estimate 1\.2.*between 0 and 1"):
        es.fay_herriot(
            bad, estimate="share", variance="share", effective_n="n_eff", area="area",
            transform="arcsin",
        )  # fmt: skip
    zero = SHARES.assign(count=SHARES["count"].where(SHARES.index != 2, 0.0))
    with pytest.raises(DataError, match=r"area 'S03' has direct estimate 0\.0, which has no log"):
        es.fay_herriot(zero, estimate="count", variance="count_var", area="area", transform="log")
    edge = SHARES.assign(share=SHARES["share"].where(SHARES.index != 0, 0.0), v=0.01)
    with pytest.raises(DataError, match=r"area 'S01' has a direct share of 0\.0.*effective_n="):
        es.fay_herriot(edge, estimate="share", variance="v", area="area", transform="arcsin")
    with pytest.raises(DesignError, match="effective_n= is used only with transform='arcsin'"):
        es.fay_herriot(
            SHARES, estimate="count", variance="count_var", area="area", effective_n="n_eff"
        )
    with pytest.raises(DesignError, match="B=5 bootstrap replicates"):
        es.fay_herriot(
            SHARES, estimate="count", variance="count_var", area="area", mse="bootstrap", B=5
        )


# ------------------------------------------------------------ from a design: the demo
@pytest.fixture(scope="module")
def demo():
    root = Path(__file__).resolve().parents[1] / "data" / "raw"
    units = es.survey_frame(es.load_study(root / "frame.xlsx", root / "responses.xlsx"))
    units["workers"] = units["emp_uop"].astype("Float64") + units["emp_civil"].astype("Float64")
    design = es.SurveyDesign.from_frame(units, "sampled", strata="stratum")
    adjusted = design.adjust_nonresponse(
        "responded", model="logit",
        covariates=["statement_filed", "krs_economic", "year_registered"],
        ineligible="observed",
    )  # fmt: skip
    return units, adjusted


def test_small_area_inputs_are_the_register_scaled_direct_estimates(demo) -> None:
    units, design = demo
    fh = es.small_area(design, "active", area="powiat_name", register=units, B=50)
    t = fh.to_frame().set_index("area")
    f = es.sector_funnel(design, by="powiat_name", stages=["active"], register=units)
    direct = f.to_frame().query("stage == 'active'").set_index("powiat_name")
    np.testing.assert_allclose(t["direct"], direct["estimate"].reindex(t.index), rtol=1e-12)
    counts = units.groupby("powiat_name").size()
    assert t["register"].to_dict() == {k: float(v) for k, v in counts.items()}
    # counts stay within the register, and the model uses the register's covariate
    assert ((t["lower"] >= 0) & (t["upper"] <= t["register"])).all()
    assert (t["estimate"] <= t["register"]).all()
    assert list(fh.beta.index) == ["intercept", "statement_filed"]
    assert fh.transform == "arcsin" and fh.mse_method == "bootstrap"


def test_small_area_variance_smoothing_written_out(demo) -> None:
    # shares: psi_d = p (1 - p) (1 - n_d/N_d) / n_d, p the regional share, at least
    # 1 / (4 N_d^2); on the arcsin scale 1 / (4 n_eff) with n_eff = p (1 - p) / psi_d
    units, design = demo
    t = es.small_area(design, "active", area="powiat_name", register=units, B=20).to_frame()
    f = es.sector_funnel(design, by="powiat_name", stages=["active"], register=units)
    d = f.to_frame().query("stage == 'active'").set_index("powiat_name").reindex(t["area"])
    big_n = t["register"].to_numpy()
    n = t["n"].to_numpy()
    p = d["estimate"].sum() / big_n.sum()
    psi = np.maximum(p * (1 - p) * (1 - n / big_n) / n, 1 / (4 * big_n**2))
    np.testing.assert_allclose(t["direct_var"], psi * big_n**2, rtol=1e-10)


def test_small_area_workers_on_the_log_scale(demo) -> None:
    # workers per registered unit r_d = Y_d / N_d; relative variance c (1 - f_d) / n_d with
    # c = sum v_d / sum r_d^2 (1 - f_d) / n_d over areas with n_d >= 2; covariate: the
    # area share of NGO-category entities
    units, design = demo
    fh = es.small_area(design, "workers", area="powiat_name", register=units, B=20)
    t = fh.to_frame()
    d = es.population_totals(design, "workers", by="powiat_name", register=units)
    d = d.set_index("powiat_name").reindex(t["area"])
    big_n, n = t["register"].to_numpy(), t["n"].to_numpy()
    r, v = d["estimate"].to_numpy() / big_n, (d["se"].to_numpy() / big_n) ** 2
    fpc_n = (1 - n / big_n) / n
    pool = (n >= 2) & (r > 0)
    c = v[pool].sum() / (r[pool] ** 2 * fpc_n[pool]).sum()
    ok = r > 0
    np.testing.assert_allclose(
        t["direct_var"].to_numpy()[ok], (c * r**2 * fpc_n * big_n**2)[ok], rtol=1e-10
    )
    assert fh.transform == "log" and list(fh.beta.index) == ["intercept", "es_category=NGO"]
    share_ngo = units.assign(ngo=units["es_category"] == "NGO").groupby("powiat_name")["ngo"]
    assert (t["lower"] > 0).all() and np.isfinite(t["estimate"]).all()
    assert share_ngo.mean().notna().all()


@pytest.mark.parametrize(
    ("method", "transform", "sigma_u"),
    [("REML", None, 1.0), ("ML", "log", 0.3), ("REML", "arcsin", 0.05), ("REML", None, 0.0)],
)
def test_bootstrap_refits_replicates_together_as_one_at_a_time(method, transform, sigma_u):
    # The bootstrap refits all replicates at once; each must be the model refitted on its
    # own (the single fit is checked against R above), with the draws of a plain loop.
    from es_survey.sae import _back, _bootstrap_mse, _eblup

    rng = np.random.default_rng(5)
    m = 15
    x = np.column_stack([np.ones(m), rng.normal(size=m)])
    has = np.ones(m, dtype=bool)
    has[[3, 9]] = False
    psi = rng.uniform(0.002, 0.01, m) if transform == "arcsin" else rng.uniform(0.05, 0.2, m)
    base = 0.5 + 0.1 * x[:, 1] if transform == "arcsin" else 2.0 + 0.5 * x[:, 1]
    y = np.where(has, base + rng.normal(0, sigma_u, m) + rng.normal(0, np.sqrt(psi)), np.nan)
    fit = _eblup(y, psi, x, has, method)
    together = _bootstrap_mse(fit, psi, x, has, method, transform, 60, np.random.default_rng(9))
    gen = np.random.default_rng(9)
    sq = np.zeros(m)
    for _ in range(60):
        theta = x @ fit.beta + gen.normal(0.0, 1.0, m) * np.sqrt(fit.sigma2)
        ys = np.where(has, theta + gen.normal(0.0, 1.0, m) * np.sqrt(psi), np.nan)
        star = _eblup(ys, psi, x, has, method)
        sq += (_back(transform, star.theta, star.g1) - _back(transform, theta, 0 * theta)) ** 2
    np.testing.assert_allclose(together, sq / 60, rtol=1e-9)
