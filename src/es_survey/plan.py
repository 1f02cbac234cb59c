"""Plan the next wave: how many units to draw in each stratum, and which.

Allocation works on a strata table (one row per stratum: ``N``, and for each target
variable ``S_<var>`` with ``mean_<var>``, or ``p_<var>`` for a proportion; optional
``response_rate``, ``cost``, ``min_n``, ``max_n``, ``take_all`` and domain columns).
Response is taken as random within strata: of ``n_h`` units drawn, ``m_h = n_h r_h``
answer, and the expected variance of a domain total is

    Var(Y_d) = sum_{h in d} N_h^2 (1/m_h - 1/N_h) S_h^2,

with ``S_h^2 = p_h (1 - p_h) N_h / (N_h - 1)`` for a proportion; ``CV = sqrt(Var) / Y_d``.

=============  =========================================================================
method         allocation
=============  =========================================================================
proportional   ``n_h`` proportional to ``N_h`` (needs ``n``)
neyman         ``n_h`` proportional to ``N_h S_h / sqrt(r_h c_h)`` (needs ``n``)
optimal        the integer allocation of ``n`` that minimises the variance of one
               variable's total, within ``min_n <= n_h <= max_n <= N_h`` (exact: units
               are given one at a time to the stratum where the variance falls most);
               with ``n=None``, the smallest ``n`` that meets the variable's CV targets
multi          the smallest total cost ``sum c_h n_h`` meeting every CV target (several
               variables and domains; Bethel's convex problem, solved through its
               Lagrange dual, then rounded up)
=============  =========================================================================

Proportional and Neyman allocations meet the bounds by the continuous rule
``n_h = clip(lambda w_h, min_n, max_n)`` and are rounded to whole units by largest
remainders, so that they still sum to ``n``.

Selection uses permanent random numbers (PRN): within a stratum the ``n_h`` units first
in PRN order are drawn (sequential simple random sampling, Ohlsson 1995). Keeping the
PRNs across waves keeps the panel (``overlap="maximise"``) or rotates it
(``"minimise"``).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from es_survey.errors import DataError, DesignError, plain_value

if TYPE_CHECKING:
    from es_survey.study import StudyResults

__all__ = [
    "Allocation",
    "NextWave",
    "Target",
    "allocate",
    "plan_next_wave",
    "select_sample",
    "split_take_all",
    "strata_from_study",
]

Method = Literal["proportional", "neyman", "optimal", "multi"]
Overlap = Literal["maximise", "minimise", "independent"]
_METHODS = ("proportional", "neyman", "optimal", "multi")
_OVERLAPS = ("maximise", "minimise", "independent")
_MIN_N = 2  # default lower bound: a stratum's variance needs two units


@dataclass(frozen=True)
class Target:
    """A precision target: the CV of ``variable``'s total, overall or in each domain.

    Attributes
    ----------
    variable : str
        The target variable (``S_<variable>`` and ``mean_<variable>``, or
        ``p_<variable>``, in the strata table).
    cv : float
        The largest acceptable coefficient of variation (e.g. 0.05).
    domain : str or None
        A column of the strata table naming each stratum's domain (domains are unions
        of strata); None for the whole population.

    Examples
    --------
    >>> Target("active", 0.2, "subregion").domain
    'subregion'
    """

    variable: str
    cv: float
    domain: str | None = None


@dataclass(frozen=True)
class _Problem:
    """The validated strata table as arrays."""

    strata: pd.Series
    N: np.ndarray
    r: np.ndarray
    cost: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


@dataclass(frozen=True)
class _Constraint:
    """One target in one domain: ``sum_h A_h / n_h - fpc <= V`` over the domain's strata."""

    target: Target
    value: Any  # the domain's value (None overall)
    members: np.ndarray  # bool over strata
    A: np.ndarray  # N_h^2 S_h^2 / r_h (0 outside the domain)
    fpc: float  # sum_h N_h S_h^2 over the domain
    total: float  # Y_d
    bound: float  # (cv Y_d)^2


class Allocation:
    """An allocation of the next wave's sample to strata.

    Attributes
    ----------
    method : str
        How it was found.
    n : numpy.ndarray
        Units to draw per stratum (the order of the strata table).
    cv : pandas.DataFrame
        One row per target and domain: ``variable, domain, domain_value, target_cv,
        expected_cv, met``.
    """

    def __init__(
        self, method: str, problem: _Problem, n: np.ndarray, constraints: list[_Constraint]
    ) -> None:
        self.method = method
        self._p = problem
        self.n = n.astype(int)
        self._constraints = constraints
        rows = []
        for c in constraints:
            expected = _expected_cv(c, self.n)
            rows.append({
                "variable": c.target.variable,
                "domain": c.target.domain,
                "domain_value": c.value,
                "target_cv": c.target.cv,
                "expected_cv": expected,
                "met": bool(expected <= c.target.cv * (1 + 1e-9)),
            })  # fmt: skip
        columns = ["variable", "domain", "domain_value", "target_cv", "expected_cv", "met"]
        table = pd.DataFrame(rows, columns=columns)
        for col in ("domain", "domain_value"):  # None overall, whatever the other rows hold
            table[col] = pd.Series([r[col] for r in rows], index=table.index, dtype=object)
        self.cv: pd.DataFrame = table

    @property
    def total(self) -> int:
        """Units to draw in all."""
        return int(self.n.sum())

    @property
    def total_cost(self) -> float:
        """Sum of ``cost_h n_h``."""
        return float(np.sum(self._p.cost * self.n))

    def to_frame(self) -> pd.DataFrame:
        """Return one row per stratum: its size, the units to draw and their cost.

        Columns: ``stratum, N, n, expected_respondents, take_all, cost``, then per
        target ``cv_<variable>`` (overall) or ``cv_<variable>_<domain>`` (the expected
        CV of the stratum's domain).

        Returns
        -------
        pandas.DataFrame
            The allocation table.
        """
        p = self._p
        out = pd.DataFrame({
            "stratum": p.strata.to_numpy(),
            "N": p.N.astype(int),
            "n": self.n,
            "expected_respondents": self.n * p.r,
            "take_all": (self.n == p.N) & (p.N > 0),
            "cost": self.n * p.cost,
        })  # fmt: skip
        seen: dict[str, np.ndarray] = {}
        for c, cv in zip(self._constraints, self.cv["expected_cv"], strict=True):
            t = c.target
            name = f"cv_{t.variable}" + (f"_{t.domain}" if t.domain else "")
            col = seen.setdefault(name, np.full(len(out), np.nan))
            col[c.members] = cv
        for name, col in seen.items():
            out[name] = col
        return out

    def __repr__(self) -> str:
        met = int(self.cv["met"].sum())
        head = (
            f"Allocation({self.method}: draw {self.total} of {int(self._p.N.sum())} units "
            f"in {len(self.n)} strata, {int(np.sum(self.n == self._p.N))} taken whole"
        )
        if len(self.cv):
            head += f"; {met} of {len(self.cv)} CV targets met"
        return head + ")"

    def _repr_html_(self) -> str:
        return f"<p>{self!r}</p>" + self.to_frame()._repr_html_()  # type: ignore[operator]


# ------------------------------------------------------------------ validation
def _show(value: Any) -> str:
    """Return the repr of a cell's value as Python writes it (1.0, not np.float64(1.0))."""
    return repr(plain_value(value))


def _column(strata: pd.DataFrame, name: str, default: float | None) -> np.ndarray:
    if name not in strata.columns:
        if default is None:
            raise DesignError(f"strata table: column {name!r} is missing")
        return np.full(len(strata), float(default))
    values = pd.to_numeric(strata[name], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"strata table, row {i}, column {name!r}: value {_show(strata[name].iloc[i])} is not "
            "a finite number"
        )
    return values


def _whole(values: np.ndarray, name: str, strata: pd.DataFrame) -> np.ndarray:
    bad = (values < 0) | (values != np.round(values))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"strata table, row {i}, column {name!r}: value {_show(strata[name].iloc[i])}; "
            "expected a whole number >= 0"
        )
    return values.astype(int)


def _problem(strata: pd.DataFrame, stratum: str) -> _Problem:
    if not isinstance(strata, pd.DataFrame):
        raise DesignError(f"strata must be a pandas DataFrame, got {type(strata).__name__}")
    if stratum not in strata.columns:
        raise DesignError(
            f"strata table: stratum column {stratum!r} is missing (columns: "
            f"{', '.join(map(str, strata.columns))})"
        )
    if strata[stratum].duplicated().any():
        dup = strata[stratum][strata[stratum].duplicated()].iloc[0]
        raise DataError(f"strata table: stratum {_show(dup)} appears twice; expected one row each")
    N = _whole(_column(strata, "N", None), "N", strata)
    r = _column(strata, "response_rate", 1.0)
    bad = ~((r > 0) & (r <= 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"strata table, row {i}, column 'response_rate': value {_show(r[i])}; expected a "
            "share in (0, 1]"
        )
    cost = _column(strata, "cost", 1.0)
    if (cost <= 0).any():
        i = int(np.flatnonzero(cost <= 0)[0])
        raise DataError(
            f"strata table, row {i}, column 'cost': value {_show(cost[i])}; expected > 0"
        )
    # default lower bound: enough units drawn for two expected respondents
    lo = (
        _whole(_column(strata, "min_n", 0), "min_n", strata)
        if "min_n" in strata.columns
        else np.minimum(np.ceil(_MIN_N / r - 1e-9).astype(int), N)
    )
    hi = _whole(_column(strata, "max_n", 0), "max_n", strata) if "max_n" in strata.columns else N
    take_all = (
        strata["take_all"].fillna(False).astype(bool).to_numpy()
        if "take_all" in strata.columns
        else np.zeros(len(strata), dtype=bool)
    )
    hi = np.minimum(hi, N)
    lo = np.minimum(lo, N)  # a stratum smaller than min_n is taken whole
    lo = np.where(take_all, N, lo)
    hi = np.where(take_all, N, hi)
    bad = lo > hi
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"strata table, row {i} (stratum {strata[stratum].iloc[i]!r}): min_n {lo[i]} is "
            f"above max_n {hi[i]} (or N = {N[i]}); expected min_n <= max_n <= N"
        )
    return _Problem(strata[stratum].reset_index(drop=True), N, r, cost, lo, hi)


def _targets(targets: Sequence[Mapping[str, Any] | Target] | None) -> list[Target]:
    out = []
    for i, t in enumerate(targets or []):
        if isinstance(t, Target):
            out.append(t)
            continue
        if not isinstance(t, Mapping):
            raise DesignError(
                f"targets[{i}] = {t!r}; expected a dict such as "
                "{'variable': 'active', 'cv': 0.05, 'domain': None}"
            )
        unknown = set(t) - {"variable", "cv", "domain"}
        if unknown or "variable" not in t or "cv" not in t:
            raise DesignError(
                f"targets[{i}] = {dict(t)!r}; expected the keys 'variable', 'cv' and "
                "optionally 'domain'"
            )
        out.append(Target(str(t["variable"]), t["cv"], t.get("domain")))
    for i, t in enumerate(out):
        if isinstance(t.cv, bool) or not isinstance(t.cv, int | float) or not 0 < t.cv < 1:
            raise DesignError(f"targets[{i}]: cv={t.cv!r}; expected a number in (0, 1)")
    return out


def _variance_terms(strata: pd.DataFrame, variable: str, N: np.ndarray) -> tuple[np.ndarray, ...]:
    """Return (S_h^2, mean_h) of ``variable`` per stratum."""
    p_col, s_col, m_col = f"p_{variable}", f"S_{variable}", f"mean_{variable}"
    if p_col in strata.columns:
        p = _column(strata, p_col, None)
        if ((p < 0) | (p > 1)).any():
            i = int(np.flatnonzero((p < 0) | (p > 1))[0])
            raise DataError(
                f"strata table, row {i}, column {p_col!r}: value {_show(p[i])}; expected a share "
                "in [0, 1]"
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            s2 = np.where(N > 1, p * (1 - p) * N / (N - 1), 0.0)
        return s2, p
    if s_col in strata.columns and m_col in strata.columns:
        s = _column(strata, s_col, None)
        if (s < 0).any():
            i = int(np.flatnonzero(s < 0)[0])
            raise DataError(f"strata table, row {i}, column {s_col!r}: value {_show(s[i])} is < 0")
        return s**2, _column(strata, m_col, None)
    raise DesignError(
        f"target variable {variable!r}: the strata table needs {p_col!r} (a proportion) or "
        f"{s_col!r} and {m_col!r} (a population SD and mean per stratum)"
    )


def _constraints(strata: pd.DataFrame, p: _Problem, targets: list[Target]) -> list[_Constraint]:
    out = []
    for t in targets:
        s2, mean = _variance_terms(strata, t.variable, p.N)
        if t.domain is None:
            groups: list[tuple[Any, np.ndarray]] = [(None, np.ones(len(p.N), dtype=bool))]
        else:
            if t.domain not in strata.columns:
                raise DesignError(
                    f"target {t.variable!r}: domain column {t.domain!r} is not in the strata "
                    "table (each stratum names its domain there)"
                )
            if strata[t.domain].isna().any():
                i = int(np.flatnonzero(strata[t.domain].isna().to_numpy())[0])
                raise DataError(
                    f"strata table, row {i}, column {t.domain!r}: no domain; every stratum "
                    "names the domain it belongs to"
                )
            values = strata[t.domain].to_numpy()
            groups = [(v, values == v) for v in pd.unique(values)]
        for value, members in groups:
            total = float(np.sum(p.N[members] * mean[members]))
            if total <= 0:
                where = "overall" if value is None else f"{t.domain} = {value!r}"
                raise DesignError(
                    f"target {t.variable!r} ({where}): the expected total is {total:g}; a CV "
                    "needs a positive total"
                )
            a = np.where(members, p.N**2 * s2 / p.r, 0.0)
            fpc = float(np.sum(np.where(members, p.N * s2, 0.0)))
            out.append(_Constraint(t, value, members, a, fpc, total, (t.cv * total) ** 2))
    return out


def _variance(c: _Constraint, n: np.ndarray) -> float:
    used = c.members & (c.A > 0)
    if np.any(n[used] <= 0):
        return math.inf
    return float(np.sum(c.A[used] / n[used]) - c.fpc)


def _expected_cv(c: _Constraint, n: np.ndarray) -> float:
    return math.sqrt(max(_variance(c, n), 0.0)) / c.total


# ------------------------------------------------------------------ algorithms
def _box_share(w: np.ndarray, n: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Continuous ``clip(lambda w_h, lo_h, hi_h)`` summing to ``n`` (lambda exact)."""
    free = w > 0
    base = float(lo[~free].sum())
    # f(lambda) = sum clip(lambda w, lo, hi) is piecewise linear: evaluate at its breakpoints
    lo_b = lo[free] / w[free]
    hi_b = hi[free] / w[free]
    points = np.unique(np.concatenate([[0.0], lo_b, hi_b]))

    def f(lam: float) -> float:
        return base + float(np.sum(np.clip(lam * w[free], lo[free], hi[free])))

    values = np.array([f(x) for x in points])
    k = int(np.searchsorted(values, n))  # first breakpoint with f >= n
    if k == 0:
        lam = points[0]
    else:
        x0, x1, f0, f1 = points[k - 1], points[k], values[k - 1], values[k]
        lam = x0 + (n - f0) * (x1 - x0) / (f1 - f0)
    out = lo.astype(float).copy()
    out[free] = np.clip(lam * w[free], lo[free], hi[free])
    return out


def _round_to(x: np.ndarray, n: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Whole units summing to ``n`` within bounds: floors, then the largest remainders."""
    out = np.clip(np.floor(x + 1e-9).astype(int), lo, hi)
    short = n - int(out.sum())
    order = np.argsort(-(x - out), kind="stable")
    for i in order:
        if short <= 0:
            break
        if out[i] < hi[i]:
            out[i] += 1
            short -= 1
    return out


def _check_n(n: int | None, p: _Problem, method: str) -> int:
    if n is None:
        raise DesignError(f"method={method!r} needs n= (the total to draw)")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise DesignError(f"n={n!r}; expected a whole number of units >= 0")
    low, high = int(p.lo.sum()), int(p.hi.sum())
    if not low <= n <= high:
        raise DesignError(
            f"n={n} is outside what the bounds allow: at least {low} (min_n and take-all "
            f"strata) and at most {high} (max_n, N)"
        )
    return int(n)


def _greedy(a: np.ndarray, lo: np.ndarray, hi: np.ndarray, stop: Any) -> np.ndarray:
    """Give units one at a time to the stratum where ``sum a_h / n_h`` falls most.

    Starts from ``lo``; ``stop(n, added)`` ends it. For a separable convex objective
    every step's allocation is the integer optimum for its total (Fox 1966).
    """
    n = lo.astype(int).copy()

    def gain(h: int) -> float:
        if a[h] <= 0:
            return 0.0
        return math.inf if n[h] == 0 else a[h] / (n[h] * (n[h] + 1.0))

    heap = [(-gain(h), h) for h in range(len(n)) if n[h] < hi[h]]
    heapq.heapify(heap)
    added = 0
    while heap and not stop(n, added):
        _, h = heapq.heappop(heap)
        n[h] += 1
        added += 1
        if n[h] < hi[h]:
            heapq.heappush(heap, (-gain(h), h))
    return n


def _optimal(p: _Problem, constraints: list[_Constraint], n_total: int | None) -> np.ndarray:
    variables = {c.target.variable for c in constraints}
    if len(variables) != 1:
        raise DesignError(
            f"method='optimal' allocates for one variable; the targets name "
            f"{sorted(variables) or 'none'} (give one target variable, or use method='multi')"
        )
    if n_total is not None:
        overall = [c for c in constraints if c.target.domain is None]
        if len(overall) != len(constraints):
            raise DesignError(
                "method='optimal' with n= minimises the variance of the overall total; "
                "domain targets need n=None (the smallest n meeting them) or method='multi'"
            )
        a = overall[0].A
        extra = n_total - int(p.lo.sum())
        return _greedy(a, p.lo, p.hi, lambda n, added: added >= extra)
    out = p.lo.astype(int).copy()
    covered = np.zeros(len(out), dtype=bool)
    for c in constraints:
        if np.any(covered & c.members):
            raise DesignError(
                "method='optimal' with several targets needs domains that do not overlap "
                f"(the {c.target.domain!r} domains overlap another target's); use "
                "method='multi'"
            )
        covered |= c.members
        lo = np.where(c.members, p.lo, 0)
        hi = np.where(c.members, p.hi, 0)
        n = _greedy(c.A, lo, hi, lambda n, added, c=c: _variance(c, n) <= c.bound)
        out[c.members] = n[c.members]
    return out


def _infeasible(p: _Problem, constraints: list[_Constraint]) -> None:
    best = [(c, _expected_cv(c, p.hi)) for c in constraints]
    bad = [(c, cv) for c, cv in best if cv > c.target.cv * (1 + 1e-12)]
    if bad:
        parts = []
        for c, cv in bad[:10]:
            where = "overall" if c.value is None else f"{c.target.domain} = {c.value}"
            parts.append(
                f"{c.target.variable} ({where}): target CV {c.target.cv:.1%}, best "
                f"achievable {cv:.1%}"
            )
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise DesignError(
            f"{len(bad)} CV target(s) cannot be met even drawing every unit allowed "
            f"(max_n, N; response as given): {'; '.join(parts)}{more}"
        )


def _multi_continuous(
    p: _Problem, constraints: list[_Constraint]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve Bethel's problem in whole numbers' stead: (n, lambda, G).

    min sum c_h n_h subject to sum_h G_jh / n_h <= 1 for every target j (G = A / (bound
    + fpc)) and lo <= n <= hi. For multipliers lambda >= 0 the minimiser of the
    Lagrangian is n_h = clip(sqrt(sum_j lambda_j G_jh / c_h), lo_h, hi_h); the dual
    function is concave with gradient (load_j - 1), so its maximum is found by L-BFGS-B
    over as many variables as there are targets, and n(lambda*) is the optimum.
    """
    from scipy.optimize import minimize

    G = np.array([c.A / (c.bound + c.fpc) for c in constraints])
    lo = np.maximum(p.lo, np.where(G.sum(axis=0) > 0, 1e-9, 0.0))
    hi = p.hi.astype(float)

    def n_of(lam: np.ndarray) -> np.ndarray:
        return np.clip(np.sqrt(np.maximum(lam @ G, 0.0) / p.cost), lo, hi)

    def neg_dual(lam: np.ndarray) -> tuple[float, np.ndarray]:
        n = n_of(lam)
        with np.errstate(divide="ignore", invalid="ignore"):
            load = np.where(G > 0, G / np.where(n > 0, n, 1.0), 0.0).sum(axis=1)
        value = float(p.cost @ n + lam @ (load - 1.0))
        return -value, -(load - 1.0)

    start = np.full(len(constraints), float(np.sum(p.cost * hi)))
    res = minimize(
        neg_dual, start, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * len(start),
        options={"maxiter": 20_000, "maxfun": 40_000, "ftol": 1e-15, "gtol": 1e-12},
    )  # fmt: skip
    return n_of(res.x), res.x, G


def _multi(p: _Problem, constraints: list[_Constraint]) -> np.ndarray:
    """Bethel's problem in whole units: the continuous optimum rounded up, then topped up."""
    if not constraints:
        raise DesignError("method='multi' needs targets= (the CVs to meet)")
    _infeasible(p, constraints)
    x, _, _ = _multi_continuous(p, constraints)
    n = np.clip(np.ceil(x - 1e-6), p.lo, p.hi).astype(int)
    # rounding (and the solver's tolerance) may leave a target a hair short: add units
    # where they reduce the shortfall most per unit of cost
    for _ in range(int(p.hi.sum())):
        short = [c for c in constraints if _variance(c, n) > c.bound * (1 + 1e-12)]
        if not short:
            break
        room = n < p.hi
        if not room.any():
            raise DesignError(
                "the CV targets cannot all be met within max_n (every stratum is at its "
                "maximum); relax a target or raise max_n"
            )
        gain = np.zeros(len(n))
        for c in short:
            with np.errstate(divide="ignore", invalid="ignore"):
                step = np.where(n > 0, c.A / (n * (n + 1.0)), np.where(c.A > 0, np.inf, 0.0))
            gain += np.where(room, step / c.bound, 0.0)
        n[int(np.argmax(np.where(room, gain / p.cost, -np.inf)))] += 1
    return _trim(p, constraints, n)


def _trim(p: _Problem, constraints: list[_Constraint], n: np.ndarray) -> np.ndarray:
    """Take back units, dearest first, while every target still holds.

    Rounding every stratum up can leave a unit or two more than needed; a unit is taken
    back from the stratum where it costs most per unit of the targets' variance it
    buys, as long as no target is broken.
    """
    n = n.copy()
    while True:
        best, best_score = -1, (-np.inf, -np.inf)
        for h in np.flatnonzero(n > p.lo):
            n[h] -= 1
            room = [c.bound - _variance(c, n) for c in constraints]
            n[h] += 1
            share = [r / c.bound for r, c in zip(room, constraints, strict=True)]
            if min(share) < -1e-12:
                continue
            # the dearest unit first; among equals, the one leaving the most room
            score = (float(p.cost[h]), min(share))
            if score > best_score:
                best, best_score = int(h), score
        if best < 0:
            return n
        n[best] -= 1


def allocate(
    strata: pd.DataFrame,
    stratum: str = "stratum",
    n: int | None = None,
    targets: Sequence[Mapping[str, Any] | Target] | None = None,
    method: Method = "optimal",
) -> Allocation:
    """Allocate the next wave's sample to strata (see the module docstring).

    Parameters
    ----------
    strata : pandas.DataFrame
        One row per stratum: ``N`` (population count); per target variable
        ``S_<var>`` and ``mean_<var>``, or ``p_<var>``; optional ``response_rate``
        (default 1), ``cost`` (per unit drawn, default 1), ``min_n`` (default
        ``ceil(2 / response_rate)``, two expected respondents; capped at ``N``),
        ``max_n`` (default ``N``), ``take_all`` (bool: draw the whole stratum) and the
        domain columns that targets name.
    stratum : str, default "stratum"
        The stratum column.
    n : int, optional
        Total to draw; None lets the targets decide (``optimal``, ``multi``).
    targets : sequence of dict or Target, optional
        ``{"variable": "active", "cv": 0.05, "domain": None}``; a ``domain`` names a
        column of ``strata`` (one target per domain value).
    method : {"proportional", "neyman", "optimal", "multi"}, default "optimal"
        The allocation rule.

    Returns
    -------
    Allocation
        ``to_frame()`` per stratum, ``cv`` per target.

    Raises
    ------
    DesignError
        For an unknown method, a missing ``n`` or target, ``n`` outside the bounds, or
        CV targets that cannot be met (named, with the best achievable CVs).
    DataError
        For bad values in the strata table (row, column and value named).

    Examples
    --------
    >>> import pandas as pd
    >>> strata = pd.DataFrame({"stratum": ["a", "b"], "N": [100, 400],
    ...                        "S_y": [10.0, 5.0], "mean_y": [50.0, 20.0]})
    >>> allocate(strata, n=60, targets=[{"variable": "y", "cv": 0.05}],
    ...          method="neyman").n.tolist()
    [20, 40]
    """
    if method not in _METHODS:
        raise DesignError(f"method={method!r}; expected one of {', '.join(_METHODS)}")
    p = _problem(strata, stratum)
    cons = _constraints(strata.reset_index(drop=True), p, _targets(targets))
    if method == "proportional":
        total = _check_n(n, p, method)
        x = _box_share(p.N.astype(float), total, p.lo, p.hi)
        return Allocation(method, p, _round_to(x, total, p.lo, p.hi), cons)
    if method == "neyman":
        total = _check_n(n, p, method)
        variables = {c.target.variable for c in cons}
        if len(variables) != 1:
            raise DesignError(
                f"method='neyman' needs one target variable (its S_h); the targets name "
                f"{sorted(variables) or 'none'}"
            )
        overall = [c for c in cons if c.target.domain is None] or cons
        a = np.sum([c.A for c in overall], axis=0)  # N_h^2 S_h^2 / r_h
        x = _box_share(np.sqrt(a / p.cost), total, p.lo, p.hi)
        return Allocation(method, p, _round_to(x, total, p.lo, p.hi), cons)
    if method == "optimal":
        if n is not None:
            _check_n(n, p, method)
        elif not cons:
            raise DesignError("method='optimal' needs targets= (the variable, and its CVs)")
        else:
            _infeasible(p, cons)
        return Allocation(method, p, _optimal(p, cons, None if n is None else int(n)), cons)
    if n is not None:
        raise DesignError(
            "method='multi' finds the smallest sample meeting the targets; leave n=None "
            "(or use method='optimal' for a fixed n)"
        )
    return Allocation(method, p, _multi(p, cons), cons)


def split_take_all(
    frame: pd.DataFrame,
    size: str,
    threshold: float,
    stratum: str = "stratum",
    suffix: str = " (take-all)",
) -> pd.DataFrame:
    """Move the units at or above a size threshold into take-all strata.

    A few large units (NGO employers, the largest revenues) can decide a total's
    variance; drawing them all removes it. Each stratum's large units form their own
    stratum (``<stratum><suffix>``, so that domains stay unions of strata), marked in a
    ``take_all`` column; a strata table built from the result carries ``take_all=True``
    for them and :func:`allocate` draws them whole.

    Parameters
    ----------
    frame : pandas.DataFrame
        The frame (not modified).
    size : str
        The size column (e.g. last wave's employees or the register's revenue).
    threshold : float
        Units with ``size >= threshold`` are taken whole; missing sizes are not.
    stratum : str, default "stratum"
        The stratum column.
    suffix : str, default " (take-all)"
        Appended to a stratum's label for its take-all part.

    Returns
    -------
    pandas.DataFrame
        A copy with the new stratum labels and a boolean ``take_all`` column.

    Raises
    ------
    DesignError
        For unknown columns or a threshold that is not a number.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"stratum": ["a", "a", "b"], "workers": [3, 250, 40]})
    >>> split_take_all(f, "workers", 100)["stratum"].tolist()
    ['a', 'a (take-all)', 'b']
    """
    for name in (size, stratum):
        if name not in frame.columns:
            raise DesignError(f"frame: column {name!r} is missing")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.number):
        raise DesignError(f"threshold={threshold!r}; expected a number")
    values = pd.to_numeric(frame[size], errors="coerce")
    big = (values >= threshold).fillna(False).to_numpy(dtype=bool)
    out = frame.copy()
    out[stratum] = np.where(big, out[stratum].astype(str) + suffix, out[stratum].astype(str))
    out["take_all"] = big
    return out


# ------------------------------------------------------------------ selection
def select_sample(
    frame: pd.DataFrame,
    alloc: Allocation | pd.DataFrame,
    stratum: str = "stratum",
    prn: str = "prn",
    seed: int | None = None,
    previous: pd.Series | np.ndarray | None = None,
    overlap: Overlap = "independent",
    start: float | Mapping[Any, float] = 0.0,
) -> pd.DataFrame:
    """Draw the allocated sample with permanent random numbers (PRN).

    Within each stratum the units are ordered by ``(prn - s_h) mod 1`` from a start
    point ``s_h`` and the first ``n_h`` are drawn: sequential simple random sampling
    (Ohlsson 1995), a simple random sample of the stratum because the PRNs are
    independent uniform numbers and the start does not depend on them. The start:

    - ``"independent"``: ``start`` shifted by a uniform number drawn from ``seed`` (not
      shifted without a seed, or when the PRNs are created here);
    - ``"maximise"``: ``start`` itself, the previous wave's start (``prn_start`` of its
      result; 0 by default): the same units come first again, so the panel is kept as
      far as the sizes allow, and units new to the frame enter by their PRN;
    - ``"minimise"``: just past the last unit of ``previous`` in the stratum's order
      from ``start``, so last wave's units come last (no overlap when the stratum has
      room for both samples). The start then depends on last wave's PRNs: each unit's
      inclusion probability is ``n_h / N_h`` by symmetry for the units of the old frame,
      approximately so for new ones.

    When the frame has no PRN column, PRNs are created from ``seed``. If ``previous``
    marks last wave's sample (drawn without PRNs, e.g. by another program), they are
    created coordinated with it: in each stratum last wave's units get the lowest PRNs,
    each group in random order, spread evenly over [0, 1). Given a simple random
    previous sample the stratum's PRN order is then a uniformly random permutation, so
    every wave drawn from them is a simple random sample, and ``"maximise"`` with start
    0 keeps the panel.

    Parameters
    ----------
    frame : pandas.DataFrame
        The sampling frame, one row per unit, with the ``stratum`` column (and the PRN
        column, kept across waves).
    alloc : Allocation or pandas.DataFrame
        The allocation (a frame needs the columns ``stratum`` and ``n``).
    stratum : str, default "stratum"
        Stratum column, the same in the frame and the allocation.
    prn : str, default "prn"
        PRN column: numbers in [0, 1), fixed per unit across waves.
    seed : int, optional
        Creates the PRNs when the frame has none; shifts the start for
        ``"independent"``.
    previous : pandas.Series or numpy.ndarray of bool, optional
        The units drawn in the previous wave (aligned with ``frame``); needed for
        ``"minimise"`` and for PRNs created for ``"maximise"``.
    overlap : {"independent", "maximise", "minimise"}, default "independent"
        Coordination with the previous wave.
    start : float or mapping of stratum to float, default 0.0
        Start point(s) in [0, 1): the previous wave's ``prn_start`` to keep its order.

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` with ``prn``, ``prn_start`` (the stratum's start), ``sampled``
        (bool), ``N_h``, ``n_h`` and ``pi`` (inclusion probability ``n_h / N_h``), ready
        for ``SurveyDesign.from_frame(result, "sampled")``.

    Raises
    ------
    DesignError
        For strata without an allocation (or allocated but absent), a missing PRN
        column without a seed, a missing ``previous`` or a bad ``start``.
    DataError
        For PRNs outside [0, 1).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"stratum": ["a"] * 4 + ["b"] * 2,
    ...                       "prn": [0.9, 0.1, 0.5, 0.3, 0.7, 0.2]})
    >>> alloc = pd.DataFrame({"stratum": ["a", "b"], "n": [2, 1]})
    >>> select_sample(frame, alloc)["sampled"].tolist()
    [False, True, False, True, False, True]
    >>> select_sample(frame, alloc, start=0.4)["sampled"].tolist()
    [True, False, True, False, True, False]
    """
    if overlap not in _OVERLAPS:
        raise DesignError(f"overlap={overlap!r}; expected one of {', '.join(_OVERLAPS)}")
    if not isinstance(frame, pd.DataFrame):
        raise DesignError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    if stratum not in frame.columns:
        raise DesignError(f"frame: stratum column {stratum!r} is missing")
    if isinstance(alloc, Allocation):
        sizes = alloc.to_frame().set_index("stratum")["n"]
    elif isinstance(alloc, pd.DataFrame) and {stratum, "n"} <= set(alloc.columns):
        sizes = alloc.set_index(stratum)["n"]
    else:
        raise DesignError(
            f"alloc must be an Allocation or a DataFrame with columns {stratum!r} and 'n'"
        )
    out = frame.copy()
    present = set(out[stratum].unique())
    missing = sorted(map(str, present - set(sizes.index)))
    if missing:
        raise DesignError(
            f"frame strata without an allocation: {', '.join(missing[:10])}; allocate every "
            "stratum of the frame (n = 0 to leave one out)"
        )
    absent = [str(s) for s, k in sizes.items() if s not in present and k > 0]
    if absent:
        raise DesignError(f"allocated strata not in the frame: {', '.join(absent[:10])}")
    prev = None
    if previous is not None:
        prev = np.asarray(
            previous.reindex(out.index).fillna(False) if isinstance(previous, pd.Series)
            else previous, dtype=bool,
        )  # fmt: skip
        if prev.shape != (len(out),):
            raise DesignError(
                f"previous has {prev.shape[0]} values for {len(out)} frame units; expected "
                "one per unit"
            )
    if overlap == "minimise" and prev is None:
        raise DesignError("overlap='minimise' needs previous= (last wave's sample)")
    strata_of = out[stratum].to_numpy()
    created = prn not in out.columns
    if created:
        if seed is None:
            raise DesignError(
                f"frame has no PRN column {prn!r}; pass seed= to create permanent random "
                "numbers, and keep them in the frame for the next waves"
            )
        out[prn] = _new_prns(strata_of, prev, np.random.default_rng(seed))
    numbers = pd.to_numeric(out[prn], errors="coerce").to_numpy(dtype=float)
    bad = ~((numbers >= 0) & (numbers < 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"frame, row {_show(out.index[i])}, column {prn!r}: value {_show(out[prn].iloc[i])}; "
            "expected a permanent random number in [0, 1)"
        )
    base = _starts(start, strata_of)
    if overlap == "independent" and seed is not None and not created:
        base = (base + float(np.random.default_rng(seed).random())) % 1.0
    if overlap == "minimise":
        assert prev is not None
        position = (numbers - base) % 1.0
        last = pd.Series(np.where(prev, position, -1.0)).groupby(strata_of).transform("max")
        past = last.to_numpy() >= 0  # strata holding units of last wave's sample
        base = np.where(past, (base + last.to_numpy() + 1e-12) % 1.0, base)
    key = (numbers - base) % 1.0
    order = np.lexsort((key, strata_of.astype(str)))
    N_h = out.groupby(stratum, sort=False)[stratum].transform("size").to_numpy()
    n_h = out[stratum].map(sizes).to_numpy(dtype=float).astype(int)
    rank = pd.Series(np.arange(len(order))).groupby(strata_of[order]).cumcount().to_numpy()
    sampled = np.zeros(len(out), dtype=bool)
    sampled[order] = rank < n_h[order]
    out["prn_start"] = base
    out["sampled"] = sampled
    out["N_h"] = N_h
    out["n_h"] = np.minimum(n_h, N_h)
    out["pi"] = out["n_h"] / out["N_h"]
    return out


def _starts(start: float | Mapping[Any, float], strata_of: np.ndarray) -> np.ndarray:
    """Return each unit's start point from one start or a start per stratum."""
    if isinstance(start, Mapping):
        values = pd.Series(strata_of).map(start)
        if values.isna().any():
            lost = pd.Series(strata_of)[values.isna()].iloc[0]
            raise DesignError(f"start has no value for stratum {_show(lost)}")
        out = values.to_numpy(dtype=float)
    elif isinstance(start, int | float | np.number) and not isinstance(start, bool):
        out = np.full(len(strata_of), float(start))
    else:
        raise DesignError(f"start={start!r}; expected a number in [0, 1) or one per stratum")
    if not np.all((out >= 0) & (out < 1)):
        raise DesignError(f"start={start!r}; start points must lie in [0, 1)")
    return out


def _new_prns(
    strata_of: np.ndarray, prev: np.ndarray | None, rng: np.random.Generator
) -> np.ndarray:
    """Create PRNs: independent uniform ones, or ones coordinated with ``prev``.

    Coordinated: in each stratum, ranks are a random order of last wave's units followed
    by a random order of the others, and unit of rank k gets (k - u) / N_h with u
    uniform on (0, 1).
    """
    if prev is None:
        return rng.random(len(strata_of))
    out = np.empty(len(strata_of))
    for h in pd.unique(strata_of):
        idx = np.flatnonzero(strata_of == h)
        first = rng.permutation(idx[prev[idx]])
        rest = rng.permutation(idx[~prev[idx]])
        ranked = np.concatenate([first, rest])
        out[ranked] = (np.arange(1, len(idx) + 1) - rng.random(len(idx))) / len(idx)
    return out


# ------------------------------------------------------------------ from a finished wave
_STAGE_PARTS = {"active": ("active",), "earning": ("active", "earning"),
                "employing": ("active", "employing")}  # fmt: skip
# A stratum where no sampled unit answered still gets a positive rate: 0 would ask for an
# infinite sample. 5% reads "expect almost nobody", and the allocation shows what it costs.
_MIN_RESPONSE_RATE = 0.05
_DEFAULT_DOMAINS = ("subregion", "es_category", "entity_type")


def _unit_values(units: pd.DataFrame, variable: str) -> tuple[np.ndarray, bool]:
    """Return each unit's value of ``variable`` (NaN: undecided) and whether it is a flag.

    Flags (the funnel stages, boolean columns) are 1/0; other variables are numbers
    counted among active entities (0 for an inactive one), as the study's totals are.
    """
    if variable not in _STAGE_PARTS and variable not in units.columns:
        raise DesignError(
            f"variable {variable!r} is not a column of the study's units; expected a funnel "
            f"stage ({', '.join(_STAGE_PARTS)}) or an answer such as 'workers'"
        )
    parts = _STAGE_PARTS.get(variable)
    if parts is None and pd.api.types.is_bool_dtype(units[variable].dtype):
        parts = (variable,)
    if parts is not None:
        missing = [p for p in parts if p not in units.columns]
        if missing:
            raise DesignError(
                f"variable {variable!r} needs the flag column(s) {missing}; classify the "
                "answers first (es_survey.survey_frame)"
            )
        flag = units[parts[0]].astype("boolean")
        for name in parts[1:]:
            flag = flag & units[name].astype("boolean")  # Kleene "and", as the funnel
        return flag.astype("Float64").to_numpy(dtype=float, na_value=np.nan), True
    raw = units[variable]
    y = pd.to_numeric(raw, errors="coerce").astype("Float64")
    bad = y.isna() & raw.notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DesignError(
            f"variable {variable!r}, unit {units.index[i]!r}: value {raw.iloc[i]!r} is neither "
            "a number nor a yes/no flag; a target variable is a flag or a count"
        )
    values = y.to_numpy(dtype=float, na_value=np.nan)
    if "active" in units.columns:
        active = units["active"].astype("boolean").astype("Float64")
        a = active.to_numpy(dtype=float, na_value=np.nan)
        values = np.where(a == 0, 0.0, np.where(a == 1, values, np.nan))
    return values, False


def strata_from_study(
    results: StudyResults,
    stratum: str | None = None,
    variables: Sequence[str] = ("active", "workers"),
    domains: Sequence[str] = _DEFAULT_DOMAINS,
) -> pd.DataFrame:
    """Build the strata table of the next wave from a finished one.

    Every frame unit has a value of each variable: a respondent's answer, and 0 for a
    sampled unit found ineligible in the field (ceased, in liquidation, outside the
    sector: not active, no workers), as the funnel counts them. A flag (``active``,
    ``earning``, ``employing`` — Kleene "and" with ``active`` — or any yes/no column)
    is 1/0; any other variable is a number counted among active entities (0 for an
    inactive one), as :func:`~es_survey.population_totals` counts it. The units
    *observed* in a stratum are its respondents (contact outcome complete or partial)
    with a decided value and its sampled units found ineligible; units of the
    follow-up of nonrespondents are not counted (a second phase, not the fieldwork the
    next wave repeats).

    Per stratum (rows sorted by stratum):

    - ``N``: frame units;
    - ``sampled``, ``respondents``, ``ineligible``: counts from the dispositions;
    - ``response_rate`` = (respondents + ineligible) / sampled: the share of drawn
      units whose values become known, the ``r_h`` of :func:`allocate`; a stratum
      with no sampled unit takes the whole sample's rate, and a rate below 5% is
      raised to 5% (0 would ask for an infinite sample);
    - for a flag, ``p_<var>``: the *unweighted* share among the observed units; for a
      number, ``mean_<var>`` and ``S_<var>`` (standard deviation, ``ddof=1``) of the
      observed units — unweighted because the units of a stratum were drawn with
      equal probability and planning needs ``S_h`` roughly, not an estimate;
    - ``observed_<var>``: the observed units behind those numbers;
    - ``pooled``: True when a stratum has fewer than 2 observed values of some
      variable; that variable's numbers are then the whole sample's (never a
      stratum SD from one unit);
    - the ``domains`` columns that have one value in each stratum (a domain that
      varies within a stratum, or is not a column, is left out: a target for it
      would need a stratification nested in it).

    Parameters
    ----------
    results : StudyResults
        From :func:`~es_survey.study.run_study` (its ``units``, ``dispositions`` and
        ``config.strata`` are used).
    stratum : str, optional
        Column of ``results.units`` to stratify the next wave by (default: the study
        design's stratum column).
    variables : sequence of str, default ("active", "workers")
        Target variables.
    domains : sequence of str, default ("subregion", "es_category", "entity_type")
        Domain columns to carry (for domain targets).

    Returns
    -------
    pandas.DataFrame
        The strata table for :func:`allocate` (``stratum`` keeps its column name).

    Raises
    ------
    DesignError
        For a missing stratum column or variable, a variable that is neither a flag
        nor a number, or dispositions that do not match the units.
    DataError
        For a frame unit without a stratum (its row named).

    Examples
    --------
    >>> import types
    >>> import pandas as pd
    >>> units = pd.DataFrame({
    ...     "stratum": ["a"] * 4 + ["b"] * 3,
    ...     "active": pd.array([True, False, None, None, True, True, None],
    ...                        dtype="boolean"),
    ...     "workers": [4.0, 9.0, None, None, 2.0, 6.0, None]})
    >>> dispositions = pd.DataFrame({
    ...     "disposition": ["complete", "complete", "ineligible", "refusal",
    ...                     "complete", "complete", "not_sampled"],
    ...     "respondent": [True, True, False, False, True, True, False]})
    >>> results = types.SimpleNamespace(units=units, dispositions=dispositions,
    ...                                 config=types.SimpleNamespace(strata="stratum"))
    >>> strata_from_study(results)[["stratum", "N", "response_rate", "p_active",
    ...                             "mean_workers"]]
      stratum  N  response_rate  p_active  mean_workers
    0       a  4           0.75  0.333333      1.333333
    1       b  3           1.00  1.000000      4.000000
    """
    units = results.units
    stratum = results.config.strata if stratum is None else stratum
    if stratum not in units.columns:
        raise DesignError(
            f"stratum column {stratum!r} is not a column of the study's units (the frame "
            "columns and the classified answers)"
        )
    strata = units[stratum]
    if strata.isna().any():
        i = int(np.flatnonzero(strata.isna().to_numpy())[0])
        raise DataError(
            f"frame unit {units.index[i]!r} has no value in the stratum column {stratum!r}; "
            "every frame unit needs a stratum"
        )
    disp = results.dispositions
    if len(disp) != len(units) or not disp.index.equals(units.index):
        raise DesignError(
            f"the dispositions ({len(disp)} rows) do not match the units ({len(units)} rows); "
            "pass the StudyResults of run_study unchanged"
        )
    code = disp["disposition"].astype("string")
    sampled = (code.notna() & code.ne("not_sampled")).to_numpy(dtype=bool)
    respondent = disp["respondent"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    ineligible = code.eq("ineligible").fillna(False).to_numpy(dtype=bool)
    key = strata.to_numpy()
    groups = pd.Series(key).groupby(key, sort=True)
    out = pd.DataFrame({stratum: groups.size().index, "N": groups.size().to_numpy()})
    index = pd.Index(out[stratum])
    for name in domains:
        if name == stratum or name not in units.columns:
            continue
        labels = units[name].astype("string").fillna("")
        per = labels.groupby(key, sort=True)
        if int(per.nunique().max()) == 1:
            out[name] = per.first().reindex(index).to_numpy()
    counts = pd.DataFrame(
        {"sampled": sampled, "respondents": respondent & sampled,
         "ineligible": ineligible & sampled}, index=units.index,
    ).groupby(key, sort=True).sum().reindex(index)  # fmt: skip
    for col in counts.columns:
        out[col] = counts[col].to_numpy(dtype=int)
    seen = (out["respondents"] + out["ineligible"]).to_numpy(dtype=float)
    drawn = out["sampled"].to_numpy(dtype=float)
    overall = seen.sum() / drawn.sum() if drawn.sum() > 0 else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(drawn > 0, seen / np.where(drawn > 0, drawn, 1.0), overall)
    out["response_rate"] = np.maximum(rate, _MIN_RESPONSE_RATE)
    pooled = np.zeros(len(out), dtype=bool)
    observed_unit = respondent | ineligible
    for variable in variables:
        values, is_flag = _unit_values(units, variable)
        values = np.where(ineligible & sampled, 0.0, values)
        use = observed_unit & sampled & ~np.isnan(values)
        frame = pd.DataFrame({"key": key[use], "y": values[use]})
        stats = frame.groupby("key", sort=True)["y"].agg(["count", "mean", "std"])
        stats = stats.reindex(index)
        count = stats["count"].fillna(0).to_numpy(dtype=int)
        mean = stats["mean"].to_numpy(dtype=float)
        sd = stats["std"].to_numpy(dtype=float)
        few = count < 2
        pooled |= few
        all_y = values[use]
        all_mean = float(all_y.mean()) if all_y.size else float("nan")
        all_sd = float(all_y.std(ddof=1)) if all_y.size > 1 else float("nan")
        if few.all() and not np.isfinite(all_sd):
            raise DesignError(
                f"variable {variable!r}: fewer than 2 observed values in the whole sample; "
                "its spread cannot be estimated"
            )
        if is_flag:
            out[f"p_{variable}"] = np.where(few, all_mean, mean)
        else:
            out[f"mean_{variable}"] = np.where(few, all_mean, mean)
            out[f"S_{variable}"] = np.where(few, all_sd, sd)
        out[f"observed_{variable}"] = count
    if "take_all" in units.columns:  # from split_take_all: such strata are drawn whole
        flag = units["take_all"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        out["take_all"] = pd.Series(flag).groupby(key, sort=True).any().reindex(index).to_numpy()
    out["pooled"] = pooled
    return out


@dataclass(frozen=True, eq=False)
class NextWave:
    """The next wave planned from a finished one (:func:`plan_next_wave`).

    Attributes
    ----------
    strata : pandas.DataFrame
        :func:`strata_from_study`'s table, with ``min_n`` when ``[plan]`` sets it.
    allocation : Allocation
        The allocation of ``[plan]``; when its targets cannot be met (``feasible`` is
        False), the allocation that draws every unit, whose ``cv`` shows the best
        achievable CVs.
    feasible : bool
        Whether the targets can be met (False only with ``strict=False``).
    sample : pandas.DataFrame or None
        Every frame unit (frame order) with ``prn``, ``previous`` (drawn this wave),
        ``sampled`` (drawn for the next), ``N_h``, ``n_h`` and ``pi``; None when not
        feasible.
    stratum : str
        The stratum column.
    prn_created : bool
        True when the frame had no ``prn`` column and the numbers were created from
        ``seed``: keep them (``sample``'s ``prn``) for the waves after.
    seed : int
        The seed used for the permanent random numbers.
    """

    strata: pd.DataFrame
    allocation: Allocation
    feasible: bool
    sample: pd.DataFrame | None
    stratum: str
    prn_created: bool
    seed: int


_SAMPLE_IDS = ("regon", "krs", "nip", "name")


def plan_next_wave(results: StudyResults, *, strict: bool = True) -> NextWave:
    r"""Plan the next wave of a study with its ``[plan]``: allocate, then draw.

    The strata table comes from :func:`strata_from_study` (the targets' variables and
    domains), ``[plan] min_n`` bounds every stratum from below (``min(min_n, N_h)``),
    :func:`allocate` applies the method and targets, and :func:`select_sample` draws
    from the study's frame with the frame's ``prn`` column, or numbers created from
    the seed, coordinated with this wave's sample as ``[plan] overlap`` says.

    Parameters
    ----------
    results : StudyResults
        From :func:`~es_survey.study.run_study` of a study with a ``[plan]``.
    strict : bool, default True
        Targets that cannot be met raise :func:`allocate`'s DesignError; False returns
        them with ``feasible=False`` (the report says so instead of failing).

    Returns
    -------
    NextWave

    Raises
    ------
    DesignError
        Without ``[plan]``; for a target domain that is not a union of strata; and
        from :func:`allocate` and :func:`select_sample`.

    Examples
    --------
    A finished wave in brief (``run_study`` gives the real thing): 10 frame units in 2
    strata, 8 drawn, 6 answered.

    >>> import pathlib, tempfile, types
    >>> import pandas as pd
    >>> from es_survey.study import load_config
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "study.toml").write_text(
    ...     '[study]\nyear = 2023\n[inputs]\nframe = "f.xlsx"\nresponses = "r.xlsx"\n'
    ...     '[plan]\ntargets = [{variable = "active", cv = 0.2}]\n', encoding="utf-8")
    >>> units = pd.DataFrame({
    ...     "stratum": ["a"] * 6 + ["b"] * 4,
    ...     "sampled": [True] * 4 + [False] * 2 + [True] * 4,
    ...     "active": pd.array([True, False, True, None, None, None, True, True, False,
    ...                         None], dtype="boolean")})
    >>> outcome = (["complete"] * 3 + ["refusal"] + ["not_sampled"] * 2
    ...            + ["complete"] * 3 + ["non_contact"])
    >>> dispositions = pd.DataFrame({"disposition": outcome,
    ...                              "respondent": [o == "complete" for o in outcome]})
    >>> results = types.SimpleNamespace(config=load_config(d / "study.toml"), units=units,
    ...                                 dispositions=dispositions)
    >>> wave = plan_next_wave(results)
    >>> wave.allocation.n.tolist(), int(wave.sample["sampled"].sum())
    ([5, 4], 9)
    """
    config = results.config
    plan = config.plan
    where = config.path or "the study config"
    if plan is None:
        raise DesignError(
            f"{where} has no [plan] section; add one with targets, e.g. [plan] targets = "
            '[{variable = "active", cv = 0.05}]'
        )
    stratum = plan.stratum or config.strata
    variables = list(dict.fromkeys(t.variable for t in plan.targets))
    wanted = [t.domain for t in plan.targets if t.domain]
    try:
        strata = strata_from_study(results, stratum, variables, [*_DEFAULT_DOMAINS, *wanted])
    except DesignError as exc:
        raise DesignError(f"{where}: [plan]: {exc}") from None
    for domain in dict.fromkeys(wanted):
        if domain not in strata.columns:
            raise DesignError(
                f"{where}: [plan] target domain {domain!r}: "
                + (
                    f"it varies within strata of {stratum!r}; a domain must be a union of "
                    "strata: set [plan] stratum to a column nested in it"
                    if domain in results.units.columns
                    else "not a column of the study's units"
                )
            )
    if plan.min_n is not None:
        strata["min_n"] = np.minimum(int(plan.min_n), strata["N"].to_numpy())
    targets = list(plan.targets)
    seed = config.seed if plan.seed is None else int(plan.seed)
    if not strict:
        whole = allocate(strata, stratum, n=int(strata["N"].sum()), targets=targets,
                         method="proportional")  # fmt: skip
        if not bool(whole.cv["met"].all()):
            return NextWave(strata, whole, False, None, stratum, False, seed)
    alloc = allocate(strata, stratum, n=plan.n, targets=targets, method=plan.method)
    units = results.units
    ids = [c for c in _SAMPLE_IDS if c in units.columns]
    keep = list(dict.fromkeys([*ids, config.strata, stratum, *(["prn"] if "prn" in units else [])]))
    frame = units[keep].copy()
    previous = units[config.sample].astype("boolean").fillna(False).to_numpy(dtype=bool)
    created = "prn" not in frame.columns
    drawn = select_sample(
        frame, alloc, stratum=stratum, prn="prn", seed=seed, overlap=plan.overlap,
        previous=previous,
    )  # fmt: skip
    drawn.insert(list(drawn.columns).index("sampled"), "previous", previous)
    return NextWave(strata, alloc, True, drawn, stratum, created, seed)
