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
from scipy import stats

from es_survey.errors import DataError, DesignError
from es_survey.funnel import sector_funnel

__all__ = ["FayHerriot", "fay_herriot", "small_area"]

_FRAME_COVARIATES = ("statement_filed", "krs_economic", "opp")

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
    """

    sigma2_u: float
    beta: pd.Series
    method: str
    level: float
    iterations: int
    _table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """One row per area: direct and model-based estimates with their MSE.

        Returns
        -------
        pandas.DataFrame
            Columns ``[area, direct, direct_var, estimate, mse, rmse, cv, lower,
            upper, gamma, method]``; ``method`` is ``"FH"`` (EBLUP) or
            ``"synthetic"`` (no direct estimate, or ``sigma2_u = 0``); the interval
            is ``estimate -/+ z rmse`` at the fit's level.

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


def _plain(value: object) -> object:
    """Return a data value without its numpy type, for messages."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


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
                f"{where}: covariate {name!r} has {_plain(data[name].iloc[i])!r} for area row "
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


def fay_herriot(
    data: pd.DataFrame,
    *,
    estimate: str,
    variance: str,
    covariates: Sequence[str] = (),
    area: str,
    method: Literal["REML", "ML"] = "REML",
    transform: None = None,
    mse: Literal["prasad_rao"] = "prasad_rao",
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
        Column of the direct estimates' sampling variances (treated as known;
        positive where the estimate is given).
    covariates : sequence of str
        Area-level covariates (an intercept is added).
    area : str
        Column naming the areas.
    method : {"REML", "ML"}
        Estimator of ``sigma2_u``.
    transform : None
        Only None (the model on the estimates' own scale) is available so far.
    mse : {"prasad_rao"}
        MSE estimator (Prasad–Rao; Datta–Lahiri's correction under ML).
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
        variances, or fewer areas with a direct estimate than coefficients + 1.
    DesignError
        For an unknown method, or a transform or MSE method not available.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": list("pqrst"), "y": [10.0, 18.0, 6.0, 15.0, None],
    ...                   "v": [1.0, 2.0, 1.0, 2.0, None], "x": [1.0, 2.0, 1.0, 3.0, 2.0]})
    >>> fh = fay_herriot(d, estimate="y", variance="v", covariates=["x"], area="a")
    >>> fh.to_frame()["method"].tolist()
    ['FH', 'FH', 'FH', 'FH', 'synthetic']
    """
    where = "fay_herriot"
    if method not in ("REML", "ML"):
        raise DesignError(f"method={method!r} is not available; use 'REML' or 'ML'")
    if transform is not None:
        raise DesignError(
            f"transform={transform!r} is not available yet; model the estimates on their own "
            "scale (transform=None)"
        )
    if mse != "prasad_rao":
        raise DesignError(f"mse={mse!r} is not available yet; use mse='prasad_rao'")
    if not 0 < level < 1:
        raise DesignError(f"level={level!r} must be between 0 and 1, e.g. 0.95")
    for col in (estimate, variance, area):
        if col not in data.columns:
            raise DataError(f"{where}: column {col!r} is not in the area data")
    if data[area].duplicated().any():
        dup = data.loc[data[area].duplicated(), area].iloc[0]
        raise DataError(f"{where}: area {_plain(dup)!r} appears twice; give one row per area")
    x = _design_matrix(data, covariates, where)
    y_all = pd.to_numeric(data[estimate], errors="coerce").to_numpy(dtype=float)
    psi_all = pd.to_numeric(data[variance], errors="coerce").to_numpy(dtype=float)
    has = np.isfinite(y_all)
    bad = has & ~(np.isfinite(psi_all) & (psi_all > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{where}: area {_plain(data[area].iloc[i])!r} has a direct estimate but variance "
            f"{_plain(data[variance].iloc[i])!r}; give a positive sampling variance (smooth the "
            "variances of areas with a tiny sample first)"
        )
    p = x.shape[1]
    if int(has.sum()) < p + 1:
        raise DataError(
            f"{where}: {int(has.sum())} areas have a direct estimate but the model has {p} "
            "coefficients; it needs at least one more area than coefficients"
        )
    y, psi, xs = y_all[has], psi_all[has], x[has]
    sigma2, beta, xtvx_inv, iterations = _fit(y, psi, xs, method)

    synthetic = x @ beta
    lev = np.einsum("ij,jk,ik->i", x, xtvx_inv, x)  # x_i'(X'V^-1X)^-1 x_i
    est = synthetic.copy()
    mse_all = sigma2 + lev  # areas without a direct estimate
    gamma = np.zeros(len(data))
    v = sigma2 + psi
    g = sigma2 / v
    est[has] = g * y + (1.0 - g) * synthetic[has]
    gamma[has] = g
    var_sigma2 = 2.0 / np.sum(v**-2.0)  # asymptotic variance of the REML/ML estimator
    g1 = g * psi
    g2 = (1.0 - g) ** 2 * lev[has]
    g3 = psi**2 / v**3 * var_sigma2
    mse_has = g1 + g2 + 2.0 * g3
    if method == "ML":  # Datta and Lahiri: ML's sigma2 is biased down by b_ML = -t / sum v^-2
        shortfall = np.trace(xtvx_inv @ (xs.T @ ((v**-2.0)[:, None] * xs))) / np.sum(v**-2.0)
        mse_has = mse_has + shortfall * (1.0 - g) ** 2  # - b_ML * d g1 / d sigma2
    mse_all[has] = mse_has
    rmse = np.sqrt(mse_all)
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(est != 0, rmse / np.abs(est), np.nan)
    kind = np.where(has & (sigma2 > 0), "FH", "synthetic")
    table = pd.DataFrame(
        {
            "area": data[area].to_numpy(),
            "direct": y_all,
            "direct_var": psi_all,
            "estimate": est,
            "mse": mse_all,
            "rmse": rmse,
            "cv": cv,
            "lower": est - z * rmse,
            "upper": est + z * rmse,
            "gamma": gamma,
            "method": kind,
        }
    )
    names = ["intercept", *covariates]
    return FayHerriot(
        sigma2_u=sigma2,
        beta=pd.Series(beta, index=names, name="beta"),
        method=method,
        level=float(level),
        iterations=iterations,
        _table=table,
    )


def small_area(
    design: Any,
    stage: str = "active",
    *,
    area: str = "powiat_name",
    register: pd.DataFrame,
    covariates: Sequence[str] | None = None,
    method: Literal["REML", "ML"] = "REML",
    level: float = 0.95,
) -> FayHerriot:
    """Fay–Herriot estimates of a funnel stage's count in every area, from a design.

    The inputs are built as a regional analyst would:

    1. the direct estimate of the stage's share of registered entities in each area
       (:func:`~es_survey.sector_funnel` with the register: ``p_d = t_d / N_d``);
    2. its sampling variance smoothed by a generalised variance function, because a
       powiat with 1–5 respondents has an unstable (or zero) direct variance:
       ``psi_d = deff * p (1 - p) (1 - n_d / N_d) / n_d`` with ``p`` the regional share,
       ``n_d`` the area's respondents with a decided answer and ``deff`` the pooled
       design effect ``sum_d v_d / sum_d p (1 - p)(1 - n_d/N_d)/n_d`` over areas with
       ``n_d >= 2`` (``v_d`` the direct variances); at least a quarter of one entity,
       ``1 / (4 N_d^2)``;
    3. area covariates from the register (default: the shares of the frame's
       ``statement_filed``, ``krs_economic`` and ``opp`` flags that exist);
    4. the FH model on the shares (:func:`fay_herriot`), areas without respondents
       getting the synthetic estimate; shares are kept in [0, 1] and turned into
       counts with the register's ``N_d`` (MSE times ``N_d^2``).

    Parameters
    ----------
    design : SurveyDesign
        The nonresponse-adjusted design (see :func:`~es_survey.sector_funnel`).
    stage : str
        Funnel stage: ``"active"``, ``"earning"`` or ``"employing"``.
    area : str
        Area column (in the design's data and the register).
    register : pandas.DataFrame
        The frame, one row per registered unit, with ``area`` and the covariates.
    covariates : sequence of str, optional
        Frame columns whose area means are the covariates.
    method : {"REML", "ML"}
        Estimator of ``sigma2_u``.
    level : float
        Confidence level of the intervals.

    Returns
    -------
    FayHerriot
        The fit on the share scale (``sigma2_u``, ``beta``); :meth:`FayHerriot.to_frame`
        gives counts: ``direct``, ``estimate``, ``lower``, ``upper`` in entities, with
        ``register`` (``N_d``) and ``n`` columns added.

    Raises
    ------
    DataError
        For an area or covariate column missing from the register.
    """
    if area not in register.columns:
        raise DataError(f"small_area: the register has no area column {area!r}")
    covs = [c for c in (covariates or _FRAME_COVARIATES) if c in register.columns]
    if covariates is not None and len(covs) != len(covariates):
        missing = sorted(set(covariates) - set(covs))
        raise DataError(f"small_area: covariate(s) {missing} are not columns of the register")
    f = sector_funnel(design, by=area, stages=[stage], register=register).to_frame()
    reg = f[f["stage"] == "registered"].set_index(area)["estimate"]
    direct = f[f["stage"] == stage].set_index(area)
    areas = pd.DataFrame({"area": reg.index, "register": reg.to_numpy()})
    areas["n"] = direct["n"].reindex(reg.index).fillna(0).to_numpy()
    count = direct["estimate"].reindex(reg.index).to_numpy(dtype=float)
    se = direct["se"].reindex(reg.index).to_numpy(dtype=float)
    n_reg = areas["register"].to_numpy(dtype=float)
    n = areas["n"].to_numpy(dtype=float)
    share = count / n_reg
    ok = (n > 0) & np.isfinite(share)
    p_all = float(np.nansum(count[ok]) / n_reg[ok].sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        srs = p_all * (1.0 - p_all) * np.clip(1.0 - n / n_reg, 0.0, 1.0) / n
        direct_var = (se / n_reg) ** 2
    pool = ok & (n >= 2) & (srs > 0) & np.isfinite(direct_var)
    deff = float(direct_var[pool].sum() / srs[pool].sum()) if pool.any() else 1.0
    psi = np.maximum(deff * srs, 1.0 / (4.0 * n_reg**2))
    areas["direct"] = np.where(ok, share, np.nan)
    areas["direct_var"] = np.where(ok, psi, np.nan)
    for c in covs:
        values = pd.to_numeric(register[c].astype("Float64"), errors="coerce")
        areas[c] = values.groupby(register[area]).mean().reindex(reg.index).to_numpy()
    fit = fay_herriot(
        areas, estimate="direct", variance="direct_var", covariates=covs, area="area",
        method=method, level=level,
    )  # fmt: skip
    t = fit.to_frame()
    est = np.clip(t["estimate"].to_numpy(), 0.0, 1.0)
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    counts = pd.DataFrame(
        {
            "area": t["area"],
            "register": n_reg,
            "n": n,
            "direct": t["direct"] * n_reg,
            "direct_var": t["direct_var"] * n_reg**2,
            "estimate": est * n_reg,
            "mse": t["mse"] * n_reg**2,
            "rmse": t["rmse"] * n_reg,
            "gamma": t["gamma"],
            "method": t["method"],
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        counts["cv"] = np.where(counts["estimate"] > 0, counts["rmse"] / counts["estimate"], np.nan)
    counts["lower"] = np.clip(counts["estimate"] - z * counts["rmse"], 0.0, n_reg)
    counts["upper"] = np.clip(counts["estimate"] + z * counts["rmse"], 0.0, n_reg)
    order = ["area", "register", "n", "direct", "direct_var", "estimate", "mse", "rmse",
             "cv", "lower", "upper", "gamma", "method"]  # fmt: skip
    return FayHerriot(
        sigma2_u=fit.sigma2_u,
        beta=fit.beta,
        method=fit.method,
        level=fit.level,
        iterations=fit.iterations,
        _table=counts[order],
    )
