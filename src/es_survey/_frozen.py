"""What every design kind shares: immutability, domains, ``assign`` and the estimators.

A design is immutable: attributes are written once, with ``_set``, when it is
built, and assignment or deletion afterwards raises ``AttributeError``. The
base class holds the read-only properties every design has, ``domain()``,
``assign()`` and the estimator methods, each declared once and computed by the
one generic path of :mod:`es_survey.estimate` (linearisation or replicates,
chosen by the design's variance engine).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from es_survey import estimate as _estimate
from es_survey.errors import DesignError
from es_survey.weighting import (
    _build_model,
    _match_categories,
    calibrate_weights,
    poststratify_weights,
    rake_weights,
    trim_weights,
    weights_summary,
)


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

    # -------------------------------------------------------------- weighting
    # Declared once for every design kind; the kinds differ only in the weights a
    # step is applied to (_weights_in) and in how the new design is made (_reweighted).
    def _weights_in(self, what: str) -> np.ndarray:
        """Weights a weighting step applies to; refuse a domain (weight the whole sample)."""
        if not self._mask.all():
            raise DesignError(
                f"{what} applies to the whole sample, not a domain; weight the whole design "
                "first, then take domains with .domain()"
            )
        return self._weights

    # Each design kind defines how a new design is made from reweighted weights (and,
    # for linearisation, the step's model): SurveyDesign adds a calibration step to its
    # variance, ReplicateDesign recompresses its replicate factors.
    _reweighted: Callable[[np.ndarray, Any, str, str], Any]

    def poststratify(self, variable: str, totals: Mapping[object, float]) -> Any:
        """Post-stratify to known population counts (R ``postStratify``).

        Weights in post-stratum ``c`` are multiplied by ``N_c / sum_c w``. The
        variance uses the post-stratification residuals (see
        :mod:`es_survey.weighting`), as R's.

        On a :class:`~es_survey.ReplicateDesign` the full-sample weights and every
        replicate are weighted the same way, so the replicate variance reflects the
        step (as R's weighting of a ``svyrep.design``); on a
        :class:`~es_survey.SurveyDesign` the variance uses the step's residuals.

        Parameters
        ----------
        variable : str
            Categorical column defining the post-strata.
        totals : mapping
            ``{category: population count}``, one per category in the data.

        Returns
        -------
        SurveyDesign or ReplicateDesign
            A new design of the same kind.

        Raises
        ------
        DataError
            For a missing or extra category.
        CalibrationError
            For a post-stratum with zero sample weight.

        Examples
        --------
        >>> import pandas as pd
        >>> from es_survey import SurveyDesign
        >>> df = pd.DataFrame({"g": ["a", "a", "b"], "w": [1.0, 1.0, 1.0]})
        >>> SurveyDesign(df, weights="w").poststratify("g", {"a": 10, "b": 5}).weights.tolist()
        [5.0, 5.0, 5.0]
        """
        if not isinstance(totals, Mapping):
            raise DesignError("totals must be a mapping {category: population count}")
        matrix = self._weights_in("poststratify")
        model = _build_model(self._data, {variable: totals})
        cells = model.terms[0][0]  # the cell of each row
        out = poststratify_weights(
            matrix, cells, model.targets, names=model.categories, margin=variable
        )
        return self._reweighted(out, model, "poststratify", f"post-stratified on {variable!r}")

    def rake(
        self,
        margins: Mapping[str, Mapping[object, float]],
        epsilon: float = 1e-10,
        max_iter: int = 100,
    ) -> Any:
        """Rake to several categorical margins (iterative proportional fitting).

        The weights are those of R's ``rake()`` (and of ``calibrate(...,
        calfun="raking")`` on the same margins). The variance is that of R's
        ``calibrate(calfun="raking")``: residuals of the regression on the
        margins' indicators weighted by the initial weights (exact
        linearisation). R's ``rake()`` instead centres the influence values by
        10 unweighted sweeps over the margins; both agree when the initial
        weights are equal within the margins' cells (e.g. R's ``dclus1``), and
        differ otherwise (4.8% for a total on R's ``dstrat`` raked on
        ``sch.wide`` and ``awards``; see ``tests/reference/README.md``).

        On a :class:`~es_survey.ReplicateDesign` the full-sample weights and every
        replicate are weighted the same way, so the replicate variance reflects the
        step (as R's weighting of a ``svyrep.design``); on a
        :class:`~es_survey.SurveyDesign` the variance uses the step's residuals.

        Parameters
        ----------
        margins : mapping
            ``{variable: {category: population count}}``.
        epsilon : float
            Relative tolerance: max ``|achieved - target| / target``.
        max_iter : int
            Maximum number of passes.

        Returns
        -------
        SurveyDesign or ReplicateDesign
            A new design of the same kind.

        Raises
        ------
        DataError
            For missing or extra categories, or margins with different totals.
        CalibrationError
            For a category with zero sample weight or no convergence, with the
            table of achieved versus target totals.

        Examples
        --------
        >>> import pandas as pd
        >>> from es_survey import SurveyDesign
        >>> df = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["u", "v", "u", "v"],
        ...                    "w": [1.0] * 4})
        >>> d = SurveyDesign(df, weights="w").rake({"a": {"x": 6, "y": 4}, "b": {"u": 5, "v": 5}})
        >>> d.weights.round(6).tolist()
        [3.0, 3.0, 2.0, 2.0]
        """
        if not isinstance(margins, Mapping) or not margins:
            raise DesignError("margins must be a mapping {variable: {category: total}}")
        matrix = self._weights_in("rake")
        model = _build_model(self._data, margins)  # validates categories and totals
        spec = []
        names = []
        for name, tot in margins.items():
            codes, keys, values = _match_categories(name, self._data[name], tot)
            spec.append((codes, values))
            names.append((name, [str(k) for k in keys]))
        out = rake_weights(matrix, spec, epsilon=epsilon, max_iter=max_iter, names=names)
        return self._reweighted(out, model, "rake", f"raked on {list(margins)}")

    def calibrate(
        self,
        totals: Mapping[str, Mapping[object, float] | float],
        method: Literal["linear", "raking", "logit"] = "linear",
        bounds: tuple[float, float] | None = None,
        epsilon: float = 1e-10,
        max_iter: int = 100,
    ) -> Any:
        """Calibrate to population totals (R ``calibrate``); see :mod:`es_survey.weighting`.

        On a :class:`~es_survey.ReplicateDesign` the full-sample weights and every
        replicate are weighted the same way, so the replicate variance reflects the
        step (as R's weighting of a ``svyrep.design``); on a
        :class:`~es_survey.SurveyDesign` the variance uses the step's residuals.

        Parameters
        ----------
        totals : mapping
            ``{variable: {category: total}}`` for categorical variables and
            ``{variable: total}`` for numeric ones; collinear categorical margins
            are handled as R does with an intercept.
        method : {"linear", "raking", "logit"}
            Calibration function.
        bounds : (float, float), optional
            Bounds ``(L, U)`` on ``g = new weight / old weight``.
        epsilon : float
            Relative tolerance: max ``|achieved - target| / |target|``.
        max_iter : int
            Maximum number of Newton steps.

        Returns
        -------
        SurveyDesign or ReplicateDesign
            A new design of the same kind whose variance uses the calibration residuals.

        Raises
        ------
        DataError
            For missing or extra categories or unknown variables.
        CalibrationError
            When the targets cannot be met (within the bounds), with the table of
            achieved versus target totals.

        Examples
        --------
        >>> import pandas as pd
        >>> from es_survey import SurveyDesign
        >>> df = pd.DataFrame({"g": ["a", "a", "b"], "x": [1.0, 2.0, 3.0], "w": [1.0] * 3})
        >>> d = SurveyDesign(df, weights="w").calibrate({"g": {"a": 4, "b": 2}, "x": 11.0})
        >>> d.weights.round(6).tolist()
        [3.0, 1.0, 2.0]
        """
        matrix = self._weights_in("calibrate")
        model = _build_model(self._data, totals)
        # several weight columns: dense X (one Hessian per column by einsum)
        x = model.X if matrix.ndim == 1 else model.X.toarray()
        out = calibrate_weights(
            matrix,
            x,
            model.targets,
            method=method,
            bounds=bounds,
            epsilon=epsilon,
            max_iter=max_iter,
            labels=model.labels,
        )
        return self._reweighted(out, model, "calibrate", f"calibrated ({method})")

    def trim(
        self, upper: float | None = None, lower: float | None = None, max_iter: int = 100
    ) -> Any:
        """Trim the weights to ``[lower, upper]``, redistributing the excess proportionally.

        See :func:`es_survey.weighting.trim_weights`. The total of the weights
        is kept; earlier calibration steps stay in the variance (as R's
        ``trimWeights``), although the trimmed weights meet their targets only
        approximately.

        On a :class:`~es_survey.ReplicateDesign` the full-sample weights and every
        replicate are weighted the same way, so the replicate variance reflects the
        step (as R's weighting of a ``svyrep.design``); on a
        :class:`~es_survey.SurveyDesign` the variance uses the step's residuals.

        Parameters
        ----------
        upper, lower : float, optional
            Bounds on the (positive) weights.
        max_iter : int
            Maximum number of passes.

        Returns
        -------
        SurveyDesign or ReplicateDesign
            A new design of the same kind.

        Raises
        ------
        CalibrationError
            When the bounds cannot hold with the total kept.

        Examples
        --------
        >>> import pandas as pd
        >>> from es_survey import SurveyDesign
        >>> df = pd.DataFrame({"w": [1.0, 1.0, 1.0, 7.0]})
        >>> SurveyDesign(df, weights="w").trim(upper=4.0).weights.tolist()
        [2.0, 2.0, 2.0, 4.0]
        """
        matrix = self._weights_in("trim")
        out = trim_weights(matrix, lower=lower, upper=upper, max_iter=max_iter)
        return self._reweighted(out, None, "trim", "trimmed")

    def weights_summary(self) -> pd.DataFrame:
        """Weight diagnostics: n, sum, min, max, mean, CV, Kish deff, n_eff.

        See :func:`es_survey.weighting.weights_summary`.

        Returns
        -------
        pandas.DataFrame
            One row: ``n, n_zero, sum, min, max, mean, cv, deff_kish, n_eff``.

        Examples
        --------
        >>> import pandas as pd
        >>> from es_survey import SurveyDesign
        >>> df = pd.DataFrame({"w": [1.0, 1.0, 2.0, 4.0]})
        >>> float(SurveyDesign(df, weights="w").weights_summary()["deff_kish"].iloc[0])
        1.375
        """
        return weights_summary(self._weights)

    def _domain_mask(self, mask: Any) -> np.ndarray:
        """Intersect the current domain with a validated ``mask``; raise if it is empty."""
        new_mask = self._mask & _mask_values(self._data, mask)
        if not new_mask.any():
            raise DesignError("domain mask selects no row of the design; check the condition")
        return new_mask


def _check_data(data: Any, what: str = "data") -> None:
    """Refuse what is not a DataFrame with unique column names (DesignError)."""
    if not isinstance(data, pd.DataFrame):
        raise DesignError(
            f"{what} must be a pandas DataFrame, got {type(data).__name__}; "
            "wrap it with pd.DataFrame(...)"
        )
    dup = data.columns[data.columns.duplicated()]
    if len(dup):
        raise DesignError(
            f"{what} has {len(dup) + 1} columns named {dup[0]!r}; give every column its own "
            "name (e.g. df.columns = [...]) before building a design"
        )


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
