"""Draws of the demo's survey from the synthetic region, for the small-area Monte Carlo.

Shared by ``tests/test_sae_simulation.py`` (the marked Monte Carlo) and
``benchmarks/sae_simulation.py`` (the table in docs/methods.md). One draw does what the
demo study does: a stratified sample (synth.draw_sample), simulated fieldwork
(synth.simulate_response), the true answers for the respondents (classification is
tested elsewhere), design weights, propensity-class nonresponse adjustment with
``ineligible="observed"``, raking to the frame's ES category (PS collapsed with ECON:
its 9 units are often all nonrespondents) and subregion counts; then
the register-scaled direct estimate and the Fay-Herriot estimate of every powiat.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import es_survey as es
from es_survey import regions, synth

COVARIATES = ["statement_filed", "krs_economic", "year_registered"]
STAGES = ("active", "workers")


def population() -> pd.DataFrame:
    """The synthetic region (seed 2023) with strata, powiat names and subregions."""
    pop = synth.make_population(2023)
    table = regions.powiats("26").set_index("teryt")
    codes = pop["teryt_powiat"].astype("string")
    return pop.assign(
        stratum=synth.design_strata(pop),
        powiat_name=codes.map(table["name"]).astype("string"),
        subregion=codes.map(table["subregion"]).astype("string"),
    )


def truth(pop: pd.DataFrame) -> pd.DataFrame:
    """True counts per powiat: active entities and their workers."""
    g = pop.groupby("powiat_name")
    return pd.DataFrame({"active": g["active"].sum(), "workers": g["workers"].sum()}).astype(float)


def one_draw(
    pop: pd.DataFrame, seed: int, *, replicates: int = 200, covariates: list[str] | None = None
) -> pd.DataFrame:
    """Direct and FH estimates per powiat for one sample; long format."""
    rng = np.random.default_rng(seed)
    sample = synth.simulate_response(
        synth.draw_sample(pop.drop(columns="stratum"), rng=rng), rng=rng
    )
    outcome = pd.Series(pd.NA, index=pop.index, dtype="string")
    outcome[sample.index] = sample["contact_outcome"].astype("string")
    responded = outcome.isin(["complete", "partial"]).fillna(False).to_numpy(dtype=bool)
    units = pop.assign(
        sampled=pop.index.isin(sample.index),
        contact_outcome=outcome,
        responded=responded,
        eligible=outcome.isin(es.funnel.ELIGIBLE_OUTCOMES).fillna(False).to_numpy(dtype=bool),
        active=pd.array(np.where(responded, pop["active"], pd.NA), dtype="boolean"),
        workers=pd.array(np.where(responded, pop["workers"], pd.NA), dtype="Float64"),
    )
    units = units.assign(es_group=units["es_category"].replace({"PS": "ECON"}))
    design = es.SurveyDesign.from_frame(units, "sampled", strata="stratum", lonely_psu="certainty")
    design = design.adjust_nonresponse(
        "responded", model="logit", covariates=COVARIATES, ineligible="observed"
    )
    # the demo rakes to es_category; its 9 PS units are often all nonrespondents in a
    # draw, so PS is collapsed with ECON here
    margins = ["es_group", "subregion"]
    totals = {m: {str(k): float(v) for k, v in units[m].value_counts().items()} for m in margins}
    design = design.assign(**{m: design.data[m].astype("string") for m in margins})
    design = design.calibrate(totals, method="raking")
    rows = []
    for stage in STAGES:
        fit = es.small_area(
            design,
            stage,
            area="powiat_name",
            register=units,
            B=replicates,
            rng=seed,
            covariates=covariates,
        ).to_frame()
        if stage == "active":
            f = es.sector_funnel(design, by="powiat_name", stages=[stage], register=units)
            d = f.to_frame().query("stage == @stage").set_index("powiat_name")
        else:
            d = es.population_totals(design, stage, by="powiat_name", register=units)
            d = d.set_index("powiat_name")
        fit = fit.set_index("area")
        rows.append(
            pd.DataFrame(
                {
                    "draw": seed,
                    "stage": stage,
                    "powiat": fit.index,
                    "n": fit["n"].to_numpy(),
                    "direct": d["estimate"].reindex(fit.index).to_numpy(dtype=float),
                    "direct_lower": d["lower"].reindex(fit.index).to_numpy(dtype=float),
                    "direct_upper": d["upper"].reindex(fit.index).to_numpy(dtype=float),
                    "fh": fit["estimate"].to_numpy(),
                    "fh_rmse": fit["rmse"].to_numpy(),
                    "fh_lower": fit["lower"].to_numpy(),
                    "fh_upper": fit["upper"].to_numpy(),
                    "fh_cv": fit["cv"].to_numpy(),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def summary(draws: pd.DataFrame, true: pd.DataFrame) -> pd.DataFrame:
    """Per stage and powiat: RMSE of direct and FH, coverage, mean RMSE estimate."""
    d = draws.copy()
    d["truth"] = [true.loc[p, s] for p, s in zip(d["powiat"], d["stage"], strict=True)]
    d["err_direct"] = d["direct"] - d["truth"]
    d["err_fh"] = d["fh"] - d["truth"]
    d["cover_fh"] = (d["fh_lower"] <= d["truth"]) & (d["truth"] <= d["fh_upper"])
    d["cover_direct"] = (d["direct_lower"] <= d["truth"]) & (d["truth"] <= d["direct_upper"])
    g = d.groupby(["stage", "powiat"])
    return pd.DataFrame(
        {
            "truth": g["truth"].first(),
            "rmse_direct": g["err_direct"].apply(lambda e: float(np.sqrt(np.nanmean(e**2)))),
            "rmse_fh": g["err_fh"].apply(lambda e: float(np.sqrt(np.mean(e**2)))),
            "bias_fh": g["err_fh"].mean(),
            "mean_rmse_fh": g["fh_rmse"].mean(),
            "cover_fh": g["cover_fh"].mean(),
            "cover_direct": g["cover_direct"].mean(),
            "cv_fh_le_20": g["fh_cv"].apply(lambda c: float((c <= 0.2).mean())),
        }
    )


def run(draws: int = 200, replicates: int = 200) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All draws (seeds 1000, 1001, ...) and their per-powiat summary."""
    pop = population()
    out = pd.concat([one_draw(pop, 1000 + i, replicates=replicates) for i in range(draws)])
    return out, summary(out, truth(pop))


def overall(per_powiat: pd.DataFrame) -> pd.DataFrame:
    """Averages over the powiats, per stage."""
    g = per_powiat.groupby("stage")
    return pd.DataFrame(
        {
            "rmse_direct": g["rmse_direct"].mean(),
            "rmse_fh": g["rmse_fh"].mean(),
            "ratio": g["rmse_fh"].mean() / g["rmse_direct"].mean(),
            "mean_rmse_fh": g["mean_rmse_fh"].mean(),
            "cover_fh": g["cover_fh"].mean(),
            "cover_direct": g["cover_direct"].mean(),
            "worst_cover_fh": g["cover_fh"].min(),
            "cv_fh_le_20": g["cv_fh_le_20"].mean(),
        }
    )


if __name__ == "__main__":  # python tests/sae_simulation.py: the table of docs/methods.md
    import sys
    import warnings

    warnings.simplefilter("error", RuntimeWarning)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    _, per = run(n)
    pd.set_option("display.width", 200)
    print(per.round(3).to_string())
    print(overall(per).round(3).to_string())
