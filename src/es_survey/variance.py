r"""The variance engine: design covariance of linearised (influence) values.

Every estimator in es_survey is a smooth function of weighted totals, so its
variance is the design variance of the total of its *weighted influence values*
``z_i = w_i * u_i`` (``u_i`` the influence function of the estimator). This
module holds the one routine that turns an ``n x k`` matrix of such values into
their design covariance.

For a stratified multistage design (with-replacement or with a finite
population correction at each stage) the estimator is R ``survey``'s
``svyrecvar``: for the first stage

.. math::

    \hat V = \sum_h (1 - f_h) \frac{n_h}{n_h - 1}
              \sum_{i=1}^{n_h} (z_{hi} - \bar z_h)(z_{hi} - \bar z_h)^\top

with ``z_hi`` the total of the values in PSU ``i`` of stratum ``h``,
``f_h = n_h / N_h`` (``f_h = 0`` without fpc) and certainty strata (``f_h = 1``)
contributing nothing. When the design has an fpc, each later stage adds the
same sum computed within each sampled unit of the previous stage, multiplied by
the sampling fractions of all earlier stages (Lumley 2010, section 3.2; Särndal,
Swensson & Wretman 1992, result 4.3.1).

Strata with a single PSU ("lonely PSUs") follow the design's ``lonely_psu`` rule,
with the meanings of R ``survey`` 4.1 (``options(survey.lonely.psu=)``):

* ``"fail"``: an error naming the stratum;
* ``"remove"`` and ``"certainty"``: the stratum contributes zero;
* ``"adjust"``: the single PSU total is centred at zero instead of at the
  stratum mean (a conservative choice);
* ``"average"``: the stratum is left out and the sum over the other strata is
  multiplied by (number of strata) / (number of strata with several PSUs).

Domain estimates keep every sampled unit: values outside the domain are zero,
PSUs without domain members still count in ``n_h`` (as R's ``subset()``), and
the rules that depend on which strata occur (``"average"``, degrees of freedom)
count only strata with domain members, as R does on a subset design.

The domain version is vectorised: the totals of every (PSU, domain) pair are
formed with one ``np.bincount`` on combined integer codes, then centred within
(stratum, domain) cells, so the cost is O(n) per variable whatever the number of
domains. A replicate-weight variance (issue 4) implements the same
:class:`VarianceEngine` protocol.

References
----------
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.
Särndal, C.-E., Swensson, B. and Wretman, J. (1992). *Model Assisted Survey
Sampling*. Springer.
Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed. Springer.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import pandas as pd

from es_survey.errors import DesignError

__all__ = [
    "LONELY_PSU_RULES",
    "LonelyPsu",
    "TaylorVariance",
    "VarianceEngine",
]

LonelyPsu = Literal["fail", "remove", "certainty", "adjust", "average"]
LONELY_PSU_RULES: tuple[str, ...] = ("fail", "remove", "certainty", "adjust", "average")

_CERTAINTY_EPS = 1e-7  # R's onestrat(): all(f < 1e-7) marks a self-representing stratum
_DENSE_FACTOR = 8  # dense (unit x domain) table while it has at most 8 n cells
_DENSE_MIN_CELLS = 1 << 16  # a dense table of this many cells is always fine
_MAX_FULL_CELLS = 50_000_000  # cells of the unit x (domain*variable) matrix of vcov()
_CHUNK_CELLS = 1 << 22  # cells of one block of a large stage's dense table (32 MB)
_THREADS = 2  # threads over the blocks of a large stage (results added in block order)
_CHUNKED = True  # large stages by dense blocks of strata (False: by hashing unit x domain)


class VarianceEngine(Protocol):
    """Interface every variance method implements (linearisation, replicates)."""

    def domain_keys(self, domain: np.ndarray, n_domains: int) -> _DomainKeys:
        """Precompute what the other methods need about the domain codes."""
        ...

    def domain_cov(
        self,
        values: np.ndarray,
        domain: np.ndarray,
        n_domains: int,
        keys: _DomainKeys | None = None,
    ) -> np.ndarray:
        """Covariance of the column totals of ``values`` within each domain, (D, k, k)."""
        ...

    def full_cov(
        self, values: np.ndarray, domain: np.ndarray, n_domains: int, present: np.ndarray
    ) -> np.ndarray:
        """Covariance of all (domain, column) totals together, (D*k, D*k)."""
        ...

    def degrees_of_freedom(
        self, domain: np.ndarray, n_domains: int, keys: _DomainKeys | None = None
    ) -> np.ndarray:
        """Degrees of freedom of each domain, (D,)."""
        ...


@dataclass(frozen=True, eq=False)
class _Stage:
    """Integer codes of one sampling stage, precomputed once per design.

    Parameters
    ----------
    strata : numpy.ndarray
        Row-level stratum code at this stage (at stage 2 and later the stratum is
        the sampled unit of the previous stage), ``0 .. n_strata - 1``.
    clusters : numpy.ndarray
        Row-level code of the sampled unit at this stage, nested in its stratum.
    cluster_stratum : numpy.ndarray
        Stratum code of each unit.
    n_psu : numpy.ndarray
        Number of units sampled in each stratum (float).
    popsize : numpy.ndarray
        Population number of units in each stratum; ``inf`` without fpc.
    group : numpy.ndarray
        For each stratum, the code of the previous stage's unit containing it
        (all zero at stage 1).
    multiplier : numpy.ndarray
        For each stratum, the product of the sampling fractions of the earlier
        stages (1 at stage 1).
    labels : list of str
        Human-readable name of each stratum, for error messages.
    """

    strata: np.ndarray
    clusters: np.ndarray
    cluster_stratum: np.ndarray
    n_psu: np.ndarray
    popsize: np.ndarray
    group: np.ndarray
    multiplier: np.ndarray
    labels: list[str]

    @property
    def n_strata(self) -> int:
        """Number of strata at this stage."""
        return int(self.n_psu.shape[0])

    @property
    def n_clusters(self) -> int:
        """Number of sampled units at this stage."""
        return int(self.cluster_stratum.shape[0])

    @property
    def starts(self) -> np.ndarray:
        """First unit of each stratum (units are numbered stratum by stratum)."""
        return np.searchsorted(self.cluster_stratum, np.arange(self.n_strata))

    @property
    def fpc_factor(self) -> np.ndarray:
        """``1 - f_h`` of each stratum: ``(N_h - n_h) / N_h``, 1 without fpc."""
        with np.errstate(invalid="ignore"):
            f = (self.popsize - self.n_psu) / self.popsize
        return np.where(np.isinf(self.popsize), 1.0, f)

    @property
    def certain(self) -> np.ndarray:
        """Self-representing strata (``1 - f_h < 1e-7``), which add no variance."""
        return self.fpc_factor < _CERTAINTY_EPS

    @property
    def lonely(self) -> np.ndarray:
        """Strata with a single sampled unit that are not certainty strata."""
        return (self.n_psu == 1) & ~self.certain

    def stratum_sums(self, table: np.ndarray) -> np.ndarray:
        """Sum the rows of a ``(units, m)`` table within each stratum: ``(strata, m)``.

        Units are numbered stratum by stratum; the sums are one sparse product with
        the stratum indicator (built once, cached), in unit order within a stratum.
        """
        cache = self.__dict__.setdefault("_indicator", [])
        if not cache:
            from scipy import sparse  # on first use: `import es_survey` stays light

            units = self.n_clusters
            cache.append(
                sparse.csr_matrix(
                    (np.ones(units), (self.cluster_stratum, np.arange(units))),
                    shape=(self.n_strata, units),
                )
            )
        return np.asarray(cache[0] @ table)

    def row_order(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows sorted by unit, and where each unit's rows start (computed once, cached)."""
        cache = self.__dict__.setdefault("_row_order", [])
        if not cache:
            order = np.argsort(self.clusters, kind="stable")
            bounds = np.searchsorted(self.clusters[order], np.arange(self.n_clusters + 1))
            cache.extend((order, bounds))
        return cache[0], cache[1]

    def part(self, h0: int, h1: int) -> _Stage:
        """Restrict the stage to strata ``h0 .. h1 - 1`` (units renumbered from 0).

        Row-level codes are left empty: a part is used with rows gathered by the caller.
        """
        starts = self.starts
        u0 = int(starts[h0])
        u1 = int(starts[h1]) if h1 < self.n_strata else self.n_clusters
        return _Stage(
            strata=np.zeros(0, dtype=np.int64),
            clusters=np.zeros(0, dtype=np.int64),
            cluster_stratum=self.cluster_stratum[u0:u1] - h0,
            n_psu=self.n_psu[h0:h1],
            popsize=self.popsize[h0:h1],
            group=self.group[h0:h1] - self.group[h0],
            multiplier=self.multiplier[h0:h1],
            labels=self.labels[h0:h1] if isinstance(self.labels, list) else [],
        )

    def variance_weight(self, rule: str) -> np.ndarray:
        """Multiplier of each stratum's squared deviations under the lonely-PSU ``rule``.

        ``(1 - f_h) n_h / (n_h - 1)`` times the earlier stages' sampling fractions;
        0 for certainty strata, and for lonely strata under ``"remove"``,
        ``"certainty"`` and ``"average"`` (whose share is spread by a factor). The
        one place the certainty and lonely-PSU rules are written.
        """
        weight = np.where(self.certain, 0.0, self.scale * self.multiplier)
        if rule in ("remove", "certainty", "average"):
            weight = np.where(self.lonely, 0.0, weight)
        return weight

    def centred_at_zero(self, rule: str) -> np.ndarray:
        """Strata whose units are centred at zero, not at the stratum mean.

        R survey 4.1's ``"adjust"``: a lonely PSU is compared with zero.
        """
        return self.lonely & (rule == "adjust")

    @property
    def scale(self) -> np.ndarray:
        """``(1 - f_h) n_h / (n_h - 1)``; ``1 - f_h`` for a single unit."""
        f = self.fpc_factor
        n = self.n_psu
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(n > 1, f * n / (n - 1.0), f)


def _codes(key: np.ndarray, size: int, sort: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes of integer keys in ``0 .. size - 1`` (in increasing key order).

    Returns the code of every key and the distinct keys. A bincount over the key
    range is used while it is small (O(n + size)); otherwise a hash factorisation,
    whose codes follow first appearance when ``sort=False`` (no O(n log n) sort).
    """
    n = key.shape[0]
    if size <= _DENSE_FACTOR * n + (1 << 20):
        counts = np.bincount(key, minlength=size)
        uniq = np.flatnonzero(counts)
        lookup = np.empty(size, dtype=np.int64)
        lookup[uniq] = np.arange(uniq.shape[0])
        return lookup[key], uniq
    codes, uniq = pd.factorize(key, sort=sort)
    return codes.astype(np.int64, copy=False), np.asarray(uniq, dtype=np.int64)


def _average_factor(stage: _Stage, present: np.ndarray) -> np.ndarray:
    """R's ``lonely_psu="average"``: each stratum's share of its group's lonely strata.

    ``present`` (strata x domains) marks the strata with members of each domain; the
    factor is (strata with members) / (non-lonely strata with members) of the group.
    """
    n_domains = present.shape[1]
    n_groups = int(stage.group.max()) + 1
    gkey = (stage.group[:, None] * n_domains + np.arange(n_domains)).reshape(-1)
    n_strat = np.bincount(
        gkey, weights=present.reshape(-1).astype(float), minlength=n_groups * n_domains
    )
    n_ok = np.bincount(
        gkey,
        weights=(present & ~stage.lonely[:, None]).reshape(-1).astype(float),
        minlength=n_groups * n_domains,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(n_strat > 0, n_strat / n_ok, 1.0)
    return ratio[gkey].reshape(stage.n_strata, n_domains)


def _sum_by(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Column sums of ``values`` (m, k) grouped by ``codes``: (size, k)."""
    out = np.empty((size, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(codes, weights=values[:, j], minlength=size)
    return out


def _dense(stage: _Stage, n_domains: int, n_rows: int) -> bool:
    """Whether a dense (unit x domain) table is small enough for this stage."""
    cells = stage.n_clusters * (n_domains + 1)
    return cells <= min(max(_DENSE_FACTOR * n_rows, _DENSE_MIN_CELLS), _MAX_FULL_CELLS)


@dataclass(frozen=True, eq=False)
class _DomainKeys:
    """Row keys of the dense (unit x (domain + 1)) table of each stage.

    Column ``D`` of each table collects the rows outside every domain. Stratum
    tables are sums of runs of unit rows (units are numbered stratum by stratum).
    """

    n_domains: int
    unit: tuple[np.ndarray, ...]


@dataclass(frozen=True, eq=False)
class TaylorVariance:
    """Linearisation (Taylor series) variance for a stratified multistage design.

    Parameters
    ----------
    stages : tuple of _Stage
        The sampling stages used for variance (one, or all stages when the design
        has an fpc, as R's ``svyrecvar``).
    lonely_psu : {"fail", "remove", "certainty", "adjust", "average"}
        Rule for strata with a single sampled unit (see the module docstring).

    Examples
    --------
    Three strata of two PSUs each, sampled with replacement:

    >>> import numpy as np
    >>> codes = np.array([0, 0, 1, 1, 2, 2])
    >>> stage = _Stage(strata=codes, clusters=np.arange(6),
    ...               cluster_stratum=codes, n_psu=np.full(3, 2.0),
    ...               popsize=np.full(3, np.inf), group=np.zeros(3, dtype=np.int64),
    ...               multiplier=np.ones(3), labels=["a", "b", "c"])
    >>> engine = TaylorVariance((stage,), "fail")
    >>> z = np.array([[1.0], [3.0], [2.0], [2.0], [5.0], [1.0]])
    >>> round(float(engine.domain_cov(z, np.zeros(6, dtype=np.int64), 1)[0, 0, 0]), 10)
    20.0
    """

    stages: tuple[_Stage, ...]
    lonely_psu: str = "fail"

    # ----------------------------------------------------------------- checks
    def check_lonely(self) -> None:
        """Raise for a stratum with a single PSU when the rule is ``"fail"``.

        Raises
        ------
        DesignError
            Naming the first such stratum and the stage, with the fix.
        """
        if self.lonely_psu != "fail":
            return
        for number, stage in enumerate(self.stages, start=1):
            lonely = np.flatnonzero(stage.lonely)
            if lonely.size:
                names = ", ".join(repr(stage.labels[h]) for h in lonely[:5])
                more = f" (and {lonely.size - 5} more)" if lonely.size > 5 else ""
                raise DesignError(
                    f"stratum {names}{more} has 1 PSU at stage {number}, so its variance "
                    "cannot be estimated; set lonely_psu='adjust' (or 'average', "
                    "'certainty', 'remove') or collapse strata"
                )

    # ------------------------------------------------------------ public API
    def degrees_of_freedom(
        self, domain: np.ndarray, n_domains: int, keys: _DomainKeys | None = None
    ) -> np.ndarray:
        """Design degrees of freedom of each domain (R ``degf`` of the subset).

        Parameters
        ----------
        domain : numpy.ndarray
            Domain code of each row, ``-1`` for rows in no domain.
        n_domains : int
            Number of domains ``D``.
        keys : _DomainKeys, optional
            Precomputed cell keys (from :meth:`domain_keys`), to save a pass.

        Returns
        -------
        numpy.ndarray
            For each domain, PSUs with domain members minus strata with domain
            members (float; 0 for an empty domain).
        """
        stage = self.stages[0]
        if _dense(stage, n_domains, domain.shape[0]):
            keys = keys or self.domain_keys(domain, n_domains)
            width = n_domains + 1
            units = np.bincount(keys.unit[0], minlength=stage.n_clusters * width)
            occupied = np.flatnonzero(units)  # (unit, domain) cells with members
            cell_dom = occupied % width
            n_units = np.bincount(cell_dom, minlength=width)
            strata = stage.cluster_stratum[occupied // width] * width + cell_dom
            n_cells = np.bincount(
                np.flatnonzero(np.bincount(strata, minlength=stage.n_strata * width)) % width,
                minlength=width,
            )
            return (n_units[:n_domains] - n_cells[:n_domains]).astype(float)
        rows = domain >= 0
        dom = domain[rows]
        _, units = _codes(
            stage.clusters[rows] * n_domains + dom, stage.n_clusters * n_domains, sort=False
        )
        unit_dom = units % n_domains
        unit_stratum = stage.cluster_stratum[units // n_domains]
        _, cells = _codes(unit_stratum * n_domains + unit_dom, stage.n_strata * n_domains, False)
        n_units = np.bincount(unit_dom, minlength=n_domains)
        n_cells = np.bincount(cells % n_domains, minlength=n_domains)
        return (n_units - n_cells).astype(float)

    def domain_keys(self, domain: np.ndarray, n_domains: int) -> _DomainKeys:
        """Cell keys of every row in the dense (unit x domain) tables of each stage.

        Parameters
        ----------
        domain : numpy.ndarray
            Domain code of each row, ``-1`` (or ``D``) for rows in no domain.
        n_domains : int
            Number of domains ``D``.

        Returns
        -------
        _DomainKeys
            Keys to pass to :meth:`domain_cov` and :meth:`degrees_of_freedom`.
        """
        whole = n_domains == 1 and not domain.any()  # every row in the one domain
        if whole and "_whole_keys" in self.__dict__:
            return self.__dict__["_whole_keys"]
        dom = np.where(domain >= 0, domain, n_domains) if domain.min(initial=0) < 0 else domain
        width = n_domains + 1
        n = domain.shape[0]
        # keys of the stages tabulated in one dense table (the others are not used)
        unit = tuple(
            stage.clusters * width + dom if _dense(stage, n_domains, n) else np.zeros(0, np.int64)
            for stage in self.stages
        )
        keys = _DomainKeys(n_domains, unit)
        if whole:
            self.__dict__["_whole_keys"] = keys  # the same for every whole-sample estimate
        return keys

    def domain_cov(
        self,
        values: np.ndarray,
        domain: np.ndarray,
        n_domains: int,
        keys: _DomainKeys | None = None,
    ) -> np.ndarray:
        """Covariance of the totals of ``values`` within each domain.

        Parameters
        ----------
        values : numpy.ndarray
            ``n x k`` weighted influence values (``w_i u_i``).
        domain : numpy.ndarray
            Domain code of each row (``0 .. D-1``), ``-1`` outside every domain.
            Only rows with a code are "present" (R's subset design).
        n_domains : int
            Number of domains ``D``.
        keys : _DomainKeys, optional
            Precomputed cell keys (from :meth:`domain_keys`).

        Returns
        -------
        numpy.ndarray
            ``(D, k, k)`` covariance matrices.
        """
        values = np.asarray(values, dtype=float)
        if values.ndim == 1:
            values = values[:, None]
        k = values.shape[1]
        out = np.zeros((n_domains, k, k))
        dense = [_dense(stage, n_domains, domain.shape[0]) for stage in self.stages]
        if any(dense) and keys is None:
            keys = self.domain_keys(domain, n_domains)
        for s, stage in enumerate(self.stages):
            if dense[s]:
                assert keys is not None  # built above for any dense stage
                out += self._stage_cov_dense(stage, values, keys.unit[s], n_domains)
        if all(dense):
            return out
        chunked = [
            _CHUNKED and not dense[s] and (s > 0 or self.lonely_psu != "average")
            for s in range(len(self.stages))
        ]
        for s, stage in enumerate(self.stages):
            if chunked[s]:
                out += self._stage_cov_chunked(stage, values, domain, n_domains)
        if all(d or c for d, c in zip(dense, chunked, strict=True)):
            return out
        rows = domain >= 0
        if not rows.all():
            values = values[rows]
            domain = domain[rows]
        hashed = [not d and not c for d, c in zip(dense, chunked, strict=True)]
        for stage in [st for st, h in zip(self.stages, hashed, strict=True) if h]:
            unit_codes, units = _codes(
                stage.clusters[rows] * n_domains + domain, stage.n_clusters * n_domains, False
            )
            z = _sum_by(unit_codes, values, units.shape[0])
            out += self._stage_cov(stage, z, units // n_domains, units % n_domains, n_domains)
        return out

    def full_cov(
        self, values: np.ndarray, domain: np.ndarray, n_domains: int, present: np.ndarray
    ) -> np.ndarray:
        """Covariance of every (domain, column) total with every other.

        This is R's ``svyby(..., covmat=TRUE)``: the influence values of each
        domain, zero elsewhere, go through the variance of the design restricted
        to the ``present`` rows.

        Parameters
        ----------
        values : numpy.ndarray
            ``n x k`` weighted influence values.
        domain : numpy.ndarray
            Domain code of each row, ``-1`` outside every domain.
        n_domains : int
            Number of domains ``D``.
        present : numpy.ndarray
            Boolean mask of the rows of the (sub)design.

        Returns
        -------
        numpy.ndarray
            ``(D*k, D*k)`` matrix ordered domain-major (domain 0's k columns first).
        """
        values = np.asarray(values, dtype=float)
        if values.ndim == 1:
            values = values[:, None]
        k = values.shape[1]
        width = n_domains * k
        rows = np.asarray(present, dtype=bool)
        inside = domain[rows] >= 0
        out = np.zeros((width, width))
        for stage in self.stages:
            if stage.n_clusters * width > _MAX_FULL_CELLS:
                raise DesignError(
                    f"the full covariance of {n_domains} domains x {k} variables over "
                    f"{stage.n_clusters} sampled units needs more than {_MAX_FULL_CELLS} "
                    "cells; estimate fewer domains at a time"
                )
            clusters = stage.clusters[rows]
            unit_codes, units = _codes(clusters, stage.n_clusters)
            n_units = units.shape[0]
            key = unit_codes[inside] * n_domains + domain[rows][inside]
            z = np.empty((n_units * n_domains, k))
            for j in range(k):
                z[:, j] = np.bincount(
                    key, weights=values[rows][inside, j], minlength=n_units * n_domains
                )
            z = z.reshape(n_units, width)
            out += self._stage_cov(stage, z, units, np.zeros(n_units, dtype=np.int64), 1)[0]
        return out

    # ------------------------------------------------------------- internals
    def _stage_cov_dense(
        self,
        stage: _Stage,
        values: np.ndarray,
        key: np.ndarray,
        n_domains: int,
    ) -> np.ndarray:
        """One stage's contribution from dense (unit x domain) totals.

        Column ``D`` of the tables collects rows outside every domain; it is
        carried along (contiguous arrays) and dropped at the end.
        """
        k = values.shape[1]
        width = n_domains + 1
        n_h = stage.n_psu[:, None]
        repeats = stage.n_psu.astype(np.int64)  # units are numbered stratum by stratum
        rule = self.lonely_psu
        zero_centre = stage.centred_at_zero(rule)
        resid = []
        for j in range(k):
            z = np.bincount(key, weights=values[:, j], minlength=stage.n_clusters * width)
            z = z.reshape(stage.n_clusters, width)
            centre = stage.stratum_sums(z) / n_h
            centre[zero_centre] = 0.0
            z -= np.repeat(centre, repeats, axis=0)
            resid.append(z)
        weight = stage.variance_weight(rule)
        lonely = stage.lonely
        factor = None
        if lonely.any():
            if rule == "fail":
                self.check_lonely()
            if rule == "average":
                counts = np.bincount(key, minlength=stage.n_clusters * width)
                units = counts.reshape(stage.n_clusters, width) > 0
                present = stage.stratum_sums(units.astype(float))[:, :n_domains] > 0
                factor = _average_factor(stage, present)
        out = np.empty((n_domains, k, k))
        unit_weight = weight[stage.cluster_stratum]
        for a in range(k):
            for b in range(a, k):
                if k == 1:  # the only product needed: square in place
                    product = np.square(resid[a], out=resid[a])
                else:
                    product = resid[a] * resid[b]
                if factor is None:
                    cov = (unit_weight @ product)[:n_domains]
                else:
                    cross = stage.stratum_sums(product)[:, :n_domains]
                    cov = (weight[:, None] * factor * cross).sum(axis=0)
                out[:, a, b] = out[:, b, a] = cov
        return out

    def _stage_cov_chunked(
        self, stage: _Stage, values: np.ndarray, domain: np.ndarray, n_domains: int
    ) -> np.ndarray:
        """One stage's contribution from dense (unit x domain) tables, strata a block at a time.

        For a stage with too many units for one dense table (e.g. the second-stage
        units of a two-stage design): its rows, sorted by unit once per design, are
        taken a block of whole strata at a time, each block a dense table of at most
        ``_CHUNK_CELLS`` cells. Every stratum lies in one block, and at stage 2 and
        later every stratum is its own "average" group, so the lonely-PSU rules
        apply block by block exactly as to the whole. O(n) per column, bounded memory.
        """
        order, bounds = stage.row_order()
        width = n_domains + 1
        dom = np.where(domain >= 0, domain, n_domains)
        starts = stage.starts
        units_per_stratum = stage.n_psu.astype(np.int64)
        max_units = max(1, _CHUNK_CELLS // width)
        k = values.shape[1]
        blocks = []
        h0 = 0
        while h0 < stage.n_strata:
            # as many whole strata as fit in the block (at least one)
            cum = np.cumsum(units_per_stratum[h0:])
            h1 = h0 + max(1, int(np.searchsorted(cum, max_units, side="right")))
            blocks.append((h0, h1))
            h0 = h1

        def block_cov(bounds_h: tuple[int, int]) -> np.ndarray:
            part = stage.part(*bounds_h)
            u0 = int(starts[bounds_h[0]])
            rows = order[bounds[u0] : bounds[u0 + part.n_clusters]]
            key = (stage.clusters[rows] - u0) * width + dom[rows]
            return self._stage_cov_dense(part, values[rows], key, n_domains)

        # blocks are independent: two threads (numpy releases the GIL in its loops);
        # their results are added in block order, so the sum does not depend on timing
        if len(blocks) > 1:
            with ThreadPoolExecutor(max_workers=_THREADS) as pool:
                parts = list(pool.map(block_cov, blocks))
        else:
            parts = [block_cov(b) for b in blocks]
        out = np.zeros((n_domains, k, k))
        for part_cov in parts:
            out += part_cov
        return out

    def _stage_cov(
        self,
        stage: _Stage,
        z: np.ndarray,
        unit_cluster: np.ndarray,
        unit_dom: np.ndarray,
        n_domains: int,
    ) -> np.ndarray:
        """Covariance contribution of one stage from unit totals ``z`` (m, k)."""
        k = z.shape[1]
        unit_stratum = stage.cluster_stratum[unit_cluster]
        cell_codes, cells = _codes(unit_stratum * n_domains + unit_dom, stage.n_strata * n_domains)
        n_cells = cells.shape[0]
        cell_stratum = cells // n_domains
        cell_dom = cells % n_domains
        n_h = stage.n_psu[cell_stratum]
        occupied = np.bincount(cell_codes, minlength=n_cells).astype(float)
        sums = _sum_by(cell_codes, z, n_cells)
        centre = sums / n_h[:, None]

        lonely = stage.lonely[cell_stratum]
        rule = self.lonely_psu
        weight = stage.variance_weight(rule)[cell_stratum]
        centre[stage.centred_at_zero(rule)[cell_stratum]] = 0.0
        if lonely.any():
            if rule == "fail":
                self.check_lonely()
            if rule == "average":
                group = stage.group[cell_stratum]
                gd_codes, gd = _codes(
                    group * n_domains + cell_dom, int(stage.group.max() + 1) * n_domains
                )
                n_strat = np.bincount(gd_codes, minlength=gd.shape[0]).astype(float)
                n_ok = np.bincount(gd_codes, weights=(~lonely).astype(float), minlength=gd.shape[0])
                with np.errstate(divide="ignore", invalid="ignore"):
                    factor = n_strat / n_ok
                weight = weight * factor[gd_codes]
                # a group whose strata are all lonely gives 0 * D / 0 = NaN, as R
                weight = np.where(n_ok[gd_codes] == 0, np.nan, weight)

        resid = z - centre[cell_codes]
        unit_weight = weight[cell_codes]
        pad = (n_h - occupied) * weight  # PSUs of the stratum with no domain members
        if n_domains == 1:
            a = resid * np.sqrt(unit_weight)[:, None]
            c = centre * np.sqrt(pad)[:, None]
            cov = a.T @ a + c.T @ c
            return cov[None, :, :]
        out = np.empty((n_domains, k, k))
        for a in range(k):
            for b in range(a, k):
                unit_part = np.bincount(
                    unit_dom, weights=unit_weight * resid[:, a] * resid[:, b], minlength=n_domains
                )
                cell_part = np.bincount(
                    cell_dom, weights=pad * centre[:, a] * centre[:, b], minlength=n_domains
                )
                out[:, a, b] = out[:, b, a] = unit_part + cell_part
        return out
