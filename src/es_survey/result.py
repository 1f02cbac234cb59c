"""The :class:`Estimate` result: numbers only, frozen, picklable, comparable.

An estimate holds what it prints and nothing that could change it: the label
table, the point estimates, standard errors, degrees of freedom, design effects
and row counts, the name of its interval method with the few numbers that
method needs (the logit-scale SE of a proportion, the weighted CDF behind a
Woodruff interval), and the covariance matrix of its rows. No closure, no
reference to the design or its data: an estimate can be pickled, cached, sent
to a worker process and compared with ``==``.

Intervals are recomputed from those numbers at any level (``confint``,
``to_frame(level=...)``):

========== ===============================================================
method     interval at level ``1 - a`` (``t``: t quantile on ``df``)
========== ===============================================================
wald       ``est -/+ t se``
log        ``exp(log est -/+ t se / est)`` (NaN when ``est <= 0``)
logit      ``expit(eta -/+ t se_eta)``, ``eta = logit(p)``; ``se_eta =
           se / (p (1 - p))`` by linearisation, the replicate SE of
           ``logit(p_r)`` on a replicate design
beta       Korn-Graubard (Clopper-Pearson on the effective sample size)
wilson     Wilson score interval on the effective sample size
woodruff   the t interval of the CDF at the quantile, mapped back through the
           weighted CDF (kept as its distinct values and cumulative weights)
========== ===============================================================

A proportion of exactly 0 or 1 with SE 0 has the interval ``[p, p]`` for every
method (the data contain no evidence of variation; R's ``svyciprop`` gives the
same for the logit method).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import FrozenInstanceError
from typing import Any

import numpy as np
import pandas as pd

from es_survey.errors import DesignError

__all__ = ["INTERVALS", "Estimate"]

COLUMNS = (
    "variable",
    "category",
    "statistic",
    "estimate",
    "se",
    "lower",
    "upper",
    "level",
    "cv",
    "deff",
    "df",
    "n",
)
FUNNEL_COLUMNS = (
    "stage",
    "estimate",
    "se",
    "lower",
    "upper",
    "level",
    "cv",
    "df",
    "n",
    "source",
)
INTERVALS = ("wald", "log", "logit", "beta", "wilson", "woodruff")
_ARRAYS = ("estimate", "se", "df", "deff", "n")
_MAX_VCOV_ROWS = 2000  # rows of an estimate whose covariance matrix is kept (32 MB)


def _readonly(values: Any, dtype: type = float) -> np.ndarray:
    out: np.ndarray = np.array(values, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a_arr, b_arr = np.asarray(a), np.asarray(b)
        if a_arr.shape != b_arr.shape:
            return False
        if a_arr.dtype.kind == "f" or b_arr.dtype.kind == "f":
            return bool(np.array_equal(a_arr, b_arr, equal_nan=True))
        return bool(np.array_equal(a_arr, b_arr))
    return a == b


class Estimate:
    """An immutable table of survey estimates with their uncertainty.

    One row per (domain, variable, category). Numbers are kept at full precision;
    rounding happens only when the estimate is printed. Built by the estimators
    (:meth:`SurveyDesign.total <es_survey.SurveyDesign.total>` and the others,
    :func:`~es_survey.sector_funnel`); users read it, they do not build it.

    Parameters
    ----------
    labels : pandas.DataFrame
        Label columns ``[*by, variable, category, statistic]``, one row per estimate.
    estimate, se, df, deff, n : array-like
        Point estimate, standard error, degrees of freedom, design effect and
        unweighted number of rows of each row.
    level : float
        Default confidence level of the intervals.
    by : tuple of str
        Names of the domain columns.
    interval : str
        Interval method, one of ``INTERVALS`` (see the module docstring).
    extras : mapping of str to array, optional
        Numbers the interval method needs: ``se_eta`` (logit), ``n_rows``
        (beta), ``p_hat``, ``p_se``, ``cdf_x``, ``cdf_w``, ``cdf_start``,
        ``cdf_stop``, ``cdf_total`` (woodruff).
    vcov : numpy.ndarray, optional
        Covariance matrix of the rows; None when the estimator has none
        (quantiles) or when it was too large to keep (see ``vcov_note``).
    vcov_note : str
        Why ``vcov`` is None, shown by :meth:`vcov`.
    contrast_df : float
        Degrees of freedom of contrasts (the design's).

    Examples
    --------
    >>> import pickle
    >>> import pandas as pd
    >>> import es_survey as es
    >>> df = pd.DataFrame({"h": ["a", "a", "b", "b"], "y": [1.0, 3.0, 2.0, 6.0],
    ...                    "w": [2.0, 2.0, 3.0, 3.0]})
    >>> est = es.SurveyDesign(df, weights="w", strata="h").total("y", by="h")
    >>> est.to_frame()[["h", "estimate", "se", "df"]]
       h  estimate    se   df
    0  a       8.0   4.0  1.0
    1  b      24.0  12.0  1.0
    >>> float(est.contrast({"b": 1, "a": -1}).to_frame()["estimate"].iloc[0])
    16.0
    >>> pickle.loads(pickle.dumps(est)) == est
    True
    """

    __slots__ = (
        "_by",
        "_contrast_df",
        "_deff",
        "_df",
        "_estimate",
        "_extras",
        "_interval",
        "_labels",
        "_level",
        "_n",
        "_se",
        "_vcov",
        "_vcov_note",
    )
    _labels: pd.DataFrame
    _estimate: np.ndarray
    _se: np.ndarray
    _df: np.ndarray
    _deff: np.ndarray
    _n: np.ndarray
    _level: float
    _by: tuple[str, ...]
    _interval: str
    _extras: dict[str, np.ndarray]
    _vcov: np.ndarray | None
    _vcov_note: str
    _contrast_df: float

    def __init__(
        self,
        labels: pd.DataFrame,
        estimate: Any,
        se: Any,
        df: Any,
        deff: Any,
        n: Any,
        level: float,
        by: Sequence[str] = (),
        interval: str = "wald",
        extras: Mapping[str, Any] | None = None,
        vcov: np.ndarray | None = None,
        vcov_note: str = "",
        contrast_df: float = np.nan,
    ) -> None:
        _check_level(level)
        if interval not in INTERVALS:
            raise DesignError(f"interval={interval!r} is not a method; use one of {INTERVALS}")
        values: dict[str, Any] = {
            "_labels": labels.reset_index(drop=True).copy(),
            "_level": float(level),
            "_by": tuple(str(b) for b in by),
            "_interval": interval,
            "_extras": {
                str(k): _readonly(v, np.asarray(v).dtype.type) for k, v in (extras or {}).items()
            },
            "_vcov": None if vcov is None else _readonly(vcov),
            "_vcov_note": str(vcov_note),
            "_contrast_df": float(contrast_df),
        }
        for name in _ARRAYS:
            values["_" + name] = _readonly(locals()[name]).reshape(-1)
        for key, value in values.items():
            object.__setattr__(self, key, value)
        size = self._estimate.shape[0]
        if len(self._labels) != size or any(
            getattr(self, "_" + a).shape[0] != size for a in _ARRAYS
        ):
            raise DesignError("labels and numbers of an Estimate must have one row each")

    # ----------------------------------------------------------- immutability
    def __setattr__(self, name: str, value: Any) -> None:
        """Refuse assignment: an estimate is immutable."""
        raise FrozenInstanceError(f"Estimate is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        """Refuse deletion: an estimate is immutable."""
        raise FrozenInstanceError(f"Estimate is immutable; cannot delete {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle through the constructor (the copy is frozen again)."""
        return (_rebuild, (self._state(),))

    def _state(self) -> dict[str, Any]:
        return {
            "labels": self._labels,
            "estimate": self._estimate,
            "se": self._se,
            "df": self._df,
            "deff": self._deff,
            "n": self._n,
            "level": self._level,
            "by": self._by,
            "interval": self._interval,
            "extras": dict(self._extras),
            "vcov": self._vcov,
            "vcov_note": self._vcov_note,
            "contrast_df": self._contrast_df,
        }

    def __eq__(self, other: object) -> bool:
        """Two estimates are equal when every label, number and setting is (NaN == NaN)."""
        if not isinstance(other, Estimate):
            return NotImplemented
        a, b = self._state(), other._state()
        if not a["labels"].equals(b["labels"]) or list(a["labels"].columns) != list(
            b["labels"].columns
        ):
            return False
        if a["extras"].keys() != b["extras"].keys():
            return False
        if not all(_same(a["extras"][k], b["extras"][k]) for k in a["extras"]):
            return False
        if (a["vcov"] is None) != (b["vcov"] is None):
            return False
        keys = [k for k in a if k not in ("labels", "extras", "vcov")]
        if a["vcov"] is not None and not _same(a["vcov"], b["vcov"]):
            return False
        return all(_same(a[k], b[k]) for k in keys)

    __hash__ = None  # type: ignore[assignment]  # holds arrays: not hashable

    # ------------------------------------------------------------- read-only
    @property
    def labels(self) -> pd.DataFrame:
        """Label columns ``[*by, variable, category, statistic]`` (a copy)."""
        return self._labels.copy()

    @property
    def estimate(self) -> np.ndarray:
        """Point estimates (read-only)."""
        return self._estimate

    @property
    def se(self) -> np.ndarray:
        """Standard errors (read-only)."""
        return self._se

    @property
    def df(self) -> np.ndarray:
        """Degrees of freedom of each row (read-only)."""
        return self._df

    @property
    def deff(self) -> np.ndarray:
        """Design effects (read-only; NaN where not defined)."""
        return self._deff

    @property
    def n(self) -> np.ndarray:
        """Unweighted number of rows behind each estimate (read-only)."""
        return self._n

    @property
    def level(self) -> float:
        """Default confidence level."""
        return self._level

    @property
    def by(self) -> tuple[str, ...]:
        """Names of the domain columns."""
        return self._by

    @property
    def interval_method(self) -> str:
        """Name of the interval method (see the module docstring)."""
        return self._interval

    @property
    def contrast_df(self) -> float:
        """Degrees of freedom of contrasts (the design's)."""
        return self._contrast_df

    def __len__(self) -> int:
        """Return the number of rows."""
        return int(self._estimate.shape[0])

    @property
    def cv(self) -> np.ndarray:
        """Coefficient of variation ``se / |estimate|``; NaN when the estimate is 0."""
        absolute = np.abs(self._estimate)
        out = np.full(absolute.shape, np.nan)
        np.divide(self._se, absolute, out=out, where=absolute > 0)
        return out

    # -------------------------------------------------------------- intervals
    def interval(self, level: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper ends of the intervals at ``level`` (recomputed).

        Parameters
        ----------
        level : float, optional
            Confidence level; the estimate's by default.

        Returns
        -------
        tuple of numpy.ndarray
            ``(lower, upper)``, one value per row.

        Examples
        --------
        >>> import pandas as pd
        >>> import es_survey as es
        >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "w": [1.0] * 4})
        >>> lo, hi = es.SurveyDesign(df, weights="w").mean("y", df=np.inf).interval(0.9)
        >>> round(float(hi[0]), 4)
        3.5617
        """
        level = self._level if level is None else level
        _check_level(level)
        return _interval(self._interval, self._estimate, self._se, self._df, self._extras, level)

    def to_frame(self, level: float | None = None) -> pd.DataFrame:
        """Tidy table of the estimates.

        Parameters
        ----------
        level : float, optional
            Confidence level of ``lower``/``upper``; the estimate's level by default.

        Returns
        -------
        pandas.DataFrame
            Columns ``[*by, variable, category, statistic, estimate, se, lower,
            upper, level, cv, deff, df, n]``: domain labels, the variable, the
            category (factor level, quantile probability, or ``""``), the
            statistic (``total``, ``mean``, ``ratio``, ``proportion``,
            ``quantile``, ``contrast``, ``funnel``), the estimate and its standard
            error, the interval at ``level``, the coefficient of variation, the
            design effect (design variance / SRS-without-replacement variance),
            the degrees of freedom and the unweighted number of rows. A sector
            funnel (:func:`~es_survey.sector_funnel`) has the columns ``[*by,
            stage, estimate, se, lower, upper, level, cv, df, n, source]``, with
            ``source`` "register" for counts taken from the register (exact) and
            "estimate" otherwise.

        Examples
        --------
        >>> import pandas as pd
        >>> import es_survey as es
        >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "w": [1.0, 1.0, 1.0, 1.0]})
        >>> list(es.SurveyDesign(df, weights="w").mean("y").to_frame().columns)
        ['variable', 'category', 'statistic', 'estimate', 'se', 'lower', 'upper', 'level', 'cv', 'deff', 'df', 'n']
        """  # noqa: E501
        level = self._level if level is None else level
        lower, upper = self.interval(level)
        out = self._labels.copy()
        out["estimate"] = self._estimate
        out["se"] = self._se
        out["lower"] = lower
        out["upper"] = upper
        out["level"] = float(level)
        out["cv"] = self.cv
        out["deff"] = self._deff
        out["df"] = self._df
        out["n"] = self._n.astype(np.int64)
        if self._labels["statistic"].eq("funnel").all() and len(self):
            out["stage"] = out["variable"]
            out["source"] = np.where(out["category"] == "register", "register", "estimate")
            return out[[*self._by, *FUNNEL_COLUMNS]]
        return out[[*self._by, *COLUMNS]]

    def confint(self, level: float | None = None) -> pd.DataFrame:
        """Confidence intervals at ``level`` (recomputed, not rescaled).

        Parameters
        ----------
        level : float, optional
            Confidence level; the estimate's level by default.

        Returns
        -------
        pandas.DataFrame
            The label columns of :meth:`to_frame` with ``lower`` and ``upper``.

        Examples
        --------
        >>> import pandas as pd
        >>> import es_survey as es
        >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "w": [1.0, 1.0, 1.0, 1.0]})
        >>> ci = es.SurveyDesign(df, weights="w").mean("y", df=np.inf).confint(0.9)
        >>> round(float(ci["upper"].iloc[0]), 4)
        3.5617
        """
        lower, upper = self.interval(level)
        out = self._labels.copy()
        out["lower"] = lower
        out["upper"] = upper
        return out

    # ------------------------------------------------------------- covariance
    def vcov(self) -> np.ndarray:
        """Covariance matrix of the rows.

        As R's ``svyby(..., covmat=TRUE)``: each row's influence values (zero
        outside its domain) go through the variance of the whole design, or the
        replicate estimates through the replicate variance.

        Returns
        -------
        numpy.ndarray
            ``len(est) x len(est)`` covariance matrix (a copy).

        Raises
        ------
        DesignError
            For estimates without a covariance (quantiles, or more rows than
            are kept).

        Examples
        --------
        >>> import pandas as pd
        >>> import es_survey as es
        >>> df = pd.DataFrame({"h": ["a", "a", "b", "b"], "y": [1.0, 3.0, 2.0, 6.0],
        ...                    "w": [2.0, 2.0, 3.0, 3.0]})
        >>> es.SurveyDesign(df, weights="w", strata="h").total("y", by="h").vcov()
        array([[ 16.,   0.],
               [  0., 144.]])
        """
        if self._vcov is None:
            raise DesignError(self._vcov_note or "this estimate has no covariance matrix")
        return np.array(self._vcov, dtype=float)

    def contrast(self, weights: Mapping[object, float] | Sequence[float] | np.ndarray) -> Estimate:
        """Estimate a linear combination of the rows with its SE (R ``svycontrast``).

        Parameters
        ----------
        weights : mapping or sequence of float
            Coefficients: a mapping from row label to coefficient (the label is
            the value of the one label column that varies between rows, such as
            the domain value; a tuple when several vary), or one coefficient per row.

        Returns
        -------
        Estimate
            One row: ``sum(c * estimate)`` with standard error
            ``sqrt(c' V c)``, ``V`` from :meth:`vcov`, and the design's degrees
            of freedom.

        Raises
        ------
        DesignError
            For unknown labels, a wrong number of coefficients, or rows without
            a covariance.

        Examples
        --------
        >>> import pandas as pd
        >>> import es_survey as es
        >>> df = pd.DataFrame({"g": ["x", "x", "y", "y"], "y": [1.0, 2.0, 3.0, 5.0],
        ...                    "w": [1.0, 1.0, 1.0, 1.0]})
        >>> est = es.SurveyDesign(df, weights="w").mean("y", by="g")
        >>> float(est.contrast({"y": 1, "x": -1}).to_frame()["estimate"].iloc[0])
        2.5
        """
        coef, text = self._coefficients(weights)
        cov = self.vcov()
        value = float(coef @ self._estimate)
        se = float(np.sqrt(max(coef @ cov @ coef, 0.0)))
        dfv = float(self._contrast_df)
        variables = self._labels["variable"].unique()
        labels = pd.DataFrame(
            {
                "variable": [str(variables[0]) if len(variables) == 1 else "contrast"],
                "category": [text],
                "statistic": ["contrast"],
            }
        )
        return Estimate(
            labels=labels,
            estimate=[value],
            se=[se],
            df=[dfv],
            deff=[np.nan],
            n=[float(self._n[coef != 0].sum())],
            level=self._level,
            interval="wald",
            vcov=np.array([[se * se]]),
            contrast_df=dfv,
        )

    def _row_keys(self) -> list[object]:
        cols = [*self._by, "variable", "category"]
        lab = self._labels
        varying = [c for c in cols if not (lab[c] == lab[c].iloc[0]).all()]
        if not varying:
            varying = cols[:1] if self._by else ["variable"]
        if len(varying) == 1:
            return list(lab[varying[0]])
        return list(lab[varying].itertuples(index=False, name=None))

    def _coefficients(
        self, weights: Mapping[object, float] | Sequence[float] | np.ndarray
    ) -> tuple[np.ndarray, str]:
        keys = self._row_keys()
        if isinstance(weights, Mapping):
            coef = np.zeros(len(self))
            lookup: dict[object, int] = {}
            for i, key in enumerate(keys):
                lookup.setdefault(key, i)
                lookup.setdefault(str(key), i)
            for key, value in weights.items():
                if key not in lookup and str(key) not in lookup:
                    raise DesignError(
                        f"contrast label {key!r} is not a row of this estimate; rows are "
                        f"{keys[:20]!r}"
                    )
                coef[lookup.get(key, lookup.get(str(key), 0))] = float(value)
        else:
            coef = np.asarray(weights, dtype=float)
            if coef.shape != (len(self),):
                raise DesignError(
                    f"contrast has {coef.size} coefficients but the estimate has "
                    f"{len(self)} rows; give one coefficient per row or a mapping"
                )
        parts = []
        for c, k in zip(coef, keys, strict=True):
            if c != 0:
                sign = "-" if c < 0 else "+"
                parts.append(f"{sign} {k}" if abs(c) == 1 else f"{sign} {abs(c):g}*{k}")
        text = " ".join(parts).lstrip("+ ").strip()
        if text.startswith("- "):
            text = "-" + text[2:]
        return coef, text

    # ---------------------------------------------------------------- display
    def _display(self) -> pd.DataFrame:
        frame = self.to_frame()
        shown = frame.drop(columns=["level"])
        for col in ("estimate", "se", "lower", "upper", "deff", "df"):
            if col in frame:
                shown[col] = [_fmt(v) for v in frame[col]]
        shown["cv"] = [("" if np.isnan(v) else f"{100 * v:.1f}%") for v in frame["cv"]]
        return shown

    def __repr__(self) -> str:
        """Compact table, numbers rounded for display only."""
        stat = ", ".join(self._labels["statistic"].unique())
        head = f"Estimate ({stat}; {len(self)} rows; {100 * self._level:g}% intervals)"
        shown = self._display()
        if len(shown) > 40:
            body = pd.concat([shown.head(20), shown.tail(20)]).to_string(index=False)
            return f"{head}\n{body}\n... {len(shown) - 40} rows not shown"
        return f"{head}\n{shown.to_string(index=False)}"

    def _repr_html_(self) -> str:
        """HTML table for Jupyter."""
        stat = ", ".join(self._labels["statistic"].unique())
        caption = html.escape(f"Estimate ({stat}; {100 * self._level:g}% intervals)")
        body = self._display().to_html(index=False, escape=True, max_rows=60)
        return f"<div><p><b>{caption}</b></p>{body}</div>"


def _rebuild(state: dict[str, Any]) -> Estimate:
    return Estimate(**state)


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return "" if np.isnan(value) else str(value)
    if value != 0 and (abs(value) >= 1e7 or abs(value) < 1e-3):
        return f"{value:.4g}"
    return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.1f}"


def _check_level(level: float) -> None:
    if not (isinstance(level, int | float) and 0 < float(level) < 1):
        raise DesignError(f"level={level!r} must be a number between 0 and 1, e.g. 0.95")


def vcov_or_note(compute: Any, rows: int, what: str = "estimate") -> tuple[np.ndarray | None, str]:
    """Return the covariance matrix from ``compute()``, or None and why when too large.

    Parameters
    ----------
    compute : callable
        Returns the ``rows x rows`` matrix.
    rows : int
        Number of rows of the estimate.
    what : str
        Name shown in the note.

    Returns
    -------
    tuple
        ``(matrix or None, note)``.

    Examples
    --------
    >>> vcov_or_note(lambda: np.eye(2), 2)[0].shape
    (2, 2)
    """
    if rows > _MAX_VCOV_ROWS:
        return None, (
            f"the covariance matrix of this {what} ({rows} rows) is not kept (more than "
            f"{_MAX_VCOV_ROWS} rows); estimate fewer domains or variables at a time to "
            "use vcov() or contrast()"
        )
    try:
        return compute(), ""
    except DesignError as exc:
        return None, str(exc)


# ----------------------------------------------------------------- intervals
def tcrit(level: float, df: np.ndarray) -> np.ndarray:
    """Two-sided critical value; normal for infinite df, NaN for df <= 0.

    Parameters
    ----------
    level : float
        Confidence level.
    df : numpy.ndarray
        Degrees of freedom.

    Returns
    -------
    numpy.ndarray
        ``t_{df}(1 - (1 - level) / 2)``.

    Examples
    --------
    >>> round(float(tcrit(0.95, np.array([np.inf]))[0]), 4)
    1.96
    """
    # scipy.special, not scipy.stats: the same quantile functions (stats.t.ppf calls
    # stdtrit) at a third of the import time; imported on first use.
    from scipy import special

    a = (1.0 - level) / 2.0
    df = np.asarray(df, dtype=float)
    out = np.full(df.shape, np.nan)
    inf = np.isinf(df)
    out[inf] = special.ndtri(1.0 - a)
    fin = ~inf & (df > 0)
    out[fin] = special.stdtrit(df[fin], 1.0 - a)
    return out


def expit(x: np.ndarray) -> np.ndarray:
    """Inverse logit ``1 / (1 + exp(-x))``.

    Parameters
    ----------
    x : numpy.ndarray
        Values on the logit scale.

    Returns
    -------
    numpy.ndarray
        Probabilities.

    Examples
    --------
    >>> float(expit(np.array([0.0]))[0])
    0.5
    """
    return 1.0 / (1.0 + np.exp(-x))


def _beta_ppf(q: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Beta quantile with R's limits: a = 0 gives 0, b = 0 gives 1."""
    from scipy import special

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    out = np.full(a.shape, np.nan)
    ok = (a > 0) & (b > 0) & np.isfinite(a) & np.isfinite(b)
    out[ok] = special.betaincinv(a[ok], b[ok], q)
    out[(a == 0) & (b > 0)] = 0.0
    out[(b == 0) & (a > 0)] = 1.0
    return out


def qrule(xs: np.ndarray, cumw: np.ndarray, total_w: float, p: float) -> float:
    """Smallest sorted value ``x`` whose weighted CDF ``F(x) >= p`` (NaN for NaN ``p``).

    Parameters
    ----------
    xs : numpy.ndarray
        Sorted values.
    cumw : numpy.ndarray
        Cumulative weights of ``xs``.
    total_w : float
        Total weight.
    p : float
        Probability in [0, 1].

    Returns
    -------
    float
        The quantile (R ``survey``'s ``qrule="math"``).

    Examples
    --------
    >>> xs = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    >>> [qrule(xs, np.cumsum(np.ones(5)), 5.0, p) for p in (0.1, 0.2, 0.5)]
    [10.0, 10.0, 30.0]
    """
    if not np.isfinite(p) or xs.shape[0] == 0:
        return np.nan
    pos = int(np.searchsorted(cumw / total_w, p, side="left"))
    return float(xs[min(pos, xs.shape[0] - 1)])


def _woodruff(
    est: np.ndarray, df: np.ndarray, extras: Mapping[str, np.ndarray], level: float
) -> tuple[np.ndarray, np.ndarray]:
    t = tcrit(level, df)
    p_hat, p_se = extras["p_hat"], extras["p_se"]
    xs_all, cw_all = extras["cdf_x"], extras["cdf_w"]
    lower = np.full(est.shape, np.nan)
    upper = np.full(est.shape, np.nan)
    for i in range(est.shape[0]):
        a, b = int(extras["cdf_start"][i]), int(extras["cdf_stop"][i])
        if b <= a:
            continue
        xs, cumw, total_w = xs_all[a:b], cw_all[a:b], float(extras["cdf_total"][i])
        lo = p_hat[i] - t[i] * p_se[i]
        hi = p_hat[i] + t[i] * p_se[i]
        if np.isfinite(lo) and lo >= 0:
            lower[i] = qrule(xs, cumw, total_w, lo)
        if np.isfinite(hi) and hi <= 1:
            upper[i] = qrule(xs, cumw, total_w, hi)
    return lower, upper


def _interval(
    method: str,
    est: np.ndarray,
    se: np.ndarray,
    df: np.ndarray,
    extras: Mapping[str, np.ndarray],
    level: float,
) -> tuple[np.ndarray, np.ndarray]:
    t = tcrit(level, df)
    if method == "wald":
        return est - t * se, est + t * se
    if method == "woodruff":
        return _woodruff(est, df, extras, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "log":
            ok = est > 0
            half = np.where(ok, t * se / np.where(ok, est, 1.0), np.nan)
            log_est = np.log(np.where(ok, est, np.nan))
            return np.exp(log_est - half), np.exp(log_est + half)
        p = est
        if method == "logit":
            eta = np.log(p / (1.0 - p))
            se_eta = extras["se_eta"] if "se_eta" in extras else se / (p * (1.0 - p))
            lower, upper = expit(eta - t * se_eta), expit(eta + t * se_eta)
        else:
            alpha = 1.0 - level
            n_eff = p * (1.0 - p) / (se * se)
            if method == "beta":
                # Korn & Graubard (1998) with R's adjustment of n_eff by the ratio of
                # t quantiles on n - 1 and on the design degrees of freedom.
                t_n = tcrit(level, extras["n_rows"] - 1.0)
                n_eff = n_eff * (t_n / t) ** 2
                lower = _beta_ppf(alpha / 2, n_eff * p, n_eff * (1.0 - p) + 1.0)
                upper = _beta_ppf(1 - alpha / 2, n_eff * p + 1.0, n_eff * (1.0 - p))
            else:  # wilson: score interval on the effective sample size
                t2 = t * t
                denom = 1.0 + t2 / n_eff
                root = np.sqrt(4.0 * n_eff * p * (1.0 - p) + t2)
                centre = p + t2 / (2.0 * n_eff)
                lower = (centre - t / (2.0 * n_eff) * root) / denom
                upper = (centre + t / (2.0 * n_eff) * root) / denom
    # p = 0 or 1 with no variation: the degenerate interval [p, p]
    edge = ((p == 0) | (p == 1)) & (se == 0) & np.isfinite(t)
    return np.where(edge, p, lower), np.where(edge, p, upper)
