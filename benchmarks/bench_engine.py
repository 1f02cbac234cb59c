"""The one estimation path against the one-pass limit (issue "One estimation path", §4).

A seeded design with ``--rows`` rows (default 2,000,000), 50 strata, 40,000 PSUs and
200 domains. For each case the table gives es_survey's best wall time over
``--repeat`` runs, its peak memory per row (``tracemalloc``, numpy allocations
included), and the ratio to the reference named in the last column:

* one-stage stratified cluster design, domain totals + SEs, against ``one_pass``: a
  single numpy pass written here (PSU x domain totals by one bincount, then
  ``sum_h n_h/(n_h-1) (sum z^2 - (sum z)^2 / n_h)``), checked to give the same SEs;
* the same with two stages and an fpc at both stages, against the one-stage time;
* after raking to two margins, against the plain (unraked) time;
* JKn replicates (from PSU totals: 40,000 replicates), against the linearised time;
* a plain overall ``total(y)``, against ``svy`` (Rust core) where installed.

Targets (the issue): one-stage <= 4x one-pass; two-stage <= 2x one-stage and
<= 150 B/row; raked <= 2x plain; JKn <= 3x linearised; plain total no slower than svy.
Run: ``python benchmarks/bench_engine.py [--rows 2000000] [--repeat 3]``. Wall
times depend on the machine's load; rerun on a quiet machine before quoting them.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import pandas as pd

import es_survey as es

N_STRATA, N_PSU, N_DOM = 50, 40_000, 200


def make_sample(n_rows: int, seed: int = 2026) -> pd.DataFrame:
    """Stratified two-stage sample with fpc at both stages (seeded)."""
    gen = np.random.default_rng(seed)
    psu_stratum = np.repeat(np.arange(N_STRATA), N_PSU // N_STRATA)
    psu = gen.integers(0, N_PSU, n_rows)
    psu[: 2 * N_PSU] = np.tile(np.arange(N_PSU), 2)  # every PSU, with >= 2 rows
    psu = np.sort(psu)
    stratum = psu_stratum[psu]
    first = np.searchsorted(psu, np.arange(N_PSU))
    ssu = (np.arange(n_rows) - first[psu]) % 4  # up to four second-stage units per PSU
    domain = gen.integers(0, N_DOM, n_rows)
    y = np.round(np.exp(gen.normal(2 + stratum / 25, 0.8, n_rows)), 2)
    g2 = (domain % 3).astype(np.int64)
    return pd.DataFrame(
        {
            "stratum": stratum,
            "psu": psu,
            "ssu": ssu,
            "domain": domain,
            "y": y,
            "g1": (stratum % 4).astype(np.int64),
            "g2": g2,
            "w": np.round(20 + 30 * gen.random(N_STRATA)[stratum], 3),
            "fpc1": np.full(n_rows, 4 * N_PSU // N_STRATA),
            "fpc2": np.full(n_rows, 8),  # 8 second-stage units in every PSU
        }
    )


def one_pass(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Domain totals and SEs of a one-stage stratified cluster design in one numpy pass."""
    w = df["w"].to_numpy()
    y = df["y"].to_numpy()
    psu = df["psu"].to_numpy()
    dom = df["domain"].to_numpy()
    stratum_of_psu = np.zeros(N_PSU, dtype=np.int64)
    stratum_of_psu[psu] = df["stratum"].to_numpy()
    z = np.bincount(psu * N_DOM + dom, weights=w * y, minlength=N_PSU * N_DOM)
    z = z.reshape(N_PSU, N_DOM)
    n_h = np.bincount(stratum_of_psu, minlength=N_STRATA).astype(float)
    starts = np.searchsorted(stratum_of_psu, np.arange(N_STRATA))  # PSUs stratum by stratum
    s1 = np.add.reduceat(z, starts, axis=0)
    s2 = np.add.reduceat(z * z, starts, axis=0)
    var = ((n_h / (n_h - 1.0))[:, None] * (s2 - s1 * s1 / n_h[:, None])).sum(axis=0)
    return s1.sum(axis=0), np.sqrt(var)


def measure(func: Callable[[], object], repeat: int) -> tuple[float, int, object]:
    """Best wall time (s), peak traced memory (bytes) of one run, and the result."""
    tracemalloc.start()
    out = func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - start)
    return best, peak, out


def svy_total(df: pd.DataFrame) -> Callable[[], object] | None:
    """A plain overall total with svy (Rust core), or None when svy is not installed."""
    if importlib.util.find_spec("svy") is None:
        return None
    import polars as pl
    import svy

    pdf = pl.from_pandas(df[["stratum", "psu", "w", "y"]])
    sample = svy.Sample(pdf, svy.Design(stratum="stratum", psu="psu", wgt="w"))
    return lambda: sample.estimation.total("y")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    df = make_sample(args.rows)
    n = len(df)
    one = es.SurveyDesign(df, weights="w", strata="stratum", psu="psu", nest=True)
    two = es.SurveyDesign(df, strata="stratum", psu=["psu", "ssu"], fpc=["fpc1", "fpc2"], nest=True)
    g1 = {k: float(v) for k, v in df.groupby("g1")["w"].sum().items()}
    g2 = {k: float(v) for k, v in df.groupby("g2")["w"].sum().items()}
    raked = one.rake({"g1": g1, "g2": g2})
    jkn = one.replicate("JKn")

    rows: list[tuple[str, float, int, str, float, str]] = []
    t_ref, p_ref, (_, ref_se) = measure(lambda: one_pass(df), args.repeat)
    rows.append(("one-pass reference (numpy)", t_ref, p_ref, "", np.nan, ""))
    t1, p1, e1 = measure(lambda: one.total("y", by="domain"), args.repeat)
    np.testing.assert_allclose(e1.se, ref_se, rtol=1e-9)  # type: ignore[attr-defined]
    rows.append(("one-stage domain totals", t1, p1, "one-pass", t1 / t_ref, "<= 4"))
    t2, p2, _ = measure(lambda: two.total("y", by="domain"), args.repeat)
    rows.append(("two-stage, fpc both stages", t2, p2, "one-stage", t2 / t1, "<= 2"))
    t3, p3, _ = measure(lambda: raked.total("y", by="domain"), args.repeat)
    rows.append(("after raking to 2 margins", t3, p3, "plain", t3 / t1, "<= 2"))
    t4, p4, e4 = measure(lambda: jkn.total("y", by="domain"), args.repeat)
    np.testing.assert_allclose(e4.se, e1.se, rtol=1e-8)  # type: ignore[attr-defined]
    rows.append(("JKn (40,000 replicates)", t4, p4, "linearised", t4 / t1, "<= 3"))
    t5, p5, _ = measure(lambda: one.total("y"), args.repeat)
    peer = svy_total(df)
    if peer is not None:
        t6, _, _ = measure(peer, args.repeat)
        rows.append(("plain total(y)", t5, p5, "svy", t5 / t6, "<= 1"))
    else:
        rows.append(("plain total(y)", t5, p5, "(svy not installed)", np.nan, "<= 1"))

    print(f"{n:,} rows, {N_STRATA} strata, {N_PSU:,} PSUs, {N_DOM} domains\n")
    print("| case | es_survey (s) | peak B/row | against | ratio | target |")
    print("|---|---|---|---|---|---|")
    for name, t, peak, against, ratio, target in rows:
        shown = "" if np.isnan(ratio) else f"{ratio:.2f}x"
        print(f"| {name} | {t:.3f} | {peak / n:.0f} | {against} | {shown} | {target} |")


if __name__ == "__main__":
    main()
