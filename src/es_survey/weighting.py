r"""Survey weighting: post-stratification, raking, calibration, trimming, diagnostics.

Pure weight functions
---------------------
The functions :func:`poststratify_weights`, :func:`rake_weights`,
:func:`calibrate_weights` and :func:`trim_weights` take weights as an ``(n,)``
vector or an ``(n, m)`` matrix (``m`` weight columns processed together, e.g. the
replicate weights of a replicate design) and return new weights of the same
shape; the input is never modified. :func:`model_matrix` turns named targets
into a full-rank model matrix and target vector.

Every function checks that its targets are met: ``epsilon`` is relative, the
largest ``|achieved - target| / |target|`` over all margins and categories
(absolute for a zero target). Non-convergence, a target that cannot be met
within the bounds, or a category with zero sample weight raises
:class:`~es_survey.errors.CalibrationError`, whose message and ``.table``
attribute show the achieved and target totals per margin and category. Nothing
converges "approximately" in silence.

Calibration (Deville & Särndal 1992) finds weights ``w_i = d_i g_i`` with
``sum_i w_i x_i = T`` and ``g_i = F(x_i' lambda)``:

* ``"linear"``: ``F(u) = 1 + u`` (GREG; closed form without bounds);
* ``"raking"``: ``F(u) = exp(u)`` (multiplicative; the same weights as raking);
* ``"logit"``: R's bounded logistic ``F`` with ``L < g < U`` (finite bounds needed);

with optional bounds ``(L, U)`` on ``g`` (linear and raking are then truncated,
as R's ``cal.linear``/``cal.raking``). ``lambda`` is found by Newton steps on the
calibration equations (R ``grake``), with step halving when a step gives
non-finite weights.

Variance after weighting
------------------------
A calibrated design keeps the list of its weighting steps. Its variance engine
(:class:`CalibratedVariance`) replaces the weighted influence values ``x_i``
of every estimate by calibration residuals before the design variance, as R
``survey``'s ``svyrecvar`` does with a design's ``postStrata``: for a
post-stratification, raking or calibration step from weights ``w0`` to ``w1``
with model matrix ``X``,

.. math::

    x_i \leftarrow w_{1i} (v_i - x_i' b), \quad v_i = x_i / w_{1i}, \quad
    b = (X' W_0 X)^{-1} X' W_0 v,

(``g``-weight times the residual of the influence value regressed on the
calibration model with the initial weights; for a post-stratification ``b`` is
the ``w0``-weighted post-stratum mean). Steps are applied in the order they
were made, as R's ``postStrata`` list. Domain estimates residualise the
domain-restricted influence values, which are then non-zero outside the domain:
the variance sees the whole design.

Nonresponse steps (:meth:`SurveyDesign.adjust_nonresponse`) are ratio
adjustments within classes: from weights ``d`` of all units of a class to
``w1 = d * sum(d) / sum(d over kept units)`` on the kept units (0 elsewhere).
Their linearisation (Särndal, Swensson & Wretman 1992, §15.6; Kott 1994) is

.. math:: x_i \leftarrow k_i (x_i - w_{1i} m_c) + d_i m_c, \quad
          m_c = \sum_{i \in c} x_i / \sum_{i \in c} w_{1i},

with ``k_i`` the indicator of kept units. They are applied after the
calibration steps, last one first (the chain rule: a calibration made after a
nonresponse adjustment is linearised first).

References
----------
Deville, J.-C. and Särndal, C.-E. (1992). Calibration estimators in survey
sampling. *JASA* 87, 376-382.
Deville, J.-C., Särndal, C.-E. and Sautory, O. (1993). Generalized raking
procedures in survey sampling. *JASA* 88, 1013-1020.
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, ch. 7. Wiley.
Kott, P. S. (1994). A note on handling nonresponse in sample surveys. *JASA* 89,
693-696.
Valliant, R., Dever, J. A. and Kreuter, F. (2018). *Practical Tools for Designing
and Weighting Survey Samples*, 2nd ed., ch. 13-14. Springer.
Kish, L. (1965). *Survey Sampling*. Wiley (design effect of unequal weights).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from scipy import sparse

from es_survey.errors import CalibrationError, DataError, DesignError
from es_survey.variance import TaylorVariance, _DomainKeys

__all__ = [
    "CalibratedVariance",
    "calibrate_weights",
    "logistic_propensity",
    "model_matrix",
    "nonresponse_steps",
    "poststratify_weights",
    "rake_weights",
    "trim_weights",
    "weights_summary",
]

Method = Literal["linear", "raking", "logit"]
_CHUNK_CELLS = 1 << 22  # cells of one block of residualised influence values
_DENSE_CROSS = 8  # unit x domain table of the calibrated fast route up to 8 n cells
_DENSE_MIN = 1 << 16  # ... or up to this many cells


# --------------------------------------------------------------------- helpers
def _as_matrix(weights: np.ndarray, name: str = "weights") -> tuple[np.ndarray, bool]:
    """Weights as a float (n, m) copy and whether the input was a vector."""
    w = np.array(weights, dtype=float, copy=True)
    if w.ndim not in (1, 2):
        raise DesignError(f"{name} must be an (n,) vector or an (n, m) matrix, got shape {w.shape}")
    if not np.isfinite(w).all():
        raise DesignError(f"{name} has {int((~np.isfinite(w)).sum())} non-finite values")
    if (w < 0).any():
        raise DesignError(f"{name} has {int((w < 0).sum())} negative values; weights must be >= 0")
    return (w[:, None], True) if w.ndim == 1 else (w, False)


def _rel(achieved: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``|achieved - target| / |target|`` (absolute for a zero target)."""
    scale = np.where(target != 0, np.abs(target), 1.0)
    scale = scale.reshape(scale.shape + (1,) * (achieved.ndim - scale.ndim))
    target = target.reshape(target.shape + (1,) * (achieved.ndim - target.ndim))
    return np.abs(achieved - target) / scale


def _table(
    margins: Sequence[str],
    categories: Sequence[str],
    target: np.ndarray,
    achieved: np.ndarray,
    columns: np.ndarray,
) -> pd.DataFrame:
    """Achieved versus target per (weight column, margin, category)."""
    parts = []
    for j in columns:
        parts.append(
            pd.DataFrame(
                {
                    "column": int(j),
                    "margin": list(margins),
                    "category": list(categories),
                    "target": target.astype(float),
                    "achieved": achieved[:, j].astype(float),
                    "rel_diff": _rel(achieved[:, j], target),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _fail(
    message: str,
    margins: Sequence[str],
    categories: Sequence[str],
    target: np.ndarray,
    achieved: np.ndarray,
    bad: np.ndarray,
    single: bool,
) -> CalibrationError:
    columns = np.flatnonzero(bad)
    table = _table(margins, categories, target, achieved, columns)
    if single:
        table = table.drop(columns="column")
    shown = table.head(40).to_string(index=False, float_format=lambda v: f"{v:.10g}")
    more = f"\n... {len(table) - 40} more rows in .table" if len(table) > 40 else ""
    cols = "" if single else f" (weight columns {columns[:10].tolist()})"
    return CalibrationError(
        f"{message}{cols}; achieved versus target totals:\n{shown}{more}", table=table
    )


def _labels(names: Sequence[str] | None, size: int, default: str) -> list[str]:
    if names is None:
        return [str(i) for i in range(size)]
    names = [str(v) for v in names]
    if len(names) != size:
        raise DesignError(f"{default} has {len(names)} labels for {size} categories")
    return names


def _check_codes(codes: np.ndarray, n: int, size: int, what: str) -> np.ndarray:
    c = np.asarray(codes)
    if c.shape != (n,):
        raise DesignError(f"{what} has shape {c.shape}; give one integer code per row ({n})")
    if not np.issubdtype(c.dtype, np.integer):
        raise DesignError(f"{what} must hold integer codes, got dtype {c.dtype}")
    if n and (c.min() < 0 or c.max() >= size):
        raise DesignError(
            f"{what} has codes outside 0..{size - 1} (min {c.min()}, max {c.max()}); "
            "give one total per code"
        )
    return c.astype(np.int64, copy=False)


def _cell_sums(codes: np.ndarray, w: np.ndarray, size: int) -> np.ndarray:
    """(size, m) sums of the columns of ``w`` (n, m) by code."""
    if w.shape[1] == 1:
        return np.bincount(codes, weights=w[:, 0], minlength=size)[:, None]
    indicator = sparse.csr_matrix(
        (np.ones(codes.shape[0]), (codes, np.arange(codes.shape[0]))),
        shape=(size, codes.shape[0]),
    )
    return np.asarray(indicator @ w)


# ---------------------------------------------------------- post-stratification
def poststratify_weights(
    weights: np.ndarray,
    cells: np.ndarray,
    totals: np.ndarray,
    *,
    names: Sequence[str] | None = None,
    margin: str = "cell",
) -> np.ndarray:
    r"""Post-stratify weights to known cell totals.

    ``w_i <- w_i T_c / sum_{j in c} w_j`` for unit ``i`` in cell ``c``
    (R ``postStratify``), for every weight column.

    Parameters
    ----------
    weights : numpy.ndarray
        ``(n,)`` or ``(n, m)`` non-negative weights.
    cells : numpy.ndarray
        ``(n,)`` integer cell code of each row, ``0 .. n_cells - 1``.
    totals : numpy.ndarray
        ``(n_cells,)`` population totals of the cells.
    names : sequence of str, optional
        Cell labels for error tables.
    margin : str
        Name of the post-stratification variable for error tables.

    Returns
    -------
    numpy.ndarray
        New weights, same shape as ``weights``.

    Raises
    ------
    CalibrationError
        When a cell with a positive total has zero sample weight (in any column).

    Examples
    --------
    >>> poststratify_weights(np.array([1.0, 1.0, 2.0]), np.array([0, 0, 1]),
    ...                      np.array([10.0, 4.0])).tolist()
    [5.0, 5.0, 4.0]
    """
    w, single = _as_matrix(weights)
    t = np.asarray(totals, dtype=float)
    if t.ndim != 1:
        raise DesignError(f"totals must be one total per cell, got shape {t.shape}")
    c = _check_codes(cells, w.shape[0], t.shape[0], "cells")
    sums = _cell_sums(c, w, t.shape[0])
    empty = (sums <= 0) & (t[:, None] != 0)
    labels = _labels(names, t.shape[0], "totals")
    if empty.any():
        raise _fail(
            f"post-stratification of {margin!r}: cell(s) "
            f"{[labels[i] for i in np.flatnonzero(empty.any(axis=1))[:10]]} have a target but "
            "zero sample weight; collapse them with a neighbouring cell",
            [margin] * len(labels),
            labels,
            t,
            sums,
            empty.any(axis=0),
            single,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(sums > 0, t[:, None] / sums, 0.0)
    out = w * factor[c] if w.shape[1] > 1 else w * factor[c, 0][:, None]
    return out[:, 0] if single else out


# --------------------------------------------------------------------- raking
def rake_weights(
    weights: np.ndarray,
    margins: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    epsilon: float = 1e-10,
    max_iter: int = 100,
    names: Sequence[tuple[str, Sequence[str]]] | None = None,
) -> np.ndarray:
    r"""Rake weights to several margins by iterative proportional fitting.

    Each pass post-stratifies to every margin in turn (Deming & Stephan 1940;
    R ``rake``); passes stop when the largest relative difference between
    achieved and target totals over all margins is below ``epsilon``. The
    result equals calibration with ``method="raking"`` on the margins' indicators.

    Parameters
    ----------
    weights : numpy.ndarray
        ``(n,)`` or ``(n, m)`` non-negative weights.
    margins : sequence of (codes, totals)
        For each margin: ``(n,)`` integer codes of the rows and the totals per code.
    epsilon : float
        Relative tolerance: max ``|achieved - target| / |target|``.
    max_iter : int
        Maximum number of passes over the margins.
    names : sequence of (str, list of str), optional
        Margin name and category labels, for error tables.

    Returns
    -------
    numpy.ndarray
        New weights, same shape as ``weights``.

    Raises
    ------
    CalibrationError
        When a category has zero sample weight, the margins' totals disagree, or
        the passes do not converge within ``max_iter``.

    Examples
    --------
    >>> w = np.ones(4)
    >>> a, b = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    >>> rake_weights(w, [(a, np.array([6.0, 4.0])), (b, np.array([5.0, 5.0]))]).round(6).tolist()
    [3.0, 3.0, 2.0, 2.0]
    """
    w, single = _as_matrix(weights)
    n = w.shape[0]
    if not margins:
        raise DesignError("rake_weights needs at least one margin")
    if not (epsilon > 0) or max_iter < 1:
        raise DesignError(f"epsilon={epsilon!r} must be > 0 and max_iter={max_iter!r} >= 1")
    codes, totals, mnames, cats = [], [], [], []
    for k, (c, t) in enumerate(margins):
        t = np.asarray(t, dtype=float)
        codes.append(_check_codes(c, n, t.shape[0], f"margin {k} codes"))
        totals.append(t)
        if names is None:
            mnames.append(str(k))
            cats.append([str(i) for i in range(t.shape[0])])
        else:
            mnames.append(str(names[k][0]))
            cats.append(_labels(names[k][1], t.shape[0], f"margin {names[k][0]!r}"))
    flat_m = [m for m, cs in zip(mnames, cats, strict=True) for _ in cs]
    flat_c = [c for cs in cats for c in cs]
    target = np.concatenate(totals)

    def achieved_all(wm: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [_cell_sums(c, wm, t.shape[0]) for c, t in zip(codes, totals, strict=True)]
        )

    start = achieved_all(w)
    empty = (start <= 0) & (target[:, None] != 0)
    if empty.any():
        raise _fail(
            "raking: categories with a target have zero sample weight; collapse them",
            flat_m,
            flat_c,
            target,
            start,
            empty.any(axis=0),
            single,
        )
    sums = np.array([t.sum() for t in totals])
    if np.abs(sums - sums[0]).max() > 1e-9 * abs(sums[0]):
        raise DesignError(
            "raking margins have different totals: "
            + ", ".join(f"{m}={s:.10g}" for m, s in zip(mnames, sums, strict=True))
            + "; every margin must sum to the same population size"
        )
    active = np.ones(w.shape[1], dtype=bool)
    for _ in range(max_iter):
        cols = np.flatnonzero(active)
        sub = w[:, cols]
        for c, t in zip(codes, totals, strict=True):
            s = _cell_sums(c, sub, t.shape[0])
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(s > 0, t[:, None] / s, 0.0)
            sub = sub * factor[c]
        w[:, cols] = sub
        rel = _rel(achieved_all(sub), target).max(axis=0)
        active[cols[rel < epsilon]] = False
        if not active.any():
            break
    else:
        ach = achieved_all(w)
        raise _fail(
            f"raking did not converge to epsilon={epsilon:g} in {max_iter} passes "
            "(largest relative difference "
            f"{_rel(ach, target).max():.3g}); raise max_iter or collapse sparse categories",
            flat_m,
            flat_c,
            target,
            ach,
            active,
            single,
        )
    return w[:, 0] if single else w


# ---------------------------------------------------------------- calibration
def _calfun(
    method: str, u: np.ndarray, lower: float, upper: float
) -> tuple[np.ndarray, np.ndarray]:
    """``g = F(u)`` and ``dF/du`` for R's calibration functions (with bounds)."""
    with np.errstate(over="ignore", invalid="ignore"):
        if method == "linear":
            g = 1.0 + u
            inside = (g > lower) & (g < upper)
            return np.clip(g, lower, upper), inside.astype(float)
        if method == "raking":
            e = np.exp(u)
            inside = (e > lower) & (e < upper)
            return np.clip(e, lower, upper), np.where(inside, e, 0.0)
        a = (upper - lower) / ((upper - 1.0) * (1.0 - lower))
        e = np.exp(a * u)
        den = upper - 1.0 + (1.0 - lower) * e
        g = (lower * (upper - 1.0) + upper * (1.0 - lower) * e) / den
        dg = (upper - lower) * (upper - 1.0) * (1.0 - lower) * a * e / den**2
        big = np.isinf(e)
        g = np.where(big, upper, g)
        dg = np.where(big, 0.0, dg)
        return g, dg


def calibrate_weights(
    weights: np.ndarray,
    X: np.ndarray | sparse.spmatrix,
    targets: np.ndarray,
    *,
    method: Method = "linear",
    bounds: tuple[float, float] | None = None,
    epsilon: float = 1e-10,
    max_iter: int = 100,
    labels: Sequence[str] | None = None,
) -> np.ndarray:
    r"""Calibrate weights to known totals (Deville & Särndal 1992; R ``calibrate``).

    Finds ``w_i = d_i g_i``, ``g_i = F(x_i' lambda)``, with ``sum_i w_i x_i = T``
    (see the module docstring for ``F``). Unbounded linear calibration is the
    closed form ``lambda = (X' D X)^{-1} (T - X' d)``; otherwise Newton steps
    ``lambda += (X' D F'(X lambda) X)^+ (T - X' w)`` until the largest relative
    misfit is below ``epsilon``.

    Parameters
    ----------
    weights : numpy.ndarray
        ``(n,)`` or ``(n, m)`` initial weights ``d``.
    X : numpy.ndarray or scipy.sparse matrix
        ``(n, p)`` full-rank model matrix (see :func:`model_matrix`).
    targets : numpy.ndarray
        ``(p,)`` population totals of the columns of ``X``.
    method : {"linear", "raking", "logit"}
        Calibration function.
    bounds : (float, float), optional
        ``(L, U)`` bounds on ``g = w / d`` with ``L < 1 < U``; required (finite)
        for ``"logit"``.
    epsilon : float
        Relative tolerance of the calibration equations.
    max_iter : int
        Maximum number of Newton steps.
    labels : sequence of str, optional
        Names of the columns of ``X`` for error tables.

    Returns
    -------
    numpy.ndarray
        Calibrated weights, same shape as ``weights``.

    Raises
    ------
    CalibrationError
        When a column has zero sample total but a non-zero target, or the
        equations cannot be met within the bounds in ``max_iter`` steps.
    DesignError
        For an unknown method, invalid bounds or mismatched shapes.

    Examples
    --------
    >>> X = np.array([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
    >>> w = calibrate_weights(np.ones(3), X, np.array([6.0, 13.0]))
    >>> (X.T @ w).round(10).tolist()
    [6.0, 13.0]
    """
    if method not in ("linear", "raking", "logit"):
        raise DesignError(f"method={method!r} is not available; use 'linear', 'raking' or 'logit'")
    w, single = _as_matrix(weights)
    n, m = w.shape
    is_sparse = sparse.issparse(X)
    xm = sparse.csr_matrix(X, dtype=float) if is_sparse else np.asarray(X, dtype=float)
    if xm.ndim != 2 or xm.shape[0] != n:
        raise DesignError(f"X has shape {xm.shape}; it needs {n} rows (one per weight row)")
    t = np.asarray(targets, dtype=float)
    p = xm.shape[1]
    if t.shape != (p,):
        raise DesignError(f"targets has shape {t.shape}; X has {p} columns")
    names = _labels(labels, p, "X")
    margin_names = [v.split("=", 1)[0] if "=" in v else v for v in names]
    cat_names = [v.split("=", 1)[1] if "=" in v else "" for v in names]
    lower, upper = (-np.inf, np.inf) if bounds is None else (float(bounds[0]), float(bounds[1]))
    if not lower < 1.0 < upper:
        raise DesignError(f"bounds={bounds!r} must satisfy lower < 1 < upper (bounds on w/d)")
    if method == "logit" and not (np.isfinite(lower) and np.isfinite(upper)):
        raise DesignError("method='logit' needs finite bounds, e.g. bounds=(0.5, 3.0)")
    if not (epsilon > 0) or max_iter < 1:
        raise DesignError(f"epsilon={epsilon!r} must be > 0 and max_iter={max_iter!r} >= 1")
    if not np.isfinite(t).all():
        raise DesignError("targets must be finite numbers")

    def totals(wm: np.ndarray) -> np.ndarray:
        return np.asarray(xm.T @ wm)

    start = totals(w)
    empty = np.asarray(abs(xm).T @ (w > 0).astype(float)) == 0
    empty &= t[:, None] != 0
    if empty.any():
        raise _fail(
            "calibration: column(s) "
            f"{[names[i] for i in np.flatnonzero(empty.any(axis=1))[:10]]} have a target but "
            "zero sample weight; drop or collapse those categories",
            margin_names,
            cat_names,
            t,
            start,
            empty.any(axis=0),
            single,
        )

    def hessians(scale: np.ndarray) -> np.ndarray:
        """(m, p, p) matrices X' diag(scale[:, j]) X."""
        if isinstance(xm, np.ndarray):
            return np.einsum("np,nm,nq->mpq", xm, scale, xm, optimize=True)
        out = np.empty((m, p, p))
        for j in range(m):
            out[j] = (xm.T @ xm.multiply(scale[:, j][:, None])).toarray()
        return out

    def apply(lam: np.ndarray) -> np.ndarray:
        return np.asarray(xm @ lam)  # (n, m)

    lam = np.zeros((p, m))
    if method == "linear" and bounds is None:
        h = hessians(w)
        lam = _solve(h, (t[:, None] - start).T).T
        g = 1.0 + apply(lam)
        out = w * g
        rel = _rel(totals(out), t).max(axis=0)
        bad = ~(rel < max(epsilon, 1e-9))
        if bad.any():
            raise _fail(
                "linear calibration could not meet the targets (the model matrix is "
                "ill-conditioned)",
                margin_names,
                cat_names,
                t,
                totals(out),
                bad,
                single,
            )
        return out[:, 0] if single else out

    g, dg = _calfun(method, apply(lam), lower, upper)
    active = np.ones(m, dtype=bool)
    for _ in range(max_iter):
        cols = np.flatnonzero(active)
        wc = w[:, cols]
        misfit = t[:, None] - totals(wc * g[:, cols])
        h = hessians(wc * dg[:, cols])
        step = _solve(h, misfit.T, pseudo=True).T
        new = lam[:, cols] + step
        gn, dgn = _calfun(method, apply(new), lower, upper)
        for _half in range(60):
            finite = np.isfinite(gn).all(axis=0) & np.isfinite(dgn).all(axis=0)
            if finite.all():
                break
            step[:, ~finite] /= 2.0
            new = lam[:, cols] + step
            gn, dgn = _calfun(method, apply(new), lower, upper)
        lam[:, cols] = new
        g[:, cols], dg[:, cols] = gn, dgn
        rel = _rel(totals(wc * gn), t)
        rel = np.where(np.isnan(rel), np.inf, rel).max(axis=0)
        active[cols[rel < epsilon]] = False
        if not active.any():
            break
    else:
        ach = totals(w * g)
        worst = float(np.nanmax(_rel(ach[:, active], t))) if active.any() else np.nan
        rng = "" if bounds is None else f" within bounds {bounds!r}"
        raise _fail(
            f"{method} calibration did not meet the targets{rng} in {max_iter} steps "
            f"(largest relative difference {worst:.3g}); widen the bounds, collapse "
            "categories or drop a target",
            margin_names,
            cat_names,
            t,
            ach,
            active,
            single,
        )
    out = w * g
    return out[:, 0] if single else out


def _solve(h: np.ndarray, rhs: np.ndarray, *, pseudo: bool = False) -> np.ndarray:
    """Batched solve of ``h[j] x = rhs[j]`` with column equilibration (pinv if asked)."""
    diag = np.sqrt(np.abs(np.diagonal(h, axis1=1, axis2=2)))
    diag = np.where(diag > 0, diag, 1.0)
    hs = h / diag[:, :, None] / diag[:, None, :]
    rs = rhs / diag
    if pseudo:
        sol = np.einsum("mpq,mq->mp", np.linalg.pinv(hs, rcond=256 * np.finfo(float).eps), rs)
    else:
        sol = np.linalg.solve(hs, rs[:, :, None])[:, :, 0]
    return sol / diag


# ------------------------------------------------------------------- trimming
def trim_weights(
    weights: np.ndarray,
    *,
    lower: float | None = None,
    upper: float | None = None,
    max_iter: int = 100,
) -> np.ndarray:
    r"""Trim weights to ``[lower, upper]`` and redistribute the excess proportionally.

    Each pass sets weights outside the bounds to the bound and multiplies the
    weights strictly inside by ``1 + excess / sum(inside weights)``, so every
    column keeps its total; passes repeat until no weight is outside. Zero
    weights (e.g. nonrespondents) stay zero and are not trimmed. (R's
    ``trimWeights`` adds an equal amount to each untrimmed weight instead.)

    Parameters
    ----------
    weights : numpy.ndarray
        ``(n,)`` or ``(n, m)`` non-negative weights.
    lower, upper : float, optional
        Bounds on the positive weights (absolute values, not ratios).
    max_iter : int
        Maximum number of passes.

    Returns
    -------
    numpy.ndarray
        Trimmed weights with the same column totals.

    Raises
    ------
    CalibrationError
        When the bounds cannot hold with the total preserved (e.g. ``upper``
        times the number of positive weights is below the total).
    DesignError
        When neither bound is given or ``lower >= upper``.

    Examples
    --------
    >>> trim_weights(np.array([1.0, 1.0, 1.0, 7.0]), upper=4.0).tolist()
    [2.0, 2.0, 2.0, 4.0]
    """
    if lower is None and upper is None:
        raise DesignError("trim needs lower= or upper= (bounds on the weights)")
    lo = -np.inf if lower is None else float(lower)
    hi = np.inf if upper is None else float(upper)
    if not lo < hi:
        raise DesignError(f"lower={lower!r} must be below upper={upper!r}")
    w, single = _as_matrix(weights)
    positive = w > 0
    total = w.sum(axis=0)
    fixed = np.zeros_like(positive)
    for _ in range(max_iter):
        out_hi = positive & (w > hi)
        out_lo = positive & (w < lo)
        outside = out_hi | out_lo
        if not outside.any():
            break
        clipped = np.where(out_hi, hi, np.where(out_lo, lo, w))
        excess = (w - clipped).sum(axis=0)
        fixed |= outside
        free = positive & ~fixed
        base = np.where(free, clipped, 0.0).sum(axis=0)
        ok = base > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(ok, 1.0 + excess / np.where(ok, base, 1.0), 1.0)
        w = np.where(free, clipped * factor, clipped)
        if (~ok & (np.abs(excess) > 0)).any() or (factor <= 0).any():
            break
    bad = ((positive & ((w > hi * (1 + 1e-12)) | (w < lo * (1 - 1e-12)))).any(axis=0)) | (
        np.abs(w.sum(axis=0) - total) > 1e-9 * np.abs(total)
    )
    if bad.any():
        table = pd.DataFrame(
            {
                "column": np.flatnonzero(bad),
                "margin": "total",
                "category": "",
                "target": total[bad],
                "achieved": w.sum(axis=0)[bad],
                "n_positive": positive.sum(axis=0)[bad],
                "lower": lo,
                "upper": hi,
            }
        )
        raise CalibrationError(
            f"trimming to [{lo:g}, {hi:g}] cannot keep the total: "
            f"{int(positive.sum(axis=0)[bad][0])} positive weights, total "
            f"{total[bad][0]:.10g}; widen the bounds",
            table=table,
        )
    return w[:, 0] if single else w


# --------------------------------------------------------------- model matrix
@dataclass(frozen=True)
class _Model:
    X: sparse.csr_matrix
    targets: np.ndarray
    labels: list[str]
    margins: list[str]
    categories: list[str]
    terms: tuple[tuple[np.ndarray, np.ndarray], ...] = ()

    def gram(self, w: np.ndarray) -> np.ndarray:
        """``X' diag(w) X`` from the terms (one bincount per pair of terms)."""
        return _terms_gram(self.terms, w, self.X.shape[1])


def _terms_gram(
    terms: Sequence[tuple[np.ndarray, np.ndarray]], w: np.ndarray, p: int
) -> np.ndarray:
    """``X' diag(w) X`` of a model given as terms ``(column per row (-1: none), value)``."""
    g = np.zeros(p * p)
    for ca, va in terms:
        for cb, vb in terms:
            ok = (ca >= 0) & (cb >= 0)
            key = np.where(ok, ca * p + cb, 0)
            g += np.bincount(key, weights=np.where(ok, w * va * vb, 0.0), minlength=p * p)
    return g.reshape(p, p)


def _is_categorical(s: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype)
    ) or pd.api.types.is_bool_dtype(s.dtype)


def _match_categories(
    name: str, s: pd.Series, spec: Mapping[object, float]
) -> tuple[np.ndarray, list[object], np.ndarray]:
    """Codes of the rows in the order of ``spec``'s keys (matched by value or by str)."""
    keys = list(spec.keys())
    row_codes, uniques = pd.factorize(s)
    present = list(uniques)
    lookup: dict[object, int] = {}
    by_str = {str(k): i for i, k in enumerate(keys)}
    for v in present:
        if v in spec:
            lookup[v] = keys.index(v)
        elif str(v) in by_str:
            lookup[v] = by_str[str(v)]
    missing = [v for v in present if v not in lookup]
    used = set(lookup.values())
    extra = [keys[i] for i in range(len(keys)) if i not in used]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"categories in the data without a total: {[str(v) for v in missing]}")
        if extra:
            parts.append(f"totals for categories not in the data: {[str(v) for v in extra]}")
        raise DataError(
            f"calibration variable {name!r}: "
            + "; ".join(parts)
            + f". Give exactly one total per category present in the data (data has "
            f"{sorted(str(v) for v in present)})"
        )
    codes = np.array([lookup[v] for v in present], dtype=np.int64)[row_codes]
    totals = np.array([float(spec[k]) for k in keys])
    return codes, keys, totals


def _build_model(
    data: pd.DataFrame, totals: Mapping[str, Mapping[object, float] | float]
) -> _Model:
    """Sparse full-rank model matrix of named targets (see :func:`model_matrix`)."""
    if not isinstance(totals, Mapping) or not totals:
        raise DesignError(
            "totals must be a non-empty mapping {variable: total or {category: total}}"
        )
    n = len(data)
    terms: list[tuple[np.ndarray, np.ndarray]] = []
    offset = 0
    targets: list[float] = []
    labels: list[str] = []
    margins: list[str] = []
    cats: list[str] = []
    first_sum: tuple[str, float] | None = None
    for name, spec in totals.items():
        if name not in data.columns:
            available = ", ".join(map(repr, data.columns[:30]))
            raise DataError(
                f"calibration variable {name!r} is not in the data; available: {available}"
            )
        s = data[name]
        if s.isna().any():
            first = data.index[np.flatnonzero(s.isna().to_numpy())[0]]
            raise DataError(
                f"calibration variable {name!r} has {int(s.isna().sum())} missing values "
                f"(first at row {first!r}); weighting variables must be complete"
            )
        if isinstance(spec, Mapping):
            codes, keys, tot = _match_categories(name, s, spec)
            keep = np.arange(len(keys))
            if first_sum is None:
                first_sum = (name, float(tot.sum()))
            else:
                if abs(tot.sum() - first_sum[1]) > 1e-9 * abs(first_sum[1]):
                    raise DataError(
                        f"calibration margins {first_sum[0]!r} and {name!r} have different "
                        f"totals ({first_sum[1]:.10g} and {tot.sum():.10g}); categorical "
                        "margins must each sum to the population size"
                    )
                keep = keep[1:]  # redundant: its indicators sum to the first margin's
            position = np.full(len(keys), -1, dtype=np.int64)
            position[keep] = np.arange(len(keep)) + offset
            terms.append((position[codes], np.ones(n)))
            offset += len(keep)
            targets.extend(tot[keep].tolist())
            labels.extend(f"{name}={keys[i]}" for i in keep)
            margins.extend([name] * len(keep))
            cats.extend(str(keys[i]) for i in keep)
        else:
            if _is_categorical(s) and not pd.api.types.is_bool_dtype(s.dtype):
                raise DataError(
                    f"calibration variable {name!r} is categorical (dtype {s.dtype}); give "
                    "its totals as {category: total}"
                )
            try:
                value = float(spec)
            except (TypeError, ValueError):
                raise DataError(
                    f"total of {name!r} must be a number or {{category: total}}, got {spec!r}"
                ) from None
            terms.append((np.full(n, offset, dtype=np.int64), s.to_numpy(dtype=float)))
            offset += 1
            targets.append(value)
            labels.append(name)
            margins.append(name)
            cats.append("")
    rows = np.concatenate([np.flatnonzero(c >= 0) for c, _v in terms])
    cols = np.concatenate([c[c >= 0] for c, _v in terms])
    vals = np.concatenate([v[c >= 0] for c, v in terms])
    X = sparse.csr_matrix((vals, (rows, cols)), shape=(n, offset))
    gram = _terms_gram(terms, np.ones(n), offset)
    d = np.sqrt(np.diag(gram))
    scaled = gram / np.where(d > 0, d, 1)[:, None] / np.where(d > 0, d, 1)[None, :]
    rank = np.linalg.matrix_rank(scaled, tol=1e-10 * len(d))
    if rank < len(d):
        _q, _r, piv = _pivoted_qr(scaled)
        dependent = [labels[i] for i in piv[rank:]]
        raise DesignError(
            f"calibration targets are collinear in the sample: {dependent} are linear "
            "combinations of the other targets; drop them"
        )
    return _Model(X, np.array(targets), labels, margins, cats, tuple(terms))


def _pivoted_qr(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from scipy.linalg import qr

    q, r, piv = qr(a, pivoting=True)
    return q, r, piv


def model_matrix(
    data: pd.DataFrame, totals: Mapping[str, Mapping[object, float] | float]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    r"""Full-rank model matrix and targets from named calibration totals.

    A categorical variable given as ``{category: total}`` gives one indicator
    column per category; a numeric variable given as a number gives its own
    column. The first categorical margin keeps all its categories (together they
    play the role of R's intercept); every later categorical margin drops its
    first category, whose constraint is implied (both margins sum to ``N``) —
    the same column space, hence the same weights and residuals, as R's
    ``calibrate(~a + b, c("(Intercept)" = N, ...))``. Categories are matched by
    value, or by their text form (``1`` matches ``"1"``).

    Parameters
    ----------
    data : pandas.DataFrame
        The sample.
    totals : mapping
        ``{variable: {category: total}}`` for categorical variables,
        ``{variable: total}`` for numeric ones.

    Returns
    -------
    X : numpy.ndarray
        ``(n, p)`` model matrix.
    targets : numpy.ndarray
        ``(p,)`` totals.
    labels : list of str
        Column names (``"stype=E"``, ``"api99"``).

    Raises
    ------
    DataError
        For a missing or extra category (naming the variable and categories),
        an unknown variable, missing values, or categorical margins whose totals
        differ.
    DesignError
        For targets that are collinear in the sample.

    Examples
    --------
    >>> df = pd.DataFrame({"a": ["x", "y", "y", "x"], "b": ["u", "u", "v", "v"],
    ...                    "z": [1.0, 2.0, 3.0, 5.0]})
    >>> X, t, labels = model_matrix(df, {"a": {"x": 10, "y": 20}, "b": {"u": 12, "v": 18},
    ...                                  "z": 55.0})
    >>> labels
    ['a=x', 'a=y', 'b=v', 'z']
    >>> X[:, 2].tolist(), t.tolist()
    ([0.0, 0.0, 1.0, 1.0], [10.0, 20.0, 18.0, 55.0])
    """
    model = _build_model(data, totals)
    return model.X.toarray(), model.targets.copy(), list(model.labels)


# -------------------------------------------------------------- diagnostics
def weights_summary(weights: np.ndarray) -> pd.DataFrame:
    r"""Summary of a weight vector: n, sum, min, max, CV, Kish design effect, n_eff.

    Computed over the positive weights: ``cv = sd / mean`` (population sd),
    Kish's ``deff = n sum w^2 / (sum w)^2 = 1 + cv^2`` and ``n_eff = n / deff``.

    Parameters
    ----------
    weights : numpy.ndarray
        ``(n,)`` or ``(n, m)`` weights (one row of the summary per column).

    Returns
    -------
    pandas.DataFrame
        Columns ``n, n_zero, sum, min, max, mean, cv, deff_kish, n_eff``.

    Examples
    --------
    >>> weights_summary(np.array([1.0, 1.0, 2.0, 4.0]))[["n", "sum", "deff_kish", "n_eff"]]
       n  sum  deff_kish     n_eff
    0  4  8.0     1.375  2.909091
    """
    w, _ = _as_matrix(weights)
    pos = w > 0
    n = pos.sum(axis=0)
    total = w.sum(axis=0)
    sq = (w * w).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = n * sq / total**2
        mean = total / n
        cv = np.sqrt(np.maximum(deff - 1.0, 0.0))
    wmin = np.where(pos, w, np.inf).min(axis=0)
    return pd.DataFrame(
        {
            "n": n.astype(np.int64),
            "n_zero": (~pos).sum(axis=0).astype(np.int64),
            "sum": total,
            "min": wmin,
            "max": w.max(axis=0),
            "mean": mean,
            "cv": cv,
            "deff_kish": deff,
            "n_eff": n / deff,
        }
    )


# ---------------------------------------------------------------- propensity
def logistic_propensity(
    X: np.ndarray, y: np.ndarray, weights: np.ndarray, *, max_iter: int = 50, tol: float = 1e-10
) -> np.ndarray:
    r"""Weighted logistic regression by IRLS; returns the fitted probabilities.

    Maximises ``sum_i w_i [y_i log p_i + (1 - y_i) log(1 - p_i)]``,
    ``logit p_i = x_i' beta`` (the design-weighted pseudo-likelihood, as R's
    ``svyglm(family=quasibinomial)``), by iteratively reweighted least squares.

    Parameters
    ----------
    X : numpy.ndarray
        ``(n, p)`` covariates including an intercept column.
    y : numpy.ndarray
        ``(n,)`` 0/1 outcome.
    weights : numpy.ndarray
        ``(n,)`` non-negative weights.
    max_iter : int
        Maximum IRLS iterations.
    tol : float
        Convergence tolerance on the change of the deviance (relative).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` fitted probabilities.

    Raises
    ------
    DesignError
        When IRLS does not converge (e.g. perfect separation).

    Examples
    --------
    >>> X = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1]])
    >>> logistic_propensity(X, np.array([1, 0, 0, 1, 1, 0]), np.ones(6)).round(4).tolist()
    [0.3333, 0.3333, 0.3333, 0.6667, 0.6667, 0.6667]
    """
    X = np.asarray(X, dtype=float)
    beta = _logistic_fit(X, y, weights, max_iter=max_iter, tol=tol)
    return 1.0 / (1.0 + np.exp(-(X @ beta)))


def _logistic_fit(
    X: np.ndarray, y: np.ndarray, weights: np.ndarray, *, max_iter: int = 50, tol: float = 1e-10
) -> np.ndarray:
    """Coefficients of the weighted logistic regression (IRLS); see logistic_propensity."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.asarray(weights, dtype=float)
    beta = np.zeros(X.shape[1])
    dev_old = np.inf
    for _ in range(max_iter):
        eta = X @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        p = np.clip(p, 1e-12, 1 - 1e-12)
        dev = -2.0 * float(np.sum(w * (y * np.log(p) + (1 - y) * np.log(1 - p))))
        if abs(dev - dev_old) <= tol * (abs(dev) + tol):
            return beta
        dev_old = dev
        v = w * p * (1 - p)
        z = eta + (y - p) / (p * (1 - p))
        h = (X * v[:, None]).T @ X
        beta = np.linalg.lstsq(h, (X * v[:, None]).T @ z, rcond=None)[0]
    if np.abs(X @ beta).max() > 30:
        raise DesignError(
            "the response propensity model separates respondents from nonrespondents "
            "(fitted probabilities of 0 or 1); use fewer covariates or weighting classes"
        )
    raise DesignError(f"the response propensity model did not converge in {max_iter} iterations")


# ------------------------------------------------------------ variance steps
@dataclass(frozen=True, eq=False)
class _CalibrationStep:
    """One post-stratification, raking or calibration, for the variance.

    Parameters
    ----------
    X : scipy.sparse.csr_matrix
        ``(n, p)`` full-rank model matrix of the step.
    w0 : numpy.ndarray
        Weights before the step.
    w1 : numpy.ndarray
        Weights after the step.
    kind : str
        ``"poststratify"``, ``"rake"`` or ``"calibrate"`` (for display).
    terms : tuple, optional
        The model as terms ``(column of each row or -1, value)``, for a fast
        ``X' W0 X``.
    """

    X: sparse.csr_matrix
    w0: np.ndarray
    w1: np.ndarray
    kind: str
    terms: tuple[tuple[np.ndarray, np.ndarray], ...] = ()

    @property
    def gram(self) -> np.ndarray:
        """``X' W0 X`` (computed once)."""
        cached = self.__dict__.get("_gram")
        if cached is None:
            if self.terms:
                cached = _terms_gram(self.terms, self.w0, self.X.shape[1])
            else:
                cached = (self.X.T @ self.X.multiply(self.w0[:, None])).toarray()
            object.__setattr__(self, "_gram", cached)
        return cached

    def residualise(self, x: np.ndarray) -> np.ndarray:
        """``w1 (v - X b)``, ``v = x / w1``, ``b`` the ``w0``-weighted regression of ``v`` on X."""
        pos = self.w1 != 0
        inv = np.where(pos, 1.0 / np.where(pos, self.w1, 1.0), 0.0)
        v = x * inv[:, None]
        rhs = np.asarray(self.X.T @ (v * self.w0[:, None]))
        b = _gram_solve(self.gram, rhs)
        return self.w1[:, None] * (v - np.asarray(self.X @ b))


def _gram_solve(gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``gram b = rhs`` (p, k) with symmetric equilibration."""
    d = np.sqrt(np.abs(np.diag(gram)))
    d = np.where(d > 0, d, 1.0)
    sol = np.linalg.solve(gram / d[:, None] / d[None, :], rhs / d[:, None])
    return sol / d[:, None]


@dataclass(frozen=True, eq=False)
class _NonresponseStep:
    """One class-wise ratio adjustment (unknown eligibility or nonresponse), for the variance.

    Parameters
    ----------
    classes : numpy.ndarray
        Adjustment class of each row, ``-1`` for rows the step leaves alone.
    d : numpy.ndarray
        Weights before the step.
    w1 : numpy.ndarray
        Weights after the step (0 for the units whose weight was moved).
    kind : str
        ``"eligibility"`` or ``"nonresponse"``.
    """

    classes: np.ndarray
    d: np.ndarray
    w1: np.ndarray
    kind: str

    def residualise(self, x: np.ndarray) -> np.ndarray:
        """``k (x - w1 m_c) + d m_c`` in each class, ``m_c = sum x / sum w1``."""
        return self.parts(x, np.zeros(x.shape[0]))[0]

    def parts(self, x: np.ndarray, fraction: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Linearised values and the response-phase term of the step.

        Returns the linearised values and a matrix ``S`` whose cross-product
        ``S'S`` is the response-phase variance not seen by a design variance
        with finite population correction: ``S_i = sqrt(f_i (1 - phi_c))
        (x_i - w1_i m_c)`` on kept units, ``phi_c = d_i / w1_i`` the class
        response rate and ``f_i`` the first-stage sampling fraction of the
        unit's stratum (``S`` is None when every ``f_i`` is 0).
        """
        inside = self.classes >= 0
        size = int(self.classes.max()) + 1 if inside.any() else 0
        if size == 0:
            return x, None
        c = np.where(inside, self.classes, size)
        sums = _cell_sums(c, x, size + 1)[:size]
        w1c = np.bincount(c, weights=self.w1, minlength=size + 1)[:size]
        with np.errstate(divide="ignore", invalid="ignore"):
            m = np.where(w1c[:, None] > 0, sums / w1c[:, None], 0.0)
        mc = np.vstack([m, np.zeros((1, x.shape[1]))])[c]
        kept = (self.w1 > 0) & inside
        resid = np.where(kept[:, None], x - self.w1[:, None] * mc, 0.0)
        out = np.where(inside[:, None], resid + self.d[:, None] * mc, x)
        extra = None
        if (fraction[kept] > 0).any():
            with np.errstate(divide="ignore", invalid="ignore"):
                phi = np.where(kept, self.d / np.where(kept, self.w1, 1.0), 1.0)
            scale = np.sqrt(np.clip(fraction * (1.0 - phi), 0.0, None))
            extra = resid * scale[:, None]
        return out, extra


def _domain_block(values: np.ndarray, domain: np.ndarray, d0: int, d1: int) -> np.ndarray:
    """Domain-restricted values of domains ``d0 .. d1 - 1``: (n, (d1 - d0) k), domain-major.

    Column block ``d`` holds ``values`` on the rows of domain ``d`` and 0 elsewhere:
    what passes through the weighting steps for that domain's estimate.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    n, k = values.shape
    member = domain[:, None] == np.arange(d0, d1)[None, :]
    return (member[:, :, None] * values[:, None, :]).reshape(n, (d1 - d0) * k)


def _by_column_and_domain(
    matrix: sparse.csr_matrix, values: np.ndarray, domain: np.ndarray, n_domains: int
) -> np.ndarray:
    """``sum_i M_ip values_it [domain_i = d]`` as a (P, D, k) array, one bincount a column.

    The product ``M' A_t`` of a sparse (n, P) matrix with the domain-restricted
    values, without building the (n, D) matrix ``A_t``; rows with domain -1 add nothing.
    """
    coo = matrix.tocoo()
    keep = domain[coo.row] >= 0
    row, col, data = coo.row[keep], coo.col[keep], coo.data[keep]
    n_cols = matrix.shape[1]
    key = col * n_domains + domain[row]
    k = values.shape[1]
    out = np.empty((n_cols, n_domains, k))
    for t in range(k):
        out[:, :, t] = np.bincount(
            key, weights=data * values[row, t], minlength=n_cols * n_domains
        ).reshape(n_cols, n_domains)
    return out


Step = _CalibrationStep | _NonresponseStep


@dataclass(frozen=True, eq=False)
class CalibratedVariance:
    """Linearisation variance of a weighted design: calibration residuals, then the design.

    Implements the :class:`~es_survey.variance.VarianceEngine` protocol by
    residualising the influence values through the design's weighting steps
    (see the module docstring) and passing them to the design's
    :class:`~es_survey.variance.TaylorVariance`. Domain-restricted influence
    values become non-zero outside the domain, so they are handled as dense
    blocks of (row x domain) columns, a few domains at a time.

    Parameters
    ----------
    inner : TaylorVariance
        The design's variance engine.
    steps : tuple
        :class:`_CalibrationStep` and :class:`_NonresponseStep` objects in the
        order they were applied.

    Examples
    --------
    >>> import pandas as pd
    >>> import es_survey as es
    >>> df = pd.DataFrame({"g": ["a", "a", "b", "b"], "y": [1.0, 3.0, 2.0, 6.0],
    ...                    "w": [2.0, 2.0, 3.0, 3.0]})
    >>> d = es.SurveyDesign(df, weights="w").poststratify("g", {"a": 5, "b": 5})
    >>> type(d._engine).__name__
    'CalibratedVariance'
    """

    inner: TaylorVariance
    steps: tuple[Step, ...]

    @property
    def stages(self) -> tuple:
        """Sampling stages of the design (those of the inner engine)."""
        return self.inner.stages

    @property
    def lonely_psu(self) -> str:
        """Lonely-PSU rule of the inner engine."""
        return self.inner.lonely_psu

    def check_lonely(self) -> None:
        """Raise for a lonely PSU under ``lonely_psu="fail"`` (inner engine)."""
        self.inner.check_lonely()

    def with_step(self, step: Step) -> CalibratedVariance:
        """Return a new engine with one more weighting step."""
        return CalibratedVariance(self.inner, (*self.steps, step))

    def residualise(self, x: np.ndarray) -> np.ndarray:
        """Pass ``(n, k)`` weighted influence values through every weighting step."""
        return self._parts(x)[0]

    def _parts(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Residualised values and the response-phase terms of the nonresponse steps."""
        for step in self.steps:
            if isinstance(step, _CalibrationStep):
                x = step.residualise(x)
        extras = []
        fraction = self._fraction()
        for step in reversed(self.steps):
            if isinstance(step, _NonresponseStep):
                x, extra = step.parts(x, fraction)
                if extra is not None:
                    extras.append(extra)
        return x, extras

    def _fraction(self) -> np.ndarray:
        """First-stage sampling fraction of each row's stratum (0 without fpc)."""
        stage = self.inner.stages[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(np.isinf(stage.popsize), 0.0, stage.n_psu / stage.popsize)
        return f[stage.strata]

    def degrees_of_freedom(
        self, domain: np.ndarray, n_domains: int, keys: _DomainKeys | None = None
    ) -> np.ndarray:
        """Degrees of freedom of each domain (the inner engine's)."""
        return self.inner.degrees_of_freedom(domain, n_domains, keys)

    def domain_keys(self, domain: np.ndarray, n_domains: int) -> _DomainKeys:
        """Cell keys of the inner engine (used for degrees of freedom)."""
        return self.inner.domain_keys(domain, n_domains)

    def _tiled(self, copies: int) -> TaylorVariance:
        """Return the inner engine over ``copies`` stacked copies of the rows (cached)."""
        cache = self.__dict__.setdefault("_tiled_cache", {})
        if copies not in cache:
            stages = tuple(
                replace(
                    st, strata=np.tile(st.strata, copies), clusters=np.tile(st.clusters, copies)
                )
                for st in self.inner.stages
            )
            cache.clear()
            cache[copies] = TaylorVariance(stages, self.inner.lonely_psu)
        return cache[copies]

    def domain_cov(
        self,
        values: np.ndarray,
        domain: np.ndarray,
        n_domains: int,
        keys: _DomainKeys | None = None,
    ) -> np.ndarray:
        """Covariance of the calibrated totals of ``values`` within each domain, (D, k, k).

        The residualised values of a block of domains are stacked (one copy of the
        rows per domain) and passed to the inner engine with the copy as domain,
        so only the within-domain covariances are formed: O(n D k) work.
        """
        values = np.asarray(values, dtype=float)
        if values.ndim == 1:
            values = values[:, None]
        n, k = values.shape
        if n_domains > 1 and self._fast_ok():
            return self._domain_cov_fast(values, domain, n_domains, keys)
        out = np.empty((n_domains, k, k))
        per = max(1, _CHUNK_CELLS // max(n * k, 1))
        for d0 in range(0, n_domains, per):
            d1 = min(n_domains, d0 + per)
            copies = d1 - d0
            x, extras = self._parts(_domain_block(values, domain, d0, d1))
            stacked = x.reshape(n, copies, k).transpose(1, 0, 2).reshape(copies * n, k)
            codes = np.repeat(np.arange(copies, dtype=np.int64), n)
            cov = self._tiled(copies).domain_cov(stacked, codes, copies)
            for e in extras:
                e3 = e.reshape(n, copies, k)
                cov = cov + np.einsum("ndk,ndl->dkl", e3, e3)
            out[d0:d1] = cov
        return out

    def _fast_ok(self) -> bool:
        """Whether the low-rank route applies: calibration steps only, no lonely PSU."""
        return all(isinstance(st, _CalibrationStep) for st in self.steps) and not any(
            stage.lonely.any() for stage in self.inner.stages
        )

    def _step_matrices(self) -> list[tuple[sparse.csr_matrix, sparse.csr_matrix]]:
        """``R = X w0/w1`` and ``Y = X w1`` of every calibration step (built once, cached)."""
        cache = self.__dict__.setdefault("_step_cache", [])
        if not cache:
            for step in cast("tuple[_CalibrationStep, ...]", self.steps):
                pos = step.w1 != 0
                ratio = np.where(pos, step.w0 / np.where(pos, step.w1, 1.0), 0.0)
                cache.append(
                    (
                        sparse.csr_matrix(step.X.multiply(ratio[:, None])),
                        sparse.csr_matrix(step.X.multiply(step.w1[:, None])),
                    )
                )
        return cache

    def _domain_cov_fast(
        self, values: np.ndarray, domain: np.ndarray, n_domains: int, keys: _DomainKeys | None
    ) -> np.ndarray:
        r"""Within-domain covariances by the low-rank form of the residuals.

        Through calibration steps the residual of the domain-restricted values
        ``a_d`` is ``r_d = a_d - Y c_d`` with ``Y = [w1 X]`` of every step (sparse,
        n x P) and ``c_d`` from the step regressions, so

        .. math:: V(r_d) = V(a_d) - C_d c_d - c_d' C_d' + c_d' V(Y) c_d,

        with ``V(a_d)`` from the inner engine, and ``V(Y)`` and the cross-covariance
        ``C_d`` of ``a_d`` with the full columns of ``Y`` from stratum-centred unit
        totals (no lonely PSU, so every rule gives the same). Cost O(n P + P^2 D).
        """
        n_rows, k = values.shape
        member = domain >= 0
        rows = np.flatnonzero(member)
        dom = domain[member]
        base = self.inner.domain_cov(values, domain, n_domains, keys)
        # coefficients c (P, D, k) of r = a - Y c, step by step
        y_blocks: list[sparse.csr_matrix] = []
        coef = np.zeros((0, n_domains, k))
        # only reached when _fast_ok() found every step to be a calibration step
        dom_of_row = np.where(member, domain, -1)
        matrices = self._step_matrices()
        for step, (r_mat, y_step) in zip(
            cast("tuple[_CalibrationStep, ...]", self.steps), matrices, strict=True
        ):
            proj = _by_column_and_domain(r_mat, values, dom_of_row, n_domains)
            if y_blocks:
                ry = (r_mat.T @ sparse.hstack(y_blocks, format="csr")).toarray()
                proj -= np.einsum("pq,qdk->pdk", ry, coef)
            b = _gram_solve(step.gram, proj.reshape(proj.shape[0], -1)).reshape(proj.shape)
            coef = np.concatenate([coef, b], axis=0)
            y_blocks.append(y_step)
        y = sparse.hstack(y_blocks, format="csr")
        n_cols = y.shape[1]
        v_y = np.zeros((n_cols, n_cols))
        cross = np.zeros((k, n_domains, n_cols))
        y_coo = y.tocoo()
        for stage in self.inner.stages:
            n_units = stage.n_clusters
            weight = stage.variance_weight(self.inner.lonely_psu)
            w_unit = weight[stage.cluster_stratum]
            # unit totals of Y (units x P, dense: P is the number of calibration columns)
            yt = np.bincount(
                stage.clusters[y_coo.row] * n_cols + y_coo.col,
                weights=y_coo.data,
                minlength=n_units * n_cols,
            ).reshape(n_units, n_cols)
            ybar = stage.stratum_sums(yt) / stage.n_psu[:, None]
            wyt = yt * w_unit[:, None]
            v_y += yt.T @ wyt - ybar.T @ ((weight * stage.n_psu)[:, None] * ybar)
            wybar = weight[:, None] * ybar
            unit_key = stage.clusters[rows] * n_domains + dom
            dense = n_units * n_domains <= max(_DENSE_CROSS * n_rows, _DENSE_MIN)
            for t in range(k):
                v = values[rows, t]
                if dense:  # unit x domain totals of a: C_d = sum_u a_ud (w y)_u
                    a_units = np.bincount(
                        unit_key, weights=v, minlength=n_units * n_domains
                    ).reshape(n_units, n_domains)
                    cross[t] += a_units.T @ wyt
                    a_strata = stage.stratum_sums(a_units)
                else:  # the same, row by row
                    for c in range(n_cols):
                        cross[t, :, c] += np.bincount(
                            dom, weights=v * wyt[stage.clusters[rows], c], minlength=n_domains
                        )
                    a_strata = np.bincount(
                        stage.strata[rows] * n_domains + dom,
                        weights=v,
                        minlength=stage.n_strata * n_domains,
                    ).reshape(stage.n_strata, n_domains)
                cross[t] -= a_strata.T @ wybar
        # V(r_d) = V(a_d) - C_d c_d - (C_d c_d)' + c_d' V(Y) c_d
        cc = np.einsum("tdp,pdu->dtu", cross, coef)
        quad = np.einsum("pdt,pq,qdu->dtu", coef, v_y, coef)
        return base - cc - cc.transpose(0, 2, 1) + quad

    def full_cov(
        self, values: np.ndarray, domain: np.ndarray, n_domains: int, present: np.ndarray
    ) -> np.ndarray:
        """Covariance of every (domain, column) calibrated total, (D*k, D*k)."""
        values = np.asarray(values, dtype=float)
        n = values.shape[0]
        x, extras = self._parts(_domain_block(values, domain, 0, n_domains))
        cov = self.inner.full_cov(x, np.zeros(n, dtype=np.int64), 1, np.ones(n, dtype=bool))
        return cov + sum((e.T @ e for e in extras), np.zeros_like(cov))


# ----------------------------------------------------------------- nonresponse
def nonresponse_steps(
    weights: np.ndarray,
    data: pd.DataFrame,
    responded: str = "responded",
    by: str | Sequence[str] | None = None,
    *,
    model: Literal["logit"] | None = None,
    covariates: Sequence[str] | None = None,
    outcome: str | None = "contact_outcome",
    n_classes: int = 5,
    ineligible: Literal["keep", "observed"] = "keep",
) -> list[_NonresponseStep]:
    """Weights adjusted for unknown eligibility and nonresponse within classes.

    The algorithm of :meth:`SurveyDesign.adjust_nonresponse
    <es_survey.SurveyDesign.adjust_nonresponse>` (see it for the method and the
    arguments) as a pure function of the weights and the data: it returns the
    weighting steps in order (an eligibility step when some units have unknown
    eligibility, then the nonresponse step), each holding its weights before
    (``w0``) and after (``w1``) and its classes, for the variance.

    Parameters
    ----------
    weights : numpy.ndarray
        Current weights, one per row of ``data``.
    data : pandas.DataFrame
        The design's data.
    responded, by, model, covariates, outcome, n_classes, ineligible
        As :meth:`SurveyDesign.adjust_nonresponse
        <es_survey.SurveyDesign.adjust_nonresponse>`.

    Returns
    -------
    list
        The steps; the last one's ``w1`` are the adjusted weights.

    Raises
    ------
    DesignError
        For unknown columns, a class with nonrespondents but no respondent, or
        both ``by`` and ``model``.
    DataError
        For missing or contradictory response/outcome values.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"r": [True, False, True, False]})
    >>> nonresponse_steps(np.full(4, 2.0), df, "r", outcome=None)[-1].w1.tolist()
    [4.0, 0.0, 4.0, 0.0]
    """
    _check_columns(data, {"responded": [responded]})
    resp_s = data[responded]
    if resp_s.isna().any() or not pd.api.types.is_bool_dtype(resp_s.dtype):
        raise DataError(
            f"column {responded!r} must be boolean without missing values "
            f"(dtype {resp_s.dtype}, {int(resp_s.isna().sum())} missing)"
        )
    resp = resp_s.to_numpy(dtype=bool)
    group = np.where(resp, 0, 1)  # 0 R, 1 NR, 2 I, 3 U
    if outcome is not None:
        if outcome not in data.columns:
            raise DesignError(
                f"outcome column {outcome!r} is not in the data; give the column of "
                "contact outcomes or dispositions, or outcome=None to treat every "
                "nonrespondent as eligible"
            )
        codes = data[outcome].astype(object).to_numpy()
        mapping = {
            "complete": 0,
            "partial": 0,
            "refusal": 1,
            "non_contact": 1,
            "ineligible": 2,
            "ineligible_liquidated": 2,
            "ineligible_ceased": 2,
            "ineligible_not_es": 2,
            "unknown_eligibility": 3,
        }
        mapped = pd.Series(codes).map(mapping).to_numpy()
        bad = pd.isna(mapped)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"column {outcome!r} has the value {codes[i]!r} at row {data.index[i]!r}; "
                f"expected one of {sorted(mapping)}"
            )
        group = mapped.astype(np.int64)
        clash = (group == 0) != resp
        if clash.any():
            i = int(np.flatnonzero(clash)[0])
            raise DataError(
                f"row {data.index[i]!r}: {responded}={bool(resp[i])} but {outcome}="
                f"{codes[i]!r}; respondents must be complete or partial and vice versa"
            )
    if ineligible not in ("keep", "observed"):
        raise DesignError(f"ineligible={ineligible!r} must be 'keep' or 'observed'")
    if ineligible == "observed":
        group = np.where(group == 2, 0, np.where(group == 3, 1, group))
    if by is not None and model is not None:
        raise DesignError("give either by= (weighting classes) or model='logit', not both")
    n = len(data)
    d = np.asarray(weights, dtype=float)
    if model is not None:
        if model != "logit":
            raise DesignError(f"model={model!r} is not available; use model='logit'")
        if not covariates:
            raise DesignError("model='logit' needs covariates=[...] (frame variables)")
        if n_classes < 1:
            raise DesignError(f"n_classes={n_classes!r} must be >= 1")
        _check_columns(data, {"covariates": list(covariates)})
        parts = [np.ones((n, 1))]
        for col in covariates:
            s = data[col]
            if s.isna().any():
                raise DataError(
                    f"covariate {col!r} has {int(s.isna().sum())} missing values; the "
                    "propensity model needs complete covariates"
                )
            if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
                parts.append(s.to_numpy(dtype=float)[:, None])
            else:
                dummies = pd.get_dummies(s.astype(str), drop_first=True, dtype=float)
                parts.append(dummies.to_numpy())
        X = np.hstack(parts)
        eligible = group <= 1
        beta = _logistic_fit(X[eligible], (group[eligible] == 0).astype(float), d[eligible])
        p = 1.0 / (1.0 + np.exp(-(X @ beta)))
        p_fit = p[eligible]
        cuts = np.quantile(p_fit, np.linspace(0, 1, n_classes + 1)[1:-1])
        classes = np.searchsorted(np.unique(cuts), p, side="right").astype(np.int64)
        class_names = [f"propensity class {c + 1}" for c in range(int(classes.max()) + 1)]
    elif by is not None:
        cols = _as_list(by)
        _check_columns(data, {"by": cols})
        frame = data[cols]
        if frame.isna().any().any():
            raise DataError(f"weighting-class columns {cols} have missing values; fill them")
        if len(cols) == 1:
            classes, levels = pd.factorize(frame[cols[0]])
            uniq: Sequence[tuple[Any, ...]] | pd.Index = [(u,) for u in levels]
        else:
            classes, uniq = pd.factorize(pd.MultiIndex.from_frame(frame.astype(object)))
        classes = classes.astype(np.int64)
        class_names = [", ".join(f"{c}={v!r}" for c, v in zip(cols, u, strict=True)) for u in uniq]
    else:
        classes = np.zeros(n, dtype=np.int64)
        class_names = ["(whole sample)"]
    size = int(classes.max()) + 1

    def sums(mask: np.ndarray, w: np.ndarray) -> np.ndarray:
        return np.bincount(classes, weights=np.where(mask, w, 0.0), minlength=size)

    steps = []
    w = d.copy()
    unknown = group == 3
    if unknown.any():
        known = ~unknown
        w_known = sums(known, w)
        w_all = sums(np.ones(n, dtype=bool), w)
        bad = (w_known == 0) & (w_all > 0)
        if bad.any():
            raise DesignError(
                f"class {class_names[int(np.flatnonzero(bad)[0])]} has only units of "
                "unknown eligibility; merge it with another class"
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(w_known > 0, w_all / w_known, 0.0)
        w1 = np.where(known, w * factor[classes], 0.0)
        steps.append(_NonresponseStep(classes, w, w1, "eligibility"))
        w = w1
    elig = group <= 1
    w_r = sums(group == 0, w)
    w_e = sums(elig, w)
    bad = (w_r == 0) & (w_e > 0)
    if bad.any():
        raise DesignError(
            f"class {class_names[int(np.flatnonzero(bad)[0])]} has eligible "
            "nonrespondents but no respondent; merge it with another class"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(w_r > 0, w_e / w_r, 0.0)
    w2 = np.where(group == 0, w * factor[classes], np.where(elig, 0.0, w))
    steps.append(_NonresponseStep(np.where(elig, classes, -1), w, w2, "nonresponse"))
    return steps


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _check_columns(data: pd.DataFrame, named: dict[str, list[str]]) -> None:
    """Raise if a named design column is not in the data, listing the columns."""
    for role, columns in named.items():
        for col in columns:
            if col not in data.columns:
                available = ", ".join(map(repr, data.columns[:30]))
                more = " ..." if len(data.columns) > 30 else ""
                raise DesignError(
                    f"{role} column {col!r} is not in the data; available columns: "
                    f"{available}{more}"
                )
