"""Allocation and PRN selection (plan.py): closed forms, brute force, KKT, overlap.

Every expected allocation is either written out by hand from the textbook formulas
(proportional, Neyman: Cochran 1977, §5.5) or found by enumerating every integer
allocation of a small problem.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

import es_survey as es
from es_survey.errors import DataError, DesignError
from es_survey.plan import _constraints, _multi_continuous, _problem, _targets


def _table(N, S=None, mean=None, p=None, **extra) -> pd.DataFrame:
    out = pd.DataFrame({"stratum": [f"h{i}" for i in range(len(N))], "N": N})
    if S is not None:
        out["S_y"] = S
        out["mean_y"] = mean if mean is not None else [10.0] * len(N)
    if p is not None:
        out["p_y"] = p
    for key, value in extra.items():
        out[key] = value
    return out


Y = [{"variable": "y", "cv": 0.05}]


# ------------------------------------------------------------------ closed forms
def test_proportional_is_n_times_the_stratum_share():
    # n_h = n N_h / N: 100 x (100, 300, 600) / 1000
    alloc = es.allocate(_table([100, 300, 600]), n=100, method="proportional")
    assert alloc.n.tolist() == [10, 30, 60]
    # 7 x (1, 1, 1) / 3 = 2.33 each: floors 2, the one left over to the first largest
    # remainder (all equal: the first stratum)
    assert es.allocate(_table([50, 50, 50]), n=7, method="proportional").n.tolist() == [3, 2, 2]


def test_neyman_closed_form_with_response_rates():
    # a_h = N_h S_h / sqrt(r_h): 100*10/sqrt(0.5) = 1414.21, 400*5/1 = 2000;
    # n_h = 60 a_h / (a_1 + a_2) = 24.85, 35.15 -> 25, 35
    strata = _table([100, 400], S=[10.0, 5.0], response_rate=[0.5, 1.0])
    alloc = es.allocate(strata, n=60, targets=Y, method="neyman")
    assert alloc.n.tolist() == [25, 35]
    # with costs: n_h proportional to N_h S_h / sqrt(c_h): 1000/2, 2000/1 -> 12, 48
    strata = _table([100, 400], S=[10.0, 5.0], cost=[4.0, 1.0])
    assert es.allocate(strata, n=60, targets=Y, method="neyman").n.tolist() == [12, 48]


def test_neyman_meets_an_upper_bound_and_gives_the_rest_to_the_others():
    # unbounded: a = (1000, 1000, 500) -> 20, 20, 10 of 50; stratum 0 has only N = 8:
    # it is taken whole and the remaining 42 are split 2:1 -> 28, 14
    strata = _table([8, 1000, 500], S=[125.0, 1.0, 1.0])
    alloc = es.allocate(strata, n=50, targets=Y, method="neyman")
    assert alloc.n.tolist() == [8, 28, 14]
    assert alloc.to_frame()["take_all"].tolist() == [True, False, False]
    # a lower bound: min_n = 10 in a stratum whose Neyman share is 1
    strata = _table([100, 100], S=[1.0, 49.0], min_n=[10, 2])
    assert es.allocate(strata, n=50, targets=Y, method="neyman").n.tolist() == [10, 40]


def test_expected_cv_is_the_formula_written_out():
    # Var = sum N_h^2 (1/m_h - 1/N_h) S_h^2 with m_h = n_h r_h; Y = sum N_h mean_h
    strata = _table([100, 400], S=[10.0, 5.0], mean=[50.0, 20.0], response_rate=[0.5, 0.8])
    alloc = es.allocate(strata, n=60, targets=Y, method="proportional")
    n = alloc.n
    assert n.tolist() == [12, 48]
    var = 100**2 * (1 / (12 * 0.5) - 1 / 100) * 100 + 400**2 * (1 / (48 * 0.8) - 1 / 400) * 25
    cv = math.sqrt(var) / (100 * 50 + 400 * 20)
    assert alloc.cv["expected_cv"].iloc[0] == pytest.approx(cv, rel=1e-12)
    # a proportion: S^2 = p (1 - p) N / (N - 1)
    strata = _table([100, 400], p=[0.5, 0.2])
    alloc = es.allocate(strata, n=60, targets=Y, method="proportional")
    s2 = [0.25 * 100 / 99, 0.16 * 400 / 399]
    var = 100**2 * (1 / 12 - 1 / 100) * s2[0] + 400**2 * (1 / 48 - 1 / 400) * s2[1]
    assert alloc.cv["expected_cv"].iloc[0] == pytest.approx(math.sqrt(var) / 130, rel=1e-12)


# ------------------------------------------------------------------ exact optimum
def _objective(n, a):
    return sum(x / k if x > 0 else 0.0 for x, k in zip(a, n, strict=True))


def _brute(a, lo, hi, total):
    best, arg = math.inf, None
    for n in itertools.product(*(range(lo_h, hi_h + 1) for lo_h, hi_h in zip(lo, hi, strict=True))):
        if sum(n) != total or any(k == 0 and x > 0 for k, x in zip(n, a, strict=True)):
            continue
        value = _objective(n, a)
        if value < best - 1e-12:
            best, arg = value, n
    return best, arg


def test_optimal_equals_brute_force_on_small_bounded_problems():
    rng = np.random.default_rng(14)
    checked = 0
    for _ in range(60):
        H = int(rng.integers(2, 5))
        N = rng.integers(2, 9, H)
        S = rng.gamma(1.0, 5.0, H).round(2)
        r = rng.uniform(0.3, 1.0, H).round(2)
        lo = np.minimum(rng.integers(0, 3, H), N)
        hi = np.maximum(lo, np.minimum(N, rng.integers(2, 10, H)))
        strata = _table(list(N), S=list(S), response_rate=list(r), min_n=list(lo), max_n=list(hi))
        a = N**2 * S**2 / r
        for total in range(int(lo.sum()), int(hi.sum()) + 1):
            best, _ = _brute(a, lo, hi, total)
            if not math.isfinite(best):
                continue
            alloc = es.allocate(strata, n=total, targets=Y, method="optimal")
            assert alloc.total == total
            assert np.all((alloc.n >= lo) & (alloc.n <= hi))
            assert _objective(alloc.n, a) == pytest.approx(best, rel=1e-12)
            checked += 1
    assert checked > 300


def test_optimal_smallest_n_meeting_a_target_equals_brute_force():
    # the smallest total whose best allocation meets CV <= target, found by trying every
    # total and every allocation
    strata = _table([6, 9, 5], S=[4.0, 1.0, 9.0], mean=[10.0, 3.0, 20.0], response_rate=0.8)
    N, S, r = np.array([6, 9, 5]), np.array([4.0, 1.0, 9.0]), 0.8
    a = N**2 * S**2 / r
    fpc = float(np.sum(N * S**2))
    total_y = 6 * 10 + 9 * 3 + 5 * 20
    # drawing everyone, a fifth does not answer: Var = 0.25 sum N_h S_h^2 = 127.5, CV 6.0%
    with pytest.raises(DesignError, match=r"best achievable 6\.0%"):
        es.allocate(strata, targets=[{"variable": "y", "cv": 0.05}], method="optimal")
    # default lower bounds: two expected respondents, ceil(2 / 0.8) = 3 units drawn
    for cv in (0.065, 0.08, 0.10, 0.15):
        want = None
        for total in range(9, 21):
            best, _ = _brute(a, np.full(3, 3), N, total)
            if math.sqrt(max(best - fpc, 0.0)) / total_y <= cv:
                want = total
                break
        assert want is not None
        alloc = es.allocate(strata, targets=[{"variable": "y", "cv": cv}], method="optimal")
        assert alloc.total == want, cv
        assert bool(alloc.cv["met"].iloc[0])


def test_optimal_matches_the_closed_form_when_no_bound_binds():
    # large strata, n small: the integer optimum is the Neyman allocation to within a unit
    strata = _table([5000, 8000, 3000, 9000], S=[3.0, 1.0, 7.0, 2.0], response_rate=0.5)
    alloc = es.allocate(strata, n=400, targets=Y, method="optimal")
    a = np.array([5000 * 3.0, 8000 * 1.0, 3000 * 7.0, 9000 * 2.0])
    neyman = 400 * a / a.sum()  # 400 a_h / 62000: 96.77, 51.61, 135.48, 116.13
    assert np.all(np.abs(alloc.n - neyman) < 1)
    assert alloc.n.tolist() == [97, 52, 135, 116]


def test_optimal_takes_a_stratum_whole_when_that_is_best():
    strata = _table([10, 2000], S=[500.0, 1.0])
    alloc = es.allocate(strata, n=100, targets=Y, method="optimal")
    assert alloc.n.tolist() == [10, 90]
    assert alloc.to_frame()["take_all"].tolist() == [True, False]
    assert "1 taken whole" in repr(alloc)
    # a take_all column forces it
    strata = _table([10, 2000], S=[1.0, 500.0], take_all=[True, False])
    assert es.allocate(strata, n=100, targets=Y, method="optimal").n.tolist() == [10, 90]


# ------------------------------------------------------------------ multi (Bethel)
def _multi_case():
    rng = np.random.default_rng(7)
    H = 40
    N = rng.integers(5, 400, H)
    strata = pd.DataFrame({
        "stratum": [f"s{i}" for i in range(H)],
        "N": N,
        "p_active": rng.uniform(0.2, 0.9, H).round(3),
        "S_workers": rng.gamma(1.0, 8.0, H).round(2),
        "mean_workers": rng.gamma(2.0, 3.0, H).round(2),
        "region": [f"r{i % 4}" for i in range(H)],
        "category": [f"c{i % 3}" for i in range(H)],
        "response_rate": rng.uniform(0.3, 0.7, H).round(2),
        "cost": rng.choice([1.0, 1.5, 3.0], H),
    })  # fmt: skip
    targets = [
        {"variable": "active", "cv": 0.15, "domain": "region"},
        {"variable": "active", "cv": 0.15, "domain": "category"},
        {"variable": "workers", "cv": 0.08},
    ]
    return strata, targets


def test_multi_continuous_solution_satisfies_the_kkt_conditions():
    strata, targets = _multi_case()
    p = _problem(strata, "stratum")
    cons = _constraints(strata, p, _targets(targets))
    n, lam, G = _multi_continuous(p, cons)
    load = (G / n).sum(axis=1)
    assert np.all(load <= 1 + 1e-6)  # primal feasibility
    assert np.all(lam >= 0)  # dual feasibility
    assert np.all(np.abs(lam * (load - 1)) <= 1e-6 * max(1.0, lam.max()))  # slackness
    assert (lam > 0).sum() >= 1  # some target binds
    # stationarity: c_h = sum_j lam_j G_jh / n_h^2 inside the bounds; >= at the lower
    # bound, <= at the upper one
    marginal = (lam @ G) / n**2
    inside = (n > p.lo + 1e-6) & (n < p.hi - 1e-6)
    assert inside.sum() > 10
    np.testing.assert_allclose(marginal[inside], p.cost[inside], rtol=1e-5)
    assert np.all(marginal[n >= p.hi - 1e-6] >= p.cost[n >= p.hi - 1e-6] * (1 - 1e-5))
    assert np.all(marginal[n <= p.lo + 1e-6] <= p.cost[n <= p.lo + 1e-6] * (1 + 1e-5))


def test_multi_meets_every_target_near_the_continuous_cost():
    strata, targets = _multi_case()
    alloc = es.allocate(strata, targets=targets, method="multi")
    assert alloc.cv["met"].all() and len(alloc.cv) == 4 + 3 + 1
    p = _problem(strata, "stratum")
    n, _, _ = _multi_continuous(p, _constraints(strata, p, _targets(targets)))
    # rounding up costs at most one unit per stratum
    assert float(p.cost @ n) <= alloc.total_cost <= float(p.cost @ n) + float(p.cost.sum())
    frame = alloc.to_frame()
    assert list(frame.columns[:6]) == ["stratum", "N", "n", "expected_respondents", "take_all",
                                       "cost"]  # fmt: skip
    assert {"cv_active_region", "cv_active_category", "cv_workers"} <= set(frame.columns)


def test_multi_with_one_target_is_no_cheaper_than_the_exact_optimum():
    strata = _table([60, 200, 35, 500, 90], S=[5.0, 2.0, 9.0, 1.0, 4.0],
                    mean=[10.0, 4.0, 15.0, 2.0, 8.0], response_rate=0.5)  # fmt: skip
    target = [{"variable": "y", "cv": 0.04}]
    exact = es.allocate(strata, targets=target, method="optimal")
    multi = es.allocate(strata, targets=target, method="multi")
    assert multi.cv["met"].all() and exact.cv["met"].all()
    assert exact.total <= multi.total <= exact.total + 5


def test_infeasible_targets_are_named_with_the_best_achievable_cv():
    strata = _table([20, 30], p=[0.5, 0.5], response_rate=0.5, area=["x", "y"])
    with pytest.raises(DesignError) as err:
        es.allocate(strata, targets=[{"variable": "y", "cv": 0.01, "domain": "area"}],
                    method="multi")  # fmt: skip
    # drawing all 20 in x with half answering: Var = 20^2 (1/10 - 1/20) 0.25 * 20/19
    best_x = math.sqrt(400 * (1 / 10 - 1 / 20) * 0.25 * 20 / 19) / 10
    assert f"y (area = x): target CV 1.0%, best achievable {best_x:.1%}" in str(err.value)
    assert str(err.value).startswith("2 CV target(s) cannot be met")


# ------------------------------------------------------------------ bad input
def test_bad_strata_tables_name_row_column_and_value():
    with pytest.raises(DataError, match=r"row 1, column 'response_rate': value 0.0"):
        es.allocate(_table([10, 10], response_rate=[0.5, 0.0]), n=5, method="proportional")
    with pytest.raises(DataError, match=r"row 0, column 'N': value 10.5"):
        es.allocate(_table([10.5, 10]), n=5, method="proportional")
    with pytest.raises(DataError, match=r"stratum 'h0'\): min_n 8 is above max_n 6"):
        es.allocate(_table([10, 10], min_n=[8, 2], max_n=[6, 10]), n=15, method="proportional")
    # a stratum smaller than min_n is taken whole
    alloc = es.allocate(_table([3, 50], min_n=[5, 5]), n=20, method="proportional")
    assert alloc.n.tolist() == [3, 17]
    with pytest.raises(DataError, match=r"row 1, column 'area': no domain"):
        es.allocate(_table([10, 10], p=[0.5, 0.5], area=["x", None]), n=8,
                    targets=[{"variable": "y", "cv": 0.2, "domain": "area"}])  # fmt: skip
    with pytest.raises(DesignError, match=r"needs 'p_z' \(a proportion\) or 'S_z' and 'mean_z'"):
        es.allocate(_table([10, 10]), n=5, targets=[{"variable": "z", "cv": 0.1}])
    with pytest.raises(DesignError, match=r"n=30 is outside what the bounds allow"):
        es.allocate(_table([10, 10]), n=30, method="proportional")
    with pytest.raises(DesignError, match="method='neyman' needs n="):
        es.allocate(_table([10, 10], S=[1.0, 1.0]), targets=Y, method="neyman")
    with pytest.raises(DesignError, match=r"cv=1.5; expected a number in \(0, 1\)"):
        es.allocate(_table([10, 10], S=[1.0, 1.0]), n=5, targets=[{"variable": "y", "cv": 1.5}])
    with pytest.raises(DesignError, match="method='optimal' allocates for one variable"):
        strata = _table([10, 10], S=[1.0, 1.0], p_z=[0.2, 0.3])
        es.allocate(strata, n=5, targets=[*Y, {"variable": "z", "cv": 0.1}])
    with pytest.raises(DesignError, match="method='multi' finds the smallest sample"):
        es.allocate(_table([10, 10], S=[1.0, 1.0]), n=5, targets=Y, method="multi")


# ------------------------------------------------------------------ PRN selection
def _frame(sizes, seed=1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    strata = np.repeat([f"h{i}" for i in range(len(sizes))], sizes)
    return pd.DataFrame({"unit": np.arange(len(strata)), "stratum": strata,
                         "prn": rng.random(len(strata))})  # fmt: skip


def test_same_prns_and_sizes_give_the_same_sample_and_the_sizes_asked_for():
    frame = _frame([30, 50, 20])
    alloc = pd.DataFrame({"stratum": ["h0", "h1", "h2"], "n": [5, 10, 20]})
    a = es.select_sample(frame, alloc)
    b = es.select_sample(frame.sample(frac=1.0, random_state=3), alloc).loc[frame.index]
    assert a["sampled"].equals(b["sampled"])
    assert a.groupby("stratum")["sampled"].sum().tolist() == [5, 10, 20]
    # the drawn units are those with the smallest PRNs of their stratum
    for h, part in a.groupby("stratum"):
        k = int(alloc.set_index("stratum").loc[h, "n"])
        assert set(part.nsmallest(k, "prn")["unit"]) == set(part.loc[part["sampled"], "unit"])
    assert a["pi"].tolist() == [5 / 30] * 30 + [10 / 50] * 50 + [1.0] * 20
    assert frame.columns.tolist() == ["unit", "stratum", "prn"]  # the input is untouched
    # a seed shifts the PRNs: another sample, the same again with the same seed
    c, d = es.select_sample(frame, alloc, seed=5), es.select_sample(frame, alloc, seed=5)
    assert c["sampled"].equals(d["sampled"]) and not c["sampled"].equals(a["sampled"])


def test_overlap_with_the_previous_wave():
    frame = _frame([30, 50, 20])
    first = es.select_sample(frame, pd.DataFrame({"stratum": ["h0", "h1", "h2"], "n": [10, 20, 5]}))
    sizes = pd.DataFrame({"stratum": ["h0", "h1", "h2"], "n": [12, 25, 16]})
    prev = first["sampled"]
    keep = es.select_sample(frame, sizes, previous=prev, overlap="maximise")
    rotate = es.select_sample(frame, sizes, previous=prev, overlap="minimise")
    both = lambda s: (s["sampled"] & prev).groupby(frame["stratum"]).sum().tolist()  # noqa: E731
    assert both(keep) == [10, 20, 5]  # min(n_h, previous n_h): the whole panel kept
    # no overlap where n_h + previous n_h <= N_h (h0: 12 + 10 <= 30, h1: 25 + 20 <= 50);
    # h2 has 20 units, 16 + 5 > 20: the least overlap possible is 1
    assert both(rotate) == [0, 0, 1]
    assert keep.groupby("stratum")["sampled"].sum().tolist() == [12, 25, 16]
    assert rotate.groupby("stratum")["sampled"].sum().tolist() == [12, 25, 16]


@pytest.mark.slow
def test_prn_selection_is_simple_random_sampling():
    # every unit's inclusion frequency over 4000 draws (fresh PRNs each time) is n_h / N_h;
    # the largest deviation of 30 binomial frequencies at p = 1/3 stays under 4.5 SE
    alloc = pd.DataFrame({"stratum": ["h0"], "n": [10]})
    counts = np.zeros(30)
    for seed in range(4000):
        frame = _frame([30], seed=seed).drop(columns="prn")
        counts += es.select_sample(frame, alloc, seed=seed)["sampled"].to_numpy()
    se = math.sqrt((1 / 3) * (2 / 3) / 4000)
    assert np.max(np.abs(counts / 4000 - 1 / 3)) < 4.5 * se


def test_selected_sample_feeds_a_design():
    frame = _frame([30, 50, 20])
    alloc = es.allocate(frame.groupby("stratum").size().rename("N").reset_index(), n=30,
                        method="proportional")  # fmt: skip
    sample = es.select_sample(frame, alloc)
    design = es.SurveyDesign.from_frame(sample, "sampled")
    # proportional: 9, 15, 6 of 30, 50, 20 -> every weight N_h / n_h = 100 / 30
    assert sample.groupby("stratum")["sampled"].sum().tolist() == [9, 15, 6]
    np.testing.assert_allclose(design.weights, 100 / 30, rtol=1e-12)


def test_selection_errors_say_what_to_do():
    frame = _frame([5, 5])
    alloc = pd.DataFrame({"stratum": ["h0"], "n": [2]})
    with pytest.raises(DesignError, match="frame strata without an allocation: h1"):
        es.select_sample(frame, alloc)
    alloc = pd.DataFrame({"stratum": ["h0", "h1"], "n": [2, 2]})
    with pytest.raises(DesignError, match="pass seed= to create permanent random numbers"):
        es.select_sample(frame.drop(columns="prn"), alloc)
    bad = frame.assign(prn=frame["prn"].where(frame.index != 3, 1.0))
    with pytest.raises(DataError, match=r"row 3, column 'prn': value 1.0; expected a permanent"):
        es.select_sample(bad, alloc)
    with pytest.raises(DesignError, match=r"overlap='minimise' needs previous="):
        es.select_sample(frame, alloc, overlap="minimise")
    with pytest.raises(DesignError, match=r"start has no value for stratum 'h1'"):
        es.select_sample(frame, alloc, start={"h0": 0.5})
    with pytest.raises(DesignError, match=r"start points must lie in \[0, 1\)"):
        es.select_sample(frame, alloc, start=1.5)
    created = es.select_sample(frame.drop(columns="prn"), alloc, seed=3)
    assert created["prn"].between(0, 1).all() and created["sampled"].sum() == 4


def test_large_units_split_into_take_all_strata_are_drawn_whole():
    frame = pd.DataFrame({"stratum": ["a"] * 6 + ["b"] * 4,
                          "workers": [1, 2, 300, 3, 250, None, 5, 1, 2, 120]})  # fmt: skip
    split = es.split_take_all(frame, "workers", 100)
    assert split["stratum"].tolist() == ["a", "a", "a (take-all)", "a", "a (take-all)", "a",
                                         "b", "b", "b", "b (take-all)"]  # fmt: skip
    assert split["take_all"].sum() == 3 and "take_all" not in frame.columns
    g = split.groupby("stratum")
    strata = pd.DataFrame({"stratum": list(g.groups), "N": g.size().to_numpy(),
                           "take_all": g["take_all"].all().to_numpy()})  # fmt: skip
    alloc = es.allocate(strata, n=7, method="proportional")
    # take-all strata first: 2 + 1 units; the 4 left go 4:3 to a and b -> 2.29, 1.71 -> 2, 2
    assert dict(zip(strata["stratum"], alloc.n.tolist(), strict=True)) == {
        "a": 2, "a (take-all)": 2, "b": 2, "b (take-all)": 1}  # fmt: skip
    with pytest.raises(DesignError, match="threshold='100'; expected a number"):
        es.split_take_all(frame, "workers", "100")


@pytest.mark.slow
def test_coordinated_waves_remain_simple_random_samples():
    # 100 old units of which wave 1 drew 30 (a simple random sample drawn without PRNs),
    # 20 units new to the frame; wave 2 draws 30 of the 120. Over 2000 repetitions every
    # unit's inclusion frequency is 30/120 = 0.25, old or new, under "maximise"; the
    # panel is kept whole; under "minimise" no unit of wave 1 is drawn again.
    reps, alloc = 2000, pd.DataFrame({"stratum": ["a"], "n": [30]})
    freq = {"maximise": np.zeros(120), "minimise": np.zeros(120)}
    for rep in range(reps):
        rng = np.random.default_rng(rep)
        first = np.zeros(100, dtype=bool)
        first[rng.choice(100, 30, replace=False)] = True
        old = pd.DataFrame({"stratum": "a"}, index=range(100))
        prns = es.select_sample(old, alloc, seed=rep, previous=pd.Series(first),
                                overlap="maximise")["prn"]  # fmt: skip
        births = pd.DataFrame({"stratum": "a", "prn": rng.random(20)}, index=range(100, 120))
        frame = pd.concat([old.assign(prn=prns), births])
        prev = pd.Series(first, index=range(100)).reindex(frame.index, fill_value=False)
        for overlap in freq:
            drawn = es.select_sample(frame, alloc, previous=prev, overlap=overlap)
            picked = drawn["sampled"].to_numpy()
            freq[overlap] += picked
            if overlap == "minimise":
                assert not (picked & prev.to_numpy()).any()
        keep = es.select_sample(frame, alloc, overlap="maximise")["sampled"].to_numpy()
        assert (keep[:100] & first).sum() >= 30 - (keep[100:].sum())  # the panel first
    se = math.sqrt(0.25 * 0.75 / reps)
    maxi = freq["maximise"] / reps
    assert abs(maxi[:100].mean() - 0.25) < 3 * se and abs(maxi[100:].mean() - 0.25) < 3 * se
    assert np.max(np.abs(maxi - 0.25)) < 4.5 * se
