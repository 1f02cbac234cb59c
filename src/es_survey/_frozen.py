"""What every design kind shares: immutability, domains, ``assign`` and the estimators.

A design is immutable: attributes are written once, with ``_set``, when it is
built, and assignment or deletion afterwards raises ``AttributeError``. The
base class holds the read-only properties every design has, ``domain()``,
``assign()`` and the estimator methods, each declared once and computed by the
one generic path of :mod:`es_survey.estimate` (linearisation or replicates,
chosen by the design's variance engine).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from es_survey import estimate as _estimate
from es_survey.errors import DesignError


class _FrozenDesign:
    """Base of the design classes: immutable, with the common read-only properties.

    The base declares no slot, so a subclass's ``__slots__`` lists all of its
    state (``_data``, ``_weights``, ``_mask``, ``_df`` and its own), and copying
    every name in ``self.__slots__`` copies the whole design.

    Examples
    --------
    >>> import pandas as pd
    >>> from es_survey import SurveyDesign
    >>> d = SurveyDesign(pd.DataFrame({"w": [1.0, 2.0]}), weights="w")
    >>> d.n, d.weights.flags.writeable
    (2, False)
    """

    __slots__: tuple[str, ...] = ()
    _kind: ClassVar[str] = "design"  # the class name shown in the immutability errors

    _data: pd.DataFrame
    _weights: np.ndarray
    _mask: np.ndarray
    _df: float
    _engine: Any

    def _set(self, **values: Any) -> None:
        for key, value in values.items():
            object.__setattr__(self, key, value)

    def __setattr__(self, name: str, value: Any) -> None:
        """Refuse attribute assignment: a design is immutable."""
        raise AttributeError(
            f"{self._kind} is immutable; cannot set {name!r}. Build a new design instead."
        )

    def __delattr__(self, name: str) -> None:
        """Refuse attribute deletion: a design is immutable."""
        raise AttributeError(f"{self._kind} is immutable; cannot delete {name!r}")

    @property
    def data(self) -> pd.DataFrame:
        """A copy of the design's data (all rows, including those outside the domain)."""
        return self._data.copy()

    @property
    def weights(self) -> np.ndarray:
        """Weights of every row (a read-only view).

        The sampling weights of a ``SurveyDesign``; the full-sample weights of a
        ``ReplicateDesign``.
        """
        return _read_only(self._weights)

    @property
    def in_domain(self) -> np.ndarray:
        """Boolean mask of the rows in the design's domain (a read-only view)."""
        return _read_only(self._mask)

    @property
    def n(self) -> int:
        """Number of rows in the design's domain."""
        return int(self._mask.sum())

    @property
    def df(self) -> float:
        """Degrees of freedom among the domain's rows (R ``degf``).

        PSUs minus strata for a ``SurveyDesign``; the rank of the replicate
        weights minus one for a ``ReplicateDesign``.
        """
        return self._df

    def _design_columns(self) -> set[str]:
        """Columns that define the design (``assign`` may not replace them)."""
        return set()

    # ---------------------------------------------------------------- domains
    def domain(self, mask: np.ndarray | pd.Series | Sequence[bool]) -> Any:
        """Restrict estimation to a domain, keeping every sampled unit.

        Rows outside the domain get zero weight in every estimate, but their
        PSUs (or replicate groups) still count in the variance, as R's
        ``subset(design, ...)``. Domains of a domain intersect.

        Parameters
        ----------
        mask : array-like of bool or pandas.Series
            True for rows in the domain; a Series is aligned on the data's index.

        Returns
        -------
        SurveyDesign or ReplicateDesign
            A new design of the same kind; this one is unchanged.

        Raises
        ------
        DesignError
            When the mask has the wrong length, missing values, is not boolean,
            or selects no row.

        Examples
        --------
        >>> import pandas as pd
        >>> from es_survey import SurveyDesign
        >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "w": [2.0, 2.0, 3.0, 3.0]})
        >>> SurveyDesign(df, weights="w").domain(df["y"] > 2).n
        2
        """
        new_mask = self._domain_mask(mask)
        new = self._copy()
        new._set(
            _mask=new_mask,
            _df=float(self._engine.degrees_of_freedom(np.where(new_mask, 0, -1), 1)[0]),
        )
        return new

    def _copy(self) -> Any:
        new = object.__new__(type(self))
        for slot in self.__slots__:
            object.__setattr__(new, slot, getattr(self, slot))
        return new

    def assign(self, **columns: Any) -> Any:
        """Return a design whose data have extra (or replaced) analysis columns.

        The rows, weights, strata, stages, replicates, domain and any weighting
        steps are unchanged; only analysis variables may be added or replaced,
        never the design's own columns.

        Parameters
        ----------
        **columns : array-like or pandas.Series
            New columns, one value per row of the design's data (a Series is
            aligned on the data's index), as in :meth:`pandas.DataFrame.assign`.

        Returns
        -------
        SurveyDesign or ReplicateDesign
            A new design of the same kind; this one is unchanged.

        Raises
        ------
        DesignError
            When a column would replace a design column or has the wrong length.

        Examples
        --------
        >>> import pandas as pd
        >>> from es_survey import SurveyDesign
        >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0], "w": [2.0, 2.0, 4.0]})
        >>> d = SurveyDesign(df, weights="w").assign(y2=df["y"] ** 2)
        >>> float(d.total("y2").estimate[0])
        46.0
        """
        clash = sorted(set(columns) & self._design_columns())
        if clash:
            raise DesignError(
                f"assign() cannot replace design column(s) {clash}; build a new design "
                "to change weights, strata, PSUs or fpc"
            )
        for name, value in columns.items():
            if not isinstance(value, pd.Series) and np.shape(value) != (len(self._data),):
                raise DesignError(
                    f"column {name!r} has shape {np.shape(value)} but the design has "
                    f"{len(self._data)} rows; give one value per row"
                )
        new = self._copy()
        object.__setattr__(new, "_data", self._data.assign(**columns))
        return new

    # ------------------------------------------------------------- estimators
    # Declared once, here, for every design kind: the functions of es_survey.estimate
    # are the methods (the design is their first argument).
    total = _estimate.total
    mean = _estimate.mean
    ratio = _estimate.ratio
    proportion = _estimate.proportion
    quantile = _estimate.quantile

    def _domain_mask(self, mask: Any) -> np.ndarray:
        """Intersect the current domain with a validated ``mask``; raise if it is empty."""
        new_mask = self._mask & _mask_values(self._data, mask)
        if not new_mask.any():
            raise DesignError("domain mask selects no row of the design; check the condition")
        return new_mask


def _read_only(array: np.ndarray) -> np.ndarray:
    """Return a read-only view of ``array``."""
    view = array.view()
    view.flags.writeable = False
    return view


def _mask_values(data: pd.DataFrame, mask: Any) -> np.ndarray:
    """Validate a domain mask against ``data`` and return it as bools."""
    if isinstance(mask, pd.Series):
        if not mask.index.equals(data.index):
            if not mask.index.isin(data.index).all() or mask.index.has_duplicates:
                raise DesignError(
                    "domain mask Series has an index that does not match the design's "
                    "data; build it from the same DataFrame (e.g. d.data['x'] == 1)"
                )
            mask = mask.reindex(data.index)
        if mask.isna().any():
            raise DesignError(
                f"domain mask has {int(mask.isna().sum())} missing values; "
                "use mask.fillna(False) to leave those rows out"
            )
        values = mask.to_numpy()
    else:
        values = np.asarray(mask)
    if values.shape != (len(data),):
        raise DesignError(
            f"domain mask has shape {values.shape} but the design has {len(data)} rows; "
            "give one boolean per row"
        )
    if values.dtype != bool:
        raise DesignError(
            f"domain mask must be boolean, got dtype {values.dtype}; "
            "build it with a comparison such as df['type'] == 'A'"
        )
    return values
