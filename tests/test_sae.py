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
    with pytest.raises(DesignError, match="not available yet"):
        es.fay_herriot(
            AREAS, estimate="direct", variance="direct_var", area="area", transform="log"
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


# ------------------------------------------------------------ from a design: the demo
@pytest.fixture(scope="module")
def demo():
    root = Path(__file__).resolve().parents[1] / "data" / "raw"
    units = es.survey_frame(es.load_study(root / "frame.xlsx", root / "responses.xlsx"))
    design = es.SurveyDesign.from_frame(units, "sampled", strata="stratum")
    adjusted = design.adjust_nonresponse(
        "responded", model="logit",
        covariates=["statement_filed", "krs_economic", "year_registered"],
        ineligible="observed",
    )  # fmt: skip
    return units, adjusted


def test_small_area_inputs_are_the_register_scaled_direct_estimates(demo) -> None:
    units, design = demo
    fh = es.small_area(design, "active", area="powiat_name", register=units)
    t = fh.to_frame().set_index("area")
    f = es.sector_funnel(design, by="powiat_name", stages=["active"], register=units)
    direct = f.to_frame().query("stage == 'active'").set_index("powiat_name")
    np.testing.assert_allclose(t["direct"], direct["estimate"].reindex(t.index), rtol=1e-12)
    counts = units.groupby("powiat_name").size()
    assert t["register"].to_dict() == {k: float(v) for k, v in counts.items()}
    # counts stay within the register, and the model uses the register's covariates
    assert ((t["lower"] >= 0) & (t["upper"] <= t["register"])).all()
    assert (t["estimate"] <= t["register"]).all()
    assert list(fh.beta.index) == ["intercept", "statement_filed", "krs_economic", "opp"]


def test_small_area_variance_smoothing_written_out(demo) -> None:
    # psi_d = deff * p (1 - p) (1 - n_d/N_d) / n_d on the share scale, deff pooled over
    # areas with n_d >= 2 as sum v_d / sum srs_d (see es_survey.sae.small_area)
    units, design = demo
    t = es.small_area(design, "active", area="powiat_name", register=units).to_frame()
    f = es.sector_funnel(design, by="powiat_name", stages=["active"], register=units)
    d = f.to_frame().query("stage == 'active'").set_index("powiat_name").reindex(t["area"])
    big_n = t["register"].to_numpy()
    n = t["n"].to_numpy()
    p = d["estimate"].sum() / big_n.sum()
    srs = p * (1 - p) * (1 - n / big_n) / n
    v = (d["se"].to_numpy() / big_n) ** 2
    deff = v[n >= 2].sum() / srs[n >= 2].sum()
    psi = np.maximum(deff * srs, 1 / (4 * big_n**2))
    np.testing.assert_allclose(t["direct_var"], psi * big_n**2, rtol=1e-10)
