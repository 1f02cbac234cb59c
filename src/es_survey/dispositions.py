"""Final dispositions of frame units, their reconciliation, and AAPOR outcome rates.

Every unit of the sampling frame ends in exactly one final disposition:

==========================  ====================================================
``not_sampled``             in the frame, not selected
``complete``                complete interview (AAPOR I)
``partial``                 partial interview (AAPOR P)
``refusal``                 refusal or break-off (AAPOR R)
``non_contact``             eligible, not contacted (AAPOR NC)
``ineligible``              found ineligible: ``ineligible_reason`` is
                            ``liquidation``, ``ceased`` or ``not_es``
``unknown_eligibility``     eligibility not established (AAPOR UH + UO)
==========================  ====================================================

The disposition comes from the frame's ``sampled`` and ``contact_outcome``
(codebook codes). A linked responses table, when given, is used to *check* the
outcome, never to overwrite it: a sampled unit with a response but a
non-response outcome (or the reverse) keeps its recorded outcome, gets a
``problem`` text, and makes :func:`reconcile` fail until the fieldwork record is
corrected. AAPOR "other" (O) has no code in the codebook and is always 0.

Note that "ineligible" here is a fieldwork finding (the unit is liquidated, has
ceased to exist, or is not a social-economy entity). Whether an eligible
respondent was *active* in the reference year is a classification
(:func:`es_survey.classify`), not a disposition.

References
----------
The American Association for Public Opinion Research (2023). *Standard
Definitions: Final Dispositions of Case Codes and Outcome Rates for Surveys*,
10th edition. AAPOR.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from es_survey.errors import DataError, DesignError

__all__ = [
    "FOLLOWUP_STATUSES",
    "STATUS_KNOWN_OUTCOMES",
    "assign_dispositions",
    "eligibility_rate",
    "reconcile",
    "response_rates",
]

DISPOSITIONS = (
    "complete",
    "partial",
    "refusal",
    "non_contact",
    "ineligible",
    "unknown_eligibility",
    "not_sampled",
)
_SAMPLE_DISPOSITIONS = DISPOSITIONS[:-1]

#: Fieldwork outcomes that establish a unit's status: it answered, or it was found in
#: liquidation or ceased. The others (refusal, non-contact, unknown eligibility, and
#: "not ES" — a field judgement a desk follow-up checks) leave it unknown; in a
#: two-phase design (:class:`~es_survey.TwoPhaseDesign`) a follow-up subsamples them.
STATUS_KNOWN_OUTCOMES: tuple[str, ...] = (
    "complete",
    "partial",
    "ineligible_liquidated",
    "ineligible_ceased",
)

#: Statuses a follow-up (desk research, a phone call) can establish.
FOLLOWUP_STATUSES: tuple[str, ...] = ("active", "inactive", "ceased", "liquidation")
_INELIGIBLE_REASONS = ("liquidation", "ceased", "not_es")
_OUTCOMES = {
    "complete": ("complete", None),
    "partial": ("partial", None),
    "refusal": ("refusal", None),
    "non_contact": ("non_contact", None),
    "ineligible_liquidated": ("ineligible", "liquidation"),
    "ineligible_ceased": ("ineligible", "ceased"),
    "ineligible_not_es": ("ineligible", "not_es"),
    "unknown_eligibility": ("unknown_eligibility", None),
}
_ELIGIBILITY = {
    "complete": "eligible",
    "partial": "eligible",
    "refusal": "eligible",
    "non_contact": "eligible",
    "ineligible": "ineligible",
    "unknown_eligibility": "unknown",
}


def _note(problem: np.ndarray, mask: np.ndarray, text: str | np.ndarray) -> None:
    """Append ``text`` to the ``problem`` entries selected by ``mask`` (in place)."""
    joined = problem + np.where(problem == "", "", "; ").astype(object) + text
    problem[mask] = joined[mask]


def _row_labels(frame: pd.DataFrame, mask: np.ndarray) -> str:
    where = frame["source_row"] if "source_row" in frame.columns else pd.Series(frame.index)
    labels = [str(v) for v in np.asarray(where)[mask][:10]]
    more = int(mask.sum()) - len(labels)
    return ", ".join(labels) + (f" and {more} more" if more > 0 else "")


def assign_dispositions(
    frame: pd.DataFrame, responses: pd.DataFrame | None = None, *, key: str = "regon"
) -> pd.DataFrame:
    """Give every frame unit exactly one final disposition (AAPOR style).

    Parameters
    ----------
    frame : DataFrame
        The sampling frame with canonical columns ``sampled`` (yes/no) and
        ``contact_outcome`` (codebook codes: complete, partial, refusal,
        non_contact, ineligible_liquidated, ineligible_ceased, ineligible_not_es,
        unknown_eligibility; missing for units not sampled). Not modified.
    responses : DataFrame, optional
        Questionnaire responses. When given, a unit "has a response" if its
        ``key`` appears in ``responses[key]``; disagreements with the outcome
        are reported in ``problem``.
    key : str
        Column linking responses to frame units (the codebook's key, ``regon``).

    Returns
    -------
    DataFrame
        A copy of ``frame`` with added columns: ``disposition`` (categorical,
        categories in the order of the table above), ``ineligible_reason``
        (liquidation / ceased / not_es, else ``<NA>``), ``eligibility``
        (eligible / ineligible / unknown; ``<NA>`` when not sampled),
        ``respondent`` (complete or partial), ``has_response`` (``<NA>`` when no
        responses are given) and ``problem`` (text, ``<NA>`` when none); with a
        ``followed_up`` column (a follow-up of the units of unknown status, see
        :class:`~es_survey.TwoPhaseDesign`) also ``followup``: what the follow-up
        established (:data:`FOLLOWUP_STATUSES` or ``not_established``; ``<NA>`` for
        units not followed up). The disposition itself stays the fieldwork's.

    Raises
    ------
    DataError
        If ``sampled`` or ``contact_outcome`` is absent, ``sampled`` is missing
        for some unit, an outcome is not a codebook code, or ``key`` is absent.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "regon": ["1", "2", "3", "4"],
    ...     "sampled": pd.array([True, True, True, False], dtype="boolean"),
    ...     "contact_outcome": ["complete", "ineligible_ceased", "refusal", None]})
    >>> d = assign_dispositions(frame)
    >>> d[["regon", "disposition", "ineligible_reason", "eligibility"]]
      regon  disposition ineligible_reason eligibility
    0     1     complete               NaN    eligible
    1     2   ineligible            ceased  ineligible
    2     3      refusal               NaN    eligible
    3     4  not_sampled               NaN         NaN
    """
    for col in ("sampled", "contact_outcome"):
        if col not in frame.columns:
            raise DataError(
                f"the frame has no column {col!r}; expected the codebook's {col!r} "
                "(sampled = yes/no, contact_outcome = fieldwork outcome code)"
            )
    sampled_raw = frame["sampled"]
    if sampled_raw.isna().any():
        bad = sampled_raw.isna().to_numpy()
        raise DataError(
            f"column 'sampled' is missing in row(s) {_row_labels(frame, bad)}; "
            "expected true or false for every frame unit"
        )
    if not (
        pd.api.types.is_bool_dtype(sampled_raw.dtype)
        or all(isinstance(v, bool | np.bool_) for v in sampled_raw)
    ):
        raise DataError(
            f"column 'sampled' has dtype {sampled_raw.dtype}; expected yes/no values "
            "(dtype 'boolean')"
        )
    sampled = sampled_raw.astype(bool).to_numpy()
    outcome = frame["contact_outcome"].astype(object).where(frame["contact_outcome"].notna())
    outcome_arr = np.asarray(outcome, dtype=object)
    known = pd.notna(outcome_arr)
    invalid = known & ~np.isin(outcome_arr.astype(str), list(_OUTCOMES))
    if invalid.any():
        values = sorted({str(v) for v in outcome_arr[invalid]})
        raise DataError(
            f"column 'contact_outcome' has value(s) {', '.join(map(repr, values))} in "
            f"row(s) {_row_labels(frame, invalid)}; expected one of {', '.join(_OUTCOMES)}"
        )

    n = len(frame)
    disposition = np.full(n, "not_sampled", dtype=object)
    reason = np.full(n, None, dtype=object)
    problem = np.full(n, "", dtype=object)
    for code, (disp, why) in _OUTCOMES.items():
        hit = sampled & known & (outcome_arr == code)
        disposition[hit] = disp
        reason[hit] = why
    no_outcome = sampled & ~known
    disposition[no_outcome] = "unknown_eligibility"
    _note(problem, no_outcome, "sampled but contact_outcome is missing")
    _note(problem, ~sampled & known, "not sampled but contact_outcome=" + outcome_arr.astype(str))

    has_response = pd.array([pd.NA] * n, dtype="boolean")
    if responses is not None:
        for table, name in ((frame, "frame"), (responses, "responses")):
            if key not in table.columns:
                raise DataError(
                    f"the {name} has no key column {key!r}; expected it to link responses "
                    "to frame units"
                )
        linked = frame[key].isin(responses[key].dropna()).to_numpy(dtype=bool)
        has_response = pd.array(linked, dtype="boolean")
        is_resp = np.isin(disposition, ["complete", "partial"])
        _note(
            problem, sampled & linked & ~is_resp, "response linked but disposition=" + disposition
        )
        _note(
            problem,
            sampled & ~linked & is_resp,
            "disposition=" + disposition + " but no response linked",
        )
        _note(problem, ~sampled & linked, "not sampled but a response is linked")

    out = frame.copy()
    out["disposition"] = pd.Categorical(disposition, categories=list(DISPOSITIONS))
    out["ineligible_reason"] = pd.Categorical(reason, categories=list(_INELIGIBLE_REASONS))
    elig = np.array([_ELIGIBILITY.get(d) for d in disposition], dtype=object)
    out["eligibility"] = pd.Categorical(elig, categories=["eligible", "ineligible", "unknown"])
    out["respondent"] = np.isin(disposition, ["complete", "partial"])
    out["has_response"] = pd.Series(has_response, index=frame.index)
    no_problem = np.array(None, dtype=object)  # what ``np.where`` would make of ``None``
    out["problem"] = pd.Series(
        pd.array(np.where(problem == "", no_problem, problem), dtype="string"),
        index=frame.index,
    )
    if "followed_up" in frame.columns:  # a follow-up of the units of unknown status
        followed = frame["followed_up"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        found = (
            frame["followup_status"].astype("string")
            if "followup_status" in frame.columns
            else pd.Series(pd.NA, index=frame.index, dtype="string")
        )
        finding = found.fillna("not_established").where(pd.Series(followed, index=frame.index))
        out["followup"] = pd.Categorical(
            finding, categories=[*FOLLOWUP_STATUSES, "not_established"]
        )
    return out


def _require_columns(d: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    absent = [c for c in columns if c not in d.columns]
    if absent:
        raise DesignError(
            f"{what}: column(s) {', '.join(map(repr, absent))} not in the dispositions; "
            "pass the output of assign_dispositions() (and by= columns it carries)"
        )


def reconcile(dispositions: pd.DataFrame, *, strict: bool = True) -> pd.DataFrame:
    """Check that the disposition counts add up, and show the identities.

    Identities checked:

    1. frame units = sum over all seven dispositions (each unit has exactly one);
    2. frame units = sampled + not sampled;
    3. sampled = complete + partial + refusal + non_contact + ineligible +
       unknown_eligibility;
    4. ineligible = liquidation + ceased + not_es;
    5. respondents = complete + partial, where respondents are the sampled units
       with a linked response (when responses were given to
       :func:`assign_dispositions`; otherwise the ``respondent`` column).

    Parameters
    ----------
    dispositions : DataFrame
        Output of :func:`assign_dispositions`.
    strict : bool, default True
        If True, a failing identity raises. If False, the table is returned with
        the non-zero ``difference`` (for a report that shows the discrepancy).

    Returns
    -------
    DataFrame
        One row per identity, columns ``identity`` (text), ``left``, ``right``
        (counts) and ``difference`` (``left - right``; all zero when the counts
        reconcile).

    Raises
    ------
    DataError
        If ``strict`` and any identity fails; the message lists the failing
        identities with their counts and the units whose records contradict each
        other.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "sampled": pd.array([True, True, False], dtype="boolean"),
    ...     "contact_outcome": ["complete", "non_contact", None]})
    >>> reconcile(assign_dispositions(frame))[["identity", "left", "right"]]
                                                identity  left  right
    0                     frame = sum of all dispositions     3      3
    1                   frame = sampled + not_sampled     3      3
    2  sampled = complete + partial + refusal + non_...     2      2
    3          ineligible = liquidation + ceased + not_es     0      0
    4                  respondents = complete + partial     1      1
    """
    _require_columns(
        dispositions, ["disposition", "ineligible_reason", "sampled", "respondent"], "reconcile"
    )
    disp = dispositions["disposition"].astype(object)
    counts = {d: int((disp == d).sum()) for d in DISPOSITIONS}
    sampled = dispositions["sampled"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    reason = dispositions["ineligible_reason"].astype(object)
    if "has_response" in dispositions.columns and dispositions["has_response"].notna().any():
        has = dispositions["has_response"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        respondents = int((has & sampled).sum())
    else:
        respondents = int(dispositions["respondent"].astype(bool).sum())
    rows = [
        ("frame = sum of all dispositions", len(dispositions), sum(counts.values())),
        (
            "frame = sampled + not_sampled",
            len(dispositions),
            int(sampled.sum()) + counts["not_sampled"],
        ),
        (
            "sampled = " + " + ".join(_SAMPLE_DISPOSITIONS),
            int(sampled.sum()),
            sum(counts[d] for d in _SAMPLE_DISPOSITIONS),
        ),
        (
            "ineligible = " + " + ".join(_INELIGIBLE_REASONS),
            counts["ineligible"],
            sum(int((reason == r).sum()) for r in _INELIGIBLE_REASONS),
        ),
        ("respondents = complete + partial", respondents, counts["complete"] + counts["partial"]),
    ]
    table = pd.DataFrame(rows, columns=["identity", "left", "right"])
    table["difference"] = table["left"] - table["right"]
    failing = table[table["difference"] != 0]
    if strict and not failing.empty:
        lines = [f"{r.identity}: {r.left} != {r.right}" for r in failing.itertuples()]
        detail = ""
        if "problem" in dispositions.columns and dispositions["problem"].notna().any():
            flagged = dispositions["problem"].notna().to_numpy()
            detail = (
                f"; units with contradicting records (row {_row_labels(dispositions, flagged)}): "
                + "; ".join(dispositions.loc[flagged, "problem"].astype(str).unique()[:5])
            )
        raise DataError(
            "dispositions do not reconcile: "
            + "; ".join(lines)
            + detail
            + "; expected every identity to hold — correct the fieldwork record"
        )
    return table


def _counts(
    dispositions: pd.DataFrame, by: str | Sequence[str] | None, weight: str | None = None
) -> pd.DataFrame:
    """Sampled-unit counts (or weight sums) per disposition, overall or per group."""
    keys = [by] if isinstance(by, str) else list(by or [])
    _require_columns(dispositions, ["disposition", *keys, *([weight] if weight else [])], "rates")
    d = dispositions[dispositions["disposition"].astype(object) != "not_sampled"]
    for k in [*keys, *([weight] if weight else [])]:
        gap = d[k].isna().to_numpy()
        if gap.any():
            raise DataError(
                f"column {k!r} is missing for sampled unit(s) in row(s) {_row_labels(d, gap)}; "
                "expected a value for every sampled unit (rates would silently drop them)"
            )
    if weight:
        w = pd.to_numeric(d[weight], errors="coerce").astype(float)
        bad = ~np.isfinite(w.to_numpy()) | (w.to_numpy() < 0)
        if bad.any():
            raise DataError(
                f"column {weight!r} has non-numeric or negative weights in row(s) "
                f"{_row_labels(d, bad)}; expected design weights >= 0"
            )
    else:
        w = pd.Series(1, index=d.index)
    disp = pd.Categorical(d["disposition"].astype(object), categories=list(_SAMPLE_DISPOSITIONS))
    frame = pd.DataFrame({"_disp": disp, "_w": w.to_numpy()}, index=d.index)
    for k in keys:
        frame[k] = d[k].to_numpy()
    table = (
        frame.pivot_table(
            index=keys or None,
            columns="_disp",
            values="_w",
            aggfunc="sum",
            fill_value=0,
            observed=False,
            dropna=False,
        )
        if keys
        else frame.groupby("_disp", observed=False)["_w"].sum().to_frame().T
    )
    table = table.reindex(columns=list(_SAMPLE_DISPOSITIONS), fill_value=0)
    table.columns = list(_SAMPLE_DISPOSITIONS)
    return table.reset_index() if keys else table.reset_index(drop=True)


def eligibility_rate(
    dispositions: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    weight: str | None = None,
) -> pd.DataFrame:
    r"""Estimate the eligibility rate AAPOR "e" among sampled units of known eligibility.

    .. math:: e = \frac{I + P + R + NC + O}{I + P + R + NC + O + \text{ineligible}}

    the share of eligible units among the sampled units whose eligibility was
    established (the proportional-allocation estimate of AAPOR Standard
    Definitions, 2023). Counts are unweighted unless ``weight`` names a
    design-weight column; then each count is a sum of weights (use it when
    selection probabilities differ within a group). ``e`` is used for the units
    of unknown eligibility in RR3/RR4, REF2, CON2 and by the weighting step.

    Parameters
    ----------
    dispositions : DataFrame
        Output of :func:`assign_dispositions`.
    by : str or list of str, optional
        Column(s) of ``dispositions`` (e.g. ``"stratum"``): one rate per group.
    weight : str, optional
        Column of design weights; counts become weighted sums.

    Returns
    -------
    DataFrame
        Columns ``[*by, eligible, ineligible, unknown, e]``; ``e`` is NaN for a
        group with no unit of known eligibility.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"sampled": pd.array([True] * 5, dtype="boolean"),
    ...     "contact_outcome": ["complete", "refusal", "non_contact",
    ...                         "ineligible_ceased", "unknown_eligibility"]})
    >>> eligibility_rate(assign_dispositions(frame))
       eligible  ineligible  unknown     e
    0         3           1        1  0.75
    """
    c = _counts(dispositions, by, weight)
    keys = [col for col in c.columns if col not in _SAMPLE_DISPOSITIONS]
    out = c[keys].copy()
    out["eligible"] = c["complete"] + c["partial"] + c["refusal"] + c["non_contact"]
    out["ineligible"] = c["ineligible"]
    out["unknown"] = c["unknown_eligibility"]
    known = (out["eligible"] + out["ineligible"]).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["e"] = np.where(known > 0, out["eligible"].to_numpy(dtype=float) / known, np.nan)
    return out


_RATE_COLUMNS = (
    "RR1",
    "RR2",
    "RR3",
    "RR4",
    "RR5",
    "RR6",
    "COOP1",
    "COOP2",
    "COOP3",
    "COOP4",
    "REF1",
    "REF2",
    "REF3",
    "CON1",
    "CON2",
    "CON3",
)


def response_rates(
    dispositions: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    e: float | None = None,
    weight: str | None = None,
) -> pd.DataFrame:
    r"""Compute the AAPOR response, cooperation, refusal and contact rates.

    With I = complete, P = partial, R = refusal (incl. break-off), NC =
    non-contact, O = other (always 0 here), U = UH + UO = unknown eligibility and
    e = estimated share of eligible units among those of unknown eligibility
    (AAPOR Standard Definitions, 2023 edition):

    * RR1 = I / ((I+P) + (R+NC+O) + (UH+UO))
    * RR2 = (I+P) / ((I+P) + (R+NC+O) + (UH+UO))
    * RR3 = I / ((I+P) + (R+NC+O) + e(UH+UO))
    * RR4 = (I+P) / ((I+P) + (R+NC+O) + e(UH+UO))
    * RR5 = I / ((I+P) + (R+NC+O))
    * RR6 = (I+P) / ((I+P) + (R+NC+O))
    * COOP1 = I / ((I+P) + R + O);  COOP2 = (I+P) / ((I+P) + R + O)
    * COOP3 = I / ((I+P) + R);      COOP4 = (I+P) / ((I+P) + R)
    * REF1 = R / ((I+P) + (R+NC+O) + (UH+UO))
    * REF2 = R / ((I+P) + (R+NC+O) + e(UH+UO))
    * REF3 = R / ((I+P) + (R+NC+O))
    * CON1 = ((I+P) + R + O) / ((I+P) + (R+NC+O) + (UH+UO))
    * CON2 = ((I+P) + R + O) / ((I+P) + (R+NC+O) + e(UH+UO))
    * CON3 = ((I+P) + R + O) / ((I+P) + (R+NC+O))

    Ineligible units enter no rate. Counts are unweighted unless ``weight``
    names a design-weight column (then every count is a sum of weights, the
    weighted rates AAPOR recommends when selection probabilities differ).

    Parameters
    ----------
    dispositions : DataFrame
        Output of :func:`assign_dispositions`.
    by : str or list of str, optional
        Column(s) of ``dispositions``: one row of rates per group.
    e : float, optional
        Eligibility rate for the unknown-eligibility units, in [0, 1]. ``None``
        (default) estimates it per group with :func:`eligibility_rate`.
    weight : str, optional
        Column of design weights; counts become weighted sums.

    Returns
    -------
    DataFrame
        Columns ``[*by, I, P, R, NC, O, U, ineligible, e, RR1 … RR6, COOP1 …
        COOP4, REF1 … REF3, CON1 … CON3]``; a rate whose denominator is 0 is
        NaN.

    Raises
    ------
    DesignError
        If ``e`` is outside [0, 1] or a ``by`` column is absent.

    References
    ----------
    AAPOR (2023). Standard Definitions: Final Dispositions of Case Codes and
    Outcome Rates for Surveys, 10th ed.

    Examples
    --------
    >>> import pandas as pd
    >>> outcomes = ["complete"] * 6 + ["refusal"] * 2 + ["unknown_eligibility"] * 2
    >>> frame = pd.DataFrame({"sampled": pd.array([True] * 10, dtype="boolean"),
    ...                       "contact_outcome": outcomes})
    >>> r = response_rates(assign_dispositions(frame), e=0.5)
    >>> r[["RR1", "RR3", "COOP1", "REF1"]]
       RR1       RR3  COOP1  REF1
    0  0.6  0.666667   0.75   0.2
    """
    if e is not None and not (isinstance(e, int | float) and 0.0 <= float(e) <= 1.0):
        raise DesignError(f"e = {e!r}; expected a number between 0 and 1, or None to estimate it")
    c = _counts(dispositions, by, weight)
    keys = [col for col in c.columns if col not in _SAMPLE_DISPOSITIONS]
    out = c[keys].copy()
    i = c["complete"].to_numpy(dtype=float)
    p = c["partial"].to_numpy(dtype=float)
    r = c["refusal"].to_numpy(dtype=float)
    nc = c["non_contact"].to_numpy(dtype=float)
    o = np.zeros(len(c))
    u = c["unknown_eligibility"].to_numpy(dtype=float)
    if e is None:
        ev = eligibility_rate(dispositions, by, weight=weight)["e"].to_numpy(dtype=float)
    else:
        ev = np.full(len(c), float(e))
    as_count = (lambda x: x) if weight else (lambda x: x.astype(int))
    out["I"], out["P"], out["R"], out["NC"], out["O"], out["U"] = (
        as_count(i),
        as_count(p),
        as_count(r),
        as_count(nc),
        as_count(o),
        as_count(u),
    )
    out["ineligible"] = c["ineligible"].to_numpy()
    out["e"] = ev
    ip = i + p
    rnco = r + nc + o
    # with no unknown-eligibility units, e(UH+UO) = 0 whatever e is
    eu = np.where(u > 0, ev * u, 0.0)
    all_u = ip + rnco + u
    est_u = ip + rnco + eu
    known = ip + rnco

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)

    rates = {
        "RR1": ratio(i, all_u),
        "RR2": ratio(ip, all_u),
        "RR3": ratio(i, est_u),
        "RR4": ratio(ip, est_u),
        "RR5": ratio(i, known),
        "RR6": ratio(ip, known),
        "COOP1": ratio(i, ip + r + o),
        "COOP2": ratio(ip, ip + r + o),
        "COOP3": ratio(i, ip + r),
        "COOP4": ratio(ip, ip + r),
        "REF1": ratio(r, all_u),
        "REF2": ratio(r, est_u),
        "REF3": ratio(r, known),
        "CON1": ratio(ip + r + o, all_u),
        "CON2": ratio(ip + r + o, est_u),
        "CON3": ratio(ip + r + o, known),
    }
    for name in _RATE_COLUMNS:
        out[name] = rates[name]
    return out
