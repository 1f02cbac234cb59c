"""Domains: the one object that says which rows each estimate is about (private).

Every estimator, the sector funnel and the replicate path build a
:class:`Domains` once, from the design's domain mask (:meth:`SurveyDesign.domain`),
the ``by=`` columns and the rows with missing values (under ``na_rm=True``),
and use its integer codes for every sum. A row outside every domain keeps its
place in the design (its PSU and stratum still count for the variance), with
code ``-1`` in ``dom`` and ``D`` in ``bins``.

Examples
--------
>>> import pandas as pd
>>> from es_survey import SurveyDesign
>>> d = SurveyDesign(pd.DataFrame({"g": ["a", "b", "a"], "w": [1.0, 2.0, 3.0]}), weights="w")
>>> dom = build(d.domain(d.data["w"] > 1), "g")
>>> dom.labels["g"].tolist(), dom.n.tolist(), dom.n_hat.tolist()
(['a', 'b'], [1.0, 1.0], [3.0, 2.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from es_survey.errors import DesignError

__all__ = ["Domains", "build", "names"]


def names(y: str | Sequence[str]) -> list[str]:
    """Column names as a list; DesignError for none.

    Parameters
    ----------
    y : str or sequence of str
        One or several column names.

    Returns
    -------
    list of str
        The names.

    Examples
    --------
    >>> names("y")
    ['y']
    """
    out = [y] if isinstance(y, str) else list(y)
    if not out:
        raise DesignError("no variable given; name at least one column")
    return out


def _factorize(column: pd.Series) -> tuple[np.ndarray, Any]:
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
    data: pd.DataFrame, mask: np.ndarray, by: str | Sequence[str] | None
) -> tuple[tuple[str, ...], pd.DataFrame, np.ndarray, int]:
    """Domain labels (one row per domain) and each row's code (-1 outside the mask)."""
    n = mask.shape[0]
    if by is None:
        return (), pd.DataFrame(index=range(1)), np.where(mask, 0, -1), 1
    cols = names(by)
    codes_list = []
    uniques_list = []
    for name in cols:
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
    if len(cols) == 1 and mask.all():
        # every level of a factorised column occurs: its codes are the domains
        labels = pd.DataFrame({cols[0]: np.asarray(uniques_list[0])})
        return tuple(cols), labels, codes_list[0], len(uniques_list[0])
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
    for name, uniques, idx in zip(cols, uniques_list, reversed(parts), strict=True):
        frame[name] = np.asarray(uniques)[idx]
    return tuple(cols), pd.DataFrame(frame), dom, int(present.shape[0])


@dataclass(frozen=True, eq=False)
class Domains:
    """Codes, labels, sizes and degrees of freedom of the domains of one estimate.

    Attributes
    ----------
    by : tuple of str
        Domain columns.
    labels : pandas.DataFrame
        One row per domain (its ``by`` values).
    dom : numpy.ndarray
        Domain code of each member row, ``-1`` for the others.
    bins : numpy.ndarray
        Domain code of each member row, ``D`` for the others (for bincounts).
    n_domains : int
        Number of domains ``D``.
    present : numpy.ndarray
        Rows of the (sub)design (its domain mask).
    w : numpy.ndarray
        Weights of member rows, zero elsewhere.
    n_hat : numpy.ndarray
        Estimated population size of each domain.
    n : numpy.ndarray
        Member rows of each domain.
    n_rows : numpy.ndarray
        Rows of each domain before removing missing values.
    df : numpy.ndarray
        Degrees of freedom of each domain.
    engine : object
        The design's variance engine.
    keys : object
        The engine's precomputed cell keys of the codes.
    whole : bool
        One domain holding every row (no ``by``, no domain, nothing missing).
    """

    by: tuple[str, ...]
    labels: pd.DataFrame
    dom: np.ndarray
    bins: np.ndarray
    n_domains: int
    present: np.ndarray
    w: np.ndarray
    n_hat: np.ndarray
    n: np.ndarray
    n_rows: np.ndarray
    df: np.ndarray
    engine: Any
    keys: Any
    whole: bool = False  # one domain holding every row (no by, no domain(), no missing)

    @property
    def member(self) -> np.ndarray:
        """Rows that belong to some domain."""
        return self.dom >= 0

    def sums(self, values: np.ndarray) -> np.ndarray:
        """(D, k) sums of ``values`` (n, k) over each domain's member rows."""
        if self.whole:
            return np.asarray(values.sum(axis=0), dtype=float)[None, :]
        size = self.n_domains + 1
        out = np.empty((self.n_domains, values.shape[1]))
        for j in range(values.shape[1]):
            out[:, j] = np.bincount(self.bins, weights=values[:, j], minlength=size)[:-1]
        return out

    def weighted_sums(self, values: np.ndarray) -> np.ndarray:
        """(D, k) weighted sums ``sum w_i values_ij`` over each domain's member rows."""
        if self.whole:
            return np.asarray(self.w @ values, dtype=float)[None, :]
        return self.sums(self.w[:, None] * values)

    def per_row(self, per_domain: np.ndarray) -> np.ndarray:
        """Broadcast (D, k) values to the member rows (zeros elsewhere)."""
        if self.whole:
            return np.broadcast_to(per_domain[0], (self.bins.shape[0], per_domain.shape[1]))
        padded = np.zeros((self.n_domains + 1, per_domain.shape[1]))
        padded[:-1] = per_domain
        return padded[self.bins]


def build(
    design: Any,
    by: str | Sequence[str] | None = None,
    *,
    missing: np.ndarray | None = None,
    na_rm: bool = False,
    df: float | None = None,
    variables: Sequence[str] = (),
) -> Domains:
    """Build the :class:`Domains` of an estimate on ``design``.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
        The design (its domain mask, weights and variance engine are used).
    by : str or list of str, optional
        Domain columns.
    missing : numpy.ndarray, optional
        Rows with a missing value in some variable, one boolean column per
        variable ``(n, k)`` or one per row ``(n,)``.
    na_rm : bool
        Leave the rows with missing values out of every domain; otherwise a
        missing value among the rows estimated is an error.
    df : float, optional
        Degrees of freedom for every domain; the design's by default.
    variables : sequence of str
        Names of the variables of ``missing`` (for the error message).

    Returns
    -------
    Domains
        The domains.

    Raises
    ------
    DesignError
        For an unknown or incomplete ``by`` column, or missing values without
        ``na_rm``.
    """
    by_names, labels, dom, n_domains = _by_codes(design._data, design._mask, by)
    rows = dom >= 0
    member_dom = dom
    if missing is not None:
        miss = np.asarray(missing, dtype=bool)
        per_var = miss if miss.ndim == 2 else miss[:, None]
        any_missing = per_var.any(axis=1)
        if any_missing.any():
            if not na_rm:
                for j in range(per_var.shape[1]):
                    count = int((per_var[:, j] & rows).sum())
                    if count:
                        name = variables[j] if j < len(variables) else "a variable"
                        raise DesignError(
                            f"variable {name!r} has {count} missing values among the "
                            "rows being estimated; pass na_rm=True to estimate over the "
                            "non-missing rows (treated as a domain, so no PSU is dropped)"
                        )
            member_dom = np.where(any_missing, -1, dom)
    member = member_dom >= 0
    everyone = bool(member.all())
    bins = member_dom if everyone else np.where(member, member_dom, n_domains)
    whole = n_domains == 1 and everyone
    w = design._weights if everyone else np.where(member, design._weights, 0.0)
    if whole:  # one domain of every row: plain sums
        n = np.array([float(bins.shape[0])])
        n_hat = np.array([float(w.sum())])
    else:
        n = np.bincount(bins, minlength=n_domains + 1)[:n_domains].astype(float)
        n_hat = np.bincount(bins, weights=w, minlength=n_domains + 1)[:n_domains]
    if member_dom is dom:
        n_rows = n.copy()
    else:
        n_rows = np.bincount(np.where(rows, dom, n_domains), minlength=n_domains + 1)[:-1]
    engine = design._engine
    keys = engine.domain_keys(bins, n_domains)
    if df is None and (whole or (n_domains == 1 and bool((member == design._mask).all()))):
        dfs = np.array([design._df])  # the design's own rows: its df, computed once
    elif df is None:
        dfs = engine.degrees_of_freedom(member_dom, n_domains, keys)
    else:
        dfs = np.full(n_domains, float(df))
    return Domains(
        by=by_names,
        labels=labels,
        dom=member_dom,
        bins=bins,
        n_domains=n_domains,
        present=design._mask,
        w=w,
        n_hat=n_hat,
        n=n,
        n_rows=np.asarray(n_rows, dtype=float),
        df=np.asarray(dfs, dtype=float),
        engine=engine,
        keys=keys,
        whole=whole,
    )
