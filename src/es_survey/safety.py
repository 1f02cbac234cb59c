"""Outputs that cannot destroy inputs, escape their folder or carry a formula.

Frames and questionnaire exports come from many hands, and reports are opened by
people who trust them. Everything the project writes goes through these rules:

* **Inputs are never overwritten.** :func:`check_outputs` refuses an output folder
  that is, or would write over, one of the input files (``--out .`` next to the
  frame, ``--out ""``, a symlink to an input), and an output folder that is a file.
* **File names derived from data or config are slugs** (:func:`slug`): ASCII
  letters, digits, ``-``, ``_`` and ``.``, never a path separator or ``..``, so a
  study named ``../../X`` or a column headed ``../ESCAPED`` stays inside the chosen
  folder; :func:`inside` checks every path written against its folder.
* **No formula in a CSV** (OWASP, "CSV Injection"): :func:`neutralise_csv` prefixes
  every text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return with a single quote, so a spreadsheet opening the CSV shows the text
  instead of running it. Numbers are left alone. The workbook writer stores such
  text as text (never a formula) for the same reason.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from es_survey.errors import DataError

__all__ = ["check_outputs", "inside", "neutralise_csv", "slug", "write_csv"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_POLISH = str.maketrans({"ł": "l", "Ł": "L"})  # no decomposition in Unicode


def slug(text: object, default: str = "x") -> str:
    """Return a safe file-name part made of ``text``.

    Polish letters lose their diacritics, every other character outside ASCII
    letters, digits, ``-``, ``_`` and ``.`` becomes ``-``, and leading dots and
    dashes are dropped (no hidden file, no ``..``, no option-like name).

    Parameters
    ----------
    text : object
        A study name, a column name, a domain value.
    default : str
        Returned when nothing safe is left.

    Returns
    -------
    str
        The slug (at most 80 characters).

    Examples
    --------
    >>> slug("../../../ESCAPED_fig"), slug("Świętokrzyskie 2023"), slug("..")
    ('ESCAPED_fig', 'Swietokrzyskie-2023', 'x')
    """
    plain = unicodedata.normalize("NFKD", str(text).translate(_POLISH))
    ascii_only = plain.encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_only)
    cleaned = re.sub(r"-{2,}", "-", cleaned).strip("-")
    cleaned = re.sub(r"^[.\-]+", "", cleaned).rstrip(".")
    cleaned = re.sub(r"\.{2,}", ".", cleaned)
    return cleaned[:80] or default


def inside(folder: Path, path: Path) -> Path:
    """Return ``path`` after checking that it resolves inside ``folder``.

    Parameters
    ----------
    folder : pathlib.Path
        The output folder.
    path : pathlib.Path
        A path to write.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    DataError
        When ``path`` resolves outside ``folder``.

    Examples
    --------
    >>> from pathlib import Path
    >>> inside(Path("out"), Path("out/figures/a.png")).name
    'a.png'
    """
    root = folder.resolve()
    target = path.resolve()
    if target != root and root not in target.parents:
        raise DataError(
            f"refusing to write {path}: it lies outside the output folder {folder} "
            "(names from data or config may not leave the folder)"
        )
    return path


def check_outputs(out: str | Path, names: Iterable[str], inputs: Iterable[Path]) -> None:
    """Refuse an output folder that is a file or whose files would replace an input.

    Parameters
    ----------
    out : str or pathlib.Path
        The output folder (created later if missing), as given: ``""`` is refused
        (``Path("")`` would mean the current folder).
    names : iterable of str
        File names (relative to ``out``) that will be written.
    inputs : iterable of pathlib.Path
        The input files of the run.

    Raises
    ------
    DataError
        One line: which output would be which input, or that ``out`` is a file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> d = Path(tempfile.mkdtemp())
    >>> (d / "frame.csv").write_text("a")
    1
    >>> check_outputs(d, ["frame.csv"], [d / "frame.csv"])
    Traceback (most recent call last):
    ...
    es_survey.errors.DataError: refusing to write ... over the input file ...
    """
    if isinstance(out, str) and not out.strip():
        raise DataError('the output folder is empty (--out ""); name a folder for the outputs')
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DataError(f"the output folder {out} is a file; name a folder for the outputs")
    protected = {}
    for path in inputs:
        p = Path(path)
        if p.exists():
            protected[p.resolve()] = p
    for name in names:
        target = (out / name).resolve()
        if target in protected:
            raise DataError(
                f"refusing to write {out / name} over the input file {protected[target]}; "
                "choose another output folder (--out)"
            )


def neutralise_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose text cells cannot run as spreadsheet formulas.

    Every text cell (and column name) that begins with ``=``, ``+``, ``-``, ``@``,
    a tab or a carriage return gets a leading single quote (OWASP); numbers,
    booleans and missing values are unchanged.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to write.

    Returns
    -------
    pandas.DataFrame
        A neutralised copy.

    Examples
    --------
    >>> import pandas as pd
    >>> neutralise_csv(pd.DataFrame({"a": ["=1+1", "ok", "-x"], "b": [-1.0, 2.0, 3.0]}))
          a    b
    0  '=1+1 -1.0
    1    ok  2.0
    2   '-x  3.0
    """

    def safe(value: object) -> object:
        if isinstance(value, str) and value.startswith(_FORMULA_START):
            return "'" + value
        return value

    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype):
            out[col] = s.map(safe, na_action="ignore").astype(s.dtype)
    out.columns = [safe(c) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    r"""Write a table as UTF-8 CSV with ``\n`` line ends, neutralised (see above).

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    path : str or pathlib.Path
        Where to write it.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from pathlib import Path
    >>> p = write_csv(pd.DataFrame({"a": ["=cmd"]}), Path(tempfile.mkdtemp()) / "t.csv")
    >>> p.read_text()
    "a\n'=cmd\n"
    """
    p = Path(path)
    neutralise_csv(frame).to_csv(p, index=False, encoding="utf-8", lineterminator="\n")
    return p
