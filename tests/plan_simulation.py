"""Draws of a planned next wave: are plan.allocate's expected CVs the CVs one gets?

Shared by ``tests/test_plan_simulation.py`` (marked slow) and the table in
docs/methods.md (``python tests/plan_simulation.py`` prints it). The synthetic region
(``synth.make_population(2023)``, 632 entities) is cut into cells, design stratum × ES
category, so that every subregion × category domain is a union of cells (a design
stratum lies within one subregion). The strata table holds each cell's TRUE values:
its count, share of active entities, and SD and mean of workers (UoP + civil-law).

Response rates are each cell's expected rate under the demo's fieldwork model
(``synth.simulate_response``: active reintegration units answer more often than
cooperatives, cooperatives than NGOs, inactive entities rarely), averaged over
``RESPONSE_REPS`` simulated fieldworks of the whole frame: about 0.27 in the NGO cells,
up to 0.85 in the reintegration ones. The simulation then makes response random
*within* cells at those rates — the assumption of plan.py's expected variance

    Var(Y_d) = sum_{h in d} N_h^2 (1/m_h - 1/N_h) S_h^2,  m_h = n_h r_h.

Two plans: ``active`` (``method="multi"``: the smallest sample with the CV of the number
of active entities at most 20% in every subregion × category) and ``workers``
(``method="optimal"``, ``n = 250``: the least variance of the region's workers total).

Each draw takes a stratified SRS of the allocated ``n_h`` (``plan.select_sample``, fresh
PRNs from the draw's seed), then three response models, all random within cells:

* ``matched``: a simple random subsample of ``m_h`` respondents, ``m_h`` one of the two
  whole numbers around ``n_h r_h``, chosen at random so that ``E[1/m_h] = 1/(n_h r_h)``.
  The variance depends on ``m_h`` only through ``1/m_h`` (and given ``m_h`` the
  respondents are an SRS), so this is exactly the formula's model: the realised CV must
  equal the plan's expected CV up to Monte Carlo error.
* ``rounded``: a simple random subsample of ``m_h = max(1, round(n_h r_h))``. Its exact
  CV is the formula with these whole ``m_h`` (``rounded_exact_cv``); against the plan it
  differs where ``n_h r_h`` is small (2.17 expected respondents become 2).
* ``bernoulli``: every sampled unit answers with probability ``r_h``; ``m_h`` is random
  and may be 0. A domain with a cell without respondents has no estimate in that draw
  (counted in ``bern_no_estimate`` and left out); given at least one respondent per
  cell the estimate is unbiased with variance ``sum N_h^2 (E[1/m_h | m_h >= 1] - 1/N_h)
  S_h^2`` (``bern_exact_cv``), above the plan's by Jensen's inequality.

A domain's total is estimated by ``sum_h N_h ybar_h`` (``ybar_h`` the respondents'
mean); the realised CV is the SD over the draws divided by the true total. All
reference CVs (``formula_cv``, ``rounded_exact_cv``, ``bern_exact_cv``) are computed
here from the population, not by plan.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from es_survey import plan, synth

SEED = 20261201
DRAWS = 500
RESPONSE_REPS = 200
WORKERS_N = 250
TARGET_CV = 0.20
MODELS = ("matched", "rounded", "bern")


def population() -> pd.DataFrame:
    """The synthetic region with its cells (design stratum × category) and domains."""
    pop = synth.make_population(2023)
    category = pop["es_category"].astype(str)
    return pop.assign(
        cell=synth.design_strata(pop) + "|" + category,
        domain=pop["nuts3"].astype(str) + "|" + category,
        workers=(pop["emp_uop"] + pop["emp_civil"]).astype(float),
        y_active=pop["active"].astype(float),
    )


def response_rates(pop: pd.DataFrame, reps: int = RESPONSE_REPS) -> pd.Series:
    """Each cell's expected response rate under ``synth.simulate_response``."""
    rng = np.random.default_rng(SEED)
    answered = np.zeros(len(pop))
    for _ in range(reps):
        answered += synth.simulate_response(pop, rng=rng)["responded"].to_numpy(dtype=float)
    return pd.Series(answered / reps, index=pop.index).groupby(pop["cell"]).mean()


def strata_table(pop: pd.DataFrame, rates: pd.Series) -> pd.DataFrame:
    """One row per cell: N, the true p_active, S_workers and mean_workers, r_h, domain."""
    g = pop.groupby("cell", sort=True)
    table = pd.DataFrame({
        "N": g.size(),
        "p_active": g["y_active"].mean(),
        "S_workers": g["workers"].std(ddof=1).fillna(0.0),
        "mean_workers": g["workers"].mean(),
        "response_rate": rates,
        "domain": g["domain"].first(),
    })  # fmt: skip
    return table.rename_axis("stratum").reset_index()


def plans(strata: pd.DataFrame) -> dict[str, tuple[plan.Allocation, str, str | None]]:
    """The two plans: name -> (allocation, population column, domain column or None)."""
    active = plan.allocate(
        strata,
        targets=[{"variable": "active", "cv": TARGET_CV, "domain": "domain"}],
        method="multi",
    )
    workers = plan.allocate(
        strata, n=WORKERS_N, targets=[{"variable": "workers", "cv": 0.1}], method="optimal"
    )
    return {"active": (active, "y_active", "domain"), "workers": (workers, "workers", None)}


def _cv(N: np.ndarray, inv_m: np.ndarray, s2: np.ndarray, total: float) -> float:
    """sqrt(sum_h N_h^2 (E[1/m_h] - 1/N_h) S_h^2) / Y_d over the cells given."""
    var = float(np.sum(N**2 * (inv_m - 1 / N) * s2))
    return float(np.sqrt(max(var, 0.0)) / total)


def _bernoulli_inverse(n: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E[1/m | m >= 1] for m ~ Binomial(n_h, r_h), and P(m = 0)."""
    inv = np.empty(len(n))
    for h, (size, rate) in enumerate(zip(n, r, strict=True)):
        k = np.arange(1, size + 1)
        pmf = stats.binom.pmf(k, size, rate)
        inv[h] = np.sum(pmf / k) / pmf.sum()
    return inv, stats.binom.pmf(0, n, r)


def _kurtosis(x: np.ndarray) -> float:
    sd = x.std()
    return float(np.mean(((x - x.mean()) / sd) ** 4)) if sd > 0 else 3.0


def simulate(
    pop: pd.DataFrame,
    strata: pd.DataFrame,
    alloc: plan.Allocation,
    variable: str,
    domain: str | None,
    draws: int = DRAWS,
    seed: int = SEED,
) -> pd.DataFrame:
    """Draw the allocation ``draws`` times; one row per domain with the comparison."""
    cells = strata["stratum"].to_numpy()
    code = pd.Categorical(pop["cell"], categories=cells).codes.astype(int)
    k = len(cells)
    N = strata["N"].to_numpy(dtype=float)
    n = alloc.n.astype(int)
    r = strata["response_rate"].to_numpy(dtype=float)
    y = pop[variable].to_numpy(dtype=float)
    s2 = pop.groupby("cell", sort=True)[variable].var(ddof=1).reindex(cells).fillna(0.0)
    s2 = s2.to_numpy()
    starts = np.concatenate([[0], np.cumsum(np.bincount(code, minlength=k))[:-1]])

    # respondents per cell: matched (floor or ceil of n r with E[1/m] = 1/(n r)), rounded
    x = n * r
    low = np.floor(x + 1e-9)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(
            (low >= 1) & (x - low > 1e-9), (1 / low - 1 / x) / (1 / low - 1 / (low + 1)), 0
        )
    low = np.maximum(low, 1).astype(int)
    m_round = np.maximum(1, np.floor(x + 0.5)).astype(int)
    bern_inv, bern_p0 = _bernoulli_inverse(n, r)

    if domain is None:
        groups = [("all", np.ones(k, dtype=bool))]
    else:
        labels = strata[domain].to_numpy()
        groups = [(v, labels == v) for v in pd.unique(labels)]
    member = np.array([g for _, g in groups])  # domains × cells

    est = {model: np.empty((draws, len(groups))) for model in MODELS}
    bern_m = np.empty((draws, k), dtype=int)
    frame = pop[["cell"]]
    sizes = pd.DataFrame({"cell": cells, "n": n})
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(draws)):
        rng = np.random.default_rng(child)
        drawn = plan.select_sample(frame, sizes, stratum="cell", seed=int(rng.integers(2**31)))
        sampled = drawn["sampled"].to_numpy()
        u = rng.random(len(pop))
        m_matched = low + (rng.random(k) < q)
        # the sampled units of each cell ranked by u: the first m_h are a random subsample
        order = np.lexsort((u, ~sampled, code))
        rank = np.empty(len(pop), dtype=int)
        rank[order] = np.arange(len(pop)) - starts[code[order]]
        respond = {
            "matched": sampled & (rank < m_matched[code]),
            "rounded": sampled & (rank < m_round[code]),
            "bern": sampled & (u < r[code]),
        }
        for model, resp in respond.items():
            m = np.bincount(code[resp], minlength=k)
            s = np.bincount(code[resp], weights=y[resp], minlength=k)
            cell_total = np.where(m > 0, N * s / np.maximum(m, 1), np.nan)
            est[model][i] = np.where(member, cell_total, 0.0).sum(axis=1)
            if model == "bern":
                bern_m[i] = m

    cv = alloc.cv
    rows = []
    for j, (value, g) in enumerate(groups):
        truth = float(np.sum(y[member[j][code]]))
        expected = float(
            cv["expected_cv"].iloc[0]
            if domain is None
            else cv.loc[cv["domain_value"] == value, "expected_cv"].iloc[0]
        )
        row = {
            "plan": "active" if variable == "y_active" else variable,
            "domain": value,
            "N": int(N[g].sum()),
            "n": int(n[g].sum()),
            "m_plan": float(np.sum(x[g])),
            "m_rounded": int(m_round[g].sum()),
            "truth": truth,
            "expected_cv": expected,
            "formula_cv": _cv(N[g], 1 / x[g], s2[g], truth),
            "rounded_exact_cv": _cv(N[g], 1 / m_round[g], s2[g], truth),
            "bern_exact_cv": _cv(N[g], bern_inv[g], s2[g], truth),
            "bern_p_no_estimate": float(1 - np.prod(1 - bern_p0[g])),
        }
        for model in MODELS:
            e = est[model][:, j]
            ok = np.isfinite(e)
            real = float(e[ok].std(ddof=1) / truth) if ok.sum() > 1 else np.nan
            row[f"{model}_cv"] = real
            row[f"{model}_ratio"] = real / expected if expected > 0 else np.nan
            # Monte Carlo SE of the ratio: an SD's relative SE is sqrt((kurtosis - 1) / 4R)
            row[f"{model}_mc_se"] = (
                np.sqrt((_kurtosis(e[ok]) - 1) / (4 * ok.sum())) * real / expected
                if expected > 0
                else np.nan
            )
            row[f"{model}_rel_bias"] = float(e[ok].mean() / truth - 1)
        ok = np.isfinite(est["bern"][:, j])
        row["bern_no_estimate"] = int((~ok).sum())
        row["bern_one_respondent"] = int(np.any((bern_m[:, g] == 1) & (n[g] > 1), axis=1).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def run(draws: int = DRAWS, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The strata table with both allocations, and the per-domain comparison."""
    pop = population()
    strata = strata_table(pop, response_rates(pop))
    tables = []
    for name, (alloc, variable, domain) in plans(strata).items():
        strata[f"n_{name}"] = alloc.n
        tables.append(simulate(pop, strata, alloc, variable, domain, draws, seed))
    return strata, pd.concat(tables, ignore_index=True)


def markdown(table: pd.DataFrame) -> str:
    """The comparison as a markdown table (CVs in %; ratios to the plan's expected CV)."""

    def pct(v: float) -> str:
        return "—" if not np.isfinite(v) else f"{100 * v:.1f}%"

    def ratio(v: float, se: float) -> str:
        return "—" if not np.isfinite(v) else f"{v:.3f} ± {se:.3f}"

    lines = [
        "| plan | domain | N | n | respondents: n·r / rounded | expected CV | matched: CV | "
        "ratio ± MC SE | rel. bias | rounded: exact CV | CV | ratio | Bernoulli: exact CV | "
        "CV | ratio | draws without estimate |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t in table.itertuples(index=False):
        domain = str(t.domain).replace("|", " × ")
        lines.append(
            f"| {t.plan} | {domain} | {t.N} | {t.n} | {t.m_plan:.1f} / {t.m_rounded} | "
            f"{pct(t.expected_cv)} | {pct(t.matched_cv)} | "
            f"{ratio(t.matched_ratio, t.matched_mc_se)} | {100 * t.matched_rel_bias:+.1f}%".replace(
                "-", "−"
            )
            + " | "
            f"{pct(t.rounded_exact_cv)} | {pct(t.rounded_cv)} | "
            f"{ratio(t.rounded_ratio, t.rounded_mc_se)} | {pct(t.bern_exact_cv)} | "
            f"{pct(t.bern_cv)} | {ratio(t.bern_ratio, t.bern_mc_se)} | {t.bern_no_estimate} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":  # python tests/plan_simulation.py [draws]
    import sys

    count = int(sys.argv[1]) if len(sys.argv) > 1 else DRAWS
    strata, table = run(count)
    pd.set_option("display.width", 250)
    print(strata.round(3).to_string(index=False))
    print()
    print(markdown(table))
