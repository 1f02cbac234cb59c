"""Regenerate the bundled demo study in this folder (frame.xlsx, responses.xlsx, truth.csv).

Run from anywhere: ``python data/raw/generate_demo.py``. Equivalent to
``python -m es_survey.synth --out data/raw --seed 2023``. The output is byte-identical
for the same seed and library version; ``tests/test_synth.py`` checks that the
committed files equal a fresh regeneration.
"""

from pathlib import Path

from es_survey.synth import write_demo

if __name__ == "__main__":
    for path in write_demo(Path(__file__).resolve().parent, seed=2023).values():
        print(f"wrote {path}")
