"""Benchmark: raking 1,000,000 rows on 3 margins (100 cells) against R and samplics.

Builds a seeded sample (1,000,000 rows; margins ``a`` with 60 categories, ``b`` with
30, ``c`` with 10; unequal initial weights), and times

* ``rake_weights`` (the pure function) and ``SurveyDesign.rake`` (design, model
  matrix for the variance, checks) to a relative tolerance of 1e-10;
* the SE of a total after raking (calibration residuals), overall and for 200 domains;
* R's ``survey::rake`` (``Rscript`` on PATH) with ``control = list(epsilon = 1e-10)``
  and ``svytotal`` on the raked design, in the same run;
* ``samplics`` ``SampleWeight().rake`` (tol 1e-10) and ``balance`` where installed.

R's and samplics' weights are compared with ours (max relative difference) and R's
SE with ours. Peers are optional extras, never dependencies of es_survey.
Run: ``python benchmarks/bench_weighting.py [--rows 1000000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import es_survey as es
from es_survey.weighting import rake_weights

SIZES = {"a": 60, "b": 30, "c": 10}


def make_data(n_rows: int, rng: int = 2024) -> tuple[pd.DataFrame, dict[str, dict[int, float]]]:
    """Seeded sample with three categorical margins and their population totals."""
    gen = np.random.default_rng(rng)
    cols = {}
    for name, k in SIZES.items():
        p = gen.dirichlet(np.full(k, 3.0))
        cols[name] = gen.choice(k, size=n_rows, p=p)
    w = np.round(gen.lognormal(3.0, 0.4, n_rows), 4)
    y = np.round(gen.gamma(2.0, 10.0, n_rows) + cols["a"] * 0.3, 3)
    df = pd.DataFrame({**cols, "w": w, "y": y})
    n_pop = float(w.sum()) * 1.05
    margins = {}
    for name, k in SIZES.items():
        share = np.bincount(cols[name], weights=w, minlength=k)
        share = share * gen.uniform(0.85, 1.15, k)
        margins[name] = {int(i): float(v) for i, v in enumerate(share / share.sum() * n_pop)}
    return df, margins


def best_of(func, repeat: int):
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - start)
    return best, out


R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(TRUE)
df <- read.csv(args[1])
d <- svydesign(ids = ~1, weights = ~w, data = df)
pops <- lapply(c("a", "b", "c"), function(v) {
  m <- read.csv(file.path(args[2], paste0("margin_", v, ".csv")))
  names(m) <- c(v, "Freq"); m })
t0 <- proc.time()[["elapsed"]]
r <- rake(d, list(~a, ~b, ~c), pops, control = list(epsilon = 1e-10, maxit = 100))
t1 <- proc.time()[["elapsed"]]
est <- svytotal(~y, r)
t2 <- proc.time()[["elapsed"]]
writeBin(as.numeric(weights(r)), file.path(args[2], "r_weights.bin"))
cat(sprintf("%.6f %.6f %.17g %.17g\n", t1 - t0, t2 - t1, coef(est), SE(est)))
"""


def run_r(df: pd.DataFrame, margins: dict, tmp: Path) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    check = subprocess.run(["Rscript", "-e", "library(survey)"], capture_output=True)
    if check.returncode != 0:
        return None
    df.to_csv(tmp / "data.csv", index=False)
    for name, tot in margins.items():
        pd.DataFrame({name: list(tot), "Freq": list(tot.values())}).to_csv(
            tmp / f"margin_{name}.csv", index=False
        )
    (tmp / "bench.R").write_text(R_SCRIPT)
    out = subprocess.run(
        ["Rscript", str(tmp / "bench.R"), str(tmp / "data.csv"), str(tmp)],
        capture_output=True,
        text=True,
        check=True,
    )
    rake_s, total_s, est, se = out.stdout.split()
    weights = np.fromfile(tmp / "r_weights.bin", dtype=np.float64)
    return {
        "rake": float(rake_s),
        "total": float(total_s),
        "est": float(est),
        "se": float(se),
        "weights": weights,
    }


def run_samplics(df: pd.DataFrame, margins: dict, repeat: int) -> dict | None:
    if importlib.util.find_spec("samplics") is None:
        return None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from samplics.weighting import SampleWeight

        def rake():
            return SampleWeight().rake(
                df["w"].to_numpy(),
                {k: df[k].to_numpy() for k in SIZES},
                control=margins,
                tol=1e-10,
                ctrl_tol=1e-10,
                max_iter=100,
            )

        t, w = best_of(rake, repeat)
    return {"rake": t, "weights": np.asarray(w, dtype=float)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    df, margins = make_data(args.rows)
    spec = [(df[k].to_numpy(), np.array(list(margins[k].values()))) for k in SIZES]
    w0 = df["w"].to_numpy()
    rows = []
    t_pure, w_pure = best_of(lambda: rake_weights(w0, spec, epsilon=1e-10), args.repeat)
    rows.append(("es_survey rake_weights", t_pure))
    design = es.SurveyDesign(df, weights="w")
    t_design, raked = best_of(lambda: design.rake(margins, epsilon=1e-10), args.repeat)
    rows.append(("es_survey SurveyDesign.rake", t_design))
    t_total, total = best_of(lambda: raked.total("y").to_frame(), args.repeat)
    rows.append(("es_survey total(y) SE after rake", t_total))
    with_dom = es.SurveyDesign(df.assign(dom=np.arange(len(df)) % 200), weights="w").rake(
        margins, epsilon=1e-10
    )
    t_dom, _ = best_of(lambda: with_dom.total("y", by="dom").to_frame(), args.repeat)
    rows.append(("es_survey total(y, by=200 domains) after rake", t_dom))
    ours = raked.weights
    notes = []
    with tempfile.TemporaryDirectory() as tmp:
        r = run_r(df, margins, Path(tmp))
    if r is not None:
        rows.append(("R survey rake()", r["rake"]))
        rows.append(("R svytotal(~y) after rake", r["total"]))
        rel = np.max(np.abs(r["weights"] - ours) / ours)
        se_rel = abs(r["se"] - total["se"].iloc[0]) / r["se"]
        notes.append(
            f"R weights vs ours: max rel diff {rel:.2e}; total {r['est']:.6f} vs "
            f"{total['estimate'].iloc[0]:.6f}; SE rel diff {se_rel:.2e} (R's rake() "
            "SE uses 10 unweighted centring sweeps; ours the calibrate(raking) one)"
        )
    else:
        notes.append("R survey not available: skipped")
    s = run_samplics(df, margins, args.repeat)
    if s is not None:
        rows.append(("samplics SampleWeight.rake", s["rake"]))
        notes.append(
            f"samplics weights vs ours: max rel diff "
            f"{np.max(np.abs(s['weights'] - ours) / ours):.2e}"
        )
    else:
        notes.append("samplics not installed: skipped")
    if importlib.util.find_spec("balance") is None:
        notes.append("balance not installed: skipped")
    base = t_design
    print(
        f"raking {args.rows:,} rows on 3 margins ({sum(SIZES.values())} cells), "
        f"best of {args.repeat}\n"
    )
    print(f"| {'step':46s} | {'seconds':>9s} | {'vs SurveyDesign.rake':>20s} |")
    print(f"|{'-' * 48}|{'-' * 11}|{'-' * 22}|")
    for name, t in rows:
        print(f"| {name:46s} | {t:9.3f} | {t / base:19.1f}x |")
    print()
    for note in notes:
        print(note)
    rel_pure = np.max(np.abs(w_pure - ours) / ours)
    print(f"rake_weights vs SurveyDesign.rake weights: max rel diff {rel_pure:.1e}")


if __name__ == "__main__":
    main()
