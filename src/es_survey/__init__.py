"""es_survey: design-based estimation for surveys of the social-economy sector.

Load a sector survey and its sampling frame, validate them, and estimate totals,
means, ratios, proportions and quantiles with standard errors that agree with
R's ``survey`` package.

``import es_survey`` is light: the names below are imported on first use (PEP 562), so
the command line starts at once and a notebook pays for scipy or matplotlib only
when it estimates or draws.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from es_survey._version import __version__

if TYPE_CHECKING:
    from es_survey.charts import (
        plot_by_category,
        plot_direct_vs_model,
        plot_funnel,
        plot_powiat_intervals,
        plot_powiat_tiles,
        plot_response_rates,
        plot_weights,
        save_figure,
    )
    from es_survey.classify import classify, consistency_report
    from es_survey.codebook import Codebook, load_codebook
    from es_survey.design import SurveyDesign
    from es_survey.dispositions import (
        assign_dispositions,
        eligibility_rate,
        reconcile,
        response_rates,
    )
    from es_survey.errors import (
        CalibrationError,
        DataError,
        DesignError,
        EsSurveyError,
        PrecisionWarning,
    )
    from es_survey.estimate import Estimate
    from es_survey.funnel import population_totals, sector_funnel, survey_frame
    from es_survey.indicators import Indicator, estimate_indicators, parse_indicators
    from es_survey.io import read_frame, read_responses
    from es_survey.maps import plot_powiat_map, plot_voivodeship_map
    from es_survey.plan import (
        Allocation,
        Target,
        allocate,
        select_sample,
        split_take_all,
        strata_from_study,
    )
    from es_survey.replicate import ReplicateDesign
    from es_survey.report import headline_text, write_report
    from es_survey.rules import RuleSet, evaluate, load_rules
    from es_survey.sae import FayHerriot, fay_herriot, small_area
    from es_survey.sensitivity import delta_sensitivity, r_indicator
    from es_survey.tables import (
        format_interval,
        format_number,
        format_percent,
        polish_plural,
        publication_table,
        reliability,
        reliability_footnote,
        reliability_frame,
    )
    from es_survey.twophase import TwoPhaseDesign
    from es_survey.validate import SurveyData, check_frame, check_responses, link, load_study

_LAZY: dict[str, str] = {
    "Indicator": "es_survey.indicators",
    "estimate_indicators": "es_survey.indicators",
    "parse_indicators": "es_survey.indicators",
    "CalibrationError": "es_survey.errors",
    "Codebook": "es_survey.codebook",
    "DataError": "es_survey.errors",
    "DesignError": "es_survey.errors",
    "EsSurveyError": "es_survey.errors",
    "Estimate": "es_survey.estimate",
    "FayHerriot": "es_survey.sae",
    "PrecisionWarning": "es_survey.errors",
    "ReplicateDesign": "es_survey.replicate",
    "RuleSet": "es_survey.rules",
    "SurveyData": "es_survey.validate",
    "SurveyDesign": "es_survey.design",
    "TwoPhaseDesign": "es_survey.twophase",
    "assign_dispositions": "es_survey.dispositions",
    "check_frame": "es_survey.validate",
    "check_responses": "es_survey.validate",
    "classify": "es_survey.classify",
    "consistency_report": "es_survey.classify",
    "delta_sensitivity": "es_survey.sensitivity",
    "eligibility_rate": "es_survey.dispositions",
    "evaluate": "es_survey.rules",
    "fay_herriot": "es_survey.sae",
    "format_interval": "es_survey.tables",
    "format_number": "es_survey.tables",
    "format_percent": "es_survey.tables",
    "Allocation": "es_survey.plan",
    "Target": "es_survey.plan",
    "allocate": "es_survey.plan",
    "select_sample": "es_survey.plan",
    "plot_powiat_map": "es_survey.maps",
    "plot_voivodeship_map": "es_survey.maps",
    "split_take_all": "es_survey.plan",
    "strata_from_study": "es_survey.plan",
    "polish_plural": "es_survey.tables",
    "headline_text": "es_survey.report",
    "link": "es_survey.validate",
    "load_codebook": "es_survey.codebook",
    "load_rules": "es_survey.rules",
    "load_study": "es_survey.validate",
    "plot_by_category": "es_survey.charts",
    "plot_direct_vs_model": "es_survey.charts",
    "plot_funnel": "es_survey.charts",
    "plot_powiat_intervals": "es_survey.charts",
    "plot_powiat_tiles": "es_survey.charts",
    "plot_response_rates": "es_survey.charts",
    "plot_weights": "es_survey.charts",
    "population_totals": "es_survey.funnel",
    "publication_table": "es_survey.tables",
    "r_indicator": "es_survey.sensitivity",
    "read_frame": "es_survey.io",
    "read_responses": "es_survey.io",
    "reconcile": "es_survey.dispositions",
    "reliability": "es_survey.tables",
    "reliability_footnote": "es_survey.tables",
    "reliability_frame": "es_survey.tables",
    "response_rates": "es_survey.dispositions",
    "save_figure": "es_survey.charts",
    "sector_funnel": "es_survey.funnel",
    "small_area": "es_survey.sae",
    "survey_frame": "es_survey.funnel",
    "write_report": "es_survey.report",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'es_survey' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names (imported or not yet)."""
    return sorted(__all__)


__all__ = [
    "Allocation",
    "CalibrationError",
    "Codebook",
    "DataError",
    "DesignError",
    "EsSurveyError",
    "Estimate",
    "FayHerriot",
    "Indicator",
    "PrecisionWarning",
    "ReplicateDesign",
    "RuleSet",
    "SurveyData",
    "SurveyDesign",
    "Target",
    "TwoPhaseDesign",
    "__version__",
    "allocate",
    "assign_dispositions",
    "check_frame",
    "check_responses",
    "classify",
    "consistency_report",
    "delta_sensitivity",
    "eligibility_rate",
    "estimate_indicators",
    "evaluate",
    "fay_herriot",
    "format_interval",
    "format_number",
    "format_percent",
    "headline_text",
    "link",
    "load_codebook",
    "load_rules",
    "load_study",
    "parse_indicators",
    "plot_by_category",
    "plot_direct_vs_model",
    "plot_funnel",
    "plot_powiat_intervals",
    "plot_powiat_map",
    "plot_powiat_tiles",
    "plot_response_rates",
    "plot_voivodeship_map",
    "plot_weights",
    "polish_plural",
    "population_totals",
    "publication_table",
    "r_indicator",
    "read_frame",
    "read_responses",
    "reconcile",
    "reliability",
    "reliability_footnote",
    "reliability_frame",
    "response_rates",
    "save_figure",
    "sector_funnel",
    "select_sample",
    "small_area",
    "split_take_all",
    "strata_from_study",
    "survey_frame",
    "write_report",
]
