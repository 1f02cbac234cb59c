"""Tests of the synthetic demo study against its calibration targets.

Targets come from the published ROPS Kielce figures (domain.md §0, §3.1, §3.3):
~280 active PES (270-290), ~3,400 workers (3,300-3,500), the 2015 inventory type mix,
≥40% of active entities neither earning nor employing, >80% of NGOs and
cooperatives at ≤100,000 zł, and the ZAZ rule (≥70% disabled, ≤35% moderate).
"""

import hashlib
import re
import tomllib
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from es_survey import regions, synth
from es_survey.errors import DesignError

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
CODEBOOK = tomllib.loads((RAW / "codebook.toml").read_text(encoding="utf-8"))
VARS = {v["name"]: v for v in CODEBOOK["variables"]}
NGO = ["STOW", "FUND", "OSP", "KGW", "STOW_ZW", "KOSC", "SPOLKA_NP"]
COOP = ["SS", "SP_PRACY", "SP_INW"]
# ROPS Kielce inventory 30.11.2015 (domain.md §3.1): 47 SS of which 3 in liquidation.
ROPS_ACTIVE = {"SS": 44, "SP_PRACY": 13, "SP_INW": 2, "ZAZ": 4, "CIS": 6, "KIS": 11, "WTZ": 26}


def regon_ok(text: str) -> bool:
    # GUS REGON-9: weights 8 9 2 3 4 5 6 7, sum mod 11, 10 -> 0.
    if not re.fullmatch(r"\d{9}", text):
        return False
    s = sum(int(d) * w for d, w in zip(text[:8], (8, 9, 2, 3, 4, 5, 6, 7), strict=True))
    return s % 11 % 10 == int(text[8])


def nip_ok(text: str) -> bool:
    # NIP: weights 6 5 7 2 3 4 5 6 7, sum mod 11 equals the last digit (10 never valid).
    if not re.fullmatch(r"\d{10}", text):
        return False
    s = sum(int(d) * w for d, w in zip(text[:9], (6, 5, 7, 2, 3, 4, 5, 6, 7), strict=True))
    return s % 11 == int(text[9])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def demo():
    return synth.make_demo(2023)


@pytest.fixture(scope="module")
def pop(demo):
    return demo["population"]


@pytest.fixture(scope="module")
def active(pop):
    return pop[pop["active"]]


# ------------------------------------------------------------------ identity checks


def test_known_checksums():
    # Published examples: REGON 123456785 and NIP 1234563218 are the standard valid
    # test numbers; changing the last digit breaks them.
    assert regon_ok("123456785") and not regon_ok("123456784")
    assert nip_ok("1234563218") and not nip_ok("1234563219")


def test_identifiers_valid_and_unique(pop):
    assert 600 <= len(pop) <= 800
    assert pop["regon"].map(regon_ok).all()
    assert pop["nip"].map(nip_ok).all()
    assert pop["regon"].is_unique and pop["nip"].is_unique
    krs = pop["krs"].dropna()
    assert krs.str.fullmatch(r"\d{10}").all() and krs.is_unique
    # types without a KRS entry of their own have none
    no_krs = pop["entity_type"].isin(["KGW", "STOW_ZW", "KOSC", "CIS", "KIS", "ZAZ", "WTZ"])
    assert pop.loc[no_krs, "krs"].isna().all()
    assert pop.loc[~no_krs, "krs"].notna().all()
    assert pop["name"].is_unique


def test_geography_is_real(pop):
    g = regions.gminas().set_index("teryt")
    assert pop["teryt_gmina"].isin(g.index).all()
    assert (g.loc[pop["teryt_gmina"], "powiat"].to_numpy() == pop["teryt_powiat"]).all()
    p = regions.powiats().set_index("teryt")
    assert (p.loc[pop["teryt_powiat"], "nuts3"].to_numpy() == pop["nuts3"]).all()
    assert (pop.loc[pop["entity_type"] == "KGW", "teryt_powiat"] != "2661").all()


# ------------------------------------------------------------------ calibration targets


def test_active_count_and_workers(active):
    assert 270 <= len(active) <= 290
    assert 3300 <= active["workers"].sum() <= 3500


def test_type_mix_matches_rops_inventory(pop, active):
    counts = active["entity_type"].value_counts()
    for t, n in ROPS_ACTIVE.items():
        assert counts[t] == n, t
    assert 150 <= counts[NGO].sum() <= 190
    # 47 registered SS of which 3 in liquidation appear in the frame
    ss = pop[pop["entity_type"] == "SS"]
    assert len(ss) >= 47 and ss["in_liquidation"].sum() == 3


def test_spread_by_population(active):
    p = regions.powiats()
    counts = active["teryt_powiat"].value_counts().reindex(p["teryt"], fill_value=0)
    assert (counts > 0).all()
    assert np.corrcoef(counts.to_numpy(), p["population_2021"].to_numpy())[0, 1] > 0.8


def test_many_neither_earn_nor_employ(active):
    neither = ~active["earning"] & ~active["employing"]
    assert neither.mean() >= 0.40


def test_revenue_heavy_tailed(active):
    group = active[active["entity_type"].isin(NGO + COOP)]
    assert (group["revenue_total"] <= 100_000).mean() >= 0.80
    ngo = active[active["entity_type"].isin(NGO)]
    assert (ngo["revenue_total"] <= 100_000).mean() >= 0.80
    rev = active["revenue_total"]
    assert rev.max() > 50 * rev.median()
    assert rev.mean() > 3 * rev.median()


def test_zaz_rule(active):
    zaz = active[active["entity_type"] == "ZAZ"]
    assert (zaz["emp_disabled"] >= 0.70 * zaz["emp_uop"]).all()
    assert (zaz["emp_disabled_moderate"] <= 0.35 * zaz["emp_uop"]).all()


def test_definitions_hold(pop, active):
    inactive = pop[~pop["active"]]
    assert not (pop["in_liquidation"] & pop["active"]).any()
    for col in ["revenue_total", "emp_uop", "emp_civil", "workers", "participants"]:
        assert (inactive[col] == 0).all(), col
    assert not inactive[["earning", "employing", "active_declared"]].any().any()
    runs = pop["runs_dg"] | pop["runs_odplatna_dpp"] | pop["runs_other_paid"]
    assert (pop["earning"] == runs).all()
    assert (pop["employing"] == (pop["emp_uop"] > 0)).all()
    assert (pop["workers"] == pop["emp_uop"] + pop["emp_civil"]).all()
    parts = pop[["revenue_public", "revenue_private", "revenue_earned", "revenue_other"]]
    np.testing.assert_allclose(parts.sum(axis=1), pop["revenue_total"], atol=1e-6)
    assert (parts >= 0).all().all()
    assert (pop.loc[pop["earning"], "revenue_earned"] > 0).all()
    assert (pop.loc[~pop["earning"], "revenue_earned"] == 0).all()
    reint = active[active["entity_type"].isin(["CIS", "KIS", "WTZ"])]
    assert (reint["participants"] > 0).all()
    others = active[~active["entity_type"].isin(["CIS", "KIS", "WTZ"])]
    assert (others["participants"] == 0).all()
    assert (pop["emp_uop_fte"] <= pop["emp_uop"]).all()
    assert (pop["emp_uop_half_fte"] <= pop["emp_uop"]).all()
    assert ((pop["emp_uop_fte"] > 0) == (pop["emp_uop"] > 0)).all()
    for col in ["emp_at_risk", "emp_disabled"]:
        assert (pop[col] <= pop["emp_uop"]).all()
    assert (pop["emp_disabled_moderate"] <= pop["emp_disabled"]).all()
    assert (active.loc[active["entity_type"] == "SS", "runs_dg"]).all()
    assert set(pop["market_range"].dropna()) <= set(CODEBOOK["answers"]["market_range"].values())
    assert pop.loc[pop["earning"], "market_range"].notna().all()


def test_finance_findings(active):
    earning = active[active["earning"]]
    assert earning["market_range"].isin(["local", "regional"]).mean() >= 0.85
    ngo = active[active["entity_type"].isin(NGO)]
    assert 0.3 <= ngo["grants"].mean() <= 0.7
    assert active["loans"].mean() <= 0.10
    assert not active.loc[active["entity_type"].isin(["CIS", "KIS", "ZAZ", "WTZ"]), "loans"].any()


def test_auxiliaries_predict_activity(pop):
    def rate(mask):
        return pop.loc[mask, "active"].mean()

    assert rate(pop["statement_filed"]) - rate(~pop["statement_filed"]) > 0.4
    assert rate(pop["krs_economic"]) > rate(~pop["krs_economic"]) + 0.1
    ngo = pop["entity_type"].isin(NGO)
    recent = pop["year_registered"] >= 2010
    assert rate(ngo & recent) > rate(ngo & ~recent)
    assert rate(pop["opp"]) > rate(~pop["opp"])


@pytest.mark.parametrize("seed", [1, 7, 99])
def test_targets_hold_for_other_seeds(seed):
    pop = synth.make_population(seed)
    act = pop[pop["active"]]
    assert 270 <= len(act) <= 290
    assert 3300 <= act["workers"].sum() <= 3500
    assert (~act["earning"] & ~act["employing"]).mean() >= 0.40
    grp = act[act["entity_type"].isin(NGO + COOP)]
    assert (grp["revenue_total"] <= 100_000).mean() >= 0.80


def test_determinism(pop):
    again = synth.make_population(2023)
    pd.testing.assert_frame_equal(pop, again)
    other = synth.make_population(2024)
    assert not other["regon"].equals(pop["regon"])


# ------------------------------------------------------------------ sample and fieldwork


def test_strata_and_weights(pop):
    s = synth.draw_sample(pop, rng=5)
    frame_n = synth.design_strata(pop).value_counts()
    assert set(frame_n.index) == {
        f"{g}-{n}" for g in ["NGO", "SS", "SP", "REINT"] for n in ["PL721", "PL722"]
    }
    w = s.groupby("stratum")["weight"].sum()
    np.testing.assert_allclose(w.sort_index(), frame_n.sort_index().astype(float))
    assert (s.groupby("stratum")["N_h"].first() == frame_n.reindex(w.index)).all()
    take_all = s[~s["stratum"].str.startswith("NGO")]
    assert (take_all["weight"] == 1).all()
    assert len(take_all) == (pop["entity_type"].isin([*COOP, "CIS", "KIS", "ZAZ", "WTZ"])).sum()
    ngo = s[s["stratum"].str.startswith("NGO")].groupby("stratum")
    assert (ngo["n_h"].first() == (ngo["N_h"].first() / 2).round()).all()
    assert (ngo.size() == ngo["n_h"].first()).all()
    assert not s.index.duplicated().any()


def test_sample_is_unbiased(pop):
    # Horvitz-Thompson estimate of the number of active units over 1,000 samples:
    # its mean must be within 4 Monte Carlo SE of the known truth (280).
    # (Speed of draw_sample is measured in benchmarks, never asserted in tests.)
    rng = np.random.default_rng(11)
    est = np.empty(1000)
    for i in range(1000):
        s = synth.draw_sample(pop, rng)
        est[i] = (s["weight"] * s["active"]).sum()
    truth = pop["active"].sum()
    assert abs(est.mean() - truth) < 4 * est.std(ddof=1) / np.sqrt(len(est))
    assert est.std() > 0


def test_response_depends_on_activity_and_type(pop):
    out = synth.simulate_response(pop.assign(weight=1.0), rng=3)
    assert set(out["contact_outcome"]) <= set(CODEBOOK["answers"]["contact_outcome"].values())
    assert (out["responded"] == out["contact_outcome"].isin(["complete", "partial"])).all()
    assert not out.loc[out["in_liquidation"], "responded"].any()
    liq = out[out["in_liquidation"]]
    assert (liq["contact_outcome"] == "ineligible_liquidated").mean() > 0.4
    act, ina = out[out["active"]], out[~out["active"]]
    assert act["responded"].mean() > 0.45 and ina["responded"].mean() < 0.25
    assert (ina["contact_outcome"] == "ineligible_ceased").mean() > 0.15
    reint = act["entity_type"].isin(["CIS", "KIS", "ZAZ", "WTZ"])
    assert act.loc[reint, "responded"].mean() > act.loc[~reint, "responded"].mean()


def test_design_errors(pop):
    with pytest.raises(DesignError, match=r"ngo_fraction=1.5 must be in \(0, 1\]"):
        synth.draw_sample(pop, rng=1, ngo_fraction=1.5)
    with pytest.raises(DesignError, match="design_strata needs column 'teryt_powiat'"):
        synth.design_strata(pop.drop(columns="teryt_powiat"))
    with pytest.raises(DesignError, match="entity_type 'XYZ' has no stratum group"):
        synth.design_strata(pd.DataFrame({"entity_type": ["XYZ"], "teryt_powiat": ["2601"]}))
    with pytest.raises(
        DesignError,
        match=r"design_strata: teryt_powiat '2699': powiat code '2699' is not in TERYT \(state",
    ):
        synth.design_strata(pd.DataFrame({"entity_type": ["SS"], "teryt_powiat": ["2699"]}))
    # a powiat of any voivodeship has its subregion: Warszawa is PL911
    warsaw = pd.DataFrame({"entity_type": ["SS"], "teryt_powiat": ["1465"]})
    assert synth.design_strata(warsaw).tolist() == ["SS-PL911"]
    with pytest.raises(DesignError, match="simulate_response needs column 'active'"):
        synth.simulate_response(pop.drop(columns="active"), rng=1)
    with pytest.raises(DesignError, match=r"rng='x' must be an int seed or a numpy"):
        synth.draw_sample(pop, rng="x")
    with pytest.raises(DesignError, match="seed=-1 must be a non-negative int"):
        synth.make_population(-1)
    with pytest.raises(DesignError, match=r"region='27' is not a voivodeship .* 26 świętokrzyskie"):
        synth.make_population(2023, region="27")


# ------------------------------------------------------------------ written files


def content(path: Path) -> list[tuple[str, bytes]]:
    """The uncompressed members of an xlsx (deflate bytes may differ between zlib builds)."""
    if path.suffix != ".xlsx":
        return [(path.name, path.read_bytes())]
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def test_files_byte_identical_and_committed(tmp_path):
    a = synth.write_demo(tmp_path / "a")
    b = synth.write_demo(tmp_path / "b", seed=2023)
    for key in ("frame", "responses", "truth"):
        # same environment, same seed: the very same bytes
        assert sha(a[key]) == sha(b[key]), key
        # the committed files are what write_demo writes now (compared uncompressed)
        committed = RAW / a[key].name
        assert content(a[key]) == content(committed), f"{committed} differs from write_demo"
        if committed.suffix == ".xlsx":
            assert committed.stat().st_size < 300_000


def read_sheet(path):
    ws = load_workbook(path, read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    return list(rows[0]), [list(r) for r in rows[1:]]


def test_frame_file(demo):
    headers, rows = read_sheet(RAW / "frame.xlsx")
    frame_vars = [v for v in CODEBOOK["variables"] if v["source"] in ("frame", "both")]
    assert headers == [v["headers"][0] for v in frame_vars]
    col = {h: i for i, h in enumerate(headers)}
    pop = demo["population"]
    assert len(rows) == len(pop)
    assert [r[col["REGON"]] for r in rows] == pop["regon"].tolist()
    assert all(isinstance(r[col["KRS"]], str | None) for r in rows)
    types = set(CODEBOOK["answers"]["entity_type"])
    assert {r[col["Typ podmiotu"]] for r in rows} <= types
    assert {r[col["W likwidacji"]] for r in rows} == {"tak", "nie"}
    sampled = [r for r in rows if r[col["W próbie"]] == "tak"]
    assert len(sampled) == len(demo["sample"])
    outcomes = set(CODEBOOK["answers"]["contact_outcome"])
    assert all(r[col["Wynik realizacji"]] in outcomes for r in sampled)
    assert all(r[col["Wynik realizacji"]] is None for r in rows if r[col["W próbie"]] == "nie")
    assert all(r[col["Warstwa"]] for r in rows)


def parse_number(value):
    """Test-side reading of a Polish number cell: None for missing texts."""
    if value is None or isinstance(value, int | float):
        return value
    text = value.strip()
    if text in CODEBOOK["missing"]:
        return None
    for space in (" ", "\u00a0", "\u2009", "\u202f"):
        text = text.replace(space, "")
    return float(text.replace(",", "."))


def parse_bool(value):
    if value is None:
        return None
    text = value.strip().lower()
    return CODEBOOK["answers"]["tak_nie"].get(text)


def test_responses_file(demo):
    headers, rows = read_sheet(RAW / "responses.xlsx")
    names = [v["name"] for v in CODEBOOK["variables"] if v["source"] in ("responses", "both")]
    assert headers == [VARS[n]["headers"][0] for n in names]
    col = dict(zip(names, range(len(names)), strict=True))
    sample = demo["sample"]
    truth = demo["truth"].set_index("regon")
    n_resp = sample["responded"].sum()
    assert len(rows) == n_resp + 1  # one duplicated submission
    assert set(sample.loc[sample["responded"], "contact_outcome"]) == {"complete", "partial"}

    cells = [c for r in rows for c in r if isinstance(c, str)]
    assert any(re.fullmatch(r"\d{1,3}([ \u00a0\u2009\u202f]\d{3})+,\d\d", c) for c in cells)
    assert any("\u2009" in c for c in cells) and any(re.search(r"\d \d", c) for c in cells)
    assert {"brak danych", "nie wiem", "TAK ", "Nie"} <= set(cells)
    assert any(r[col["regon"]] is not None and isinstance(r[col["regon"]], int) for r in rows)

    corrupted = truth[truth["corruption"] != ""]
    counts = pd.Series(";".join(corrupted["corruption"]).split(";")).value_counts()
    assert counts.to_dict() == {
        "regon_mistyped": 3,
        "declared_inactive_with_employees": 2,
        "fte_above_headcount": 2,
        "no_paid_activity_with_earned_revenue": 2,
        "duplicate_response": 1,
    }
    checked = 0
    for regon, t in truth[truth["response_rows"] != ""].iterrows():
        sheet_rows = [int(x) for x in t["response_rows"].split(";")]
        row = rows[sheet_rows[0] - 2]
        tags = t["corruption"].split(";") if t["corruption"] else []
        written = str(row[col["regon"]])
        if "regon_mistyped" in tags:
            assert not regon_ok(written) and written not in truth.index
        else:
            assert written == regon
        assert row[col["name"]] == t["name"]
        if "duplicate_response" in tags:
            assert len(sheet_rows) == 2
        if "declared_inactive_with_employees" in tags:
            assert parse_bool(row[col["active_declared"]]) is False
            assert parse_number(row[col["emp_uop"]]) > 0
        if "fte_above_headcount" in tags:
            assert parse_number(row[col["emp_uop_fte"]]) > parse_number(row[col["emp_uop"]])
        if "no_paid_activity_with_earned_revenue" in tags:
            runs = ["runs_dg", "runs_odplatna_dpp", "runs_other_paid"]
            assert all(parse_bool(row[col[v]]) is not True for v in runs)
            assert parse_number(row[col["revenue_earned"]]) > 0
        if t["contact_outcome"] == "partial":
            assert all(row[col[v]] is None for v in synth._FINANCE)
        if not t["active"]:
            assert parse_bool(row[col["active_declared"]]) in (False, None)
            assert all(row[col[v]] is None for v in ["emp_uop", "revenue_total", "runs_dg"])
            continue
        if tags:
            continue
        # every answer that is not missing equals the truth
        numeric = ["emp_uop", "emp_civil", "emp_uop_fte", "members", "volunteers"]
        for var in [*numeric, *synth._FINANCE[:5]]:
            value = parse_number(row[col[var]])
            if value is not None:
                assert value == pytest.approx(t[var], abs=0.005), (regon, var)
                checked += 1
        for var in ["runs_dg", "runs_odplatna_dpp", "runs_other_paid", "grants", "loans"]:
            value = parse_bool(row[col[var]])
            if value is not None:
                assert value == t[var], (regon, var)
    assert checked > 500


def test_certainty_units_form_a_take_all_stratum():
    pop = synth.make_population(2023)
    mask = np.zeros(len(pop), dtype=bool)
    mask[[0, 5, 9]] = True
    sample = synth.draw_sample(pop, rng=3, certainty=mask)
    chosen = sample[sample["stratum"] == "CERTAINTY"]
    assert sorted(chosen.index) == sorted(pop.index[[0, 5, 9]])
    assert (chosen["weight"] == 1).all() and (chosen["N_h"] == 3).all()
    assert sample["weight"].sum() == pytest.approx(len(pop))
    with pytest.raises(DesignError, match="certainty has 2 values; the population has 632 rows"):
        synth.draw_sample(pop, rng=3, certainty=[True, False])


# ------------------------------------------------------------------ other voivodeships
# issue 11, section 3: Świętokrzyskie's plan scaled by the region's gminas (102 for 26).


def half_up(count: int, gminas: int) -> int:
    """round(count * gminas / 102), halves up, computed exactly."""
    return int(Fraction(count * gminas, 102) + Fraction(1, 2))


def hand_plan(code: str) -> dict[str, tuple[int, int, int]]:
    """The plan scaled by hand: at least 1 unit and 1 active unit of every type."""
    g = len(regions.gminas(code))
    plan = {}
    for t, (units, liquidated, active) in synth.FRAME_PLAN.items():
        n_units = max(1, half_up(units, g))
        n_liq = min(half_up(liquidated, g), n_units - 1)
        plan[t] = (n_units, n_liq, min(max(1, half_up(active, g)), n_units - n_liq))
    return plan


def test_swietokrzyskie_keeps_its_plan():
    assert synth.region_plan("26") == synth.FRAME_PLAN == hand_plan("26")
    assert synth.region_plan("świętokrzyskie") == synth.FRAME_PLAN
    assert synth.workers_range("26") == (3360, 3440)


@pytest.mark.parametrize(
    ("code", "old_prefix"), [("12", "35"), ("02", "93"), ("32", "81"), ("14", "01")]
)
def test_other_voivodeships_are_the_plan_scaled(code, old_prefix):
    pop = synth.make_population(2023, region=code)
    plan = hand_plan(code)
    assert synth.region_plan(code) == plan
    # by type: units, units in liquidation and active units exactly as planned
    for t, (units, liquidated, active) in plan.items():
        of_type = pop[pop["entity_type"] == t]
        assert (len(of_type), int(of_type["in_liquidation"].sum())) == (units, liquidated), t
        assert int(of_type["active"].sum()) == active, t
    # workers of the active entities in the scaled range [3360, 3440] * G / 102
    g = len(regions.gminas(code))
    workers = int(pop.loc[pop["active"], "workers"].sum())
    assert half_up(3360, g) <= workers <= half_up(3440, g)
    assert synth.workers_range(code) == (half_up(3360, g), half_up(3440, g))
    # geography of the region: real gminas in their powiats, NUTS 3 of regions.powiats
    gm = regions.gminas(code).set_index("teryt")
    assert (gm.loc[pop["teryt_gmina"], "powiat"].to_numpy() == pop["teryt_powiat"]).all()
    pw = regions.powiats(code).set_index("teryt")
    assert (pw.loc[pop["teryt_powiat"], "nuts3"].to_numpy() == pop["nuts3"]).all()
    assert set(pop["teryt_powiat"]) == set(pw.index)  # every powiat has entities
    city = pw.index[pw["kind"] == "miasto na prawach powiatu"]
    assert not pop.loc[pop["entity_type"] == "KGW", "teryt_powiat"].isin(city).any()
    # names use the unit's own gmina ("…, gm. X" of an OSP or a KGW)
    local = pop[pop["entity_type"].isin(["OSP", "KGW"])]
    named = local["name"].str.extract(r", gm\. (.+)$")[0]
    assert (named == gm.loc[local["teryt_gmina"], "name"].to_numpy()).all()
    # identifiers: valid, unique; REGONs of the region (new) or its pre-1999 voivodeship
    assert pop["regon"].map(regon_ok).all() and pop["regon"].is_unique
    assert pop["nip"].map(nip_ok).all() and pop["name"].is_unique
    old = pop["year_registered"] < 1999
    assert (pop.loc[old, "regon"].str[:2] == old_prefix).all()
    assert (pop.loc[~old, "regon"].str[:2] == code).all()
    # strata: type group x the region's subregions
    strata = set(synth.design_strata(pop))
    assert strata == {f"{grp}-{n}" for grp in ["NGO", "SS", "SP", "REINT"] for n in pw["nuts3"]}


def test_other_voivodeships_keep_the_sector_shape():
    # the shares of the Świętokrzyskie targets hold approximately (scaled counts)
    pop = synth.make_population(7, region="30")
    act = pop[pop["active"]]
    assert 0.40 <= (~act["earning"] & ~act["employing"]).mean() <= 0.55
    grp = act[act["entity_type"].isin(NGO + COOP)]
    assert (grp["revenue_total"] <= 100_000).mean() >= 0.80
    zaz = act[act["entity_type"] == "ZAZ"]
    assert (zaz["emp_disabled"] >= 0.70 * zaz["emp_uop"]).all()


def test_write_demo_of_another_region(tmp_path):
    paths = synth.write_demo(tmp_path, region="08")
    truth = pd.read_csv(paths["truth"], dtype={"regon": str, "teryt_powiat": str})
    assert int(truth["active"].sum()) == sum(a for _, _, a in hand_plan("08").values())
    assert set(truth["teryt_powiat"].str[:2]) == {"08"}
    headers, rows = read_sheet(paths["frame"])
    assert len(rows) == len(truth)
    powiat = headers.index(VARS["teryt_powiat"]["headers"][0])
    assert {r[powiat][:2] for r in rows} == {"08"}
