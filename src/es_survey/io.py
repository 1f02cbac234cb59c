"""Readers for sampling frames and questionnaire responses (.xlsx, .csv, .sav).

Every reader returns a DataFrame with canonical column names and dtypes taken from
the codebook, and keeps where each record came from:

* column ``source_row`` — the row number a person sees in the file (the header is
  row 1, the first record row 2; for SPSS ``.sav`` files the case number + 1);
* ``df.attrs["source_file"]`` — the path read;
* ``df.attrs["headers"]`` — canonical name → the header as written in the file;
* ``df.attrs["problems"]`` — the problems found while reading (use
  :func:`problems_of` to get them as a DataFrame).

What happens to each cell
-------------------------
* a value that decodes cleanly becomes the typed value;
* a blank cell becomes missing, silently;
* a missing-answer text of the codebook's ``[missing]`` table ("brak danych",
  "nie wiem", "odmowa", ...) becomes missing and is listed in the problems with
  severity ``"info"`` and rule ``missing_answer`` — the message carries the reason,
  so "don't know" stays distinguishable from "blank";
* a value that cannot be used (answer text not in the codebook, unparseable
  number, value outside min/max) becomes missing and is listed with severity
  ``"error"`` (rules ``answer_not_in_codebook``, ``not_a_number``,
  ``out_of_range``) and the original text in ``value``.

Files are read as text (``.csv``) or as the cell values the file stores
(``.xlsx`` via openpyxl, ``.sav`` via pyreadstat) — pandas guesses nothing, so
leading zeros of REGON and TERYT codes survive; an identifier stored as a number
(which drops them) is zero-padded to its width. In ``.sav`` files value labels
become the answer texts, and SPSS user-missing codes keep their label (e.g.
99 = "brak danych") or, without one, become missing with reason ``user_missing``.

Columns not in the codebook are kept as text under their own header (and listed
with rule ``unmapped_column``, severity ``"info"``). Structural faults — file
missing or unreadable, unsupported type, a required column absent, two columns
mapping to one variable — raise one :class:`~es_survey.errors.DataError` naming
the file, the column(s) and the fix.

Why ``attrs["problems"]`` holds a :class:`ProblemLog` rather than a DataFrame:
pandas compares ``attrs`` with ``==`` when it concatenates or merges frames — a
DataFrame there makes ``frame.merge(responses)`` fail with "truth value of a
DataFrame is ambiguous" — and deep-copies ``attrs`` on every operation, which
made each column access ~45 times slower. The log compares by value and copies
for free; :func:`problems_of` (or ``.to_frame()``) gives the table.
"""

from __future__ import annotations

import datetime as dt
import io as _stdio
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

import pandas as pd

from es_survey.codebook import Codebook, Variable, load_codebook
from es_survey.errors import DataError, DesignError
from es_survey.rawread import DEFAULT_LIMITS, Limits, Raw, UserMissing, read_raw

__all__ = [
    "DEFAULT_LIMITS",
    "PROBLEM_COLUMNS",
    "HeaderMap",
    "Limits",
    "Problem",
    "ProblemLog",
    "problems_frame",
    "problems_of",
    "read_frame",
    "read_responses",
    "save_workbook",
]

PROBLEM_COLUMNS: tuple[str, ...] = (
    "file",
    "row",
    "column",
    "value",
    "rule",
    "severity",
    "message",
)
SUPPORTED = (".xlsx", ".csv", ".sav")


class Problem(NamedTuple):
    """One row of the problems table.

    Attributes
    ----------
    file : str
        The file the value comes from.
    row : int or None
        Its ``source_row`` (``None`` for a problem about a whole column).
    column : str
        The column header as written in the file.
    value : str
        The offending value as text (``""`` when not applicable).
    rule : str
        Stable rule name.
    severity : str
        ``"error"``, ``"warning"`` or ``"info"``.
    message : str
        What is wrong and what was expected.

    Examples
    --------
    >>> Problem("r.csv", 5, "NIP", "123", "nip_checksum", "error", "NIP '123' ...").row
    5
    """

    file: str
    row: int | None
    column: str
    value: str
    rule: str
    severity: str
    message: str


class ProblemLog(tuple[Problem, ...]):
    """The problems found while reading a file, kept in ``df.attrs["problems"]``.

    An immutable tuple of :class:`Problem` records. pandas deep-copies ``attrs`` on
    every operation and compares them when concatenating; this log copies for free
    and compares by value, so it neither slows pandas down nor breaks
    ``merge``/``concat`` (a DataFrame kept in ``attrs`` does both), and it is
    JSON-serialisable (pandas writes ``attrs`` to Parquet metadata as JSON). Get the
    table with :meth:`to_frame` or :func:`problems_of`.

    Parameters
    ----------
    records : iterable of Problem
        The problems.

    Examples
    --------
    >>> log = ProblemLog([Problem("f.csv", 2, "NIP", "1", "nip_checksum", "error", "...")])
    >>> len(log), log.to_frame().loc[0, "rule"]
    (1, 'nip_checksum')
    """

    __slots__ = ()

    def __new__(cls, records: Iterable[Problem | Sequence[Any]] = ()) -> ProblemLog:
        """Build the log from records."""
        return super().__new__(cls, (Problem(*r) for r in records))

    def __copy__(self) -> ProblemLog:
        """Return self: the log is immutable."""
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ProblemLog:
        """Return self: the log is immutable."""
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as the records."""
        return (ProblemLog, (tuple(self),))

    def __repr__(self) -> str:
        """Say how many problems there are and how to see them."""
        return f"ProblemLog({len(self)} problems; see .to_frame() or es_survey.io.problems_of(df))"

    def _repr_html_(self) -> str | None:
        # pandas-stubs does not declare DataFrame._repr_html_ (its __getattr__ gives a Series)
        return self.to_frame()._repr_html_()  # type: ignore[operator]

    def to_frame(self) -> pd.DataFrame:
        """Return the problems table (see :func:`problems_frame`)."""
        return problems_frame(self)


class HeaderMap(dict[str, str]):
    """Canonical name → header as written in the file (``df.attrs["headers"]``).

    A read-only dict, so pandas' deep copies of ``attrs`` cost nothing and it stays
    JSON-serialisable.

    Parameters
    ----------
    headers : Mapping[str, str]
        The mapping.

    Examples
    --------
    >>> h = HeaderMap({"regon": "Nr REGON"})
    >>> h["regon"]
    'Nr REGON'
    >>> h["regon"] = "REGON"
    Traceback (most recent call last):
    ...
    TypeError: HeaderMap is read-only; build a new one: HeaderMap({**old, ...})
    """

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("HeaderMap is read-only; build a new one: HeaderMap({**old, ...})")

    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __hash__(self) -> int:  # type: ignore[override]
        """Hash by value."""
        return hash(tuple(self.items()))

    def __copy__(self) -> HeaderMap:
        """Return self: the map is read-only."""
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> HeaderMap:
        """Return self: the map is read-only."""
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as a plain dict."""
        return (HeaderMap, (dict(self),))


def problems_frame(records: Iterable[Problem | Sequence[Any]] = ()) -> pd.DataFrame:
    """Build a problems table from records.

    Parameters
    ----------
    records : iterable of Problem
        The problems.

    Returns
    -------
    pandas.DataFrame
        Columns ``file, row, column, value, rule, severity, message``; ``row`` is
        ``Int64`` (missing for column-level problems), the others are ``string``.

    Examples
    --------
    >>> t = problems_frame([Problem("f.csv", 2, "NIP", "1", "nip_checksum", "error", "...")])
    >>> list(t.columns), t.loc[0, "row"]
    (['file', 'row', 'column', 'value', 'rule', 'severity', 'message'], np.int64(2))
    """
    rows = [tuple(r) for r in records]
    table = (
        pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS))
        if rows
        else pd.DataFrame({c: [] for c in PROBLEM_COLUMNS})
    )
    out: dict[str, pd.api.extensions.ExtensionArray] = {}
    for col in PROBLEM_COLUMNS:
        if col == "row":
            out[col] = pd.array([None if pd.isna(v) else int(v) for v in table[col]], dtype="Int64")
        else:
            out[col] = pd.array([None if v is None else str(v) for v in table[col]], dtype="string")
    return pd.DataFrame(out)


def problems_of(df: pd.DataFrame) -> pd.DataFrame:
    """Return the problems found while reading ``df`` as a DataFrame.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame returned by :func:`read_frame` or :func:`read_responses`.

    Returns
    -------
    pandas.DataFrame
        The problems table (empty if the frame carries none).

    Examples
    --------
    >>> problems_of(pd.DataFrame({"a": [1]})).shape
    (0, 7)
    """
    return problems_frame(df.attrs.get("problems", ()))


def read_frame(
    path: str | Path,
    codebook: Codebook | str | Path | None = None,
    *,
    sheet: str | int | None = None,
    limits: Limits | None = None,
) -> pd.DataFrame:
    r"""Read a sampling frame (register extract) into canonical columns.

    Parameters
    ----------
    path : str or Path
        An ``.xlsx``, ``.csv`` or ``.sav`` file with one header row.
    codebook : Codebook, str, Path or None
        The codebook, or a path to one; ``None`` uses the bundled codebook.
    sheet : str, int or None
        Worksheet name or 0-based index for ``.xlsx`` (default: the first sheet).
    limits : Limits, optional
        Caps on file size, cells, rows and columns (default :data:`DEFAULT_LIMITS`;
        see :class:`es_survey.rawread.Limits`).

    Returns
    -------
    pandas.DataFrame
        ``source_row`` first, then the codebook variables of source ``frame`` or
        ``both`` that the file has (codebook order), then unmapped columns as text.
        Dtypes: id/text ``string``, bool ``boolean``, integer/year ``Int64``,
        number ``Float64``, category ``category`` (codes in codebook order).
        See the module docstring for ``attrs``.

    Raises
    ------
    DataError
        On a structural fault (see the module docstring).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "frame.csv"
    >>> _ = p.write_text("REGON;Typ podmiotu;TERYT powiat\n291010180;fundacja;2604\n",
    ...                  encoding="utf-8")
    >>> f = read_frame(p)
    >>> f[["source_row", "regon", "entity_type", "teryt_powiat"]].to_dict("records")
    [{'source_row': 2, 'regon': '291010180', 'entity_type': 'FUND', 'teryt_powiat': '2604'}]
    """
    return _read(path, codebook, "frame", sheet, limits)


def read_responses(
    path: str | Path,
    codebook: Codebook | str | Path | None = None,
    *,
    sheet: str | int | None = None,
    limits: Limits | None = None,
) -> pd.DataFrame:
    r"""Read questionnaire responses into canonical columns.

    Parameters
    ----------
    path : str or Path
        An ``.xlsx``, ``.csv`` or ``.sav`` file with one header row.
    codebook : Codebook, str, Path or None
        The codebook, or a path to one; ``None`` uses the bundled codebook.
    sheet : str, int or None
        Worksheet name or 0-based index for ``.xlsx`` (default: the first sheet).
    limits : Limits, optional
        Caps on file size, cells, rows and columns (default :data:`DEFAULT_LIMITS`;
        see :class:`es_survey.rawread.Limits`).

    Returns
    -------
    pandas.DataFrame
        As :func:`read_frame`, with the variables of source ``responses`` or
        ``both``.

    Raises
    ------
    DataError
        On a structural fault (see the module docstring).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "responses.csv"
    >>> _ = p.write_text(
    ...     "REGON;Etaty przeliczeniowe (31.12);Liczba wolontariuszy\n"
    ...     "291010180;1 234,5;nie wiem\n", encoding="cp1250")
    >>> r = read_responses(p)
    >>> r.loc[0, "emp_uop_fte"], r.loc[0, "volunteers"]
    (np.float64(1234.5), <NA>)
    >>> problems_of(r)[["row", "rule", "severity"]].to_dict("records")
    [{'row': 2, 'rule': 'missing_answer', 'severity': 'info'}]
    """
    return _read(path, codebook, "responses", sheet, limits)


# ---------------------------------------------------------------------- assembling
def _resolve_codebook(codebook: Codebook | str | Path | None) -> Codebook:
    if isinstance(codebook, Codebook):
        return codebook
    return load_codebook(codebook)


def _read(
    path: str | Path,
    codebook: Codebook | str | Path | None,
    source: Literal["frame", "responses"],
    sheet: str | int | None,
    limits: Limits | None = None,
) -> pd.DataFrame:
    cb = _resolve_codebook(codebook)
    file = Path(path)
    suffix = file.suffix.lower()
    if not file.exists():
        raise DataError(f"{file}: file not found; check the path (working directory: {Path.cwd()})")
    if suffix not in SUPPORTED:
        raise DataError(
            f"{file}: unsupported file type {suffix or '(none)'!r}; save it as .xlsx, .csv or .sav"
        )
    if file.is_dir():
        raise DataError(f"{file}: is a directory, not a file; give the path of the file")
    if sheet is not None and suffix != ".xlsx":
        raise DesignError(
            f"sheet={sheet!r} applies to .xlsx workbooks only; {file} is a {suffix} file "
            f"(leave sheet unset)"
        )
    raw = read_raw(file, sheet, limits)
    return _assemble(raw, cb, source, str(file), file)


def _where(raw: Raw, j: int) -> str:
    header = raw.headers[j]
    return f"{header!r} (column {raw.letters[j]})" if raw.letters[j] != header else repr(header)


def _assemble(
    raw: Raw,
    cb: Codebook,
    source: Literal["frame", "responses"],
    file: str,
    path: Path | None = None,
) -> pd.DataFrame:
    mapped: dict[str, list[int]] = {}
    used_header: dict[int, str] = {}
    unmapped: list[int] = []
    problems: list[Problem] = []
    for j, header in enumerate(raw.headers):
        var = cb.match_header(header) if header else None
        shown = header
        if var is None and raw.alt_headers[j]:
            var = cb.match_header(raw.alt_headers[j])
            shown = raw.alt_headers[j] if var is not None else header
        if var is not None and var.in_source(source):
            mapped.setdefault(var.name, []).append(j)
            used_header[j] = shown
            continue
        if not header and all(row[j] is None for row in raw.rows):
            continue  # an empty, unnamed column (e.g. formatting left in a sheet)
        unmapped.append(j)
        if var is not None:
            why = f"it belongs to {var.source} variable {var.name!r}, not to a {source} file"
        else:
            why = "it is not in the codebook"
        problems.append(
            Problem(
                file,
                None,
                header or f"column {raw.letters[j]}",
                "",
                "unmapped_column",
                "info",
                f"column {header or raw.letters[j]!r} kept as text under its own header: {why}",
            )
        )

    faults = []
    missing: list[Variable] = []
    for name, cols in mapped.items():
        if len(cols) > 1:
            shown = " and ".join(_where(raw, j) for j in cols)
            faults.append(
                f"columns {shown} both map to variable {name!r}; delete or rename one of them"
            )
    for var in cb.for_source(source):
        if var.required and var.name not in mapped:
            missing.append(var)
            accepted = ", ".join(repr(h) for h in dict.fromkeys((*var.headers, var.name)))
            faults.append(
                f"required column for {var.name!r} ({var.label_en}) is missing; add a column "
                f"with one of the headers {accepted} (or add your header to `headers` of "
                f"variable {var.name!r} in {Path(cb.path).name})"
            )
    if faults:
        hint = _hint(raw, cb, source, path) if missing else ""
        read = f" [read: {raw.context}]" if raw.context else ""
        if len(faults) == 1:
            raise DataError(f"{file}: {faults[0]}{read}{hint}")
        raise DataError(
            f"{file}: {len(faults)} structural faults{read}{hint}:\n  " + "\n  ".join(faults)
        )
    for note in raw.notes:
        j = note.column
        header = raw.headers[j] if j < len(raw.headers) and raw.headers[j] else ""
        column = header or f"column {raw.letters[j] if j < len(raw.letters) else j + 1}"
        problems.append(
            Problem(file, note.row, column, note.value, note.rule, note.severity, note.message)
        )

    columns: dict[str, Any] = {"source_row": pd.array(raw.row_numbers, dtype="int64")}
    headers: dict[str, str] = {}
    for var in cb.variables:
        if var.name not in mapped:
            continue
        j = mapped[var.name][0]
        headers[var.name] = used_header[j]
        values = _decode_column(cb, var, raw, j, file, used_header[j], problems)
        columns[var.name] = _typed(cb, var, values)
    taken = set(columns)
    for j in unmapped:
        name = raw.headers[j] or f"column {raw.letters[j]}"
        while name in taken:
            name = f"{name} (unmapped)"
        taken.add(name)
        headers[name] = raw.headers[j] or name
        columns[name] = pd.array([_as_text(row[j]) for row in raw.rows], dtype="string")
    df = pd.DataFrame(columns)
    df.attrs["source_file"] = file
    df.attrs["source"] = source
    df.attrs["headers"] = HeaderMap(headers)
    df.attrs["problems"] = ProblemLog(problems)
    return df


def _header_score(cells: Sequence[Any], cb: Codebook, source: Literal["frame", "responses"]) -> int:
    """How many cells of a row are headers of ``source`` variables of the codebook."""
    score = 0
    for cell in cells:
        if isinstance(cell, str) and cell.strip():
            var = cb.match_header(cell)
            score += var is not None and var.in_source(source)
    return score


def _hint(
    raw: Raw,
    cb: Codebook,
    source: Literal["frame", "responses"],
    path: Path | None,
) -> str:
    """Where the missing header probably is: a row below the first, or another sheet."""
    found = _header_score(raw.headers, cb, source)
    best = (found, 0)
    for i, row in enumerate(raw.rows[:20]):
        best = max(best, (_header_score(row, cb, source), raw.row_numbers[i]))
    if best[0] > found and best[1]:
        return (
            f"; row {best[1]} looks like the header ({best[0]} known column names, against "
            f"{found} in the first row): delete the title rows above it"
        )
    if path is not None and path.suffix.lower() == ".xlsx":
        sheets = _sheet_scores(path, cb, source)
        good = [name for name, score in sheets.items() if score > found]
        if good:
            return (
                f"; sheet {good[0]!r} has the headers: read it with --{source}-sheet {good[0]!r} "
                f"(study.toml [inputs] {source}_sheet = {good[0]!r}, or "
                f"read_{source}(..., sheet={good[0]!r}))"
            )
    names = ", ".join(repr(h) for h in raw.headers[:8] if h)
    return f"; the first row holds {names or 'no names'}" + (
        ", ..." if len(raw.headers) > 8 else ""
    )


def _sheet_scores(
    path: Path, cb: Codebook, source: Literal["frame", "responses"]
) -> dict[str, int]:
    """Known column names in the first 20 rows of each sheet of a workbook."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        scores: dict[str, int] = {}
        for ws in wb.worksheets:
            rows = ws.iter_rows(max_row=20, max_col=200, values_only=True)
            scores[ws.title] = max((_header_score(r, cb, source) for r in rows), default=0)
        return scores
    finally:
        wb.close()


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, UserMissing):
        return _as_text(value.code)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _decode_column(
    cb: Codebook, var: Variable, raw: Raw, j: int, file: str, header: str, problems: list[Problem]
) -> list[Any]:
    cache: dict[tuple[type, Any], Any] = {}
    out: list[Any] = []
    for row, num in zip(raw.rows, raw.row_numbers, strict=True):
        cell = row[j]
        if isinstance(cell, UserMissing):
            code = _as_text(cell.code) or ""
            problems.append(
                Problem(
                    file,
                    num,
                    header,
                    code,
                    "missing_answer",
                    "info",
                    f"SPSS user-missing code {code} means no answer (reason: user_missing)",
                )
            )
            out.append(None)
            continue
        key = (type(cell), cell)
        if key not in cache:
            cache[key] = cb.decode(var, cell)
        value, issue = cache[key]
        if issue is not None:
            problems.append(
                Problem(
                    file,
                    num,
                    header,
                    _as_text(cell) or "",
                    issue.rule,
                    issue.severity,
                    issue.message,
                )
            )
        out.append(value)
    return out


def _typed(cb: Codebook, var: Variable, values: list[Any]) -> Any:
    if var.type in ("id", "text"):
        return pd.array(values, dtype="string")
    if var.type == "bool":
        return pd.array(values, dtype="boolean")
    if var.type in ("integer", "year"):
        return pd.array(values, dtype="Int64")
    if var.type == "number":
        return pd.array(values, dtype="Float64")
    return pd.Categorical(values, categories=cb.codes(var))


# ------------------------------------------------------------------ writing
FIXED_TIME: dt.datetime = dt.datetime(2024, 1, 1, 0, 0, 0)
"""Default time stamped into workbooks by :func:`save_workbook`."""


def save_workbook(book: Any, path: str | Path, *, time: dt.datetime | None = None) -> Path:
    """Save an openpyxl workbook so that the same content gives the same bytes.

    openpyxl writes the save time into ``docProps/core.xml`` (created, modified)
    and into every zip entry; both are replaced by ``time`` (default
    :data:`FIXED_TIME`), and the entries are written in openpyxl's order with
    fixed permissions, so a workbook built again from the same data is
    byte-identical.

    Parameters
    ----------
    book : openpyxl.Workbook
        The workbook (not modified).
    path : str or pathlib.Path
        Output ``.xlsx`` file (its folder must exist).
    time : datetime.datetime, optional
        Time recorded as created/modified (naive, read as UTC); e.g. the report date.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    DesignError
        If ``book`` is not an openpyxl Workbook or ``time`` is not a datetime.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from openpyxl import Workbook
    >>> book = Workbook()
    >>> book.active.append(["a", 1.5])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     a = save_workbook(book, pathlib.Path(tmp) / "a.xlsx").read_bytes()
    ...     b = save_workbook(book, pathlib.Path(tmp) / "b.xlsx").read_bytes()
    >>> a == b
    True
    """
    from openpyxl import Workbook

    if not isinstance(book, Workbook):
        raise DesignError(f"book must be an openpyxl Workbook, got {type(book).__name__}")
    stamp = FIXED_TIME if time is None else time
    if not isinstance(stamp, dt.datetime):
        raise DesignError(f"time={time!r} must be a datetime.datetime, e.g. datetime(2024, 1, 1)")
    iso = stamp.replace(tzinfo=None, microsecond=0).isoformat() + "Z"
    date_time = (
        max(stamp.year, 1980),
        stamp.month,
        stamp.day,
        stamp.hour,
        stamp.minute,
        stamp.second,
    )
    buffer = _stdio.BytesIO()
    book.save(buffer)
    out = _stdio.BytesIO()
    with (
        zipfile.ZipFile(_stdio.BytesIO(buffer.getvalue())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                text = re.sub(
                    r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rf"\g<1>{iso}\g<3>",
                    data.decode("utf-8"),
                )
                data = text.encode("utf-8")
            info = zipfile.ZipInfo(item.filename, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, data)
    target = Path(path)
    target.write_bytes(out.getvalue())
    return target
