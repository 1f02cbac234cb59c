"""Territorial reference data for all 16 voivodeships: TERYT units, subregions, boundaries.

Every voivodeship works without adding files. The national tables ship with the
package in ``es_survey/data/reference/`` (sources, licences and known quirks in its
``NOTICE.md``):

- the TERC register of GUS, state on 2020-01-01: 16 voivodeships, 380 powiats and
  2,477 gminas → :func:`voivodeships`, :func:`powiats`, :func:`gminas`;
- powiat → statistical subregion (podregion, NUTS 3 of the 2016 classification, 73
  subregions; MIT, from the R package MLASZdaneAdm2), with the NUTS 3 codes of
  Commission Regulation (EU) 2016/2066 → the ``subregion`` and ``nuts3`` columns;
- simplified powiat and voivodeship boundaries (GUGiK PRG via polska-geojson, MIT)
  → :func:`powiat_shapes`, :func:`voivodeship_shapes`.

TERYT changes a little every year (a village granted town rights turns a rural gmina,
RODZ 2, into an urban-rural one, RODZ 3, and so changes its code). A study whose
frame uses the codes of another date reads that date's TERC file with
:func:`load_terc` and passes it as ``terc=`` (here and in :mod:`es_survey.validate`);
:func:`teryt_problem` then reports a code unknown on that date as "not in TERYT (state
YYYY-MM-DD)".

Detailed tables add columns for a voivodeship: ``es_survey/data/regions/
<code>_<name>_powiats.csv`` (and, optionally, ``..._gminas.csv``) are joined to the
TERC tables by TERYT code. Świętokrzyskie's (``26``) carries census populations
(``population_2011``, ``population_2021``, ``population_2023``; GUS via
citypopulation.de), the registration-plate prefix and a tile-map layout
(``tile_row``, ``tile_col``). A detailed table must list every powiat of its
voivodeship, and its names, kinds, subregions and NUTS codes must agree with the
national tables: it is checked when read. A detailed gmina table whose ``stan_na``
column holds a later date than TERC's is that date's gmina list, and the default
register uses it for its voivodeship: Świętokrzyskie's is of 2024-01-01 (six gminas
changed their kind since 2020 and one its name; :meth:`Terc.state`). Elsewhere ``population_2021``,
``tile_row`` and ``tile_col`` are NaN; a study that wants per-inhabitant indicators
supplies the population itself (GUS census 2021 tables).

TERYT codes: a powiat is ``WOJ POW`` (4 digits; POW 61 and above is a city with powiat
rights, so ``2604`` is the land powiat *kielecki* and ``2661`` the city of Kielce); a
gmina is ``WOJ POW GMI RODZ`` (7 digits; RODZ 1 miejska, 2 wiejska, 3
miejsko-wiejska). The town and rural parts of an urban-rural gmina (RODZ 4, 5), the
districts of Warszawa (8) and the delegations of Kraków, Łódź, Poznań and Wrocław (9)
are TERC units but not gminas.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import unicodedata
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal, Protocol, cast

import numpy as np
import pandas as pd

from es_survey.errors import DataError, DesignError

__all__ = [
    "Terc",
    "available_regions",
    "gminas",
    "load_terc",
    "powiat_shapes",
    "powiats",
    "teryt_problem",
    "voivodeship_shapes",
    "voivodeships",
]

_TERC_FILE = "TERC_2020-01-01.csv"
_SUBREGION_FILE = "powiat_subregions_nuts2016.csv"
_NUTS_FILE = "nuts3_2016.csv"
_POWIAT_GEO = "powiaty-min.geojson"
_VOIVODESHIP_GEO = "wojewodztwa-min.geojson"
_TERC_COLUMNS = ("WOJ", "POW", "GMI", "RODZ", "NAZWA", "NAZWA_DOD")
_CITY = "miasto na prawach powiatu"
_POWIAT_KINDS = {"powiat", _CITY}
_GMINA_KINDS = {"1": "miejska", "2": "wiejska", "3": "miejsko-wiejska"}
#: Spellings of the subregion file served otherwise (the file itself is shipped unchanged).
_SUBREGION_FIXES = {"miasto warszawa": "miasto Warszawa"}
_DATE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})")
_FILE_RE = re.compile(r"^(\d{2})_([a-z0-9_-]+)_(powiats|gminas)\.csv$")
_FROM_TERC = ("name", "kind", "nuts3", "subregion")  # detailed-table columns checked, not joined


# ------------------------------------------------------------------------ TERC
@dataclass(frozen=True, eq=False, repr=False)
class Terc:
    """The TERC register of territorial units on one reference date.

    Read with :func:`load_terc`; pass it as ``terc=`` to :func:`powiats`,
    :func:`gminas`, :func:`teryt_problem` and to the checks of
    :mod:`es_survey.validate`.

    Attributes
    ----------
    source : str
        The file it was read from (its name for the bundled register).
    date : str
        The reference date, ``YYYY-MM-DD``: the register's state (column
        ``STAN_NA``, or the file name ``TERC_YYYY-MM-DD.csv``).

    Notes
    -----
    The bundled register is TERC of 2020-01-01 with Świętokrzyskie's gminas of
    2024-01-01 (the package's detailed table; six gminas there became urban-rural
    and one was renamed since 2020): :meth:`state` gives each voivodeship's date.

    Examples
    --------
    >>> t = load_terc()
    >>> t  # doctest: +NORMALIZE_WHITESPACE
    Terc(source='TERC_2020-01-01.csv + 26_swietokrzyskie_gminas.csv', date='2020-01-01',
         voivodeships=16, powiats=380, gminas=2477, states={'26': '2024-01-01'})
    >>> t.state("12"), t.state("26")
    ('2020-01-01', '2024-01-01')
    """

    source: str
    date: str
    _voivodeships: dict[str, str]  # code → name ("świętokrzyskie")
    _powiats: dict[str, tuple[str, str]]  # code → (name, kind)
    _gminas: dict[str, tuple[str, str]]  # code → (name, kind)
    _parts: dict[str, tuple[str, str]]  # code → (name, NAZWA_DOD) for RODZ 4, 5, 8, 9
    _states: dict[str, str] = field(default_factory=dict)  # voivodeship → its own date

    def state(self, voivodeship: str) -> str:
        """Return the reference date of a voivodeship's units.

        Parameters
        ----------
        voivodeship : str
            Two-digit TERYT code.

        Returns
        -------
        str
            ``YYYY-MM-DD``: :attr:`date`, unless the voivodeship's gminas come from a
            table of another date.
        """
        return self._states.get(voivodeship, self.date)

    def __repr__(self) -> str:
        states = f", states={self._states}" if self._states else ""
        return (
            f"Terc(source={self.source!r}, date={self.date!r}, "
            f"voivodeships={len(self._voivodeships)}, powiats={len(self._powiats)}, "
            f"gminas={len(self._gminas)}{states})"
        )


def _reference() -> Traversable:
    """Return the folder of the national reference data (package data)."""
    return files("es_survey") / "data" / "reference"


def _field_error(source: str, row: int, column: str, value: str, expected: str) -> DataError:
    return DataError(f"{source}, row {row}, column {column!r}: {value!r}; expected {expected}")


def _parse_terc(text: str, source: str) -> Terc:
    """Parse the text of a TERC file (``;``-separated, header ``WOJ;POW;GMI;...``)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=";")
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in _TERC_COLUMNS if c not in header]
    if missing:
        raise DataError(
            f"{source}, row 1: column(s) {missing} missing; a TERC file has the header "
            f"WOJ;POW;GMI;RODZ;NAZWA;NAZWA_DOD;STAN_NA (separator ';'), found {header}"
        )
    at = {c: header.index(c) for c in (*_TERC_COLUMNS, "STAN_NA") if c in header}
    voivodeships: dict[str, str] = {}
    powiats: dict[str, tuple[str, str]] = {}
    gminas: dict[str, tuple[str, str]] = {}
    parts: dict[str, tuple[str, str]] = {}
    where: dict[str, int] = {}  # code → row, for duplicates
    stated: set[str] = set()
    for rec in reader:
        if not any(f.strip() for f in rec):
            continue
        row = reader.line_num
        if len(rec) != len(header):
            raise DataError(
                f"{source}, row {row}: {len(rec)} fields, expected {len(header)} "
                f"({';'.join(header)})"
            )
        woj, pow_, gmi, rodz, name, extra = (rec[at[c]].strip() for c in _TERC_COLUMNS)
        for column, value, width in (("WOJ", woj, 2), ("POW", pow_, 2), ("GMI", gmi, 2)):
            if not re.fullmatch(rf"[0-9]{{{width}}}", value) and (column == "WOJ" or value):
                raise _field_error(source, row, column, value, f"{width} digits")
        if ((gmi or rodz) and not pow_) or (rodz and not gmi):
            raise DataError(
                f"{source}, row {row}: WOJ;POW;GMI;RODZ = {woj};{pow_};{gmi};{rodz}; a unit "
                "code fills WOJ, then POW, GMI and RODZ in turn (a voivodeship has WOJ only)"
            )
        if rodz and not re.fullmatch(r"[1-589]", rodz):
            raise _field_error(source, row, "RODZ", rodz, "one of 1, 2, 3, 4, 5, 8, 9 or empty")
        if not name:
            raise _field_error(source, row, "NAZWA", name, "the unit's name")
        if "STAN_NA" in at and (day := rec[at["STAN_NA"]].strip()):
            if not _is_date(day):
                raise _field_error(source, row, "STAN_NA", day, "a date YYYY-MM-DD")
            stated.add(day)
        code = woj + pow_ + gmi + rodz
        if code in where:
            raise DataError(
                f"{source}, row {row}: unit {code!r} ({name}) repeats row {where[code]}"
            )
        where[code] = row
        if not pow_:
            voivodeships[woj] = name.lower()
        elif not gmi:
            kind = _CITY if "na prawach powiatu" in extra else extra
            if kind not in _POWIAT_KINDS:
                raise _field_error(
                    source, row, "NAZWA_DOD", extra, "'powiat' or 'miasto na prawach powiatu'"
                )
            powiats[code] = (name, kind)
        elif rodz in _GMINA_KINDS:
            gminas[code] = (name, _GMINA_KINDS[rodz])
        elif rodz:
            parts[code] = (name, extra)
        else:
            raise _field_error(source, row, "RODZ", rodz, "the gmina's kind digit (1-5, 8, 9)")
        parent = code[:2] if len(code) == 4 else code[:4] if len(code) == 7 else None
        if parent is not None and parent not in (powiats if len(parent) == 4 else voivodeships):
            raise DataError(
                f"{source}, row {row}: unit {code!r} ({name}) comes before (or without) "
                f"its {'powiat' if len(parent) == 4 else 'voivodeship'} {parent!r}; "
                "a TERC file lists each unit after the unit it belongs to"
            )
    if not powiats:
        raise DataError(f"{source}: no powiats; is this a TERC file (not SIMC or ULIC)?")
    return Terc(source, _reference_date(source, stated), voivodeships, powiats, gminas, parts)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _reference_date(source: str, stated: set[str]) -> str:
    """Return the register's state: column ``STAN_NA``, else the date in the file name."""
    match = _DATE_RE.search(Path(source).name)
    named = match.group(1) if match and _is_date(match.group(1)) else None
    day = max(stated) if stated else named
    if day is None:
        raise DataError(
            f"{source}: the reference date is unknown (no column 'STAN_NA' and no date in "
            "the file name); rename the file TERC_YYYY-MM-DD.csv with the register's state"
        )
    if named is not None and named != day:
        raise DataError(
            f"{source}: the file name says {named} but column 'STAN_NA' says {day}; "
            f"rename the file (e.g. TERC_{day}.csv) or give the file of {named}"
        )
    return day


@lru_cache(maxsize=1)
def _national_terc() -> Terc:
    """Return the bundled TERC file as it is (state 2020-01-01)."""
    text = (_reference() / _TERC_FILE).read_bytes().decode("utf-8-sig")
    return _parse_terc(text, _TERC_FILE)


def _bundled_terc() -> Terc:
    """Return the default register: TERC with the detailed gmina tables of later dates."""
    return _composite(_folder())


@lru_cache(maxsize=4)
def _composite(folder: _Folder) -> Terc:
    national = _national_terc()
    gminas, states, sources = dict(national._gminas), {}, [national.source]
    for code, found in sorted(_region_files().items()):
        if "gminas" not in found:
            continue
        table, state = _detail_gminas(folder, found["gminas"], code)
        if state == national.date:
            continue  # it agrees with TERC (checked when read)
        gminas = {t: v for t, v in gminas.items() if t[:2] != code}
        gminas.update(
            (t, (n, k))
            for t, n, k in zip(table["teryt"], table["name"], table["kind"], strict=True)
        )
        states[code] = state
        sources.append(found["gminas"])
    gminas = dict(sorted(gminas.items()))
    parts = {t: v for t, v in national._parts.items() if _part_of(t, gminas) is not None}
    return Terc(
        " + ".join(sources), national.date, national._voivodeships, national._powiats,
        gminas, parts, states,
    )  # fmt: skip


@lru_cache(maxsize=8)
def _read_terc(path: str, _mtime_ns: int, _size: int) -> Terc:
    """Parse a TERC file once per version (the stat fields key the cache)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror}); give a TERC .csv file") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the TERC file as UTF-8, "
            "as GUS publishes it"
        ) from None
    return _parse_terc(text, path)


def load_terc(path: str | os.PathLike[str] | None = None) -> Terc:
    r"""Read a TERC register (the bundled one, state 2020-01-01, by default).

    Parameters
    ----------
    path : str or path-like, optional
        A TERC file as GUS publishes it (``;``-separated, UTF-8, header
        ``WOJ;POW;GMI;RODZ;NAZWA;NAZWA_DOD;STAN_NA``; e.g. ``TERC_Urzedowy_2024-01-01.csv``).
        It may cover one voivodeship only. The reference date is column ``STAN_NA``
        (the latest date in it) or, without that column, the ``YYYY-MM-DD`` in the file
        name. ``None`` gives the bundled register. Each file is parsed once (until it
        changes on disk).

    Returns
    -------
    Terc

    Raises
    ------
    DataError
        If the file is missing, not UTF-8, lacks a TERC column, has a malformed
        field (the message names the file, row, column and value), or its date is
        unknown or disagrees with the file name.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "TERC_2024-01-01.csv"
    >>> _ = p.write_text(
    ...     "WOJ;POW;GMI;RODZ;NAZWA;NAZWA_DOD;STAN_NA\n"
    ...     "26;;;;ŚWIĘTOKRZYSKIE;województwo;2024-01-01\n"
    ...     "26;01;;;buski;powiat;2024-01-01\n"
    ...     "26;01;01;3;Busko-Zdrój;gmina miejsko-wiejska;2024-01-01\n", encoding="utf-8")
    >>> t = load_terc(p)
    >>> t.date, len(gminas("26", terc=t))
    ('2024-01-01', 1)
    """
    if path is None:
        return _bundled_terc()
    where = Path(path)
    try:
        stat = where.stat()
    except OSError:
        raise DataError(f"{where}: TERC file not found; check the path") from None
    return _read_terc(str(where), stat.st_mtime_ns, stat.st_size)


def _as_terc(terc: Terc | str | os.PathLike[str] | None) -> Terc:
    return terc if isinstance(terc, Terc) else load_terc(terc)


def _fold(text: str) -> str:
    """Lower-case ASCII form of a name: ``"Świętokrzyskie"`` → ``"swietokrzyskie"``."""
    plain = unicodedata.normalize("NFKD", text.strip().casefold().replace("ł", "l"))
    return "".join(c for c in plain if not unicodedata.combining(c))


def _voivodeship_code(region: str, terc: Terc) -> str:
    """Return the code of ``region`` (a code, or a name with or without diacritics)."""
    key = str(region).strip()
    if key in terc._voivodeships:
        return key
    for code, name in terc._voivodeships.items():
        if _fold(name) == _fold(key):
            return code
    valid = ", ".join(f"{c} {n}" for c, n in terc._voivodeships.items())
    raise DesignError(
        f"region={region!r} is not a voivodeship of TERYT (state {terc.date}); "
        f"give a code or name: {valid}"
    )


def voivodeships(*, terc: Terc | str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Return the voivodeships.

    Parameters
    ----------
    terc : Terc, str, path-like or None
        The register (:func:`load_terc`); the bundled one (state 2020-01-01) by default.

    Returns
    -------
    pandas.DataFrame
        One row per voivodeship, by code: ``teryt`` (2-character str, ``"02"`` …
        ``"32"``) and ``name`` (lower case, ``"świętokrzyskie"``).

    Examples
    --------
    >>> v = voivodeships()
    >>> len(v), v.loc[v["teryt"] == "26", "name"].item()
    (16, 'świętokrzyskie')
    """
    table = _as_terc(terc)._voivodeships
    return pd.DataFrame({"teryt": list(table), "name": list(table.values())})


# ----------------------------------------------------------------- subregions
@lru_cache(maxsize=1)
def _subregions() -> dict[str, tuple[str, str]]:
    """Powiat code → (subregion name, NUTS 3 code), from the two bundled tables."""
    folder = _reference()
    text = (folder / _NUTS_FILE).read_text(encoding="utf-8")
    nuts = {
        (r["voivodeship"], r["subregion"]): r["nuts3"] for r in csv.DictReader(io.StringIO(text))
    }
    out: dict[str, tuple[str, str]] = {}
    reader = csv.DictReader(io.StringIO((folder / _SUBREGION_FILE).read_text(encoding="utf-8")))
    for rec in reader:
        row, code = reader.line_num, rec["teryt_powiat"].strip()
        name = rec["subregion"].strip()
        name = _SUBREGION_FIXES.get(name, name)
        if not re.fullmatch(r"[0-9]{4}", code) or code in out:
            raise _field_error(
                _SUBREGION_FILE, row, "teryt_powiat", code, "a new 4-digit powiat code"
            )
        if (code[:2], name) not in nuts:
            known = sorted(s for w, s in nuts if w == code[:2])
            raise _field_error(_SUBREGION_FILE, row, "subregion", name, f"one of {known}")
        out[code] = (name, nuts[code[:2], name])
    return out


# ------------------------------------------------------------ detailed tables
class _Folder(Traversable, Hashable, Protocol):
    """A data folder that can key the ``lru_cache`` of the detailed-table readers."""


def _folder() -> _Folder:
    """Return the folder holding the detailed region tables (package data)."""
    # ``files()`` gives a ``pathlib.Path`` (or a ``MultiplexedPath``), both hashable;
    # typeshed's ``Traversable`` protocol just does not say so.
    return cast(_Folder, files("es_survey") / "data" / "regions")


def _region_files() -> dict[str, dict[str, str]]:
    """Map each two-digit code with a detailed powiat table to its files."""
    found: dict[str, dict[str, str]] = {}
    for entry in _folder().iterdir():
        match = _FILE_RE.match(entry.name)
        if match:
            code, _name, part = match.groups()
            found.setdefault(code, {})[part] = entry.name
    return {code: parts for code, parts in found.items() if "powiats" in parts}


def available_regions() -> list[str]:
    """List the voivodeships with a bundled *detailed* table (population, tile map).

    Every voivodeship of :func:`voivodeships` has its powiats, gminas, subregions and
    boundaries; the ones listed here add census populations and a tile-map layout.

    Returns
    -------
    list of str
        Two-digit TERYT voivodeship codes, sorted.

    Examples
    --------
    >>> available_regions()
    ['26']
    """
    return sorted(_region_files())


def _read(folder: Traversable, name: str) -> pd.DataFrame:
    with (folder / name).open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle, dtype=str, keep_default_na=False)


def _check_codes(frame: pd.DataFrame, name: str, known: dict[str, Any], what: str) -> None:
    """Check that ``teryt`` lists each of ``known`` (the TERC units) once."""
    terc = _national_terc()
    seen: set[str] = set()
    for row, value in enumerate(frame["teryt"].tolist(), start=2):
        if value in seen:
            raise DataError(f"{name}, row {row}, column 'teryt': duplicate code {value!r}")
        if value not in known:
            raise _field_error(
                name, row, "teryt", value, f"a {what} code of TERYT (state {terc.date})"
            )
        seen.add(value)
    absent = [c for c in known if c not in seen]
    if absent:
        raise DataError(
            f"{name}: {what}(s) {absent} missing; a detailed table lists every {what} of "
            f"its voivodeship in TERYT (state {terc.date})"
        )


def _check_agrees(frame: pd.DataFrame, name: str, expected: dict[str, dict[str, str]]) -> None:
    """Check the columns of a detailed table that the national tables also give."""
    date_ = _national_terc().date
    for column, truth in expected.items():
        if column not in frame.columns:
            continue
        for row, (code, value) in enumerate(zip(frame["teryt"], frame[column], strict=True), 2):
            if value != truth[code]:
                raise _field_error(
                    name, row, column, value, f"{truth[code]!r} for {code} (TERYT {date_})"
                )


def _whole_numbers(frame: pd.DataFrame, name: str) -> None:
    """Convert population and tile columns to int64, naming the first bad cell."""
    for column in frame.columns:
        if not (column.startswith("population_") or column in ("tile_row", "tile_col")):
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() | (values % 1 != 0)
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise _field_error(name, row + 2, column, frame[column].iloc[row], "a whole number")
        frame[column] = values.astype("int64")


@lru_cache(maxsize=16)
def _detail_powiats(folder: _Folder, name: str, code: str) -> pd.DataFrame:
    frame = _read(folder, name)
    if "teryt" not in frame.columns:
        raise DataError(f"{name}: required column 'teryt' missing; found {list(frame.columns)}")
    known = {t: v for t, v in _national_terc()._powiats.items() if t[:2] == code}
    _check_codes(frame, name, known, "powiat")
    sub = _subregions()
    _check_agrees(
        frame,
        name,
        {
            "name": {t: v[0] for t, v in known.items()},
            "kind": {t: v[1] for t, v in known.items()},
            "subregion": {t: sub[t][0] for t in known if t in sub},
            "nuts3": {t: sub[t][1] for t in known if t in sub},
        },
    )
    _whole_numbers(frame, name)
    if {"tile_row", "tile_col"} <= set(frame.columns):
        if frame[["tile_row", "tile_col"]].duplicated().any():
            raise DataError(f"{name}, column 'tile_row'/'tile_col': two powiats share a tile")
    return frame


@lru_cache(maxsize=16)
def _detail_gminas(folder: _Folder, name: str, code: str) -> tuple[pd.DataFrame, str]:
    """Read a detailed gmina table; return it (without ``stan_na``) and its date.

    Without a ``stan_na`` column (or with TERC's date in it) the table must agree with
    TERC; with a later date it is that date's gmina list of its voivodeship.
    """
    frame = _read(folder, name)
    national = _national_terc()
    missing = [c for c in ("teryt", "name", "kind") if c not in frame.columns]
    if missing:
        raise DataError(
            f"{name}: required column(s) {missing} missing; expected teryt, name, kind "
            f"(and optionally powiat, stan_na), found {list(frame.columns)}"
        )
    powiats = {t for t in national._powiats if t[:2] == code}
    seen: dict[str, int] = {}
    states: set[str] = set()
    for row, rec in enumerate(frame.to_dict("records"), start=2):
        t, kind = str(rec["teryt"]), str(rec["kind"])
        if not re.fullmatch(r"[0-9]{7}", t):
            raise _field_error(name, row, "teryt", t, "7 digits (powiat code, GMI, RODZ)")
        if t in seen:
            raise DataError(f"{name}, row {row}, column 'teryt': {t!r} repeats row {seen[t]}")
        seen[t] = row
        if t[:4] not in powiats:
            raise _field_error(
                name, row, "teryt", t, f"a code starting with a powiat of voivodeship {code}"
            )
        if _GMINA_KINDS.get(t[6]) != kind:
            raise _field_error(
                name, row, "kind", kind,
                f"{_GMINA_KINDS.get(t[6], 'RODZ 1, 2 or 3')!r} for RODZ digit {t[6]!r} "
                "(1 miejska, 2 wiejska, 3 miejsko-wiejska)",
            )  # fmt: skip
        if "powiat" in rec and rec["powiat"] != t[:4]:
            raise _field_error(name, row, "powiat", str(rec["powiat"]), f"{t[:4]!r}")
        if "stan_na" in rec:
            if not _is_date(str(rec["stan_na"])) or (states and rec["stan_na"] not in states):
                raise _field_error(
                    name, row, "stan_na", str(rec["stan_na"]), "one date YYYY-MM-DD for all rows"
                )
            states.add(str(rec["stan_na"]))
    state = states.pop() if states else national.date
    if state == national.date:
        known = {t: v for t, v in national._gminas.items() if t[:2] == code}
        _check_codes(frame, name, known, "gmina")
        _check_agrees(
            frame,
            name,
            {"name": {t: v[0] for t, v in known.items()}},
        )
    elif absent := sorted(powiats - {t[:4] for t in seen}):
        raise DataError(f"{name}: no gmina in powiat(s) {absent}; list every gmina of {code}")
    _whole_numbers(frame, name)
    return frame.drop(columns=[c for c in ("stan_na",) if c in frame.columns]), state


def _details(code: str, part: Literal["powiats", "gminas"]) -> pd.DataFrame | None:
    """Return the columns a detailed table adds (``teryt`` and its own), or None."""
    found = _region_files().get(code, {})
    if part not in found:
        return None
    if part == "powiats":
        frame = _detail_powiats(_folder(), found[part], code)
    else:
        frame = _detail_gminas(_folder(), found[part], code)[0]
    return frame.drop(columns=[c for c in (*_FROM_TERC, "powiat") if c in frame.columns])


# ------------------------------------------------------------- public tables
def powiats(
    region: str = "26", *, terc: Terc | str | os.PathLike[str] | None = None
) -> pd.DataFrame:
    """Return the powiats of a voivodeship.

    Parameters
    ----------
    region : str, default "26"
        Two-digit TERYT voivodeship code (``"02"`` … ``"32"``) or its name, with or
        without diacritics (``"małopolskie"``, ``"malopolskie"``).
    terc : Terc, str, path-like or None
        The register (:func:`load_terc`); the bundled one (state 2020-01-01) by default.

    Returns
    -------
    pandas.DataFrame
        One row per powiat, by code: ``teryt`` (4-character str), ``name`` as TERC
        writes it (``"buski"``, ``"Kielce"``), ``kind`` (``"powiat"`` or ``"miasto na
        prawach powiatu"``), ``nuts3`` (``"PL721"``) and ``subregion``
        (``"kielecki"``; both NaN for a powiat the 2016 classification lacks), then
        the columns of the voivodeship's detailed table where there is one
        (Świętokrzyskie: ``population_2011``, ``population_2021``,
        ``population_2023``, ``plate``, ``tile_row``, ``tile_col``, as int64 but
        ``plate``). ``population_2021``, ``tile_row`` and ``tile_col`` are always
        present: NaN without a detailed table. A new copy on every call.

    Raises
    ------
    DesignError
        If ``region`` is not a voivodeship; the one-line message lists the valid ones.
    DataError
        If a reference file is malformed (the message names file, row and column).

    Examples
    --------
    >>> p = powiats("26")
    >>> len(p), int(p["population_2021"].sum())
    (14, 1196557)
    >>> p.set_index("teryt").loc["2661", ["name", "kind", "nuts3"]].tolist()
    ['Kielce', 'miasto na prawach powiatu', 'PL721']
    >>> m = powiats("małopolskie")
    >>> len(m), m["subregion"].nunique(), bool(m["population_2021"].isna().all())
    (22, 6, True)
    """
    ref = _as_terc(terc)
    code = _voivodeship_code(region, ref)
    units = [(t, n, k) for t, (n, k) in ref._powiats.items() if t[:2] == code]
    sub = _subregions()
    frame = pd.DataFrame(
        {
            "teryt": [t for t, _, _ in units],
            "name": [n for _, n, _ in units],
            "kind": [k for _, _, k in units],
            "nuts3": [sub[t][1] if t in sub else np.nan for t, _, _ in units],
            "subregion": [sub[t][0] if t in sub else np.nan for t, _, _ in units],
        }
    )
    extra = _details(code, "powiats")
    if extra is not None:
        frame = frame.merge(extra, on="teryt", how="left", validate="one_to_one")
    for column in ("population_2021", "tile_row", "tile_col"):
        if column not in frame.columns:
            frame[column] = np.nan
    return frame


def gminas(
    region: str = "26", *, terc: Terc | str | os.PathLike[str] | None = None
) -> pd.DataFrame:
    """Return the gminas of a voivodeship.

    Parameters
    ----------
    region : str, default "26"
        Two-digit TERYT voivodeship code or name, as for :func:`powiats`.
    terc : Terc, str, path-like or None
        The register (:func:`load_terc`); the bundled one (state 2020-01-01) by default.

    Returns
    -------
    pandas.DataFrame
        One row per gmina (RODZ 1, 2, 3), by code: ``teryt`` (7-character str:
        powiat code, two-digit GMI, RODZ digit), ``name``, ``kind`` (``"miejska"``,
        ``"wiejska"`` or ``"miejsko-wiejska"``) and ``powiat`` (4-character str), then
        any further columns of a detailed gmina table. A new copy on every call.

    Raises
    ------
    DesignError
        If ``region`` is not a voivodeship; the one-line message lists the valid ones.

    Examples
    --------
    >>> g = gminas("26")
    >>> len(g), int((g["kind"] == "miejska").sum())
    (102, 5)
    >>> g.loc[g["teryt"] == "2601013", "name"].item()
    'Busko-Zdrój'
    >>> len(gminas("14"))
    314
    """
    ref = _as_terc(terc)
    code = _voivodeship_code(region, ref)
    units = [(t, n, k) for t, (n, k) in ref._gminas.items() if t[:2] == code]
    frame = pd.DataFrame(
        {
            "teryt": [t for t, _, _ in units],
            "name": [n for _, n, _ in units],
            "kind": [k for _, _, k in units],
            "powiat": [t[:4] for t, _, _ in units],
        }
    )
    extra = _details(code, "gminas")
    if extra is not None:
        frame = frame.merge(extra, on="teryt", how="left", validate="one_to_one")
    return frame


def teryt_problem(
    code: str,
    unit: Literal["powiat", "gmina"],
    terc: Terc | str | os.PathLike[str] | None = None,
) -> str | None:
    """Say what is wrong with a TERYT powiat or gmina code (None if it is valid).

    Parameters
    ----------
    code : str
        The code as written (4 digits for a powiat, 7 for a gmina).
    unit : {"powiat", "gmina"}
        What the code should be.
    terc : Terc, str, path-like or None
        The register the code is checked against; the bundled one (state
        2020-01-01) by default. Its date is named in every message.

    Returns
    -------
    str or None
        A message naming the code, the reference date and the likely cause: a part
        of a gmina or a city district given instead of the gmina, a gmina whose kind
        digit (RODZ) changed, a powiat or voivodeship the register lacks.

    Examples
    --------
    >>> teryt_problem("2661", "powiat") is None
    True
    >>> teryt_problem("1299", "powiat")  # doctest: +NORMALIZE_WHITESPACE
    "powiat code '1299' is not in TERYT (state 2020-01-01): voivodeship 12
    małopolskie has no powiat 1299; if the data use the codes of another date,
    check them against that date's TERC file"
    >>> teryt_problem("2602092", "gmina")  # wiejska in 2020, miejsko-wiejska in 2024
    ... # doctest: +NORMALIZE_WHITESPACE
    "gmina code '2602092' is not in TERYT (state 2024-01-01): gmina 2602093 Wodzisław
    (miejsko-wiejska) has the same number with another kind digit (RODZ); a code of
    another date, or a mistyped last digit"
    >>> teryt_problem("1465058", "gmina")  # doctest: +NORMALIZE_WHITESPACE
    "gmina code '1465058' is not a gmina in TERYT (state 2020-01-01): it is Mokotów
    (dzielnica, RODZ 8), part of gmina 1465011 Warszawa; give the gmina's code"
    """
    ref = _as_terc(terc)
    width = 4 if unit == "powiat" else 7
    if not re.fullmatch(rf"[0-9]{{{width}}}", code):
        return f"{unit} code {code!r} is not {width} digits (TERYT {unit} code)"
    table = ref._powiats if unit == "powiat" else ref._gminas
    if code in table:
        return None
    woj = code[:2]
    state = f"TERYT (state {ref.state(woj)})"
    if woj not in ref._voivodeships:
        where = (
            f"{woj} is not a voivodeship code (02, 04, …, 32)"
            if len(ref._voivodeships) == 16
            else f"{ref.source} covers voivodeship(s) {', '.join(ref._voivodeships)} only"
        )
        return f"{unit} code {code!r} is not in {state}: {where}"
    if code in ref._parts:
        name, what = ref._parts[code]
        gmina = cast(str, _part_of(code, ref._gminas))  # kept only with their gmina
        return (
            f"{unit} code {code!r} is not a gmina in {state}: it is {name} ({what}, RODZ "
            f"{code[6]}), part of gmina {gmina} {ref._gminas[gmina][0]}; give the gmina's code"
        )
    same = [g for g in (code[:6] + r for r in _GMINA_KINDS) if g in ref._gminas]
    if unit == "gmina" and same:
        name, kind = ref._gminas[same[0]]
        return (
            f"{unit} code {code!r} is not in {state}: gmina {same[0]} {name} ({kind}) has "
            f"the same number with another kind digit (RODZ); a code of another date, or "
            f"a mistyped last digit"
        )
    if unit == "gmina" and code[:4] not in ref._powiats:
        where = f"voivodeship {woj} {ref._voivodeships[woj]} has no powiat {code[:4]}"
    elif unit == "gmina":
        where = f"powiat {code[:4]} {ref._powiats[code[:4]][0]} has no gmina {code}"
    else:
        where = f"voivodeship {woj} {ref._voivodeships[woj]} has no powiat {code}"
    return (
        f"{unit} code {code!r} is not in {state}: {where}; if the data use the codes of "
        f"another date, check them against that date's TERC file"
    )


def _part_of(code: str, gminas: dict[str, tuple[str, str]]) -> str | None:
    """Return the gmina of a town or rural part (RODZ 4, 5) or a city district (8, 9)."""
    if code[6] in "45":
        return code[:6] + "3" if code[:6] + "3" in gminas else None
    return next((g for g in gminas if g[:4] == code[:4] and g[6] == "1"), None)


# ----------------------------------------------------------------- boundaries
def _rings(geometry: Any, where: str) -> tuple[np.ndarray, ...]:
    """All rings (outer boundaries and holes) of a Polygon or MultiPolygon."""
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        raise DataError(f"{where}: geometry type {kind!r}; expected 'Polygon' or 'MultiPolygon'")
    polygons = [geometry["coordinates"]] if kind == "Polygon" else geometry["coordinates"]
    out = []
    for polygon in polygons:
        for ring in polygon:
            try:
                points = np.array(ring, dtype=float)
            except (TypeError, ValueError):
                points = np.empty((0, 0))
            if points.ndim != 2 or points.shape[0] < 4 or points.shape[1] < 2:
                raise DataError(f"{where}: a ring is not a list of at least 4 [lon, lat] points")
            points = np.ascontiguousarray(points[:, :2])
            points.flags.writeable = False
            out.append(points)
    return tuple(out)


def _features(name: str) -> list[tuple[str, str, tuple[np.ndarray, ...]]]:
    """(where, ``nazwa``, rings) of every feature of a bundled GeoJSON file."""
    data = json.loads((_reference() / name).read_bytes())
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise DataError(f"{name}: not a GeoJSON FeatureCollection")
    out = []
    for i, feature in enumerate(features, start=1):
        props = feature.get("properties") or {}
        nazwa = props.get("nazwa")
        if not isinstance(nazwa, str):
            raise DataError(f"{name}, feature {i}: property 'nazwa' missing; expected a name")
        where = f"{name}, feature {i} ({nazwa!r})"
        out.append(
            (
                where,
                unicodedata.normalize("NFC", nazwa.strip()),
                _rings(feature.get("geometry"), where),
            )
        )
    return out


def _inside(points: np.ndarray, rings: Sequence[np.ndarray]) -> np.ndarray:
    """Whether each point lies inside the rings (even-odd rule, so holes count)."""
    x, y = points[:, :1], points[:, 1:2]
    crossings = np.zeros(len(points), dtype=np.int64)
    for ring in rings:
        x1, y1, x2, y2 = ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1]
        straddles = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        crossings += np.count_nonzero(straddles & (x < at), axis=1)
    return crossings % 2 == 1


def _share_inside(rings: Sequence[np.ndarray], region: Sequence[np.ndarray]) -> float:
    """Share of the vertices of ``rings`` that lie inside ``region``."""
    points = np.concatenate(rings)
    return float(_inside(points, region).mean())


Shapes = dict[str, tuple[np.ndarray, ...]]


def _by_location(rings: Sequence[np.ndarray], codes: list[str], voiv: Shapes) -> list[str]:
    """Keep the powiat code whose voivodeship clearly holds the most of the vertices.

    Vertices on a voivodeship's outer border fall inside or outside it by the chance of
    simplification (a coastal or border powiat may keep only a quarter inside), but the
    right voivodeship holds far more of them than one elsewhere (none, for the ten
    repeated names of the bundled files).
    """
    share = {c: _share_inside(rings, voiv[c[:2]]) for c in codes}
    best = max(codes, key=share.__getitem__)
    others = [share[c] for c in codes if c != best]
    return [best] if share[best] > 0.25 and max(others) < share[best] / 2 else codes


@lru_cache(maxsize=1)
def _shapes() -> tuple[Shapes, Shapes]:
    """Voivodeship and powiat boundaries keyed by TERYT code (bundled TERC)."""
    terc = _national_terc()
    by_name = {name: code for code, name in terc._voivodeships.items()}
    voiv: Shapes = {}
    faults: list[str] = []
    for where, nazwa, rings in _features(_VOIVODESHIP_GEO):
        code = by_name.get(nazwa.lower())
        if code is None or code in voiv:
            faults.append(f"{where}: {'no' if code is None else 'a second'} voivodeship of TERC")
            continue
        voiv[code] = rings
    faults += [f"{c} {n}: no boundary" for c, n in terc._voivodeships.items() if c not in voiv]
    if faults:
        raise DataError(f"{_VOIVODESHIP_GEO} does not join to {terc.source}: " + "; ".join(faults))
    # A powiat's name is unique within its voivodeship; ten names occur in two. A city
    # with powiat rights is named by the city ("powiat Kielce" ↔ 2661 "Kielce").
    candidates: dict[str, list[str]] = {}
    for code, (name, _kind) in terc._powiats.items():
        candidates.setdefault(name, []).append(code)
    found: Shapes = {}
    for where, nazwa, rings in _features(_POWIAT_GEO):
        codes = candidates.get(nazwa.removeprefix("powiat ").strip(), [])
        if len(codes) > 1:  # decided by the voivodeship that holds its vertices
            codes = _by_location(rings, codes, voiv)
        if len(codes) != 1 or codes[0] in found:
            why = "no" if not codes else "a second" if len(codes) == 1 else "an ambiguous"
            faults.append(f"{where}: {why} powiat of TERC")
            continue
        found[codes[0]] = rings
    faults += [f"{c} {n}: no boundary" for c, (n, _) in terc._powiats.items() if c not in found]
    if faults:
        raise DataError(f"{_POWIAT_GEO} does not join to {terc.source}: " + "; ".join(faults))
    return voiv, found


def powiat_shapes(region: str = "26") -> dict[str, list[np.ndarray]]:
    """Return the powiat boundaries of a voivodeship, keyed by TERYT code.

    The simplified PRG boundaries (GUGiK, via polska-geojson; MIT) name the powiats
    only; each is joined to its code by name within its voivodeship, the voivodeship
    of a repeated name ("powiat średzki", "powiat brzeski", …) being the one whose
    boundary holds clearly the most of the powiat's vertices.

    Parameters
    ----------
    region : str, default "26"
        Two-digit TERYT voivodeship code or name, as for :func:`powiats`.

    Returns
    -------
    dict of str to list of numpy.ndarray
        For each powiat (by code), its rings: read-only ``(n, 2)`` float arrays of
        longitude and latitude (WGS 84), closed (first point = last). Outer
        boundaries and holes come in one list (a land powiat around its city has a
        hole); fill them with the even-odd rule (``matplotlib.path.Path`` of all
        rings does). A new dict on every call; the arrays are shared.

    Examples
    --------
    >>> shapes = powiat_shapes("26")
    >>> len(shapes), list(shapes)[:2]
    (14, ['2601', '2602'])
    >>> ring = shapes["2661"][0]  # Kielce
    >>> ring.shape[1], bool((ring[0] == ring[-1]).all())
    (2, True)
    >>> [round(float(v), 1) for v in ring.mean(axis=0)]
    [20.6, 50.9]
    >>> len(shapes["2604"])  # land powiat kielecki: outer boundary and the city's hole
    2
    """
    code = _voivodeship_code(region, _national_terc())
    found = _shapes()[1]
    return {t: list(found[t]) for t in _national_terc()._powiats if t[:2] == code}


def voivodeship_shapes() -> dict[str, list[np.ndarray]]:
    """Return the boundaries of the 16 voivodeships, keyed by TERYT code.

    Returns
    -------
    dict of str to list of numpy.ndarray
        For each voivodeship (``"02"`` … ``"32"``), its rings as in
        :func:`powiat_shapes`.

    Examples
    --------
    >>> shapes = voivodeship_shapes()
    >>> len(shapes), [round(float(v), 1) for v in shapes["26"][0].mean(axis=0)]
    (16, [20.6, 50.8])
    """
    found = _shapes()[0]
    return {code: list(found[code]) for code in _national_terc()._voivodeships}
