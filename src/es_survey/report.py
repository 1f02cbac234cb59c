"""The report of a study: one self-contained HTML page, a workbook, a CSV and figures.

:func:`write_report` turns the :class:`~es_survey.study.StudyResults` of
:func:`~es_survey.study.run_study` into the folder an analyst hands to the region::

    <out_dir>/index.html      one file: text, tables and figures (inline, no external
                              CSS, scripts, fonts or images), printable on A4
    <out_dir>/tables.xlsx     one sheet per table, numbers as numbers with number
                              formats, frozen header row, a ``metadata`` sheet
    <out_dir>/estimates.csv   every estimate row in tidy long form, full precision
    <out_dir>/figures/*.png   the figures (and the same as *.svg)

All texts are in the study's language (``config.language``, ``"pl"`` or
``"en"``). Numbers are formatted by :mod:`es_survey.tables` (Polish: decimal comma,
U+202F between thousands). Reliability flags follow ``config.thresholds``; a
suppressed estimate shows no number anywhere — not in the HTML tables (the cell
holds ``x``), not in the workbook (the cell is empty and the flag says why), not
in the CSV (empty fields, ``reliability = suppressed``) and not in the figures.

The same results give byte-identical files: nothing depends on the clock (the
date is the study's), figures are saved by :func:`~es_survey.charts.save_figures`
and the workbook by :func:`~es_survey.io.save_workbook` with the study date as its
timestamp.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import multiprocessing
import os
import re
import sys
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from es_survey.charts import (
    plot_by_category,
    plot_direct_vs_model,
    plot_funnel,
    plot_powiat_intervals,
    plot_powiat_tiles,
    plot_response_rates,
    plot_sensitivity,
    plot_weights,
    save_figures,
)
from es_survey.dispositions import response_rates
from es_survey.errors import DataError, DesignError
from es_survey.io import save_workbook
from es_survey.maps import plot_powiat_map
from es_survey.plan import NextWave, plan_next_wave
from es_survey.regions import available_regions, voivodeships
from es_survey.rules import load_rules
from es_survey.safety import check_outputs, inside, slug, write_csv
from es_survey.study import StudyConfig, StudyResults
from es_survey.tables import (
    RELIABILITY_LABELS,
    STAGE_LABELS,
    Lang,
    exact_decimals,
    format_number,
    format_percent,
    polish_plural,
    publication_table,
    reliability,
    reliability_footnote,
    reliability_frame,
)
from es_survey.validate import RULE_LABELS
from es_survey.weighting import weights_summary

__all__ = [
    "PLAN_FILES",
    "REPORT_FILES",
    "check_report_folder",
    "headline_text",
    "write_plan",
    "write_report",
]

MARKER = "."  # Statistics Poland's sign: no data or not published
_POWIAT_DOMAINS = ("powiat_name", "teryt_powiat")

_TEXT: dict[str, dict[str, str]] = {
    "pl": {
        "contents": "Spis treści",
        "summary": "Podsumowanie",
        "methodology": "Metodologia",
        "funnel": "Lejek sektora",
        "by": "Wyniki według {domain}",
        "validation": "Kontrola danych i spójność odpowiedzi",
        "metadata": "Metadane",
        "report_of": "Raport z badania {year}. Źródło: {source}. Data raportu: {date}.",
        "interval": "{level} przedział ufności",
        "headline_table": "Główne szacunki",
        "quantity": "Wielkość",
        "frame": (
            "Operat losowania (rejestr) liczy {N} {N_noun} w {H} {H_noun}. "
            "Wylosowano {n} {n_noun} (losowanie warstwowe bez zwracania); "
            "otrzymano {responses} {responses_noun}, z których {linked} "
            "połączono z operatem ({unmatched} nie znaleziono w operacie)."
        ),
        "dispositions": "Wyniki realizacji próby (kody wyniku AAPOR)",
        "disposition": "Wynik realizacji",
        "count": "Liczba",
        "rates_text": (
            "Wskaźniki odpowiedzi AAPOR (Standard Definitions 2023) dla całej próby: "
            "RR1 = {rr1}, RR3 = {rr3} (RR3 przyjmuje, że spośród podmiotów o nieznanej "
            "kwalifikowalności kwalifikuje się odsetek e = {e}, taki jak wśród podmiotów "
            "o ustalonym statusie)."
        ),
        "rates_table": "Wskaźniki odpowiedzi według warstw",
        "stratum": "Warstwa",
        "total_row": "ogółem",
        "weighting": "Ważenie",
        "w_design": (
            "Wagi schematu: w warstwie h każdy wylosowany podmiot reprezentuje "
            "N_h/n_h podmiotów operatu."
        ),
        "w_twophase": (
            "Dobadanie: spośród {unknown} wylosowanych podmiotów, których status po "
            "badaniu terenowym pozostał nieznany (odmowa, brak kontaktu, nieustalona "
            "kwalifikowalność), wylosowano — w każdej warstwie osobno — {followed} ({share}) "
            "i ustalono "
            "ich status kwerendą w rejestrach KRS i REGON, sprawozdaniach i stronach "
            "internetowych. Szacunki pochodzą ze schematu dwufazowego: w warstwie h i grupie "
            "g (status znany lub nieznany) waga wynosi N_h/n_h · n_g/m_g, gdzie m_g to "
            "podmioty grupy o ustalonym statusie; wariancja ma składnik obu faz (jak funkcja "
            "twophase pakietu R survey). Dobadanie zastępuje korektę braku odpowiedzi: nie "
            "zakłada, że podmioty, które nie odpowiedziały, są podobne do tych, które "
            "odpowiedziały."
        ),
        "w_twophase_cal": (
            "Kalibracji do liczebności operatu nie stosuje się w schemacie dwufazowym (ta "
            "możliwość nie jest jeszcze dostępna); liczby podmiotów w rejestrze i tak "
            "pochodzą z operatu."
        ),
        "w_twophase_caution": (
            "Przy niewielkim dobadaniu przedział ufności sumy skupionej w kilku dużych "
            "podmiotach, takiej jak liczba pracujących, bywa zbyt wąski, a prawdziwa "
            "wartość leży wtedy zwykle powyżej przedziału: w symulacjach na syntetycznym "
            "województwie z dobadaniem 30% podmiotów o nieznanym statusie 95-procentowy "
            "przedział liczby pracujących obejmował prawdziwą wartość w 85% prób (liczby "
            "podmiotów aktywnych — w 96%)."
        ),
        "w_twophase_p2cal": (
            "Wagi drugiej fazy skalibrowano (metoda liniowa) tak, by podmioty o ustalonym "
            "statusie odtwarzały liczebności wszystkich wylosowanych podmiotów w grupach g "
            "oraz według zmiennych: {variables} (jak funkcja calibrate pakietu R survey z "
            "argumentem phase = 2). Jeśli wśród dobadanych przypadkiem było mniej podmiotów "
            "danego rodzaju, niż wynika z ich liczby wśród wylosowanych, ich wagi rosną; "
            "błędy standardowe drugiej fazy liczone są z reszt tej kalibracji."
        ),
        "followup_table": "Dobadanie podmiotów o nieznanym statusie, według warstw",
        "followup_found": "dobadanie: {what}",
        "followup_cols": (
            "Warstwa|Status nieznany|Dobadane|Aktywne|Nieaktywne|Zaprzestały działalności"
            "|W likwidacji|Nie ustalono"
        ),
        "headline_twophase": (
            "Szacunki uwzględniają dobadanie losowej części podmiotów, które nie "
            "odpowiedziały (schemat dwufazowy)."
        ),
        "weights_twophase": "wagi dwufazowe (z dobadaniem)",
        "w_nr_by": (
            "Korekta braku odpowiedzi w klasach: {by} (wagi respondentów w klasie "
            "powiększone o udział nierespondentów)."
        ),
        "w_nr_model": (
            "Korekta braku odpowiedzi w {k} klasach skłonności do odpowiedzi, oszacowanej "
            "ważoną regresją logistyczną ze zmiennymi z rejestru: {covariates}; w każdej "
            "klasie wagi respondentów przejmują udział nierespondentów."
        ),
        "representativity": (
            "Reprezentatywność odpowiedzi względem rejestru: wskaźnik R = {r} (1 oznacza "
            "odpowiedzi niezależne od cech z rejestru), współczynnik zmienności skłonności "
            "do odpowiedzi CV = {cv}, przy średniej skłonności {mean} (model logistyczny na "
            "zmiennych: {covariates}). Wskaźniki te nie widzą zależności odpowiedzi od samej "
            "odpowiedzi — stąd analiza wrażliwości w części „Lejek sektora”."
        ),
        "sensitivity": "Wrażliwość na brak odpowiedzi",
        "ineligible_col": "Nieuprawnione",
        "sens_text": (
            "Gdyby podmioty, które nie odpowiedziały, były aktywne δ razy tak często jak "
            "podobne podmioty, które odpowiedziały, aktywnych byłoby od {est0} (δ = {d0}; "
            "przedział ufności {lo0}–{hi0}) do {est1} (δ = 1, szacunek główny; {lo1}–{hi1})."
        ),
        "sens_table": "Szacunki przy różnych założeniach o podmiotach, które nie odpowiedziały",
        "sens_text_followup": (
            "Bez dobadania szacunek zależałby od założenia o podmiotach, które nie "
            "odpowiedziały: gdyby były aktywne δ razy tak często jak podobne podmioty, "
            "które odpowiedziały, aktywnych byłoby od {est0} (δ = {d0}) do {est1} (δ = 1). "
            "Dobadanie losowej części z nich daje {est2} ({lo2}–{hi2}), co odpowiada "
            "δ ≈ {dstar}."
        ),
        "sens_reference": "z dobadaniem (schemat dwufazowy)",
        "sens_delta": "δ",
        "fig_sensitivity": "Aktywne podmioty przy różnych założeniach o nierespondentach",
        "sens_axis": "δ: częstość wśród nierespondentów względem podobnych respondentów",
        "sens_depends": (
            "Wynik zależy od założenia o podmiotach, które nie odpowiedziały: gdyby były "
            "aktywne {how} niż podobne podmioty, które odpowiedziały, aktywnych byłoby "
            "{est} ({lo}–{hi})."
        ),
        "sens_half": "dwa razy rzadziej",
        "sens_less": "rzadziej (δ = {d})",
        "w_nr_other": "Korekta braku odpowiedzi: {args}.",
        "w_cal": (
            "Kalibracja wag do liczebności podmiotów w operacie według: {margins} "
            "(metoda: {method}); błędy standardowe uwzględniają kalibrację (reszty "
            "regresji, jak w pakiecie R survey)."
        ),
        "cal_methods": "iteracyjne dopasowanie do rozkładów brzegowych|liniowa|logitowa",
        "w_register": (
            "Liczby podmiotów w rejestrze pochodzą z operatu losowania i są dokładne (w "
            "tabelach: „z rejestru”, bez przedziału ufności). Szacunki w przekrojach to "
            "udział podmiotów danego etapu wśród zarejestrowanych, oszacowany w przekroju, "
            "pomnożony przez liczbę podmiotów przekroju w rejestrze (estymator ilorazowy), "
            "więc żaden szacunek nie przekracza liczby podmiotów w rejestrze."
        ),
        "w_inel": (
            "Podmioty nieuprawnione ustalone w badaniu terenowym traktowane są "
            "jak jednostki o znanym statusie: {value}."
        ),
        "inel_observed": "liczą się jako podmioty nieaktywne, nie jak brak odpowiedzi",
        "inel_keep": "zachowują wagi, a klasy korekty obejmują tylko podmioty uprawnione",
        "inel_drop": "wypadają z korekty",
        "w_summary": (
            "Rozkład wag respondentów przed korektą i po niej; efekt schematu Kisha "
            "deff = n\u00b7\u03a3w\u00b2/(\u03a3w)\u00b2 mierzy utratę precyzji "
            "wskutek nierównych wag."
        ),
        "weights_before": "wagi schematu N_h/n_h",
        "weights_after": "po korekcie braku odpowiedzi",
        "weights_after_cal": "po korekcie braku odpowiedzi i kalibracji",
        "variance": "Estymacja wariancji",
        "variance_text": (
            "Błędy standardowe metodą linearyzacji (rozwinięcie Taylora) dla losowania "
            "warstwowego prostego bez zwracania, z poprawką na skończoność populacji "
            "(1 \u2212 n_h/N_h) w każdej warstwie. Przedziały ufności z rozkładu t "
            "Studenta o liczbie stopni swobody schematu: liczba jednostek minus liczba "
            "warstw = {df}. Szacunki w domenach (typ podmiotu, podregion, powiat) "
            "wykorzystują całą próbę."
        ),
        "reliability": "Precyzja szacunków",
        "funnel_text": (
            "Lejek pokazuje, ile podmiotów z rejestru kwalifikuje się do badania, ile "
            "jest aktywnych, ile prowadzi działalność zarobkową i ile zatrudnia na "
            "umowę o pracę."
        ),
        "stage": "Etap",
        "variable": "Zmienna",
        "funnel_table": "Lejek sektora: szacowana liczba podmiotów",
        "funnel_by_table": "Lejek sektora według {domain}",
        "totals_by_table": "Sumy wśród aktywnych podmiotów według {domain}",
        "totals_table": "Sumy wśród aktywnych podmiotów",
        "problems": "Problemy wykryte przy wczytywaniu i walidacji, według reguły",
        "rule": "Reguła",
        "severity": "Waga problemu",
        "no_problems": "Nie wykryto problemów.",
        "consistency": "Niespójności w odpowiedziach i decyzje klasyfikacji",
        "consistency_counts": "Niespójności według kontroli",
        "check": "Kontrola",
        "regon": "REGON",
        "source_row": "Wiersz",
        "variables": "Zmienne",
        "values": "Wartości",
        "decision": "Decyzja",
        "no_consistency": "Nie wykryto niespójności.",
        "key": "Klucz",
        "value": "Wartość",
        "cross_table": (
            "Podmioty ekonomii społecznej według {domain}: liczba w rejestrze i szacunki"
        ),
        "cross_intervals": "Przedziały ufności {level} szacunków z tablicy powyżej",
        "cross_total": "Ogółem",
        "cross_registered": "Zarejestrowane (rejestr)",
        "cross_workers": "Osoby pracujące w aktywnych",
        "cross_caution": (
            "* — szacunek o niskiej precyzji (CV {lo}–{hi}), do użytku z ostrożnością."
        ),
        "cross_note": (
            "Znaki umowne: . — szacunek niepublikowany (CV powyżej {hi}, próba mniejsza niż "
            "{min_n} albo brak odpowiedzi); – — zjawisko nie wystąpiło. Liczby w rejestrze "
            "pochodzą z operatu i są dokładne. Pełne zestawienie (przedziały, CV, liczba "
            "podmiotów próby n, na których opiera się szacunek) zawiera skoroszyt tables.xlsx."
        ),
        "n_eff": "n efektywne",
        "indicators": "Wskaźniki sektora",
        "ci_head": "Przedział ufności {level}",
        "indicators_table": "Wskaźniki sektora ekonomii społecznej w województwie",
        "indicators_by": "Wskaźniki według {domain}",
        "indicator": "Wskaźnik",
        "unit": "Jednostka",
        "indicators_text": (
            "Sumy dotyczą aktywnych podmiotów (o ile nie zaznaczono inaczej) i uwzględniają "
            "braki odpowiedzi na pytanie tak jak lejek; udziały i średnie liczone są wśród "
            "podmiotów, które odpowiedziały na dane pytanie, a przedziały ufności udziałów "
            "— na skali logitowej, więc nie wychodzą poza 0–100%."
        ),
        "method_sheet": "Metodologia",
        "section": "Część",
        "text": "Opis",
        "w_min": "min.",
        "w_max": "maks.",
        "w_mean": "średnia",
        "meta_version": "Wersja es_survey",
        "meta_config": "Plik konfiguracji",
        "meta_seed": "Ziarno generatora liczb losowych",
        "meta_date": "Data raportu",
        "meta_sha": "Skrót SHA-256 pliku {file}",
        "language_name": "polski",
        "fig_funnel": "Lejek sektora",
        "fig_active_by": "Aktywne podmioty według {domain}",
        "fig_total_by": "{variable} według {domain}",
        "fig_tiles": "{what} według powiatów",
        "model_note": " (model małych obszarów)",
        "sae_table": "Aktywne podmioty według powiatów: model małych obszarów (Faya–Herriota)",
        "sae_table_total": "{what} według powiatów: model małych obszarów (Faya–Herriota)",
        "fig_direct_vs_model": "{what}: szacunek bezpośredni a szacunek z modelu",
        "sae_axis_share": "Udział w rejestrze",
        "sae_axis_mean": "Na podmiot w rejestrze",
        "sae_direct": ": szacunek bezpośredni",
        "sae_model": ": szacunek z modelu",
        "sae_scale_arcsin": "na skali arcus sinus pierwiastka z udziału w rejestrze",
        "sae_scale_log": "na skali logarytmu wartości na podmiot w rejestrze",
        "sae_note": (
            "{what}: model Faya–Herriota {scale}; zmienna objaśniająca z rejestru: "
            "{covariates}. Wariancja efektów powiatów σ²ᵤ = {sigma2}. Waga szacunku "
            "bezpośredniego (współczynnik γ) wynosi od {gmin} do {gmax}; największa "
            "reszta standaryzowana to {resid} ({area}). Błąd średniokwadratowy (RMSE) "
            "oszacowano bootstrapem parametrycznym ({replicates} powtórzeń); CV = RMSE / "
            "szacunek. {synthetic}"
        ),
        "sae_zero": (
            "σ²ᵤ oszacowano na 0: szacunki wszystkich powiatów pochodzą z samej regresji "
            "(szacunki syntetyczne), a ich niepewność — z oszacowania jej współczynników."
        ),
        "sae_synthetic": "Powiaty bez respondentów ({areas}) mają szacunek z samej regresji.",
        "sae_all_direct": "Każdy powiat ma respondentów.",
        "sae_zero_direct": (
            "Powiaty z zerowym szacunkiem bezpośrednim ({areas}) mają szacunek z samej "
            "regresji: model na skali logarytmu nie przyjmuje zera."
        ),
        "direct_estimate": "Szacunek bezpośredni",
        "fig_intervals": "{what} według powiatów (z przedziałami ufności)",
        "fig_weights": "Rozkład wag respondentów",
        "fig_rates": "Wskaźniki odpowiedzi według warstw",
        "active_entities": "Aktywne podmioty",
        "active_axis": "Liczba aktywnych podmiotów",
        "flag_suppressed": "szacunek niepublikowany: CV powyżej {hi} lub niemożliwy do obliczenia",
        "flag": "Uwagi",
        "footnote": "Objaśnienie",
        "title": "Tytuł",
        "year": "Rok badania",
        "source": "Źródło",
        "language": "Język",
        "level": "Poziom ufności",
        "thresholds": "Progi CV (dobra / akceptowalna / niska)",
        "domain": "Domena",
        "figure": "Rycina",
        "mostly_suppressed": (
            "{what}: w {k} z {m} {units} szacunek jest zbyt mało precyzyjny, by go "
            "opublikować (oznaczenie „.”); tabela i ryciny pokazują tylko pozostałe."
        ),
        "mostly_suppressed_no_map": (
            "{what}: w {k} z {m} {units} szacunek jest zbyt mało precyzyjny, by go "
            "opublikować (oznaczenie „.”); tabela pokazuje pozostałe, a mapy ani wykresu "
            "z tak nielicznymi wartościami nie rysujemy."
        ),
        "all_suppressed": (
            "{what}: w żadnym z {m} {units} szacunek nie jest dość precyzyjny, by go "
            "opublikować (oznaczenie „.”), więc nie rysujemy mapy ani wykresu."
        ),
    },
    "en": {
        "contents": "Contents",
        "summary": "Summary",
        "methodology": "Methodology",
        "funnel": "The sector funnel",
        "by": "Results by {domain}",
        "validation": "Data checks and consistency of answers",
        "metadata": "Metadata",
        "report_of": "Survey report {year}. Source: {source}. Report date: {date}.",
        "interval": "{level} confidence interval",
        "headline_table": "Headline estimates",
        "quantity": "Quantity",
        "frame": (
            "The sampling frame (register) lists {N} {N_noun} in {H} {H_noun}. "
            "{n} {n_noun} sampled (stratified sampling without replacement); "
            "{responses} {responses_noun} came back, {linked} of which were linked to "
            "the frame ({unmatched} not found in the frame)."
        ),
        "dispositions": "Final dispositions of the sample (AAPOR codes)",
        "disposition": "Disposition",
        "count": "Count",
        "rates_text": (
            "AAPOR response rates (Standard Definitions 2023) for the whole sample: "
            "RR1 = {rr1}, RR3 = {rr3} (RR3 assumes that a share e = {e} of the units of "
            "unknown eligibility is eligible, as among the units of known status)."
        ),
        "rates_table": "Response rates by stratum",
        "stratum": "Stratum",
        "total_row": "total",
        "weighting": "Weighting",
        "w_design": (
            "Design weights: in stratum h each sampled entity represents N_h/n_h "
            "entities of the frame."
        ),
        "w_twophase": (
            "Follow-up: of the {unknown} sampled entities whose status the fieldwork left "
            "unknown (refusal, non-contact, unknown eligibility), {followed} ({share}) were "
            "drawn, stratum by stratum, and their status established by desk research in the "
            "KRS and REGON registers, filings and websites. The estimates come from the "
            "two-phase design: in stratum h and group g (status known or unknown) the "
            "weight is N_h/n_h · n_g/m_g, with m_g the group's entities of established "
            "status; the variance has a term for each phase (as R survey's twophase). The "
            "follow-up replaces the nonresponse adjustment: it does not assume that the "
            "entities that did not answer are like those that did."
        ),
        "w_twophase_cal": (
            "Calibration to the frame's counts is not applied to the two-phase design (not "
            "available yet); the register's counts come from the frame anyway."
        ),
        "w_twophase_caution": (
            "With a small follow-up, the confidence interval of a total concentrated in a "
            "few large entities, such as the number of people working, can be too narrow, "
            "and the true value then usually lies above it: in simulations on the synthetic "
            "voivodeship with 30% of the entities of unknown status followed up, the 95% "
            "interval of the number of people working covered the true value in 85% of "
            "samples (of the number of active entities: 96%)."
        ),
        "w_twophase_p2cal": (
            "The phase-2 weights were calibrated (linear method) so that the entities of "
            "established status reproduce the counts of all sampled entities in the groups "
            "g and by: {variables} (as R survey's calibrate with phase = 2). If the "
            "follow-up happened to include fewer entities of a kind than their number in "
            "the sample implies, their weights rise; the phase-2 standard errors use the "
            "residuals of this calibration."
        ),
        "followup_table": "Follow-up of the entities of unknown status, by stratum",
        "followup_found": "follow-up: {what}",
        "followup_cols": (
            "Stratum|Status unknown|Followed up|Active|Inactive|Ceased|In liquidation"
            "|Not established"
        ),
        "headline_twophase": (
            "The estimates include a follow-up of a random part of the entities that did "
            "not answer (a two-phase design)."
        ),
        "weights_twophase": "two-phase weights (with the follow-up)",
        "w_nr_by": (
            "Nonresponse adjustment in weighting classes: {by} (respondents' weights "
            "in a class carry the nonrespondents' share)."
        ),
        "w_nr_model": (
            "Nonresponse adjustment in {k} classes of the response propensity estimated "
            "by a design-weighted logistic regression on register variables: {covariates}; "
            "within each class the respondents' weights carry the nonrespondents' share."
        ),
        "representativity": (
            "Representativeness of the response on the register: R-indicator = {r} (1: "
            "response independent of the register's variables), coefficient of variation "
            "of the response propensities CV = {cv}, mean propensity {mean} (logistic "
            "model on: {covariates}). These indicators cannot see a dependence of "
            "response on the answer itself — hence the sensitivity analysis in \u201cThe "
            "sector funnel\u201d."
        ),
        "sensitivity": "Sensitivity to nonresponse",
        "ineligible_col": "Ineligible",
        "sens_text": (
            "If entities that did not answer were δ times as likely to be active as similar "
            "entities that did, the number of active entities would range from {est0} "
            "(δ = {d0}; confidence interval {lo0}–{hi0}) to {est1} (δ = 1, the main "
            "estimate; {lo1}–{hi1})."
        ),
        "sens_table": "Estimates under different assumptions about the nonrespondents",
        "sens_text_followup": (
            "Without the follow-up the estimate would depend on an assumption about the "
            "entities that did not answer: were they δ times as likely to be active as "
            "similar entities that did, there would be from {est0} (δ = {d0}) to {est1} "
            "(δ = 1) active entities. The follow-up of a random part of them gives {est2} "
            "({lo2}–{hi2}), which corresponds to δ ≈ {dstar}."
        ),
        "sens_reference": "with the follow-up (two-phase design)",
        "sens_delta": "δ",
        "fig_sensitivity": "Active entities under different assumptions about nonrespondents",
        "sens_axis": "δ: how often among nonrespondents relative to similar respondents",
        "sens_depends": (
            "The result depends on an assumption about the entities that did not answer: "
            "were they active {how} similar entities that did, there would be {est} "
            "({lo}–{hi}) active entities."
        ),
        "sens_half": "half as often as",
        "sens_less": "less often (δ = {d}) than",
        "w_nr_other": "Nonresponse adjustment: {args}.",
        "w_cal": (
            "Calibration of the weights to the frame's counts of entities by: {margins} "
            "(method: {method}); the standard errors account for the calibration "
            "(regression residuals, as in R's survey package)."
        ),
        "w_register": (
            "Counts of registered entities come from the sampling frame and are exact "
            "(in the tables: “register count”, without an interval). Estimates by domain "
            "are the share of the stage among registered entities, estimated within the "
            "domain, times the domain's count in the register (a ratio estimator), so no "
            "estimate exceeds the register's count."
        ),
        "w_inel": ("Ineligible units found in the field count as units of known status: {value}."),
        "inel_observed": "they count as inactive entities, not as nonresponse",
        "inel_keep": "they keep their weights and the adjustment classes hold eligible units",
        "inel_drop": "they are left out of the adjustment",
        "cal_methods": "raking|linear|logit",
        "w_summary": (
            "Respondents' weights before and after the adjustment; Kish's design effect "
            "deff = n\u00b7\u03a3w\u00b2/(\u03a3w)\u00b2 measures the precision lost "
            "to unequal weights."
        ),
        "weights_before": "design weights N_h/n_h",
        "weights_after": "after nonresponse adjustment",
        "weights_after_cal": "after nonresponse adjustment and calibration",
        "variance": "Variance estimation",
        "variance_text": (
            "Standard errors by linearisation (Taylor series) for stratified simple "
            "random sampling without replacement, with the finite population "
            "correction (1 \u2212 n_h/N_h) in every stratum. Confidence intervals use "
            "Student's t with the design degrees of freedom: units minus strata = {df}. "
            "Domain estimates (entity type, subregion, powiat) use the whole sample."
        ),
        "reliability": "Reliability of the estimates",
        "funnel_text": (
            "The funnel shows how many registered entities are eligible, how many are "
            "active, how many earn income and how many employ staff on employment "
            "contracts."
        ),
        "stage": "Stage",
        "variable": "Variable",
        "funnel_table": "The sector funnel: estimated number of entities",
        "funnel_by_table": "The sector funnel by {domain}",
        "totals_by_table": "Totals among active entities by {domain}",
        "totals_table": "Totals among active entities",
        "problems": "Problems found while reading and validating, by rule",
        "rule": "Rule",
        "severity": "Severity",
        "no_problems": "No problems found.",
        "consistency": "Inconsistent answers and the classification decisions",
        "consistency_counts": "Inconsistencies by check",
        "check": "Check",
        "regon": "REGON",
        "source_row": "Row",
        "variables": "Variables",
        "values": "Values",
        "decision": "Decision",
        "no_consistency": "No inconsistencies found.",
        "key": "Key",
        "value": "Value",
        "cross_table": "Social-economy entities by {domain}: register counts and estimates",
        "cross_intervals": "{level} confidence intervals of the estimates above",
        "cross_total": "Total",
        "cross_registered": "Registered (register)",
        "cross_workers": "People working in active entities",
        "cross_caution": "* — low precision (CV {lo}–{hi}): use with caution.",
        "cross_note": (
            "Symbols: . — not published (CV above {hi}, sample smaller than {min_n} or no "
            "answers); – — magnitude zero. Register counts come from the frame and are "
            "exact. The full listing (intervals, CV, the number n of sampled units behind "
            "each estimate) is in the workbook tables.xlsx."
        ),
        "n_eff": "effective n",
        "indicators": "Indicators of the sector",
        "ci_head": "{level} confidence interval",
        "indicators_table": "Indicators of the social-economy sector in the region",
        "indicators_by": "Indicators by {domain}",
        "indicator": "Indicator",
        "unit": "Unit",
        "indicators_text": (
            "Totals are among active entities (unless stated) and treat a missing answer as "
            "the funnel does; shares and means are among the entities that answered the "
            "question, and the intervals of shares are on the logit scale, so they stay "
            "within 0–100%."
        ),
        "method_sheet": "Methodology",
        "section": "Part",
        "text": "Description",
        "w_min": "min",
        "w_max": "max",
        "w_mean": "mean",
        "meta_version": "es_survey version",
        "meta_config": "Config file",
        "meta_seed": "Random seed",
        "meta_date": "Report date",
        "meta_sha": "SHA-256 of {file}",
        "language_name": "English",
        "fig_funnel": "The sector funnel",
        "fig_active_by": "Active entities by {domain}",
        "fig_total_by": "{variable} by {domain}",
        "fig_tiles": "{what} by powiat",
        "model_note": " (small-area model)",
        "sae_table": "Active entities by powiat: small-area model (Fay–Herriot)",
        "sae_table_total": "{what} by powiat: small-area model (Fay–Herriot)",
        "fig_direct_vs_model": "{what}: direct and model estimates",
        "sae_axis_share": "Share of the register",
        "sae_axis_mean": "Per registered entity",
        "sae_direct": ": direct estimate",
        "sae_model": ": model estimate",
        "sae_scale_arcsin": "on the arcsine square-root scale of the share of the register",
        "sae_scale_log": "on the log scale of the value per registered entity",
        "sae_note": (
            "{what}: Fay–Herriot model {scale}; covariate from the register: {covariates}. "
            "Variance of the powiat effects σ²ᵤ = {sigma2}. The weight of the direct "
            "estimate (γ) ranges from {gmin} to {gmax}; the largest standardised residual "
            "is {resid} ({area}). The root mean squared error (RMSE) is a parametric "
            "bootstrap ({replicates} replicates); CV = RMSE / estimate. {synthetic}"
        ),
        "sae_zero": (
            "σ²ᵤ was estimated at 0: every powiat's estimate comes from the regression alone "
            "(synthetic estimates), and its uncertainty from the estimated coefficients."
        ),
        "sae_synthetic": "Powiats without respondents ({areas}) get the regression estimate.",
        "sae_all_direct": "Every powiat has respondents.",
        "sae_zero_direct": (
            "Powiats whose direct estimate is zero ({areas}) get the regression estimate: "
            "a model on the log scale cannot take a zero."
        ),
        "direct_estimate": "Direct estimate",
        "fig_intervals": "{what} by powiat (with confidence intervals)",
        "fig_weights": "Distribution of respondents' weights",
        "fig_rates": "Response rates by stratum",
        "active_entities": "Active entities",
        "active_axis": "Number of active entities",
        "flag_suppressed": "estimate suppressed: CV above {hi} or not computable",
        "flag": "Notes",
        "footnote": "Explanation",
        "title": "Title",
        "year": "Survey year",
        "source": "Source",
        "language": "Language",
        "level": "Confidence level",
        "thresholds": "CV limits (good / acceptable / caution)",
        "domain": "Domain",
        "figure": "Figure",
        "mostly_suppressed": (
            "{what}: in {k} of {m} {units} the estimate is too imprecise to publish "
            "(marked “.”); the table and figures show only the others."
        ),
        "mostly_suppressed_no_map": (
            "{what}: in {k} of {m} {units} the estimate is too imprecise to publish "
            "(marked “.”); the table shows the others, and no map or chart is drawn from "
            "so few values."
        ),
        "all_suppressed": (
            "{what}: in none of the {m} {units} is the estimate precise enough to publish "
            "(marked “.”), so no map or chart is drawn."
        ),
    },
}
_DOMAINS = {
    "pl": {
        "entity_type": "typ podmiotu",
        "subregion": "podregion",
        "powiat_name": "powiat",
        "teryt_powiat": "powiat",
        "stratum": "warstwa",
    },
    "en": {
        "entity_type": "entity type",
        "subregion": "subregion",
        "powiat_name": "powiat",
        "teryt_powiat": "powiat",
        "stratum": "stratum",
    },
}
_DOMAINS_GENITIVE = {  # "według" takes the genitive: "według typu podmiotu"
    "entity_type": "typu podmiotu",
    "subregion": "podregionu",
    "powiat_name": "powiatu",
    "teryt_powiat": "powiatu",
    "stratum": "warstwy",
}


_DOMAIN_UNITS = {  # "w 12 z 14 …" / "in 12 of 14 …": the domains, counted
    "pl": {
        "entity_type": "typów podmiotów",
        "subregion": "podregionów",
        "powiat_name": "powiatów",
        "teryt_powiat": "powiatów",
        "es_category": "kategorii",
    },
    "en": {
        "entity_type": "entity types",
        "subregion": "subregions",
        "powiat_name": "powiats",
        "teryt_powiat": "powiats",
        "es_category": "categories",
    },
}


def _domain_units(domain: str, lang: Lang) -> str:
    """Return the domains of a column as counted ("powiatów"), or a generic phrase."""
    if domain in _DOMAIN_UNITS[lang]:
        return _DOMAIN_UNITS[lang][domain]
    label = _domain_label(domain, lang)
    return f"grup zmiennej „{label}”" if lang == "pl" else f"groups of “{label}”"


def _no_map(flags: pd.DataFrame, domain: str) -> bool:
    """Whether a powiat map would be mostly empty: at least half its areas suppressed."""
    k, m = int(flags["suppressed"].sum()), len(flags)
    return m > 0 and (k == m or (domain in _POWIAT_DOMAINS and 2 * k >= m))


def _by_phrase(domain: str, lang: Lang) -> str:
    """Return what follows "według"/"by" in a heading: the domain in the right case."""
    if lang == "pl":
        if domain in _DOMAINS_GENITIVE:
            return _DOMAINS_GENITIVE[domain]
        return f"zmiennej „{_domain_label(domain, lang)}”"
    return _domain_label(domain, lang)


_STAGES = STAGE_LABELS
_VARIABLES = {
    "pl": {
        "workers": "Osoby pracujące (umowa o pracę lub cywilnoprawna)",
        "emp_uop": "Zatrudnieni na umowę o pracę",
        "emp_civil": "Osoby na umowach cywilnoprawnych",
    },
    "en": {
        "workers": "People working (employment or civil-law contract)",
        "emp_uop": "Employees on employment contracts",
        "emp_civil": "Persons on civil-law contracts",
    },
}
_ENTITY_TYPES = {
    "pl": {
        "STOW": "stowarzyszenie",
        "STOW_ZW": "stowarzyszenie zwykłe",
        "FUND": "fundacja",
        "OSP": "ochotnicza straż pożarna",
        "KGW": "koło gospodyń wiejskich",
        "KOSC": "kościelna osoba prawna",
        "SPOLKA_NP": "spółka non-profit",
        "SS": "spółdzielnia socjalna",
        "SP_PRACY": "spółdzielnia pracy",
        "SP_INW": "spółdzielnia inwalidów",
        "CIS": "centrum integracji społecznej",
        "KIS": "klub integracji społecznej",
        "ZAZ": "zakład aktywności zawodowej",
        "WTZ": "warsztat terapii zajęciowej",
    },
    "en": {
        "STOW": "association",
        "STOW_ZW": "ordinary association",
        "FUND": "foundation",
        "OSP": "volunteer fire brigade",
        "KGW": "rural women's club",
        "KOSC": "church legal person",
        "SPOLKA_NP": "non-profit company",
        "SS": "social cooperative",
        "SP_PRACY": "workers' cooperative",
        "SP_INW": "cooperative of disabled persons",
        "CIS": "social integration centre",
        "KIS": "social integration club",
        "ZAZ": "vocational activity establishment",
        "WTZ": "occupational therapy workshop",
    },
}
_DISPOSITIONS = {
    "pl": {
        "complete": "ankieta pełna (I)",
        "partial": "ankieta częściowa (P)",
        "refusal": "odmowa (R)",
        "non_contact": "brak kontaktu (NC)",
        "other": "inny powód (O)",
        "unknown_eligibility": "nieznana kwalifikowalność (U)",
        "ineligible": "nie kwalifikuje się",
        "not_sampled": "niewylosowany",
    },
    "en": {
        "complete": "complete (I)",
        "partial": "partial (P)",
        "refusal": "refusal (R)",
        "non_contact": "non-contact (NC)",
        "other": "other (O)",
        "unknown_eligibility": "unknown eligibility (U)",
        "ineligible": "ineligible",
        "not_sampled": "not sampled",
    },
}
_SEVERITY = {
    "pl": {"error": "błąd", "warning": "ostrzeżenie", "info": "informacja"},
    "en": {"error": "error", "warning": "warning", "info": "information"},
}
# Headers of the workbook and the CSV-like numeric columns.
_XLSX_HEADERS = {
    "pl": {
        "estimate": "Szacunek",
        "se": "Błąd standardowy",
        "lower": "Dolna granica",
        "upper": "Górna granica",
        "level": "Poziom ufności",
        "cv": "CV",
        "df": "Stopnie swobody",
        "n": "n",
        "reliability": "Precyzja",
    },
    "en": {
        "estimate": "Estimate",
        "se": "Standard error",
        "lower": "Lower limit",
        "upper": "Upper limit",
        "level": "Confidence level",
        "cv": "CV",
        "df": "Degrees of freedom",
        "n": "n",
        "reliability": "Reliability",
    },
}
_NUMBER_FORMATS = {
    "estimate": "#,##0.0",
    "se": "#,##0.0",
    "lower": "#,##0.0",
    "upper": "#,##0.0",
    "level": "0%",
    "cv": "0.0%",
    "df": "#,##0",
    "n": "#,##0",
    "count": "#,##0",
    "rate": "0.0%",
    "e": "0.000",
    "weight": "#,##0.000",
}
_RATE_COUNTS = ("I", "P", "R", "NC", "O", "U", "ineligible")
_RATES = ("RR1", "RR3")
_CSS = """
:root { color-scheme: light; }
body { font-family: "Noto Sans", "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: #222;
  background: #fff; max-width: 62rem; margin: 0 auto; padding: 1.5rem 2rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .3rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #0072B2; padding-bottom: .2rem;
  margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin-top: 1.5rem; }
p.meta, p.footnote, figcaption { font-size: .85rem; color: #444; }
nav ol { columns: 2; font-size: .9rem; }
a { color: #0b5394; }
.headline { border-left: 5px solid #0072B2; padding: .6rem 1rem; background: #f2f6fa;
  font-size: 1.1rem; }
table { border-collapse: collapse; margin: .4rem 0 .3rem; font-size: .85rem; }
caption { text-align: left; font-weight: bold; padding: .3rem 0; }
th, td { padding: .2rem .55rem; border-bottom: 1px solid #ddd; text-align: left;
  vertical-align: top; }
thead th { border-bottom: 2px solid #888; background: #f4f4f4; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.suppressed { text-align: center; color: #666; }
td.wrap { max-width: 22rem; overflow-wrap: anywhere; }
figure { margin: 1rem 0 1.5rem; break-inside: avoid; page-break-inside: avoid; }
figure img { max-width: 100%; height: auto; display: block; }
td.hash { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: .78rem; }
p.note { border-left: 3px solid #E69F00; padding-left: .6rem; }
@page {
  size: A4; margin: 14mm 14mm 18mm;
  @bottom-center { content: counter(page) " / " counter(pages); font-size: 9pt; color: #555; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav { display: none; }
  section { break-before: page; page-break-before: always; }
  section#summary { break-before: auto; page-break-before: auto; }
  .headline { background: none; }
  thead { display: table-header-group; }
  tr, figure { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
""".strip()


# ----------------------------------------------------------------- helpers
_SUBSCRIPT = re.compile(r"\b([A-Za-z])_([a-z])\b")


def _esc(value: object) -> str:
    """Escape text for HTML; a one-letter index (N_h, m_g) is set as a subscript."""
    return _SUBSCRIPT.sub(r"\1<sub>\2</sub>", html.escape(str(value), quote=True))


def _pct_text(t: float, lang: Lang) -> str:
    for d in (0, 1, 2):
        if abs(round(100 * t, d) - 100 * t) < 1e-9:
            return format_percent(t, decimals=d, lang=lang)
    return format_percent(t, decimals=2, lang=lang)


_T = TypeVar("_T")


_COUNTED: dict[str, dict[str, tuple[str, str, str]]] = {
    # noun forms after a count: Polish one / few (2-4, 22-24, ...) / many; English one / other
    "pl": {
        "N": ("podmiot", "podmioty", "podmiotów"),
        "H": ("warstwie", "warstwach", "warstwach"),  # locative: "w 8 warstwach"
        "n": ("podmiot", "podmioty", "podmiotów"),
        "responses": ("wypełnioną ankietę", "wypełnione ankiety", "wypełnionych ankiet"),
    },
    "en": {
        "N": ("entity", "entities", "entities"),
        "H": ("stratum", "strata", "strata"),
        "n": ("entity was", "entities were", "entities were"),
        "responses": ("questionnaire", "questionnaires", "questionnaires"),
    },
}


def _counted(what: str, count: int, lang: Lang) -> str:
    """Return the noun for ``count`` items of ``what`` in the grammatical number it needs."""
    one, few, many = _COUNTED[lang][what]
    if lang == "en":
        return one if count == 1 else many
    return polish_plural(count, one, few, many)


_COVARIATES: dict[str, dict[str, str]] = {
    "pl": {
        "statement_filed": "udział podmiotów, które złożyły sprawozdanie finansowe",
        "krs_economic": "udział podmiotów prowadzących działalność gospodarczą według KRS",
        "opp": "udział organizacji pożytku publicznego",
        "es_category=NGO": "udział organizacji pozarządowych (kategoria NGO)",
    },
    "en": {
        "statement_filed": "share of entities that filed a financial statement",
        "krs_economic": "share of entities with economic activity in the KRS",
        "opp": "share of public-benefit organisations",
        "es_category=NGO": "share of non-governmental organisations (NGO category)",
    },
}


_REGISTER_VARIABLES: dict[str, dict[str, str]] = {
    "pl": {
        "statement_filed": "złożone sprawozdanie finansowe",
        "krs_economic": "działalność gospodarcza w KRS",
        "year_registered": "rok rejestracji",
        "opp": "status organizacji pożytku publicznego",
        "es_category": "kategoria ekonomii społecznej",
        "subregion": "podregion",
        "entity_type": "typ podmiotu",
        "powiat_name": "powiat",
        "stratum": "warstwa",
    },
    "en": {
        "statement_filed": "financial statement filed",
        "krs_economic": "economic activity in the KRS",
        "year_registered": "year of registration",
        "opp": "public-benefit status",
        "es_category": "social-economy category",
        "subregion": "subregion",
        "entity_type": "entity type",
        "powiat_name": "powiat",
        "stratum": "stratum",
    },
}


def _register_label(name: str, lang: Lang) -> str:
    """Return a reader's name of a register variable (the name itself when unknown)."""
    return _REGISTER_VARIABLES[lang].get(name, _variable_label(name, lang))


def _register_list(names: Any, lang: Lang) -> str:
    values = [names] if isinstance(names, str) else list(names or [])
    return ", ".join(_register_label(str(v), lang) for v in values)


def _covariate_label(covariate: str, lang: Lang) -> str:
    """Return a reader's name of a small-area covariate (``column`` or ``column=value``)."""
    if covariate in _COVARIATES[lang]:
        return _COVARIATES[lang][covariate]
    column, _, value = covariate.partition("=")
    label = _variable_label(column, lang)
    if not value:
        return label
    return f"udział: {label} = {value}" if lang == "pl" else f"share: {label} = {value}"


def _domain_label(domain: str, lang: Lang) -> str:
    return _DOMAINS[lang].get(domain, domain)


def _variable_label(variable: str, lang: Lang) -> str:
    return _VARIABLES[lang].get(variable, variable)


def _value_labels(domain: str, lang: Lang) -> dict[str, str]:
    return _ENTITY_TYPES[lang] if domain == "entity_type" else {}


def headline_text(results: StudyResults) -> str:
    r"""Write the headline figures in words, with their confidence intervals.

    Parameters
    ----------
    results : StudyResults
        From :func:`~es_survey.study.run_study`; uses :meth:`StudyResults.headline`
        (active entities and the first configured total, e.g. ``workers``).

    Returns
    -------
    str
        One or two sentences in ``results.config.language``; numbers formatted by
        :func:`~es_survey.tables.format_number` (no decimals), intervals as
        ``lower–upper``. A headline estimate that is suppressed by the reliability
        rules is not given as a number.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> head = pd.DataFrame({"quantity": ["active", "workers"], "estimate": [298.8, 3464.2],
    ...                      "se": [16.6, 665.3], "lower": [266.2, 2155.9],
    ...                      "upper": [331.5, 4772.5], "level": 0.95, "cv": [0.056, 0.19],
    ...                      "n": [137, 127]})
    >>> fake = SimpleNamespace(headline=lambda: head, config=SimpleNamespace(
    ...     language="pl", thresholds=(0.1, 0.2, 0.3), min_n=5))
    >>> print(headline_text(fake).replace("\u202f", " "))  # doctest: +NORMALIZE_WHITESPACE
    Szacujemy, że w województwie działa 299 aktywnych podmiotów ekonomii społecznej
    (95% przedział ufności: 266–332). Pracują w nich 3 464 osoby na umowę o pracę lub
    umowę cywilnoprawną (95% przedział ufności: 2 156–4 773).
    """
    cfg = results.config
    lang = cfg.language
    head = reliability_frame(
        results.headline(), thresholds=cfg.thresholds, min_n=cfg.min_n, lang=lang
    )
    sentences = []
    for rec in head.to_dict("records"):
        sentences.append(_headline_sentence(rec, lang))
    depends = _sensitivity_clause(results)
    if depends:
        sentences.append(depends)
    if getattr(results, "followup", None) is not None:
        sentences.append(_TEXT[lang]["headline_twophase"])
    return " ".join(sentences)


def _sensitivity_rows(results: Any) -> pd.DataFrame | None:
    """Rows of active entities in the sensitivity table (None without them)."""
    sens = getattr(results, "sensitivity", None)
    if sens is None:
        return None
    rows = sens[sens["quantity"] == "active"].sort_values("delta")
    return rows if len(rows) >= 2 else None


def _sensitivity_clause(results: Any) -> str:
    """Say in the headline when the active count depends on the nonrespondents.

    It does when the estimate at the smallest ``δ`` falls outside the main
    estimate's confidence interval.
    """
    rows = _sensitivity_rows(results)
    if rows is None or getattr(results, "followup", None) is not None:
        return ""  # with a follow-up the headline assumes nothing about nonrespondents
    lang = results.config.language
    t = _TEXT[lang]
    low, main = rows.iloc[0], rows.iloc[-1]
    if main["lower"] <= low["estimate"] <= main["upper"]:
        return ""
    d = float(low["delta"])
    how = t["sens_half"] if d == 0.5 else t["sens_less"].format(d=_fmt(d, lang, 3).rstrip("0"))
    return t["sens_depends"].format(
        how=how,
        est=_fmt(low["estimate"], lang),
        lo=_fmt(low["lower"], lang),
        hi=_fmt(low["upper"], lang),
    )


def _headline_sentence(rec: Mapping[Hashable, Any], lang: Lang) -> str:
    quantity = str(rec["quantity"])
    level = _pct_text(float(rec["level"]), lang)
    if rec["suppressed"]:
        name = (
            _TEXT[lang]["active_entities"]
            if quantity == "active"
            else _variable_label(quantity, lang)
        )
        if lang == "pl":
            return f"{name}: szacunek zbyt mało precyzyjny, by go opublikować."
        return f"{name}: the estimate is too imprecise to publish."
    est = format_number(rec["estimate"], lang=lang)
    lo = format_number(rec["lower"], lang=lang)
    hi = format_number(rec["upper"], lang=lang)
    count = int("".join(ch for ch in est if ch.isdigit()) or 0)
    if lang == "pl":
        ci = f"({level} przedział ufności: {lo}–{hi})"
        if quantity == "active":
            verb, noun = polish_plural(
                count,
                ("działa", "aktywny podmiot"),
                ("działają", "aktywne podmioty"),
                ("działa", "aktywnych podmiotów"),
            )
            return f"Szacujemy, że w województwie {verb} {est} {noun} ekonomii społecznej {ci}."
        if quantity == "workers":
            verb, noun = polish_plural(
                count, ("Pracuje", "osoba"), ("Pracują", "osoby"), ("Pracuje", "osób")
            )
            return f"{verb} w nich {est} {noun} na umowę o pracę lub umowę cywilnoprawną {ci}."
        label = _variable_label(quantity, lang)
        return f"{label} w aktywnych podmiotach: {est} {ci}."
    ci = f"({level} confidence interval: {lo}–{hi})"
    if quantity == "active":
        return f"We estimate that {est} social-economy entities are active in the region {ci}."
    if quantity == "workers":
        return f"{est} people work in them on employment or civil-law contracts {ci}."
    return f"{_variable_label(quantity, lang)} in active entities: {est} {ci}."


# ------------------------------------------------------------ table sources
def _estimate_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop the columns a report does not show (statistic, category, deff)."""
    drop = [c for c in ("statistic", "category", "deff") if c in frame.columns]
    return frame.drop(columns=drop)


def _labelled(frame: pd.DataFrame, domain: str | None, lang: Lang) -> pd.DataFrame:
    """Replace codes of the domain, stage and variable columns by display labels."""
    out = frame.copy()
    if domain is not None:
        names = _value_labels(domain, lang)
        out[domain] = [names.get(str(v), str(v)) for v in out[domain]]
    if "stage" in out.columns:
        out["stage"] = [_STAGES[lang].get(str(v), str(v)) for v in out["stage"]]
    if "variable" in out.columns:
        out["variable"] = [_variable_label(str(v), lang) for v in out["variable"]]
    return out


class _Estimates:
    """One table of estimates: its numeric twin, display table and suppression mask."""

    def __init__(
        self,
        name: str,
        caption: str,
        frame: pd.DataFrame,
        domain: str | None,
        results: StudyResults,
        min_n: int | None = None,
    ) -> None:
        cfg = results.config
        min_n = cfg.min_n if min_n is None else min_n
        lang = cfg.language
        self.name = name
        self.caption = caption
        self.domain = domain
        self.raw = _estimate_frame(frame.reset_index(drop=True))
        labelled = _labelled(self.raw, domain, lang)
        self.numeric = reliability_frame(
            labelled, thresholds=cfg.thresholds, min_n=min_n, lang=lang
        )
        self.display = publication_table(
            labelled,
            lang=lang,
            thresholds=cfg.thresholds,
            min_n=min_n,
            marker=MARKER,
            columns=["estimate", "interval", "cv", "n", "reliability"],
        )
        self.suppressed = self.numeric["suppressed"].to_numpy(dtype=bool)
        self.min_n = min_n
        t = _TEXT[lang]
        heads = dict(self.display.attrs["headers"])
        if domain is not None:
            heads[domain] = _domain_label(domain, lang).capitalize()
        heads["stage"] = t["stage"]
        heads["variable"] = t["variable"]
        heads["direct"] = t["direct_estimate"]
        self.headers = heads
        self.keys = [c for c in (domain, "stage", "variable") if c and c in self.raw.columns]


def _sae_frame(results: StudyResults, domain: str, stage: str) -> pd.DataFrame | None:
    """Return a quantity's small-area estimates as a table of estimates (or None)."""
    fit = results.small_area.get(stage)
    if fit is None or domain != "powiat_name":
        return None
    sae = fit.to_frame()
    lang = results.config.language
    key = {"stage": "active"} if stage == "active" else {"variable": stage}
    return pd.DataFrame(
        {
            domain: sae["area"].to_numpy(),
            "direct": [  # Statistics Poland's signs: "–" a true zero, "." no data
                "."
                if not np.isfinite(v)
                else "–"
                if v == 0
                else format_number(v, decimals=0, lang=lang)
                for v in sae["direct"]
            ],
            **key,
            "estimate": sae["estimate"].to_numpy(),
            "se": sae["rmse"].to_numpy(),
            "lower": sae["lower"].to_numpy(),
            "upper": sae["upper"].to_numpy(),
            "level": results.config.level,
            "cv": sae["cv"].to_numpy(),
            "df": np.inf,
            "n": sae["n"].to_numpy(),
        }
    )


def _sae_name(stage: str) -> str:
    return "small_area" if stage == "active" else f"small_area_{slug(stage)}"


def _sae_what(stage: str, lang: Lang) -> str:
    return _TEXT[lang]["active_entities"] if stage == "active" else _variable_label(stage, lang)


def _sae_note(results: StudyResults, stage: str) -> str:
    """Describe the fitted small-area model in a sentence or three (for the report)."""
    lang = results.config.language
    t = _TEXT[lang]
    fit = results.small_area[stage]
    table = fit.to_frame()
    shrunk = table[table["method"] == "FH"]
    resid = table["std_residual"].abs()
    alone = table["method"] == "synthetic"
    unsampled = table.loc[alone & (table["n"] == 0), "area"].astype(str).tolist()
    zero = table.loc[alone & (table["n"] > 0), "area"].astype(str).tolist()
    if fit.sigma2_u == 0:
        tail = t["sae_zero"]
    else:
        parts = []
        if unsampled:
            parts.append(t["sae_synthetic"].format(areas=", ".join(unsampled)))
        if zero:
            parts.append(t["sae_zero_direct"].format(areas=", ".join(zero)))
        tail = " ".join(parts) or t["sae_all_direct"]
    worst = int(np.nanargmax(resid.to_numpy())) if resid.notna().any() else None
    return t["sae_note"].format(
        what=_sae_what(stage, lang),
        scale=t[f"sae_scale_{fit.transform}"],
        covariates="; ".join(_covariate_label(c, lang) for c in fit.beta.index[1:]),
        sigma2=format_number(fit.sigma2_u, decimals=4, lang=lang),
        gmin=format_number(
            float(shrunk["gamma"].min()) if len(shrunk) else 0.0, decimals=2, lang=lang
        ),
        gmax=format_number(
            float(shrunk["gamma"].max()) if len(shrunk) else 0.0, decimals=2, lang=lang
        ),
        resid=format_number(
            float(resid.max()) if worst is not None else 0.0, decimals=2, lang=lang
        ),
        area="" if worst is None else str(table["area"].iloc[worst]),
        replicates=_fmt(fit.replicates, lang),
        synthetic=tail,
    )


def _estimate_tables(results: StudyResults) -> list[_Estimates]:
    cfg = results.config
    t = _TEXT[cfg.language]
    tables = [
        _Estimates("funnel", t["funnel_table"], results.funnel, None, results),
        _Estimates("totals", t["totals_table"], results.totals, None, results),
    ]

    for domain, frame in results.funnel_by.items():
        tables.append(
            _Estimates(
                f"funnel_by_{domain}",
                t["funnel_by_table"].format(domain=_by_phrase(domain, cfg.language)),
                frame,
                domain,
                results,
            )
        )
        if domain in results.totals_by:
            tables.append(
                _Estimates(
                    f"totals_by_{domain}",
                    t["totals_by_table"].format(domain=_by_phrase(domain, cfg.language)),
                    results.totals_by[domain],
                    domain,
                    results,
                )
            )
    for stage in results.small_area:
        sae = _sae_frame(results, "powiat_name", stage)
        if sae is None:
            continue
        caption = (
            t["sae_table"]
            if stage == "active"
            else t["sae_table_total"].format(what=_variable_label(stage, cfg.language))
        )
        # model-based: published by its RMSE-based CV, whatever n
        tables.append(_Estimates(_sae_name(stage), caption, sae, "powiat_name", results, min_n=0))
    return tables


def _rates_frame(results: StudyResults) -> pd.DataFrame:
    """Response rates by stratum and a last row for the whole sample."""
    strata = results.config.strata
    by = results.response_rates
    overall = response_rates(results.dispositions).assign(
        **{strata: _TEXT[results.config.language]["total_row"]}
    )
    cols = [strata, *[c for c in _RATE_COUNTS if c in by.columns], "e", *_RATES]
    return pd.concat([by[cols], overall[cols]], ignore_index=True)


_FOLLOWUP_FINDINGS = ("active", "inactive", "ceased", "liquidation", "not_established")


def _dispositions_frame(results: StudyResults) -> pd.DataFrame:
    """Fieldwork dispositions (AAPOR), with what the follow-up found for each when there is one.

    The disposition stays the fieldwork's; the follow-up columns count, for each, the
    units followed up and what desk research established about them.
    """
    lang = results.config.language
    disp = results.dispositions
    counts = disp["disposition"].astype(str).value_counts(sort=False)
    order = [c for c in _DISPOSITIONS["en"] if c in counts.index]
    order += sorted(c for c in counts.index if c not in order)
    out = pd.DataFrame(
        {
            "disposition": [_DISPOSITIONS[lang].get(c, c) for c in order],
            "count": [int(counts[c]) for c in order],
        }
    )
    if "followup" not in disp.columns or disp["followup"].notna().sum() == 0:
        return out
    followed = disp[disp["followup"].notna()]
    pairs = followed["disposition"].astype(str) + "|" + followed["followup"].astype(str)
    tally = pairs.value_counts()
    per = followed["disposition"].astype(str).value_counts()
    out["followed_up"] = [int(per.get(c, 0)) for c in order]
    for finding in _FOLLOWUP_FINDINGS:
        out[f"fu_{finding}"] = [int(tally.get(f"{c}|{finding}", 0)) for c in order]
    return out


def _dispositions_heads(frame: pd.DataFrame, lang: Lang) -> dict[str, str]:
    """Headers of the dispositions table: the follow-up's from the follow-up table's."""
    t = _TEXT[lang]
    cols = t["followup_cols"].split("|")  # stratum, unknown, followed up, findings...
    heads = {"disposition": t["disposition"], "count": t["count"], "followed_up": cols[2]}
    for finding, head in zip(_FOLLOWUP_FINDINGS, cols[3:], strict=True):
        heads[f"fu_{finding}"] = t["followup_found"].format(what=head.lower())
    return {c: heads[c] for c in frame.columns}


def _weights_frame(results: StudyResults) -> pd.DataFrame:
    t = _TEXT[results.config.language]
    rows = [
        weights_summary(np.asarray(w, dtype=float)).assign(weights=label)
        for w, label in (
            (results.weights_before, t["weights_before"]),
            (results.weights_after, _after_label(results, t)),
        )
    ]
    out = pd.concat(rows, ignore_index=True)
    return out[["weights", "n", "sum", "min", "max", "mean", "cv", "deff_kish", "n_eff"]]


def _problems_frame(results: StudyResults) -> pd.DataFrame:
    """Problems by rule, each rule named in the report's language."""
    summary = results.data.summary()["problems"]
    if not isinstance(summary, pd.DataFrame) or len(summary) == 0:
        return pd.DataFrame({"rule": [], "severity": [], "count": []})
    lang = results.config.language
    out = summary[["rule", "severity", "count"]].reset_index(drop=True)
    return out.assign(rule=[RULE_LABELS.get(str(r), {}).get(lang, str(r)) for r in out["rule"]])


_FLAG_VALUE = re.compile(r"(\w+)=(True|False|<NA>) \(([^)]*)\)")
_PAIR = re.compile(r"(\w+)=(.*?)(?=, \w+=|$)")


def _shown_value(text: str, lang: Lang) -> str:
    """Write a value of the consistency report ("True", "619721.55") as a reader would."""
    words = {"pl": ("tak", "nie", "brak danych"), "en": ("yes", "no", "missing")}[lang]
    if text in ("True", "False", "<NA>"):
        return words[("True", "False", "<NA>").index(text)]
    try:
        number = float(text)
    except ValueError:
        return text
    return format_number(number, decimals=0 if number.is_integer() else 2, lang=lang)


def _consistency_frames(results: StudyResults) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return counts by check and the contradictions found, labelled for the reader."""
    lang = results.config.language
    rules = load_rules(results.config.rules)
    cb = results.data.codebook
    label = "label_pl" if lang == "pl" else "label_en"
    checks = {c.name: getattr(c, label) for c in rules.checks}
    flags = {f.name: getattr(f, label) for f in rules.flags}

    def name_of(var: str) -> str:
        if var in flags:
            return flags[var]
        try:
            return str(getattr(cb.variable(var), label))
        except (KeyError, DesignError, DataError):
            return var

    cons = results.consistency.reset_index(drop=True)
    cols = [
        c
        for c in ("regon", "source_row", "check", "variables", "values", "decision")
        if c in cons.columns
    ]
    detail = cons[cols].astype(object).where(cons[cols].notna(), None)
    if len(detail):
        detail["check"] = [checks.get(str(c), str(c)) for c in detail["check"]]
        detail["variables"] = [
            "; ".join(name_of(v.strip()) for v in str(x).split(",") if v.strip())
            for x in detail["variables"]
        ]
        detail["values"] = [
            "; ".join(f"{name_of(k)} = {_shown_value(v, lang)}" for k, v in _PAIR.findall(str(x)))
            for x in detail["values"]
        ]
        detail["decision"] = [
            "; ".join(
                f"{name_of(k)}: {_shown_value(v, lang)}" for k, v, _ in _FLAG_VALUE.findall(str(x))
            )
            for x in detail["decision"]
        ]
    counts = (
        detail["check"]
        .astype(str)
        .value_counts()
        .sort_index()
        .rename_axis("check")
        .reset_index(name="count")
        if "check" in detail.columns and len(detail)
        else pd.DataFrame({"check": [], "count": []})
    )
    return counts, detail


def _metadata_rows(results: StudyResults) -> list[tuple[str, str]]:
    cfg = results.config
    t = _TEXT[cfg.language]
    rows = [
        (t["title"], cfg.title),
        (t["year"], str(cfg.year)),
        (t["source"], cfg.source),
        (t["language"], t["language_name"]),
        (t["level"], _pct_text(cfg.level, cfg.language)),
        (t["thresholds"], " / ".join(_pct_text(x, cfg.language) for x in cfg.thresholds)),
    ]
    named = {"es_survey_version": t["meta_version"], "config": t["meta_config"],
             "seed": t["meta_seed"], "date": t["meta_date"]}  # fmt: skip
    for key, value in results.metadata.items():
        k = str(key)
        shown = t["meta_sha"].format(file=k[7:]) if k.startswith("sha256:") else named.get(k, k)
        rows.append((shown, str(value)))
    return rows


# --------------------------------------------------------------------- figures
def _teryt_frame(results: StudyResults, frame: pd.DataFrame, domain: str) -> pd.DataFrame | None:
    """Return the frame with the powiat domain replaced by a ``teryt`` column (None if unknown)."""
    if domain == "teryt_powiat":
        codes = frame[domain].astype(str)
    else:
        units = results.units
        if "teryt_powiat" not in units.columns or domain not in units.columns:
            return None
        pairs = units[[domain, "teryt_powiat"]].dropna().astype(str).drop_duplicates()
        if pairs[domain].duplicated().any():
            return None
        mapping = dict(zip(pairs[domain], pairs["teryt_powiat"], strict=True))
        codes = frame[domain].astype(str).map(mapping)
    if codes.isna().any():
        return None
    regions = codes.str[:2].unique()
    if len(regions) != 1 or regions[0] not in set(voivodeships()["teryt"]):
        return None
    out = frame.drop(columns=[domain]).reset_index(drop=True)
    out.insert(0, "teryt", codes.to_numpy())
    out.attrs["region"] = str(regions[0])
    return out


def _all_suppressed(frame: pd.DataFrame, th: Mapping[str, Any]) -> bool:
    """Whether every estimate of a domain table is suppressed (no figure is drawn)."""
    flags = reliability_frame(frame.reset_index(drop=True), **th)
    return bool(len(flags)) and bool(flags["suppressed"].all())


def _figure_specs(results: StudyResults) -> list[tuple[str, str, Callable[[], Any]]]:
    """(file stem, title, draw) of every figure, in report order."""
    cfg = results.config
    lang = cfg.language
    t = _TEXT[lang]
    common: dict[str, Any] = {"source": cfg.source, "year": cfg.year, "lang": lang}
    th: dict[str, Any] = {"thresholds": cfg.thresholds, "min_n": cfg.min_n}
    first = str(results.totals["variable"].iloc[0]) if len(results.totals) else None
    specs: list[tuple[str, str, Callable[[], Any]]] = [
        (
            "funnel",
            t["fig_funnel"],
            lambda: plot_funnel(results.funnel, title=t["fig_funnel"], **th, **common),
        ),
    ]
    for domain, frame in results.funnel_by.items():
        active = frame[frame["stage"] == "active"].drop(columns=["stage"]).reset_index(drop=True)
        total = None
        if first is not None and domain in results.totals_by:
            tb = results.totals_by[domain]
            total = tb[tb["variable"] == first].reset_index(drop=True)
        vlabel = _variable_label(first, lang) if first else ""
        if domain in _POWIAT_DOMAINS:
            for stem, what, direct, xl in (
                ("active", t["active_entities"], active, t["active_axis"]),
                (first, vlabel, total, vlabel),
            ):
                if stem is None:
                    continue
                sae = _sae_frame(results, domain, stem)
                model = sae is not None
                src = sae if model else direct
                if src is None:
                    continue
                th_fig = {**th, "min_n": 0} if model else th
                flags = reliability_frame(src.reset_index(drop=True), **th_fig)
                if _no_map(flags, domain):
                    continue  # no map of (almost) nothing: the section's note says so
                if model:
                    what = what + t["model_note"]
                    title = t["fig_direct_vs_model"].format(what=_sae_what(stem, lang))
                    published = results.small_area[stem].to_frame()
                    published = published[~flags["suppressed"].to_numpy(dtype=bool)]
                    specs.append(
                        (
                            f"powiat_model_{slug(stem)}",
                            title,
                            _bind(
                                plot_direct_vs_model,
                                published,
                                per="register",
                                percent=stem == "active",
                                xlabel=t[f"sae_axis_{'share' if stem == 'active' else 'mean'}"]
                                + t["sae_direct"],
                                ylabel=t[f"sae_axis_{'share' if stem == 'active' else 'mean'}"]
                                + t["sae_model"],
                                title=title,
                                **common,
                            ),
                        )
                    )
                tf = _teryt_frame(results, src.drop(columns=["direct"], errors="ignore"), domain)
                if tf is None:
                    continue
                region = tf.attrs["region"]
                title = t["fig_tiles"].format(what=what)
                tiles = cfg.map_style == "tiles" and region in available_regions()
                specs.append(
                    (
                        f"powiat_{'tiles' if tiles else 'map'}_{slug(stem)}",
                        title,
                        _bind(
                            plot_powiat_tiles if tiles else plot_powiat_map,
                            tf,
                            powiat="teryt",
                            region=region,
                            label=xl,
                            title=title,
                            **th_fig,
                            **common,
                        ),
                    )
                )
                title = t["fig_intervals"].format(what=what)
                specs.append(
                    (
                        f"powiat_intervals_{slug(stem)}",
                        title,
                        _bind(
                            plot_powiat_intervals,
                            tf,
                            powiat="teryt",
                            region=region,
                            xlabel=xl,
                            title=title,
                            **th_fig,
                            **common,
                        ),
                    )
                )
            continue
        labels = _value_labels(domain, lang)
        title = t["fig_active_by"].format(domain=_by_phrase(domain, lang))
        draw_active = not _all_suppressed(active, th)  # else the section's note says so
        if total is not None and _all_suppressed(total, th):
            total = None
        specs += (
            []
            if not draw_active
            else [
                (
                    f"{slug(domain)}_active",
                    title,
                    _bind(
                        plot_by_category,
                        active,
                        by=domain,
                        labels=labels,
                        sort=True,
                        xlabel=t["active_axis"],
                        title=title,
                        **th,
                        **common,
                    ),
                )
            ]
        )
        if total is not None and first is not None:
            title = t["fig_total_by"].format(variable=vlabel, domain=_by_phrase(domain, lang))
            specs.append(
                (
                    f"{slug(domain)}_{slug(first)}",
                    title,
                    _bind(
                        plot_by_category,
                        total,
                        by=domain,
                        labels=labels,
                        sort=True,
                        xlabel=vlabel,
                        title=title,
                        **th,
                        **common,
                    ),
                )
            )
    sens = results.sensitivity
    if sens is not None and (sens["quantity"] == "active").any():
        specs.append(
            (
                "sensitivity",
                t["fig_sensitivity"],
                _bind(
                    plot_sensitivity,
                    sens[sens["quantity"] == "active"],
                    reference=None if results.followup is None else _two_phase_active(results),
                    reference_label=t["sens_reference"],
                    xlabel=t["sens_axis"],
                    ylabel=t["active_axis"],
                    title=t["fig_sensitivity"],
                    **common,
                ),
            )
        )
    specs.append(
        (
            "weights",
            t["fig_weights"],
            _bind(
                plot_weights,
                results.weights_before,
                results.weights_after,
                labels=(t["weights_before"], _after_label(results, t)),
                title=t["fig_weights"],
                **common,
            ),
        )
    )
    specs.append(
        (
            "response_rates",
            t["fig_rates"],
            _bind(
                plot_response_rates,
                results.response_rates,
                rate=list(_RATES),
                by=cfg.strata,
                title=t["fig_rates"],
                **common,
            ),
        )
    )
    return specs


def _bind(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], Any]:
    return lambda: func(*args, **kwargs)


# ------------------------------------------------------------------------ HTML
def _html_table(
    frame: pd.DataFrame,
    headers: Mapping[str, str],
    *,
    caption: str | None = None,
    numeric: Sequence[str] = (),
    suppressed: np.ndarray | None = None,
    hidden: Sequence[str] = (),
    wrap: Sequence[str] = (),
    table_id: str | None = None,
) -> str:
    """Render an escaped HTML table of text cells; suppressed cells get class ``suppressed``."""
    ident = f' id="{_esc(table_id)}"' if table_id else ""
    parts = [f"<table{ident}>"]
    if caption:
        parts.append(f"<caption>{_esc(caption)}</caption>")
    num = ' class="num"'
    heads = "".join(
        f'<th scope="col"{num if c in numeric else ""}>{_esc(headers.get(c, c))}</th>'
        for c in frame.columns
    )
    parts.append(f"<thead><tr>{heads}</tr></thead><tbody>")
    for i, row in enumerate(frame.itertuples(index=False, name=None)):
        cells = []
        for col, value in zip(frame.columns, row, strict=True):
            classes = []
            if suppressed is not None and suppressed[i] and col in hidden:
                classes.append("suppressed")
            elif col in numeric:
                classes.append("num")
            if col in wrap:
                classes.append("wrap")
            cls = f' class="{" ".join(classes)}"' if classes else ""
            text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else value
            cells.append(f"<td{cls}>{_esc(text)}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


_Cell = tuple[str, float, float, float]  # state (exact/ok/caution/suppressed), value, lo, hi


_CROSS: dict[str, tuple[StudyResults, tuple[list[str], list[str], list[list[_Cell]]]]] = {}
"""Cross-tables of the report being written (the HTML and the workbook share them),
each with the results it was computed from."""


def _cross_data(
    results: StudyResults, domain: str
) -> tuple[list[str], list[str], list[list[_Cell]]]:
    """Headers, row labels and cells of a domain's cross-table (first row: the total)."""
    cached = _CROSS.get(domain)
    if cached is None or cached[0] is not results:
        cached = _CROSS[domain] = (results, _cross_compute(results, domain))
    return cached[1]


def _cross_compute(
    results: StudyResults, domain: str
) -> tuple[list[str], list[str], list[list[_Cell]]]:
    """Compute a cross-table (see :func:`_cross_data`)."""
    cfg = results.config
    lang = cfg.language
    t = _TEXT[lang]
    th: dict[str, Any] = {"thresholds": cfg.thresholds, "min_n": cfg.min_n}
    stages = [s for s in ("registered", "eligible", "active", "earning", "employing")
              if (results.funnel["stage"] == s).any()]  # fmt: skip
    first = str(results.totals["variable"].iloc[0]) if len(results.totals) else None
    columns: list[tuple[str, pd.DataFrame, pd.DataFrame]] = []  # (head, by domain, overall)
    by = results.funnel_by[domain]
    for stage in stages:
        head = t["cross_registered"] if stage == "registered" else STAGE_LABELS[lang][stage]
        columns.append((head.capitalize(), by[by["stage"] == stage],
                        results.funnel[results.funnel["stage"] == stage]))  # fmt: skip
    if first is not None and domain in results.totals_by:
        tb = results.totals_by[domain]
        columns.append((t["cross_workers"] if first == "workers" else _variable_label(first, lang),
                        tb[tb["variable"] == first],
                        results.totals[results.totals["variable"] == first]))  # fmt: skip
    labels = _value_labels(domain, lang) or {}
    keys = list(dict.fromkeys(str(v) for v in by.loc[by["stage"] == stages[0], domain]))
    names = [t["cross_total"], *(str(labels.get(k, k)) for k in keys)]
    cells: list[list[_Cell]] = [[] for _ in names]
    nan = float("nan")
    for j, (_, part, overall) in enumerate(columns):
        # one reliability pass per column (a row at a time cost seconds a report)
        flagged = reliability_frame(part.reset_index(drop=True), **th)
        flagged.index = part[domain].astype(str).to_numpy()
        total = reliability_frame(overall.reset_index(drop=True), **th)
        for i, key in enumerate([None, *keys]):
            if key is None:
                frame = total.iloc[:1]
            else:
                frame = flagged.loc[[key]] if key in flagged.index else flagged.iloc[:0]
            if frame.empty:
                cells[i].append(("suppressed", nan, nan, nan))
                continue
            rec = frame.iloc[0]
            value, lo, hi = float(rec["estimate"]), float(rec["lower"]), float(rec["upper"])
            if j == 0 and stages[:1] == ["registered"]:
                state = "exact"  # the register's count: no interval
            elif bool(rec["suppressed"]):
                state = "suppressed"
            else:
                state = "caution" if rec["reliability"] == "caution" else "ok"
            cells[i].append((state, value, lo, hi))
    heads = [_domain_label(domain, lang).capitalize(), *(h for h, _, _ in columns)]
    return heads, names, cells


def _indicator_value(x: float, ind: Any, lang: Lang) -> str:
    """Write an indicator's number: percent for shares, one decimal for means and ratios."""
    if not np.isfinite(x):
        return MARKER
    if ind.unit(lang) == "%":
        return _fmt_pct(x, lang)
    if x == 0:
        return "–"
    return _fmt(x, lang, 0 if ind.kind == "total" else 1)


def _indicator_rows(results: StudyResults, domain: str) -> pd.DataFrame:
    """Return the indicators' rows of one domain ("" = overall), with reliability codes."""
    cfg = results.config
    table = results.indicators
    if table is None:
        return pd.DataFrame()
    part = table[table["domain"] == domain].reset_index(drop=True)
    codes = reliability(
        part["cv"], estimate=part["estimate"], se=part["se"], n=part["n"],
        thresholds=cfg.thresholds, min_n=cfg.min_n,
    )  # fmt: skip
    # a register count per inhabitant is exact: published whatever the sample
    exact = {i.name for i in cfg.indicators if i.exact}
    codes = codes.mask(part["indicator"].isin(exact).to_numpy(), "good")
    return part.assign(
        reliability=codes.to_numpy(), suppressed=codes.isin(["suppressed", "no_data"]).to_numpy()
    )


def _indicators_html(results: StudyResults) -> str:
    """Write the indicators' table (overall) with a note on how they are estimated."""
    cfg = results.config
    lang = cfg.language
    t = _TEXT[lang]
    rows = _indicator_rows(results, "")
    if rows.empty:
        return ""
    by_name = {i.name: i for i in cfg.indicators}
    level = _pct_text(cfg.level, lang)
    head = [t["indicator"], t["unit"], _XLSX_HEADERS[lang]["estimate"],
            t["ci_head"].format(level=level), "CV", "n"]  # fmt: skip
    body = ""
    for r in rows.to_dict("records"):
        ind = by_name[str(r["indicator"])]
        if ind.exact:  # the register's count per inhabitant: no interval
            cells = [_indicator_value(float(r["estimate"]), ind, lang), "", ""]
            body += (
                f'<tr><th scope="row">{_esc(ind.label(lang))}</th><td>{_esc(ind.unit(lang))}</td>'
                + "".join(f'<td class="num">{_esc(c)}</td>' for c in [*cells, ""]) + "</tr>"
            )  # fmt: skip
            continue
        if r["suppressed"]:
            cells = [MARKER, MARKER, MARKER]
        else:
            star = "*" if r["reliability"] == "caution" else ""
            cells = [
                _indicator_value(float(r["estimate"]), ind, lang) + star,
                f"{_indicator_value(float(r['lower']), ind, lang)}–"
                f"{_indicator_value(float(r['upper']), ind, lang)}",
                _fmt_pct(float(r["cv"]), lang) if np.isfinite(float(r["cv"])) else MARKER,
            ]
        n = _fmt(float(r["n"]), lang) if np.isfinite(float(r["n"])) else MARKER
        body += (
            f'<tr><th scope="row">{_esc(ind.label(lang))}</th><td>{_esc(ind.unit(lang))}</td>'
            + "".join(f'<td class="num">{_esc(c)}</td>' for c in [*cells, n])
            + "</tr>"
        )
    table = (
        f'<table id="table-indicators"><caption>{_esc(t["indicators_table"])}</caption><thead>'
        + "<tr>" + "".join(f'<th scope="col">{_esc(h)}</th>' for h in head) + "</tr>"
        + f"</thead><tbody>{body}</tbody></table>"
    )  # fmt: skip
    pct = [_pct_text(x, lang) for x in cfg.thresholds]
    note = (
        t["cross_caution"].format(lo=pct[1], hi=pct[2])
        + " "
        + reliability_footnote(thresholds=cfg.thresholds, lang=lang, marker=MARKER, min_n=cfg.min_n)
    )
    return f"<p>{_esc(t['indicators_text'])}</p>{table}" + f'<p class="footnote">{_esc(note)}</p>'


def _indicators_by_html(results: StudyResults, domain: str) -> str:
    """Write the indicators by ``domain``: domains in rows, indicators in columns."""
    cfg = results.config
    lang = cfg.language
    t = _TEXT[lang]
    rows = _indicator_rows(results, domain)
    if rows.empty:
        return ""
    inds = [i for i in cfg.indicators if domain in i.domains]
    labels = _value_labels(domain, lang) or {}
    values = list(dict.fromkeys(rows["domain_value"].astype(str)))
    head = [_domain_label(domain, lang).capitalize(),
            *(f"{i.label(lang)} ({i.unit(lang)})"
              if i.unit(lang) and i.unit(lang) not in i.label(lang) else i.label(lang)
              for i in inds)]  # fmt: skip
    body = ""
    for value in values:
        cells = []
        for ind in inds:
            hit = rows[(rows["indicator"] == ind.name) & (rows["domain_value"] == value)]
            if hit.empty or bool(hit["suppressed"].iloc[0]):
                cells.append(MARKER)
                continue
            star = "*" if hit["reliability"].iloc[0] == "caution" else ""
            cells.append(_indicator_value(float(hit["estimate"].iloc[0]), ind, lang) + star)
        body += (
            f'<tr><th scope="row">{_esc(labels.get(value, value))}</th>'
            + "".join(f'<td class="num">{_esc(c)}</td>' for c in cells) + "</tr>"
        )  # fmt: skip
    caption = t["indicators_by"].format(domain=_by_phrase(domain, lang))
    return (
        f'<table id="table-indicators-{_esc(slug(domain))}"><caption>{_esc(caption)}</caption>'
        + "<thead><tr>" + "".join(f'<th scope="col">{_esc(h)}</th>' for h in head)
        + f"</tr></thead><tbody>{body}</tbody></table>"
    )  # fmt: skip


def _cross_tables_html(results: StudyResults, domain: str) -> str:
    """Statistics Poland's layout: domains in rows, the funnel stages and workers in columns.

    The first table gives the register counts and the estimates (suppressed cells ".",
    zero "–", low precision "*"), the second their confidence intervals; the long listing
    with CV and n stays in the workbook.
    """
    cfg = results.config
    lang = cfg.language
    t = _TEXT[lang]
    heads, names, cells = _cross_data(results, domain)

    def shown(cell: _Cell) -> tuple[str, str]:
        state, value, lo, hi = cell
        if state == "suppressed":
            return MARKER, MARKER
        number = "–" if value == 0 else _fmt(value, lang)
        if state == "exact":
            return number, ""
        interval = "–" if hi == 0 else f"{_fmt(lo, lang)}–{_fmt(hi, lang)}"
        return number + ("*" if state == "caution" else ""), interval

    rows = [[name, *(shown(c)[0] for c in row)] for name, row in zip(names, cells, strict=True)]
    intervals = [
        [name, *(shown(c)[1] for c in row)] for name, row in zip(names, cells, strict=True)
    ]
    caution_used = any(c[0] == "caution" for row in cells for c in row)
    level = _pct_text(cfg.level, lang)
    caption = t["cross_table"].format(domain=_by_phrase(domain, lang))
    html_rows = "".join(
        "<tr>" + f"<th scope=\"row\">{_esc(r[0])}</th>"
        + "".join(f'<td class="num">{_esc(c)}</td>' for c in r[1:]) + "</tr>"
        for r in rows
    )  # fmt: skip
    head_html = "".join(f'<th scope="col">{_esc(h)}</th>' for h in heads)
    table = (
        f'<table id="table-cross-{_esc(slug(domain))}"><caption>{_esc(caption)}</caption>'
        f"<thead><tr>{head_html}</tr></thead><tbody>{html_rows}</tbody></table>"
    )
    with_interval = [
        k for k in range(1, len(heads)) if any(r[k] not in ("", MARKER) for r in intervals)
    ]
    iv_rows = "".join(
        "<tr>" + f"<th scope=\"row\">{_esc(r[0])}</th>"
        + "".join(f'<td class="num">{_esc(r[k])}</td>' for k in with_interval) + "</tr>"
        for r in intervals
    )  # fmt: skip
    iv_head = "".join(f'<th scope="col">{_esc(heads[k])}</th>' for k in [0, *with_interval])
    table += (
        f'<table id="table-cross-intervals-{_esc(slug(domain))}"><caption>'
        f"{_esc(t['cross_intervals'].format(level=level))}</caption>"
        f"<thead><tr>{iv_head}</tr></thead><tbody>{iv_rows}</tbody></table>"
    )
    pct = [_pct_text(x, lang) for x in cfg.thresholds]
    note = t["cross_note"].format(hi=pct[2], min_n=cfg.min_n)
    if caution_used:
        note = t["cross_caution"].format(lo=pct[1], hi=pct[2]) + " " + note
    return table + f'<p class="footnote">{_esc(note)}</p>'


def _estimates_html(table: _Estimates, lang: Lang, thresholds: Sequence[float]) -> str:
    body = _html_table(
        table.display,
        table.headers,
        caption=table.caption,
        table_id=f"table-{table.name}",
        numeric=["estimate", "interval", "cv", "n"],
        suppressed=table.suppressed,
        hidden=["estimate", "interval", "cv"],
    )
    note = reliability_footnote(thresholds=thresholds, lang=lang, marker=MARKER, min_n=table.min_n)
    return body + f'<p class="footnote">{_esc(note)}</p>'


def _figure_html(name: str, title: str, svg: bytes, lang: Lang, number: int) -> str:
    data = base64.b64encode(svg).decode("ascii")
    label = _TEXT[lang]["figure"]
    return (
        f'<figure id="figure-{_esc(name)}"><img src="data:image/svg+xml;base64,{data}" '
        f'alt="{_esc(title)}"><figcaption>{_esc(label)} {number}. {_esc(title)}'
        "</figcaption></figure>"
    )


def _fmt(x: Any, lang: Lang, decimals: int = 0) -> str:
    return format_number(x, decimals=decimals, lang=lang)


def _fmt_pct(x: Any, lang: Lang, decimals: int = 1) -> str:
    return format_percent(x, decimals=decimals, lang=lang)


def _after_label(results: StudyResults, t: Mapping[str, str]) -> str:
    """Label of the final weights: after the nonresponse adjustment (and calibration)."""
    if getattr(results, "followup", None) is not None:
        return t["weights_twophase"]
    calibrated = bool(getattr(results.config, "calibration", None))
    return t["weights_after_cal"] if calibrated else t["weights_after"]


def _twophase_text(results: StudyResults) -> list[str]:
    """Weighting steps of a study with a follow-up of nonrespondents (two phases)."""
    cfg = results.config
    lang = cfg.language
    t = _TEXT[lang]
    f = results.followup
    assert f is not None
    unknown, followed = int(f["unknown"].sum()), int(f["followed_up"].sum())
    items = [
        t["w_twophase"].format(
            unknown=_fmt(unknown, lang),
            followed=_fmt(followed, lang),
            share=_fmt_pct(followed / unknown if unknown else 0.0, lang),
        )
    ]
    items.append(t["w_twophase_caution"])
    if getattr(cfg, "followup_calibration", None):
        items.append(
            t["w_twophase_p2cal"].format(variables=_register_list(cfg.followup_calibration, lang))
        )
    if getattr(cfg, "calibration", None):
        items.append(t["w_twophase_cal"])
    items.append(t["w_register"])
    return items


def _followup_html(results: StudyResults) -> str:
    f = results.followup
    if f is None:
        return ""
    lang = results.config.language
    t = _TEXT[lang]
    shown = f.copy().astype(object)
    for c in f.columns[1:]:
        shown[c] = [_fmt(v, lang) for v in f[c]]
    heads = dict(zip(f.columns, t["followup_cols"].split("|"), strict=True))
    return _html_table(
        shown, heads, caption=t["followup_table"], numeric=list(f.columns[1:]),
        table_id="table-followup",
    )  # fmt: skip


def _nonresponse_text(cfg: Any, t: Mapping[str, str]) -> list[str]:
    lang = cfg.language
    nr = dict(cfg.nonresponse)
    items = []
    if "model" in nr:
        items.append(
            t["w_nr_model"].format(
                k=nr.get("n_classes", 5),
                covariates=_register_list(nr.get("covariates", []), lang),
            )
        )
    elif "by" in nr:
        by = nr["by"]
        items.append(t["w_nr_by"].format(by=_register_list(by, lang)))
    else:
        items.append(t["w_nr_other"].format(args=", ".join(f"{k}={v}" for k, v in nr.items())))
    if "ineligible" in nr:
        value = str(nr["ineligible"])
        items.append(t["w_inel"].format(value=t.get(f"inel_{value}", value)))
    cal = dict(getattr(cfg, "calibration", {}) or {})
    if cal:
        items.append(
            t["w_cal"].format(
                margins=_register_list(cal["frame_margins"], lang),
                method=dict(
                    zip(("raking", "linear", "logit"), t["cal_methods"].split("|"), strict=True)
                ).get(str(cal.get("method", "raking")), str(cal.get("method", "raking"))),
            )
        )
    items.append(t["w_register"])
    return items


def _delta_text(value: float, lang: Lang) -> str:
    return format_number(value, decimals=exact_decimals(value), lang=lang)


def _two_phase_active(results: StudyResults) -> tuple[float, float, float]:
    """Return the published (two-phase) estimate of active entities and its interval."""
    row = results.funnel.set_index("stage").loc["active", ["estimate", "lower", "upper"]]
    est, lo, hi = (float(v) for v in row.to_numpy(dtype=float))
    return est, lo, hi


def _sensitivity_html(results: StudyResults) -> str:
    """Write the sensitivity subsection: one sentence and a table (δ × quantity)."""
    sens = results.sensitivity
    rows = _sensitivity_rows(results)
    if sens is None or rows is None:
        return ""
    lang = results.config.language
    t = _TEXT[lang]
    low, main = rows.iloc[0], rows.iloc[-1]
    numbers = {
        "est0": _fmt(low["estimate"], lang),
        "d0": _delta_text(float(low["delta"]), lang),
        "lo0": _fmt(low["lower"], lang),
        "hi0": _fmt(low["upper"], lang),
        "est1": _fmt(main["estimate"], lang),
        "lo1": _fmt(main["lower"], lang),
        "hi1": _fmt(main["upper"], lang),
    }
    key = "sens_text"
    if results.followup is not None:  # the single-phase range against the two-phase one
        two = results.funnel.set_index("stage").loc["active"]
        slope = (main["estimate"] - low["estimate"]) / (1.0 - float(low["delta"]))
        dstar = 1.0 + (two["estimate"] - main["estimate"]) / slope if slope else float("nan")
        numbers |= {
            "est2": _fmt(two["estimate"], lang),
            "lo2": _fmt(two["lower"], lang),
            "hi2": _fmt(two["upper"], lang),
            "dstar": _fmt(dstar, lang, 2),
        }
        key = "sens_text_followup"
    text = t[key].format(**numbers)
    wide = pd.DataFrame(
        {"delta": [_delta_text(float(d), lang) for d in sorted(sens["delta"].unique())]}
    )
    heads = {"delta": t["sens_delta"]}
    for q in dict.fromkeys(sens["quantity"]):
        part = sens[sens["quantity"] == q].sort_values("delta")
        wide[q] = [
            f"{_fmt(e, lang)} ({_fmt(lo, lang)}–{_fmt(hi, lang)})"
            for e, lo, hi in zip(part["estimate"], part["lower"], part["upper"], strict=True)
        ]
        heads[q] = (
            t["active_entities"]
            if q == "active"
            else (_STAGES[lang].get(q, "").capitalize() or _variable_label(q, lang))
        )
    table = _html_table(
        wide, heads, caption=t["sens_table"], numeric=list(wide.columns[1:]),
        table_id="table-sensitivity",
    )  # fmt: skip
    return f"<h3>{_esc(t['sensitivity'])}</h3><p>{_esc(text)}</p>{table}"


def _representativity_html(results: StudyResults) -> str:
    rep = results.representativity
    if rep is None:
        return ""
    cfg = results.config
    lang = cfg.language
    nr = dict(cfg.nonresponse)
    text = _TEXT[lang]["representativity"].format(
        r=_fmt(rep["R"], lang, 2),
        cv=_fmt(rep["CV"], lang, 2),
        mean=_fmt(rep["mean_propensity"], lang, 2),
        covariates=_register_list(nr.get("covariates") or nr.get("by"), lang),
    )
    return f"<p>{_esc(text)}</p>"


def _suppression_notes(results: StudyResults, domain: str) -> str:
    """Write notes for the quantities suppressed in at least half of the domains.

    For powiats with small-area estimates the note is about those (they are what the
    maps show).
    """
    cfg = results.config
    lang = cfg.language
    t = _TEXT[lang]
    frame = results.funnel_by[domain]
    parts = [("active", t["active_entities"], frame[frame["stage"] == "active"])]
    if len(results.totals) and domain in results.totals_by:
        first = str(results.totals["variable"].iloc[0])
        tb = results.totals_by[domain]
        parts.append((first, _variable_label(first, lang), tb[tb["variable"] == first]))
    notes = ""
    for stage, what, part in parts:
        sae = _sae_frame(results, domain, stage)
        flags = reliability_frame(
            (part if sae is None else sae).reset_index(drop=True),
            thresholds=cfg.thresholds,
            min_n=cfg.min_n if sae is None else 0,
        )
        k, m = int(flags["suppressed"].sum()), len(flags)
        if m and 2 * k >= m:
            key = (
                "all_suppressed"
                if k == m
                else "mostly_suppressed_no_map"
                if _no_map(flags, domain)
                else "mostly_suppressed"
            )
            if sae is not None:
                what = what + t["model_note"]
            text = t[key].format(what=what, k=k, m=m, units=_domain_units(domain, lang))
            notes += f'<p class="note">{_esc(text)}</p>'
    return notes


def _method_texts(results: StudyResults) -> dict[str, Any]:
    """Write the methodology in words, for the HTML and the workbook's "Metodologia" sheet.

    Frame and sample, response rates, the weighting steps, the variance method and the
    reliability rules.
    """
    cfg = results.config
    lang = cfg.language
    t = _TEXT[lang]
    s = results.data.summary()
    counted = {
        "N": int(s.get("frame_units", len(results.units))),
        "H": int(results.units[cfg.strata].nunique()),
        "n": int(s.get("sampled", 0) or 0),
        "responses": int(s.get("responses", 0)),
    }
    frame_text = t["frame"].format(
        N=_fmt(counted["N"], lang),
        H=_fmt(counted["H"], lang),
        n=_fmt(counted["n"], lang),
        responses=_fmt(counted["responses"], lang),
        **{f"{k}_noun": _counted(k, v, lang) for k, v in counted.items()},
        linked=_fmt(s.get("linked", 0), lang),
        unmatched=_fmt(s.get("unmatched_responses", 0), lang),
    )
    overall = _rates_frame(results).iloc[-1]
    rates_text = t["rates_text"].format(
        rr1=_fmt_pct(overall["RR1"], lang),
        rr3=_fmt_pct(overall["RR3"], lang),
        e=_fmt(overall["e"], lang, 3),
    )
    df_values = pd.to_numeric(results.funnel["df"], errors="coerce").dropna().unique()
    df_text = _fmt(df_values[0], lang) if len(df_values) == 1 else "\u2014"
    steps = [t["w_design"], *(
        _twophase_text(results) if results.followup is not None else _nonresponse_text(cfg, t)
    )]  # fmt: skip
    return {
        "frame": frame_text,
        "rates": rates_text,
        "steps": steps,
        "variance": t["variance_text"].format(df=df_text),
        "reliability": reliability_footnote(
            thresholds=cfg.thresholds, lang=lang, marker=MARKER, min_n=cfg.min_n
        ),
    }


# ------------------------------------------------------------- the next wave
_PLAN_TEXT: dict[str, dict[str, str]] = {
    "pl": {
        "plan": "Plan następnej edycji",
        "targets": (
            "Cele precyzji następnej edycji: współczynnik zmienności (CV) szacunku {targets}."
        ),
        "draw": (
            "Przy wskaźnikach realizacji i zróżnicowaniu odpowiedzi w warstwach z tej edycji "
            "należy wylosować {n} {n_noun} z {N} {N_noun} operatu. Oczekiwana liczba "
            "podmiotów o ustalonych danych (odpowiedź na ankietę albo stwierdzona "
            "niekwalifikowalność) to około {m}."
        ),
        "draw_fixed": (
            "Zadana wielkość próby następnej edycji: {n} z {N} {N_noun} operatu. Oczekiwana "
            "liczba podmiotów o ustalonych danych (odpowiedź na ankietę albo stwierdzona "
            "niekwalifikowalność) to około {m}."
        ),
        "met": "Oczekiwane współczynniki zmienności spełniają wszystkie cele.",
        "unmet": "Celów nieosiągniętych przy tej wielkości próby: {k} z {K}.",
        "infeasible": (
            "{these} nie da się osiągnąć przy wskaźnikach realizacji z tej edycji nawet "
            "przy losowaniu całego operatu ({N} {N_noun}); tabela podaje najmniejsze "
            "osiągalne współczynniki zmienności."
        ),
        "pooled_one": (
            "W warstwie {strata} było zbyt mało ustalonych podmiotów, by ocenić zróżnicowanie; "
            "przyjęto wartości dla całej próby."
        ),
        "pooled_many": (
            "W warstwach {strata} było zbyt mało ustalonych podmiotów, by ocenić "
            "zróżnicowanie; przyjęto wartości dla całej próby."
        ),
        "strata_table": "Próba następnej edycji według warstw",
        "cv_table": "Oczekiwana precyzja następnej edycji",
        "N": "Podmioty w operacie",
        "n": "Do wylosowania",
        "m": "Oczekiwane podmioty o ustalonych danych",
        "where": "Zakres",
        "target": "Cel CV",
        "expected": "Oczekiwany CV",
        "best": "Najmniejszy osiągalny CV",
        "overall": "ogółem",
        "these": "Tego celu|Tych celów",
        "up_to": "do {cv} {where}",
        "and": " i ",
        "each": "w każdej grupie zmiennej „{label}”",
        "of": "sumy zmiennej „{label}”",
    },
    "en": {
        "plan": "Plan for the next wave",
        "targets": (
            "Precision targets for the next wave: a coefficient of variation (CV) of {targets}."
        ),
        "draw": (
            "With this wave's response and spread by stratum, {n} of the {N} frame "
            "{N_noun} should be drawn. Their values are expected to become known for about "
            "{m} of them (an answer to the questionnaire, or a unit found ineligible)."
        ),
        "draw_fixed": (
            "The next wave's sample is set at {n} of the {N} frame {N_noun}. Their values are "
            "expected to become known for about {m} of them (an answer to the questionnaire, "
            "or a unit found ineligible)."
        ),
        "met": "The expected coefficients of variation meet every target.",
        "unmet": "Targets not met with this sample size: {k} of {K}.",
        "infeasible": (
            "{these} cannot be met with this wave's response even drawing the whole "
            "frame ({N} {N_noun}); the table gives the smallest achievable coefficients of "
            "variation."
        ),
        "pooled_one": (
            "Stratum {strata} had too few units of known values to estimate their spread; "
            "the whole sample's values are used."
        ),
        "pooled_many": (
            "Strata {strata} had too few units of known values to estimate their spread; "
            "the whole sample's values are used."
        ),
        "strata_table": "The next wave's sample by stratum",
        "cv_table": "Expected precision of the next wave",
        "N": "Frame units",
        "n": "To draw",
        "m": "Expected units of known values",
        "where": "Scope",
        "target": "Target CV",
        "expected": "Expected CV",
        "best": "Smallest achievable CV",
        "overall": "overall",
        "these": "This target|These targets",
        "up_to": "up to {cv} {where}",
        "and": " and ",
        "each": "in each group of “{label}”",
        "of": "the total of “{label}”",
    },
}
_PLAN_WHAT = {  # what a CV target is about: "współczynnik zmienności szacunku ..." (genitive)
    "pl": {
        "active": "liczby aktywnych podmiotów",
        "earning": "liczby podmiotów prowadzących działalność zarobkową",
        "employing": "liczby podmiotów zatrudniających na umowę o pracę",
        "workers": "liczby osób pracujących",
        "emp_uop": "liczby zatrudnionych na umowę o pracę",
        "emp_civil": "liczby osób na umowach cywilnoprawnych",
    },
    "en": {
        "active": "the number of active entities",
        "earning": "the number of earning entities",
        "employing": "the number of entities employing staff",
        "workers": "the number of people working",
        "emp_uop": "the number of employees",
        "emp_civil": "the number of people on civil-law contracts",
    },
}
_PLAN_EACH = {  # "w każdym podregionie" / "in each subregion"
    "pl": {
        "subregion": "w każdym podregionie",
        "nuts3": "w każdym podregionie",
        "entity_type": "w każdym typie podmiotu",
        "powiat_name": "w każdym powiecie",
        "teryt_powiat": "w każdym powiecie",
        "es_category": "w każdej kategorii ekonomii społecznej",
        "stratum": "w każdej warstwie",
    },
    "en": {
        "subregion": "in each subregion",
        "nuts3": "in each subregion",
        "entity_type": "in each entity type",
        "powiat_name": "in each powiat",
        "teryt_powiat": "in each powiat",
        "es_category": "in each social-economy category",
        "stratum": "in each stratum",
    },
}
_PLAN_SHEETS = {
    "pl": ("Alokacja", "Oczekiwane CV", "Próba", "Metadane"),
    "en": ("Allocation", "Expected CVs", "Sample", "Metadata"),
}
PLAN_FILES: tuple[str, ...] = ("plan.xlsx", "allocation.csv", "sample.csv")
"""What :func:`write_plan` writes (``es-survey plan``)."""


def _plan_quantity(variable: str, lang: Lang) -> str:
    """Return a table's name of a target variable ("Aktywne podmioty")."""
    if variable == "active":
        return _TEXT[lang]["active_entities"]
    stage = _STAGES[lang].get(variable)
    if stage and lang == "pl":
        return f"Podmioty {stage}"
    return stage.capitalize() if stage else _variable_label(variable, lang)


def _plan_scope(domain: Any, value: Any, lang: Lang) -> str:
    """Return where a target applies: "ogółem" or "podregion: kielecki"."""
    if domain is None or (isinstance(domain, float) and np.isnan(domain)):
        return _PLAN_TEXT[lang]["overall"]
    label = _value_labels(str(domain), lang).get(str(value), str(value))
    return f"{_register_label(str(domain), lang)}: {label}"


def _plan_targets_text(wave: NextWave, lang: Lang) -> str:
    """Write the targets in words: each variable, its CVs overall and by domain."""
    t = _PLAN_TEXT[lang]
    parts: dict[str, list[str]] = {}
    for target in dict.fromkeys(
        (str(v), None if d is None or d != d else str(d), float(c))
        for v, d, c in zip(
            wave.allocation.cv["variable"], wave.allocation.cv["domain"],
            wave.allocation.cv["target_cv"], strict=True,
        )
    ):  # fmt: skip
        variable, domain, cv = target
        if domain is None:
            where = t["overall"]
        else:
            label = _register_label(domain, lang)
            where = _PLAN_EACH[lang].get(domain) or t["each"].format(label=label)
        parts.setdefault(variable, []).append(
            t["up_to"].format(cv=_pct_text(cv, lang), where=where)
        )
    return "; ".join(
        f"{_PLAN_WHAT[lang].get(v) or t['of'].format(label=_variable_label(v, lang))} "
        f"{t['and'].join(p)}"
        for v, p in parts.items()
    )


def _plan_html(results: StudyResults) -> str:
    """Write the plan of the next wave (``[plan]``): targets, sample by stratum, CVs."""
    if getattr(results.config, "plan", None) is None:
        return ""
    wave = plan_next_wave(results, strict=False)
    lang = results.config.language
    t = _PLAN_TEXT[lang]
    frame = wave.allocation.to_frame()
    N, n = int(frame["N"].sum()), int(frame["n"].sum())
    m = float(frame["expected_respondents"].sum())
    nouns = ("podmiot", "podmioty", "podmiotów")
    if lang == "pl":
        n_noun = polish_plural(n, *nouns)
        of_noun = polish_plural(N, "podmiotu", "podmiotów", "podmiotów")
        all_noun = polish_plural(N, *nouns)
    else:
        n_noun, of_noun, all_noun = "", "units" if N != 1 else "unit", "units"
    cvs = wave.allocation.cv
    text = [t["targets"].format(targets=_plan_targets_text(wave, lang))] if len(cvs) else []
    if wave.feasible:
        fixed = getattr(results.config.plan, "n", None) is not None  # n given: not found
        text.append(
            t["draw_fixed" if fixed else "draw"].format(
                n=_fmt(n, lang), n_noun=n_noun, N=_fmt(N, lang), N_noun=of_noun, m=_fmt(m, lang)
            )
        )
        met = int(cvs["met"].sum())
        if len(cvs):
            text.append(t["met"] if met == len(cvs) else t["unmet"].format(
                k=_fmt(len(cvs) - met, lang), K=_fmt(len(cvs), lang)))  # fmt: skip
    else:
        these = t["these"].split("|")[0 if len(cvs) == 1 else 1]
        text.append(t["infeasible"].format(these=these, N=_fmt(N, lang), N_noun=all_noun))
    pooled = [str(s) for s in wave.strata.loc[wave.strata["pooled"], wave.stratum]]
    if pooled:
        key = "pooled_one" if len(pooled) == 1 else "pooled_many"
        text.append(t[key].format(strata=", ".join(pooled)))
    html_text = f"<p>{_esc(' '.join(text))}</p>"
    if wave.feasible:
        shown = pd.DataFrame({
            "stratum": [*map(str, frame["stratum"]), _TEXT[lang]["total_row"]],
            "N": [_fmt(v, lang) for v in [*frame["N"], N]],
            "n": [_fmt(v, lang) for v in [*frame["n"], n]],
            "m": [_fmt(v, lang) for v in [*frame["expected_respondents"], m]],
        })  # fmt: skip
        html_text += _html_table(
            shown, {"stratum": _TEXT[lang]["stratum"], "N": t["N"], "n": t["n"], "m": t["m"]},
            caption=t["strata_table"], numeric=["N", "n", "m"], table_id="table-plan_strata",
        )  # fmt: skip
    table = pd.DataFrame({
        "quantity": [_plan_quantity(str(v), lang) for v in cvs["variable"]],
        "where": [_plan_scope(d, v, lang) for d, v in zip(cvs["domain"], cvs["domain_value"],
                                                           strict=True)],
        "target": [_pct_text(float(v), lang) for v in cvs["target_cv"]],
        "expected": [_fmt_pct(v, lang, 2) for v in cvs["expected_cv"]],
    })  # fmt: skip
    heads = {"quantity": _TEXT[lang]["quantity"], "where": t["where"], "target": t["target"],
             "expected": t["expected"] if wave.feasible else t["best"]}  # fmt: skip
    if len(cvs):
        html_text += _html_table(
            table, heads, caption=t["cv_table"], numeric=["target", "expected"],
            table_id="table-plan_cv",
        )  # fmt: skip
    return html_text


def _render_html(
    results: StudyResults,
    tables: list[_Estimates],
    figures: Mapping[str, tuple[str, bytes]],
) -> str:
    cfg = results.config
    lang = cfg.language
    t = _TEXT[lang]
    thresholds = cfg.thresholds
    by_name = {tab.name: tab for tab in tables}
    numbers: dict[str, int] = {}

    def fig(name: str) -> str:
        if name not in figures:
            return ""
        numbers.setdefault(name, len(numbers) + 1)
        title, svg = figures[name]
        return _figure_html(name, title, svg, lang, numbers[name])

    domains = list(results.funnel_by)
    sections: list[tuple[str, str, str]] = []

    # summary
    head = _Estimates(
        "headline",
        t["headline_table"],
        results.headline().rename(columns={"quantity": "variable"}),
        None,
        results,
    )
    head.display["variable"] = [
        t["active_entities"] if q == "active" else _variable_label(q, lang)
        for q in results.headline()["quantity"]
    ]
    head.headers["variable"] = t["quantity"]
    summary = (
        f'<p class="headline" id="headline">{_esc(headline_text(results))}</p>'
        + _estimates_html(head, lang, thresholds)
    )
    sections.append(("summary", t["summary"], summary))

    # methodology
    texts = _method_texts(results)
    frame_text, rates_text, steps = texts["frame"], texts["rates"], texts["steps"]
    disp = _dispositions_frame(results)
    counted = [c for c in disp.columns if c != "disposition"]
    disp_html = _html_table(
        disp.assign(**{c: [_fmt(v, lang) for v in disp[c]] for c in counted}),
        _dispositions_heads(disp, lang),
        caption=t["dispositions"],
        numeric=counted,
        table_id="table-dispositions",
    )
    rates = _rates_frame(results)
    shown = rates.copy().astype(object)
    for c in _RATE_COUNTS:
        if c in shown.columns:
            shown[c] = [_fmt(v, lang) for v in rates[c]]
    shown["e"] = [_fmt(v, lang, 3) for v in rates["e"]]
    for c in _RATES:
        shown[c] = [_fmt_pct(v, lang) for v in rates[c]]
    rates_html = _html_table(
        shown,
        {cfg.strata: t["stratum"], "ineligible": t["ineligible_col"]},
        caption=t["rates_table"],
        numeric=[c for c in shown.columns if c != cfg.strata],
        table_id="table-response_rates",
    )
    w = _weights_frame(results)
    w_shown = w.astype(object).copy()
    for c in ("n", "n_eff"):
        w_shown[c] = [_fmt(v, lang, 0 if c == "n" else 1) for v in w[c]]
    for c in ("sum", "mean"):
        w_shown[c] = [_fmt(v, lang, 1) for v in w[c]]
    for c in ("min", "max", "deff_kish"):
        w_shown[c] = [_fmt(v, lang, 3 if c != "deff_kish" else 2) for v in w[c]]
    w_shown["cv"] = [_fmt_pct(v, lang) for v in w["cv"]]
    w_heads = {
        "weights": t["weighting"],
        "deff_kish": "deff (Kish)",
        "n_eff": t["n_eff"],
        "sum": "\u03a3w",
        "cv": "CV",
        "min": t["w_min"],
        "max": t["w_max"],
        "mean": t["w_mean"],
    }
    weights_html = _html_table(
        w_shown, w_heads, numeric=list(w.columns[1:]), table_id="table-weights"
    )
    method = (
        f"<p>{_esc(frame_text)}</p>{disp_html}<p>{_esc(rates_text)}</p>{rates_html}"
        + _representativity_html(results)
        + fig("response_rates")
        + f"<h3>{_esc(t['weighting'])}</h3><ol>"
        + "".join(f"<li>{_esc(x)}</li>" for x in steps)
        + "</ol>"
        + _followup_html(results)
        + f"<p>{_esc(t['w_summary'])}</p>{weights_html}"
        + fig("weights")
        + f"<h3>{_esc(t['variance'])}</h3><p>{_esc(texts['variance'])}</p>"
        + f"<h3>{_esc(t['reliability'])}</h3><p>{_esc(texts['reliability'])}</p>"
    )
    sections.append(("methodology", t["methodology"], method))

    # funnel
    funnel = (
        f"<p>{_esc(t['funnel_text'])}</p>"
        + _estimates_html(by_name["funnel"], lang, thresholds)
        + fig("funnel")
        + _estimates_html(by_name["totals"], lang, thresholds)
        + _sensitivity_html(results)
        + fig("sensitivity")
    )
    sections.append(("funnel", t["funnel"], funnel))
    if results.indicators is not None:
        sections.append(("indicators", t["indicators"], _indicators_html(results)))

    # by domain
    for domain in domains:
        body = _cross_tables_html(results, domain)  # the long listing: in the workbook
        body += _suppression_notes(results, domain)
        body += _indicators_by_html(results, domain)
        if domain in _POWIAT_DOMAINS:
            for stage in results.small_area:
                if _sae_name(stage) in by_name:
                    body += _estimates_html(by_name[_sae_name(stage)], lang, thresholds)
                    body += f'<p class="note">{_esc(_sae_note(results, stage))}</p>'
        figs = [
            n
            for n in figures
            if n.startswith(f"{slug(domain)}_")
            or (domain in _POWIAT_DOMAINS and n.startswith("powiat_"))
        ]
        body += "".join(fig(n) for n in figs)
        title = t["by"].format(domain=_by_phrase(domain, lang))
        sections.append((f"by-{domain}", title, body))

    # validation
    probs = _problems_frame(results)
    if len(probs):
        probs_html = _html_table(
            probs.assign(
                severity=[_SEVERITY[lang].get(str(v), str(v)) for v in probs["severity"]],
                count=[_fmt(v, lang) for v in probs["count"]],
            ),
            {"rule": t["rule"], "severity": t["severity"], "count": t["count"]},
            caption=t["problems"],
            numeric=["count"],
            table_id="table-problems",
        )
    else:
        probs_html = f"<p>{_esc(t['no_problems'])}</p>"
    counts, detail = _consistency_frames(results)
    if len(detail):
        cons_html = _html_table(
            counts.assign(count=[_fmt(v, lang) for v in counts["count"]]),
            {"check": t["check"], "count": t["count"]},
            caption=t["consistency_counts"],
            numeric=["count"],
            table_id="table-consistency_counts",
        ) + _html_table(
            detail,
            {c: t.get(c, c) for c in detail.columns},
            caption=t["consistency"],
            wrap=["variables", "values", "decision"],
            table_id="table-consistency",
        )
    else:
        cons_html = f"<p>{_esc(t['no_consistency'])}</p>"
    sections.append(("validation", t["validation"], probs_html + cons_html))

    # the next wave ([plan])
    plan_html = _plan_html(results)
    if plan_html:
        sections.append(("plan", _PLAN_TEXT[lang]["plan"], plan_html))

    # metadata
    meta = pd.DataFrame(_metadata_rows(results), columns=["key", "value"])
    sections.append(
        (
            "metadata",
            t["metadata"],
            _html_table(
                meta,
                {"key": t["key"], "value": t["value"]},
                wrap=["value"],
                table_id="table-metadata",
            ),
        )
    )

    nav = "".join(f'<li><a href="#{_esc(i)}">{_esc(h)}</a></li>' for i, h, _ in sections)
    body = "".join(
        f'<section id="{_esc(i)}"><h2>{_esc(h)}</h2>{content}</section>'
        for i, h, content in sections
    )
    intro = t["report_of"].format(year=cfg.year, source=cfg.source, date=cfg.date.isoformat())
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{_esc(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="es_survey {_esc(results.metadata.get("es_survey_version", ""))}">\n'  # noqa: E501
        f"<title>{_esc(cfg.title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
        f'<header><h1>{_esc(cfg.title)}</h1><p class="meta">{_esc(intro)}</p>'
        f'<nav aria-label="{_esc(t["contents"])}"><ol>{nav}</ol></nav></header>\n'
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


# ------------------------------------------------------------------ workbook
_TABS: dict[str, dict[str, str]] = {  # worksheet titles: a reader's words, <= 31 characters
    "pl": {
        "funnel": "Lejek",
        "totals": "Sumy",
        "funnel_by": "Lejek według {domain}",
        "totals_by": "Sumy według {domain}",
        "cross": "Przekrój według {domain}",
        "small_area_of": "Model powiatowy – {what}",
        "indicators": "Wskaźniki",
        "response_rates": "Realizacja próby",
        "followup": "Dobadanie",
        "sensitivity": "Wrażliwość",
        "dispositions": "Wyniki realizacji",
        "weights": "Wagi",
        "problems": "Problemy w danych",
        "consistency": "Kontrole spójności",
        "method": "Metodologia",
        "metadata": "Metadane",
    },
    "en": {
        "funnel": "Funnel",
        "totals": "Totals",
        "funnel_by": "Funnel by {domain}",
        "totals_by": "Totals by {domain}",
        "cross": "Cross-table by {domain}",
        "small_area_of": "Powiat model – {what}",
        "indicators": "Indicators",
        "response_rates": "Response rates",
        "followup": "Follow-up",
        "sensitivity": "Sensitivity",
        "dispositions": "Dispositions",
        "weights": "Weights",
        "problems": "Data problems",
        "consistency": "Consistency checks",
        "method": "Methodology",
        "metadata": "Metadata",
    },
}
_TAB_WHAT = {  # short names of the small-area quantities, for a worksheet's title
    "pl": {"active": "aktywne", "workers": "pracujący", "employing": "zatrudniające",
           "earning": "zarobkowe", "emp_uop": "umowy o pracę", "emp_civil": "umowy cywilne"},
    "en": {"active": "active", "workers": "workers", "employing": "employing",
           "earning": "earning", "emp_uop": "employees", "emp_civil": "civil contracts"},
}  # fmt: skip


def _tab(key: str, lang: Lang) -> str:
    """Return a table's worksheet title (``funnel_by_powiat_name``: "Lejek według powiatu")."""
    tabs = _TABS[lang]
    if key in tabs:
        return tabs[key]
    for prefix in ("funnel_by", "totals_by", "cross"):
        if key.startswith(prefix + "_"):
            return tabs[prefix].format(domain=_by_phrase(key[len(prefix) + 1 :], lang))
    if key.startswith("small_area"):
        stage = key.removeprefix("small_area").lstrip("_") or "active"
        what = _TAB_WHAT[lang].get(stage) or _variable_label(stage, lang)
        return tabs["small_area_of"].format(what=what)
    return key


def _sheet_title(name: str, taken: Sequence[str]) -> str:
    """Return a valid, unused worksheet title (no brackets, colon, star, ? or slashes; <= 31)."""
    base = re.sub(r"[\[\]:*?/\\]", "_", str(name)).strip("'") or "sheet"
    title = base[:31]
    k = 2
    while title in taken:
        suffix = f"~{k}"
        title = base[: 31 - len(suffix)] + suffix
        k += 1
    return title


def _indicators_sheet(book: Any, results: StudyResults) -> None:
    """Every indicator, overall and by domain: numbers with formats, suppressed left empty."""
    cfg = results.config
    lang = cfg.language
    t = _TEXT[lang]
    by_name = {i.name: i for i in cfg.indicators}
    parts = []
    for domain in dict.fromkeys(results.indicators["domain"] if results.indicators is not None
                                else []):  # fmt: skip
        rows = _indicator_rows(results, str(domain))
        labels = (_value_labels(str(domain), lang) or {}) if domain else {}
        hidden = rows["suppressed"].to_numpy(dtype=bool)
        parts.append(pd.DataFrame({
            "indicator": [by_name[str(n)].label(lang) for n in rows["indicator"]],
            "unit": [by_name[str(n)].unit(lang) for n in rows["indicator"]],
            "domain": _domain_label(str(domain), lang) if domain else t["cross_total"],
            "value": [labels.get(str(v), str(v)) for v in rows["domain_value"]] if domain else "",
            **{c: rows[c].where(~hidden) for c in ("estimate", "lower", "upper", "cv")},
            "n": rows["n"],
            "reliability": [RELIABILITY_LABELS[lang][str(c)] for c in rows["reliability"]],
        }))  # fmt: skip
    frame = pd.concat(parts, ignore_index=True)
    heads = [t["indicator"], t["unit"], t["domain"], t["value"],
             *(_XLSX_HEADERS[lang][c] for c in ("estimate", "lower", "upper", "cv", "n",
                                                  "reliability"))]  # fmt: skip
    number = "#,##0.0##"
    _sheet(book, _tab("indicators", lang), frame, heads,
           {"estimate": number, "lower": number, "upper": number,
            "cv": _NUMBER_FORMATS["cv"], "n": _NUMBER_FORMATS["count"]})  # fmt: skip


def _cross_sheet(book: Any, results: StudyResults, domain: str) -> None:
    """Write a cross-table as numbers: "." for a suppressed cell, "*" by the number format."""
    from openpyxl.styles import Alignment, Font

    heads, names, cells = _cross_data(results, domain)
    title = _tab(f"cross_{domain}", results.config.language)
    ws = book.create_sheet(title=_sheet_title(title, book.sheetnames))
    ws.append(heads)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    count = _NUMBER_FORMATS["count"]
    for name, row in zip(names, cells, strict=True):
        ws.append([name, *(MARKER if c[0] == "suppressed" else c[1] for c in row)])
        for cell, (state, value, _, _) in zip(ws[ws.max_row][1:], row, strict=True):
            if state == "suppressed":
                cell.alignment = Alignment(horizontal="right")
            elif value == 0:
                cell.number_format = '"–"'
            else:
                cell.number_format = count + ('"*"' if state == "caution" else "")
    ws.freeze_panes = "B2"
    ws.column_dimensions["A"].width = max(12, *(len(n) + 2 for n in names))


def _subscripted(text: str) -> Any:
    """Return ``text`` as workbook rich text with one-letter indices (N_h) as subscripts."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    parts: list[Any] = []
    at = 0
    for match in _SUBSCRIPT.finditer(text):
        parts.append(text[at : match.start(2) - 1])  # up to and with the letter, not "_"
        parts.append(TextBlock(InlineFont(vertAlign="subscript"), match.group(2)))
        at = match.end()
    parts.append(text[at:])
    return CellRichText(*(p for p in parts if not isinstance(p, str) or p))


def _sheet(
    book: Any,
    name: str,
    frame: pd.DataFrame,
    headers: Sequence[str],
    formats: Mapping[str, str],
) -> None:
    """One worksheet: bold frozen header, numbers as numbers with formats, widths."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    ws = book.create_sheet(title=_sheet_title(name, book.sheetnames))
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = [len(str(h)) for h in headers]
    for row in frame.itertuples(index=False, name=None):
        values: list[Any] = []
        for j, value in enumerate(row):
            if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
                values.append(None)
                continue
            if isinstance(value, np.bool_ | bool):
                value = bool(value)
            elif isinstance(value, np.integer):
                value = int(value)
            elif isinstance(value, np.floating | float):
                value = float(value)
            elif not isinstance(value, int):
                value = str(value)
            values.append(value)
            widths[j] = max(widths[j], len(str(value)) if isinstance(value, str) else 10)
        ws.append(values)
        for cell, value in zip(ws[ws.max_row], values, strict=True):
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # data text, never a formula
            elif isinstance(value, str) and _SUBSCRIPT.search(value):
                cell.value = _subscripted(value)  # N_h as N with a subscript h, as in the HTML
    for j, col in enumerate(frame.columns):
        fmt = formats.get(col)
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j + 1, max_col=j + 1):
                cell.number_format = fmt
        ws.column_dimensions[get_column_letter(j + 1)].width = min(max(8, widths[j] + 2), 60)
    ws.freeze_panes = "A2"


def _estimate_sheet_frame(
    table: _Estimates, lang: Lang, thresholds: Sequence[float]
) -> tuple[pd.DataFrame, list[str]]:
    """Keys, numbers, reliability label and the reason of suppression."""
    t = _TEXT[lang]
    heads = _XLSX_HEADERS[lang]
    num = table.numeric
    cols = [
        *table.keys,
        *[
            c
            for c in ("estimate", "se", "lower", "upper", "level", "cv", "df", "n")
            if c in num.columns
        ],
    ]
    out = num[cols].copy()
    out["reliability"] = num["reliability_label"].to_numpy()
    why = t["flag_suppressed"].format(hi=_pct_text(thresholds[2], lang))
    # ``None`` given as the 0-d object array that ``np.where`` itself would make of it
    out["flag"] = np.where(table.suppressed, why, np.array(None, dtype=object))
    headers = [
        table.headers.get(c, heads.get(c, c)) if c in table.keys else heads.get(c, c) for c in cols
    ] + [heads["reliability"], t["flag"]]
    return out, headers


def _write_workbook(
    results: StudyResults, tables: list[_Estimates], path: Path, say: Callable[[str], None]
) -> Path:
    from openpyxl import Workbook

    cfg = results.config
    lang = cfg.language
    t = _TEXT[lang]
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        say(f"table {table.name}")
        frame, headers = _estimate_sheet_frame(table, lang, cfg.thresholds)
        _sheet(book, _tab(table.name, lang), frame, headers, _NUMBER_FORMATS)
    for domain in results.funnel_by:
        say(f"table cross_{domain}")
        _cross_sheet(book, results, domain)
    if results.indicators is not None:
        say("table indicators")
        _indicators_sheet(book, results)
    say("table response_rates")
    rates = _rates_frame(results)
    rate_formats = {c: _NUMBER_FORMATS["count"] for c in _RATE_COUNTS}
    rate_formats |= {"e": _NUMBER_FORMATS["e"]} | {c: _NUMBER_FORMATS["rate"] for c in _RATES}
    rate_heads = [t["ineligible_col"] if c == "ineligible" else c for c in rates.columns[1:]]
    _sheet(book, _tab("response_rates", lang), rates, [t["stratum"], *rate_heads], rate_formats)
    if results.followup is not None:
        say("table followup")
        fu = results.followup
        _sheet(
            book, _tab("followup", lang), fu, t["followup_cols"].split("|"),
            {c: _NUMBER_FORMATS["count"] for c in fu.columns[1:]},
        )  # fmt: skip
    if results.sensitivity is not None:
        say("table sensitivity")
        sens = results.sensitivity.copy()
        sens["quantity"] = [
            t["active_entities"]
            if q == "active"
            else _STAGES[lang].get(q) or _variable_label(q, lang)
            for q in sens["quantity"]
        ]
        heads = [
            t["quantity"],
            t["sens_delta"],
            *(_XLSX_HEADERS[lang][c] for c in ("estimate", "se", "lower", "upper")),
        ]
        _sheet(book, _tab("sensitivity", lang), sens, heads, {"delta": "0.000", **_NUMBER_FORMATS})
    say("table dispositions")
    disp = _dispositions_frame(results)
    _sheet(
        book,
        _tab("dispositions", lang),
        disp,
        list(_dispositions_heads(disp, lang).values()),
        {c: _NUMBER_FORMATS["count"] for c in disp.columns if c != "disposition"},
    )
    say("table weights")
    w = _weights_frame(results)
    w_formats = {
        c: _NUMBER_FORMATS["weight"] for c in ("sum", "min", "max", "mean", "deff_kish", "n_eff")
    }
    w_formats |= {"n": _NUMBER_FORMATS["count"], "cv": _NUMBER_FORMATS["cv"]}
    _sheet(
        book,
        _tab("weights", lang),
        w,
        [
            t["weighting"],
            "n",
            "\u03a3w",
            t["w_min"],
            t["w_max"],
            t["w_mean"],
            "CV",
            "deff (Kish)",
            t["n_eff"],
        ],
        w_formats,
    )
    say("table problems")
    probs = _problems_frame(results)
    _sheet(
        book,
        _tab("problems", lang),
        probs,
        [t["rule"], t["severity"], t["count"]],
        {"count": _NUMBER_FORMATS["count"]},
    )
    say("table consistency")
    _, detail = _consistency_frames(results)
    _sheet(
        book,
        _tab("consistency", lang),
        detail,
        [t.get(c, c) for c in detail.columns],
        {"source_row": "0"},
    )
    say(f"table {t['method_sheet']}")
    texts = _method_texts(results)
    lines = [
        (t["methodology"], texts["frame"]),
        ("", texts["rates"]),
        *(
            (t["weighting"] if i == 0 else "", f"{i + 1}. {x}")
            for i, x in enumerate(texts["steps"])
        ),
        (t["variance"], texts["variance"]),
        (t["reliability"], texts["reliability"]),
    ]
    _sheet(book, _tab("method", lang), pd.DataFrame(lines, columns=["key", "value"]),
           [t["section"], t["text"]], {})  # fmt: skip
    meta = _metadata_rows(results)
    meta.append(
        (
            t["footnote"],
            reliability_footnote(
                thresholds=cfg.thresholds, lang=lang, marker=MARKER, min_n=cfg.min_n
            ),
        )
    )
    _sheet(
        book,
        _tab("metadata", lang),
        pd.DataFrame(meta, columns=["key", "value"]),
        [t["key"], t["value"]],
        {},
    )
    book.properties.creator = f"es_survey {results.metadata.get('es_survey_version', '')}"
    book.properties.title = cfg.title
    stamp = dt.datetime(cfg.date.year, cfg.date.month, cfg.date.day)
    return save_workbook(book, path, time=stamp)


# ----------------------------------------------------------------------- CSV
_CSV_COLUMNS = (
    "table",
    "domain",
    "domain_value",
    "stage",
    "variable",
    "statistic",
    "estimate",
    "se",
    "lower",
    "upper",
    "level",
    "cv",
    "df",
    "n",
    "reliability",
)


def _estimates_csv(results: StudyResults) -> pd.DataFrame:
    """Every estimate row in tidy long form, suppressed numbers left empty."""
    cfg = results.config
    parts = []
    sources: list[tuple[str, str | None, pd.DataFrame]] = [
        ("funnel", None, results.funnel),
        ("totals", None, results.totals),
    ]
    for by, by_frame in results.funnel_by.items():
        sources.append(("funnel", by, by_frame))
        if by in results.totals_by:
            sources.append(("totals", by, results.totals_by[by]))
    for table, domain, frame in sources:
        num = reliability_frame(
            frame.reset_index(drop=True), thresholds=cfg.thresholds, min_n=cfg.min_n, lang="en"
        )
        out = pd.DataFrame(
            {
                "table": table,
                "domain": domain or "",
                "domain_value": num[domain].astype(str) if domain else "",
            },
            index=num.index,
        )
        for col in _CSV_COLUMNS[3:]:
            if col == "reliability":  # "register": an exact count from the register
                register = num.get("source", pd.Series("", index=num.index)) == "register"
                out[col] = np.where(register, "register", num["reliability"].astype(str))
            elif col in num.columns:
                out[col] = num[col]
            elif col == "statistic":
                out[col] = "total"
            else:
                out[col] = np.nan if col not in ("stage", "variable") else ""
        parts.append(out)
    if results.indicators is not None:
        for domain in dict.fromkeys(results.indicators["domain"].astype(str)):
            rows = _indicator_rows(results, domain)
            hidden = rows["suppressed"].to_numpy(dtype=bool)
            out = pd.DataFrame({
                "table": "indicators", "domain": domain, "domain_value": rows["domain_value"],
                "stage": "", "variable": rows["indicator"], "statistic": rows["kind"],
                **{c: rows[c].where(~hidden) for c in ("estimate", "se", "lower", "upper")},
                **{c: rows[c] for c in ("level", "cv", "df", "n", "reliability")},
            })  # fmt: skip
            out["cv"] = out["cv"].where(~hidden)
            parts.append(out)
    return pd.concat(parts, ignore_index=True)[list(_CSV_COLUMNS)]


# ---------------------------------------------------------------------- main
REPORT_FILES: tuple[str, ...] = (
    "index.html",
    "tables.xlsx",
    "estimates.csv",
    "figures",
    "report.pdf",
)
"""What a report folder holds (``figures`` is a folder; ``report.pdf`` with ``--pdf``)."""


def check_report_folder(out: str | Path, config: StudyConfig) -> None:
    r"""Refuse a report folder that is a file, or whose files would replace an input.

    Called before any work by the command line (and again by :func:`write_report`).

    Parameters
    ----------
    out : str or pathlib.Path
        The report folder.
    config : StudyConfig
        The study (its input files are protected).

    Raises
    ------
    DataError
        One line naming the folder or the file.

    Examples
    --------
    >>> import tempfile
    >>> from es_survey.study import load_config
    >>> tmp = Path(tempfile.mkdtemp())
    >>> _ = (tmp / "study.toml").write_text(
    ...     '[study]\nyear = 2023\n[inputs]\nframe = "f.xlsx"\nresponses = "r.xlsx"\n')
    >>> cfg = load_config(tmp / "study.toml")
    >>> blocker = tmp / "report"
    >>> _ = blocker.write_text("not a folder")
    >>> check_report_folder(blocker, cfg)
    Traceback (most recent call last):
    ...
    es_survey.errors.DataError: the output folder ... is a file; name a folder for the outputs
    """
    given = (config.path, config.frame, config.responses, config.codebook, config.rules,
             config.terc, config.population)  # fmt: skip
    inputs = [p for p in given if p is not None]
    check_outputs(out, REPORT_FILES, inputs)
    figures = Path(out) / "figures"
    if figures.exists() and not figures.is_dir():
        raise DataError(f"{figures} is a file; the report writes its figures in that folder")


_SPECS: list[tuple[str, str, Callable[[], Any]]] = []
"""The figures being drawn, for the forked workers of :func:`_render_figures`."""


def _draw_and_save(index: int, fig_dir: Path) -> bytes:
    """Draw figure ``index`` of :data:`_SPECS`, save its PNG and SVG, return the SVG."""
    stem, _, draw = _SPECS[index]
    ax = draw()
    _, svg = save_figures(ax, [fig_dir / f"{stem}.png", fig_dir / f"{stem}.svg"])
    fig = ax.figure if isinstance(ax, Axes) else ax
    fig.clear()  # free the drawing: a report has some twenty figures
    return svg.read_bytes()


def _render_figures(
    specs: list[tuple[str, str, Callable[[], Any]]],
    out: Path,
    fig_dir: Path,
    say: Callable[[str], None],
    workers: int | None,
    meanwhile: Callable[[], _T],
) -> tuple[list[bytes], _T]:
    """Draw every figure, in forked processes where possible, and run ``meanwhile``.

    Returns the SVGs in the order of ``specs`` and what ``meanwhile`` returned (it runs
    in this process while the workers draw).
    """
    for stem, _, _ in specs:
        inside(out, fig_dir / f"{stem}.svg")  # names from data stay in the folder
    n = workers if workers is not None else _default_workers()
    if n < 1:
        raise DesignError(f"workers={workers!r} must be a whole number >= 1")
    _SPECS[:] = specs
    try:
        if n == 1 or len(specs) < 2:
            svgs = []
            for i, (stem, _, _) in enumerate(specs):
                say(f"figure {stem}")
                svgs.append(_draw_and_save(i, fig_dir))
            return svgs, meanwhile()
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=n, mp_context=context) as pool:
            futures = [pool.submit(_draw_and_save, i, fig_dir) for i in range(len(specs))]
            other = meanwhile()
            svgs = []
            for (stem, _, _), future in zip(specs, futures, strict=True):
                svgs.append(future.result())  # a worker's exception is raised here
                say(f"figure {stem}")
            return svgs, other
    finally:
        _SPECS.clear()


def _default_workers() -> int:
    """Two drawing processes on Linux with two cores or more, else one."""
    if not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2:
        return 1
    return 2


def write_report(
    results: StudyResults,
    out_dir: str | Path | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> dict[str, Path]:
    r"""Write a study's report: ``index.html``, ``tables.xlsx``, ``estimates.csv``, figures.

    Parameters
    ----------
    results : StudyResults
        From :func:`~es_survey.study.run_study`.
    out_dir : str or pathlib.Path, optional
        Output folder (created if missing); ``results.config.output_dir`` by
        default. Files of the same names are overwritten; nothing else is touched.
    progress : callable, optional
        Called with a short message before each figure and table (the CLI
        prints them).
    workers : int, optional
        Processes that draw the figures (default: 2 where the machine has two
        cores or more and processes can be forked, i.e. on Linux; else 1). The
        files are the same byte for byte whatever the number.

    Returns
    -------
    dict of str to pathlib.Path
        Every file written, keyed by its path relative to ``out_dir``
        (``"index.html"``, ``"tables.xlsx"``, ``"estimates.csv"``,
        ``"figures/funnel.png"``, ``"figures/funnel.svg"``, …).

    Notes
    -----
    ``index.html`` holds the summary (headline figures in words with their
    intervals), the methodology (frame and sample, AAPOR dispositions and
    response rates overall and by stratum, the weighting steps with a weight
    summary and Kish's deff, the variance method with the design degrees of
    freedom), the funnel, the tables and figures by each domain, the
    validation problems by rule, the consistency findings, the plan for the next
    wave (with ``[plan]``: :func:`~es_survey.plan.plan_next_wave`; targets that cannot
    be met are said, with the best achievable CVs) and the metadata.
    Figures are embedded as SVG data URIs, so the page needs no other file.

    Workbook sheets: ``funnel``, ``totals``, ``funnel_by_<domain>`` and
    ``totals_by_<domain>`` for each configured domain, ``response_rates``,
    ``dispositions``, ``weights``, ``problems``, ``consistency``, ``metadata``.

    Raises
    ------
    DesignError
        If ``results`` is not a StudyResults.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from es_survey.study import load_config, run_study
    >>> from es_survey.synth import write_demo
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_demo(d)
    >>> _ = (d / "study.toml").write_text(
    ...     '[study]\nname = "demo"\nyear = 2023\ndate = "2026-11-26"\nlanguage = "en"\n'
    ...     '[inputs]\nframe = "frame.xlsx"\nresponses = "responses.xlsx"\n'
    ...     '[estimates]\ndomains = ["subregion"]\n', encoding="utf-8")
    >>> files = write_report(run_study(load_config(d / "study.toml")), d / "report")
    >>> sorted(k for k in files if not k.startswith("figures/"))
    ['estimates.csv', 'index.html', 'tables.xlsx']
    """
    if not isinstance(results, StudyResults):
        raise DesignError(
            f"results must be the StudyResults of run_study, got {type(results).__name__}"
        )
    say = progress or (lambda message: None)
    cfg = results.config
    out = Path(cfg.output_dir if out_dir is None else out_dir)
    check_report_folder(out, cfg)
    _CROSS.clear()  # computed once for this report
    fig_dir = out / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    figures: dict[str, tuple[str, bytes]] = {}
    specs = _figure_specs(results)

    def tables_and_files() -> list[_Estimates]:
        # done while the figures are drawn in other processes
        tables = _estimate_tables(results)
        say("tables.xlsx")
        written["tables.xlsx"] = _write_workbook(results, tables, out / "tables.xlsx", say)
        say("estimates.csv")
        written["estimates.csv"] = write_csv(_estimates_csv(results), out / "estimates.csv")
        return tables

    svgs, tables = _render_figures(specs, out, fig_dir, say, workers, tables_and_files)
    for (stem, title, _), svg in zip(specs, svgs, strict=True):
        for suffix in ("png", "svg"):
            written[f"figures/{stem}.{suffix}"] = fig_dir / f"{stem}.{suffix}"
        figures[stem] = (title, svg)
    say("index.html")
    html_path = out / "index.html"
    html_path.write_text(_render_html(results, tables, figures), encoding="utf-8", newline="\n")
    written["index.html"] = html_path
    return written


_PLAN_HEADERS = {
    "pl": {
        "stratum": "Warstwa", "N": "Podmioty w operacie (N)", "n": "Do wylosowania (n)",
        "expected_respondents": "Oczekiwane podmioty o ustalonych danych",
        "take_all": "Cała warstwa", "regon": "REGON", "krs": "KRS", "nip": "NIP", "name": "Nazwa",
        "cost": "Koszt", "response_rate": "Odsetek ustalonych", "pooled": "Wartości całej próby",
        "variable": "Zmienna", "domain": "Domena", "domain_value": "Wartość domeny",
        "target_cv": "Cel CV", "expected_cv": "Oczekiwany CV", "met": "Cel osiągnięty",
        "prn": "Trwała liczba losowa", "prn_start": "Punkt startowy losowania (PRN)",
        "previous": "W próbie tej edycji",
        "sampled": "W próbie następnej edycji", "N_h": "N_h", "n_h": "n_h",
        "pi": "Prawdopodobieństwo wyboru", "key": "Klucz", "value": "Wartość",
        "plan_seed": "Ziarno trwałych liczb losowych",
        "prn_created": "Trwałe liczby losowe utworzone teraz (zachowaj kolumnę prn)",
    },
    "en": {
        "stratum": "Stratum", "N": "Frame units (N)", "n": "To draw (n)",
        "expected_respondents": "Expected units of known values",
        "take_all": "Whole stratum", "regon": "REGON", "krs": "KRS", "nip": "NIP", "name": "Name",
        "cost": "Cost", "response_rate": "Known share", "pooled": "Whole-sample values",
        "variable": "Variable", "domain": "Domain", "domain_value": "Domain value",
        "target_cv": "Target CV", "expected_cv": "Expected CV", "met": "Target met",
        "prn": "Permanent random number", "prn_start": "Start point of the selection (PRN)",
        "previous": "In this wave's sample",
        "sampled": "In the next wave's sample", "N_h": "N_h", "n_h": "n_h",
        "pi": "Inclusion probability", "key": "Key", "value": "Value",
        "plan_seed": "Seed of the permanent random numbers",
        "prn_created": "Permanent random numbers created now (keep the prn column)",
    },
}  # fmt: skip
_PLAN_FORMATS = {
    "N": _NUMBER_FORMATS["count"], "n": _NUMBER_FORMATS["count"],
    "expected_respondents": "#,##0.0", "cost": "#,##0.0", "response_rate": _NUMBER_FORMATS["rate"],
    "target_cv": _NUMBER_FORMATS["cv"], "expected_cv": _NUMBER_FORMATS["cv"],
    "prn": "0.000000", "pi": "0.0000", "N_h": _NUMBER_FORMATS["count"],
    "n_h": _NUMBER_FORMATS["count"],
}  # fmt: skip


def _allocation_frame(wave: NextWave) -> pd.DataFrame:
    """Return the allocation by stratum with the strata table's rate, pooling and domains."""
    frame = wave.allocation.to_frame()
    strata = wave.strata.set_index(wave.stratum)
    extra = ["response_rate", "pooled"] + [
        c for c in ("subregion", "es_category", "entity_type", "nuts3", "powiat_name")
        if c in strata.columns
    ]  # fmt: skip
    for col in extra:
        frame[col] = strata[col].reindex(frame["stratum"]).to_numpy()
    return frame.rename(columns={"stratum": wave.stratum})


def write_plan(
    results: StudyResults, out_dir: str | Path, wave: NextWave | None = None
) -> dict[str, Path]:
    r"""Write the next wave's plan: ``plan.xlsx``, ``allocation.csv`` and ``sample.csv``.

    ``allocation.csv`` has one row per stratum (:meth:`~es_survey.plan.Allocation.to_frame`
    with the strata table's ``response_rate``, ``pooled`` and domain columns);
    ``sample.csv`` every frame unit with its permanent random number ``prn``,
    ``previous`` (drawn this wave), ``sampled`` (drawn for the next), ``N_h``, ``n_h``
    and ``pi``. ``plan.xlsx`` holds the same two tables, the expected CVs and the
    metadata (version, input hashes, seeds). Text cells that a spreadsheet would run as
    formulas are neutralised (:func:`~es_survey.safety.write_csv`); the workbook is
    byte-identical for the same inputs (:func:`~es_survey.io.save_workbook`).

    Parameters
    ----------
    results : StudyResults
        From :func:`~es_survey.study.run_study` of a study with ``[plan]``.
    out_dir : str or pathlib.Path
        Output folder (created if missing).
    wave : NextWave, optional
        :func:`~es_survey.plan.plan_next_wave` of ``results`` (computed when None).

    Returns
    -------
    dict of str to pathlib.Path
        The files written, keyed by name.

    Raises
    ------
    DataError
        For an output folder that is a file or whose files would replace an input.
    DesignError
        Without ``[plan]``, or for targets that cannot be met.

    Examples
    --------
    A finished wave in brief (``run_study`` gives the real thing; see
    :func:`~es_survey.plan.plan_next_wave`): 10 frame units in 2 strata.

    >>> import tempfile, types
    >>> from es_survey.study import load_config
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "study.toml").write_text(
    ...     '[study]\nyear = 2023\n[inputs]\nframe = "f.xlsx"\nresponses = "r.xlsx"\n'
    ...     '[plan]\ntargets = [{variable = "active", cv = 0.2}]\n', encoding="utf-8")
    >>> units = pd.DataFrame({
    ...     "stratum": ["a"] * 6 + ["b"] * 4,
    ...     "sampled": [True] * 4 + [False] * 2 + [True] * 4,
    ...     "active": pd.array([True, False, True, None, None, None, True, True, False,
    ...                         None], dtype="boolean")})
    >>> outcome = (["complete"] * 3 + ["refusal"] + ["not_sampled"] * 2
    ...            + ["complete"] * 3 + ["non_contact"])
    >>> dispositions = pd.DataFrame({"disposition": outcome,
    ...                              "respondent": [o == "complete" for o in outcome]})
    >>> results = types.SimpleNamespace(config=load_config(d / "study.toml"), units=units,
    ...                                 dispositions=dispositions, metadata={})
    >>> sorted(write_plan(results, d / "plan"))
    ['allocation.csv', 'plan.xlsx', 'sample.csv']
    """
    from openpyxl import Workbook

    cfg = results.config
    out = Path(out_dir)
    inputs = [p for p in (cfg.path, cfg.frame, cfg.responses, cfg.codebook, cfg.rules)
              if p is not None]  # fmt: skip
    check_outputs(out, PLAN_FILES, inputs)
    wave = plan_next_wave(results) if wave is None else wave
    if not wave.feasible or wave.sample is None:
        raise DesignError("the plan's targets cannot be met; there is no sample to write")
    lang = cfg.language
    heads = _PLAN_HEADERS[lang]
    allocation = _allocation_frame(wave)
    cvs = wave.allocation.cv
    sample = wave.sample
    out.mkdir(parents=True, exist_ok=True)
    written = {
        "allocation.csv": write_csv(allocation, out / "allocation.csv"),
        "sample.csv": write_csv(sample, out / "sample.csv"),
    }

    cv_heads = {}  # cv_<variable>[_<domain>] of Allocation.to_frame, in words
    for variable, domain in zip(cvs["variable"], cvs["domain"], strict=True):
        scoped = isinstance(domain, str) and bool(domain)
        name = f"cv_{variable}" + (f"_{domain}" if scoped else "")
        cv_heads[name] = f"{heads['expected_cv']}: {_plan_quantity(str(variable), lang)}" + (
            f" – {_register_label(str(domain), lang)}" if scoped else ""
        )

    def header(col: str) -> str:
        if col == wave.stratum:
            return heads["stratum"]
        return cv_heads.get(col) or heads.get(col) or _register_label(col, lang)

    book = Workbook()
    book.remove(book.active)
    names = _PLAN_SHEETS[lang]
    shown_cvs = cvs.assign(
        variable=[_plan_quantity(str(v), lang) for v in cvs["variable"]],
        domain=pd.Series([_register_label(str(d), lang) if isinstance(d, str) else None
                          for d in cvs["domain"]], index=cvs.index, dtype=object),
    )  # fmt: skip
    for name, frame in zip(names[:3], (allocation, shown_cvs, sample), strict=True):
        formats = dict(_PLAN_FORMATS) | {c: _NUMBER_FORMATS["cv"] for c in frame.columns
                                         if str(c).startswith("cv_")}  # fmt: skip
        _sheet(book, name, frame, [header(str(c)) for c in frame.columns], formats)
    meta = _metadata_rows(results)
    meta += [(heads["plan_seed"], str(wave.seed)), (heads["prn_created"], str(wave.prn_created))]
    _sheet(book, names[3], pd.DataFrame(meta, columns=["key", "value"]),
           [heads["key"], heads["value"]], {})  # fmt: skip
    book.properties.creator = f"es_survey {results.metadata.get('es_survey_version', '')}"
    book.properties.title = cfg.title
    stamp = dt.datetime(cfg.date.year, cfg.date.month, cfg.date.day)
    written["plan.xlsx"] = save_workbook(book, out / "plan.xlsx", time=stamp)
    return written
