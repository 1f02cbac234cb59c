"""Benchmark of replicate-weight variance: Rao-Wu bootstrap, 500 replicates, 200 domains.

Builds a seeded stratified cluster sample (100,000 rows, 50 strata, 2,000 PSUs,
200 domains), then times with es_survey: building 500 Rao-Wu bootstrap
replicates (``d.replicate("bootstrap", replicates=500, rng=1)``), and
``total(y, by=domain)`` / ``mean(y, by=domain)`` with replicate SEs.

Peers, where installed (never dependencies):

* R ``survey`` (``Rscript``): (a) its own pipeline,
  ``as.svrepdesign(d, type = "subbootstrap", replicates = 500)`` then
  ``svyby(~y, ~domain, r, svytotal | svymean)``; its draws differ from ours, so
  only the estimates are compared exactly and the SEs by their median ratio;
  (b) the same ``svyby`` calls on a ``svrepdesign`` built from *our* replicate
  weights (``combined.weights = TRUE``, ``scale = 1/499``), whose SEs must agree
  with ours at rtol 1e-8.
* ``samplics``: ``ReplicateWeight(RepMethod.bootstrap, nb_reps=500)`` and
  ``ReplicateEstimator`` with the domain; it makes a full pass over all rows and
  replicates for every domain, so it is timed on the first ``--samplics-domains``
  domains (default 20, all rows kept, the other domains pooled into one) and the
  time is scaled to 200 domains (marked "extrapolated"). Its SEs on our replicate
  weights (``rep_coefs = 1/499``) are checked against ours at rtol 1e-8.

Run: ``python benchmarks/bench_replicate.py [--rows 100000] [--repeat 3] [--no-peers]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import es_survey as es

N_STRATA, N_PSU, N_DOM, N_REP = 50, 2_000, 200, 500


def make_sample(n_rows: int, rng: int = 2024) -> pd.DataFrame:
    """Stratified cluster sample: 50 strata, 2,000 PSUs, 200 domains (seeded)."""
    gen = np.random.default_rng(rng)
    psu_stratum = np.repeat(np.arange(N_STRATA), N_PSU // N_STRATA)
    psu = gen.integers(0, N_PSU, n_rows)
    psu[:N_PSU] = np.arange(N_PSU)  # every PSU sampled
    stratum = psu_stratum[psu]
    effect = gen.normal(0, 5, N_PSU)[psu]
    domain = gen.integers(0, N_DOM, n_rows)
    y = np.round(np.exp(gen.normal(2 + stratum / 25, 0.8, n_rows)) + effect.clip(0), 2)
    weight = np.round(20 + 30 * gen.random(N_STRATA)[stratum] + gen.random(n_rows), 3)
    return pd.DataFrame({"stratum": stratum, "psu": psu, "domain": domain, "y": y, "w": weight})


def best_of(func: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Best wall time of ``repeat`` runs (seconds) and the last result."""
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - start)
    return best, out


def run_ours(df: pd.DataFrame, repeat: int) -> tuple[dict[str, tuple[float, object]], object]:
    d = es.SurveyDesign(df, weights="w", strata="stratum", psu="psu", nest=True)
    res: dict[str, tuple[float, object]] = {}
    t, r = best_of(lambda: d.replicate("bootstrap", replicates=N_REP, rng=1), repeat)
    res["bootstrap replicates (500)"] = (t, None)
    for name, call in {
        "total(y, by)": lambda: r.total("y", by="domain"),
        "mean(y, by)": lambda: r.mean("y", by="domain"),
    }.items():
        t, est = best_of(call, repeat)
        res[name] = (t, est.to_frame())  # type: ignore[union-attr]
    lin = d.total("y", by="domain").to_frame()
    res["_linearisation"] = (0.0, lin)
    return res, r


R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(TRUE)
df <- read.csv(args[1])
f <- as.matrix(read.csv(args[2]))
tm <- function(expr) {
  t <- system.time(v <- eval.parent(substitute(expr)))[["elapsed"]]
  list(t = t, v = v)
}
out <- list()
d <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, data = df, nest = TRUE)
set.seed(1)
a <- tm(r <- as.svrepdesign(d, type = "subbootstrap", replicates = 500))
out[["bootstrap replicates (500)"]] <- list(t = a$t)
for (fn in c("total", "mean")) {
  a <- tm(svyby(~y, ~domain, r, get(paste0("svy", fn))))
  out[[paste0(fn, "(y, by)")]] <- list(t = a$t, est = coef(a$v), se = SE(a$v))
}
# the same estimators on es_survey's replicate weights (factors per PSU x weight)
rw <- f[df$psu_code + 1, , drop = FALSE] * df$w
ours <- svrepdesign(data = df, repweights = rw, weights = ~w, type = "bootstrap",
                    scale = 1 / 499, rscales = rep(1, 500), combined.weights = TRUE,
                    mse = FALSE, degf = 499)
for (fn in c("total", "mean")) {
  a <- tm(svyby(~y, ~domain, ours, get(paste0("svy", fn))))
  out[[paste0("ours:", fn)]] <- list(t = a$t, est = coef(a$v), se = SE(a$v))
}
cat(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE))
"""


def run_r(df: pd.DataFrame, r: es.ReplicateDesign) -> dict[str, dict] | None:
    if shutil.which("Rscript") is None:
        return None
    engine = r._engine
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "sample.csv"
        fcsv = Path(tmp) / "factors.csv"
        script = Path(tmp) / "bench.R"
        df.assign(psu_code=engine.group).to_csv(csv, index=False)
        pd.DataFrame(engine.factors).to_csv(fcsv, index=False)
        script.write_text(R_SCRIPT)
        proc = subprocess.run(
            ["Rscript", str(script), str(csv), str(fcsv)],
            capture_output=True,
            text=True,
            check=False,
            timeout=3600,
        )
    if proc.returncode != 0:
        print("R failed:", proc.stderr[-800:])
        return None
    return json.loads(proc.stdout)


def run_samplics(df: pd.DataFrame, r: es.ReplicateDesign, n_dom: int) -> dict | None:
    if importlib.util.find_spec("samplics") is None:
        return None
    from samplics.estimation import ReplicateEstimator
    from samplics.utils.types import PopParam, RepMethod
    from samplics.weighting import ReplicateWeight

    res: dict[str, tuple[float, object]] = {}
    psu = df["stratum"].astype(str) + "_" + df["psu"].astype(str)
    start = time.perf_counter()
    ReplicateWeight(RepMethod.bootstrap, strat=True, nb_reps=N_REP).replicate(
        df["w"], psu, df["stratum"]
    )
    res["bootstrap replicates (500)"] = (time.perf_counter() - start, None)
    dom = np.where(df["domain"] < n_dom, df["domain"], -1)  # others pooled in one domain
    rep_w = r.replicate_weights
    for name, param in (("total(y, by)", PopParam.total), ("mean(y, by)", PopParam.mean)):
        start = time.perf_counter()
        est = ReplicateEstimator(RepMethod.bootstrap, param).estimate(
            y=df["y"].to_numpy(),
            samp_weight=df["w"].to_numpy(),
            rep_weights=rep_w,
            rep_coefs=1.0 / (N_REP - 1),
            domain=dom,
        )
        elapsed = (time.perf_counter() - start) * N_DOM / (n_dom + 1)
        keys = list(range(n_dom))
        res[name] = (
            elapsed,
            (np.array([est.point_est[k] for k in keys]), np.array([est.stderror[k] for k in keys])),
        )
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--samplics-domains", type=int, default=20)
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args()
    df = make_sample(args.rows)
    ours, r = run_ours(df, args.repeat)
    lin = ours.pop("_linearisation")[1]
    peers_r = None if args.no_peers else run_r(df, r)
    samplics = None if args.no_peers else run_samplics(df, r, args.samplics_domains)

    print(
        f"\n## {args.rows:,} rows, {N_STRATA} strata, {N_PSU:,} PSUs, {N_DOM} domains, "
        f"Rao-Wu bootstrap with {N_REP} replicates\n"
    )
    header = "| step | es_survey (s) |"
    if peers_r:
        header += " R survey (s) | R / es |"
    if samplics:
        header += " samplics (s) | samplics / es |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for step, (t, _frame) in ours.items():
        line = f"| {step} | {t:.4f} |"
        if peers_r:
            rt = peers_r[step]["t"]
            line += f" {rt:.2f} | {rt / t:,.0f}x |"
        if samplics:
            st, _ = samplics[step]
            mark = "" if step.startswith("bootstrap") else " (extrapolated)"
            line += f" {st:.2f}{mark} | {st / t:,.0f}x |"
        print(line)

    print("\nChecks:")
    total = ours["total(y, by)"][1]
    ratio = total["se"].to_numpy() / lin["se"].to_numpy()  # type: ignore[index]
    print(
        f"- es_survey bootstrap SE / linearisation SE (total by domain): median "
        f"{np.median(ratio):.3f}, range {ratio.min():.3f}-{ratio.max():.3f}"
    )
    if peers_r:
        for step, fn in (("total(y, by)", "total"), ("mean(y, by)", "mean")):
            frame = ours[step][1]
            np.testing.assert_allclose(frame["estimate"], peers_r[step]["est"], rtol=1e-10)
            np.testing.assert_allclose(frame["se"], peers_r[f"ours:{fn}"]["se"], rtol=1e-8)
            own = np.asarray(peers_r[step]["se"]) / frame["se"].to_numpy()
            print(
                f"- R {fn}: estimates equal (rtol 1e-10); SEs on our replicates equal "
                f"(rtol 1e-8, svyby {peers_r[f'ours:{fn}']['t']:.2f} s); R's own draws / "
                f"ours: median {np.median(own):.3f}"
            )
    if samplics:
        for step in ("total(y, by)", "mean(y, by)"):
            est, se = samplics[step][1]
            frame = ours[step][1]
            k = len(est)
            np.testing.assert_allclose(frame["estimate"].to_numpy()[:k], est, rtol=1e-10)
            np.testing.assert_allclose(frame["se"].to_numpy()[:k], se, rtol=1e-8)
            print(
                f"- samplics {step}: estimates and SEs on our replicate weights equal ours "
                f"(rtol 1e-8) for the {k} timed domains"
            )


if __name__ == "__main__":
    main()
