"""Rules on the legacy 统计表 (2016–2018 national form; ``legacy.*``).

``where`` is the parent key for sums (``requests_received``, ``staff_total`` …) and the bounded key for
the ``≤`` rules (the 其中 row, the channel, or the 办结/答复 row).
"""

from __future__ import annotations

from collections.abc import Iterator

from nianbao.validator.rules.compare import compare
from nianbao.validator.rules.context import Context
from nianbao.validator.rules.labels import LEGACY_LABELS
from nianbao.validator.rules.model import Check, Verdict

TABLE = "legacy"

# parent → the children that add up to it
SUMS: dict[str, tuple[str, ...]] = {
    "requests_received": ("requests_in_person", "requests_fax", "requests_online", "requests_mail"),
    "requests_completed": ("completed_on_time", "completed_extended"),
    "answers_total": (
        "answers_already_public", "answers_granted", "answers_partial", "answers_denied",
        "answers_not_this_agency", "answers_not_exist", "answers_amend", "answers_other_channel",
    ),
    "answers_denied": (
        "denied_state_secret", "denied_commercial_secret", "denied_privacy",
        "denied_security", "denied_not_gov_info", "denied_other_law",
    ),
    "review_total": ("review_upheld", "review_corrected", "review_other"),
    "litigation_total": ("litigation_upheld", "litigation_corrected", "litigation_other"),
    "staff_total": ("staff_fulltime", "staff_parttime"),
}  # fmt: skip

# 其中 row → its parent
OF_WHICH: dict[str, str] = {
    "active_normative": "active_total",
    "press_conferences_leaders": "press_conferences",
    "online_interviews_leaders": "online_interviews",
}
CHANNELS = ("channel_gazette", "channel_website", "channel_weibo", "channel_wechat", "channel_other")
ANSWERED = ("requests_completed", "answers_total")


def _sum_rule(parent: str) -> Check:
    children = SUMS[parent]

    def check(ctx: Context) -> Iterator[Verdict]:
        view = ctx.table(TABLE)
        if view is None:
            return
        yield compare(
            where=parent,
            left=view.operands(children),
            right=[view.operand(parent)],
            relation="eq",
            text=f"分项之和 = {LEGACY_LABELS[parent]}",
        )

    check.__doc__ = f"{parent} = {' + '.join(children)}."
    return check


received_channels = _sum_rule("requests_received")
completed_split = _sum_rule("requests_completed")
answers_sum = _sum_rule("answers_total")
refusal_reasons = _sum_rule("answers_denied")
review_sum = _sum_rule("review_total")
litigation_sum = _sum_rule("litigation_total")
staff_sum = _sum_rule("staff_total")


def _bounded(ctx: Context, pairs: dict[str, str]) -> Iterator[Verdict]:
    view = ctx.table(TABLE)
    if view is None:
        return
    for child, parent in pairs.items():
        yield compare(
            where=child,
            left=[view.operand(child)],
            right=[view.operand(parent)],
            relation="le",
            text=f"{LEGACY_LABELS[child]} ≤ {LEGACY_LABELS[parent]}",
        )


def of_which(ctx: Context) -> Iterator[Verdict]:
    """Every 其中 row is at most its parent."""
    yield from _bounded(ctx, OF_WHICH)


def channel_le_total(ctx: Context) -> Iterator[Verdict]:
    """Each channel count is at most 主动公开政府信息数 (their sum may exceed it: one item, many channels)."""
    yield from _bounded(ctx, dict.fromkeys(CHANNELS, "active_total"))


def answered_le_received(ctx: Context) -> Iterator[Verdict]:
    """申请办结数 and 申请答复数 are at most 收到申请数 (no carry-over row exists, so this only warns)."""
    yield from _bounded(ctx, dict.fromkeys(ANSWERED, "requests_received"))
