"""`es-survey init` (issue 11, section 3): a new study of any voivodeship in one command.

The numbers asserted come from outside the code under test: the regions' own tables
(powiats, subregions, gminas of es_survey.regions, i.e. TERC and the NUTS 3 file), the
synthetic plan scaled by hand from the gmina count (Świętokrzyskie's 102 gminas are
the unit), and the generator's record of its population and of the faults it wrote
(truth.csv).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tomllib
from fractions import Fraction
from importlib.resources import files
from pathlib import Path

import pandas as pd
import pytest

from es_survey import regions
from es_survey.cli import main
from es_survey.errors import DataError
from es_survey.scaffold import SYNTHETIC_FILES, init_study
from es_survey.study import check_strict, load_config, load_data
from es_survey.synth import FRAME_PLAN

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
TERC_2020 = ROOT / "src" / "es_survey" / "data" / "reference" / "TERC_2020-01-01.csv"
CODES = [
    "02", "04", "06", "08", "10", "12", "14", "16",
    "18", "20", "22", "24", "26", "28", "30", "32",
]  # fmt: skip


def scaled_active(code: str) -> int:
    """Active units of the synthetic plan scaled by hand: round(n * G / 102), halves up."""
    g = len(regions.gminas(code))
    total = 0
    for units, liquidated, active in FRAME_PLAN.values():
        n_units = max(1, int(Fraction(units * g, 102) + Fraction(1, 2)))
        n_liq = min(int(Fraction(liquidated * g, 102) + Fraction(1, 2)), n_units - 1)
        total += min(max(1, int(Fraction(active * g, 102) + Fraction(1, 2))), n_units - n_liq)
    return total


def headline(out: str, quantity: str) -> tuple[float, float, float]:
    # "  active          214  95% CI 178 – 249" (Polish digits: narrow no-break space)
    line = next(x for x in out.splitlines() if x.strip().startswith(quantity + " "))
    numbers = [
        float(n.replace("\u202f", "").replace(",", "."))
        for n in re.findall(r"\d[\d\u202f]*(?:,\d+)?", line.split(quantity, 1)[1])
    ]
    estimate, _level, lower, upper = numbers[:4]
    return estimate, lower, upper


def check_report(folder: Path) -> None:
    for name in ("index.html", "tables.xlsx", "estimates.csv"):
        assert (folder / name).is_file(), name
    figures = folder / "figures"
    assert list(figures.glob("*.svg")) and list(figures.glob("*.png"))
    assert list(figures.glob("powiat_map_*.svg")), "no powiat map"


# ------------------------------------------------------------------ the files written


@pytest.mark.parametrize("code", ["12", "02", "32"])
def test_init_writes_a_study_of_the_voivodeship(code, tmp_path):
    paths = init_study(tmp_path / "study", code, year=2024)
    assert sorted(paths) == ["README.md", "codebook.toml", "rules.toml", "study.toml"]
    assert not any((tmp_path / "study" / f).exists() for f in SYNTHETIC_FILES)
    # codebook and rules: the packaged ones, unchanged
    for name in ("codebook.toml", "rules.toml"):
        packaged = (files("es_survey") / "data" / name).read_text(encoding="utf-8")
        assert paths[name].read_text(encoding="utf-8") == packaged
    text = paths["study.toml"].read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    name = regions.voivodeships().set_index("teryt").loc[code, "name"]
    assert raw["study"]["year"] == 2024
    assert raw["study"]["title"].endswith(f"w województwie {name[:-2]}im")
    assert raw["design"]["calibration"]["frame_margins"] == ["es_category", "subregion"]
    assert raw["estimates"]["domains"] == ["entity_type", "subregion", "powiat_name"]
    # no per-10,000-inhabitant indicator without a population (only 26 has one)
    kinds = {i["kind"] for i in raw["indicators"]}
    assert "per_10k" not in kinds and {"share", "total", "ratio", "mean"} <= kinds
    assert "per_10k" in text and "docs/regions.md" in text  # says why they are missing
    # every subregion and powiat of the voivodeship is named in the header comment
    table = regions.powiats(code)
    for nuts3, subregion in set(zip(table["nuts3"], table["subregion"], strict=True)):
        assert f"#   {nuts3} {subregion}:" in text
    for teryt, powiat in zip(table["teryt"], table["name"], strict=True):
        assert f"{powiat} {teryt}" in text
    config = load_config(paths["study.toml"])
    assert config.frame == tmp_path / "study" / "frame.xlsx"
    assert config.terc is None
    readme = paths["README.md"].read_text(encoding="utf-8")
    assert "es-survey run study.toml" in readme and "codebook.toml" in readme


def test_init_keeps_per_10k_where_there_is_a_population(tmp_path):
    # Świętokrzyskie's detailed table has census populations: the demo's indicators stay
    raw = tomllib.loads(init_study(tmp_path, "26", year=2023)["study.toml"].read_text("utf-8"))
    demo = tomllib.loads((RAW / "study.toml").read_text(encoding="utf-8"))
    assert raw["indicators"] == demo["indicators"]


def test_init_by_name_equals_init_by_code(tmp_path):
    a = init_study(tmp_path / "a", "małopolskie", year=2024)["study.toml"]
    b = init_study(tmp_path / "b", "12", year=2024)["study.toml"]
    assert a.read_bytes() == b.read_bytes()


def test_wrong_voivodeship_is_a_one_line_error(tmp_path, capsys):
    target = tmp_path / "new"
    assert main(["init", str(target), "--voivodeship", "27"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("es-survey: error: --voivodeship 27 is not a ")
    valid = regions.voivodeships()
    assert all(f"{c} {n}" in err for c, n in zip(valid["teryt"], valid["name"], strict=True))
    assert not target.exists(), "nothing is written for a wrong code"


def test_a_folder_with_files_is_refused_unless_force(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["init", str(tmp_path), "--voivodeship", "12"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not empty" in err and "--force" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert main(["init", str(tmp_path), "--voivodeship", "12", "--force"]) == 0
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (tmp_path / "study.toml").is_file()
    with pytest.raises(DataError, match=r"year=1850 must be a survey year between 1990 and 2100"):
        init_study(tmp_path / "other", "12", year=1850)
    assert not (tmp_path / "other").exists()
    file = tmp_path / "a-file"
    file.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="is a file, not a folder"):
        init_study(file, "12")


# ------------------------------------------------------------------ init, then run


@pytest.fixture(scope="module")
def opolskie(tmp_path_factory):
    """`es-survey init --synthetic` of the smallest voivodeship (16, 71 gminas), then run."""
    folder = tmp_path_factory.mktemp("init") / "opolskie"
    assert main(["init", str(folder), "--voivodeship", "16", "--year", "2024", "--synthetic"]) == 0
    return folder


def test_init_synthetic_then_run_writes_the_report(opolskie, tmp_path, capsys):
    # the study given its own population table ([inputs] population): 10 000 inhabitants
    # in each of opolskie's 12 powiats, so registered entities per 10 000 inhabitants
    # are the register's count over 12
    study = tmp_path / "study"
    shutil.copytree(opolskie, study)
    codes = regions.powiats("16")["teryt"]
    pd.DataFrame({"teryt": codes, "population": 10_000}).to_csv(
        study / "ludnosc.csv", sep=";", index=False
    )
    text = (study / "study.toml").read_text(encoding="utf-8")
    text = text.replace("[inputs]\n", '[inputs]\npopulation = "ludnosc.csv"\n', 1) + (
        '\n[[indicators]]\nname = "registered_per_10k"\nkind = "per_10k"\n'
        'variable = "registered"\nlabel_pl = "Podmioty w rejestrze na 10 tys. mieszkańców"\n'
        'label_en = "Registered entities per 10,000 inhabitants"\n'
        'unit_pl = "na 10 tys. mieszkańców"\nunit_en = "per 10,000 inhabitants"\n'
        'domains = ["powiat_name"]\n'
    )
    (study / "study.toml").write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["run", str(study / "study.toml"), "--out", str(tmp_path / "report")]) == 0
    out = capsys.readouterr().out
    check_report(tmp_path / "report")
    assert len(codes) == 12
    rates = pd.read_csv(tmp_path / "report" / "estimates.csv", sep=None, engine="python")
    rates = rates[(rates["variable"] == "registered_per_10k") & rates["domain"].isna()]
    truth_n = len(pd.read_csv(opolskie / "truth.csv", usecols=["regon"]))
    assert rates["estimate"].iloc[0] == pytest.approx(truth_n / 12, rel=1e-12)
    truth = pd.read_csv(opolskie / "truth.csv", dtype={"regon": str, "teryt_powiat": str})
    # the synthetic population is the plan scaled by hand, all in voivodeship 16
    assert int(truth["active"].sum()) == scaled_active("16")
    assert set(truth["teryt_powiat"].str[:2]) == {"16"}
    # the validation summary comes before the headline and counts the generator's faults
    assert out.index("validation of frame.xlsx and responses.xlsx") < out.index("  active ")
    mistyped = int(truth["corruption"].str.contains("regon_mistyped").sum())
    assert re.search(rf"\n    regon_checksum +{mistyped}  Błędna cyfra kontrolna REGON\n", out)
    assert re.search(rf"\n    response_not_in_frame +{mistyped}  ", out)
    assert f"{len(truth)} frame units" in out
    _, lower, upper = headline(out, "active")
    assert lower <= truth["active"].sum() <= upper


def test_run_strict_stops_before_estimating(opolskie, tmp_path, capsys):
    capsys.readouterr()
    out_dir = tmp_path / "report"
    code = main(["run", str(opolskie / "study.toml"), "--out", str(out_dir), "--strict"])
    assert code == 2
    captured = capsys.readouterr()
    errors = [x for x in captured.err.splitlines() if x.startswith("es-survey: error:")]
    assert len(errors) == 1 and "Traceback" not in captured.err
    truth = pd.read_csv(opolskie / "truth.csv", dtype={"regon": str})
    mistyped = int(truth["corruption"].str.contains("regon_mistyped").sum())
    assert f"regon_checksum {mistyped}" in errors[0] and "nothing was estimated" in errors[0]
    assert "errors " in captured.out  # the summary was printed first
    assert "  active " not in captured.out and not out_dir.exists()


def test_check_strict_passes_data_without_errors(opolskie):
    config = load_config(opolskie / "study.toml")
    data = load_data(config)
    with pytest.raises(DataError, match=r"^study\.toml: \d+ errors in the study data") as info:
        check_strict(data, config)
    errors = data.problems[data.problems["severity"] == "error"]
    assert len(info.value.problems) == len(errors)
    clean = dataclasses.replace(data, problems=data.problems.drop(errors.index))
    check_strict(clean, config)  # no error: nothing raised


# ------------------------------------------------------------------ [inputs] terc


def test_study_names_its_own_terc_file(tmp_path):
    # The demo's gmina codes are of 2024-01-01 (the bundled register for 26); a study
    # whose [inputs] terc is the national file of 2020-01-01 sees the codes of the six
    # gminas whose kind changed since as unknown on that date.
    terc = tmp_path / "TERC_Urzedowy_2020-01-01.csv"
    terc.write_text(TERC_2020.read_text(encoding="utf-8"), encoding="utf-8")
    study = tmp_path / "study.toml"
    study.write_text(
        f'[study]\nname = "t"\nyear = 2023\n[inputs]\nframe = "{(RAW / "frame.xlsx").as_posix()}"\n'
        f'responses = "{(RAW / "responses.xlsx").as_posix()}"\nterc = "{terc.name}"\n',
        encoding="utf-8",
    )
    config = load_config(study)
    assert config.terc == terc
    problems = load_data(config).problems
    unknown = problems[(problems["rule"] == "teryt_unknown") & (problems["file"].str.endswith(
        "frame.xlsx"))]  # fmt: skip
    rows = pd.read_csv(TERC_2020, sep=";", dtype=str).fillna("")
    gminas_2020 = set(
        (rows["WOJ"] + rows["POW"] + rows["GMI"] + rows["RODZ"])[rows["RODZ"].isin(["1", "2", "3"])]
    )
    truth = pd.read_csv(RAW / "truth.csv", dtype={"teryt_gmina": str})
    expected = int((~truth["teryt_gmina"].isin(gminas_2020)).sum())
    assert expected > 0 and len(unknown) == expected
    assert unknown["message"].str.contains(r"\(state 2020-01-01\)").all()
    # without [inputs] terc the bundled register (26: 2024-01-01) knows them all
    plain = load_data(dataclasses.replace(config, terc=None)).problems
    assert not (plain["rule"] == "teryt_unknown").any()


def test_a_missing_terc_file_is_named(tmp_path):
    study = tmp_path / "study.toml"
    study.write_text(
        '[study]\nname = "t"\nyear = 2023\n[inputs]\nframe = "f.csv"\nresponses = "r.csv"\n'
        'terc = "TERC_2025-01-01.csv"\n',
        encoding="utf-8",
    )
    (tmp_path / "f.csv").write_text("REGON\n291010180\n", encoding="utf-8")
    (tmp_path / "r.csv").write_text("REGON\n291010180\n", encoding="utf-8")
    with pytest.raises(
        DataError, match=r"\[inputs\] terc: .*TERC_2025-01-01\.csv: TERC file not found"
    ):
        load_data(load_config(study))


# ------------------------------------------------------------------ every voivodeship


@pytest.mark.slow
@pytest.mark.parametrize("code", CODES)
def test_every_voivodeship_inits_and_runs(code, tmp_path, capsys):
    folder = tmp_path / code
    assert main(["init", str(folder), "--voivodeship", code, "--year", "2024", "--synthetic"]) == 0
    assert main(["run", str(folder / "study.toml"), "--out", str(tmp_path / "report")]) == 0
    out = capsys.readouterr().out
    check_report(tmp_path / "report")
    truth = pd.read_csv(folder / "truth.csv", dtype={"teryt_powiat": str})
    assert int(truth["active"].sum()) == scaled_active(code)
    assert set(truth["teryt_powiat"]) <= set(regions.powiats(code)["teryt"])
    assert "  active " in out and "  workers " in out


def test_init_synthetic_of_swietokrzyskie_is_the_demo(tmp_path):
    paths = init_study(tmp_path, "świętokrzyskie", year=2023, synthetic=True)
    assert paths["truth.csv"].read_bytes() == (RAW / "truth.csv").read_bytes()
    truth = pd.read_csv(paths["truth.csv"])
    # the published headline of the demo: 280 active entities, 3,363 workers
    assert int(truth["active"].sum()) == 280 == scaled_active("26")
    assert int(truth.loc[truth["active"], "workers"].sum()) == 3363
