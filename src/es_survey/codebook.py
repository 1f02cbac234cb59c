"""The codebook: canonical variables of an ES survey and how questionnaire files map to them.

A codebook is a TOML file (schema explained in the header comments of the bundled
``data/raw/codebook.toml``) with

* ``[meta]`` — study name, version, reference year and ``key`` (the variable that
  links responses to frame units);
* ``[missing]`` — answer texts that mean "no answer", each with its reason;
* ``[answers.<set>]`` — answer sets mapping answer texts to codes;
* ``[[variables]]`` — one table per canonical variable: ``name``, ``source``,
  ``type``, ``headers``, ``answers``, ``unit``, ``check``, ``required``, ``min``,
  ``max``, ``label_pl``, ``label_en``.

Headers and answers are matched after normalisation (:func:`normalize_text`):
Unicode NFC, no-break and thin spaces treated as blanks, surrounding blanks
stripped, inner runs of blanks collapsed, and case folded — so ``"TAK "``,
``"Tak"`` and ``"tak"`` are the same answer.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, TypeGuard

from es_survey.errors import DataError, DesignError

__all__ = [
    "CHECKS",
    "SOURCES",
    "TYPES",
    "Codebook",
    "Issue",
    "Variable",
    "load_codebook",
    "normalize_text",
    "parse_number",
]

VariableType = Literal["id", "text", "category", "bool", "integer", "number", "year"]
Source = Literal["frame", "responses", "both"]

TYPES: tuple[str, ...] = ("id", "text", "category", "bool", "integer", "number", "year")
SOURCES: tuple[str, ...] = ("frame", "responses", "both")
CHECKS: tuple[str, ...] = ("regon", "nip", "krs", "teryt_powiat", "teryt_gmina")

#: Digits an identifier of each ``check`` kind has; a number stored as a number in a
#: spreadsheet (which drops leading zeros) is zero-padded to this width.
ID_WIDTHS: Mapping[str, int] = MappingProxyType(
    {"nip": 10, "krs": 10, "teryt_powiat": 4, "teryt_gmina": 7}
)

_VARIABLE_KEYS = frozenset(
    {
        "name",
        "source",
        "type",
        "headers",
        "answers",
        "unit",
        "check",
        "required",
        "min",
        "max",
        "label_pl",
        "label_en",
        "missing",
    }
)
_NUMERIC_TYPES = frozenset({"integer", "number", "year"})
_BLANKS = re.compile(r"[\s\u00a0\u2007\u2009\u202f\u200a\u2002\u2003\u2004\u2005\u2006\u2008]+")
_GROUP_SPACE = "[ \u00a0\u2009\u202f]"
_RE_PLAIN = re.compile(r"^[+-]?(\d+)([.,]\d+)?$")
_RE_SPACE_GROUPS = re.compile(rf"^[+-]?\d{{1,3}}({_GROUP_SPACE}\d{{3}})+([.,]\d+)?$")
_RE_DOT_GROUPS = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
_RE_COMMA_GROUPS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


class Issue(NamedTuple):
    """A finding about one value, before the file, row and column are known.

    Attributes
    ----------
    rule : str
        Stable rule name, e.g. ``"answer_not_in_codebook"``.
    severity : str
        ``"error"``, ``"warning"`` or ``"info"``.
    message : str
        What is wrong and what was expected.
    """

    rule: str
    severity: str
    message: str


def normalize_text(text: object) -> str:
    r"""Normalise a header or answer text for matching.

    Applies Unicode NFC, turns every kind of blank (including the no-break space
    U+00A0 and the thin spaces U+2009 and U+202F) into one ordinary space,
    strips, collapses inner runs of blanks and folds case.

    Parameters
    ----------
    text : object
        The text; ``None`` becomes ``""``, other objects go through ``str``.

    Returns
    -------
    str
        The normalised text.

    Examples
    --------
    >>> normalize_text("  TAK\u00a0 ")
    'tak'
    >>> normalize_text("Liczba\u202f  członków")
    'liczba członków'
    """
    if text is None:
        return ""
    value = unicodedata.normalize("NFC", str(text))
    return _BLANKS.sub(" ", value).strip().casefold()


def parse_number(text: object) -> float | None:
    """Parse a number written the Polish or the plain way; ``None`` when it is not one.

    Accepted forms: ``1234.5`` and ``1234,5`` (one decimal separator), thousands
    grouped by a space, a no-break space or a thin space (``1 234,5``), by dots with a
    decimal comma (``1.234,5``, ``1.234.567``) or by commas with a decimal point
    (``1,234.5``). A single separator followed by digits is always the decimal
    separator, so ``1.234`` and ``1,234`` both read as 1.234. Python ``int`` and
    ``float`` values pass through; ``bool`` and non-finite numbers are not numbers.

    Parameters
    ----------
    text : object
        The cell value.

    Returns
    -------
    float or None
        The number, or ``None`` if the text is not a number in one of these forms.

    Examples
    --------
    >>> parse_number("1 234,5"), parse_number("1.234,5"), parse_number("1234.5")
    (1234.5, 1234.5, 1234.5)
    >>> parse_number("12 34") is None
    True
    """
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, int | float):
        value = float(text)
        return value if math.isfinite(value) else None
    raw = unicodedata.normalize("NFC", str(text)).strip().replace("\u2212", "-")
    if _RE_PLAIN.match(raw):
        return float(raw.replace(",", "."))
    if _RE_SPACE_GROUPS.match(raw):
        return float(re.sub(_GROUP_SPACE, "", raw).replace(",", "."))
    if _RE_DOT_GROUPS.match(raw):
        return float(raw.replace(".", "").replace(",", "."))
    if _RE_COMMA_GROUPS.match(raw):
        return float(raw.replace(",", ""))
    return None


#: Default upper limits of counts and amounts by unit, when the codebook gives no
#: ``max``: no social-economy entity employs 100,000 people or turns over 100 billion zł,
#: so a larger value is a keying error (``out_of_range``), not a record.
PLAUSIBLE_MAX: Mapping[str, float] = MappingProxyType(
    {"osoby": 100_000.0, "etaty": 100_000.0, "zł": 1e11}
)

# "12.000" or "12,000": 12 with three decimals, or twelve thousand with a separator?
_RE_AMBIGUOUS_THOUSANDS = re.compile(r"^[1-9]\d{0,2}[.,]\d{3}$")


def _number_text(value: float) -> str:
    """Write a number without a spurious ``.0`` (for messages and ids)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True)
class Variable:
    """One canonical variable of the codebook.

    Attributes
    ----------
    name : str
        Canonical snake_case name used by the library.
    source : {"frame", "responses", "both"}
        Which file carries it.
    type : {"id", "text", "category", "bool", "integer", "number", "year"}
        Value type; decides the pandas dtype of the column.
    headers : tuple of str
        Column headers (as written in files) that map to the variable.
    label_pl, label_en : str
        Labels for reports.
    answers : str or None
        Name of the answer set (``bool`` and ``category`` variables).
    unit : str or None
        Unit of counts and amounts.
    check : str or None
        Extra row-level check: ``regon``, ``nip``, ``krs``, ``teryt_powiat``,
        ``teryt_gmina``.
    required : bool
        A file of this variable's source without the column cannot be used.
    min, max : float or None
        Allowed range of numeric values.
    missing : tuple of (str, str) pairs, or None
        The variable's own missing-answer texts and reasons (``missing = {...}`` in
        its table; ``{}`` for none), used instead of the codebook's ``[missing]``
        list; None to use that list. A fieldwork variable whose answers include
        "odmowa" (refusal) thus keeps "odmowa" as an answer.

    Examples
    --------
    >>> v = load_codebook().variable("emp_uop")
    >>> v.type, v.unit, v.min, v.in_source("responses")
    ('integer', 'osoby', 0.0, True)
    """

    name: str
    source: Source
    type: VariableType
    headers: tuple[str, ...]
    label_pl: str = ""
    label_en: str = ""
    answers: str | None = None
    unit: str | None = None
    check: str | None = None
    required: bool = False
    min: float | None = None
    max: float | None = None
    missing: tuple[tuple[str, str], ...] | None = None

    def in_source(self, source: Literal["frame", "responses"]) -> bool:
        """Whether the variable belongs to files of ``source``.

        Parameters
        ----------
        source : {"frame", "responses"}
            The kind of file.

        Returns
        -------
        bool
            True if ``self.source`` is ``source`` or ``"both"``.

        Examples
        --------
        >>> load_codebook().variable("regon").in_source("frame")
        True
        """
        return self.source in (source, "both")


@dataclass(frozen=True)
class Codebook:
    """A loaded, checked codebook (see :func:`load_codebook`).

    Attributes
    ----------
    meta : Mapping
        The ``[meta]`` table (``name``, ``version``, ``reference_year``, ``key``).
    variables : tuple of Variable
        Variables in file order.
    answer_sets : Mapping[str, Mapping[str, object]]
        Answer set name → {answer text as written: code}.
    missing : Mapping[str, str]
        Missing-answer text as written → reason (``no_data``, ``dont_know``, ...).
    path : str
        The file the codebook was read from (for messages).

    Examples
    --------
    >>> cb = load_codebook()
    >>> cb.key, cb.match_header(" numer  regon ").name
    ('regon', 'regon')
    >>> cb.decode(cb.variable("opp"), "TAK ")
    (True, None)
    >>> cb.decode(cb.variable("opp"), "brak danych")[1].rule
    'missing_answer'
    """

    meta: Mapping[str, Any]
    variables: tuple[Variable, ...]
    answer_sets: Mapping[str, Mapping[str, Any]]
    missing: Mapping[str, str]
    path: str = "<codebook>"
    _by_name: Mapping[str, Variable] = field(init=False, repr=False, compare=False)
    _by_header: Mapping[str, Variable] = field(init=False, repr=False, compare=False)
    _answers_norm: Mapping[str, Mapping[str, Any]] = field(init=False, repr=False, compare=False)
    _missing_norm: Mapping[str, str] = field(init=False, repr=False, compare=False)
    _missing_own: Mapping[str, Mapping[str, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Build the lookup tables (the codebook was validated by the loader)."""
        by_name = {v.name: v for v in self.variables}
        by_header: dict[str, Variable] = {}
        for v in self.variables:
            for h in (v.name, *v.headers):
                by_header.setdefault(normalize_text(h), v)
        answers = {
            name: MappingProxyType({normalize_text(t): code for t, code in aset.items()})
            for name, aset in self.answer_sets.items()
        }
        missing = {normalize_text(t): reason for t, reason in self.missing.items()}
        own = {
            v.name: MappingProxyType({normalize_text(t): r for t, r in v.missing})
            for v in self.variables
            if v.missing is not None
        }
        object.__setattr__(self, "_missing_own", MappingProxyType(own))
        object.__setattr__(self, "_by_name", MappingProxyType(by_name))
        object.__setattr__(self, "_by_header", MappingProxyType(by_header))
        object.__setattr__(self, "_answers_norm", MappingProxyType(answers))
        object.__setattr__(self, "_missing_norm", MappingProxyType(missing))

    def __hash__(self) -> int:
        """Hash by file and variables (the mappings themselves are not hashable)."""
        return hash((self.path, self.variables))

    @property
    def key(self) -> str:
        """Name of the variable that links responses to frame units (``meta.key``)."""
        return str(self.meta.get("key", "regon"))

    @property
    def names(self) -> tuple[str, ...]:
        """Canonical variable names in codebook order."""
        return tuple(v.name for v in self.variables)

    def variable(self, name: str) -> Variable:
        """Return the variable called ``name``.

        Parameters
        ----------
        name : str
            Canonical name.

        Returns
        -------
        Variable

        Raises
        ------
        DesignError
            If the codebook has no such variable.

        Examples
        --------
        >>> load_codebook().variable("nip").check
        'nip'
        """
        try:
            return self._by_name[name]
        except KeyError:
            raise DesignError(
                f"variable {name!r} is not in the codebook {self.path}; "
                f"known variables: {', '.join(self.names)}"
            ) from None

    def for_source(self, source: Literal["frame", "responses"]) -> tuple[Variable, ...]:
        """Variables carried by files of ``source`` (including ``"both"``).

        Parameters
        ----------
        source : {"frame", "responses"}
            The kind of file.

        Returns
        -------
        tuple of Variable

        Examples
        --------
        >>> [v.name for v in load_codebook().for_source("frame")][:3]
        ['regon', 'krs', 'nip']
        """
        if source not in ("frame", "responses"):
            raise DesignError(f"source={source!r} is not allowed; use 'frame' or 'responses'")
        return tuple(v for v in self.variables if v.in_source(source))

    def match_header(self, text: object) -> Variable | None:
        r"""Return the variable a column header maps to, or ``None``.

        A header matches a variable's ``headers`` or its canonical ``name`` after
        :func:`normalize_text`.

        Parameters
        ----------
        text : object
            The header as written in the file.

        Returns
        -------
        Variable or None

        Examples
        --------
        >>> load_codebook().match_header("NR\u00a0REGON").name
        'regon'
        >>> load_codebook().match_header("Uwagi") is None
        True
        """
        return self._by_header.get(normalize_text(text))

    def codes(self, variable: Variable | str) -> list[Any]:
        """Codes of a variable's answer set, unique, in codebook order.

        Parameters
        ----------
        variable : Variable or str
            The variable or its name.

        Returns
        -------
        list
            Codes; empty for variables without an answer set.

        Examples
        --------
        >>> load_codebook().codes("market_range")
        ['local', 'regional', 'national', 'international']
        """
        var = self.variable(variable) if isinstance(variable, str) else variable
        if var.answers is None:
            return []
        return list(dict.fromkeys(self.answer_sets[var.answers].values()))

    def missing_reason(self, raw: object, variable: Variable | str | None = None) -> str | None:
        """Reason recorded for a missing-answer text, or ``None`` if it is not one.

        Parameters
        ----------
        raw : object
            The cell value; ``None`` is a blank cell.
        variable : Variable or str, optional
            The variable the cell belongs to: its own ``missing`` list, when it has
            one, replaces the codebook's ``[missing]`` list. A blank cell is always
            missing.

        Returns
        -------
        str or None

        Examples
        --------
        >>> load_codebook().missing_reason(" Nie wiem")
        'dont_know'
        """
        table = self._missing_table(variable)
        if raw is None or (isinstance(raw, float) and math.isnan(raw)):
            return table.get("", self._missing_norm.get("", "blank"))
        if isinstance(raw, str):
            norm = normalize_text(raw)
            if norm == "":
                return table.get("", self._missing_norm.get("", "blank"))
            return table.get(norm)
        return None

    def _missing_table(self, variable: Variable | str | None) -> Mapping[str, str]:
        """Return the missing-answer texts (normalised) that apply to ``variable``."""
        if variable is None:
            return self._missing_norm
        name = variable if isinstance(variable, str) else variable.name
        return self._missing_own.get(name, self._missing_norm)

    def decode(self, variable: Variable | str, raw: object) -> tuple[Any, Issue | None]:
        """Turn one cell into the variable's value.

        Parameters
        ----------
        variable : Variable or str
            The variable (or its name).
        raw : object
            The cell as read: text, or a number / bool / date from a typed file.

        Returns
        -------
        value : object
            The decoded value (``str`` for id/text, ``bool``, ``int`` for
            integer/year, ``float`` for number, the code for category), or ``None``
            when missing or undecodable.
        problem : Issue or None
            ``None`` when the value decoded cleanly or the cell is blank;
            an ``info`` issue ``missing_answer`` for a missing-answer text
            ("brak danych", "nie wiem", ... — the reason is in the message); an
            ``error`` (``answer_not_in_codebook``, ``not_a_number``,
            ``out_of_range``) when the value cannot be used.

        Examples
        --------
        >>> cb = load_codebook()
        >>> cb.decode("emp_uop_fte", "2,5")
        (2.5, None)
        >>> cb.decode("regon", 331501)
        ('000331501', None)
        >>> cb.decode("emp_uop", "-3")[1].rule
        'out_of_range'
        """
        var = self.variable(variable) if isinstance(variable, str) else variable
        if (
            isinstance(raw, str)
            and raw.isascii()
            and raw.isdigit()
            and var.type in ("id", "text")
            and raw not in self._missing_table(var)
        ):
            # fast path for identifiers and codes written as plain digits (every cell of a
            # national frame's REGON column): normalisation changes nothing in them
            return (raw.zfill(10) if var.check == "krs" else raw), None
        reason = self.missing_reason(raw, var)
        if reason is not None:
            if not isinstance(raw, str) or normalize_text(raw) == "":
                return None, None  # a blank cell
            return None, Issue(
                "missing_answer",
                "info",
                f"{str(raw).strip()!r} means no answer (reason: {reason})",
            )
        if var.type == "id":
            return self._decode_id(var, raw), None
        if var.type == "text":
            return (_number_text(raw) if _is_number(raw) else str(raw).strip()), None
        if var.type in ("bool", "category"):
            return self._decode_answer(var, raw)
        return self._decode_number(var, raw)

    # ------------------------------------------------------------------ helpers
    def _decode_id(self, var: Variable, raw: object) -> str:
        if _is_number(raw):
            text = _number_text(float(raw))
            if var.check == "regon":
                return text.zfill(9) if len(text) <= 9 else text.zfill(14)
            width = ID_WIDTHS.get(var.check or "")
            return text.zfill(width) if width else text
        text = unicodedata.normalize("NFC", str(raw)).strip()
        if var.check is not None:
            text = re.sub(r"[\s\u00a0\u2009\u202f-]", "", text)
            if var.check == "krs" and text.isdigit():
                text = text.zfill(10)
        return text

    def _decode_answer(self, var: Variable, raw: object) -> tuple[Any, Issue | None]:
        if var.type == "bool" and isinstance(raw, bool):
            return raw, None
        answers = self._answers_norm[var.answers or ""]
        key = _number_text(raw) if _is_number(raw) else normalize_text(raw)
        if key in answers:
            return answers[key], None
        if var.type == "category":
            for code in self.codes(var):
                if normalize_text(code) == key:
                    return code, None
        allowed = ", ".join(repr(t) for t in self.answer_sets[var.answers or ""])
        return None, Issue(
            "answer_not_in_codebook",
            "error",
            f"answer {str(raw).strip()!r} is not in answer set {var.answers!r} "
            f"(allowed: {allowed}); correct the cell or add the text to "
            f"[answers.{var.answers}] in {Path(self.path).name}",
        )

    def _decode_number(self, var: Variable, raw: object) -> tuple[Any, Issue | None]:
        value = parse_number(raw)
        if _is_number(raw) and value is not None:
            shown = _number_text(value)
        else:
            shown = str(raw).strip()
        if value is None:
            return None, Issue(
                "not_a_number",
                "error",
                f"{shown!r} is not a number; write digits with a decimal comma or "
                f"point, e.g. 1234,5 or 1 234,5",
            )
        if var.type == "integer" and not _is_number(raw):
            text = unicodedata.normalize("NFC", str(raw)).strip()
            if _RE_AMBIGUOUS_THOUSANDS.match(text):
                whole = int(text.replace(".", "").replace(",", ""))
                spaced = f"{whole:,}".replace(",", " ")
                return None, Issue(
                    "ambiguous_number",
                    "error",
                    f"{text!r} is ambiguous for a count of {var.unit or 'units'}: "
                    f"{_number_text(value)} or {whole}? Write the number without a "
                    f"separator ({whole}) or with a space ({spaced})",
                )
        if var.type in ("integer", "year") and not value.is_integer():
            return None, Issue(
                "not_a_number",
                "error",
                f"{shown!r} is not a whole number; {var.name} counts "
                f"{var.unit or 'units'} in whole numbers",
            )
        if (var.min is not None and value < var.min) or (var.max is not None and value > var.max):
            return None, Issue(
                "out_of_range",
                "error",
                f"{shown} is outside the allowed range {_range_text(var)} of {var.name}",
            )
        return (int(value) if var.type in ("integer", "year") else value), None


def _is_number(raw: object) -> TypeGuard[float]:
    # ``int`` is accepted where ``float`` is expected, so ``float`` covers both.
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _range_text(var: Variable) -> str:
    lo = "-inf" if var.min is None else _number_text(var.min)
    hi = "inf" if var.max is None else _number_text(var.max)
    return f"[{lo}, {hi}]"


# ---------------------------------------------------------------------- loading
def load_codebook(path: str | Path | None = None) -> Codebook:
    """Read and check a TOML codebook.

    Parameters
    ----------
    path : str, Path or None
        The codebook file; ``None`` loads the one shipped with the package
        (identical to ``data/raw/codebook.toml`` of the demo study).

    Returns
    -------
    Codebook

    Raises
    ------
    DataError
        If the file is missing or not valid TOML, or the codebook is malformed:
        unknown type, source or check; an answer set that does not exist; a
        bool/category variable without answers; duplicate variable names; a
        header claimed by two variables; min above max; a ``meta.key`` that is no
        variable. The message names the file, the variable and the fault.

    Examples
    --------
    >>> cb = load_codebook()
    >>> len(cb.variables) > 30, cb.meta["reference_year"]
    (True, 2023)
    """
    if path is None:
        ref = resources.files("es_survey").joinpath("data/codebook.toml")
        where = "es_survey/data/codebook.toml"
        text = ref.read_text(encoding="utf-8")
    else:
        file = Path(path)
        where = str(file)
        if not file.is_file():
            raise DataError(f"{where}: codebook file not found; check the path")
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{where}: codebook is not UTF-8 text ({exc}); save it as UTF-8"
            ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{where}: not valid TOML ({exc}); fix the syntax at that line") from None
    return _build(data, where)


#: Sections of a codebook file and keys of its ``[meta]`` table.
_SECTIONS = frozenset({"meta", "missing", "answers", "variables"})
_META_KEYS = frozenset({"name", "version", "reference_year", "key"})
#: Columns the library adds to the data it reads: a variable may not take their names.
RESERVED_NAMES = frozenset(
    {
        "source_row",
        "problems",
        "problems_frame",
        "in_frame",
        "responded",
        "eligible",
        "has_answers",
        "status_known",
        "frame_N_h",
        "in_phase2",
        "design_weight",
    }
)


def _nearest(key: str, allowed: frozenset[str]) -> str:
    near = difflib.get_close_matches(key, sorted(allowed), n=1)
    return f"; did you mean {near[0]!r}?" if near else f"; allowed: {sorted(allowed)}"


def _build(data: dict[str, Any], where: str) -> Codebook:
    for section in data:
        if section not in _SECTIONS:
            raise DataError(f"{where}: unknown section [{section}]{_nearest(section, _SECTIONS)}")
    meta = data.get("meta", {})
    missing = data.get("missing", {})
    answer_sets = data.get("answers", {})
    raw_vars = data.get("variables")
    if not isinstance(meta, dict) or not isinstance(missing, dict):
        raise DataError(f"{where}: [meta] and [missing] must be tables")
    for key in meta:
        if key not in _META_KEYS:
            raise DataError(f"{where}: [meta] unknown key {key!r}{_nearest(key, _META_KEYS)}")
    if not isinstance(answer_sets, dict) or not all(
        isinstance(s, dict) for s in answer_sets.values()
    ):
        raise DataError(f"{where}: [answers.<set>] must be tables of 'text' = code")
    if not isinstance(raw_vars, list) or not raw_vars:
        raise DataError(f"{where}: no [[variables]] defined; add at least one")
    for text, reason in missing.items():
        if not isinstance(reason, str):
            raise DataError(f"{where}: [missing] {text!r} must map to a reason text")
    for set_name, aset in answer_sets.items():
        seen: dict[str, Any] = {}
        for text, code in aset.items():
            norm = normalize_text(text)
            if norm in seen and seen[norm] != code:
                raise DataError(
                    f"{where}: answers {text!r} of [answers.{set_name}] maps to two codes "
                    f"({seen[norm]!r} and {code!r}) after normalisation"
                )
            seen[norm] = code
    variables: list[Variable] = []
    names: set[str] = set()
    header_owner: dict[str, str] = {}
    norm_missing = {normalize_text(t) for t in missing}
    for i, spec in enumerate(raw_vars, start=1):
        var = _variable(spec, i, where, answer_sets)
        own = norm_missing if var.missing is None else {normalize_text(t) for t, _ in var.missing}
        for text in answer_sets.get(var.answers or "", {}):
            if normalize_text(text) in own:
                place = "[missing]" if var.missing is None else "its own missing list"
                raise DataError(
                    f"{where}: variable {var.name!r}: answer {text!r} of [answers.{var.answers}] "
                    f"is also a missing text in {place}; keep it in one place (give the "
                    'variable its own list, e.g. missing = {"nie wiem" = "dont_know"}, to '
                    "keep the answer)"
                )
        if var.name in RESERVED_NAMES:
            raise DataError(
                f"{where}: variable {i} is named {var.name!r}, a name es_survey gives to a "
                "column it adds (row numbers, problems, links, fieldwork flags, weights); "
                "rename the variable"
            )
        if var.name in names:
            raise DataError(f"{where}: variable {var.name!r} is defined twice; rename one")
        names.add(var.name)
        for header in dict.fromkeys((var.name, *var.headers)):
            norm = normalize_text(header)
            owner = header_owner.get(norm)
            if owner is not None and owner != var.name:
                raise DataError(
                    f"{where}: variable {var.name!r}: header {header!r} is already claimed "
                    f"by variable {owner!r}; a header must map to one variable"
                )
            header_owner[norm] = var.name
        variables.append(var)
    key = meta.get("key", "regon")
    if key not in names:
        raise DataError(f"{where}: [meta] key = {key!r} is not a variable of the codebook")
    return Codebook(
        meta=MappingProxyType(dict(meta)),
        variables=tuple(variables),
        answer_sets=MappingProxyType(
            {k: MappingProxyType(dict(v)) for k, v in answer_sets.items()}
        ),
        missing=MappingProxyType(dict(missing)),
        path=where,
    )


def _variable(
    spec: object, index: int, where: str, answer_sets: Mapping[str, Mapping[str, Any]]
) -> Variable:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise DataError(f'{where}: [[variables]] entry {index} has no name; add name = "..."')
    name = spec["name"]
    here = f"{where}: variable {name!r}"
    unknown = sorted(set(spec) - _VARIABLE_KEYS)
    if unknown:
        raise DataError(
            f"{here}: unknown field {unknown[0]!r}{_nearest(unknown[0], _VARIABLE_KEYS)}"
        )
    vtype = spec.get("type")
    if vtype not in TYPES:
        raise DataError(f"{here}: unknown type {vtype!r}; use one of {', '.join(TYPES)}")
    source = spec.get("source")
    if source not in SOURCES:
        raise DataError(f"{here}: unknown source {source!r}; use one of {', '.join(SOURCES)}")
    check = spec.get("check")
    if check is not None and check not in CHECKS:
        raise DataError(f"{here}: unknown check {check!r}; use one of {', '.join(CHECKS)}")
    if check is not None and vtype != "id":
        raise DataError(f'{here}: check {check!r} needs type = "id", not {vtype!r}')
    headers = spec.get("headers", [])
    if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
        raise DataError(f"{here}: headers must be a list of texts")
    answers = spec.get("answers")
    if vtype in ("bool", "category") and answers is None:
        raise DataError(f'{here}: type {vtype!r} needs answers = "<answer set>"')
    if answers is not None:
        if answers not in answer_sets:
            raise DataError(
                f"{here}: answers = {answers!r} names an answer set that does not exist; "
                f"defined sets: {', '.join(answer_sets) or 'none'}"
            )
        codes = list(answer_sets[answers].values())
        if vtype == "bool" and not all(isinstance(c, bool) for c in codes):
            raise DataError(f"{here}: answer set {answers!r} must map to true/false for a bool")
        if vtype == "category" and not all(isinstance(c, str) for c in codes):
            raise DataError(f"{here}: answer set {answers!r} must map to text codes")
    lo, hi = spec.get("min"), spec.get("max")
    for bound, label in ((lo, "min"), (hi, "max")):
        if bound is not None:
            if vtype not in _NUMERIC_TYPES:
                raise DataError(f"{here}: {label} is only allowed for integer, number or year")
            if isinstance(bound, bool) or not isinstance(bound, int | float):
                raise DataError(f"{here}: {label} = {bound!r} is not a number")
    if lo is not None and hi is not None and lo > hi:
        raise DataError(f"{here}: min = {lo} is above max = {hi}")
    required = spec.get("required", False)
    if not isinstance(required, bool):
        raise DataError(f"{here}: required must be true or false, not {required!r}")
    own_missing = spec.get("missing")
    if own_missing is not None and (
        not isinstance(own_missing, dict)
        or not all(isinstance(r, str) for r in own_missing.values())
    ):
        raise DataError(
            f"{here}: missing must be a table of missing-answer texts and reasons, e.g. "
            'missing = {"nie wiem" = "dont_know"} (or {} for none); got '
            f"{own_missing!r}"
        )
    unit = spec.get("unit")
    if hi is None and vtype in ("integer", "number") and str(unit) in PLAUSIBLE_MAX:
        hi = PLAUSIBLE_MAX[str(unit)]  # a default plausibility limit; a codebook max overrides it
    return Variable(
        name=name,
        source=source,
        type=vtype,
        headers=tuple(headers),
        label_pl=str(spec.get("label_pl", "")),
        label_en=str(spec.get("label_en", "")),
        answers=answers,
        unit=unit,
        check=check,
        required=required,
        min=None if lo is None else float(lo),
        max=None if hi is None else float(hi),
        missing=None if own_missing is None else tuple(own_missing.items()),
    )
