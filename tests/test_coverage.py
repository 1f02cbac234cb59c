"""Monte Carlo check of the 95% intervals on the demo's synthetic population.

The population (``synth.make_population(2023)``) has a known truth: 280 active
entities and 3,363 workers. We draw R = 1,000 stratified samples exactly as the demo's
design draws them (``synth.draw_sample``: take-all strata for cooperatives and
reintegration units, half of each NGO stratum), estimate with the design's strata,
weights and fpc, and count how often the interval covers the truth.

Monte Carlo standard error of a coverage near 0.95 with 1,000 draws is about 0.007, so
the band 0.93-0.97 the issue asks for is roughly +/- 3 Monte Carlo SEs.

Results with this seed (recorded in docs/methods.md): active entities 96.0%; workers
89.4% (Wald t) and 90.4% (log-scale interval). The worker total undercovers because
NGO strata are very skewed (skewness about 7: a few large employers), far beyond
Cochran's rule n > 25 G1^2; samples that miss the large employers understate both the
total and its SE, so nearly all misses fall below the truth.
"""

from __future__ import annotations

import numpy as np
import pytest

from es_survey import SurveyDesign, synth

DRAWS = 1_000

# Monte Carlo: run by `.ci/run` in its second step (`pytest -m slow`), not by default.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def simulation() -> dict[str, np.ndarray]:
    population = synth.make_population(2023)
    truth = {
        "active": float(population["active"].sum()),
        "workers": float(population["workers"].sum()),
    }
    rng = np.random.default_rng(20231126)
    est = np.empty((DRAWS, 2))
    wald = np.empty((DRAWS, 2, 2))
    log = np.empty((DRAWS, 2))
    for r in range(DRAWS):
        sample = synth.draw_sample(population, rng)
        design = SurveyDesign(sample, weights="weight", strata="stratum", fpc="N_h")
        e = design.total(["active", "workers"])
        est[r] = e.estimate
        wald[r] = np.column_stack(e.interval(0.95))
        log[r] = np.column_stack(design.total("workers", interval="log").interval(0.95))[0]
    return {"truth": truth, "est": est, "wald": wald, "log": log}


def _covered(bounds: np.ndarray, truth: float) -> np.ndarray:
    return (bounds[..., 0] <= truth) & (truth <= bounds[..., 1])


def test_truth_is_the_published_headline(simulation):
    assert simulation["truth"]["active"] == 280
    assert 3_300 <= simulation["truth"]["workers"] <= 3_500


def test_active_entities_intervals_cover_93_to_97_percent(simulation):
    coverage = _covered(simulation["wald"][:, 0], simulation["truth"]["active"]).mean()
    assert 0.93 <= coverage <= 0.97, coverage


@pytest.mark.parametrize(("column", "name"), [(0, "active"), (1, "workers")])
def test_horvitz_thompson_totals_are_unbiased(simulation, column, name):
    est = simulation["est"][:, column]
    mc_se = est.std(ddof=1) / np.sqrt(DRAWS)
    assert abs(est.mean() - simulation["truth"][name]) < 3 * mc_se


def test_worker_coverage_reported_honestly_and_log_interval_is_no_worse(simulation):
    truth = simulation["truth"]["workers"]
    wald = _covered(simulation["wald"][:, 1], truth)
    log = _covered(simulation["log"], truth)
    # Heavy tail: the Wald interval falls short of 95% (documented in docs/methods.md).
    assert 0.86 <= wald.mean() <= 0.93, wald.mean()
    assert log.mean() >= wald.mean()
    # Nearly every miss lies below the truth (samples without the large employers).
    below = (simulation["wald"][:, 1, 1] < truth).sum()
    assert below >= 0.9 * (~wald).sum()


def test_take_all_large_employers_restores_worker_coverage():
    # The remedy docs/methods.md offers: when the frame has a size measure, sample the
    # large employers with certainty. Here the size measure is the truth itself (an
    # oracle standing in for a register's employment figure): the 16 NGO-type units
    # with at least 10 workers form a take-all stratum; the rest is sampled as before.
    population = synth.make_population(2023)
    truth = float(population["workers"].sum())
    ngo = synth.design_strata(population).str.startswith("NGO").to_numpy()
    large = ngo & (population["workers"].to_numpy() >= 10)
    assert large.sum() == 16
    rng = np.random.default_rng(20231126)
    hits = 0
    for _ in range(DRAWS):
        sample = synth.draw_sample(population, rng, certainty=large)
        design = SurveyDesign(sample, weights="weight", strata="stratum", fpc="N_h")
        lower, upper = design.total("workers").interval(0.95)
        hits += bool(lower[0] <= truth <= upper[0])
    assert 0.93 <= hits / DRAWS <= 0.97, hits / DRAWS
