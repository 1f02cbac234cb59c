"""Planning the next wave in the workflow (issue 14, section 2): ``[plan]`` in study.toml,
``strata_from_study``, ``es-survey plan`` and the report's last section.

Reference numbers are computed in the tests themselves: the counts from the raw frame
(data/raw/frame.xlsx, its Polish labels) with plain pandas, the shares, means and SDs
from the study's classified answers with plain pandas, and a tiny case by hand.
"""

from __future__ import annotations

import dataclasses
import re
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

import es_survey as es
import es_survey.study as study_module
from es_survey.cli import main
from es_survey.errors import DataError, DesignError
from es_survey.plan import Target, plan_next_wave, strata_from_study
from es_survey.report import _plan_html
from es_survey.study import PlanConfig, load_config
from es_survey.tables import format_number

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
DEMO = RAW / "study.toml"
HEAD = '[study]\nyear = 2023\n[inputs]\nframe = "f.xlsx"\nresponses = "r.xlsx"\n'
EXAMPLE = '[{variable = "active", cv = 0.05}]'


def _config_error(tmp_path: Path, plan: str) -> str:
    path = tmp_path / "study.toml"
    path.write_text(HEAD + plan, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_config(path)
    return str(info.value).replace(str(path), "STUDY")


def _with_plan(results, **changes):
    """The demo results with another [plan] (the study itself is not run again)."""
    plan = dataclasses.replace(results.config.plan, **changes)
    return dataclasses.replace(results, config=dataclasses.replace(results.config, plan=plan))


# ------------------------------------------------------------------ [plan] in study.toml
def test_plan_config_defaults_and_absence(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(HEAD, encoding="utf-8")
    assert load_config(path).plan is None
    path.write_text(HEAD + f"[plan]\ntargets = {EXAMPLE}\n", encoding="utf-8")
    assert load_config(path).plan == PlanConfig(targets=(Target("active", 0.05),))
    plan = load_config(DEMO).plan
    assert plan is not None and (plan.method, plan.min_n, plan.overlap) == ("multi", 5, "maximise")
    assert plan.targets == (
        Target("active", 0.05),
        Target("active", 0.20, "subregion"),
        Target("workers", 0.15),
    )


def test_plan_config_errors_name_the_file_section_and_key(tmp_path):
    lead = "STUDY: 1 problem(s) in the study config:\n  "
    assert _config_error(tmp_path, f"[plan]\ntargets = {EXAMPLE}\nseeds = 3\n") == (
        lead + "[plan] unknown key 'seeds'; did you mean 'seed'?"
    )
    assert _config_error(tmp_path, f'[plan]\nmethod = "best"\ntargets = {EXAMPLE}\n') == (
        lead + "[plan] method = 'best': expected one of 'proportional', 'neyman', 'optimal', "
        "'multi'"
    )
    assert _config_error(tmp_path, '[plan]\ntargets = [{variable = "active", cv = 5}]\n') == (
        lead + "[plan] targets[0] cv = 5: expected a number between 0 and 1, e.g. 0.05 (a CV of 5%)"
    )
    assert _config_error(
        tmp_path, '[[plan.targets]]\nvariable = "active"\ncv = 0.1\ndomian = "subregion"\n'
    ) == (lead + "[plan] targets[0] unknown key 'domian'; did you mean 'domain'?")
    assert _config_error(tmp_path, f'[plan]\noverlap = "max"\ntargets = {EXAMPLE}\n') == (
        lead + "[plan] overlap = 'max': expected one of 'maximise', 'minimise', 'independent'"
    )
    assert _config_error(tmp_path, f"[plan]\nn = 300\ntargets = {EXAMPLE}\n") == (
        lead + "[plan] n = 300: method 'multi' finds the smallest sample meeting the targets; "
        "remove n, or set method = 'optimal' for a fixed n"
    )
    assert _config_error(tmp_path, '[plan]\nmethod = "neyman"\n') == (
        lead + "[plan] method = 'neyman' needs n (the total to draw)"
    )
    assert _config_error(tmp_path, "[plan]\nmin_n = 2\n") == (
        lead + "[plan] method = 'multi' needs targets, e.g. targets = "
        '[{variable = "active", cv = 0.05}]'
    )


# ------------------------------------------------------------------ strata_from_study
def _tiny():
    # stratum a: 2 respondents (active, inactive), 1 found ceased, 1 refusal;
    # stratum b: 1 respondent only (pooled), 1 non-contact
    units = pd.DataFrame({
        "stratum": ["a", "a", "a", "a", "b", "b"],
        "region": ["x", "x", "x", "x", "y", "y"],
        "kind": ["p", "q", "p", "p", "p", "p"],
        "active": pd.array([True, False, None, None, True, None], dtype="boolean"),
        "workers": [6.0, 4.0, None, None, 10.0, None],
    })  # fmt: skip
    outcome = ["complete", "partial", "ineligible", "refusal", "complete", "non_contact"]
    dispositions = pd.DataFrame({
        "disposition": outcome, "respondent": [o in ("complete", "partial") for o in outcome]
    })  # fmt: skip
    config = types.SimpleNamespace(strata="stratum")
    return types.SimpleNamespace(units=units, dispositions=dispositions, config=config)


def test_strata_from_study_by_hand():
    s = strata_from_study(_tiny(), domains=("region", "kind", "absent")).set_index("stratum")
    assert list(s.columns[:2]) == ["N", "region"]  # "kind" varies within a: left out
    assert "kind" not in s.columns and "absent" not in s.columns
    assert s["N"].tolist() == [4, 2]
    assert s["respondents"].tolist() == [2, 1] and s["ineligible"].tolist() == [1, 0]
    # (2 respondents + 1 ineligible) / 4 sampled; 1 / 2
    assert s["response_rate"].tolist() == [0.75, 0.5]
    # values of a: active 1, 0, 0 (ceased); workers 6, 0 (inactive), 0 (ceased)
    assert s.loc["a", "p_active"] == pytest.approx(1 / 3, rel=1e-12)
    assert s.loc["a", "mean_workers"] == pytest.approx(2.0, rel=1e-12)
    assert s.loc["a", "S_workers"] == pytest.approx(np.sqrt(12.0), rel=1e-12)  # var(6,0,0)=12
    # b has one observed unit: the whole sample's values (1, 0, 0, 1 and 6, 0, 0, 10)
    assert bool(s.loc["b", "pooled"]) and not bool(s.loc["a", "pooled"])
    assert s.loc["b", "p_active"] == pytest.approx(0.5, rel=1e-12)
    assert s.loc["b", "mean_workers"] == pytest.approx(4.0, rel=1e-12)
    assert s.loc["b", "S_workers"] == pytest.approx(np.sqrt(72 / 3), rel=1e-12)  # (4+16+16+36)/3
    assert s["observed_active"].tolist() == [3, 1]


def test_strata_from_study_floors_the_response_rate_and_names_bad_input():
    tiny = _tiny()
    tiny.dispositions.loc[4, ["disposition", "respondent"]] = ["refusal", False]
    s = strata_from_study(tiny, variables=["active"])
    assert s["response_rate"].tolist() == [0.75, 0.05]  # 0 of 2 answered: the 5% floor
    with pytest.raises(DesignError, match="variable 'jobs' is not a column of the study's units"):
        strata_from_study(tiny, variables=["jobs"])
    with pytest.raises(DesignError, match="stratum column 'h' is not a column"):
        strata_from_study(tiny, stratum="h")


def test_strata_from_study_on_the_demo_against_plain_pandas(demo_results):
    s = es.strata_from_study(demo_results).set_index("stratum")
    # counts from the raw frame file and its Polish labels
    frame = pd.read_excel(RAW / "frame.xlsx", engine="calamine")
    outcome = frame["Wynik realizacji"]
    raw = pd.DataFrame({
        "N": frame.groupby("Warstwa").size(),
        "sampled": (frame["W próbie"] == "tak").groupby(frame["Warstwa"]).sum(),
        "resp": outcome.isin(["wywiad pełny", "wywiad częściowy"]).groupby(frame["Warstwa"]).sum(),
        "inel": outcome.str.startswith("podmiot").fillna(False).groupby(frame["Warstwa"]).sum(),
    })  # fmt: skip
    assert s["N"].tolist() == raw["N"].tolist() and s.index.tolist() == raw.index.tolist()
    assert s["sampled"].tolist() == raw["sampled"].tolist()
    assert s["respondents"].tolist() == raw["resp"].tolist()
    assert s["ineligible"].tolist() == raw["inel"].tolist()
    rate = (raw["resp"] + raw["inel"]) / raw["sampled"]
    np.testing.assert_allclose(s["response_rate"], rate, rtol=1e-12)
    # shares, means and SDs: the classified answers (inputs here) with plain pandas
    u = demo_results.units
    code = outcome.str.startswith("podmiot").fillna(False).to_numpy()
    seen = u["responded"].to_numpy() | code
    active = u["active"].astype("Float64").where(~code, 0.0)
    # among active entities: 0 for an inactive one, unknown when "active" is undecided
    flag = u["active"].astype("Float64")
    workers = u["workers"].mask(flag.eq(0).fillna(False), 0.0).mask(flag.isna(), np.nan)
    workers = workers.where(~code, 0.0)
    p = active[seen].groupby(u["stratum"][seen]).mean()
    w = workers[seen].dropna().groupby(u["stratum"][seen]).agg(["mean", "std", "count"])
    np.testing.assert_allclose(s["p_active"], p.astype(float), rtol=1e-12)
    np.testing.assert_allclose(s["mean_workers"], w["mean"].astype(float), rtol=1e-12)
    np.testing.assert_allclose(s["S_workers"], w["std"].astype(float), rtol=1e-12)
    assert s["observed_workers"].tolist() == w["count"].tolist()
    assert not s["pooled"].any()  # every demo stratum has 2 observed values or more
    # per frame unit: the expected total of active entities is near the published one
    published = demo_results.funnel.set_index("stage").loc["active", "estimate"]
    assert abs(float((s["N"] * s["p_active"]).sum()) / published - 1) < 0.1
    # one subregion per stratum; entity types and ES categories vary within NGO strata
    assert "subregion" in s.columns and "entity_type" not in s.columns


def test_a_target_domain_that_cuts_strata_is_refused(demo_results):
    bad = _with_plan(demo_results, targets=(Target("active", 0.2, "es_category"),))
    with pytest.raises(DesignError, match=re.escape(
        "[plan] target domain 'es_category': it varies within strata of 'stratum'; a domain "
        "must be a union of strata: set [plan] stratum to a column nested in it"
    )):  # fmt: skip
        plan_next_wave(bad)
    with pytest.raises(DesignError, match=re.escape("[plan]: variable 'jobs' is not a column")):
        plan_next_wave(_with_plan(demo_results, targets=(Target("jobs", 0.2),)))


# ------------------------------------------------------------------ es-survey plan
@pytest.fixture(scope="module")
def cli_plan(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan")
    with pytest.MonkeyPatch.context() as mp:
        printed: list[str] = []
        mp.setattr("builtins.print", lambda *a, **k: printed.append(" ".join(map(str, a))))
        code = main(["plan", str(DEMO), "--out", str(out)])
    return code, out, "\n".join(printed)


def test_cli_plan_writes_the_allocation_and_the_sample(cli_plan, demo_results, tmp_path):
    code, out, printed = cli_plan
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["allocation.csv", "plan.xlsx", "sample.csv"]
    alloc = pd.read_csv(out / "allocation.csv")
    sample = pd.read_csv(out / "sample.csv", dtype={"regon": str})
    wave = plan_next_wave(demo_results)  # the same study, so the same plan
    assert alloc["n"].sum() == wave.allocation.total == int(sample["sampled"].sum())
    assert alloc["n"].tolist() == wave.allocation.n.tolist()
    drawn = sample.groupby("stratum")["sampled"].sum()
    assert drawn.to_dict() == dict(zip(alloc["stratum"], alloc["n"], strict=True))
    assert len(sample) == len(demo_results.units) and sample["prn"].between(0, 1).all()
    # overlap "maximise": in every stratum the panel is kept as far as the sizes allow
    kept = sample[sample["sampled"]].groupby("stratum")["previous"].sum()
    before = sample.groupby("stratum")["previous"].sum()
    assert (kept == np.minimum(before, drawn)).all()
    # the summary: what to draw, what to expect, the targets, and the PRNs to keep
    assert re.search(rf"draw +{wave.allocation.total} of 632 units in 8 strata", printed)
    assert "4 of 4 met" in printed and "workers (overall)" in printed
    assert "keep sample.csv's prn column" in printed
    book = load_workbook(out / "plan.xlsx")
    assert book.sheetnames == ["Alokacja", "Oczekiwane CV", "Próba", "Metadane"]
    # deterministic: the workbook written again from the session's results is the same
    again = es.report.write_plan(demo_results, tmp_path, wave)
    assert again["plan.xlsx"].read_bytes() == (out / "plan.xlsx").read_bytes()
    assert again["sample.csv"].read_bytes() == (out / "sample.csv").read_bytes()


def test_cli_plan_without_a_plan_section_says_what_to_add(tmp_path, capsys):
    text = DEMO.read_text(encoding="utf-8")
    text = text[: text.index("[plan]")] + text[text.index("[outputs]") :]
    for name in ("frame.xlsx", "responses.xlsx", "codebook.toml", "rules.toml"):
        text = text.replace(f'"{name}"', repr(str(RAW / name)).replace("'", '"'))
    (tmp_path / "study.toml").write_text(text, encoding="utf-8")
    assert main(["plan", str(tmp_path / "study.toml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no [plan] section; add one" in err
    assert not (tmp_path / "o").exists()


def test_cli_plan_infeasible_targets_and_csv_injection(demo_results, tmp_path, monkeypatch,
                                                       capsys):  # fmt: skip
    # the study is not run again: run_study gives the session's results, changed
    def results_with(**plan):
        return lambda config, progress=None: _with_plan(demo_results, **plan)

    monkeypatch.setattr(study_module, "run_study", results_with(targets=(Target("active", 0.01),)))
    assert main(["plan", str(DEMO), "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("es-survey: error: 1 CV target(s) cannot be met even drawing every")
    assert "active (overall): target CV 1.0%, best achievable 4.0%" in err
    # a name that a spreadsheet would run as a formula is written as text
    units = demo_results.units.copy()
    units.loc[units.index[0], "name"] = '=HYPERLINK("http://x")'
    hostile = dataclasses.replace(demo_results, units=units)
    monkeypatch.setattr(study_module, "run_study", lambda config, progress=None: hostile)
    assert main(["plan", str(DEMO), "--out", str(tmp_path / "b")]) == 0
    line = (tmp_path / "b" / "sample.csv").read_text(encoding="utf-8").splitlines()[1]
    assert "'=HYPERLINK" in line and ",=HYPERLINK" not in line
    cell = load_workbook(tmp_path / "b" / "plan.xlsx")["Próba"]["D2"]
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"


def test_cli_help_lists_plan(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert re.search(r"\bplan\b.*next wave", capsys.readouterr().out)


# ------------------------------------------------------------------ the report's annex
def test_report_annex_on_the_demo(demo_report, demo_results):
    out, _, _ = demo_report
    html = (out / "index.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="plan">') :]
    section = section[: section.index("</section>")]
    assert "<h2>Plan następnej edycji</h2>" in section
    wave = plan_next_wave(demo_results)
    n = wave.allocation.total
    noun = es.polish_plural(n, "podmiot", "podmioty", "podmiotów")
    assert f"należy wylosować {format_number(n)} {noun} z 632 podmiotów operatu" in section
    assert "do 5% ogółem i do 20% w każdym podregionie" in section
    rows = re.findall(r"<tr><td>([^<]*)</td><td class=\"num\">([^<]*)</td>"
                      r"<td class=\"num\">([^<]*)</td>", section)  # fmt: skip
    assert rows[-1] == ("ogółem", "632", format_number(n))
    assert [int(r[2]) for r in rows[:-1]] == wave.allocation.n.tolist()
    assert section.count("<tr>") == 1 + 9 + 1 + 4  # strata + total; the 4 CV targets


def test_report_annex_in_english_and_when_infeasible(demo_results):
    english = dataclasses.replace(
        demo_results, config=dataclasses.replace(demo_results.config, language="en")
    )
    text = _plan_html(english)
    assert "Precision targets for the next wave" in text and "frame units should be drawn" in text
    infeasible = _plan_html(_with_plan(demo_results, targets=(Target("active", 0.01),)))
    assert "nie da się osiągnąć" in infeasible and "(632 podmioty)" in infeasible
    assert "Najmniejszy osiągalny CV" in infeasible and "4,00%" in infeasible
    assert "table-plan_strata" not in infeasible  # no sample to show
