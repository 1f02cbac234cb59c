"""es_survey against R's survey package, case by case.

Every case of tests/reference/r_reference.json (written by
tests/reference/make_reference.R with R's survey 4.1.1 on R's bundled `api` data;
the R call is stored with each case as `r_call`) is rebuilt with es_survey and
compared at rtol=1e-8: estimate, se, deff, lower, upper; df exactly.

Tolerances, stated once:
- rtol=1e-8 everywhere. Where R's value is exactly 0 (SE and deff of the mean of
  the stratifying variable on a stratified design), rounding leaves ~1e-17 in ours,
  so those comparisons take an absolute tolerance of 1e-9 (of the estimate's scale).
- Quantiles (qrule="math"): estimates and interval endpoints are data values and
  are compared exactly; the SE (interval width / 2 t) at rtol=1e-8.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import es_survey as es
from es_survey.errors import DesignError

REF = Path(__file__).parent / "reference"
JSON = REF / "r_reference.json"
CASES = json.loads(JSON.read_text())["cases"] if JSON.exists() else []
VCOV = json.loads(JSON.read_text()).get("vcov_checks", []) if JSON.exists() else []
RTOL = 1e-8

_DATA: dict[str, pd.DataFrame] = {}


def _data(name: str) -> pd.DataFrame:
    if name not in _DATA:
        _DATA[name] = pd.read_csv(REF / name)
    return _DATA[name].copy()


def _design(case: dict) -> tuple[es.SurveyDesign, pd.DataFrame]:
    df = _data(case["data"])
    d = es.SurveyDesign(df, **case["design"], nest=True)
    dom = case["args"].get("domain")
    if dom:
        d = d.domain(df[dom["column"]] == dom["equals"])
    return d, df


def _estimate(case: dict, d: es.SurveyDesign, df_arg: float | None) -> es.Estimate:
    a = case["args"]
    kind = case["estimator"]
    if kind == "total":
        return d.total(a["y"], a.get("by"), na_rm=a.get("na_rm", False), df=df_arg)
    if kind == "mean":
        return d.mean(a["y"], a.get("by"), na_rm=a.get("na_rm", False), df=df_arg)
    if kind == "ratio":
        return d.ratio(
            a["numerator"], a["denominator"], a.get("by"), na_rm=a.get("na_rm", False), df=df_arg
        )
    if kind == "proportion":
        return d.proportion(a["y"], a.get("by"), method=a["method"], level=a["level"], df=df_arg)
    if kind == "quantile":
        return d.quantile(a["y"], a["q"], a.get("by"), level=a["level"], df=df_arg)
    if kind == "contrast":
        assert a["statistic"] == "mean"
        return d.mean(a["y"], a["by"]).contrast(a["weights"])
    raise AssertionError(f"unknown estimator {kind}")


def _match(frame: pd.DataFrame, row: dict) -> pd.Series:
    sel = np.ones(len(frame), dtype=bool)
    for col, value in row["by"].items():
        sel &= frame[col].astype(str).to_numpy() == str(value)
    if "variable" in row:
        sel &= frame["variable"].to_numpy() == row["variable"]
    if row["category"] != "":
        sel &= frame["category"].to_numpy() == row["category"]
    assert sel.sum() == 1, f"row {row} matched {sel.sum()} rows of\n{frame}"
    return frame[sel].iloc[0]


def _close(ours: float, theirs: float, what: str, atol: float = 0.0) -> None:
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=atol, err_msg=what)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_against_r(case: dict) -> None:
    if case.get("expect_error"):
        # R: "Stratum (X) has only one PSU at stage 1"; es_survey refuses the design.
        with pytest.raises(DesignError, match="stratum 'X' has 1 PSU at stage 1"):
            d, _ = _design(case)
            _estimate(case, d, None)
        return
    d, _ = _design(case)
    est = _estimate(case, d, None)
    frame = est.to_frame()
    normal = case.get("df") == "inf"
    frame_ci = _estimate(case, d, np.inf).to_frame() if normal else frame
    assert len(frame) == len(case["rows"]), frame
    for row in case["rows"]:
        ours = _match(frame, row)
        ours_ci = _match(frame_ci, row)
        scale = max(1.0, abs(row["estimate"]))
        label = f"{case['id']} {row['by']} {row.get('variable', '')} {row['category']}"
        assert ours["df"] == row["df"], label
        assert ours["level"] == row["level"], label
        if case["estimator"] == "quantile":
            assert ours["estimate"] == row["estimate"], label
            assert ours_ci["lower"] == row["lower"], label
            assert ours_ci["upper"] == row["upper"], label
            _close(ours["se"], row["se"], f"se {label}")
            assert np.isnan(ours["deff"])
            continue
        _close(ours["estimate"], row["estimate"], f"estimate {label}")
        zero = 1e-9 * scale if row["se"] == 0 else 0.0
        _close(ours["se"], row["se"], f"se {label}", atol=zero)
        _close(ours_ci["lower"], row["lower"], f"lower {label}", atol=zero)
        _close(ours_ci["upper"], row["upper"], f"upper {label}", atol=zero)
        if row["deff"] is not None:
            _close(ours["deff"], row["deff"], f"deff {label}", atol=1e-9 if row["deff"] == 0 else 0)


_VCOV_DESIGNS = {
    "clus1": ("apiclus1.csv", {"weights": "pw", "psu": "dnum", "fpc": "fpc"}),
    "strat": ("apistrat.csv", {"weights": "pw", "strata": "stype", "fpc": "fpc"}),
}


@pytest.mark.parametrize("check", VCOV, ids=[c["id"] for c in VCOV])
def test_vcov_against_r(check: dict) -> None:
    # r_call: vcov(svyby(~api00, ~stype, <design>, svymean, covmat = TRUE))
    data, kwargs = _VCOV_DESIGNS[check["id"].split("_")[0]]
    d = es.SurveyDesign(_data(data), **kwargs, nest=True)
    est = d.mean("api00", "stype")
    assert [str(v) for v in est.to_frame()["stype"]] == check["rownames"]
    np.testing.assert_allclose(est.vcov(), np.array(check["matrix"]), rtol=RTOL, atol=1e-12)


def test_reference_file_is_complete() -> None:
    # The parametrised tests above must not silently run on an empty list.
    assert len(CASES) >= 150
    assert {c["estimator"] for c in CASES} == {
        "total",
        "mean",
        "ratio",
        "proportion",
        "quantile",
        "contrast",
    }
