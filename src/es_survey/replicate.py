r"""Replicate-weight designs: JK1, JKn, BRR, Fay, Rao-Wu bootstrap, supplied weights.

A replicate design carries, besides the full-sample weights ``w``, ``R`` sets of
replicate analysis weights ``w_r``. Every estimator is *re-estimated* with each
replicate weight set (a mean on replicate ``r`` is ``sum w_r y / sum w_r``, not
a linearisation), and the variance is R ``survey``'s ``svrVar``:

.. math::

    \hat V = \mathrm{scale} \sum_r \mathrm{rscales}_r (\hat\theta_r - c)^2,

with ``c`` the mean of the replicate estimates (``mse=False``, R's default) or
the full-sample estimate (``mse=True``). The methods differ only in how the
replicates are built and in ``scale``/``rscales`` (R ``as.svrepdesign``):

========= ========================================= ================== ======================
method    replicate ``r`` (factor on the weights)   scale              rscales
========= ========================================= ================== ======================
JK1       PSU ``r`` deleted, others ``n/(n-1)``     ``(1-f)(n-1)/n``   1
JKn       PSU ``r`` of stratum ``h`` deleted, the   1                  ``(1-f_h)(n_h-1)/n_h``
          other PSUs of ``h`` times ``n_h/(n_h-1)``
BRR       one PSU of each pair 2, the other 0       ``1/R``            1
          (rows of a Hadamard matrix)
Fay       ``1 +/- (1 - rho)`` instead of 2 and 0    ``1/(R(1-rho)^2)`` 1
bootstrap Rao-Wu: ``n_h - 1`` PSUs drawn with       ``1/(R-1)``        1
          replacement per stratum, factor
          ``n_h/(n_h-1)`` x the number of draws
========= ========================================= ================== ======================

Replicate totals for every replicate, domain and variable come from one sparse
product: the weighted values are summed per (replicate group, domain, variable)
with integer codes, and that (groups x cells) matrix is multiplied by the
(groups x R) matrix of replicate factors. Rows of one PSU share the factors of
their PSU, so a generated design stores a PSU-level factor matrix (as R's
``compress=TRUE``).

Degrees of freedom are R's ``degf`` for replicate designs: the rank of the
replicate analysis weights minus one; for a domain (``by=``, ``domain()``,
``na_rm``) the rank of the weights of the domain's rows. For JK1, JKn, BRR and
Fay designs the rank follows from the construction (a set of ``m_h`` PSUs in
each stratum has rank ``sum m_h - (number of complete strata - 1)`` for the
jackknives; ``strata present + 1`` when some pair is complete for BRR/Fay);
otherwise it is computed numerically (pivoted QR with R's ``qr(tol = 1e-5)``
rule). For a bootstrap with many domains, where the
numerical rank would cost more than the estimate, the generic rank
``min(R, sum m_h - (complete strata - 1))`` is used; it differs from the exact
rank only when two random replicates coincide.

Weighting steps (:meth:`ReplicateDesign.poststratify`, ``rake``, ``calibrate``,
``trim``) are applied to the full-sample weights and to every replicate, so the
replicate variance reflects them (R ``postStratify``/``calibrate`` on a
``svyrep.design``).

References
----------
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley, ch. 2.
Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed. Springer.
Rao, J. N. K. and Wu, C. F. J. (1988). Resampling inference with complex survey
data. *JASA* 83, 231-241.
Judkins, D. R. (1990). Fay's method for variance estimation. *Journal of
Official Statistics* 6, 223-239.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from es_survey._frozen import _check_data, _FrozenDesign
from es_survey.errors import DataError, DesignError
from es_survey.variance import TaylorVariance, _codes, _DomainKeys

if TYPE_CHECKING:
    from es_survey.design import SurveyDesign

__all__ = ["ReplicateDesign", "ReplicateVariance", "ReplicateWarning", "hadamard"]

ReplicateMethod = Literal["JK1", "JKn", "BRR", "Fay", "bootstrap", "other"]
METHODS: tuple[str, ...] = ("JK1", "JKn", "BRR", "Fay", "bootstrap", "other")
_RANK_TOL = 1e-5  # R's degf(): qr(weights(design, "analysis"), tol = 1e-5)$rank - 1
_MAX_FACTOR_CELLS = 60_000_000  # PSUs x replicates of a dense factor matrix (480 MB)
_RANK_BUDGET = 2e8  # flops allowed for exact numerical ranks of bootstrap domains


class ReplicateWarning(UserWarning):
    """A design feature that a replicate method cannot use (named in the message)."""


# ------------------------------------------------------------------ Hadamard
def _is_prime(q: int) -> bool:
    if q < 2:
        return False
    return all(q % p for p in range(2, int(q**0.5) + 1))


def _jacobsthal(q: int) -> np.ndarray:
    """Jacobsthal matrix ``Q[i, j] = chi(j - i)`` of the prime ``q`` (Legendre symbol)."""
    chi = -np.ones(q, dtype=np.int64)
    chi[0] = 0
    chi[(np.arange(1, q) ** 2) % q] = 1
    idx = (np.arange(q)[None, :] - np.arange(q)[:, None]) % q
    return chi[idx]


def _hadamard_base(m: int) -> np.ndarray | None:
    """Build a Hadamard matrix of order ``m`` by Sylvester or Paley I/II (None if neither)."""
    if m in (1, 2):
        return np.array([[1]]) if m == 1 else np.array([[1, 1], [1, -1]])
    if m % 4:
        return None
    if m & (m - 1) == 0:  # Sylvester
        h = np.array([[1]])
        while h.shape[0] < m:
            h = np.block([[h, h], [h, -h]])
        return h
    q = m - 1
    if _is_prime(q) and q % 4 == 3:  # Paley I: I + [[0, 1'], [-1, Q]]
        core = np.zeros((m, m), dtype=np.int64)
        core[0, 1:] = 1
        core[1:, 0] = -1
        core[1:, 1:] = _jacobsthal(q)
        return core + np.eye(m, dtype=np.int64)
    q = m // 2 - 1
    if _is_prime(q) and q % 4 == 1:  # Paley II from the symmetric conference matrix
        conf = np.zeros((q + 1, q + 1), dtype=np.int64)
        conf[0, 1:] = 1
        conf[1:, 0] = 1
        conf[1:, 1:] = _jacobsthal(q)
        zero = np.array([[1, -1], [-1, -1]])
        one = np.array([[1, 1], [1, -1]])
        return np.kron(conf, one) + np.kron(conf == 0, zero)
    return None


def hadamard(order: int) -> np.ndarray:
    """Smallest constructible normalised Hadamard matrix of order at least ``order``.

    Orders tried in increasing order: 1, 2 and multiples of 4, each by Sylvester's
    construction (powers of 2), Paley I (``q + 1``, ``q`` a prime = 3 mod 4),
    Paley II (``2 (q + 1)``, ``q`` a prime = 1 mod 4), or by doubling
    ``[[H, H], [H, -H]]`` one of those. The result is normalised: first row and
    first column all ``+1``, so every other row sums to zero (balanced).

    Parameters
    ----------
    order : int
        Minimum order (at least 1).

    Returns
    -------
    numpy.ndarray
        ``m x m`` matrix of ``+1``/``-1`` with ``H H' = m I``.

    Examples
    --------
    >>> h = hadamard(101)
    >>> h.shape
    (104, 104)
    >>> bool((h @ h.T == 104 * np.eye(104)).all())
    True
    """
    if order < 1:
        raise DesignError(f"order={order!r} must be at least 1")
    m = order if order <= 2 else 4 * (-(-order // 4))
    while True:
        base, doublings, size = None, 0, m
        while base is None and size >= 1:
            base = _hadamard_base(size)
            if base is None:
                if size % 2:
                    break
                size //= 2
                doublings += 1
        if base is not None:
            h = base
            for _ in range(doublings):
                h = np.block([[h, h], [h, -h]])
            h = h * h[0][None, :]  # columns: first row +1
            h = h * h[:, :1]  # rows: first column +1
            return h.astype(np.int64)
        m = 4 * (m // 4 + 1)


# -------------------------------------------------------------------- engine
@dataclass(frozen=True, eq=False)
class _Structure:
    """How a generated design's replicates were built (for the rank without SVD)."""

    kind: Literal["jk", "brr", "boot"]
    unit_stratum: np.ndarray  # stratum of each group (PSU)
    n_psu: np.ndarray  # PSUs per stratum


@dataclass(frozen=True, eq=False)
class ReplicateVariance:
    """Replicate-weight variance (R ``svrVar``) behind a :class:`ReplicateDesign`.

    The replicate analysis weight of row ``i`` in replicate ``r`` is
    ``base[i] * factors[group[i], r]``.

    Parameters
    ----------
    group : numpy.ndarray
        Group code of every row (a PSU for generated designs); rows of a group
        share their replicate factors.
    base : numpy.ndarray
        Row multiplier of the factors (the full-sample weight for generated designs).
    factors : numpy.ndarray
        ``(groups, R)`` replicate factors.
    scale : float
        Overall multiplier of the variance.
    rscales : numpy.ndarray
        Multiplier of each replicate's squared deviation.
    mse : bool
        Centre at the full-sample estimate (True) or the replicate mean (False).
    structure : _Structure or None
        Construction of a generated design (ranks without SVD), None otherwise.
    full_weights : numpy.ndarray, optional
        Full-sample weights, for the linear-statistic methods (``domain_cov``,
        ``full_cov``), whose values are ``w_i u_i``.
    drop_rows : numpy.ndarray, optional
        Rows left out of the replicate totals of *totals* (R's
        ``survey.drop.replicates`` for certainty units; see
        :meth:`SurveyDesign.replicate <es_survey.SurveyDesign.replicate>`).

    Examples
    --------
    Two PSUs, JK1 (delete one, double the other), scale 1/2:

    >>> import numpy as np
    >>> eng = ReplicateVariance(np.array([0, 1]), np.ones(2),
    ...                         np.array([[0.0, 2.0], [2.0, 0.0]]), 0.5, np.ones(2), False)
    >>> thetas = eng.replicate_sums(np.array([[1.0], [3.0]]), np.zeros(2, dtype=np.int64), 1)
    >>> thetas[:, 0, 0].tolist()
    [6.0, 2.0]
    >>> float(eng.variance(thetas.reshape(2, 1), np.array([4.0]))[0])
    4.0
    """

    group: np.ndarray
    base: np.ndarray
    factors: np.ndarray
    scale: float
    rscales: np.ndarray
    mse: bool
    structure: _Structure | None = None
    full_weights: np.ndarray | None = None
    drop_rows: np.ndarray | None = None
    _df_cache: dict = field(default_factory=dict, repr=False)  # ranks by domain codes

    @property
    def n_replicates(self) -> int:
        """Number of replicates ``R``."""
        return int(self.factors.shape[1])

    def analysis_weights(self) -> np.ndarray:
        """Return the ``(n, R)`` matrix of replicate analysis weights (materialised)."""
        return self.base[:, None] * self.factors[self.group]

    # ------------------------------------------------------------ estimation
    def replicate_sums(self, values: np.ndarray, bins: np.ndarray, n_domains: int) -> np.ndarray:
        """Replicate totals ``sum_i w_ri values_ij`` of every domain: ``(R, D, k)``.

        Parameters
        ----------
        values : numpy.ndarray
            ``(n, k)`` unweighted values.
        bins : numpy.ndarray
            Domain code of each row, ``0 .. D - 1``; ``D`` (or negative) outside.
        n_domains : int
            Number of domains ``D``.

        Returns
        -------
        numpy.ndarray
            ``(R, D, k)`` replicate totals, from one sparse-dense product.
        """
        values = np.asarray(values, dtype=float)
        if values.ndim == 1:
            values = values[:, None]
        k = values.shape[1]
        inside = (bins >= 0) & (bins < n_domains)
        rows = np.flatnonzero(inside)
        z = (self.base[rows, None] * values[rows]).reshape(-1)
        cols = (bins[rows, None] * k + np.arange(k)).reshape(-1)
        grp = np.repeat(self.group[rows], k)
        n_groups = self.factors.shape[0]
        from scipy import sparse  # on first use: `import es_survey` stays light

        cells = sparse.csr_matrix((z, (cols, grp)), shape=(n_domains * k, n_groups))
        out = np.asarray(cells @ self.factors)  # (D k, R)
        return out.T.reshape(self.n_replicates, n_domains, k)

    def _centre(self, thetas: np.ndarray, full: np.ndarray) -> np.ndarray:
        if self.mse:
            return np.asarray(full, dtype=float)
        use = thetas[self.rscales > 0]
        ok = ~np.isnan(use)
        with np.errstate(invalid="ignore", divide="ignore"):
            centre = np.where(ok, use, 0.0).sum(axis=0) / ok.sum(axis=0)
        if use.shape[0]:  # equal replicates: their mean exactly (no rounding residue)
            same = (use == use[:1]).all(axis=0)
            centre = np.where(same, use[0], centre)
        return centre

    def variance(self, thetas: np.ndarray, full: np.ndarray) -> np.ndarray:
        """``scale * sum_r rscales_r (theta_r - c)^2`` of each column of ``thetas`` (R, m).

        Replicates giving NaN for a column (e.g. a domain with no rows left in
        the replicate) are left out of that column, as R's ``na.action``.
        """
        dev = thetas - self._centre(thetas, full)[None, :]
        sq = np.where(np.isnan(dev), 0.0, dev * dev)
        out = self.scale * (self.rscales @ sq)
        return np.where(np.isnan(dev).all(axis=0), np.nan, out)

    def covariance(self, thetas: np.ndarray, full: np.ndarray) -> np.ndarray:
        """Replicate covariance of the columns of ``thetas`` (R, m); NaN rows dropped."""
        keep = ~np.isnan(thetas).any(axis=1)
        th = thetas[keep]
        if self.mse:
            c = np.asarray(full, dtype=float)
        else:
            c = th[self.rscales[keep] > 0].mean(axis=0)
        dev = th - c[None, :]
        return self.scale * (dev * self.rscales[keep, None]).T @ dev

    # ------------------------------------------------- VarianceEngine protocol
    def domain_keys(self, domain: np.ndarray, n_domains: int) -> _DomainKeys:
        """Domain codes of every row (outside: ``D``), for the other methods."""
        bins = np.where((domain >= 0) & (domain < n_domains), domain, n_domains)
        return _DomainKeys(n_domains, (bins,))

    def domain_cov(
        self,
        values: np.ndarray,
        domain: np.ndarray,
        n_domains: int,
        keys: _DomainKeys | None = None,
    ) -> np.ndarray:
        """Replicate covariance of the domain totals of ``values`` (a linear statistic).

        ``values`` are weighted influence values ``w_i u_i`` (as for the
        linearisation engine); their replicate totals are ``sum_i w_ri u_i``.
        Rows with zero full-sample weight must have zero values.

        Returns
        -------
        numpy.ndarray
            ``(D, k, k)`` covariance matrices.
        """
        bins = (keys or self.domain_keys(domain, n_domains)).unit[0]
        thetas, full = self._domain_totals(values, bins, n_domains)
        k = full.shape[1]
        out = np.empty((n_domains, k, k))
        for d in range(n_domains):  # small: one k x k block per domain
            out[d] = self.covariance(thetas[:, d, :], full[d])
        return out

    def full_cov(
        self, values: np.ndarray, domain: np.ndarray, n_domains: int, present: np.ndarray
    ) -> np.ndarray:
        """Replicate covariance of every (domain, column) total: ``(D k, D k)``."""
        bins = self.domain_keys(domain, n_domains).unit[0]
        thetas, full = self._domain_totals(values, bins, n_domains)
        return self.covariance(thetas.reshape(self.n_replicates, -1), full.reshape(-1))

    def _domain_totals(
        self, values: np.ndarray, bins: np.ndarray, n_domains: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Replicate ``(R, D, k)`` and full-sample ``(D, k)`` domain totals of ``values``."""
        values = np.asarray(values, dtype=float)
        if values.ndim == 1:
            values = values[:, None]
        thetas = self.replicate_sums(self._per_unit_weight(values), bins, n_domains)
        full = np.column_stack(
            [
                np.bincount(bins, weights=values[:, j], minlength=n_domains + 1)[:-1]
                for j in range(values.shape[1])
            ]
        )
        return thetas, full

    def _per_unit_weight(self, values: np.ndarray) -> np.ndarray:
        """``values / w`` with ``w`` the full-sample weights."""
        full_w = self.full_weights
        if full_w is None:
            raise DesignError("this replicate engine has no full-sample weights")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(full_w[:, None] > 0, values / full_w[:, None], 0.0)

    def degrees_of_freedom(
        self, domain: np.ndarray, n_domains: int, keys: _DomainKeys | None = None
    ) -> np.ndarray:
        """Rank of each domain's replicate analysis weights minus one (R ``degf``).

        Parameters
        ----------
        domain : numpy.ndarray
            Domain code of each row, ``-1`` outside every domain.
        n_domains : int
            Number of domains ``D``.
        keys : _DomainKeys, optional
            Unused (protocol compatibility).

        Returns
        -------
        numpy.ndarray
            ``(D,)`` degrees of freedom (0 for an empty domain).
        """
        key = (n_domains, hashlib.blake2b(np.ascontiguousarray(domain).tobytes()).hexdigest())
        if key not in self._df_cache:
            if len(self._df_cache) > 64:
                self._df_cache.clear()
            self._df_cache[key] = self._degrees_of_freedom(domain, n_domains)
        return self._df_cache[key].copy()

    def _degrees_of_freedom(self, domain: np.ndarray, n_domains: int) -> np.ndarray:
        rows = (domain >= 0) & (domain < n_domains) & (self.base != 0)
        n_groups = self.factors.shape[0]
        _, pairs = _codes(domain[rows] * n_groups + self.group[rows], n_domains * n_groups)
        dom_u = pairs // n_groups
        grp_u = pairs % n_groups
        r = self.n_replicates
        s = self.structure
        if s is not None:
            n_strata = s.n_psu.shape[0]
            counts = np.bincount(
                dom_u * n_strata + s.unit_stratum[grp_u], minlength=n_domains * n_strata
            ).reshape(n_domains, n_strata)
            if s.kind == "brr":
                rank = (counts > 0).sum(axis=1) + (counts == 2).any(axis=1)
                return np.maximum(rank - 1.0, 0.0)
            complete = (counts == s.n_psu[None, :]).sum(axis=1)
            generic = np.minimum(counts.sum(axis=1) - np.maximum(complete - 1, 0), r)
            if s.kind == "jk":
                return np.maximum(generic - 1.0, 0.0)
            sizes = np.bincount(dom_u, minlength=n_domains).astype(float)
            if float((sizes * r * np.minimum(sizes, r)).sum()) > _RANK_BUDGET:
                return np.maximum(generic - 1.0, 0.0)
        starts = np.searchsorted(dom_u, np.arange(n_domains + 1))
        out = np.zeros(n_domains)
        for d in range(n_domains):  # numerical ranks: not on the generated-design path
            block = self.factors[grp_u[starts[d] : starts[d + 1]]]
            if block.shape[0] == 0:
                continue
            out[d] = max(_rank(block) - 1, 0)
        return out


@dataclass(frozen=True, eq=False)
class _PsuJackknife(ReplicateVariance):
    """A jackknife (JK1, JKn) computed from PSU totals, without the PSU x replicate matrix.

    Replicate ``r`` deletes unit ``u_r`` of stratum ``h_r`` and multiplies the other
    units of that stratum by ``n_h / (n_h - 1)``, so with ``T_u`` the unit totals and
    ``S_h`` the stratum totals its total is

    ``T_r = (T - S_{h_r}) + (S_{h_r} - T_{u_r}) n_h / (n_h - 1)``

    and a lonely stratum ``h`` under ``lonely_psu="adjust"`` (R's extra replicate that
    drops the stratum and scales every other unit by ``H / (H - 1)``) gives
    ``T_r = (T - S_h) H / (H - 1)``. Work and memory are O(n + R D k): any number of
    PSUs. ``factors`` is an empty placeholder; the replicate weights are built only
    when asked for (:meth:`analysis_weights`).
    """

    deleted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    dropped: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_strata_all: int = 1

    @property
    def n_replicates(self) -> int:
        """Number of replicates ``R`` (deleted units, then dropped lonely strata)."""
        return int(self.deleted.shape[0] + self.dropped.shape[0])

    def _n_groups(self) -> int:
        assert self.structure is not None  # always built with its structure
        return int(self.structure.unit_stratum.shape[0])

    def analysis_weights(self) -> np.ndarray:
        """Return the ``(n, R)`` matrix of replicate analysis weights (materialised)."""
        n_units, r = self._n_groups(), self.n_replicates
        if n_units * r > _MAX_FACTOR_CELLS:
            raise DesignError(
                f"the replicate weights of this jackknife form a {n_units} x {r} matrix "
                f"(more than {_MAX_FACTOR_CELLS} cells); estimates do not need it, but "
                "weighting the replicates (poststratify, rake, calibrate, trim) does: "
                "weight the design before making replicates, or use method='bootstrap'"
            )
        return self.base[:, None] * self._factors()[self.group]

    def _factors(self) -> np.ndarray:
        s = self.structure
        assert s is not None
        stratum = s.unit_stratum
        n_h = s.n_psu
        factors = np.ones((stratum.shape[0], self.n_replicates))
        k = self.deleted.shape[0]
        cols = np.arange(k)
        h_del = stratum[self.deleted]
        same = stratum[:, None] == h_del[None, :]
        factors[:, cols] = np.where(same, (n_h[h_del] / (n_h[h_del] - 1.0))[None, :], 1.0)
        factors[self.deleted, cols] = 0.0
        big_h = float(self.n_strata_all)
        for j, h in enumerate(self.dropped, start=k):
            factors[:, j] = np.where(stratum == h, 0.0, big_h / (big_h - 1.0))
        return factors

    def replicate_sums(self, values: np.ndarray, bins: np.ndarray, n_domains: int) -> np.ndarray:
        """Replicate totals of every domain from unit and stratum totals: ``(R, D, k)``."""
        s = self.structure
        assert s is not None
        values = np.asarray(values, dtype=float)
        if values.ndim == 1:
            values = values[:, None]
        k = values.shape[1]
        n_units = s.unit_stratum.shape[0]
        n_strata = s.n_psu.shape[0]
        inside = (bins >= 0) & (bins < n_domains)
        rows = np.flatnonzero(inside)
        key = self.group[rows] * n_domains + bins[rows]
        unit_tot = np.empty((n_units, n_domains, k))
        for j in range(k):
            unit_tot[:, :, j] = np.bincount(
                key, weights=self.base[rows] * values[rows, j], minlength=n_units * n_domains
            ).reshape(n_units, n_domains)
        # units are numbered stratum by stratum: stratum totals are sums of runs
        starts = np.searchsorted(s.unit_stratum, np.arange(n_strata))
        strat_tot = np.add.reduceat(unit_tot, starts, axis=0)
        full = strat_tot.sum(axis=0)
        h_del = s.unit_stratum[self.deleted]
        n_h = s.n_psu[h_del][:, None, None]
        out = np.empty((self.n_replicates, n_domains, k))
        nd = self.deleted.shape[0]
        # (T - S_h) + (S_h - T_u) n_h / (n_h - 1): exactly 0 where the deleted unit
        # is the domain's only contributor (its replicate then gives 0/0 = NaN, as R's)
        s_h = strat_tot[h_del]
        out[:nd] = (full[None] - s_h) + (s_h - unit_tot[self.deleted]) * (n_h / (n_h - 1.0))
        if self.dropped.shape[0]:
            big_h = float(self.n_strata_all)
            out[nd:] = (full[None] - strat_tot[self.dropped]) * (big_h / (big_h - 1.0))
        return out

    def _degrees_of_freedom(self, domain: np.ndarray, n_domains: int) -> np.ndarray:
        s = self.structure
        assert s is not None
        rows = (domain >= 0) & (domain < n_domains) & (self.base != 0)
        n_groups = self._n_groups()
        _, pairs = _codes(domain[rows] * n_groups + self.group[rows], n_domains * n_groups)
        dom_u = pairs // n_groups
        grp_u = pairs % n_groups
        n_strata = s.n_psu.shape[0]
        counts = np.bincount(
            dom_u * n_strata + s.unit_stratum[grp_u], minlength=n_domains * n_strata
        ).reshape(n_domains, n_strata)
        # rank of the domain's replicate weights: within the replicated strata, PSUs
        # with members less (complete strata - 1), plus one for every lonely stratum
        # dropped by an "adjust" replicate that holds members
        replicated = np.zeros(n_strata, dtype=bool)
        replicated[s.unit_stratum[self.deleted]] = True
        extra = (counts[:, self.dropped] > 0).sum(axis=1)
        counts = counts * replicated[None, :]
        complete = (counts == s.n_psu[None, :]).sum(axis=1)
        rank = counts.sum(axis=1) - np.maximum(complete - 1, 0) + extra
        generic = np.minimum(rank, self.n_replicates)
        return np.maximum(generic - 1.0, 0.0)


def _rank(block: np.ndarray) -> int:
    """Numerical rank as R's ``qr(x, tol = 1e-5)$rank``.

    Pivoted QR; a column counts while the norm of what is left of it after the
    earlier columns is at least ``1e-5`` times its own norm (LINPACK ``dqrdc2``'s
    rule, here with LAPACK's pivoting order).
    """
    from scipy.linalg import qr

    norms = np.sqrt((block * block).sum(axis=0))
    if not (norms > 0).any():
        return 0
    r, piv = qr(block, mode="r", pivoting=True)
    diag = np.abs(np.diagonal(r))
    return int((diag > _RANK_TOL * norms[piv[: diag.shape[0]]]).sum())


# ------------------------------------------------------------- construction
def _compress(weights: np.ndarray, full: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group rows whose replicate weights divided by their full weight are equal.

    Returns ``(group, base, factors)`` with ``weights == base * factors[group]``
    (to a few ulps: rows are grouped only when their ratios agree to 1e-13).
    Rows with a zero full weight, or whose ratios do not match their group's,
    keep a group of their own (base 1, factors = their weights).
    """
    n, r = weights.shape
    pos = full > 0
    base = np.where(pos, full, 1.0)
    ratio = weights / base[:, None]
    probe = np.random.default_rng(20240611).random(r)  # fixed probe, no global state
    hashed = np.round(ratio, 9) @ probe
    codes, uniq = pd.factorize(np.where(pos, hashed, np.nan), use_na_sentinel=True)
    codes = codes.astype(np.int64)
    size = uniq.shape[0]
    for _ in range(2):  # second pass only for rows that failed the check
        alone = codes < 0
        codes[alone] = size + np.arange(int(alone.sum()))
        size += int(alone.sum())
        first = np.full(size, -1, dtype=np.int64)
        first[codes[::-1]] = np.arange(n)[::-1]
        factors = ratio[first]
        bad = ~np.isclose(factors[codes], ratio, rtol=1e-13, atol=0.0).all(axis=1)
        if not bad.any():
            break
        codes[bad] = -1
    codes, _ = _codes(codes, size)
    first = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(n)[::-1]
    return codes, base, ratio[first]


def _from_design(
    design: SurveyDesign,
    method: str,
    *,
    rho: float | None,
    replicates: int | None,
    rng: int | np.random.Generator | None,
    mse: bool,
    hadamard_matrix: Any = None,
    drop_certainty: bool = False,
    psu_totals: bool = False,
) -> ReplicateDesign:
    """Build the replicate factors of ``method`` from a design's first stage."""
    if hadamard_matrix is not None and method not in ("BRR", "Fay"):
        raise DesignError(f"hadamard= applies only to method='BRR' or 'Fay', not {method!r}")
    if not isinstance(drop_certainty, bool | np.bool_):
        raise DesignError(f"drop_certainty={drop_certainty!r} must be True or False")
    if method not in METHODS[:5]:
        raise DesignError(
            f"method={method!r} is not a replicate method; use one of {list(METHODS[:5])}"
        )
    if rho is not None and method != "Fay":
        raise DesignError(f"rho={rho!r} applies only to method='Fay'; drop rho= or use 'Fay'")
    if replicates is not None and method != "bootstrap":
        raise DesignError(
            f"replicates={replicates!r} applies only to method='bootstrap' (the number of "
            f"{method} replicates follows from the design); drop replicates="
        )
    if rng is not None and method != "bootstrap":
        raise DesignError(f"rng= applies only to method='bootstrap'; {method} is not random")
    if not isinstance(mse, bool | np.bool_):
        raise DesignError(f"mse={mse!r} must be True or False")
    if not isinstance(design._engine, TaylorVariance):
        raise DesignError(
            "replicate() needs the design before weighting (its weights were adjusted, "
            "post-stratified, raked, calibrated or trimmed): make the replicate design "
            "first, then apply poststratify/rake/calibrate/trim to it, so that every "
            "replicate is weighted the same way (as R's as.svrepdesign requires)"
        )
    stage = design._engine.stages[0]
    spec = design._spec
    stratified = spec["strata"] is not None
    n_strata = stage.n_strata
    n_h = stage.n_psu.astype(np.int64)
    unit_stratum = stage.cluster_stratum
    n_units = stage.n_clusters
    group = stage.clusters
    fpc_factor = stage.fpc_factor
    has_fpc = bool(spec["fpc"])
    if has_fpc and len(design._stages_all) > 1 and len(spec["fpc"]) > 1:
        warnings.warn(
            "replicate weights use the first sampling stage only: the fpc of later stages "
            f"({spec['fpc'][1:]!r}) is dropped, as R's as.svrepdesign does",
            ReplicateWarning,
            stacklevel=3,
        )
    names = stage.labels

    def strata_list(which: np.ndarray) -> str:
        shown = ", ".join(repr(names[h]) for h in which[:5])
        return shown + (f" (and {which.size - 5} more)" if which.size > 5 else "")

    structure: _Structure | None = _Structure("jk", unit_stratum, stage.n_psu)
    jack: tuple[np.ndarray, np.ndarray] | None = None  # replicates from PSU totals
    factors = np.zeros((n_units, 0))
    if method == "JK1":
        if stratified:
            raise DesignError(
                "JK1 deletes one PSU of an unstratified design; this design has strata "
                f"({spec['strata']!r}): use method='JKn'"
            )
        n = n_units
        if n < 2:
            raise DesignError("JK1 needs at least 2 PSUs; the design has 1")
        scale = float(fpc_factor[0]) * (n - 1.0) / n
        rscales = np.ones(n)
        if n * n > _MAX_FACTOR_CELLS or psu_totals:
            jack = (np.arange(n, dtype=np.int64), np.zeros(0, dtype=np.int64))
        else:
            factors = np.full((n, n), n / (n - 1.0))
            np.fill_diagonal(factors, 0.0)
    elif method == "JKn":
        if not stratified:
            raise DesignError(
                "JKn is the stratified jackknife; this design has no strata: use "
                "method='JK1' or 'bootstrap'"
            )
        certain = stage.certain
        lonely = stage.lonely
        rule = design.lonely_psu
        keep_unit = ~(certain | lonely)[unit_stratum]
        n_rep = int(keep_unit.sum()) + (int(lonely.sum()) if rule == "adjust" else 0)
        if n_rep == 0:
            raise DesignError(
                "every stratum is taken completely (fpc = n_h): the design has no sampling "
                "variance and no jackknife replicates"
            )
        rscales = np.empty(n_rep)
        deleted = np.flatnonzero(keep_unit)
        col = np.arange(deleted.shape[0])
        nh_del = stage.n_psu[unit_stratum[deleted]]
        rscales[col] = fpc_factor[unit_stratum[deleted]] * (nh_del - 1.0) / nh_del
        scale = 1.0
        dropped = np.flatnonzero(lonely) if rule == "adjust" else np.zeros(0, dtype=np.int64)
        rscales[deleted.shape[0] :] = (n_strata - 1.0) / n_strata
        if n_units * n_rep > _MAX_FACTOR_CELLS or psu_totals:
            jack = (deleted, dropped)
        else:
            factors = np.ones((n_units, n_rep))
            same = unit_stratum[:, None] == unit_stratum[deleted][None, :]
            factors[:, col] = np.where(same, nh_del / (nh_del - 1.0), 1.0)
            factors[deleted, col] = 0.0
            for j, h in enumerate(dropped, start=deleted.shape[0]):
                factors[:, j] = np.where(unit_stratum == h, 0.0, n_strata / (n_strata - 1.0))
        if rule == "average" and lonely.any():
            scale = n_units / n_rep  # R's jknweights: scale * length(unq) / counter
        if (lonely.any() or certain.any()) and jack is None:
            structure = None
    elif method in ("BRR", "Fay"):
        if method == "Fay":
            if rho is None or not (0.0 < float(rho) < 1.0):
                raise DesignError(
                    f"rho={rho!r}: Fay's method needs 0 < rho < 1 (e.g. rho=0.3); "
                    "rho=0 is method='BRR'"
                )
            rho_v = float(rho)
        else:
            rho_v = 0.0
        if not stratified:
            raise DesignError(
                f"{method} needs a stratified design with 2 PSUs per stratum; this design "
                "has no strata"
            )
        wrong = np.flatnonzero(n_h != 2)
        if wrong.size:
            raise DesignError(
                f"{method} needs exactly 2 PSUs per stratum; stratum {strata_list(wrong)} "
                f"has {', '.join(str(int(n_h[h])) for h in wrong[:5])} PSUs: form pairs "
                "(pseudo-strata) or use method='JKn' or 'bootstrap'"
            )
        if has_fpc:
            warnings.warn(
                f"{method} replicate weights do not use the finite population correction; "
                "it is dropped, as R's as.svrepdesign does",
                ReplicateWarning,
                stacklevel=3,
            )
        had = (
            hadamard(n_strata + 1)
            if hadamard_matrix is None
            else _user_hadamard(hadamard_matrix, n_strata)
        )
        n_rep = had.shape[1]
        signs = had[1 : n_strata + 1].astype(float)  # (strata, R), rows balanced
        first = np.zeros(n_units, dtype=bool)
        first[stage.starts] = True  # first PSU of each stratum (data order)
        sign = np.where(first, 1.0, -1.0)[:, None] * signs[unit_stratum]
        factors = 1.0 + (1.0 - rho_v) * sign
        scale = 1.0 / (n_rep * (1.0 - rho_v) ** 2)
        rscales = np.ones(n_rep)
        structure = _Structure("brr", unit_stratum, stage.n_psu)
    else:  # bootstrap (Rao-Wu rescaling)
        n_rep = 500 if replicates is None else replicates
        if isinstance(n_rep, bool) or not isinstance(n_rep, int | np.integer) or n_rep < 2:
            raise DesignError(f"replicates={replicates!r} must be an integer of at least 2")
        n_rep = int(n_rep)
        one = np.flatnonzero(n_h < 2)
        if one.size:
            raise DesignError(
                f"the Rao-Wu bootstrap draws n_h - 1 PSUs per stratum; stratum "
                f"{strata_list(one)} has 1 PSU: collapse strata or use method='JKn' with "
                "a lonely_psu rule"
            )
        if has_fpc:
            warnings.warn(
                "the Rao-Wu bootstrap ignores the finite population correction (as R's "
                "subbootstrap); its variance is that of sampling with replacement",
                ReplicateWarning,
                stacklevel=3,
            )
        if n_units * n_rep > _MAX_FACTOR_CELLS:
            raise DesignError(
                f"{n_rep} bootstrap replicates of {n_units} PSUs need more than "
                f"{_MAX_FACTOR_CELLS} cells; use fewer replicates"
            )
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        slots = np.repeat(np.arange(n_strata), n_h - 1)  # n_h - 1 draws per stratum
        starts = stage.starts
        draws = starts[slots][None, :] + gen.integers(
            0, n_h[slots][None, :], size=(n_rep, slots.shape[0])
        )
        key = (np.arange(n_rep)[:, None] * n_units + draws).reshape(-1)
        counts = np.bincount(key, minlength=n_rep * n_units).reshape(n_rep, n_units)
        rescale = (stage.n_psu / (stage.n_psu - 1.0))[unit_stratum]
        factors = np.ascontiguousarray(counts.T * rescale[:, None])
        scale = 1.0 / (n_rep - 1.0)
        rscales = np.ones(n_rep)
        structure = _Structure("boot", unit_stratum, stage.n_psu)
        rho_v = 0.0
    common: dict[str, Any] = {
        "group": group,
        "base": design._weights.copy(),
        "scale": float(scale),
        "rscales": rscales,
        "mse": bool(mse),
        "structure": structure,
        "full_weights": design._weights,
        # R's survey.drop.replicates: certainty units leave the replicate totals
        "drop_rows": stage.certain[unit_stratum[group]] if drop_certainty else None,
    }
    engine: ReplicateVariance
    if jack is not None:
        engine = _PsuJackknife(
            factors=np.zeros((n_units, 0)),
            deleted=jack[0],
            dropped=jack[1],
            n_strata_all=n_strata,
            **common,
        )
    else:
        engine = ReplicateVariance(factors=factors, **common)
    return ReplicateDesign._build(
        data=design._data,
        weights=design._weights,
        engine=engine,
        mask=design._mask,
        method=method,
        rho=rho_v if method == "Fay" else None,
        describe=method,
    )


def _user_hadamard(matrix: Any, n_strata: int) -> np.ndarray:
    """Check a user's Hadamard matrix; return it as +/-1 (1: first PSU in the half-sample)."""
    h = np.asarray(matrix, dtype=float)
    if h.ndim != 2 or h.shape[0] < n_strata + 1:
        raise DesignError(
            f"hadamard= must be a matrix with at least {n_strata + 1} rows (strata + 1) for "
            f"this design's {n_strata} strata; got shape {h.shape}"
        )
    values = set(np.unique(h).tolist())
    if values <= {0.0, 1.0}:
        h = 2.0 * h - 1.0
    elif not values <= {-1.0, 1.0}:
        raise DesignError(
            f"hadamard= must hold 0/1 or -1/+1 values (as R's survey:::hadamard()), got "
            f"{sorted(values)[:5]}"
        )
    used = h[: n_strata + 1]
    gram = used @ used.T
    if not np.array_equal(gram, h.shape[1] * np.eye(n_strata + 1)):
        raise DesignError(
            "hadamard= is not a Hadamard matrix: its first strata + 1 rows must be "
            "mutually orthogonal with a first row of ones (full orthogonal balance)"
        )
    return h


# -------------------------------------------------------------------- design
class ReplicateDesign(_FrozenDesign):
    """A sample with full-sample and replicate analysis weights.

    Build it from replicate weights supplied by others (full analysis weights,
    R ``svrepdesign(..., combined.weights = TRUE)``), or from a
    :class:`~es_survey.design.SurveyDesign` with
    :meth:`SurveyDesign.replicate <es_survey.design.SurveyDesign.replicate>`.
    Estimators re-estimate on every replicate; see the module docstring for
    the variance.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per sampled unit; copied.
    weights : str
        Column of full-sample weights (non-negative).
    replicate_weights : list of str or str
        Columns of replicate analysis weights, or a regular expression matched
        at the start of the column names (``"rw"`` or ``"rw[0-9]+"``), in data
        order.
    method : {"JK1", "JKn", "BRR", "Fay", "bootstrap", "other"}
        How the replicates were made; sets the default ``scale``.
    scale : float, optional
        Variance multiplier. Defaults: BRR ``1/R``, Fay ``1/(R (1 - rho)^2)``,
        bootstrap ``1/(R - 1)``; required for JK1 (``(n - 1)/n``), JKn (use
        ``1``) and ``"other"``. Not accepted for BRR and Fay (fixed by ``R``).
    rscales : sequence of float, optional
        Per-replicate multipliers; required for JKn (``(n_h - 1)/n_h`` of the
        stratum of each replicate), ones otherwise.
    rho : float, optional
        Fay's coefficient (required for ``method="Fay"``).
    mse : bool
        Centre the squared deviations at the full-sample estimate.

    Raises
    ------
    DesignError
        For unknown columns, no matching replicate columns, a missing or
        inconsistent ``scale``/``rscales``/``rho``.
    DataError
        For missing, non-numeric or negative weights (naming column and row).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 4.0], "w": [2.0, 2.0, 2.0],
    ...                    "r1": [0.0, 3.0, 3.0], "r2": [3.0, 0.0, 3.0],
    ...                    "r3": [3.0, 3.0, 0.0]})
    >>> r = ReplicateDesign(df, weights="w", replicate_weights="r", method="JK1",
    ...                     scale=2 / 3)
    >>> r
    ReplicateDesign: 3 rows, JK1 with 3 replicates, scale=0.666667, df=2, mse=False
    >>> est = r.total("y")
    >>> float(est.estimate[0]), round(float(est.se[0]), 6)
    (14.0, 5.291503)
    """

    _kind = "ReplicateDesign"
    __slots__ = ("_data", "_describe", "_df", "_engine", "_mask", "_method", "_rho", "_weights")
    _engine: ReplicateVariance
    _method: str
    _rho: float | None
    _describe: str

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        weights: str,
        replicate_weights: Sequence[str] | str,
        method: ReplicateMethod = "other",
        scale: float | None = None,
        rscales: Sequence[float] | np.ndarray | None = None,
        rho: float | None = None,
        mse: bool = False,
    ) -> None:
        _check_data(data)
        if method not in METHODS:
            raise DesignError(
                f"method={method!r} is not a replicate method; use one of {list(METHODS)}"
            )
        if len(data) == 0:
            raise DesignError("data has no rows; a design needs at least one sampled unit")
        if not isinstance(mse, bool | np.bool_):
            raise DesignError(f"mse={mse!r} must be True or False")
        available = ", ".join(map(repr, data.columns[:30]))
        if weights not in data.columns:
            raise DesignError(
                f"weights column {weights!r} is not in the data; available columns: {available}"
            )
        if isinstance(replicate_weights, str):
            pattern = re.compile(replicate_weights)
            columns = [
                c for c in data.columns if isinstance(c, str) and pattern.match(c) and c != weights
            ]
            if not columns:
                raise DesignError(
                    f"replicate_weights={replicate_weights!r} matches no column (a regular "
                    f"expression matched at the start of the names); available columns: "
                    f"{available}"
                )
        else:
            columns = list(replicate_weights)
            if not columns:
                raise DesignError("replicate_weights is empty; give the replicate weight columns")
            for c in columns:
                if c not in data.columns:
                    raise DesignError(
                        f"replicate weight column {c!r} is not in the data; "
                        f"available columns: {available}"
                    )
        w = _weight_column(data, weights, "weights")
        rep = np.column_stack([_weight_column(data, c, "replicate weight") for c in columns])
        n_rep = rep.shape[1]
        if method in ("BRR", "Fay") and scale is not None:
            raise DesignError(
                f"scale= is fixed for method={method!r} (1/R, or 1/(R (1 - rho)^2) for Fay); "
                "drop scale= or use method='other'"
            )
        if method == "Fay":
            if rho is None or not (0.0 < float(rho) < 1.0):
                raise DesignError(
                    f"rho={rho!r}: method='Fay' needs Fay's 0 < rho < 1, e.g. rho=0.3"
                )
        elif rho is not None:
            raise DesignError(f"rho={rho!r} applies only to method='Fay'; drop rho=")
        if method == "BRR":
            scale = 1.0 / n_rep
        elif method == "Fay":
            scale = 1.0 / (n_rep * (1.0 - float(rho)) ** 2)  # type: ignore[arg-type]
        elif method == "bootstrap" and scale is None:
            if n_rep < 2:
                raise DesignError("a bootstrap design needs at least 2 replicates")
            scale = 1.0 / (n_rep - 1.0)
        elif scale is None:
            need = {
                "JK1": "(n - 1)/n with n the number of PSUs",
                "JKn": "1",
                "other": "the variance multiplier of your replicates",
            }[method]
            raise DesignError(
                f"method={method!r} needs scale= ({need}); the supplier of "
                "the replicate weights documents it"
            )
        if not (isinstance(scale, int | float | np.floating) and np.isfinite(scale) and scale > 0):
            raise DesignError(f"scale={scale!r} must be a positive number")
        if rscales is None:
            if method == "JKn":
                raise DesignError(
                    "method='JKn' needs rscales= ((n_h - 1)/n_h of the stratum of each "
                    f"replicate), one per replicate ({n_rep} values)"
                )
            rs = np.ones(n_rep)
        else:
            rs = np.asarray(rscales, dtype=float).reshape(-1)
            if rs.shape[0] != n_rep:
                raise DesignError(
                    f"rscales has {rs.shape[0]} values but there are {n_rep} replicate weight "
                    "columns; give one rscale per replicate"
                )
            if not np.isfinite(rs).all() or (rs < 0).any():
                raise DesignError("rscales must be finite and non-negative")
        group, base, factors = _compress(rep, w)
        engine = ReplicateVariance(
            group=group,
            base=base,
            factors=factors,
            scale=float(scale),
            rscales=rs,
            mse=bool(mse),
            full_weights=w,
        )
        self._init(
            data=data.copy(),
            weights=w,
            engine=engine,
            mask=np.ones(len(data), dtype=bool),
            method=method,
            rho=None if rho is None else float(rho),
            describe=f"{method} (supplied)",
        )

    # ----------------------------------------------------------- construction
    @classmethod
    def _build(
        cls,
        *,
        data: pd.DataFrame,
        weights: np.ndarray,
        engine: ReplicateVariance,
        mask: np.ndarray,
        method: str,
        rho: float | None,
        describe: str,
    ) -> ReplicateDesign:
        new = object.__new__(cls)
        new._init(
            data=data,
            weights=weights,
            engine=engine,
            mask=mask,
            method=method,
            rho=rho,
            describe=describe,
        )
        return new

    def _init(
        self,
        *,
        data: pd.DataFrame,
        weights: np.ndarray,
        engine: ReplicateVariance,
        mask: np.ndarray,
        method: str,
        rho: float | None,
        describe: str,
    ) -> None:
        dfv = float(engine.degrees_of_freedom(np.where(mask, 0, -1), 1)[0])
        self._set(
            _data=data,
            _weights=weights,
            _engine=engine,
            _mask=mask,
            _method=method,
            _rho=rho,
            _describe=describe,
            _df=dfv,
        )

    # ------------------------------------------------------------- properties
    @property
    def replicate_weights(self) -> np.ndarray:
        """``(n, R)`` replicate analysis weights (a new array)."""
        return self._engine.analysis_weights()

    @property
    def n_replicates(self) -> int:
        """Number of replicates ``R``."""
        return self._engine.n_replicates

    @property
    def scale(self) -> float:
        """Variance multiplier."""
        return self._engine.scale

    @property
    def rscales(self) -> np.ndarray:
        """Per-replicate multipliers (a copy)."""
        return self._engine.rscales.copy()

    @property
    def mse(self) -> bool:
        """Whether deviations are centred at the full-sample estimate."""
        return self._engine.mse

    @property
    def method(self) -> str:
        """Replicate method (``JK1``, ``JKn``, ``BRR``, ``Fay``, ``bootstrap``, ``other``)."""
        return self._method

    def __repr__(self) -> str:
        """Summary: rows, method, replicates, scale, degrees of freedom."""
        rows = self._mask
        dom = "" if rows.all() else f" in a domain of {len(rows)}"
        rho = f" (rho={self._rho:g})" if self._rho is not None else ""
        return (
            f"ReplicateDesign: {int(rows.sum())} rows{dom}, {self._method}{rho} with "
            f"{self.n_replicates} replicates, scale={self.scale:g}, df={self._df:g}, "
            f"mse={self.mse}"
        )

    def _with(self, **changes: Any) -> ReplicateDesign:
        values: dict[str, Any] = {
            "data": self._data,
            "weights": self._weights,
            "engine": self._engine,
            "mask": self._mask,
            "method": self._method,
            "rho": self._rho,
            "describe": self._describe,
        }
        values.update(changes)
        return ReplicateDesign._build(**values)

    # ------------------------------------------------------------- weighting
    def _weights_in(self, what: str) -> np.ndarray:
        """Full-sample and replicate weights ``[full | replicates]`` (whole sample only)."""
        super()._weights_in(what)
        return np.column_stack([self._weights, self._engine.analysis_weights()])

    def _reweighted(self, matrix: np.ndarray, model: Any, kind: str, what: str) -> ReplicateDesign:
        """Build a new design from reweighted ``[full | replicates]`` columns."""
        full = np.ascontiguousarray(matrix[:, 0])
        group, base, factors = _compress(matrix[:, 1:], full)
        old = self._engine
        engine = ReplicateVariance(
            group=group,
            base=base,
            factors=factors,
            scale=old.scale,
            rscales=old.rscales,
            mse=old.mse,
            structure=None,
            full_weights=full,
            drop_rows=old.drop_rows,
        )
        return self._with(weights=full, engine=engine, describe=f"{self._describe}, {what}")


def _weight_column(data: pd.DataFrame, col: str, role: str) -> np.ndarray:
    """Read a weight column as floats; DataError naming column, row and value if unusable."""
    raw = data[col]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        shown = raw.iloc[i]
        if hasattr(shown, "item"):
            shown = shown.item()  # a plain value in the message, not np.float64(...)
        raise DataError(
            f"{role} column {col!r} has {int(bad.sum())} missing, non-numeric or negative "
            f"values (first {shown!r} at row {data.index[i]!r}); weights must be "
            "non-negative numbers: fix the column or drop those rows"
        )
    return values
