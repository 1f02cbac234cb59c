"""Estimators: total, mean, ratio, proportion, quantile — one generic path.

Every estimator is a *statistic*: a function of weighted domain totals of a few
columns ``z`` (the point estimate) together with its weighted influence values
(the linearisation). One path, :func:`evaluate`, computes any statistic:

1. the domain totals ``T = sum_i w_i z_i`` of every domain (:mod:`es_survey.domains`)
   and the point estimate ``f(T)``;
2. its variance, either by linearisation — the design covariance of the totals
   of the influence values, one stage-covariance kernel (:mod:`es_survey.variance`)
   with calibration and nonresponse residuals applied first — or, on a replicate
   design, by applying ``f`` to the replicate totals and one replicate variance
   (R ``svrVar``);
3. an :class:`~es_survey.Estimate` holding numbers only.

========== ==================== ============================== ===========================
estimator  columns ``z``        estimate ``f(T)``              influence value (times w_i)
========== ==================== ============================== ===========================
total      y                    T_y                            y_i
mean       y, 1                 m = T_y / T_1                  (y_i - m) / T_1
ratio      y, x                 R = T_y / T_x                  (y_i - R x_i) / T_x
proportion 1[y = c], 1          as mean                        as mean
========== ==================== ============================== ===========================

The sector funnel (:mod:`es_survey.funnel`) is a statistic of the same kind.
Domains (``by=``, :meth:`SurveyDesign.domain`, the non-missing rows under
``na_rm=True``) multiply influence values by the domain indicator and keep every
sampled unit, so estimates, SEs, degrees of freedom and design effects agree with
R ``survey``'s ``svyby(..., FUN, subset(design, ...))``. All domains are computed
in one vectorised pass.

Data flow of one estimate::

    design ──> Domains (by=, domain(), na_rm) ──> statistic (z, f, influence)
           ──> variance (linearisation | replicates) ──> Estimate (numbers only)

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from es_survey import domains as _domains
from es_survey.domains import Domains
from es_survey.errors import DesignError
from es_survey.result import Estimate, _check_level, qrule, tcrit, vcov_or_note

__all__ = ["Estimate", "evaluate", "mean", "proportion", "quantile", "ratio", "total"]

_AUTO_VCOV_ROWS = 100  # covmat=None keeps the covariance of estimates up to this size

Covmat = bool | None


# ------------------------------------------------------------------ columns
@dataclass(frozen=True)
class _Column:
    variable: str
    category: str
    numbers: np.ndarray  # float, NaN where missing
    missing: np.ndarray  # bool


def _column(design: Any, name: str, *, numeric_only: bool) -> list[_Column]:
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


def _prepare(
    design: Any,
    columns: list[_Column],
    by: str | Sequence[str] | None,
    na_rm: bool,
    df: float | None,
) -> tuple[Domains, np.ndarray]:
    """Build the domains of an estimate and its columns (n, k), zero outside the members."""
    missing = np.column_stack([c.missing for c in columns])
    dom = _domains.build(
        design, by, missing=missing, na_rm=na_rm, df=df, variables=[c.variable for c in columns]
    )
    member = dom.member
    y = np.empty((member.shape[0], len(columns)))
    everyone = bool(member.all())
    for j, c in enumerate(columns):
        y[:, j] = c.numbers if everyone else np.where(member, c.numbers, 0.0)
    return dom, y


# --------------------------------------------------------------- statistics
@dataclass(frozen=True)
class Statistic:
    """A smooth function of domain totals with its influence values.

    Parameters
    ----------
    name : str
        The ``statistic`` label of the result (``total``, ``mean`` ...).
    z : numpy.ndarray
        ``(n, m)`` unweighted columns, zero outside the domain members.
    point : callable
        ``point(T)`` maps totals ``(..., D, m)`` to estimates ``(..., D, k)``
        (applied to the full-sample and to every replicate's totals).
    influence : callable
        ``influence(domains, est, T)`` gives the ``(n, k)`` weighted influence
        values ``w_i u_i`` (zero outside the members), for linearisation.
    """

    name: str
    z: np.ndarray
    point: Callable[[np.ndarray], np.ndarray]
    influence: Callable[[Domains, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Evaluated:
    """What :func:`evaluate` returns: estimate, variance and covariance of a statistic.

    Attributes
    ----------
    est, var : numpy.ndarray
        ``(D, k)`` estimates and variances.
    thetas : numpy.ndarray or None
        ``(R, D, k)`` replicate estimates (replicate designs), else None.
    vcov : numpy.ndarray or None
        ``(D k, D k)`` covariance (domain-major), when kept.
    vcov_note : str
        Why ``vcov`` is None.
    """

    est: np.ndarray
    var: np.ndarray
    thetas: np.ndarray | None
    vcov: np.ndarray | None
    vcov_note: str


def _is_replicate(engine: Any) -> bool:
    return hasattr(engine, "replicate_sums")


def evaluate(dom: Domains, stat: Statistic, covmat: Covmat = None) -> Evaluated:
    """Point estimate, variance and (optionally) covariance of ``stat`` in every domain.

    Parameters
    ----------
    dom : Domains
        The domains (with the design's weights and variance engine).
    stat : Statistic
        The statistic.
    covmat : bool or None
        Keep the covariance of all rows (R ``svyby(covmat=TRUE)``) for
        ``vcov()``/``contrast()``: True always, False never, None (default) when
        the estimate has at most 100 rows.

    Returns
    -------
    Evaluated
        Estimates, variances, replicate estimates and covariance.
    """
    totals = dom.weighted_sums(stat.z)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = stat.point(totals)
    engine = dom.engine
    thetas = None
    if _is_replicate(engine):
        z = stat.z
        drop = getattr(engine, "drop_rows", None)
        if drop is not None and stat.name == "total":  # R's svytotal, survey.drop.replicates
            z = np.where(drop[:, None], 0.0, z)
        reps = engine.replicate_sums(z, dom.bins, dom.n_domains)
        with np.errstate(divide="ignore", invalid="ignore"):
            thetas = stat.point(reps)
        flat = thetas.reshape(thetas.shape[0], -1)
        with np.errstate(invalid="ignore"):
            var = engine.variance(flat, est.reshape(-1)).reshape(est.shape)

        def covariance() -> np.ndarray:
            return np.asarray(engine.covariance(flat, est.reshape(-1)))
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            infl = stat.influence(dom, est, totals)
        cov = engine.domain_cov(infl, dom.dom, dom.n_domains, dom.keys)
        var = np.diagonal(cov, axis1=1, axis2=2).copy()

        def covariance() -> np.ndarray:
            if dom.n_domains == 1:  # one domain: its covariance is the whole matrix
                return np.array(cov[0])
            return np.asarray(engine.full_cov(infl, dom.dom, dom.n_domains, dom.present))

    size = est.size
    keep = covmat if covmat is not None else size <= _AUTO_VCOV_ROWS
    if keep:
        vcov, note = vcov_or_note(covariance, size)
    else:
        vcov, note = (
            None,
            (
                f"the covariance of the {size} rows of this estimate was not computed; pass "
                "covmat=True to the estimator (as R's svyby(covmat=TRUE)) to use vcov() or "
                "contrast()"
            ),
        )
    return Evaluated(est, var, thetas, vcov, note)


def _ratio_point(k: int) -> Callable[[np.ndarray], np.ndarray]:
    def point(t: np.ndarray) -> np.ndarray:
        return t[..., :k] / t[..., k : k + 1]

    return point


def total_statistic(y: np.ndarray) -> Statistic:
    """Build the total ``T_y`` of the columns ``y`` (n, k).

    Parameters
    ----------
    y : numpy.ndarray
        ``(n, k)`` values, zero outside the domain members.

    Returns
    -------
    Statistic
        ``f(T) = T``; influence ``w_i y_i``.
    """

    def influence(dom: Domains, est: np.ndarray, t: np.ndarray) -> np.ndarray:
        return dom.w[:, None] * y

    return Statistic("total", y, lambda t: t, influence)


def _snap(est: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Snap means within rounding error (1e-12 relative) of a member's value to it.

    A domain where the variable is constant then has its mean, residuals and SE
    exactly (0 instead of ~1e-16); a non-constant mean moves by at most 1e-12
    relative, far below any published digit.
    """
    close = np.abs(est - ref) <= 1e-12 * np.abs(ref)
    return np.where(close, ref, est)


def mean_statistic(dom: Domains, y: np.ndarray) -> Statistic:
    """Build the domain mean ``T_y / T_1`` of the columns ``y`` (n, k).

    A column constant within a domain gets that constant as its mean exactly,
    so its residuals, SE and variance are exactly zero (and its deff NaN).

    Parameters
    ----------
    dom : Domains
        The domains.
    y : numpy.ndarray
        ``(n, k)`` values, zero outside the domain members.

    Returns
    -------
    Statistic
        ``f(T) = T_y / T_1``; influence ``w_i (y_i - m) / T_1``.
    """
    k = y.shape[1]
    z = np.column_stack([y, dom.member.astype(float)])
    ref = np.zeros((dom.n_domains + 1, k))
    ref[dom.bins] = y  # any member's value (the last written) of each domain
    ref = ref[:-1]
    ratio = _ratio_point(k)

    def point(t: np.ndarray) -> np.ndarray:
        return _snap(ratio(t), ref)

    def influence(dom: Domains, est: np.ndarray, t: np.ndarray) -> np.ndarray:
        resid = (y - dom.per_row(est)) * dom.member[:, None]
        inv_n = np.zeros(dom.n_domains + 1)
        inv_n[:-1] = 1.0 / dom.n_hat
        return (dom.w * inv_n[dom.bins])[:, None] * resid

    return Statistic("mean", z, point, influence)


def ratio_statistic(dom: Domains, y: np.ndarray, x: np.ndarray) -> Statistic:
    """Build the ratio of totals ``T_y / T_x`` of the columns ``y`` (n, k) to ``x`` (n, 1).

    Parameters
    ----------
    dom : Domains
        The domains.
    y, x : numpy.ndarray
        Numerators ``(n, k)`` and denominator ``(n, 1)``, zero outside the members.

    Returns
    -------
    Statistic
        ``f(T) = T_y / T_x``; influence ``w_i (y_i - R x_i) / T_x``.
    """
    k = y.shape[1]

    def influence(dom: Domains, est: np.ndarray, t: np.ndarray) -> np.ndarray:
        t_x = np.broadcast_to(t[:, k : k + 1], est.shape)
        resid = (y - dom.per_row(est) * x) / dom.per_row(t_x)
        resid = np.where(dom.member[:, None], resid, 0.0)
        return dom.w[:, None] * resid

    return Statistic("ratio", np.column_stack([y, x]), _ratio_point(k), influence)


# ----------------------------------------------------------- design effects
def _svyvar(dom: Domains, resid: np.ndarray) -> np.ndarray:
    """R's ``svyvar`` within each domain from residuals: n/(n-1) sum w r^2 / N."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ss = dom.weighted_sums(resid * resid)
        n = dom.n[:, None]
        return np.where(n > 1, ss / dom.n_hat[:, None] * n / (n - 1.0), np.nan)


def _residuals(dom: Domains, y: np.ndarray, centre: np.ndarray) -> np.ndarray:
    if dom.whole:
        return y - centre[0]
    resid = y - dom.per_row(centre)
    return np.where(dom.member[:, None], resid, 0.0)


def _srs_total_var(dom: Domains, resid: np.ndarray) -> np.ndarray:
    """SRS-without-replacement variance of a total: s^2 N^2 (N - n) / (N n)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        big_n = dom.n_hat[:, None]
        n = dom.n[:, None]
        return _svyvar(dom, resid) * big_n**2 * (big_n - n) / (big_n * n)


def _srs_mean_var(dom: Domains, resid: np.ndarray) -> np.ndarray:
    """SRS-without-replacement variance of a mean (NaN when N < n, as R)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        big_n = dom.n_hat[:, None]
        n = dom.n[:, None]
        out = _svyvar(dom, resid) * (big_n - n) / (big_n * n)
        return np.where(big_n < n, np.nan, out)


def _weighted_means(dom: Domains, y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return dom.weighted_sums(y) / dom.n_hat[:, None]


# ------------------------------------------------------------------ results
def _labels(dom: Domains, labels: list[tuple[str, str]], statistic: str) -> pd.DataFrame:
    d, k = dom.n_domains, len(labels)
    frame = dom.labels.loc[np.repeat(np.arange(d), k)].reset_index(drop=True)
    frame["variable"] = [v for _ in range(d) for v, _c in labels]
    frame["category"] = [c for _ in range(d) for _v, c in labels]
    frame["statistic"] = statistic
    return frame


def _result(
    design: Any,
    dom: Domains,
    statistic: str,
    labels: list[tuple[str, str]],
    ev: Evaluated,
    deff: np.ndarray,
    level: float,
    interval: str = "wald",
    extras: dict[str, np.ndarray] | None = None,
    n: np.ndarray | None = None,
) -> Estimate:
    """Assemble the :class:`Estimate` of an evaluated statistic (D, k)."""
    k = ev.est.shape[1]
    var = ev.var.reshape(-1)
    se = np.where(np.isnan(var), np.nan, np.sqrt(np.maximum(var, 0.0)))
    return Estimate(
        labels=_labels(dom, labels, statistic),
        estimate=ev.est.reshape(-1),
        se=se,
        df=np.repeat(dom.df, k),
        deff=deff.reshape(-1),
        n=np.repeat(dom.n, k) if n is None else n,
        level=level,
        by=dom.by,
        interval=interval,
        extras=extras,
        vcov=ev.vcov,
        vcov_note=ev.vcov_note,
        contrast_df=design.df,
    )


def _deff(var: np.ndarray, vsrs: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return var / vsrs


# ----------------------------------------------------------------- estimators


def total(
    design: Any,
    y: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    *,
    na_rm: bool = False,
    interval: Literal["wald", "log"] = "wald",
    df: float | None = None,
    covmat: Covmat = None,
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
    covmat : bool, optional
        Keep the covariance of the rows for ``vcov()``/``contrast()`` (R
        ``svyby(covmat=TRUE)``): True, False, or None (default) for estimates
        of at most 100 rows.
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
    _check_level(level)
    columns = [c for name in _domains.names(y) for c in _column(design, name, numeric_only=False)]
    dom, yv = _prepare(design, columns, by, na_rm, df)
    ev = evaluate(dom, total_statistic(yv), covmat)
    resid = _residuals(dom, yv, _weighted_means(dom, yv))
    deff = _deff(ev.var, _srs_total_var(dom, resid))
    labels = [(c.variable, c.category) for c in columns]
    return _result(design, dom, "total", labels, ev, deff, level, interval)


def mean(
    design: Any,
    y: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    *,
    na_rm: bool = False,
    df: float | None = None,
    covmat: Covmat = None,
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
    covmat : bool, optional
        Keep the covariance of the rows for ``vcov()``/``contrast()`` (R
        ``svyby(covmat=TRUE)``): True, False, or None (default) for estimates
        of at most 100 rows.
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
    _check_level(level)
    columns = [c for name in _domains.names(y) for c in _column(design, name, numeric_only=False)]
    dom, yv = _prepare(design, columns, by, na_rm, df)
    ev = evaluate(dom, mean_statistic(dom, yv), covmat)
    deff = _deff(ev.var, _srs_mean_var(dom, _residuals(dom, yv, ev.est)))
    labels = [(c.variable, c.category) for c in columns]
    return _result(design, dom, "mean", labels, ev, deff, level)


def ratio(
    design: Any,
    numerator: str | Sequence[str],
    denominator: str,
    by: str | Sequence[str] | None = None,
    *,
    na_rm: bool = False,
    df: float | None = None,
    covmat: Covmat = None,
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
    covmat : bool, optional
        Keep the covariance of the rows for ``vcov()``/``contrast()`` (R
        ``svyby(covmat=TRUE)``): True, False, or None (default) for estimates
        of at most 100 rows.
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
    _check_level(level)
    nums = [
        c for name in _domains.names(numerator) for c in _column(design, name, numeric_only=True)
    ]
    den = _column(design, denominator, numeric_only=True)[0]
    dom, values = _prepare(design, [*nums, den], by, na_rm, df)
    k = len(nums)
    yv, x = values[:, :k], values[:, k : k + 1]
    ev = evaluate(dom, ratio_statistic(dom, yv, x), covmat)
    if _is_replicate(dom.engine):  # R's replicate svyratio reports no design effect
        deff = np.full(ev.est.shape, np.nan)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            t_x = dom.weighted_sums(x)
            resid = (yv - dom.per_row(ev.est) * x) / dom.per_row(np.broadcast_to(t_x, ev.est.shape))
        resid = np.where(dom.member[:, None], resid, 0.0)
        centred = _residuals(dom, resid, _weighted_means(dom, resid))
        deff = _deff(ev.var, _srs_total_var(dom, centred))
    labels = [(f"{c.variable}/{den.variable}", "") for c in nums]
    return _result(design, dom, "ratio", labels, ev, deff, level)


def proportion(
    design: Any,
    y: str,
    by: str | Sequence[str] | None = None,
    *,
    method: Literal["logit", "beta", "wilson", "wald"] = "logit",
    na_rm: bool = False,
    df: float | None = None,
    covmat: Covmat = None,
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
    covmat : bool, optional
        Keep the covariance of the rows for ``vcov()``/``contrast()`` (R
        ``svyby(covmat=TRUE)``): True, False, or None (default) for estimates
        of at most 100 rows.
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
    _check_level(level)
    columns = _column(design, y, numeric_only=False)
    if columns[0].category == "":
        vals = columns[0].numbers[~columns[0].missing]
        if not np.isin(vals, (0.0, 1.0)).all():
            bad = vals[~np.isin(vals, (0.0, 1.0))][0]
            raise DesignError(
                f"proportion() of {y!r} needs a boolean, 0/1, categorical or text column, "
                f"but it has the value {bad!r}; use mean() for a numeric variable"
            )
    dom, yv = _prepare(design, columns, by, na_rm, df)
    ev = evaluate(dom, mean_statistic(dom, yv), covmat)
    deff = _deff(ev.var, _srs_mean_var(dom, _residuals(dom, yv, ev.est)))
    labels = [(c.variable, c.category) for c in columns]
    extras = {"n_rows": np.repeat(dom.n_rows, len(columns))}
    if method == "logit" and ev.thetas is not None:
        # R: svyglm(quasibinomial) refitted on every replicate: the replicate SE of logit p
        with np.errstate(divide="ignore", invalid="ignore"):
            eta_r = np.log(ev.thetas / (1.0 - ev.thetas)).reshape(ev.thetas.shape[0], -1)
            eta = np.log(ev.est / (1.0 - ev.est)).reshape(-1)
            var_eta = dom.engine.variance(eta_r, eta)
        extras["se_eta"] = np.sqrt(np.maximum(var_eta, 0.0))
    return _result(design, dom, "proportion", labels, ev, deff, level, method, extras)


# ------------------------------------------------------------------ quantiles
def quantile(
    design: Any,
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
    columns = [c for name in _domains.names(y) for c in _column(design, name, numeric_only=True)]
    dom, _ = _prepare(design, columns, by, na_rm, df)
    n_domains, n_q, n_col = dom.n_domains, len(probs), len(columns)
    rows = dom.member
    idx_rows = np.flatnonzero(rows)
    dom_rows = dom.dom[rows]
    w_r = 1.0 / (1.0 / design._weights[rows])  # R's weights(design) = 1 / prob
    est = np.full((n_domains, n_col, n_q), np.nan)
    p_hat = np.full_like(est, np.nan)
    p_se = np.full_like(est, np.nan)
    cdf: list[list[tuple[np.ndarray, np.ndarray, float]]] = [[] for _ in range(n_domains)]
    for j, col in enumerate(columns):
        x = col.numbers[rows]
        order = np.lexsort((x, dom_rows))
        bounds = np.searchsorted(dom_rows[order], np.arange(n_domains + 1))
        indicator = np.zeros((rows.shape[0], n_q))
        for d in range(n_domains):
            sl = order[bounds[d] : bounds[d + 1]]
            xs = x[sl]
            cumw = np.cumsum(w_r[sl].astype(np.longdouble)).astype(float)
            total_w = (
                float(np.cumsum(w_r[np.sort(sl)].astype(np.longdouble))[-1]) if sl.size else 0.0
            )
            cdf[d].append((xs, cumw, total_w))
            member = idx_rows[sl]
            for i, p in enumerate(probs):
                qhat = qrule(xs, cumw, total_w, p)
                est[d, j, i] = qhat
                indicator[member, i] = (col.numbers[member] <= qhat).astype(float)
        # Woodruff: the domain mean of 1[x <= q_hat] and its SE (replicates: re-estimated
        # on every replicate, as R), all q in one pass of the variance
        ev = evaluate(dom, mean_statistic(dom, indicator), covmat=False)
        p_hat[:, j, :] = ev.est
        p_se[:, j, :] = np.sqrt(np.maximum(ev.var, 0.0))
    xs_parts, cw_parts, start, stop, tot = [], [], [], [], []
    offset = 0
    for d in range(n_domains):
        for j in range(n_col):
            xs, cumw, total_w = cdf[d][j]
            xs_parts.append(xs)
            cw_parts.append(cumw)
            start += [offset] * n_q
            stop += [offset + xs.shape[0]] * n_q
            tot += [total_w] * n_q
            offset += xs.shape[0]
    extras = {
        "p_hat": p_hat.reshape(-1),
        "p_se": p_se.reshape(-1),
        "cdf_x": np.concatenate(xs_parts) if xs_parts else np.zeros(0),
        "cdf_w": np.concatenate(cw_parts) if cw_parts else np.zeros(0),
        "cdf_start": np.array(start, dtype=np.int64),
        "cdf_stop": np.array(stop, dtype=np.int64),
        "cdf_total": np.array(tot, dtype=float),
    }
    size = n_col * n_q
    dfs = np.repeat(dom.df, size)
    frame = dom.labels.loc[np.repeat(np.arange(n_domains), size)].reset_index(drop=True)
    frame["variable"] = [c.variable for _ in range(n_domains) for c in columns for _p in probs]
    frame["category"] = [str(p) for _ in range(n_domains) for _c in columns for p in probs]
    frame["statistic"] = "quantile"
    result = Estimate(
        labels=frame,
        estimate=est.reshape(-1),
        se=np.full(est.size, np.nan),
        df=dfs,
        deff=np.full(est.size, np.nan),
        n=np.repeat(dom.n, size),
        level=level,
        by=dom.by,
        interval="woodruff",
        extras=extras,
        vcov=None,
        vcov_note=(
            "this estimate has no covariance between its rows (quantiles are not "
            "smooth functions of totals); contrast() and vcov() are not available"
        ),
        contrast_df=design.df,
    )
    # R's SE of a quantile: the width of the Woodruff interval / (2 t)
    lower, upper = result.interval(level)
    with np.errstate(invalid="ignore"):
        se = (upper - lower) / (2.0 * tcrit(level, dfs))
    state = result._state()
    state["se"] = se
    return Estimate(**state)
