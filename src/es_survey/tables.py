"""Publication tables: number formatting, reliability flags and suppression.

Everything here is for *display*. Estimates stay full-precision floats
(:meth:`Estimate.to_frame`); this module turns them into the strings and flags a
regional report prints, and into a numeric twin (:func:`reliability_frame`) for
workbooks that keep numbers with number formats.

Formatting conventions
----------------------
========================  =====================  ====================
                          ``lang="pl"``          ``lang="en"``
========================  =====================  ====================
thousands separator       U+202F narrow no-break  ``,``
                          space (``1 234``)
decimal separator         ``,``                  ``.``
minus                     U+2212 (``−5``)        U+2212 (``−5``)
percent                   ``12,3%``              ``12.3%``
interval                  ``[1 200; 1 500]``     ``[1,200; 1,500]``
missing (NaN, None)       empty string           empty string
========================  =====================  ====================

* The thousands separator is U+202F NARROW NO-BREAK SPACE (``THIN_SPACE``): thin
  like the typographic thin space U+2009, but a number never breaks across lines
  in HTML. Every number from 1,000 up is grouped (the table convention of GUS
  publications, so that columns align), not only from 10,000 as in running text.
* Rounding is half away from zero on the shortest decimal form of the float
  (``0.125`` → ``0,13``; ``2.5`` → ``3``), as readers expect, not the banker's
  rounding of Python's ``format``. A value that rounds to zero has no sign.
* Missing values print as an empty string, not as a dash: in Polish statistical
  tables (GUS) "–" means "magnitude zero", so it must not stand for "unknown".
* Intervals use ``"; "`` in both languages: the comma is the decimal separator in
  Polish and the thousands separator in English.
* The percent sign follows the number without a space (PWN spelling rule).

Reliability
-----------
A row's precision class comes from its coefficient of variation
``cv = se / |estimate|`` and three configurable upper bounds (default 10%, 20%, 30%):

===============  =========================  ==============================
code             Polish label               rule
===============  =========================  ==============================
``good``         ``dobra``                  ``cv <= 0.10``
``acceptable``   ``akceptowalna``           ``0.10 < cv <= 0.20``
``caution``      ``niska``                  ``0.20 < cv <= 0.30``
``suppressed``   ``zbyt niska``             ``cv > 0.30``, cv unknown, or
                                            ``n < min_n``
===============  =========================  ==============================

A **zero estimate** has no CV. When its standard error is 0 (no sampled unit of
the domain has the characteristic) it is published as ``0`` and flagged ``good``;
it has no measurable sampling error, but readers should look at ``n``. A zero
estimate with a positive SE (a contrast, a mean of signed values) has an infinite
CV and is suppressed. CV rules are meant for totals, means and proportions of
non-negative quantities; a difference close to zero is always suppressed.

A suppressed row **never shows a number**: its estimate, interval, SE, CV and
design effect are all replaced by the marker (default ``"x"``, explained by the
footnote of :func:`reliability_footnote`); only ``n`` and ``df`` (facts about the
sample, not the estimate) remain.

References
----------
Statistics Canada (2017). *Survey Methods and Practices*, §7.3 and §11 (quality
indicators, CV-based release rules). GUS, *Objaśnienia znaków umownych* (the
conventional signs of Polish official tables).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd

from es_survey.errors import DataError, DesignError
from es_survey.result import Estimate

__all__ = [
    "DEFAULT_THRESHOLDS",
    "MINUS",
    "REGISTER_LABEL",
    "RELIABILITY_CODES",
    "RELIABILITY_LABELS",
    "STAGE_LABELS",
    "THIN_SPACE",
    "exact_decimals",
    "format_interval",
    "format_number",
    "format_percent",
    "polish_plural",
    "publication_table",
    "reliability",
    "reliability_footnote",
    "reliability_frame",
]

Lang = Literal["pl", "en"]

THIN_SPACE = "\u202f"
"""Thousands separator of Polish numbers: U+202F NARROW NO-BREAK SPACE."""
MINUS = "\u2212"
"""Minus sign of displayed numbers: U+2212 MINUS SIGN."""
DEFAULT_THRESHOLDS: tuple[float, float, float] = (0.10, 0.20, 0.30)
"""Upper CV bounds of the classes good, acceptable and caution."""
RELIABILITY_CODES: tuple[str, ...] = ("good", "acceptable", "caution", "suppressed", "no_data")
"""Reliability codes, from the most to the least precise; ``no_data``: no sampled unit."""
RELIABILITY_LABELS: dict[str, dict[str, str]] = {
    "pl": {
        "good": "dobra",
        "acceptable": "akceptowalna",
        "caution": "niska",
        "suppressed": "zbyt niska",
        "no_data": "brak danych",
    },
    "en": {
        "good": "good",
        "acceptable": "acceptable",
        "caution": "use with caution",
        "suppressed": "suppressed",
        "no_data": "no data",
    },
}
SYMBOL_SUPPRESSED = "."
"""Statistics Poland's sign for "no data, or not published for lack of reliability"."""
SYMBOL_ZERO = "–"
"""Statistics Poland's sign for a true zero (an exact 0, not a rounded one)."""
"""Display labels of the reliability codes, by language."""
REGISTER_LABEL: dict[str, str] = {"pl": "z rejestru", "en": "register count"}
"""Label of a count taken from the register (exact: no interval, no CV), by language."""

_STATISTICS = {
    "pl": {
        "total": "suma",
        "mean": "średnia",
        "ratio": "iloraz",
        "proportion": "odsetek",
        "quantile": "kwantyl",
        "contrast": "kontrast",
    },
    "en": {
        "total": "total",
        "mean": "mean",
        "ratio": "ratio",
        "proportion": "proportion",
        "quantile": "quantile",
        "contrast": "contrast",
    },
}
_HEADERS = {
    "pl": {
        "variable": "Zmienna",
        "category": "Kategoria",
        "statistic": "Statystyka",
        "estimate": "Szacunek",
        "se": "Błąd standardowy",
        "interval": "Przedział ufności {level}",
        "lower": "Dolna granica {level}",
        "upper": "Górna granica {level}",
        "cv": "CV",
        "deff": "Efekt schematu (deff)",
        "df": "Stopnie swobody",
        "n": "n",
        "reliability": "Precyzja",
    },
    "en": {
        "variable": "Variable",
        "category": "Category",
        "statistic": "Statistic",
        "estimate": "Estimate",
        "se": "Standard error",
        "interval": "{level} confidence interval",
        "lower": "Lower {level} limit",
        "upper": "Upper {level} limit",
        "cv": "CV",
        "deff": "Design effect (deff)",
        "df": "Degrees of freedom",
        "n": "n",
        "reliability": "Reliability",
    },
}
_DEFAULT_DECIMALS = {
    "total": 0,
    "mean": 1,
    "ratio": 2,
    "proportion": 1,
    "quantile": 1,
    "contrast": 1,
}
_LABEL_COLUMNS = ("variable", "category", "statistic", "source")
_NUMERIC_COLUMNS = ("estimate", "se", "lower", "upper", "level", "cv", "deff", "df", "n")
_REQUIRED = ("estimate", "lower", "upper", "cv", "n")
_TABLE_COLUMNS = (
    "estimate",
    "se",
    "interval",
    "lower",
    "upper",
    "cv",
    "deff",
    "df",
    "n",
    "reliability",
)
_DEFAULT_TABLE_COLUMNS = ("estimate", "interval", "cv", "n", "reliability")
_HIDDEN_WHEN_SUPPRESSED = ("estimate", "se", "interval", "lower", "upper", "cv", "deff")
_CONTEXT = Context(prec=400)  # exact for every finite float


# ----------------------------------------------------------------- validation
def _check_lang(lang: object) -> Lang:
    if lang not in ("pl", "en"):
        raise DesignError(f"lang={lang!r} is not supported; use 'pl' or 'en'")
    return lang


def _check_decimals(decimals: object, name: str = "decimals") -> int:
    if isinstance(decimals, bool) or not isinstance(decimals, int | np.integer) or decimals < 0:
        raise DesignError(f"{name}={decimals!r} must be a non-negative integer, e.g. 0 or 1")
    return int(decimals)


def _check_thresholds(thresholds: object) -> tuple[float, float, float]:
    message = (
        f"thresholds={thresholds!r} must be three increasing positive numbers (the upper "
        "CV bounds of good, acceptable and caution), e.g. (0.10, 0.20, 0.30)"
    )
    try:
        values = tuple(float(t) for t in thresholds)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise DesignError(message) from None
    if (
        len(values) != 3
        or not all(math.isfinite(t) and t > 0 for t in values)
        or not values[0] < values[1] < values[2]
    ):
        raise DesignError(message)
    return values


def _check_min_n(min_n: object) -> int:
    if isinstance(min_n, bool) or not isinstance(min_n, int | np.integer) or min_n < 0:
        raise DesignError(f"min_n={min_n!r} must be a non-negative integer (0 = no minimum)")
    return int(min_n)


def _scalar(x: object, name: str) -> float | None:
    """Return ``x`` as a float, or None when it is missing."""
    if x is None or x is pd.NA or x is pd.NaT:
        return None
    if isinstance(x, bool | np.bool_) or isinstance(x, str | bytes):
        raise DesignError(f"{name}={x!r} is not a number; expected an int or a float")
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DesignError(f"{name}={x!r} is not a number; expected an int or a float") from None
    return None if math.isnan(value) else value


# ----------------------------------------------------------------- Polish plurals
_Form = TypeVar("_Form")


def polish_plural(
    count: float, one: _Form, few: _Form, many: _Form, fraction: _Form | None = None
) -> _Form:
    """Choose the Polish form of a noun (or phrase) that follows a count.

    Polish has three forms after whole numbers: 1 *podmiot*; 2–4, 22–24, 32–34, …
    *podmioty* (but 12–14 *podmiotów*); 0, 5–21, 25–31, … *podmiotów*. A count that is
    not whole takes the genitive singular: 2,5 *podmiotu*.

    Parameters
    ----------
    count : float
        The number the noun follows (its absolute value decides).
    one, few, many : str or any object
        The forms after 1, after 2–4 (not 12–14) in the last digits, and otherwise;
        e.g. a (verb, noun) pair when the verb agrees too.
    fraction : str or any object, optional
        The form after a count that is not whole; required for such a count.

    Returns
    -------
    str or any object
        The form for ``count``.

    Raises
    ------
    DesignError
        If ``count`` is not a finite number, or is not whole and ``fraction`` is missing.

    Examples
    --------
    >>> forms = ("podmiot", "podmioty", "podmiotów", "podmiotu")
    >>> [f"{n} {polish_plural(n, *forms)}" for n in (1, 3, 12, 22, 25)]
    ['1 podmiot', '3 podmioty', '12 podmiotów', '22 podmioty', '25 podmiotów']
    >>> polish_plural(2.5, *forms)
    'podmiotu'
    """
    if isinstance(count, bool) or not isinstance(count, int | float | np.integer | np.floating):
        raise DesignError(f"count={count!r} is not a number; expected an int or a float")
    if not math.isfinite(count):
        raise DesignError(f"count={count!r} is not a finite number")
    if count != int(count):
        if fraction is None:
            raise DesignError(
                f"count={count!r} is not whole: pass fraction= (the genitive singular, "
                "e.g. '2,5 podmiotu')"
            )
        return fraction
    n = abs(int(count))
    if n == 1:
        return one
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return few
    return many


# ----------------------------------------------------------------- formatting
def format_number(
    x: float | None, *, decimals: int = 0, lang: Lang = "pl", na_rep: str = ""
) -> str:
    """Format a number for display, in Polish or English style.

    Parameters
    ----------
    x : float or None
        The number. ``None``, NaN and ``pd.NA`` are missing.
    decimals : int, default 0
        Digits after the decimal separator (rounded half away from zero).
    lang : {"pl", "en"}, default "pl"
        ``"pl"``: ``1 234 567,9`` with U+202F NARROW NO-BREAK SPACE between
        groups and a decimal comma; ``"en"``: ``1,234,567.9``. Both use the minus
        sign U+2212.
    na_rep : str, default ""
        Text of a missing value (empty: in GUS tables "–" means zero).

    Returns
    -------
    str
        The formatted number; ``"∞"`` / ``"−∞"`` for infinities.

    Raises
    ------
    DesignError
        If ``x`` is not a number, ``decimals`` is not a non-negative integer, or
        ``lang`` is unknown.

    Examples
    --------
    >>> format_number(1234567.891, decimals=1).replace(THIN_SPACE, " ")
    '1 234 567,9'
    >>> format_number(-1234.5, decimals=1, lang="en")
    '−1,234.5'
    >>> format_number(0.125, decimals=2), format_number(float("nan"))
    ('0,13', '')
    """
    lang = _check_lang(lang)
    decimals = _check_decimals(decimals)
    value = _scalar(x, "x")
    if value is None:
        return na_rep
    if math.isinf(value):
        return "∞" if value > 0 else MINUS + "∞"
    rounded = Decimal(repr(value)).quantize(
        Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP, context=_CONTEXT
    )
    text = format(abs(rounded), ",f")
    if lang == "pl":
        text = text.replace(",", THIN_SPACE).replace(".", ",")
    return MINUS + text if rounded < 0 else text


def format_percent(
    x: float | None, *, decimals: int = 1, lang: Lang = "pl", na_rep: str = ""
) -> str:
    """Format a proportion (0.123) as a percentage (``12,3%``).

    Parameters
    ----------
    x : float or None
        The proportion; 1 is 100%.
    decimals : int, default 1
        Digits after the decimal separator of the percentage.
    lang : {"pl", "en"}, default "pl"
        Number style, as in :func:`format_number`.
    na_rep : str, default ""
        Text of a missing value (no percent sign is added).

    Returns
    -------
    str
        The percentage, the sign directly after the number.

    Examples
    --------
    >>> format_percent(0.1234), format_percent(0.1234, lang="en")
    ('12,3%', '12.3%')
    >>> format_percent(None, na_rep="–")
    '–'
    """
    value = _scalar(x, "x")
    if value is None:
        _check_lang(lang)
        return na_rep
    return format_number(100.0 * value, decimals=decimals, lang=lang) + "%"


def format_interval(
    lower: float | None,
    upper: float | None,
    *,
    decimals: int = 0,
    lang: Lang = "pl",
    percent: bool = False,
    na_rep: str = "",
) -> str:
    """Format a confidence interval as ``[lower; upper]``.

    Parameters
    ----------
    lower, upper : float or None
        Interval ends.
    decimals : int, default 0
        Digits after the decimal separator.
    lang : {"pl", "en"}, default "pl"
        Number style, as in :func:`format_number`; the separator is ``"; "`` in
        both languages.
    percent : bool, default False
        Show the ends as percentages (the ends are proportions).
    na_rep : str, default ""
        Text returned when either end is missing.

    Returns
    -------
    str
        ``"[lower; upper]"``.

    Examples
    --------
    >>> format_interval(1200.4, 1534.6).replace(THIN_SPACE, " ")
    '[1 200; 1 535]'
    >>> format_interval(0.25, 0.5, decimals=1, percent=True, lang="en")
    '[25.0%; 50.0%]'
    """
    lo, hi = _scalar(lower, "lower"), _scalar(upper, "upper")
    if lo is None or hi is None:
        _check_lang(lang)
        return na_rep
    fmt = format_percent if percent else format_number
    return f"[{fmt(lo, decimals=decimals, lang=lang)}; {fmt(hi, decimals=decimals, lang=lang)}]"


# ---------------------------------------------------------------- reliability
def _as_float_array(values: object, name: str) -> np.ndarray:
    try:
        out = np.asarray(pd.to_numeric(pd.Series(values).astype(object)), dtype=float)
    except (TypeError, ValueError) as exc:
        raise DesignError(f"{name} must hold numbers: {exc}") from None
    return out


def _reliability_codes(
    cv: np.ndarray,
    estimate: np.ndarray | None,
    se: np.ndarray | None,
    n: np.ndarray | None,
    thresholds: tuple[float, float, float],
    min_n: int,
) -> np.ndarray:
    """Integer codes 0..3 (index into RELIABILITY_CODES)."""
    t1, t2, t3 = thresholds
    with np.errstate(invalid="ignore"):
        code = np.select([cv <= t1, cv <= t2, cv <= t3], [0, 1, 2], 3)
    if estimate is not None:
        exact_zero = (estimate == 0) & np.isnan(cv)
        if se is not None:
            exact_zero &= se == 0
        code = np.where(exact_zero, 0, code)
    if n is not None and min_n > 0:
        with np.errstate(invalid="ignore"):
            code = np.where(~(n >= min_n), 3, code)
    if n is not None:
        code = np.where(n == 0, 4, code)  # no sampled unit: no data, never "good"
    return code


def reliability(
    cv: Sequence[float] | np.ndarray | pd.Series,
    *,
    estimate: Sequence[float] | np.ndarray | pd.Series | None = None,
    se: Sequence[float] | np.ndarray | pd.Series | None = None,
    n: Sequence[float] | np.ndarray | pd.Series | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    min_n: int = 0,
    lang: Lang | None = None,
) -> pd.Series:
    """Classify estimates by precision: good, acceptable, caution, suppressed, no data.

    With thresholds ``(t1, t2, t3)``: ``cv <= t1`` good, ``<= t2`` acceptable,
    ``<= t3`` caution; above ``t3``, a missing CV, or fewer than ``min_n`` sample
    rows: suppressed. A zero estimate (CV undefined) with zero (or unknown)
    standard error is ``good`` and is published as 0 (from at least ``min_n``
    rows); with a positive SE it is suppressed. A row with ``n = 0`` (no sampled
    unit with the answer behind it) is ``no_data`` whatever its numbers: never
    ``good``.

    Parameters
    ----------
    cv : array-like of float
        Coefficients of variation (``se / |estimate|``; 0.1 is 10%).
    estimate : array-like of float, optional
        The estimates; needed to recognise zero estimates.
    se : array-like of float, optional
        Standard errors; a zero estimate is publishable only with SE 0 (or
        when ``se`` is not given).
    n : array-like of int, optional
        Unweighted sample sizes, compared with ``min_n``.
    thresholds : sequence of three floats, default (0.10, 0.20, 0.30)
        Increasing upper CV bounds of good, acceptable and caution.
    min_n : int, default 0
        Rows with ``n < min_n`` are suppressed whatever their CV (0: no minimum).
    lang : {"pl", "en"}, optional
        None (default) returns the codes of ``RELIABILITY_CODES``; ``"pl"`` or
        ``"en"`` returns the display labels of ``RELIABILITY_LABELS``.

    Returns
    -------
    pandas.Series
        Ordered categorical (most to least precise), the index of ``cv`` when it
        is a Series.

    Raises
    ------
    DesignError
        For bad thresholds, ``min_n``, ``lang``, non-numeric input, or inputs of
        different lengths.

    Examples
    --------
    >>> reliability([0.05, 0.15, 0.25, 0.35, float("nan")]).tolist()
    ['good', 'acceptable', 'caution', 'suppressed', 'suppressed']
    >>> reliability([0.15], thresholds=(0.05, 0.1, 0.2), lang="pl").tolist()
    ['niska']
    >>> reliability([float("nan")], estimate=[0.0], se=[0.0]).tolist()
    ['good']
    >>> reliability([float("nan"), float("nan")], estimate=[0.0, 0.0], se=[0.0, 0.0],
    ...             n=[0, 2], min_n=5).tolist()
    ['no_data', 'suppressed']
    """
    limits = _check_thresholds(thresholds)
    min_n = _check_min_n(min_n)
    if lang is not None:
        _check_lang(lang)
    values = _as_float_array(cv, "cv")
    others = {}
    for name, arg in (("estimate", estimate), ("se", se), ("n", n)):
        if arg is not None:
            arr = _as_float_array(arg, name)
            if arr.shape != values.shape:
                raise DesignError(
                    f"{name} has {arr.size} values but cv has {values.size}; give one per row"
                )
            others[name] = arr
    code = _reliability_codes(
        values, others.get("estimate"), others.get("se"), others.get("n"), limits, min_n
    )
    names = (
        list(RELIABILITY_CODES)
        if lang is None
        else [RELIABILITY_LABELS[lang][c] for c in RELIABILITY_CODES]
    )
    index = cv.index if isinstance(cv, pd.Series) else None
    cat = pd.Categorical.from_codes(code, categories=pd.Index(names), ordered=True)
    return pd.Series(cat, index=index, name="reliability")


def reliability_footnote(
    *,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    lang: Lang = "pl",
    marker: str = SYMBOL_SUPPRESSED,
    min_n: int = 0,
) -> str:
    """Footnote explaining the reliability classes and the suppression marker.

    Parameters
    ----------
    thresholds : sequence of three floats, default (0.10, 0.20, 0.30)
        The CV bounds used (see :func:`reliability`).
    lang : {"pl", "en"}, default "pl"
        Language of the text.
    marker : str, default "x"
        The sign that replaces a suppressed number.
    min_n : int, default 0
        The minimum sample size used, if any.

    Returns
    -------
    str
        One paragraph of text.

    Examples
    --------
    >>> print(reliability_footnote(lang="en"))
    Reliability by the coefficient of variation (CV): good CV ≤ 10%; acceptable CV ≤ 20%; use with caution CV ≤ 30%. An estimate is not published when its CV exceeds 30% or cannot be computed; “no data”: no sampled unit of the domain gave the answer. Symbols: – magnitude zero; . no data or estimate not published.
    """  # noqa: E501
    t1, t2, t3 = _check_thresholds(thresholds)
    lang = _check_lang(lang)
    min_n = _check_min_n(min_n)
    pct = [format_percent(t, decimals=_pct_decimals(t), lang=lang) for t in (t1, t2, t3)]
    lab = RELIABILITY_LABELS[lang]
    if lang == "pl":
        text = (
            f"Precyzja według współczynnika zmienności (CV): {lab['good']} CV ≤ {pct[0]}; "
            f"{lab['acceptable']} CV ≤ {pct[1]}; {lab['caution']} (szacunek do użytku z "
            f"ostrożnością) CV ≤ {pct[2]}. Szacunku nie publikuje się, gdy CV przekracza "
            f"{pct[2]} lub nie da się go obliczyć"
        )
        if min_n:
            text += f", a także gdy próba w przekroju jest mniejsza niż {min_n}"
        text += (
            f"; „{lab['no_data']}” oznacza, że w przekroju nie ma żadnej odpowiedzi, z której "
            "można by szacować. "
            f"Znaki umowne: {SYMBOL_ZERO} — zjawisko nie wystąpiło; {marker} — brak danych "
            "lub szacunek niepublikowany"
        )
    else:
        text = (
            f"Reliability by the coefficient of variation (CV): {lab['good']} CV ≤ {pct[0]}; "
            f"{lab['acceptable']} CV ≤ {pct[1]}; {lab['caution']} CV ≤ {pct[2]}. An "
            f"estimate is not published when its CV exceeds {pct[2]} or cannot be computed"
        )
        if min_n:
            text += f", or when the domain's sample is smaller than {min_n}"
        text += (
            f"; “{lab['no_data']}”: no sampled unit of the domain gave the answer. Symbols: "
            f"{SYMBOL_ZERO} magnitude zero; {marker} no data or estimate not published"
        )
    return text + "."


def exact_decimals(value: float, most: int = 3) -> int:
    """Fewest decimals (at most ``most``) that show ``value`` exactly.

    Examples
    --------
    >>> exact_decimals(0.625), exact_decimals(1.0), exact_decimals(1 / 3)
    (3, 0, 3)
    """
    for d in range(most + 1):
        if abs(round(value, d) - value) < 1e-9:
            return d
    return most


def _pct_decimals(t: float) -> int:
    """Fewest decimals (0-2) that show ``100 * t`` exactly."""
    return exact_decimals(100 * t, 2)


#: Reader's names of the funnel stages (tables, charts and the report).
STAGE_LABELS: dict[str, dict[str, str]] = {
    "pl": {
        "registered": "w rejestrze",
        "eligible": "kwalifikujące się",
        "active": "aktywne",
        "earning": "prowadzące działalność zarobkową",
        "employing": "zatrudniające na umowę o pracę",
    },
    "en": {
        "registered": "registered",
        "eligible": "eligible",
        "active": "active",
        "earning": "earning",
        "employing": "employing (employment contract)",
    },
}


# ------------------------------------------------------------------- frames
def _as_frame(est: Estimate | pd.DataFrame, level: float | None) -> pd.DataFrame:
    """Return the tidy numeric frame of an Estimate or a validated copy of a frame."""
    if isinstance(est, Estimate):
        return est.to_frame(level)
    if not isinstance(est, pd.DataFrame):
        raise DesignError(
            f"expected an Estimate or its to_frame() DataFrame, got {type(est).__name__}"
        )
    if level is not None:
        raise DesignError(
            "level= recomputes intervals and needs an Estimate; a DataFrame's intervals are "
            "fixed (call est.to_frame(level) instead)"
        )
    missing = [c for c in _REQUIRED if c not in est.columns]
    if missing:
        raise DataError(
            f"estimate table: column(s) {missing} missing; expected the columns of "
            f"Estimate.to_frame() ({', '.join(_REQUIRED)} at least)"
        )
    frame = est.reset_index(drop=True).copy()
    for col in _NUMERIC_COLUMNS:
        if col not in frame.columns:
            continue
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() & frame[col].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"estimate table, row {row}, column {col!r}: value {frame[col].iloc[row]!r} "
                "is not a number"
            )
        frame[col] = values.astype(float)
    with np.errstate(invalid="ignore"):
        if (frame["cv"] < 0).any():
            row = int(np.flatnonzero((frame["cv"] < 0).to_numpy())[0])
            raise DataError(
                f"estimate table, row {row}, column 'cv': value {float(frame['cv'].iloc[row]):g} "
                "is negative; a coefficient of variation is se / |estimate| >= 0"
            )
    return frame


def _by_columns(frame: pd.DataFrame) -> list[str]:
    fixed = set(_LABEL_COLUMNS) | set(_NUMERIC_COLUMNS)
    return [c for c in frame.columns if c not in fixed]


def _codes_of(frame: pd.DataFrame, thresholds: Sequence[float], min_n: int) -> np.ndarray:
    limits = _check_thresholds(thresholds)
    min_n = _check_min_n(min_n)
    se = frame["se"].to_numpy(dtype=float) if "se" in frame.columns else None
    code = _reliability_codes(
        frame["cv"].to_numpy(dtype=float),
        frame["estimate"].to_numpy(dtype=float),
        se,
        frame["n"].to_numpy(dtype=float),
        limits,
        min_n,
    )
    return np.where(_register_rows(frame), 0, code)  # the register's counts are exact


def reliability_frame(
    est: Estimate | pd.DataFrame,
    *,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    min_n: int = 0,
    level: float | None = None,
    lang: Lang = "pl",
    suppress: bool = True,
) -> pd.DataFrame:
    """Numeric publication table: the estimates with reliability flags.

    The twin of :func:`publication_table` for workbooks: numbers stay numbers
    (a writer applies number formats), and suppressed rows carry no number.

    Parameters
    ----------
    est : Estimate or pandas.DataFrame
        An :class:`~es_survey.Estimate` or a frame with the columns of
        :meth:`Estimate.to_frame` (at least ``estimate, lower, upper, cv, n``).
    thresholds : sequence of three floats, default (0.10, 0.20, 0.30)
        CV bounds of :func:`reliability`.
    min_n : int, default 0
        Minimum unweighted sample size of a published row.
    level : float, optional
        Confidence level (only with an Estimate; its own level by default).
    lang : {"pl", "en"}, default "pl"
        Language of ``reliability_label``.
    suppress : bool, default True
        Blank (NaN) the ``estimate, se, lower, upper, cv, deff`` of suppressed
        rows. ``False`` keeps them (for internal review, never for publication).

    Returns
    -------
    pandas.DataFrame
        The input columns (full precision), then ``reliability`` (ordered
        categorical code), ``reliability_label`` (text in ``lang``) and
        ``suppressed`` (bool).

    Raises
    ------
    DataError
        If required columns are missing or hold non-numbers.
    DesignError
        For bad ``thresholds``, ``min_n``, ``lang`` or ``level``.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"powiat": ["a", "b"], "estimate": [120.0, 8.0],
    ...                   "lower": [100.0, 1.0], "upper": [140.0, 15.0],
    ...                   "cv": [0.08, 0.45], "n": [40, 6]})
    >>> reliability_frame(f)[["powiat", "estimate", "reliability", "suppressed"]]
      powiat  estimate reliability  suppressed
    0      a     120.0        good       False
    1      b       NaN  suppressed        True
    """
    lang = _check_lang(lang)
    frame = _as_frame(est, level)
    code = _codes_of(frame, thresholds, min_n)
    suppressed = code >= 3
    if suppress:
        for col in ("estimate", "se", "lower", "upper", "cv", "deff"):
            if col in frame.columns:
                frame[col] = frame[col].astype(float).where(~suppressed)
    frame["reliability"] = pd.Categorical.from_codes(
        code, categories=pd.Index(list(RELIABILITY_CODES)), ordered=True
    )
    labels = np.array([RELIABILITY_LABELS[lang][c] for c in RELIABILITY_CODES], dtype=object)
    frame["reliability_label"] = np.where(_register_rows(frame), REGISTER_LABEL[lang], labels[code])
    frame["suppressed"] = suppressed
    return frame


def _register_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows that are the register's own counts (``source == "register"``)."""
    if "source" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return (frame["source"].astype(str) == "register").to_numpy()


def _decimals_per_row(statistic: pd.Series, decimals: int | Mapping[str, int] | None) -> np.ndarray:
    if decimals is None or isinstance(decimals, Mapping):
        table = dict(_DEFAULT_DECIMALS)
        if isinstance(decimals, Mapping):
            for key, value in decimals.items():
                table[str(key)] = _check_decimals(value, f"decimals[{key!r}]")
        return np.array([table.get(str(s), 1) for s in statistic], dtype=int)
    return np.full(len(statistic), _check_decimals(decimals), dtype=int)


def publication_table(
    est: Estimate | pd.DataFrame,
    *,
    lang: Lang = "pl",
    decimals: int | Mapping[str, int] | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    columns: Sequence[str] | None = None,
    marker: str = SYMBOL_SUPPRESSED,
    min_n: int = 0,
    level: float | None = None,
    percent: bool | None = None,
) -> pd.DataFrame:
    """Display table of estimates: formatted numbers, intervals, CV and flags.

    Parameters
    ----------
    est : Estimate or pandas.DataFrame
        An :class:`~es_survey.Estimate` or a frame with the columns of
        :meth:`Estimate.to_frame` (at least ``estimate, lower, upper, cv, n``).
    lang : {"pl", "en"}, default "pl"
        Number style and labels (see the module notes).
    decimals : int or mapping, optional
        Decimals of estimate, SE and interval: one int for every row, or a
        mapping ``statistic -> int``. Default by statistic: total 0, mean 1,
        ratio 2, proportion 1 (percentage points), quantile 1, other 1.
    thresholds : sequence of three floats, default (0.10, 0.20, 0.30)
        CV bounds of :func:`reliability`.
    columns : sequence of str, optional
        Value columns to show, in order, from ``estimate, se, interval, lower,
        upper, cv, deff, df, n, reliability``; default ``estimate, interval,
        cv, n, reliability``.
    marker : str, default "x"
        Text of a suppressed cell; it must contain no digit.
    min_n : int, default 0
        Minimum unweighted sample size of a published row.
    level : float, optional
        Confidence level (only with an Estimate).
    percent : bool, optional
        Show estimate, SE and interval as percentages: None (default) does so
        for ``proportion`` rows only.

    Returns
    -------
    pandas.DataFrame
        Strings only. The label columns (domain columns, ``variable``,
        ``category`` unless all empty, ``statistic`` in ``lang``) followed by
        ``columns``. Suppressed rows show ``marker`` in ``estimate, se,
        interval, lower, upper, cv, deff``. ``attrs["headers"]`` maps each
        column to its header in ``lang``; ``attrs["footnote"]`` is the text of
        :func:`reliability_footnote`.

    Raises
    ------
    DataError
        If required columns are missing or hold non-numbers.
    DesignError
        For an unknown column, a marker with digits, or bad options.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"powiat": ["a", "b"], "variable": "workers",
    ...                   "statistic": "total", "estimate": [1234.4, 8.0],
    ...                   "lower": [1000.0, 1.0], "upper": [1468.8, 15.0],
    ...                   "cv": [0.0951, 0.45], "n": [40, 6]})
    >>> t = publication_table(f).map(lambda s: s.replace(THIN_SPACE, " "))
    >>> t[["powiat", "estimate", "interval", "cv", "reliability"]]
      powiat estimate         interval    cv   reliability
    0      a    1 234  [1 000; 1 469]  9,5%         dobra
    1      b        .                .     .    zbyt niska
    """
    lang = _check_lang(lang)
    if any(ch.isdigit() for ch in str(marker)):
        raise DesignError(f"marker={marker!r} contains a digit; a suppressed cell shows no number")
    if isinstance(columns, str):
        raise DesignError(f"columns={columns!r} must be a list of names, e.g. [{columns!r}]")
    wanted = list(_DEFAULT_TABLE_COLUMNS if columns is None else columns)
    unknown = [c for c in wanted if c not in _TABLE_COLUMNS]
    if unknown:
        raise DesignError(
            f"columns={columns!r}: unknown column(s) {unknown}; choose from {list(_TABLE_COLUMNS)}"
        )
    frame = _as_frame(est, level)
    absent = [c for c in wanted if c in ("se", "deff", "df") and c not in frame.columns]
    if absent:
        raise DataError(
            f"estimate table: column(s) {absent} missing but columns= asks for them; add "
            "them or leave them out of columns="
        )
    code = _codes_of(frame, thresholds, min_n)
    rows = len(frame)
    statistic = (
        frame["statistic"].astype(str)
        if "statistic" in frame.columns
        else pd.Series(["total"] * rows)
    )
    digits = _decimals_per_row(statistic, decimals)
    as_pct = (
        (statistic == "proportion").to_numpy() if percent is None else np.full(rows, bool(percent))
    )

    def value(x: float, i: int) -> str:
        if as_pct[i]:
            return format_percent(x, decimals=int(digits[i]), lang=lang)
        return format_number(x, decimals=int(digits[i]), lang=lang)

    out = pd.DataFrame(index=range(rows))
    for col in _by_columns(frame):
        out[col] = frame[col].astype(str).to_numpy()
    if "variable" in frame.columns:
        out["variable"] = frame["variable"].astype(str).to_numpy()
    if "category" in frame.columns and (frame["category"].astype(str) != "").any():
        out["category"] = frame["category"].astype(str).to_numpy()
    if "statistic" in frame.columns:
        names = _STATISTICS[lang]
        out["statistic"] = [names.get(s, s) for s in statistic]
    labels = [RELIABILITY_LABELS[lang][c] for c in RELIABILITY_CODES]
    cells: dict[str, list[str]] = {c: [] for c in wanted}
    register = _register_rows(frame)
    est_values = frame["estimate"].to_numpy(dtype=float)
    se_values = frame["se"].to_numpy(dtype=float) if "se" in frame.columns else np.zeros(rows)
    true_zero = (est_values == 0) & (se_values == 0) & (code == 0)
    for i, rec in enumerate(frame.to_dict("records")):
        for col in wanted:
            exact = register[i] or true_zero[i]
            if exact and col in ("interval", "lower", "upper", "se", "cv", "deff"):
                cells[col].append("")  # an exact count or a true zero: nothing to qualify
            elif register[i] and col == "reliability":
                cells[col].append(REGISTER_LABEL[lang])
            elif true_zero[i] and col == "estimate":
                cells[col].append(SYMBOL_ZERO)  # Statistics Poland's sign of a true zero
            else:
                cells[col].append(_cell(col, rec, i, value, lang, labels[code[i]]))
    for col in wanted:
        out[col] = cells[col]
    hidden = [c for c in wanted if c in _HIDDEN_WHEN_SUPPRESSED]
    out.loc[code >= 3, hidden] = marker
    out.attrs["headers"] = _headers(out.columns, frame, lang)
    out.attrs["footnote"] = reliability_footnote(
        thresholds=thresholds, lang=lang, marker=marker, min_n=min_n
    )
    return out


def _cell(
    col: str,
    rec: Mapping[Hashable, Any],
    i: int,
    value: Any,
    lang: Lang,
    label: str,
) -> str:
    if col == "interval":
        lo, hi = rec["lower"], rec["upper"]
        if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (lo, hi)):
            return ""
        return f"[{value(lo, i)}; {value(hi, i)}]"
    if col == "cv":
        return format_percent(rec["cv"], decimals=1, lang=lang)
    if col == "n":
        return format_number(rec["n"], decimals=0, lang=lang)
    if col == "reliability":
        return label
    if col in ("deff", "df"):
        return format_number(rec[col], decimals=2 if col == "deff" else 0, lang=lang)
    return value(rec[col], i)


def _headers(columns: pd.Index, frame: pd.DataFrame, lang: Lang) -> dict[str, str]:
    levels: list[Any] = list(frame["level"].dropna().unique()) if "level" in frame.columns else []
    if len(levels) == 1:
        level = format_percent(
            float(levels[0]), decimals=_pct_decimals(float(levels[0])), lang=lang
        )
    else:
        level = ""
    heads = _HEADERS[lang]
    out = {}
    for col in columns:
        text = heads.get(col, col).format(level=level)
        out[col] = " ".join(text.split())
    return out
