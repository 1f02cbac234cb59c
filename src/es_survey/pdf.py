"""Print the HTML report to PDF with headless Chromium: A4, numbered pages.

Regional centres publish PDFs. The report's stylesheet sets the page (``@page``: A4,
margins, "page / pages" at the foot) and Chromium, the engine most readers' browsers
share, prints it. Nothing is installed by es_survey: without a browser
:func:`write_pdf` raises a :class:`~es_survey.errors.DataError` that says what to
install, and ``es-survey run --pdf`` prints that note and writes everything else.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from es_survey.errors import DataError

__all__ = ["BROWSERS", "HEADLESS_FLAGS", "find_browser", "write_pdf"]

BROWSERS: tuple[str, ...] = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
)
"""Executable names searched on ``PATH``, in order."""


HEADLESS_FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
"""Flags for a quiet, offline headless Chromium (no updates, sync or first-run page)."""


def find_browser() -> str | None:
    """Return the path of a headless-capable Chromium on ``PATH``, or None.

    Returns
    -------
    str or None

    Examples
    --------
    >>> find_browser() is None or find_browser().endswith(BROWSERS)
    True
    """
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def write_pdf(
    html: str | Path,
    pdf: str | Path | None = None,
    *,
    browser: str | None = None,
    timeout: float = 300,
) -> Path:
    """Print an HTML file to PDF (A4, page numbers from the page's ``@page`` rules).

    Parameters
    ----------
    html : str or pathlib.Path
        The HTML file (e.g. a report's ``index.html``).
    pdf : str or pathlib.Path, optional
        Output file (default: ``report.pdf`` next to ``html``).
    browser : str, optional
        Chromium executable (default: :func:`find_browser`).
    timeout : float, default 300
        Seconds before the browser is stopped.

    Returns
    -------
    pathlib.Path
        The PDF written.

    Raises
    ------
    DataError
        No browser, a missing HTML file, or a browser that failed (its last words
        are quoted).

    Examples
    --------
    >>> write_pdf("index.html", browser="/no/such/chromium")
    Traceback (most recent call last):
    ...
    es_survey.errors.DataError: index.html: not found; give the report's index.html
    """
    source = Path(html)
    if not source.is_file():
        raise DataError(f"{source}: not found; give the report's index.html")
    target = Path(pdf) if pdf is not None else source.with_name("report.pdf")
    exe = browser or find_browser()
    if exe is None or shutil.which(exe) is None:
        raise DataError(
            "no headless Chromium found (looked for "
            + ", ".join(BROWSERS)
            + "); install it (Debian/Ubuntu: apt-get install chromium) to print the PDF, "
            "or open index.html in a browser and print it to PDF (A4)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    with tempfile.TemporaryDirectory(prefix="es_survey_pdf_") as profile:
        command = [
            exe,
            *HEADLESS_FLAGS,
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={partial}",
            source.resolve().as_uri(),
        ]
        try:
            run = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            partial.unlink(missing_ok=True)
            raise DataError(
                f"{exe} did not finish printing {source} within {timeout:g} s"
            ) from None
    if run.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        tail = (run.stderr or run.stdout).strip().splitlines()[-3:]
        raise DataError(
            f"{exe} could not print {source} to PDF (exit {run.returncode}): " + " | ".join(tail)
        )
    partial.replace(target)  # never a half-written report.pdf
    return target
