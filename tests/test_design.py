"""SurveyDesign: validation at the boundary, weights from fpc, nesting, domains, immutability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import test_reference_r as ref

import es_survey as es
from es_survey.errors import DesignError


def _df() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "h": ["a", "a", "a", "b", "b"],
            "psu": [1, 2, 3, 1, 2],
            "y": [1.0, 2.0, 3.0, 4.0, 6.0],
            "w": [10.0, 10.0, 10.0, 5.0, 5.0],
            "N": [30, 30, 30, 10, 10],
        }
    )


def test_unknown_column_lists_available_columns() -> None:
    with pytest.raises(
        DesignError,
        match=r"strata column 'stratum' is not in the data; "
        r"available columns: 'h', 'psu', 'y', 'w', 'N'",
    ):
        es.SurveyDesign(_df(), weights="w", strata="stratum")


def test_missing_values_in_design_column() -> None:
    df = _df()
    df.loc[3, "w"] = np.nan
    with pytest.raises(
        DesignError,
        match=r"design column 'w' has 1 missing values \(first at "
        r"row 3\); fill them or drop those rows",
    ):
        es.SurveyDesign(df, weights="w", strata="h")


def test_negative_weights() -> None:
    df = _df()
    df.loc[1, "w"] = -2.0
    with pytest.raises(
        DesignError,
        match=r"weights column 'w' has 1 negative or non-numeric "
        r"values \(first -2 at row 1\)",
    ) as info:
        es.SurveyDesign(df, weights="w")
    assert "drop" not in str(info.value)  # never suggest dropping rows: n_h would change


def test_zero_weight_unit_still_counts_in_its_stratum() -> None:
    # As R (a unit with prob = Inf): stratum a has n_h = 3 although one weight is 0.
    # By hand: z = w y = (2, 6, 0), mean 8/3, var = 3/2 * sum (z - 8/3)^2 = 28.
    df = pd.DataFrame({"h": ["a", "a", "a"], "y": [1.0, 3.0, 5.0], "w": [2.0, 2.0, 0.0]})
    est = es.SurveyDesign(df, weights="w", strata="h").total("y")
    assert est.estimate[0] == pytest.approx(8.0)
    assert est.se[0] == pytest.approx(np.sqrt(28.0), rel=1e-12)
    assert est.df[0] == 2.0


def test_psu_in_two_strata_is_an_error_unless_nest() -> None:
    df = pd.DataFrame(
        {"h": ["a", "a", "b", "b"], "p": [1, 2, 1, 2], "y": [1.0, 2.0, 3.0, 5.0], "w": [1.0] * 4}
    )
    with pytest.raises(
        DesignError,
        match=r"PSU 1 \(column 'p'\) appears in strata \['a', 'b'\]"
        r".*nest=True",
    ):
        es.SurveyDesign(df, weights="w", strata="h", psu="p")
    nested = es.SurveyDesign(df, weights="w", strata="h", psu="p", nest=True)
    assert nested.df == 2.0  # 4 PSUs - 2 strata


def test_fpc_smaller_than_sample() -> None:
    df = _df()
    df.loc[df["h"] == "b", "N"] = 1
    with pytest.raises(
        DesignError,
        match=r"fpc column 'N' gives 1 for stratum 'b', which has "
        r"2 sampled units; the fpc implies more than 100%",
    ):
        es.SurveyDesign(df, strata="h", fpc="N")


def test_fpc_varying_within_stratum() -> None:
    df = _df()
    df.loc[2, "N"] = 31
    with pytest.raises(
        DesignError,
        match=r"fpc column 'N' varies within stratum 'a': 30 and 31 "
        r"\(row 2\); the fpc must be constant",
    ):
        es.SurveyDesign(df, strata="h", fpc="N")


def test_fpc_mixing_sizes_and_fractions() -> None:
    df = _df().astype({"N": float})
    df.loc[[3, 4], "N"] = 0.5
    with pytest.raises(DesignError, match=r"mixes population sizes \(>= 1\) with the fraction 0.5"):
        es.SurveyDesign(df, strata="h", fpc="N")


def test_neither_weights_nor_fpc() -> None:
    with pytest.raises(DesignError, match=r"neither weights nor fpc; give weights="):
        es.SurveyDesign(_df(), strata="h")


def test_bad_lonely_rule() -> None:
    with pytest.raises(DesignError, match=r"lonely_psu='drop' is not a rule; use one of"):
        es.SurveyDesign(_df(), weights="w", lonely_psu="drop")  # type: ignore[arg-type]


def test_not_a_dataframe() -> None:
    with pytest.raises(DesignError, match=r"data must be a pandas DataFrame, got dict"):
        es.SurveyDesign({"y": [1]}, weights="y")  # type: ignore[arg-type]


def test_more_fpc_than_psu_stages() -> None:
    with pytest.raises(DesignError, match=r"fpc has 2 stages but psu has 1"):
        es.SurveyDesign(_df(), psu="psu", fpc=["N", "N"])


def test_weights_from_fpc_are_population_over_sample() -> None:
    d = es.SurveyDesign(_df(), strata="h", fpc="N")
    # N_h / n_h: a -> 30 / 3 = 10, b -> 10 / 2 = 5
    np.testing.assert_allclose(d.weights, [10, 10, 10, 5, 5], rtol=1e-15)


def test_fpc_as_fractions_equals_fpc_as_counts() -> None:
    counts = es.SurveyDesign(_df(), strata="h", fpc="N")
    fractions = es.SurveyDesign(_df().assign(f=[0.1, 0.1, 0.1, 0.2, 0.2]), strata="h", fpc="f")
    a, b = counts.total("y"), fractions.total("y")
    assert a.estimate[0] == pytest.approx(b.estimate[0], rel=1e-12)
    assert a.se[0] == pytest.approx(b.se[0], rel=1e-12)


def test_two_stage_weights_from_fpc_as_r() -> None:
    # R: dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2);
    # weights(dclus2) = (fpc1 / 40) * (fpc2 / m_i); the file has these as pw.
    df = pd.read_csv(ref.REF / "apiclus2.csv")
    d = es.SurveyDesign(df, psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    np.testing.assert_allclose(d.weights, df["pw"], rtol=1e-6)


def test_psu_ids_are_nested_within_strata() -> None:
    # PSU id 1 and 2 appear in both strata: four PSUs, not two (R nest=TRUE).
    df = pd.DataFrame({"h": ["a", "a", "b", "b"], "p": [1, 2, 1, 2], "w": 1.0, "y": 1.0})
    d = es.SurveyDesign(df, strata="h", psu="p", weights="w", nest=True)
    assert d.df == 4 - 2


def test_df_is_psus_minus_strata() -> None:
    df = pd.read_csv(ref.REF / "apiclus1.csv")
    # R: degf(svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)) = 14
    assert es.SurveyDesign(df, psu="dnum", weights="pw", fpc="fpc").df == 14


def test_design_is_immutable_and_does_not_modify_input() -> None:
    df = _df()
    before = df.copy()
    d = es.SurveyDesign(df, weights="w", strata="h")
    with pytest.raises(AttributeError, match="SurveyDesign is immutable"):
        d.lonely_psu = "adjust"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del d._weights
    with pytest.raises(ValueError, match="read-only"):
        d.weights[0] = 1.0
    copy = d.data
    copy.loc[0, "y"] = 100.0  # a copy: the design does not see it
    assert d.total("y").estimate[0] == pytest.approx(10 * 6 + 5 * 10)
    df.loc[0, "y"] = 100.0  # the caller's frame is not shared
    assert d.total("y").estimate[0] == pytest.approx(10 * 6 + 5 * 10)
    pd.testing.assert_frame_equal(before.assign(y=[100.0, 2, 3, 4, 6]), df)


def test_domain_keeps_rows_and_intersects() -> None:
    df = _df()
    d = es.SurveyDesign(df, weights="w", strata="h")
    sub = d.domain(df["y"] > 1.5)
    assert (sub.n, d.n) == (4, 5)
    assert sub.domain(df["h"] == "b").n == 2
    assert len(sub.data) == 5
    assert "in a domain of 5" in repr(sub)


def test_domain_mask_series_is_aligned_on_index() -> None:
    df = _df()
    d = es.SurveyDesign(df, weights="w", strata="h")
    mask = (df["h"] == "b").iloc[::-1]  # reversed order, same index
    assert d.domain(mask).total("y").estimate[0] == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (np.array([True, False]), r"domain mask has shape \(2,\) but the design has 5 rows"),
        (np.array([1, 0, 1, 0, 1]), r"domain mask must be boolean, got dtype int64"),
        (np.zeros(5, dtype=bool), r"domain mask selects no row"),
        (pd.Series([True, None, True, True, True], dtype=object), r"domain mask has 1 missing"),
        (pd.Series([True] * 5, index=list("abcde")), r"index that does not match"),
    ],
)
def test_domain_mask_errors(mask: object, message: str) -> None:
    d = es.SurveyDesign(_df(), weights="w", strata="h")
    with pytest.raises(DesignError, match=message):
        d.domain(mask)  # type: ignore[arg-type]


def test_repr() -> None:
    d = es.SurveyDesign(_df(), weights="w", strata="h", psu="psu", nest=True)
    assert repr(d) == (
        "SurveyDesign: 5 rows, 2 strata, 5 PSUs, df=3, weights='w', lonely_psu='fail'"
    )


def test_lonely_at_second_stage_names_the_unit() -> None:
    df = pd.DataFrame(
        {"c": [1, 1, 2], "u": [1, 2, 1], "N1": 5, "M": [3, 3, 4], "y": [1.0, 2.0, 3.0]}
    )
    with pytest.raises(DesignError, match=r"stratum 'c=2' has 1 PSU at stage 2"):
        es.SurveyDesign(df, psu=["c", "u"], fpc=["N1", "M"])


def test_assign_adds_analysis_columns_and_keeps_the_design() -> None:
    df = pd.DataFrame({"h": ["a", "a", "b", "b"], "N": [10, 10, 6, 6], "y": [1.0, 3.0, 2.0, 4.0]})
    d = es.SurveyDesign(df, strata="h", fpc="N")
    d2 = d.assign(z=df["y"] * 2)
    # By hand: weights 5, 5, 3, 3 -> total of 2y = 2 * (5*4 + 3*6) = 76.
    assert float(d2.total("z").estimate[0]) == 76.0
    assert float(d2.total("z").se[0]) == pytest.approx(2 * float(d.total("y").se[0]))
    assert "z" not in d.data.columns
    with pytest.raises(DesignError, match=r"cannot replace design column\(s\) \['N'\]"):
        d.assign(N=[1, 1, 1, 1])
    with pytest.raises(DesignError, match=r"column 'z' has shape \(2,\) but the design has 4 rows"):
        d.assign(z=[1.0, 2.0])


@pytest.mark.parametrize("kind", ["SurveyDesign", "TwoPhaseDesign"])
def test_two_columns_with_one_name_are_refused(kind):
    # issue 15: a duplicated column name was an AttributeError deep in the estimator
    import es_survey as es

    df = pd.DataFrame([[1.0, 2.0, 3.0]] * 3, columns=["w", "y", "y"])
    with pytest.raises(DesignError, match=r"data has 2 columns named 'y'; give every column"):
        if kind == "SurveyDesign":
            es.SurveyDesign(df, weights="w")
        else:
            es.TwoPhaseDesign(df, strata=(None, None), fpc=("w", None), subset="y")
