"""The gen2021 (国办公开办函〔2021〕30号) tables: the rebuilt T2, T3 with three (六) sub-rows, T4."""

from __future__ import annotations

from nianbao.devportal.model import Report
from nianbao.devportal.render.active import ActiveBlock, ActiveRow, active_table
from nianbao.devportal.render.requests import Group, Leaf, requests_table
from nianbao.devportal.render.review import review_table

_DECISIONS = (("本年处理决定数量", "decisions"),)

BLOCKS = (
    ActiveBlock(
        "第二十条第（一）项",
        (("本年制发件数", "issued"), ("本年废止件数", "repealed"), ("现行有效件数", "in_force")),
        (ActiveRow("规章", "regulations"), ActiveRow("行政规范性文件", "normative_docs")),
    ),
    ActiveBlock("第二十条第（五）项", _DECISIONS, (ActiveRow("行政许可", "licensing"),)),
    ActiveBlock(
        "第二十条第（六）项", _DECISIONS, (ActiveRow("行政处罚", "penalty"), ActiveRow("行政强制", "coercion"))
    ),
    ActiveBlock(
        "第二十条第（八）项",
        (("本年收费金额（单位：万元）", "amount_wan"),),
        (ActiveRow("行政事业性收费", "fees"),),
    ),
)
OTHER = Group(
    "（六）其他处理",
    (
        Leaf("other_no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
        Leaf("other_fee_unpaid", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
        Leaf("other_misc", "3.其他"),
    ),
)


def tables(report: Report) -> dict[str, str]:
    """The report's tables keyed by the ordinal of the section they follow."""
    return {
        "二": active_table(report, BLOCKS, header_overrides={}),
        "三": requests_table(report, other=OTHER),
        "四": review_table(report),
    }
