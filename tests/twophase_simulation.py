"""Draws of the demo's survey with a follow-up of nonrespondents, for the two-phase Monte Carlo.

Shared by ``tests/test_twophase_simulation.py`` (the marked Monte Carlo) and the table
in docs/methods.md (``python tests/twophase_simulation.py [draws] [share]``). One draw:
the demo's stratified sample (synth.draw_sample), simulated fieldwork
(synth.simulate_response: inactive units answer far less often), and a follow-up of 30%
(or ``share``) of each stratum's units of unknown status (synth.simulate_followup) whose
true status — activity, paid activity, employment and the number of workers — the desk
research establishes. Two estimators of the same population counts:

* ``two_phase``: TwoPhaseDesign.from_frame (phase 2 = status known or followed up),
  es.sector_funnel and es.population_totals on it;
* ``two_phase_cal``: the same with the phase-2 weights calibrated to the phase-1
  sample's counts of the register's ``krs_economic`` and ``statement_filed`` (within
  the phase-2 strata; TwoPhaseDesign.calibrate_phase2), as the demo study does;
* ``adjusted``: the single-phase design of the demo without follow-up — response
  propensity classes (statement_filed, krs_economic, year_registered) with
  ``ineligible="observed"``;
* ``sensitivity``: the same without follow-up, with the pattern-mixture range over
  delta in [0.5, 1] (es.delta_sensitivity): from the lowest lower bound to the
  highest upper bound ("coverage" is how often it contains the truth).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import es_survey as es
from es_survey import synth
from es_survey.funnel import ELIGIBLE_OUTCOMES

QUANTITIES = ("active", "earning", "employing", "workers")
COVARIATES = ["statement_filed", "krs_economic", "year_registered"]
CALIBRATION = ["krs_economic", "statement_filed"]  # as data/raw/study.toml


def population() -> pd.DataFrame:
    """The synthetic region (seed 2023) with its sampling strata."""
    pop = synth.make_population(2023)
    return pop.assign(stratum=synth.design_strata(pop))


def truth(pop: pd.DataFrame) -> dict[str, float]:
    """The population counts: active, earning and employing entities, their workers."""
    active = pop["active"].to_numpy(dtype=bool)
    return {
        "active": float(active.sum()),
        "earning": float((active & pop["earning"].to_numpy(dtype=bool)).sum()),
        "employing": float((active & pop["employing"].to_numpy(dtype=bool)).sum()),
        "workers": float(pop.loc[active, "workers"].sum()),
    }


def _observed(units: pd.DataFrame, seen: np.ndarray, eligible: np.ndarray) -> pd.DataFrame:
    """Answers where a unit's status is seen: the truth if eligible, 'no' / 0 if not."""
    out = units.copy()
    for col in ("active", "earning", "employing"):
        value = np.where(eligible, units[col].to_numpy(dtype=bool), False)
        out[col] = pd.array(np.where(seen, value, pd.NA), dtype="boolean")
    workers = np.where(eligible, units["workers"].to_numpy(dtype=float), 0.0)
    out["workers"] = pd.array(np.where(seen, workers, np.nan), dtype="Float64")
    out["eligible"] = eligible
    return out


def _rows(design, method: str, draw: int) -> list[dict]:
    f = es.sector_funnel(design).to_frame().set_index("stage")
    t = es.population_totals(design, "workers").iloc[0]
    rows = [
        {
            "method": method,
            "draw": draw,
            "quantity": q,
            **f.loc[q, ["estimate", "se", "lower", "upper"]],
        }
        for q in QUANTITIES[:3]
    ]
    rows.append(
        {"method": method, "draw": draw, "quantity": "workers",
         **t[["estimate", "se", "lower", "upper"]]}
    )  # fmt: skip
    return rows


def one_draw(pop: pd.DataFrame, seed: int, share: float = 0.3) -> list[dict]:
    """Both estimators on one sample; one row per method and quantity."""
    rng = np.random.default_rng(seed)
    frame = pop.drop(columns="stratum")
    sample = synth.simulate_response(synth.draw_sample(frame, rng=rng), rng=rng)
    sample = synth.simulate_followup(sample, share, rng=rng)
    units = pop.assign(
        sampled=pop.index.isin(sample.index),
        status_known=False,
        followed_up=False,
        contact_outcome=pd.Series(pd.NA, index=pop.index, dtype="string"),
    )
    for col in ("status_known", "followed_up", "contact_outcome"):
        units.loc[sample.index, col] = sample[col].to_numpy()
    outcome = units["contact_outcome"]
    responded = outcome.isin(["complete", "partial"]).fillna(False).to_numpy(dtype=bool)
    followed = units["followed_up"].to_numpy(dtype=bool)
    liquidation = units["in_liquidation"].to_numpy(dtype=bool)
    known = units["status_known"].to_numpy(dtype=bool)
    # two phases: every phase-2 unit's status is seen (desk research for the followed up)
    seen = known | followed
    eligible = (responded | followed) & ~liquidation
    two = _observed(units, seen, eligible).assign(responded=responded | followed)
    d2 = es.TwoPhaseDesign.from_frame(two, lonely_psu="remove")
    # one phase, no follow-up: respondents answer, units found ineligible are observed
    fieldwork_eligible = outcome.isin(ELIGIBLE_OUTCOMES).fillna(False)
    one = _observed(units, responded, responded).assign(
        responded=responded, eligible=fieldwork_eligible.to_numpy(dtype=bool)
    )
    d0 = es.SurveyDesign.from_frame(one, "sampled", strata="stratum", lonely_psu="certainty")
    d1 = d0.adjust_nonresponse(
        "responded", model="logit", covariates=COVARIATES, ineligible="observed"
    )
    rows = _rows(d2, "two_phase", seed) + _rows(d1, "adjusted", seed)
    rows += _rows(d2.calibrate_phase2(CALIBRATION), "two_phase_cal", seed)
    # without follow-up: the sensitivity range over delta in [0.5, 1], from the lowest
    # lower bound to the highest upper bound
    for q in QUANTITIES:
        sens = es.delta_sensitivity(d0, d1, q)
        rows.append(
            {"method": "sensitivity", "draw": seed, "quantity": q,
             "estimate": float(sens["estimate"].iloc[-1]), "se": float("nan"),
             "lower": float(sens["lower"].min()), "upper": float(sens["upper"].max())}
        )  # fmt: skip
    return rows


def run(draws: int = 500, share: float = 0.3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All draws (seeds 5000, 5001, ...) and the summary by method and quantity."""
    pop = population()
    out = pd.DataFrame([r for i in range(draws) for r in one_draw(pop, 5000 + i, share)])
    true = truth(pop)
    out["truth"] = out["quantity"].map(true)
    out["covered"] = (out["lower"] <= out["truth"]) & (out["truth"] <= out["upper"])
    g = out.groupby(["method", "quantity"], sort=False)
    summary = pd.DataFrame(
        {
            "truth": g["truth"].first(),
            "mean": g["estimate"].mean(),
            "rel_bias": (g["estimate"].mean() - g["truth"].first()) / g["truth"].first(),
            "sd": g["estimate"].std(),
            "mean_se": g["se"].mean(),
            "coverage": g["covered"].mean(),
            "mean_width": (out["upper"] - out["lower"])
            .groupby([out["method"], out["quantity"]], sort=False)
            .mean(),
        }
    )
    return out, summary


if __name__ == "__main__":  # python tests/twophase_simulation.py [draws] [share]
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    followup_share = float(sys.argv[2]) if len(sys.argv) > 2 else 0.3
    _, table = run(n, followup_share)
    pd.set_option("display.width", 200)
    print(table.round(4).to_string())
