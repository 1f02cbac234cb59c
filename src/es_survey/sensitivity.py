r"""What nonresponse could do: a pattern-mixture sensitivity range and R-indicators.

Reweighting on register variables assumes that, within its classes, a nonrespondent is
like a respondent (missing at random). When response depends on the answer itself —
inactive entities rarely answer — no reweighting removes the bias; a follow-up of
nonrespondents does (:class:`~es_survey.TwoPhaseDesign`). Without one, a report can
say how far the conclusion moves if the assumption is wrong.

Pattern mixture (Little 1993; the "δ-adjustment" of multiple-imputation practice): the
nonresponse adjustment multiplies a respondent's design weight ``d_i`` by ``1/φ_i``
(``φ_i`` its class's weighted response rate), so the adjusted total of a stage
indicator ``y`` is ``T_R + T_NR`` — the respondents' own part ``T_R = Σ d_i y_i`` and
the part standing for the nonrespondents ``T_NR = Σ (w_i − d_i) y_i``. If a
nonrespondent were ``δ`` times as likely to be in the stage as a similar respondent,
the estimate is ``T_R + δ T_NR``: the funnel stage estimated with ``y_i`` replaced by

.. math::  y_i^{(\delta)} = y_i\,\bigl(\delta + (1 - \delta)\,\varphi_i\bigr),
           \qquad \varphi_i = d_i / w_i,

on the adjusted design (its variance treats ``φ`` as fixed). ``δ = 1`` is the adjusted
estimate; ``δ = 0.5`` says nonrespondents are half as likely to be active as
respondents alike on the register.

R-indicator (Schouten, Cobben and Bethlehem 2009): with response propensities
``ρ_i`` estimated by a design-weighted logistic regression on register variables,
``R = 1 − 2 S(ρ)`` (1: representative response; ``S`` the design-weighted standard
deviation of ``ρ``), and the coefficient of variation ``CV = S(ρ) / mean(ρ)``, which
bounds the standardised bias of a respondents' mean (Schouten et al. 2012).

References
----------
Little, R. J. A. (1993). Pattern-mixture models for multivariate incomplete data.
*JASA* 88.
Schouten, B., Cobben, F. and Bethlehem, J. (2009). Indicators for the
representativeness of survey response. *Survey Methodology* 35.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from es_survey.errors import DataError, DesignError
from es_survey.funnel import ANSWER_STAGES, population_totals
from es_survey.weighting import logistic_propensity

__all__ = ["DEFAULT_DELTAS", "delta_sensitivity", "r_indicator"]

#: The default δ grid: nonrespondents from half as likely to as likely as respondents.
DEFAULT_DELTAS: tuple[float, ...] = (0.5, 0.625, 0.75, 0.875, 1.0)

_STAGES = ANSWER_STAGES


def _stage_values(data: pd.DataFrame, stage: str) -> np.ndarray:
    """Return a unit's value: a stage indicator, or a variable among active units.

    Earning and employing need activity (Kleene "and": inactive is a decided no); a
    numeric variable is 0 for an inactive unit; undecided units are NaN.
    """
    for col in ("active", stage):
        if col not in data.columns:
            raise DesignError(f"the design has no column {col!r}")
    active = data["active"].astype("boolean")
    if stage in _STAGES:
        both = active & data[stage].astype("boolean")
        return both.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    try:
        y = pd.to_numeric(data[stage], errors="raise").astype("Float64")
    except (TypeError, ValueError) as err:
        raise DesignError(
            f"{stage!r} is neither a funnel stage ({', '.join(_STAGES)}) nor a numeric column"
        ) from err
    values = y.to_numpy(dtype=float, na_value=np.nan)
    act = active.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return np.where(act == 0, 0.0, np.where(act == 1, values, np.nan))


def delta_sensitivity(
    before: Any,
    after: Any,
    stage: str = "active",
    deltas: Sequence[float] = DEFAULT_DELTAS,
    *,
    design: Any | None = None,
    register: pd.DataFrame | pd.Series | int | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Estimate a funnel stage for nonrespondents ``δ`` times as likely as respondents.

    Parameters
    ----------
    before : SurveyDesign
        The design before the nonresponse adjustment (design weights ``d``).
    after : SurveyDesign
        The same rows after :meth:`~es_survey.SurveyDesign.adjust_nonresponse`
        (and any calibration): weights ``w``.
    stage : str
        A funnel stage (``"active"``, ``"earning"``, ``"employing"``), or a numeric
        column totalled among active entities (``"workers"``: nonrespondents'
        values scaled by ``δ``).
    deltas : sequence of float
        Values of ``δ`` (> 0); ``1`` is the adjusted estimate.
    design : SurveyDesign, optional
        The design to estimate on, when it differs from ``after`` by a later step
        (e.g. ``after`` calibrated to the frame: ``δ = 1`` is then the published
        estimate, and ``φ`` still comes from the nonresponse adjustment alone).
        Same rows as ``after``.
    register : pandas.DataFrame, pandas.Series or int, optional
        The register's counts, as in :func:`~es_survey.sector_funnel`.
    level : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per ``δ``: ``delta``, ``estimate``, ``se``, ``lower``, ``upper``.

    Raises
    ------
    DesignError
        For designs of different rows, a stage that is neither a funnel stage nor
        a numeric column, or a ``δ`` that is not a positive number.

    Examples
    --------
    >>> import pandas as pd
    >>> import es_survey as es
    >>> df = pd.DataFrame({"h": ["a"] * 6, "N": 60, "eligible": True,
    ...     "responded": [True, True, True, False, False, False],
    ...     "active": pd.array([True, True, False, None, None, None], dtype="boolean")})
    >>> d = es.SurveyDesign(df, strata="h", fpc="N")
    >>> a = d.adjust_nonresponse("responded", by="h", outcome=None)
    >>> delta_sensitivity(d, a, deltas=[0.5, 1.0])["estimate"].round(6).tolist()
    [30.0, 40.0]
    """
    grid = [float(x) for x in deltas]
    if not grid or not all(np.isfinite(x) and x > 0 for x in grid):
        raise DesignError(f"deltas={list(deltas)!r}: give positive numbers, e.g. [0.5, 1.0]")
    target = after if design is None else design
    data = target.data
    for other in (before, after):
        if len(other.data) != len(data) or not other.data.index.equals(data.index):
            raise DesignError(
                "before, after (and design) must be the same design's rows (before and "
                "after adjust_nonresponse)"
            )
    d = np.asarray(before.weights, dtype=float)
    w = np.asarray(after.weights, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(w > 0, d / w, 1.0)
    y = _stage_values(data, stage)
    rows = []
    for delta in grid:
        scaled = y * (delta + (1.0 - delta) * phi)
        est = population_totals(
            target.assign(_delta_stage=scaled),
            "_delta_stage",
            among=None,
            level=level,
            register=register,
        ).iloc[0]
        rows.append(
            {
                "delta": delta,
                "estimate": float(est["estimate"]),
                "se": float(est["se"]),
                "lower": float(est["lower"]),
                "upper": float(est["upper"]),
            }
        )
    return pd.DataFrame(rows)


def _covariate_matrix(data: pd.DataFrame, covariates: Sequence[str]) -> np.ndarray:
    cols = [np.ones(len(data))]
    for name in covariates:
        if name not in data.columns:
            raise DataError(f"r_indicator: covariate {name!r} is not a column of the data")
        x = data[name]
        if pd.api.types.is_bool_dtype(x.dtype) or pd.api.types.is_numeric_dtype(x.dtype):
            values = pd.to_numeric(x.astype("Float64"), errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            )
            if np.isnan(values).any():
                i = int(np.flatnonzero(np.isnan(values))[0])
                raise DataError(
                    f"r_indicator: covariate {name!r} is missing in row {data.index[i]!r}; "
                    "register covariates are needed for every sampled unit"
                )
            cols.append(values)
        else:
            levels = sorted(x.astype("string").fillna("(missing)").unique())
            text = x.astype("string").fillna("(missing)")
            cols += [(text == level).to_numpy(dtype=float) for level in levels[1:]]
    return np.column_stack(cols)


def r_indicator(
    design: Any, responded: str = "responded", covariates: Sequence[str] = ()
) -> pd.Series:
    """R-indicator and coefficient of variation of the response propensities.

    Parameters
    ----------
    design : SurveyDesign
        The design of the sampled units (design weights, before any adjustment).
    responded : str
        Boolean column: the unit answered.
    covariates : sequence of str
        Register variables of the propensity model (numeric, yes/no, or
        categorical — one indicator per category but the first).

    Returns
    -------
    pandas.Series
        ``R`` (1 − 2 S), ``CV`` (S / mean), ``S`` and ``mean_propensity``.

    Raises
    ------
    DataError
        For a missing covariate or a missing value in one.
    DesignError
        For a response column that is not yes/no.

    Examples
    --------
    >>> import pandas as pd
    >>> import es_survey as es
    >>> df = pd.DataFrame({"w": 10.0, "x": [0, 0, 0, 1, 1, 1],
    ...                    "responded": [True, False, False, True, True, False]})
    >>> r = r_indicator(es.SurveyDesign(df, weights="w"), covariates=["x"])
    >>> # propensities 1/3 and 2/3, mean 1/2: S = sqrt(60 (1/6)^2 / 59) = 0.16807
    >>> round(float(r["R"]), 4), round(float(r["CV"]), 4)
    (0.6639, 0.3361)
    """
    data = design.data
    if responded not in data.columns:
        raise DesignError(f"the design has no column {responded!r}")
    flag = data[responded]
    if not pd.api.types.is_bool_dtype(flag.dtype) or flag.isna().any():
        raise DesignError(f"column {responded!r} must be True or False for every unit")
    d = np.asarray(design.weights, dtype=float)
    x = _covariate_matrix(data, covariates)
    rho = logistic_propensity(x, flag.to_numpy(dtype=float), d)
    total = float(d.sum())
    mean = float(np.sum(d * rho) / total)
    s = float(np.sqrt(np.sum(d * (rho - mean) ** 2) / (total - 1.0)))
    return pd.Series({"R": 1.0 - 2.0 * s, "CV": s / mean, "S": s, "mean_propensity": mean})
