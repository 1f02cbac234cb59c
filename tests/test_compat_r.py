"""R-compatibility switches of the replicate designs, against R (survey 4.1.1).

Reference values: tests/reference/make_reference_compat.R -> r_compat.json and
r_brr_hadamard.csv (the Hadamard matrix R's brrweights() picks for apistrat_pairs).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import es_survey as es
from es_survey.errors import DesignError

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "r_compat.json").read_text())


@pytest.fixture(scope="module")
def pairs():
    df = pd.read_csv(REF / "apistrat_pairs.csv")
    return es.SurveyDesign(df, weights="pw", strata="pair", psu="half", nest=True)


@pytest.fixture(scope="module")
def r_hadamard():
    return pd.read_csv(REF / "r_brr_hadamard.csv").to_numpy()


@pytest.mark.parametrize("tag", ["brr", "fay"])
def test_brr_with_rs_hadamard_matrix_reproduces_r(pairs, r_hadamard, tag):
    kw = {"rho": 0.3} if tag == "fay" else {}
    r = pairs.replicate(tag.upper() if tag == "brr" else "Fay", hadamard=r_hadamard, **kw)
    cases = {
        "mean_api00": r.mean("api00"),
        "total_enroll": r.total("enroll"),
        "ratio_api00_api99": r.ratio("api00", "api99"),
        "mean_api00_by_stype": r.mean("api00", by="stype"),
    }
    for name, est in cases.items():
        ref = R[f"{tag}_{name}"]
        np.testing.assert_allclose(est.estimate, np.atleast_1d(ref["estimate"]), rtol=1e-10)
        np.testing.assert_allclose(est.se, np.atleast_1d(ref["se"]), rtol=1e-8, err_msg=name)


def test_default_hadamard_gives_rs_total(pairs):
    # Any fully balanced matrix gives the same BRR SE for a total (a linear statistic):
    # es_survey's own matrix and R's agree there; non-linear statistics may differ.
    r = pairs.replicate("BRR")
    np.testing.assert_allclose(r.total("enroll").se, R["brr_total_enroll"]["se"], rtol=1e-8)


def test_bad_hadamard_matrices_are_refused(pairs, r_hadamard):
    with pytest.raises(DesignError, match="at least"):
        pairs.replicate("BRR", hadamard=r_hadamard[:3])
    bad = r_hadamard.copy()
    bad[1, 0] = 1 - bad[1, 0]
    with pytest.raises(DesignError, match="not a Hadamard matrix"):
        pairs.replicate("BRR", hadamard=bad)
    with pytest.raises(DesignError, match="0/1 or -1/"):
        pairs.replicate("BRR", hadamard=r_hadamard * 3)
    with pytest.raises(DesignError, match="only to method='BRR'"):
        pairs.replicate("JKn", hadamard=r_hadamard)


@pytest.mark.parametrize("mse", [False, True])
@pytest.mark.parametrize("drop", [True, False])
def test_drop_certainty_reproduces_rs_survey_drop_replicates(drop, mse):
    df = pd.read_csv(REF / "apistrat_certainty.csv")
    d = es.SurveyDesign(df, strata="stype", weights="pw", fpc="fpc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = d.replicate("JKn", mse=mse, drop_certainty=drop)
    ref = R[f"certainty_jkn_drop{str(drop).upper()}_mse{str(mse).upper()}"]
    total = r.total("enroll", na_rm=True)
    mean = r.mean("api00")
    for est, key in ((total, "total_enroll"), (mean, "mean_api00")):
        np.testing.assert_allclose(est.estimate, ref[key]["estimate"], rtol=1e-10)
        np.testing.assert_allclose(est.se, ref[key]["se"], rtol=1e-8, err_msg=key)
