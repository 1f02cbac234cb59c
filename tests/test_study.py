"""Study config parsing and the one-call pipeline, checked against the demo's truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from es_survey.errors import DataError
from es_survey.study import load_config, run_study

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"


def test_packaged_demo_config_is_the_bundled_one():
    packaged = ROOT / "src" / "es_survey" / "data" / "demo_study.toml"
    assert packaged.read_bytes() == (RAW / "study.toml").read_bytes()


@pytest.fixture(scope="module")
def results(demo_results):
    # the demo study fixes its report date (2026-11-26): the run does not read the clock
    assert demo_results.config.date == pd.Timestamp("2026-11-26").date()
    return demo_results


def test_headline_intervals_cover_the_synthetic_truth(results):
    truth = pd.read_csv(RAW / "truth.csv")
    head = results.headline().set_index("quantity")
    assert head.loc["active", "lower"] <= truth["active"].sum() <= head.loc["active", "upper"]
    workers = truth.loc[truth["active"], "workers"].sum()
    assert head.loc["workers", "lower"] <= workers <= head.loc["workers", "upper"]
    assert (head["level"] == 0.95).all()


def test_domain_tables_add_up_and_cover_every_domain(results):
    truth = pd.read_csv(RAW / "truth.csv")
    by_type = results.funnel_by["entity_type"]
    assert set(by_type["entity_type"]) == set(truth["entity_type"])
    registered = by_type[by_type["stage"] == "registered"]["estimate"].sum()
    assert registered == pytest.approx(len(truth))
    assert set(results.totals_by) == {"entity_type", "subregion", "powiat_name"}
    assert results.totals_by["powiat_name"]["powiat_name"].nunique() == 14


def test_metadata_records_inputs_seed_and_date(results):
    import hashlib

    meta = results.metadata
    assert meta["seed"] == "2023" and meta["date"] == "2026-11-26"
    expected = hashlib.sha256((RAW / "frame.xlsx").read_bytes()).hexdigest()
    assert meta["sha256:frame.xlsx"] == expected
    # no absolute path of the machine (issue 12): the config by name and hash
    assert meta["config"] == "study.toml"
    assert (
        meta["sha256:study.toml"] == hashlib.sha256((RAW / "study.toml").read_bytes()).hexdigest()
    )
    assert not any(str(RAW.parent.parent) in str(v) for v in meta.values())


def test_bad_configs_name_file_section_and_key(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text('[study]\nyear = 2023\n[inputs]\nframe = "f.xlsx"\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"study.toml: \[inputs\] responses is required"):
        load_config(path)
    path.write_text('[study]\nyear = 2023\nlanguge = "en"\n', encoding="utf-8")
    with pytest.raises(
        DataError, match=r"\[study\] unknown key 'languge'; did you mean 'language'"
    ):
        load_config(path)
    path.write_text("[studdy]\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"unknown section \[studdy\]"):
        load_config(path)
    path.write_text(
        '[study]\nyear = 2023\nlanguage = "de"\n[inputs]\nframe = "a"\nresponses = "b"\n',
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=r"\[study\] language = 'de': expected 'pl' or 'en'"):
        load_config(path)
    with pytest.raises(DataError, match="study config not found"):
        load_config(tmp_path / "nope.toml")


def test_every_config_problem_at_once_with_the_nearest_key(tmp_path, monkeypatch):
    # issue "Untrusted input" section 3: wrong types are errors (not tracebacks), all of
    # them in one message, each naming section, key, value and what is expected
    path = tmp_path / "study.toml"
    path.write_text(
        '[study]\nyear = 2023\nseed = "abc"\n'
        '[inputs]\nframe = "a.xlsx"\nresponses = "b.xlsx"\n'
        '[estimates]\nlevel = "high"\ntotals = "workers"\n'
        '[design.nonresponse]\nmodle = "logit"\n'
        '[design.calibration]\nframe_margins = ["x"]\nbounds = ["a", "b"]\n',
        encoding="utf-8",
    )
    with pytest.raises(DataError) as info:
        load_config(path)
    text = str(info.value)
    assert "5 problem(s)" in text
    assert "[study] seed = 'abc': expected a whole number" in text
    assert "[estimates] level = 'high': expected a number between 0 and 1" in text
    assert "[estimates] totals = 'workers': expected a list of names" in text
    assert "[design.nonresponse] unknown key 'modle'; did you mean 'model'?" in text
    assert "[design.calibration] bounds = ['a', 'b']: expected two numbers" in text
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "abc")
    path.write_text('[study]\nyear = 2023\n[inputs]\nframe = "a"\nresponses = "b"\n')
    with pytest.raises(DataError, match="SOURCE_DATE_EPOCH = 'abc' is not a number"):
        load_config(path)


def test_calibration_to_frame_counts_reproduces_the_register(results):
    # The demo config calibrates (raking) to the frame counts by ES category and
    # subregion: the estimated registered entities per subregion must equal the
    # register's counts, known from the generator's record (truth.csv, NUTS-3).
    truth = pd.read_csv(RAW / "truth.csv")
    by_sub = results.funnel_by["subregion"]
    reg = by_sub[by_sub["stage"] == "registered"].set_index("subregion")["estimate"]
    counts = truth["nuts3"].map({"PL721": "kielecki", "PL722": "sandomiersko-jędrzejowski"})
    for name, n in counts.value_counts().items():
        assert reg[name] == pytest.approx(n, rel=1e-8)


def test_calibration_config_errors(tmp_path):
    path = tmp_path / "study.toml"
    base = '[study]\nyear = 2023\n[inputs]\nframe = "a"\nresponses = "b"\n'
    path.write_text(base + '[design.calibration]\nmethod = "raking"\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"\[design.calibration\] needs frame_margins"):
        load_config(path)
    path.write_text(base + '[design.calibration]\nframe_margin = ["x"]\n', encoding="utf-8")
    with pytest.raises(
        DataError,
        match=r"\[design.calibration\] unknown key 'frame_margin'; did you mean 'frame_margins'",
    ):
        load_config(path)


def test_small_area_section_of_the_config(tmp_path):
    base = '[study]\nyear = 2023\n[inputs]\nframe = "a"\nresponses = "b"\n'
    path = tmp_path / "study.toml"
    path.write_text(
        base + '[small_area]\nquantities = ["active", "revenue"]\nreplicates = 5\n'
        '[small_area.covariates]\nearning = ["opp"]\n',
        encoding="utf-8",
    )
    with pytest.raises(DataError) as info:
        load_config(path)
    text = str(info.value)
    assert "3 problem(s)" in text
    assert "[small_area] replicates = 5: expected a whole number >= 10" in text
    assert (
        "[small_area] quantities: 'revenue' is neither a funnel stage (active, earning, "
        "employing) nor one of [estimates] totals ['workers', 'emp_uop', 'emp_civil']"
    ) in text
    assert "[small_area.covariates] 'earning' is not one of [small_area] quantities" in text
    path.write_text(base + "[small_area]\nquantitties = []\n", encoding="utf-8")
    with pytest.raises(DataError, match="unknown key 'quantitties'; did you mean 'quantities'"):
        load_config(path)
    path.write_text(base, encoding="utf-8")
    default = load_config(path)
    assert default.small_area is None and default.small_area_replicates == 500


def test_small_area_from_the_config(results):
    # the demo asks for active entities and workers, one covariate each
    cfg = results.config
    assert cfg.small_area == ("active", "workers")
    assert cfg.small_area_covariates == {
        "active": ("statement_filed",),
        "workers": ("es_category=NGO",),
    }
    assert list(results.small_area) == ["active", "workers"]
    assert list(results.small_area["workers"].beta.index) == ["intercept", "es_category=NGO"]
    assert results.small_area["active"].replicates == 500
    none = run_study(load_config(RAW / "study.toml", small_area=()))
    assert dict(none.small_area) == {}


def test_sensitivity_section_of_the_config(tmp_path):
    base = '[study]\nyear = 2023\n[inputs]\nframe = "a"\nresponses = "b"\n'
    path = tmp_path / "study.toml"
    path.write_text(base + "[sensitivity]\ndeltas = [0.5, 0.8]\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"\[sensitivity\] deltas = \[0\.5, 0\.8\]: expected "
                       r"increasing positive numbers ending with 1"):  # fmt: skip
        load_config(path)
    path.write_text(base + "[sensitivity]\ndeltas = [0.6, 1.0]\nquantities = []\n")
    cfg = load_config(path)
    assert cfg.sensitivity_deltas == (0.6, 1.0) and cfg.sensitivity == ()


def test_followup_switch_in_the_config(tmp_path):
    # [design] followup = false: the demo is estimated as if there were no follow-up
    single = run_study(load_config(RAW / "study.toml", followup=False, followup_calibration=()))
    assert single.followup is None and type(single.design).__name__ == "SurveyDesign"
    active = single.funnel.set_index("stage").loc["active", "estimate"]
    assert round(active) == 289  # the single-phase adjustment (two phases: 290)
    # calibrating a follow-up the study ignores is a contradiction, said as such
    with pytest.raises(DataError, match=r"followup_calibration calibrates the weights of a "):
        run_study(load_config(RAW / "study.toml", followup=False))
    base = '[study]\nyear = 2023\n[inputs]\nframe = "a"\nresponses = "b"\n'
    path = tmp_path / "study.toml"
    path.write_text(base + '[design]\nfollowup = "yes"\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"\[design\] followup = 'yes': expected true or false"):
        load_config(path)
    path.write_text(base + '[design]\nfollowup_calibration = "krs_economic"\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"followup_calibration = 'krs_economic': expected a list"):
        load_config(path)


def test_followup_calibration_in_the_config_calibrates_the_phase2_weights():
    # the demo: the phase-2 weights reproduce the sample's counts of the two register
    # entries (hand check against the sampled frame units), each stratum x status group
    # keeps its phase-1 count
    res = run_study(load_config(RAW / "study.toml"))
    d = res.design
    assert d.calibrated_on == ["krs_economic", "statement_filed"]
    sample = d.phase1
    w1 = sample["frame_N_h"] / sample.groupby("stratum")["stratum"].transform("size")
    conditional = d.weights / w1[d.data.index].to_numpy()
    for col in ("krs_economic", "statement_filed"):
        flag = d.data[col].astype(bool).to_numpy()
        assert conditional[flag].sum() == pytest.approx(sample[col].astype(bool).sum())
    groups = [d.data["stratum"], d.data["status_known"]]
    got = pd.Series(conditional, index=d.data.index).groupby(groups).sum()
    want = sample.groupby(["stratum", "status_known"]).size().loc[got.index]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9)
    wrong = load_config(RAW / "study.toml", followup_calibration=("krs_ekonomic",))
    with pytest.raises(DataError, match=r"followup_calibration \['krs_ekonomic'\] are not"):
        run_study(wrong)


def test_sheets_and_limits_are_read_from_the_config(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(
        '[study]\nyear = 2023\n[inputs]\nframe = "f.xlsx"\nresponses = "r.xlsx"\n'
        'frame_sheet = 1\nresponses_sheet = "Dane"\n[limits]\nmax_file_mb = 500\n'
        "max_rows = 2000000\n",
        encoding="utf-8",
    )
    cfg = load_config(path)
    assert (cfg.frame_sheet, cfg.responses_sheet) == (1, "Dane")
    assert (cfg.limits.max_file_mb, cfg.limits.max_rows, cfg.limits.max_cell_chars) == (
        500,
        2_000_000,
        32_767,  # not given: the default
    )
    path.write_text(
        '[study]\nyear = 2023\n[inputs]\nframe = "f.xlsx"\nresponses = "r.xlsx"\n'
        "frame_sheet = -1\n[limits]\nmax_rowz = 5\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=r"(?s)frame_sheet = -1: expected a sheet name.*"
                       r"\[limits\] unknown key 'max_rowz'; did you mean 'max_rows'"):  # fmt: skip
        load_config(path)
