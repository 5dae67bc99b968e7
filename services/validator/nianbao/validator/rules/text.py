"""Rules comparing the narrative with the tables, and checking the addresses it gives (``text.*``).

All have ``where`` = null. A rule whose claim the narrative does not make yields no finding; a claim whose
table value is blank or missing is not assessable. Legacy reports are compared with the 统计表.
"""

from __future__ import annotations

from collections.abc import Iterator

from nianbao.validator.rules import narrative
from nianbao.validator.rules.compare import combine, compare
from nianbao.validator.rules.context import Context
from nianbao.validator.rules.hosts import hosts_in, is_allowed
from nianbao.validator.rules.model import Operand, Verdict

# claim → (modern "table.key"s, legacy "table.key"s) whose sum the claim states
_TOTALS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "new": (("requests.new.total",), ("legacy.requests_received",)),
    "done": (("requests.results_total.total",), ("legacy.answers_total",)),
    "review": (("review_litigation.review.total",), ("legacy.review_total",)),
    "litigation": (
        ("review_litigation.direct.total", "review_litigation.after_review.total"),
        ("legacy.litigation_total",),
    ),
    "requests": (("requests.new.total",), ("legacy.requests_received",)),
}
_TOTALS["review_litigation"] = (
    _TOTALS["review"][0] + _TOTALS["litigation"][0],
    _TOTALS["review"][1] + _TOTALS["litigation"][1],
)


def table_operands(ctx: Context, claim: str) -> list[Operand]:
    """The table values a narrative claim is about: the modern tables if present, else the legacy 统计表."""
    modern, legacy = _TOTALS[claim]
    refs = legacy if ctx.table("legacy") is not None and ctx.table(modern[0].split(".")[0]) is None else modern
    operands = []
    for ref in refs:
        table, key = ref.split(".", 1)
        view = ctx.table(table)
        operands.append(view.operand(key) if view is not None else Operand(ref, None, "absent"))
    return operands


def _stated(figure: narrative.Figure) -> Operand:
    return Operand("narrative", figure.value, local=False)


def _figure_rule(
    ctx: Context, figure: narrative.Figure | None, claim: str, labels: tuple[str, str]
) -> Iterator[Verdict]:
    """``labels``: how the compared value is called in the modern tables and in the legacy 统计表."""
    if figure is None:
        return
    operands = table_operands(ctx, claim)
    label = labels[1] if operands[0].ref.startswith("legacy.") else labels[0]
    yield compare(
        where=None,
        left=[_stated(figure)],
        right=operands,
        relation="eq",
        text=f"正文“{figure.excerpt}” = 表中{label}",
    )


def requests_new(ctx: Context) -> Iterator[Verdict]:
    """The narrative's 收到/受理…申请N件 equals 本年新收 (总计), or the legacy 收到申请数."""
    yield from _figure_rule(ctx, narrative.requests_new(ctx.text), "new", ("本年新收申请总计", "收到申请数"))


def requests_done(ctx: Context) -> Iterator[Verdict]:
    """The narrative's 办理/答复N件 equals (七)总计 (总计), or the legacy 申请答复数."""
    yield from _figure_rule(ctx, narrative.requests_done(ctx.text), "done", ("办理结果总计", "申请答复数"))


_PROCEEDING_LABELS = {"review": "行政复议总计", "litigation": "行政诉讼总计", "review_litigation": "复议与诉讼总计"}


def reviewlit(ctx: Context) -> Iterator[Verdict]:
    """Stated 行政复议N件 equals review.total; 行政诉讼M件 equals direct.total + after_review.total."""
    figures = narrative.proceedings_figures(ctx.text)
    verdicts = [
        compare(
            where=None,
            left=[_stated(figure)],
            right=table_operands(ctx, kind),
            relation="eq",
            text=f"正文“{figure.excerpt}” = 表中{_PROCEEDING_LABELS[kind]}",
        )
        for kind, figure in figures.items()
    ]
    if verdicts:
        yield combine(None, verdicts)


_ZERO_LABELS = {"review": "行政复议总计", "litigation": "行政诉讼总计", "requests": "本年新收申请总计"}


def zero_claim(ctx: Context) -> Iterator[Verdict]:
    """Narrative "无…行政复议/行政诉讼" and "未收到…申请" imply the matching table totals are 0."""
    claims = narrative.zero_claims(ctx.text)
    verdicts = [
        compare(
            where=None,
            left=table_operands(ctx, kind),
            right=[],
            relation="eq",
            text=f"正文“{excerpt}” ⇒ 表中{_ZERO_LABELS[kind]} = 0",
        )
        for kind, excerpt in claims.items()
    ]
    if verdicts:
        yield combine(None, verdicts)


def offsite_url(ctx: Context) -> Iterator[Verdict]:
    """Every web address in the report is on ``*.gov.cn``, the report's own host, or a configured host.

    A lapsed government domain bought by a spammer keeps being printed in old reports (seed 001).
    """
    hosts = hosts_in(ctx.text)
    if not hosts:
        return
    offsite = [h for h in hosts if not is_allowed(h, ctx.allowed_hosts)]
    if offsite:
        message = f"web address off government hosts: {', '.join(offsite)}"
        yield Verdict(None, "fail", lhs=len(offsite), rhs=0, message=message)
    else:
        yield Verdict(None, "pass", lhs=0, rhs=0, message=f"all web addresses allowed: {', '.join(hosts)}")
