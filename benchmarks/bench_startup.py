"""Time what a person feels: `import es_survey`, `es-survey --version`, the demo run.

Each command runs as a whole process ``--runs`` times after one warm-up; the table gives
the minimum and median wall-clock seconds. Run from the repository root (the demo run
reads ``data/raw/study.toml`` and writes its report to a temporary folder).

    python benchmarks/bench_startup.py
    python benchmarks/bench_startup.py --runs 9
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _time(command: list[str], runs: int) -> tuple[float, float]:
    """Minimum and median wall seconds of ``runs`` runs after one warm-up."""
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        if i:
            times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "es_survey.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        commands = {
            "import es_survey": [sys.executable, "-c", "import es_survey"],
            "import es_survey; es.SurveyDesign": [
                sys.executable,
                "-c",
                "import es_survey as es; es.SurveyDesign",
            ],
            "es-survey --version": [*cli, "--version"],
            "es-survey run (demo)": [*cli, "run", "data/raw/study.toml", "--out", tmp],
        }
        print("| command | min (s) | median (s) |")
        print("|---|---|---|")
        for name, command in commands.items():
            low, mid = _time(command, args.runs)
            print(f"| `{name}` | {low:.2f} | {mid:.2f} |")


if __name__ == "__main__":
    main()
