"""Rules on table T4, 四、政府信息公开行政复议、行政诉讼情况 (``review.total``, ``litigation.*``,
``reviewlit.nonneg_int``). ``where`` is the group key: ``review``, ``direct`` or ``after_review``."""

from __future__ import annotations

from collections.abc import Iterator

from nianbao.shared.record import REVIEW_COLUMNS, REVIEW_GROUPS
from nianbao.validator.rules.compare import compare, sign_check
from nianbao.validator.rules.context import Context
from nianbao.validator.rules.labels import REVIEW_GROUP_LABELS
from nianbao.validator.rules.model import Check, Verdict

TABLE = "review_litigation"
_PARTS = tuple(c for c in REVIEW_COLUMNS if c != "total")


def _group_total(group: str) -> Check:
    def check(ctx: Context) -> Iterator[Verdict]:
        view = ctx.table(TABLE)
        if view is None:
            return
        yield compare(
            where=group,
            left=view.operands([f"{group}.{c}" for c in _PARTS]),
            right=[view.operand(f"{group}.total")],
            relation="eq",
            text=f"结果维持+结果纠正+其他结果+尚未审结 = 总计 ({REVIEW_GROUP_LABELS[group]})",
        )

    check.__doc__ = f"{group}: upheld + corrected + other + pending = total."
    return check


review_total = _group_total("review")
direct_total = _group_total("direct")
after_review_total = _group_total("after_review")


def nonneg_int(ctx: Context) -> Iterator[Verdict]:
    """Per group: all five values are non-negative integers."""
    view = ctx.table(TABLE)
    if view is None:
        return
    for group in REVIEW_GROUPS:
        yield sign_check(
            where=group,
            operands=view.operands([f"{group}.{c}" for c in REVIEW_COLUMNS]),
            text=f"案件数为非负整数 ({REVIEW_GROUP_LABELS[group]})",
            integer=True,
        )
