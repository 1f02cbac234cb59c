"""Raw readers: a file's header and records as cells, with bounded work and evidence.

:mod:`es_survey.io` maps what these readers return onto the codebook. This module
reads untrusted files and guarantees, for each format:

* **Bounded work.** File size, unpacked size of a workbook, cell length, rows and
  columns are capped by :class:`Limits` (defaults in :data:`DEFAULT_LIMITS`); beyond a
  cap the file is refused with one :class:`~es_survey.errors.DataError` naming it.
  A workbook is checked *before* it is parsed: XML with a ``<!DOCTYPE`` (entity
  declarations: "billion laughs", external entities) is refused, and so is a part
  that unpacks to more than :attr:`Limits.max_unpacked_mb` or more than
  :attr:`Limits.max_ratio` times its packed size.
* **Every record accounted for.** Each record keeps the row number a person sees
  (the physical line of a CSV, the sheet row of a workbook). A CSV row with more
  fields than the header (``extra_fields``) or fewer (``short_row``), a workbook
  cell that holds a formula with no saved result (``formula_without_value``) and a
  cell blanked by a merged range (``merged_cell``) are listed as problems, never
  silently read as blank.
* **Decoding with evidence.** A CSV is read as UTF-8 (with or without BOM), UTF-16
  (with BOM, or without one when every other byte is zero) or Windows-1250. A file
  that holds both UTF-8 Polish letters and bytes that are not UTF-8 is mixed and is
  refused, naming the line and byte; so is a byte no encoding accepts.
* **What was read is said.** :attr:`Raw.context` ("UTF-8, ';'-separated", "sheet
  'Dane' of 'Opis', 'Dane'") is appended to structural errors by :mod:`es_survey.io`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io as _stdio
import itertools
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from es_survey.errors import DataError, DesignError

__all__ = ["DEFAULT_LIMITS", "Limits", "Raw", "read_raw"]


@dataclass(frozen=True)
class Limits:
    """Caps on the work one input file may cause.

    Parameters
    ----------
    max_file_mb : float, default 200
        Largest file read, in megabytes (10⁶ bytes) on disk.
    max_unpacked_mb : float, default 500
        Largest total size of the XML inside an ``.xlsx`` workbook, unpacked.
    max_ratio : float, default 100
        Largest unpacked/packed ratio of one workbook part over 1 MB (data compresses
        5–20 times; a "zip bomb" thousands of times).
    max_cell_chars : int, default 32767
        Longest cell, in characters (Excel's own limit).
    max_rows : int, default 1048576
        Most records (Excel's sheet limit).
    max_columns : int, default 16384
        Most columns (Excel's sheet limit).

    Examples
    --------
    >>> Limits(max_file_mb=50).max_file_mb
    50
    >>> Limits(max_rows=0)
    Traceback (most recent call last):
    ...
    es_survey.errors.DesignError: Limits.max_rows must be a positive number, got 0
    """

    max_file_mb: float = 200
    max_unpacked_mb: float = 500
    max_ratio: float = 100
    max_cell_chars: int = 32_767
    max_rows: int = 1_048_576
    max_columns: int = 16_384

    def __post_init__(self) -> None:
        """Refuse caps that are not positive numbers."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise DesignError(f"Limits.{f.name} must be a positive number, got {value!r}")


DEFAULT_LIMITS = Limits()
"""The caps used when a reader is given none."""


class Note(NamedTuple):
    """A problem found while reading, before the codebook is applied."""

    row: int | None
    column: int  # 0-based column index
    value: str
    rule: str
    severity: str
    message: str


class Raw(NamedTuple):
    """A file's cells: header, records and where each came from."""

    headers: list[str]
    alt_headers: list[str]  # SPSS variable labels ("" elsewhere)
    rows: list[list[Any]]
    row_numbers: list[int]
    letters: list[str]
    notes: list[Note]
    context: str  # what was read: encoding and delimiter, or the sheet


class UserMissing(NamedTuple):
    """An SPSS user-missing code without a value label."""

    code: Any


def column_letter(j: int) -> str:
    """Spreadsheet letter of the 0-based column ``j`` (0 → A, 26 → AA)."""
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


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def finish(
    headers: list[Any],
    body: list[list[Any]],
    numbers: list[int],
    *,
    alt: list[str] | None = None,
    notes: list[Note] | None = None,
    context: str = "",
    typed: bool = True,
) -> Raw:
    """Pad records to one width; drop blank records (keeping the others' numbers).

    Trailing blank cells do not widen the table, so one stray cell far to the right
    adds one column, not a million blank rows of it. ``typed=False`` (text cells of a
    CSV) skips the conversion of dates to ISO text.
    """
    kept: list[list[Any]] = []
    nums: list[int] = []
    for row, num in zip(body, numbers, strict=True):
        if all(_blank(c) for c in row):
            continue  # an empty line is not a record; row numbers of the others are kept
        end = len(row)
        while end and row[end - 1] is None:
            end -= 1
        kept.append([_cell(v) for v in row[:end]] if typed else row[:end])
        nums.append(num)
    head_end = len(headers)
    while head_end and _blank(headers[head_end - 1]):
        head_end -= 1
    width = max([head_end, *(len(r) for r in kept)]) if kept or head_end else 0
    head = [("" if h is None else str(h).strip()) for h in headers[:width]]
    head += [""] * (width - len(head))
    rows = [r + [None] * (width - len(r)) for r in kept]
    alt_headers = list(alt)[:width] if alt is not None else [""] * width
    alt_headers += [""] * (width - len(alt_headers))
    letters = [column_letter(j) for j in range(width)]
    return Raw(head, alt_headers, rows, nums, letters, list(notes or ()), context)


def _too_big(path: Path, limits: Limits) -> None:
    size = path.stat().st_size
    if size > limits.max_file_mb * 1e6:
        raise DataError(
            f"{path}: the file has {size / 1e6:,.1f} MB, more than the limit of "
            f"{limits.max_file_mb:g} MB; raise it with Limits(max_file_mb=...) "
            f"(study.toml [limits] max_file_mb) if the file is genuine"
        )


def _cell_too_long(path: Path, where: str, length: int | None, limits: Limits) -> DataError:
    size = f"of {length:,} characters, more than" if length is not None else "longer than"
    return DataError(
        f"{path}, {where}: a cell {size} the limit of "
        f"{limits.max_cell_chars:,} characters (Excel's own); no frame or questionnaire "
        f"value is that long: check the file (raise Limits(max_cell_chars=...) only if "
        f"it is genuine)"
    )


# ----------------------------------------------------------------------------- XLSX
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\s+ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")
_CELL = re.compile(rb"<(?:\w+:)?c[\s>]")
_CELL_REF = re.compile(rb"<(?:\w+:)?c r=\"([A-Z]{1,3})\d")
_ROW = re.compile(rb"<(?:\w+:)?row[\s>]")
_ROW_REF = re.compile(rb"<(?:\w+:)?row r=\"(\d{1,7})\"")
_PLAIN_REF = re.compile(rb"<c r=\"([A-Z]{1,3})\d")
_PLAIN_ROW_REF = re.compile(rb"<row r=\"(\d{1,7})\"")


class _SheetScan(NamedTuple):
    has_formula: bool
    merges: list[tuple[int, int, int, int]]  # first col, first row, last col, last row (1-based)
    cells: int  # cells stored in the sheet's XML
    dense: int  # cells from A1 to the last row and column (-1: unknown, a cell without ref)


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.decode("ascii"):
        n = n * 26 + ord(ch) - 64
    return n


def _scan_workbook(path: Path, limits: Limits) -> dict[str, _SheetScan]:
    """Check a workbook's zip before parsing it; return formulas and merges by sheet part."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DataError(
            f"{path}: cannot be read as an Excel .xlsx workbook ({exc}); open it in a "
            f"spreadsheet program and save it again as .xlsx, or export it as .csv"
        ) from None
    scans: dict[str, _SheetScan] = {}
    with archive:
        infos = archive.infolist()
        unpacked = sum(i.file_size for i in infos)
        if unpacked > limits.max_unpacked_mb * 1e6:
            raise DataError(
                f"{path}: the workbook unpacks to {unpacked / 1e6:,.0f} MB, more than the "
                f"limit of {limits.max_unpacked_mb:g} MB; export the sheet as .csv, or raise "
                f"Limits(max_unpacked_mb=...) (study.toml [limits]) if the file is genuine"
            )
        for info in infos:
            if info.file_size > 1e6 and info.file_size > limits.max_ratio * max(
                info.compress_size, 1
            ):
                raise DataError(
                    f"{path}: part {info.filename} unpacks "
                    f"{info.file_size / max(info.compress_size, 1):,.0f}"
                    f" times its packed size (limit {limits.max_ratio:g}); a workbook of data "
                    f"does not compress like that: it is refused as a possible 'zip bomb'"
                )
            name = info.filename
            if not name.endswith((".xml", ".rels", ".vml")):
                continue
            try:
                with archive.open(info) as part:
                    scan = _scan_part(part, name.startswith("xl/worksheets/"))
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise DataError(
                    f"{path}: part {name} of the workbook is damaged ({exc}); open it in a "
                    f"spreadsheet program and save it again, or export it as .csv"
                ) from None
            if scan is None:
                raise DataError(
                    f"{path}: part {name} declares a DOCTYPE or XML entities, which no "
                    f"spreadsheet program writes (a way to attack XML readers); the file is "
                    f"refused: save it again from Excel or LibreOffice, or export it as .csv"
                )
            if name.startswith("xl/worksheets/"):
                scans[name] = scan
    return scans


def _scan_part(part: Any, is_sheet: bool) -> _SheetScan | None:
    """Stream one XML part: None if it declares a DOCTYPE; else what a sheet holds.

    For a sheet: whether it has formulas, its merged ranges, how many cells it stores
    and its dense size (last row × last column, from the cell references). Each
    chunk is cut at its last ``<``, so no tag is split between two chunks.
    """
    head = True
    has_formula = False
    merges: list[tuple[int, int, int, int]] = []
    cells = refs = last_row = rows = row_refs = 0
    columns: set[bytes] = set()
    tail = b""
    while True:
        chunk = part.read(1 << 20)
        data = tail + chunk
        if head and _DOCTYPE.search(data[:65536]):
            return None
        head = False
        if not is_sheet:
            if not chunk:
                break
            continue  # only the prolog of other parts matters
        cut = data.rfind(b"<") if chunk else len(data)
        if cut <= 0:
            cut = len(data)
        block, tail = data[:cut], data[cut:]
        has_formula = (
            has_formula
            or any(t in block for t in (b"<f>", b"<f ", b"<f/"))
            or (b":f" in block and bool(_FORMULA.search(block)))
        )
        if b":c" in block or b":row" in block:  # namespace-prefixed tags: the slow path
            cells += len(_CELL.findall(block))
            found = _CELL_REF.findall(block)
            refs += len(found)
            columns.update(c for c, _ in found)
            numbers = _ROW_REF.findall(block)
            rows += len(_ROW.findall(block))
        else:
            cells += block.count(b"<c ") + block.count(b"<c>")
            letters = _PLAIN_REF.findall(block)
            refs += len(letters)
            columns.update(letters)
            numbers = _PLAIN_ROW_REF.findall(block)
            rows += block.count(b"<row ") + block.count(b"<row>")
        row_refs += len(numbers)
        if numbers:
            last_row = max(last_row, max(map(int, numbers)))
        for m in _MERGE.finditer(block):
            c1, r1 = _column_number(m.group(1)), int(m.group(2))
            c2 = _column_number(m.group(3)) if m.group(3) else c1
            r2 = int(m.group(4)) if m.group(4) else r1
            merges.append((c1, r1, c2, r2))
        if not chunk:
            break
    last_col = max((_column_number(c) for c in columns), default=0)
    known = refs == cells and row_refs == rows
    dense = last_row * last_col if known else -1
    return _SheetScan(has_formula, sorted(set(merges)), cells, dense)


def _open_book(path: Path, data_only: bool) -> Any:
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises many classes (KeyError, ParseError, ...)
        raise DataError(
            f"{path}: cannot be read as an Excel .xlsx workbook ({type(exc).__name__}: {exc}); "
            f"open it in a spreadsheet program and save it again as .xlsx, or export it as .csv"
        ) from None


def _pick_name(path: Path, names: list[str], sheet: str | int | None) -> str:
    """Return the name of the sheet asked for (default the first), or refuse in one line."""
    if not names:
        raise DataError(f"{path}: the workbook has no sheets")
    if sheet is None:
        return names[0]
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise DataError(
                f"{path}: sheet index {sheet} does not exist; the workbook has "
                f"{len(names)} sheet(s): {', '.join(names)}"
            )
        return names[sheet]
    if sheet not in names:
        raise DataError(
            f"{path}: no sheet named {sheet!r}; the workbook has sheets: "
            f"{', '.join(repr(n) for n in names)}"
        )
    return sheet


def _check_size(path: Path, title: str, number: int, width: int, limits: Limits) -> None:
    """Refuse a row beyond the row limit or wider than the column limit."""
    if number > limits.max_rows + 1:
        raise DataError(
            f"{path}: sheet {title!r} has data in row {number:,}, beyond the limit "
            f"of {limits.max_rows:,} records; delete stray cells below the data, or "
            f"raise Limits(max_rows=...) (study.toml [limits] max_rows)"
        )
    if width > limits.max_columns:
        raise DataError(
            f"{path}: sheet {title!r}, row {number}: {width:,} columns, more "
            f"than the limit of {limits.max_columns:,}"
        )


def _damaged(path: Path, title: str, exc: Exception) -> DataError:
    return DataError(
        f"{path}: sheet {title!r} is damaged and cannot be read "
        f"({type(exc).__name__}: {exc}); open the file in a spreadsheet program and save "
        f"it again as .xlsx, or export it as .csv"
    )


def _sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name → its XML part in the zip (from workbook.xml and its relationships)."""
    import xml.etree.ElementTree as ET  # the parts were checked for DOCTYPEs already

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    try:
        with zipfile.ZipFile(path) as archive:
            book = ET.fromstring(archive.read("xl/workbook.xml"))
            rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError, zipfile.BadZipFile, OSError):
        return {}  # unusual layout: formulas and merges are then looked for in every sheet
    targets = {r.get("Id"): str(r.get("Target", "")) for r in rels}
    parts: dict[str, str] = {}
    for node in book.iter(f"{main}sheet"):
        target = targets.get(node.get(f"{rel_ns}id"), "")
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        parts[str(node.get("name"))] = part
    return parts


def _sheet_rows(path: Path, ws: Any, limits: Limits) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Yield (sheet row number, values) of the non-blank rows, within the limits."""
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()  # some writers store a wrong sheet size; read all cells
    try:
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if not values or all(v is None for v in values):
                continue
            _check_size(path, ws.title, number, len(values), limits)
            for j, v in enumerate(values):
                if isinstance(v, str) and len(v) > limits.max_cell_chars:
                    where = f"cell {column_letter(j)}{number}"
                    raise _cell_too_long(path, where, len(v), limits)
            yield number, values
    except DataError:
        raise
    except Exception as exc:  # a damaged sheet: ParseError, ValueError, KeyError, ...
        raise _damaged(path, ws.title, exc) from None


def _calamine_rows(
    path: Path, book: Any, title: str, scan: _SheetScan, limits: Limits
) -> list[tuple[int, list[Any]]] | None:
    """Non-blank rows of a sheet read by calamine, or None for a sparse sheet.

    calamine (Rust) reads a sheet about ten times faster than openpyxl, but holds it
    dense, from A1 to the last cell, and aborts the process when that does not fit
    in memory. So the dense size is taken from the sheet's XML first (the cell
    references counted by :func:`_scan_part`): a sheet far larger than the cells it
    stores (a stray cell at XFD1048576), or with cells without references, is left to
    openpyxl's streaming reader. Blank cells become None and whole numbers int, as
    openpyxl gives them.
    """
    if scan.dense < 0 or scan.dense > 4 * scan.cells + 1_000_000:
        return None
    try:
        ws = book.get_sheet_by_name(title)
        if ws.end is None:
            return []
        rows = ws.to_python(skip_empty_area=False)
    except Exception as exc:  # python_calamine.CalamineError and the like
        raise _damaged(path, title, exc) from None
    out: list[tuple[int, list[Any]]] = []
    cap = limits.max_cell_chars
    dates = (dt.datetime, dt.date, dt.time)
    for number, row in enumerate(rows, start=1):
        values: list[Any] = []
        filled = False
        for j, v in enumerate(row):
            kind = type(v)
            if kind is str:
                if not v:
                    values.append(None)
                    continue
                if len(v) > cap:
                    raise _cell_too_long(path, f"cell {column_letter(j)}{number}", len(v), limits)
            elif kind is float and v.is_integer() and abs(v) < 1e300:
                v = int(v)
            elif kind in dates:
                v = v.isoformat()
            values.append(v)
            filled = True
        if filled:
            _check_size(path, title, number, len(values), limits)  # cells checked above
            out.append((number, values))
    return out


def _read_xlsx(path: Path, sheet: str | int | None, limits: Limits) -> Raw:
    import python_calamine

    scans = _scan_workbook(path, limits)
    parts = _sheet_parts(path)
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # CalamineError, zip errors, ...
        raise DataError(
            f"{path}: cannot be read as an Excel .xlsx workbook ({type(exc).__name__}: {exc}); "
            f"open it in a spreadsheet program and save it again as .xlsx, or export it as .csv"
        ) from None
    names = list(book.sheet_names)
    title = _pick_name(path, names, sheet)
    part = parts.get(title, "")
    scan = scans.get(part) or _SheetScan(any(s.has_formula for s in scans.values()), [], 0, -1)
    try:
        numbered = _calamine_rows(path, book, title, scan, limits)
    finally:
        book.close()
    typed = numbered is None  # openpyxl's cells still hold dates
    if numbered is None:
        wb = _open_book(path, data_only=True)
        try:
            numbered = [(n, list(v)) for n, v in _sheet_rows(path, wb[title], limits)]
        finally:
            wb.close()
    others = [n for n in names if n != title]
    context = f"sheet {title!r}" + (
        f" (the workbook also has {', '.join(repr(n) for n in others)})" if others else ""
    )
    if not numbered:
        raise DataError(f"{path}: sheet {title!r} is empty; expected a header row ({context})")
    header_number, header = numbered[0]
    if header_number != 1:
        context += f", header in row {header_number}"
    body = [v if isinstance(v, list) else list(v) for _, v in numbered[1:]]
    numbers = [n for n, _ in numbered[1:]]
    notes: list[Note] = []
    if scan.has_formula:
        notes += _formulas_without_values(path, title, body, numbers, limits)
    notes += _merged_notes(scan.merges, body, numbers, header_number)
    return finish(list(header), body, numbers, notes=notes, context=context, typed=typed)


def _formulas_without_values(
    path: Path,
    title: str,
    body: list[list[Any]],
    numbers: list[int],
    limits: Limits,
) -> list[Note]:
    """Cells whose formula has no saved result: read as blank by a values-only reader."""
    wb = _open_book(path, data_only=False)
    try:
        ws = wb[title]
        formulas = {n: v for n, v in _sheet_rows(path, ws, limits)}
    finally:
        wb.close()
    notes: list[Note] = []
    for row, number in zip(body, numbers, strict=True):
        written = formulas.get(number, ())
        for j, value in enumerate(written):
            text = value if isinstance(value, str) else getattr(value, "text", None)
            if (j >= len(row) or row[j] is None) and isinstance(text, str) and text[:1] == "=":
                notes.append(
                    Note(
                        number,
                        j,
                        text,
                        "formula_without_value",
                        "error",
                        f"cell {column_letter(j)}{number} holds the formula {text} with no "
                        f"saved result (the program that wrote the file did not calculate "
                        f"it), so it reads as blank; open the file in Excel or LibreOffice "
                        f"and save it again, or paste the values",
                    )
                )
    return notes


def _merged_notes(
    merges: list[tuple[int, int, int, int]],
    body: list[list[Any]],
    numbers: list[int],
    header_number: int,
) -> list[Note]:
    """Cells of a merged range below the header: blank except the first, so flagged."""
    notes: list[Note] = []
    position = {n: i for i, n in enumerate(numbers)}
    for c1, r1, c2, r2 in merges:
        if r2 <= header_number:
            continue  # merged header cells: the header row decides the columns
        ref = f"{column_letter(c1 - 1)}{r1}:{column_letter(c2 - 1)}{r2}"
        for r in range(max(r1, header_number + 1), r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) == (r1, c1) or r not in position:
                    continue
                row = body[position[r]]
                if c - 1 < len(row) and row[c - 1] is not None:
                    continue
                notes.append(
                    Note(
                        r,
                        c - 1,
                        "",
                        "merged_cell",
                        "error",
                        f"cell {column_letter(c - 1)}{r} is part of the merged range {ref}; "
                        f"only {column_letter(c1 - 1)}{r1} holds a value, so this cell reads "
                        f"as blank: unmerge the cells and fill in every row",
                    )
                )
    return notes


# ------------------------------------------------------------------------------ CSV
_UTF8_EVIDENCE = re.compile(
    rb"[\xc3][\x93\xb3]|[\xc4][\x84-\x87\x98\x99]|[\xc5][\x81-\x84\x9a\x9b\xb9-\xbc]"
    rb"|\xc2\xa0|\xe2\x80[\x93\x94\x9e\x9d\xa6]"
)


def _line_and_column(data: bytes, pos: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, pos) + 1
    start = data.rfind(b"\n", 0, pos) + 1
    return line, pos - start + 1


def decode(path: Path, data: bytes) -> tuple[str, str]:
    """Decode a text file; return the text and the encoding's name, or refuse with evidence."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode_utf16(path, data, "utf-16", "UTF-16")
    sample = data[:4000]
    if len(sample) >= 4 and sample.count(b"\x00") > len(sample) // 3:
        odd_zero = sample[1::2].count(b"\x00") > sample[0::2].count(b"\x00")
        codec = "utf-16-le" if odd_zero else "utf-16-be"
        return _decode_utf16(path, data, codec, f"UTF-16 ({codec[-2:].upper()}, no BOM)")
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError as exc:
        bad = exc.start
    line, col = _line_and_column(data, bad)
    evidence = _UTF8_EVIDENCE.search(data)
    if evidence is not None:
        good_line, _ = _line_and_column(data, evidence.start())
        n_bad = _count_bad_utf8(data)
        raise DataError(
            f"{path}, line {line}, byte {col}: byte 0x{data[bad]:02X} is not UTF-8, but line "
            f"{good_line} holds UTF-8 Polish letters ({evidence.group().decode('utf-8')!r}): "
            f"the file mixes two encodings ({n_bad} byte(s) not UTF-8); save it again as "
            f"'CSV UTF-8' from one program, or correct the line(s) named"
        )
    try:
        return data.decode("cp1250"), "Windows-1250"
    except UnicodeDecodeError as exc:
        line, col = _line_and_column(data, exc.start)
        raise DataError(
            f"{path}, line {line}, byte {col}: byte 0x{data[exc.start]:02X} is neither UTF-8 "
            f"nor Windows-1250 (cp1250); save the file as 'CSV UTF-8'"
        ) from None


def _count_bad_utf8(data: bytes) -> int:
    return len(data) - len(data.decode("utf-8", errors="ignore").encode("utf-8"))


def _decode_utf16(path: Path, data: bytes, codec: str, name: str) -> tuple[str, str]:
    try:
        return data.decode(codec), name
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: the file looks like {name} but byte {exc.start} cannot be decoded "
            f"({exc.reason}); save it again as 'CSV UTF-8'"
        ) from None


def _sniff_delimiter(lines: list[str]) -> str:
    """Pick ``;``, tab or ``,``: the one that splits the header and the next lines alike.

    A delimiter is *consistent* when the header has more than one field and every
    one of the first 50 records has as many fields as the header (blank lines
    aside). Consistent delimiters win, then the one giving the header most fields;
    ties go to ``;`` before tab before ``,`` (decimal commas make ``,`` the least
    likely delimiter of a Polish file).
    """
    best, best_score = ",", (False, 0, 0)
    for rank, delim in enumerate((";", "\t", ",")):
        try:
            records = [r for r in csv.reader(lines, delimiter=delim) if r]
        except csv.Error:
            continue  # e.g. a field beyond the size limit: the reader says where
        if not records:
            continue
        width = len(records[0])
        consistent = width > 1 and all(len(r) == width for r in records[1:])
        score = (consistent, width, -rank)
        if score > best_score:
            best, best_score = delim, score
    return best


_SEP_LINE = re.compile(r"^sep=(.)\r?$")
_DELIMITER_NAMES = {";": "';'", ",": "','", "\t": "tab"}


def _read_csv(path: Path, limits: Limits) -> Raw:
    _too_big(path, limits)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc}); check the file permissions") from None
    text, encoding = decode(path, data)
    if not text.strip():
        raise DataError(f"{path}: the file is empty; expected a header row in row 1")
    first_line = 1
    head = text.split("\n", 1)
    sep = _SEP_LINE.match(head[0].lstrip("\ufeff"))
    if sep is not None:  # Excel's "sep=;" hint line
        delimiter = sep.group(1)
        text = head[1] if len(head) > 1 else ""
        first_line = 2
    else:
        head_lines = itertools.islice(_stdio.StringIO(text), 51)  # not the whole file
        delimiter = _sniff_delimiter([line.rstrip("\r\n") for line in head_lines])
    context = f"{encoding}, {_DELIMITER_NAMES.get(delimiter, repr(delimiter))}-separated" + (
        ", after an Excel 'sep=' line" if sep is not None else ""
    )
    old_limit = csv.field_size_limit()
    csv.field_size_limit(limits.max_cell_chars + 1)
    reader = csv.reader(_stdio.StringIO(text, newline=""), delimiter=delimiter)
    records: list[list[str]] = []
    lines: list[int] = []  # the physical line each record starts on
    last = 0
    try:
        for rec in reader:
            if len(records) > limits.max_rows:
                raise DataError(
                    f"{path}: more than {limits.max_rows:,} records; raise "
                    f"Limits(max_rows=...) (study.toml [limits]) if the file is genuine"
                )
            if len(rec) > limits.max_columns:
                raise DataError(
                    f"{path}, line {last + first_line}: {len(rec):,} fields, more than the "
                    f"limit of {limits.max_columns:,}"
                )
            records.append(rec)
            lines.append(last + first_line)
            _check_swallowed(
                path, rec, delimiter, last + first_line, reader.line_num + first_line - 1
            )
            last = reader.line_num
    except csv.Error as exc:
        where = f"line {reader.line_num + first_line - 1}"
        if "field larger than field limit" in str(exc):
            raise _cell_too_long(path, where, None, limits) from None
        raise DataError(f"{path}, {where}: not valid CSV ({exc}); check the quotes") from None
    finally:
        csv.field_size_limit(old_limit)
    header = records[0]
    body = [[c if c != "" else None for c in rec] for rec in records[1:]]
    notes = _width_notes(header, records[1:], lines[1:])
    return finish(header, body, lines[1:], notes=notes, context=context, typed=False)


def _width_notes(header: list[str], records: list[list[str]], lines: list[int]) -> list[Note]:
    """List records wider than the header (extra values) or narrower (blanked columns)."""
    width = len(header)
    while width and not header[width - 1].strip():
        width -= 1
    notes: list[Note] = []
    for rec, line in zip(records, lines, strict=True):
        if all(not c.strip() for c in rec):
            continue
        extra = [(j, c) for j, c in enumerate(rec[width:], start=width) if c.strip()]
        if extra:
            shown = ", ".join(repr(c) for _, c in extra[:3]) + (", ..." if len(extra) > 3 else "")
            notes.append(
                Note(
                    line,
                    extra[0][0],
                    extra[0][1],
                    "extra_fields",
                    "error",
                    f"line {line} has {len(rec)} fields, the header {width}: the value(s) "
                    f"{shown} have no header and are kept in unnamed column(s) from "
                    f"{column_letter(extra[0][0])}; look for an unquoted delimiter in this row",
                )
            )
        elif len(rec) < width:
            notes.append(
                Note(
                    line,
                    len(rec),
                    "",
                    "short_row",
                    "warning",
                    f"line {line} has {len(rec)} fields, the header {width}: columns "
                    f"{header[len(rec)]!r} to {header[width - 1]!r} read as blank; check "
                    f"that the row is complete",
                )
            )
    return notes


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


# ------------------------------------------------------------------------------ SAV
def _in_range(value: Any, spec: object) -> bool:
    if not isinstance(spec, Mapping):
        return False  # a discrete missing value, not a {"lo": ..., "hi": ...} range
    try:
        return bool(spec["lo"] <= value <= spec["hi"])
    except TypeError:
        return False


def _read_sav(path: Path, limits: Limits) -> Raw:
    import pyreadstat

    _too_big(path, limits)
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
    for number, values in enumerate(df.itertuples(index=False, name=None), start=2):
        row: list[Any] = []
        for col, value in zip(columns, values, strict=True):
            if value is None or (isinstance(value, float) and pd.isna(value)):
                row.append(None)
                continue
            if isinstance(value, str) and len(value) > limits.max_cell_chars:
                raise _cell_too_long(path, f"case {number - 1}, variable {col}", len(value), limits)
            vl = labels.get(col)
            if vl and value in vl:
                row.append(vl[value])
            elif any(_in_range(value, r) for r in ranges.get(col, ())):
                row.append(UserMissing(value))
            elif isinstance(value, float) and value.is_integer():
                row.append(int(value))
            else:
                row.append(value)
        body.append(row)
    alt = [("" if lab is None else str(lab)) for lab in meta.column_labels]
    raw = finish(columns, body, list(range(2, len(body) + 2)), alt=alt, context="SPSS")
    return raw._replace(letters=list(columns) + raw.letters[len(columns) :])


def read_raw(path: Path, sheet: str | int | None = None, limits: Limits | None = None) -> Raw:
    r"""Read a ``.xlsx``, ``.csv`` or ``.sav`` file's cells within ``limits``.

    Parameters
    ----------
    path : pathlib.Path
        The file (its type is taken from the suffix).
    sheet : str, int or None
        Worksheet of an ``.xlsx`` (name or 0-based index; default the first).
    limits : Limits, optional
        Caps (default :data:`DEFAULT_LIMITS`).

    Returns
    -------
    Raw
        Header, records with their row numbers, problems found and what was read.

    Raises
    ------
    DataError
        If the file cannot be read, or exceeds a limit.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "f.csv"
    >>> _ = p.write_bytes("sep=;\nREGON;Nazwa\n291010180;Łąka\n".encode("cp1250"))
    >>> raw = read_raw(p)
    >>> raw.headers, raw.rows, raw.row_numbers
    (['REGON', 'Nazwa'], [['291010180', 'Łąka']], [3])
    >>> raw.context
    "Windows-1250, ';'-separated, after an Excel 'sep=' line"
    """
    lim = DEFAULT_LIMITS if limits is None else limits
    if not isinstance(lim, Limits):
        raise DesignError(f"limits must be an es_survey.io.Limits, got {type(limits).__name__}")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        _too_big(path, lim)
        return _read_xlsx(path, sheet, lim)
    if suffix == ".csv":
        return _read_csv(path, lim)
    return _read_sav(path, lim)
