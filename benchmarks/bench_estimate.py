"""Benchmark of the estimation engine against R's survey, samplics and svy.

Builds a seeded stratified cluster sample (50 strata, 20,000 PSUs, 200 domains;
1,000,000 rows and a 100,000-row variant), times design construction, total(y),
total(y, by=domain), mean(y, by=domain) and proportion(flag, by=domain) with
es_survey, and -- where installed -- the same estimates with R's survey
(``Rscript`` on PATH), ``samplics`` and ``svy``. Peers' results are checked
against ours (estimates and SEs at rtol 1e-6) and the table of timings and ratios
is printed. Run: ``python benchmarks/bench_estimate.py [--rows 100000] [--repeat 5]``.
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


def make_sample(n_rows: int, rng: int | np.random.Generator = 2024) -> pd.DataFrame:
    """Stratified two-level sample: 50 strata, 20,000 PSUs, 200 domains (seeded)."""
    gen = np.random.default_rng(rng)
    n_strata, n_psu, n_dom = 50, 20_000, 200
    psu_stratum = np.repeat(np.arange(n_strata), n_psu // n_strata)
    psu = gen.integers(0, n_psu, n_rows)
    psu[:n_psu] = np.arange(n_psu)  # every PSU sampled
    stratum = psu_stratum[psu]
    psu_effect = gen.normal(0, 5, n_psu)[psu]
    domain = gen.integers(0, n_dom, n_rows)
    y = np.round(np.exp(gen.normal(2 + stratum / 25, 0.8, n_rows)) + psu_effect.clip(0), 2)
    flag = (gen.random(n_rows) < 0.2 + 0.5 * (domain % 7) / 7).astype(np.int64)
    weight = np.round(20 + 30 * gen.random(n_strata)[stratum] + gen.random(n_rows), 3)
    return pd.DataFrame(
        {"stratum": stratum, "psu": psu, "domain": domain, "y": y, "flag": flag, "w": weight}
    )


def best_of(func: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Best wall time of ``repeat`` runs (seconds) and the last result."""
    best = np.inf
    out = None
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - start)
    return best, out


def run_ours(df: pd.DataFrame, repeat: int) -> dict[str, tuple[float, pd.DataFrame | None]]:
    res: dict[str, tuple[float, pd.DataFrame | None]] = {}
    spec = {"weights": "w", "strata": "stratum", "psu": "psu", "nest": True}
    t, d = best_of(lambda: es.SurveyDesign(df, **spec), repeat)
    res["design"] = (t, None)
    for name, call in {
        "total(y)": lambda: d.total("y"),
        "total(y, by)": lambda: d.total("y", by="domain"),
        "mean(y, by)": lambda: d.mean("y", by="domain"),
        "proportion(flag, by)": lambda: d.proportion("flag", by="domain", method="wald"),
    }.items():
        t, est = best_of(call, repeat)
        res[name] = (t, est.to_frame())
    return res


R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(TRUE)
df <- read.csv(args[1])
emit <- function(step, t, v = NULL) {
  out <- list(step = step, t = t)
  if (!is.null(v)) { out$est <- as.vector(coef(v)); out$se <- as.vector(SE(v)) }
  cat(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE), "\n")
  flush(stdout())
}
t <- system.time(d <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, data = df,
                                nest = TRUE))[["elapsed"]]
emit("design", t)
t <- system.time(v <- svytotal(~y, d))[["elapsed"]]; emit("total(y)", t, v)
t <- system.time(v <- svyby(~y, ~domain, d, svytotal))[["elapsed"]]; emit("total(y, by)", t, v)
t <- system.time(v <- svyby(~y, ~domain, d, svymean))[["elapsed"]]; emit("mean(y, by)", t, v)
t <- system.time(v <- svyby(~flag, ~domain, d, svymean))[["elapsed"]]
emit("proportion(flag, by)", t, v)
"""


def run_r(df: pd.DataFrame, timeout: float) -> dict[str, dict] | None:
    """Time the same estimates with R's survey; steps not done within ``timeout`` are absent."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "sample.csv"
        script = Path(tmp) / "bench.R"
        df.to_csv(csv, index=False)
        script.write_text(R_SCRIPT)
        try:
            proc = subprocess.run(
                ["Rscript", str(script), str(csv)],
                capture_output=True,
                text=True,
                check=False,
                timeout=timeout,
            )
            output = proc.stdout
        except subprocess.TimeoutExpired as stopped:
            output = (
                stopped.stdout.decode()
                if isinstance(stopped.stdout, bytes)
                else (stopped.stdout or "")
            )
    steps = [json.loads(line) for line in output.splitlines() if line.strip().startswith("{")]
    return {s["step"]: s for s in steps}


def run_samplics(df: pd.DataFrame, repeat: int) -> dict[str, tuple[float, tuple]] | None:
    if importlib.util.find_spec("samplics") is None:
        return None
    from samplics.estimation import TaylorEstimator
    from samplics.utils.types import PopParam

    res: dict[str, tuple[float, tuple]] = {}
    psu = df["stratum"].astype(str) + "_" + df["psu"].astype(str)
    for name, param, by in [
        ("total(y)", "total", None),
        ("total(y, by)", "total", df["domain"]),
        ("mean(y, by)", "mean", df["domain"]),
        ("proportion(flag, by)", "mean", df["domain"]),
    ]:
        y = df["flag"] if name.startswith("proportion") else df["y"]

        def call(param: str = param, by: pd.Series | None = by, y: pd.Series = y) -> tuple:
            est = TaylorEstimator(PopParam.total if param == "total" else PopParam.mean)
            est.estimate(
                y=y,
                samp_weight=df["w"],
                stratum=df["stratum"],
                psu=psu,
                domain=by,
                remove_nan=False,
            )
            if by is None:
                return np.array([est.point_est]), np.array([est.stderror])
            keys = sorted(est.point_est)
            return (
                np.array([est.point_est[k] for k in keys]),
                np.array([est.stderror[k] for k in keys]),
            )

        res[name] = best_of(call, max(1, repeat // 3))
    return res


def run_svy(df: pd.DataFrame, repeat: int) -> dict[str, tuple[float, tuple]] | None:
    if importlib.util.find_spec("svy") is None:
        return None
    import polars as pl
    import svy

    pdf = pl.from_pandas(df.assign(psu=df["stratum"] * 1_000_000 + df["psu"]))
    sample = svy.Sample(pdf, svy.Design(stratum="stratum", psu="psu", wgt="w"))
    res: dict[str, tuple[float, tuple]] = {}
    for name, param, y, by in [
        ("total(y)", "total", "y", None),
        ("total(y, by)", "total", "y", "domain"),
        ("mean(y, by)", "mean", "y", "domain"),
        ("proportion(flag, by)", "mean", "flag", "domain"),
    ]:

        def call(param: str = param, y: str = y, by: str | None = by) -> tuple:
            est = getattr(sample.estimation, param)(y, by=by)
            out = est.to_polars()
            if by is not None:
                out = out.sort(by)
            return out["est"].to_numpy(), out["se"].to_numpy()

        res[name] = best_of(call, max(1, repeat // 3))
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--peers",
        nargs="*",
        default=["r", "samplics", "svy"],
        help="peers to time where installed (r, samplics, svy); none: --peers",
    )
    parser.add_argument("--r-timeout", type=float, default=900.0)
    args = parser.parse_args()
    for n_rows in args.rows:
        df = make_sample(n_rows)
        ours = run_ours(df, args.repeat)
        r = run_r(df, args.r_timeout) if "r" in args.peers else None
        samplics = run_samplics(df, args.repeat) if "samplics" in args.peers else None
        svy_res = run_svy(df, args.repeat) if "svy" in args.peers else None
        print(f"\n## {n_rows:,} rows, 50 strata, 20,000 PSUs, 200 domains\n")
        header = "| step | es_survey (s) |"
        if r is not None:
            header += " R survey (s) | R / es |"
        if samplics:
            header += " samplics (s) | samplics / es |"
        if svy_res:
            header += " svy (s) | svy / es |"
        print(header)
        print("|" + "---|" * (header.count("|") - 1))
        for step, (t, frame) in ours.items():
            line = f"| {step} | {t:.4f} |"
            if r is not None and step not in r:
                line += " not done in time | |"
            elif r is not None:
                rt = r[step]["t"]
                line += f" {rt:.2f} | {rt / t:,.0f}x |"
                if frame is not None:
                    r_est, r_se = np.ravel(r[step]["est"]), np.ravel(r[step]["se"])
                    np.testing.assert_allclose(frame["estimate"], r_est, rtol=1e-6)
                    np.testing.assert_allclose(frame["se"], r_se, rtol=1e-6)
            if samplics:
                if step in samplics:
                    st, (est, se) = samplics[step]
                    line += f" {st:.3f} | {st / t:,.0f}x |"
                    np.testing.assert_allclose(frame["estimate"], est, rtol=1e-6)
                    np.testing.assert_allclose(frame["se"], se, rtol=1e-6)
                else:
                    line += " | |"
            for peer in (svy_res,):
                if peer and step in peer:
                    st, (est, se) = peer[step]
                    line += f" {st:.3f} | {st / t:,.0f}x |"
                    np.testing.assert_allclose(frame["estimate"], est, rtol=1e-6)
                    np.testing.assert_allclose(frame["se"], se, rtol=1e-6)
                elif peer:
                    line += " | |"
            print(line)
        if r or samplics or svy_res:
            print("\nPeers' estimates and SEs agree with es_survey at rtol 1e-6.")


if __name__ == "__main__":
    main()
