"""The ``es-survey`` command line.

The CLI parses arguments and calls public functions; it holds no logic of its own.
Expected failures (bad files, bad data under ``--strict``) print one line starting
with ``es-survey: error:`` and exit with status 2. Anything else is a bug: it prints
one line starting with ``es-survey: internal error`` and exits with status 3
(:data:`INTERNAL_ERROR`); ``ES_SURVEY_DEBUG=1`` shows its traceback instead.

Commands
--------
``es-survey demo [--out DIR] [--reports DIR] [--seed N]``
    Load the bundled synthetic Świętokrzyskie study, validate and link it, print a
    summary, write the problems table and the cleaned, linked data to ``--out``
    (default ``data/processed``), then run the whole study and write its report to
    ``--reports``/<study> (default ``reports/swietokrzyskie-demo``).
``es-survey init DIR --voivodeship CODE [--year YEAR] [--synthetic] [--seed N] [--force]``
    Start a new study for any voivodeship (TERYT ``02`` … ``32`` or name): write
    ``study.toml``, ``codebook.toml``, ``rules.toml`` and ``README.md`` to ``DIR``
    (:func:`es_survey.scaffold.init_study`); with ``--synthetic`` also a synthetic
    frame, responses and truth of that voivodeship, so that ``es-survey run
    DIR/study.toml`` writes a report at once. A folder holding files is refused
    unless ``--force``.
``es-survey run STUDY.toml [--out DIR] [--pdf] [--strict]``
    Regenerate a study's report (HTML, XLSX, CSV, figures) from its config; the
    validation summary (errors and warnings by rule) is printed before estimating,
    and ``--strict`` stops there, in one line, when the data have errors. ``--pdf``
    also prints it to ``report.pdf`` with headless Chromium (a note, not an error,
    when no Chromium is installed).
``es-survey plan STUDY.toml [--out DIR]``
    Plan the study's next wave with its ``[plan]``: run the study, allocate the
    sample to strata (:func:`es_survey.allocate`), draw it with permanent random
    numbers (:func:`es_survey.select_sample`) and write ``plan.xlsx``,
    ``allocation.csv`` and ``sample.csv`` to ``--out`` (default: the report folder's
    ``plan`` subfolder).
``es-survey validate FRAME RESPONSES [--codebook F] [--out DIR] [--strict]``
``[--frame-sheet S] [--responses-sheet S]``
    Load, validate and link any pair of files (``--*-sheet``: the worksheet of an
    ``.xlsx`` input, by name or 0-based number).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from es_survey._version import __version__
from es_survey.errors import EsSurveyError

if TYPE_CHECKING:
    import pandas as pd

    from es_survey.plan import NextWave
    from es_survey.study import StudyConfig
    from es_survey.validate import SurveyData

# The commands import what they need when they run, so `es-survey --version` and
# `--help` answer at once (pandas, scipy and matplotlib take seconds to import).

__all__ = ["INTERNAL_ERROR", "main"]

INTERNAL_ERROR = 3
"""Exit status of an unexpected failure (a bug): one line, no traceback."""

_DEMO_FILES = ("frame.xlsx", "responses.xlsx")
_DEMO_CONFIG = "demo_study.toml"


_PDF_HELP = "also print the report to report.pdf (A4, numbered pages) with headless Chromium"

_OUTPUTS = ("problems.csv", "frame.csv", "responses.csv", "linked.csv")


def _write_outputs(data: SurveyData, out: Path) -> list[Path]:
    """Write the problems table and the cleaned, linked data as UTF-8 CSV files.

    Text cells that a spreadsheet would run as formulas are neutralised
    (:func:`es_survey.safety.write_csv`).
    """
    from es_survey.safety import write_csv

    out.mkdir(parents=True, exist_ok=True)
    tables = dict(zip(_OUTPUTS, (data.problems, data.frame, data.responses, data.linked),
                      strict=True))  # fmt: skip
    return [write_csv(table, out / name) for name, table in tables.items()]


def _print_summary(data: SurveyData, title: str) -> None:
    """Print the study summary: counts and problems by rule."""
    s = data.summary()
    print(title)
    print(f"  frame units          {s['frame_units']:>6}")
    if s["sampled"] is not None:
        print(f"  sampled units        {s['sampled']:>6}")
    print(f"  responses            {s['responses']:>6}")
    print(f"  linked to the frame  {s['linked']:>6}")
    print(f"  not in the frame     {s['unmatched_responses']:>6}")
    problems: pd.DataFrame = s["problems"]
    if problems.empty:
        print("  problems             none")
        return
    print("  problems by rule:")
    width = max(len(r) for r in problems["rule"])
    for row in problems.itertuples(index=False):
        print(f"    {row.rule:<{width}}  {row.severity:<7}  {row.count:>5}")


def _run(
    frame: Path,
    responses: Path,
    codebook: str | None,
    out: str | Path,
    strict: bool,
    title: str,
    sheets: tuple[str | int | None, str | int | None] = (None, None),
) -> None:
    from es_survey.safety import check_outputs
    from es_survey.validate import load_study

    inputs = [frame, responses] + ([Path(codebook)] if codebook else [])
    check_outputs(out, _OUTPUTS, inputs)  # before any work: never over an input
    data = load_study(
        frame, responses, codebook, strict=strict, frame_sheet=sheets[0], responses_sheet=sheets[1]
    )
    _print_summary(data, title)
    for path in _write_outputs(data, Path(out)):
        print(f"wrote {path}")


def _print_validation(data: SurveyData, config: StudyConfig) -> None:
    """Print the validation summary of a study's data: errors and warnings by rule."""
    from es_survey.validate import RULE_LABELS

    s = data.summary()
    problems: pd.DataFrame = s["problems"]
    lang = config.language
    print(
        f"  validation of {config.frame.name} and {config.responses.name}: "
        f"{s['frame_units']} frame units, {s['responses']} responses "
        f"({s['linked']} linked to the frame)"
    )
    for severity, title in (("error", "errors"), ("warning", "warnings")):
        rows = problems[problems["severity"] == severity]
        if rows.empty:
            print(f"  {title:<9}  none")
            continue
        print(f"  {title:<9}  {int(rows['count'].sum())} by rule:")
        width = max(len(str(r)) for r in rows["rule"])
        for rule, count in zip(rows["rule"].tolist(), rows["count"].tolist(), strict=True):
            label = RULE_LABELS.get(str(rule), {}).get(lang, "")
            print(f"    {rule:<{width}}  {count:>5}  {label}".rstrip())
    notes = problems[problems["severity"] == "info"]
    if not notes.empty:
        listed = ", ".join(
            f"{r} {c}" for r, c in zip(notes["rule"].tolist(), notes["count"].tolist(), strict=True)
        )
        print(f"  {'notes':<9}  {listed}")


def _progress(message: str) -> None:
    print(f"  ... {message}", file=sys.stderr, flush=True)


def _study(config: StudyConfig, pdf: bool = False, *, validation: bool = True,
           strict: bool = False) -> None:  # fmt: skip
    """Run a study and write its report (and its PDF); print the headline and the files.

    With ``validation`` the data's validation summary is printed before estimating;
    ``strict`` stops there when the data have errors.
    """
    from es_survey.report import check_report_folder, write_report
    from es_survey.study import check_strict, load_data, run_study
    from es_survey.tables import format_number

    check_report_folder(config.output_dir, config)  # before any work
    print(f"Study {config.name!r} ({config.year})")
    data = None
    if validation or strict:
        _progress(f"loading {config.frame.name} and {config.responses.name}")
        data = load_data(config)
        _print_validation(data, config)
        if strict:
            check_strict(data, config)
    results = run_study(config, progress=_progress, data=data)
    lang = config.language
    # pandas-stubs types itertuples() fields as "any scalar"; these are the headline's
    # quantity (text) and its numbers
    rows = cast(Iterator[Any], results.headline().itertuples(index=False))
    for row in rows:
        print(
            f"  {row.quantity:<10} {format_number(row.estimate, lang=lang):>8}  "
            f"{round(100 * row.level)}% CI {format_number(row.lower, lang=lang)}"
            f" – {format_number(row.upper, lang=lang)}"
        )
    paths = write_report(results, config.output_dir, progress=_progress)
    print(f"wrote {len(paths)} files to {config.output_dir} (open index.html)")
    if pdf:
        _pdf(config.output_dir / "index.html")


def _pdf(html: Path) -> None:
    """Print the report to PDF, or say in one line why not (the rest is written)."""
    from es_survey.pdf import find_browser, write_pdf

    if find_browser() is None:
        print(
            "es-survey: note: no PDF: no headless Chromium on PATH (Debian/Ubuntu: apt-get "
            "install chromium); open index.html in a browser and print it to PDF (A4)",
            file=sys.stderr,
        )
        return
    _progress("report.pdf")
    print(f"wrote {write_pdf(html)}")


def _demo(args: argparse.Namespace) -> None:
    from es_survey.safety import slug
    from es_survey.study import load_config
    from es_survey.synth import write_demo

    raw = Path.cwd() / "data" / "raw"
    out = Path(args.out)
    reports = Path(args.reports)
    if args.seed is None and all((raw / name).is_file() for name in _DEMO_FILES):
        _run(
            raw / _DEMO_FILES[0],
            raw / _DEMO_FILES[1],
            None,
            out,
            False,
            f"Demo study (bundled files in {raw})",
        )
        config = load_config(raw / "study.toml")
        _study(
            load_config(raw / "study.toml", output_dir=reports / slug(config.name)),
            args.pdf,
            validation=False,  # printed above
        )
        return
    seed = 2023 if args.seed is None else args.seed
    with tempfile.TemporaryDirectory(prefix="es_survey_demo_") as tmp:
        paths = write_demo(tmp, seed=seed)
        _run(
            paths["frame"],
            paths["responses"],
            None,
            out,
            False,
            f"Demo study (generated from seed {seed})",
        )
        template = resources.files("es_survey") / "data" / _DEMO_CONFIG
        study = Path(tmp) / "study.toml"
        study.write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
        for name in ("codebook.toml", "rules.toml"):
            source = resources.files("es_survey") / "data" / name
            (Path(tmp) / name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        config = load_config(study, seed=seed)
        _study(
            load_config(study, seed=seed, output_dir=reports / slug(config.name)),
            args.pdf,
            validation=False,  # printed above
        )


def _run_config(args: argparse.Namespace) -> None:
    from es_survey.study import load_config

    config = load_config(args.config)
    if args.out is not None:
        config = load_config(args.config, output_dir=Path(args.out))
    _study(config, args.pdf, strict=args.strict)


def _init(args: argparse.Namespace) -> None:
    """Write a new study folder for a voivodeship; say what was written and what next."""
    from es_survey.errors import DesignError
    from es_survey.scaffold import init_study

    try:
        paths = init_study(
            args.directory,
            args.voivodeship,
            year=args.year,
            synthetic=args.synthetic,
            seed=args.seed,
            force=args.force,
        )
    except DesignError as exc:  # the option's name, not the library's argument
        text = str(exc).replace(f"region={args.voivodeship!r}", f"--voivodeship {args.voivodeship}")
        raise DesignError(text) from None
    for path in paths.values():
        print(f"wrote {path}")
    study = paths["study.toml"]
    if args.synthetic:
        print(f"next: es-survey run {study}  (synthetic data: the report at once)")
    else:
        print(
            f"next: put your frame.xlsx and responses.xlsx in {study.parent}, map their "
            f"headers in codebook.toml, then es-survey run {study}"
        )


def _plan(args: argparse.Namespace) -> None:
    """Run a study, plan its next wave, write the plan and print a summary."""
    from es_survey.errors import DataError
    from es_survey.plan import plan_next_wave
    from es_survey.report import PLAN_FILES, write_plan
    from es_survey.safety import check_outputs
    from es_survey.study import load_config, run_study

    config = load_config(args.config)
    if config.plan is None:
        raise DataError(
            f"{config.path} has no [plan] section; add one with the precision targets, e.g. "
            '[plan] targets = [{variable = "active", cv = 0.05}] (docs/report.md, '
            '"Planning the next wave")'
        )
    out = Path(args.out) if args.out is not None else config.output_dir / "plan"
    given = (config.path, config.frame, config.responses, config.codebook, config.rules,
             config.terc, config.population)  # fmt: skip
    inputs = [p for p in given if p is not None]
    check_outputs(args.out if args.out is not None else out, PLAN_FILES, inputs)  # before work
    print(f"Study {config.name!r} ({config.year}): the next wave ({config.plan.method})")
    results = run_study(config, progress=_progress)
    wave = plan_next_wave(results)
    paths = write_plan(results, out, wave)
    _print_plan(wave)
    print(f"wrote {len(paths)} files to {out} ({', '.join(sorted(paths))})")


def _print_plan(wave: NextWave) -> None:
    """Print what to draw, what to expect, the targets and what the user must keep."""
    frame = wave.allocation.to_frame()
    whole = int(frame["take_all"].sum())
    print(
        f"  draw       {wave.allocation.total:>6} of {int(frame['N'].sum())} units in "
        f"{len(frame)} strata ({whole} taken whole)"
    )
    print(
        f"  expected   {float(frame['expected_respondents'].sum()):>6.0f} units answering or "
        "found ineligible"
    )
    cvs = wave.allocation.cv
    print(f"  targets    {int(cvs['met'].sum()):>6} of {len(cvs)} met (expected CV):")
    columns = ("variable", "domain", "domain_value", "expected_cv", "target_cv", "met")
    for variable, domain, value, expected, target, met in zip(
        *(cvs[c].tolist() for c in columns), strict=True
    ):
        where = f"{domain}={value}" if isinstance(domain, str) else "overall"
        print(
            f"    {variable} ({where}): {expected:.2%} for a target of {target:.2%}, "
            + ("met" if met else "NOT met")
        )
    pooled = [str(s) for s in wave.strata.loc[wave.strata["pooled"], wave.stratum]]
    if pooled:
        print(
            f"  note: too few units of known values to estimate the spread in {', '.join(pooled)}; "
            "the whole sample's values were used"
        )
    if wave.prn_created:
        print(
            f"  note: the frame has no prn column; permanent random numbers were created from "
            f"seed {wave.seed}: keep sample.csv's prn column (add it to the frame) so that the "
            "next waves can coordinate their samples"
        )


def _validate(args: argparse.Namespace) -> None:
    _run(
        Path(args.frame),
        Path(args.responses),
        args.codebook,
        args.out,  # as given: "" is refused, not read as the current folder
        args.strict,
        f"Study {args.frame} + {args.responses}",
        (_sheet(args.frame_sheet), _sheet(args.responses_sheet)),
    )


def _sheet(value: str | None) -> str | int | None:
    """Read a --*-sheet value: a 0-based number when all digits, else a sheet name."""
    return int(value) if value is not None and value.isdigit() else value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="es-survey",
        description="Surveys of the social-economy sector: load, validate, estimate.",
    )
    parser.add_argument("--version", action="version", version=f"es-survey {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the bundled Świętokrzyskie demo study")
    demo.add_argument(
        "--out", default="data/processed", help="folder for the outputs (default: data/processed)"
    )
    demo.add_argument(
        "--reports",
        default="reports",
        help="folder under which the report is written (default: reports)",
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=None,
        help="regenerate the synthetic study from this seed instead of reading data/raw/",
    )
    demo.add_argument("--pdf", action="store_true", help=_PDF_HELP)
    demo.set_defaults(func=_demo)

    init = sub.add_parser(
        "init", help="start a new study for a voivodeship (study.toml, codebook, rules, README)"
    )
    init.add_argument("directory", help="folder of the new study (created; must be empty)")
    init.add_argument(
        "--voivodeship",
        required=True,
        metavar="CODE",
        help="TERYT code 02 … 32 (e.g. 12) or name (e.g. małopolskie)",
    )
    init.add_argument(
        "--year", type=int, default=None, help="survey year (default: last calendar year)"
    )
    init.add_argument(
        "--synthetic",
        action="store_true",
        help="also write a synthetic frame, responses and truth of the voivodeship",
    )
    init.add_argument(
        "--seed", type=int, default=2023, help="[study] seed and the synthetic data's seed"
    )
    init.add_argument(
        "--force", action="store_true", help="write into a folder that holds files already"
    )
    init.set_defaults(func=_init)

    run = sub.add_parser("run", help="regenerate a study's report from its study.toml")
    run.add_argument("config", help="study config (TOML)")
    run.add_argument(
        "--out", default=None, help="report folder (default: the config's [outputs] directory)"
    )
    run.add_argument("--pdf", action="store_true", help=_PDF_HELP)
    run.add_argument(
        "--strict",
        action="store_true",
        help="stop before estimating when validation finds errors (see the summary printed)",
    )
    run.set_defaults(func=_run_config)

    plan = sub.add_parser("plan", help="plan the next wave's sample from a study's [plan]")
    plan.add_argument("config", help="study config (TOML) with a [plan] section")
    plan.add_argument(
        "--out", default=None, help="folder for the plan (default: <report folder>/plan)"
    )
    plan.set_defaults(func=_plan)

    val = sub.add_parser("validate", help="load, validate and link a frame and responses")
    val.add_argument("frame", help="sampling frame (.xlsx, .csv or .sav)")
    val.add_argument("responses", help="questionnaire responses (.xlsx, .csv or .sav)")
    val.add_argument("--codebook", default=None, help="codebook TOML (default: bundled)")
    val.add_argument(
        "--out", default="data/processed", help="folder for the outputs (default: data/processed)"
    )
    val.add_argument(
        "--strict", action="store_true", help="fail if any error-severity problem is found"
    )
    for which in ("frame", "responses"):
        val.add_argument(
            f"--{which}-sheet",
            default=None,
            metavar="SHEET",
            help=f"worksheet of an .xlsx {which} file: name or 0-based number (default: first)",
        )
    val.set_defaults(func=_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``es-survey`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 on an expected error (printed as one line), 3 on
        an internal error (a bug; one line, no traceback), 130 when interrupted.

    Examples
    --------
    A missing file is an expected error: one line on standard error, status 2.

    >>> main(["validate", "no_such_frame.xlsx", "no_such_responses.xlsx"])
    2
    """
    args = _parser().parse_args(argv)
    try:
        args.func(args)
    except (EsSurveyError, OSError) as exc:
        first, _, rest = str(exc).partition("\n")
        print(f"es-survey: error: {first}", file=sys.stderr)
        if rest:
            print(rest, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("es-survey: interrupted; no output is complete", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: said in one line, never a traceback (unless asked)
        if os.environ.get("ES_SURVEY_DEBUG"):
            raise
        print(
            f"es-survey: internal error ({type(exc).__name__}: {str(exc)[:300]}); this is a "
            "bug in es_survey, please report it with the command you ran (set "
            "ES_SURVEY_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        return INTERNAL_ERROR
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
