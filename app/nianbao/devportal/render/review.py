"""Table 四、政府信息公开行政复议、行政诉讼情况: three header rows over one row of 15 values (§2.1 T4)."""

from __future__ import annotations

from nianbao.devportal.model import Report
from nianbao.devportal.render.cells import letterspaced, table, td, tr
from nianbao.shared.record import REVIEW_KEYS

OUTCOMES = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")


def review_table(report: Report) -> str:
    spaced = report.presentation.spaced_headers
    labels = [letterspaced(label, on=spaced) for label in OUTCOMES]
    rows = [
        tr([td("行政复议", colspan=5), td("行政诉讼", colspan=10)]),
        tr(
            [
                *(td(label, rowspan=2) for label in labels),
                td("未经复议直接起诉", colspan=5),
                td("复议后起诉", colspan=5),
            ]
        ),
        tr([td(label) for label in labels * 2]),
        tr([td(report.cell_text("review_litigation", key)) for key in REVIEW_KEYS]),
    ]
    return table(rows)
