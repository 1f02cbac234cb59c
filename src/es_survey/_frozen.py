"""Frozen-design machinery shared by `SurveyDesign` and `ReplicateDesign` (private).

A design is immutable: attributes are written once, with ``_set``, when it is
built, and assignment or deletion afterwards raises ``AttributeError``. The
base class also holds the read-only properties both designs have and the
validation of a domain mask.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

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

    __slots__ = ()
    _kind: ClassVar[str] = "design"  # the class name shown in the immutability errors

    _data: pd.DataFrame
    _weights: np.ndarray
    _mask: np.ndarray
    _df: float

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
