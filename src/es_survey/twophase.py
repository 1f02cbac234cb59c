r"""Two-phase (double) sampling: a follow-up subsample of the phase-1 sample.

Phase 1 is a stratified simple random sample of ``n_h`` of the ``N_h`` frame units of
stratum ``h``. Phase 2 is a stratified simple random subsample of the phase-1 sample:
in phase-2 stratum ``g`` (nested in a phase-1 stratum, e.g. stratum × responded),
``m_g`` of its ``n_g`` phase-1 units — the respondents, and a random share of the
nonrespondents followed up by desk research or a phone call. Estimates use the
phase-2 units with the double-expansion weight

.. math::  w_k = \frac{N_h}{n_h}\cdot\frac{n_g}{m_g}.

The variance is the sum of a phase-1 and a phase-2 term (Särndal, Swensson and
Wretman 1992, §9.3; R ``twophase(method = "full")``), for the weighted influence
values ``b_k = w_k z_k`` and their phase-1 expansion ``a_k = b_k r_g``,
``r_g = m_g / n_g``, ``f_h = n_h / N_h``:

.. math::

    V_2 = \sum_g (1 - r_g)\frac{m_g}{m_g - 1}\sum_{k \in g}(b_k - \bar b_g)^2,

    V_1 = \sum_h (1 - f_h)\Bigl[\sum_{k \in h}\frac{a_k^2}{r_g}
          - \frac{1}{n_h - 1}\Bigl(\sum_{g \in h} c_g \bigl(A_g^2 - \sum_{k \in g} a_k^2\bigr)
          + \bigl(\sum_{g \in h} \hat A_g\bigr)^2 - \sum_{g \in h} \hat A_g^2\Bigr)\Bigr],

with ``A_g = sum_{k in g} a_k``, ``\hat A_g = A_g / r_g`` and
``c_g = (n_g - 1) / (r_g (m_g - 1))``: the phase-1 variance estimator with each pair of
units weighted by the inverse of its phase-2 joint inclusion probability. With every
phase-1 unit in phase 2 it is the stratified variance of the phase-1 sample.

R's ``twophase()`` (survey 4.1.1) gives this value only when the phase-2 rows come
first in its data; on other row orders its phase-1 term differs (see
``tests/reference/make_reference_twophase.R``).

**Calibration of the phase-2 weights to phase-1 totals**
(:meth:`TwoPhaseDesign.calibrate_phase2`, R ``calibrate(design, phase = 2)``). Variables
known for every phase-1 unit (register entries, last wave's answers) have a phase-1
total that the phase-2 subsample estimates with error. Calibration multiplies each
phase-2 conditional weight ``d_k = n_g / m_g`` by ``g_k`` so that
``sum_{phase 2} d_k g_k x_k = sum_{phase 1} x_k`` (the phase-1 sample's own, unweighted
totals, as R), and the weight becomes ``w_k = (N_h / n_h) d_k g_k``. The variance keeps
the phase-1 term of the calibrated values ``b_k = w_k z_k`` and takes the phase-2 term
of their residuals (R's ``twophase2var``)

.. math::  e_k = b_k - d_k g_k\, x_k'\beta,\qquad
           \beta = \Bigl(\sum_k d_k x_k x_k'\Bigr)^{-1} \sum_k x_k \frac{b_k}{g_k},

the regression of ``(N_h / n_h) z_k`` on ``x_k`` in phase 2 weighted by ``d_k``.
Post-stratification, raking and calibration to *population* totals (R's phase-1
calibration) are not available: those weighting methods raise a clear error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from es_survey._frozen import _check_data, _FrozenDesign
from es_survey.errors import DataError, DesignError
from es_survey.weighting import _build_model, _gram_solve, _is_categorical, calibrate_weights

__all__ = ["TwoPhaseDesign", "TwoPhaseVariance"]

TwoPhaseLonely = Literal["fail", "remove"]


def _sum_by(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Column sums of ``values`` (n × k) by integer code: (size × k)."""
    out = np.zeros((size, values.shape[1]))
    np.add.at(out, codes, values)
    return out


class TwoPhaseVariance:
    """Variance engine of a two-phase design (see the module docstring).

    Parameters
    ----------
    phase2_stratum : numpy.ndarray
        Code ``0 .. G-1`` of each phase-2 row's phase-2 stratum.
    stratum_of : numpy.ndarray
        Phase-1 stratum code ``0 .. H-1`` of each phase-2 stratum.
    n_g, m_g : numpy.ndarray
        Phase-1 and phase-2 units of each phase-2 stratum.
    n_h, big_n_h : numpy.ndarray
        Phase-1 sampled units and population units of each phase-1 stratum.

    Examples
    --------
    Every phase-1 unit in phase 2: the stratified variance of the phase-1 sample.

    >>> import numpy as np
    >>> e = TwoPhaseVariance(np.zeros(3, dtype=np.int64), np.array([0]), np.array([3.0]),
    ...                      np.array([3.0]), np.array([3.0]), np.array([30.0]))
    >>> b = np.array([[10.0], [20.0], [60.0]])  # w z with w = 10
    >>> round(float(e.domain_cov(b, np.zeros(3, dtype=np.int64), 1)[0, 0, 0]), 6)
    1890.0
    """

    def __init__(
        self,
        phase2_stratum: np.ndarray,
        stratum_of: np.ndarray,
        n_g: np.ndarray,
        m_g: np.ndarray,
        n_h: np.ndarray,
        big_n_h: np.ndarray,
    ) -> None:
        self.g = np.asarray(phase2_stratum, dtype=np.int64)
        self.h_of_g = np.asarray(stratum_of, dtype=np.int64)
        self.n_g = np.asarray(n_g, dtype=float)
        self.m_g = np.asarray(m_g, dtype=float)
        self.n_h = np.asarray(n_h, dtype=float)
        self.r_g = self.m_g / self.n_g
        f_h = self.n_h / np.asarray(big_n_h, dtype=float)
        many = self.m_g > 1
        with np.errstate(divide="ignore", invalid="ignore"):
            # phase 2: (1 - r_g) m_g / (m_g - 1) per stratum (0 for a single unit)
            self.coef2 = np.where(many, (1.0 - self.r_g) * self.m_g / (self.m_g - 1.0), 0.0)
            # phase 1: (1 - f_h) / (n_h - 1) per stratum (0 when taken whole)
            self.q_h = np.where(f_h < 1, (1.0 - f_h) / (self.n_h - 1.0), 0.0)
            self.c_g = np.where(many, (self.n_g - 1.0) / (self.r_g * (self.m_g - 1.0)), 0.0)
        self.k1 = 1.0 - f_h
        self.calibration: tuple[Any, np.ndarray, np.ndarray, np.ndarray] | None = None

    def calibrated(self, X: Any, d: np.ndarray, g: np.ndarray) -> TwoPhaseVariance:
        """Return a copy whose phase-2 term uses the residuals of a phase-2 calibration.

        Parameters
        ----------
        X : numpy.ndarray or scipy.sparse matrix
            ``(m, p)`` model matrix of the calibration, one row per phase-2 unit.
        d : numpy.ndarray
            Phase-2 conditional weights ``n_g / m_g`` before calibration.
        g : numpy.ndarray
            The calibration's factors (calibrated / initial phase-2 weight).
        """
        new = object.__new__(TwoPhaseVariance)
        new.__dict__.update(self.__dict__)
        x = X.toarray() if hasattr(X, "toarray") else np.asarray(X, dtype=float)
        gram = x.T @ (x * np.asarray(d, dtype=float)[:, None])
        new.calibration = (x, np.asarray(d, dtype=float), np.asarray(g, dtype=float), gram)
        return new

    def _residuals(self, b: np.ndarray) -> np.ndarray:
        """Phase-2 calibration residuals of ``b`` (``b`` itself when not calibrated)."""
        if self.calibration is None:
            return b
        x, d, g, gram = self.calibration
        # b / g = (N_h/n_h) d z; a unit whose bounded calibration gave g = 0 has b = 0
        unscaled = np.divide(b, g[:, None], out=np.zeros_like(b), where=g[:, None] != 0)
        beta = _gram_solve(gram, x.T @ unscaled)
        return b - (d * g)[:, None] * (x @ beta)

    def phases(self, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Phase-1 and phase-2 terms of the covariance of the column totals of ``b``.

        Parameters
        ----------
        b : numpy.ndarray
            ``(m, k)`` weighted values ``w_k z_k`` of the phase-2 rows.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            ``(k, k)`` phase-1 term and phase-2 term (R's ``attr(, "phases")``).
        """
        b = np.asarray(b, dtype=float)
        if b.ndim == 1:
            b = b[:, None]
        g, hg = self.g, self.h_of_g
        n_strata2, n_strata1 = self.n_g.shape[0], self.n_h.shape[0]
        r = self.r_g[g]
        a = b * r[:, None]
        e = self._residuals(b)
        big_e = _sum_by(g, e, n_strata2)
        v2 = (e * self.coef2[g][:, None]).T @ e - (
            big_e * (self.coef2 / self.m_g)[:, None]
        ).T @ big_e
        s1 = (a * (self.k1[hg][g] / r)[:, None]).T @ a
        big_a = _sum_by(g, a, n_strata2)
        qc = self.q_h[hg] * self.c_g
        pairs = (big_a * qc[:, None]).T @ big_a - (a * qc[g][:, None]).T @ a
        a_hat = big_a / self.r_g[:, None]
        t = _sum_by(hg, a_hat, n_strata1)
        between = (t * self.q_h[:, None]).T @ t - (a_hat * self.q_h[hg][:, None]).T @ a_hat
        return s1 - pairs - between, v2

    def _cov(self, b: np.ndarray) -> np.ndarray:
        """Variance-covariance of the column totals of ``b`` (n × k weighted values)."""
        v1, v2 = self.phases(b)
        return v1 + v2

    # the VarianceEngine interface (es_survey.variance) ---------------------------
    def domain_keys(self, domain: np.ndarray, n_domains: int) -> None:
        """Return nothing: the engine needs no precomputed keys."""
        return None

    def domain_cov(
        self, values: np.ndarray, domain: np.ndarray, n_domains: int, keys: Any = None
    ) -> np.ndarray:
        """Covariance of the totals of ``values`` within each domain, (D, k, k).

        A phase-2 row outside the domain keeps its place (its stratum counts stay),
        with value 0, as R's subset of a two-phase design.
        """
        values = np.asarray(values, dtype=float)
        if values.ndim == 1:
            values = values[:, None]
        out = np.zeros((n_domains, values.shape[1], values.shape[1]))
        for d in range(n_domains):
            out[d] = self._cov(np.where((domain == d)[:, None], values, 0.0))
        return out

    def full_cov(
        self, values: np.ndarray, domain: np.ndarray, n_domains: int, present: np.ndarray
    ) -> np.ndarray:
        """Covariance of every (domain, column) total with every other, (D*k, D*k)."""
        values = np.asarray(values, dtype=float)
        if values.ndim == 1:
            values = values[:, None]
        k = values.shape[1]
        wide = np.zeros((values.shape[0], n_domains * k))
        for d in range(n_domains):
            wide[:, d * k : (d + 1) * k] = np.where((domain == d)[:, None], values, 0.0)
        return self._cov(wide)

    def degrees_of_freedom(
        self, domain: np.ndarray, n_domains: int, keys: Any = None
    ) -> np.ndarray:
        """Phase-2 units minus phase-2 strata among each domain's rows, (D,)."""
        out = np.zeros(n_domains)
        for d in range(n_domains):
            rows = domain == d
            out[d] = float(rows.sum() - np.unique(self.g[rows]).shape[0])
        return out


def _codes(data: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Integer codes of the interaction of ``columns`` (one code if none)."""
    if not columns:
        return np.zeros(len(data), dtype=np.int64), ["(all)"]
    keys = data[list(columns)].astype("string").agg(" × ".join, axis=1)
    codes, labels = pd.factorize(keys, sort=True)
    return codes.astype(np.int64), [str(v) for v in labels]


def _columns(value: str | Sequence[str] | None, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return list(value)
    raise DesignError(f"{what} must be a column name, a list of names or None; got {value!r}")


def _pair(value: Any, what: str) -> tuple[Any, Any]:
    if not (isinstance(value, tuple | list) and len(value) == 2):
        raise DesignError(
            f"{what}= takes one value per phase, e.g. {what}=('stratum', ['stratum', "
            f"'responded']); got {value!r}"
        )
    return value[0], value[1]


class TwoPhaseDesign(_FrozenDesign):
    """A two-phase design: stratified SRS, then a stratified SRS subsample of it.

    Parameters
    ----------
    data : pandas.DataFrame
        The phase-1 sample: one row per sampled unit (respondents and
        nonrespondents alike). Answers are needed only in the phase-2 rows.
    strata : (str or None, str or list of str or None)
        Phase-1 stratum column; phase-2 stratum column(s), whose interaction
        defines the phase-2 strata. Phase-2 strata must nest in phase-1 strata:
        include the phase-1 stratum, e.g. ``("stratum", ["stratum", "responded"])``
        (R ``strata = list(~stratum, ~interaction(stratum, responded))``).
    fpc : (str, None)
        Phase-1 population size ``N_h`` column; the phase-2 sampling fractions
        come from the phase-1 counts (R ``fpc = list(~N_h, NULL)``).
    psu : (None, None)
        Clusters are not available in a two-phase design yet.
    subset : str
        Boolean column: the unit is in phase 2 (a respondent, or a followed-up
        nonrespondent).
    lonely_psu : {"fail", "remove"}
        A phase-2 stratum with a single phase-2 unit (and others not in phase
        2) has no phase-2 variance estimate: ``"fail"`` raises, ``"remove"``
        leaves its phase-2 term out (R's ``"remove"``).

    Attributes
    ----------
    data : pandas.DataFrame
        The phase-2 rows (the rows estimates are made from); ``phase1`` has all.

    Raises
    ------
    DesignError
        For unknown columns, missing values in design columns, a subset that is
        not boolean, an fpc that varies within a stratum or is below ``n_h``,
        phase-2 strata that do not nest in phase-1 strata, a phase-2 stratum
        without phase-2 units, a phase-1 stratum with one unit, clusters, a
        phase-2 fpc, or a single-unit phase-2 stratum under ``lonely_psu="fail"``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"h": ["a"] * 6, "N": 60, "resp": [1, 1, 1, 0, 0, 0],
    ...                    "phase2": [True, True, True, True, True, False],
    ...                    "y": [1.0, 2.0, 3.0, 4.0, 6.0, None]})
    >>> d2 = TwoPhaseDesign(df, strata=("h", ["h", "resp"]), fpc=("N", None),
    ...                     subset="phase2")
    >>> d2.weights.tolist()  # 60/6 x 3/3 and 60/6 x 3/2
    [10.0, 10.0, 10.0, 15.0, 15.0]
    >>> float(d2.total("y").estimate[0])
    210.0
    """

    _kind = "TwoPhaseDesign"
    __slots__ = ("_data", "_df", "_engine", "_mask", "_phase1", "_spec", "_weights")
    _engine: TwoPhaseVariance
    _phase1: pd.DataFrame
    _spec: dict[str, Any]

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        strata: tuple[str | None, str | Sequence[str] | None],
        fpc: tuple[str | None, None],
        subset: str,
        psu: tuple[None, None] = (None, None),
        lonely_psu: TwoPhaseLonely = "fail",
    ) -> None:
        _check_data(data)
        s1, s2 = _pair(strata, "strata")
        f1, f2 = _pair(fpc, "fpc")
        p1, p2 = _pair(psu, "psu")
        if p1 is not None or p2 is not None:
            raise DesignError(
                "clusters (psu=) in a two-phase design are not available; give psu=(None, None)"
            )
        if f2 is not None:
            raise DesignError(
                "a phase-2 fpc is not available: phase-2 sampling fractions come from the "
                "phase-1 counts; give fpc=(column, None)"
            )
        if f1 is None:
            raise DesignError(
                "fpc=(column, None) is needed: the phase-1 population size N_h of each "
                "stratum (a with-replacement phase 1 is not available)"
            )
        if lonely_psu not in ("fail", "remove"):
            raise DesignError(f"lonely_psu={lonely_psu!r}: use 'fail' or 'remove'")
        strata1 = _columns(s1, "strata[0]")
        strata2 = _columns(s2, "strata[1]")
        needed = [*strata1, *strata2, f1, subset]
        missing = [c for c in dict.fromkeys(needed) if c not in data.columns]
        if missing:
            raise DesignError(
                f"column(s) {missing} are not in the data; columns include "
                f"{list(data.columns)[:12]}"
            )
        for col in dict.fromkeys(needed):
            if data[col].isna().any():
                row = data.index[data[col].isna().to_numpy()][0]
                raise DesignError(
                    f"design column {col!r} has a missing value in row {row!r}; every "
                    "phase-1 unit needs its strata, N_h and phase-2 flag"
                )
        flag = data[subset]
        if not (pd.api.types.is_bool_dtype(flag.dtype)):
            raise DesignError(
                f"subset column {subset!r} must be boolean (True: the unit is in phase 2), "
                f"got dtype {flag.dtype}"
            )
        in2 = flag.to_numpy(dtype=bool)
        if not in2.any():
            raise DesignError(f"subset column {subset!r} marks no phase-2 unit")
        h, labels1 = _codes(data, strata1)
        g, labels2 = _codes(data, strata2 or strata1)
        n_strata1, n_strata2 = len(labels1), len(labels2)
        big_n = pd.to_numeric(data[f1], errors="coerce").to_numpy(dtype=float)
        n_h = np.bincount(h, minlength=n_strata1).astype(float)
        big_n_h = np.zeros(n_strata1)
        for s in range(n_strata1):
            values = np.unique(big_n[h == s])
            if values.shape[0] != 1 or not np.isfinite(values[0]):
                raise DesignError(
                    f"fpc column {f1!r} takes values {values.tolist()} in phase-1 stratum "
                    f"{labels1[s]!r}; give one population size per stratum"
                )
            if values[0] < n_h[s]:
                raise DesignError(
                    f"phase-1 stratum {labels1[s]!r} has {int(n_h[s])} sampled units but "
                    f"{f1!r} = {values[0]:g}; the population size must be at least n_h"
                )
            big_n_h[s] = values[0]
            if n_h[s] == 1 and values[0] > 1:
                raise DesignError(
                    f"phase-1 stratum {labels1[s]!r} has one sampled unit of {values[0]:g}, "
                    "so its phase-1 variance cannot be estimated; collapse strata"
                )
        stratum_of = np.full(n_strata2, -1, dtype=np.int64)
        for code2, code1 in zip(g, h, strict=True):
            if stratum_of[code2] not in (-1, code1):
                raise DesignError(
                    f"phase-2 stratum {labels2[code2]!r} spans phase-1 strata "
                    f"{labels1[stratum_of[code2]]!r} and {labels1[code1]!r}; phase-2 strata "
                    "must nest in phase-1 strata: include the phase-1 stratum column in "
                    "strata[1], e.g. strata=('stratum', ['stratum', 'responded'])"
                )
            stratum_of[code2] = code1
        n_g = np.bincount(g, minlength=n_strata2).astype(float)
        m_g = np.bincount(g[in2], minlength=n_strata2).astype(float)
        empty = np.flatnonzero(m_g == 0)
        if empty.size:
            raise DesignError(
                f"phase-2 stratum {labels2[empty[0]]!r} has {int(n_g[empty[0]])} phase-1 "
                "units but none in phase 2, so they cannot be represented; follow up at "
                "least one of them or collapse strata"
            )
        lonely = np.flatnonzero((m_g == 1) & (n_g > 1))
        if lonely.size and lonely_psu == "fail":
            raise DesignError(
                f"phase-2 stratum {labels2[lonely[0]]!r} has 1 phase-2 unit of "
                f"{int(n_g[lonely[0]])}, so its phase-2 variance cannot be estimated; "
                "follow up another unit, collapse strata, or set lonely_psu='remove'"
            )
        g2 = g[in2]
        weights = (big_n_h[h] / n_h[h] * n_g[g] / m_g[g])[in2]
        engine = TwoPhaseVariance(g2, stratum_of, n_g, m_g, n_h, big_n_h)
        n2 = int(in2.sum())
        self._set(
            _data=data.loc[in2].copy(),
            _phase1=data.copy(),
            _weights=weights,
            _engine=engine,
            _mask=np.ones(n2, dtype=bool),
            _spec={
                "strata": (s1, s2),
                "fpc": f1,
                "subset": subset,
                "lonely_psu": lonely_psu,
                "columns": [*strata1, *strata2, f1, subset],
                "strata1": labels1,
                "strata2": labels2,
            },
            _df=float(engine.degrees_of_freedom(np.zeros(n2, dtype=np.int64), 1)[0]),
        )

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        sample: str = "sampled",
        strata: str = "stratum",
        *,
        known: str = "status_known",
        followed_up: str = "followed_up",
        lonely_psu: TwoPhaseLonely = "fail",
    ) -> TwoPhaseDesign:
        """Build the two-phase design of a survey with a follow-up of nonrespondents.

        Phase 1 is the stratified sample of the frame (``N_h`` = the frame's units
        of the stratum); phase 2 is the units whose status is known from the
        fieldwork (respondents, units found in liquidation or ceased) and the
        followed-up units, stratified by stratum × status known (see
        :func:`es_survey.synth.simulate_followup`).

        Parameters
        ----------
        frame : pandas.DataFrame
            The frame, one row per unit, with the boolean columns ``sample``,
            ``known`` and ``followed_up`` (the last two matter for sampled units).
        sample, strata : str
            Sampled flag and stratum column.
        known, followed_up : str
            Boolean columns: status known from the fieldwork; followed up.
        lonely_psu : {"fail", "remove"}
            See :class:`TwoPhaseDesign`.

        Returns
        -------
        TwoPhaseDesign
            With added columns ``frame_N_h`` and ``in_phase2``.

        Raises
        ------
        DesignError
            For missing or non-boolean columns, added columns that exist already,
            and the errors of :class:`TwoPhaseDesign`.

        Examples
        --------
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"stratum": ["a"] * 8, "sampled": [True] * 6 + [False] * 2,
        ...     "status_known": [True, True, True, False, False, False, False, False],
        ...     "followed_up": [False, False, False, True, True, False, False, False]})
        >>> d2 = TwoPhaseDesign.from_frame(frame)
        >>> d2.weights.tolist()  # 8/6 for the known, 8/6 x 3/2 for the followed up
        [1.3333333333333333, 1.3333333333333333, 1.3333333333333333, 2.0, 2.0]
        """
        if not isinstance(frame, pd.DataFrame):
            raise DesignError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
        missing = [c for c in (sample, strata, known, followed_up) if c not in frame.columns]
        if missing:
            raise DesignError(f"column(s) {missing} are not in the frame")
        clash = [c for c in ("frame_N_h", "in_phase2") if c in frame.columns]
        if clash:
            raise DesignError(f"the frame already has column(s) {clash}, which the design adds")
        sampled = frame[sample].astype("boolean")
        if sampled.isna().any() or frame[strata].isna().any():
            raise DesignError(
                f"columns {sample!r} and {strata!r} need a value for every frame unit"
            )
        flags = {}
        rows = sampled.to_numpy(dtype=bool)
        for col in (known, followed_up):
            values = frame.loc[rows, col]
            if not pd.api.types.is_bool_dtype(values.dtype) or values.isna().any():
                raise DesignError(
                    f"column {col!r} must be True or False for every sampled unit, got "
                    f"dtype {values.dtype}"
                )
            flags[col] = values.to_numpy(dtype=bool)
        counts = frame[strata].value_counts()
        data = frame.loc[rows].copy()
        data["frame_N_h"] = data[strata].map(counts).to_numpy(dtype=float)
        data["in_phase2"] = flags[known] | flags[followed_up]
        return cls(
            data,
            strata=(strata, [strata, known]),
            fpc=("frame_N_h", None),
            subset="in_phase2",
            lonely_psu=lonely_psu,
        )

    @property
    def phase1(self) -> pd.DataFrame:
        """A copy of the phase-1 sample (every row given)."""
        return self._phase1.copy()

    def __repr__(self) -> str:
        """Summary: phase-1 units and strata, phase-2 units and strata, df."""
        spec = self._spec
        dom = "" if self._mask.all() else f", a domain of {int(self._mask.sum())} phase-2 rows"
        return (
            f"TwoPhaseDesign: {len(self._phase1)} phase-1 units in {len(spec['strata1'])} "
            f"strata; {len(self._data)} in phase 2 ({len(spec['strata2'])} phase-2 strata)"
            f"{dom}, df={self._df:g}, lonely_psu={spec['lonely_psu']!r}"
            + (
                f"; phase-2 weights calibrated ({spec['calibration_method']}) on "
                f"{spec['calibrated']}"
                if "calibrated" in spec
                else ""
            )
        )

    def _design_columns(self) -> set[str]:
        """Columns that define the design (``assign`` may not replace them)."""
        return set(self._spec["columns"])

    def calibrate_phase2(
        self,
        variables: str | Sequence[str],
        *,
        method: Literal["linear", "raking", "logit"] = "linear",
        bounds: tuple[float, float] | None = None,
        keep_strata: bool = True,
        epsilon: float = 1e-10,
        max_iter: int = 100,
    ) -> TwoPhaseDesign:
        """Calibrate the phase-2 weights to the phase-1 sample's totals (R ``phase = 2``).

        Each phase-2 unit's conditional weight ``n_g / m_g`` is multiplied by a
        factor ``g`` so that the phase-2 units reproduce the phase-1 sample's
        totals of ``variables``: the count of each category of a categorical (or
        boolean) column, the sum of a numeric one. The variance's phase-2 term
        then uses the calibration residuals (see the module docstring). A
        follow-up that happened to find few of the units a register entry marks
        as likely employers is weighted up to their phase-1 share.

        Parameters
        ----------
        variables : str or list of str
            Columns known for every phase-1 unit (e.g. register entries).
        method : {"linear", "raking", "logit"}
            Calibration function (``logit`` needs ``bounds``), as
            :meth:`calibrate`.
        bounds : (float, float), optional
            Bounds ``(L, U)`` on ``g``.
        keep_strata : bool
            Add the phase-2 strata to the calibration, so each keeps its ``n_g``
            phase-1 units (R: the interaction of the phase-2 strata in the
            formula). False calibrates to ``variables`` alone.
        epsilon, max_iter
            Tolerance and steps of the calibration (see :meth:`calibrate`).

        Returns
        -------
        TwoPhaseDesign
            A new design with the calibrated weights; this one is unchanged.

        Raises
        ------
        DesignError
            On a domain, on a design already calibrated (calibrate once, with all
            the variables), for unknown columns, or collinear variables.
        DataError
            For a missing value in a phase-1 row (named), or a category with
            phase-1 units but none in phase 2.
        CalibrationError
            When the totals cannot be met (within ``bounds``).

        Examples
        --------
        Three of the 4 nonrespondents are registered employers (``krs``), but
        the follow-up found one of them and one other unit, each weighing
        12/6 × 4/2 = 4. Calibrated on ``krs`` (within the phase-2 strata), the
        registered employer stands for the three, the other unit for one:

        >>> import pandas as pd
        >>> df = pd.DataFrame({"h": "a", "N": 12, "resp": [1, 1, 0, 0, 0, 0],
        ...                    "krs": [0, 0, 1, 1, 1, 0],
        ...                    "phase2": [True, True, True, False, False, True],
        ...                    "y": [1.0, 3.0, 5.0, None, None, 1.0]})
        >>> d2 = TwoPhaseDesign(df, strata=("h", ["h", "resp"]), fpc=("N", None),
        ...                     subset="phase2")
        >>> d2.weights.tolist()
        [2.0, 2.0, 4.0, 4.0]
        >>> d2.calibrate_phase2("krs").weights.round(12).tolist()
        [2.0, 2.0, 6.0, 2.0]
        >>> float(d2.calibrate_phase2("krs").total("y").estimate[0])  # 2+6+30+2
        40.0
        """
        if not self._mask.all():
            raise DesignError(
                "calibrate_phase2 applies to the whole sample, not a domain; calibrate "
                "first, then take domains with .domain()"
            )
        if self._engine.calibration is not None:
            raise DesignError(
                "the phase-2 weights are calibrated already (on "
                f"{self._spec['calibrated']}); calibrate once, with all the variables"
            )
        names = _columns(variables, "variables")
        if not names:
            raise DesignError("variables: name at least one phase-1 column to calibrate on")
        phase1 = self._phase1
        unknown = [c for c in names if c not in phase1.columns]
        if unknown:
            raise DesignError(
                f"column(s) {unknown} are not in the phase-1 data; columns include "
                f"{list(phase1.columns)[:12]}"
            )
        engine = self._engine
        in2 = phase1[self._spec["subset"]].to_numpy(dtype=bool)
        strata2 = _columns(self._spec["strata"][1], "strata[1]") or _columns(
            self._spec["strata"][0], "strata[0]"
        )
        key = "phase-2 stratum"
        while key in phase1.columns:
            key += "_"
        full = phase1
        if keep_strata:
            codes, labels2 = _codes(phase1, strata2)
            full = phase1.assign(**{key: np.asarray(labels2, dtype=object)[codes]})
        totals: dict[str, Any] = {}
        for col in ([key] if keep_strata else []) + names:
            s = full[col]
            if s.isna().any():
                row = full.index[s.isna().to_numpy()][0]
                raise DataError(
                    f"calibration variable {col!r} is missing in phase-1 row {row!r} (value "
                    f"{s.loc[row]!r}); phase-2 calibration needs it for every phase-1 unit"
                )
            if _is_categorical(s):
                counts = s.value_counts(sort=False)
                seen = set(s[in2].unique())
                absent = [c for c in counts.index if c not in seen]
                if absent:
                    raise DataError(
                        f"category {absent[0]!r} of {col!r} has {int(counts[absent[0]])} "
                        "phase-1 units but none in phase 2, so calibration cannot "
                        "represent it; collapse categories or follow one of them up"
                    )
                totals[col] = {k: float(v) for k, v in counts.items()}
            else:
                totals[col] = float(pd.to_numeric(s).sum())
        model = _build_model(full.loc[in2], totals)
        d = engine.n_g[engine.g] / engine.m_g[engine.g]
        labels = [lab.replace(key, "phase-2 stratum") for lab in model.labels]
        new_d = calibrate_weights(
            d,
            model.X,
            model.targets,
            method=method,
            bounds=bounds,
            epsilon=epsilon,
            max_iter=max_iter,
            labels=labels,
        )
        factor = new_d / d
        new = self._copy()
        new._set(
            _weights=self._weights * factor,
            _engine=engine.calibrated(model.X, d, factor),
            _spec={**self._spec, "calibrated": names, "calibration_method": method},
        )
        return new

    @property
    def calibrated_on(self) -> list[str]:
        """The variables the phase-2 weights are calibrated on (empty if none)."""
        return list(self._spec.get("calibrated", []))

    def _reweighted(self, weights: np.ndarray, model: Any, kind: str, what: str) -> Any:
        """Refuse: population-total weighting of a two-phase design is not available."""
        raise DesignError(
            f"{kind} of a two-phase design to population totals is not available; "
            "calibrate the phase-2 weights to the phase-1 sample's totals with "
            "calibrate_phase2(), or estimate with the double-expansion weights"
        )
