"""Publication tables: number formatting, reliability classes, suppression.

Expected strings are written out by hand from the conventions in the module
docstring (U+202F between thousands, decimal comma, U+2212 minus, half-up rounding).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import es_survey as es
from es_survey.errors import DataError, DesignError
from es_survey.tables import (
    MINUS,
    THIN_SPACE,
    format_interval,
    format_number,
    format_percent,
    polish_plural,
    publication_table,
    reliability,
    reliability_footnote,
    reliability_frame,
)

NNBSP = "\u202f"
DIGIT = re.compile(r"\d")


def frame(**overrides: object) -> pd.DataFrame:
    """An Estimate.to_frame()-like table, built by hand (five powiats)."""
    data = {
        "powiat": ["2601", "2602", "2603", "2604", "2605"],
        "variable": "workers",
        "category": "",
        "statistic": "total",
        "estimate": [1234567.891, 250.0, 80.0, 12.0, 0.0],
        "se": [61728.39455, 37.5, 20.0, 6.0, 0.0],
        "lower": [1113580.0, 176.5, 40.8, 0.24, 0.0],
        "upper": [1355555.5, 323.5, 119.2, 23.76, 0.0],
        "level": 0.95,
        "cv": [0.05, 0.15, 0.25, 0.5, np.nan],
        "deff": [1.5, 1.2, 1.0, 0.9, np.nan],
        "df": [30.0, 20.0, 10.0, 5.0, 3.0],
        "n": [40, 25, 12, 6, 4],
    }
    data.update(overrides)
    return pd.DataFrame(data)


# ------------------------------------------------------------------ numbers
def test_thin_space_is_narrow_no_break_space() -> None:
    assert THIN_SPACE == NNBSP
    assert MINUS == "\u2212"


@pytest.mark.parametrize(
    ("x", "decimals", "lang", "expected"),
    [
        (1234567.891, 1, "pl", f"1{NNBSP}234{NNBSP}567,9"),
        (1234567.891, 1, "en", "1,234,567.9"),
        (1234567.891, 0, "pl", f"1{NNBSP}234{NNBSP}568"),
        (-1234.5, 1, "pl", f"\u22121{NNBSP}234,5"),
        (-1234.5, 0, "en", "\u22121,235"),  # half away from zero
        (999.95, 1, "pl", f"1{NNBSP}000,0"),
        (1000, 0, "pl", f"1{NNBSP}000"),  # grouped from 1,000 up (table convention)
        (999, 0, "pl", "999"),
        (0.125, 2, "pl", "0,13"),  # shortest decimal form 0.125, half up
        (2.675, 2, "en", "2.68"),  # Python's format gives 2.67 (binary 2.67499...)
        (2.5, 0, "pl", "3"),  # not banker's rounding
        (-0.04, 1, "pl", "0,0"),  # rounds to zero: no sign
        (0, 0, "pl", "0"),
        (7, 2, "pl", "7,00"),
        (np.int64(12345), 0, "en", "12,345"),
        (float("inf"), 0, "pl", "∞"),
        (float("-inf"), 0, "pl", "\u2212∞"),
    ],
)
def test_format_number(x: float, decimals: int, lang: str, expected: str) -> None:
    assert format_number(x, decimals=decimals, lang=lang) == expected


@pytest.mark.parametrize("missing", [float("nan"), None, pd.NA, np.nan])
def test_missing_is_empty_not_a_dash(missing: object) -> None:
    assert format_number(missing) == ""
    assert format_number(missing, na_rep="–") == "–"
    assert format_percent(missing) == ""
    assert format_interval(missing, 3.0) == ""


def test_format_percent_and_interval() -> None:
    assert format_percent(0.1234) == "12,3%"
    assert format_percent(0.1234, lang="en", decimals=2) == "12.34%"
    assert format_percent(-0.05, decimals=0) == "\u22125%"
    expected = f"[1{NNBSP}113{NNBSP}580; 1{NNBSP}355{NNBSP}556]"
    assert format_interval(1113580.0, 1355555.5) == expected
    assert format_interval(-2.5, 3.25, decimals=1, lang="en") == "[\u22122.5; 3.3]"


def test_format_errors() -> None:
    with pytest.raises(DesignError, match=r"lang='de' is not supported; use 'pl' or 'en'"):
        format_number(1.0, lang="de")
    with pytest.raises(DesignError, match=r"decimals=-1 must be a non-negative integer"):
        format_number(1.0, decimals=-1)
    with pytest.raises(DesignError, match=r"decimals=1.5 must be a non-negative integer"):
        format_number(1.0, decimals=1.5)
    with pytest.raises(DesignError, match=r"x='12' is not a number"):
        format_number("12")
    with pytest.raises(DesignError, match=r"x=True is not a number"):
        format_number(True)
    with pytest.raises(DesignError, match=r"x=\[1\] is not a number"):
        format_number([1])
    with pytest.raises(DesignError, match=r"lower='a' is not a number"):
        format_interval("a", 1.0)


# -------------------------------------------------------------- reliability
def test_reliability_classes_at_the_bounds() -> None:
    # cv exactly on a bound belongs to the better class (<=)
    cv = [0.0, 0.10, 0.1000001, 0.20, 0.30, 0.3000001, np.inf, np.nan]
    assert reliability(cv).tolist() == [
        "good",
        "good",
        "acceptable",
        "acceptable",
        "caution",
        "suppressed",
        "suppressed",
        "suppressed",
    ]


def test_reliability_is_ordered_categorical_with_labels() -> None:
    out = reliability(pd.Series([0.25, 0.05], index=["b", "a"]))
    assert list(out.index) == ["b", "a"]
    assert out.cat.ordered and out.cat.codes.tolist() == [2, 0]
    assert reliability([0.05, 0.15, 0.25, 0.5], lang="pl").tolist() == [
        "dobra",
        "akceptowalna",
        "niska",
        "zbyt niska",
    ]
    assert reliability([0.25], lang="en").tolist() == ["use with caution"]


def test_reliability_thresholds_are_configurable() -> None:
    cv = [0.04, 0.08, 0.12, 0.16]
    assert reliability(cv).tolist() == ["good", "good", "acceptable", "acceptable"]
    assert reliability(cv, thresholds=(0.05, 0.1, 0.15)).tolist() == [
        "good",
        "acceptable",
        "caution",
        "suppressed",
    ]


def test_zero_estimate_is_published_as_zero_unless_its_se_is_positive() -> None:
    cv = [np.nan, np.nan, np.nan, np.nan]
    est = [0.0, 0.0, 0.0, 5.0]
    se = [0.0, 2.0, np.nan, 1.0]
    assert reliability(cv, estimate=est, se=se).tolist() == [
        "good",
        "suppressed",
        "suppressed",
        "suppressed",
    ]
    # without se, a zero estimate is publishable
    assert reliability([np.nan], estimate=[0.0]).tolist() == ["good"]


def test_min_n_suppresses_small_samples() -> None:
    out = reliability([0.05, 0.05, 0.05], n=[2, 3, 30], min_n=3)
    assert out.tolist() == ["suppressed", "good", "good"]


def test_reliability_errors() -> None:
    bounds = r"must be three increasing positive numbers .* e\.g\. \(0\.10, 0\.20, 0\.30\)"
    for bad in [(0.2, 0.1, 0.3), (0.1, 0.2), (0, 0.1, 0.2), (0.1, 0.2, np.inf), "abc", 5]:
        with pytest.raises(DesignError, match=bounds):
            reliability([0.1], thresholds=bad)
    with pytest.raises(DesignError, match=r"min_n=-1 must be a non-negative integer"):
        reliability([0.1], min_n=-1)
    with pytest.raises(DesignError, match=r"estimate has 2 values but cv has 1"):
        reliability([0.1], estimate=[1.0, 2.0])
    with pytest.raises(DesignError, match=r"cv must hold numbers"):
        reliability(["high"])
    with pytest.raises(DesignError, match=r"lang='fr' is not supported"):
        reliability([0.1], lang="fr")


def test_no_sample_is_no_data_never_good() -> None:
    # issue 10: "aktywne 0 [0; 0], n = 0, dobra" must read "brak danych"; a zero from
    # fewer than min_n rows is not "dobra" either.
    f = pd.DataFrame(
        {
            "estimate": [0.0, 0.0, 0.0],
            "se": [0.0, 0.0, 0.0],
            "lower": [0.0] * 3,
            "upper": [0.0] * 3,
            "cv": [np.nan] * 3,
            "n": [0, 2, 40],
        }
    )
    t = publication_table(f, min_n=5)
    assert t["reliability"].tolist() == ["brak danych", "zbyt niska", "dobra"]
    assert t["estimate"].tolist() == [".", ".", "–"]
    assert reliability_frame(f, min_n=5, lang="en")["reliability_label"].tolist() == [
        "no data",
        "suppressed",
        "good",
    ]


def test_footnote_states_thresholds_and_marker() -> None:
    pl = reliability_footnote(thresholds=(0.05, 0.125, 0.25), marker="‡", min_n=5)
    assert "CV ≤ 5%" in pl and "CV ≤ 12,5%" in pl
    assert "‡ — brak danych lub szacunek niepublikowany" in pl and "mniejsza niż 5" in pl
    assert "CV przekracza 25%" in pl and "Znaki umowne: – — zjawisko nie wystąpiło" in pl
    en = reliability_footnote(lang="en")
    assert "use with caution CV ≤ 30%" in en and ". no data or estimate not published" in en


# --------------------------------------------------------- publication table
def test_publication_table_polish_strings() -> None:
    t = publication_table(
        frame(), columns=["estimate", "se", "interval", "cv", "deff", "df", "n", "reliability"]
    )
    assert list(t.columns) == [
        "powiat",
        "variable",
        "statistic",
        "estimate",
        "se",
        "interval",
        "cv",
        "deff",
        "df",
        "n",
        "reliability",
    ]
    row = t.iloc[0]
    assert row["estimate"] == f"1{NNBSP}234{NNBSP}568"
    assert row["se"] == f"61{NNBSP}728"
    assert row["interval"] == f"[1{NNBSP}113{NNBSP}580; 1{NNBSP}355{NNBSP}556]"
    assert row["cv"] == "5,0%"
    assert row["deff"] == "1,50"
    assert row["n"] == "40"
    assert row["statistic"] == "suma"
    assert t["reliability"].tolist() == [
        "dobra",
        "akceptowalna",
        "niska",
        "zbyt niska",
        "dobra",
    ]
    # the true zero (estimate and SE exactly 0): Statistics Poland's "–", nothing to qualify
    assert t.iloc[4][["estimate", "interval", "cv"]].tolist() == ["–", "", ""]
    assert t.attrs["headers"]["interval"] == "Przedział ufności 95%"
    assert ". — brak danych lub szacunek niepublikowany" in t.attrs["footnote"]


def test_suppressed_row_shows_no_number() -> None:
    cols = ["estimate", "se", "interval", "lower", "upper", "cv", "deff", "df", "n", "reliability"]
    t = publication_table(frame(), columns=cols)
    row = t.iloc[3]
    assert row["reliability"] == "zbyt niska"
    for col in ("estimate", "se", "interval", "lower", "upper", "cv", "deff"):
        assert row[col] == "."  # Statistics Poland's sign
        assert not DIGIT.search(row[col])
    # n and df describe the sample, not the estimate
    assert row["n"] == "6" and row["df"] == "5"
    # the other rows do show numbers
    assert all(DIGIT.search(v) for v in t.loc[[0, 1, 2], "estimate"])


def test_threshold_change_moves_rows_into_suppression() -> None:
    t = publication_table(frame(), thresholds=(0.05, 0.1, 0.2), marker="‡", lang="en")
    assert t["reliability"].tolist() == [
        "good",
        "use with caution",
        "suppressed",
        "suppressed",
        "good",
    ]
    for i in (2, 3):
        cells = t.loc[i, ["estimate", "interval", "cv"]].tolist()
        assert cells == ["‡", "‡", "‡"]
        assert not any(DIGIT.search(c) for c in cells)
    assert t.loc[1, "estimate"] == "250"
    assert t.loc[1, "interval"] == "[177; 324]"  # 176.5 and 323.5 rounded half up
    assert t.attrs["headers"]["interval"] == "95% confidence interval"
    assert "CV ≤ 5%" in t.attrs["footnote"]


def test_min_n_in_publication_table() -> None:
    t = publication_table(frame(), min_n=10)
    assert t["reliability"].tolist()[-2:] == ["zbyt niska", "zbyt niska"]
    assert t.loc[4, "estimate"] == "."


def test_decimals_per_statistic_and_percent_for_proportions() -> None:
    f = pd.DataFrame(
        {
            "variable": ["active", "revenue", "workers"],
            "category": ["True", "", ""],
            "statistic": ["proportion", "mean", "total"],
            "estimate": [0.4725, 12345.678, 3363.4],
            "se": [0.02, 1000.0, 200.0],
            "lower": [0.4333, 10345.6, 2963.0],
            "upper": [0.5117, 14345.7, 3763.8],
            "cv": [0.0423, 0.081, 0.0595],
            "n": [300, 150, 300],
        }
    )
    t = publication_table(f, lang="en")
    assert t["estimate"].tolist() == ["47.3%", "12,345.7", "3,363"]
    assert t.loc[0, "interval"] == "[43.3%; 51.2%]"
    assert t["statistic"].tolist() == ["proportion", "mean", "total"]
    assert "category" in t.columns
    t2 = publication_table(f, lang="en", decimals={"mean": 0}, percent=False)
    assert t2["estimate"].tolist() == ["0.5", "12,346", "3,363"]
    t3 = publication_table(f, decimals=2)
    assert t3.loc[2, "estimate"] == f"3{NNBSP}363,40"


def test_publication_table_from_an_estimate() -> None:
    df = pd.DataFrame(
        {"h": ["a", "a", "b", "b"], "y": [1.0, 3.0, 2.0, 6.0], "w": [2.0, 2.0, 3.0, 3.0]}
    )
    est = es.SurveyDesign(df, weights="w", strata="h").total("y", by="h")
    # hand calculation: totals 2*(1+3) = 8 and 3*(2+6) = 24; SE 4 and 12 (cv 0.5):
    # both above 30% -> suppressed
    t = publication_table(est, thresholds=(0.5, 0.6, 0.7))
    assert t["estimate"].tolist() == ["8", "24"]
    assert t["cv"].tolist() == ["50,0%", "50,0%"]
    assert publication_table(est)["estimate"].tolist() == [".", "."]
    t90 = publication_table(est, level=0.9, thresholds=(0.5, 0.6, 0.7))
    assert t90.attrs["headers"]["interval"] == "Przedział ufności 90%"


def test_inputs_are_not_modified() -> None:
    f = frame()
    before = f.copy()
    publication_table(f)
    reliability_frame(f)
    pd.testing.assert_frame_equal(f, before)


def test_publication_table_errors() -> None:
    with pytest.raises(DataError, match=r"column\(s\) \['cv', 'n'\] missing"):
        publication_table(frame().drop(columns=["cv", "n"]))
    with pytest.raises(DataError, match=r"row 1, column 'estimate': value 'many' is not a number"):
        publication_table(frame(estimate=[1.0, "many", 3.0, 4.0, 5.0]))
    with pytest.raises(DataError, match=r"row 0, column 'cv': value -0.1 is negative"):
        publication_table(frame(cv=[-0.1, 0.1, 0.1, 0.1, 0.1]))
    with pytest.raises(DataError, match=r"column\(s\) \['deff'\] missing but columns= asks"):
        publication_table(frame().drop(columns=["deff"]), columns=["estimate", "deff"])
    with pytest.raises(DesignError, match=r"unknown column\(s\) \['median'\]; choose from"):
        publication_table(frame(), columns=["estimate", "median"])
    with pytest.raises(DesignError, match=r"columns='estimate' must be a list of names"):
        publication_table(frame(), columns="estimate")
    with pytest.raises(DesignError, match=r"marker='n/a 0' contains a digit"):
        publication_table(frame(), marker="n/a 0")
    with pytest.raises(DesignError, match=r"level= recomputes intervals and needs an Estimate"):
        publication_table(frame(), level=0.9)
    with pytest.raises(DesignError, match=r"expected an Estimate or its to_frame\(\) DataFrame"):
        publication_table([1, 2, 3])
    with pytest.raises(DesignError, match=r"decimals\['mean'\]=-2 must be a non-negative"):
        publication_table(frame(), decimals={"mean": -2})


# ------------------------------------------------------------ numeric twin
def test_reliability_frame_keeps_numbers_and_blanks_suppressed_rows() -> None:
    f = frame()
    out = reliability_frame(f, lang="en")
    assert list(out.columns) == [*f.columns, "reliability", "reliability_label", "suppressed"]
    assert out["estimate"].dtype == float and out["n"].dtype.kind in "if"
    assert out.loc[0, "estimate"] == 1234567.891  # full precision, not rounded
    assert out["suppressed"].tolist() == [False, False, False, True, False]
    assert out.loc[3, ["estimate", "se", "lower", "upper", "cv", "deff"]].isna().all()
    assert out.loc[3, "n"] == 6 and out.loc[3, "df"] == 5
    assert out["reliability"].tolist() == ["good", "acceptable", "caution", "suppressed", "good"]
    assert out.loc[2, "reliability_label"] == "use with caution"
    kept = reliability_frame(f, suppress=False)
    assert kept.loc[3, "estimate"] == 12.0 and bool(kept.loc[3, "suppressed"])


def test_polish_plural_forms():
    # the rules of Polish grammar (1; 2-4 except 12-14 in the last two digits; otherwise),
    # checked against forms an editor would write: "22 podmioty", "112 podmiotów"
    forms = ("podmiot", "podmioty", "podmiotów", "podmiotu")
    cases = {
        1: "podmiot",
        2: "podmioty",
        4: "podmioty",
        5: "podmiotów",
        11: "podmiotów",
        12: "podmiotów",
        14: "podmiotów",
        21: "podmiotów",
        22: "podmioty",
        112: "podmiotów",
        299: "podmiotów",
        3464: "podmioty",
        0: "podmiotów",
        -3: "podmioty",
        32.0: "podmioty",
        np.int64(24): "podmioty",
        2.5: "podmiotu",
        0.5: "podmiotu",
    }
    for n, want in cases.items():
        assert polish_plural(n, *forms) == want, n


def test_polish_plural_refuses_what_it_cannot_decline():
    with pytest.raises(DesignError, match=r"count=2\.5 is not whole: pass fraction="):
        polish_plural(2.5, "podmiot", "podmioty", "podmiotów")
    with pytest.raises(DesignError, match="is not a finite number"):
        polish_plural(float("nan"), "a", "b", "c", "d")
    with pytest.raises(DesignError, match="is not a number"):
        polish_plural("3", "a", "b", "c")  # type: ignore[arg-type]
