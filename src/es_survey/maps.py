"""Choropleth maps from real boundaries, drawn with matplotlib alone.

:func:`plot_powiat_map` colours a voivodeship's powiats by an estimate, and
:func:`plot_voivodeship_map` the 16 voivodeships for a national study. Boundaries come
from :mod:`es_survey.regions` (simplified official boundaries, lon/lat) and are drawn
as polygons on an equirectangular projection scaled by the cosine of the mean
latitude, which keeps Poland's shapes true to within a few per cent: no GIS stack is
needed for a map of this scale.

The colour scale is classed (quantiles of the published values, or fixed breaks) and
its legend is written in the report's number style ("13–25"). Suppressed areas are grey
and hatched, with "." as their label; estimates to use with caution carry a "*"; areas
without an estimate are white, "b.d.". Each area is labelled with its name and value;
a label that would cover another is moved aside with a leader line. The lines of one
side are ordered so that none crosses another (one label moved at a time while that
removes crossings), run under the labels, and every label has a halo of its area's
colour, so a line passing beneath it does not cut its letters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, to_hex
from matplotlib.patches import Patch, Polygon
from matplotlib.transforms import Bbox

from es_survey import regions
from es_survey.charts import (
    _CAPTION_SIZE,
    _MARKER,
    _SUPPRESSED_FACE,
    _TEXT,
    _TEXT_SIZE,
    SEQUENTIAL_CMAP,
    _axes,
    _caption,
    _check_caption,
    _digits,
    _domain_frame,
    _ink_on,
    _is_percent,
    _pct,
    _powiat_frame,
)
from es_survey.errors import DataError, DesignError
from es_survey.tables import (
    DEFAULT_THRESHOLDS,
    Lang,
    _check_decimals,
    _check_lang,
    format_number,
    format_percent,
)

__all__ = ["class_breaks", "plot_powiat_map", "plot_voivodeship_map"]

Rings = Sequence[np.ndarray]


# ------------------------------------------------------------------ classes
def class_breaks(
    values: Sequence[float] | np.ndarray, classes: int = 5, decimals: int = 0
) -> list[float]:
    """Return the boundaries of quantile classes, rounded to the shown decimals.

    The ``k + 1`` boundaries run from the smallest to the largest value; inner ones are
    the ``i/k`` quantiles rounded to ``decimals``. Boundaries that coincide after rounding
    are merged, so there may be fewer classes than asked for (never an empty one).

    Parameters
    ----------
    values : sequence of float
        The published values (NaN ignored).
    classes : int, default 5
        Classes asked for (at least 1).
    decimals : int, default 0
        Decimals of the values as printed.

    Returns
    -------
    list of float
        Increasing boundaries; class ``i`` holds ``b_i < x <= b_{i+1}`` (the first also
        ``x = b_0``).

    Raises
    ------
    DesignError
        For fewer than one class.

    Examples
    --------
    >>> class_breaks([1, 2, 3, 4, 10, 12, 30, 31, 40, 41], classes=4)
    [1.0, 3.0, 11.0, 31.0, 41.0]
    """
    if isinstance(classes, bool) or not isinstance(classes, int | np.integer) or classes < 1:
        raise DesignError(f"classes={classes!r}; expected a whole number >= 1")
    x = np.asarray(values, dtype=float)
    x = np.sort(x[np.isfinite(x)])
    if x.size == 0:
        return []
    scale = 10.0**decimals
    lo = float(np.floor(x[0] * scale) / scale)
    hi = float(np.ceil(x[-1] * scale) / scale)
    inner = [float(np.round(np.quantile(x, i / classes), decimals)) for i in range(1, classes)]
    out = [lo]
    for b in [*inner, hi]:
        if b > out[-1]:
            out.append(b)
    if len(out) == 1:  # every value the same
        out.append(hi if hi > lo else lo + 1.0 / scale)
    return out


def _class_of(x: np.ndarray, breaks: Sequence[float]) -> np.ndarray:
    """Class index of each value (b_i < x <= b_{i+1}; the first class also holds b_0)."""
    idx = np.searchsorted(np.asarray(breaks[1:-1], dtype=float), x, side="left")
    return np.clip(idx, 0, len(breaks) - 2)


def _class_labels(breaks: Sequence[float], decimals: int, percent: bool, lang: Lang) -> list[str]:
    """Write the classes as GUS prints them: "0–12", "13–25" (no shared boundary)."""
    step = 10.0**-decimals

    def fmt(v: float) -> str:
        return format_number(v, decimals=decimals, lang=lang)

    labels = []
    for i in range(len(breaks) - 1):
        lo = breaks[i] if i == 0 else breaks[i] + step
        hi = breaks[i + 1]
        text = fmt(lo) if lo >= hi else f"{fmt(lo)}–{fmt(hi)}"
        labels.append(f"{text}%" if percent else text)
    return labels


# ------------------------------------------------------------------ geometry
def _area_centroid(ring: np.ndarray) -> tuple[float, float, float]:
    """Return (|area|, cx, cy) of a closed or open ring by the shoelace formula."""
    x, y = ring[:, 0], ring[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    a = cross.sum() / 2.0
    if abs(a) < 1e-15:
        return 0.0, float(x.mean()), float(y.mean())
    cx = float(((x + x1) * cross).sum() / (6.0 * a))
    cy = float(((y + y1) * cross).sum() / (6.0 * a))
    return abs(float(a)), cx, cy


def _project(rings: Rings, k: float) -> list[np.ndarray]:
    return [np.column_stack([np.asarray(r)[:, 0] * k, np.asarray(r)[:, 1]]) for r in rings]


# ------------------------------------------------------------------ drawing
def _choropleth(
    merged: pd.DataFrame,
    shapes: Mapping[str, Rings],
    *,
    ax: Axes | None,
    lang: Lang,
    source: str,
    year: int,
    thresholds: Sequence[float],
    percent: bool,
    digits: int,
    classes: int,
    breaks: Sequence[float] | None,
    cmap: str | Colormap,
    label: str | None,
    title: str | None,
    names: bool,
    what: str,
) -> Axes:
    missing_shapes = sorted(set(merged["teryt"]) - set(shapes))
    if missing_shapes:
        raise DataError(f"{what}: no boundary for area code(s) {missing_shapes[:5]}")
    t = _TEXT[lang]
    colormap = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
    published = ~merged["missing"] & ~merged["suppressed"].fillna(False).astype(bool)
    values = merged.loc[published, "estimate"].to_numpy(dtype=float)
    shown = values * (100.0 if percent else 1.0)
    if breaks is None:
        edges = class_breaks(shown, classes, digits)
    else:
        edges = sorted(float(b) for b in breaks)
        if len(edges) < 2:
            raise DesignError(f"breaks={breaks!r}; expected at least two boundaries")
        if len(shown) and (shown.min() < edges[0] or shown.max() > edges[-1]):
            raise DesignError(
                f"{what}: breaks {edges} do not cover the values shown "
                f"({shown.min():g} to {shown.max():g}); widen the first or last boundary"
            )
    k = max(len(edges) - 1, 1)
    faces = [colormap((i + 0.5) / k) for i in range(k)]
    all_rings = [r for code in merged["teryt"] for r in shapes[code]]
    lat0 = float(np.mean(np.concatenate([np.asarray(r)[:, 1] for r in all_rings])))
    kx = float(np.cos(np.radians(lat0)))
    every = np.concatenate(_project(all_rings, kx))
    (x0, y0), (x1, y1) = every.min(axis=0), every.max(axis=0)
    own = ax is None
    ax = _axes(ax, (6.5, 6.2))
    anchors = []
    face: Any
    for rec in merged.to_dict("records"):
        code = str(rec["teryt"])
        rings = _project(shapes[code], kx)
        missing = bool(rec["missing"])
        suppressed = not missing and bool(rec["suppressed"])
        if missing:
            face, hatch, text = "white", None, t["missing_short"]
        elif suppressed:
            face, hatch, text = _SUPPRESSED_FACE, "xxxx", _MARKER
        else:
            v = float(rec["estimate"]) * (100.0 if percent else 1.0)
            face, hatch = faces[int(_class_of(np.array([v]), edges)[0])], None
            text = (
                format_percent(rec["estimate"], decimals=digits, lang=lang)
                if percent
                else format_number(rec["estimate"], decimals=digits, lang=lang)
            )
            if rec["reliability"] == "caution":
                text += "*"
        for ring in rings:
            ax.add_patch(Polygon(
                ring, closed=True, facecolor=face, edgecolor="white" if not missing else "#999999",
                linewidth=0.6, hatch=hatch, linestyle="--" if missing else "-",
                gid=f"area-{code}",
            ))  # fmt: skip
        main = max(rings, key=lambda r: _area_centroid(r)[0])
        body = f"{rec['name']}\n{text}" if names else text
        anchors.append((code, main, body, _ink_on(face), to_hex(face)))
    ax.set_aspect("equal")
    ax.set_axis_off()
    _label_areas(ax, _anchors(anchors), (x0, x1, y0, y1), own)
    handles: list[Any] = [
        Patch(facecolor=faces[i], edgecolor="none", label=text)
        for i, text in enumerate(_class_labels(edges, digits, percent, lang))
    ] if len(values) else []  # fmt: skip
    if (~published & ~merged["missing"]).any():
        hidden = t["suppressed"].format(hi=_pct(thresholds[2], lang))
        handles.append(Patch(facecolor=_SUPPRESSED_FACE, hatch="xxxx", edgecolor="white",
                             label=hidden))  # fmt: skip
    if (merged["reliability"] == "caution").any():
        caution = t["caution"].format(lo=_pct(thresholds[1], lang), hi=_pct(thresholds[2], lang))
        star = f"* {caution}"  # the sign on the map, then what it means
        handles.append(Patch(facecolor="none", edgecolor="none", label=star))
    if merged["missing"].any():
        handles.append(Patch(facecolor="white", edgecolor="#999999", linestyle="--",
                             label=t["missing"]))  # fmt: skip
    rows = 0
    if handles:
        ncol = 3 if len(handles) > 4 else 2
        ax.legend(
            handles=handles, loc="upper left", bbox_to_anchor=(0.0, 0.0, 1.0, 0.0),
            fontsize=_TEXT_SIZE - 1, frameon=False, ncol=ncol,
            title=label, title_fontsize=_TEXT_SIZE, alignment="left",
        )  # fmt: skip
        rows = -(-len(handles) // ncol) + (1 if label else 0)
    if title:
        ax.set_title(title, fontsize=_TEXT_SIZE + 2, loc="left")
    _caption(ax, source, year, lang, offset=8 + 12 * rows)
    return ax


_LABEL_Z = 4.0  # labels above the leader lines
_LEADER_Z = 3.5
_HALO = 2.0  # points: the halo around a label


@dataclass(frozen=True)
class _Anchor:
    """Where an area's label belongs: a point well inside its largest ring."""

    area: float
    x: float
    y: float
    body: str
    ink: str
    code: str
    halo: str  # the area's fill: a leader line passing under the label is masked


def _anchors(areas: list[tuple[str, np.ndarray, str, str, str]]) -> list[_Anchor]:
    """Find each area's label point: inside it, away from its edges and from other areas.

    The point of a grid over the ring's bounding box that lies inside the ring and
    outside every other area's ring (a city inside its land powiat) and is farthest
    from the ring's vertices (a pole of inaccessibility, approximately); the centroid
    when no grid point qualifies.
    """
    from matplotlib.path import Path as MplPath

    paths = [MplPath(ring) for _, ring, _, _, _ in areas]
    out = []
    for i, (code, ring, body, ink, halo) in enumerate(areas):
        area, cx, cy = _area_centroid(ring)
        (lo_x, lo_y), (hi_x, hi_y) = ring.min(axis=0), ring.max(axis=0)
        gx, gy = np.meshgrid(np.linspace(lo_x, hi_x, 17)[1:-1], np.linspace(lo_y, hi_y, 17)[1:-1])
        grid = np.column_stack([gx.ravel(), gy.ravel()])
        ok = paths[i].contains_points(grid)
        for j, other in enumerate(paths):
            if j != i and ok.any():
                ok &= ~other.contains_points(grid)
        if ok.any():
            pts = grid[ok]
            dist = np.min(np.hypot(pts[:, None, 0] - ring[None, :, 0],
                                   pts[:, None, 1] - ring[None, :, 1]), axis=1)  # fmt: skip
            # prefer central points: the distance to the edge, less a little of the
            # distance to the centroid
            score = dist - 0.1 * np.hypot(pts[:, 0] - cx, pts[:, 1] - cy)
            cx, cy = (float(v) for v in pts[int(np.argmax(score))])
        out.append(_Anchor(area, cx, cy, body, ink, code, halo))
    return out


def _label_areas(
    ax: Axes, anchors: list[_Anchor], extent: tuple[float, float, float, float], own: bool
) -> None:
    """Set the map's limits (and size, for a figure made here) and label every area.

    Labels that do not fit in the map go to its side margins; the margins are made only
    when some label needs them.
    """
    x0, x1, y0, y1 = extent
    pad = 0.02 * (x1 - x0)
    left = right = pad
    for _ in range(6):  # margins only grow; they settle in a few rounds
        if own:  # A4 width; the height follows the map's shape, legend and source below
            fig = ax.get_figure(root=True)
            assert fig is not None
            width, below = 6.5, 1.1
            high = float(np.clip(width * (y1 - y0) * 1.04 / (x1 - x0 + left + right), 2.5, 8.0))
            fig.set_size_inches(width, high + below + 0.1)
            ax.set_position((0.0, below / (high + below + 0.1), 1.0, high / (high + below + 0.1)))
        _fit_limits(ax, (x0 - left, x1 + right), (y0 - 0.02 * (y1 - y0), y1 + 0.02 * (y1 - y0)))
        for t in [t for t in ax.texts if (t.get_gid() or "").startswith(("label-", "leader-"))]:
            t.remove()
        outside = _place_inside(ax, anchors, (x0, x1))
        # the room each side needs: its widest label and a gap, in data units
        renderer = _renderer(ax)
        per_px = float(np.diff(ax.get_xlim())[0]) / ax.get_window_extent(renderer).width
        middle = (x0 + x1) / 2
        need = [pad, pad]
        for a, text in outside:
            wide = (text.get_window_extent(renderer).width + 20.0) * per_px
            side = 0 if a.x < middle else 1
            need[side] = max(need[side], wide)
        if need[0] <= left * 1.001 and need[1] <= right * 1.001:
            break
        left, right = max(left, need[0]), max(right, need[1])
    _place_outside(ax, outside, (x0, x1))


def _fit_limits(ax: Axes, xlim: tuple[float, float], ylim: tuple[float, float]) -> None:
    """Set limits holding ``xlim`` and ``ylim`` whose shape is the axes box's.

    With equal scales a box of another shape would shrink (matplotlib's default); the
    shorter span is widened about its middle instead, so the box, and the room beside
    the map for labels, stay as laid out.
    """
    fig = ax.get_figure(root=True)
    assert fig is not None
    pos = ax.get_position(original=True)
    width_in, height_in = fig.get_size_inches()
    box = (pos.height * height_in) / (pos.width * width_in)  # height / width
    (a, b), (c, d) = xlim, ylim
    if (d - c) / (b - a) < box:  # too wide for the box: more y
        half = (b - a) * box / 2
        c, d = (c + d) / 2 - half, (c + d) / 2 + half
    else:  # more x
        half = (d - c) / box / 2
        a, b = (a + b) / 2 - half, (a + b) / 2 + half
    ax.set_xlim(a, b)
    ax.set_ylim(c, d)
    ax.apply_aspect()


def _renderer(ax: Axes) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = ax.get_figure(root=True)
    assert fig is not None  # an Axes drawn on is in a figure
    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)
    return canvas.get_renderer()


def _place_inside(
    ax: Axes, anchors: list[_Anchor], span: tuple[float, float]
) -> list[tuple[_Anchor, Any]]:
    """Label areas at their points, largest first; return those whose label collides.

    A label stays only if it covers no other label and keeps within the map's width
    (the margins beside it are for the labels moved out).
    """
    renderer = _renderer(ax)
    frame = ax.get_window_extent(renderer)
    lo_x = ax.transData.transform((span[0], 0.0))[0]
    hi_x = ax.transData.transform((span[1], 0.0))[0]
    placed: list[Bbox] = []
    outside = []
    for a in sorted(anchors, key=lambda a: -a.area):
        halo = [patheffects.withStroke(linewidth=_HALO, foreground=a.halo)]
        text = ax.text(a.x, a.y, a.body, ha="center", va="center", fontsize=_CAPTION_SIZE,
                       color=a.ink, gid=f"label-{a.code}", zorder=_LABEL_Z,
                       path_effects=halo)  # fmt: skip
        box = text.get_window_extent(renderer).padded(1.0)
        inside = lo_x <= box.x0 and box.x1 <= hi_x and frame.y0 <= box.y0 <= box.y1 <= frame.y1
        if inside and not any(box.overlaps(b) for b in placed):
            placed.append(box)
        else:
            outside.append((a, text))
    return outside


def _place_outside(ax: Axes, outside: list[tuple[_Anchor, Any]], span: tuple[float, float]) -> None:
    """Stack the labels that did not fit beside the map, tied to their areas by lines.

    On each side the labels start in the top-to-bottom order of their areas; then one
    label at a time moves to another place in the column while that removes crossings
    (:func:`_uncross`). The lines run under the labels, whose halo in their area's
    colour masks a line passing beneath.
    """
    renderer = _renderer(ax)
    fig = ax.get_figure(root=True)
    assert fig is not None
    frame = ax.get_window_extent(renderer)
    to_data = ax.transData.inverted()
    gap = 3.0 * fig.dpi / 72.0  # between stacked labels
    middle = (span[0] + span[1]) / 2
    for left in (True, False):
        group = sorted([(a, t) for a, t in outside if (a.x < middle) == left],
                       key=lambda item: -item[0].y)  # fmt: skip
        if not group:
            continue
        edge = ax.transData.transform((span[0] if left else span[1], 0.0))[0]
        x_disp = edge + (-1 if left else 1) * 8.0 * fig.dpi / 72.0
        for _a, text in group:
            text.set_horizontalalignment("right" if left else "left")
            text.set_color("#222222")
            text.set_path_effects([patheffects.withStroke(linewidth=_HALO, foreground="white")])
        heights = np.array([t.get_window_extent(renderer).height for _a, t in group])
        points = np.array([ax.transData.transform((a.x, a.y)) for a, _t in group])
        order = _uncross(points, heights, x_disp, gap, frame.y0, frame.y1)
        ys = _stack(points[order, 1], heights[order], gap, frame.y0, frame.y1)
        for i, y in zip(order, ys, strict=True):
            a, text = group[i]
            x_data, y_data = to_data.transform((x_disp, y))
            text.set_position((x_data, y_data))
            ax.annotate(
                "", xy=(a.x, a.y), xytext=(x_data, y_data),
                arrowprops={"arrowstyle": "-", "color": "#555555", "linewidth": 0.5,
                            "shrinkA": 1, "shrinkB": 0},
                annotation_clip=False, gid=f"leader-{a.code}", zorder=_LEADER_Z,
            )  # fmt: skip


def _crossings(points: np.ndarray, ends: np.ndarray) -> list[tuple[int, int]]:
    """Pairs ``(i, j)`` of segments ``points[i]``–``ends[i]`` that cross (display units)."""

    def side(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> float:
        return float((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]))

    out = []
    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            p1, p2, q1, q2 = points[i], ends[i], points[j], ends[j]
            if (side(p1, p2, q1) * side(p1, p2, q2) < 0) and (
                side(q1, q2, p1) * side(q1, q2, p2) < 0
            ):
                out.append((i, j))
    return out


def _uncross(
    points: np.ndarray, heights: np.ndarray, x: float, gap: float, low: float, high: float
) -> np.ndarray:
    """Order of one side's labels, top first, whose leader lines cross as little as may be.

    Starts from the areas' top-to-bottom order and moves one label to another place in
    the column while that lowers the number of crossings (each move restacks the labels).
    """
    order = np.arange(len(points))

    def count(o: np.ndarray) -> int:
        ys = _stack(points[o, 1], heights[o], gap, low, high)
        ends = np.column_stack([np.full(len(o), x), ys])
        return len(_crossings(points[o], ends))

    crossed = count(order)
    for _ in range(len(points) ** 2):
        if not crossed:
            break
        best = (crossed, order)
        for i in range(len(order)):
            rest = np.delete(order, i)
            for j in range(len(order)):
                if j != i:
                    trial = np.insert(rest, j, order[i])
                    found = count(trial)
                    if found < best[0]:
                        best = (found, trial)
        if best[0] == crossed:
            break
        crossed, order = best
    return order


def _stack(
    wanted: np.ndarray, heights: np.ndarray, gap: float, low: float, high: float
) -> np.ndarray:
    """Return label centres (display y, top first) near ``wanted``, none overlapping.

    Labels go down from the top, each at its wish or just below the one above; a column
    that runs out at the bottom is shifted up as a whole, never above the top.
    """
    ys = np.empty(len(wanted))
    floor = high
    for i, (y, h) in enumerate(zip(wanted, heights, strict=True)):
        ys[i] = min(y, floor - h / 2)
        floor = ys[i] - h / 2 - gap
    lowest = ys[-1] - heights[-1] / 2
    if lowest < low:
        ys += max(min(low - lowest, high - (ys[0] + heights[0] / 2)), 0.0)
    return ys


def plot_powiat_map(
    est: Any,
    *,
    powiat: str | None = None,
    ax: Axes | None = None,
    region: str = "26",
    lang: Lang = "pl",
    source: str,
    year: int,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    min_n: int = 0,
    classes: int = 5,
    breaks: Sequence[float] | None = None,
    cmap: str | Colormap = SEQUENTIAL_CMAP,
    decimals: int | None = None,
    label: str | None = None,
    title: str | None = None,
    names: bool = True,
    shapes: Mapping[str, Rings] | None = None,
) -> Axes:
    r"""Draw a choropleth of a voivodeship's powiats coloured by an estimate.

    Parameters
    ----------
    est : Estimate or pandas.DataFrame
        One variable estimated by powiat (4-digit TERYT codes), or its ``to_frame()``.
    powiat : str, optional
        The domain column with the TERYT codes; the estimate's only one by default.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    region : str, default "26"
        The voivodeship (2-digit TERYT code).
    lang : {"pl", "en"}, default "pl"
        Language of labels and number style.
    source : str
        Data source, shown in the caption.
    year : int
        Survey year, shown in the caption.
    thresholds : sequence of three floats, default (0.10, 0.20, 0.30)
        CV bounds of :func:`es_survey.tables.reliability`.
    min_n : int, default 0
        Minimum sample size of a shown estimate.
    classes : int, default 5
        Quantile classes of the colour scale (fewer when values repeat).
    breaks : sequence of float, optional
        Fixed class boundaries instead (in percent for a proportion), covering the
        values shown.
    cmap : str or Colormap, default "cividis"
        Sequential colormap the classes are sampled from.
    decimals : int, optional
        Decimals of the values (default as in publication tables).
    label : str, optional
        Legend title (e.g. the variable and its unit).
    title : str, optional
        Title.
    names : bool, default True
        Label each powiat with its name above its value.
    shapes : mapping, optional
        TERYT code → list of rings (``(k, 2)`` arrays of lon, lat); by default the
        boundaries of :func:`es_survey.regions.powiat_shapes`.

    Returns
    -------
    matplotlib.axes.Axes
        Polygons have gid ``area-<teryt>``, labels ``label-<teryt>``, leader lines
        ``leader-<teryt>``.

    Raises
    ------
    DataError
        For codes that are not powiats of the region or lack a boundary.
    DesignError
        For bad options.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"teryt_powiat": ["2601", "2661"], "variable": "active",
    ...                   "estimate": [16.0, 62.0], "lower": [10.0, 48.0],
    ...                   "upper": [22.0, 76.0], "cv": [0.19, 0.11], "n": [18, 53]})
    >>> ax = plot_powiat_map(f, source="ROPS Kielce", year=2023, lang="en")
    >>> sorted(t.get_text() for t in ax.texts if t.get_gid() == "label-2661")
    ['Kielce\n62']
    """
    lang = _check_lang(lang)
    _check_caption(source, year)
    merged, frame = _powiat_frame(est, powiat, region, thresholds, min_n, lang, "plot_powiat_map")
    percent = _is_percent(frame)
    digits = _digits(frame) if decimals is None else _check_decimals(decimals)
    return _choropleth(
        merged, regions.powiat_shapes(region) if shapes is None else shapes,
        ax=ax, lang=lang, source=source, year=year, thresholds=thresholds, percent=percent,
        digits=digits, classes=classes, breaks=breaks, cmap=cmap, label=label, title=title,
        names=names, what="plot_powiat_map",
    )  # fmt: skip


def plot_voivodeship_map(
    est: Any,
    *,
    voivodeship: str | None = None,
    ax: Axes | None = None,
    lang: Lang = "pl",
    source: str,
    year: int,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    min_n: int = 0,
    classes: int = 5,
    breaks: Sequence[float] | None = None,
    cmap: str | Colormap = SEQUENTIAL_CMAP,
    decimals: int | None = None,
    label: str | None = None,
    title: str | None = None,
    names: bool = True,
    shapes: Mapping[str, Rings] | None = None,
) -> Axes:
    """Draw a choropleth of the 16 voivodeships, for a national study.

    As :func:`plot_powiat_map`, with the estimate by voivodeship (2-digit TERYT codes
    ``"02"`` … ``"32"``) in the column ``voivodeship``.

    Parameters
    ----------
    est : Estimate or pandas.DataFrame
        One variable estimated by voivodeship, or its ``to_frame()``.
    voivodeship : str, optional
        The domain column with the codes; the estimate's only one by default.
    ax, lang, source, year, thresholds, min_n, classes, breaks, cmap, decimals, label, title, names
        As for :func:`plot_powiat_map`.
    shapes : mapping, optional
        Code → rings; by default :func:`es_survey.regions.voivodeship_shapes`.

    Returns
    -------
    matplotlib.axes.Axes
        As for :func:`plot_powiat_map`.

    Raises
    ------
    DataError
        For codes that are not voivodeships.
    DesignError
        For bad options.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"woj": ["26", "14"], "variable": "active",
    ...                   "estimate": [280.0, 3100.0], "lower": [240.0, 2900.0],
    ...                   "upper": [320.0, 3300.0], "cv": [0.07, 0.03], "n": [140, 900]})
    >>> ax = plot_voivodeship_map(f, source="GUS", year=2023, lang="en", names=False)
    >>> sorted(t.get_text() for t in ax.texts if t.get_gid() == "label-26")
    ['280']
    """
    lang = _check_lang(lang)
    _check_caption(source, year)
    frame, by = _domain_frame(est, voivodeship, thresholds, min_n, lang, "plot_voivodeship_map")
    table = regions.voivodeships()
    codes = frame[by].astype(str).str.strip().str.zfill(2)
    unknown = sorted(set(codes) - set(table["teryt"]))
    if unknown:
        raise DataError(
            f"plot_voivodeship_map: column {by!r} has value(s) {unknown[:5]} that are not "
            "voivodeship TERYT codes (expected 2 digits, 02 to 32)"
        )
    frame = frame.assign(teryt=codes.to_numpy())
    drop = [c for c in ("name",) if c in frame.columns]
    merged = table[["teryt", "name"]].merge(frame.drop(columns=drop), on="teryt", how="left")
    merged["missing"] = merged["reliability"].isna()
    percent = _is_percent(frame)
    digits = _digits(frame) if decimals is None else _check_decimals(decimals)
    return _choropleth(
        merged, regions.voivodeship_shapes() if shapes is None else shapes,
        ax=ax, lang=lang, source=source, year=year, thresholds=thresholds, percent=percent,
        digits=digits, classes=classes, breaks=breaks, cmap=cmap, label=label, title=title,
        names=names, what="plot_voivodeship_map",
    )  # fmt: skip
