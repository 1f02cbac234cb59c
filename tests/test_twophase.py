"""Two-phase designs (es_survey.TwoPhaseDesign) against R's twophase(method = "full").

Reference: tests/reference/make_reference_twophase.R -> twophase_sample.csv and
r_twophase.json (114 phase-1 units in 4 strata; phase 2 = respondents and a random 30%
of the nonrespondents of each stratum; phase-2 strata = stratum x responded). The R
script also checks R's value against the estimator written out over all pairs of units,
and records the different value R gives on a stratum-sorted file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import es_survey as es
from es_survey.errors import DesignError

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "r_twophase.json").read_text())
DATA = pd.read_csv(REF / "twophase_sample.csv")


def _design(data: pd.DataFrame = DATA, **kw) -> es.TwoPhaseDesign:
    return es.TwoPhaseDesign(
        data,
        strata=("stratum", ["stratum", "responded"]),
        fpc=("N_h", None),
        subset="phase2",
        **kw,
    )


def _se(value) -> float:
    return float(np.ravel(value)[0])


def test_totals_means_ratio_and_proportions_match_r() -> None:
    d2 = _design()
    assert d2.df == R["degf"] == 61
    t = d2.total("workers").to_frame().iloc[0]
    assert t["estimate"] == pytest.approx(R["total_workers"]["estimate"], rel=1e-10)
    assert t["se"] == pytest.approx(_se(R["total_workers"]["se"]), rel=1e-8)
    assert t["se"] == pytest.approx(R["total_by_hand_se"], rel=1e-8)  # the written-out formula
    for var, key in (("workers", "mean_workers"), ("active", "mean_active")):
        m = d2.mean(var).to_frame().iloc[0]
        assert m["estimate"] == pytest.approx(R[key]["estimate"], rel=1e-10)
        assert m["se"] == pytest.approx(_se(R[key]["se"]), rel=1e-8)
    r = d2.ratio("workers", "members").to_frame().iloc[0]
    assert r["estimate"] == pytest.approx(R["ratio_workers_members"]["estimate"], rel=1e-10)
    assert r["se"] == pytest.approx(R["ratio_workers_members"]["se"], rel=1e-8)
    p = d2.proportion("type").to_frame()
    assert p["category"].tolist() == R["proportion_type"]["category"]
    np.testing.assert_allclose(p["estimate"], R["proportion_type"]["estimate"], rtol=1e-10)
    np.testing.assert_allclose(p["se"], R["proportion_type"]["se"], rtol=1e-8)


@pytest.mark.parametrize(
    ("key", "call"),
    [
        ("total_workers_by_type", lambda d: d.total("workers", by="type")),
        ("mean_workers_by_type", lambda d: d.mean("workers", by="type")),
        ("ratio_by_type", lambda d: d.ratio("workers", "members", by="type")),
        ("total_active_by_type", lambda d: d.total("active", by="type")),
    ],
)
def test_domains_match_r_svyby(key, call) -> None:
    f = call(_design()).to_frame()
    assert f["type"].tolist() == R[key]["domain"]
    np.testing.assert_allclose(f["estimate"], R[key]["estimate"], rtol=1e-10)
    np.testing.assert_allclose(f["se"], R[key]["se"], rtol=1e-8)


def test_domain_equals_its_by_row_and_intervals_use_phase2_df() -> None:
    d2 = _design()
    by = d2.total("workers", by="type").to_frame().set_index("type")
    coop = d2.domain(d2.data["type"] == "COOP").total("workers").to_frame().iloc[0]
    assert coop["estimate"] == pytest.approx(by.loc["COOP", "estimate"], rel=1e-12)
    assert coop["se"] == pytest.approx(by.loc["COOP", "se"], rel=1e-12)
    # t with df = phase-2 units - phase-2 strata: 69 - 8 = 61 overall
    t = d2.total("workers").to_frame().iloc[0]
    q = stats.t.ppf(0.975, 61)
    assert t["lower"] == pytest.approx(t["estimate"] - q * t["se"], rel=1e-12)
    # a domain: its phase-2 units minus the phase-2 strata they occupy (hand count)
    rows = DATA[DATA["phase2"] & (DATA["type"] == "COOP")]
    expected = len(rows) - rows[["stratum", "responded"]].drop_duplicates().shape[0]
    assert by.loc["COOP", "df"] == expected


def test_weights_are_the_double_expansion() -> None:
    d2 = _design()
    data = d2.data
    n_h = DATA.groupby("stratum").size()
    cell = DATA.groupby(["stratum", "responded"]).size()
    cell2 = data.groupby(["stratum", "responded"]).size()
    expected = [
        row.N_h / n_h[row.stratum] * cell[(row.stratum, row.responded)]
        / cell2[(row.stratum, row.responded)]
        for row in data.itertuples()
    ]  # fmt: skip
    np.testing.assert_allclose(d2.weights, expected, rtol=1e-12)
    assert d2.weights.sum() == pytest.approx(DATA["N_h"].groupby(DATA["stratum"]).first().sum())
    assert len(d2.phase1) == 114 and d2.n == 69
    assert repr(d2).startswith("TwoPhaseDesign: 114 phase-1 units in 4 strata; 69 in phase 2")


def test_every_unit_in_phase_two_is_the_stratified_design() -> None:
    # no subsampling: the phase-2 term vanishes and the phase-1 term is the stratified
    # variance, as SurveyDesign (checked against R's svydesign elsewhere) gives it
    full = DATA[DATA["phase2"]].assign(everyone=True)
    d2 = es.TwoPhaseDesign(
        full, strata=("stratum", ["stratum", "responded"]), fpc=("N_h", None), subset="everyone"
    )
    one = es.SurveyDesign(full, strata="stratum", fpc="N_h")
    for a, b in (
        (d2.total("workers"), one.total("workers")),
        (d2.mean("active"), one.mean("active")),
    ):
        fa, fb = a.to_frame().iloc[0], b.to_frame().iloc[0]
        assert fa["estimate"] == pytest.approx(fb["estimate"], rel=1e-12)
        assert fa["se"] == pytest.approx(fb["se"], rel=1e-10)


def test_errors_name_the_stratum_and_the_fix() -> None:
    with pytest.raises(DesignError, match=r"phase-2 stratum 'S1 × 0' has 1 phase-2 unit of 29"):
        one = DATA.copy()
        nonresp = one.index[(one["stratum"] == "S1") & (one["responded"] == 0) & one["phase2"]]
        one.loc[nonresp[1:], "phase2"] = False
        _design(one)
    removed = _design(one, lonely_psu="remove")
    assert np.isfinite(removed.total("workers").to_frame()["se"].iloc[0])
    none = DATA.copy()
    none.loc[(none["stratum"] == "S2") & (none["responded"] == 0), "phase2"] = False
    with pytest.raises(DesignError, match=r"phase-2 stratum 'S2 × 0' has 12 phase-1 units but"):
        _design(none)
    with pytest.raises(DesignError, match=r"stratum '1' spans phase-1 strata 'S1' and 'S2'"):
        es.TwoPhaseDesign(DATA, strata=("stratum", "responded"), fpc=("N_h", None),
                          subset="phase2")  # fmt: skip
    with pytest.raises(DesignError, match=r"subset column 'responded' must be boolean"):
        es.TwoPhaseDesign(DATA, strata=("stratum", None), fpc=("N_h", None), subset="responded")
    with pytest.raises(DesignError, match=r"clusters \(psu=\) in a two-phase design"):
        _design(psu=("stratum", None))
    with pytest.raises(DesignError, match=r"fpc column 'N_h' takes values \[40.0, 41.0\]"):
        bad = DATA.copy()
        bad.loc[bad.index[-1], "N_h"] = 41
        _design(bad)
    with pytest.raises(DesignError, match="to population totals is not available"):
        _design().poststratify("type", {"NGO": 1, "COOP": 1, "REINT": 1})
    assert not DATA["phase2"].isna().any()  # the input is never modified


def test_from_frame_and_the_simulated_followup() -> None:
    from es_survey import synth

    pop = synth.make_population(2023)
    sample = synth.simulate_followup(
        synth.simulate_response(synth.draw_sample(pop, rng=1), rng=2), 0.3, rng=3
    )
    # every stratum with units of unknown status follows up round(0.3 k), at least 2
    unknown = sample[~sample["status_known"]].groupby("stratum").size()
    followed = sample[sample["followed_up"]].groupby("stratum").size()
    for h, k in unknown.items():
        assert followed.get(h, 0) == min(k, max(2, round(0.3 * k)))
    assert not (sample["followed_up"] & sample["status_known"]).any()
    frame = pop.assign(
        stratum=synth.design_strata(pop), sampled=pop.index.isin(sample.index),
        status_known=False, followed_up=False,
    )  # fmt: skip
    frame.loc[sample.index, "status_known"] = sample["status_known"].to_numpy()
    frame.loc[sample.index, "followed_up"] = sample["followed_up"].to_numpy()
    d2 = es.TwoPhaseDesign.from_frame(frame, lonely_psu="remove")
    # the weights add up to the frame; a followed-up unit's weight is N_h/n_h x n_g/m_g
    assert d2.weights.sum() == pytest.approx(len(pop))
    data = d2.data
    row = data[data["followed_up"]].iloc[0]
    h = row["stratum"]
    in_h = sample[sample["stratum"] == h]
    n_g = int((~in_h["status_known"]).sum())
    m_g = int(in_h["followed_up"].sum())
    expected = (frame["stratum"] == h).sum() / len(in_h) * n_g / m_g
    assert d2.weights[list(data.index).index(row.name)] == pytest.approx(expected)
    with pytest.raises(DesignError, match=r"column\(s\) \['nope'\] are not in the frame"):
        es.TwoPhaseDesign.from_frame(frame, known="nope")


# ------------------------------------------------ phase-2 calibration to phase-1 totals
CALIBRATIONS = {
    "linear_krs": lambda d: d.calibrate_phase2("krs"),
    "raking_legal_income": lambda d: d.calibrate_phase2(["legal", "reg_income"], method="raking"),
    "linear_legal_nostrata": lambda d: d.calibrate_phase2("legal", keep_strata=False),
}


@pytest.mark.parametrize("name", list(CALIBRATIONS))
def test_phase2_calibration_matches_r(name) -> None:
    ref = R["calibrated"][name]
    d = CALIBRATIONS[name](_design())
    np.testing.assert_allclose(d.weights, ref["weights"], rtol=1e-9)
    t = d.total("workers").to_frame().iloc[0]
    assert t["estimate"] == pytest.approx(ref["total_workers"]["estimate"], rel=1e-10)
    assert t["se"] == pytest.approx(_se(ref["total_workers"]["se"]), rel=1e-8)
    for var, key in (("workers", "mean_workers"), ("active", "mean_active")):
        m = d.mean(var).to_frame().iloc[0]
        assert m["estimate"] == pytest.approx(ref[key]["estimate"], rel=1e-10)
        assert m["se"] == pytest.approx(_se(ref[key]["se"]), rel=1e-8)
    r = d.ratio("workers", "members").to_frame().iloc[0]
    assert r["estimate"] == pytest.approx(ref["ratio_workers_members"]["estimate"], rel=1e-10)
    assert r["se"] == pytest.approx(ref["ratio_workers_members"]["se"], rel=1e-8)
    p = d.proportion("type").to_frame()
    np.testing.assert_allclose(p["estimate"], ref["proportion_type"]["estimate"], rtol=1e-10)
    np.testing.assert_allclose(p["se"], ref["proportion_type"]["se"], rtol=1e-8)
    for key, call in (
        ("total_workers_by_type", lambda x: x.total("workers", by="type")),
        ("ratio_by_type", lambda x: x.ratio("workers", "members", by="type")),
    ):
        f = call(d).to_frame()
        assert f["type"].tolist() == ref[key]["domain"]
        np.testing.assert_allclose(f["estimate"], ref[key]["estimate"], rtol=1e-10)
        np.testing.assert_allclose(f["se"], ref[key]["se"], rtol=1e-8)
    # R's svyby() on a calibrated two-phase design drops the out-of-domain pairs of the
    # calibration residuals (the R script explains); the linearisation above is larger
    if name == "linear_krs":
        svyby = np.asarray(ref["svyby_se_total_workers_by_type"])
        se = d.total("workers", by="type").to_frame()["se"].to_numpy()
        assert (se > svyby * 1.01).all()


@pytest.mark.parametrize("name", [None, *CALIBRATIONS])
def test_phase_terms_match_r(name) -> None:
    d = _design() if name is None else CALIBRATIONS[name](_design())
    ref = R["uncalibrated_phases"] if name is None else R["calibrated"][name]["phases"]
    b = d.weights * d.data["workers"].to_numpy(dtype=float)
    v1, v2 = d._engine.phases(b)
    assert v1[0, 0] == pytest.approx(ref["phase1"], rel=1e-8)
    assert v2[0, 0] == pytest.approx(ref["phase2"], rel=1e-8)


def test_phase2_calibration_meets_phase1_totals_by_hand() -> None:
    d = _design().calibrate_phase2(["legal", "krs"])
    w1 = (DATA["N_h"] / DATA.groupby("stratum")["N_h"].transform("size"))[DATA["phase2"]]
    d2g = d.weights / w1.to_numpy()  # the calibrated phase-2 conditional weights
    data = d.data
    assert (d2g * data["krs"]).sum() == pytest.approx(DATA["krs"].sum(), rel=1e-10)
    for cat, count in DATA["legal"].value_counts().items():
        assert d2g[data["legal"].eq(cat).to_numpy()].sum() == pytest.approx(count, rel=1e-10)
    # keep_strata: each phase-2 stratum keeps its phase-1 count n_g
    cells = DATA.groupby(["stratum", "responded"]).size()
    got = pd.Series(d2g, index=data.index).groupby([data["stratum"], data["responded"]]).sum()
    np.testing.assert_allclose(got.to_numpy(), cells.loc[got.index].to_numpy(), rtol=1e-10)
    assert d.calibrated_on == ["legal", "krs"]
    assert "phase-2 weights calibrated (linear) on ['legal', 'krs']" in repr(d)


def test_phase2_calibration_errors_name_the_problem() -> None:
    d2 = _design()
    with pytest.raises(DesignError, match="not in the phase-1 data"):
        d2.calibrate_phase2("size")
    with pytest.raises(DesignError, match="not a domain"):
        d2.domain(d2.data["type"] == "NGO").calibrate_phase2("krs")
    with pytest.raises(DesignError, match="calibrated already"):
        d2.calibrate_phase2("krs").calibrate_phase2("legal")
    holes = DATA.assign(krs=DATA["krs"].astype(float))
    holes.loc[5, "krs"] = np.nan
    with pytest.raises(es.errors.DataError, match=r"'krs' is missing in phase-1 row 5"):
        _design(holes).calibrate_phase2("krs")
    # a category with phase-1 units and none in phase 2
    rare = DATA.assign(legal=DATA["legal"].where(DATA["phase2"], "other"))
    n_other = int((~DATA["phase2"]).sum())
    with pytest.raises(es.errors.DataError, match=f"'other' of 'legal' has {n_other} phase-1"):
        _design(rare).calibrate_phase2("legal")
    with pytest.raises(DesignError, match="calibrate_phase2"):
        d2.calibrate({"krs": 50.0})
