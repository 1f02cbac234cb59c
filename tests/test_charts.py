"""Charts, tested on the data they draw (not pixels).

Expected values are the hand-made inputs themselves (bar widths, interval ends,
tile positions from the powiat table), hand-computed Kish design effects and AAPOR
rates, and the colormap applied to the published values by hand.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from matplotlib.container import ErrorbarContainer

import es_survey as es
from es_survey import charts
from es_survey.errors import DataError, DesignError
from es_survey.regions import powiats
from es_survey.synth import draw_sample, make_population

NNBSP = "\u202f"
DIGIT = re.compile(r"\d")
SRC = "ROPS Kielce, badanie PES"
YEAR = 2023
KW = {"source": SRC, "year": YEAR}


def funnel() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "stage": ["registered", "eligible", "active", "earning", "employing"],
            "estimate": [632.0, 560.3, 281.4, 120.2, 96.1],
            "lower": [632.0, 540.0, 255.0, 101.0, 80.0],
            "upper": [632.0, 580.0, 307.0, 139.0, 112.0],
            "level": 0.95,
        }
    )


def by_type() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "entity_type": ["SS", "CIS", "STOW", "KGW"],
            "variable": "workers",
            "category": "",
            "statistic": "total",
            "estimate": [169.0, 86.0, 411.0, 52.0],
            "se": [9.0, 2.0, 108.6, 36.7],
            "lower": [150.0, 80.0, 196.0, 0.0],
            "upper": [188.0, 92.0, 626.0, 125.0],
            "level": 0.95,
            "cv": [0.053, 0.023, 0.264, 0.706],
            "n": [52, 7, 120, 29],
        }
    )


def by_powiat() -> pd.DataFrame:
    """12 of the 14 powiats: one to use with caution, one suppressed, two absent."""
    pw = powiats("26")
    codes = [c for c in pw["teryt"] if c not in ("2603", "2612")]
    est = np.array([16.0, 12.0, 40.0, 30.0, 6.0, 7.0, 21.0, 19.0, 15.0, 24.0, 71.0, 42.0])
    cv = np.full(len(codes), 0.15)
    cv[codes.index("2605")] = 0.25  # caution
    cv[codes.index("2606")] = 0.45  # suppressed
    return pd.DataFrame(
        {
            "teryt_powiat": codes,
            "variable": "active",
            "category": "",
            "statistic": "total",
            "estimate": est,
            "se": est * cv,
            "lower": est * (1 - 2 * cv),
            "upper": est * (1 + 2 * cv),
            "level": 0.95,
            "cv": cv,
            "n": 20,
        }
    )


def caption(ax: plt.Axes) -> str:
    texts = [t.get_text() for t in ax.texts if t.get_gid() == "es_survey_caption"]
    assert len(texts) == 1
    return texts[0]


def errorbar_ends(ax: plt.Axes) -> list[tuple[float, float, float]]:
    """(x0, x1, y) of each horizontal whisker segment of the first ErrorbarContainer."""
    container = next(c for c in ax.containers if isinstance(c, ErrorbarContainer))
    segments = container.lines[2][0].get_segments()
    return [(float(s[0][0]), float(s[1][0]), float(s[0][1])) for s in segments]


def close(ax: plt.Axes) -> None:
    plt.close(ax.figure)


# ---------------------------------------------------------------- funnel
def test_funnel_bars_and_whiskers_are_the_data() -> None:
    f = funnel()
    ax = charts.plot_funnel(f, **KW)
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx(f["estimate"].tolist())
    assert [p.get_gid() for p in ax.patches] == [f"bar-{s}" for s in f["stage"]]
    ends = errorbar_ends(ax)
    assert [e[0] for e in ends] == pytest.approx(f["lower"].tolist())
    assert [e[1] for e in ends] == pytest.approx(f["upper"].tolist())
    # first stage on top
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [
        "w rejestrze",
        "kwalifikujące się",
        "aktywne",
        "prowadzące działalność zarobkową",
        "zatrudniające na umowę o pracę",
    ]
    assert ax.yaxis_inverted()
    values = [t.get_text() for t in ax.texts if t.get_gid() == "value"]
    assert values == ["632", "560", "281", "120", "96"]
    assert "przedział ufności 95%" in [t.get_text() for t in ax.get_legend().get_texts()]
    close(ax)


def test_funnel_caption_language_and_given_axes() -> None:
    fig, given = plt.subplots()
    ax = charts.plot_funnel(
        funnel(),
        ax=given,
        lang="en",
        source="Survey of ES",
        year=2021,
        labels={"earning": "earning revenue"},
    )
    assert ax is given
    assert caption(ax) == "Source: Survey of ES; survey 2021."
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "registered" and labels[3] == "earning revenue"
    assert "95% confidence interval" in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(fig)
    pl = charts.plot_funnel(funnel(), **KW)
    assert caption(pl) == "Źródło: ROPS Kielce, badanie PES; badanie 2023."
    close(pl)


def test_funnel_thousands_in_polish_style() -> None:
    f = funnel().assign(
        estimate=[12345.0, 6000.0, 3000.0, 2000.0, 1000.0],
        lower=[12345.0, 5800, 2800, 1900, 900],
        upper=[12345.0, 6200, 3200, 2100, 1100],
    )
    ax = charts.plot_funnel(f, **KW)
    assert next(t.get_text() for t in ax.texts if t.get_gid() == "value") == f"12{NNBSP}345"
    ax.figure.draw_without_rendering()
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert f"10{NNBSP}000" in ticks and all("," not in t for t in ticks)
    close(ax)


def test_funnel_of_sector_funnel_with_reliability() -> None:
    # the table of es.sector_funnel, by stratum: drawn one domain at a time
    df = pd.DataFrame(
        {
            "h": ["a"] * 4 + ["b"] * 4,
            "N": [40] * 4 + [20] * 4,
            "eligible": [True, True, True, False, True, True, True, True],
            "active": pd.array(
                [True, False, True, False, True, True, None, False], dtype="boolean"
            ),
        }
    )
    table = es.sector_funnel(es.SurveyDesign(df, strata="h", fpc="N"), stages=["active"]).to_frame()
    ax = charts.plot_funnel(table, **KW)
    published = table[table["cv"].fillna(0) <= 0.3]
    assert [p.get_gid() for p in ax.patches] == [f"bar-{s}" for s in published["stage"]]
    assert [p.get_width() for p in ax.patches] == pytest.approx(published["estimate"].tolist())
    close(ax)
    f = funnel().assign(cv=[0.0, 0.05, 0.12, 0.25, 0.4], n=[100, 90, 80, 60, 40])
    ax = charts.plot_funnel(f, **KW)
    assert [p.get_gid() for p in ax.patches] == [
        "bar-registered",
        "bar-eligible",
        "bar-active",
        "bar-earning",
    ]
    assert [p.get_hatch() for p in ax.patches] == [None, None, None, "////"]
    assert len(errorbar_ends(ax)) == 4
    assert [t.get_text() for t in ax.texts if t.get_gid() == "suppressed-employing"] == ["."]
    assert [t.get_text() for t in ax.texts if t.get_gid() == "value"] == [
        "632",
        "560",
        "281",
        "120",
    ]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        "szacunek",
        "przedział ufności 95%",
        "z ostrożnością (CV 20%–30%)",
        "„.” niepublikowany (CV > 30%)",
    ]
    close(ax)
    ax = charts.plot_funnel(f, thresholds=(0.1, 0.2, 0.5), **KW)
    assert [p.get_hatch() for p in ax.patches] == [None, None, None, "////", "////"]
    close(ax)
    ax = charts.plot_funnel(f, thresholds=(0.1, 0.2, 0.5), min_n=50, **KW)
    assert len(ax.patches) == 4  # employing: n = 40 < 50
    close(ax)


def test_funnel_errors() -> None:
    with pytest.raises(DataError, match=r"funnel: column\(s\) \['upper'\] missing"):
        charts.plot_funnel(funnel().drop(columns="upper"), **KW)
    dup = pd.concat([funnel(), funnel().iloc[[2]]])
    with pytest.raises(DataError, match=r"stage 'active' appears in more than one row"):
        charts.plot_funnel(dup, **KW)
    bad = funnel().assign(lower=[632.0, 570.0, 255.0, 101.0, 80.0])
    with pytest.raises(
        DataError,
        match=r"row 1 \(stage='eligible'\): interval \[570; 580\] "
        r"does not contain the estimate 560.3",
    ):
        charts.plot_funnel(bad, **KW)
    text = funnel().astype({"estimate": object})
    text.loc[0, "estimate"] = "dużo"
    with pytest.raises(DataError, match=r"row 0, column 'estimate': value 'dużo' is not a number"):
        charts.plot_funnel(text, **KW)
    with pytest.raises(DesignError, match=r"source='': every chart states its source"):
        charts.plot_funnel(funnel(), source="", year=2023)
    with pytest.raises(DesignError, match=r"year='2023': give the survey year as an integer"):
        charts.plot_funnel(funnel(), source=SRC, year="2023")
    with pytest.raises(DesignError, match=r"lang='de' is not supported"):
        charts.plot_funnel(funnel(), lang="de", **KW)
    with pytest.raises(DesignError, match=r"ax must be a matplotlib Axes or None, got Figure"):
        charts.plot_funnel(funnel(), ax=plt.figure(), **KW)
    with pytest.raises(DesignError, match=r"funnel must be a DataFrame, got list"):
        charts.plot_funnel([1, 2], **KW)
    plt.close("all")


# ---------------------------------------------------------- by category
def test_by_category_draws_published_rows_only() -> None:
    f = by_type()
    before = f.copy()
    ax = charts.plot_by_category(f, **KW, labels={"SS": "spółdzielnie socjalne"})
    pd.testing.assert_frame_equal(f, before)
    bars = {p.get_gid(): p for p in ax.patches if p.get_gid()}
    assert set(bars) == {"bar-SS", "bar-CIS", "bar-STOW"}  # KGW (cv 71%) suppressed
    assert [bars[g].get_width() for g in ("bar-SS", "bar-CIS", "bar-STOW")] == [169, 86, 411]
    assert bars["bar-STOW"].get_hatch() == "////"  # cv 26%: caution
    assert bars["bar-SS"].get_hatch() is None
    ends = errorbar_ends(ax)
    assert [e[0] for e in ends] == pytest.approx([150, 80, 196])
    assert [e[1] for e in ends] == pytest.approx([188, 92, 626])
    # the suppressed domain: only the marker, no number, no whisker at its row
    marks = [t for t in ax.texts if t.get_gid() == "suppressed-KGW"]
    assert len(marks) == 1 and marks[0].get_text() == "."
    assert not any(t.get_gid() == "value-KGW" for t in ax.texts)
    kgw_row = 3.0
    assert all(y != kgw_row for _, _, y in ends)
    values = {t.get_gid(): t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("v")}
    assert values == {"value-SS": "169", "value-CIS": "86", "value-STOW": "411"}
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["spółdzielnie socjalne", "CIS", "STOW", "KGW"]
    assert "workers" == ax.get_xlabel()
    close(ax)


def test_by_category_sorting_and_thresholds() -> None:
    ax = charts.plot_by_category(by_type(), sort=True, thresholds=(0.1, 0.2, 0.8), **KW)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["STOW", "SS", "CIS", "KGW"]
    # with a 80% bound KGW is published (caution) and drawn
    assert {p.get_gid() for p in ax.patches if p.get_gid()} == {
        "bar-SS",
        "bar-CIS",
        "bar-STOW",
        "bar-KGW",
    }
    close(ax)


def test_by_category_from_an_estimate_of_proportions_in_percent() -> None:
    df = pd.DataFrame(
        {"g": ["a", "a", "a", "b", "b", "b"], "y": [1, 1, 0, 1, 0, 0], "w": [1.0] * 6}
    )
    est = es.SurveyDesign(df, weights="w").mean("y", by="g")
    ax = charts.plot_by_category(est, lang="en", thresholds=(0.5, 0.8, 0.9), **KW)
    # hand calculation: means 2/3 and 1/3
    assert [p.get_width() for p in ax.patches] == pytest.approx([2 / 3, 1 / 3])
    values = [t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("value")]
    assert values == ["0.7", "0.3"]  # a mean: one decimal
    close(ax)
    f = by_type().assign(
        statistic="proportion",
        estimate=[0.5, 0.25, 0.125, 0.05],
        lower=[0.45, 0.2, 0.1, 0.0],
        upper=[0.55, 0.3, 0.15, 0.1],
    )
    ax = charts.plot_by_category(f, **KW)
    values = [t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("value")]
    assert values == ["50,0%", "25,0%", "12,5%"]
    ax.figure.draw_without_rendering()
    assert all(t.get_text().endswith("%") for t in ax.get_xticklabels() if t.get_text())
    close(ax)


def test_by_category_errors() -> None:
    two = pd.concat([by_type(), by_type().assign(variable="revenue")])
    with pytest.raises(DesignError, match=r"draws one variable; the estimate has 2"):
        charts.plot_by_category(two, **KW)
    with pytest.raises(
        DesignError,
        match=r"needs an estimate by one domain column; it has "
        r"\['entity_type', 'nuts3'\]",
    ):
        charts.plot_by_category(by_type().assign(nuts3="PL721"), **KW)
    with pytest.raises(DataError, match=r"column by='powiat' is not in the estimate"):
        charts.plot_by_category(by_type(), by="powiat", **KW)
    with pytest.raises(DataError, match=r"domain entity_type='SS' appears in more than one row"):
        charts.plot_by_category(pd.concat([by_type(), by_type().iloc[[0]]]), **KW)
    with pytest.raises(DataError, match=r"the estimate has no rows; nothing to draw"):
        charts.plot_by_category(by_type().iloc[:0], **KW)
    plt.close("all")


# ------------------------------------------------------------- tile map
def test_tiles_positions_colours_and_texts() -> None:
    f = by_powiat()
    ax = charts.plot_powiat_tiles(f, **KW)
    pw = powiats("26").set_index("teryt")
    tiles = {p.get_gid()[5:]: p for p in ax.patches if (p.get_gid() or "").startswith("tile-")}
    assert set(tiles) == set(pw.index)  # all 14 powiats, absent ones too
    for code, tile in tiles.items():
        x, y = tile.get_x() + tile.get_width() / 2, tile.get_y() + tile.get_height() / 2
        assert (x, y) == pytest.approx((pw.loc[code, "tile_col"], pw.loc[code, "tile_row"]))
    # colours: the colormap of the values, scaled on the published values only
    published = f[f["cv"] <= 0.30].set_index("teryt_powiat")["estimate"]
    lo, hi = published.min(), published.max()  # 6 and 71; the suppressed 2606 is not in it
    cmap = matplotlib.colormaps["cividis"]
    for code, value in published.items():
        assert tiles[code].get_facecolor() == pytest.approx(cmap((value - lo) / (hi - lo)))
    assert tiles["2606"].get_facecolor() == pytest.approx(to_rgba("#D9D9D9"))
    assert tiles["2603"].get_facecolor() == pytest.approx(to_rgba("white"))
    assert tiles["2605"].get_hatch() == "///" and tiles["2601"].get_hatch() is None
    colorbar = ax.child_axes
    assert len(colorbar) == 1
    assert colorbar[0].get_ylim() == pytest.approx((lo, hi))
    texts = {
        t.get_gid()[6:]: t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("label-")
    }
    assert texts["2661"] == "Kielce\n42"
    assert texts["2604"] == "kielecki\n40"
    assert texts["2606"] == f"{pw.loc['2606', 'name']}\n."
    assert texts["2603"] == "kazimierski\nb.d."
    for code in ("2606", "2603", "2612"):
        assert not DIGIT.search(texts[code])
    assert "badanie 2023" in caption(ax)
    close(ax)


def test_tiles_in_english_and_on_given_axes() -> None:
    fig, given = plt.subplots()
    ax = charts.plot_powiat_tiles(by_powiat(), ax=given, lang="en", label="Active entities", **KW)
    assert ax is given
    texts = {t.get_gid(): t.get_text() for t in ax.texts}
    assert texts["label-2603"] == "kazimierski\nn/a"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["n/a — no data", "use with caution (CV 20%–30%)", "“.” suppressed (CV > 30%)"]
    assert caption(ax).startswith("Source: ROPS Kielce")
    assert ax.child_axes[0].get_ylabel() == "Active entities"
    plt.close(fig)


def test_tiles_with_one_published_value_or_none() -> None:
    one = by_powiat().iloc[[0, 4]]  # buski (cv 15%) and 2606 (suppressed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = charts.plot_powiat_tiles(one, **KW)
        ax.figure.draw_without_rendering()
    tile = next(p for p in ax.patches if p.get_gid() == "tile-2601")
    assert tile.get_facecolor() == pytest.approx(matplotlib.colormaps["cividis"](0.5))
    close(ax)
    # a single zero (a count): the colour scale starts at 0, never at an impossible -0.5
    zero = by_powiat().iloc[[0]].assign(estimate=0.0, lower=0.0, upper=0.0, cv=0.0)
    ax = charts.plot_powiat_tiles(zero, **KW)
    assert ax.child_axes[0].get_ylim() == pytest.approx((0.0, 0.5))
    close(ax)
    none = by_powiat().iloc[[4]]
    ax = charts.plot_powiat_tiles(none, **KW)
    assert ax.child_axes == []  # nothing published: no colour scale
    texts = [t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("label-")]
    assert not any(DIGIT.search(t) for t in texts)
    close(ax)


def test_tiles_errors() -> None:
    bad = by_powiat().assign(teryt_powiat=lambda d: d["teryt_powiat"].replace("2601", "1465"))
    with pytest.raises(
        DataError,
        match=r"value\(s\) \['1465'\] that are not powiat TERYT codes "
        r"of region '26'",
    ):
        charts.plot_powiat_tiles(bad, **KW)
    with pytest.raises(DesignError, match=r"region='99' is not a voivodeship"):
        charts.plot_powiat_tiles(by_powiat(), region="99", **KW)
    krakow = by_powiat().iloc[:1].assign(teryt_powiat="1261")
    with pytest.raises(DesignError, match=r"region '12' has no tile layout .* bundled for 26\)"):
        charts.plot_powiat_tiles(krakow, region="12", **KW)
    plt.close("all")


# ---------------------------------------------------- dot-and-interval
def test_powiat_intervals_sorted_by_value() -> None:
    f = by_powiat()
    ax = charts.plot_powiat_intervals(f, **KW)
    pw = powiats("26").set_index("teryt")
    published = f[f["cv"] <= 0.30].sort_values("estimate", ascending=False)
    names = [t.get_text() for t in ax.get_yticklabels()]
    expected = [pw.loc[c, "name"] for c in published["teryt_powiat"]]
    hidden = sorted(pw.loc[["2606", "2603", "2612"], "name"])
    assert names == expected + hidden
    assert names[:3] == ["włoszczowski", "Kielce", "kielecki"]  # 71, 42, 40
    filled = next(line for line in ax.lines if line.get_gid() == "dots")
    hollow = next(line for line in ax.lines if line.get_gid() == "dots-caution")
    caution = published["cv"] > 0.2
    assert list(filled.get_xdata()) == published.loc[~caution, "estimate"].tolist()
    assert list(hollow.get_xdata()) == published.loc[caution, "estimate"].tolist()
    assert list(filled.get_ydata()) == [float(i) for i in np.flatnonzero(~caution.to_numpy())]
    ends = errorbar_ends(ax)
    assert [e[0] for e in ends] == pytest.approx(published["lower"].tolist())
    assert [e[1] for e in ends] == pytest.approx(published["upper"].tolist())
    marks = {t.get_gid(): t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("s")}
    assert marks == {"suppressed-2606": ".", "suppressed-2603": "b.d.", "suppressed-2612": "b.d."}
    assert ax.yaxis_inverted()
    close(ax)


def test_powiat_intervals_from_an_estimate() -> None:
    pop = make_population(2023)
    s = draw_sample(pop, rng=1)
    d = es.SurveyDesign(s, weights="weight", strata="stratum", fpc="N_h")
    est = d.total("active", by="teryt_powiat")
    ax = charts.plot_powiat_intervals(est, lang="en", **KW)
    frame = est.to_frame()
    kept = frame[frame["cv"] <= 0.3]
    top = kept.loc[kept["estimate"].idxmax(), "teryt_powiat"]
    assert ax.get_yticklabels()[0].get_text() == powiats().set_index("teryt").loc[top, "name"]
    assert len(ax.get_yticklabels()) == 14
    close(ax)


# --------------------------------------------------------------- weights
def test_weights_ecdf_and_kish_deff() -> None:
    before, after = np.array([4.0, 1.0, 4.0, 1.0]), np.array([2.0, 3.0, 2.0, 3.0])
    ax = charts.plot_weights(before, after, **KW)
    lines = {line.get_gid(): line for line in ax.lines}
    assert list(lines["before"].get_xdata()) == [1.0, 1.0, 4.0, 4.0]
    assert list(lines["before"].get_ydata()) == [0.25, 0.5, 0.75, 1.0]
    assert list(lines["after"].get_xdata()) == [2.0, 2.0, 3.0, 3.0]
    # Kish: n sum(w^2) / (sum w)^2 = 4 * 34 / 100 = 1.36 and 4 * 26 / 100 = 1.04
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        "przed kalibracją (n = 4, deff Kisha = 1,36)",
        "po kalibracji (n = 4, deff Kisha = 1,04)",
    ]
    assert ax.get_xlabel() == "Waga"
    close(ax)
    # zero weights (nonrespondents after the adjustment) are left out, as weights_summary
    ax = charts.plot_weights(np.array([0.0, 4.0, 1.0, 0.0, 4.0, 1.0]), after, **KW)
    line = next(line for line in ax.lines if line.get_gid() == "before")
    assert list(line.get_xdata()) == [1.0, 1.0, 4.0, 4.0]
    assert ax.get_legend().get_texts()[0].get_text().endswith("(n = 4, deff Kisha = 1,36)")
    close(ax)


def test_weights_of_a_replicate_design() -> None:
    df = pd.DataFrame({"h": ["a", "a", "b", "b"], "y": [1.0] * 4, "w": [1.0, 1.0, 4.0, 4.0]})
    rep = es.SurveyDesign(df, weights="w", strata="h").replicate("JKn")
    ax = charts.plot_weights(rep, [2.0, 2.0, 3.0, 3.0], lang="en", **KW)
    assert ax.get_legend().get_texts()[0].get_text() == (
        "before calibration (n = 4, Kish deff = 1.36)"
    )
    close(ax)


def test_weights_histogram_on_common_bins_and_designs() -> None:
    df = pd.DataFrame({"y": [1.0] * 4, "w": [1.0, 1.0, 4.0, 4.0]})
    design = es.SurveyDesign(df, weights="w")
    ax = charts.plot_weights(
        design,
        [2.0, 2.0, 3.0, 3.0],
        kind="hist",
        bins=3,
        lang="en",
        labels=("design", "calibrated"),
        **KW,
    )
    # common edges 1, 2, 3, 4: before counts (2, 0, 2), after counts (0, 2, 2)
    for gid, counts in (("before", [2, 0, 2]), ("after", [0, 2, 2])):
        patch = next(p for p in ax.patches if p.get_gid() == gid)
        vertices = {tuple(np.round(v, 9)) for v in patch.get_path().vertices}
        for i, c in enumerate(counts):
            assert (1.0 + i, float(c)) in vertices and (2.0 + i, float(c)) in vertices
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "design (n = 4, Kish deff = 1.36)"
    assert ax.get_ylabel() == "Number of units"
    close(ax)


def test_weights_errors() -> None:
    with pytest.raises(
        DataError,
        match=r"before: weight at position 1 is -1.0; weights must "
        r"be finite and not negative",
    ):
        charts.plot_weights([1.0, -1.0], [1.0, 1.0], **KW)
    with pytest.raises(DataError, match=r"after: weight at position 0 is nan"):
        charts.plot_weights([1.0], [np.nan], **KW)
    with pytest.raises(DataError, match=r"after: no positive weight; nothing to draw"):
        charts.plot_weights([1.0], [], **KW)
    with pytest.raises(DataError, match=r"after: no positive weight"):
        charts.plot_weights([1.0], [0.0, 0.0], **KW)
    with pytest.raises(DataError, match=r"before: expected a 1-D array of weights, got shape"):
        charts.plot_weights([[1.0, 2.0]], [1.0], **KW)
    with pytest.raises(DataError, match=r"before: weights must be numbers"):
        charts.plot_weights(["a"], [1.0], **KW)
    with pytest.raises(DesignError, match=r"kind='box' is not supported; use 'ecdf' or 'hist'"):
        charts.plot_weights([1.0], [1.0], kind="box", **KW)
    with pytest.raises(DesignError, match=r"bins=0 must be a positive integer"):
        charts.plot_weights([1.0], [1.0], kind="hist", bins=0, **KW)
    with pytest.raises(DesignError, match=r"labels=\('a',\) must be two texts"):
        charts.plot_weights([1.0], [1.0], labels=("a",), **KW)
    plt.close("all")


# ------------------------------------------------------- response rates
def test_response_rates_from_dispositions() -> None:
    # AAPOR by hand, e = 0.5. Stratum A: I=6, R=2, U=2 -> RR1 = 6/10, RR3 = 6/(8+1) = 2/3.
    # Stratum B: I=1, NC=3 -> RR1 = RR3 = 1/4.
    outcomes = (
        ["complete"] * 6
        + ["refusal"] * 2
        + ["unknown_eligibility"] * 2
        + ["complete"]
        + ["non_contact"] * 3
    )
    frame = pd.DataFrame(
        {
            "sampled": pd.array([True] * 14, dtype="boolean"),
            "contact_outcome": outcomes,
            "stratum": ["A"] * 10 + ["B"] * 4,
        }
    )
    rates = es.response_rates(es.assign_dispositions(frame), by="stratum", e=0.5)
    ax = charts.plot_response_rates(rates, rate=["RR1", "RR3"], **KW)
    bars = {p.get_gid(): p.get_width() for p in ax.patches}
    assert bars == pytest.approx({"RR1-A": 0.6, "RR1-B": 0.25, "RR3-A": 2 / 3, "RR3-B": 0.25})
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["A (n = 10)", "B (n = 4)"]
    values = {t.get_gid(): t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("v")}
    assert values["value-RR3-A"] == "66,7%"
    ax.figure.draw_without_rendering()
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "0%",
        "20%",
        "40%",
        "60%",
        "80%",
        "100%",
    ]
    close(ax)


def test_response_rates_single_rate_nan_and_overall() -> None:
    rates = pd.DataFrame(
        {"I": [5], "P": [0], "R": [0], "NC": [0], "O": [0], "U": [0], "RR3": [np.nan], "RR1": [1.0]}
    )
    ax = charts.plot_response_rates(rates, lang="en", **KW)
    assert [p for p in ax.patches if p.get_gid()] == []  # NaN: no bar
    assert [t.get_text() for t in ax.get_yticklabels()] == ["total (n = 5)"]
    close(ax)
    ax = charts.plot_response_rates(rates, rate="RR1", **KW)
    assert [p.get_width() for p in ax.patches] == [1.0]
    close(ax)


def test_response_rates_errors() -> None:
    rates = pd.DataFrame({"stratum": ["A"], "I": [1], "RR1": [0.5]})
    with pytest.raises(
        DataError,
        match=r"rates: no column\(s\) \['RR7'\]; available rates: "
        r"\['RR1'\]",
    ):
        charts.plot_response_rates(rates, rate="RR7", **KW)
    with pytest.raises(DataError, match=r"group column\(s\) \['type'\] missing"):
        charts.plot_response_rates(rates, rate="RR1", by="type", **KW)
    with pytest.raises(DesignError, match=r"rate= is empty"):
        charts.plot_response_rates(rates, rate=[], **KW)
    with pytest.raises(DataError, match=r"row 0, column 'RR1': value 'high' is not a number"):
        charts.plot_response_rates(rates.assign(RR1=["high"]), rate="RR1", **KW)
    plt.close("all")


# ------------------------------------------------------- every chart
def all_charts(lang: str) -> list[plt.Axes]:
    opts = {"lang": lang, **KW}
    rates = pd.DataFrame({"stratum": ["A"], "I": [1], "RR3": [0.5]})
    return [
        charts.plot_funnel(funnel(), **opts),
        charts.plot_by_category(by_type(), **opts),
        charts.plot_powiat_tiles(by_powiat(), **opts),
        charts.plot_powiat_intervals(by_powiat(), **opts),
        charts.plot_weights([1.0, 2.0], [1.5, 1.5], **opts),
        charts.plot_response_rates(rates, **opts),
    ]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("pl", "Źródło: ROPS Kielce, badanie PES; badanie 2023."),
        ("en", "Source: ROPS Kielce, badanie PES; survey 2023."),
    ],
)
def test_every_chart_states_source_and_year(lang: str, expected: str) -> None:
    for ax in all_charts(lang):
        assert caption(ax) == expected
        close(ax)


def test_every_chart_draws_on_the_given_axes() -> None:
    fig = plt.figure(figsize=(12, 8))
    grid = fig.subplots(2, 3).ravel()
    rates = pd.DataFrame({"stratum": ["A"], "I": [1], "RR3": [0.5]})
    out = [
        charts.plot_funnel(funnel(), ax=grid[0], **KW),
        charts.plot_by_category(by_type(), ax=grid[1], **KW),
        charts.plot_powiat_tiles(by_powiat(), ax=grid[2], **KW),
        charts.plot_powiat_intervals(by_powiat(), ax=grid[3], **KW),
        charts.plot_weights([1.0, 2.0], [1.5, 1.5], ax=grid[4], **KW),
        charts.plot_response_rates(rates, ax=grid[5], **KW),
    ]
    assert all(a is b for a, b in zip(out, grid, strict=True))
    assert all(caption(a).endswith("badanie 2023.") for a in out)
    plt.close(fig)


def test_charts_leave_pyplot_and_rcparams_alone(tmp_path: Path) -> None:
    plt.close("all")
    rc = dict(matplotlib.rcParams)
    axes = all_charts("pl")
    assert plt.get_fignums() == []  # made without pyplot: nothing to show or leak
    charts.save_figure(axes[0], tmp_path / "f.svg")
    assert dict(matplotlib.rcParams) == rc


# ---------------------------------------------------------------- saving
def saved_three_ways(
    first: plt.Axes, second: plt.Axes, path: Path, again: bool = True
) -> list[bytes]:
    """Save a figure (twice), then a figure built again from the same data."""
    out = [charts.save_figure(first, path.with_stem("a")).read_bytes()]
    if again:
        out.append(charts.save_figure(first.figure, path.with_stem("b")).read_bytes())
    out.append(charts.save_figure(second, path.with_stem("c")).read_bytes())
    close(first)
    close(second)
    return out


def test_save_figure_svg_is_byte_identical_for_every_chart(tmp_path: Path) -> None:
    for i, (first, second) in enumerate(zip(all_charts("pl"), all_charts("pl"), strict=True)):
        # saving again re-runs the layout: checked on the tile map (fixed layout, inset
        # colorbar) and the bars (constrained layout with legend and hatches)
        out = saved_three_ways(first, second, tmp_path / "x.svg", again=i in (1, 2))
        assert all(o == out[0] for o in out), f"chart {i}"
        assert b"<dc:date>" not in out[0] and b"Matplotlib v" not in out[0]


@pytest.mark.parametrize("suffix", ["png", "pdf"])
def test_save_figure_png_pdf_are_byte_identical(tmp_path: Path, suffix: str) -> None:
    first = charts.plot_powiat_tiles(by_powiat(), **KW)
    second = charts.plot_powiat_tiles(by_powiat(), **KW)
    a, b, c = saved_three_ways(first, second, tmp_path / f"x.{suffix}")
    assert a == b == c
    assert len(a) > 1000
    if suffix == "png":
        assert b"Software" not in a


def test_save_figure_errors(tmp_path: Path) -> None:
    ax = charts.plot_weights([1.0], [1.0], **KW)
    with pytest.raises(DesignError, match=r"suffix '.jpg' is not supported; use .png, .svg"):
        charts.save_figure(ax, tmp_path / "x.jpg")
    with pytest.raises(DesignError, match=r"fig must be a matplotlib Figure or Axes, got str"):
        charts.save_figure("figure", tmp_path / "x.png")
    close(ax)


def test_palette_is_okabe_ito() -> None:
    # Okabe & Ito (2008), "Color Universal Design", the eight colours in hex
    assert set(charts.PALETTE) == {
        "#000000",
        "#E69F00",
        "#56B4E9",
        "#009E73",
        "#F0E442",
        "#0072B2",
        "#D55E00",
        "#CC79A7",
    }
    assert charts.SEQUENTIAL_CMAP == "cividis"


# ------------------------------------------------- small-area diagnostics
def test_direct_vs_model_points_are_shares_of_the_register() -> None:
    f = pd.DataFrame(
        {
            "area": ["Kielce", "buski", "kazimierski", "opatowski"],
            "register": [96.0, 37.0, 14.0, 24.0],
            "direct": [42.5, 23.4, np.nan, 7.6],
            "estimate": [45.0, 22.7, 5.3, 10.6],
            "n": [18, 8, 0, 3],
        }
    )
    ax = charts.plot_direct_vs_model(f, per="register", percent=True, **KW)
    points = next(c for c in ax.collections if c.get_gid() == "areas")
    # hand calculation: 42.5/96, 45/96; 23.4/37, 22.7/37; 7.6/24, 10.6/24 (no direct:
    # kazimierski is synthetic and left out)
    np.testing.assert_allclose(
        points.get_offsets(),
        [[42.5 / 96, 45 / 96], [23.4 / 37, 22.7 / 37], [7.6 / 24, 10.6 / 24]],
    )
    labels = [t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("label-")]
    assert labels == ["Kielce", "buski", "opatowski"]
    diagonal = next(line for line in ax.lines if line.get_gid() == "diagonal")
    assert list(diagonal.get_xdata()) == list(diagonal.get_ydata())
    ax.figure.draw_without_rendering()
    assert all(t.get_text().endswith("%") for t in ax.get_xticklabels() if t.get_text())
    assert ax.get_xlabel() == "Szacunek bezpośredni"
    close(ax)
    with pytest.raises(DataError, match="plot_direct_vs_model: the frame has no column 'n'"):
        charts.plot_direct_vs_model(f.drop(columns="n"), **KW)


def test_sensitivity_chart_points_ticks_and_main_line() -> None:
    f = pd.DataFrame(
        {"delta": [1.0, 0.5, 0.75], "estimate": [289.3, 223.2, 256.3],
         "lower": [256.2, 197.9, 227.0], "upper": [322.5, 248.5, 285.5]}
    )  # fmt: skip
    ax = charts.plot_sensitivity(f, **KW)
    dots = next(line for line in ax.lines if line.get_gid() == "estimates")
    np.testing.assert_allclose(dots.get_xdata(), [0.5, 0.75, 1.0])  # sorted by delta
    np.testing.assert_allclose(dots.get_ydata(), [223.2, 256.3, 289.3])
    main = next(line for line in ax.lines if line.get_gid() == "main")
    assert list(main.get_ydata()) == [289.3, 289.3]  # the estimate at delta = 1
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0,5", "0,75", "1"]
    assert ax.get_ylim()[0] == 0
    close(ax)
    ref = charts.plot_sensitivity(f, reference=(294.0, 253.0, 334.0), reference_label="x", **KW)
    band = next(p for p in ref.patches if p.get_gid() == "reference")
    assert band.get_extents().height > 0
    assert not any(line.get_gid() == "main" for line in ref.lines)
    assert [t.get_text() for t in ref.get_legend().get_texts()] == ["x"]
    close(ref)
    with pytest.raises(DataError, match="plot_sensitivity: the frame has no column 'upper'"):
        charts.plot_sensitivity(f.drop(columns="upper"), **KW)
