"""`SurveyDesign`: a sample, its weights and its sampling structure, frozen.

The design is built once from a DataFrame and column names. It validates the
design columns, turns strata and sampled units of every stage into integer codes
(PSUs nested within strata and each later-stage unit within its parent, as R
``survey``'s ``svydesign(..., nest=TRUE)``), derives weights from the fpc when
none are given, and holds the variance engine. Estimators are methods returning
an :class:`~es_survey.estimate.Estimate`.

References
----------
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley, ch. 2-3.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from es_survey._frozen import _check_data, _FrozenDesign
from es_survey.errors import DataError, DesignError
from es_survey.replicate import ReplicateDesign, _from_design
from es_survey.variance import LONELY_PSU_RULES, LonelyPsu, TaylorVariance, _codes, _Stage
from es_survey.weighting import (
    CalibratedVariance,
    _as_list,
    _CalibrationStep,
    _check_columns,
    nonresponse_steps,
)

__all__ = ["SurveyDesign"]


def _show(value: object) -> str:
    """Readable form of a data value for messages (no numpy scalar reprs)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def _first_per_code(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Value at the first row of each code (vectorised)."""
    out = np.empty(size, dtype=values.dtype)
    out[codes[::-1]] = values[::-1]
    return out


class SurveyDesign(_FrozenDesign):
    """A complex survey sample: data, weights, strata, stages and fpc.

    The estimates agree with R's ``survey`` package for
    ``svydesign(ids=~psu1+psu2, strata=~strata, weights=~w, fpc=~fpc1+fpc2,
    nest=TRUE)`` with ``options(survey.lonely.psu=lonely_psu)``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per sampled unit (the final-stage unit). It is copied; the
        caller's frame is never modified.
    weights : str, optional
        Column of sampling weights (positive, finite). When absent the weights
        are derived from ``fpc`` as R does: the product over stages of
        ``N_h / n_h``.
    strata : str, optional
        Column of first-stage strata.
    psu : str or list of str, optional
        Column of first-stage sampled units (PSUs), or one column per stage.
        Absent: every row is its own PSU. With strata, a PSU id that appears in
        two strata is an error unless ``nest=True`` (as R's ``nest=FALSE``
        default); under ``nest=True`` ids are nested within strata (the
        same id in two strata is two PSUs).
    fpc : str or list of str, optional
        Finite population correction per stage: either population numbers of
        units in the stratum (all values >= 1) or sampling fractions (all < 1),
        constant within each stratum. Stages beyond the last fpc column are
        treated as sampled with replacement (as R).
    lonely_psu : {"fail", "remove", "certainty", "adjust", "average"}
        Rule for strata with a single sampled unit; see :mod:`es_survey.variance`.
        ``"fail"`` (default) raises at construction, naming the stratum.
    nest : bool
        PSU ids are numbered within strata (the same id in two strata is two
        PSUs), as R's ``nest=TRUE``. False (default): an id found in two strata
        is an error naming the PSU and the strata, since it is usually a coding
        error.

    Attributes
    ----------
    df : float
        Degrees of freedom: PSUs minus strata (among rows of the domain).
    n : int
        Number of rows in the design's domain.

    Raises
    ------
    DesignError
        For unknown columns, missing values in design columns, negative
        weights, PSUs not nested in strata (without ``nest=True``), an fpc
        inconsistent within a stratum or smaller than the number of sampled
        units, neither weights nor fpc, or a lonely PSU under
        ``lonely_psu="fail"``. Each message names the column, value,
        stratum and the fix.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"h": ["a", "a", "a", "b", "b"],
    ...                    "y": [1.0, 2.0, 3.0, 4.0, 6.0],
    ...                    "N": [30, 30, 30, 20, 20]})
    >>> d = SurveyDesign(df, strata="h", fpc="N")
    >>> d
    SurveyDesign: 5 rows, 2 strata, 5 PSUs, df=3, weights from fpc, lonely_psu='fail'
    >>> float(d.total("y").to_frame()["estimate"].iloc[0])
    160.0
    """

    _kind = "SurveyDesign"
    __slots__ = (
        "_data",
        "_describe",
        "_df",
        "_engine",
        "_mask",
        "_spec",
        "_stages_all",
        "_weights",
    )
    _engine: TaylorVariance | CalibratedVariance
    _spec: dict[str, Any]
    _stages_all: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], ...]
    _describe: str

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        weights: str | None = None,
        strata: str | None = None,
        psu: str | Sequence[str] | None = None,
        fpc: str | Sequence[str] | None = None,
        lonely_psu: LonelyPsu = "fail",
        nest: bool = False,
    ) -> None:
        _check_data(data)
        if lonely_psu not in LONELY_PSU_RULES:
            raise DesignError(
                f"lonely_psu={lonely_psu!r} is not a rule; use one of {list(LONELY_PSU_RULES)}"
            )
        psus = _as_list(psu)
        fpcs = _as_list(fpc)
        _check_columns(
            data,
            {
                "weights": [weights] if weights else [],
                "strata": [strata] if strata else [],
                "psu": psus,
                "fpc": fpcs,
            },
        )
        if fpcs and len(fpcs) > max(len(psus), 1):
            raise DesignError(
                f"fpc has {len(fpcs)} stages but psu has {max(len(psus), 1)}; "
                "give one psu column per fpc column"
            )
        if weights is None and not fpcs:
            raise DesignError(
                "the design has neither weights nor fpc; give weights='column' "
                "(sampling weights) or fpc='column' (population sizes) to derive them"
            )
        n = len(data)
        if n == 0:
            raise DesignError("data has no rows; a design needs at least one sampled unit")
        for col in [c for c in [weights, strata, *psus, *fpcs] if c is not None]:
            missing = data[col].isna().to_numpy()
            if missing.any():
                first = data.index[np.flatnonzero(missing)[0]]
                raise DesignError(
                    f"design column {col!r} has {int(missing.sum())} missing values "
                    f"(first at row {first!r}); fill them or drop those rows before "
                    "building the design"
                )

        # --- strata and units of every stage (nested) -------------------------
        if strata is not None:
            s_codes, s_labels = pd.factorize(data[strata], sort=True)
            strata_codes = s_codes.astype(np.int64)
            strata_labels = [str(v) for v in s_labels]
        else:
            strata_codes = np.zeros(n, dtype=np.int64)
            strata_labels = ["(whole sample)"]
        n_strata1 = len(strata_labels)
        if psus:
            stage_ids = []
            for col in psus:
                codes, _ = pd.factorize(data[col], sort=False)
                stage_ids.append(codes.astype(np.int64))
            if strata is not None and not nest:
                _check_nested(data, psus[0], strata, stage_ids[0], strata_codes)
        else:
            stage_ids = [np.arange(n, dtype=np.int64)]

        cluster_codes: list[np.ndarray] = []
        parent = strata_codes
        n_parent = n_strata1
        for ids in stage_ids:
            width = int(ids.max()) + 1
            codes, _ = _codes(parent * width + ids, n_parent * width)
            cluster_codes.append(codes)
            parent = codes
            n_parent = int(codes.max()) + 1

        # --- fpc and population sizes ------------------------------------------
        n_stages = len(cluster_codes)
        stage_strata = [strata_codes, *cluster_codes[:-1]]
        stage_labels: list[list[str]] = [strata_labels]
        n_psu: list[np.ndarray] = []
        cl_stratum: list[np.ndarray] = []
        for s in range(n_stages):
            n_clusters = int(cluster_codes[s].max()) + 1
            n_h_strata = int(stage_strata[s].max()) + 1
            cs = _first_per_code(cluster_codes[s], stage_strata[s], n_clusters)
            cl_stratum.append(cs)
            n_psu.append(np.bincount(cs, minlength=n_h_strata).astype(float))
        popsize = [np.full(n_psu[s].shape[0], np.inf) for s in range(n_stages)]
        if fpcs:
            values = [pd.to_numeric(data[c], errors="coerce").to_numpy(dtype=float) for c in fpcs]
            for col, v in zip(fpcs, values, strict=True):
                bad = ~np.isfinite(v) | (v <= 0)
                if bad.any():
                    i = np.flatnonzero(bad)[0]
                    raise DesignError(
                        f"fpc column {col!r} has value {_show(data[col].iloc[i])} at row "
                        f"{data.index[i]!r}; fpc must be a population size (>= 1) or a "
                        "sampling fraction (0 < f <= 1)"
                    )
            is_popsize = any((v > 1).any() for v in values)
            if is_popsize:
                for col, v in zip(fpcs, values, strict=True):
                    if (v < 1).any():
                        i = np.flatnonzero(v < 1)[0]
                        raise DesignError(
                            f"fpc column {col!r} mixes population sizes (>= 1) with the "
                            f"fraction {_show(v[i])} at row {data.index[i]!r}; give all fpc as "
                            "population sizes or all as sampling fractions"
                        )
            for s, (col, v) in enumerate(zip(fpcs, values, strict=True)):
                codes = stage_strata[s]
                size = n_psu[s].shape[0]
                first = _first_per_code(codes, v, size)
                differs = v != first[codes]
                if differs.any():
                    i = np.flatnonzero(differs)[0]
                    name = _stratum_name(s, codes[i], stage_labels, data, psus, cluster_codes)
                    raise DesignError(
                        f"fpc column {col!r} varies within {name}: {_show(first[codes[i]])} and "
                        f"{_show(v[i])} (row {data.index[i]!r}); the fpc must be constant "
                        "within each stratum"
                    )
                pop = first if is_popsize else n_psu[s] / first
                small = pop < n_psu[s]
                if small.any():
                    h = int(np.flatnonzero(small)[0])
                    name = _stratum_name(s, h, stage_labels, data, psus, cluster_codes)
                    raise DesignError(
                        f"fpc column {col!r} gives {_show(first[h])} for {name}, which has "
                        f"{int(n_psu[s][h])} sampled units; the fpc implies more than 100% "
                        "sampling: give the population number of units (>= n_h)"
                    )
                popsize[s] = pop

        # --- weights -----------------------------------------------------------
        if weights is not None:
            w = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
            bad = ~np.isfinite(w) | (w < 0)
            if bad.any():
                i = np.flatnonzero(bad)[0]
                raise DesignError(
                    f"weights column {weights!r} has {int(bad.sum())} negative or "
                    f"non-numeric values (first {_show(data[weights].iloc[i])} at row "
                    f"{data.index[i]!r}); sampling weights must be non-negative numbers: "
                    "fix the weights (a unit to leave out of the estimates can keep "
                    "its row with weight 0, or be excluded with design.domain(...))"
                )
            describe = f"weights={weights!r}"
        else:
            if any(np.isinf(p).any() for p in popsize):
                raise DesignError(
                    "weights cannot be derived from fpc because a stage has no fpc; "
                    "give weights= or an fpc column for every stage"
                )
            prob = np.ones(n)
            for s in range(n_stages):
                prob = prob * (n_psu[s] / popsize[s])[stage_strata[s]]
            w = 1.0 / prob
            describe = "weights from fpc"

        # --- stages used for the variance ---------------------------------------
        stages: list[_Stage] = []
        used = n_stages if fpcs else 1
        multiplier = np.ones(n_strata1)
        for s in range(used):
            size = n_psu[s].shape[0]
            if s == 0:
                group = np.zeros(size, dtype=np.int64)
            else:
                group = np.arange(size, dtype=np.int64)
                prev_fraction = (n_psu[s - 1] / popsize[s - 1]) * multiplier
                multiplier = prev_fraction[cl_stratum[s - 1]]
            labels = (
                strata_labels if s == 0 else _LazyLabels(s, data, psus, cluster_codes, stage_labels)
            )
            stages.append(
                _Stage(
                    strata=stage_strata[s],
                    clusters=cluster_codes[s],
                    cluster_stratum=cl_stratum[s],
                    n_psu=n_psu[s],
                    popsize=popsize[s],
                    group=group,
                    multiplier=multiplier,
                    labels=labels,  # type: ignore[arg-type]
                )
            )
        engine = TaylorVariance(tuple(stages), lonely_psu)
        engine.check_lonely()
        stages_all = tuple(
            (cluster_codes[s], cl_stratum[s], n_psu[s], popsize[s]) for s in range(n_stages)
        )
        spec = {
            "weights": weights,
            "strata": strata,
            "psu": psus,
            "fpc": fpcs,
            "lonely_psu": lonely_psu,
        }
        mask = np.ones(n, dtype=bool)
        self._set(
            _data=data.copy(),
            _weights=w,
            _engine=engine,
            _mask=mask,
            _spec=spec,
            _stages_all=stages_all,
            _describe=describe,
            _df=float(engine.degrees_of_freedom(np.zeros(n, dtype=np.int64), 1)[0]),
        )

    # -------------------------------------------------------------- properties
    @property
    def lonely_psu(self) -> str:
        """The lonely-PSU rule of the design."""
        return str(self._spec["lonely_psu"])

    def __repr__(self) -> str:
        """Summary: rows, strata, PSUs, degrees of freedom, weights, rules."""
        stage = self._engine.stages[0]
        rows = self._mask
        n_strata = np.unique(stage.strata[rows]).shape[0]
        n_psu = np.unique(stage.clusters[rows]).shape[0]
        dom = "" if rows.all() else f" in a domain of {len(rows)}"
        stages = len(self._stages_all)
        st = f", {stages} stages" if stages > 1 else ""
        return (
            f"SurveyDesign: {int(rows.sum())} rows{dom}, {n_strata} strata, {n_psu} PSUs{st}, "
            f"df={self._df:g}, {self._describe}, lonely_psu={self.lonely_psu!r}"
        )

    # ------------------------------------------------------------------ domain
    def _design_columns(self) -> set[str]:
        """Columns that define the design (``assign`` may not replace them)."""
        out: set[str] = set()
        for value in self._spec.values():
            if isinstance(value, str):
                out.add(value)
            elif isinstance(value, list | tuple):
                out.update(v for v in value if isinstance(v, str))
        return out

    # --------------------------------------------------------------- weighting
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        sample: str | pd.DataFrame,
        strata: str = "stratum",
        *,
        key: str | None = None,
        lonely_psu: LonelyPsu = "fail",
    ) -> SurveyDesign:
        """Build a stratified SRS design with weights ``N_h / n_h`` from the frame.

        ``N_h`` is the number of frame units in stratum ``h`` and ``n_h`` the
        number sampled; the design gets the weights ``N_h / n_h`` (column
        ``design_weight``) and the fpc ``N_h`` (column ``frame_N_h``).

        Parameters
        ----------
        frame : pandas.DataFrame
            The sampling frame, one row per population unit, with the ``strata``
            column.
        sample : str or pandas.DataFrame
            Either the name of a boolean column of ``frame`` marking the sampled
            units (the design's data are then those frame rows), or a DataFrame
            of sampled units (its rows and columns are the design's data) that
            carries the frame's key: the column ``key`` present in both, or, when
            ``key`` is None, the frame's index labels as its index.
        strata : str
            Stratum column of the frame.
        key : str, optional
            Unit identifier column shared by frame and sample.
        lonely_psu : {"fail", "remove", "certainty", "adjust", "average"}
            Rule for strata with one sampled unit.

        Returns
        -------
        SurveyDesign
            The design (sampled units with ``design_weight`` and ``frame_N_h``).

        Raises
        ------
        DesignError
            For unknown columns, a stratum with no sampled unit, or added
            columns that would overwrite data.
        DataError
            For sampled units that are not in the frame or appear twice.

        Examples
        --------
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"stratum": ["a"] * 4 + ["b"] * 3,
        ...                       "s": [True, True, False, False, True, True, False]})
        >>> d = SurveyDesign.from_frame(frame, "s")
        >>> d.weights.tolist()
        [2.0, 2.0, 1.5, 1.5]
        """
        if not isinstance(frame, pd.DataFrame):
            raise DesignError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
        _check_columns(frame, {"strata": [strata]})
        if frame[strata].isna().any():
            raise DesignError(
                f"frame column {strata!r} has {int(frame[strata].isna().sum())} missing "
                "values; every frame unit needs a stratum"
            )
        if isinstance(sample, str):
            _check_columns(frame, {"sample": [sample]})
            flag = frame[sample]
            if flag.isna().any() or not pd.api.types.is_bool_dtype(flag.dtype):
                raise DesignError(
                    f"sample column {sample!r} must be boolean without missing values, "
                    f"got dtype {flag.dtype}"
                )
            chosen = flag.to_numpy(dtype=bool)
            data = frame.loc[chosen].copy()
            unit_strata = data[strata].to_numpy()
        elif isinstance(sample, pd.DataFrame):
            if key is None:
                ids, frame_ids = sample.index, frame.index
            else:
                _check_columns(frame, {"key": [key]})
                _check_columns(sample, {"key": [key]})
                ids, frame_ids = pd.Index(sample[key]), pd.Index(frame[key])
            if frame_ids.has_duplicates:
                raise DataError(f"frame key {key or 'index'!r} has duplicate values")
            if ids.has_duplicates:
                dup = ids[ids.duplicated()][0]
                raise DataError(
                    f"sample has the unit {dup!r} ({key or 'index'}) more than once; "
                    "each sampled unit must appear once"
                )
            pos = frame_ids.get_indexer(ids)
            if (pos < 0).any():
                missing = ids[pos < 0]
                raise DataError(
                    f"{len(missing)} sampled units are not in the frame (first "
                    f"{missing[0]!r} in {key or 'index'}); the sample must come from the frame"
                )
            chosen = np.zeros(len(frame), dtype=bool)
            chosen[pos] = True
            data = sample.copy()
            unit_strata = frame[strata].to_numpy()[pos]
            if strata in data.columns and not (data[strata].to_numpy() == unit_strata).all():
                raise DataError(
                    f"sample column {strata!r} disagrees with the frame's stratum of the same "
                    "units; drop it from the sample or fix it"
                )
            data[strata] = unit_strata
        else:
            raise DesignError(
                "sample must be a boolean column name of the frame or a DataFrame of "
                f"sampled units, got {type(sample).__name__}"
            )
        for col in ("design_weight", "frame_N_h"):
            if col in data.columns:
                raise DesignError(
                    f"the sample already has a column {col!r}; rename it, from_frame adds it"
                )
        big = frame[strata].value_counts()
        small = pd.Series(unit_strata).value_counts()
        empty = [h for h in big.index if h not in small.index]
        if empty:
            raise DesignError(
                f"stratum {empty[0]!r} (and {len(empty) - 1} more) has no sampled unit, so its "
                f"{int(big[empty[0]])} frame units are not represented; collapse strata "
                "or sample from every stratum"
            )
        n_big = big.reindex(unit_strata).to_numpy(dtype=float)
        n_small = small.reindex(unit_strata).to_numpy(dtype=float)
        data["design_weight"] = n_big / n_small
        data["frame_N_h"] = n_big
        return cls(
            data, weights="design_weight", strata=strata, fpc="frame_N_h", lonely_psu=lonely_psu
        )

    def _reweighted(self, weights: np.ndarray, model: Any, kind: str, what: str) -> SurveyDesign:
        """Return a new design with new weights and, for a calibration, one more step."""
        step = None
        if model is not None:
            step = _CalibrationStep(model.X, self._weights, weights, kind, model.terms)
        return self._with_step(weights, step, what)

    def _with_step(self, weights: np.ndarray, step: object | None, what: str) -> SurveyDesign:
        """Return a new design with new weights and one more weighting step."""
        engine = self._engine
        if step is not None:
            if isinstance(engine, CalibratedVariance):
                engine = engine.with_step(step)  # type: ignore[arg-type]
            else:
                engine = CalibratedVariance(engine, (step,))  # type: ignore[arg-type]
        new = self._copy()
        new._set(
            _weights=np.asarray(weights, dtype=float),
            _engine=engine,
            _describe=f"{self._describe}, {what}",
        )
        return new

    def adjust_nonresponse(
        self,
        responded: str = "responded",
        by: str | Sequence[str] | None = None,
        *,
        model: Literal["logit"] | None = None,
        covariates: Sequence[str] | None = None,
        outcome: str | None = "contact_outcome",
        n_classes: int = 5,
        ineligible: Literal["keep", "observed"] = "keep",
    ) -> SurveyDesign:
        r"""Adjust the weights for unknown eligibility and nonresponse within classes.

        Every sampled unit is one of: respondent (R: ``complete``, ``partial``),
        eligible nonrespondent (NR: ``refusal``, ``non_contact``), ineligible
        (I: ``ineligible_liquidated``, ``ineligible_ceased``,
        ``ineligible_not_es``, or the disposition ``ineligible``) or of unknown
        eligibility (U: ``unknown_eligibility``), read from the ``outcome``
        column (contact outcomes of the codebook or dispositions of
        :func:`~es_survey.assign_dispositions`). Within each adjustment class
        ``c``, with ``W_X`` the sum of the current weights of group X:

        1. *Unknown eligibility* (AAPOR ``e``): the weight of U units is split by
           the estimated eligibility rate ``e_c = W_{R+NR} / (W_{R+NR} + W_I)``:
           the share ``e_c`` goes to the eligible units and ``1 - e_c`` to the
           ineligible ones, proportionally to their weights — i.e. every known
           unit's weight is multiplied by ``(W_R + W_NR + W_I + W_U) / (W_R +
           W_NR + W_I)``; U units get weight 0.
        2. *Nonresponse*: respondents' weights are multiplied by ``(W_R + W_NR)
           / W_R``; eligible nonrespondents get weight 0.

        Ineligible units are *not* nonrespondents: they keep their weight and stay
        in the design as units outside the eligible population (they count as 0
        in any total of eligible/active units). With ``ineligible="observed"``
        they are instead units whose *status* was observed: when the estimand is
        the status itself (the number of active entities in the frame, a ceased
        or liquidated entity being an observed inactive one), the nonrespondents
        of a class are taken to resemble all units of observed status in it, so
        step 2 spreads their weight over respondents *and* ineligible units, and
        units of unknown eligibility are nonrespondents (no step 1). This is
        the adjustment that removes the bias of the demo's nonresponse, where
        inactive entities answer less often but are often found ceased (see
        ``docs/methods.md``, "Weighting and nonresponse"). All sampled units stay in the
        design, so the variance sees the original sample; the variance includes
        both ratio adjustments (see :mod:`es_survey.weighting`).

        Classes are the combinations of the ``by`` columns, or with
        ``model="logit"`` the ``n_classes`` quantile classes of the response
        propensity estimated by a design-weighted logistic regression of
        response on ``covariates`` among eligible units (classes of propensity,
        not inverse-propensity weights: they are robust to extreme fitted
        propensities; Little 1986). With neither, one class.

        Parameters
        ----------
        responded : str
            Boolean column: True for respondents.
        by : str or list of str, optional
            Weighting-class columns.
        model : {"logit"}, optional
            Response-propensity classes instead of ``by``.
        covariates : list of str, optional
            Propensity model covariates (numeric, boolean or categorical).
        outcome : str or None
            Column of contact outcomes or dispositions (required in the data);
            None treats every nonrespondent as eligible.
        n_classes : int
            Number of propensity classes.
        ineligible : {"keep", "observed"}
            Units found ineligible keep their weight (default, AAPOR) or count as
            units of observed status (see above).

        Returns
        -------
        SurveyDesign
            A new design; this one is unchanged.

        Raises
        ------
        DesignError
            For unknown columns, a class with nonrespondents but no respondent,
            both ``by`` and ``model``, or a domain design.
        DataError
            For missing or contradictory response/outcome values.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"w": [2.0] * 5, "r": [True, False, True, False, False],
        ...     "contact_outcome": ["complete", "refusal", "complete",
        ...                         "ineligible_ceased", "unknown_eligibility"]})
        >>> SurveyDesign(df, weights="w").adjust_nonresponse("r").weights.tolist()
        [3.75, 0.0, 3.75, 2.5, 0.0]
        """
        self._weights_in("adjust_nonresponse")
        steps = nonresponse_steps(
            self._weights,
            self._data,
            responded,
            by,
            model=model,
            covariates=covariates,
            outcome=outcome,
            n_classes=n_classes,
            ineligible=ineligible,
        )
        new = self
        for i, step in enumerate(steps):
            last = i == len(steps) - 1
            new = new._with_step(
                step.w1, step, "nonresponse-adjusted" if last else "eligibility-adjusted"
            )
        return new

    def replicate(
        self,
        method: Literal["JK1", "JKn", "BRR", "Fay", "bootstrap"],
        *,
        rho: float | None = None,
        replicates: int | None = None,
        rng: int | np.random.Generator | None = None,
        mse: bool = False,
        hadamard: Any = None,
        drop_certainty: bool = False,
    ) -> ReplicateDesign:
        """Replicate-weight version of this design (R ``as.svrepdesign``).

        See :mod:`es_survey.replicate` for the methods, their ``scale`` and
        ``rscales``, and the degrees of freedom.

        Parameters
        ----------
        method : {"JK1", "JKn", "BRR", "Fay", "bootstrap"}
            ``"JK1"`` (unstratified delete-one-PSU jackknife), ``"JKn"``
            (stratified jackknife), ``"BRR"`` (exactly 2 PSUs per stratum),
            ``"Fay"`` (BRR with factors ``1 +/- (1 - rho)``), ``"bootstrap"``
            (Rao-Wu rescaling bootstrap).
        rho : float, optional
            Fay's coefficient, ``0 < rho < 1`` (``method="Fay"`` only).
        replicates : int, optional
            Number of bootstrap replicates (default 500; bootstrap only).
        rng : int or numpy.random.Generator, optional
            Seed or generator of the bootstrap draws (bootstrap only).
        mse : bool
            Centre squared deviations at the full-sample estimate.
        hadamard : array-like, optional
            BRR/Fay only: the Hadamard matrix to use (0/1 or -1/+1 values, at least
            strata + 1 rows); the first PSU of stratum ``s`` (strata in sorted
            order, PSUs in data order) is in the half-sample of replicate ``r``
            where row ``s + 1``, column ``r`` is 1. Valid matrices give different
            (equally valid) SEs for non-linear statistics; pass R's
            ``survey:::hadamard(n_strata)`` to reproduce R's
            ``as.svrepdesign(type="BRR")`` exactly. Default: es_survey's own
            (Sylvester/Paley) matrix of the smallest order.
        drop_certainty : bool
            Leave the units of certainty strata (first-stage fpc = n_h) out of the
            replicate totals, as R does under its default
            ``options(survey.drop.replicates=TRUE)``. Off by default: certainty
            strata add no variance either way with ``mse=False``, and with
            ``mse=True`` R's rule inflates the SE of a total (the replicate totals
            miss units the full-sample total has). Turn it on only to reproduce R.

        Returns
        -------
        ReplicateDesign
            A new design; this one is unchanged.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 6.0], "w": [2.0, 2.0, 2.0, 2.0]})
        >>> r = SurveyDesign(df, weights="w").replicate("JK1")
        >>> r
        ReplicateDesign: 4 rows, JK1 with 4 replicates, scale=0.75, df=3, mse=False
        >>> round(float(r.total("y").se[0]), 6)
        8.640988
        """
        return _from_design(
            self,
            method,
            rho=rho,
            replicates=replicates,
            rng=rng,
            mse=mse,
            hadamard_matrix=hadamard,
            drop_certainty=drop_certainty,
        )


class _LazyLabels:
    """Names of later-stage strata (the units of the previous stage), built on access."""

    def __init__(
        self,
        stage: int,
        data: pd.DataFrame,
        psus: list[str],
        cluster_codes: list[np.ndarray],
        stage_labels: list[list[str]],
    ) -> None:
        self._args = (stage, data, psus, cluster_codes, stage_labels)

    def __getitem__(self, h: int) -> str:
        stage, data, psus, cluster_codes, stage_labels = self._args
        return _stratum_name(stage, h, stage_labels, data, psus, cluster_codes, quote=False)


def _stratum_name(
    stage: int,
    h: int,
    stage_labels: list[list[str]],
    data: pd.DataFrame,
    psus: list[str],
    cluster_codes: list[np.ndarray],
    *,
    quote: bool = True,
) -> str:
    """Readable name of stratum ``h`` at ``stage`` (0-based) for messages."""
    if stage == 0:
        name = stage_labels[0][h]
        return f"stratum {name!r}" if quote else name
    row = int(np.flatnonzero(cluster_codes[stage - 1] == h)[0])
    parts = [f"{col}={_show(data[col].iloc[row])}" for col in psus[:stage]]
    name = ", ".join(parts)
    return f"unit {name}" if quote else name


def _check_nested(
    data: pd.DataFrame, psu: str, strata: str, psu_codes: np.ndarray, strata_codes: np.ndarray
) -> None:
    """Raise when a first-stage PSU id appears in two strata (R: ``nest=FALSE``)."""
    width = int(strata_codes.max()) + 1
    pairs = np.unique(psu_codes * width + strata_codes)
    psu_of_pair = pairs // width
    counts = np.bincount(psu_of_pair)
    shared = np.flatnonzero(counts > 1)
    if shared.size:
        code = int(shared[0])
        rows = np.flatnonzero(psu_codes == code)
        ids = data[psu].iloc[rows[0]]
        names = sorted({str(v) for v in data[strata].iloc[rows]})
        raise DesignError(
            f"PSU {_show(ids)} (column {psu!r}) appears in strata {names[:5]} "
            f"({shared.size} PSU id(s) occur in more than one stratum); PSUs must be "
            "nested in strata. If the ids are numbered within each stratum (1, 2, ... in "
            "every stratum), pass nest=True; otherwise fix the PSU or stratum column"
        )
