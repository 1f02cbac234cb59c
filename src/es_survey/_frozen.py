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
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from es_survey import estimate as _estimate
from es_survey.errors import DesignError
from es_survey.result import Estimate


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
    def total(
        self,
        y: str | Sequence[str],
        by: str | Sequence[str] | None = None,
        *,
        na_rm: bool = False,
        interval: Literal["wald", "log"] = "wald",
        df: float | None = None,
        covmat: bool | None = None,
        level: float = 0.95,
    ) -> Estimate:
        """Estimated population total (R ``svytotal``); see :func:`es_survey.estimate.total`.

        Parameters
        ----------
        y, by, na_rm, interval, df, covmat, level
            As :func:`es_survey.estimate.total`.

        Returns
        -------
        Estimate
            ``statistic="total"``.

        Examples
        --------
        >>> import pandas as pd
        >>> from es_survey import SurveyDesign
        >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "w": [2.0, 2.0, 3.0, 3.0]})
        >>> float(SurveyDesign(df, weights="w").total("y").to_frame()["estimate"].iloc[0])
        27.0
        """
        return _estimate.total(self, y, by, na_rm=na_rm, interval=interval, df=df,
                               covmat=covmat, level=level)  # fmt: skip

    def mean(
        self,
        y: str | Sequence[str],
        by: str | Sequence[str] | None = None,
        *,
        na_rm: bool = False,
        df: float | None = None,
        covmat: bool | None = None,
        level: float = 0.95,
    ) -> Estimate:
        """Estimated population mean (R ``svymean``); see :func:`es_survey.estimate.mean`.

        Parameters
        ----------
        y, by, na_rm, df, covmat, level
            As :func:`es_survey.estimate.mean`.

        Returns
        -------
        Estimate
            ``statistic="mean"``.

        Examples
        --------
        >>> import pandas as pd
        >>> from es_survey import SurveyDesign
        >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "w": [2.0, 2.0, 3.0, 3.0]})
        >>> float(SurveyDesign(df, weights="w").mean("y").to_frame()["estimate"].iloc[0])
        2.7
        """
        return _estimate.mean(self, y, by, na_rm=na_rm, df=df, covmat=covmat, level=level)

    def ratio(
        self,
        numerator: str | Sequence[str],
        denominator: str,
        by: str | Sequence[str] | None = None,
        *,
        na_rm: bool = False,
        df: float | None = None,
        covmat: bool | None = None,
        level: float = 0.95,
    ) -> Estimate:
        """Estimated ratio of two totals (R ``svyratio``); see :func:`es_survey.estimate.ratio`.

        Parameters
        ----------
        numerator, denominator, by, na_rm, df, covmat, level
            As :func:`es_survey.estimate.ratio`.

        Returns
        -------
        Estimate
            ``statistic="ratio"``.

        Examples
        --------
        >>> import pandas as pd
        >>> from es_survey import SurveyDesign
        >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "x": [1.0, 1.0, 2.0, 2.0]})
        >>> d = SurveyDesign(df.assign(w=2.0), weights="w")
        >>> float(d.ratio("y", "x").to_frame()["estimate"].iloc[0])
        1.6666666666666667
        """
        return _estimate.ratio(self, numerator, denominator, by, na_rm=na_rm, df=df,
                               covmat=covmat, level=level)  # fmt: skip

    def proportion(
        self,
        y: str,
        by: str | Sequence[str] | None = None,
        *,
        method: Literal["logit", "beta", "wilson", "wald"] = "logit",
        na_rm: bool = False,
        df: float | None = None,
        covmat: bool | None = None,
        level: float = 0.95,
    ) -> Estimate:
        """Estimated proportion with a proper interval (R ``svyciprop``).

        See :func:`es_survey.estimate.proportion`.

        Parameters
        ----------
        y, by, method, na_rm, df, covmat, level
            As :func:`es_survey.estimate.proportion`.

        Returns
        -------
        Estimate
            ``statistic="proportion"``.

        Examples
        --------
        >>> import pandas as pd
        >>> from es_survey import SurveyDesign
        >>> df = pd.DataFrame({"f": [True, False, True, True], "w": [1.0, 1.0, 2.0, 2.0]})
        >>> float(SurveyDesign(df, weights="w").proportion("f").to_frame()["estimate"].iloc[0])
        0.8333333333333334
        """
        return _estimate.proportion(self, y, by, method=method, na_rm=na_rm, df=df,
                                    covmat=covmat, level=level)  # fmt: skip

    def quantile(
        self,
        y: str | Sequence[str],
        q: float | Sequence[float],
        by: str | Sequence[str] | None = None,
        *,
        na_rm: bool = False,
        df: float | None = None,
        level: float = 0.95,
    ) -> Estimate:
        """Estimated quantiles with Woodruff intervals (R ``svyquantile``).

        See :func:`es_survey.estimate.quantile`.

        Parameters
        ----------
        y, q, by, na_rm, df, level
            As :func:`es_survey.estimate.quantile`.

        Returns
        -------
        Estimate
            ``statistic="quantile"``.

        Examples
        --------
        >>> import pandas as pd
        >>> from es_survey import SurveyDesign
        >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "w": [1.0, 1.0, 1.0, 1.0]})
        >>> float(SurveyDesign(df, weights="w").quantile("y", 0.5).to_frame()["estimate"].iloc[0])
        2.0
        """
        return _estimate.quantile(self, y, q, by, na_rm=na_rm, df=df, level=level)

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
