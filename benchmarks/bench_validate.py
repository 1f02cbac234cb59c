"""Time `load_study` (read, validate, link) on a national-size frame.

The demo's frame and responses (632 units, 141 answers) are tiled to ``--units`` frame
units with fresh, valid and unique REGONs (KRS and NIP blanked, as they would repeat),
responses keeping the demo's response share; both are written as CSV (UTF-8, ``;``)
and, with ``--xlsx``, as workbooks. Prints one row per file type: units, responses,
seconds and peak memory of the whole ``load_study`` call (best of ``--repeat``).

    python benchmarks/bench_validate.py                  # 100,000 units, CSV
    python benchmarks/bench_validate.py --units 200000 --xlsx
    python benchmarks/bench_validate.py --profile        # cProfile's top 25 lines
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from es_survey.synth import make_demo
from es_survey.validate import load_study


def _regons(n: int) -> list[str]:
    """Unique valid REGONs: bodies 26000000 + k with their check digit."""
    body = 26_000_000 + np.arange(n)
    digits = (body[:, None] // 10 ** np.arange(7, -1, -1)) % 10
    check = (digits @ np.array([8, 9, 2, 3, 4, 5, 6, 7])) % 11 % 10
    return [f"{b:08d}{c}" for b, c in zip(body, check, strict=True)]


def build(units: int, folder: Path, xlsx: bool) -> dict[str, tuple[Path, Path]]:
    """Write the tiled frame and responses; return {kind: (frame, responses)}."""
    demo = make_demo()
    frame, responses = demo["frame"], demo["responses"]
    reps = -(-units // len(frame))
    big = pd.concat([frame] * reps, ignore_index=True).iloc[:units].copy()
    regon = _regons(units)
    big["REGON"] = regon
    big["KRS"] = ""
    big["NIP"] = ""
    answered = responses.drop_duplicates("REGON").set_index("REGON")
    rows = []
    for i, r in enumerate(frame["REGON"]):
        if r in answered.index:
            rows.extend(range(i, units, len(frame)))
    rows.sort()
    resp = answered.loc[[frame["REGON"].iloc[i % len(frame)] for i in rows]].reset_index()
    resp["REGON"] = [regon[i] for i in rows]
    out = {"csv": (folder / "frame.csv", folder / "responses.csv")}
    big.to_csv(out["csv"][0], sep=";", index=False)
    resp.to_csv(out["csv"][1], sep=";", index=False)
    if xlsx:
        out["xlsx"] = (folder / "frame.xlsx", folder / "responses.xlsx")
        big.to_excel(out["xlsx"][0], index=False)
        resp.to_excel(out["xlsx"][1], index=False)
    return out


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--xlsx", action="store_true", help="also time .xlsx inputs")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top lines")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = build(args.units, Path(tmp), args.xlsx)
        print("| input | units | responses | seconds | peak MB |")
        print("|---|---|---|---|---|")
        for kind, (frame, responses) in files.items():
            if args.profile:
                prof = cProfile.Profile()
                prof.runcall(load_study, frame, responses)
                pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
            best = float("inf")
            for _ in range(args.repeat):
                start = time.perf_counter()
                data = load_study(frame, responses)
                best = min(best, time.perf_counter() - start)
            tracemalloc.start()
            load_study(frame, responses)
            peak = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
            print(
                f"| {kind} | {len(data.frame):,} | {len(data.responses):,} | {best:.2f} "
                f"| {peak:,.0f} |"
            )


if __name__ == "__main__":
    main()
