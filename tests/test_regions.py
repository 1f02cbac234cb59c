"""Territorial reference data (es_survey.regions).

Expected numbers come from the shipped source files, counted here with the csv/json
modules independently of regions.py (TERC 2020-01-01: 16 voivodeships, 380 powiats,
2,477 gminas; 73 subregions of NUTS 2016), and for Świętokrzyskie from GUS figures
quoted in ../shared/docs/domain.md §4 and Appendix A (TERC 2024-01-01).
"""

import csv
import json
import re
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.path import Path as MplPath

from es_survey import regions
from es_survey.errors import DataError, DesignError
from es_survey.validate import check_frame

REFERENCE = Path(str(files("es_survey") / "data" / "reference"))
DETAIL = Path(str(files("es_survey") / "data" / "regions"))
TERC_FILE = REFERENCE / "TERC_2020-01-01.csv"

# Gmina counts per powiat, TERC 2024-01-01 (domain.md, Appendix A and §4 table).
GMINAS_PER_POWIAT = {
    "2601": 8,
    "2602": 9,
    "2603": 5,
    "2604": 19,
    "2605": 8,
    "2606": 8,
    "2607": 6,
    "2608": 5,
    "2609": 9,
    "2610": 5,
    "2611": 5,
    "2612": 8,
    "2613": 6,
    "2661": 1,
}

# Census 2021 populations as published (GUS via citypopulation.de, domain.md §4).
POPULATION_2021 = {
    "2601": 69_548,
    "2602": 83_132,
    "2603": 32_545,
    "2604": 211_886,
    "2605": 76_142,
    "2606": 49_955,
    "2607": 103_629,
    "2608": 37_687,
    "2609": 74_051,
    "2610": 70_948,
    "2611": 86_278,
    "2612": 69_957,
    "2613": 43_905,
    "2661": 186_894,
}

# NUTS 2016 level 2 of each voivodeship (Regulation (EU) 2016/2066, Annex I):
# Mazowieckie is split into PL91 (Warszawski stołeczny) and PL92 (Mazowiecki regionalny).
NUTS2 = {
    "02": {"PL51"},
    "04": {"PL61"},
    "06": {"PL81"},
    "08": {"PL43"},
    "10": {"PL71"},
    "12": {"PL21"},
    "14": {"PL91", "PL92"},
    "16": {"PL52"},
    "18": {"PL82"},
    "20": {"PL84"},
    "22": {"PL63"},
    "24": {"PL22"},
    "26": {"PL72"},
    "28": {"PL62"},
    "30": {"PL41"},
    "32": {"PL42"},
}

# Świętokrzyskie's gminas that changed between TERC 2020-01-01 and 2024-01-01 (domain.md
# Appendix A against the TERC file): six rural gminas became urban-rural (RODZ 2 → 3;
# the code's last digit), and Sitkówka-Nowiny is named Nowiny.
RODZ_CHANGED = {
    "2602092": "2602093",  # Wodzisław
    "2604082": "2604083",  # Łopuszno
    "2604142": "2604143",  # Piekoszów
    "2605022": "2605023",  # Gowarczów
    "2606022": "2606023",  # Iwaniska
    "2612012": "2612013",  # Bogoria
}
RENAMED = {"2604172": ("Sitkówka-Nowiny", "Nowiny")}


def read_csv_rows(path: Path, **kwargs) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle, **kwargs) if any(row.values())]


@pytest.fixture(scope="module")
def terc_rows() -> list[dict[str, str]]:
    return read_csv_rows(TERC_FILE, delimiter=";")


@pytest.fixture(scope="module")
def raw_units(terc_rows):
    """Voivodeships, powiats and gminas of the TERC file, counted with the csv module."""
    voiv = {r["WOJ"]: r["NAZWA"].lower() for r in terc_rows if not r["POW"]}
    powiats = {
        r["WOJ"] + r["POW"]: (r["NAZWA"], r["NAZWA_DOD"])
        for r in terc_rows
        if r["POW"] and not r["GMI"]
    }
    gminas = {
        r["WOJ"] + r["POW"] + r["GMI"] + r["RODZ"]: r["NAZWA"]
        for r in terc_rows
        if r["RODZ"] in ("1", "2", "3")
    }
    return voiv, powiats, gminas


# ------------------------------------------------------------ Świętokrzyskie
def test_available_regions():
    assert regions.available_regions() == ["26"]


def test_powiat_table_shape_and_types():
    p = regions.powiats()
    assert len(p) == 14
    assert p.columns.tolist() == [
        "teryt",
        "name",
        "kind",
        "nuts3",
        "subregion",
        "population_2011",
        "population_2021",
        "population_2023",
        "plate",
        "tile_row",
        "tile_col",
    ]
    assert p["teryt"].str.fullmatch(r"26\d\d").all()
    assert p["population_2021"].dtype == "int64"
    assert set(p["kind"]) == {"powiat", "miasto na prawach powiatu"}
    assert p.loc[p["kind"] == "miasto na prawach powiatu", "teryt"].tolist() == ["2661"]
    names = p.set_index("teryt")["name"]
    assert names["2604"] == "kielecki"
    assert names["2661"] == "Kielce"


def test_populations_match_census_2021():
    p = regions.powiats().set_index("teryt")
    assert p["population_2021"].to_dict() == POPULATION_2021
    assert p["population_2021"].sum() == 1_196_557
    by_nuts = p.groupby("nuts3")["population_2021"].sum()
    assert by_nuts["PL721"] == 735_777
    assert by_nuts["PL722"] == 460_780
    subregion = p.groupby("nuts3")["subregion"].unique()
    assert list(subregion["PL721"]) == ["kielecki"]
    assert list(subregion["PL722"]) == ["sandomiersko-jędrzejowski"]


def test_nuts3_membership():
    p = regions.powiats().set_index("teryt")
    pl721 = set(p.index[p["nuts3"] == "PL721"])
    assert pl721 == {"2604", "2605", "2607", "2610", "2611", "2661"}


def test_tiles_unique_and_compact():
    p = regions.powiats()
    assert not p[["tile_row", "tile_col"]].duplicated().any()
    assert p["tile_row"].min() == 0 and p["tile_col"].min() == 0
    assert p["tile_row"].max() <= 4 and p["tile_col"].max() <= 4


def test_gminas_counts_and_kinds():
    g = regions.gminas()
    assert g.columns.tolist() == ["teryt", "name", "kind", "powiat"]
    assert len(g) == 102
    assert g["teryt"].str.fullmatch(r"\d{7}").all()
    assert not g["teryt"].duplicated().any()
    assert g.groupby("powiat").size().to_dict() == GMINAS_PER_POWIAT
    assert g["kind"].value_counts().to_dict() == {
        "wiejska": 52,
        "miejsko-wiejska": 45,
        "miejska": 5,
    }
    urban = set(g.loc[g["kind"] == "miejska", "name"])
    assert urban == {
        "Kielce",
        "Ostrowiec Świętokrzyski",
        "Sandomierz",
        "Skarżysko-Kamienna",
        "Starachowice",
    }


def test_every_gmina_powiat_exists():
    g = regions.gminas()
    p = regions.powiats()
    assert set(g["powiat"]) == set(p["teryt"])
    assert (g["teryt"].str[:4] == g["powiat"]).all()
    kind_digit = g["teryt"].str[6].map({"1": "miejska", "2": "wiejska", "3": "miejsko-wiejska"})
    assert (kind_digit == g["kind"]).all()
    assert g.loc[g["teryt"] == "2661011", "name"].item() == "Kielce"


def test_region_by_name_and_copies():
    a = regions.powiats("swietokrzyskie")
    a.loc[0, "name"] = "changed"
    b = regions.powiats("26")
    assert b.loc[0, "name"] == "buski"
    pd.testing.assert_frame_equal(regions.gminas("Świętokrzyskie"), regions.gminas())
    pd.testing.assert_frame_equal(regions.powiats("MAŁOPOLSKIE"), regions.powiats("12"))


def test_detailed_tables_agree_with_terc_and_subregions(raw_units):
    """The package's Świętokrzyskie tables against TERC + subregion files, read here."""
    _, raw_powiats, raw_gminas = raw_units
    detail = read_csv_rows(DETAIL / "26_swietokrzyskie_powiats.csv")
    subregion = {
        r["teryt_powiat"]: r["subregion"]
        for r in read_csv_rows(REFERENCE / "powiat_subregions_nuts2016.csv")
    }
    nuts = {
        (r["voivodeship"], r["subregion"]): r["nuts3"]
        for r in read_csv_rows(REFERENCE / "nuts3_2016.csv")
    }
    terc26 = {k: v for k, v in raw_powiats.items() if k.startswith("26")}
    assert {r["teryt"] for r in detail} == set(terc26)
    for r in detail:
        name, extra = terc26[r["teryt"]]
        assert r["name"] == name
        assert r["kind"] == ("powiat" if extra == "powiat" else "miasto na prawach powiatu")
        assert r["subregion"] == subregion[r["teryt"]]
        assert r["nuts3"] == nuts["26", r["subregion"]]
    # gminas: the detailed table is TERC 2024-01-01, the national file 2020-01-01
    gminas = {r["teryt"]: r for r in read_csv_rows(DETAIL / "26_swietokrzyskie_gminas.csv")}
    assert {r["stan_na"] for r in gminas.values()} == {"2024-01-01"}
    g2020 = {k: v for k, v in raw_gminas.items() if k.startswith("26")}
    assert len(gminas) == len(g2020) == 102
    assert set(gminas) == {RODZ_CHANGED.get(k, k) for k in g2020}
    for old, new in RODZ_CHANGED.items():
        assert (old[6], new[6], gminas[new]["name"]) == ("2", "3", g2020[old])
    differ = {k: (g2020[k], gminas[k]["name"]) for k in gminas.keys() & g2020.keys()}
    assert {k: v for k, v in differ.items() if v[0] != v[1]} == RENAMED
    # so the default register serves the 2024 gminas of 26, dated as such
    terc = regions.load_terc()
    assert terc.state("26") == "2024-01-01" and terc.state("12") == terc.date == "2020-01-01"
    assert set(regions.gminas("26")["teryt"]) == set(gminas)
    national = regions.gminas("26", terc=TERC_FILE)
    assert set(national["teryt"]) == set(g2020)
    # ... whose detailed columns still join by code
    assert regions.powiats("26", terc=TERC_FILE)["population_2021"].sum() == 1_196_557


# ------------------------------------------------------------ all voivodeships
def test_national_counts(raw_units):
    voiv, raw_powiats, raw_gminas = raw_units
    assert (len(voiv), len(raw_powiats), len(raw_gminas)) == (16, 380, 2_477)
    v = regions.voivodeships()
    assert v.columns.tolist() == ["teryt", "name"]
    assert v["teryt"].tolist() == sorted(voiv) == [f"{i:02d}" for i in range(2, 33, 2)]
    assert dict(zip(v["teryt"], v["name"], strict=True)) == voiv
    national = regions.load_terc(TERC_FILE)
    assert national.date == "2020-01-01" and national.state("26") == "2020-01-01"
    tables = [regions.powiats(code, terc=national) for code in v["teryt"]]
    allp = pd.concat(tables, ignore_index=True)
    assert len(allp) == 380 and set(allp["teryt"]) == set(raw_powiats)
    allg = pd.concat([regions.gminas(code, terc=national) for code in v["teryt"]])
    assert len(allg) == 2_477 and set(allg["teryt"]) == set(raw_gminas)
    assert dict(zip(allg["teryt"], allg["name"], strict=True)) == raw_gminas
    cities = allp.loc[allp["kind"] == "miasto na prawach powiatu", "teryt"]
    assert len(cities) == sum(extra != "powiat" for _, extra in raw_powiats.values()) == 66
    assert (cities.str[2:].astype(int) >= 61).all()
    assert allp.loc[allp["teryt"] == "1465", ["name", "kind"]].to_numpy().tolist() == [
        ["Warszawa", "miasto na prawach powiatu"]
    ]


def test_subregions_and_nuts3_everywhere():
    rows = read_csv_rows(REFERENCE / "powiat_subregions_nuts2016.csv")
    assert len(rows) == 380 and len({r["subregion"] for r in rows}) == 73
    nuts = read_csv_rows(REFERENCE / "nuts3_2016.csv")
    assert len(nuts) == len({r["nuts3"] for r in nuts}) == 73
    for r in nuts:
        assert (
            re.fullmatch(r"PL\d\d[0-9A-F]", r["nuts3"])
            and r["nuts3"][:4] in NUTS2[r["voivodeship"]]
        )
    allp = pd.concat([regions.powiats(c) for c in NUTS2], ignore_index=True)
    assert allp["subregion"].nunique() == allp["nuts3"].nunique() == 73
    assert allp[["nuts3", "subregion"]].notna().all().all()
    assert all(
        code[:4] in NUTS2[t[:2]] for t, code in zip(allp["teryt"], allp["nuts3"], strict=True)
    )
    # the capitals' subregions (the file spells Warsaw's "miasto warszawa")
    one = allp.set_index("teryt")
    assert one.loc["1465", ["subregion", "nuts3"]].tolist() == ["miasto Warszawa", "PL911"]
    assert one.loc["1261", ["subregion", "nuts3"]].tolist() == ["miasto Kraków", "PL213"]
    assert one.loc["2469", ["subregion", "nuts3"]].tolist() == ["katowicki", "PL22A"]
    # population and tiles only where a detailed table gives them
    other = allp[~allp["teryt"].str.startswith("26")]
    assert other[["population_2021", "tile_row", "tile_col"]].isna().all().all()


def test_unknown_region_lists_valid_ones():
    with pytest.raises(DesignError) as err:
        regions.powiats("01")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(
        "region='01' is not a voivodeship of TERYT (state 2020-01-01); give a code or name: "
        "02 dolnośląskie, 04 kujawsko-pomorskie, 06 lubelskie,"
    )
    assert message.endswith("30 wielkopolskie, 32 zachodniopomorskie")
    with pytest.raises(DesignError, match=r"region='atlantyda' is not a voivodeship"):
        regions.gminas("atlantyda")
    with pytest.raises(DesignError, match=r"region='14x' is not a voivodeship"):
        regions.powiat_shapes("14x")


# ------------------------------------------------------------------ boundaries
@pytest.fixture(scope="module")
def raw_geo():
    def load(name):
        data = json.loads((REFERENCE / name).read_text(encoding="utf-8"))
        return data["features"]

    return load("powiaty-min.geojson"), load("wojewodztwa-min.geojson")


def first_ring(geometry) -> bytes:
    coords = geometry["coordinates"][0]
    if geometry["type"] == "MultiPolygon":
        coords = coords[0]
    return np.asarray(coords, dtype=float).tobytes()


def test_all_380_powiat_shapes_join_to_one_code(raw_units, raw_geo):
    voiv, raw_powiats, _ = raw_units
    features, voiv_features = raw_geo
    assert len(features) == 380 and len(voiv_features) == 16
    shapes = {}
    for code in voiv:
        shapes.update(regions.powiat_shapes(code))
    assert len(shapes) == 380 and set(shapes) == set(raw_powiats)
    # every feature is given to exactly one code, under its own name
    by_ring = {first_ring(f["geometry"]): f["properties"]["nazwa"] for f in features}
    assert len(by_ring) == 380
    named = {code: by_ring[rings[0].tobytes()] for code, rings in shapes.items()}
    assert len(set(named.values())) == 370  # ten names twice
    for code, nazwa in named.items():
        assert nazwa == f"powiat {raw_powiats[code][0]}", code
    # ... and lies in its voivodeship: no voivodeship's boundary holds more of its
    # vertices (matplotlib's point-in-polygon, not the one in regions.py; a border
    # powiat keeps as few as a quarter of them inside, by the simplification)
    outline = {code: MplPath(rings[0]) for code, rings in regions.voivodeship_shapes().items()}
    for code, rings in shapes.items():
        points = np.concatenate(rings)
        share = {v: path.contains_points(points).mean() for v, path in outline.items()}
        assert max(share, key=share.__getitem__) == code[:2], (code, share)


def test_repeated_names_and_cities(raw_units):
    _, raw_powiats, _ = raw_units
    names = pd.Series({code: name for code, (name, _) in raw_powiats.items()})
    repeated = names[names.duplicated(keep=False)]
    assert repeated.nunique() == 10 and len(repeated) == 20
    assert "średzki" in set(repeated) and "brzeski" in set(repeated)
    # powiat średzki: 0218 (dolnośląskie, west of Wrocław) and 3025 (wielkopolskie)
    centre = {
        code: np.concatenate(regions.powiat_shapes(code[:2])[code]).mean(axis=0)
        for code in ("0218", "3025", "1202", "1601")
    }
    assert centre["0218"][1] < 51.5 < centre["3025"][1]
    # powiat brzeski: 1202 (małopolskie, east of Kraków) and 1601 (opolskie)
    assert centre["1601"][0] < 18.5 < centre["1202"][0]
    # a city with powiat rights lies in the hole of the land powiat around it
    kielce, kielecki = regions.powiat_shapes("26")["2661"], regions.powiat_shapes("26")["2604"]
    assert len(kielce) == 1 and len(kielecki) == 2
    hole = MplPath(kielecki[1])
    assert hole.contains_points(kielce[0]).mean() > 0.5


def test_shapes_are_read_only_copies():
    a = regions.powiat_shapes("26")
    a.pop("2601")
    assert "2601" in regions.powiat_shapes("26")
    ring = regions.voivodeship_shapes()["26"][0]
    assert ring.dtype == float and ring.shape[1] == 2 and (ring[0] == ring[-1]).all()
    with pytest.raises(ValueError, match="read-only"):
        ring[0, 0] = 0.0


# ---------------------------------------------------------------- validation
def test_frame_from_all_voivodeships_validates(raw_units, terc_rows):
    voiv, _, raw_gminas = raw_units
    codes = [next(g for g in raw_gminas if g.startswith(v) and g[2:4] < "61") for v in sorted(voiv)]
    frame = pd.DataFrame(
        {
            "regon": ["000331501"] * len(codes),
            "teryt_powiat": [g[:4] for g in codes],
            "teryt_gmina": codes,
        }
    )
    problems = check_frame(frame)
    assert set(problems["rule"]) <= {"duplicate_in_frame"}, problems
    assert len({c[:2] for c in codes}) == 16


def test_made_up_codes_name_the_reference_date(tmp_path, terc_rows):
    frame = pd.DataFrame(
        {
            "regon": ["000331501", "291010180"],
            "teryt_powiat": ["1299", "2699"],
            "teryt_gmina": ["1201999", "2602092"],
        }
    )
    messages = check_frame(frame).query("rule == 'teryt_unknown'")["message"].tolist()
    assert messages == [
        "powiat code '1299' is not in TERYT (state 2020-01-01): voivodeship 12 małopolskie "
        "has no powiat 1299; if the data use the codes of another date, check them against "
        "that date's TERC file",
        "gmina code '1201999' is not in TERYT (state 2020-01-01): powiat 1201 bocheński has "
        "no gmina 1201999; if the data use the codes of another date, check them against "
        "that date's TERC file",
        "powiat code '2699' is not in TERYT (state 2024-01-01): voivodeship 26 świętokrzyskie "
        "has no powiat 2699; if the data use the codes of another date, check them against "
        "that date's TERC file",
        "gmina code '2602092' is not in TERYT (state 2024-01-01): gmina 2602093 Wodzisław "
        "(miejsko-wiejska) has the same number with another kind digit (RODZ); a code of "
        "another date, or a mistyped last digit",
    ]
    # a study's own TERC file: its date is named, and its codes are the valid ones
    own = tmp_path / "TERC_Urzedowy_2020-01-01.csv"
    own.write_text(TERC_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    problems = check_frame(frame, terc=own).query("rule == 'teryt_unknown'")
    assert problems["row"].tolist() == [2, 2, 3]  # 2602092 is valid on 2020-01-01
    assert problems["message"].str.contains(r"\(state 2020-01-01\)").all()


def test_a_district_or_part_is_not_a_gmina():
    assert regions.teryt_problem("1465058", "gmina") == (
        "gmina code '1465058' is not a gmina in TERYT (state 2020-01-01): it is Mokotów "
        "(dzielnica, RODZ 8), part of gmina 1465011 Warszawa; give the gmina's code"
    )
    assert regions.teryt_problem("1261029", "gmina").startswith(
        "gmina code '1261029' is not a gmina in TERYT (state 2020-01-01): it is "
        "Kraków-Krowodrza (delegatura, RODZ 9), part of gmina 1261011 Kraków"
    )
    assert "it is Nowogrodziec (miasto, RODZ 4), part of gmina 0201043" in (
        regions.teryt_problem("0201044", "gmina")
    )
    assert regions.teryt_problem("26010", "gmina") == (
        "gmina code '26010' is not 7 digits (TERYT gmina code)"
    )


# ----------------------------------------------------------- a study's TERC
HEADER = "WOJ;POW;GMI;RODZ;NAZWA;NAZWA_DOD;STAN_NA\n"
SMALL = (
    "26;;;;ŚWIĘTOKRZYSKIE;województwo;{d}\n"
    "26;01;;;buski;powiat;{d}\n"
    "26;01;01;3;Busko-Zdrój;gmina miejsko-wiejska;{d}\n"
    "26;01;01;4;Busko-Zdrój;miasto;{d}\n"
    "26;61;;;Kielce;miasto na prawach powiatu;{d}\n"
    "26;61;01;1;Kielce;gmina miejska;{d}\n"
)


def write(tmp_path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_load_terc_of_another_date(tmp_path):
    path = write(tmp_path, "TERC_2025-01-01.csv", "\ufeff" + HEADER + SMALL.format(d="2025-01-01"))
    terc = regions.load_terc(path)
    assert (terc.date, terc.source) == ("2025-01-01", str(path))
    assert regions.load_terc(path) is terc  # parsed once
    assert regions.powiats("26", terc=terc)["teryt"].tolist() == ["2601", "2661"]
    assert regions.powiats("26", terc=path)["population_2021"].tolist() == [69_548, 186_894]
    assert regions.gminas("26", terc=terc)["teryt"].tolist() == ["2601013", "2661011"]
    assert regions.teryt_problem("1201", "powiat", terc) == (
        "powiat code '1201' is not in TERYT (state 2025-01-01): "
        f"{path} covers voivodeship(s) 26 only"
    )
    # without STAN_NA, the date comes from the file name
    no_column = HEADER.replace(";STAN_NA", "") + SMALL.format(d="").replace(";\n", "\n")
    assert regions.load_terc(write(tmp_path, "TERC_2023-01-01.csv", no_column)).date == (
        "2023-01-01"
    )


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("TERC.csv", HEADER.replace(";STAN_NA", "") + "26;;;;X;województwo\n26;01;;;a;powiat\n",
         r"TERC.csv: the reference date is unknown .* rename the file TERC_YYYY-MM-DD.csv"),
        ("TERC_2024-01-01.csv", HEADER + SMALL.format(d="2023-01-01"),
         r"the file name says 2024-01-01 but column 'STAN_NA' says 2023-01-01"),
        ("TERC_2024-01-01.csv", "WOJ,POW,GMI,RODZ,NAZWA,NAZWA_DOD\n",
         r"row 1: column\(s\) \['WOJ', 'POW', .* missing; a TERC file has the header"),
        ("t.csv", HEADER + "26;;;;X;województwo;2024-01-01\n26;1;;;buski;powiat;2024-01-01\n",
         r"t.csv, row 3, column 'POW': '1'; expected 2 digits"),
        ("t.csv", HEADER + SMALL.format(d="2024-01-01").replace("01;3;", "01;7;"),
         r"row 4, column 'RODZ': '7'; expected one of 1, 2, 3, 4, 5, 8, 9 or empty"),
        ("t.csv", HEADER + SMALL.format(d="2024-01-01").replace("powiat;", "gmina;", 1),
         r"row 3, column 'NAZWA_DOD': 'gmina'; expected 'powiat' or 'miasto na prawach"),
        ("t.csv", HEADER + SMALL.format(d="2024-01-01") + "26;01;;;buski;powiat;2024-01-01\n",
         r"row 8: unit '2601' \(buski\) repeats row 3"),
        ("t.csv", HEADER + "26;01;;;buski;powiat;2024-01-01\n",
         r"row 2: unit '2601' \(buski\) comes before \(or without\) its voivodeship '26'"),
        ("t.csv", HEADER + SMALL.format(d="1.01.2024"),
         r"row 2, column 'STAN_NA': '1.01.2024'; expected a date YYYY-MM-DD"),
        ("t.csv", HEADER + "26;;;;X;województwo;2024-01-01;extra\n",
         r"row 2: 8 fields, expected 7"),
    ],
)  # fmt: skip
def test_bad_terc_files(tmp_path, name, text, match):
    with pytest.raises(DataError, match=match):
        regions.load_terc(write(tmp_path, name, text))


def test_terc_file_missing_or_not_utf8(tmp_path):
    with pytest.raises(DataError, match=r"TERC_2024-01-01.csv: TERC file not found"):
        regions.load_terc(tmp_path / "TERC_2024-01-01.csv")
    with pytest.raises(DataError, match=r"cannot be read \(Is a directory\); give a TERC .csv"):
        regions.load_terc(tmp_path)
    path = write(tmp_path, "TERC_2024-01-01.csv", HEADER + SMALL.format(d="2024-01-01"), "cp1250")
    with pytest.raises(DataError, match=r"not UTF-8 text \(byte \d+\); save the TERC file as"):
        regions.load_terc(path)


# ------------------------------------------------------------ detailed tables
def detail_folder(tmp_path, monkeypatch, powiats: str | None = None, gminas: str | None = None):
    """A copy of the detailed tables of 26, with the given text in place of one of them."""
    for part, text in (("powiats", powiats), ("gminas", gminas)):
        name = f"26_swietokrzyskie_{part}.csv"
        original = (DETAIL / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(original if text is None else text, encoding="utf-8")
    monkeypatch.setattr(regions, "_folder", lambda: tmp_path)


POWIATS_26 = (DETAIL / "26_swietokrzyskie_powiats.csv").read_text(encoding="utf-8")
GMINAS_26 = (DETAIL / "26_swietokrzyskie_gminas.csv").read_text(encoding="utf-8")


def test_a_detailed_table_for_another_voivodeship(tmp_path, monkeypatch):
    detail_folder(tmp_path, monkeypatch)
    codes = regions.powiats("12")["teryt"].tolist()
    rows = [f"{c},{1000 + i}" for i, c in enumerate(codes)]
    (tmp_path / "12_malopolskie_powiats.csv").write_text(
        "teryt,population_2021\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    assert regions.available_regions() == ["12", "26"]
    p = regions.powiats("12")
    assert p["population_2021"].dtype == "int64" and p["population_2021"].iloc[0] == 1000
    assert p["tile_row"].isna().all()
    assert len(regions.gminas("12")) == 182


@pytest.mark.parametrize(
    ("powiats", "gminas", "match"),
    [
        (POWIATS_26.replace("teryt,", "code,", 1), None,
         r"26_swietokrzyskie_powiats.csv: required column 'teryt' missing"),
        (POWIATS_26.replace("2601,", "261,", 1), None,
         r"powiats.csv, row 2, column 'teryt': '261'; expected a powiat code of TERYT \(state "
         r"2020-01-01\)"),
        (POWIATS_26.replace(",powiat,", ",gmina,", 1), None,
         r"row 2, column 'kind': 'gmina'; expected 'powiat' for 2601 \(TERYT 2020-01-01\)"),
        (POWIATS_26.replace("2602,jędrzejowski", "2601,jędrzejowski"), None,
         r"row 3, column 'teryt': duplicate code '2601'"),
        ("\n".join(POWIATS_26.splitlines()[:-1]) + "\n", None,
         r"powiat\(s\) \['2661'\] missing; a detailed table lists every powiat"),
        (POWIATS_26.replace("TBU,2,3", "TBU,2,1"), None,
         r"column 'tile_row'/'tile_col': two powiats share a tile"),
        (POWIATS_26.replace("69548", "69 548"), None,
         r"row 2, column 'population_2021': '69 548'; expected a whole number"),
        (POWIATS_26.replace("PL722,sandomiersko-jędrzejowski", "PL722,kielecki", 1), None,
         r"row 2, column 'subregion': 'kielecki'; expected 'sandomiersko-jędrzejowski'"),
        (None, GMINAS_26.replace("2601013,", "26010133,"),
         r"gminas.csv, row 2, column 'teryt': '26010133'; expected 7 digits"),
        (None, GMINAS_26.replace("2601013,Busko-Zdrój,miejsko-wiejska", "2601013,B,miejska"),
         r"row 2, column 'kind': 'miejska'; expected 'miejsko-wiejska' for RODZ digit '3'"),
        (None, GMINAS_26.replace("miejsko-wiejska,2601,", "miejsko-wiejska,2602,", 1),
         r"row 2, column 'powiat': '2602'; expected '2601'"),
        (None, GMINAS_26.replace("2024-01-01", "2023-01-01", 1),
         r"row 3, column 'stan_na': '2024-01-01'; expected one date YYYY-MM-DD for all rows"),
        (None, GMINAS_26.replace("2024-01-01", "2020-01-01"),
         r"row 18, column 'teryt': '2602093'; expected a gmina code of TERYT \(state 2020"),
        (None, "\n".join(GMINAS_26.splitlines()[:-1]) + "\n",
         r"gminas.csv: no gmina in powiat\(s\) \['2661'\]; list every gmina of 26"),
    ],
)  # fmt: skip
def test_bad_detailed_tables(tmp_path, monkeypatch, powiats, gminas, match):
    detail_folder(tmp_path, monkeypatch, powiats, gminas)
    with pytest.raises(DataError, match=match):
        regions.powiats("26")
        regions.gminas("26")


def test_bundled_files_are_package_data():
    """What the wheel ships: pyproject's package-data globs cover data/reference/*."""
    expected = {
        "TERC_2020-01-01.csv",
        "powiat_subregions_nuts2016.csv",
        "nuts3_2016.csv",
        "powiaty-min.geojson",
        "wojewodztwa-min.geojson",
        "LICENSE-powiat_subregions",
        "LICENSE-geojson",
        "NOTICE.md",
    }
    assert {p.name for p in REFERENCE.iterdir()} == expected
    notice = (REFERENCE / "NOTICE.md").read_text(encoding="utf-8")
    for name in expected - {"NOTICE.md"}:
        assert f"`{name}`" in notice
    assert notice.count("MIT") >= 2
