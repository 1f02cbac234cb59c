import pandas as pd
import pytest

from es_survey import regions
from es_survey.errors import DesignError

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


def test_available_regions():
    assert regions.available_regions() == ["26"]


def test_powiat_table_shape_and_types():
    p = regions.powiats()
    assert len(p) == 14
    for col in [
        "teryt",
        "name",
        "kind",
        "nuts3",
        "subregion",
        "population_2021",
        "tile_row",
        "tile_col",
    ]:
        assert col in p.columns
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
    pd.testing.assert_frame_equal(regions.gminas("swietokrzyskie"), regions.gminas())


def test_unknown_region_names_available_ones():
    with pytest.raises(DesignError, match=r"region='14' is not available; available regions: 26"):
        regions.powiats("14")
    with pytest.raises(DesignError, match=r"region='mazowieckie' is not available"):
        regions.gminas("mazowieckie")


POWIAT_HEAD = "teryt,name,kind,nuts3,subregion,population_2021,tile_row,tile_col\n"
GMINA_HEAD = "teryt,name,kind,powiat\n"
GOOD_POWIATS = POWIAT_HEAD + (
    "9901,alfa,powiat,PL999,test,1000,0,0\n9961,Beta,miasto na prawach powiatu,PL999,test,500,0,1\n"
)
GOOD_GMINAS = GMINA_HEAD + "9901012,Alfa,wiejska,9901\n9961011,Beta,miejska,9961\n"


def region_folder(tmp_path, monkeypatch, powiat_text, gmina_text):
    (tmp_path / "99_testowe_powiats.csv").write_text(powiat_text, encoding="utf-8")
    (tmp_path / "99_testowe_gminas.csv").write_text(gmina_text, encoding="utf-8")
    monkeypatch.setattr(regions, "_folder", lambda: tmp_path)


def test_added_region_is_found(tmp_path, monkeypatch):
    region_folder(tmp_path, monkeypatch, GOOD_POWIATS, GOOD_GMINAS)
    assert regions.available_regions() == ["99"]
    assert regions.powiats("99")["teryt"].tolist() == ["9901", "9961"]
    assert regions.gminas("testowe")["powiat"].tolist() == ["9901", "9961"]


@pytest.mark.parametrize(
    ("powiat_text", "gmina_text", "match"),
    [
        (
            "teryt,name,kind\n9901,alfa,powiat\n",
            GOOD_GMINAS,
            r"99_testowe_powiats.csv: required column\(s\) \['nuts3', 'subregion'",
        ),
        (
            POWIAT_HEAD + "991,alfa,powiat,PL999,test,1000,0,0\n",
            GOOD_GMINAS,
            r"99_testowe_powiats.csv, row 2, column 'teryt': '991' is not 4 digits",
        ),
        (
            POWIAT_HEAD + "9901,alfa,gmina,PL999,test,1000,0,0\n",
            GOOD_GMINAS,
            r"row 2, column 'kind': 'gmina'; expected one of",
        ),
        (
            GOOD_POWIATS + "9901,alfa,powiat,PL999,test,1000,1,1\n",
            GOOD_GMINAS,
            r"99_testowe_powiats.csv, row 4, column 'teryt': duplicate code '9901'",
        ),
        (
            POWIAT_HEAD + "9901,a,powiat,PL9,t,1,0,0\n9902,b,powiat,PL9,t,1,0,0\n",
            GOOD_GMINAS,
            r"column 'tile_row'/'tile_col': two powiats share a tile",
        ),
        (
            GOOD_POWIATS,
            GMINA_HEAD + "99010122,Alfa,wiejska,9901\n",
            r"99_testowe_gminas.csv, row 2, column 'teryt': '99010122' is not 7 digits",
        ),
        (
            GOOD_POWIATS,
            GMINA_HEAD + "9902012,Alfa,wiejska,9902\n",
            r"99_testowe_gminas.csv, row 2, column 'powiat': '9902' is not its powiat",
        ),
        (
            GOOD_POWIATS,
            GMINA_HEAD + "9901012,Alfa,miejska,9901\n",
            r"column 'kind': 'miejska' does not match RODZ digit '2'",
        ),
    ],
)
def test_bad_region_files_raise(tmp_path, monkeypatch, powiat_text, gmina_text, match):
    from es_survey.errors import DataError

    region_folder(tmp_path, monkeypatch, powiat_text, gmina_text)
    with pytest.raises(DataError, match=match):
        regions.gminas("99")
