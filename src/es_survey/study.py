"""One study, one config, one run: ``study.toml`` → estimates ready for a report.

A study config names the inputs (frame, responses, codebook, rules), the design
(strata, sample flag, nonresponse adjustment), the estimates wanted (variables,
domains), the language and the outputs. :func:`run_study` calls the public steps
in the order of the data flow — load → validate → classify → weight → estimate —
and returns a frozen :class:`StudyResults` that :mod:`es_survey.report` turns into
the HTML report, the workbook, the CSV and the figures.

Config format (TOML; paths relative to the config file)::

    [study]
    name = "swietokrzyskie-2023"          # folder name under reports/
    title = "Kondycja sektora ekonomii społecznej"
    year = 2023                           # survey year, printed on every chart
    source = "Badanie PES 2023, ROPS"     # data source, printed on every chart
    language = "pl"                       # or "en"
    seed = 2023                           # recorded; used where randomness enters
    date = "2026-11-26"                   # optional report date (default: today,
                                          # or SOURCE_DATE_EPOCH when set)

    [inputs]
    frame = "frame.xlsx"
    responses = "responses.xlsx"
    codebook = "codebook.toml"            # optional (bundled default)
    rules = "rules.toml"                  # optional (bundled default)
    frame_sheet = "Ramka"                 # optional: worksheet of an .xlsx input, by
    responses_sheet = 0                   # name or 0-based number (default: the first)
    terc = "TERC_Urzedowy_2025-01-01.csv" # optional: the TERC register of the frame's
                                          # TERYT codes (GUS eTERYT, "TERC urzędowy");
                                          # default: the bundled one, state 2020-01-01
                                          # (docs/regions.md)
    population = "ludnosc.csv"            # optional: inhabitants by powiat (columns teryt
                                          # and population) for per_10k indicators;
                                          # default: the census figures es_survey ships
                                          # (świętokrzyskie only)

    [limits]                              # optional: caps on input files (docs/security.md)
    max_file_mb = 200                     # also max_unpacked_mb, max_ratio, max_cell_chars,
    max_rows = 1048576                    # max_columns (es_survey.io.Limits)

    [design]
    strata = "stratum"                    # frame column
    sample = "sampled"                    # boolean frame column
    followup = true                       # optional: with a follow-up of nonrespondents in
                                          # the frame (codebook variable followed_up), use
                                          # the two-phase design (default: when present);
                                          # false: ignore it
    followup_calibration = ["krs_economic", "statement_filed"]
                                          # optional, with a follow-up: calibrate the
                                          # phase-2 weights to the phase-1 sample's counts
                                          # of these frame columns (within the phase-2
                                          # strata; TwoPhaseDesign.calibrate_phase2)
    [design.nonresponse]                  # SurveyDesign.adjust_nonresponse arguments
    by = ["stratum"]                      # weighting classes, or:
    # model = "logit"
    # covariates = ["statement_filed", "krs_economic", "year_registered"]
    ineligible = "observed"
    [design.calibration]                  # optional: calibrate to frame counts
    frame_margins = ["es_category", "subregion"]   # frame columns; totals = frame counts
    method = "raking"                     # or "linear", "logit" (then give bounds)
    # bounds = [0.5, 3.0]

    [estimates]
    totals = ["workers", "emp_uop", "emp_civil"]    # among active entities
    domains = ["entity_type", "subregion", "powiat_name"]
    level = 0.95

    [reliability]
    thresholds = [0.10, 0.20, 0.30]       # CV limits: good / acceptable / caution
    min_n = 5                             # fewer sampled units in a domain: not published

    [small_area]                          # optional: Fay–Herriot estimates by powiat
    quantities = ["active", "workers"]    # default: active and the first total; [] for none
    replicates = 500                      # bootstrap replicates of the MSE
    [small_area.covariates]               # optional: register covariates per quantity
    active = ["statement_filed"]          # frame columns, or "column=value" (a share)
    workers = ["es_category=NGO"]

    [[indicators]]                        # optional, repeated: the sector's indicators
    name = "volunteers"                   # (es_survey.indicators): kind total, share,
    kind = "total"                        # mean or ratio; variable (and denominator);
    variable = "volunteers"               # among = "active" (default), "all" or
    label_pl = "Wolontariusze"            # "column=value"; labels, units, domains
    unit_pl = "osoby"
    domains = ["entity_type"]

    [sensitivity]                         # optional: nonresponse sensitivity (pattern mixture)
    deltas = [0.5, 0.625, 0.75, 0.875, 1.0]   # nonrespondents delta times as likely
    quantities = ["active", "employing", "workers"]   # default: these, [] for none

    [plan]                                # optional: the next wave's sample (es_survey.plan,
    method = "multi"                      # `es-survey plan`, the report's last section);
                                          # or "optimal", "neyman", "proportional"
    # n = 300                             # total to draw (neyman, proportional; optimal)
    stratum = "stratum"                   # default: [design] strata
    min_n = 5                             # fewest drawn per stratum (all of a smaller one)
    overlap = "maximise"                  # with this wave's sample; or "minimise",
                                          # "independent"
    # seed = 2024                         # creates the permanent random numbers when the
                                          # frame has no prn column (default [study] seed)
    [[plan.targets]]                      # the CV of a variable's total: overall, or in
    variable = "active"                   # each value of a domain column
    cv = 0.05
    [[plan.targets]]
    variable = "active"
    cv = 0.20
    domain = "subregion"

    [outputs]
    directory = "reports/swietokrzyskie-2023"
    map = "boundaries"                    # powiat maps: "boundaries" or "tiles"

``workers`` is derived as ``emp_uop + emp_civil`` (people working in the entity on
employment or civil-law contracts) when the responses do not carry it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import hashlib
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from es_survey._version import __version__
from es_survey.classify import consistency_report
from es_survey.codebook import parse_number
from es_survey.design import SurveyDesign
from es_survey.dispositions import FOLLOWUP_STATUSES, assign_dispositions, response_rates
from es_survey.errors import DataError
from es_survey.funnel import ANSWER_STAGES, population_totals, sector_funnel, survey_frame
from es_survey.indicators import Indicator, estimate_indicators, parse_indicators
from es_survey.plan import Method, Overlap, Target
from es_survey.rawread import DEFAULT_LIMITS, Limits
from es_survey.regions import load_terc
from es_survey.sae import FayHerriot, small_area
from es_survey.safety import slug
from es_survey.sensitivity import DEFAULT_DELTAS, delta_sensitivity, r_indicator
from es_survey.tables import Lang
from es_survey.twophase import TwoPhaseDesign
from es_survey.validate import SurveyData, load_study

__all__ = [
    "PlanConfig",
    "StudyConfig",
    "StudyResults",
    "check_strict",
    "load_config",
    "load_data",
    "read_population",
    "run_study",
]

_CALIBRATION_KEYS = {"frame_margins", "method", "bounds"}

DEFAULT_MIN_N = 5
"""Fewest sampled units of a domain behind a published estimate (``[reliability] min_n``).

Below it a domain's estimate is not published whatever its CV: a share of 100% from
three units, or a zero from two, says little about the domain (register counts, which
are exact, are always published)."""

_KNOWN = {
    "study": {"name", "title", "year", "source", "language", "seed", "date"},
    "inputs": {
        "frame",
        "responses",
        "codebook",
        "rules",
        "frame_sheet",
        "responses_sheet",
        "terc",
        "population",
    },
    "limits": {f.name for f in dataclasses.fields(Limits)},
    "indicators": set(),  # a list of tables, checked by es_survey.indicators
    "design": {
        "strata",
        "sample",
        "nonresponse",
        "calibration",
        "followup",
        "followup_calibration",
    },
    "estimates": {"totals", "domains", "level"},
    "reliability": {"thresholds", "min_n"},
    "small_area": {"quantities", "replicates", "covariates"},
    "sensitivity": {"deltas", "quantities"},
    "plan": {"method", "n", "stratum", "targets", "min_n", "overlap", "seed"},
    "outputs": {"directory", "map"},
}
_PLAN_METHODS = ("proportional", "neyman", "optimal", "multi")  # es_survey.plan.allocate
_PLAN_OVERLAPS = ("maximise", "minimise", "independent")  # es_survey.plan.select_sample
_TARGET_KEYS = {"variable", "cv", "domain"}
_SAE_STAGES = ANSWER_STAGES


_DEFAULT_TOTALS = ("workers", "emp_uop", "emp_civil")
_NONRESPONSE_KEYS = {"by", "model", "covariates", "outcome", "n_classes", "ineligible"}
_TEXT_LIST = "a list of names (text)"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_value(section: str, key: str, value: object) -> str | None:
    """Return what is wrong with one config value (None when it is fine)."""
    text = isinstance(value, str)
    names = isinstance(value, list) and all(isinstance(v, str) for v in value)
    rules: dict[tuple[str, str], tuple[bool, str]] = {
        ("study", "name"): (text and bool(str(value).strip()), "a non-empty text"),
        ("study", "title"): (text, "a text"),
        ("study", "source"): (text, "a text"),
        ("study", "language"): (value in ("pl", "en"), "'pl' or 'en'"),
        ("study", "year"): (isinstance(value, int) and not isinstance(value, bool)
                            and 1990 <= int(value) <= 2100, "a year such as 2023"),
        ("study", "seed"): (isinstance(value, int) and not isinstance(value, bool),
                            "a whole number"),
        ("study", "date"): (text or isinstance(value, dt.date), "a date YYYY-MM-DD"),
        ("design", "strata"): (text, "a column name"),
        ("design", "sample"): (text, "a column name"),
        ("design", "nonresponse"): (isinstance(value, dict), "a table of keys"),
        ("design", "followup"): (isinstance(value, bool), "true or false"),
        ("design", "followup_calibration"): (names and bool(value), _TEXT_LIST),
        ("design", "calibration"): (isinstance(value, dict), "a table of keys"),
        ("estimates", "totals"): (names, _TEXT_LIST),
        ("estimates", "domains"): (names, _TEXT_LIST),
        ("estimates", "level"): (_is_number(value) and 0 < float(value) < 1,  # type: ignore[arg-type]
                                 "a number between 0 and 1, e.g. 0.95"),
        ("reliability", "thresholds"): (
            isinstance(value, list) and len(value) == 3 and all(_is_number(v) for v in value)
            and all(0 < float(v) for v in value) and value == sorted(value),
            "three increasing numbers, e.g. [0.10, 0.20, 0.30]",
        ),
        ("reliability", "min_n"): (isinstance(value, int) and not isinstance(value, bool)
                                   and int(value) >= 0, "a whole number >= 0"),
        ("outputs", "directory"): (text and bool(str(value).strip()), "a folder path"),
        ("outputs", "map"): (value in ("boundaries", "tiles"), "'boundaries' or 'tiles'"),
        ("sensitivity", "quantities"): (names, _TEXT_LIST),
        ("sensitivity", "deltas"): (
            isinstance(value, list) and len(value) >= 2
            and all(_is_number(v) and 0 < float(v) for v in value)
            and value == sorted(value) and float(value[-1]) == 1.0,
            "increasing positive numbers ending with 1, e.g. [0.5, 0.75, 1.0]",
        ),
        ("plan", "method"): (value in _PLAN_METHODS,
                             "one of " + ", ".join(repr(m) for m in _PLAN_METHODS)),
        ("plan", "n"): (isinstance(value, int) and not isinstance(value, bool)
                        and int(value) >= 1, "a whole number of units >= 1"),
        ("plan", "stratum"): (text and bool(str(value).strip()), "a column name"),
        ("plan", "targets"): (
            isinstance(value, list) and bool(value) and all(isinstance(t, dict) for t in value),
            'a list of tables such as [{variable = "active", cv = 0.05}]',
        ),
        ("plan", "min_n"): (isinstance(value, int) and not isinstance(value, bool)
                            and int(value) >= 0, "a whole number >= 0"),
        ("plan", "overlap"): (value in _PLAN_OVERLAPS,
                              "one of " + ", ".join(repr(m) for m in _PLAN_OVERLAPS)),
        ("plan", "seed"): (isinstance(value, int) and not isinstance(value, bool),
                           "a whole number"),
        ("small_area", "quantities"): (names, _TEXT_LIST),
        ("small_area", "replicates"): (isinstance(value, int) and not isinstance(value, bool)
                                       and int(value) >= 10, "a whole number >= 10"),
        ("small_area", "covariates"): (
            isinstance(value, dict) and all(
                isinstance(v, list) and all(isinstance(c, str) for c in v)
                for v in value.values()
            ),
            "a table: quantity = a list of register columns",
        ),
    }  # fmt: skip
    if section == "inputs" and key.endswith("_sheet"):
        ok = (text and bool(str(value).strip())) or (
            isinstance(value, int) and not isinstance(value, bool) and int(value) >= 0
        )
        expected = "a sheet name (text) or a 0-based sheet number"
    elif section == "inputs":
        ok, expected = text and bool(str(value).strip()), "a file path (text)"
    elif section == "limits":
        ok, expected = _is_number(value) and float(value) > 0, "a positive number"  # type: ignore[arg-type]
    else:
        ok, expected = rules.get((section, key), (True, ""))
    if ok:
        return None
    return f"[{section}] {key} = {value!r}: expected {expected}"


def _unknown(keys: set[str], known: set[str], where: str) -> list[str]:
    out = []
    for key in sorted(keys - known):
        near = difflib.get_close_matches(key, sorted(known), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else f"; known: {sorted(known)}"
        out.append(f"{where} unknown key {key!r}{hint}")
    return out


def _schema_problems(raw: Mapping[str, Any]) -> list[str]:
    """Every problem of a parsed study.toml at once: unknown keys, wrong types or values."""
    problems: list[str] = []
    for section, body in raw.items():
        if section not in _KNOWN:
            near = difflib.get_close_matches(section, sorted(_KNOWN), n=1)
            hint = f"; did you mean [{near[0]}]?" if near else f"; known: {sorted(_KNOWN)}"
            problems.append(f"unknown section [{section}]{hint}")
            continue
        if section == "indicators":
            continue  # [[indicators]]: parse_indicators reports its problems
        if not isinstance(body, dict):
            problems.append(f"[{section}] must be a table of keys")
            continue
        problems += _unknown(set(body), _KNOWN[section], f"[{section}]")
        for key, value in body.items():
            if key in _KNOWN[section]:
                problem = _check_value(section, key, value)
                if problem:
                    problems.append(problem)
    design = raw.get("design", {})
    if isinstance(design, dict):
        nonresponse = design.get("nonresponse")
        if isinstance(nonresponse, dict):
            problems += _unknown(set(nonresponse), _NONRESPONSE_KEYS, "[design.nonresponse]")
        calibration = design.get("calibration")
        if isinstance(calibration, dict):
            problems += _unknown(set(calibration), _CALIBRATION_KEYS, "[design.calibration]")
            bounds = calibration.get("bounds")
            if bounds is not None and not (
                isinstance(bounds, list)
                and len(bounds) == 2
                and all(_is_number(b) for b in bounds)
                and 0 <= float(bounds[0]) < 1 < float(bounds[1])
            ):
                problems.append(
                    f"[design.calibration] bounds = {bounds!r}: expected two numbers L < 1 < U, "
                    "e.g. [0.5, 2.0]"
                )
    plan = raw.get("plan")
    if isinstance(plan, dict):
        problems += _plan_problems(plan)
    sae = raw.get("small_area", {})
    if isinstance(sae, dict) and isinstance(sae.get("quantities", []), list):
        est = raw.get("estimates", {})
        totals = est.get("totals", _DEFAULT_TOTALS) if isinstance(est, dict) else []
        totals = totals if isinstance(totals, list | tuple) else []  # reported above
        known = [*_SAE_STAGES, *(t for t in totals if isinstance(t, str))]
        first = [t for t in totals if isinstance(t, str)][:1]
        wanted = sae.get("quantities", ["active", *first])
        for q in wanted:
            if isinstance(q, str) and q not in known:
                problems.append(
                    f"[small_area] quantities: {q!r} is neither a funnel stage "
                    f"({', '.join(_SAE_STAGES)}) nor one of [estimates] totals {list(totals)}"
                )
        covariates = sae.get("covariates", {})
        if isinstance(covariates, dict):
            for q in covariates:
                if q not in wanted:
                    problems.append(
                        f"[small_area.covariates] {q!r} is not one of [small_area] quantities "
                        f"{list(wanted)}"
                    )
    return problems


def _plan_problems(plan: Mapping[str, Any]) -> list[str]:
    """Problems of ``[plan]`` beyond its keys' kinds: each target, and n against the method."""
    problems: list[str] = []
    targets = plan.get("targets", [])
    for i, target in enumerate(targets if isinstance(targets, list) else []):
        if not isinstance(target, dict):
            continue  # reported with the list
        where = f"[plan] targets[{i}]"
        problems += _unknown(set(target), _TARGET_KEYS, where)
        variable = target.get("variable")
        if not isinstance(variable, str) or not variable.strip():
            problems.append(f"{where} variable = {variable!r}: expected a variable name such as "
                            "'active' or 'workers'")  # fmt: skip
        cv = target.get("cv")
        if not (_is_number(cv) and 0 < float(cv) < 1):  # type: ignore[arg-type]
            problems.append(f"{where} cv = {cv!r}: expected a number between 0 and 1, e.g. "
                            "0.05 (a CV of 5%)")  # fmt: skip
        domain = target.get("domain")
        if domain is not None and (not isinstance(domain, str) or not domain.strip()):
            problems.append(f"{where} domain = {domain!r}: expected a column name such as "
                            "'subregion' (leave it out for the whole population)")  # fmt: skip
    method = plan.get("method", "multi")
    n = plan.get("n")
    if method == "multi" and n is not None:
        problems.append(
            f"[plan] n = {n!r}: method 'multi' finds the smallest sample meeting the targets; "
            "remove n, or set method = 'optimal' for a fixed n"
        )
    if method in ("proportional", "neyman") and n is None:
        problems.append(f"[plan] method = {method!r} needs n (the total to draw)")
    if method in ("multi", "optimal") and "targets" not in plan:
        problems.append(
            f"[plan] method = {method!r} needs targets, e.g. targets = "
            '[{variable = "active", cv = 0.05}]'
        )
    return problems


@dataclass(frozen=True)
class PlanConfig:
    """``[plan]`` of a study.toml: how to allocate and draw the next wave's sample.

    Attributes
    ----------
    method : str
        :func:`~es_survey.allocate`'s method (default ``"multi"``).
    n : int or None
        Total to draw (``"proportional"``, ``"neyman"``, ``"optimal"``).
    stratum : str or None
        The next wave's stratum column (None: ``[design] strata``).
    targets : tuple of Target
        The CV targets (variable, cv, optional domain column).
    min_n : int or None
        Fewest units drawn per stratum (all of a smaller stratum); None: allocate's
        default, ``min(2, N_h)``.
    overlap : str
        :func:`~es_survey.select_sample`'s coordination with this wave's sample.
    seed : int or None
        Creates the permanent random numbers when the frame has no ``prn`` column
        (None: ``[study] seed``).
    """

    method: Method = "multi"
    n: int | None = None
    stratum: str | None = None
    targets: tuple[Target, ...] = ()
    min_n: int | None = None
    overlap: Overlap = "maximise"
    seed: int | None = None


@dataclass(frozen=True)
class StudyConfig:
    """A parsed ``study.toml`` (see the module docstring for the format).

    Attributes
    ----------
    path : Path or None
        The config file (None for a config built in code).
    name, title, source, language : str
        Study name (output folder), report title, data source, ``"pl"`` or ``"en"``.
    year, seed : int
        Survey year; random seed (recorded in the outputs; it seeds the
        small-area bootstrap).
    date : datetime.date
        Report date.
    frame, responses : Path
        Input files.
    codebook, rules : Path or None
        Codebook and rules (None: the bundled defaults).
    strata, sample : str
        Frame columns: sampling stratum, sampled flag.
    nonresponse : dict
        Keyword arguments of :meth:`SurveyDesign.adjust_nonresponse`.
    calibration : dict
        ``frame_margins`` (frame columns whose category counts in the frame are the
        calibration targets), ``method`` and optional ``bounds``; empty for none.
    totals, domains : tuple of str
        Variables totalled among active entities; domain columns.
    level : float
        Confidence level.
    thresholds : tuple of float
        CV limits of the reliability classes.
    output_dir : Path
        Where the report is written.
    map_style : {"boundaries", "tiles"}
        ``[outputs] map``: powiat maps drawn from the boundaries (default) or as the
        schematic tile map (only where the region has a tile layout).
    min_n : int
        Fewest sampled units behind a published domain estimate
        (``[reliability] min_n``, default :data:`DEFAULT_MIN_N`).
    small_area : tuple of str or None
        Quantities estimated by the small-area model by powiat (``[small_area]
        quantities``); None for the default, ``active`` and the first total.
    small_area_replicates : int
        Bootstrap replicates of the small-area MSE.
    small_area_covariates : dict of str to tuple of str
        Register covariates per quantity (missing: :func:`~es_survey.small_area`'s
        defaults).
    sensitivity_deltas : tuple of float
        The ``δ`` grid of :func:`~es_survey.delta_sensitivity` (``[sensitivity]``).
    sensitivity : tuple of str or None
        Its quantities; None for ``active``, ``employing`` and the first total.
    followup : bool or None
        ``[design] followup``: use the frame's follow-up of nonrespondents (True:
        required, False: ignored, None: when present).
    followup_calibration : tuple of str
        ``[design] followup_calibration``: frame columns whose phase-1 sample counts
        the phase-2 weights are calibrated to (empty: none); needs a follow-up.
    frame_sheet, responses_sheet : str, int or None
        ``[inputs] frame_sheet`` / ``responses_sheet``: the worksheet of an ``.xlsx``
        input (name or 0-based number; default the first).
    terc : Path or None
        ``[inputs] terc``: the study's own TERC file (the TERYT codes of another
        reference date, :func:`es_survey.regions.load_terc`); None for the bundled
        register.
    population : Path or None
        ``[inputs] population``: inhabitants by powiat (CSV with columns ``teryt`` and
        ``population``) for ``per_10k`` indicators; None for the census figures of
        :mod:`es_survey.regions` (świętokrzyskie only).
    limits : es_survey.io.Limits
        ``[limits]``: caps on input files (see ``docs/security.md``).
    indicators : tuple of Indicator
        ``[[indicators]]``: the sector's indicators (:mod:`es_survey.indicators`).
    plan : PlanConfig or None
        ``[plan]``: the next wave's sample (None when the study has no ``[plan]``).
    """

    path: Path | None
    name: str
    title: str
    year: int
    source: str
    language: Lang
    seed: int
    date: dt.date
    frame: Path
    responses: Path
    codebook: Path | None
    rules: Path | None
    strata: str
    sample: str
    nonresponse: Mapping[str, Any]
    calibration: Mapping[str, Any]
    totals: tuple[str, ...]
    domains: tuple[str, ...]
    level: float
    thresholds: tuple[float, float, float]
    output_dir: Path
    min_n: int = 5
    small_area: tuple[str, ...] | None = None
    small_area_replicates: int = 500
    small_area_covariates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sensitivity_deltas: tuple[float, ...] = DEFAULT_DELTAS
    sensitivity: tuple[str, ...] | None = None
    followup: bool | None = None
    followup_calibration: tuple[str, ...] = ()
    frame_sheet: str | int | None = None
    responses_sheet: str | int | None = None
    limits: Limits = DEFAULT_LIMITS
    indicators: tuple[Indicator, ...] = ()
    plan: PlanConfig | None = None
    terc: Path | None = None
    map_style: str = "boundaries"
    population: Path | None = None


@dataclass(frozen=True, eq=False)
class StudyResults:
    """Everything a report needs, computed once by :func:`run_study`.

    Attributes
    ----------
    config : StudyConfig
        The study's config.
    data : SurveyData
        Loaded, validated and linked inputs (with the problems table).
    units : pandas.DataFrame
        One row per frame unit: frame columns, fieldwork outcome, answers, flags
        (:func:`~es_survey.survey_frame`).
    design : SurveyDesign or TwoPhaseDesign
        The sampled units after the nonresponse adjustment (and calibration); the
        two-phase design when the frame records a follow-up of nonrespondents.
    weights_before, weights_after : numpy.ndarray
        Design weights and final weights of the responding units (of the phase-2
        units, with a follow-up).
    funnel : pandas.DataFrame
        :func:`~es_survey.sector_funnel` for the whole region.
    funnel_by : dict of str to pandas.DataFrame
        The funnel by each domain column.
    totals : pandas.DataFrame
        :func:`~es_survey.population_totals` of the configured variables.
    totals_by : dict of str to pandas.DataFrame
        The totals by each domain column.
    dispositions : pandas.DataFrame
        :func:`~es_survey.assign_dispositions` for every frame unit.
    response_rates : pandas.DataFrame
        AAPOR rates by stratum (:func:`~es_survey.response_rates`).
    consistency : pandas.DataFrame
        :func:`~es_survey.consistency_report` of the linked answers.
    metadata : dict of str to str
        Package version, SHA-256 of each input file, seed, date, config path.
    small_area : dict of str to FayHerriot
        Fay–Herriot estimates by powiat (:func:`~es_survey.small_area`) of active
        entities and of the first configured total (e.g. ``workers``), keyed by
        ``"active"`` and that total's name, when the study has powiat domains
        (empty otherwise).
    sensitivity : pandas.DataFrame or None
        :func:`~es_survey.delta_sensitivity` of the configured quantities
        (``quantity``, ``delta``, ``estimate``, ``se``, ``lower``, ``upper``) for
        the single-phase analysis (nonresponse adjustment and calibration): without
        a follow-up the row ``δ = 1`` is the published estimate; with one it is the
        estimate that ignores the follow-up, for comparison. None when none is
        configured.
    representativity : pandas.Series or None
        :func:`~es_survey.r_indicator` of the response on the nonresponse model's
        register covariates (or weighting-class columns); None without either.
    followup : pandas.DataFrame or None
        With a follow-up of nonrespondents (frame column ``followed_up``): per
        stratum the sampled units of unknown status, those followed up and the
        statuses found (``active``, ``inactive``, ``ceased``, ``liquidation``,
        ``not_established``). None without one.
    indicators : pandas.DataFrame or None
        :func:`~es_survey.estimate_indicators` of ``[[indicators]]``, overall and by
        their domains; None when none is configured.
    """

    config: StudyConfig
    data: SurveyData
    units: pd.DataFrame
    design: SurveyDesign | TwoPhaseDesign
    weights_before: np.ndarray
    weights_after: np.ndarray
    funnel: pd.DataFrame
    funnel_by: Mapping[str, pd.DataFrame]
    totals: pd.DataFrame
    totals_by: Mapping[str, pd.DataFrame]
    dispositions: pd.DataFrame
    response_rates: pd.DataFrame
    consistency: pd.DataFrame
    metadata: Mapping[str, str] = field(default_factory=dict)
    small_area: Mapping[str, FayHerriot] = field(default_factory=dict)
    sensitivity: pd.DataFrame | None = None
    representativity: pd.Series | None = None
    followup: pd.DataFrame | None = None
    indicators: pd.DataFrame | None = None

    def headline(self) -> pd.DataFrame:
        """Return the two headline figures: active entities and the people working in them.

        Returns
        -------
        pandas.DataFrame
            Rows ``active`` (funnel) and the first configured total (e.g.
            ``workers``), with ``estimate``, ``lower``, ``upper``, ``level``, ``cv``.
        """
        active = self.funnel[self.funnel["stage"] == "active"].assign(quantity="active")
        first = self.totals.iloc[:1].assign(quantity=self.totals["variable"].iloc[:1])
        cols = ["quantity", "estimate", "se", "lower", "upper", "level", "cv", "n"]
        return pd.concat([active[cols], first[cols]], ignore_index=True)


def _where(path: Path | None, section: str, key: str) -> str:
    return f"{path or 'study config'}: [{section}] {key}"


def _path(base: Path, value: object, where: str) -> Path:
    if not isinstance(value, str) or not value:
        raise DataError(f"{where} must be a file path (text), got {value!r}")
    p = Path(value)
    return p if p.is_absolute() else base / p


def _report_date(value: object, where: str) -> dt.date:
    if value is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        if epoch:
            if not epoch.strip().isdigit():
                raise DataError(
                    f"SOURCE_DATE_EPOCH = {epoch!r} is not a number of seconds since "
                    "1970-01-01; unset it or give e.g. 1764547200"
                )
            seconds = int(epoch)
            if seconds > 253402300799:  # 9999-12-31 23:59:59 UTC, the last date Python has
                raise DataError(
                    f"SOURCE_DATE_EPOCH = {epoch!r} is after the year 9999; unset it or give "
                    "e.g. 1764547200"
                )
            return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).date()
        return dt.date.today()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise DataError(f"{where} = {value!r} is not a date; write it as YYYY-MM-DD") from exc


def load_config(path: str | Path | None = None, **overrides: Any) -> StudyConfig:
    """Read a ``study.toml`` (or build the bundled demo's config when ``path`` is None).

    Parameters
    ----------
    path : str, Path or None
        The config file; relative paths inside it are relative to its folder.
    **overrides
        Values replacing fields of the parsed config (e.g. ``output_dir=...``).

    Returns
    -------
    StudyConfig

    Raises
    ------
    DataError
        For a missing or malformed file, an unknown section or key (a typo must
        not be ignored), or a value of the wrong kind; the message names the file,
        the section and the key.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "study.toml").write_text('''
    ... [study]
    ... name = "demo"
    ... year = 2023
    ... [inputs]
    ... frame = "frame.xlsx"
    ... responses = "responses.xlsx"
    ... ''', encoding="utf-8")
    >>> cfg = load_config(d / "study.toml")
    >>> cfg.name, cfg.language, cfg.frame.name, cfg.domains
    ('demo', 'pl', 'frame.xlsx', ('entity_type', 'subregion', 'powiat_name'))
    """
    if path is None:
        raise DataError("load_config needs a study.toml path; es-survey demo builds its own")
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: study config not found; check the path")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{p}: not a valid TOML file: {exc}") from exc
    problems = _schema_problems(raw)
    if problems:
        raise DataError(
            f"{p}: {len(problems)} problem(s) in the study config:\n"
            + "\n".join(f"  {line}" for line in problems)
        )
    base = p.parent
    study = raw.get("study", {})
    inputs = raw.get("inputs", {})
    design = raw.get("design", {})
    est = raw.get("estimates", {})
    sae = raw.get("small_area", {})
    sens = raw.get("sensitivity", {})
    for key in ("frame", "responses"):
        if key not in inputs:
            raise DataError(f"{_where(p, 'inputs', key)} is required")
    name = study.get("name", p.stem)
    language = study.get("language", "pl")
    if language not in ("pl", "en"):
        raise DataError(f"{_where(p, 'study', 'language')} = {language!r}; use 'pl' or 'en'")
    thresholds = tuple(raw.get("reliability", {}).get("thresholds", (0.10, 0.20, 0.30)))
    if len(thresholds) != 3 or not all(isinstance(t, int | float) for t in thresholds):
        raise DataError(f"{_where(p, 'reliability', 'thresholds')} must be three numbers")
    min_n = raw.get("reliability", {}).get("min_n", DEFAULT_MIN_N)
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 0:
        raise DataError(
            f"{_where(p, 'reliability', 'min_n')} = {min_n!r} must be a whole number >= 0 "
            "(the fewest sampled units behind a published estimate)"
        )
    nonresponse = design.get("nonresponse", {"by": [design.get("strata", "stratum")]})
    if not isinstance(nonresponse, dict):
        raise DataError(f"{_where(p, 'design', 'nonresponse')} must be a table")
    calibration = design.get("calibration", {})
    if not isinstance(calibration, dict):
        raise DataError(f"{_where(p, 'design', 'calibration')} must be a table")
    if calibration and not calibration.get("frame_margins"):
        raise DataError(
            f"{p}: [design.calibration] needs frame_margins, a list of frame "
            "columns whose category counts are the targets"
        )
    year = study.get("year")
    if not isinstance(year, int):
        raise DataError(f"{_where(p, 'study', 'year')} = {year!r}; give the survey year")
    config = StudyConfig(
        path=p,
        name=str(name),
        title=str(study.get("title", name)),
        year=year,
        source=str(study.get("source", name)),
        language=language,
        seed=int(study.get("seed", 0)),
        date=_report_date(study.get("date"), _where(p, "study", "date")),
        frame=_path(base, inputs["frame"], _where(p, "inputs", "frame")),
        responses=_path(base, inputs["responses"], _where(p, "inputs", "responses")),
        codebook=_path(base, inputs["codebook"], _where(p, "inputs", "codebook"))
        if "codebook" in inputs
        else None,
        rules=_path(base, inputs["rules"], _where(p, "inputs", "rules"))
        if "rules" in inputs
        else None,
        strata=str(design.get("strata", "stratum")),
        sample=str(design.get("sample", "sampled")),
        nonresponse=dict(nonresponse),
        calibration=dict(calibration),
        totals=tuple(est.get("totals", _DEFAULT_TOTALS)),
        domains=tuple(est.get("domains", ("entity_type", "subregion", "powiat_name"))),
        level=float(est.get("level", 0.95)),
        thresholds=(float(thresholds[0]), float(thresholds[1]), float(thresholds[2])),
        min_n=int(min_n),
        output_dir=_path(
            base,
            raw.get("outputs", {}).get("directory", f"reports/{slug(name)}"),
            _where(p, "outputs", "directory"),
        ),
        map_style=str(raw.get("outputs", {}).get("map", "boundaries")),
        small_area=tuple(sae["quantities"]) if "quantities" in sae else None,
        small_area_replicates=int(sae.get("replicates", 500)),
        small_area_covariates={str(k): tuple(v) for k, v in sae.get("covariates", {}).items()},
        sensitivity_deltas=tuple(float(x) for x in sens.get("deltas", DEFAULT_DELTAS)),
        sensitivity=tuple(sens["quantities"]) if "quantities" in sens else None,
        followup=design.get("followup"),
        followup_calibration=tuple(design.get("followup_calibration", ())),
        frame_sheet=inputs.get("frame_sheet"),
        responses_sheet=inputs.get("responses_sheet"),
        terc=_path(base, inputs["terc"], _where(p, "inputs", "terc")) if "terc" in inputs else None,
        population=(
            _path(base, inputs["population"], _where(p, "inputs", "population"))
            if "population" in inputs
            else None
        ),
        limits=Limits(**raw.get("limits", {})),
        indicators=_indicators(raw.get("indicators", []), p, est),
        plan=_plan(raw.get("plan")),
    )
    return _replace(config, overrides)


def _plan(raw: Mapping[str, Any] | None) -> PlanConfig | None:
    """Build ``[plan]`` (checked by :func:`_schema_problems` before)."""
    if raw is None:
        return None
    targets = tuple(
        Target(str(t["variable"]), float(t["cv"]), t.get("domain")) for t in raw.get("targets", [])
    )
    return PlanConfig(
        method=cast(Method, raw.get("method", "multi")),
        n=raw.get("n"),
        stratum=raw.get("stratum"),
        targets=targets,
        min_n=raw.get("min_n"),
        overlap=cast(Overlap, raw.get("overlap", "maximise")),
        seed=raw.get("seed"),
    )


def _indicators(raw: object, path: Path, est: Mapping[str, Any]) -> tuple[Indicator, ...]:
    """Parse ``[[indicators]]`` of a study.toml (variables are checked when estimated)."""
    if raw == []:
        return ()
    domains = est.get("domains", ("entity_type", "subregion", "powiat_name"))
    try:
        return parse_indicators(raw, domains=list(domains))
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None


def _replace(config: StudyConfig, overrides: Mapping[str, Any]) -> StudyConfig:
    if not overrides:
        return config
    fields = config.__dataclass_fields__
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise DataError(f"unknown study config field(s) {unknown}; known: {sorted(fields)}")
    values = {k: getattr(config, k) for k in fields} | dict(overrides)
    return StudyConfig(**values)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _with_workers(units: pd.DataFrame) -> pd.DataFrame:
    """Add ``workers`` (``emp_uop + emp_civil``; a followed-up unit's from the follow-up)."""
    if "workers" in units.columns or not {"emp_uop", "emp_civil"} <= set(units.columns):
        return units
    workers = units["emp_uop"].astype("Float64") + units["emp_civil"].astype("Float64")
    if "followup_workers" in units.columns and "followed_up" in units.columns:
        followed = units["followed_up"].astype("boolean").fillna(False)
        active = units["active"].astype("boolean")
        found = units["followup_workers"].astype("Float64").mask(active.eq(False), 0.0)
        workers = workers.mask(followed, found)
    return units.assign(workers=workers)


def _followup_summary(units: pd.DataFrame, strata: str) -> pd.DataFrame | None:
    """Per stratum: units of unknown status, followed up, and what was found (or None)."""
    if "followed_up" not in units.columns:
        return None
    followed = units["followed_up"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    if not followed.any():
        return None
    sampled = units[units["sampled"].astype("boolean").fillna(False).to_numpy(dtype=bool)]
    unknown = ~sampled["status_known"].to_numpy(dtype=bool)
    chosen = sampled["followed_up"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    status = sampled["followup_status"].astype("string").where(chosen)
    out = pd.DataFrame(
        {strata: sampled[strata].astype(str), "unknown": unknown, "followed_up": chosen}
    )
    for value in FOLLOWUP_STATUSES:
        out[value] = (status == value).fillna(False).to_numpy(dtype=bool)
    out["not_established"] = chosen & status.isna().to_numpy()
    return out.groupby(strata, sort=True).sum().reset_index()


def _calibrate_to_frame(
    design: SurveyDesign,
    units: pd.DataFrame,
    calibration: Mapping[str, Any],
    say: Callable[[str], None],
) -> SurveyDesign:
    """Calibrate the weights to the frame's category counts of the given columns."""
    margins = list(calibration["frame_margins"])
    missing = [m for m in margins if m not in units.columns]
    if missing:
        raise DataError(f"[design.calibration] frame_margins {missing} are not frame columns")
    say(f"calibrating to the frame counts of {', '.join(margins)}")
    totals: dict[str, Mapping[object, float]] = {
        m: {str(k): float(v) for k, v in units[m].astype("string").value_counts().items()}
        for m in margins
    }
    data = design.data
    design = design.assign(**{m: data[m].astype("string") for m in margins})
    bounds = calibration.get("bounds")
    return design.calibrate(
        totals,
        method=calibration.get("method", "raking"),
        bounds=None if bounds is None else (float(bounds[0]), float(bounds[1])),
    )


def load_data(config: StudyConfig) -> SurveyData:
    r"""Load, validate and link a study's frame and responses as its config says.

    The first step of :func:`run_study`, on its own: :func:`es_survey.load_study`
    with the config's files, codebook, worksheets, limits and TERC register
    (``[inputs] terc``). Nothing is dropped; every problem is in ``.problems``.

    Parameters
    ----------
    config : StudyConfig
        From :func:`load_config`.

    Returns
    -------
    SurveyData

    Raises
    ------
    DataError
        For a missing or malformed ``[inputs] terc`` file (before the data are read);
        from :func:`es_survey.load_study`: a missing or malformed file, no response
        linked to the frame.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from es_survey.synth import write_demo
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_demo(d)
    >>> _ = (d / "study.toml").write_text(
    ...     '[study]\nname = "demo"\nyear = 2023\n'
    ...     '[inputs]\nframe = "frame.xlsx"\nresponses = "responses.xlsx"\n',
    ...     encoding="utf-8")
    >>> data = load_data(load_config(d / "study.toml"))
    >>> counts = data.summary()["problems"].set_index("rule")["count"]
    >>> int(counts["regon_checksum"])
    3
    """
    terc = None
    if config.terc is not None:
        try:
            terc = load_terc(config.terc)
        except DataError as exc:
            raise DataError(f"{_where(config.path, 'inputs', 'terc')}: {exc}") from None
    return load_study(
        config.frame,
        config.responses,
        config.codebook,
        frame_sheet=config.frame_sheet,
        responses_sheet=config.responses_sheet,
        limits=config.limits,
        terc=terc,
    )


def check_strict(data: SurveyData, config: StudyConfig | None = None) -> None:
    r"""Refuse, in one line, study data with error-severity problems (``--strict``).

    ``es-survey run --strict`` calls it after printing the validation summary and
    before estimating: a study whose data have errors (a wrong checksum, an answer
    outside the codebook, a response not in the frame …) stops instead of
    publishing estimates from them.

    Parameters
    ----------
    data : SurveyData
        From :func:`load_data` (or :func:`es_survey.load_study`).
    config : StudyConfig, optional
        Named in the message (its file).

    Raises
    ------
    DataError
        When ``data.problems`` holds errors: one line with their number, the count
        of each rule, and where the rows are listed. Its ``problems`` attribute holds
        them as a table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from es_survey.synth import write_demo
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_demo(d)
    >>> _ = (d / "study.toml").write_text(
    ...     '[study]\nname = "demo"\nyear = 2023\n'
    ...     '[inputs]\nframe = "frame.xlsx"\nresponses = "responses.xlsx"\n',
    ...     encoding="utf-8")
    >>> config = load_config(d / "study.toml")
    >>> check_strict(load_data(config), config)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    es_survey.errors.DataError: study.toml: 10 errors in the study data
    (duplicate_in_responses 2, fte_above_headcount 2, regon_checksum 3,
    response_not_in_frame 3); nothing was estimated (strict). Correct them ...
    """
    errors = data.problems[data.problems["severity"] == "error"].reset_index(drop=True)
    if errors.empty:
        return
    counts = errors["rule"].value_counts(sort=False).sort_index()
    by_rule = ", ".join(f"{rule} {count}" for rule, count in counts.items())
    where = f"{config.path.name}: " if config is not None and config.path is not None else ""
    raise DataError(
        f"{where}{len(errors)} error{'s' if len(errors) != 1 else ''} in the study data "
        f"({by_rule}); nothing was estimated (strict). Correct them (problems.csv of "
        "es-survey validate FRAME RESPONSES names each one's file, row, column and value) "
        "or run without --strict",
        problems=errors,
    )


def read_population(path: str | Path) -> pd.DataFrame:
    r"""Read a population table: inhabitants by powiat, for per-10,000 indicators.

    A CSV (``;`` or ``,``, UTF-8) with a header and the columns ``teryt`` (the powiat's
    4-digit TERYT code; a number that lost its leading zero is padded) and
    ``population`` (inhabitants; Polish digit grouping and decimal commas are read).

    Parameters
    ----------
    path : str or pathlib.Path
        The file.

    Returns
    -------
    pandas.DataFrame
        Columns ``teryt`` (text) and ``population`` (float).

    Raises
    ------
    DataError
        Naming the file, row, column and value that cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "ludnosc.csv"
    >>> _ = f.write_text("teryt;population\n1201;105 000\n1261;800982\n", encoding="utf-8")
    >>> read_population(f)["population"].tolist()
    [105000.0, 800982.0]
    """
    file = Path(path)
    try:
        raw = pd.read_csv(file, sep=None, engine="python", dtype=str, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"{file}: cannot read the population table ({exc})") from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in ("teryt", "population") if c not in raw.columns]
    if missing:
        raise DataError(
            f"{file}: column(s) {missing} missing; expected a header with 'teryt' and "
            f"'population' (found {list(raw.columns)})"
        )
    teryt = raw["teryt"].fillna("").str.strip().str.zfill(4)
    numbers = [parse_number(v) for v in raw["population"].fillna("")]
    for i, (code, value) in enumerate(zip(teryt, numbers, strict=True)):
        if not (len(code) == 4 and code.isdigit()):
            raise DataError(
                f"{file}, row {i + 2}, column 'teryt': value {raw['teryt'].iloc[i]!r}; "
                "expected a 4-digit powiat code"
            )
        if value is None or value <= 0:
            raise DataError(
                f"{file}, row {i + 2}, column 'population': value "
                f"{raw['population'].iloc[i]!r}; expected a number of inhabitants > 0"
            )
    return pd.DataFrame({"teryt": teryt.to_numpy(), "population": numbers})


def run_study(
    config: StudyConfig,
    *,
    progress: Callable[[str], None] | None = None,
    data: SurveyData | None = None,
) -> StudyResults:
    r"""Run a study: load, validate, classify, weight and estimate.

    Parameters
    ----------
    config : StudyConfig
        From :func:`load_config`.
    progress : callable, optional
        Called with a short message before each step (the CLI prints them).
    data : SurveyData, optional
        The config's inputs already loaded by :func:`load_data` (the CLI prints
        their validation summary first); None loads them.

    Returns
    -------
    StudyResults

    Raises
    ------
    DataError, DesignError
        From the steps, with the file, column or stratum named.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from es_survey.synth import write_demo
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_demo(d)
    >>> _ = (d / "study.toml").write_text(
    ...     '[study]\nname = "demo"\nyear = 2023\ndate = "2026-11-26"\n'
    ...     '[inputs]\nframe = "frame.xlsx"\nresponses = "responses.xlsx"\n',
    ...     encoding="utf-8")
    >>> res = run_study(load_config(d / "study.toml"))
    >>> int(res.funnel.loc[res.funnel["stage"] == "registered", "estimate"].round().item())
    632
    """
    say = progress or (lambda message: None)
    if data is None:
        say(f"loading {config.frame.name} and {config.responses.name}")
        data = load_data(config)
    say("classifying the answers")
    rules = None if config.rules is None else str(config.rules)
    units = _with_workers(survey_frame(data, rules, terc=config.terc))
    design0 = SurveyDesign.from_frame(units, config.sample, strata=config.strata)
    followup = None if config.followup is False else _followup_summary(units, config.strata)
    if config.followup and followup is None:
        raise DataError(
            f"{config.path or 'study config'}: [design] followup = true, but the frame marks "
            "no unit followed up (codebook variable followed_up); set it to false or add "
            "the follow-up results to the frame"
        )
    if config.followup_calibration and followup is None:
        raise DataError(
            f"{config.path or 'study config'}: [design] followup_calibration calibrates the "
            "weights of a follow-up, but the study has none (the frame marks no unit "
            "followed up, or [design] followup = false); remove followup_calibration"
        )
    design: SurveyDesign | TwoPhaseDesign
    adjusted: SurveyDesign | None = None
    if followup is not None:
        # a follow-up of nonrespondents: the two-phase design replaces the nonresponse
        # adjustment (and calibration to the frame, not available for it; the report
        # says so); its phase-2 weights may be calibrated to the phase-1 sample's counts
        say("weighting: two phases (respondents and the followed-up nonrespondents)")
        design = TwoPhaseDesign.from_frame(units, config.sample, strata=config.strata)
        if config.followup_calibration:
            names = list(config.followup_calibration)
            unknown = [c for c in names if c not in units.columns]
            if unknown:
                raise DataError(
                    f"{config.path or 'study config'}: [design] followup_calibration "
                    f"{unknown} are not frame columns"
                )
            say(f"calibrating the phase-2 weights to the phase-1 counts of {', '.join(names)}")
            design = design.calibrate_phase2(names)
        # the single-phase analysis that ignores the follow-up, for the sensitivity
        # comparison (followed-up units count as the nonrespondents they were)
        adjusted = design0.adjust_nonresponse("responded", **dict(config.nonresponse))
        single = (
            _calibrate_to_frame(adjusted, units, config.calibration, say)
            if config.calibration
            else adjusted
        )
        in_phase2 = design0.data.index.isin(design.data.index)
        weights_before = design0.weights[in_phase2]
        weights_after = np.asarray(design.weights)
    else:
        say("weighting: design weights and nonresponse adjustment")
        adjusted = design0.adjust_nonresponse("responded", **dict(config.nonresponse))
        design = adjusted
        if config.calibration:
            design = _calibrate_to_frame(adjusted, units, config.calibration, say)
        single = design
        responded = design.data["responded"].to_numpy(dtype=bool)
        weights_before = design0.weights[responded]
        weights_after = design.weights[responded]
    say("estimating the funnel and totals")
    domains = [c for c in config.domains if c in units.columns]
    missing = sorted(set(config.domains) - set(domains))
    if missing:
        raise DataError(
            f"{config.path or 'study config'}: [estimates] domains {missing} are not columns of "
            f"the data; available include entity_type, subregion, powiat_name, stratum"
        )
    # the frame is the register: its counts are exact and every domain estimate is
    # scaled to them (ratio estimators; see es_survey.funnel.sector_funnel)
    funnel = sector_funnel(design, level=config.level, register=units).to_frame()
    funnel_by = {
        c: sector_funnel(design, by=c, level=config.level, register=units).to_frame()
        for c in domains
    }
    totals = population_totals(design, list(config.totals), level=config.level, register=units)
    totals_by = {
        c: population_totals(design, list(config.totals), by=c, level=config.level, register=units)
        for c in domains
    }
    dispositions = assign_dispositions(data.frame)
    rates = response_rates(dispositions, by=config.strata)
    consistency = consistency_report(
        data.linked, None if config.rules is None else str(config.rules)
    )
    metadata = {
        "es_survey_version": __version__,
        # file names and hashes only: no absolute path of the analyst's machine
        "config": config.path.name if config.path else "",
        "seed": str(config.seed),
        "date": config.date.isoformat(),
        f"sha256:{config.frame.name}": _sha256(config.frame),
        f"sha256:{config.responses.name}": _sha256(config.responses),
    }
    for extra in (config.path, config.codebook, config.rules, config.terc, config.population):
        if extra is not None:
            metadata[f"sha256:{extra.name}"] = _sha256(extra)
    sae: dict[str, FayHerriot] = {}
    if "powiat_name" in domains:
        say("small-area estimates by powiat (Fay–Herriot)")
        wanted = config.small_area
        for stage in ("active", *config.totals[:1]) if wanted is None else wanted:
            covariates = config.small_area_covariates.get(stage)
            sae[stage] = small_area(
                design,
                stage,
                area="powiat_name",
                register=units,
                covariates=None if covariates is None else list(covariates),
                B=config.small_area_replicates,
                rng=config.seed,
            )
    sensitivity = None
    wanted = config.sensitivity
    quantities = ("active", "employing", *config.totals[:1]) if wanted is None else wanted
    if quantities and adjusted is not None:
        say("sensitivity to nonresponse (pattern mixture)")
        parts = [
            delta_sensitivity(
                design0, adjusted, q, config.sensitivity_deltas, design=single,
                level=config.level, register=units,
            ).assign(quantity=q)
            for q in quantities
        ]  # fmt: skip
        sensitivity = pd.concat(parts, ignore_index=True)[
            ["quantity", "delta", "estimate", "se", "lower", "upper"]
        ]
    aux = config.nonresponse.get("covariates") or config.nonresponse.get("by")
    representativity = None
    if aux:
        aux_columns = [aux] if isinstance(aux, str) else [str(a) for a in aux]
        representativity = r_indicator(design0, "responded", aux_columns)
    indicators = None
    if config.indicators:
        say("indicators")
        population = None if config.population is None else read_population(config.population)
        indicators = estimate_indicators(
            design, config.indicators, register=units, level=config.level, year=config.year,
            population=population,
        )  # fmt: skip
    return StudyResults(
        indicators=indicators,
        sensitivity=sensitivity,
        representativity=representativity,
        small_area=sae,
        config=config,
        data=data,
        units=units,
        design=design,
        weights_before=weights_before,
        weights_after=weights_after,
        followup=followup,
        funnel=funnel,
        funnel_by=funnel_by,
        totals=totals,
        totals_by=totals_by,
        dispositions=dispositions,
        response_rates=rates,
        consistency=consistency,
        metadata=metadata,
    )
