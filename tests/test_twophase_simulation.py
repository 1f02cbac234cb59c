"""A 30% follow-up of nonrespondents and the two-phase estimator, on the synthetic region.

500 draws (tests/twophase_simulation.py): the demo's sample, fieldwork in which inactive
entities answer far less often, and a follow-up of 30% of each stratum's units of unknown
status whose true status the desk research establishes. Known truth: 280 active, 112
earning, 104 employing entities, 3,363 workers. The table is in docs/methods.md.
"""

from __future__ import annotations

import pytest
import twophase_simulation as sim

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def table():
    _, summary = sim.run(500)
    print(f"\n{summary.round(4).to_string()}")
    return summary


def test_two_phase_removes_the_nonresponse_bias(table) -> None:
    two = table.loc["two_phase"]
    assert (two["rel_bias"].abs() <= 0.02).all()
    assert (table.loc["two_phase_cal", "rel_bias"].abs() <= 0.02).all()
    # without follow-up, reweighting on the register leaves employing entities +16%
    adjusted = table.loc["adjusted"]
    assert adjusted.loc["employing", "rel_bias"] > 0.10
    assert adjusted.loc["employing", "coverage"] < 0.75


def test_two_phase_intervals_cover(table) -> None:
    two = table.loc["two_phase"]
    assert 0.93 <= two.loc["active", "coverage"] <= 0.97
    # The SEs are not biased down; the misses are one-sided (estimate and SE low
    # together) because few earners, employers and large employers are among the
    # followed-up NGOs (weight about 6.6). docs/methods.md has the diagnosis and the
    # remedies measured. Paid activity and employment: about 91-92%.
    assert two.loc["earning", "coverage"] >= 0.90
    assert two.loc["employing", "coverage"] >= 0.90
    # workers: heavy-tailed counts, about 84%; even following up every nonrespondent
    # gives 92% on this phase-1 sample - documented, not hidden
    assert two.loc["workers", "coverage"] >= 0.80


def test_phase2_calibration_narrows_the_active_count_and_keeps_coverage(table) -> None:
    # calibrating the follow-up's weights to the sample's counts of two register
    # entries: the Monte Carlo SD of active entities falls from about 18 to 15 (the
    # register entries predict activity), coverage stays; the other three change little
    two, cal = table.loc["two_phase"], table.loc["two_phase_cal"]
    assert cal.loc["active", "sd"] < 0.9 * two.loc["active", "sd"]
    assert 0.93 <= cal.loc["active", "coverage"] <= 0.97
    for q in ("earning", "employing"):
        assert cal.loc[q, "coverage"] >= 0.90
    assert cal.loc["workers", "coverage"] >= 0.80
    # the SEs of the calibrated design track its Monte Carlo SD (ratio 0.85-1.15)
    assert ((cal["mean_se"] / cal["sd"]).between(0.85, 1.15)).all()


def test_without_followup_the_sensitivity_range_contains_the_truth(table) -> None:
    # nonrespondents 0.5 to 1 times as likely to be active / earning / employing (and
    # their workers scaled alike) as similar respondents: the range of the intervals
    sens = table.loc["sensitivity"]
    assert (sens["coverage"] >= 0.90).all()
