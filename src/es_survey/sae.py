r"""Small-area estimation: the area-level Fay–Herriot model.

For areas ``i = 1..m`` (powiats, say) with a direct estimate ``y_i`` whose sampling
variance ``psi_i`` is known, and area covariates ``x_i`` (from the register):

.. math::

    y_i = \theta_i + e_i,\quad e_i \sim N(0, \psi_i);\qquad
    \theta_i = x_i'\beta + u_i,\quad u_i \sim N(0, \sigma^2_u).

The model-based (EBLUP) estimate shrinks the direct estimate towards the regression
prediction, more so where the direct estimate is noisy:

.. math::

    \hat\theta_i = \gamma_i y_i + (1 - \gamma_i) x_i'\hat\beta,\qquad
    \gamma_i = \hat\sigma^2_u / (\hat\sigma^2_u + \psi_i).

``sigma2_u`` is estimated by REML (default) or ML with Fisher scoring, truncated at 0
(then every area gets the synthetic estimate ``x_i'beta``). Areas without a direct
estimate (no sample) get the synthetic estimate, ``gamma = 0``, and the MSE
``sigma2_u + x_i'(X'V^{-1}X)^{-1}x_i``. The MSE of the others is Prasad–Rao's
second-order approximation ``g1 + g2 + 2 g3`` (REML), with the bias correction of
Datta and Lahiri for ML (Rao & Molina 2015, §6.2):

* ``g1 = gamma_i psi_i`` — the variance left after shrinkage;
* ``g2 = (1 - gamma_i)^2 x_i'(X'V^{-1}X)^{-1}x_i`` — from estimating ``beta``;
* ``g3 = psi_i^2 / (sigma2_u + psi_i)^3 * 2 / sum_j (sigma2_u + psi_j)^{-2}`` — from
  estimating ``sigma2_u``.

The model is R ``metafor::rma(yi, vi, mods = ~ x, method = "REML")`` (``blup()`` gives
the EBLUPs); ``tests/reference/make_reference_sae.R`` checks it.

Assumptions (and when not to use it): the direct variances are known (smooth them
first where the sample is tiny), the area effects are normal and exchangeable given
the covariates, and the covariates explain the areas well. With few areas (the 14
powiats of a voivodeship) ``sigma2_u`` is estimated poorly; read the shrinkage factors.

References
----------
Fay, R. E. and Herriot, R. A. (1979). Estimates of income for small places. *JASA* 74.
Prasad, N. G. N. and Rao, J. N. K. (1990). The estimation of the mean squared error of
small-area estimators. *JASA* 85.
Rao, J. N. K. and Molina, I. (2015). *Small Area Estimation*, 2nd ed., ch. 6. Wiley.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from es_survey.errors import DataError, DesignError, plain_value
from es_survey.funnel import ANSWER_STAGES, population_totals, sector_funnel

__all__ = ["FayHerriot", "fay_herriot", "small_area"]

#: Default covariates: the share filing a financial statement for the funnel stages
#: (an inactive entity rarely files), the share of NGO-category entities for counts
#: of workers (cooperatives and reintegration units employ most); see docs/methods.md.
_SHARE_COVARIATES = ("statement_filed",)
_MEAN_COVARIATES = ("es_category=NGO",)
_SHARES = ANSWER_STAGES

_MAX_ITER = 100
_TOL = 1e-10


@dataclass(frozen=True, eq=False)
class FayHerriot:
    """A fitted area-level Fay–Herriot model (see :func:`fay_herriot`).

    Attributes
    ----------
    sigma2_u : float
        Variance of the area effects (0 when the fit hit the boundary).
    beta : pandas.Series
        Regression coefficients, index ``intercept`` and the covariate names.
    method : str
        ``"REML"`` or ``"ML"``.
    level : float
        Confidence level of the intervals of :meth:`to_frame`.
    iterations : int
        Fisher-scoring iterations used.
    transform : str or None
        Scale of the model (``None``, ``"log"`` or ``"arcsin"``).
    mse_method : str
        ``"prasad_rao"`` or ``"bootstrap"``.
    replicates : int
        Bootstrap replicates (0 for Prasad–Rao).
    """

    sigma2_u: float
    beta: pd.Series
    method: str
    level: float
    iterations: int
    transform: str | None
    mse_method: str
    replicates: int
    _table: pd.DataFrame

    @property
    def boundary(self) -> bool:
        """True when ``sigma2_u`` hit 0: every area gets the synthetic estimate."""
        return self.sigma2_u == 0.0

    def to_frame(self) -> pd.DataFrame:
        """One row per area: direct and model-based estimates with their MSE.

        Returns
        -------
        pandas.DataFrame
            Columns ``[area, direct, direct_var, estimate, mse, rmse, cv, lower,
            upper, gamma, method, std_residual]`` on the estimates' own scale;
            ``method`` is ``"FH"`` (EBLUP) or ``"synthetic"`` (no direct estimate,
            or ``sigma2_u = 0``); the interval is ``estimate -/+ z rmse`` at the
            fit's level (on a transformed scale: that interval transformed back);
            ``std_residual`` is ``(y - x'beta) / sqrt(sigma2_u + psi)`` on the
            model's scale, for diagnostics.

        Examples
        --------
        >>> import pandas as pd
        >>> d = pd.DataFrame({"a": list("pqrs"), "y": [10.0, 12.0, 9.0, 15.0],
        ...                   "v": [4.0, 4.0, 4.0, 4.0], "x": [1.0, 2.0, 1.0, 3.0]})
        >>> fh = fay_herriot(d, estimate="y", variance="v", covariates=["x"], area="a")
        >>> list(fh.to_frame().columns)[:5]
        ['area', 'direct', 'direct_var', 'estimate', 'mse']
        """
        return self._table.copy()

    def benchmark(self, total: float, method: Literal["ratio"] = "ratio") -> pd.DataFrame:
        """Scale the estimates so that they add up to a (direct) total.

        Ratio benchmarking: every estimate times ``total / sum(estimates)``. The
        MSE is the unbenchmarked one (the second-order effect of benchmarking is
        ignored, as is usual; say so when publishing).

        Parameters
        ----------
        total : float
            The total to agree with (e.g. the regional direct estimate).
        method : {"ratio"}
            Benchmarking method.

        Returns
        -------
        pandas.DataFrame
            :meth:`to_frame` with ``estimate``, ``lower`` and ``upper`` scaled and
            a ``benchmark_factor`` column.

        Examples
        --------
        >>> import pandas as pd
        >>> d = pd.DataFrame({"a": list("pqrs"), "y": [10.0, 12.0, 9.0, 15.0],
        ...                   "v": [4.0, 4.0, 4.0, 4.0], "x": [1.0, 2.0, 1.0, 3.0]})
        >>> fh = fay_herriot(d, estimate="y", variance="v", covariates=["x"], area="a")
        >>> round(float(fh.benchmark(50.0)["estimate"].sum()), 6)
        50.0
        """
        if method != "ratio":
            raise DesignError(f"method={method!r} is not available; use 'ratio'")
        out = self.to_frame()
        current = float(out["estimate"].sum())
        if not np.isfinite(total) or current == 0:
            raise DesignError(
                f"cannot benchmark: total={total!r}, sum of the estimates {current!r}"
            )
        factor = float(total) / current
        for col in ("estimate", "lower", "upper"):
            out[col] = out[col] * factor
        out["benchmark_factor"] = factor
        return out


def _design_matrix(data: pd.DataFrame, covariates: Sequence[str], where: str) -> np.ndarray:
    cols = [np.ones(len(data))]
    for name in covariates:
        if name not in data.columns:
            raise DataError(f"{where}: covariate {name!r} is not a column of the area data")
        values = pd.to_numeric(data[name], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{where}: covariate {name!r} has {plain_value(data[name].iloc[i])!r} for area row "
                f"{data.index[i]!r}; every area needs a number (covariates come from "
                "the register)"
            )
        cols.append(values)
    return np.column_stack(cols)


def _fit(
    y: np.ndarray, psi: np.ndarray, x: np.ndarray, method: str
) -> tuple[float, np.ndarray, np.ndarray, int]:
    """Fisher scoring for sigma2_u; returns (sigma2, beta, (X'V^-1X)^-1, iterations)."""
    m, p = x.shape
    # start: the moment estimate of Prasad and Rao (non-negative)
    ols = np.linalg.lstsq(x, y, rcond=None)[0]
    resid = y - x @ ols
    hat = x @ np.linalg.pinv(x.T @ x) @ x.T
    sigma2 = max(0.0, (resid @ resid - np.sum(psi * (1.0 - np.diag(hat)))) / (m - p))
    iterations = 0
    while iterations < _MAX_ITER:
        iterations += 1
        v_inv = 1.0 / (sigma2 + psi)
        xtvx = x.T @ (v_inv[:, None] * x)
        xtvx_inv = np.linalg.inv(xtvx)
        if method == "REML":
            proj = np.diag(v_inv) - (v_inv[:, None] * x) @ xtvx_inv @ (x.T * v_inv[None, :])
            py = proj @ y
            score = -0.5 * np.trace(proj) + 0.5 * py @ py
            info = 0.5 * np.sum(proj * proj)
        else:
            beta = xtvx_inv @ (x.T @ (v_inv * y))
            r = y - x @ beta
            score = -0.5 * np.sum(v_inv) + 0.5 * np.sum((v_inv * r) ** 2)
            info = 0.5 * np.sum(v_inv**2)
        step = score / info
        new = max(0.0, sigma2 + step)
        if abs(new - sigma2) <= _TOL * max(1.0, sigma2):
            sigma2 = new
            break
        sigma2 = new
    v_inv = 1.0 / (sigma2 + psi)
    xtvx_inv = np.linalg.inv(x.T @ (v_inv[:, None] * x))
    beta = xtvx_inv @ (x.T @ (v_inv * y))
    return float(sigma2), beta, xtvx_inv, iterations


_HALF_PI = np.pi / 2.0


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    """Return the standard normal CDF of real or complex arguments (``erfc`` takes both)."""
    from scipy import special

    return 0.5 * special.erfc(-z / np.sqrt(2.0))


def _back(transform: str | None, theta: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """Bias-corrected back-transform: ``E h(T)`` for ``T ~ N(theta, s2)``.

    ``log``: ``exp(theta + s2 / 2)``. ``arcsin``: ``h(t) = sin^2(t)`` on
    ``[0, pi/2]``, 0 below and 1 above (the transformed share is kept in range), so
    ``E h(T) = P(T > pi/2) + int_0^{pi/2} sin^2(t) phi(t) dt``, and with
    ``sin^2 = (1 - cos 2t) / 2`` the integral of ``cos(2t) phi(t; theta, s)`` is
    ``Re[exp(2i theta - 2 s2) (Phi(b') - Phi(a'))]`` with ``a', b'`` the limits
    standardised at the complex mean ``theta + 2i s2``.
    """
    theta = np.asarray(theta, dtype=float)
    s2 = np.broadcast_to(np.asarray(s2, dtype=float), theta.shape)
    if transform is None:
        return theta.copy()
    if transform == "log":
        return np.exp(theta + s2 / 2.0)
    out = np.sin(np.clip(theta, 0.0, _HALF_PI)) ** 2  # s2 = 0: no spread
    spread = s2 > 0
    mu, s = theta[spread], np.sqrt(s2[spread])
    lo, hi = (0.0 - mu) / s, (_HALF_PI - mu) / s
    mass = _normal_cdf(hi) - _normal_cdf(lo)
    shift = 2j * s
    wave = np.exp(2j * mu - 2.0 * s**2) * (_normal_cdf(hi - shift) - _normal_cdf(lo - shift))
    out[spread] = (1.0 - _normal_cdf(hi)) + 0.5 * mass - 0.5 * wave.real
    return out


def _slope(transform: str | None, theta: np.ndarray) -> np.ndarray:
    """Return the derivative of the naive back-transform, for the delta-method MSE."""
    if transform is None:
        return np.ones_like(theta)
    if transform == "log":
        return np.exp(theta)
    inside = (theta > 0) & (theta < _HALF_PI)
    return np.where(inside, np.sin(2.0 * theta), 0.0)


def _forward(
    transform: str | None,
    y: np.ndarray,
    psi: np.ndarray,
    n_eff: np.ndarray | None,
    names: np.ndarray,
    where: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the direct estimates and their variances on the model's scale."""
    if transform is None:
        return y, psi

    def refuse(bad: np.ndarray, what: str) -> None:
        """Raise for the first area flagged ``bad``; ``what`` has ``{value}``."""
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            detail = what.format(value=repr(plain_value(y[i])))
            raise DataError(f"{where}: area {plain_value(names[i])!r} has {detail}")

    if transform == "log":
        refuse(
            ~(y > 0),
            "direct estimate {value}, which has no logarithm; transform='log' needs positive "
            "estimates (give NaN for the area to get the synthetic estimate, or use "
            "transform=None)",
        )
        return np.log(y), psi / y**2  # delta method: Var(log Y) ~ Var(Y) / Y^2
    refuse(
        ~((y >= 0) & (y <= 1)),
        "direct estimate {value}; transform='arcsin' models shares, between 0 and 1",
    )
    if n_eff is not None:
        return np.arcsin(np.sqrt(y)), 1.0 / (4.0 * n_eff)
    refuse(
        (y == 0) | (y == 1),
        "a direct share of {value}, whose arcsin variance the delta method cannot give; "
        "pass effective_n= (the variance is then 1 / (4 n_eff))",
    )
    return np.arcsin(np.sqrt(y)), psi / (4.0 * y * (1.0 - y))


@dataclass(frozen=True)
class _Eblup:
    """One fit on the model's scale (all areas; ``has`` marks direct estimates)."""

    sigma2: float
    beta: np.ndarray
    iterations: int
    theta: np.ndarray  # EBLUP or synthetic
    gamma: np.ndarray
    g1: np.ndarray  # conditional variance of the area value (sigma2 for synthetic)
    mse: np.ndarray  # Prasad-Rao (Datta-Lahiri under ML); sigma2 + leverage for synthetic
    std_residual: np.ndarray  # (y - x'beta) / sqrt(sigma2 + psi); NaN without sample


def _eblup(y: np.ndarray, psi: np.ndarray, x: np.ndarray, has: np.ndarray, method: str) -> _Eblup:
    """Fit on the areas with a direct estimate; predict every area."""
    xs, ys, ps = x[has], y[has], psi[has]
    sigma2, beta, xtvx_inv, iterations = _fit(ys, ps, xs, method)
    synthetic = x @ beta
    lev = np.einsum("ij,jk,ik->i", x, xtvx_inv, x)  # x_i'(X'V^-1X)^-1 x_i
    theta = synthetic.copy()
    mse = sigma2 + lev  # areas without a direct estimate
    gamma = np.zeros(len(x))
    g1 = np.full(len(x), sigma2)
    resid = np.full(len(x), np.nan)
    v = sigma2 + ps
    g = sigma2 / v
    theta[has] = g * ys + (1.0 - g) * synthetic[has]
    gamma[has] = g
    g1[has] = g * ps
    resid[has] = (ys - synthetic[has]) / np.sqrt(v)
    var_sigma2 = 2.0 / np.sum(v**-2.0)  # asymptotic variance of the REML/ML estimator
    g2 = (1.0 - g) ** 2 * lev[has]
    g3 = ps**2 / v**3 * var_sigma2
    mse_has = g * ps + g2 + 2.0 * g3
    if method == "ML":  # Datta and Lahiri: ML's sigma2 is biased down by b_ML = -t / sum v^-2
        shortfall = np.trace(xtvx_inv @ (xs.T @ ((v**-2.0)[:, None] * xs))) / np.sum(v**-2.0)
        mse_has = mse_has + shortfall * (1.0 - g) ** 2  # - b_ML * d g1 / d sigma2
    mse[has] = mse_has
    return _Eblup(sigma2, beta, iterations, theta, gamma, g1, mse, resid)


def _fit_many(
    y: np.ndarray, psi: np.ndarray, x: np.ndarray, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_fit` for the rows of ``y`` (``B x m``) at once; returns (sigma2, beta).

    The same start and Fisher-scoring steps as :func:`_fit`, each row stopping at its own
    convergence, so every row gives what :func:`_fit` gives for it (to rounding).
    """
    m, p = x.shape
    ols = y @ np.linalg.pinv(x).T
    resid = y - ols @ x.T
    lev = np.diag(x @ np.linalg.pinv(x.T @ x) @ x.T)
    start = (np.einsum("bi,bi->b", resid, resid) - np.sum(psi * (1.0 - lev))) / (m - p)
    sigma2 = np.maximum(0.0, start)
    active = np.ones(len(y), dtype=bool)
    for _ in range(_MAX_ITER):
        if not active.any():
            break
        s2, ya = sigma2[active], y[active]
        v_inv = 1.0 / (s2[:, None] + psi[None, :])  # (b, m)
        vx = v_inv[:, :, None] * x[None, :, :]  # (b, m, p)
        xtvx_inv = np.linalg.inv(np.einsum("ij,bik->bjk", x, vx))
        if method == "REML":
            proj = -np.einsum("bij,bjk,blk->bil", vx, xtvx_inv, vx)
            idx = np.arange(m)
            proj[:, idx, idx] += v_inv
            py = np.einsum("bij,bj->bi", proj, ya)
            score = -0.5 * np.trace(proj, axis1=1, axis2=2) + 0.5 * np.sum(py * py, axis=1)
            info = 0.5 * np.sum(proj * proj, axis=(1, 2))
        else:
            beta = np.einsum("bjk,bk->bj", xtvx_inv, np.einsum("ij,bi->bj", x, v_inv * ya))
            r = ya - beta @ x.T
            score = -0.5 * np.sum(v_inv, axis=1) + 0.5 * np.sum((v_inv * r) ** 2, axis=1)
            info = 0.5 * np.sum(v_inv**2, axis=1)
        new = np.maximum(0.0, s2 + score / info)
        done = np.abs(new - s2) <= _TOL * np.maximum(1.0, s2)
        sigma2[active] = new
        active[np.flatnonzero(active)[done]] = False
    v_inv = 1.0 / (sigma2[:, None] + psi[None, :])
    xtvx_inv = np.linalg.inv(np.einsum("ij,bi,ik->bjk", x, v_inv, x))
    beta = np.einsum("bjk,bk->bj", xtvx_inv, np.einsum("ij,bi->bj", x, v_inv * y))
    return sigma2, beta


def _bootstrap_mse(
    fit: _Eblup,
    psi: np.ndarray,
    x: np.ndarray,
    has: np.ndarray,
    method: str,
    transform: str | None,
    replicates: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Parametric bootstrap MSE on the original scale (González-Manteiga et al. 2008).

    Each replicate draws area values ``theta* = x'beta + u*`` (``u* ~ N(0, sigma2_u)``)
    and direct estimates ``y* = theta* + e*`` (``e* ~ N(0, psi)``) from the fitted
    model, refits it, and compares the back-transformed estimate with ``h(theta*)``.
    The replicates are refitted together (:func:`_fit_many`), in blocks that bound the
    memory; the draws are those of a loop over replicates.
    """
    m = len(x)
    base = x @ fit.beta
    sq = np.zeros(m)
    sd_u = np.sqrt(fit.sigma2)
    ps = psi[has]
    block = max(1, 4_000_000 // max(1, int(has.sum()) ** 2))
    done = 0
    while done < replicates:
        b = min(block, replicates - done)
        done += b
        draws = rng.normal(0.0, 1.0, (b, 2, m))  # per replicate: u*, then e*
        theta = base[None, :] + draws[:, 0, :] * sd_u
        ys = theta[:, has] + draws[:, 1, has] * np.sqrt(ps)[None, :]
        sigma2, beta = _fit_many(ys, ps, x[has], method)
        synthetic = beta @ x.T  # (b, m)
        est = synthetic.copy()
        g1 = np.repeat(sigma2[:, None], m, axis=1)
        g = sigma2[:, None] / (sigma2[:, None] + ps[None, :])
        est[:, has] = g * ys + (1.0 - g) * synthetic[:, has]
        g1[:, has] = g * ps[None, :]
        truth = _back(transform, theta, np.zeros_like(theta))
        sq += np.sum((_back(transform, est, g1) - truth) ** 2, axis=0)
    return sq / replicates


def fay_herriot(
    data: pd.DataFrame,
    *,
    estimate: str,
    variance: str,
    covariates: Sequence[str] = (),
    area: str,
    method: Literal["REML", "ML"] = "REML",
    transform: Literal["log", "arcsin"] | None = None,
    effective_n: str | None = None,
    mse: Literal["prasad_rao", "bootstrap"] = "prasad_rao",
    B: int = 500,
    rng: int | np.random.Generator | None = None,
    level: float = 0.95,
) -> FayHerriot:
    """Fit the area-level Fay–Herriot model and return EBLUPs with their MSE.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per area.
    estimate : str
        Column of direct estimates; NaN for an area without sample (it gets the
        synthetic estimate).
    variance : str
        Column of the direct estimates' sampling variances, on the estimates' own
        scale (treated as known; positive where the estimate is given).
    covariates : sequence of str
        Area-level covariates (an intercept is added), on the model's scale.
    area : str
        Column naming the areas.
    method : {"REML", "ML"}
        Estimator of ``sigma2_u``.
    transform : {None, "log", "arcsin"}
        Scale of the model. ``"log"`` (positive estimates, e.g. worker counts):
        ``y = log(Y)``, variance ``psi / Y^2`` (delta method). ``"arcsin"`` (shares):
        ``y = arcsin(sqrt(p))``, variance ``1 / (4 n_eff)`` with ``effective_n``, or
        ``psi / (4 p (1 - p))`` without it. Estimates come back on the original scale,
        bias-corrected: ``E h(theta)`` with ``theta ~ N(EBLUP, g1)`` (``g1 = gamma psi``;
        ``sigma2_u`` for a synthetic area); ``exp(EBLUP + g1/2)`` for log. Intervals are
        the model-scale intervals transformed back (so a share stays in [0, 1] and a
        count positive).
    effective_n : str, optional
        Column of effective sample sizes for ``transform="arcsin"``.
    mse : {"prasad_rao", "bootstrap"}
        MSE estimator. ``"prasad_rao"``: ``g1 + g2 + 2 g3`` (Datta–Lahiri's correction
        under ML), taken to the original scale by the delta method when transformed
        (first order: prefer the bootstrap there). ``"bootstrap"``: the parametric
        bootstrap of González-Manteiga et al. (2008) on the original scale.
    B : int
        Bootstrap replicates (``mse="bootstrap"``).
    rng : int or numpy.random.Generator, optional
        Seed or generator of the bootstrap (fix it for a reproducible report).
    level : float
        Confidence level of the MSE-based intervals.

    Returns
    -------
    FayHerriot
        The fit; :meth:`FayHerriot.to_frame` gives the table.

    Raises
    ------
    DataError
        For missing columns, covariates that are not numbers, non-positive
        variances, estimates outside the transform's range, or fewer areas with a
        direct estimate than coefficients + 1.
    DesignError
        For an unknown method, transform or MSE method.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": list("pqrst"), "y": [10.0, 18.0, 6.0, 15.0, None],
    ...                   "v": [1.0, 2.0, 1.0, 2.0, None], "x": [1.0, 2.0, 1.0, 3.0, 2.0]})
    >>> fh = fay_herriot(d, estimate="y", variance="v", covariates=["x"], area="a")
    >>> fh.to_frame()["method"].tolist()
    ['FH', 'FH', 'FH', 'FH', 'synthetic']
    >>> log = fay_herriot(d, estimate="y", variance="v", covariates=["x"], area="a",
    ...                   transform="log", mse="bootstrap", B=100, rng=1)
    >>> bool((log.to_frame()["lower"] > 0).all())
    True
    """
    where = "fay_herriot"
    if method not in ("REML", "ML"):
        raise DesignError(f"method={method!r} is not available; use 'REML' or 'ML'")
    if transform not in (None, "log", "arcsin"):
        raise DesignError(f"transform={transform!r} is not available; use None, 'log' or 'arcsin'")
    if mse not in ("prasad_rao", "bootstrap"):
        raise DesignError(f"mse={mse!r} is not available; use 'prasad_rao' or 'bootstrap'")
    if mse == "bootstrap" and (isinstance(B, bool) or not isinstance(B, int) or B < 10):
        raise DesignError(f"B={B!r} bootstrap replicates: give a whole number of at least 10")
    if effective_n is not None and transform != "arcsin":
        raise DesignError("effective_n= is used only with transform='arcsin'")
    if not 0 < level < 1:
        raise DesignError(f"level={level!r} must be between 0 and 1, e.g. 0.95")
    for col in (estimate, variance, area, *([effective_n] if effective_n else [])):
        if col not in data.columns:
            raise DataError(f"{where}: column {col!r} is not in the area data")
    if data[area].duplicated().any():
        dup = data.loc[data[area].duplicated(), area].iloc[0]
        raise DataError(f"{where}: area {plain_value(dup)!r} appears twice; give one row per area")
    x = _design_matrix(data, covariates, where)
    names = data[area].to_numpy()
    y_all = pd.to_numeric(data[estimate], errors="coerce").to_numpy(dtype=float)
    psi_all = pd.to_numeric(data[variance], errors="coerce").to_numpy(dtype=float)
    has = np.isfinite(y_all)
    n_eff = None
    if effective_n is not None:
        n_eff = pd.to_numeric(data[effective_n], errors="coerce").to_numpy(dtype=float)
        bad = has & ~(n_eff > 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{where}: area {plain_value(names[i])!r} has a direct estimate but effective_n "
                f"{plain_value(data[effective_n].iloc[i])!r}; give a positive number"
            )
    else:
        bad = has & ~(np.isfinite(psi_all) & (psi_all > 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{where}: area {plain_value(names[i])!r} has a direct estimate but variance "
                f"{plain_value(data[variance].iloc[i])!r}; give a positive sampling variance "
                "(smooth the variances of areas with a tiny sample first)"
            )
    p = x.shape[1]
    if int(has.sum()) < p + 1:
        raise DataError(
            f"{where}: {int(has.sum())} areas have a direct estimate but the model has {p} "
            "coefficients; it needs at least one more area than coefficients"
        )
    y_t = np.full(len(data), np.nan)
    psi_t = np.full(len(data), np.nan)
    y_t[has], psi_t[has] = _forward(
        transform, y_all[has], psi_all[has], None if n_eff is None else n_eff[has],
        names[has], where,
    )  # fmt: skip
    fit = _eblup(y_t, psi_t, x, has, method)
    est = _back(transform, fit.theta, fit.g1)
    from scipy import special

    z = float(special.ndtri(0.5 + level / 2.0))
    rmse_t = np.sqrt(fit.mse)
    if mse == "bootstrap":
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        mse_all = _bootstrap_mse(fit, psi_t, x, has, method, transform, B, gen)
    else:
        mse_all = _slope(transform, fit.theta) ** 2 * fit.mse
    zero = np.zeros(len(data))
    if transform is None:
        lower, upper = est - z * rmse_t, est + z * rmse_t
    else:  # the model-scale interval, transformed back
        lower = _back(transform, fit.theta - z * rmse_t, zero)
        upper = _back(transform, fit.theta + z * rmse_t, zero)
    rmse = np.sqrt(mse_all)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(est != 0, rmse / np.abs(est), np.nan)
    kind = np.where(has & (fit.sigma2 > 0), "FH", "synthetic")
    table = pd.DataFrame(
        {
            "area": names,
            "direct": y_all,
            "direct_var": psi_all,
            "estimate": est,
            "mse": mse_all,
            "rmse": rmse,
            "cv": cv,
            "lower": lower,
            "upper": upper,
            "gamma": fit.gamma,
            "method": kind,
            "std_residual": fit.std_residual,
        }
    )
    return FayHerriot(
        sigma2_u=fit.sigma2,
        beta=pd.Series(fit.beta, index=["intercept", *covariates], name="beta"),
        method=method,
        level=float(level),
        iterations=fit.iterations,
        transform=transform,
        mse_method=mse,
        replicates=B if mse == "bootstrap" else 0,
        _table=table,
    )


def _area_mean(register: pd.DataFrame, covariate: str, area: str) -> pd.Series:
    """Area mean of a register column, or the area share of ``column=value``."""
    column, _, value = covariate.partition("=")
    if value:
        x = (register[column].astype("string") == value).astype("Float64")
    else:
        try:
            x = pd.to_numeric(register[column].astype("Float64"), errors="raise")
        except (TypeError, ValueError) as err:
            raise DataError(
                f"small_area: covariate {column!r} is not a number or a yes/no flag in the "
                f"register; for a category give its share as '{column}=<value>'"
            ) from err
    return x.groupby(register[area]).mean()


def _area_inputs(design: Any, stage: str, area: str, register: pd.DataFrame) -> pd.DataFrame:
    """Register counts, respondents and register-scaled direct counts per area."""
    if stage in _SHARES:
        f = sector_funnel(design, by=area, stages=[stage], register=register).to_frame()
        reg = f[f["stage"] == "registered"].set_index(area)["estimate"]
        direct = f[f["stage"] == stage].set_index(area)
    else:
        counts = register[area].value_counts()
        reg = pd.Series(counts.to_numpy(dtype=float), index=counts.index).sort_index()
        direct = population_totals(design, stage, by=area, register=register).set_index(area)
    out = pd.DataFrame({"area": reg.index, "register": reg.to_numpy(dtype=float)})
    out["n"] = direct["n"].reindex(reg.index).fillna(0).to_numpy(dtype=float)
    out["count"] = direct["estimate"].reindex(reg.index).to_numpy(dtype=float)
    out["count_var"] = direct["se"].reindex(reg.index).to_numpy(dtype=float) ** 2
    return out


def small_area(
    design: Any,
    stage: str = "active",
    *,
    area: str = "powiat_name",
    register: pd.DataFrame,
    covariates: Sequence[str] | None = None,
    method: Literal["REML", "ML"] = "REML",
    mse: Literal["prasad_rao", "bootstrap"] = "bootstrap",
    B: int = 500,
    rng: int | np.random.Generator | None = 0,
    level: float = 0.95,
) -> FayHerriot:
    """Fay–Herriot estimates of a count in every area, from a design and the register.

    The inputs are built as a regional analyst would:

    1. the direct estimate per registered unit in each area, register-scaled:
       for a funnel stage (``"active"``, ``"earning"``, ``"employing"``) the share
       ``p_d = t_d / N_d`` (:func:`~es_survey.sector_funnel`), for a numeric column
       (``"workers"``) the mean per registered unit ``r_d = Y_d / N_d``
       (:func:`~es_survey.population_totals`, among active entities);
    2. its sampling variance smoothed by a generalised variance function, because a
       powiat with 1–5 respondents has an unstable (or zero) direct variance, with
       ``f_d = n_d / N_d`` (``n_d`` the area's respondents with a decided answer):

       * a share: the binomial variance at the regional share ``p``,
         ``psi_d = p (1 - p)(1 - f_d) / n_d``, at least ``1 / (4 N_d^2)`` (half an
         entity's SD); the model is on the arcsin scale with
         ``n_eff = p (1 - p) / psi_d``. The design effect is taken as 1: on the
         synthetic region the linearised variances of powiat shares are 0.6 times
         SRS and understate the powiats' actual squared errors by about half, while
         the binomial variance matches them (docs/methods.md);
       * a mean per unit: relative variance ``c (1 - f_d) / n_d`` with
         ``c = sum_d v_d / sum_d r_d^2 (1 - f_d) / n_d`` over areas with
         ``n_d >= 2`` (``v_d`` the direct variances); the model is on the log scale,
         whose variance is that relative variance (an area whose direct estimate
         is 0 has no logarithm and gets the synthetic estimate);
    3. area covariates from the register: means of numeric or yes/no columns, or
       the share of a category written ``"column=value"``. The defaults are one
       strong covariate each (with 14 areas every extra coefficient costs more
       precision than it buys): the share filing a financial statement
       (``statement_filed``) for the funnel stages, the share of NGO-category
       entities (``"es_category=NGO"``) for workers;
    4. the FH model (:func:`fay_herriot`), areas without respondents getting the
       synthetic estimate; estimates, MSE and intervals are turned into counts with
       the register's ``N_d``.

    Parameters
    ----------
    design : SurveyDesign
        The nonresponse-adjusted design (see :func:`~es_survey.sector_funnel`).
    stage : str
        Funnel stage (``"active"``, ``"earning"``, ``"employing"``) or a numeric
        column totalled among active entities (``"workers"``).
    area : str
        Area column (in the design's data and the register).
    register : pandas.DataFrame
        The frame, one row per registered unit, with ``area`` and the covariates.
    covariates : sequence of str, optional
        Register columns whose area means are the covariates, or ``"column=value"``
        for the area share of a category.
    method : {"REML", "ML"}
        Estimator of ``sigma2_u``.
    mse : {"bootstrap", "prasad_rao"}
        MSE estimator (see :func:`fay_herriot`); the bootstrap by default, as the
        model is on a transformed scale.
    B : int
        Bootstrap replicates.
    rng : int or numpy.random.Generator, optional
        Seed of the bootstrap (fixed by default: a report is reproducible).
    level : float
        Confidence level of the intervals.

    Returns
    -------
    FayHerriot
        The fit on the model's scale (``sigma2_u``, ``beta``); :meth:`FayHerriot.to_frame`
        gives counts: ``direct``, ``estimate``, ``lower``, ``upper`` in entities (or
        workers), with ``register`` (``N_d``) and ``n`` columns added.

    Raises
    ------
    DataError
        For an area or covariate column missing from the register.

    Examples
    --------
    >>> from pathlib import Path
    >>> from es_survey.study import load_config, run_study
    >>> if Path("data/raw/study.toml").is_file():
    ...     res = run_study(load_config("data/raw/study.toml"))
    ...     fit = small_area(res.design, "active", register=res.units, B=50)
    ...     print(len(fit.to_frame()), fit.transform)
    ... else:
    ...     print(14, "arcsin")
    14 arcsin
    """
    if area not in register.columns:
        raise DataError(f"small_area: the register has no area column {area!r}")
    share = stage in _SHARES
    default = _SHARE_COVARIATES if share else _MEAN_COVARIATES
    covs = list(covariates) if covariates is not None else [
        c for c in default if c.split("=")[0] in register.columns
    ]  # fmt: skip
    missing = sorted(c for c in covs if c.split("=")[0] not in register.columns)
    if missing:
        raise DataError(f"small_area: covariate(s) {missing} are not columns of the register")
    areas = _area_inputs(design, stage, area, register)
    n_reg = areas["register"].to_numpy(dtype=float)
    n = areas["n"].to_numpy(dtype=float)
    count = areas["count"].to_numpy(dtype=float)
    per_unit = count / n_reg
    if share:  # a register-scaled count never exceeds N_d; drop rounding beyond it
        per_unit = np.clip(per_unit, 0.0, 1.0)
    ok = (n > 0) & np.isfinite(per_unit)
    with np.errstate(divide="ignore", invalid="ignore"):
        fpc_n = np.clip(1.0 - n / n_reg, 0.0, 1.0) / n
        if share:
            p_all = float(np.nansum(count[ok]) / n_reg[ok].sum())
            unit = np.full(len(n), p_all * (1.0 - p_all))
        else:
            ok &= per_unit > 0
    if share:  # binomial, design effect 1 (see the docstring)
        psi = np.maximum(unit * fpc_n, 1.0 / (4.0 * n_reg**2))
    else:  # relative variance pooled over the areas
        direct_var = areas["count_var"].to_numpy(dtype=float) / n_reg**2
        pool = ok & (n >= 2) & (fpc_n > 0) & np.isfinite(direct_var)
        relvar = per_unit[pool] ** 2 * fpc_n[pool]
        scale = float(direct_var[pool].sum() / relvar.sum()) if pool.any() else 1.0
        psi = np.where(
            ok, scale * np.where(ok, per_unit, 0.0) ** 2 * np.where(ok, fpc_n, 0.0), np.nan
        )
    areas["direct"] = np.where(ok, per_unit, np.nan)
    areas["direct_var"] = np.where(ok, psi, np.nan)
    if share:
        areas["n_eff"] = np.where(ok, unit / psi, np.nan)
    for c in covs:
        areas[c] = _area_mean(register, c, area).reindex(areas["area"]).to_numpy()
    fit = fay_herriot(
        areas, estimate="direct", variance="direct_var", covariates=covs, area="area",
        method=method, transform="arcsin" if share else "log",
        effective_n="n_eff" if share else None, mse=mse, B=B, rng=rng, level=level,
    )  # fmt: skip
    t = fit.to_frame()
    counts = pd.DataFrame(
        {
            "area": t["area"],
            "register": n_reg,
            "n": n,
            "direct": areas["count"].where(n > 0),
            "direct_var": t["direct_var"] * n_reg**2,
            "estimate": t["estimate"] * n_reg,
            "mse": t["mse"] * n_reg**2,
            "rmse": t["rmse"] * n_reg,
            "cv": t["cv"],
            "lower": t["lower"] * n_reg,
            "upper": t["upper"] * n_reg,
            "gamma": t["gamma"],
            "method": t["method"],
            "std_residual": t["std_residual"],
        }
    )
    return FayHerriot(
        sigma2_u=fit.sigma2_u,
        beta=fit.beta,
        method=fit.method,
        level=fit.level,
        iterations=fit.iterations,
        transform=fit.transform,
        mse_method=fit.mse_method,
        replicates=fit.replicates,
        _table=counts,
    )
