"""Classify entities by explicit rules, and list answers that contradict each other.

:func:`classify` adds one nullable boolean column per flag of a rule set
(``active``, ``earning``, ``employing``, ``employing_broad``,
``social_enterprise``, ``zaz_rule`` in the default rules) and a ``<flag>_reason``
column that names the clause that decided it, or why it could not be decided.
:func:`consistency_report` lists, entity by entity, the consistency checks of the
rule set that caught a contradiction and what :func:`classify` decided about it.

The rules are data (``data/raw/rules.toml``; see :mod:`es_survey.rules` for the
language and :meth:`es_survey.rules.RuleSet.to_frame` for a readable table).
The default rules, in short (``domain.md`` §2 and §7):

* ``active``: false if in liquidation; false by the GUS convention "no revenue
  and nobody employed" for a unit that does not declare itself active (a
  parameter makes it override the declaration); false if declared inactive with
  nothing reported in the later sections (the questionnaire routes such a unit
  past them); true on revenue, paid staff or (CIS/KIS/WTZ) participants; true
  if declared active; otherwise false.
* ``earning``: DG, odpłatna DPP or other paid activity ticked, or earned
  revenue > 0. ``employing``: UoP headcount > 0. ``employing_broad``: UoP or
  civil-law contracts.
* ``social_enterprise`` (entity types eligible for the 2022 Act status; CIS,
  KIS, ZAZ, WTZ are units of a founder and get false): earning, at least 3
  employees at ≥ ½ FTE, and for the reintegration type (the types listed in
  the ``ps_reintegration_types`` parameter, by default the spółdzielnia
  socjalna) at least 30% of employees at risk of social exclusion.
* ``zaz_rule`` (ZAZ only): disabled ≥ 70% and moderate degree ≤ 35% of employees.

CIS, KIS and WTZ report *participants*, who are not employees: participants
never count as employment; a CIS/KIS/WTZ reporting exactly as many employees as
participants gets ``employing`` = ``<NA>`` (reason
``participants_reported_as_employees``, also listed by the consistency report);
participants count as evidence of activity.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from es_survey.errors import DataError
from es_survey.rules import (
    Flag,
    RuleSet,
    _Evaluator,
    _to_series,
    _Val,
    _values_for,
    as_ruleset,
)

__all__ = ["classify", "consistency_report"]

_REPORT_COLUMNS = ["regon", "source_row", "check", "variables", "values", "decision"]


def _flag_columns(flag: Flag) -> list[str]:
    names: list[str] = []
    if flag.applies_to is not None:
        names.append("entity_type")
    for clause in flag.clauses:
        names.extend(n for n in clause.names if n not in names)
    return names


def _absent(df: pd.DataFrame, names: Sequence[str], ruleset: RuleSet) -> list[str]:
    """Return the codebook variables among ``names`` that ``df`` lacks."""
    return [
        n for n in dict.fromkeys(names) if ruleset.scope[n].role == "column" and n not in df.columns
    ]


def _check_columns(df: pd.DataFrame, ruleset: RuleSet, with_checks: bool) -> None:
    """Refuse data that lack variables the rules need, naming them all at once.

    A variable used only by clauses (or checks) marked ``optional`` may be absent.
    """
    lacking: list[str] = []
    found: list[str] = []
    for flag in ruleset.flags:
        names = ["entity_type"] if flag.applies_to is not None else []
        names += [n for c in flag.clauses if not c.optional for n in c.names]
        absent = _absent(df, names, ruleset)
        if absent:
            lacking.append(f"flag {flag.name!r}: {', '.join(absent)}")
            found += absent
    if with_checks:
        for check in ruleset.checks:
            absent = _absent(df, [*check.names, *check.variables], ruleset)
            if absent and not check.optional:
                lacking.append(f"check {check.name!r}: {', '.join(absent)}")
                found += absent
    if lacking:
        distinct = list(dict.fromkeys(found))
        raise DataError(
            f"the data lack {len(distinct)} variable(s) that the rules of {ruleset.source} use "
            f"({'; '.join(lacking)}); map each to a column of your file in the codebook "
            "(add its header to the variable's headers), or mark the clauses (and checks) "
            "that use it optional = true in the rule file: the clause is then unknown for "
            "every unit"
        )


def _resolve(choice: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (data, known) arrays for a resolution "unknown" | "false" | "true"."""
    if choice == "unknown":
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    return np.full(n, choice == "true"), np.ones(n, dtype=bool)


def _run_flag(
    flag: Flag, values: dict[str, _Val], ruleset: RuleSet, n: int
) -> tuple[_Val, np.ndarray]:
    """Evaluate one flag; return its values and an object array of reasons."""
    ev = _Evaluator(n, values, ruleset.scope)
    possible = {True: np.zeros(n, bool), False: np.zeros(n, bool), None: np.zeros(n, bool)}
    stopped = np.zeros(n, dtype=bool)
    decider = np.full(n, -1)
    contributed: dict[str, np.ndarray] = {}

    not_applicable = np.zeros(n, dtype=bool)
    na_reason = np.full(n, "", dtype=object)
    if flag.applies_to is not None:
        etype = values["entity_type"]
        inside = np.isin(etype.data.astype(str), np.asarray(flag.applies_to, dtype=str))
        not_applicable = etype.known & ~inside
        stopped |= not_applicable
        na_reason = np.where(
            not_applicable, "not applicable: entity_type " + etype.data.astype(str), ""
        ).astype(object)
        type_unknown = ~etype.known
        na_value = {"unknown": None, "false": False, "true": True}[flag.not_applicable]
        possible[na_value] |= type_unknown
        contributed["entity_type"] = type_unknown.copy()

    for k, clause in enumerate(flag.clauses):
        lacking = [c for c in clause.names if ruleset.scope[c].role == "column" and c not in values]
        if lacking:  # an optional clause whose variables the data lack: unknown throughout
            everyone = np.ones(n, dtype=bool)
            cond = _Val("bool", np.zeros(n, dtype=bool), ~everyone, {c: everyone for c in lacking})
        else:
            cond = ev.eval(clause.tree)
        open_rows = ~stopped
        true = open_rows & cond.known & cond.data
        unknown = open_rows & ~cond.known
        possible[clause.value] |= true | unknown
        decider[true] = k
        stopped |= true
        for name, mask in cond.blame.items():
            hit = unknown & mask
            contributed[name] = contributed.get(name, np.zeros(n, bool)) | hit
    rest = ~stopped
    possible[flag.otherwise] |= rest
    decider[rest] = len(flag.clauses)

    n_possible = possible[True].astype(int) + possible[False] + possible[None]
    determined = (n_possible == 1) & ~not_applicable
    undetermined = (n_possible > 1) & ~not_applicable

    data = np.zeros(n, dtype=bool)
    known = np.zeros(n, dtype=bool)
    data[determined] = possible[True][determined]
    known[determined] = ~possible[None][determined]

    reasons_by_clause = np.array(
        [c.reason for c in flag.clauses] + [flag.otherwise_reason], dtype=object
    )
    reason = np.full(n, "", dtype=object)
    reason[determined] = reasons_by_clause[decider[determined]]

    missing_list = np.full(n, "", dtype=object)
    for name, hit in contributed.items():
        missing_list = np.where(
            hit, missing_list + np.where(missing_list == "", "", ", ") + name, missing_list
        )
    miss_text = np.where(
        missing_list == "", "undetermined: division by zero", "missing: " + missing_list
    ).astype(object)
    if flag.when_missing != "unknown":
        miss_text = miss_text + f" (resolved {flag.when_missing})"
    reason[undetermined] = miss_text[undetermined]
    res_data, res_known = _resolve(flag.when_missing, n)
    data[undetermined] = res_data[undetermined]
    known[undetermined] = res_known[undetermined]

    na_data, na_known = _resolve(flag.not_applicable, n)
    data[not_applicable] = na_data[not_applicable]
    known[not_applicable] = na_known[not_applicable]
    reason[not_applicable] = na_reason[not_applicable]
    return _Val("bool", data & known, known), reason


def _run_flags(
    df: pd.DataFrame, ruleset: RuleSet, with_checks: bool = False
) -> tuple[dict[str, _Val], dict[str, np.ndarray]]:
    _check_columns(df, ruleset, with_checks)
    values: dict[str, _Val] = {}
    reasons: dict[str, np.ndarray] = {}
    for flag in ruleset.flags:
        needed = [c for c in _flag_columns(flag) if c not in values]
        # a variable the data lack is used only by optional clauses (_check_columns)
        columns = [c for c in needed if ruleset.scope[c].role == "column" and c in df.columns]
        values.update(
            _values_for(df, columns, ruleset.scope, f"flag {flag.name!r} of {ruleset.source}")
        )
        values[flag.name], reasons[flag.name] = _run_flag(flag, values, ruleset, len(df))
    return values, reasons


def classify(df: pd.DataFrame, rules: RuleSet | str | Path | None = None) -> pd.DataFrame:
    """Add one flag column and one reason column per rule to a copy of ``df``.

    Each flag is decided by the first of its clauses whose condition is true
    (``otherwise`` when none is). A unit whose result depends on a missing answer
    is undetermined and resolved by the flag's ``when_missing``; its reason reads
    ``"missing: <variables>"``. Entity types outside a flag's ``applies_to`` get
    its ``not_applicable`` value and the reason ``"not applicable: entity_type X"``.

    Parameters
    ----------
    df : DataFrame
        Responses (usually linked with the frame) with the codebook's canonical
        column names and nullable dtypes. Not modified.
    rules : RuleSet, str, Path or None
        A loaded rule set, a path to a TOML rule file, or ``None`` for the
        packaged default rules (``data/raw/rules.toml``).

    Returns
    -------
    DataFrame
        A new frame: every row and column of ``df``, then for each flag in rule
        order a ``boolean`` column ``<flag>`` (``<NA>`` = undetermined) and a
        ``string`` column ``<flag>_reason``.

    Raises
    ------
    DataError
        If ``df`` lacks a column a rule uses, a column has the wrong type, or
        ``df`` already has a column the classification would add.

    Examples
    --------
    >>> from es_survey.rules import blank_data
    >>> df = blank_data(1)
    >>> df.loc[0, ["entity_type", "in_liquidation", "revenue_total", "emp_uop"]] = [
    ...     "STOW", False, 12000.0, 0]
    >>> out = classify(df)
    >>> out[["active", "active_reason", "employing", "employing_reason"]]
       active     active_reason  employing  employing_reason
    0    True  revenue_or_staff      False  no_uop_employees
    >>> out.loc[0, "earning_reason"]
    'missing: runs_dg, runs_odplatna_dpp, runs_other_paid, revenue_earned'
    """
    ruleset = as_ruleset(rules)
    added = [c for f in ruleset.flags for c in (f.name, f"{f.name}_reason")]
    clash = [c for c in added if c in df.columns]
    if clash:
        raise DataError(
            f"the data already have column(s) {', '.join(map(repr, clash))} that classify "
            "adds; rename or drop them first"
        )
    values, reasons = _run_flags(df, ruleset)
    out = df.copy()
    for flag in ruleset.flags:
        out[flag.name] = _to_series(values[flag.name], df.index).array
        out[f"{flag.name}_reason"] = pd.array(reasons[flag.name], dtype="string")
    return out


def _format_value(value: object) -> str:
    if value is pd.NA or value is None or (isinstance(value, float) and np.isnan(value)):
        return "<NA>"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def consistency_report(df: pd.DataFrame, rules: RuleSet | str | Path | None = None) -> pd.DataFrame:
    """List the answers that contradict each other, entity by entity.

    Every ``[[checks]]`` entry of the rule set is a condition that is true when
    answers contradict each other (an unknown result is not reported). The
    default checks: declared inactive but reports staff; declared inactive but
    reports revenue; FTE above headcount; employees at ≥½ FTE above headcount;
    at-risk or disabled employees above headcount; no paid activity ticked but
    earned revenue; a CIS/KIS/WTZ whose employees equal its participants; revenue
    by source above total revenue.

    Parameters
    ----------
    df : DataFrame
        Data with canonical column names (not modified).
    rules : RuleSet, str, Path or None
        Rule set, path to a TOML rule file, or ``None`` for the packaged default.

    Returns
    -------
    DataFrame
        One row per (entity, check that caught it), in data order then check
        order, indexed by the row labels of ``df``. Columns: ``regon`` and
        ``source_row`` (copied from ``df``; ``<NA>`` if ``df`` lacks them),
        ``check`` (check name), ``variables`` (comma-separated names),
        ``values`` (``name=value`` pairs as text), ``decision`` (the flags named
        by the check, as ``flag=value (reason)``, as :func:`classify` decided
        them).

    Raises
    ------
    DataError
        If ``df`` lacks a column a rule or check uses.

    Examples
    --------
    >>> from es_survey.rules import blank_data
    >>> df = blank_data(1)
    >>> df.loc[0, ["entity_type", "in_liquidation", "emp_uop", "emp_uop_fte"]] = [
    ...     "FUND", False, 2, 3.5]
    >>> consistency_report(df)[["check", "values", "decision"]].iloc[0].tolist()
    ['fte_above_headcount', 'emp_uop_fte=3.5, emp_uop=2', 'employing=True (uop_employees)']
    """
    ruleset = as_ruleset(rules)
    values, reasons = _run_flags(df, ruleset, with_checks=True)
    n = len(df)
    ev = _Evaluator(n, values, ruleset.scope)
    parts = []
    for check in ruleset.checks:
        if _absent(df, [*check.names, *check.variables], ruleset):
            continue  # an optional check whose variables the data lack
        needed = [c for c in (*check.names, *check.variables) if c not in values]
        cols = [c for c in dict.fromkeys(needed) if ruleset.scope[c].role == "column"]
        values.update(
            _values_for(df, cols, ruleset.scope, f"check {check.name!r} of {ruleset.source}")
        )
        hit_val = ev.eval(check.tree)
        hits = np.flatnonzero(hit_val.known & hit_val.data)
        if hits.size == 0:
            continue
        shown = []
        for i in hits:
            pairs = []
            for var in check.variables:
                if var in ruleset.flag_names:
                    v = values[var]
                    pairs.append(f"{var}={bool(v.data[i]) if v.known[i] else '<NA>'}")
                else:
                    pairs.append(f"{var}={_format_value(df[var].iloc[i])}")
            decisions = []
            for fname in check.flags:
                v = values[fname]
                val = bool(v.data[i]) if v.known[i] else "<NA>"
                decisions.append(f"{fname}={val} ({reasons[fname][i]})")
            shown.append((i, ", ".join(pairs), "; ".join(decisions) or "no flag affected"))
        idx = [int(s[0]) for s in shown]
        part = pd.DataFrame(
            {
                "regon": df["regon"].iloc[idx].to_numpy() if "regon" in df else pd.NA,
                "source_row": (
                    df["source_row"].iloc[idx].to_numpy() if "source_row" in df else pd.NA
                ),
                "check": check.name,
                "variables": ", ".join(check.variables),
                "values": [s[1] for s in shown],
                "decision": [s[2] for s in shown],
                "_pos": idx,
            },
            index=df.index[idx],
        )
        parts.append(part)
    if not parts:
        empty = pd.DataFrame({c: pd.Series(dtype="object") for c in _REPORT_COLUMNS})
        return empty
    report = pd.concat(parts)
    report["_order"] = np.arange(len(report))
    report = report.sort_values(["_pos", "_order"], kind="stable")
    return report[_REPORT_COLUMNS]
