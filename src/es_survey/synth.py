"""A synthetic social-economy (ES) study of any voivodeship, with known truth.

The generator builds, from one integer seed and a voivodeship (Świętokrzyskie, TERYT
``26``, by default; any code ``02`` … ``32`` or name),

1. a **population**: the sampling frame of ES entities (a register list of
   spółdzielnie socjalne, spółdzielnie pracy and inwalidów, CIS, KIS, ZAZ, WTZ and
   NGO-type entities that the register lists as possibly economic), with the
   auxiliary variables a real register offers *and* the true value of every
   questionnaire variable (:func:`make_population`);
2. a **stratified sample** without replacement, take-all where a type is small
   (:func:`design_strata`, :func:`draw_sample`);
3. **fieldwork**: contact outcomes with nonresponse that depends on type and on
   activity (:func:`simulate_response`);
4. the files an analyst receives — ``frame.xlsx`` and ``responses.xlsx`` with the
   codebook's Polish headers and answer texts, decimal commas, blanks, "brak danych",
   a few inconsistent answers and mistyped REGONs — plus ``truth.csv`` with the
   population truth and a record of every deliberate corruption
   (:func:`make_demo`, :func:`write_demo`).

Calibration targets for Świętokrzyskie (issue 2; ``domain.md`` §0, §3.1, §3.3) hold
**by construction**, whatever the seed:

* 280 active entities, with the type mix of the ROPS 2015 inventory: 44 SS,
  13 spółdzielnie pracy, 2 spółdzielnie inwalidów, 4 ZAZ, 6 CIS, 11 KIS, 26 WTZ and
  174 NGO-type entities;
* total workers (``emp_uop + emp_civil``) of the active entities drawn in
  3,360–3,440 ("prawie 3400 mieszkańców"): employment is drawn, then the large
  employers are rescaled to that total;
* 132 of the 280 active entities (47%) neither earn nor employ (ROPS: "duża liczba …
  nie prowadzi działalności zarobkowej, ani też nie zatrudnia");
* only 35 designated large units of the 233 active NGO-type entities and
  cooperatives can have revenue above 100,000 zł, so at least 85% are at or below
  it (ROPS: over 80%);
* ZAZ employ at least 72% disabled persons, at most 33% of them with a moderate degree.

**Other voivodeships** (issue 11, section 3) get Świętokrzyskie's sector scaled by
their number of gminas: with ``s = G / 102`` (``G`` the region's gminas in TERC,
:func:`es_survey.regions.gminas`; Świętokrzyskie has 102), every count of
:data:`FRAME_PLAN` — units, in liquidation, active, by type — becomes
``round(s * count)`` (halves up; at least 1 unit and 1 active unit of each type), see
:func:`region_plan`. The register of local organisations grows with the number of local
governments (OSP and KGW are village bodies, CIS and KIS gmina ones), and the gmina
count is known for every voivodeship, where census populations are not. By
construction:

* the active entities number exactly the scaled plan's active units, type by type;
* the workers of the active entities total an integer drawn in
  ``[round(3360 s), round(3440 s)]`` (:func:`workers_range`);
* the other counts of the design scale alike (large employers, earners, KIS with
  staff …), so the shares above hold approximately.

Units are placed in powiats in proportion to the census population where the region's
table has one (Świętokrzyskie), else to a size counted in gminas: a rural gmina 1, an
urban-rural one 1.5, an urban one 5, a city with powiat rights 20 (on Świętokrzyskie
this size correlates 0.95 with the 2021 census by powiat); within a powiat, towns take
more units than villages, as for Świętokrzyskie. Names use the region's gminas; NUTS 3
codes and strata come from :func:`es_survey.regions.powiats`; REGONs begin with the
region's TERYT code, or for entities registered before 1999 with the REGON prefix of
the pre-1999 voivodeship of its capital (``29`` kieleckie, ``35`` krakowskie …). NIPs
keep Świętokrzyskie's tax-office prefixes everywhere (no check reads them).

Definitions (``domain.md`` §7): an entity is *active* if it is not in liquidation
and actually operates; an inactive entity has zero revenue and zero employment;
*earning* = ``runs_dg | runs_odplatna_dpp | runs_other_paid``; *employing* =
``emp_uop > 0``; *workers* = ``emp_uop + emp_civil``. CIS, KIS and WTZ participants
are not employees; their employees are the staff.

The demo inputs of ``es-survey demo`` are regenerated from the seed by
:func:`write_demo` (about a second); the committed ``data/raw/frame.xlsx``,
``responses.xlsx`` and ``truth.csv`` are exactly what ``write_demo("data/raw")``
writes (``python -m es_survey.synth --out data/raw`` or ``data/raw/generate_demo.py``).
Another voivodeship's study: ``write_demo(folder, region="12")``,
``python -m es_survey.synth --region 12 --out DIR`` or ``es-survey init DIR
--voivodeship 12 --synthetic``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import tomllib
from collections.abc import Sequence
from functools import lru_cache
from importlib.resources import files
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from es_survey.dispositions import STATUS_KNOWN_OUTCOMES
from es_survey.errors import DesignError
from es_survey.io import save_workbook
from es_survey.regions import gminas, powiats, teryt_problem, voivodeships

__all__ = [
    "ACTIVE_TARGETS",
    "CONTACT_OUTCOMES",
    "FRAME_PLAN",
    "design_strata",
    "draw_sample",
    "make_demo",
    "make_population",
    "region_plan",
    "simulate_followup",
    "simulate_response",
    "workers_range",
    "write_demo",
]

#: Frame composition: entity type -> (units in the frame, of which in liquidation,
#: of which active). Non-NGO rows follow the ROPS inventory of 30.11.2015
#: (``domain.md`` §3.1); the NGO rows split the ~174 active NGO-type entities of §3.3.
FRAME_PLAN: dict[str, tuple[int, int, int]] = {
    "SS": (52, 3, 44),
    "SP_PRACY": (15, 1, 13),
    "SP_INW": (2, 0, 2),
    "ZAZ": (4, 0, 4),
    "CIS": (7, 0, 6),
    "KIS": (13, 0, 11),
    "WTZ": (26, 0, 26),
    "STOW": (250, 8, 86),
    "FUND": (110, 4, 38),
    "OSP": (55, 0, 18),
    "KGW": (60, 1, 20),
    "STOW_ZW": (20, 1, 4),
    "KOSC": (12, 0, 6),
    "SPOLKA_NP": (6, 1, 2),
}

#: Active entities per type (derived from :data:`FRAME_PLAN`).
ACTIVE_TARGETS: dict[str, int] = {t: plan[2] for t, plan in FRAME_PLAN.items()}

#: Contact-outcome codes of the codebook's ``contact_outcome`` answer set.
CONTACT_OUTCOMES: tuple[str, ...] = (
    "complete",
    "partial",
    "refusal",
    "non_contact",
    "ineligible_liquidated",
    "ineligible_ceased",
    "ineligible_not_es",
    "unknown_eligibility",
)

_NGO_TYPES = ("STOW", "FUND", "OSP", "KGW", "STOW_ZW", "KOSC", "SPOLKA_NP")
_REINT_TYPES = ("CIS", "KIS", "ZAZ", "WTZ")
_GROUP = {
    **dict.fromkeys(_NGO_TYPES, "NGO"),
    **dict.fromkeys(_REINT_TYPES, "REINT"),
    "SS": "SS",
    "SP_PRACY": "SP",
    "SP_INW": "SP",
}
_TAKE_ALL_GROUPS = frozenset({"SS", "SP", "REINT"})
_WORKERS_RANGE = (3360, 3441)  # integers drawn in [3360, 3440]
_BASE_GMINAS = 102  # Świętokrzyskie's gminas (TERC): the unit of another region's scale
# Size of a powiat without census population, in rural gminas (see the module docstring).
_GMINA_SIZE = {"wiejska": 1.0, "miejsko-wiejska": 1.5, "miejska": 5.0}
_CITY_SIZE = 20.0
# REGON prefix of units registered before 1999: the pre-1999 voivodeship of the region's
# capital (its number k of the 49 voivodeships gives the prefix 2k - 1).
_OLD_REGON = {
    "02": 93,  # wrocławskie
    "04": 9,  # bydgoskie
    "06": 43,  # lubelskie
    "08": 21,  # gorzowskie
    "10": 47,  # łódzkie
    "12": 35,  # krakowskie
    "14": 1,  # warszawskie
    "16": 53,  # opolskie
    "18": 69,  # rzeszowskie
    "20": 5,  # białostockie
    "22": 19,  # gdańskie
    "24": 27,  # katowickie
    "26": 29,  # kieleckie
    "28": 51,  # olsztyńskie
    "30": 63,  # poznańskie
    "32": 81,  # szczecińskie
}

_LEGAL_FORM = {
    "STOW": "stowarzyszenie",
    "STOW_ZW": "stowarzyszenie zwykłe",
    "FUND": "fundacja",
    "OSP": "stowarzyszenie",
    "KGW": "koło gospodyń wiejskich",
    "KOSC": "kościelna osoba prawna",
    "SPOLKA_NP": "spółka z ograniczoną odpowiedzialnością",
    "SS": "spółdzielnia",
    "SP_PRACY": "spółdzielnia",
    "SP_INW": "spółdzielnia",
    "CIS": "jednostka organizacyjna bez osobowości prawnej",
    "KIS": "jednostka organizacyjna bez osobowości prawnej",
    "ZAZ": "jednostka organizacyjna bez osobowości prawnej",
    "WTZ": "jednostka organizacyjna bez osobowości prawnej",
}
_HAS_KRS = frozenset({"STOW", "FUND", "OSP", "SPOLKA_NP", "SS", "SP_PRACY", "SP_INW"})
# Registration years: (first, last, shape) -- shape > 1 favours recent years.
_YEARS = {
    "STOW": (1989, 2023, 1.3),
    "FUND": (1991, 2023, 1.8),
    "OSP": (1920, 2005, 1.0),
    "KGW": (2019, 2023, 1.0),
    "STOW_ZW": (2016, 2023, 1.0),
    "KOSC": (1990, 2015, 1.0),
    "SPOLKA_NP": (2005, 2022, 1.0),
    "SS": (2007, 2023, 1.5),
    "SP_PRACY": (1950, 1995, 1.0),
    "SP_INW": (1950, 1975, 1.0),
    "CIS": (2005, 2020, 1.0),
    "KIS": (2006, 2020, 1.0),
    "ZAZ": (2001, 2019, 1.0),
    "WTZ": (1993, 2015, 1.0),
}
_QUOTED = (
    "Nadzieja",
    "Razem",
    "Horyzont",
    "Szansa",
    "Promyk",
    "Tęcza",
    "Przystań",
    "Jutrzenka",
    "Pod Dębem",
    "Ziarno",
    "Kalina",
    "Jarzębina",
    "Niezapominajka",
    "Słoneczko",
    "Most",
    "Krokus",
    "Wrzos",
    "Źródło",
    "Perspektywa",
    "Aktywni",
    "Dobry Start",
    "Krok Naprzód",
    "Zielony Dom",
    "Sami Sobie",
    "Na Fali",
    "Równe Szanse",
    "Otwarte Drzwi",
    "Lipa",
    "Kuźnia",
    "Gościniec",
    "Perła",
    "Dąb",
    "Sokół",
    "Orlęta",
    "Pogodni",
    "Harmonia",
    "Zorza",
    "Wspólnota",
    "Pasja",
    "Kłos",
    "Rozwój",
    "Iskra",
    "Pod Lasem",
    "Nowa Droga",
    "Bez Barier",
    "Spichlerz",
    "Łącznik",
    "Wiatrak",
    "Świetlik",
    "Zakątek",
)
_TRADES = (
    "Metalowiec",
    "Krawiec",
    "Budowlani",
    "Postęp",
    "Jedność",
    "Przyszłość",
    "Elektron",
    "Kamieniarz",
    "Drzewiarz",
    "Piekarz",
    "Transport",
    "Dziewiarka",
    "Usługi Komunalne",
    "Gastronomia",
    "Poligrafia",
    "Szkło",
)
_VILLAGES = (
    "Wola",
    "Dąbrowa",
    "Nowa Wieś",
    "Zagórze",
    "Podlesie",
    "Kamionka",
    "Wólka",
    "Brzezie",
    "Górki",
    "Zalesie",
    "Józefów",
    "Rudnik",
    "Olszowa",
    "Podgaje",
    "Bukowa",
    "Chałupki",
    "Grabowiec",
    "Ostrów",
    "Sucha",
    "Topola",
    "Wygoda",
    "Zawada",
    "Borki",
    "Gaj",
    "Jasień",
    "Kolonia",
    "Piaski",
    "Stara Wieś",
    "Łazy",
    "Mokre",
)
_PATRONS = (
    "św. Wojciecha",
    "św. Stanisława",
    "św. Jana Chrzciciela",
    "św. Michała Archanioła",
    "św. Mikołaja",
    "św. Floriana",
    "św. Józefa",
    "Wniebowzięcia NMP",
    "Trójcy Przenajświętszej",
    "św. Jakuba",
)
_STOW_PATTERNS = (
    "Stowarzyszenie na Rzecz Rozwoju Gminy {g}",
    "Stowarzyszenie Przyjaciół Gminy {g}",
    "Stowarzyszenie „{q}” w gminie {g}",
    "Stowarzyszenie Kulturalne „{q}”",
    "Stowarzyszenie Pomocy Osobom Niepełnosprawnym „{q}”",
    "Uczniowski Klub Sportowy „{q}” w gminie {g}",
    "Ludowy Klub Sportowy „{q}” {g}",
    "Stowarzyszenie Inicjatyw Lokalnych „{q}”",
    "Stowarzyszenie Rodziców i Przyjaciół Dzieci „{q}”",
)
_NAME_PATTERNS = {
    "STOW": _STOW_PATTERNS,
    "STOW_ZW": ("Stowarzyszenie zwykłe „{q}” w gminie {g}",),
    "FUND": (
        "Fundacja „{q}”",
        "Fundacja Rozwoju Gminy {g}",
        "Fundacja Pomocy Dzieciom „{q}”",
        "Fundacja Aktywizacji Zawodowej „{q}”",
        "Fundacja Edukacji i Kultury „{q}”",
    ),
    "OSP": ("Ochotnicza Straż Pożarna w miejscowości {v}, gm. {g}",),
    "KGW": (
        "Koło Gospodyń Wiejskich w miejscowości {v}, gm. {g}",
        "Koło Gospodyń Wiejskich „{q}” w miejscowości {v}, gm. {g}",
    ),
    "KOSC": ("Parafia Rzymskokatolicka pw. {p} w gminie {g}",),
    "SPOLKA_NP": ("Centrum Usług Społecznych „{q}” sp. z o.o. non-profit",),
    "SS": ("Spółdzielnia Socjalna „{q}”", "Spółdzielnia Socjalna „{q}” w gminie {g}"),
    "SP_PRACY": ("Spółdzielnia Pracy „{t}”", "Spółdzielnia Pracy „{t}” w gminie {g}"),
    "SP_INW": ("Spółdzielnia Inwalidów „{t}”",),
    "CIS": ("Centrum Integracji Społecznej w gminie {g}",),
    "KIS": ("Klub Integracji Społecznej w gminie {g}",),
    "ZAZ": ("Zakład Aktywności Zawodowej „{q}” w gminie {g}",),
    "WTZ": ("Warsztat Terapii Zajęciowej „{q}” w gminie {g}",),
}
_NIP_OFFICES = (657, 959, 663, 655, 656, 658, 659, 661, 662, 664, 865, 866)

_POPULATION_COLUMNS = (
    "regon",
    "krs",
    "nip",
    "name",
    "legal_form",
    "entity_type",
    "es_category",
    "teryt_powiat",
    "teryt_gmina",
    "nuts3",
    "year_registered",
    "opp",
    "krs_economic",
    "statement_filed",
    "in_liquidation",
    "active",
    "inactive_reason",
    "active_declared",
    "runs_dg",
    "runs_odplatna_dpp",
    "runs_other_paid",
    "market_range",
    "emp_uop",
    "emp_uop_fte",
    "emp_uop_half_fte",
    "emp_civil",
    "emp_at_risk",
    "emp_disabled",
    "emp_disabled_moderate",
    "participants",
    "volunteers",
    "members",
    "revenue_total",
    "revenue_public",
    "revenue_private",
    "revenue_earned",
    "revenue_other",
    "grants",
    "loans",
    "earning",
    "employing",
    "workers",
)
_FIXED_TIME = (2024, 1, 1, 0, 0, 0)


def _generator(rng: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, int | np.integer):
        return np.random.default_rng(rng)
    raise DesignError(f"rng={rng!r} must be an int seed or a numpy.random.Generator")


def _streams(seed: int | np.random.Generator, n: int) -> list[np.random.Generator]:
    """Independent generators for the stages of the demo, all from one seed."""
    if isinstance(seed, np.random.Generator):
        return list(seed.spawn(n))
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise DesignError(f"seed={seed!r} must be a non-negative int or a numpy Generator")
    return [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(n)]


# ----------------------------------------------------------------- identifiers


def _regon_check(body: np.ndarray) -> np.ndarray:
    """Check digit of 8-digit REGON bodies (weights 8 9 2 3 4 5 6 7, mod 11, 10 -> 0)."""
    weights = np.array([8, 9, 2, 3, 4, 5, 6, 7])
    digits = (body[:, None] // 10 ** np.arange(7, -1, -1)) % 10
    return (digits @ weights) % 11 % 10


def _nip_check(body: np.ndarray) -> np.ndarray:
    """Check value of 9-digit NIP bodies (weights 6 5 7 2 3 4 5 6 7, mod 11; 10 is invalid)."""
    weights = np.array([6, 5, 7, 2, 3, 4, 5, 6, 7])
    digits = (body[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    return (digits @ weights) % 11


def _regon_valid(text: str) -> bool:
    if not re.fullmatch(r"\d{9}", text):
        return False
    body = np.array([int(text[:8])])
    return int(_regon_check(body)[0]) == int(text[8])


def _make_regons(old: np.ndarray, rng: np.random.Generator, region: str) -> np.ndarray:
    """Draw unique valid 9-digit REGONs of a region (two-digit TERYT code).

    The prefix is the region's code, or for units registered before 1999 the REGON
    prefix of the pre-1999 voivodeship of its capital (29 kieleckie for ``26``).
    """
    n = len(old)
    tail = rng.choice(1_000_000, size=n, replace=False)
    prefix = np.where(old, _OLD_REGON[region], int(region))
    body = prefix * 1_000_000 + tail
    return np.array([f"{b:08d}{c}" for b, c in zip(body, _regon_check(body), strict=True)])


def _make_nips(n: int, rng: np.random.Generator) -> np.ndarray:
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        office = rng.choice(_NIP_OFFICES, size=2 * n)
        body = office * 1_000_000 + rng.integers(0, 1_000_000, size=2 * n)
        check = _nip_check(body)
        for b, c in zip(body, check, strict=True):
            text = f"{b:09d}{c}"
            if c != 10 and text not in seen and len(out) < n:
                seen.add(text)
                out.append(text)
    return np.array(out)


def _make_krs(year: np.ndarray, has_krs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """KRS numbers growing with the year of entry (KRS opened in 2001), zero-padded."""
    late = 2001 + rng.uniform(0, 3.5, len(year))
    entry = np.where(year < 2001, late, year + rng.random(len(year)))
    knots_year = [2001, 2005, 2010, 2015, 2020, 2024]
    knots_num = [1, 230_000, 350_000, 570_000, 850_000, 1_100_000]
    number = np.interp(entry, knots_year, knots_num).astype(np.int64)
    number = np.maximum(number, 1)
    order = np.argsort(number, kind="stable")
    for prev, cur in pairwise(order):  # make strictly increasing
        number[cur] = max(number[cur], number[prev] + 1)
    return np.array([f"{k:010d}" if ok else None for k, ok in zip(number, has_krs, strict=True)])


# ----------------------------------------------------------------- population


def _gumbel_top(weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of k units drawn without replacement with probability ~ weights."""
    mask = np.zeros(len(weights), dtype=bool)
    if k <= 0:
        return mask
    with np.errstate(divide="ignore"):
        keys = np.log(weights) - np.log(-np.log(rng.random(len(weights))))
    mask[np.argsort(-keys, kind="stable")[:k]] = True
    return mask


def _systematic(n: int, p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Allocate n units to categories with shares p: counts within 1 of n*p, shuffled."""
    cum = np.concatenate([[0.0], np.cumsum(p / p.sum()) * n])
    points = rng.random() + np.arange(n)
    cat = np.searchsorted(cum, points, side="right") - 1
    return rng.permutation(np.clip(cat, 0, len(p) - 1))


def _lognormal(rng: np.random.Generator, median: float, sigma: float, size: int) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(size))


def _region_code(region: str) -> str:
    """Return the two-digit code of a voivodeship given by code or name (else one line)."""
    return str(powiats(region)["teryt"].iloc[0])[:2]


def _scale(count: int, n_gminas: int) -> int:
    """Return ``round(count * n_gminas / 102)``, halves up, in integer arithmetic."""
    return (2 * count * n_gminas + _BASE_GMINAS) // (2 * _BASE_GMINAS)


def region_plan(region: str = "26") -> dict[str, tuple[int, int, int]]:
    """Return the frame composition of a voivodeship: :data:`FRAME_PLAN` scaled to it.

    With ``G`` the region's gminas (:func:`es_survey.regions.gminas`) every count
    ``c`` of :data:`FRAME_PLAN` becomes ``round(c * G / 102)`` (halves up), with at
    least one unit and one active unit of each type; Świętokrzyskie (102 gminas)
    keeps :data:`FRAME_PLAN` itself.

    Parameters
    ----------
    region : str, default "26"
        Two-digit TERYT voivodeship code (``"02"`` … ``"32"``) or its name.

    Returns
    -------
    dict of str to (int, int, int)
        Entity type -> (units in the frame, of which in liquidation, of which active),
        in the order of :data:`FRAME_PLAN`. :func:`make_population` builds exactly
        these numbers.

    Raises
    ------
    DesignError
        If ``region`` is not a voivodeship (the message lists the valid ones).

    Examples
    --------
    >>> region_plan("26") == FRAME_PLAN
    True
    >>> plan = region_plan("12")  # 182 gminas: 182/102 of Świętokrzyskie's counts
    >>> plan["SS"], sum(active for _, _, active in plan.values())
    ((93, 5, 79), 501)
    """
    n_gminas = len(gminas(_region_code(region)))
    out: dict[str, tuple[int, int, int]] = {}
    for t, (n_frame, n_liq, n_act) in FRAME_PLAN.items():
        units = max(1, _scale(n_frame, n_gminas))
        liquidated = min(_scale(n_liq, n_gminas), units - 1)
        active = min(max(1, _scale(n_act, n_gminas)), units - liquidated)
        out[t] = (units, liquidated, active)
    return out


def workers_range(region: str = "26") -> tuple[int, int]:
    """Return the range of the total of workers of a voivodeship's active entities.

    :func:`make_population` draws the total of workers (``emp_uop + emp_civil``) of
    the active entities as a whole number in this range, bounds included, and
    rescales the large employers to hit it exactly: ``[3360, 3440]`` for
    Świętokrzyskie, ``[round(3360 G / 102), round(3440 G / 102)]`` for a region of
    ``G`` gminas (halves up).

    Parameters
    ----------
    region : str, default "26"
        Two-digit TERYT voivodeship code or name.

    Returns
    -------
    tuple of int
        ``(lowest, highest)``.

    Examples
    --------
    >>> workers_range("26"), workers_range("12")
    ((3360, 3440), (5995, 6138))
    """
    n_gminas = len(gminas(_region_code(region)))
    low, high = _WORKERS_RANGE[0], _WORKERS_RANGE[1] - 1
    return _scale(low, n_gminas), _scale(high, n_gminas)


def _powiat_sizes(pw: pd.DataFrame, gm: pd.DataFrame) -> np.ndarray:
    """Return the size of every powiat: census 2021 population, or else counted in gminas."""
    census = pw["population_2021"]
    if census.notna().all():
        return census.to_numpy(dtype=float)
    size = gm["kind"].map(_GMINA_SIZE).groupby(gm["powiat"]).sum()
    counted = pw["teryt"].map(size).fillna(0.0).to_numpy(dtype=float)
    return np.where((pw["kind"] == "miasto na prawach powiatu").to_numpy(), _CITY_SIZE, counted)


def make_population(seed: int | np.random.Generator = 2023, region: str = "26") -> pd.DataFrame:
    """Build the synthetic population (sampling frame with true values) of ES entities.

    Parameters
    ----------
    seed : int or numpy.random.Generator, default 2023
        Seed of the generator; the same seed gives the same population.
    region : str, default "26"
        Two-digit TERYT voivodeship code (``"02"`` … ``"32"``) or its name. For
        Świętokrzyskie the population is the demo's; for another voivodeship the
        counts are scaled to it (:func:`region_plan`, :func:`workers_range`; the
        module docstring says how).

    Returns
    -------
    pandas.DataFrame
        One row per frame unit (632 units for Świętokrzyskie; the sum of
        :func:`region_plan`'s units elsewhere), sorted by REGON, with the canonical
        codebook names: identification (``regon`` valid 9-digit, ``krs`` 10-digit
        zero-padded or missing where the type has no KRS entry, ``nip`` valid,
        ``name``, ``legal_form``, ``entity_type``, ``es_category``,
        ``teryt_powiat``, ``teryt_gmina``, ``nuts3``); register auxiliaries
        (``year_registered``, ``opp``, ``krs_economic``, ``statement_filed``,
        ``in_liquidation``); the true questionnaire answers (``active_declared``,
        ``inactive_reason``, ``runs_dg``, ``runs_odplatna_dpp``, ``runs_other_paid``,
        ``market_range``, ``emp_uop``, ``emp_uop_fte``, ``emp_uop_half_fte``,
        ``emp_civil``, ``emp_at_risk``, ``emp_disabled``, ``emp_disabled_moderate``,
        ``participants``, ``volunteers``, ``members``, ``revenue_total`` = sum of
        ``revenue_public``, ``revenue_private``, ``revenue_earned``,
        ``revenue_other``, ``grants``, ``loans``); and the true flags ``active``,
        ``earning``, ``employing`` (``emp_uop > 0``) and ``workers``
        (``emp_uop + emp_civil``).

    Raises
    ------
    DesignError
        For a negative seed, or a ``region`` that is not a voivodeship (the message
        lists the valid ones).

    Examples
    --------
    >>> pop = make_population(2023)
    >>> len(pop), int(pop["active"].sum())
    (632, 280)
    >>> int(pop.loc[pop["active"], "workers"].sum())
    3363
    >>> mp = make_population(2023, region="małopolskie")
    >>> len(mp), int(mp["active"].sum()), sorted(mp["teryt_powiat"].str[:2].unique())
    (1127, 501, ['12'])
    """
    rng = _streams(seed, 4)[0]
    voiv = _region_code(region)
    pw = powiats(voiv)
    gm = gminas(voiv)
    n_gminas = len(gm)
    plan = region_plan(voiv)
    types = np.concatenate([[t] * counts[0] for t, counts in plan.items()])
    n = len(types)

    # --- geography: near-proportional to population, by type group ---------------
    pop21 = _powiat_sizes(pw, gm)
    city = (pw["kind"] == "miasto na prawach powiatu").to_numpy()
    rural_gminas = gm[gm["kind"] != "miejska"].groupby("powiat").size()
    rural = pw["teryt"].map(rural_gminas).fillna(0).to_numpy(dtype=float)
    powiat_idx = np.empty(n, dtype=np.int64)
    for t in plan:
        sel = np.flatnonzero(types == t)
        if t == "KGW":
            weights = pop21 * rural / np.maximum(rural + 1.0, 1.0) * (~city)
        elif t == "OSP":
            weights = pop21 * np.where(city, 0.2, 1.0)
        elif t in _NGO_TYPES:
            weights = pop21 * np.where(city, 1.25, 1.0)
        else:
            weights = pop21.copy()
        powiat_idx[sel] = _systematic(len(sel), weights, rng)
    teryt_powiat = pw["teryt"].to_numpy()[powiat_idx]
    nuts3 = pw["nuts3"].to_numpy()[powiat_idx]

    teryt_gmina = np.empty(n, dtype=object)
    gmina_name = np.empty(n, dtype=object)
    kind_weight = {"miejska": 4.0, "miejsko-wiejska": 2.0, "wiejska": 1.0}
    for code, rows in gm.groupby("powiat"):
        sel = np.flatnonzero(teryt_powiat == code)
        if len(sel) == 0:
            continue
        base = rows["kind"].map(kind_weight).to_numpy()
        rural_w = (
            rows["kind"].map({"miejska": 0.0, "miejsko-wiejska": 1.0, "wiejska": 2.0}).to_numpy()
        )
        for t_is_rural in (False, True):
            mask = np.isin(types[sel], ["KGW", "OSP"]) == t_is_rural
            idx = sel[mask]
            if len(idx) == 0:
                continue
            w = rural_w if t_is_rural and rural_w.sum() > 0 else base
            pick = rng.choice(len(rows), size=len(idx), p=w / w.sum())
            teryt_gmina[idx] = rows["teryt"].to_numpy()[pick]
            gmina_name[idx] = rows["name"].to_numpy()[pick]

    # --- registration year, liquidation, activity --------------------------------
    year = np.empty(n, dtype=np.int64)
    in_liq = np.zeros(n, dtype=bool)
    active = np.zeros(n, dtype=bool)
    for t, (n_frame, n_liq, n_act) in plan.items():
        sel = np.flatnonzero(types == t)
        first, last, shape = _YEARS[t]
        year[sel] = first + np.floor((last - first + 1) * rng.random(n_frame) ** (1 / shape))
        age = (2023 - year[sel]).astype(float)
        liq = _gumbel_top(np.exp(0.03 * age), n_liq, rng)
        in_liq[sel[liq]] = True
        # recent registration makes activity more likely (dormant old entries)
        w_act = np.where(liq, 0.0, np.exp(-0.06 * age))
        active[sel[_gumbel_top(w_act, n_act, rng)]] = True
    year = np.minimum(year, 2023)

    # --- roles of active units: who earns, who employs ----------------------------
    role = np.full(n, "inactive", dtype=object)
    ngo_act = np.flatnonzero(active & np.isin(types, _NGO_TYPES))
    role_w = {
        "big": {"STOW": 1.0, "FUND": 1.5, "KOSC": 5.0, "SPOLKA_NP": 4.0},
        "small": {"STOW": 1.0, "FUND": 1.2, "KOSC": 1.0, "SPOLKA_NP": 2.0, "OSP": 0.3, "KGW": 0.1},
        "earn": {
            "STOW": 1.0,
            "FUND": 1.0,
            "OSP": 1.5,
            "KGW": 2.5,
            "STOW_ZW": 0.3,
            "KOSC": 1.0,
            "SPOLKA_NP": 2.0,
        },
    }
    free = ngo_act.copy()
    for name, k in (("big", 12), ("small", 15), ("earn", 22)):
        w = np.array([role_w[name].get(t, 0.0) for t in types[free]])
        chosen = _gumbel_top(w, _scale(k, n_gminas), rng)
        role[free[chosen]] = name
        free = free[~chosen]
    role[free] = "none"
    ss_act = np.flatnonzero(active & (types == "SS"))
    perm = rng.permutation(ss_act)
    n_big, n_small = _scale(8, n_gminas), _scale(14, n_gminas)
    role[perm[:n_big]] = "big"
    role[perm[n_big : n_big + n_small]] = "small"
    role[perm[n_big + n_small :]] = "earn"
    for t in ("SP_PRACY", "SP_INW", "ZAZ", "WTZ", "CIS"):
        role[active & (types == t)] = "staff"
    kis_act = rng.permutation(np.flatnonzero(active & (types == "KIS")))
    n_staff = _scale(4, n_gminas)
    role[kis_act[:n_staff]] = "staff"
    role[kis_act[n_staff:]] = "none"

    # --- employment ------------------------------------------------------------
    uop = np.zeros(n, dtype=np.int64)
    civil = np.zeros(n, dtype=np.int64)

    def put(mask: np.ndarray, values: np.ndarray, target: np.ndarray) -> None:
        target[mask] = np.round(values[: int(mask.sum())]).astype(np.int64)

    def m(t: str, r: str | None = None) -> np.ndarray:
        sel = (types == t) & active
        return sel & (role == r) if r is not None else sel

    ngo = np.isin(types, _NGO_TYPES) & active
    k = int(n)
    big_ngo = ngo & (role == "big") & (types != "KOSC")
    put(big_ngo, np.clip(_lognormal(rng, 40, 0.8, k), 4, 200), uop)
    put(m("KOSC", "big"), np.clip(_lognormal(rng, 60, 0.5, k), 10, 200), uop)
    put(ngo & (role == "small"), rng.choice([1, 1, 1, 2], k), uop)
    put(m("SS", "big"), rng.integers(3, 13, k), uop)
    put(m("SS", "small"), rng.choice([1, 1, 2], k), uop)
    put(m("SP_PRACY"), np.clip(_lognormal(rng, 55, 0.7, k), 8, 300), uop)
    put(m("SP_INW"), np.clip(_lognormal(rng, 150, 0.3, k), 60, 300), uop)
    put(m("ZAZ"), rng.integers(35, 71, k), uop)
    put(m("WTZ"), rng.integers(8, 16, k), uop)
    put(m("CIS"), rng.integers(8, 19, k), uop)
    put(m("KIS", "staff"), rng.integers(1, 4, k), uop)

    put(ngo & (role == "big"), rng.poisson(15, k), civil)
    put(ngo & (role == "small"), rng.poisson(2, k), civil)
    put(ngo & (role == "earn"), rng.poisson(8, k) * (rng.random(k) < 0.7), civil)
    put(ngo & (role == "none"), (rng.poisson(3, k) + 1) * (rng.random(k) < 0.4), civil)
    put(m("SS"), rng.poisson(2, k), civil)
    put(np.isin(types, ["SP_PRACY", "SP_INW"]) & active, rng.poisson(3, k), civil)
    put(np.isin(types, _REINT_TYPES) & active, rng.poisson(1.2, k), civil)

    # rescale the large employers so that the total of workers hits the target
    low, high = workers_range(voiv)
    target = int(rng.integers(low, high + 1))
    large = uop >= 10
    excess = target - int(uop.sum() + civil.sum())
    factor = 1.0 + excess / uop[large].sum()
    uop[large] = np.maximum(np.round(uop[large] * factor).astype(np.int64), 10)
    biggest = int(np.argmax(uop))
    uop[biggest] += target - int(uop.sum() + civil.sum())

    # FTE and half-time
    p_half = np.where(np.isin(types, _NGO_TYPES) & (role == "small"), 0.6, 0.85)
    half = rng.binomial(uop, p_half)
    fte = half * rng.uniform(0.7, 1.0, n) + (uop - half) * rng.uniform(0.1, 0.45, n)
    fte = np.where(uop > 0, np.maximum(np.round(fte, 2), 0.25), 0.0)
    fte = np.minimum(fte, uop.astype(float))

    # at-risk and disabled employees
    at_risk = rng.binomial(
        uop,
        np.select(
            [types == "SS", types == "SP_INW", np.isin(types, _NGO_TYPES)], [0.6, 0.1, 0.1], 0.05
        ),
    )
    share_dis = np.select(
        [types == "ZAZ", types == "SP_INW", types == "SS", types == "WTZ"],
        [rng.uniform(0.72, 0.9, n), rng.uniform(0.5, 0.8, n), np.full(n, 0.15), np.full(n, 0.1)],
        0.05,
    )
    disabled = np.where(
        types == "ZAZ", np.ceil(share_dis * uop), rng.binomial(uop, np.clip(share_dis, 0, 1))
    ).astype(np.int64)
    if (types == "SP_INW").any():
        disabled = np.where(types == "SP_INW", np.round(share_dis * uop), disabled)
    disabled = disabled.astype(np.int64)
    moderate = np.where(
        types == "ZAZ",
        np.floor(rng.uniform(0.15, 0.33, n) * uop),
        rng.binomial(disabled, 0.5),
    ).astype(np.int64)
    moderate = np.minimum(moderate, disabled)

    # participants, volunteers, members
    participants = np.zeros(n, dtype=np.int64)
    put(m("CIS"), rng.integers(25, 71, k), participants)
    put(m("KIS"), rng.integers(10, 36, k), participants)
    put(m("WTZ"), rng.integers(20, 46, k), participants)
    members = np.zeros(n, dtype=np.int64)
    put(m("STOW"), np.clip(_lognormal(rng, 25, 0.7, k), 7, 400), members)
    put(m("STOW_ZW"), rng.integers(3, 16, k), members)
    put(m("OSP"), np.clip(rng.normal(33, 10, k), 10, 80), members)
    put(m("KGW"), rng.integers(10, 41, k), members)
    put(m("SS"), rng.integers(5, 16, k), members)
    coop = np.isin(types, ["SP_PRACY", "SP_INW"]) & active
    put(coop, 5 + 0.6 * uop[coop], members)
    volunteers = np.zeros(n, dtype=np.int64)
    put(m("STOW"), _lognormal(rng, 8, 0.8, k) * (rng.random(k) < 0.6), volunteers)
    put(m("FUND"), _lognormal(rng, 5, 0.8, k) * (rng.random(k) < 0.4), volunteers)
    put(m("OSP"), 0.7 * members[m("OSP")], volunteers)
    put(m("KGW"), 0.5 * members[m("KGW")], volunteers)
    put(m("STOW_ZW"), 0.8 * members[m("STOW_ZW")], volunteers)
    put(m("KOSC"), rng.integers(10, 61, k), volunteers)
    put(m("SS"), rng.integers(0, 4, k), volunteers)
    put(np.isin(types, _REINT_TYPES) & active, rng.integers(0, 6, k), volunteers)

    # --- earning activity ---------------------------------------------------------
    earning = np.zeros(n, dtype=bool)
    earn_ngo_p = {"big": 0.8, "small": 0.5, "earn": 1.0, "none": 0.0}
    for r, p in earn_ngo_p.items():
        sel = ngo & (role == r)
        earning[sel] = rng.random(int(sel.sum())) < p
    earning[active & np.isin(types, ["SS", "SP_PRACY", "SP_INW", "ZAZ"])] = True
    n_paid = _scale(4, n_gminas)
    cis = np.flatnonzero(m("CIS"))
    earning[cis[rng.permutation(len(cis))[:n_paid]]] = True
    wtz = np.flatnonzero(m("WTZ"))
    earning[wtz[rng.permutation(len(wtz))[:n_paid]]] = True
    dg = np.zeros(n, dtype=bool)
    dpp = np.zeros(n, dtype=bool)
    other = np.zeros(n, dtype=bool)
    dg[earning & np.isin(types, ["SS", "SP_PRACY", "SP_INW", "ZAZ"])] = True
    dpp[earning & (types == "SS")] = rng.random(int((earning & (types == "SS")).sum())) < 0.2
    dpp[earning & np.isin(types, ["CIS", "WTZ"])] = True
    ngo_earn = np.flatnonzero(earning & ngo)
    primary = rng.random(len(ngo_earn))
    is_local = np.isin(types[ngo_earn], ["KGW", "OSP"])
    main_dg = np.where(is_local, primary < 0.05, primary < 0.4)
    main_dpp = np.where(
        is_local, (primary >= 0.05) & (primary < 0.4), (primary >= 0.4) & (primary < 0.85)
    )
    main_other = ~(main_dg | main_dpp)
    second = rng.random(len(ngo_earn)) < 0.2
    dg[ngo_earn] = main_dg
    dpp[ngo_earn] = main_dpp | (second & main_dg)
    other[ngo_earn] = main_other | (second & main_dpp)
    dg &= ~np.isin(types, ["KGW", "STOW_ZW"])  # these cannot enter the register
    other[ngo_earn] |= ~(dg[ngo_earn] | dpp[ngo_earn] | other[ngo_earn])
    earning = dg | dpp | other

    market = np.full(n, None, dtype=object)
    ranges = np.array(["local", "regional", "national", "international"])
    draw = rng.choice(4, size=n, p=[0.6, 0.33, 0.05, 0.02])
    draw_local = rng.choice(4, size=n, p=[0.9, 0.1, 0.0, 0.0])
    draw = np.where(np.isin(types, ["KGW", "OSP"]), draw_local, draw)
    market[earning] = ranges[draw[earning]]

    # --- revenue (in grosze) ------------------------------------------------------
    wage = fte * rng.uniform(50_000, 65_000, n)
    civil_pay = civil * rng.uniform(1_500, 8_000, n)
    base = np.zeros(n)
    base_median = {"none": 9_000, "earn": 25_000, "small": 15_000, "big": 150_000}
    for r, med in base_median.items():
        sel = ngo & (role == r)
        base[sel] = _lognormal(rng, med, 1.1 if r == "none" else 0.9, int(sel.sum()))
    base[m("SS")] = _lognormal(rng, 30_000, 0.8, int(m("SS").sum()))
    sp = np.isin(types, ["SP_PRACY", "SP_INW"]) & active
    base[sp] = uop[sp] * _lognormal(rng, 60_000, 0.3, int(sp.sum()))
    base[m("ZAZ")] = uop[m("ZAZ")] * 15_000.0
    base[m("WTZ")] = participants[m("WTZ")] * rng.uniform(8_000, 12_000, int(m("WTZ").sum()))
    base[m("CIS")] = participants[m("CIS")] * rng.uniform(6_000, 12_000, int(m("CIS").sum()))
    kis = m("KIS")
    base[kis] = 10_000 + participants[kis] * rng.uniform(1_000, 3_000, int(kis.sum()))
    revenue = np.where(active, wage + civil_pay + base, 0.0)
    zero_rev = ngo & (role == "none") & (rng.random(n) < 0.05)
    revenue[zero_rev] = 0.0
    group_small = (ngo & np.isin(role, ["none", "earn", "small"])) | (
        (types == "SS") & np.isin(role, ["small", "earn"])
    )
    capped = group_small & (revenue > 100_000)
    revenue[capped] = rng.uniform(60_000, 99_900, n)[capped]

    alpha = np.zeros((n, 4))  # public, private, earned, other
    table = {
        "NGO_none": (2, 2, 0, 0.3),
        "NGO_earn": (1.5, 1.5, 2, 0.2),
        "NGO_emp": (3, 1, 1.5, 0.2),
        "SS": (1.5, 0.3, 4, 0.2),
        "SP_PRACY": (0.3, 0.1, 8, 0.3),
        "SP_INW": (2, 0.1, 6, 0.3),
        "ZAZ": (6, 0.2, 2.5, 0.2),
        "WTZ": (10, 0.5, 0.5, 0.2),
        "CIS": (6, 0.3, 2, 0.2),
        "KIS": (10, 0.5, 0, 0.2),
    }
    key = np.where(
        ngo,
        np.where(role == "none", "NGO_none", np.where(role == "earn", "NGO_earn", "NGO_emp")),
        types,
    )
    for name, a in table.items():
        alpha[key == name] = a
    alpha[:, 2] = np.where(earning, alpha[:, 2], 0.0)
    alpha[~active] = 0.0
    gam = rng.gamma(np.where(alpha > 0, alpha, 1.0)) * (alpha > 0)
    tot = gam.sum(axis=1, keepdims=True)
    shares = np.divide(gam, tot, out=np.zeros_like(gam), where=tot > 0)
    cents = np.floor(shares * np.round(revenue * 100)[:, None]).astype(np.int64)
    rev_cents = np.round(revenue * 100).astype(np.int64)
    # the largest source takes the rounding remainder
    top = np.argmax(cents, axis=1)
    cents[np.arange(n), top] += rev_cents - cents.sum(axis=1)
    earned_min = earning & active & (rev_cents > 0) & (cents[:, 2] < 10_000)
    cents[earned_min, 2] += 10_000
    rev_cents = cents.sum(axis=1)

    grants_p = np.select([ngo, types == "SS", np.isin(types, _REINT_TYPES)], [0.5, 0.5, 0.2], 0.1)
    grants = active & (rng.random(n) < grants_p) & (cents[:, 0] > 0)
    loans = active & ~np.isin(types, _REINT_TYPES) & (rng.random(n) < 0.05)

    # --- register auxiliaries, conditional on the truth ----------------------------
    u = rng.random((4, n))
    statement = np.where(active, u[0] < 0.85, np.where(in_liq, u[0] < 0.3, u[0] < 0.2))
    krs_econ = np.where(
        np.isin(types, ["SS", "SP_PRACY", "SP_INW"]),
        True,
        dg | np.where(active, u[1] < 0.3, u[1] < 0.15),
    )
    has_krs = np.isin(types, list(_HAS_KRS))
    krs_econ &= has_krs
    opp = np.isin(types, ["STOW", "FUND", "OSP", "KOSC", "SPOLKA_NP"]) & np.where(
        active, u[2] < 0.18, u[2] < 0.05
    )
    opp |= (types == "SS") & active & (u[2] < 0.05)
    reasons = np.array(["ceased", "suspended", "merged"])
    inactive_reason = np.full(n, None, dtype=object)
    inactive_reason[~active] = reasons[rng.choice(3, size=n, p=[0.7, 0.25, 0.05])][~active]
    inactive_reason[in_liq] = "liquidation"

    es_category = np.select(
        [np.isin(types, _REINT_TYPES), np.isin(types, _NGO_TYPES)], ["REINT", "NGO"], "ECON"
    ).astype(object)
    ps_ok = active & (half >= 3) & np.isin(types, ["SS", *_NGO_TYPES]) & (u[3] < 0.5)
    es_category[ps_ok] = "PS"

    # --- identifiers and names --------------------------------------------------
    regon = _make_regons(year < 1999, rng, voiv)
    nip = _make_nips(n, rng)
    krs = _make_krs(year, has_krs, rng)
    names = _make_names(types, gmina_name, rng)

    pop = pd.DataFrame(
        {
            "regon": regon,
            "krs": krs,
            "nip": nip,
            "name": names,
            "legal_form": [_LEGAL_FORM[t] for t in types],
            "entity_type": types,
            "es_category": es_category,
            "teryt_powiat": teryt_powiat,
            "teryt_gmina": teryt_gmina,
            "nuts3": nuts3,
            "year_registered": year,
            "opp": opp,
            "krs_economic": krs_econ,
            "statement_filed": statement,
            "in_liquidation": in_liq,
            "active": active,
            "inactive_reason": inactive_reason,
            "active_declared": active,
            "runs_dg": dg,
            "runs_odplatna_dpp": dpp,
            "runs_other_paid": other,
            "market_range": market,
            "emp_uop": uop,
            "emp_uop_fte": fte,
            "emp_uop_half_fte": half.astype(np.int64),
            "emp_civil": civil,
            "emp_at_risk": at_risk.astype(np.int64),
            "emp_disabled": disabled,
            "emp_disabled_moderate": moderate,
            "participants": participants,
            "volunteers": volunteers,
            "members": members,
            "revenue_total": rev_cents / 100,
            "revenue_public": cents[:, 0] / 100,
            "revenue_private": cents[:, 1] / 100,
            "revenue_earned": cents[:, 2] / 100,
            "revenue_other": cents[:, 3] / 100,
            "grants": grants,
            "loans": loans,
            "earning": earning,
            "employing": uop > 0,
            "workers": uop + civil,
        }
    )
    return pop.sort_values("regon", kind="stable").reset_index(drop=True)[list(_POPULATION_COLUMNS)]


def _make_names(types: np.ndarray, gmina_name: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Plausible, unique Polish entity names for each unit."""
    names: list[str] = []
    seen: set[str] = set()
    for t, g in zip(types, gmina_name, strict=True):
        patterns = _NAME_PATTERNS[t]
        for attempt in range(200):
            pattern = patterns[int(rng.integers(len(patterns)))]
            text = pattern.format(
                g=g,
                q=_QUOTED[int(rng.integers(len(_QUOTED)))],
                t=_TRADES[int(rng.integers(len(_TRADES)))],
                v=_VILLAGES[int(rng.integers(len(_VILLAGES)))],
                p=_PATRONS[int(rng.integers(len(_PATRONS)))],
            )
            if attempt >= 100:
                text = f"{text} (oddział {attempt - 98})"
            if text not in seen:
                break
        seen.add(text)
        names.append(text)
    return names


# ----------------------------------------------------------------- design and sample


def design_strata(population: pd.DataFrame) -> pd.Series:
    """Return the sampling stratum of every frame unit: type group × NUTS-3 subregion.

    Groups: ``SS`` (spółdzielnie socjalne), ``SP`` (spółdzielnie pracy and
    inwalidów), ``REINT`` (CIS, KIS, ZAZ, WTZ) and ``NGO`` (all NGO-type entities).
    ``SS``, ``SP`` and ``REINT`` strata are take-all in :func:`draw_sample`.

    Parameters
    ----------
    population : pandas.DataFrame
        Frame with columns ``entity_type`` (codebook codes) and ``teryt_powiat``
        (powiats of any voivodeship; their NUTS 3 codes from
        :func:`es_survey.regions.powiats`).

    Returns
    -------
    pandas.Series
        Labels such as ``"NGO-PL721"``, named ``stratum``, on the frame's index.

    Raises
    ------
    DesignError
        If a column is missing, or an entity type or powiat is unknown (the message
        says what is wrong with the code, :func:`es_survey.regions.teryt_problem`).

    Examples
    --------
    >>> frame = pd.DataFrame({"entity_type": ["SS", "FUND"], "teryt_powiat": ["2661", "2601"]})
    >>> design_strata(frame).tolist()
    ['SS-PL721', 'NGO-PL722']
    """
    codes, labels = _strata_codes(population)
    return pd.Series(labels[codes], index=population.index, name="stratum")


@lru_cache(maxsize=1)
def _nuts3_lookup() -> dict[str, str]:
    """Powiat code -> NUTS 3 code, for the powiats of all 16 voivodeships."""
    out: dict[str, str] = {}
    for code in voivodeships()["teryt"]:
        pw = powiats(str(code)).dropna(subset=["nuts3"])
        out.update(zip(pw["teryt"].astype(str), pw["nuts3"].astype(str), strict=True))
    return out


def _strata_codes(population: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Integer stratum code per unit and the sorted stratum labels (vectorised)."""
    for column in ("entity_type", "teryt_powiat"):
        if column not in population.columns:
            raise DesignError(f"design_strata needs column {column!r}; the frame has none")
    type_u, type_i = np.unique(population["entity_type"].to_numpy(dtype=str), return_inverse=True)
    pow_u, pow_i = np.unique(population["teryt_powiat"].to_numpy(dtype=str), return_inverse=True)
    for t in type_u:
        if t not in _GROUP:
            raise DesignError(
                f"entity_type {str(t)!r} has no stratum group; known types: {sorted(_GROUP)}"
            )
    lookup = _nuts3_lookup()
    for p in pow_u:
        if p not in lookup:
            problem = teryt_problem(str(p), "powiat") or f"powiat {p} has no NUTS 3 subregion"
            raise DesignError(f"design_strata: teryt_powiat {str(p)!r}: {problem}")
    unit_labels = np.char.add(
        np.char.add(np.array([_GROUP[t] for t in type_u])[type_i], "-"),
        np.array([lookup[p] for p in pow_u])[pow_i],
    )
    labels, codes = np.unique(unit_labels, return_inverse=True)
    return codes.reshape(-1), labels.astype(object)


def draw_sample(
    population: pd.DataFrame,
    rng: int | np.random.Generator | None = None,
    *,
    ngo_fraction: float = 0.5,
    certainty: np.ndarray | pd.Series | None = None,
) -> pd.DataFrame:
    r"""Draw a stratified simple random sample without replacement.

    Strata come from :func:`design_strata`. ``SS``, ``SP`` and ``REINT`` strata are
    take-all (:math:`n_h = N_h`); an ``NGO`` stratum gets
    :math:`n_h = \max(2, \operatorname{round}(f N_h))`, capped at :math:`N_h`.
    Within a stratum every subset of size :math:`n_h` is equally likely (the
    :math:`n_h` smallest of :math:`N_h` uniform keys). The design weight is
    :math:`w = N_h / n_h` (Särndal, Swensson & Wretman 1992, §3.7).

    Parameters
    ----------
    population : pandas.DataFrame
        The frame (e.g. from :func:`make_population`).
    rng : int or numpy.random.Generator, optional
        Source of randomness.
    ngo_fraction : float, default 0.5
        Sampling fraction :math:`f` of the NGO strata, in (0, 1].
    certainty : array of bool, optional
        Units to take with certainty, in a take-all stratum of their own labelled
        ``"CERTAINTY"`` (e.g. the large employers, when the frame has a size
        measure). One value per frame row.

    Returns
    -------
    pandas.DataFrame
        The sampled rows (original index kept, frame order) with added columns
        ``stratum``, ``N_h``, ``n_h`` and ``weight``.

    Raises
    ------
    DesignError
        If ``ngo_fraction`` is outside (0, 1], or :func:`design_strata` fails.

    Examples
    --------
    >>> pop = make_population(2023)
    >>> s = draw_sample(pop, rng=1)
    >>> round(float(s["weight"].sum()), 6) == len(pop)
    True
    >>> bool((s.loc[s["stratum"].str.startswith("SS"), "weight"] == 1).all())
    True
    """
    if not 0 < ngo_fraction <= 1:
        raise DesignError(f"ngo_fraction={ngo_fraction!r} must be in (0, 1]")
    gen = _generator(rng)
    codes, labels = _strata_codes(population)
    groups = [lab.split("-")[0] for lab in labels]
    if certainty is not None:
        mask = np.asarray(certainty, dtype=bool)
        if mask.shape != codes.shape:
            raise DesignError(
                f"certainty has {mask.size} values; the population has {codes.size} rows"
            )
        labels = np.append(labels, "CERTAINTY").astype(object)
        groups.append("CERTAINTY")
        codes = np.where(mask, len(labels) - 1, codes)
    big_n = np.bincount(codes, minlength=len(labels))
    take_all = np.array([g in _TAKE_ALL_GROUPS or g == "CERTAINTY" for g in groups])
    small_n = np.where(
        take_all, big_n, np.minimum(big_n, np.maximum(2, np.round(ngo_fraction * big_n)))
    ).astype(np.int64)
    keys = gen.random(len(codes))
    order = np.lexsort((keys, codes))
    starts = np.concatenate([[0], np.cumsum(big_n)[:-1]])
    rank = np.empty(len(codes), dtype=np.int64)
    rank[order] = np.arange(len(codes)) - starts[codes[order]]
    chosen = np.flatnonzero(rank < small_n[codes])
    sample = population.iloc[chosen].copy()
    c = codes[chosen]
    sample["stratum"] = labels[c]
    sample["N_h"] = big_n[c]
    sample["n_h"] = small_n[c]
    sample["weight"] = big_n[c] / small_n[c]
    return sample


# ----------------------------------------------------------------- fieldwork

# Outcome probabilities in the order of CONTACT_OUTCOMES.
_P_LIQUIDATION = (0.00, 0.00, 0.05, 0.17, 0.63, 0.05, 0.00, 0.10)
_P_INACTIVE = (0.12, 0.02, 0.06, 0.30, 0.02, 0.33, 0.00, 0.15)
_P_ACTIVE = {
    "REINT": (0.78, 0.07, 0.06, 0.07, 0.00, 0.00, 0.00, 0.02),
    "SS": (0.55, 0.08, 0.15, 0.17, 0.00, 0.00, 0.01, 0.04),
    "SP": (0.55, 0.08, 0.15, 0.17, 0.00, 0.00, 0.01, 0.04),
    "NGO": (0.48, 0.07, 0.15, 0.20, 0.00, 0.00, 0.04, 0.06),
}


def simulate_response(
    sample: pd.DataFrame, rng: int | np.random.Generator | None = None
) -> pd.DataFrame:
    """Simulate the fieldwork outcome of every sampled unit.

    Response depends on activity and type: an active reintegration unit responds
    with probability 0.85, an active cooperative 0.63, an active NGO 0.55; an
    inactive unit not in liquidation 0.14 (it then reports that it was not
    active). A unit in liquidation never responds: when contacted it is found
    ineligible (``ineligible_liquidated`` 0.63, ``ineligible_ceased`` 0.05);
    other inactive units are found ceased with probability 0.33; the rest are
    refusals, non-contacts or of unknown eligibility. A few active NGOs are found
    to be outside the ES sector.

    Parameters
    ----------
    sample : pandas.DataFrame
        Sampled units with ``entity_type``, ``active`` and ``in_liquidation``.
    rng : int or numpy.random.Generator, optional
        Source of randomness.

    Returns
    -------
    pandas.DataFrame
        A copy of ``sample`` with ``contact_outcome`` (codes of the codebook's
        ``contact_outcome`` answer set) and ``responded`` (complete or partial).

    Examples
    --------
    >>> pop = make_population(2023)
    >>> out = simulate_response(draw_sample(pop, rng=1), rng=2)
    >>> set(out["contact_outcome"]) <= set(CONTACT_OUTCOMES)
    True
    >>> bool(out.loc[out["responded"], "contact_outcome"].isin(["complete", "partial"]).all())
    True
    """
    for column in ("entity_type", "active", "in_liquidation"):
        if column not in sample.columns:
            raise DesignError(f"simulate_response needs column {column!r}; the sample has none")
    gen = _generator(rng)
    group = sample["entity_type"].map(_GROUP).to_numpy()
    active = sample["active"].to_numpy(dtype=bool)
    liq = sample["in_liquidation"].to_numpy(dtype=bool)
    probs = np.empty((len(sample), len(CONTACT_OUTCOMES)))
    for g, p in _P_ACTIVE.items():
        probs[group == g] = p
    probs[~active] = _P_INACTIVE
    probs[liq] = _P_LIQUIDATION
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    pick = (gen.random(len(sample))[:, None] > cum).sum(axis=1)
    out = sample.copy()
    out["contact_outcome"] = np.array(CONTACT_OUTCOMES)[pick]
    out["responded"] = np.isin(out["contact_outcome"], ["complete", "partial"])
    return out


def simulate_followup(
    sample: pd.DataFrame,
    share: float = 0.3,
    rng: int | np.random.Generator | None = None,
    *,
    minimum: int = 2,
) -> pd.DataFrame:
    """Follow up a random share of each stratum's units of unknown status.

    After fieldwork, a unit's status is known when it answered or was found in
    liquidation or ceased (:data:`STATUS_KNOWN_OUTCOMES`). Of the others, a simple
    random subsample of ``round(share * k)`` units (at least ``minimum``, at most
    all ``k``) in every stratum is followed up — desk research in the KRS and REGON
    registers and the entity's filings and website, a phone call — and its true
    status is established. Together with the units of known status they are phase
    2 of a two-phase design (:meth:`es_survey.TwoPhaseDesign.from_frame`).

    Parameters
    ----------
    sample : pandas.DataFrame
        Sampled units with ``stratum`` and ``contact_outcome`` (from
        :func:`simulate_response`).
    share : float, default 0.3
        Share of each stratum's units of unknown status followed up, in (0, 1].
    rng : int or numpy.random.Generator, optional
        Source of randomness.
    minimum : int, default 2
        Fewest units followed up in a stratum with unknown units (all of them when
        fewer): with one, the phase-2 variance of the stratum cannot be estimated.

    Returns
    -------
    pandas.DataFrame
        A copy of ``sample`` with ``status_known`` (bool) and ``followed_up``
        (bool: followed up, so its true status is known).

    Raises
    ------
    DesignError
        For a missing column, a share outside (0, 1] or a negative minimum.

    Examples
    --------
    >>> pop = make_population(2023)
    >>> s = simulate_followup(simulate_response(draw_sample(pop, rng=1), rng=2), rng=3)
    >>> bool((s["followed_up"] & s["status_known"]).any())
    False
    >>> int(s["followed_up"].sum()) > 0
    True
    """
    for column in ("stratum", "contact_outcome"):
        if column not in sample.columns:
            raise DesignError(f"simulate_followup needs column {column!r}; the sample has none")
    if not 0 < share <= 1:
        raise DesignError(f"share={share!r} must be in (0, 1], e.g. 0.3")
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
        raise DesignError(f"minimum={minimum!r} must be a whole number >= 0")
    gen = _generator(rng)
    known = sample["contact_outcome"].isin(STATUS_KNOWN_OUTCOMES).to_numpy(dtype=bool)
    follow = np.zeros(len(sample), dtype=bool)
    strata = sample["stratum"].astype(str).to_numpy()
    for h in sorted(set(strata)):
        unknown = np.flatnonzero((strata == h) & ~known)
        if unknown.size == 0:
            continue
        k = min(unknown.size, max(minimum, round(share * unknown.size)))
        follow[gen.choice(unknown, size=k, replace=False)] = True
    out = sample.copy()
    out["status_known"] = known
    out["followed_up"] = follow
    return out


# ----------------------------------------------------------------- messy files

_FINANCE = (
    "revenue_total",
    "revenue_public",
    "revenue_private",
    "revenue_earned",
    "revenue_other",
    "grants",
    "loans",
)
_TRUE_TEXTS = ("tak", "tak", "tak", "tak", "tak", "tak", "Tak", "Tak", "TAK ", " tak", "TAK")
_FALSE_TEXTS = ("nie", "nie", "nie", "nie", "nie", "nie", "Nie", "Nie", "NIE", "nie ", " Nie")
_SPACES = (" ", " ", "\u00a0", "\u2009", "\u202f")


def _codebook() -> dict[str, Any]:
    with (files("es_survey") / "data" / "codebook.toml").open("rb") as handle:
        return tomllib.load(handle)


def _texts(book: dict[str, Any], answer_set: str) -> dict[Any, str]:
    """Code -> first answer text of an answer set (the canonical spelling)."""
    out: dict[Any, str] = {}
    for text, code in book["answers"][answer_set].items():
        out.setdefault(code, text)
    return out


def _polish_number(value: float, decimals: int, rng: np.random.Generator) -> str:
    """Write a number the Polish way: thousands blocks and a decimal comma."""
    sep = _SPACES[int(rng.integers(len(_SPACES)))]
    whole = int(abs(value))
    frac = round(abs(value) - whole, decimals)
    if frac >= 1:  # rounding carried over
        whole, frac = whole + 1, 0.0
    digits = f"{whole:,}".replace(",", sep)
    text = digits
    if decimals and (frac > 0 or rng.random() < 0.4):
        text += "," + f"{frac:.{decimals}f}"[2:]
    return ("-" if value < 0 else "") + text


def _bool_cell(value: bool, rng: np.random.Generator) -> str:
    pool = _TRUE_TEXTS if value else _FALSE_TEXTS
    return pool[int(rng.integers(len(pool)))]


def _count_cell(value: int, rng: np.random.Generator) -> Any:
    u = rng.random()
    if u < 0.03:
        return "brak danych"
    if u < 0.05:
        return None
    if u < 0.06:
        return "nie wiem"
    if u < 0.20:
        return _polish_number(value, 0, rng)
    return int(value)


def _fte_cell(value: float, rng: np.random.Generator) -> Any:
    u = rng.random()
    if u < 0.05:
        return "brak danych"
    if u < 0.40:
        return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")
    return float(value)


def _money_cell(value: float, rng: np.random.Generator) -> Any:
    u = rng.random()
    if u < 0.04:
        return "brak danych"
    if u < 0.06:
        return "odmowa"
    if u < 0.45:
        return _polish_number(value, 2, rng)
    return float(value)


def _mistype_regon(regon: str, taken: set[str], rng: np.random.Generator) -> str:
    """Change one digit (or swap two neighbours) so that the checksum fails."""
    while True:
        digits = list(regon)
        pos = int(rng.integers(2, 8))
        if rng.random() < 0.5 and digits[pos] != digits[pos + 1]:
            digits[pos], digits[pos + 1] = digits[pos + 1], digits[pos]
        else:
            digits[pos] = str((int(digits[pos]) + int(rng.integers(1, 10))) % 10)
        text = "".join(digits)
        if not _regon_valid(text) and text not in taken:
            return text


def _response_rows(
    fielded: pd.DataFrame, book: dict[str, Any], rng: np.random.Generator
) -> tuple[list[dict[str, Any]], dict[str, list[str]], list[str]]:
    """Questionnaire rows (canonical names -> cell values) for the respondents.

    Returns the rows in file order, the corruption labels per REGON and the REGON
    each row belongs to.
    """
    bool_vars = ("runs_dg", "runs_odplatna_dpp", "runs_other_paid")
    reason_text = _texts(book, "inactive_reason")
    market_text = _texts(book, "market_range")
    resp = fielded[fielded["responded"]]
    resp = resp.iloc[rng.permutation(len(resp))]
    complete_active = resp[(resp["contact_outcome"] == "complete") & resp["active"]]
    corrupt: dict[str, list[str]] = {}

    def choose(pool: pd.DataFrame, k: int, label: str) -> None:
        pool = pool[~pool["regon"].isin(corrupt)]
        for regon in pool["regon"].iloc[rng.permutation(len(pool))[:k]]:
            corrupt.setdefault(regon, []).append(label)

    choose(complete_active[complete_active["emp_uop"] > 0], 2, "declared_inactive_with_employees")
    choose(complete_active[complete_active["emp_uop"] >= 2], 2, "fte_above_headcount")
    choose(
        complete_active[complete_active["revenue_earned"] > 0],
        2,
        "no_paid_activity_with_earned_revenue",
    )
    choose(complete_active, 3, "regon_mistyped")
    choose(complete_active, 1, "duplicate_response")

    rows: list[dict[str, Any]] = []
    owners: list[str] = []
    taken = set(fielded["regon"])
    for rec in resp.to_dict("records"):
        tags = corrupt.get(rec["regon"], [])
        row: dict[str, Any] = {"regon": rec["regon"], "name": rec["name"]}
        if "regon_mistyped" in tags:
            row["regon"] = _mistype_regon(rec["regon"], taken, rng)
        elif rng.random() < 0.1:
            row["regon"] = int(rec["regon"])  # the spreadsheet turned it into a number
        declared_active = rec["active"] and "declared_inactive_with_employees" not in tags
        row["active_declared"] = _bool_cell(declared_active, rng)
        if not rec["active"]:
            reason = rec["inactive_reason"]
            row["inactive_reason"] = reason_text[reason] if rng.random() < 0.85 else None
            rows.append(row)
            owners.append(rec["regon"])
            continue
        no_paid = "no_paid_activity_with_earned_revenue" in tags
        for var in bool_vars:
            value = bool(rec[var]) and not no_paid
            row[var] = "nie wiem" if rng.random() < 0.02 else _bool_cell(value, rng)
        if isinstance(rec["market_range"], str) and not no_paid:
            row["market_range"] = market_text[rec["market_range"]]
        for var in (
            "emp_uop",
            "emp_uop_half_fte",
            "emp_civil",
            "emp_at_risk",
            "emp_disabled",
            "emp_disabled_moderate",
            "volunteers",
            "members",
        ):
            row[var] = _count_cell(int(rec[var]), rng)
        if rec["emp_uop"] > 0:
            row["emp_uop_fte"] = _fte_cell(float(rec["emp_uop_fte"]), rng)
        elif rng.random() < 0.5:
            row["emp_uop_fte"] = 0
        if "fte_above_headcount" in tags:
            row["emp_uop"] = int(rec["emp_uop"])
            row["emp_uop_fte"] = float(rec["emp_uop"]) + float(rng.choice([0.5, 1.0, 2.0]))
        if "declared_inactive_with_employees" in tags:
            row["emp_uop"] = int(rec["emp_uop"])
        if rec["entity_type"] in ("CIS", "KIS", "WTZ"):
            row["participants"] = _count_cell(int(rec["participants"]), rng)
        elif rng.random() < 0.3:
            row["participants"] = "nie dotyczy" if rng.random() < 0.5 else 0
        if rec["contact_outcome"] == "complete":
            for var in _FINANCE[:5]:
                row[var] = _money_cell(float(rec[var]), rng)
            if no_paid:
                row["revenue_earned"] = float(rec["revenue_earned"])
            row["grants"] = _bool_cell(bool(rec["grants"]), rng)
            row["loans"] = _bool_cell(bool(rec["loans"]), rng)
        rows.append(row)
        owners.append(rec["regon"])
        if "duplicate_response" in tags:
            again = dict(row)
            again["members"] = int(rec["members"]) + 1
            rows.append(again)
            owners.append(rec["regon"])
    return rows, corrupt, owners


def make_demo(
    seed: int = 2023, followup: float = 0.3, region: str = "26"
) -> dict[str, pd.DataFrame]:
    """Build the whole demo study in memory: population, sample, fieldwork and files.

    Parameters
    ----------
    seed : int, default 2023
        One seed drives every stage (independent streams for population, sample,
        fieldwork, the messy answers and the follow-up).
    followup : float, default 0.3
        Share of each stratum's units of unknown status followed up by desk research
        (:func:`simulate_followup`), whose true status, paid activity, employment and
        number of workers go into the frame's follow-up columns; 0 for none.
    region : str, default "26"
        The voivodeship (code or name; :func:`make_population`). The sample design,
        fieldwork and deliberate faults are the same everywhere: NGO strata by
        subregion sampled at one half, the other types taken whole.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``"population"`` (:func:`make_population`), ``"sample"`` (sampled units with
        ``stratum``, ``N_h``, ``n_h``, ``weight``, ``contact_outcome``,
        ``responded``), ``"frame"`` and ``"responses"`` (the sheets exactly as
        written, with the codebook's Polish headers) and ``"truth"`` (population
        truth with ``stratum``, ``sampled``, ``contact_outcome``, ``responded``,
        ``response_rows`` — sheet rows of ``responses.xlsx``, header = row 1,
        ``;``-separated — ``corruption``, the ``;``-separated deliberate faults
        written into that unit's response rows, and ``followed_up``).

    Examples
    --------
    >>> demo = make_demo(2023)
    >>> len(demo["frame"]) == len(demo["population"])
    True
    >>> int(demo["truth"]["corruption"].str.contains("regon_mistyped").sum())
    3
    >>> opolskie = make_demo(2023, region="16")
    >>> sorted(opolskie["truth"]["stratum"].unique())  # doctest: +NORMALIZE_WHITESPACE
    ['NGO-PL523', 'NGO-PL524', 'REINT-PL523', 'REINT-PL524', 'SP-PL523', 'SP-PL524',
     'SS-PL523', 'SS-PL524']
    """
    if not 0 <= followup <= 1:
        raise DesignError(f"followup={followup!r} must be a share between 0 and 1")
    _, sample_rng, response_rng, mess_rng, followup_rng = _streams(seed, 5)
    book = _codebook()
    population = make_population(seed, region)
    sample = simulate_response(draw_sample(population, sample_rng), response_rng)
    if followup > 0:
        sample = simulate_followup(sample, followup, followup_rng)
    else:
        sample = sample.assign(followed_up=False)
    variables = {v["name"]: v for v in book["variables"]}
    header = {name: v["headers"][0] for name, v in variables.items()}

    # frame sheet
    type_text = _texts(book, "entity_type")
    cat_text = _texts(book, "es_category")
    outcome_text = _texts(book, "contact_outcome")
    yes_no = {True: "tak", False: "nie"}
    frame = pd.DataFrame(
        {
            "regon": population["regon"],
            "krs": population["krs"],
            "nip": population["nip"],
            "name": population["name"],
            "legal_form": population["legal_form"],
            "entity_type": population["entity_type"].map(type_text),
            "es_category": population["es_category"].map(cat_text),
            "teryt_powiat": population["teryt_powiat"],
            "teryt_gmina": population["teryt_gmina"],
            "year_registered": population["year_registered"],
            "opp": population["opp"].map(yes_no),
            "krs_economic": population["krs_economic"].map(yes_no),
            "statement_filed": population["statement_filed"].map(yes_no),
            "in_liquidation": population["in_liquidation"].map(yes_no),
        }
    )
    frame["stratum"] = design_strata(population)
    sampled = population.index.isin(sample.index)
    frame["sampled"] = np.where(sampled, "tak", "nie")
    frame["contact_outcome"] = sample["contact_outcome"].map(outcome_text).reindex(frame.index)
    frame = pd.concat([frame, _followup_columns(population, sample, book)], axis=1)
    frame = frame.rename(columns=header)

    # responses sheet
    rows, corrupt, owners = _response_rows(sample, book, mess_rng)
    names = [v["name"] for v in book["variables"] if v["source"] in ("responses", "both")]
    responses = pd.DataFrame(rows, columns=names).rename(columns=header)
    responses = responses.astype(object).where(responses.notna(), None)

    # truth
    truth = population.copy()
    truth["stratum"] = frame[header["stratum"]].to_numpy()
    truth["sampled"] = sampled
    truth["contact_outcome"] = sample["contact_outcome"].reindex(truth.index)
    truth["responded"] = sample["responded"].reindex(truth.index).fillna(False).astype(bool)
    truth["followed_up"] = sample["followed_up"].reindex(truth.index).fillna(False).astype(bool)
    sheet_rows: dict[str, list[str]] = {}
    for i, regon in enumerate(owners):
        sheet_rows.setdefault(regon, []).append(str(i + 2))
    truth["response_rows"] = truth["regon"].map(lambda r: ";".join(sheet_rows.get(r, [])))
    truth["corruption"] = truth["regon"].map(lambda r: ";".join(corrupt.get(r, [])))
    return {
        "population": population,
        "sample": sample,
        "frame": frame,
        "responses": responses,
        "truth": truth,
    }


def _followup_columns(
    population: pd.DataFrame, sample: pd.DataFrame, book: dict[str, Any]
) -> pd.DataFrame:
    """Return the frame's follow-up columns: what desk research found (followed-up units).

    ``followed_up`` is "tak"/"nie" for sampled units (blank otherwise); for a
    followed-up unit the true status (in liquidation, active, ceased — an inactive
    unit whose reason is ``ceased`` — or inactive), and for an active one its paid
    activity, employment and number of workers.
    """
    status_text = _texts(book, "followup_status")
    yes_no = {True: "tak", False: "nie"}
    followed = pd.Series(False, index=population.index)
    followed[sample.index] = sample["followed_up"].to_numpy(dtype=bool)
    sampled = population.index.isin(sample.index)
    active = population["active"].to_numpy(dtype=bool)
    status = np.where(
        population["in_liquidation"].to_numpy(dtype=bool),
        "liquidation",
        np.where(
            active,
            "active",
            np.where(population["inactive_reason"].to_numpy() == "ceased", "ceased", "inactive"),
        ),
    )
    f = followed.to_numpy(dtype=bool)
    on = pd.Series(f & active, index=population.index)
    flagged = pd.Series(f, index=population.index)
    return pd.DataFrame(
        {
            "followed_up": followed.map(yes_no).where(pd.Series(sampled, index=population.index)),
            "followup_status": pd.Series(status, index=population.index)
            .map(status_text)
            .where(flagged),
            "followup_paid": population["earning"].map(yes_no).where(on),
            "followup_employs": population["employing"].map(yes_no).where(on),
            "followup_workers": population["workers"].astype("Int64").where(on),
        },
        index=population.index,
    )


def _write_xlsx(table: pd.DataFrame, path: Path, sheet: str, text_columns: Sequence[str]) -> None:
    """Write one sheet with openpyxl, byte-identical for identical content."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(list(table.columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    text_idx = {table.columns.get_loc(c) for c in text_columns}
    for values in table.itertuples(index=False, name=None):
        row: list[Any] = []
        for j, value in enumerate(values):
            if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
                row.append(None)
            elif j in text_idx:
                row.append(str(value))
            elif isinstance(value, np.integer):
                row.append(int(value))
            elif isinstance(value, np.floating):
                row.append(float(value))
            else:
                row.append(value)
        ws.append(row)
    for j, column in enumerate(table.columns):
        ws.column_dimensions[ws.cell(row=1, column=j + 1).column_letter].width = min(
            max(12, len(str(column)) * 0.9), 45
        )
    ws.freeze_panes = "A2"
    book.properties.creator = "es_survey.synth"
    save_workbook(book, path, time=dt.datetime(*_FIXED_TIME))


def write_demo(
    directory: str | Path, seed: int = 2023, followup: float = 0.3, region: str = "26"
) -> dict[str, Path]:
    """Generate the demo study and write ``frame.xlsx``, ``responses.xlsx``, ``truth.csv``.

    The same seed gives byte-identical files (fixed workbook and zip timestamps).
    The bundled ``data/raw/`` files are ``write_demo("data/raw", seed=2023)``. An
    installed wheel needs no copy of them: calling ``write_demo`` on any folder
    regenerates them in about a second. ``region`` makes another voivodeship's
    synthetic study (:func:`make_population`); ``truth.csv`` holds its known truth.

    Parameters
    ----------
    directory : str or pathlib.Path
        Target folder (created if missing). Existing files of those names are
        overwritten; nothing else in the folder is touched.
    seed : int, default 2023
        Seed passed to :func:`make_demo`.
    followup : float, default 0.3
        Share of the units of unknown status followed up (:func:`make_demo`); 0 for
        a survey without follow-up.
    region : str, default "26"
        The voivodeship: two-digit TERYT code or name.

    Returns
    -------
    dict of str to pathlib.Path
        Paths keyed ``"frame"``, ``"responses"``, ``"truth"``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write_demo(tmp)
    ...     sorted(p.name for p in paths.values())
    ['frame.xlsx', 'responses.xlsx', 'truth.csv']
    """
    demo = make_demo(seed, followup, region)
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    book = _codebook()
    header = {v["name"]: v["headers"][0] for v in book["variables"]}
    id_text = [header[c] for c in ("regon", "krs", "nip", "teryt_powiat", "teryt_gmina")]
    paths = {
        "frame": target / "frame.xlsx",
        "responses": target / "responses.xlsx",
        "truth": target / "truth.csv",
    }
    _write_xlsx(demo["frame"], paths["frame"], "Ramka losowania", id_text)
    _write_xlsx(demo["responses"], paths["responses"], "Odpowiedzi", [])
    demo["truth"].to_csv(paths["truth"], index=False, lineterminator="\n", encoding="utf-8")
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m es_survey.synth [--out DIR] [--seed N] [--region CODE]``.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit code 0.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     main(["--out", tmp])
    wrote ...frame.xlsx
    wrote ...responses.xlsx
    wrote ...truth.csv
    0
    """
    parser = argparse.ArgumentParser(
        prog="python -m es_survey.synth",
        description="Write a synthetic study (frame, responses, truth) of a voivodeship.",
    )
    parser.add_argument("--out", default="data/raw", help="output folder (default: data/raw)")
    parser.add_argument("--seed", type=int, default=2023, help="random seed (default: 2023)")
    parser.add_argument(
        "--region",
        default="26",
        help="voivodeship: TERYT code 02 … 32 or name (default: 26, świętokrzyskie)",
    )
    args = parser.parse_args(argv)
    try:
        paths = write_demo(args.out, seed=args.seed, region=args.region)
    except DesignError as exc:
        parser.error(str(exc))
    for path in paths.values():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
