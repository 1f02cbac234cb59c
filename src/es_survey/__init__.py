"""es_survey: design-based estimation for surveys of the social-economy sector.

Load a sector survey and its sampling frame, validate them, and estimate totals,
means, ratios, proportions and quantiles with standard errors that agree with
R's ``survey`` package.
"""

from __future__ import annotations

from es_survey._version import __version__
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
from es_survey.io import read_frame, read_responses
from es_survey.replicate import ReplicateDesign
from es_survey.report import headline_text, write_report
from es_survey.rules import RuleSet, evaluate, load_rules
from es_survey.sae import FayHerriot, fay_herriot, small_area
from es_survey.sensitivity import delta_sensitivity, r_indicator
from es_survey.tables import (
    format_interval,
    format_number,
    format_percent,
    publication_table,
    reliability,
    reliability_footnote,
    reliability_frame,
)
from es_survey.twophase import TwoPhaseDesign
from es_survey.validate import SurveyData, check_frame, check_responses, link, load_study

__all__ = [
    "CalibrationError",
    "Codebook",
    "DataError",
    "DesignError",
    "EsSurveyError",
    "Estimate",
    "FayHerriot",
    "PrecisionWarning",
    "ReplicateDesign",
    "RuleSet",
    "SurveyData",
    "SurveyDesign",
    "TwoPhaseDesign",
    "__version__",
    "assign_dispositions",
    "check_frame",
    "check_responses",
    "classify",
    "consistency_report",
    "delta_sensitivity",
    "eligibility_rate",
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
    "plot_by_category",
    "plot_direct_vs_model",
    "plot_funnel",
    "plot_powiat_intervals",
    "plot_powiat_tiles",
    "plot_response_rates",
    "plot_weights",
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
    "small_area",
    "survey_frame",
    "write_report",
]
