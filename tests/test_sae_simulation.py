"""Small-area estimates against the synthetic region's known powiat truth (issue 10).

200 draws of the demo's survey (sample, fieldwork, weighting as the demo study: see
tests/sae_simulation.py). For every powiat the truth is the population's count of
active entities and of their workers; the direct estimate is the register-scaled
domain estimate (es.sector_funnel / es.population_totals with register=), the model
estimate es.small_area (arcsin scale for the share active, log scale for workers per
registered entity; parametric bootstrap MSE). The table in docs/methods.md is printed by
``python tests/sae_simulation.py``.
"""

from __future__ import annotations

import pandas as pd
import pytest
import sae_simulation as sim

DRAWS = 200

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def table() -> tuple[pd.DataFrame, pd.DataFrame]:
    _, per = sim.run(DRAWS, replicates=200)
    return per, sim.overall(per)


def test_active_entities_model_beats_direct_and_covers(table) -> None:
    per, overall = table
    print(f"\n{per.round(3).to_string()}\n{overall.round(3).to_string()}")
    active = overall.loc["active"]
    # averaged over the 14 powiats
    assert active["rmse_fh"] <= 0.6 * active["rmse_direct"]
    assert 0.90 <= active["cover_fh"] <= 0.97
    assert active["cv_fh_le_20"] >= 0.75  # about 11 of 14 powiats publishable per sample
    # the model's bias is small against the counts it estimates, on average
    assert abs(per.loc["active", "bias_fh"].mean()) < 0.5


def test_workers_model_is_no_worse_than_direct(table) -> None:
    # workers are concentrated in a few large employers: the model helps less
    _, overall = table
    workers = overall.loc["workers"]
    assert workers["rmse_fh"] <= 0.9 * workers["rmse_direct"]
    assert workers["cover_fh"] >= 0.85
    assert workers["cover_fh"] > workers["cover_direct"]
