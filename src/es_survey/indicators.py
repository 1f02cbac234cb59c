"""The sector's indicators, as a study configures them (``[[indicators]]`` in study.toml).

Regional reports carry more than the funnel: employees and volunteers, the share of
entities with paid activity, the revenue structure, workers per entity. Each indicator
is one estimator of the engine, named and labelled for print:

=========  ==================================================================  ==========
kind       estimate                                                            interval
=========  ==================================================================  ==========
total      total of ``variable`` among ``among`` (item nonresponse handled as   t (Wald)
           in :func:`~es_survey.funnel.population_totals`: eligible count ×
           mean among respondents whose answer is decided)
share      share of ``variable`` (a yes/no flag) true among ``among`` units     logit
           whose answer is decided (:meth:`proportion`); a funnel stage among
           ``"all"`` is the funnel's count over the register's (the same number)
mean       mean of ``variable`` among ``among`` units that answered             t (Wald)
ratio      total of ``variable`` / total of ``denominator`` among ``among``     t (Wald)
           (e.g. public revenue / all revenue)
per_10k    ``variable`` (a funnel stage such as ``registered`` or ``active``, or  t
           a numeric variable totalled among ``among``) per 10 000 inhabitants:
           the count over the census population (``es_survey.regions``, the
           latest year up to the survey's) × 10 000, overall and by territorial
           domain (``powiat_name``, ``teryt_powiat``, ``subregion``)
=========  ==================================================================  ==========

``among`` is a yes/no column (``"active"``, the default), ``"column=value"``
(``"entity_type=ZAZ"``) or ``"all"`` (every eligible unit). Shares and means use the
units whose answer is known; totals add the item-nonresponse adjustment of the funnel.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from es_survey import regions
from es_survey.errors import DataError, DesignError, plain_value
from es_survey.funnel import population_totals, sector_funnel
from es_survey.result import expit, tcrit

__all__ = ["INDICATOR_KINDS", "Indicator", "estimate_indicators", "parse_indicators"]

IndicatorKind = Literal["total", "share", "mean", "ratio", "per_10k"]
INDICATOR_KINDS: tuple[str, ...] = ("total", "share", "mean", "ratio", "per_10k")
_KEYS = {"name", "kind", "variable", "denominator", "among", "label_pl", "label_en",
         "unit_pl", "unit_en", "domains"}  # fmt: skip
_COLUMNS = ("indicator", "kind", "domain", "domain_value", "estimate", "se", "lower", "upper",
            "level", "cv", "df", "n")  # fmt: skip


@dataclass(frozen=True)
class Indicator:
    """One configured indicator (see the module docstring).

    Attributes
    ----------
    name : str
        Identifier (a column of the outputs).
    kind : str
        ``total``, ``share``, ``mean``, ``ratio`` or ``per_10k``.
    variable : str
        The variable (a numeric column; a yes/no flag for ``share``).
    denominator : str or None
        The ratio's denominator.
    among : str
        The population: a flag, ``"column=value"`` or ``"all"``.
    label_pl, label_en, unit_pl, unit_en : str
        What the report prints.
    domains : tuple of str
        Domains (of ``[estimates] domains``) to break the indicator down by.

    Examples
    --------
    >>> Indicator("volunteers", "total", "volunteers").among
    'active'
    """

    name: str
    kind: IndicatorKind
    variable: str
    denominator: str | None = None
    among: str = "active"
    label_pl: str = ""
    label_en: str = ""
    unit_pl: str = ""
    unit_en: str = ""
    domains: tuple[str, ...] = ()

    @property
    def exact(self) -> bool:
        """Whether the value is exact: the register's count per inhabitant (no interval)."""
        return self.kind == "per_10k" and self.variable == "registered"

    def label(self, lang: str) -> str:
        """Return the label in ``lang`` (``"pl"`` or ``"en"``), the name when none is given."""
        return (self.label_pl if lang == "pl" else self.label_en) or self.name

    def unit(self, lang: str) -> str:
        """Return the unit in ``lang`` ("%" for a share when none is given)."""
        given = self.unit_pl if lang == "pl" else self.unit_en
        return given or ("%" if self.kind == "share" else "")


def parse_indicators(
    raw: object, *, columns: Sequence[str] = (), domains: Sequence[str] = ()
) -> tuple[Indicator, ...]:
    """Validate ``[[indicators]]`` of a study.toml; every problem in one error.

    Parameters
    ----------
    raw : object
        The parsed TOML value (a list of tables).
    columns : sequence of str
        Known variable names (codebook variables, flags, derived columns); empty to
        skip that check.
    domains : sequence of str
        The study's ``[estimates] domains``: an indicator's domains must be among them.

    Returns
    -------
    tuple of Indicator

    Raises
    ------
    DataError
        Naming each indicator, key and value at fault, with the nearest valid key.

    Examples
    --------
    >>> parse_indicators([{"name": "v", "kind": "total", "variable": "volunteers"}])[0].kind
    'total'
    >>> parse_indicators([{"name": "v", "kind": "sum", "variable": "x"}])
    Traceback (most recent call last):
    ...
    es_survey.errors.DataError: 1 problem(s) in [[indicators]]:
      [[indicators]] 'v': kind = 'sum'; expected one of total, share, mean, ratio, per_10k
    """
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        raise DataError("[[indicators]] must be a list of tables (one [[indicators]] each)")
    problems: list[str] = []
    out: list[Indicator] = []
    seen: set[str] = set()
    known = set(columns)
    for k, table in enumerate(raw, start=1):
        name = table.get("name")
        where = f"[[indicators]] {name!r}" if isinstance(name, str) else f"[[indicators]] #{k}"
        for key in sorted(set(table) - _KEYS):
            near = difflib.get_close_matches(key, sorted(_KEYS), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f"; known: {sorted(_KEYS)}"
            problems.append(f"{where}: unknown key {key!r}{hint}")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}: name must be a non-empty text")
            continue
        if name in seen:
            problems.append(f"{where}: the name is used twice")
        seen.add(name)
        kind = table.get("kind")
        if kind not in INDICATOR_KINDS:
            problems.append(
                f"{where}: kind = {kind!r}; expected one of {', '.join(INDICATOR_KINDS)}"
            )
            continue
        texts = {}
        for key in ("variable", "denominator", "among", "label_pl", "label_en", "unit_pl",
                    "unit_en"):  # fmt: skip
            value = table.get(key)
            if value is not None and not isinstance(value, str):
                problems.append(f"{where}: {key} = {value!r}; expected a text")
            elif value is not None:
                texts[key] = value
        variable = texts.get("variable")
        if not variable:
            problems.append(f"{where}: variable is required")
            continue
        denominator = texts.get("denominator")
        if (kind == "ratio") != (denominator is not None):
            problems.append(
                f"{where}: denominator is "
                + ("required for kind 'ratio'" if kind == "ratio" else "for kind 'ratio' only")
            )
        among = texts.get("among", "active")
        checked: list[str | None] = [denominator, among.split("=")[0]]
        if not (kind == "per_10k" and variable in ("registered", *_STAGES)):
            checked.append(variable)
        for column in checked:
            if known and column and column != "all" and column not in known:
                near = difflib.get_close_matches(column, sorted(known), n=1)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                problems.append(f"{where}: no variable {column!r}{hint}")
        wanted = table.get("domains", [])
        if not isinstance(wanted, list) or not all(isinstance(d, str) for d in wanted):
            problems.append(f"{where}: domains = {wanted!r}; expected a list of names")
            wanted = []
        for d in wanted:
            if kind == "per_10k" and d not in _TERRITORIAL:
                problems.append(
                    f"{where}: per 10 000 inhabitants needs a territorial domain "
                    f"({', '.join(_TERRITORIAL)}), not {d!r}"
                )
            if d not in domains:
                problems.append(
                    f"{where}: domain {d!r} is not one of [estimates] domains {list(domains)}"
                )
        out.append(
            Indicator(
                name=name,
                kind=kind,
                variable=variable,
                denominator=denominator,
                among=among,
                label_pl=texts.get("label_pl", ""),
                label_en=texts.get("label_en", ""),
                unit_pl=texts.get("unit_pl", ""),
                unit_en=texts.get("unit_en", ""),
                domains=tuple(wanted),
            )
        )
    if problems:
        raise DataError(
            f"{len(problems)} problem(s) in [[indicators]]:\n"
            + "\n".join(f"  {p}" for p in problems)
        )
    return tuple(out)


def _population(data: pd.DataFrame, among: str) -> np.ndarray:
    """Units of the population ``among``: a flag, "column=value" or "all"."""
    if among == "all":
        return np.ones(len(data), dtype=bool)
    column, _, value = among.partition("=")
    if column not in data.columns:
        raise DesignError(f"indicator population {among!r}: no column {column!r} in the design")
    if value:
        return (data[column].astype("string") == value).fillna(False).to_numpy(dtype=bool)
    return data[column].astype("boolean").fillna(False).to_numpy(dtype=bool)


def _tidy(est: Any, indicator: Indicator, domain: str | None) -> pd.DataFrame:
    frame = est.to_frame() if hasattr(est, "to_frame") else est
    frame = frame.reset_index(drop=True)
    return pd.DataFrame(
        {
            "indicator": indicator.name,
            "kind": indicator.kind,
            "domain": domain or "",
            "domain_value": frame[domain].astype(str).to_numpy() if domain else "",
            **{
                c: frame[c].to_numpy(dtype=float)
                for c in ("estimate", "se", "lower", "upper", "level", "cv", "df")
            },
            "n": frame["n"].to_numpy() if "n" in frame else np.nan,
        }
    )


_STAGES = ("eligible", "active", "earning", "employing")
_TERRITORIAL = ("powiat_name", "teryt_powiat", "subregion")


def _populations(
    units: pd.DataFrame, year: int, supplied: pd.DataFrame | None = None
) -> tuple[dict[str, dict[str, float]], str]:
    """Return the population by powiat name, TERYT code and subregion, and its column.

    ``supplied`` (columns ``teryt``, 4-digit powiat codes, and ``population``) is a
    study's own table; otherwise the census figures :mod:`es_survey.regions` ships.
    """
    codes = units["teryt_powiat"].dropna().astype(str).str[:2].unique()
    if len(codes) != 1:
        raise DesignError(
            "per 10 000 inhabitants: the frame's powiats (teryt_powiat) must lie in one "
            f"voivodeship, found {sorted(codes)}"
        )
    table = regions.powiats(str(codes[0]))
    if supplied is not None:
        pop, column = _supplied_population(supplied, table), "population"
    else:
        # a voivodeship without a detailed table has population_2021 all NaN: not supplied
        years = sorted(
            int(c[11:])
            for c in table.columns
            if c.startswith("population_") and table[c].notna().all()
        )
        if not years:
            raise DesignError(
                f"per 10 000 inhabitants: no population for voivodeship {codes[0]} "
                "(es_survey.regions ships census figures for 26 only); give the study a "
                "population table ([inputs] population: columns teryt and population, one "
                "row per powiat, e.g. GUS census 2021)"
            )
        column = f"population_{max([y for y in years if y <= year] or years[:1])}"
        pop = table.set_index("teryt")[column].astype(float)
    names = units[["powiat_name", "teryt_powiat"]].dropna().astype(str).drop_duplicates()
    subregion = table.set_index("teryt")["subregion"]
    out = {
        "teryt_powiat": {str(k): float(v) for k, v in pop.items()},
        "powiat_name": {n: float(pop[t]) for n, t in zip(names["powiat_name"],
                                                         names["teryt_powiat"], strict=True)},
        "subregion": {str(k): float(v) for k, v in pop.groupby(subregion).sum().items()},
        "": {"": float(pop.sum())},
    }  # fmt: skip
    return out, column


def _supplied_population(supplied: pd.DataFrame, table: pd.DataFrame) -> pd.Series:
    """Check a study's population table against the voivodeship's powiats."""
    if not isinstance(supplied, pd.DataFrame) or not {"teryt", "population"} <= set(
        supplied.columns
    ):
        raise DesignError(
            "population table: expected a DataFrame with columns 'teryt' (4-digit powiat "
            "codes) and 'population'"
        )
    codes = supplied["teryt"].astype(str).str.strip().str.zfill(4)
    values = pd.to_numeric(supplied["population"], errors="coerce")
    bad = ~(values > 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"population table, row {i}, column 'population': value "
            f"{plain_value(supplied['population'].iloc[i])!r}; expected a number of inhabitants > 0"
        )
    if codes.duplicated().any():
        raise DataError(f"population table: powiat {codes[codes.duplicated()].iloc[0]!r} twice")
    missing = sorted(set(table["teryt"]) - set(codes))
    if missing:
        raise DataError(
            f"population table: no population for powiat(s) {missing[:5]} of the voivodeship; "
            "expected one row per powiat"
        )
    pop = pd.Series(values.to_numpy(dtype=float), index=codes.to_numpy())
    return pop.loc[list(table["teryt"])]


def _per_10k(
    design: Any,
    ind: Indicator,
    domain: str | None,
    register: pd.DataFrame | None,
    level: float,
    funnel: Any,
    pops: Mapping[str, Mapping[str, float]],
) -> pd.DataFrame:
    """Estimate a count (funnel stage or total) per 10 000 inhabitants of its area."""
    if ind.variable in ("registered", *_STAGES):
        frame = funnel(domain)
        frame = frame[frame["stage"] == ind.variable].reset_index(drop=True)
    else:
        among = None if ind.among == "all" else ind.among
        frame = population_totals(design, [ind.variable], by=domain, among=among, level=level,
                                  register=register).reset_index(drop=True)  # fmt: skip
    keys = frame[domain].astype(str) if domain else pd.Series([""] * len(frame))
    pop = np.array([pops[domain or ""].get(k, np.nan) for k in keys], dtype=float)
    scale = 10_000.0 / pop
    scaled = frame.assign(**{c: frame[c].to_numpy(dtype=float) * scale
                             for c in ("estimate", "se", "lower", "upper")})  # fmt: skip
    return _tidy(scaled, ind, domain)


def _stage_share(
    ind: Indicator, domain: str | None, funnel: pd.DataFrame, level: float
) -> pd.DataFrame:
    """Share of the register at a funnel stage: the funnel's count / the register's.

    The same number as the funnel (290 active of 632 registered is 45.8%), so the
    report never prints two shares of one thing; the interval is the logit interval
    of that share with the funnel's standard error (the register count is exact).
    """
    registered = funnel[funnel["stage"] == "registered"]
    stage = funnel[funnel["stage"] == ind.variable].reset_index(drop=True)
    if domain:
        counts = registered.set_index(domain)["estimate"]
        total = counts.reindex(stage[domain]).to_numpy(dtype=float)
    else:
        total = np.full(len(stage), float(registered["estimate"].iloc[0]))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = stage["estimate"].to_numpy(dtype=float) / total
        se = stage["se"].to_numpy(dtype=float) / total
        df = stage["df"].to_numpy(dtype=float)
        half = tcrit(level, df) * se / (p * (1 - p))
        logit = np.log(p / (1 - p))
        lower = np.where((p > 0) & (p < 1), expit(logit - half), p)
        upper = np.where((p > 0) & (p < 1), expit(logit + half), p)
        cv = np.where(p > 0, se / p, np.nan)
    frame = stage.assign(estimate=p, se=se, lower=lower, upper=upper, cv=cv)
    return _tidy(frame, ind, domain)


def estimate_indicators(
    design: Any,
    indicators: Sequence[Indicator],
    *,
    register: pd.DataFrame | None = None,
    level: float = 0.95,
    year: int = 2023,
    population: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Estimate every indicator, overall and by its domains.

    Parameters
    ----------
    design : SurveyDesign or TwoPhaseDesign
        The study's design (its data has the flags and the answers).
    indicators : sequence of Indicator
        From :func:`parse_indicators`.
    register : pandas.DataFrame, optional
        The frame's units (the register counts of totals, see
        :func:`~es_survey.funnel.population_totals`).
    level : float, default 0.95
        Confidence level.
    year : int, default 2023
        Survey year: ``per_10k`` uses the latest census population up to it.
    population : pandas.DataFrame, optional
        The study's own population by powiat (columns ``teryt``, ``population``; one
        row per powiat of the voivodeship) for ``per_10k``, instead of the census
        figures :mod:`es_survey.regions` ships (for świętokrzyskie only).

    Returns
    -------
    pandas.DataFrame
        Tidy: ``indicator, kind, domain, domain_value, estimate, se, lower, upper,
        level, cv, df, n`` (``domain`` empty for the overall row). Shares are
        proportions (0–1) with logit intervals.

    Raises
    ------
    DesignError
        If a variable or population column is not in the design.
    """
    parts: list[pd.DataFrame] = []
    data = design.data
    funnels: dict[str | None, pd.DataFrame] = {}
    populations: list[Mapping[str, Mapping[str, float]]] = []

    def funnel(domain: str | None) -> pd.DataFrame:
        # one funnel per domain for every stage share and per-inhabitant rate
        if domain not in funnels:
            est = sector_funnel(design, by=domain, register=register, level=level)
            funnels[domain] = est.to_frame().reset_index(drop=True)
        return funnels[domain]

    for ind in indicators:
        for column in (ind.variable, ind.denominator):
            if ind.kind == "per_10k" and column in ("registered", *_STAGES):
                continue
            if column is not None and column not in data.columns:
                raise DesignError(f"indicator {ind.name!r}: no column {column!r} in the design")
        for domain in (None, *ind.domains):
            by = domain
            if ind.kind == "per_10k":
                if register is None or "teryt_powiat" not in register.columns:
                    raise DesignError(
                        f"indicator {ind.name!r}: per 10 000 inhabitants needs the frame's "
                        "units with teryt_powiat (register=)"
                    )
                if not populations:
                    populations.append(_populations(register, year, population)[0])
                parts.append(_per_10k(design, ind, domain, register, level, funnel, populations[0]))
                continue
            if ind.kind == "total":
                among = None if ind.among == "all" else ind.among
                if among is not None and "=" in among:
                    mask = _population(data, among)
                    est = population_totals(
                        design.assign(_among=mask), [ind.variable], by=by, among="_among",
                        level=level, register=register,
                    )  # fmt: skip
                else:
                    est = population_totals(design, [ind.variable], by=by, among=among,
                                            level=level, register=register)  # fmt: skip
                parts.append(_tidy(est, ind, domain))
                continue
            if ind.kind == "share" and ind.among == "all" and ind.variable in _STAGES:
                parts.append(_stage_share(ind, domain, funnel(domain), level))
                continue
            sub = design.domain(_population(data, ind.among))
            if ind.kind == "share":
                # a unit found out of scope (ceased, a duplicate) is registered but not
                # active, earning or employing: its flag is false, never unknown
                flag = data[ind.variable].astype("boolean")
                if "eligible" in data.columns:
                    flag = flag.mask(data["eligible"].astype("boolean").eq(False), False)
                sub = design.assign(_flag=flag).domain(_population(data, ind.among))
                est = sub.proportion("_flag", by=by, method="logit", na_rm=True, level=level)
                cats = est.to_frame().get("category", pd.Series([""]))
                if cats.fillna("").astype(str).str.len().gt(0).any():
                    raise DesignError(f"indicator {ind.name!r}: a share needs a yes/no variable")
            elif ind.kind == "mean":
                est = sub.mean(ind.variable, by=by, na_rm=True, level=level)
            else:
                est = sub.ratio(ind.variable, str(ind.denominator), by=by, na_rm=True,
                                level=level)  # fmt: skip
            parts.append(_tidy(est, ind, domain))
    if not parts:
        return pd.DataFrame({c: [] for c in _COLUMNS})
    return pd.concat(parts, ignore_index=True)[list(_COLUMNS)]


def labels(indicators: Sequence[Indicator], lang: str) -> Mapping[str, tuple[str, str]]:
    """Map each indicator's name to its (label, unit) in ``lang``."""
    return {i.name: (i.label(lang), i.unit(lang)) for i in indicators}
