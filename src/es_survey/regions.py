"""Territorial reference data: powiats and gminas of a voivodeship.

The data ship with the package as CSV files in ``es_survey/data/regions/``, one pair
per voivodeship, named ``<code>_<name>_powiats.csv`` and ``<code>_<name>_gminas.csv``
where ``<code>`` is the two-digit TERYT code of the voivodeship (``26`` =
świętokrzyskie). Another region is added by dropping such a pair of files into that
folder; no code changes are needed.

Powiat file columns: ``teryt`` (4 digits), ``name``, ``kind`` (``"powiat"`` or
``"miasto na prawach powiatu"``), ``nuts3`` (NUTS-3 code), ``subregion`` (NUTS-3
name), ``population_2021`` (census 31 Mar 2021), ``tile_row`` and ``tile_col`` (a
schematic tile-map position, one powiat per tile); further columns are kept.
Gmina file columns: ``teryt`` (7 digits: powiat code, GMI, RODZ), ``name``, ``kind``
(``"miejska"``, ``"wiejska"`` or ``"miejsko-wiejska"``) and ``powiat`` (4 digits).

Sources for świętokrzyskie: TERC register, state 2024-01-01; NUTS 2016 subregions
PL721 kielecki and PL722 sandomiersko-jędrzejowski; GUS census 2021 population
(via citypopulation.de). Note that ``2604`` is the land powiat *kielecki* and
``2661`` the city of Kielce.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Protocol, cast

import pandas as pd

from es_survey.errors import DataError, DesignError

__all__ = ["available_regions", "gminas", "powiats"]

_POWIAT_COLUMNS = (
    "teryt",
    "name",
    "kind",
    "nuts3",
    "subregion",
    "population_2021",
    "tile_row",
    "tile_col",
)
_GMINA_COLUMNS = ("teryt", "name", "kind", "powiat")
_POWIAT_KINDS = {"powiat", "miasto na prawach powiatu"}
_GMINA_KINDS = {"1": "miejska", "2": "wiejska", "3": "miejsko-wiejska"}
_FILE_RE = re.compile(r"^(\d{2})_([a-z0-9_-]+)_(powiats|gminas)\.csv$")


class _Folder(Traversable, Hashable, Protocol):
    """A data folder that can key the ``lru_cache`` of :func:`_powiats` / :func:`_gminas`."""


def _folder() -> _Folder:
    """Return the folder holding the region data files (package data)."""
    # ``files()`` gives a ``pathlib.Path`` (or a ``MultiplexedPath``), both hashable;
    # typeshed's ``Traversable`` protocol just does not say so.
    return cast(_Folder, files("es_survey") / "data" / "regions")


def _region_files() -> dict[str, dict[str, str]]:
    """Map each two-digit region code to its ``{"powiats": file, "gminas": file}``."""
    found: dict[str, dict[str, str]] = {}
    for entry in _folder().iterdir():
        match = _FILE_RE.match(entry.name)
        if match:
            code, _name, part = match.groups()
            found.setdefault(code, {})[part] = entry.name
    return {code: parts for code, parts in found.items() if set(parts) == {"powiats", "gminas"}}


def available_regions() -> list[str]:
    """List the voivodeships whose territorial data ship with the package.

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


def _resolve(region: str) -> dict[str, str]:
    """Return the file names of ``region`` (a code like ``"26"`` or a name)."""
    table = _region_files()
    key = str(region).strip().lower()
    if key in table:
        return table[key]
    for parts in table.values():
        if _FILE_RE.match(parts["powiats"]).group(2) == key:  # type: ignore[union-attr]
            return parts
    raise DesignError(
        f"region={region!r} is not available; available regions: "
        f"{', '.join(available_regions())} (add <code>_<name>_powiats.csv and "
        f"<code>_<name>_gminas.csv to es_survey/data/regions/ for another one)"
    )


def _read(folder: Traversable, name: str) -> pd.DataFrame:
    with (folder / name).open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle, dtype=str, keep_default_na=False)


def _check(frame: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{name}: required column(s) {missing} missing; expected {list(columns)}")
    duplicated = frame["teryt"].duplicated()
    if duplicated.any():
        row = int(duplicated.to_numpy().argmax())
        value = frame["teryt"].iloc[row]
        raise DataError(f"{name}, row {row + 2}, column 'teryt': duplicate code {value!r}")


@lru_cache(maxsize=16)
def _powiats(folder: _Folder, region_files: tuple[str, str]) -> pd.DataFrame:
    name = region_files[0]
    frame = _read(folder, name)
    _check(frame, name, _POWIAT_COLUMNS)
    # (``read_csv`` gives a RangeIndex, so the position is the row label)
    for row, (_, rec) in enumerate(frame.iterrows()):
        if not re.fullmatch(r"\d{4}", rec["teryt"]):
            raise DataError(
                f"{name}, row {row + 2}, column 'teryt': {rec['teryt']!r} is not 4 digits"
            )
        if rec["kind"] not in _POWIAT_KINDS:
            raise DataError(
                f"{name}, row {row + 2}, column 'kind': {rec['kind']!r}; "
                f"expected one of {sorted(_POWIAT_KINDS)}"
            )
    for column in ("population_2021", "tile_row", "tile_col"):
        frame[column] = frame[column].astype("int64")
    for column in frame.columns:
        if column.startswith("population_"):
            frame[column] = pd.to_numeric(frame[column]).astype("int64")
    tiles = frame[["tile_row", "tile_col"]].apply(tuple, axis=1)
    if tiles.duplicated().any():
        raise DataError(f"{name}, column 'tile_row'/'tile_col': two powiats share a tile")
    return frame


@lru_cache(maxsize=16)
def _gminas(folder: _Folder, region_files: tuple[str, str]) -> pd.DataFrame:
    name = region_files[1]
    frame = _read(folder, name)
    _check(frame, name, _GMINA_COLUMNS)
    known = set(_powiats(folder, region_files)["teryt"])
    for row, (_, rec) in enumerate(frame.iterrows()):
        where = f"{name}, row {row + 2}"
        if not re.fullmatch(r"\d{7}", rec["teryt"]):
            raise DataError(f"{where}, column 'teryt': {rec['teryt']!r} is not 7 digits")
        if rec["powiat"] not in known or not rec["teryt"].startswith(rec["powiat"]):
            raise DataError(f"{where}, column 'powiat': {rec['powiat']!r} is not its powiat")
        if _GMINA_KINDS.get(rec["teryt"][6]) != rec["kind"]:
            raise DataError(
                f"{where}, column 'kind': {rec['kind']!r} does not match RODZ digit "
                f"{rec['teryt'][6]!r} (1 miejska, 2 wiejska, 3 miejsko-wiejska)"
            )
    return frame


def powiats(region: str = "26") -> pd.DataFrame:
    """Return the powiats of a voivodeship.

    Parameters
    ----------
    region : str, default "26"
        Two-digit TERYT voivodeship code (or the file-name part, e.g.
        ``"swietokrzyskie"``); see :func:`available_regions`.

    Returns
    -------
    pandas.DataFrame
        One row per powiat: ``teryt`` (4-character str), ``name``, ``kind``
        (``"powiat"`` or ``"miasto na prawach powiatu"``), ``nuts3``, ``subregion``,
        ``population_2021`` (int), ``tile_row``, ``tile_col`` (int) and any further
        columns of the data file (e.g. ``population_2011``, ``plate``). A new copy
        on every call.

    Raises
    ------
    DesignError
        If the region is not available; the message lists the available ones.

    Examples
    --------
    >>> p = powiats("26")
    >>> len(p), int(p["population_2021"].sum())
    (14, 1196557)
    >>> p.set_index("teryt").loc["2661", ["name", "kind"]].tolist()
    ['Kielce', 'miasto na prawach powiatu']
    """
    parts = _resolve(region)
    return _powiats(_folder(), (parts["powiats"], parts["gminas"])).copy()


def gminas(region: str = "26") -> pd.DataFrame:
    """Return the gminas of a voivodeship.

    Parameters
    ----------
    region : str, default "26"
        Two-digit TERYT voivodeship code; see :func:`available_regions`.

    Returns
    -------
    pandas.DataFrame
        One row per gmina: ``teryt`` (7-character str: powiat code, two-digit GMI,
        RODZ digit), ``name``, ``kind`` (``"miejska"``, ``"wiejska"`` or
        ``"miejsko-wiejska"``) and ``powiat`` (4-character str). A new copy on
        every call.

    Raises
    ------
    DesignError
        If the region is not available; the message lists the available ones.

    Examples
    --------
    >>> g = gminas("26")
    >>> len(g), int((g["kind"] == "miejska").sum())
    (102, 5)
    >>> g.loc[g["teryt"] == "2601013", "name"].item()
    'Busko-Zdrój'
    """
    parts = _resolve(region)
    return _gminas(_folder(), (parts["powiats"], parts["gminas"])).copy()
