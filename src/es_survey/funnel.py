r"""The sector funnel: registered → eligible → active → earning → employing.

The table a regional report opens with: how many registered entities there are,
how many of them are eligible (still exist and belong to the sector), how many are
active, and how many of the active ones earn money and employ staff — each an
estimated population count with its standard error and confidence interval.

Estimator
---------
After the nonresponse adjustment (:meth:`SurveyDesign.adjust_nonresponse`) the
weighted respondents represent the eligible population and the weighted ineligible
units the rest of the frame. A respondent's flag can still be undecided (a missing
answer — ``classify`` leaves it ``<NA>``). Treating such a unit as "no" would bias
every count downwards, so each stage is estimated as the eligible count times the
share of the stage among eligible respondents whose flag is decided (item
nonresponse missing at random within the domain):

.. math::

    \hat t_s = \hat T_e \, \hat p_s, \qquad
    \hat p_s = \frac{\sum w_i d_i y_i}{\sum w_i d_i}

with ``e_i`` the eligibility indicator, ``d_i`` = 1 when the stage is decided for
a respondent and ``y_i`` the stage indicator (for *earning* and *employing*: active
and earning, active and employing — Kleene "and", so a unit known to be inactive is
decided even if its earning answers are missing). Its linearised variance is the
design variance of the total of the influence values

.. math::

    z_i = \frac{\hat T_e}{\hat T_d}\, d_i (y_i - \hat p_s) + \hat p_s e_i ,

so the engine's design (strata, fpc, nonresponse and calibration residuals) is used
as for every other estimate, and :math:`\sum w_i z_i = \hat t_s` exactly.
Domains (``by=``) use each domain's own ``p``. ``registered`` is the total of the
weights (the frame count, with zero variance when the design reproduces it).

References
----------
Särndal, C.-E., Swensson, B., Wretman, J. (1992). *Model Assisted Survey Sampling*,
§5.5 (linearisation of functions of totals). Springer.
The American Association for Public Opinion Research (2023). *Standard Definitions*.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from es_survey import domains as _domains
from es_survey.classify import classify
from es_survey.design import SurveyDesign
from es_survey.dispositions import STATUS_KNOWN_OUTCOMES
from es_survey.domains import Domains
from es_survey.errors import DesignError
from es_survey.estimate import Evaluated, Statistic, _result, evaluate
from es_survey.regions import Terc, load_terc, powiats, voivodeships
from es_survey.result import FUNNEL_COLUMNS as _FUNNEL_COLUMNS
from es_survey.result import Estimate
from es_survey.rules import RuleSet
from es_survey.twophase import TwoPhaseDesign
from es_survey.validate import SurveyData

__all__ = [
    "ANSWER_STAGES",
    "ELIGIBLE_OUTCOMES",
    "FUNNEL_COLUMNS",
    "population_totals",
    "sector_funnel",
    "survey_frame",
]

#: Contact outcomes of units known to be eligible (respondents and eligible
#: nonrespondents), as coded in the codebook's ``contact_outcome`` answer set.
ELIGIBLE_OUTCOMES = ("complete", "partial", "refusal", "non_contact")
_RESPONDED = ("complete", "partial")
_NOT_ANSWERS = frozenset({"source_row", "problems"})

#: Columns of ``sector_funnel(...).to_frame()`` (after the ``by`` columns).
FUNNEL_COLUMNS = _FUNNEL_COLUMNS

_STAGES = {
    "active": ("active",),
    "earning": ("active", "earning"),
    "employing": ("active", "employing"),
}
#: The funnel stages estimated from the answers (after registered and eligible).
ANSWER_STAGES: tuple[str, ...] = tuple(_STAGES)


def survey_frame(
    data: SurveyData,
    rules: RuleSet | str | None = None,
    *,
    key: str = "regon",
    terc: Terc | str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Frame units with their fieldwork outcome and the classification of their answers.

    Parameters
    ----------
    data : SurveyData
        A loaded study (:func:`es_survey.load_study`).
    rules : RuleSet, str or None
        Classification rules (None: the bundled default).
    key : str
        Column linking responses to frame units.
    terc : es_survey.regions.Terc, str, path-like or None
        The TERC register whose powiat names are used (a study's own file,
        :func:`es_survey.regions.load_terc`); the bundled one by default.

    Returns
    -------
    pandas.DataFrame
        One row per frame unit (frame order): the frame's columns, ``responded``
        (contact outcome complete or partial), ``eligible`` (known to be eligible:
        respondent, refusal or non-contact), ``has_answers`` (a linked response
        exists), the questionnaire answers, and for every flag of the rules the
        flag and its reason (``<NA>`` for units without answers). A respondent whose response
        could not be linked (e.g. a mistyped REGON) keeps ``responded`` true with
        undecided flags: the funnel treats it as item nonresponse, never as "no".
        When a unit has several linked responses the first (in file order) is used;
        the duplicates are in ``data.problems``. With a ``teryt_powiat`` column (and
        no ``nuts3`` column of its own), ``powiat_name``, ``nuts3`` and ``subregion``
        are added from :func:`es_survey.regions.powiats` for estimates by powiat and
        subregion, for the powiats of any voivodeship (``<NA>`` for a code that is not
        a powiat; validation reports it as ``teryt_unknown``).

    Examples
    --------
    >>> from pathlib import Path
    >>> import es_survey as es
    >>> raw = Path("data/raw")
    >>> if raw.is_dir():
    ...     sf = survey_frame(es.load_study(raw / "frame.xlsx", raw / "responses.xlsx"))
    ...     print(len(sf), int(sf["responded"].sum()))
    ... else:
    ...     print(632, 140)
    632 140
    """
    frame = data.frame
    if "contact_outcome" not in frame.columns:
        raise DesignError(
            "the frame has no 'contact_outcome' column: fieldwork outcomes "
            "are needed to tell respondents, nonrespondents and ineligible units"
        )
    linked = data.linked
    if "in_frame" in linked.columns:
        linked = linked[linked["in_frame"].fillna(False).astype(bool)]
    flags = classify(linked, rules)
    added = [c for c in flags.columns if c not in linked.columns]
    answered = [
        c
        for c in data.responses.columns
        if c in flags.columns and c not in frame.columns and c not in _NOT_ANSWERS
    ]
    answers = flags[[key, *answered, *added]].drop_duplicates(subset=key, keep="first")
    outcome = frame["contact_outcome"].astype("string")
    out = frame.assign(
        responded=outcome.isin(_RESPONDED).fillna(False).to_numpy(dtype=bool),
        eligible=outcome.isin(ELIGIBLE_OUTCOMES).fillna(False).to_numpy(dtype=bool),
        has_answers=frame[key].isin(answers[key]).to_numpy(dtype=bool),
    )
    merged = out.merge(answers, on=key, how="left", validate="many_to_one")
    merged.index = frame.index
    merged["status_known"] = outcome.isin(STATUS_KNOWN_OUTCOMES).fillna(False).to_numpy(bool)
    if "followed_up" in merged.columns:
        merged = _with_followup(merged, key)
    return _add_subregion(merged, terc)


def _with_followup(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Fill the flags of followed-up units from what the follow-up established.

    A followed-up unit (``followed_up``; one of unknown status after the fieldwork)
    gets ``active`` from ``followup_status`` (``active``; ``inactive``, ``ceased`` or
    ``liquidation`` are a decided no), ``earning`` and ``employing`` from
    ``followup_paid`` and ``followup_employs`` (for an active unit), and
    ``eligible`` unless it ceased or is in liquidation. A status the follow-up could
    not establish leaves the flags undecided (item nonresponse) and the unit
    eligible. Its reason columns say ``followup``.
    """
    flag = frame["followed_up"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    sampled = frame["sampled"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    known = frame["status_known"].to_numpy(dtype=bool)
    clash = np.flatnonzero(flag & (known | ~sampled))
    if clash.size:
        row = frame.iloc[clash[0]]
        why = "is not in the sample" if not sampled[clash[0]] else "has a known status"
        raise DesignError(
            f"unit {key}={row[key]!r} is marked followed_up but {why} (contact outcome "
            f"{row.get('contact_outcome')!r}); the follow-up subsamples sampled units of "
            "unknown status (refusal, non-contact, unknown eligibility, not ES)"
        )
    out = frame.copy()
    if not flag.any():
        return out
    status = (
        out["followup_status"].astype("string")
        if "followup_status" in out.columns
        else pd.Series(pd.NA, index=out.index, dtype="string")
    )
    active = (status == "active").astype("boolean")

    def answer(column: str) -> pd.Series:
        if column not in out.columns:
            return pd.Series(pd.NA, index=out.index, dtype="boolean")
        return out[column].astype("boolean")

    rows = pd.Series(flag, index=out.index)
    empty = pd.Series(pd.NA, index=out.index, dtype="boolean")
    for name, value in (
        ("active", active),
        ("earning", active & answer("followup_paid")),
        ("employing", active & answer("followup_employs")),
    ):
        current = out[name].astype("boolean") if name in out.columns else empty
        out[name] = value.where(rows, current)
        reason = f"{name}_reason"
        before = (
            out[reason].astype("string")
            if reason in out.columns
            else pd.Series(pd.NA, index=out.index, dtype="string")
        )
        out[reason] = before.mask(rows, "followup")
    ineligible = status.isin(["ceased", "liquidation"]).fillna(False).to_numpy(dtype=bool)
    out["eligible"] = np.where(flag, ~ineligible, out["eligible"].to_numpy(dtype=bool))
    return out


def _add_subregion(
    frame: pd.DataFrame, terc: Terc | str | os.PathLike[str] | None = None
) -> pd.DataFrame:
    """Add ``powiat_name``, ``nuts3`` and ``subregion`` from the national region tables."""
    if "teryt_powiat" not in frame.columns or "nuts3" in frame.columns:
        return frame
    codes = frame["teryt_powiat"].astype("string")
    reference = terc if isinstance(terc, Terc) else load_terc(terc)
    valid = set(voivodeships(terc=reference)["teryt"])
    known = sorted(v for v in codes.str[:2].dropna().unique() if v in valid)
    if not known:
        return frame
    table = pd.concat([powiats(v, terc=reference) for v in known], ignore_index=True).set_index(
        "teryt"
    )
    return frame.assign(
        powiat_name=codes.map(table["name"]).astype("string"),
        nuts3=codes.map(table["nuts3"]).astype("string"),
        subregion=codes.map(table["subregion"]).astype("string"),
    )


def _stage_indicator(data: pd.DataFrame, parts: tuple[str, ...]) -> pd.Series:
    """Kleene "and" of the flags: True, False or <NA> when undecided."""
    for name in parts:
        if name not in data.columns:
            raise DesignError(
                f"the design has no flag column {name!r}; classify the responses first "
                "(es_survey.survey_frame adds the flags)"
            )
    result = data[parts[0]].astype("boolean")
    for name in parts[1:]:
        result = result & data[name].astype("boolean")
    return result


def _funnel_statistic(
    dom: Domains,
    fixed: np.ndarray,
    e: np.ndarray,
    yv: np.ndarray,
    dd: np.ndarray,
    register: np.ndarray | None = None,
) -> Statistic:
    """Plain totals of ``fixed`` and the item-adjusted stage totals ``T_e T_yd / T_d``.

    ``fixed`` (n, f), ``e`` (n, 1), ``yv`` and ``dd`` (n, s) are zero outside the
    domain members. A replicate whose domain keeps eligible units but no decided
    one gives NaN for that domain (left out of the replicate variance, as R).

    With ``register`` (the frame's count ``N_d`` of each domain) every column is
    a ratio estimator scaled to the register: ``N_d t / T_1`` with ``T_1`` the
    estimated count of registered units (the weights' total); ``fixed`` must then
    start with the column of ones.
    """
    f, s = fixed.shape[1], yv.shape[1]
    if register is not None:
        return _register_scaled(
            dom, _funnel_statistic(dom, fixed, e, yv, dd), fixed[:, :1], register
        )

    def parts(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t_e = t[..., f : f + 1]
        t_y = t[..., f + 1 : f + 1 + s]
        t_d = t[..., f + 1 + s :]
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(t_d > 0, t_y / t_d, np.where(t_e > 0, np.nan, 0.0))
            scale = np.where(t_d > 0, t_e / t_d, 0.0)
        return t_e, p, scale

    def point(t: np.ndarray) -> np.ndarray:
        t_e, p, _ = parts(t)
        return np.concatenate([t[..., :f], t_e * p], axis=-1)

    def influence(dom: Domains, est: np.ndarray, t: np.ndarray) -> np.ndarray:
        _, p, scale = parts(t)
        p_row = dom.per_row(p)
        lin = dom.per_row(scale) * (yv - p_row * dd) + p_row * e
        return dom.w[:, None] * np.column_stack([fixed, lin])

    z = np.column_stack([fixed, e, yv, dd])
    return Statistic("funnel", z, point, influence)


def _register_scaled(
    dom: Domains, inner: Statistic, ones: np.ndarray, register: np.ndarray
) -> Statistic:
    """``N_d g / T_1``: a statistic ``g`` as a share of the registered, times the register.

    The influence of ``r = g / T_1`` is ``(u_g - r u_1) / T_1`` (u: influence values),
    so the linearised variance is that of R's
    ``svycontrast(svytotal(...), quote(N * g / one))``.
    """
    m = inner.z.shape[1]
    n_reg = register[:, None]

    def point(t: np.ndarray) -> np.ndarray:
        return n_reg * inner.point(t[..., :m]) / t[..., m : m + 1]

    def influence(dom: Domains, est: np.ndarray, t: np.ndarray) -> np.ndarray:
        g = inner.point(t[:, :m])
        t_one = t[:, m : m + 1]
        u_g = inner.influence(dom, g, t[:, :m])
        u_1 = dom.w[:, None] * ones
        # a domain without weight (no respondent) has no estimate: its influence is 0,
        # so that it cannot spread NaN to the other domains through calibration
        known = (t_one > 0) & np.isfinite(g)
        share = np.where(known, g / np.where(known, t_one, 1.0), 0.0)
        scale = np.where(known, n_reg / np.where(known, t_one, 1.0), 0.0)
        return dom.per_row(scale) * (np.nan_to_num(u_g) - dom.per_row(share) * u_1)

    return Statistic(inner.name, np.column_stack([inner.z, ones]), point, influence)


def _register_counts(
    register: pd.DataFrame | pd.Series | int | float, dom: Domains, by_cols: list[str]
) -> np.ndarray:
    """Return the frame's count of each domain, in the order of the domains."""
    if isinstance(register, pd.DataFrame):
        missing = [c for c in by_cols if c not in register.columns]
        if missing:
            raise DesignError(
                f"register frame has no column(s) {missing}: register counts need the domain "
                "columns in the frame (one row per registered unit)"
            )
        if not by_cols:
            return np.array([float(len(register))])
        counts = register.groupby(by_cols, dropna=False, observed=True).size()
    elif isinstance(register, pd.Series):
        counts = register
    else:
        if by_cols:
            raise DesignError(
                "register= is a single number but by= asks for domains; give the frame "
                "(one row per registered unit) or a Series of counts indexed by domain"
            )
        return np.array([float(register)])
    labels = dom.labels[by_cols] if by_cols else pd.DataFrame(index=range(1))
    keys = [tuple(r) if len(by_cols) > 1 else r[0] for r in labels.itertuples(index=False)]
    index = {
        (tuple(str(v) for v in k) if isinstance(k, tuple) else str(k)): float(c)
        for k, c in counts.items()
    }
    out = np.empty(len(keys))
    for i, key in enumerate(keys):
        look = tuple(str(v) for v in key) if isinstance(key, tuple) else str(key)
        if look not in index:
            raise DesignError(
                f"domain {key!r} of the sample is not in the register; the domain columns "
                "of the design and the frame must use the same codes"
            )
        out[i] = index[look]
    return out


def _select(ev: Evaluated, keep: np.ndarray) -> Evaluated:
    """Restrict the evaluated statistic to the columns ``keep`` of every domain."""
    d, k = ev.est.shape
    flat = (np.arange(d)[:, None] * k + keep[None, :]).reshape(-1)
    return Evaluated(
        est=ev.est[:, keep],
        var=ev.var[:, keep],
        thetas=None if ev.thetas is None else ev.thetas[:, :, keep],
        vcov=None if ev.vcov is None else ev.vcov[np.ix_(flat, flat)],
        vcov_note=ev.vcov_note,
    )


def _exact(ev: Evaluated, column: int, values: np.ndarray) -> Evaluated:
    """Put known values (variance 0, no covariance) in one column of every domain."""
    d, k = ev.est.shape
    est = ev.est.copy()
    var = ev.var.copy()
    est[:, column] = values
    var[:, column] = 0.0
    vcov = None
    if ev.vcov is not None:
        vcov = ev.vcov.copy()
        flat = np.arange(d) * k + column
        vcov[flat, :] = 0.0
        vcov[:, flat] = 0.0
    thetas = None
    if ev.thetas is not None:
        thetas = ev.thetas.copy()
        thetas[:, :, column] = values[None, :]
    return Evaluated(est=est, var=var, thetas=thetas, vcov=vcov, vcov_note=ev.vcov_note)


def _item_adjusted(
    design: SurveyDesign | TwoPhaseDesign,
    values: dict[str, np.ndarray],
    *,
    by_cols: list[str],
    eligible: str,
    level: float,
    fixed: dict[str, np.ndarray] | None = None,
    statistic: str = "total",
    register: pd.DataFrame | pd.Series | int | float | None = None,
) -> Estimate:
    """Totals ``T_e * mean(y | eligible, decided)`` (NaN = undecided), one engine pass.

    ``fixed`` holds plain totals (no item adjustment), estimated in the same pass.
    The domains (``by``, the design's domain mask) are those of every estimator.
    """
    data = design.data
    if eligible not in data.columns:
        raise DesignError(f"the design has no column {eligible!r} (eligibility indicator)")
    missing = [c for c in by_cols if c not in data.columns]
    if missing:
        raise DesignError(f"the design has no domain column(s) {missing}")
    dom = _domains.build(design, by_cols or None)
    member = dom.member.astype(float)
    e = data[eligible].fillna(False).to_numpy(dtype=float) * member
    names = list(values)
    fixed = dict(fixed or {})
    fx = np.column_stack([fixed[k] * member for k in fixed]) if fixed else np.zeros((len(e), 0))
    ys = [np.asarray(values[k], dtype=float) for k in names]
    dd = (
        np.column_stack([((e > 0) & ~np.isnan(y)).astype(float) for y in ys])
        if ys
        else (np.zeros((len(e), 0)))
    )
    yv = (
        np.column_stack([np.where(dd[:, j] > 0, y, 0.0) for j, y in enumerate(ys)])
        if ys
        else (np.zeros((len(e), 0)))
    )
    # a domain with eligible units but no decided answer gets no estimate (NaN, shown
    # as not available), never a zero
    n_reg = None if register is None else _register_counts(register, dom, by_cols)
    if n_reg is not None and "registered" not in fixed:
        fx = np.column_stack([member, fx])  # T_1, the denominator of the ratios
    stat = _funnel_statistic(dom, fx, e[:, None], yv, dd, n_reg)
    ev = evaluate(dom, stat)
    if n_reg is not None and "registered" not in fixed:  # drop the helper column
        keep = np.arange(1, ev.est.shape[1])
        ev = _select(ev, keep)
    elif n_reg is not None:  # the register's count itself: exact, not N T_1 / T_1
        ev = _exact(ev, list(fixed).index("registered"), n_reg)
    if n_reg is not None and np.isnan(ev.est).any():  # no estimate: no variance either
        var = np.where(np.isnan(ev.est), np.nan, ev.var)
        ev = Evaluated(ev.est, var, ev.thetas, ev.vcov, ev.vcov_note)
    k = len(fixed) + len(names)
    n = np.empty((dom.n_domains, k))
    n[:, : len(fixed)] = dom.n[:, None]
    for j in range(len(names)):
        n[:, len(fixed) + j] = np.bincount(dom.bins, weights=dd[:, j], minlength=dom.n_domains + 1)[
            :-1
        ]
    labels = [
        (name, "register" if n_reg is not None and name == "registered" else "")
        for name in [*fixed, *names]
    ]
    return _result(
        design, dom, statistic, labels, ev, np.full(ev.est.shape, np.nan), level, n=n.reshape(-1)
    )


def sector_funnel(
    design: SurveyDesign | TwoPhaseDesign,
    *,
    by: str | Sequence[str] | None = None,
    stages: Sequence[str] = ("active", "earning", "employing"),
    eligible: str = "eligible",
    level: float = 0.95,
    register: pd.DataFrame | pd.Series | int | None = None,
) -> Estimate:
    """Estimate the sector funnel with standard errors and confidence intervals.

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
        A design over the sampled units, already adjusted for nonresponse, whose
        data hold the ``eligible`` indicator and the flags (see
        :func:`survey_frame`); a domain of one (:meth:`SurveyDesign.domain`)
        restricts the funnel to it.
    by : str or list of str, optional
        Domain columns (entity type, subregion, powiat); all domains in one pass.
    stages : sequence of str
        Stages after ``registered`` and ``eligible``: any of ``"active"``,
        ``"earning"`` (active and earning) and ``"employing"`` (active and
        employing).
    eligible : str
        Boolean column: unit known to be eligible.
    level : float
        Confidence level of the intervals (t with the design's degrees of freedom).
    register : pandas.DataFrame, pandas.Series or int, optional
        What the register (the sampling frame) knows: the frame itself (one row per
        registered unit, with the ``by`` columns), the counts of each domain (a
        Series indexed by the domain values), or the count of a single domain.
        Then ``registered`` is the register's count ``N_d`` (exact: SE 0), and every
        other stage is the ratio estimator ``N_d * t_d / T_1d`` (the stage's share of
        the registered units, estimated within the domain, times ``N_d``; R:
        ``svycontrast(svytotal(~ ... + one), quote(N * e * y / d / one))``, i.e.
        ``svyby(..., svyratio)`` times ``N_d``). No stage can then exceed the
        register's count, and the stages fall along the funnel in every domain.

    Returns
    -------
    Estimate
        One row per (domain, stage), ``statistic="funnel"``, ``variable`` the
        stage. Its ``to_frame()`` has the columns ``[*by, stage, estimate, se,
        lower, upper, level, cv, df, n, source]``; ``n`` is the number of eligible
        units with a decided stage (the sample behind the share), ``source`` is
        "register" for the register's own counts (with ``register=``) and
        "estimate" otherwise.

    Raises
    ------
    DesignError
        For an unknown stage, a missing column, or a domain with eligible units
        but no decided respondent.

    Examples
    --------
    >>> import pandas as pd
    >>> import es_survey as es
    >>> df = pd.DataFrame({"h": ["a"] * 4 + ["b"] * 4, "N": [40] * 4 + [20] * 4,
    ...     "eligible": [True, True, True, False, True, True, True, True],
    ...     "active": pd.array([True, False, True, False, True, True, None, False],
    ...                        dtype="boolean")})
    >>> d = es.SurveyDesign(df, strata="h", fpc="N")
    >>> f = sector_funnel(d, stages=["active"]).to_frame()
    >>> f[["stage", "estimate"]].round(6).values.tolist()
    [['registered', 60.0], ['eligible', 50.0], ['active', 33.333333]]
    """
    unknown = [s for s in stages if s not in _STAGES]
    if unknown:
        raise DesignError(f"unknown funnel stage(s) {unknown}; choose from {list(_STAGES)}")
    data = design.data
    if eligible not in data.columns:
        raise DesignError(f"the design has no column {eligible!r} (eligibility indicator)")
    by_cols = [by] if isinstance(by, str) else list(by or [])
    values = {
        stage: _stage_indicator(data, _STAGES[stage])
        .astype("Float64")
        .to_numpy(dtype=float, na_value=np.nan)
        for stage in stages
    }
    fixed = {
        "registered": np.ones(len(data)),
        "eligible": data[eligible].fillna(False).to_numpy(dtype=float),
    }
    return _item_adjusted(
        design,
        values,
        by_cols=by_cols,
        eligible=eligible,
        level=level,
        fixed=fixed,
        statistic="funnel",
        register=register,
    )


def population_totals(
    design: SurveyDesign | TwoPhaseDesign,
    variables: str | Sequence[str],
    *,
    by: str | Sequence[str] | None = None,
    among: str | None = "active",
    eligible: str = "eligible",
    level: float = 0.95,
    register: pd.DataFrame | pd.Series | int | None = None,
) -> pd.DataFrame:
    """Estimate population totals of numeric answers among (e.g.) active entities.

    The same estimator as the funnel (see the module docstring): the eligible
    count times the mean of ``y`` among eligible respondents whose answer is
    decided, where ``y`` is the variable for units with ``among`` true and 0 for
    units with ``among`` false. A respondent with ``among`` undecided, or with
    ``among`` true and the variable missing, is item nonresponse — never a zero.

    Parameters
    ----------
    design : SurveyDesign
        Nonresponse-adjusted design over the sampled units (see
        :func:`survey_frame`).
    variables : str or list of str
        Numeric columns (counts such as ``workers`` or ``emp_uop``, or amounts).
    by : str or list of str, optional
        Domain columns.
    among : str or None
        Boolean flag restricting the total (default ``"active"``); None for all
        eligible units.
    eligible : str
        Boolean column: unit known to be eligible.
    level : float
        Confidence level.
    register : pandas.DataFrame, pandas.Series or int, optional
        The register's counts (see :func:`sector_funnel`): each total becomes
        ``N_d`` times its mean per registered unit (a ratio estimator).

    Returns
    -------
    pandas.DataFrame
        ``to_frame()`` columns of :class:`~es_survey.Estimate` (``variable``,
        ``estimate``, ``se``, ``lower``, ``upper``, ``level``, ``cv``, ``df``,
        ``n`` = eligible units with a decided value; ``deff`` is NaN: the
        influence values are not a plain variable).

    Examples
    --------
    >>> import pandas as pd
    >>> import es_survey as es
    >>> df = pd.DataFrame({"h": ["a"] * 4, "N": [40] * 4, "eligible": [True] * 4,
    ...     "active": pd.array([True, True, False, True], dtype="boolean"),
    ...     "jobs": [3.0, None, 7.0, 5.0]})
    >>> d = es.SurveyDesign(df, strata="h", fpc="N")
    >>> # 40 eligible x mean(3, 0, 5) over the decided units (the 2nd is undecided)
    >>> round(float(population_totals(d, "jobs")["estimate"].iloc[0]), 4)
    106.6667
    """
    names = [variables] if isinstance(variables, str) else list(variables)
    data = design.data
    by_cols = [by] if isinstance(by, str) else list(by or [])
    flag = (
        pd.Series(True, index=data.index, dtype="boolean")
        if among is None
        else _stage_indicator(data, (among,))
    )
    f = flag.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    values = {}
    for name in names:
        if name not in data.columns:
            raise DesignError(f"the design has no column {name!r}")
        y = (
            pd.to_numeric(data[name], errors="raise")
            .astype("Float64")
            .to_numpy(dtype=float, na_value=np.nan)
        )
        values[name] = np.where(f == 0, 0.0, np.where(f == 1, y, np.nan))
    est = _item_adjusted(
        design, values, by_cols=by_cols, eligible=eligible, level=level, register=register
    )
    return est.to_frame()
