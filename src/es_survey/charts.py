"""Charts of a sector survey: funnel, domains, powiat tile map, weights, response rates.

One function per chart. Each takes ``ax=None`` (a new figure is made, without
pyplot, so no GUI backend and no global state is touched) or an existing
:class:`~matplotlib.axes.Axes` to draw on, and returns that Axes; ``ax.figure``
is the figure. Nothing is shown (no ``plt.show()``). Save with
:func:`save_figure` for byte-identical files.

Style, defined once here:

* colours: the Okabe–Ito palette (``OKABE_ITO``, ``PALETTE``), safe for the
  common colour-vision deficiencies; maps use the sequential ``cividis``
  colormap (``SEQUENTIAL_CMAP``), designed for them too;
* labels in Polish by default (``lang="en"`` for English), numbers written by
  :func:`es_survey.tables.format_number` (decimal comma, U+202F between
  thousands, U+2212 minus);
* every chart states its source and survey year in a small caption under the
  plot (``source=`` and ``year=`` are required);
* reliability (:func:`es_survey.tables.reliability`): estimates to use with
  caution are hatched (bars, tiles) or drawn hollow (dots); suppressed
  estimates are drawn as no bar, dot, interval or colour at all — only the
  marker ``.`` — and never enter a colour scale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, cast

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, Normalize, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle
from matplotlib.text import Text
from matplotlib.ticker import Formatter

from es_survey.errors import DataError, DesignError
from es_survey.regions import available_regions, powiats
from es_survey.result import Estimate
from es_survey.tables import (
    _DEFAULT_DECIMALS,
    DEFAULT_THRESHOLDS,
    RELIABILITY_CODES,
    STAGE_LABELS,
    _as_frame,
    _by_columns,
    _check_decimals,
    _check_lang,
    _check_min_n,
    _check_thresholds,
    _reliability_codes,
    exact_decimals,
    format_number,
    format_percent,
    reliability_frame,
)

__all__ = [
    "OKABE_ITO",
    "PALETTE",
    "SEQUENTIAL_CMAP",
    "plot_by_category",
    "plot_direct_vs_model",
    "plot_funnel",
    "plot_powiat_intervals",
    "plot_powiat_tiles",
    "plot_response_rates",
    "plot_sensitivity",
    "plot_weights",
    "save_figure",
    "save_figures",
]

Lang = Literal["pl", "en"]

OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
"""The Okabe–Ito colour-blind-safe palette (Okabe & Ito 2008)."""
PALETTE: tuple[str, ...] = tuple(
    OKABE_ITO[k]
    for k in (
        "blue",
        "orange",
        "bluish_green",
        "vermillion",
        "sky_blue",
        "reddish_purple",
        "yellow",
        "black",
    )
)
"""Order in which series take their colours."""
SEQUENTIAL_CMAP = "cividis"
"""Colormap of maps: sequential, perceptually uniform, colour-blind safe."""

_SUPPRESSED_FACE = "#D9D9D9"
_INK = "#222222"
_CAPTION_GID = "es_survey_caption"
_CAPTION_SIZE = 7
_TEXT_SIZE = 8
_MARKER = "."  # Statistics Poland's sign: no data or not published

_TEXT: dict[str, dict[str, str]] = {
    "pl": {
        "caption": "Źródło: {source}; badanie {year}.",
        "entities": "Liczba podmiotów",
        "interval": "przedział ufności {level}",
        "interval_plain": "przedział ufności",
        "caution": "z ostrożnością (CV {lo}–{hi})",
        "suppressed": "„.” niepublikowany (CV > {hi})",
        "missing": "b.d. — brak danych",
        "missing_short": "b.d.",
        "published": "szacunek",
        "weight": "Waga",
        "ecdf": "Dystrybuanta empiryczna",
        "count": "Liczba jednostek",
        "before": "przed kalibracją",
        "after": "po kalibracji",
        "kish": "{label} (n = {n}, deff Kisha = {deff})",
        "rate": "Wskaźnik",
        "overall": "ogółem",
        "group_n": "{name} (n = {n})",
        "direct": "Szacunek bezpośredni",
        "model": "Szacunek z modelu",
        "equal": "równe szacunki",
        "shrinkage": "wielkość punktu: liczba respondentów",
    },
    "en": {
        "caption": "Source: {source}; survey {year}.",
        "entities": "Number of entities",
        "interval": "{level} confidence interval",
        "interval_plain": "confidence interval",
        "caution": "use with caution (CV {lo}–{hi})",
        "suppressed": "“.” suppressed (CV > {hi})",
        "missing": "n/a — no data",
        "missing_short": "n/a",
        "published": "estimate",
        "weight": "Weight",
        "ecdf": "Empirical distribution function",
        "count": "Number of units",
        "before": "before calibration",
        "after": "after calibration",
        "kish": "{label} (n = {n}, Kish deff = {deff})",
        "rate": "Rate",
        "overall": "total",
        "group_n": "{name} (n = {n})",
        "direct": "Direct estimate",
        "model": "Model estimate",
        "equal": "equal estimates",
        "shrinkage": "point size: number of respondents",
    },
}
_STAGES = STAGE_LABELS


# ------------------------------------------------------------------- helpers
class _NumberFormatter(Formatter):
    """Tick labels in the project's number style, decimals from the tick step."""

    def __init__(self, lang: Lang, percent: bool = False) -> None:
        self.lang = lang
        self.percent = percent
        self.decimals = 0

    def set_locs(self, locs: list[float]) -> None:
        """Choose the decimals that tell neighbouring ticks apart."""
        super().set_locs(locs)
        values = np.sort(np.asarray(locs, dtype=float)) * (100.0 if self.percent else 1.0)
        steps = np.diff(values)
        steps = steps[steps > 0]
        if steps.size == 0:
            self.decimals = 0
            return
        step = float(steps.min())
        self.decimals = int(min(6, max(0, -np.floor(np.log10(step) + 1e-9))))

    def __call__(self, x: float, pos: int | None = None) -> str:
        """Return the label of tick value ``x``."""
        if self.percent:
            return format_percent(x, decimals=self.decimals, lang=self.lang)
        return format_number(x, decimals=self.decimals, lang=self.lang)


def _axes(
    ax: Axes | None,
    figsize: tuple[float, float],
    rect: tuple[float, float, float, float] | None = None,
) -> Axes:
    """Return ``ax``, or the axes of a new figure (constrained layout, or fixed at ``rect``)."""
    if ax is None:
        if rect is not None:
            return Figure(figsize=figsize).add_axes(rect)
        fig = Figure(figsize=figsize, layout="constrained")
        return fig.add_subplot()
    if not isinstance(ax, Axes):
        raise DesignError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _check_caption(source: object, year: object) -> None:
    if not isinstance(source, str) or not source.strip():
        raise DesignError(
            f"source={source!r}: every chart states its source; give a non-empty text, "
            "e.g. source='ROPS Kielce, badanie PES'"
        )
    if (
        isinstance(year, bool)
        or not isinstance(year, int | np.integer)
        or not (1900 <= int(year) <= 2100)
    ):
        raise DesignError(f"year={year!r}: give the survey year as an integer, e.g. year=2023")


def _caption(ax: Axes, source: str, year: int, lang: Lang, offset: float) -> None:
    """Write the source and year in small type under the axes (``offset`` points down)."""
    text = _TEXT[lang]["caption"].format(source=source.strip(), year=int(year))
    ax.annotate(
        text,
        xy=(0.0, 0.0),
        xycoords="axes fraction",
        xytext=(0.0, -offset),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=_CAPTION_SIZE,
        color="#555555",
        annotation_clip=False,
        gid=_CAPTION_GID,
    )


def _style(ax: Axes, grid_axis: Literal["x", "y"] = "x") -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=_TEXT_SIZE)
    ax.grid(axis=grid_axis, color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)


def _pct(t: float, lang: Lang) -> str:
    for d in (0, 1, 2):
        if abs(round(100 * t, d) - 100 * t) < 1e-9:
            return format_percent(t, decimals=d, lang=lang)
    return format_percent(t, decimals=2, lang=lang)


def _level_text(frame: pd.DataFrame, lang: Lang) -> str:
    if "level" in frame.columns:
        levels = pd.to_numeric(frame["level"], errors="coerce").dropna().unique()
        if len(levels) == 1:
            return _TEXT[lang]["interval"].format(level=_pct(float(levels[0]), lang))
    return _TEXT[lang]["interval_plain"]


def _ink_on(face: Any) -> str:
    """Black or white text, whichever contrasts more with ``face`` (WCAG luminance)."""
    rgb = np.asarray(to_rgb(face))
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    lum = float(lin @ np.array([0.2126, 0.7152, 0.0722]))
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#FFFFFF"


def _numbers(frame: pd.DataFrame, columns: Sequence[str], what: str) -> pd.DataFrame:
    out = frame.copy()
    for col in columns:
        values = pd.to_numeric(out[col], errors="coerce")
        bad = values.isna() & out[col].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{what}, row {row}, column {col!r}: value {out[col].iloc[row]!r} is not a number"
            )
        out[col] = values.astype(float)
    return out


def _check_order(frame: pd.DataFrame, key: str, what: str) -> None:
    est, lo, hi = (frame[c].to_numpy(dtype=float) for c in ("estimate", "lower", "upper"))
    with np.errstate(invalid="ignore"):
        bad = (lo > est) | (hi < est)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{what}, row {row} ({key}={frame[key].iloc[row]!r}): interval "
            f"[{lo[row]:g}; {hi[row]:g}] does not contain the estimate {est[row]:g}"
        )


def _domain_frame(
    est: Any,
    by: str | None,
    thresholds: Sequence[float],
    min_n: int,
    lang: Lang,
    what: str,
) -> tuple[pd.DataFrame, str]:
    """Reliability frame of an estimate by one domain column, and that column's name."""
    base = _as_frame(est, None)
    if len(base) == 0:
        raise DataError(f"{what}: the estimate has no rows; nothing to draw")
    by_cols = list(est.by) if isinstance(est, Estimate) else _by_columns(base)
    if by is None:
        if len(by_cols) != 1:
            raise DesignError(
                f"{what} needs an estimate by one domain column; it has {by_cols or 'none'} "
                "(give by= or estimate with by='<column>')"
            )
        by = by_cols[0]
    elif by not in base.columns:
        raise DataError(
            f"{what}: column by={by!r} is not in the estimate; columns: {list(base.columns)}"
        )
    keys = [c for c in ("variable", "category", "statistic") if c in base.columns]
    if keys and len(base[keys].drop_duplicates()) > 1:
        combos = base[keys].drop_duplicates().astype(str).agg("/".join, axis=1).tolist()
        raise DesignError(
            f"{what} draws one variable; the estimate has {len(combos)} ({combos[:6]}); "
            "select one, e.g. est.to_frame().query(\"variable == '...'\")"
        )
    if base[by].duplicated().any():
        value = base.loc[base[by].duplicated(), by].iloc[0]
        raise DataError(f"{what}: domain {by}={value!r} appears in more than one row")
    frame = reliability_frame(base, thresholds=thresholds, min_n=min_n, lang=lang)
    _check_order(frame, by, what)
    return frame, by


def _digits(frame: pd.DataFrame) -> int:
    """Decimals of value labels: those of publication tables for the statistic."""
    if "statistic" not in frame.columns or len(frame) == 0:
        return 0
    if not (frame["statistic"] == frame["statistic"].iloc[0]).all():
        return 1
    return _DEFAULT_DECIMALS.get(str(frame["statistic"].iloc[0]), 1)


def _is_percent(frame: pd.DataFrame) -> bool:
    return "statistic" in frame.columns and bool((frame["statistic"] == "proportion").all())


def _reliability_legend(
    ax: Axes,
    lang: Lang,
    thresholds: Sequence[float],
    codes: pd.Series,
    *,
    hollow: bool = False,
    loc: Literal["lower right", "upper left"] = "lower right",
    extra: Sequence[Any] = (),
    face: str = PALETTE[0],
    hatch: str = "white",
) -> None:
    t = _TEXT[lang]
    handles: list[Any] = list(extra)
    present = set(codes.astype(str))
    if "caution" in present:
        label = t["caution"].format(lo=_pct(thresholds[1], lang), hi=_pct(thresholds[2], lang))
        if hollow:
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="",
                    markerfacecolor="white",
                    markeredgecolor=PALETTE[0],
                    label=label,
                )
            )
        else:
            handles.append(Patch(facecolor=face, hatch="////", edgecolor=hatch, label=label))
    if "suppressed" in present:
        handles.append(
            Line2D(  # no symbol: the label shows the sign itself
                [],
                [],
                linestyle="",
                marker="None",
                label=t["suppressed"].format(hi=_pct(thresholds[2], lang)),
            )
        )
    if handles:
        ax.legend(handles=handles, loc=loc, fontsize=_TEXT_SIZE - 1, frameon=False)


# -------------------------------------------------------------------- funnel
def plot_funnel(
    funnel: pd.DataFrame,
    *,
    ax: Axes | None = None,
    lang: Lang = "pl",
    source: str,
    year: int,
    labels: Mapping[str, str] | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    min_n: int = 0,
    xlabel: str | None = None,
    title: str | None = None,
) -> Axes:
    """Draw the sector funnel: estimated counts of each stage with intervals.

    Horizontal bars, first stage on top (registered → eligible → active →
    earning → employing), each with its confidence-interval whisker and its
    formatted value.

    Parameters
    ----------
    funnel : pandas.DataFrame
        One row per stage, in funnel order, with columns ``stage`` (known
        codes ``registered, eligible, active, earning, employing`` get
        translated labels; other texts are shown as given), ``estimate``,
        ``lower``, ``upper`` and optionally ``level``, ``cv``, ``se``, ``n`` —
        the table of :func:`es_survey.sector_funnel`, for one domain (filter
        a table ``by=`` domains to one domain first).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    lang : {"pl", "en"}, default "pl"
        Language of labels and number style.
    source : str
        Data source, shown in the caption.
    year : int
        Survey year, shown in the caption.
    labels : mapping, optional
        Stage code → display label, overriding the built-in ones.
    thresholds : sequence of three floats, default (0.10, 0.20, 0.30)
        CV bounds of :func:`es_survey.tables.reliability`, applied when the
        table has a ``cv`` column (stages to use with caution are hatched,
        suppressed ones drawn as ``.`` only).
    min_n : int, default 0
        Minimum ``n`` of a drawn stage (when the table has ``n``).
    xlabel, title : str, optional
        Axis label (default: number of entities) and title.

    Returns
    -------
    matplotlib.axes.Axes
        The bars are ``ax.patches`` (gid ``bar-<stage>``), the whiskers
        ``ax.containers[1]`` (an ``ErrorbarContainer``).

    Raises
    ------
    DataError
        For missing columns, non-numbers, repeated stages, or an interval
        that does not contain its estimate.
    DesignError
        For bad ``ax``, ``lang``, ``source`` or ``year``.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"stage": ["registered", "active", "employing"],
    ...                   "estimate": [632.0, 281.5, 96.2],
    ...                   "lower": [632.0, 255.1, 80.4], "upper": [632.0, 307.9, 112.0]})
    >>> ax = plot_funnel(f, source="ROPS Kielce", year=2023)
    >>> [round(float(p.get_width()), 1) for p in ax.patches]
    [632.0, 281.5, 96.2]
    """
    lang = _check_lang(lang)
    _check_caption(source, year)
    if not isinstance(funnel, pd.DataFrame):
        raise DesignError(f"funnel must be a DataFrame, got {type(funnel).__name__}")
    missing = [c for c in ("stage", "estimate", "lower", "upper") if c not in funnel.columns]
    if missing:
        raise DataError(
            f"funnel: column(s) {missing} missing; expected stage, estimate, lower, upper"
        )
    frame = _numbers(funnel.reset_index(drop=True), ["estimate", "lower", "upper"], "funnel")
    if frame["stage"].duplicated().any():
        stage = frame.loc[frame["stage"].duplicated(), "stage"].iloc[0]
        raise DataError(
            f"funnel: stage {stage!r} appears in more than one row; draw one domain at a time "
            "(filter the funnel table to one entity type or subregion first)"
        )
    _check_order(frame, "stage", "funnel")
    if "cv" in frame.columns:
        frame = _numbers(frame, [c for c in ("cv", "se", "n") if c in frame.columns], "funnel")
        code = _reliability_codes(
            frame["cv"].to_numpy(dtype=float),
            frame["estimate"].to_numpy(dtype=float),
            frame["se"].to_numpy(dtype=float) if "se" in frame.columns else None,
            frame["n"].to_numpy(dtype=float) if "n" in frame.columns else None,
            _check_thresholds(thresholds),
            _check_min_n(min_n),
        )
    else:
        code = np.zeros(len(frame), dtype=int)
    ax = _axes(ax, (7.0, 0.55 * len(frame) + 1.6))
    names = {**_STAGES[lang], **(dict(labels) if labels else {})}
    shown = code < 3
    est = frame["estimate"].to_numpy()[shown]
    lo, hi = frame["lower"].to_numpy()[shown], frame["upper"].to_numpy()[shown]
    pos = np.arange(len(frame), dtype=float)
    bars = ax.barh(pos[shown], est, height=0.6, color=PALETTE[0], label=_TEXT[lang]["published"])
    for bar, stage, c in zip(bars, frame["stage"][shown], code[shown], strict=True):
        bar.set_gid(f"bar-{stage}")
        if c == 2:
            bar.set_hatch("////")
            bar.set_edgecolor("white")
    ax.errorbar(
        est,
        pos[shown],
        xerr=np.vstack([est - lo, hi - est]),
        fmt="none",
        ecolor=_INK,
        elinewidth=1.2,
        capsize=3,
        label=_level_text(frame, lang),
    )
    for y, x, top in zip(pos[shown], est, hi, strict=True):
        end = top if np.isfinite(top) else x
        ax.annotate(
            format_number(x, lang=lang),
            xy=(end, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=_TEXT_SIZE,
            gid="value",
        )
    for y, stage in zip(pos[~shown], frame["stage"][~shown], strict=True):
        ax.annotate(
            _MARKER,
            xy=(0, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=_TEXT_SIZE + 1,
            color=_INK,
            gid=f"suppressed-{stage}",
        )
    ax.set_yticks(pos, [names.get(str(s), str(s)) for s in frame["stage"]])
    ax.invert_yaxis()
    right = np.nanmax(np.concatenate([hi, est])) if shown.any() else 1.0
    ax.set_xlim(0, (right if right > 0 else 1.0) * 1.18)
    ax.xaxis.set_major_formatter(_NumberFormatter(lang))
    ax.set_xlabel(xlabel if xlabel is not None else _TEXT[lang]["entities"], fontsize=_TEXT_SIZE)
    if title:
        ax.set_title(title, fontsize=_TEXT_SIZE + 2, loc="left")
    handles, _ = ax.get_legend_handles_labels()
    codes = pd.Series(np.array(RELIABILITY_CODES)[code])
    _reliability_legend(ax, lang, _check_thresholds(thresholds), codes, extra=handles)
    _style(ax)
    _caption(ax, source, year, lang, offset=34)
    return ax


# ----------------------------------------------------------- by one domain
def plot_by_category(
    est: Any,
    *,
    by: str | None = None,
    ax: Axes | None = None,
    lang: Lang = "pl",
    source: str,
    year: int,
    labels: Mapping[Any, str] | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    min_n: int = 0,
    sort: bool = False,
    xlabel: str | None = None,
    title: str | None = None,
) -> Axes:
    """Draw estimates by one domain (e.g. entity type) as bars with CI whiskers.

    Parameters
    ----------
    est : Estimate or pandas.DataFrame
        One variable estimated by one domain column (``by=``), or its
        :meth:`~es_survey.Estimate.to_frame`.
    by : str, optional
        The domain column; the estimate's only one by default.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    lang : {"pl", "en"}, default "pl"
        Language of labels and number style.
    source : str
        Data source, shown in the caption.
    year : int
        Survey year, shown in the caption.
    labels : mapping, optional
        Domain value → display name (e.g. entity type codes → names).
    thresholds : sequence of three floats, default (0.10, 0.20, 0.30)
        CV bounds of :func:`es_survey.tables.reliability`.
    min_n : int, default 0
        Minimum sample size of a drawn estimate.
    sort : bool, default False
        Largest estimate on top (suppressed rows last); otherwise the input order.
    xlabel, title : str, optional
        Axis label (default: the variable) and title.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per published domain (gid ``bar-<value>``; hatched when to be
        used with caution) with whiskers in ``ax.containers[1]``; a suppressed
        domain has no bar and no whisker, only the text ``.`` (gid
        ``suppressed-<value>``). Proportions are drawn in percent.

    Raises
    ------
    DataError
        For missing columns, non-numbers, repeated domains, or intervals
        not containing their estimates.
    DesignError
        If the estimate has several variables or domain columns, or for bad
        options.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"entity_type": ["SS", "CIS", "STOW"], "variable": "workers",
    ...                   "estimate": [169.0, 86.0, 411.0], "lower": [150.0, 80.0, 196.0],
    ...                   "upper": [188.0, 92.0, 626.0], "cv": [0.05, 0.03, 0.26],
    ...                   "n": [52, 7, 120]})
    >>> ax = plot_by_category(f, source="ROPS Kielce", year=2023)
    >>> [p.get_gid() for p in ax.patches if p.get_gid()]
    ['bar-SS', 'bar-CIS', 'bar-STOW']
    """
    lang = _check_lang(lang)
    _check_caption(source, year)
    frame, by = _domain_frame(est, by, thresholds, min_n, lang, "plot_by_category")
    if sort:
        frame = frame.assign(_key=frame["estimate"].fillna(-np.inf)).sort_values(
            "_key", ascending=False, kind="stable"
        )
    ax = _axes(ax, (7.0, 0.45 * len(frame) + 1.6))
    percent = _is_percent(frame)
    digits = _digits(frame)
    names = dict(labels) if labels else {}
    shown = ~frame["suppressed"].to_numpy()
    pos = np.arange(len(frame), dtype=float)
    values = frame["estimate"].to_numpy()
    lo, hi = frame["lower"].to_numpy(), frame["upper"].to_numpy()
    caution = (frame["reliability"] == "caution").to_numpy()
    bars = ax.barh(pos[shown], values[shown], height=0.6, color=PALETTE[0])
    for bar, key, warn in zip(bars, frame[by][shown], caution[shown], strict=True):
        bar.set_gid(f"bar-{key}")
        if warn:
            bar.set_hatch("////")
            bar.set_edgecolor("white")
    ax.errorbar(
        values[shown],
        pos[shown],
        xerr=np.vstack([values[shown] - lo[shown], hi[shown] - values[shown]]),
        fmt="none",
        ecolor=_INK,
        elinewidth=1.2,
        capsize=3,
    )
    for y, x, top, key, ok in zip(pos, values, hi, frame[by], shown, strict=True):
        if ok:
            text = (
                format_percent(x, decimals=digits, lang=lang)
                if percent
                else format_number(x, decimals=digits, lang=lang)
            )
            ax.annotate(
                text,
                xy=(top if np.isfinite(top) else x, y),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=_TEXT_SIZE,
                gid=f"value-{key}",
            )
        else:
            ax.annotate(
                _MARKER,
                xy=(0, y),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=_TEXT_SIZE + 1,
                color=_INK,
                gid=f"suppressed-{key}",
            )
    ax.set_yticks(pos, [names.get(k, str(k)) for k in frame[by]])
    ax.invert_yaxis()
    right = np.nanmax(hi[shown]) if shown.any() else 1.0
    ax.set_xlim(
        min(0.0, np.nanmin(lo[shown]) if shown.any() else 0.0), (right if right > 0 else 1.0) * 1.18
    )
    ax.xaxis.set_major_formatter(_NumberFormatter(lang, percent=percent))
    variable = str(frame["variable"].iloc[0]) if "variable" in frame.columns else ""
    ax.set_xlabel(xlabel if xlabel is not None else variable, fontsize=_TEXT_SIZE)
    if title:
        ax.set_title(title, fontsize=_TEXT_SIZE + 2, loc="left")
    extra = [Line2D([], [], color=_INK, marker="|", label=_level_text(frame, lang))]
    _reliability_legend(ax, lang, thresholds, frame["reliability"], extra=extra)
    _style(ax)
    _caption(ax, source, year, lang, offset=34)
    return ax


# ---------------------------------------------------------------- powiats
def _powiat_frame(
    est: Any,
    powiat: str | None,
    region: str,
    thresholds: Sequence[float],
    min_n: int,
    lang: Lang,
    what: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Merge the region's powiats with the estimate's columns on the TERYT code."""
    frame, by = _domain_frame(est, powiat, thresholds, min_n, lang, what)
    pw = powiats(region)
    codes = frame[by].astype(str).str.strip()
    unknown = sorted(set(codes) - set(pw["teryt"]))
    if unknown:
        raise DataError(
            f"{what}: column {by!r} has value(s) {unknown[:5]} that are not powiat TERYT codes "
            f"of region {region!r} (expected 4 digits, e.g. {pw['teryt'].iloc[0]!r})"
        )
    frame = frame.assign(teryt=codes.to_numpy()) if by != "teryt" else frame.assign(teryt=codes)
    drop = [c for c in ("name",) if c in frame.columns]
    merged = pw.merge(frame.drop(columns=drop), on="teryt", how="left", validate="one_to_one")
    merged["missing"] = merged["reliability"].isna()
    return merged, frame


def plot_powiat_tiles(
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
    cmap: str | Colormap = SEQUENTIAL_CMAP,
    decimals: int | None = None,
    label: str | None = None,
    title: str | None = None,
) -> Axes:
    r"""Draw a schematic tile map of the powiats coloured by an estimate.

    Each powiat is one square at its ``tile_row``/``tile_col`` of
    :func:`es_survey.regions.powiats` (no external geometry), filled by the
    colormap of its estimate, labelled with its name and formatted value. A
    colorbar gives the scale. Estimates to use with caution are hatched;
    suppressed ones are grey with ``.`` and no number (they do not enter the
    colour scale); powiats absent from the estimate are white with ``b.d.``.

    Parameters
    ----------
    est : Estimate or pandas.DataFrame
        One variable estimated by powiat (4-digit TERYT codes such as
        ``"2601"``), or its :meth:`~es_survey.Estimate.to_frame`.
    powiat : str, optional
        The domain column with the TERYT codes; the estimate's only one by default.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    region : str, default "26"
        Voivodeship of the tiles (:func:`es_survey.regions.powiats`).
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
    cmap : str or Colormap, default "cividis"
        Sequential colormap.
    decimals : int, optional
        Decimals of the tile values (default as in publication tables: total 0,
        mean 1, ratio 2, proportion 1 in percent).
    label : str, optional
        Colorbar label (default: the variable).
    title : str, optional
        Title.

    Returns
    -------
    matplotlib.axes.Axes
        Tiles are patches with gid ``tile-<teryt>``, their texts have gid
        ``label-<teryt>``; the colorbar is an inset axes (``ax.child_axes``).

    Raises
    ------
    DataError
        For codes that are not powiats of the region, and the errors of
        :func:`plot_by_category`.
    DesignError
        For bad options, and for a region without a tile layout.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"teryt_powiat": ["2601", "2661"], "variable": "active",
    ...                   "estimate": [16.0, 62.0], "lower": [10.0, 48.0],
    ...                   "upper": [22.0, 76.0], "cv": [0.19, 0.11], "n": [18, 53]})
    >>> ax = plot_powiat_tiles(f, source="ROPS Kielce", year=2023, lang="en")
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "label-2661"]
    ['Kielce\n62']
    """
    lang = _check_lang(lang)
    _check_caption(source, year)
    merged, frame = _powiat_frame(est, powiat, region, thresholds, min_n, lang, "plot_powiat_tiles")
    if merged[["tile_row", "tile_col"]].isna().to_numpy().any():
        raise DesignError(
            f"plot_powiat_tiles: region {region!r} has no tile layout (tile_row, tile_col of "
            f"es_survey.regions.powiats; bundled for {', '.join(available_regions())}); draw "
            "its powiats from their boundaries (es_survey.regions.powiat_shapes) instead"
        )
    percent = _is_percent(frame)
    digits = _digits(frame) if decimals is None else _check_decimals(decimals)
    colormap = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
    published = merged.loc[~merged["missing"] & ~merged["suppressed"].fillna(False).astype(bool)]
    shown = published["estimate"].to_numpy(dtype=float)
    low, high = (float(shown.min()), float(shown.max())) if len(shown) else (0.0, 1.0)
    nonnegative = low >= 0
    if low == high:  # one value (or all equal): the middle colour of a small range
        low, high = low - max(abs(low) * 0.05, 0.5), high + max(abs(high) * 0.05, 0.5)
    if nonnegative:  # counts and shares: the scale never shows impossible negatives
        low = max(low, 0.0)
    norm = Normalize(vmin=low, vmax=high)
    # a fixed layout: an equal-aspect axes under constrained layout moves by
    # rounding errors on every draw, which would change the saved bytes
    ax = _axes(ax, (6.5, 5.6), rect=(0.02, 0.16, 0.8, 0.82))
    t = _TEXT[lang]
    for rec in merged.to_dict("records"):
        x, y = float(rec["tile_col"]), float(rec["tile_row"])
        missing = bool(rec["missing"])
        suppressed = not missing and bool(rec["suppressed"])
        if missing:
            face, text = "white", t["missing_short"]
        elif suppressed:
            face, text = _SUPPRESSED_FACE, _MARKER
        else:
            face = colormap(norm(rec["estimate"]))
            text = (
                format_percent(rec["estimate"], decimals=digits, lang=lang)
                if percent
                else format_number(rec["estimate"], decimals=digits, lang=lang)
            )
        ink = _ink_on(face)
        tile = Rectangle(
            (x - 0.47, y - 0.47),
            0.94,
            0.94,
            facecolor=face,
            linewidth=1.0,
            edgecolor="#999999" if missing else "white",
            linestyle="--" if missing else "-",
            gid=f"tile-{rec['teryt']}",
        )
        if not missing and rec["reliability"] == "caution":
            tile.set_hatch("///")
            tile.set_hatchcolor(ink)
        ax.add_patch(tile)
        ax.text(
            x,
            y,
            f"{rec['name']}\n{text}",
            ha="center",
            va="center",
            color=ink,
            fontsize=_TEXT_SIZE - 1,
            gid=f"label-{rec['teryt']}",
            bbox={"facecolor": face, "edgecolor": "none", "pad": 1.0}
            if not missing and rec["reliability"] == "caution"
            else None,
        )
    ax.set_xlim(merged["tile_col"].min() - 0.6, merged["tile_col"].max() + 0.6)
    ax.set_ylim(merged["tile_row"].max() + 0.6, merged["tile_row"].min() - 0.6)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if len(shown):
        bar = ax.figure.colorbar(
            ScalarMappable(norm=norm, cmap=colormap),
            cax=ax.inset_axes((1.03, 0.15, 0.035, 0.7)),
            format=_NumberFormatter(lang, percent=percent),
        )
        variable = str(frame["variable"].iloc[0]) if "variable" in frame.columns else ""
        bar.set_label(label if label is not None else variable, fontsize=_TEXT_SIZE)
        bar.ax.tick_params(labelsize=_TEXT_SIZE)
    extra = []
    if merged["missing"].any():
        extra.append(
            Patch(facecolor="white", edgecolor="#999999", linestyle="--", label=t["missing"])
        )
    codes = merged["reliability"].dropna()
    _reliability_legend(
        ax, lang, thresholds, codes, loc="upper left", extra=extra, face="#BBBBBB", hatch="#000000"
    )
    legend = ax.get_legend()
    if legend is not None:  # under the tiles, the caption under it
        legend.set_bbox_to_anchor((0.0, 0.0, 1.0, 0.0), transform=ax.transAxes)
        legend.set_loc("upper left")
    rows = len(legend.legend_handles) if legend is not None else 0
    if title:
        ax.set_title(title, fontsize=_TEXT_SIZE + 2, loc="left")
    _caption(ax, source, year, lang, offset=6 + 12 * rows)
    return ax


def plot_powiat_intervals(
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
    xlabel: str | None = None,
    title: str | None = None,
) -> Axes:
    """Draw estimates by powiat as dots with interval lines, sorted by value.

    The largest estimate is on top. Estimates to use with caution are hollow
    dots; suppressed powiats (and powiats absent from the estimate) are listed
    at the bottom with ``.`` (or ``b.d.``) and no dot or interval.

    Parameters
    ----------
    est : Estimate or pandas.DataFrame
        One variable estimated by powiat (4-digit TERYT codes).
    powiat : str, optional
        The domain column with the TERYT codes; the estimate's only one by default.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    region : str, default "26"
        Voivodeship whose powiat names are shown.
    lang : {"pl", "en"}, default "pl"
        Language of labels and number style.
    source : str
        Data source, shown in the caption.
    year : int
        Survey year, shown in the caption.
    thresholds : sequence of three floats, default (0.10, 0.20, 0.30)
        CV bounds of :func:`es_survey.tables.reliability`.
    min_n : int, default 0
        Minimum sample size of a drawn estimate.
    xlabel, title : str, optional
        Axis label (default: the variable) and title.

    Returns
    -------
    matplotlib.axes.Axes
        Y tick labels are the powiat names top to bottom; filled dots are the
        line with gid ``dots``, hollow ones ``dots-caution``; intervals are
        ``ax.containers[0]``.

    Raises
    ------
    DataError
        For codes that are not powiats of the region, and the errors of
        :func:`plot_by_category`.
    DesignError
        For bad options.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"teryt_powiat": ["2601", "2661", "2604"], "variable": "active",
    ...                   "estimate": [16.0, 62.0, 40.0], "lower": [10.0, 48.0, 33.0],
    ...                   "upper": [22.0, 76.0, 47.0], "cv": [0.19, 0.11, 0.09],
    ...                   "n": [18, 53, 68]})
    >>> ax = plot_powiat_intervals(f, source="ROPS Kielce", year=2023)
    >>> [t.get_text() for t in ax.get_yticklabels()][:3]
    ['Kielce', 'kielecki', 'buski']
    """
    lang = _check_lang(lang)
    _check_caption(source, year)
    merged, frame = _powiat_frame(
        est, powiat, region, thresholds, min_n, lang, "plot_powiat_intervals"
    )
    hidden = (merged["missing"] | merged["suppressed"].fillna(False).astype(bool)).to_numpy()
    shown = merged.loc[~hidden].sort_values(
        ["estimate", "teryt"], ascending=[False, True], kind="stable"
    )
    rest = merged.loc[hidden].sort_values("name", kind="stable")
    order = pd.concat([shown, rest])
    ax = _axes(ax, (6.5, 0.32 * len(order) + 1.8))
    pos = np.arange(len(order), dtype=float)
    k = len(shown)
    est_v = shown["estimate"].to_numpy(dtype=float)
    lo, hi = shown["lower"].to_numpy(dtype=float), shown["upper"].to_numpy(dtype=float)
    ax.errorbar(
        est_v,
        pos[:k],
        xerr=np.vstack([est_v - lo, hi - est_v]),
        fmt="none",
        ecolor=PALETTE[0],
        elinewidth=1.4,
        capsize=0,
    )
    caution = (shown["reliability"] == "caution").to_numpy()
    t = _TEXT[lang]
    ax.plot(
        est_v[~caution],
        pos[:k][~caution],
        "o",
        color=PALETTE[0],
        markersize=5,
        gid="dots",
        label=t["published"],
    )
    if caution.any():
        ax.plot(
            est_v[caution],
            pos[:k][caution],
            "o",
            markerfacecolor="white",
            markeredgecolor=PALETTE[0],
            markersize=5,
            gid="dots-caution",
        )
    for y, rec in zip(pos[k:], rest.to_dict("records"), strict=True):
        mark = t["missing_short"] if rec["missing"] else _MARKER
        ax.annotate(
            mark,
            xy=(0, y),
            xycoords=("axes fraction", "data"),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=_TEXT_SIZE,
            gid=f"suppressed-{rec['teryt']}",
        )
    ax.set_yticks(pos, order["name"].tolist())
    ax.set_ylim(len(order) - 0.5, -0.5)
    percent = _is_percent(frame)
    ax.xaxis.set_major_formatter(_NumberFormatter(lang, percent=percent))
    variable = str(frame["variable"].iloc[0]) if "variable" in frame.columns else ""
    ax.set_xlabel(xlabel if xlabel is not None else variable, fontsize=_TEXT_SIZE)
    if title:
        ax.set_title(title, fontsize=_TEXT_SIZE + 2, loc="left")
    extra = [Line2D([], [], color=PALETTE[0], marker="o", label=_level_text(frame, lang))]
    _reliability_legend(
        ax, lang, thresholds, merged["reliability"].dropna(), hollow=True, extra=extra
    )
    _style(ax)
    _caption(ax, source, year, lang, offset=34)
    return ax


# ---------------------------------------------------------------- weights
def _weights(values: Any, name: str) -> np.ndarray:
    """Positive weights of an array or a design (zero weights are left out)."""
    if hasattr(values, "weights") and hasattr(values, "in_domain"):  # a (replicate) design
        w = np.asarray(values.weights, dtype=float)[np.asarray(values.in_domain, dtype=bool)]
    else:
        try:
            w = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise DataError(f"{name}: weights must be numbers") from None
    if w.ndim != 1:
        raise DataError(f"{name}: expected a 1-D array of weights, got shape {w.shape}")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{name}: weight at position {i} is {float(w[i])!r}; weights must be finite "
            "and not negative"
        )
    w = w[w > 0]
    if w.size == 0:
        raise DataError(f"{name}: no positive weight; nothing to draw")
    return w


def _kish(w: np.ndarray) -> float:
    """Kish's design effect of unequal weights: n Σw² / (Σw)²."""
    return float(w.size * np.sum(w * w) / np.sum(w) ** 2)


def plot_weights(
    before: Any,
    after: Any,
    *,
    ax: Axes | None = None,
    kind: Literal["ecdf", "hist"] = "ecdf",
    lang: Lang = "pl",
    source: str,
    year: int,
    labels: tuple[str, str] | None = None,
    bins: int = 30,
    title: str | None = None,
) -> Axes:
    r"""Compare the distribution of weights before and after calibration.

    Both distributions share one axis: empirical distribution functions
    (``kind="ecdf"``, default) or step histograms on common bins
    (``kind="hist"``). Each legend entry gives the number of weights and
    Kish's design effect of unequal weighting,
    :math:`\mathrm{deff}_K = n \sum w_i^2 / (\sum w_i)^2 = 1 + \mathrm{cv}^2(w)`
    (Kish 1965, §11.7). As in :func:`es_survey.weighting.weights_summary`, only
    positive weights count (a nonrespondent's weight is 0 after the nonresponse
    adjustment).

    Parameters
    ----------
    before, after : array-like, SurveyDesign or ReplicateDesign
        Weights (finite, not negative), or designs whose in-domain weights are used.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    kind : {"ecdf", "hist"}, default "ecdf"
        Type of plot.
    lang : {"pl", "en"}, default "pl"
        Language of labels and number style.
    source : str
        Data source, shown in the caption.
    year : int
        Survey year, shown in the caption.
    labels : tuple of two str, optional
        Names of the two sets (default: before/after calibration).
    bins : int, default 30
        Number of common bins of ``kind="hist"``.
    title : str, optional
        Title.

    Returns
    -------
    matplotlib.axes.Axes
        ``ecdf``: two step lines (gid ``before``, ``after``) through the sorted
        weights at heights i/n. ``hist``: two step patches with the same gids.

    Raises
    ------
    DataError
        For negative or non-finite weights, or no positive weight.
    DesignError
        For bad options.

    References
    ----------
    Kish, L. (1965). *Survey Sampling*. Wiley.

    Examples
    --------
    >>> ax = plot_weights([1, 1, 4, 4], [2, 2, 3, 3], source="demo", year=2023, lang="en")
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['before calibration (n = 4, Kish deff = 1.36)', 'after calibration (n = 4, Kish deff = 1.04)']
    """
    lang = _check_lang(lang)
    _check_caption(source, year)
    if kind not in ("ecdf", "hist"):
        raise DesignError(f"kind={kind!r} is not supported; use 'ecdf' or 'hist'")
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise DesignError(f"bins={bins!r} must be a positive integer")
    t = _TEXT[lang]
    names = labels if labels is not None else (t["before"], t["after"])
    if len(names) != 2:
        raise DesignError(f"labels={labels!r} must be two texts (before, after)")
    sets = [_weights(before, "before"), _weights(after, "after")]
    ax = _axes(ax, (6.5, 4.0))
    colours = (PALETTE[1], PALETTE[0])
    edges = np.histogram_bin_edges(np.concatenate(sets), bins=int(bins))
    for w, name, gid, colour in zip(sets, names, ("before", "after"), colours, strict=True):
        legend = t["kish"].format(
            label=name,
            n=format_number(w.size, lang=lang),
            deff=format_number(_kish(w), decimals=2, lang=lang),
        )
        if kind == "ecdf":
            x = np.sort(w)
            y = np.arange(1, w.size + 1) / w.size
            ax.step(x, y, where="post", color=colour, linewidth=1.6, label=legend, gid=gid)
        else:
            _, _, patches = ax.hist(
                w, bins=edges.tolist(), histtype="step", color=colour, linewidth=1.6, label=legend
            )
            # one data set drawn as histtype="step" gives a list of Polygons
            for patch in cast(list[Polygon], patches):
                patch.set_gid(gid)
    ax.xaxis.set_major_formatter(_NumberFormatter(lang))
    if kind == "ecdf":
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(_NumberFormatter(lang, percent=True))
    else:
        ax.yaxis.set_major_formatter(_NumberFormatter(lang))
    ax.set_xlabel(t["weight"], fontsize=_TEXT_SIZE)
    ax.set_ylabel(t["ecdf"] if kind == "ecdf" else t["count"], fontsize=_TEXT_SIZE)
    ax.legend(
        loc="lower right" if kind == "ecdf" else "upper right",
        fontsize=_TEXT_SIZE - 1,
        frameon=False,
    )
    if title:
        ax.set_title(title, fontsize=_TEXT_SIZE + 2, loc="left")
    _style(ax, "y")
    _caption(ax, source, year, lang, offset=34)
    return ax


# --------------------------------------------------------- response rates
_COUNT_COLUMNS = ("I", "P", "R", "NC", "O", "U", "ineligible", "e")


def plot_response_rates(
    rates: pd.DataFrame,
    *,
    rate: str | Sequence[str] = "RR3",
    by: str | Sequence[str] | None = None,
    ax: Axes | None = None,
    lang: Lang = "pl",
    source: str,
    year: int,
    labels: Mapping[str, str] | None = None,
    xlabel: str | None = None,
    title: str | None = None,
) -> Axes:
    """Draw AAPOR response rates by stratum (or any grouping) as bars.

    Parameters
    ----------
    rates : pandas.DataFrame
        Output of :func:`es_survey.response_rates` (one row per group).
    rate : str or sequence of str, default "RR3"
        Rate column(s) to draw (``RR1`` … ``RR6``, ``COOP1`` …, ``REF1`` …,
        ``CON1`` …); several give grouped bars.
    by : str or sequence of str, optional
        Group columns; default the columns before ``I``. Several are joined with
        ``" / "``; with none, the one row is labelled "ogółem"/"total".
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    lang : {"pl", "en"}, default "pl"
        Language of labels and number style.
    source : str
        Data source, shown in the caption.
    year : int
        Survey year, shown in the caption.
    labels : mapping, optional
        Group label → display name.
    xlabel, title : str, optional
        Axis label (default: "Wskaźnik"/"Rate") and title.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per group and rate (gid ``<rate>-<group>``), width = the rate
        (a proportion; the axis shows percent); a NaN rate has no bar. Group
        labels add the number of sampled eligible or unknown units n = I + P +
        R + NC + O + U when those columns are present.

    Raises
    ------
    DataError
        For missing rate or group columns or non-numeric rates.
    DesignError
        For bad options.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"stratum": ["SS", "NGO-PL721"], "I": [30, 50], "P": [2, 5],
    ...                   "R": [5, 20], "NC": [3, 15], "O": [0, 0], "U": [2, 10],
    ...                   "RR1": [0.714, 0.5], "RR3": [0.72, 0.52]})
    >>> ax = plot_response_rates(r, rate=["RR1", "RR3"], source="demo", year=2023)
    >>> [round(float(p.get_width()), 3) for p in ax.patches]
    [0.714, 0.5, 0.72, 0.52]
    """
    lang = _check_lang(lang)
    _check_caption(source, year)
    if not isinstance(rates, pd.DataFrame):
        raise DesignError(f"rates must be a DataFrame, got {type(rates).__name__}")
    wanted = [rate] if isinstance(rate, str) else list(rate)
    if not wanted:
        raise DesignError("rate= is empty; name at least one rate column, e.g. 'RR3'")
    absent = [r for r in wanted if r not in rates.columns]
    if absent:
        known = [c for c in rates.columns if c[:2] in ("RR", "CO", "RE") or c.startswith("CON")]
        raise DataError(f"rates: no column(s) {absent}; available rates: {known}")
    if by is None:
        cols = list(rates.columns)
        group_cols = cols[: cols.index("I")] if "I" in cols else []
    else:
        group_cols = [by] if isinstance(by, str) else list(by)
        missing = [c for c in group_cols if c not in rates.columns]
        if missing:
            raise DataError(f"rates: group column(s) {missing} missing; columns: {list(rates)}")
    frame = _numbers(rates.reset_index(drop=True), wanted, "rates")
    t = _TEXT[lang]
    if group_cols:
        groups = frame[group_cols].astype(str).agg(" / ".join, axis=1).tolist()
    else:
        groups = [t["overall"]] * len(frame)
    names = dict(labels) if labels else {}
    shown_names = [names.get(g, g) for g in groups]
    if all(c in frame.columns for c in ("I", "P", "R", "NC", "O", "U")):
        n = frame[["I", "P", "R", "NC", "O", "U"]].sum(axis=1).to_numpy(dtype=float)
        shown_names = [
            t["group_n"].format(name=s, n=format_number(v, lang=lang))
            for s, v in zip(shown_names, n, strict=True)
        ]
    ax = _axes(ax, (6.5, 0.35 * len(frame) * len(wanted) + 1.8))
    pos = np.arange(len(frame), dtype=float)
    height = 0.8 / len(wanted)
    for j, name in enumerate(wanted):
        values = frame[name].to_numpy(dtype=float)
        ok = np.isfinite(values)
        y = pos - 0.4 + height * (j + 0.5)
        bars = ax.barh(
            y[ok], values[ok], height=height * 0.92, color=PALETTE[j % len(PALETTE)], label=name
        )
        for bar, g, v, yy in zip(bars, np.asarray(groups)[ok], values[ok], y[ok], strict=True):
            bar.set_gid(f"{name}-{g}")
            ax.annotate(
                format_percent(v, lang=lang),
                xy=(v, yy),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=_TEXT_SIZE - 1,
                gid=f"value-{name}-{g}",
            )
    ax.set_yticks(pos, shown_names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.15)
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.xaxis.set_major_formatter(_NumberFormatter(lang, percent=True))
    ax.set_xlabel(xlabel if xlabel is not None else t["rate"], fontsize=_TEXT_SIZE)
    if title:
        ax.set_title(title, fontsize=_TEXT_SIZE + 2, loc="left")
    ax.legend(loc="lower right", fontsize=_TEXT_SIZE - 1, frameon=False)
    _style(ax)
    _caption(ax, source, year, lang, offset=34)
    return ax


# ------------------------------------------------------- small-area diagnostics
def _label_offsets(
    x: np.ndarray, y: np.ndarray, names: np.ndarray, per_point: float, size: float
) -> list[tuple[float, float]]:
    """Place point labels greedily so that their boxes do not overlap (offsets in points).

    Each label tries right-above, right-below, left-above, left-below, then further
    up and down; boxes are estimated from the text length (0.6 em per character).
    """
    placed: list[tuple[float, float, float, float]] = []
    chosen: dict[int, tuple[float, float]] = {}
    tries = [(4.0, 2.0), (4.0, -size - 2), (-4.0, 2.0), (-4.0, -size - 2)]
    tries += [(4.0, k * (size + 2)) for k in (1, -2, 2, -3, 3)]
    height = size + 1.0
    for i in sorted(range(len(x)), key=lambda j: -float(y[j])):
        width = 0.6 * size * len(str(names[i]))
        boxes = []
        for dx, dy in tries:
            x0 = float(x[i]) + (dx if dx >= 0 else dx - width) * per_point
            y0 = float(y[i]) + dy * per_point
            boxes.append((x0, y0, x0 + width * per_point, y0 + height * per_point))
        free = [
            k
            for k, box in enumerate(boxes)
            if all(
                box[2] <= b[0] or b[2] <= box[0] or box[3] <= b[1] or b[3] <= box[1] for b in placed
            )
        ]
        k = free[0] if free else 0
        chosen[i] = tries[k]
        placed.append(boxes[k])
    return [chosen[i] for i in range(len(x))]


def plot_direct_vs_model(
    frame: pd.DataFrame,
    *,
    area: str = "area",
    per: str | None = None,
    percent: bool = False,
    ax: Axes | None = None,
    lang: Lang = "pl",
    source: str,
    year: int,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
) -> Axes:
    """Draw each area's model estimate against its direct estimate.

    Points on the diagonal kept their direct estimate; the model pulls noisy
    ones (small points: few respondents) towards the regression. Areas without
    a direct estimate are left out (their estimate is synthetic).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per area with ``direct``, ``estimate`` and ``n`` (e.g.
        :meth:`es_survey.FayHerriot.to_frame` of :func:`es_survey.small_area`).
    area : str, default "area"
        Column of area names, written next to the points.
    per : str, optional
        Column to divide both estimates by (e.g. ``"register"``: shares of the
        register, which spread small and large areas evenly).
    percent : bool, default False
        Label the axes in percent (with ``per`` giving shares).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    lang : {"pl", "en"}, default "pl"
        Language of labels and number style.
    source : str
        Data source, shown in the caption.
    year : int
        Survey year, shown in the caption.
    xlabel, ylabel : str, optional
        Axis labels (default: direct estimate, model estimate).
    title : str, optional
        Title.

    Returns
    -------
    matplotlib.axes.Axes
        The points are the collection with gid ``areas``; the diagonal is the
        line with gid ``diagonal``.

    Raises
    ------
    DataError
        For missing columns or values that are not numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"area": ["Kielce", "buski"], "direct": [42.5, 23.4],
    ...                   "estimate": [45.0, 22.7], "n": [18, 8]})
    >>> ax = plot_direct_vs_model(f, source="ROPS Kielce", year=2023)
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "label-buski"]
    ['buski']
    """
    lang = _check_lang(lang)
    _check_caption(source, year)
    numeric = ["direct", "estimate", "n", *([per] if per else [])]
    for col in (area, *numeric):
        if col not in frame.columns:
            raise DataError(f"plot_direct_vs_model: the frame has no column {col!r}")
    values = _numbers(frame, numeric, "plot_direct_vs_model")
    scale = values[per].to_numpy(dtype=float) if per else np.ones(len(values))
    keep = values["direct"].notna().to_numpy() & values["estimate"].notna().to_numpy()
    keep &= scale > 0
    x = values["direct"].to_numpy(dtype=float)[keep] / scale[keep]
    y = values["estimate"].to_numpy(dtype=float)[keep] / scale[keep]
    n = values["n"].to_numpy(dtype=float)[keep]
    names = frame[area].astype(str).to_numpy()[keep]
    t = _TEXT[lang]
    ax = _axes(ax, (6.0, 5.2))
    top = float(max(x.max(initial=0.0), y.max(initial=0.0))) * 1.08 or 1.0
    ax.plot([0, top], [0, top], color="#888888", linewidth=0.8, gid="diagonal", label=t["equal"])
    points = ax.scatter(
        x, y, s=12 + 6 * np.sqrt(np.clip(n, 0, None)), color=PALETTE[0], alpha=0.8, zorder=3
    )
    points.set_gid("areas")
    fontsize = _TEXT_SIZE - 1
    per_point = top / (72.0 * 4.2)  # data units per typographic point (4.2 in of axes)
    for (dx, dy), name, (xi, yi) in zip(
        _label_offsets(x, y, names, per_point, fontsize),
        names,
        zip(x, y, strict=True),
        strict=True,
    ):
        moved = (dx, dy) != (4.0, 2.0)  # a label away from its point gets a leader line
        ax.annotate(
            name,
            xy=(xi, yi),
            xytext=(dx * 1.6, dy) if moved else (dx, dy),
            textcoords="offset points",
            ha="left" if dx >= 0 else "right",
            va="center" if moved else "baseline",
            fontsize=fontsize,
            gid=f"label-{name}",
            arrowprops={"arrowstyle": "-", "color": "#999999", "linewidth": 0.5, "shrinkB": 3}
            if moved
            else None,
        )
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_aspect("equal")
    ax.xaxis.set_major_formatter(_NumberFormatter(lang, percent=percent))
    ax.yaxis.set_major_formatter(_NumberFormatter(lang, percent=percent))
    ax.set_xlabel(xlabel if xlabel is not None else t["direct"], fontsize=_TEXT_SIZE)
    ax.set_ylabel(ylabel if ylabel is not None else t["model"], fontsize=_TEXT_SIZE)
    if title:
        ax.set_title(title, fontsize=_TEXT_SIZE + 2, loc="left")
    size = Line2D([], [], linestyle="", marker="o", color=PALETTE[0], label=t["shrinkage"])
    diagonal = Line2D([], [], color="#888888", linewidth=0.8, label=t["equal"])
    ax.legend(handles=[diagonal, size], loc="lower right", fontsize=_TEXT_SIZE - 1, frameon=False)
    _style(ax, "y")
    _caption(ax, source, year, lang, offset=34)
    return ax


# ------------------------------------------------------------ sensitivity
def plot_sensitivity(
    frame: pd.DataFrame,
    *,
    ax: Axes | None = None,
    lang: Lang = "pl",
    source: str,
    year: int,
    reference: tuple[float, float, float] | None = None,
    reference_label: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
) -> Axes:
    """Draw an estimate and its interval at each value of a sensitivity parameter.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per value: ``delta``, ``estimate``, ``lower``, ``upper`` (e.g. one
        quantity of :func:`es_survey.delta_sensitivity`).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    lang : {"pl", "en"}, default "pl"
        Language of labels and number style.
    source : str
        Data source, shown in the caption.
    year : int
        Survey year, shown in the caption.
    reference : (float, float, float), optional
        An estimate and its interval to compare with (e.g. the two-phase estimate
        of a survey with a follow-up): a shaded band (gid ``reference``).
    reference_label : str, optional
        Its legend entry.
    xlabel, ylabel, title : str, optional
        Axis labels and title.

    Returns
    -------
    matplotlib.axes.Axes
        The dots are the line with gid ``estimates``, the intervals
        ``ax.containers[0]``; without a reference, the dashed line (gid ``main``)
        marks the estimate at the largest value (the main estimate, ``δ = 1``).

    Raises
    ------
    DataError
        For missing columns or values that are not numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"delta": [0.5, 1.0], "estimate": [223.0, 289.0],
    ...                   "lower": [198.0, 256.0], "upper": [249.0, 323.0]})
    >>> ax = plot_sensitivity(f, source="ROPS Kielce", year=2023)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['0,5', '1']
    """
    lang = _check_lang(lang)
    _check_caption(source, year)
    for col in ("delta", "estimate", "lower", "upper"):
        if col not in frame.columns:
            raise DataError(f"plot_sensitivity: the frame has no column {col!r}")
    values = _numbers(frame, ["delta", "estimate", "lower", "upper"], "plot_sensitivity")
    values = values.sort_values("delta")
    x = values["delta"].to_numpy(dtype=float)
    est = values["estimate"].to_numpy(dtype=float)
    lo, hi = values["lower"].to_numpy(dtype=float), values["upper"].to_numpy(dtype=float)
    ax = _axes(ax, (6.0, 3.6))
    if reference is None:  # the main estimate; with a reference, that is the main one
        ax.axhline(est[-1], color="#888888", linewidth=0.8, linestyle="--", gid="main")
    ax.errorbar(x, est, yerr=np.vstack([est - lo, hi - est]), fmt="none", ecolor=PALETTE[0],
                elinewidth=1.4, capsize=3)  # fmt: skip
    ax.plot(x, est, "o", color=PALETTE[0], markersize=5, gid="estimates")
    if reference is not None:
        r_est, r_lo, r_hi = (float(v) for v in reference)
        band = ax.axhspan(r_lo, r_hi, color=PALETTE[1], alpha=0.18, linewidth=0)
        band.set_gid("reference")
        ax.axhline(r_est, color=PALETTE[1], linewidth=1.2, label=reference_label)
        if reference_label:
            ax.legend(loc="lower right", fontsize=_TEXT_SIZE - 1, frameon=False)
    ax.set_xticks(x, [format_number(v, decimals=exact_decimals(v), lang=lang) for v in x])
    ax.yaxis.set_major_formatter(_NumberFormatter(lang))
    ax.set_ylim(bottom=0)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=_TEXT_SIZE)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=_TEXT_SIZE)
    if title:
        ax.set_title(title, fontsize=_TEXT_SIZE + 2, loc="left")
    _style(ax, "y")
    _caption(ax, source, year, lang, offset=34)
    return ax


# ------------------------------------------------------------------ saving
_METADATA: dict[str, dict[str, None]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
}


def _literal_text(fig: Figure) -> None:
    """Draw every text literally: a label from the data written like TeX is plain text.

    Matplotlib would parse ``$...$`` as mathematical notation (and fail on unknown
    commands); the charts print names from registers and questionnaires, never formulas.
    """
    for text in fig.findobj(Text):
        text.set_parse_math(False)


def save_figures(
    fig: Figure | Axes,
    paths: Sequence[str | Path],
    *,
    dpi: int = 150,
) -> list[Path]:
    """Save one figure to several files (e.g. PNG and SVG) with one layout.

    As :func:`save_figure`, but the layout is run once and frozen and the tight
    bounding box found once for all the files, so each file costs one drawing (a PNG
    and an SVG of a report figure: 4 drawings instead of 8).

    Parameters
    ----------
    fig : matplotlib.figure.Figure or matplotlib.axes.Axes
        The figure (or an Axes of it).
    paths : sequence of str or pathlib.Path
        Output files, each ending ``.png``, ``.svg`` or ``.pdf``.
    dpi : int, default 150
        Resolution of PNG files.

    Returns
    -------
    list of pathlib.Path
        The paths written, in the order given.

    Raises
    ------
    DesignError
        For another suffix or a non-figure.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> fig = Figure(figsize=(2, 1))
    >>> _ = fig.add_subplot().plot([1, 2, 3], [2, 1, 3])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = save_figures(fig, [pathlib.Path(tmp) / "w.png", pathlib.Path(tmp) / "w.svg"])
    ...     [p.suffix for p in out]
    ['.png', '.svg']
    """
    if isinstance(fig, Axes):
        fig = fig.figure  # type: ignore[assignment]
    if not isinstance(fig, Figure):
        raise DesignError(f"fig must be a matplotlib Figure or Axes, got {type(fig).__name__}")
    outs = [Path(p) for p in paths]
    for out in outs:
        if out.suffix.lower().lstrip(".") not in _METADATA:
            raise DesignError(
                f"path={str(out)!r}: suffix {out.suffix!r} is not supported; use .png, .svg or .pdf"
            )
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    _literal_text(fig)
    engine = fig.get_layout_engine()
    if engine is not None:
        # one layout pass, then the layout is frozen: every file has the same geometry
        # (matplotlib itself lays a figure out once per drawing)
        fig.draw_without_rendering()
        fig.set_layout_engine(None)  # no engine (not a placeholder): savefig draws once
    try:
        with mpl.rc_context({"svg.hashsalt": "es_survey", "svg.fonttype": "path"}):
            renderer = FigureCanvasAgg(fig).get_renderer()
            box = fig.get_tightbbox(renderer).padded(0.1)
            for out in outs:
                fmt = out.suffix.lower().lstrip(".")
                fig.savefig(
                    out,
                    format=fmt,
                    dpi=dpi,
                    metadata=_METADATA[fmt],
                    bbox_inches=box,
                    facecolor="white",
                )
    finally:
        if engine is not None:
            fig.set_layout_engine(engine)
    return outs


def save_figure(
    fig: Figure | Axes,
    path: str | Path,
    *,
    dpi: int = 150,
) -> Path:
    """Save a figure so that the same figure gives byte-identical files.

    PNG, SVG and PDF (by the file suffix), as :func:`save_figures` with one file: the
    layout is run once and frozen (so a second save, or a figure built again from the
    same data, gives the same geometry); dates and software versions are left out of the file
    metadata; SVG element ids come from a fixed salt (``svg.hashsalt``, set only
    while saving); and the bounding box is tight so that the caption under the
    axes is kept.

    Parameters
    ----------
    fig : matplotlib.figure.Figure or matplotlib.axes.Axes
        The figure (or an Axes of it).
    path : str or pathlib.Path
        Output file, ending ``.png``, ``.svg`` or ``.pdf``.
    dpi : int, default 150
        Resolution of PNG files.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    DesignError
        For another suffix or a non-figure.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> fig = Figure(figsize=(2, 1))
    >>> _ = fig.add_subplot().plot([1, 2, 3], [2, 1, 3])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     a = save_figure(fig, pathlib.Path(tmp) / "w.svg").read_bytes()
    ...     b = save_figure(fig, pathlib.Path(tmp) / "w2.svg").read_bytes()
    >>> a == b
    True
    """
    return save_figures(fig, [path], dpi=dpi)[0]
