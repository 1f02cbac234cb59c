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

import csv
import datetime as dt
import io as _stdio
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

import pandas as pd

from es_survey.codebook import Codebook, Variable, load_codebook
from es_survey.errors import DataError, DesignError

__all__ = [
    "PROBLEM_COLUMNS",
    "HeaderMap",
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
    return _read(path, codebook, "frame", sheet)


def read_responses(
    path: str | Path,
    codebook: Codebook | str | Path | None = None,
    *,
    sheet: str | int | None = None,
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
    return _read(path, codebook, "responses", sheet)


# ---------------------------------------------------------------------- raw readers
class _Raw(NamedTuple):
    headers: list[str]
    alt_headers: list[str]  # SPSS variable labels ("" elsewhere)
    rows: list[list[Any]]
    row_numbers: list[int]
    letters: list[str]


def _column_letter(j: int) -> str:
    letters = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _cell(value: Any) -> Any:
    """Normalise a typed cell: dates to ISO text, blank strings kept."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value


def _finish(headers: list[Any], body: list[list[Any]], numbers: list[int], alt=None) -> _Raw:
    width = max([len(headers), *(len(r) for r in body)]) if body or headers else 0
    head = [("" if h is None else str(h).strip()) for h in headers] + [""] * (width - len(headers))
    rows, nums = [], []
    for row, num in zip(body, numbers, strict=True):
        cells = [_cell(v) for v in row] + [None] * (width - len(row))
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue  # an empty line is not a record; row numbers of the others are kept
        rows.append(cells)
        nums.append(num)
    alt_headers = list(alt) if alt is not None else [""] * width
    return _Raw(head, alt_headers, rows, nums, [_column_letter(j) for j in range(width)])


def _read_xlsx(path: Path, sheet: str | int | None) -> _Raw:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise DataError(
            f"{path}: cannot be read as an Excel .xlsx workbook ({exc}); open it in a "
            f"spreadsheet program and save it again as .xlsx, or export it as .csv"
        ) from None
    try:
        names = wb.sheetnames
        if sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise DataError(
                    f"{path}: sheet index {sheet} does not exist; the workbook has "
                    f"{len(names)} sheet(s): {', '.join(names)}"
                )
            ws = wb.worksheets[sheet]
        else:
            if sheet not in names:
                raise DataError(
                    f"{path}: no sheet named {sheet!r}; the workbook has sheets: "
                    f"{', '.join(repr(n) for n in names)}"
                )
            ws = wb[sheet]
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()  # some writers store a wrong sheet size; read all cells
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    if not rows:
        raise DataError(f"{path}: the sheet is empty; expected a header row in row 1")
    return _finish(rows[0], rows[1:], list(range(2, len(rows) + 1)))


def _decode_bytes(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1250")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: the text is neither UTF-8 nor Windows-1250 (cp1250) ({exc}); "
            f"save the file as 'CSV UTF-8'"
        ) from None


def _sniff_delimiter(text: str) -> str:
    """Pick ``;``, tab or ``,``: the one that splits the header and the next lines alike.

    A delimiter is *consistent* when the header has more than one field and every
    one of the first 50 records has as many fields as the header (blank lines
    aside). Consistent delimiters win, then the one giving the header most fields;
    ties go to ``;`` before tab before ``,`` (decimal commas make ``,`` the least
    likely delimiter of a Polish file).
    """
    lines = text.splitlines()[:51]
    best, best_score = ",", (False, 0, 0)
    for rank, delim in enumerate((";", "\t", ",")):
        records = [r for r in csv.reader(lines, delimiter=delim) if r]
        if not records:
            continue
        width = len(records[0])
        consistent = width > 1 and all(len(r) == width for r in records[1:])
        score = (consistent, width, -rank)
        if score > best_score:
            best, best_score = delim, score
    return best


def _read_csv(path: Path) -> _Raw:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc}); check the file permissions") from None
    text = _decode_bytes(path, data)
    if not text.strip():
        raise DataError(f"{path}: the file is empty; expected a header row in row 1")
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(_stdio.StringIO(text, newline=""), delimiter=delimiter)
    records: list[list[str]] = []
    lines: list[int] = []  # the physical line each record starts on
    last = 0
    try:
        for rec in reader:
            records.append(rec)
            lines.append(last + 1)
            _check_swallowed(path, rec, delimiter, last + 1, reader.line_num)
            last = reader.line_num
    except csv.Error as exc:
        raise DataError(
            f"{path}, row {reader.line_num}: not valid CSV ({exc}); check the quotes"
        ) from None
    body = [[c if c != "" else None for c in rec] for rec in records[1:]]
    return _finish(records[0], body, lines[1:])


def _check_swallowed(path: Path, rec: list[str], delimiter: str, start: int, end: int) -> None:
    """Refuse a record that swallowed other records: a stray quote read as a field.

    A quoted field may hold a line break (an address, say), but a field spanning
    lines that also holds the delimiter has eaten whole rows: a quote opened on
    line ``start`` and closed (or left open) at line ``end``.
    """
    if end <= start:
        return
    for value in rec:
        if "\n" in value and delimiter in value:
            raise DataError(
                f"{path}, line {start}: a quote opened on this line is closed only at line "
                f"{end}, so {end - start} line(s) were read as one field; every row of the "
                'file must be its own record: remove the stray quote (or double it, "")'
            )


class _UserMissing(NamedTuple):
    """An SPSS user-missing code without a value label."""

    code: Any


def _in_range(value: Any, spec: object) -> bool:
    if not isinstance(spec, Mapping):
        return False  # a discrete missing value, not a {"lo": ..., "hi": ...} range
    try:
        return bool(spec["lo"] <= value <= spec["hi"])
    except TypeError:
        return False


def _read_sav(path: Path) -> _Raw:
    import pyreadstat

    try:
        # user_missing=True keeps codes such as 99 = "brak danych": their labels then
        # map through the codebook's [missing] texts, so the reason is not lost
        df, meta = pyreadstat.read_sav(str(path), apply_value_formats=False, user_missing=True)
    except Exception as exc:  # pyreadstat raises its own error classes for bad files
        raise DataError(
            f"{path}: cannot be read as an SPSS .sav file ({type(exc).__name__}: {exc}); "
            f"save it again from SPSS/PSPP or export it as .csv"
        ) from None
    labels = meta.variable_value_labels
    ranges = meta.missing_ranges or {}
    columns = list(df.columns)
    body: list[list[Any]] = []
    for values in df.itertuples(index=False, name=None):
        row: list[Any] = []
        for col, value in zip(columns, values, strict=True):
            if value is None or (isinstance(value, float) and pd.isna(value)):
                row.append(None)
                continue
            vl = labels.get(col)
            if vl and value in vl:
                row.append(vl[value])
            elif any(_in_range(value, r) for r in ranges.get(col, ())):
                row.append(_UserMissing(value))
            elif isinstance(value, float) and value.is_integer():
                row.append(int(value))
            else:
                row.append(value)
        body.append(row)
    alt = [("" if lab is None else str(lab)) for lab in meta.column_labels]
    raw = _finish(columns, body, list(range(2, len(body) + 2)), alt=alt)
    return raw._replace(letters=list(columns))


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
    if suffix == ".xlsx":
        raw = _read_xlsx(file, sheet)
    elif suffix == ".csv":
        raw = _read_csv(file)
    else:
        raw = _read_sav(file)
    return _assemble(raw, cb, source, str(file))


def _where(raw: _Raw, j: int) -> str:
    header = raw.headers[j]
    return f"{header!r} (column {raw.letters[j]})" if raw.letters[j] != header else repr(header)


def _assemble(
    raw: _Raw, cb: Codebook, source: Literal["frame", "responses"], file: str
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
    for name, cols in mapped.items():
        if len(cols) > 1:
            shown = " and ".join(_where(raw, j) for j in cols)
            faults.append(
                f"columns {shown} both map to variable {name!r}; delete or rename one of them"
            )
    for var in cb.for_source(source):
        if var.required and var.name not in mapped:
            accepted = ", ".join(repr(h) for h in dict.fromkeys((*var.headers, var.name)))
            faults.append(
                f"required column for {var.name!r} ({var.label_en}) is missing; add a column "
                f"with one of the headers {accepted} (or add your header to `headers` of "
                f"variable {var.name!r} in {Path(cb.path).name})"
            )
    if faults:
        if len(faults) == 1:
            raise DataError(f"{file}: {faults[0]}")
        raise DataError(f"{file}: {len(faults)} structural faults:\n  " + "\n  ".join(faults))

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


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, _UserMissing):
        return _as_text(value.code)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _decode_column(
    cb: Codebook, var: Variable, raw: _Raw, j: int, file: str, header: str, problems: list[Problem]
) -> list[Any]:
    cache: dict[tuple[type, Any], Any] = {}
    out: list[Any] = []
    for row, num in zip(raw.rows, raw.row_numbers, strict=True):
        cell = row[j]
        if isinstance(cell, _UserMissing):
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
