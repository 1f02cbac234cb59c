"""The sector's indicators (issue 12, section 3): configured in study.toml, estimated by
the engine's estimators, printed in the report and the workbook.

Correctness is checked by hand calculations on the demo study's design: the weighted
share, ratio and mean written out with numpy from the design's weights and data, and
the share of a funnel stage as the funnel's count over the register's with its logit
interval written out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from scipy import stats

from es_survey.errors import DataError, DesignError
from es_survey.indicators import Indicator, _populations, estimate_indicators, parse_indicators
from es_survey.study import load_config

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "data" / "raw" / "study.toml"


@pytest.fixture(scope="module")
def results(demo_results):
    return demo_results


@pytest.fixture(scope="module")
def report(demo_report):
    return demo_report[0]


def _overall(results, name):
    table = results.indicators
    return table[(table["indicator"] == name) & (table["domain"] == "")].iloc[0]


def test_demo_study_configures_the_regional_set(results):
    names = [i.name for i in results.config.indicators]
    assert names == [
        "active_share", "registered_per_10k", "active_per_10k", "paid_activity_share",
        "employees", "employees_fte",
        "civil_contracts", "volunteers", "at_risk_share", "disabled_share", "participants",
        "zaz_employees", "market_revenue_share", "public_revenue_share",
        "other_revenue_share", "workers_per_entity",
    ]  # fmt: skip
    assert set(results.indicators["indicator"]) == set(names)


def test_share_of_a_stage_is_the_funnels_count_over_the_register(results):
    # 290 active of 632 registered: the same number as the funnel, with the logit
    # interval written out: expit(logit p -/+ t_df se / (p (1 - p)))
    row = _overall(results, "active_share")
    funnel = results.funnel.set_index("stage").loc["active"]
    p, se, df = funnel["estimate"] / 632, funnel["se"] / 632, funnel["df"]
    half = stats.t.ppf(0.975, df) * se / (p * (1 - p))
    logit = np.log(p / (1 - p))
    assert row["estimate"] == pytest.approx(p, rel=1e-12)
    assert row["se"] == pytest.approx(se, rel=1e-12)
    assert row["lower"] == pytest.approx(1 / (1 + np.exp(-(logit - half))), rel=1e-10)
    assert row["upper"] == pytest.approx(1 / (1 + np.exp(-(logit + half))), rel=1e-10)
    assert round(100 * row["estimate"], 1) == 45.8


def test_share_ratio_and_mean_are_the_weighted_sums_written_out(results):
    design = results.design
    data = design.data
    w = design.weights
    active = data["active"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    # share of earning among active entities whose answer is known
    earning = data["earning"].astype("boolean")
    known = active & earning.notna().to_numpy()
    e = earning.fillna(False).to_numpy(dtype=bool)
    share = (w * e)[known].sum() / w[known].sum()
    assert _overall(results, "paid_activity_share")["estimate"] == pytest.approx(share, rel=1e-12)
    # ratio of public revenue to all revenue among active entities answering both
    num = data["revenue_public"].astype("Float64")
    den = data["revenue_total"].astype("Float64")
    both = active & num.notna().to_numpy() & den.notna().to_numpy()
    ratio = (w * num.fillna(0).to_numpy(dtype=float))[both].sum() / (
        w * den.fillna(0).to_numpy(dtype=float)
    )[both].sum()
    assert _overall(results, "public_revenue_share")["estimate"] == pytest.approx(ratio, rel=1e-12)
    # workers per active entity
    workers = data["workers"].astype("Float64")
    answered = active & workers.notna().to_numpy()
    mean = (w * workers.fillna(0).to_numpy(dtype=float))[answered].sum() / w[answered].sum()
    assert _overall(results, "workers_per_entity")["estimate"] == pytest.approx(mean, rel=1e-12)


def test_per_10k_inhabitants_divides_by_the_census_population(results):
    # hand calculation from the census table: 632 registered entities of 2023's
    # population; Kielce's 96 of its own; active entities with the funnel's se scaled
    from es_survey import regions

    pop = regions.powiats("26").set_index("teryt")["population_2023"].astype(float)
    table = results.indicators
    reg = table[table["indicator"] == "registered_per_10k"].set_index(["domain", "domain_value"])
    assert reg.loc[("", ""), "estimate"] == pytest.approx(632 / pop.sum() * 1e4, rel=1e-12)
    assert reg.loc[("", ""), "se"] == 0
    assert reg.loc[("powiat_name", "Kielce"), "estimate"] == pytest.approx(
        96 / pop["2661"] * 1e4, rel=1e-12
    )
    act = table[(table["indicator"] == "active_per_10k") & (table["domain"] == "")].iloc[0]
    funnel = results.funnel.set_index("stage").loc["active"]
    assert act["estimate"] == pytest.approx(funnel["estimate"] / pop.sum() * 1e4, rel=1e-12)
    assert act["upper"] == pytest.approx(funnel["upper"] / pop.sum() * 1e4, rel=1e-12)


def test_a_total_among_one_entity_type_counts_only_that_type(results):
    # ZAZ employees: the total of emp_uop among units of type ZAZ; with every other type
    # excluded it may not exceed the total of all employees, and it is positive
    zaz = _overall(results, "zaz_employees")["estimate"]
    assert 0 < zaz < _overall(results, "employees")["estimate"]
    by_hand = estimate_indicators(
        results.design,
        [Indicator("z", "total", "emp_uop", among="entity_type=ZAZ")],
        register=results.units,
    )
    assert by_hand["estimate"].iloc[0] == pytest.approx(zaz, rel=1e-12)


def test_indicator_config_errors_are_named_all_at_once():
    raw = [
        {"name": "a", "kind": "sum", "variable": "x"},
        {"name": "b", "kind": "ratio", "variable": "x"},
        {"name": "c", "kind": "total", "variable": "x", "domans": ["powiat_name"]},
        {"name": "d", "kind": "per_10k", "variable": "active", "domains": ["entity_type"]},
        {"name": "e", "kind": "share", "variable": "active", "domains": ["gmina"]},
    ]
    with pytest.raises(DataError) as info:
        parse_indicators(raw, domains=["entity_type"])
    text = str(info.value)
    assert text.startswith("5 problem(s) in [[indicators]]:")
    assert "'a': kind = 'sum'; expected one of total, share, mean, ratio, per_10k" in text
    assert "'b': denominator is required for kind 'ratio'" in text
    assert "'c': unknown key 'domans'; did you mean 'domains'?" in text
    assert "'d': per 10 000 inhabitants needs a territorial domain" in text
    assert "'e': domain 'gmina' is not one of [estimates] domains ['entity_type']" in text


def test_a_study_config_with_a_bad_indicator_names_the_file(tmp_path):
    text = STUDY.read_text(encoding="utf-8").replace(
        'name = "volunteers"\nkind = "total"', 'name = "volunteers"\nkind = "totl"'
    )
    (tmp_path / "study.toml").write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"study\.toml: 1 problem\(s\) in \[\[indicators\]\]"):
        load_config(tmp_path / "study.toml")


def test_report_prints_the_indicators_in_polish_and_the_workbook_holds_them(report):
    html = (report / "index.html").read_text(encoding="utf-8")
    assert 'id="table-indicators"' in html and 'id="table-indicators-entity_type"' in html
    assert '<td>%</td><td class="num">45,8%</td>' in html  # a share as a percentage
    assert "Wolontariusze</th><td>osoby</td>" in html
    # a register count per inhabitant is exact: printed without interval, CV or n
    assert (
        "Podmioty w rejestrze na 10 tys. mieszkańców</th><td>na 10 tys. mieszkańców</td>"
        '<td class="num">5,4</td><td class="num"></td><td class="num"></td><td class="num"></td>'
    ) in html
    book = load_workbook(report / "tables.xlsx")
    rows = list(book["Wskaźniki"].iter_rows(values_only=True))
    assert rows[0][:4] == ("Wskaźnik", "Jednostka", "Domena", "Wartość")
    first = rows[1]
    assert first[0] == "Podmioty aktywne wśród zarejestrowanych" and first[2] == "Ogółem"
    assert isinstance(first[4], float) and round(first[4], 3) == 0.458


def test_estimates_csv_carries_the_indicators(report):
    import pandas as pd

    csv = pd.read_csv(report / "estimates.csv", dtype={"domain": str}, keep_default_na=False)
    rows = csv[csv["table"] == "indicators"]
    share = rows[(rows["variable"] == "active_share") & (rows["domain"] == "")].iloc[0]
    assert share["statistic"] == "share" and round(float(share["estimate"]), 4) == 0.4584
    suppressed = rows[rows["reliability"] == "suppressed"]
    assert len(suppressed) and (suppressed["estimate"] == "").all()  # no number printed


def test_per_10k_needs_a_supplied_population():
    """Outside Świętokrzyskie regions serves population_2021 as NaN: not a population."""
    units = pd.DataFrame({"teryt_powiat": ["1201", "1261"], "powiat_name": ["bocheński", "Kraków"]})
    with pytest.raises(DesignError, match=r"no population for voivodeship 12 \(es_survey.regions"):
        _populations(units, 2023)
    assert _populations(units.assign(teryt_powiat=["2601", "2661"]), 2023)[1] == "population_2023"


def test_per_10k_with_a_study_population_table():
    # Małopolska (12): 22 powiats; a study supplies its own population table. Rates per
    # 10 000 divide by it: 1261 Kraków with 800 000 inhabitants, 1201 bocheński 100 000;
    # the overall population is the table's sum and a subregion's the sum of its powiats
    from es_survey import regions

    pw = regions.powiats("12")
    table = pd.DataFrame({"teryt": pw["teryt"], "population": 100_000})
    table.loc[table["teryt"] == "1261", "population"] = 800_000
    units = pd.DataFrame({"teryt_powiat": ["1201", "1261"], "powiat_name": ["bocheński", "Kraków"]})
    pops, column = _populations(units, 2023, table)
    assert column == "population"
    assert pops["teryt_powiat"]["1261"] == 800_000 and pops["powiat_name"]["bocheński"] == 100_000
    assert pops[""][""] == 800_000 + 100_000 * (len(pw) - 1)
    krakow_sub = pw.loc[pw["teryt"] == "1261", "subregion"].iloc[0]
    members = int((pw["subregion"] == krakow_sub).sum())
    assert pops["subregion"][krakow_sub] == 800_000 + 100_000 * (members - 1)
    with pytest.raises(DataError, match=r"no population for powiat\(s\) \['1201'\]"):
        _populations(units, 2023, table[table["teryt"] != "1201"])
    bad = table.assign(population=table["population"].where(table["teryt"] != "1202", 0))
    with pytest.raises(DataError, match=r"row 1, column 'population': value 0; expected"):
        _populations(units, 2023, bad)
