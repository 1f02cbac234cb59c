"""Validation that loses nothing: problems tables, linking, and the one-call loader.

Every row-level fault is collected into a *problems table* — a DataFrame with the
columns ``file, row, column, value, rule, severity, message`` (``row`` is the
record's ``source_row``: the row number a person sees in the file; ``column`` is
the header as written in the file). Records are never dropped and never
"fixed": each record of the frames returned by :func:`load_study` carries a
column ``problems`` with the semicolon-joined names of its error and warning
rules (``""`` when none). ``strict=True`` turns all errors into one
:class:`~es_survey.errors.DataError` listing every one of them.

Rules
-----
Each rule has a stable name (see :data:`RULES` for the severities):

=============================  ===============================================
``regon_checksum``             REGON not 9/14 digits or wrong check digit
``nip_checksum``               NIP not 10 digits or wrong check digit
``krs_format``                 KRS not 10 digits (KRS has no check digit)
``teryt_unknown``              powiat/gmina code not in TERYT on the reference date
``gmina_not_in_powiat``        the gmina lies in another powiat
``answer_not_in_codebook``     answer text not in the variable's answer set
``not_a_number``               a number (or whole number) cannot be read
``ambiguous_number``           a count written "12.000" / "12,000" (12 or 12 000?)
``out_of_range``               value outside the codebook's min/max (or the default
                               plausibility limit of its unit, see ``PLAUSIBLE_MAX``)
``fte_above_headcount``        ``emp_uop_fte`` > ``emp_uop``
``subgroup_above_total``       a "w tym" count above its total
``revenue_sources_exceed_total``  revenue by source adds up to > total
``duplicate_in_frame``         a key appears in more than one frame row
``duplicate_in_responses``     a key appears in more than one response
``response_not_in_frame``      a response whose key matches no frame unit
``key_missing``                a record without a key (cannot be linked)
``missing_answer``             (info) "brak danych", "nie wiem", ... with reason
``unmapped_column``            (info) a column not in the codebook, kept as text
=============================  ===============================================
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

import pandas as pd

from es_survey import regions
from es_survey.checksums import krs_problem, nip_problem, regon_problem
from es_survey.codebook import Codebook, Variable, load_codebook
from es_survey.errors import DataError, DesignError
from es_survey.io import (
    PROBLEM_COLUMNS,
    HeaderMap,
    Limits,
    Problem,
    problems_frame,
    read_frame,
    read_responses,
)

__all__ = [
    "PROBLEM_COLUMNS",
    "RULES",
    "RULE_LABELS",
    "LinkResult",
    "SurveyData",
    "check_frame",
    "check_responses",
    "flag_records",
    "link",
    "load_study",
    "problems_frame",
]

#: Severity of every rule. Errors make ``strict=True`` raise; info never flags a record.
RULES: Mapping[str, str] = MappingProxyType(
    {
        "regon_checksum": "error",
        "nip_checksum": "error",
        "krs_format": "error",
        "teryt_unknown": "error",
        "gmina_not_in_powiat": "error",
        "answer_not_in_codebook": "error",
        "not_a_number": "error",
        "ambiguous_number": "error",
        "out_of_range": "error",
        "fte_above_headcount": "error",
        "subgroup_above_total": "error",
        "revenue_sources_exceed_total": "error",
        "duplicate_in_frame": "error",
        "duplicate_in_responses": "error",
        "response_not_in_frame": "error",
        "key_missing": "error",
        "missing_answer": "info",
        "unmapped_column": "info",
    }
)

#: What each problem rule means, in Polish and English, for the printed report.
RULE_LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "regon_checksum": {"pl": "Błędna cyfra kontrolna REGON", "en": "REGON check digit wrong"},
        "nip_checksum": {"pl": "Błędna cyfra kontrolna NIP", "en": "NIP check digit wrong"},
        "krs_format": {"pl": "Numer KRS w złym formacie", "en": "KRS number malformed"},
        "teryt_unknown": {"pl": "Nieznany kod TERYT", "en": "Unknown TERYT code"},
        "gmina_not_in_powiat": {
            "pl": "Gmina spoza podanego powiatu",
            "en": "Gmina outside the given powiat",
        },
        "answer_not_in_codebook": {
            "pl": "Odpowiedź spoza listy odpowiedzi",
            "en": "Answer not in the codebook",
        },
        "not_a_number": {"pl": "Tekst w polu liczbowym", "en": "Not a number"},
        "ambiguous_number": {
            "pl": "Niejednoznaczny zapis liczby (np. 12.000)",
            "en": "Ambiguous number (e.g. 12.000)",
        },
        "out_of_range": {"pl": "Wartość poza dopuszczalnym zakresem", "en": "Value out of range"},
        "fte_above_headcount": {
            "pl": "Etaty powyżej liczby zatrudnionych",
            "en": "FTE above headcount",
        },
        "subgroup_above_total": {
            "pl": "Liczba „w tym” większa od ogółu",
            "en": "Subgroup above its total",
        },
        "revenue_sources_exceed_total": {
            "pl": "Przychody według źródeł większe od przychodów ogółem",
            "en": "Revenue by source above the total",
        },
        "duplicate_in_frame": {
            "pl": "Podmiot powtórzony w operacie",
            "en": "Unit repeated in the frame",
        },
        "duplicate_in_responses": {
            "pl": "Podmiot odpowiedział więcej niż raz",
            "en": "Unit answered more than once",
        },
        "response_not_in_frame": {
            "pl": "Odpowiedź podmiotu spoza operatu",
            "en": "Response from a unit not in the frame",
        },
        "key_missing": {"pl": "Brak identyfikatora podmiotu", "en": "Unit identifier missing"},
        "missing_answer": {
            "pl": "Brak odpowiedzi („nie wiem”, odmowa itp.)",
            "en": "No answer (don't know, refused, ...)",
        },
        "unmapped_column": {
            "pl": "Kolumna spoza książki kodów (zachowana jako tekst)",
            "en": "Column not in the codebook (kept as text)",
        },
        "extra_fields": {"pl": "Wiersz z nadmiarowymi polami", "en": "Row with extra fields"},
        "short_row": {"pl": "Wiersz z brakującymi polami", "en": "Row with missing fields"},
        "merged_cell": {"pl": "Komórka scalona z inną", "en": "Merged cell"},
        "formula_without_value": {
            "pl": "Formuła bez zapisanego wyniku",
            "en": "Formula without a saved result",
        },
    }
)

#: (part, total): a "w tym" count may not exceed its total.
SUBGROUPS: tuple[tuple[str, str], ...] = (
    ("emp_at_risk", "emp_uop"),
    ("emp_disabled", "emp_uop"),
    ("emp_uop_half_fte", "emp_uop"),
    ("emp_disabled_moderate", "emp_disabled"),
)
#: Revenue by source; their sum may not exceed ``revenue_total`` by more than
#: :data:`REVENUE_TOLERANCE` zł (parts are often rounded to whole złoty).
REVENUE_PARTS: tuple[str, ...] = (
    "revenue_public",
    "revenue_private",
    "revenue_earned",
    "revenue_other",
)
REVENUE_TOLERANCE = 1.0

_DEFAULT_FILE = {"frame": "<frame>", "responses": "<responses>"}


# ---------------------------------------------------------------------- small helpers
def _file(df: pd.DataFrame, source: str) -> str:
    return str(df.attrs.get("source_file", _DEFAULT_FILE.get(source, "<data>")))


def _rows(df: pd.DataFrame) -> list[int]:
    """Source rows; frames built in memory count as if written with one header row."""
    if "source_row" in df.columns:
        return [int(r) for r in df["source_row"]]
    return list(range(2, len(df) + 2))


def _header(df: pd.DataFrame, name: str) -> str:
    return str(df.attrs.get("headers", {}).get(name, name))


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def _isna(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _resolve(codebook: Codebook | str | Path | None) -> Codebook:
    return codebook if isinstance(codebook, Codebook) else load_codebook(codebook)


def _present(df: pd.DataFrame, cb: Codebook, source: str) -> list[Variable]:
    return [v for v in cb.variables if v.name in df.columns and v.in_source(source)]  # type: ignore[arg-type]


# ---------------------------------------------------------------------- value checks
def _value_problems(df: pd.DataFrame, cb: Codebook, source: str) -> list[Problem]:
    """Decode checks for frames built in memory (reader output is already clean)."""
    file, rows, out = _file(df, source), _rows(df), []
    for var in _present(df, cb, source):
        col = df[var.name]
        header = _header(df, var.name)
        if var.type in ("id", "text"):
            continue
        numeric = var.type in ("integer", "number", "year") and pd.api.types.is_numeric_dtype(col)
        boolean = var.type == "bool" and pd.api.types.is_bool_dtype(col)
        if boolean:
            continue
        codes = set(cb.codes(var)) if var.type == "category" else set()
        cache: dict[Any, Any] = {}
        values = col.tolist()
        if numeric:  # only values outside [min, max] (or fractional counts) can fail
            lo = -math.inf if var.min is None else var.min
            hi = math.inf if var.max is None else var.max
            outside = (col < lo) | (col > hi)
            if var.type != "number":
                outside = outside | (col % 1 != 0)
            bad = outside.fillna(False).to_numpy(dtype=bool)
            values = [v if b else None for v, b in zip(values, bad, strict=True)]
        for row, value in zip(rows, values, strict=True):
            if _isna(value):
                continue
            if numeric:
                issue = cb.decode(var, value)[1]
            elif var.type == "category" and value in codes:
                continue
            else:
                key = (type(value), value)
                if key not in cache:
                    cache[key] = cb.decode(var, value)[1]
                issue = cache[key]
            if issue is not None:
                out.append(
                    Problem(
                        file, row, header, _fmt(value), issue.rule, issue.severity, issue.message
                    )
                )
    return out


def _id_text(cb: Codebook, var: Variable, value: Any) -> str:
    decoded = cb.decode(var, value)[0]
    return str(value) if decoded is None else str(decoded)


def _id_problems(
    df: pd.DataFrame, cb: Codebook, source: str, terc: regions.Terc | str | Path | None = None
) -> list[Problem]:
    file, rows, out = _file(df, source), _rows(df), []
    checked = [v for v in _present(df, cb, source) if v.check is not None]
    values = {
        v.name: [None if _isna(x) else _id_text(cb, v, x) for x in df[v.name].tolist()]
        for v in checked
    }
    teryt = any(v.check in ("teryt_powiat", "teryt_gmina") for v in checked)
    reference = regions.load_terc(terc) if teryt and not isinstance(terc, regions.Terc) else terc
    faults: dict[tuple[str, str], tuple[str, str | None]] = {}  # (check, code) → fault
    for var in checked:
        header = _header(df, var.name)
        for row, x in zip(rows, values[var.name], strict=True):
            if x is None:
                continue
            key = (var.check or "", x)
            if key not in faults:
                faults[key] = _id_fault(key[0], x, reference)
            rule, message = faults[key]
            if message is not None:
                out.append(Problem(file, row, header, x, rule, RULES[rule], message))
    # gmina inside the powiat given for the same record
    pv = next((v for v in checked if v.check == "teryt_powiat"), None)
    gv = next((v for v in checked if v.check == "teryt_gmina"), None)
    if pv is not None and gv is not None:
        pheader, gheader = _header(df, pv.name), _header(df, gv.name)
        for row, p, g in zip(rows, values[pv.name], values[gv.name], strict=True):
            if p is None or g is None or g[:4] == p:
                continue
            if faults[("teryt_powiat", p)][1] is None and faults[("teryt_gmina", g)][1] is None:
                out.append(
                    Problem(
                        file,
                        row,
                        gheader,
                        g,
                        "gmina_not_in_powiat",
                        RULES["gmina_not_in_powiat"],
                        f"gmina {g!r} lies in powiat {g[:4]!r}, not in powiat {p!r} "
                        f"given in column {pheader!r}",
                    )
                )
    return out


def _id_fault(check: str, x: str, terc: regions.Terc | str | Path | None) -> tuple[str, str | None]:
    if check == "regon":
        return "regon_checksum", regon_problem(x)
    if check == "nip":
        return "nip_checksum", nip_problem(x)
    if check == "krs":
        return "krs_format", krs_problem(x)
    unit: Literal["powiat", "gmina"] = "powiat" if check == "teryt_powiat" else "gmina"
    return "teryt_unknown", regions.teryt_problem(x, unit, terc)


def _consistency_problems(df: pd.DataFrame, source: str) -> list[Problem]:
    file, rows, out = _file(df, source), _rows(df), []

    def numbers(name: str) -> list[float | None]:
        return [None if _isna(x) else float(x) for x in pd.to_numeric(df[name]).tolist()]

    if {"emp_uop_fte", "emp_uop"} <= set(df.columns):
        fte, heads = numbers("emp_uop_fte"), numbers("emp_uop")
        hf, hu = _header(df, "emp_uop_fte"), _header(df, "emp_uop")
        for row, f, n in zip(rows, fte, heads, strict=True):
            if f is not None and n is not None and f > n + 1e-9:
                out.append(
                    Problem(
                        file,
                        row,
                        hf,
                        _fmt(f),
                        "fte_above_headcount",
                        RULES["fte_above_headcount"],
                        f"FTE {_fmt(f)} ({hf!r}) is above the headcount {_fmt(n)} ({hu!r}); "
                        f"full-time equivalents cannot exceed the number of employees",
                    )
                )
    for part, total in SUBGROUPS:
        if not {part, total} <= set(df.columns):
            continue
        hp, ht = _header(df, part), _header(df, total)
        for row, p, t in zip(rows, numbers(part), numbers(total), strict=True):
            if p is not None and t is not None and p > t:
                out.append(
                    Problem(
                        file,
                        row,
                        hp,
                        _fmt(p),
                        "subgroup_above_total",
                        RULES["subgroup_above_total"],
                        f"{hp!r} = {_fmt(p)} is above its total {ht!r} = {_fmt(t)}",
                    )
                )
    parts = [p for p in REVENUE_PARTS if p in df.columns]
    if "revenue_total" in df.columns and parts:
        ht = _header(df, "revenue_total")
        part_values = [numbers(p) for p in parts]
        for i, (row, revenue) in enumerate(zip(rows, numbers("revenue_total"), strict=True)):
            given = [v for pv in part_values if (v := pv[i]) is not None]
            if revenue is None or not given:
                continue
            s = math.fsum(given)
            if s > revenue + REVENUE_TOLERANCE:
                names = ", ".join(repr(_header(df, p)) for p in parts)
                out.append(
                    Problem(
                        file,
                        row,
                        ht,
                        _fmt(revenue),
                        "revenue_sources_exceed_total",
                        RULES["revenue_sources_exceed_total"],
                        f"revenue by source adds up to {_fmt(s)} zł ({names}), above the total "
                        f"revenue {_fmt(revenue)} zł in {ht!r}",
                    )
                )
    return out


def _key_problems(
    df: pd.DataFrame, cb: Codebook, source: Literal["frame", "responses"]
) -> list[Problem]:
    key = cb.key
    if key not in df.columns:
        return []
    file, rows, out = _file(df, source), _rows(df), []
    header = _header(df, key)
    var = cb.variable(key)
    keys = [None if _isna(x) else _id_text(cb, var, x) for x in df[key].tolist()]
    where: dict[str, list[int]] = {}
    for row, k in zip(rows, keys, strict=True):
        if k is None:
            out.append(
                Problem(
                    file,
                    row,
                    header,
                    "",
                    "key_missing",
                    RULES["key_missing"],
                    f"{header} is blank; this {_record(source)} cannot be linked",
                )
            )
        else:
            where.setdefault(k, []).append(row)
    rule = "duplicate_in_frame" if source == "frame" else "duplicate_in_responses"
    for k, at in where.items():
        if len(at) > 1:
            listed = ", ".join(str(r) for r in at)
            for row in at:
                out.append(
                    Problem(
                        file,
                        row,
                        header,
                        k,
                        rule,
                        RULES[rule],
                        f"{header} {k!r} appears in {len(at)} {_record(source)}s "
                        f"(rows {listed}); each unit must appear once",
                    )
                )
    return out


def _record(source: str) -> str:
    return "frame row" if source == "frame" else "response"


def _table(problems: list[Problem]) -> pd.DataFrame:
    """Problems table without repeats, ordered by row (column-level problems first)."""
    table = problems_frame(dict.fromkeys(problems))
    return table.sort_values("row", kind="stable", na_position="first").reset_index(drop=True)


# ---------------------------------------------------------------------- public checks
def check_frame(
    frame: pd.DataFrame,
    codebook: Codebook | str | Path | None = None,
    *,
    terc: regions.Terc | str | Path | None = None,
) -> pd.DataFrame:
    """Collect every problem of a sampling frame.

    Includes the problems found while reading (``problems_of(frame)``), value
    checks for frames built in memory (answers, numbers, ranges), identifier
    checks (``regon_checksum``, ``nip_checksum``, ``krs_format``,
    ``teryt_unknown``, ``gmina_not_in_powiat``) and ``duplicate_in_frame`` /
    ``key_missing`` on the codebook's key.

    Parameters
    ----------
    frame : pandas.DataFrame
        A frame from :func:`~es_survey.io.read_frame`, or one built in memory with
        canonical column names (rows are then numbered from 2 as in a sheet).
    codebook : Codebook, str, Path or None
        The codebook; ``None`` uses the bundled one.
    terc : es_survey.regions.Terc, str, Path or None
        The TERC register that TERYT codes are checked against (codes of all 16
        voivodeships; :func:`es_survey.regions.load_terc`); ``None`` uses the bundled
        one, state 2020-01-01. ``teryt_unknown`` messages name its date.

    Returns
    -------
    pandas.DataFrame
        The problems table (columns ``file, row, column, value, rule, severity,
        message``). ``frame`` is not modified.

    Examples
    --------
    >>> f = pd.DataFrame({"regon": ["000331501", "000331502", "000331501"],
    ...                   "teryt_powiat": ["2604", "2699", "2661"]})
    >>> check_frame(f)[["row", "rule"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'row': 2, 'rule': 'duplicate_in_frame'}, {'row': 3, 'rule': 'regon_checksum'},
     {'row': 3, 'rule': 'teryt_unknown'}, {'row': 4, 'rule': 'duplicate_in_frame'}]
    """
    cb = _resolve(codebook)
    found = [
        *(Problem(*r) for r in frame.attrs.get("problems", ())),
        *_value_problems(frame, cb, "frame"),
        *_id_problems(frame, cb, "frame", terc),
        *_key_problems(frame, cb, "frame"),
    ]
    return _table(found)


def check_responses(
    responses: pd.DataFrame,
    codebook: Codebook | str | Path | None = None,
    *,
    terc: regions.Terc | str | Path | None = None,
) -> pd.DataFrame:
    """Collect every problem of the questionnaire responses (before linking).

    Includes the problems found while reading, value checks for frames built in
    memory, identifier checks, the consistency rules ``fte_above_headcount``,
    ``subgroup_above_total`` (see :data:`SUBGROUPS`) and
    ``revenue_sources_exceed_total`` (tolerance :data:`REVENUE_TOLERANCE` zł), and
    ``duplicate_in_responses`` / ``key_missing``. Matching against the frame is
    :func:`link`'s job.

    Parameters
    ----------
    responses : pandas.DataFrame
        From :func:`~es_survey.io.read_responses` or built in memory.
    codebook : Codebook, str, Path or None
        The codebook; ``None`` uses the bundled one.
    terc : es_survey.regions.Terc, str, Path or None
        The TERC register for TERYT codes, as in :func:`check_frame`.

    Returns
    -------
    pandas.DataFrame
        The problems table. ``responses`` is not modified.

    Examples
    --------
    >>> r = pd.DataFrame({"regon": ["291010180"], "emp_uop": [2], "emp_uop_fte": [2.5]})
    >>> check_responses(r).loc[0, "message"]
    "FTE 2.5 ('emp_uop_fte') is above the headcount 2 ('emp_uop'); full-time equivalents
    cannot exceed the number of employees"
    """
    cb = _resolve(codebook)
    found = [
        *(Problem(*r) for r in responses.attrs.get("problems", ())),
        *_value_problems(responses, cb, "responses"),
        *_id_problems(responses, cb, "responses", terc),
        *_consistency_problems(responses, "responses"),
        *_key_problems(responses, cb, "responses"),
    ]
    return _table(found)


@dataclass(frozen=True, eq=False)
class LinkResult:
    """Responses linked to their frame units.

    Attributes
    ----------
    linked : pandas.DataFrame
        One row per response, in response order: the response columns, then the
        frame columns (a name both have gets the suffix ``_frame`` on the frame's
        side, e.g. ``name_frame``, ``source_row_frame``), and ``in_frame`` (bool).
        Responses that match no frame unit, or more than one, keep missing frame
        columns — nothing is dropped.
    unmatched_responses : pandas.DataFrame
        The responses with no single frame unit (blank key, unknown key, or a key
        duplicated in the frame).
    duplicated_keys : pandas.DataFrame
        Keys found more than once in the frame or the responses: columns
        ``key, n_frame, n_responses, frame_rows, response_rows``.
    problems : pandas.DataFrame
        ``response_not_in_frame`` for every unknown key, and ``duplicate_in_frame``
        (in the responses file) for every response whose key matches several
        frame rows.
    """

    linked: pd.DataFrame
    unmatched_responses: pd.DataFrame
    duplicated_keys: pd.DataFrame
    problems: pd.DataFrame


def link(frame: pd.DataFrame, responses: pd.DataFrame, key: str = "regon") -> LinkResult:
    """Link every response to its frame unit by ``key``, reporting every mismatch.

    Parameters
    ----------
    frame, responses : pandas.DataFrame
        Canonical frames (e.g. from the readers). Neither is modified.
    key : str, default "regon"
        The column both carry.

    Returns
    -------
    LinkResult

    Raises
    ------
    DesignError
        If ``key`` is not a column of both frames.

    Examples
    --------
    >>> f = pd.DataFrame({"regon": ["291010180", "000001695"], "name": ["Gmina", "PŚk"]})
    >>> r = pd.DataFrame({"regon": ["000001695", "291010181"], "name": ["P", "X"]})
    >>> res = link(f, r)
    >>> res.linked[["regon", "name", "name_frame", "in_frame"]].to_dict("records")
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'regon': '000001695', 'name': 'P', 'name_frame': 'PŚk', 'in_frame': True},
     {'regon': '291010181', 'name': 'X', 'name_frame': nan, 'in_frame': False}]
    >>> res.problems["rule"].tolist()
    ['response_not_in_frame']
    """
    for df, what in ((frame, "frame"), (responses, "responses")):
        if key not in df.columns:
            raise DesignError(
                f"key={key!r} is not a column of the {what}; its columns are: "
                f"{', '.join(map(str, df.columns))}"
            )
    rfile, ffile = _file(responses, "responses"), _file(frame, "frame")
    header = _header(responses, key)
    fkeys = [None if _isna(x) else str(x) for x in frame[key].tolist()]
    rkeys = [None if _isna(x) else str(x) for x in responses[key].tolist()]
    frows, rrows = _rows(frame), _rows(responses)
    in_frame: dict[str, list[int]] = {}
    for k, row in zip(fkeys, frows, strict=True):
        if k is not None:
            in_frame.setdefault(k, []).append(row)
    in_resp: dict[str, list[int]] = {}
    for k, row in zip(rkeys, rrows, strict=True):
        if k is not None:
            in_resp.setdefault(k, []).append(row)

    problems, matched = [], []
    for k, row in zip(rkeys, rrows, strict=True):
        hits = in_frame.get(k, []) if k is not None else []
        matched.append(len(hits) == 1)
        if k is None:
            continue  # reported as key_missing by check_responses
        if not hits:
            hint = ""
            if key == "regon" and regon_problem(k) is not None:
                hint = " (it also fails the REGON check, so it is probably mistyped)"
            problems.append(
                Problem(
                    rfile,
                    row,
                    header,
                    k,
                    "response_not_in_frame",
                    RULES["response_not_in_frame"],
                    f"{header} {k!r} matches no unit of the frame {ffile}{hint}",
                )
            )
        elif len(hits) > 1:
            problems.append(
                Problem(
                    rfile,
                    row,
                    header,
                    k,
                    "duplicate_in_frame",
                    RULES["duplicate_in_frame"],
                    f"{header} {k!r} matches {len(hits)} frame rows "
                    f"({', '.join(map(str, hits))}); the response stays unlinked until the "
                    f"frame has one row per unit",
                )
            )

    unique_rows = [len(in_frame.get(k, [])) == 1 if k is not None else False for k in fkeys]
    right = frame.loc[unique_rows].copy()
    right.attrs = {}
    right[key] = pd.array([str(x) for x in right[key]], dtype="string")
    # unmatched responses get missing frame values: keep integer columns integer
    ints = [c for c in right.columns if pd.api.types.is_integer_dtype(right[c].dtype)]
    right = right.astype(dict.fromkeys(ints, "Int64"))
    left = responses.copy()
    left.attrs = {}
    left[key] = pd.array(rkeys, dtype="string")
    linked = left.merge(right, on=key, how="left", suffixes=("", "_frame"), sort=False)
    linked[key] = responses[key].array
    linked["in_frame"] = pd.array(matched, dtype="bool")
    linked.index = responses.index
    linked.attrs = {
        "source_file": rfile,
        "frame_file": ffile,
        "headers": HeaderMap(
            {**frame.attrs.get("headers", {}), **responses.attrs.get("headers", {})}
        ),
    }
    dup = sorted(
        k
        for k in set(in_frame) | set(in_resp)
        if len(in_frame.get(k, [])) > 1 or len(in_resp.get(k, [])) > 1
    )
    duplicated = pd.DataFrame(
        {
            "key": pd.array(dup, dtype="string"),
            "n_frame": [len(in_frame.get(k, [])) for k in dup],
            "n_responses": [len(in_resp.get(k, [])) for k in dup],
            "frame_rows": [", ".join(map(str, in_frame.get(k, []))) for k in dup],
            "response_rows": [", ".join(map(str, in_resp.get(k, []))) for k in dup],
        }
    )
    unmatched = responses.loc[[not m for m in matched]].copy()
    return LinkResult(linked, unmatched, duplicated, problems_frame(problems))


def flag_records(
    df: pd.DataFrame,
    problems: pd.DataFrame,
    *,
    source: Literal["frame", "responses"] | None = None,
    severities: tuple[str, ...] = ("error", "warning"),
) -> pd.DataFrame:
    """Return a copy of ``df`` with a column ``problems`` naming each record's rules.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame whose rows the problems refer to (matched on
        ``attrs["source_file"]`` and ``source_row``).
    problems : pandas.DataFrame
        A problems table.
    source : {"frame", "responses"} or None
        Only needed for frames built in memory (no ``attrs["source_file"]``): which
        placeholder file name (``<frame>`` or ``<responses>``) their problems carry.
        Default: ``attrs["source"]`` set by the readers, else ``"frame"``.
    severities : tuple of str, default ("error", "warning")
        Which severities flag a record.

    Returns
    -------
    pandas.DataFrame
        ``df`` plus ``problems`` (``string``): rule names joined with ``";"`` in
        order of first appearance, ``""`` when none.

    Examples
    --------
    >>> f = pd.DataFrame({"regon": ["000331501", "000331502"]})
    >>> flag_records(f, check_frame(f))["problems"].tolist()
    ['', 'regon_checksum']
    """
    file = _file(df, source or str(df.attrs.get("source", "frame")))
    sub = problems[
        (problems["file"] == file) & problems["severity"].isin(severities) & problems["row"].notna()
    ]
    by_row: dict[int, list[str]] = {}
    for row, rule in zip(sub["row"].tolist(), sub["rule"].tolist(), strict=True):
        rules = by_row.setdefault(int(row), [])
        if rule not in rules:
            rules.append(rule)
    flags = [";".join(by_row.get(r, [])) for r in _rows(df)]
    return df.assign(problems=pd.array(flags, dtype="string"))


# ---------------------------------------------------------------------- one call
@dataclass(frozen=True, eq=False)
class SurveyData:
    """A loaded and validated study: frame, responses, their link, and all problems.

    Attributes
    ----------
    frame : pandas.DataFrame
        The frame (canonical columns) plus ``problems``.
    responses : pandas.DataFrame
        The responses plus ``problems``.
    linked : pandas.DataFrame
        One row per response with its frame unit's columns (see :class:`LinkResult`),
        ``problems`` (the response's) and ``problems_frame`` (its frame unit's).
    problems : pandas.DataFrame
        Every problem of both files and of the link.
    codebook : Codebook
        The codebook used.
    unmatched_responses : pandas.DataFrame
        Responses without a single frame unit.
    duplicated_keys : pandas.DataFrame
        Keys repeated in the frame or the responses.
    """

    frame: pd.DataFrame
    responses: pd.DataFrame
    linked: pd.DataFrame
    problems: pd.DataFrame
    codebook: Codebook
    unmatched_responses: pd.DataFrame
    duplicated_keys: pd.DataFrame

    def summary(self) -> dict[str, Any]:
        r"""Count units, responses, links and problems.

        Returns
        -------
        dict
            ``frame_units``, ``sampled`` (units with ``sampled`` true, ``None`` if the
            frame has no such column), ``responses``, ``linked``,
            ``unmatched_responses`` (ints) and ``problems`` — a DataFrame with
            columns ``rule, severity, count`` sorted by severity then rule.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "f.csv").write_text(
        ...     "REGON,Typ podmiotu,TERYT powiat,W próbie\n291010180,fundacja,2604,tak\n",
        ...     encoding="utf-8")
        >>> _ = (d / "r.csv").write_text("REGON,Liczba członków\n291010180,12\n", encoding="utf-8")
        >>> s = load_study(d / "f.csv", d / "r.csv").summary()
        >>> s["frame_units"], s["sampled"], s["responses"], s["linked"], len(s["problems"])
        (1, 1, 1, 1, 0)
        """
        sampled = None
        if "sampled" in self.frame.columns:
            sampled = int(self.frame["sampled"].fillna(False).astype(bool).sum())
        counts = (
            self.problems.groupby(["rule", "severity"], observed=True)
            .size()
            .reset_index(name="count")
        )
        order = {"error": 0, "warning": 1, "info": 2}
        counts = counts.assign(_o=counts["severity"].map(order)).sort_values(["_o", "rule"])
        counts = counts.drop(columns="_o").reset_index(drop=True)
        return {
            "frame_units": len(self.frame),
            "sampled": sampled,
            "responses": len(self.responses),
            "linked": int(self.linked["in_frame"].sum()),
            "unmatched_responses": len(self.unmatched_responses),
            "problems": counts,
        }


def _check_some_linked(
    frame: pd.DataFrame,
    responses: pd.DataFrame,
    linked: pd.DataFrame,
    key: str,
    frame_path: str | Path,
    responses_path: str | Path,
) -> None:
    """Refuse a study where no response links to the frame, showing keys of both."""
    if len(responses) == 0 or bool(linked["in_frame"].any()):
        return

    def sample(df: pd.DataFrame) -> str:
        if key not in df.columns:
            return f"no column {key!r}"
        values = [str(v) for v in df[key].dropna().head(3)]
        return ", ".join(repr(v) for v in values) if values else "all blank"

    raise DataError(
        f"0 of {len(responses)} responses linked to the {len(frame)} units of the frame by "
        f"{key!r}: the keys differ (frame {Path(frame_path).name}: {sample(frame)}; responses "
        f"{Path(responses_path).name}: {sample(responses)}); check that both files hold the "
        f"same identifier (codebook [meta] key) and that it was not stored as a rounded number"
    )


def load_study(
    frame_path: str | Path,
    responses_path: str | Path,
    codebook: Codebook | str | Path | None = None,
    *,
    strict: bool = False,
    frame_sheet: str | int | None = None,
    responses_sheet: str | int | None = None,
    limits: Limits | None = None,
    terc: regions.Terc | str | Path | None = None,
) -> SurveyData:
    r"""Read, validate and link a study's frame and responses in one call.

    Parameters
    ----------
    frame_path, responses_path : str or Path
        The files (.xlsx, .csv or .sav).
    codebook : Codebook, str, Path or None
        The codebook; ``None`` uses the bundled one.
    strict : bool, default False
        If True, raise one :class:`~es_survey.errors.DataError` listing *all*
        error-severity problems (its ``problems`` attribute holds them as a table).
        If False, records are kept and flagged in their ``problems`` column.
    frame_sheet, responses_sheet : str, int or None
        Worksheet of an ``.xlsx`` input (name or 0-based number; default the first).
    limits : es_survey.io.Limits, optional
        Caps on the input files (default :data:`es_survey.io.DEFAULT_LIMITS`).
    terc : es_survey.regions.Terc, str, Path or None
        The TERC register for TERYT codes (a file of the frame's date,
        :func:`es_survey.regions.load_terc`); ``None`` uses the bundled one, state
        2020-01-01.

    Returns
    -------
    SurveyData

    Raises
    ------
    DataError
        On a structural fault of either file; when no response links to the frame
        ("0 of N responses linked"); or on any error when ``strict``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "f.csv").write_text("REGON,Typ podmiotu,TERYT powiat\n291010180,fundacja,2604\n",
    ...                            encoding="utf-8")
    >>> _ = (d / "r.csv").write_text("REGON,Liczba członków\n291010180,3\n291010181,12\n",
    ...                            encoding="utf-8")
    >>> study = load_study(d / "f.csv", d / "r.csv")
    >>> study.responses["problems"].tolist()
    ['', 'regon_checksum;response_not_in_frame']
    """
    cb = _resolve(codebook)
    frame = read_frame(frame_path, cb, sheet=frame_sheet, limits=limits)
    responses = read_responses(responses_path, cb, sheet=responses_sheet, limits=limits)
    first = link(frame, responses, key=cb.key)
    _check_some_linked(frame, responses, first.linked, cb.key, frame_path, responses_path)
    reference = regions.load_terc(terc) if not isinstance(terc, regions.Terc) else terc
    answers = pd.concat(
        [check_responses(responses, cb, terc=reference), first.problems], ignore_index=True
    )
    answers = answers.sort_values("row", kind="stable", na_position="first")
    problems = pd.concat([check_frame(frame, cb, terc=reference), answers], ignore_index=True)
    frame = flag_records(frame, problems)
    responses = flag_records(responses, problems)
    result = link(frame, responses, key=cb.key)
    if strict:
        errors = problems[problems["severity"] == "error"].reset_index(drop=True)
        if len(errors):
            # pandas-stubs types every field of an itertuples() row as "any scalar" (bytes,
            # Period, ...); these are the problems table's text columns and its Int64 row
            records = cast(Iterator[Any], errors.itertuples(index=False))
            lines = [
                f"  {r.file}, row {'-' if pd.isna(r.row) else r.row}, column {r.column!r}, "
                f"value {r.value!r}: {r.rule} — {r.message}"
                for r in records
            ]
            raise DataError(
                f"{len(errors)} error(s) in the study data (strict=True); correct them, or load "
                f"with strict=False and inspect .problems:\n" + "\n".join(lines),
                problems=errors,
            )
    return SurveyData(
        frame=frame,
        responses=responses,
        linked=result.linked,
        problems=problems,
        codebook=cb,
        unmatched_responses=result.unmatched_responses,
        duplicated_keys=result.duplicated_keys,
    )
