"""Cross-year rules: this report against the same agency's report for N−1 (``xyear.*``).

Without a previous report there is no finding; one stored but unreadable makes each rule one
not-assessable finding saying why (:func:`~nianbao.validator.rules.context.needs_previous`). A previous
report for another year than N−1 makes every instance not assessable. A rule runs only when both reports
have the format it compares (e.g. ``xyear.items19`` needs two gen2019 reports, so only 2020 against 2019).
The previous report's cells are named in the message, not in ``cells`` (they belong to another report).
"""

from __future__ import annotations

from collections.abc import Iterator

from nianbao.shared.record import REQUEST_COLUMNS, Generation
from nianbao.validator.rules.active import DOCUMENT_ROWS, ITEM_ROWS_2019
from nianbao.validator.rules.compare import compare, fmt, not_assessable
from nianbao.validator.rules.context import Context, needs_previous
from nianbao.validator.rules.labels import ACTIVE_ROW_LABELS, REQUEST_COLUMN_LABELS
from nianbao.validator.rules.model import Operand, Verdict
from nianbao.validator.rules.views import TableView

# 现行有效件数 drifts from last year + 制发 − 废止 through amendments and expiries; only a gap beyond this
# is worth a warning: 2 documents or 10 % of the expected count, whichever is larger.
VALID21_ABS_TOLERANCE = 2
VALID21_REL_TOLERANCE = 0.10


def _pair(ctx: Context, table: str, previous_generations: tuple[Generation, ...]) -> tuple[TableView, Context] | None:
    """This year's view of ``table`` and the previous context, when the rule can apply at all."""
    view, previous = ctx.table(table), ctx.previous
    if view is None or previous is None or previous.generation not in previous_generations:
        return None
    return view, previous


def _previous_operand(ctx: Context, previous: Context, table: str, key: str) -> Operand:
    ref = f"{previous.year}:{table}.{key}"
    if ctx.year is None or previous.year != ctx.year - 1:
        return Operand(ref, None, "absent", local=False)
    view = previous.table(table)
    if view is None:
        return Operand(ref, None, "absent", local=False)
    found = view.operand(key)
    return Operand(ref, found.value, found.reason, local=False)


@needs_previous("上年结转 = 上一年度结转下年度")
def carry(ctx: Context) -> Iterator[Verdict]:
    """Per column: 上年结转 in N equals 结转下年度 in N−1."""
    if (pair := _pair(ctx, "requests", ("gen2019", "gen2021"))) is None:
        return
    view, previous = pair
    for col in REQUEST_COLUMNS:
        yield compare(
            where=col,
            left=[view.operand(f"carried_in.{col}")],
            right=[_previous_operand(ctx, previous, "requests", f"carried_out.{col}")],
            relation="eq",
            text=f"上年结转 = 上一年度结转下年度 ({REQUEST_COLUMN_LABELS[col]})",
        )


@needs_previous("上一年项目数量 = 上一年度的上一年项目数量+本年增/减")
def items19(ctx: Context) -> Iterator[Verdict]:
    """Per (五)(六)(八) row: 上一年项目数量 (N) = 上一年项目数量 + 本年增/减 (N−1)."""
    if (pair := _pair(ctx, "active", ("gen2019",))) is None:
        return
    view, previous = pair
    for row in ITEM_ROWS_2019:
        yield compare(
            where=row,
            left=[view.operand(f"{row}.prev_items")],
            right=[_previous_operand(ctx, previous, "active", f"{row}.{col}") for col in ("prev_items", "delta")],
            relation="eq",
            text=f"上一年项目数量 = 上一年度的上一年项目数量+本年增/减 ({ACTIVE_ROW_LABELS[row]})",
        )


@needs_previous("现行有效件数 ≈ 上一年度现行有效+本年制发−本年废止")
def valid21(ctx: Context) -> Iterator[Verdict]:
    """Per (一) row: 现行有效件数 (N) ≈ 现行有效件数 (N−1) + 本年制发件数 − 本年废止件数 (N)."""
    if (pair := _pair(ctx, "active", ("gen2021",))) is None:
        return
    view, previous = pair
    for row in DOCUMENT_ROWS:
        text = f"现行有效件数 ≈ 上一年度现行有效+本年制发−本年废止 ({ACTIVE_ROW_LABELS[row]})"
        now = view.operand(f"{row}.in_force")
        before = _previous_operand(ctx, previous, "active", f"{row}.in_force")
        issued, repealed = view.operand(f"{row}.issued"), view.operand(f"{row}.repealed")
        operands = [now, before, issued, repealed]
        values = [op.value for op in operands if op.value is not None]
        if len(values) < len(operands):
            yield not_assessable(row, text, operands)
            continue
        value_now, value_before, value_issued, value_repealed = values
        expected = value_before + value_issued - value_repealed
        tolerance = max(VALID21_ABS_TOLERANCE, VALID21_REL_TOLERANCE * abs(expected))
        ok = abs(value_now - expected) <= tolerance
        yield Verdict(
            row,
            "pass" if ok else "fail",
            lhs=value_now,
            rhs=expected,
            cells=(now.ref, issued.ref, repealed.ref),
            message=f"{text}: {fmt(value_now)} vs {fmt(value_before)}+{fmt(value_issued)}−{fmt(value_repealed)}"
            f" = {fmt(expected)} (tolerance {fmt(tolerance)})",
        )
