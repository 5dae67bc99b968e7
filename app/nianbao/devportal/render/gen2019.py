"""The gen2019 (试行, 国办公开办函〔2019〕60号) tables: T2 in five blocks, T3 with a single (六) row, T4."""

from __future__ import annotations

from nianbao.devportal.model import Report
from nianbao.devportal.render.active import ActiveBlock, ActiveRow, active_table
from nianbao.devportal.render.requests import Leaf, requests_table
from nianbao.devportal.render.review import review_table

_MADE = (("本年新制作数量", "new_made"), ("本年新公开数量", "new_published"), ("对外公开总数量", "total_published"))
_ITEMS = (("上一年项目数量", "prev_items"), ("本年增/减", "delta"), ("处理决定数量", "decisions"))

BLOCKS = (
    ActiveBlock(
        "第二十条第（一）项", _MADE, (ActiveRow("规章", "regulations"), ActiveRow("规范性文件", "normative_docs"))
    ),
    ActiveBlock(
        "第二十条第（五）项",
        _ITEMS,
        (ActiveRow("行政许可", "licensing"), ActiveRow("其他对外管理服务事项", "other_services")),
    ),
    ActiveBlock("第二十条第（六）项", _ITEMS, (ActiveRow("行政处罚", "penalty"), ActiveRow("行政强制", "coercion"))),
    ActiveBlock("第二十条第（八）项", _ITEMS[:2], (ActiveRow("行政事业性收费", "fees"),)),
    ActiveBlock(
        "第二十条第（九）项",
        (("采购项目数量", "projects"), ("采购总金额", "amount_wan")),
        (ActiveRow("政府集中采购", "procurement"),),
    ),
)
OTHER = Leaf("other", "（六）其他处理")


def tables(report: Report) -> dict[str, str]:
    """The report's tables keyed by the ordinal of the section they follow."""
    unit = report.presentation.amount_unit_in_header
    overrides = {"amount_wan": f"采购总金额（单位：{unit}）"} if unit else {}
    return {
        "二": active_table(report, BLOCKS, header_overrides=overrides),
        "三": requests_table(report, other=OTHER),
        "四": review_table(report),
    }
