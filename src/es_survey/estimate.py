"""Estimators (total, mean, ratio, proportion, quantile) and the `Estimate` result.

Every estimator is a smooth function of weighted totals. Its standard error is
the design standard error of the total of its weighted influence values, computed
by the one variance engine of :mod:`es_survey.variance`:

========== ============================== =========================================
estimator  estimate                       influence value of row i (times w_i)
========== ============================== =========================================
total      T = sum w y                    y_i
mean       m = T / N,  N = sum w          (y_i - m) / N
ratio      R = T_y / T_x                  (y_i - R x_i) / T_x
========== ============================== =========================================

Domains (``by=``, :meth:`SurveyDesign.domain`, the non-missing rows under
``na_rm=True``) multiply influence values by the domain indicator and keep every
sampled unit, so estimates, SEs, degrees of freedom and design effects agree with
R ``survey``'s ``svyby(..., FUN, subset(design, ...))``. All domains are computed
in one vectorised pass.

References
----------
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.
Korn, E. L. and Graubard, B. I. (1998). Confidence intervals for proportions with
small expected number of positive counts estimated from survey data. *Survey
Methodology* 24, 193-201.
Woodruff, R. S. (1952). Confidence intervals for medians and other position
measures. *JASA* 47, 635-646.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from es_survey.errors import DesignError
from es_survey.variance import DomainKeys, VarianceEngine

if TYPE_CHECKING:
    from es_survey.design import SurveyDesign

__all__ = ["Estimate", "mean", "proportion", "quantile", "ratio", "total"]

_COLUMNS = (
    "variable", "category", "statistic", "estimate", "se", "lower", "upper", "level",
    "cv", "deff", "df", "n",
)  # fmt: skip

Interval = Callable[[float], tuple[np.ndarray, np.ndarray]]


# --------------------------------------------------------------------- result
def _readonly(values: np.ndarray) -> np.ndarray:
    out = np.array(values, dtype=float, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False, repr=False)
class Estimate:
    """An immutable table of survey estimates with their uncertainty.

    One row per (domain, variable, category). Numbers are kept at full precision;
    rounding happens only when the estimate is printed.

    Parameters
    ----------
    labels : pandas.DataFrame
        Label columns ``[*by, variable, category, statistic]``, one row per estimate.
    estimate, se, df, deff, n : numpy.ndarray
        Point estimate, standard error, degrees of freedom, design effect and
        unweighted number of rows of each row.
    level : float
        Default confidence level of the intervals.
    by : tuple of str
        Names of the domain columns.
    interval : callable
        ``interval(level) -> (lower, upper)``; recomputes the intervals.
    covariance : callable or None
        Computes the covariance matrix of the rows on demand (None when the
        estimator has no covariance, e.g. quantiles).
    contrast_df : float
        Degrees of freedom used for contrasts (the design's).

    Examples
    --------
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
    """

    labels: pd.DataFrame
    estimate: np.ndarray
    se: np.ndarray
    df: np.ndarray
    deff: np.ndarray
    n: np.ndarray
    level: float
    by: tuple[str, ...]
    interval: Interval = field(repr=False)
    covariance: Callable[[], np.ndarray] | None = field(default=None, repr=False)
    contrast_df: float = np.nan

    def __post_init__(self) -> None:
        """Copy the inputs and make the arrays read-only."""
        object.__setattr__(self, "labels", self.labels.reset_index(drop=True).copy())
        for name in ("estimate", "se", "df", "deff", "n"):
            object.__setattr__(self, name, _readonly(getattr(self, name)))
        _check_level(self.level)

    def __len__(self) -> int:
        """Return the number of rows."""
        return int(self.estimate.shape[0])

    @property
    def cv(self) -> np.ndarray:
        """Coefficient of variation ``se / |estimate|``; NaN when the estimate is 0."""
        absolute = np.abs(self.estimate)
        out = np.full(absolute.shape, np.nan)
        np.divide(self.se, absolute, out=out, where=absolute > 0)
        return out

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
            ``quantile``, ``contrast``), the estimate and its standard error,
            the interval at ``level``, the coefficient of variation, the design
            effect (design variance / SRS-without-replacement variance), the
            degrees of freedom and the unweighted number of rows.

        Examples
        --------
        >>> import pandas as pd
        >>> import es_survey as es
        >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "w": [1.0, 1.0, 1.0, 1.0]})
        >>> list(es.SurveyDesign(df, weights="w").mean("y").to_frame().columns)
        ['variable', 'category', 'statistic', 'estimate', 'se', 'lower', 'upper', 'level', 'cv', 'deff', 'df', 'n']
        """  # noqa: E501
        level = self.level if level is None else level
        _check_level(level)
        lower, upper = self.interval(level)
        out = self.labels.copy()
        out["estimate"] = self.estimate
        out["se"] = self.se
        out["lower"] = np.asarray(lower, dtype=float)
        out["upper"] = np.asarray(upper, dtype=float)
        out["level"] = float(level)
        out["cv"] = self.cv
        out["deff"] = self.deff
        out["df"] = self.df
        out["n"] = self.n.astype(np.int64)
        return out[[*self.by, *_COLUMNS]]

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
        level = self.level if level is None else level
        _check_level(level)
        lower, upper = self.interval(level)
        out = self.labels.copy()
        out["lower"] = np.asarray(lower, dtype=float)
        out["upper"] = np.asarray(upper, dtype=float)
        return out

    def vcov(self) -> np.ndarray:
        """Covariance matrix of the rows (computed on demand).

        As R's ``svyby(..., covmat=TRUE)``: each row's influence values (zero
        outside its domain) go through the variance of the whole design.

        Returns
        -------
        numpy.ndarray
            ``len(est) x len(est)`` covariance matrix.

        Raises
        ------
        DesignError
            For estimates without a covariance (quantiles).
        """
        if self.covariance is None:
            raise DesignError(
                "this estimate has no covariance between its rows (quantiles are not "
                "smooth functions of totals); contrast() and vcov() are not available"
            )
        out = np.array(self.covariance(), dtype=float)
        return out

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
        value = float(coef @ self.estimate)
        se = float(np.sqrt(max(coef @ cov @ coef, 0.0)))
        dfv = float(self.contrast_df)
        variables = self.labels["variable"].unique()
        labels = pd.DataFrame(
            {
                "variable": [str(variables[0]) if len(variables) == 1 else "contrast"],
                "category": [text],
                "statistic": ["contrast"],
            }
        )
        est = np.array([value])
        se_a = np.array([se])
        return Estimate(
            labels=labels,
            estimate=est,
            se=se_a,
            df=np.array([dfv]),
            deff=np.array([np.nan]),
            n=np.array([float(self.n[coef != 0].sum())]),
            level=self.level,
            by=(),
            interval=_wald_interval(est, se_a, np.array([dfv])),
            covariance=lambda: np.array([[se * se]]),
            contrast_df=dfv,
        )

    def _row_keys(self) -> list[object]:
        cols = [*self.by, "variable", "category"]
        varying = [c for c in cols if not (self.labels[c] == self.labels[c].iloc[0]).all()]
        if not varying:
            varying = cols[:1] if self.by else ["variable"]
        if len(varying) == 1:
            return list(self.labels[varying[0]])
        return list(self.labels[varying].itertuples(index=False, name=None))

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
            shown[col] = [_fmt(v) for v in frame[col]]
        shown["cv"] = [("" if np.isnan(v) else f"{100 * v:.1f}%") for v in frame["cv"]]
        return shown

    def __repr__(self) -> str:
        """Compact table, numbers rounded for display only."""
        stat = ", ".join(self.labels["statistic"].unique())
        head = f"Estimate ({stat}; {len(self)} rows; {100 * self.level:g}% intervals)"
        shown = self._display()
        if len(shown) > 40:
            body = pd.concat([shown.head(20), shown.tail(20)]).to_string(index=False)
            return f"{head}\n{body}\n... {len(shown) - 40} rows not shown"
        return f"{head}\n{shown.to_string(index=False)}"

    def _repr_html_(self) -> str:
        """HTML table for Jupyter."""
        stat = ", ".join(self.labels["statistic"].unique())
        caption = html.escape(f"Estimate ({stat}; {100 * self.level:g}% intervals)")
        body = self._display().to_html(index=False, escape=True, max_rows=60)
        return f"<div><p><b>{caption}</b></p>{body}</div>"


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return "" if np.isnan(value) else str(value)
    if value != 0 and (abs(value) >= 1e7 or abs(value) < 1e-3):
        return f"{value:.4g}"
    return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.1f}"


def _check_level(level: float) -> None:
    if not (isinstance(level, int | float) and 0 < float(level) < 1):
        raise DesignError(f"level={level!r} must be a number between 0 and 1, e.g. 0.95")


# ----------------------------------------------------------------- intervals
def _tcrit(level: float, df: np.ndarray) -> np.ndarray:
    """Two-sided critical value; normal for infinite df, NaN for df <= 0."""
    a = (1.0 - level) / 2.0
    df = np.asarray(df, dtype=float)
    out = np.full(df.shape, np.nan)
    inf = np.isinf(df)
    out[inf] = stats.norm.ppf(1.0 - a)
    fin = ~inf & (df > 0)
    out[fin] = stats.t.ppf(1.0 - a, df[fin])
    return out


def _wald_interval(est: np.ndarray, se: np.ndarray, df: np.ndarray) -> Interval:
    def interval(level: float) -> tuple[np.ndarray, np.ndarray]:
        t = _tcrit(level, df)
        return est - t * se, est + t * se

    return interval


def _log_interval(est: np.ndarray, se: np.ndarray, df: np.ndarray) -> Interval:
    def interval(level: float) -> tuple[np.ndarray, np.ndarray]:
        t = _tcrit(level, df)
        with np.errstate(divide="ignore", invalid="ignore"):
            ok = est > 0
            half = np.where(ok, t * se / np.where(ok, est, 1.0), np.nan)
            log_est = np.log(np.where(ok, est, np.nan))
            return np.exp(log_est - half), np.exp(log_est + half)

    return interval


def _proportion_interval(
    p: np.ndarray, se: np.ndarray, df: np.ndarray, n_rows: np.ndarray, method: str
) -> Interval:
    def interval(level: float) -> tuple[np.ndarray, np.ndarray]:
        alpha = 1.0 - level
        t = _tcrit(level, df)
        with np.errstate(divide="ignore", invalid="ignore"):
            if method == "wald":
                return p - t * se, p + t * se
            if method == "logit":
                eta = np.log(p / (1.0 - p))
                half = t * se / (p * (1.0 - p))
                return _expit(eta - half), _expit(eta + half)
            n_eff = p * (1.0 - p) / (se * se)
            if method == "beta":
                # Korn & Graubard (1998) with R's adjustment of n_eff by the ratio of
                # t quantiles on n - 1 and on the design degrees of freedom.
                t_n = _tcrit(level, n_rows - 1.0)
                n_eff = n_eff * (t_n / t) ** 2
                lower = _beta_ppf(alpha / 2, n_eff * p, n_eff * (1.0 - p) + 1.0)
                upper = _beta_ppf(1 - alpha / 2, n_eff * p + 1.0, n_eff * (1.0 - p))
                return lower, upper
            # wilson: score interval on the effective sample size
            t2 = t * t
            denom = 1.0 + t2 / n_eff
            root = np.sqrt(4.0 * n_eff * p * (1.0 - p) + t2)
            centre = p + t2 / (2.0 * n_eff)
            return (centre - t / (2.0 * n_eff) * root) / denom, (
                centre + t / (2.0 * n_eff) * root
            ) / denom

    return interval


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _beta_ppf(q: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Beta quantile with R's limits: a = 0 gives 0, b = 0 gives 1."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    out = np.full(a.shape, np.nan)
    ok = (a > 0) & (b > 0) & np.isfinite(a) & np.isfinite(b)
    out[ok] = stats.beta.ppf(q, a[ok], b[ok])
    out[(a == 0) & (b > 0)] = 0.0
    out[(b == 0) & (a > 0)] = 1.0
    return out


# ------------------------------------------------------------------ preparing
@dataclass(frozen=True)
class _Column:
    variable: str
    category: str
    numbers: np.ndarray  # float, NaN where missing
    missing: np.ndarray  # bool


@dataclass(frozen=True)
class _Setup:
    by: tuple[str, ...]
    by_frame: pd.DataFrame  # one row per domain
    dom: np.ndarray  # domain code of member rows, -1 otherwise
    bins: np.ndarray  # domain code of member rows, D otherwise
    n_domains: int
    present: np.ndarray  # rows of the (sub)design
    columns: list[_Column]
    y: np.ndarray  # n x k, zero where not a member
    w: np.ndarray  # weights, zero for non-members
    n_hat: np.ndarray  # (D,) estimated population size
    n: np.ndarray  # (D,) member rows
    n_rows: np.ndarray  # (D,) rows of the domain before removing missing values
    df: np.ndarray  # (D,)
    engine: VarianceEngine
    keys: DomainKeys


def _names(y: str | Sequence[str]) -> list[str]:
    names = [y] if isinstance(y, str) else list(y)
    if not names:
        raise DesignError("no variable given; name at least one column")
    return names


def _column(design: SurveyDesign, name: str, *, numeric_only: bool) -> list[_Column]:
    data = design._data
    if name not in data.columns:
        available = ", ".join(map(repr, data.columns[:30]))
        raise DesignError(f"variable {name!r} is not in the data; available columns: {available}")
    s = data[name]
    missing = s.isna().to_numpy()
    if pd.api.types.is_bool_dtype(s.dtype) or (
        pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype)
    ):
        values = s.to_numpy(dtype=float, na_value=np.nan)
        return [_Column(name, "", values, missing)]
    if numeric_only:
        raise DesignError(
            f"variable {name!r} has dtype {s.dtype} but this estimator needs numbers; "
            "convert it with pd.to_numeric or use proportion()/total() for categories"
        )
    if isinstance(s.dtype, pd.CategoricalDtype):
        categories = list(s.cat.categories)
    else:
        categories = sorted(pd.unique(s[~missing]), key=lambda v: (str(type(v)), v))
    raw = s.to_numpy(dtype=object)
    out = []
    for cat in categories:
        values = (raw == cat).astype(float)
        values[missing] = np.nan
        out.append(_Column(name, str(cat), values, missing))
    return out


def _factorize(column: pd.Series) -> tuple[np.ndarray, object]:
    """Sorted integer codes of a column (-1 for missing); a bincount for small integers."""
    if pd.api.types.is_integer_dtype(column.dtype) and not isinstance(
        column.dtype, pd.CategoricalDtype
    ):
        values = column.to_numpy()
        low, high = int(values.min()), int(values.max())
        if high - low <= 4 * values.shape[0]:
            shifted = values.astype(np.int64) - low
            present = np.flatnonzero(np.bincount(shifted, minlength=high - low + 1))
            lookup = np.empty(high - low + 1, dtype=np.int64)
            lookup[present] = np.arange(present.shape[0])
            return lookup[shifted], pd.Index(present + low, dtype=column.dtype)
    return pd.factorize(column, sort=True)


def _by_codes(
    design: SurveyDesign, by: str | Sequence[str] | None
) -> tuple[tuple[str, ...], pd.DataFrame, np.ndarray, int]:
    mask = design._mask
    n = mask.shape[0]
    if by is None:
        return (), pd.DataFrame(index=range(1)), np.where(mask, 0, -1), 1
    names = _names(by)
    data = design._data
    codes_list = []
    uniques_list = []
    for name in names:
        if name not in data.columns:
            available = ", ".join(map(repr, data.columns[:30]))
            raise DesignError(
                f"by column {name!r} is not in the data; available columns: {available}"
            )
        codes, uniques = _factorize(data[name])
        bad = (codes < 0) & mask
        if bad.any():
            raise DesignError(
                f"by column {name!r} has {int(bad.sum())} missing values; fill them "
                f"(e.g. with a 'missing' label) or leave those rows out with "
                f"design.domain(df[{name!r}].notna())"
            )
        codes_list.append(codes.astype(np.int64, copy=False))
        uniques_list.append(uniques)
    if len(names) == 1 and mask.all():
        # every level of a factorised column occurs: its codes are the domains
        return tuple(names), pd.DataFrame({names[0]: np.asarray(uniques_list[0])}), codes_list[
            0
        ], len(uniques_list[0])
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for codes, uniques in zip(codes_list, uniques_list, strict=True):
        key = key * len(uniques) + np.maximum(codes, 0)
        size *= len(uniques)
    sub = key[mask]
    if size <= 4 * n + (1 << 20):
        counts = np.bincount(sub, minlength=size)
        present = np.flatnonzero(counts)
        lookup = np.full(size, -1, dtype=np.int64)
        lookup[present] = np.arange(present.shape[0])
        dom = lookup[key]
    else:
        present = np.unique(sub)
        dom = np.searchsorted(present, key)
        dom[dom >= present.shape[0]] = 0
        dom = np.where(present[dom] == key, dom, -1)
    dom = np.where(mask, dom, -1)
    frame = {}
    rest = present
    parts = []
    for uniques in reversed(uniques_list):
        parts.append(rest % len(uniques))
        rest = rest // len(uniques)
    for name, uniques, idx in zip(names, uniques_list, reversed(parts), strict=True):
        frame[name] = np.asarray(uniques)[idx]
    return tuple(names), pd.DataFrame(frame), dom, int(present.shape[0])


def _setup(
    design: SurveyDesign,
    columns: list[_Column],
    by: str | Sequence[str] | None,
    na_rm: bool,
    df: float | None,
) -> _Setup:
    by_names, by_frame, dom, n_domains = _by_codes(design, by)
    rows = dom >= 0
    missing = columns[0].missing
    for col in columns[1:]:
        missing = missing | col.missing
    if missing.any():
        if not na_rm:
            for col in columns:
                count = int((col.missing & rows).sum())
                if count:
                    raise DesignError(
                        f"variable {col.variable!r} has {count} missing values among the "
                        "rows being estimated; pass na_rm=True to estimate over the "
                        "non-missing rows (treated as a domain, so no PSU is dropped)"
                    )
        member_dom = np.where(missing, -1, dom)
    else:
        member_dom = dom
    member = member_dom >= 0
    everyone = bool(member.all())
    bins = member_dom if everyone else np.where(member, member_dom, n_domains)
    n = np.bincount(bins, minlength=n_domains + 1)[:n_domains].astype(float)
    if member_dom is dom:
        n_rows = n.copy()
    else:
        n_rows = np.bincount(np.where(rows, dom, n_domains), minlength=n_domains + 1)[:-1]
    y = np.empty((member.shape[0], len(columns)))
    for j, c in enumerate(columns):
        y[:, j] = c.numbers if everyone else np.where(member, c.numbers, 0.0)
    w = design._weights if everyone else np.where(member, design._weights, 0.0)
    n_hat = np.bincount(bins, weights=w, minlength=n_domains + 1)[:n_domains]
    keys = design._engine.domain_keys(bins, n_domains)
    if df is None:
        dfs = design._engine.degrees_of_freedom(member_dom, n_domains, keys)
    else:
        dfs = np.full(n_domains, float(df))
    return _Setup(
        by=by_names,
        by_frame=by_frame,
        dom=member_dom,
        bins=bins,
        n_domains=n_domains,
        present=design._mask,
        columns=columns,
        y=y,
        w=w,
        n_hat=n_hat,
        n=n,
        n_rows=n_rows.astype(float),
        df=dfs,
        engine=design._engine,
        keys=keys,
    )


def _domain_sums(setup: _Setup, values: np.ndarray) -> np.ndarray:
    """(D, k) sums of ``values`` (n, k) over each domain's member rows."""
    size = setup.n_domains + 1
    return np.column_stack(
        [np.bincount(setup.bins, weights=values[:, j], minlength=size)[:-1]
         for j in range(values.shape[1])]
    )  # fmt: skip


def _per_row(setup: _Setup, per_domain: np.ndarray) -> np.ndarray:
    """Broadcast (D, k) values to the member rows (zeros elsewhere)."""
    padded = np.zeros((setup.n_domains + 1, per_domain.shape[1]))
    padded[:-1] = per_domain
    return padded[setup.bins]


def _centred(setup: _Setup, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Domain weighted means (D, k) and the residuals of member rows (zero elsewhere)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = _domain_sums(setup, setup.w[:, None] * values) / setup.n_hat[:, None]
    resid = values - _per_row(setup, centre)
    if not (setup.dom >= 0).all():
        resid[setup.dom < 0] = 0.0
    return centre, resid


def _svyvar(setup: _Setup, resid: np.ndarray) -> np.ndarray:
    """R's ``svyvar`` within each domain from residuals: n/(n-1) sum w r^2 / N."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ss = _domain_sums(setup, setup.w[:, None] * resid * resid)
        n = setup.n[:, None]
        return np.where(n > 1, ss / setup.n_hat[:, None] * n / (n - 1.0), np.nan)


def _variances(setup: _Setup, influence: np.ndarray) -> np.ndarray:
    cov = setup.engine.domain_cov(influence, setup.dom, setup.n_domains, setup.keys)
    return np.diagonal(cov, axis1=1, axis2=2).copy()


def _result(
    design: SurveyDesign,
    setup: _Setup,
    statistic: str,
    labels: list[tuple[str, str]],
    est: np.ndarray,
    var: np.ndarray,
    deff: np.ndarray,
    level: float,
    interval_factory: Callable[[np.ndarray, np.ndarray, np.ndarray], Interval],
    influence: np.ndarray | None,
) -> Estimate:
    engine = setup.engine
    dom = setup.dom
    n_domains = setup.n_domains
    present = setup.present

    covariance = None
    if influence is not None:
        infl = influence

        def covariance() -> np.ndarray:
            return engine.full_cov(infl, dom, n_domains, present)

    return _estimate(setup, statistic, labels, est, var.reshape(-1), deff, level,
                     interval_factory, covariance, design.df)  # fmt: skip


def _estimate(
    setup: _Setup,
    statistic: str,
    labels: list[tuple[str, str]],
    est: np.ndarray,
    var: np.ndarray,
    deff: np.ndarray,
    level: float,
    interval_factory: Callable[[np.ndarray, np.ndarray, np.ndarray], Interval],
    covariance: Callable[[], np.ndarray] | None,
    contrast_df: float,
) -> Estimate:
    """Assemble the :class:`Estimate` of ``est`` (D, k) with its flat variances ``var``.

    Shared by the linearisation and the replicate estimators: labels of every
    domain and variable, SE (NaN where the variance is), df, deff and interval.
    """
    d, k = est.shape
    frame = setup.by_frame.loc[np.repeat(np.arange(d), k)].reset_index(drop=True)
    frame["variable"] = [v for _ in range(d) for v, _c in labels]
    frame["category"] = [c for _ in range(d) for _v, c in labels]
    frame["statistic"] = statistic
    est_f = est.reshape(-1)
    se_f = np.where(np.isnan(var), np.nan, np.sqrt(np.maximum(var, 0.0)))
    df_f = np.repeat(setup.df, k)
    _check_level(level)
    return Estimate(
        labels=frame,
        estimate=est_f,
        se=se_f,
        df=df_f,
        deff=deff.reshape(-1),
        n=np.repeat(setup.n, k),
        level=level,
        by=setup.by,
        interval=interval_factory(est_f, se_f, df_f),
        covariance=covariance,
        contrast_df=contrast_df,
    )


def _linear(
    design: SurveyDesign,
    y: str | Sequence[str],
    by: str | Sequence[str] | None,
    na_rm: bool,
    df: float | None,
    *,
    numeric_only: bool = False,
) -> tuple[_Setup, list[tuple[str, str]]]:
    columns = [c for name in _names(y) for c in _column(design, name, numeric_only=numeric_only)]
    setup = _setup(design, columns, by, na_rm, df)
    return setup, [(c.variable, c.category) for c in columns]


# ----------------------------------------------------------------- estimators
def total(
    design: SurveyDesign,
    y: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    *,
    na_rm: bool = False,
    interval: Literal["wald", "log"] = "wald",
    df: float | None = None,
    level: float = 0.95,
) -> Estimate:
    """Estimated population total of ``y`` (R ``svytotal``).

    ``T = sum_i w_i y_i``; its variance is the design variance of ``w_i y_i``.
    The design effect is R's default: ``V / (s^2 N^2 (N - n) / (N n))`` with
    ``s^2`` the weighted variance (divisor ``n - 1`` as R's ``svyvar``).

    Parameters
    ----------
    design : SurveyDesign
        The design (possibly a domain of one).
    y : str or list of str
        Numeric, boolean (counted as 0/1) or categorical columns; a categorical
        or text column gives one row per category (totals of indicators).
    by : str or list of str, optional
        Domain columns; every domain in one pass.
    na_rm : bool
        Treat the non-missing rows as a domain instead of raising on missing values.
    interval : {"wald", "log"}
        ``"wald"``: ``T -/+ t se``; ``"log"``: ``exp(log T -/+ t se / T)``
        for totals of non-negative counts (NaN when ``T <= 0``).
    df : float, optional
        Degrees of freedom of the t quantile; the design's (domain's) by default,
        ``np.inf`` for normal intervals.
    level : float
        Confidence level.

    Returns
    -------
    Estimate
        ``statistic="total"``.

    Examples
    --------
    >>> import pandas as pd
    >>> import es_survey as es
    >>> df = pd.DataFrame({"h": ["a", "a", "b", "b"], "y": [1.0, 3.0, 2.0, 6.0],
    ...                    "w": [2.0, 2.0, 3.0, 3.0]})
    >>> est = es.SurveyDesign(df, weights="w", strata="h").total("y")
    >>> est.to_frame()[["estimate", "se", "df"]]
       estimate         se   df
    0      32.0  12.649111  2.0
    """
    if interval not in ("wald", "log"):
        raise DesignError(f"interval={interval!r} is not available; use 'wald' or 'log'")
    setup, labels = _linear(design, y, by, na_rm, df)
    influence = setup.w[:, None] * setup.y
    est = _domain_sums(setup, influence)
    var = _variances(setup, influence)
    _, resid = _centred(setup, setup.y)
    with np.errstate(divide="ignore", invalid="ignore"):
        big_n = setup.n_hat[:, None]
        n = setup.n[:, None]
        vsrs = _svyvar(setup, resid) * big_n**2 * (big_n - n) / (big_n * n)
        deff = var / vsrs
    factory = _wald_interval if interval == "wald" else _log_interval
    return _result(design, setup, "total", labels, est, var, deff, level, factory, influence)


def mean(
    design: SurveyDesign,
    y: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    *,
    na_rm: bool = False,
    df: float | None = None,
    level: float = 0.95,
) -> Estimate:
    """Estimated population mean of ``y`` (R ``svymean``).

    ``m = sum w y / sum w``; influence ``(y_i - m) / N``. Design effect
    ``V / (s^2 (N - n) / (N n))`` (NaN when ``N < n``, as R).

    Parameters
    ----------
    design : SurveyDesign
        The design.
    y : str or list of str
        Numeric, boolean (a share) or categorical columns (one row per category).
    by : str or list of str, optional
        Domain columns.
    na_rm : bool
        Treat the non-missing rows as a domain.
    df : float, optional
        Degrees of freedom; the design's by default, ``np.inf`` for normal.
    level : float
        Confidence level.

    Returns
    -------
    Estimate
        ``statistic="mean"``.

    Examples
    --------
    >>> import pandas as pd
    >>> import es_survey as es
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 6.0], "w": [1.0, 1.0, 1.0, 1.0]})
    >>> round(float(es.SurveyDesign(df, weights="w").mean("y").se[0]), 6)
    1.080123
    """
    setup, labels = _linear(design, y, by, na_rm, df)
    est, var, deff, influence = _mean_parts(setup)
    return _result(design, setup, "mean", labels, est, var, deff, level, _wald_interval, influence)


def _mean_parts(setup: _Setup) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    est, resid = _centred(setup, setup.y)
    with np.errstate(divide="ignore", invalid="ignore"):
        big_n = setup.n_hat[:, None]
        inv_n = np.zeros(setup.n_domains + 1)
        inv_n[:-1] = 1.0 / setup.n_hat
        influence = (setup.w * inv_n[setup.bins])[:, None] * resid
        var = _variances(setup, influence)
        n = setup.n[:, None]
        vsrs = _svyvar(setup, resid) * (big_n - n) / (big_n * n)
        deff = np.where(big_n < n, np.nan, var / vsrs)
    return est, var, deff, influence


def ratio(
    design: SurveyDesign,
    numerator: str | Sequence[str],
    denominator: str,
    by: str | Sequence[str] | None = None,
    *,
    na_rm: bool = False,
    df: float | None = None,
    level: float = 0.95,
) -> Estimate:
    """Estimated ratio of population totals ``R = T_y / T_x`` (R ``svyratio``).

    Influence ``(y_i - R x_i) / T_x``. The design effect is that of the total of
    those residuals (R's ``deff=TRUE``). Rows with a missing numerator or
    denominator form the excluded part of the domain under ``na_rm=True``.

    Parameters
    ----------
    design : SurveyDesign
        The design.
    numerator : str or list of str
        Numeric columns.
    denominator : str
        Numeric column.
    by : str or list of str, optional
        Domain columns.
    na_rm : bool
        Treat complete rows as a domain.
    df : float, optional
        Degrees of freedom; the design's by default.
    level : float
        Confidence level.

    Returns
    -------
    Estimate
        ``statistic="ratio"``, ``variable="numerator/denominator"``.

    Examples
    --------
    >>> import pandas as pd
    >>> import es_survey as es
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 6.0], "x": [1.0, 1.0, 2.0, 2.0],
    ...                    "w": [1.0, 1.0, 1.0, 1.0]})
    >>> float(es.SurveyDesign(df, weights="w").ratio("y", "x").estimate[0])
    2.0
    """
    nums = [c for name in _names(numerator) for c in _column(design, name, numeric_only=True)]
    den = _column(design, denominator, numeric_only=True)[0]
    setup = _setup(design, [*nums, den], by, na_rm, df)
    k = len(nums)
    x = setup.y[:, k : k + 1]
    yv = setup.y[:, :k]
    with np.errstate(divide="ignore", invalid="ignore"):
        t_x = _domain_sums(setup, setup.w[:, None] * x)
        est = _domain_sums(setup, setup.w[:, None] * yv) / t_x
        resid = (yv - _per_row(setup, est) * x) / _per_row(setup, np.broadcast_to(t_x, est.shape))
        resid = np.where((setup.dom >= 0)[:, None], resid, 0.0)
        influence = setup.w[:, None] * resid
        var = _variances(setup, influence)
        big_n = setup.n_hat[:, None]
        n = setup.n[:, None]
        _, r_resid = _centred(setup, resid)
        vsrs = _svyvar(setup, r_resid) * big_n**2 * (big_n - n) / (big_n * n)
        deff = var / vsrs
    labels = [(f"{c.variable}/{den.variable}", "") for c in nums]
    return _result(design, setup, "ratio", labels, est, var, deff, level, _wald_interval, influence)


def proportion(
    design: SurveyDesign,
    y: str,
    by: str | Sequence[str] | None = None,
    *,
    method: Literal["logit", "beta", "wilson", "wald"] = "logit",
    na_rm: bool = False,
    df: float | None = None,
    level: float = 0.95,
) -> Estimate:
    """Estimated proportion with an interval that stays in [0, 1] (R ``svyciprop``).

    The estimate and SE are those of the mean of the indicator. Intervals, with
    ``t`` the t quantile on ``df`` degrees of freedom:

    * ``"logit"``: ``expit(logit(p) -/+ t se / (p (1 - p)))`` (R's default);
    * ``"beta"``: Korn & Graubard (1998): Clopper-Pearson on the effective
      sample size ``n_eff = p (1 - p) / se^2 * (t_{n-1} / t_df)^2``
      (``n`` rows of the domain), ``[B(a/2; n_eff p, n_eff (1-p) + 1),
      B(1 - a/2; n_eff p + 1, n_eff (1 - p))]``;
    * ``"wilson"``: Wilson score interval on ``n_eff = p (1 - p) / se^2``:
      ``(p + t^2/(2 n_eff) -/+ t/(2 n_eff) sqrt(4 n_eff p (1-p) + t^2)) / (1 + t^2/n_eff)``;
    * ``"wald"``: ``p -/+ t se`` (R's ``method="mean"``).

    Parameters
    ----------
    design : SurveyDesign
        The design.
    y : str
        A boolean or 0/1 column (one row, the share of True/1) or a categorical
        or text column (one row per category).
    by : str or list of str, optional
        Domain columns.
    method : {"logit", "beta", "wilson", "wald"}
        Interval method.
    na_rm : bool
        Treat the non-missing rows as a domain.
    df : float, optional
        Degrees of freedom; the design's by default, ``np.inf`` for normal.
    level : float
        Confidence level.

    Returns
    -------
    Estimate
        ``statistic="proportion"``; ``deff`` is that of the mean.

    Examples
    --------
    >>> import pandas as pd
    >>> import es_survey as es
    >>> df = pd.DataFrame({"f": [1, 0, 1, 1, 0, 1], "w": [1.0] * 6})
    >>> est = es.SurveyDesign(df, weights="w").proportion("f", method="wald")
    >>> round(float(est.estimate[0]), 4), round(float(est.se[0]), 4)
    (0.6667, 0.2108)
    """
    methods = ("logit", "beta", "wilson", "wald")
    if method not in methods:
        raise DesignError(f"method={method!r} is not available; use one of {list(methods)}")
    columns = _column(design, y, numeric_only=False)
    if columns[0].category == "":
        vals = columns[0].numbers[~columns[0].missing]
        if not np.isin(vals, (0.0, 1.0)).all():
            bad = vals[~np.isin(vals, (0.0, 1.0))][0]
            raise DesignError(
                f"proportion() of {y!r} needs a boolean, 0/1, categorical or text column, "
                f"but it has the value {bad!r}; use mean() for a numeric variable"
            )
    setup = _setup(design, columns, by, na_rm, df)
    est, var, deff, influence = _mean_parts(setup)
    labels = [(c.variable, c.category) for c in columns]
    k = len(columns)
    n_rows = np.repeat(setup.n_rows, k)

    def factory(e: np.ndarray, s: np.ndarray, d: np.ndarray) -> Interval:
        return _proportion_interval(e, s, d, n_rows, method)

    return _result(design, setup, "proportion", labels, est, var, deff, level, factory, influence)


# ------------------------------------------------------------------ quantiles
def _qrule_math(xs: np.ndarray, cumw: np.ndarray, total_w: float, p: float) -> float:
    """R ``survey`` 4.1 ``qrule_math`` (inverse of the weighted step CDF).

    ``pos`` is the last sorted value whose cumulative weight is ``<= p W`` (the
    first when none is); the quantile is that value when the cumulative share
    equals ``p`` exactly, else the next value.
    """
    if not np.isfinite(p):
        return np.nan
    pos = int(np.searchsorted(cumw, p * total_w, side="right")) - 1
    pos = max(pos, 0)
    wlow = p - cumw[pos] / total_w
    if wlow == 0:
        return float(xs[pos])
    return float(xs[min(pos + 1, xs.shape[0] - 1)])


def quantile(
    design: SurveyDesign,
    y: str | Sequence[str],
    q: float | Sequence[float],
    by: str | Sequence[str] | None = None,
    *,
    na_rm: bool = False,
    df: float | None = None,
    level: float = 0.95,
) -> Estimate:
    """Estimated quantiles with Woodruff intervals (R ``svyquantile``, defaults).

    The quantile is R's default ``qrule="math"``: the smallest value ``x`` with
    estimated population CDF ``F(x) >= q`` (the inverse of the weighted step
    CDF). The interval (``interval.type="mean"``, Woodruff 1952) is a t interval
    for the CDF at the estimate, ``p -/+ t se(p)`` with ``p = F(q_hat)``, mapped
    back through the same rule; an end outside [0, 1] gives NaN. The standard
    error is R's: interval width / (2 t). Design effect: NaN. The values are
    sorted once; the step rule is applied domain by domain on the sorted slices,
    while the SEs of all domains come from one pass of the variance engine.

    Parameters
    ----------
    design : SurveyDesign
        The design.
    y : str or list of str
        Numeric columns.
    q : float or list of float
        Probabilities in [0, 1].
    by : str or list of str, optional
        Domain columns.
    na_rm : bool
        Treat the non-missing rows as a domain.
    df : float, optional
        Degrees of freedom; the design's by default, ``np.inf`` for normal.
    level : float
        Confidence level of the interval (and of the SE derived from it).

    Returns
    -------
    Estimate
        ``statistic="quantile"``, ``category=str(q)``.

    Examples
    --------
    >>> import pandas as pd
    >>> import es_survey as es
    >>> df = pd.DataFrame({"y": [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0],
    ...                    "w": [1.0] * 8})
    >>> es.SurveyDesign(df, weights="w").quantile("y", [0.25, 0.5]).estimate.tolist()
    [1.0, 3.0]
    """
    _check_level(level)
    probs = [float(q)] if isinstance(q, int | float) else [float(v) for v in q]
    if not probs or any(not (0.0 <= p <= 1.0) for p in probs):
        raise DesignError(f"q={q!r} must be probabilities between 0 and 1")
    columns = [c for name in _names(y) for c in _column(design, name, numeric_only=True)]
    setup = _setup(design, columns, by, na_rm, df)
    n_domains = setup.n_domains
    n_q = len(probs)
    rows = setup.dom >= 0
    idx_rows = np.flatnonzero(rows)
    dom_rows = setup.dom[rows]
    w_r = 1.0 / (1.0 / design._weights[rows])  # R's weights(design) = 1 / prob
    est = np.full((n_domains, len(columns), n_q), np.nan)
    se = np.full_like(est, np.nan)
    sorted_parts: list[list[tuple[np.ndarray, np.ndarray, float]]] = []
    crit = _tcrit(level, setup.df)
    p_hats: list[np.ndarray] = []
    p_ses: list[np.ndarray] = []
    for j, col in enumerate(columns):
        x = col.numbers[rows]
        order = np.lexsort((x, dom_rows))
        bounds = np.searchsorted(dom_rows[order], np.arange(n_domains + 1))
        parts = []
        indicator = np.zeros((rows.shape[0], n_q))
        for d in range(n_domains):
            sl = order[bounds[d] : bounds[d + 1]]
            xs = x[sl]
            cumw = np.cumsum(w_r[sl].astype(np.longdouble)).astype(float)
            total_w = float(np.cumsum(w_r[np.sort(sl)].astype(np.longdouble))[-1])
            parts.append((xs, cumw, total_w))
            for i, p in enumerate(probs):
                qhat = _qrule_math(xs, cumw, total_w, p)
                est[d, j, i] = qhat
                member = idx_rows[sl]
                indicator[member, i] = (col.numbers[member] <= qhat).astype(float)
        sorted_parts.append(parts)
        # Woodruff: the domain mean of 1[x <= q_hat] and its SE, all q in one pass
        with np.errstate(divide="ignore", invalid="ignore"):
            big_n = setup.n_hat[:, None]
            p_hat = _domain_sums(setup, setup.w[:, None] * indicator) / big_n
            replicate_var = getattr(design, "_mean_variance", None)
            if replicate_var is None:
                resid = indicator - _per_row(setup, p_hat)
                infl = setup.w[:, None] * resid / _per_row(
                    setup, np.broadcast_to(big_n, p_hat.shape)
                )
                infl = np.where(rows[:, None], infl, 0.0)
                p_se = np.sqrt(np.maximum(_variances(setup, infl), 0.0))
            else:  # a replicate design: the CDF is re-estimated on every replicate (R)
                p_se = np.sqrt(np.maximum(replicate_var(setup, indicator), 0.0))
        lower, upper = _woodruff(parts, p_hat, p_se, setup.df, level)
        with np.errstate(invalid="ignore"):
            se[:, j, :] = (upper - lower) / (2.0 * crit[:, None])
        p_hats.append(p_hat)
        p_ses.append(p_se)

    def interval(lvl: float) -> tuple[np.ndarray, np.ndarray]:
        lo = np.empty_like(est)
        hi = np.empty_like(est)
        for j in range(len(columns)):
            lo[:, j, :], hi[:, j, :] = _woodruff(
                sorted_parts[j], p_hats[j], p_ses[j], setup.df, lvl
            )
        return lo.reshape(-1), hi.reshape(-1)

    frame = setup.by_frame.loc[np.repeat(np.arange(n_domains), len(columns) * n_q)]
    frame = frame.reset_index(drop=True)
    frame["variable"] = [c.variable for _ in range(n_domains) for c in columns for _p in probs]
    frame["category"] = [str(p) for _ in range(n_domains) for _c in columns for p in probs]
    frame["statistic"] = "quantile"
    size = len(columns) * n_q
    return Estimate(
        labels=frame,
        estimate=est.reshape(-1),
        se=se.reshape(-1),
        df=np.repeat(setup.df, size),
        deff=np.full(est.size, np.nan),
        n=np.repeat(setup.n, size),
        level=level,
        by=setup.by,
        interval=interval,
        covariance=None,
        contrast_df=design.df,
    )


def _woodruff(
    parts: list[tuple[np.ndarray, np.ndarray, float]],
    p_hat: np.ndarray,
    p_se: np.ndarray,
    df: np.ndarray,
    level: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Map a t interval for the CDF back through the quantile rule (per domain, q)."""
    t = _tcrit(level, df)
    lower = np.full(p_hat.shape, np.nan)
    upper = np.full(p_hat.shape, np.nan)
    for d, (xs, cumw, total_w) in enumerate(parts):
        if xs.shape[0] == 0:
            continue
        for i in range(p_hat.shape[1]):
            lo = p_hat[d, i] - t[d] * p_se[d, i]
            hi = p_hat[d, i] + t[d] * p_se[d, i]
            if np.isfinite(lo) and lo >= 0:
                lower[d, i] = _qrule_math(xs, cumw, total_w, lo)
            if np.isfinite(hi) and hi <= 1:
                upper[d, i] = _qrule_math(xs, cumw, total_w, hi)
    return lower, upper
