"""HTML reports: a run's dataset, training curves, evaluation and videos on one page.

from robotlearn.report import ReportData, write_report, line_chart
"""

from robotlearn.report.html import (
    DatasetSummary,
    EvaluationSummary,
    ReportData,
    TrainingSummary,
    png_data_uri,
    render_report,
    write_report,
)
from robotlearn.report.svg import line_chart, nice_ticks

__all__ = [
    "DatasetSummary",
    "EvaluationSummary",
    "ReportData",
    "TrainingSummary",
    "line_chart",
    "nice_ticks",
    "png_data_uri",
    "render_report",
    "write_report",
]
