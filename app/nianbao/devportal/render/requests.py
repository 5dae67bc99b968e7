"""Table 三、收到和处理政府信息公开申请情况 (report-format.md §2.1 T3; identical header in both generations).

Ten columns: three label columns and seven value columns (自然人, five 法人或其他组织 kinds, 总计). The
top-left note spans 3 × 3; ``三、本年度办理结果`` spans every results row (20 in gen2019, 22 in gen2021);
the (三)(四)(五) groups — and (六) in gen2021 — span their numbered sub-rows. Only part (六) differs between
generations, so the generation modules pass it in.
"""

from __future__ import annotations

from dataclasses import dataclass

from nianbao.devportal.model import Report
from nianbao.devportal.render.cells import table, td, tr, wrapped
from nianbao.shared.record import REQUEST_COLUMNS

NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
ORG_KINDS = ("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")


@dataclass(frozen=True)
class Leaf:
    key: str
    label: str


@dataclass(frozen=True)
class Group:
    """A label cell spanning its numbered sub-rows; the group itself has no numbers."""

    label: str
    leaves: tuple[Leaf, ...]


ResultBlock = Leaf | Group

COMMON_RESULTS: tuple[ResultBlock, ...] = (
    Leaf("granted", "（一）予以公开"),
    Leaf("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    Group(
        "（三）不予公开",
        (
            Leaf("denied_state_secret", "1.属于国家秘密"),
            Leaf("denied_law_prohibited", "2.其他法律行政法规禁止公开"),
            Leaf("denied_security", "3.危及“三安全一稳定”"),
            Leaf("denied_third_party", "4.保护第三方合法权益"),
            Leaf("denied_internal", "5.属于三类内部事务信息"),
            Leaf("denied_process", "6.属于四类过程性信息"),
            Leaf("denied_enforcement", "7.属于行政执法案卷"),
            Leaf("denied_query", "8.属于行政查询事项"),
        ),
    ),
    Group(
        "（四）无法提供",
        (
            Leaf("unavailable_not_held", "1.本机关不掌握相关政府信息"),
            Leaf("unavailable_needs_creation", "2.没有现成信息需要另行制作"),
            Leaf("unavailable_unclear", "3.补正后申请内容仍不明确"),
        ),
    ),
    Group(
        "（五）不予处理",
        (
            Leaf("refused_petition", "1.信访举报投诉类申请"),
            Leaf("refused_repeat", "2.重复申请"),
            Leaf("refused_publication", "3.要求提供公开出版物"),
            Leaf("refused_mass", "4.无正当理由大量反复申请"),
            Leaf("refused_confirm", "5.要求行政机关确认或重新出具已获取信息"),
        ),
    ),
)
RESULTS_TOTAL = Leaf("results_total", "（七）总计")


def requests_table(report: Report, *, other: ResultBlock) -> str:
    """Render T3 for ``report``; ``other`` is part (六) as the report's generation defines it."""
    spaced = report.presentation.spaced_headers
    rows = [
        tr([td(NOTE, rowspan=3, colspan=3, align="left"), td("申请人情况", colspan=7)]),
        tr([td("自然人", rowspan=2), td("法人或其他组织", colspan=5), td(wrapped("总计", on=spaced), rowspan=2)]),
        tr([td(wrapped(kind, on=spaced and len(kind) == 4)) for kind in ORG_KINDS]),
        tr([td("一、本年新收政府信息公开申请数量", colspan=3), *_values(report, "new")]),
        tr([td("二、上年结转政府信息公开申请数量", colspan=3), *_values(report, "carried_in")]),
    ]
    blocks = (*COMMON_RESULTS, other, RESULTS_TOTAL)
    span = sum(len(b.leaves) if isinstance(b, Group) else 1 for b in blocks)
    lead = [td("三、本年度办理结果", rowspan=span)]  # only the first results row carries the group cell
    for block in blocks:
        if isinstance(block, Leaf):
            rows.append(tr([*lead, td(block.label, colspan=2, align="left"), *_values(report, block.key)]))
            lead = []
            continue
        group = [td(block.label, rowspan=len(block.leaves), align="left")]
        for leaf in block.leaves:
            rows.append(tr([*lead, *group, td(leaf.label, align="left"), *_values(report, leaf.key)]))
            lead, group = [], []
    rows.append(tr([td("四、结转下年度继续办理", colspan=3), *_values(report, "carried_out")]))
    return table(rows)


def _values(report: Report, row: str) -> list[str]:
    return [td(report.cell_text("requests", f"{row}.{column}")) for column in REQUEST_COLUMNS]
