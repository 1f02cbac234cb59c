"""A new study in one call: ``es-survey init DIR --voivodeship CODE``.

:func:`init_study` writes a study folder for any voivodeship (TERYT ``02`` … ``32``):

- ``study.toml`` — the study config (:mod:`es_survey.study`) filled in from the
  reference data of :mod:`es_survey.regions`: the title names the voivodeship, a
  comment lists its subregions (NUTS 3) and powiats, the domains are entity type,
  subregion and powiat, the weights are calibrated to the frame's counts by ES
  category and subregion, powiat estimates use the small-area model, and the
  sector's indicators are the demo's regional set — without the per-10,000-inhabitant
  ones where :func:`es_survey.regions.powiats` has no census population (every
  voivodeship but Świętokrzyskie, ``26``);
- ``codebook.toml`` and ``rules.toml`` — copies of the bundled codebook and
  classification rules, to adapt to one's own questionnaire;
- ``README.md`` — what the files are, what to edit first, the commands to run;
- with ``synthetic=True`` also ``frame.xlsx``, ``responses.xlsx`` and ``truth.csv``:
  a synthetic study of that voivodeship (:func:`es_survey.synth.write_demo` with its
  ``region``), so that ``es-survey run DIR/study.toml`` writes a full report at once
  and its estimates can be compared with the known truth.

Nothing is written when the voivodeship or the year is wrong, or when the folder
holds files already (unless ``force=True``, which replaces only the files above).
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from importlib.resources import files
from pathlib import Path

import pandas as pd

from es_survey._version import __version__
from es_survey.errors import DataError
from es_survey.regions import load_terc, powiats, voivodeships
from es_survey.safety import slug
from es_survey.study import load_config
from es_survey.synth import write_demo

__all__ = ["STUDY_FILES", "SYNTHETIC_FILES", "init_study"]

#: The files :func:`init_study` always writes.
STUDY_FILES: tuple[str, ...] = ("study.toml", "codebook.toml", "rules.toml", "README.md")
#: The files it adds with ``synthetic=True``.
SYNTHETIC_FILES: tuple[str, ...] = ("frame.xlsx", "responses.xlsx", "truth.csv")

_WIDTH = 88  # comment lines of study.toml


def _data_text(name: str) -> str:
    """Text of a file bundled in ``es_survey/data``."""
    return (files("es_survey") / "data" / name).read_text(encoding="utf-8")


def _locative(name: str) -> str:
    """``"małopolskie"`` → ``"małopolskim"`` (after "w województwie")."""
    return name[:-2] + "im" if name.endswith("ie") else name


def _voivodeship(region: str) -> tuple[str, str]:
    """Return (code, name) of a voivodeship given by code or name (else a one-line error)."""
    code = str(powiats(region)["teryt"].iloc[0])[:2]
    table = voivodeships()
    return code, str(table.loc[table["teryt"] == code, "name"].item())


def _wrap(prefix: str, items: list[str], indent: str = "#     ") -> list[str]:
    """Comment lines listing ``items`` after ``prefix``, wrapped at :data:`_WIDTH`."""
    lines: list[str] = []
    line = prefix
    for i, item in enumerate(items):
        text = item + ("," if i < len(items) - 1 else "")
        if len(line) + 1 + len(text) > _WIDTH and line.strip("# "):
            lines.append(line)
            line = indent + text
        else:
            line = f"{line} {text}" if line.strip() else indent + text
    lines.append(line)
    return lines


def _geography(code: str, name: str, table: pd.DataFrame) -> list[str]:
    """Comment lines naming the voivodeship's subregions and their powiats."""
    state = load_terc().state(code)
    n_sub = table["subregion"].nunique()
    lines = [
        f"# Voivodeship {code} {name}: {len(table)} powiats in {n_sub} subregions (NUTS 3),",
        f"# TERYT state {state}. The domain `subregion` holds the names below, `powiat_name`",
        "# the powiat names (a city with powiat rights by its own name):",
    ]
    for (nuts3, subregion), rows in table.groupby(["nuts3", "subregion"], sort=True):
        items = [f"{n} {t}" for t, n in zip(rows["teryt"], rows["name"], strict=True)]
        lines += _wrap(f"#   {nuts3} {subregion}:", items)
    return lines


def _indicator_blocks(with_population: bool) -> list[str]:
    """Return the ``[[indicators]]`` tables of the bundled demo study (its regional set).

    Without a population the per-10,000-inhabitant ones are left out.
    """
    blocks = []
    for part in _data_text("demo_study.toml").split("\n[[indicators]]\n")[1:]:
        body = part.split("\n\n", 1)[0].strip("\n")
        if tomllib.loads(body).get("kind") == "per_10k" and not with_population:
            continue
        blocks.append(f"[[indicators]]\n{body}\n")
    return blocks


def _study_toml(
    code: str, name: str, year: int, synthetic: bool, seed: int, table: pd.DataFrame
) -> str:
    """Return the text of the new study's ``study.toml``."""
    population = bool(table["population_2021"].notna().all())
    study_name = slug(f"{name}-{year}").lower()
    title = f"Kondycja sektora ekonomii społecznej w województwie {_locative(name)}"
    if synthetic:
        title += " (dane syntetyczne)"
        source = f"Badanie PES {year} — dane syntetyczne es_survey (seed {seed})"
        source_note = "# printed under every chart and table"
    else:
        source = f"Badanie podmiotów ekonomii społecznej {year}"
        source_note = "# printed under every chart: name your survey and who ran it"
    data_note = (
        "synthetic data of this voivodeship (es_survey.synth); truth.csv holds their truth"
        if synthetic
        else "put your sampling frame and questionnaire responses here"
    )
    per_10k = (
        [
            "# per_10k divides by the census population of the survey year (es_survey.regions).",
        ]
        if population
        else [
            '# Per-10,000-inhabitant indicators (kind = "per_10k") are left out: they need the',
            "# population by powiat, which es_survey ships for świętokrzyskie (26) only. To add",
            f'# them for {name} ({code}), give [inputs] population = "ludnosc.csv" (columns',
            "# teryt and population, one row per powiat, e.g. GUS census 2021) and add the",
            '# [[indicators]] with kind = "per_10k" (see the demo study).',
        ]
    )
    lines = [
        f"# A social-economy sector study of voivodeship {code} {name}, written by",
        f"# `es-survey init` (es_survey {__version__}). Run it with `es-survey run study.toml`;",
        "# README.md beside this file says what to edit first. Paths are relative to this file.",
        "#",
        *_geography(code, name, table),
        "",
        "[study]",
        f'name = "{study_name}"  # the report folder under reports/',
        f'title = "{title}"',
        f"year = {year}  # the survey year, printed on every chart",
        f'source = "{source}"  {source_note}',
        'language = "pl"  # or "en"',
        f"seed = {seed}  # seeds the small-area bootstrap and the next wave's random numbers",
        '# date = "2026-01-31"  # a fixed report date makes the report byte-identical on re-run',
        "",
        "[inputs]",
        f"# frame.xlsx and responses.xlsx: {data_note}.",
        'frame = "frame.xlsx"',
        'responses = "responses.xlsx"',
        'codebook = "codebook.toml"  # your column headers and answers -> es_survey variables',
        'rules = "rules.toml"  # what makes an entity active, earning, employing',
        "# The TERC register of your frame's TERYT codes, when they are not of 2020-01-01",
        '# (GUS eTERYT, "TERC urzędowy", UTF-8; docs/regions.md):',
        '# terc = "TERC_Urzedowy_2025-01-01.csv"',
        "",
        "[design]",
        'strata = "stratum"  # frame column: the sampling stratum',
        'sample = "sampled"  # frame column: drawn into the sample (tak/nie)',
        "# With a follow-up of nonrespondents in the frame (codebook variable followed_up)",
        "# the two-phase design is used; its weights can be calibrated to the sample's counts",
        '# of register entries (docs/methods.md, "Two-phase designs"):',
        '# followup_calibration = ["krs_economic", "statement_filed"]',
        "",
        "[design.nonresponse]",
        "# Response-propensity classes from the register's auxiliaries (docs/methods.md,",
        '# "Weighting and nonresponse"); ineligible units found in the field count as units',
        "# of observed status.",
        'model = "logit"',
        'covariates = ["statement_filed", "krs_economic", "year_registered"]',
        'ineligible = "observed"',
        "",
        "[design.calibration]",
        "# Raking to the frame's counts by ES category and subregion: the register knows them",
        "# exactly. `subregion` comes from the frame's TERYT powiat codes (es_survey.regions).",
        'frame_margins = ["es_category", "subregion"]',
        'method = "raking"',
        "",
        "[estimates]",
        'totals = ["workers", "emp_uop", "emp_civil"]  # among active entities',
        'domains = ["entity_type", "subregion", "powiat_name"]',
        "level = 0.95",
        "",
        "[reliability]",
        "thresholds = [0.10, 0.20, 0.30]  # CV limits: good / acceptable / caution",
        "",
        "[small_area]",
        '# Fay–Herriot estimates by powiat (docs/methods.md, "Small areas"), one register',
        "# covariate each; the MSE by a parametric bootstrap seeded by [study] seed.",
        'quantities = ["active", "workers"]',
        "replicates = 500",
        "",
        "[small_area.covariates]",
        'active = ["statement_filed"]',
        'workers = ["es_category=NGO"]',
        "",
        "# The sector's indicators (es_survey.indicators; docs/report.md): totals among active",
        '# entities unless `among` says otherwise; shares and ratios in "%" print as',
        "# percentages.",
        *per_10k,
        "",
    ]
    out = "\n".join(lines) + "\n".join(_indicator_blocks(population))
    plan = [
        "",
        "# The next wave (es_survey.plan; `es-survey plan study.toml`, and the report's last",
        "# section): the smallest sample whose expected CVs meet these targets. Delete the",
        "# section for a report without it.",
        "[plan]",
        'method = "multi"',
        "min_n = 5",
        'overlap = "maximise"',
        "",
        "[[plan.targets]]",
        'variable = "active"',
        "cv = 0.05",
        "",
        "[[plan.targets]]",
        'variable = "active"',
        "cv = 0.20",
        'domain = "subregion"',
        "",
        "[[plan.targets]]",
        'variable = "workers"',
        "cv = 0.15",
        "",
        "[outputs]",
        f'directory = "reports/{study_name}"',
        "",
    ]
    return out + "\n".join(plan)


def _readme(code: str, name: str, year: int, synthetic: bool, report: str) -> str:
    """Return the text of the new study's ``README.md``."""
    data_rows = (
        [
            "| `frame.xlsx` | the sampling frame: a synthetic register of this voivodeship's "
            "entities, with the sample, the fieldwork outcome and a follow-up | replace with "
            "yours |",
            "| `responses.xlsx` | the synthetic questionnaire answers (with the usual faults: "
            "mistyped REGONs, a duplicate, inconsistent answers) | replace with yours |",
            "| `truth.csv` | the synthetic population's true values, to compare the report with; "
            "not read by the run | delete with the synthetic data |",
        ]
        if synthetic
        else [
            "| `frame.xlsx` | your sampling frame (register of entities, with the sample and "
            "the fieldwork outcome) | put it here |",
            "| `responses.xlsx` | your questionnaire responses | put them here |",
        ]
    )
    what = (
        "It holds synthetic data, so the report can be run at once."
        if synthetic
        else "Put your frame and responses beside these files before the first run."
    )
    return "\n".join(
        [
            f"# Social-economy sector study: {name} ({code}), {year}",
            "",
            f"Written by `es-survey init` (es_survey {__version__}). {what}",
            "",
            "| file | what it is | edit |",
            "|---|---|---|",
            "| `study.toml` | the study: title, year, source, inputs, design (strata, "
            "nonresponse, calibration), estimates and domains, indicators, the next wave's "
            "plan, the report folder | title, source, year first; the design if yours differs |",
            "| `codebook.toml` | how the column headers and answers of your files map to "
            "es_survey's variables (Polish headers, `tak`/`nie`, missing-answer codes) | map "
            "your headers and answers |",
            "| `rules.toml` | the rules that classify an entity as active, earning, employing, "
            "a social enterprise | when your definitions differ |",
            *data_rows,
            "",
            "## Run",
            "",
            "From this folder:",
            "",
            "```bash",
            "es-survey run study.toml            # the report: " + report + "/index.html",
            "es-survey run study.toml --strict   # stop before estimating if the data have errors",
            "es-survey validate frame.xlsx responses.xlsx --codebook codebook.toml --out checked",
            "```",
            "",
            "`es-survey run` prints the validation summary (errors and warnings by rule) before "
            "it estimates; `es-survey validate` writes `problems.csv` with the file, row, column "
            "and value of each problem.",
            "",
            "## Your own survey",
            "",
            f"1. {'Replace' if synthetic else 'Put'} `frame.xlsx` and `responses.xlsx` "
            f"{'with' if synthetic else 'here:'} your files (`.xlsx`, `.csv` or `.sav`; change "
            "`[inputs]` in `study.toml` if the names differ).",
            "2. Map your column headers and answers in `codebook.toml` (each variable lists the "
            "headers it accepts); run `es-survey validate` until the problems are the ones you "
            "expect.",
            "3. Variables your questionnaire lacks: the rules say which at once; map them, or mark "
            "the clause `optional = true` in `rules.toml`.",
            "4. TERYT codes of another date than 2020-01-01: download that date's TERC file and "
            "set `[inputs] terc` in `study.toml`.",
            "5. Set `[study] title`, `source` and `year`; then `es-survey run study.toml`.",
            "",
            "Documentation: `docs/new_study.md`, `docs/report.md` and `docs/regions.md` of "
            "es_survey.",
            "",
        ]
    )


def _check_year(year: object) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not 1990 <= year <= 2100:
        raise DataError(f"year={year!r} must be a survey year between 1990 and 2100, e.g. 2024")
    return year


def init_study(
    directory: str | os.PathLike[str],
    voivodeship: str,
    *,
    year: int | None = None,
    synthetic: bool = False,
    seed: int = 2023,
    force: bool = False,
) -> dict[str, Path]:
    r"""Write a new study folder for a voivodeship (``es-survey init``).

    Parameters
    ----------
    directory : str or path-like
        The study folder; created when missing. A folder that holds files already is
        refused unless ``force``.
    voivodeship : str
        Two-digit TERYT code (``"02"`` … ``"32"``) or name (``"małopolskie"``,
        ``"malopolskie"``).
    year : int, optional
        The survey year (default: last calendar year).
    synthetic : bool, default False
        Also write a synthetic frame, responses and truth of the voivodeship
        (:func:`es_survey.synth.write_demo`), so that the study runs at once.
    seed : int, default 2023
        ``[study] seed``, and the seed of the synthetic data.
    force : bool, default False
        Write into a folder that holds files already, replacing those of the same
        names (the others are left alone).

    Returns
    -------
    dict of str to pathlib.Path
        The files written, keyed by name (:data:`STUDY_FILES`, and
        :data:`SYNTHETIC_FILES` with ``synthetic``).

    Raises
    ------
    DesignError
        If ``voivodeship`` is not one (the one-line message lists the valid codes
        and names).
    DataError
        For a year outside 1990–2100, a ``directory`` that is a file, or one that
        holds files (without ``force``); nothing is written then.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "malopolska"
    >>> paths = init_study(d, "12", year=2024)
    >>> sorted(paths)
    ['README.md', 'codebook.toml', 'rules.toml', 'study.toml']
    >>> from es_survey.study import load_config
    >>> config = load_config(paths["study.toml"])
    >>> config.name, config.domains, config.calibration["frame_margins"]
    ('malopolskie-2024', ('entity_type', 'subregion', 'powiat_name'), ['es_category', 'subregion'])
    >>> any(i.kind == "per_10k" for i in config.indicators)  # no population for 12
    False
    """
    code, name = _voivodeship(voivodeship)
    year = _check_year(dt.date.today().year - 1 if year is None else year)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DataError(f"seed={seed!r} must be a whole number >= 0")
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder} is a file, not a folder; give a folder for the new study")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise DataError(
            f"{folder} is not empty; give a new folder, or add --force (force=True) to write "
            f"{', '.join(STUDY_FILES)} there, replacing files of those names"
        )
    table = powiats(code)
    study = _study_toml(code, name, year, synthetic, seed, table)
    report = f"reports/{slug(f'{name}-{year}').lower()}"
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "study.toml": study,
        "codebook.toml": _data_text("codebook.toml"),
        "rules.toml": _data_text("rules.toml"),
        "README.md": _readme(code, name, year, synthetic, report),
    }
    paths: dict[str, Path] = {}
    for file_name, text in texts.items():
        path = folder / file_name
        path.write_text(text, encoding="utf-8")
        paths[file_name] = path
    if synthetic:
        written = write_demo(folder, seed=seed, region=code)
        paths.update({p.name: p for p in written.values()})
    load_config(paths["study.toml"])  # the config written is one es_survey reads
    return paths
