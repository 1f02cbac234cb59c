"""Exception and warning classes shared by every es_survey module."""

from __future__ import annotations

__all__ = ["CalibrationError", "DataError", "DesignError", "EsSurveyError", "PrecisionWarning"]


class EsSurveyError(Exception):
    """Base class of every error es_survey raises on purpose."""


class DataError(EsSurveyError, ValueError):
    """Input data that cannot be used: the message names file, row, column and value.

    Parameters
    ----------
    *args
        The message (as for any exception).
    problems : pandas.DataFrame, optional
        The table of problems behind the error (columns ``file, row, column, value,
        rule, severity, message``), when there is one — e.g. from
        ``load_study(..., strict=True)``.
    """

    def __init__(self, *args: object, problems: object = None) -> None:
        super().__init__(*args)
        self.problems = problems


class DesignError(EsSurveyError, ValueError):
    """A survey design that cannot be built or used as specified."""


class CalibrationError(DesignError):
    """Weights that cannot meet their targets: no convergence, infeasible bounds, empty cells.

    Parameters
    ----------
    *args
        The message (as for any exception); it includes the table as text.
    table : pandas.DataFrame, optional
        Achieved versus target totals, one row per margin and category (columns
        ``margin, category, target, achieved, rel_diff``, plus ``column`` when
        several weight columns were calibrated together).
    """

    def __init__(self, *args: object, table: object = None) -> None:
        super().__init__(*args)
        self.table = table


class PrecisionWarning(UserWarning):
    """An estimate whose precision is too low to publish without a caveat."""


def plain_value(value: object) -> object:
    """Return a data value without its numpy type, for messages (1.0, not np.float64(1.0)).

    Parameters
    ----------
    value : object
        A cell or array element.

    Returns
    -------
    object
        ``value.item()`` for numpy scalars, else ``value``.

    Examples
    --------
    >>> import numpy as np
    >>> repr(plain_value(np.float64(1.0)))
    '1.0'
    """
    item = getattr(value, "item", None)
    return item() if callable(item) else value
