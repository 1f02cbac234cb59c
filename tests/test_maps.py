"""Choropleth maps (maps.py): classes, legend, suppression, labels that do not collide."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.patches import Polygon

from es_survey import maps
from es_survey.errors import DataError, DesignError


def _square(x: float, y: float, size: float = 0.2) -> list[np.ndarray]:
    return [np.array([[x, y], [x + size, y], [x + size, y + size], [x, y + size]])]


def test_quantile_breaks_by_hand():
    # 10 values, 4 classes: quantiles at 25/50/75% (numpy's linear rule) are 3.25, 11,
    # 30.75 -> rounded to whole numbers 3, 11, 31; ends 1 and 41
    assert maps.class_breaks([1, 2, 3, 4, 10, 12, 30, 31, 40, 41], classes=4) == [
        1.0, 3.0, 11.0, 31.0, 41.0]  # fmt: skip
    # ties merge classes instead of leaving one empty
    assert maps.class_breaks([5, 5, 5, 5, 9], classes=4) == [5.0, 9.0]
    assert maps.class_breaks([7, 7], classes=3) == [7.0, 8.0]
    assert maps.class_breaks([0.123, 0.456], classes=1, decimals=1) == [0.1, 0.5]
    with pytest.raises(DesignError, match="classes=0"):
        maps.class_breaks([1, 2], classes=0)


def test_class_labels_do_not_share_a_boundary():
    # GUS prints classes as 1-3, 4-11, 12-31 (whole numbers): no value in two classes
    labels = maps._class_labels([1.0, 3.0, 11.0, 31.0], 0, False, "pl")
    assert labels == ["1–3", "4–11", "12–31"]
    assert maps._class_labels([10.0, 12.5, 20.0], 1, True, "pl") == ["10,0–12,5%", "12,6–20,0%"]
    assert maps._class_labels([1000.0, 2500.0], 0, False, "pl") == ["1\u202f000–2\u202f500"]
    # each value falls in the class its label names
    idx = maps._class_of(np.array([1.0, 3.0, 3.5, 11.0, 12.0, 31.0]), [1.0, 3.0, 11.0, 31.0])
    assert idx.tolist() == [0, 0, 1, 1, 2, 2]


def _estimates(codes, values, cvs):
    est = np.asarray(values, dtype=float)
    return pd.DataFrame({"woj": codes, "variable": "active", "estimate": est,
                         "lower": est * 0.8, "upper": est * 1.2, "cv": cvs, "n": 30})  # fmt: skip


def test_voivodeship_map_colours_classes_hatches_suppressed_and_says_so():
    shapes = {"02": _square(0, 0), "04": _square(0.3, 0), "06": _square(0.6, 0),
              "08": _square(0, 0.3), "10": _square(0.3, 0.3)}  # fmt: skip
    table = pd.DataFrame({"teryt": list(shapes), "name": ["A", "B", "C", "D", "E"]})
    f = _estimates(["02", "04", "06", "08"], [10, 20, 30, 40], [0.05, 0.25, 0.05, 0.5])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("es_survey.regions.voivodeships", lambda: table, raising=False)
        ax = maps.plot_voivodeship_map(f, source="GUS", year=2023, classes=3, shapes=shapes)
    faces = {p.get_gid(): p for p in ax.patches if isinstance(p, Polygon)}
    assert set(faces) == {f"area-{c}" for c in shapes}
    # published 10, 20, 30 in 3 classes: breaks 10, 17, 23, 30 (quantiles 16.7 and 23.3)
    assert len({to_hex(faces[f"area-{c}"].get_facecolor()) for c in ("02", "04", "06")}) == 3
    assert faces["area-08"].get_hatch() == "xxxx"  # CV 50%: suppressed
    assert faces["area-10"].get_linestyle() == "--"  # no estimate
    labels = {t.get_gid(): t.get_text() for t in ax.texts}
    assert labels["label-04"] == "B\n20*"  # CV 25%: with caution
    assert labels["label-08"] == "D\n." and labels["label-10"] == "E\nb.d."
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:3] == ["10–17", "18–23", "24–30"]
    assert "„.” niepublikowany (CV > 30%)" in legend
    assert "* z ostrożnością (CV 20%–30%)" in legend or any(s.startswith("* ") for s in legend)
    assert "b.d. — brak danych" in legend
    with pytest.raises(DataError, match=r"value\(s\) \['99'\] that are not voivodeship"):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("es_survey.regions.voivodeships", lambda: table, raising=False)
            maps.plot_voivodeship_map(_estimates(["99"], [1], [0.1]), source="GUS", year=2023,
                                      shapes=shapes)  # fmt: skip


def _overlaps(ax) -> list[tuple[str, str]]:
    renderer = FigureCanvasAgg(ax.figure).get_renderer()
    boxes = [(t.get_gid(), t.get_window_extent(renderer)) for t in ax.texts
             if (t.get_gid() or "").startswith("label-")]  # fmt: skip
    return [(a, b) for i, (a, x) in enumerate(boxes) for b, y in boxes[i + 1 :] if x.overlaps(y)]


def test_crowded_labels_move_aside_with_a_leader_line():
    # nine small squares packed together: their labels would cover each other
    # (beside a large one that sets the scale)
    shapes = {f"{2 * i + 2:02d}": _square(0.05 * (i % 3), 0.05 * (i // 3), 0.05) for i in range(9)}
    shapes["20"] = _square(1.0, 1.0, 1.0)
    table = pd.DataFrame({"teryt": list(shapes), "name": [f"obszar {i}" for i in range(10)]})
    f = _estimates(list(shapes), np.arange(10) * 10 + 5, [0.05] * 10)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("es_survey.regions.voivodeships", lambda: table, raising=False)
        ax = maps.plot_voivodeship_map(f, source="GUS", year=2023, shapes=shapes)
    assert _overlaps(ax) == []
    assert any((t.get_gid() or "").startswith("leader-") for t in ax.texts)


def _random_estimates(code: str) -> pd.DataFrame:
    from es_survey import regions

    pw = regions.powiats(code)
    rng = np.random.default_rng(int(code))
    est = rng.uniform(5, 200, len(pw)).round()
    return pd.DataFrame({"teryt_powiat": pw["teryt"], "variable": "active", "estimate": est,
                         "lower": est * 0.8, "upper": est * 1.2,
                         "cv": rng.choice([0.05, 0.25, 0.4], len(pw)), "n": 20})  # fmt: skip


def _check_legible(ax, codes) -> None:
    """Every area labelled once; no two labels overlap; every label inside the figure."""
    renderer = FigureCanvasAgg(ax.figure).get_renderer()
    labels = [t for t in ax.texts if (t.get_gid() or "").startswith("label-")]
    assert sorted(t.get_gid()[6:] for t in labels) == sorted(codes)
    assert _overlaps(ax) == []
    page = ax.figure.bbox
    for t in labels:
        box = t.get_window_extent(renderer)
        assert page.x0 <= box.x0 and box.x1 <= page.x1, t.get_text()
        assert page.y0 <= box.y0 and box.y1 <= page.y1, t.get_text()
    # a label moved beside the map is tied to its area by a line
    frame = ax.get_window_extent(renderer)
    leaders = {t.get_gid()[7:] for t in ax.texts if (t.get_gid() or "").startswith("leader-")}
    for t in labels:
        if t.get_horizontalalignment() != "center":
            assert t.get_gid()[6:] in leaders
    assert frame.width > 0
    assert _leader_crossings(ax) == []
    # lines run under the labels; a label inside the map has a halo of its area's fill,
    # so a line passing beneath it does not cut its letters
    lines = [t for t in ax.texts if (t.get_gid() or "").startswith("leader-")]
    assert all(line.get_zorder() < t.get_zorder() for line in lines for t in labels)
    fills = {p.get_gid()[5:]: to_hex(p.get_facecolor()) for p in ax.patches
             if (p.get_gid() or "").startswith("area-")}  # fmt: skip
    for t in labels:
        (halo,) = t.get_path_effects()
        want = fills[t.get_gid()[6:]] if t.get_horizontalalignment() == "center" else "#ffffff"
        assert to_hex(halo._gc["foreground"]) == want, t.get_text()


def _leader_crossings(ax) -> list[tuple[str, str]]:
    """Pairs of leader lines that cross, from their end points (display units)."""
    segments = []
    for line in ax.texts:
        if (line.get_gid() or "").startswith("leader-"):
            a = ax.transData.transform(line.xy)
            b = ax.transData.transform(line.xyann)
            segments.append((line.get_gid()[7:], a, b))

    def turn(p, q, r) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    out = []
    for i, (c1, p1, p2) in enumerate(segments):
        for c2, q1, q2 in segments[i + 1 :]:
            if turn(p1, p2, q1) * turn(p1, p2, q2) < 0 and turn(q1, q2, p1) * turn(q1, q2, p2) < 0:
                out.append((c1, c2))
    return out


@pytest.mark.parametrize("code", ["24", "26"])
def test_powiat_maps_are_legible_where_powiats_crowd(code):
    # śląskie: 36 powiats, 19 of them cities in one conurbation; świętokrzyskie: Kielce
    # inside the land powiat kielecki
    from es_survey import regions

    ax = maps.plot_powiat_map(_random_estimates(code), region=code, source="GUS", year=2023)
    _check_legible(ax, regions.powiats(code)["teryt"])
    polygons = {p.get_gid() for p in ax.patches if isinstance(p, Polygon)}
    assert polygons == {f"area-{c}" for c in regions.powiats(code)["teryt"]}


@pytest.mark.slow
def test_every_voivodeship_map_is_legible():
    from es_survey import regions

    for code in regions.voivodeships()["teryt"]:
        ax = maps.plot_powiat_map(_random_estimates(code), region=code, source="GUS", year=2023)
        _check_legible(ax, regions.powiats(code)["teryt"])
    codes = regions.voivodeships()["teryt"]
    est = np.arange(16) * 10.0 + 50
    f = pd.DataFrame({"woj": codes, "variable": "active", "estimate": est, "lower": est * 0.9,
                      "upper": est * 1.1, "cv": 0.05, "n": 100})  # fmt: skip
    ax = maps.plot_voivodeship_map(f, source="GUS", year=2023)
    _check_legible(ax, codes)


def test_report_draws_the_boundary_map_or_the_tiles_on_request(demo_results):
    from dataclasses import replace

    from es_survey.report import _figure_specs

    stems = [s for s, _, _ in _figure_specs(demo_results)]
    assert "powiat_map_active" in stems and "powiat_tiles_active" not in stems
    tiles = replace(demo_results, config=replace(demo_results.config, map_style="tiles"))
    stems = [s for s, _, _ in _figure_specs(tiles)]
    assert "powiat_tiles_active" in stems and "powiat_map_active" not in stems
