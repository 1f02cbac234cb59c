"""The Estimate result: data only, frozen, picklable, comparable (issue "One estimation path").

The numbers compared here are the estimator's own before and after a round trip
(a pickle must not change a bit); the numbers themselves are checked against R in
test_reference_r.py.
"""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest
import test_reference_r as ref

import es_survey as es


@pytest.fixture(scope="module")
def designs():
    df = pd.read_csv(ref.REF / "apistrat.csv")
    df["high"] = df["api00"] > 700
    d = es.SurveyDesign(df, strata="stype", weights="pw", fpc="fpc")
    return d, d.replicate("JKn")


def _every_result(d):
    yield d.total("enroll", by="stype")
    yield d.total("enroll", interval="log")
    yield d.mean(["api00", "api99"], by="stype")
    yield d.ratio("api00", "api99", by="stype")
    for method in ("logit", "beta", "wilson", "wald"):
        yield d.proportion("high", by="stype", method=method)
    yield d.quantile("api00", [0.25, 0.5], by="stype")
    yield d.mean("api00", by="stype").contrast({"E": 1, "H": -1})


@pytest.mark.parametrize("kind", [0, 1], ids=["linearisation", "replicates"])
def test_every_result_pickles_and_compares_equal(designs, kind):
    for est in _every_result(designs[kind]):
        back = pickle.loads(pickle.dumps(est))
        assert back == est
        pd.testing.assert_frame_equal(back.to_frame(0.9), est.to_frame(0.9))
        assert not back.estimate.flags.writeable  # frozen again after unpickling


def test_equality_sees_every_number(designs):
    d, _ = designs
    a = d.mean("api00", by="stype")
    assert a == d.mean("api00", by="stype")
    assert a != d.mean("api00", by="stype", level=0.9)
    assert a != d.mean("api99", by="stype")
    assert a != d.mean("api00", by="stype", df=np.inf)
    with pytest.raises(TypeError):
        hash(a)


def test_labels_and_numbers_cannot_be_changed(designs):
    d, _ = designs
    est = d.mean("api00", by="stype")
    labels = est.labels
    labels.loc[0, "variable"] = "changed"  # a copy: the estimate is untouched
    assert est.labels.loc[0, "variable"] == "api00"
    with pytest.raises(ValueError, match="read-only"):
        est.estimate[0] = 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        est.level = 0.9  # type: ignore[misc]
    with pytest.raises(AttributeError):
        est.extra = 1  # type: ignore[attr-defined]


def test_estimate_keeps_no_closure_and_no_unit_level_array(designs):
    d, _ = designs
    est = d.total("enroll", by="stype")
    n = len(d.data)
    state = est._state()
    for key, value in state.items():
        assert not callable(value), key
        if isinstance(value, np.ndarray):
            assert value.size < n, key


def test_every_result_prints_as_text_and_html(designs):
    d, _ = designs
    for est in [*_every_result(d)]:
        assert "Estimate (" in repr(est) and "<table" in est._repr_html_()
