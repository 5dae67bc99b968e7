"""Rules on table T2, 二、主动公开政府信息情况 (``active.*``, ``active19.*``, ``active21.*``).

``where`` is the row key (``regulations``, ``fees`` …), or the value key for the unit rules
(``procurement.amount_wan``, ``fees.amount_wan``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from nianbao.shared.record import ACTIVE_KEYS_2019, ACTIVE_KEYS_2021, Number
from nianbao.validator.rules.compare import combine, compare, fmt, money_close, not_assessable, sign_check
from nianbao.validator.rules.context import Context
from nianbao.validator.rules.labels import ACTIVE_ROW_LABELS
from nianbao.validator.rules.model import Operand, Verdict

TABLE = "active"
ITEM_ROWS_2019 = ("licensing", "other_services", "penalty", "coercion", "fees")  # blocks (五)(六)(八)
DOCUMENT_ROWS = ("regulations", "normative_docs")  # block (一)
# Units a parser may leave on a money cell, as multiples of 万元.
UNIT_IN_WAN: dict[str, float] = {"元": 1e-4, "万元": 1.0, "亿元": 1e4}
_NUMBER = re.compile(r"[-+]?\d[\d,，]*(?:\.\d+)?")


def _template_keys(ctx: Context) -> tuple[str, ...]:
    """The template's keys for the generation; rows a report adds (``extra.*``) are excluded from rules."""
    view = ctx.table(TABLE)
    if ctx.generation == "gen2019":
        return ACTIVE_KEYS_2019
    if ctx.generation == "gen2021":
        return ACTIVE_KEYS_2021
    return tuple(k for k in (view.values if view else ()) if not k.startswith("extra."))


def nonneg(ctx: Context) -> Iterator[Verdict]:
    """Per row: counts and money are ≥ 0; only 本年增/减 (``delta``) may be negative."""
    view = ctx.table(TABLE)
    if view is None:
        return
    rows: dict[str, list[str]] = {}
    for key in _template_keys(ctx):
        rows.setdefault(key.split(".", 1)[0], []).append(key)
    for row, keys in rows.items():
        yield sign_check(
            where=row,
            operands=view.operands(keys),
            text=f"数量与金额非负 ({ACTIVE_ROW_LABELS.get(row, row)})",
            integer=False,
            signed=frozenset(view.ref(k) for k in keys if k.endswith(".delta")),
        )


def delta_floor(ctx: Context) -> Iterator[Verdict]:
    """gen2019 (五)(六)(八): 上一年项目数量 + 本年增/减 ≥ 0."""
    view = ctx.table(TABLE)
    if view is None:
        return
    for row in ITEM_ROWS_2019:
        yield compare(
            where=row,
            left=view.operands([f"{row}.prev_items", f"{row}.delta"]),
            right=[],
            relation="ge",
            text=f"上一年项目数量+本年增/减 ≥ 0 ({ACTIVE_ROW_LABELS[row]})",
        )


def new_le_total(ctx: Context) -> Iterator[Verdict]:
    """gen2019 (一): 本年新制作数量 and 本年新公开数量 are each ≤ 对外公开总数量."""
    view = ctx.table(TABLE)
    if view is None:
        return
    for row in DOCUMENT_ROWS:
        total = [view.operand(f"{row}.total_published")]
        label = ACTIVE_ROW_LABELS[row]
        yield combine(
            row,
            [
                compare(
                    where=row,
                    left=[view.operand(f"{row}.{col}")],
                    right=total,
                    relation="le",
                    text=f"{name} ≤ 对外公开总数量 ({label})",
                )
                for col, name in (("new_made", "本年新制作数量"), ("new_published", "本年新公开数量"))
            ],
        )


def money_unit(ctx: Context) -> Iterator[Verdict]:
    """gen2019 (九): a non-zero 采购总金额 carries a resolved unit (header or cell); zero needs none."""
    view = ctx.table(TABLE)
    if view is None:
        return
    key = "procurement.amount_wan"
    amount = view.operand(key)
    text = "采购总金额的单位已确定"
    if amount.value is None:
        yield not_assessable(key, text, [amount])
        return
    cells = (amount.ref,)
    if amount.value == 0:
        yield Verdict(key, "pass", lhs=0, cells=cells, message=f"{text}: amount is 0, no unit needed")
        return
    cell = view.cell(key)
    if cell is None:
        yield Verdict(key, "not_assessable", cells=cells, message=f"{text}: no cell provenance to read the unit from")
    elif cell.unit in UNIT_IN_WAN:
        yield Verdict(key, "pass", lhs=amount.value, cells=cells, message=f"{text}: {cell.unit}")
    else:
        yield Verdict(
            key, "fail", lhs=amount.value, cells=cells, message=f"{text}: unit={cell.unit or 'unknown'} ({cell.raw!r})"
        )


def _raw_number(raw: str | None) -> float | None:
    match = _NUMBER.search(raw or "")
    return float(match.group().replace(",", "").replace("，", "")) if match else None


def fee_unit(ctx: Context) -> Iterator[Verdict]:
    """gen2021 (八): 本年收费金额 is in 万元; a cell written in 元 or 亿元 must have been converted."""
    view = ctx.table(TABLE)
    if view is None:
        return
    key = "fees.amount_wan"
    amount = view.operand(key)
    text = "本年收费金额以万元计"
    cell = view.cell(key)
    cells = (amount.ref,)
    if amount.value is None:
        yield not_assessable(key, text, [amount])
    elif amount.value == 0:
        yield Verdict(key, "pass", lhs=0, cells=cells, message=f"{text}: amount is 0")
    elif cell is None:
        yield Verdict(key, "not_assessable", cells=cells, message=f"{text}: no cell provenance to read the unit from")
    elif cell.unit in (None, "unknown", "万元"):
        # The template header fixes 万元, so a number without its own unit is already in 万元.
        yield Verdict(key, "pass", lhs=amount.value, cells=cells, message=f"{text}: {fmt(amount.value)} 万元")
    elif cell.unit not in UNIT_IN_WAN or (raw := _raw_number(cell.raw)) is None:
        yield Verdict(
            key, "not_assessable", cells=cells, message=f"{text}: cannot convert raw {cell.raw!r} ({cell.unit})"
        )
    else:
        expected: Number = raw * UNIT_IN_WAN[cell.unit]
        ok = money_close(amount.value, expected)
        yield Verdict(
            key,
            "pass" if ok else "fail",
            lhs=amount.value,
            rhs=expected,
            cells=cells,
            message=f"{text}: {cell.raw} → {fmt(expected)} 万元, record holds {fmt(amount.value)}",
        )


def valid_plausible(ctx: Context) -> Iterator[Verdict]:
    """gen2021 (一): 现行有效件数 ≥ 0, and 本年制发件数 > 0 with 现行有效件数 = 0 is suspicious."""
    view = ctx.table(TABLE)
    if view is None:
        return
    for row in DOCUMENT_ROWS:
        in_force, issued = view.operand(f"{row}.in_force"), view.operand(f"{row}.issued")
        text = f"现行有效件数 ≥ 0, 且本年制发件数 > 0 时不为 0 ({ACTIVE_ROW_LABELS[row]})"
        yield _valid_verdict(row, in_force, issued, text)


def _valid_verdict(row: str, in_force: Operand, issued: Operand, text: str) -> Verdict:
    cells = (in_force.ref, issued.ref)
    if in_force.value is not None and in_force.value < 0:
        message = f"{text}: 现行有效 {fmt(in_force.value)}"
        return Verdict(row, "fail", lhs=in_force.value, rhs=0, cells=cells, message=message)
    if in_force.value is None or (in_force.value == 0 and issued.value is None):
        return not_assessable(row, text, [in_force, issued])
    if in_force.value == 0 and issued.value is not None and issued.value > 0:
        return Verdict(
            row, "fail", lhs=0, rhs=issued.value, cells=cells, message=f"{text}: 制发 {fmt(issued.value)}, 现行有效 0"
        )
    return Verdict(row, "pass", lhs=in_force.value, rhs=issued.value, cells=cells, message=f"{text}: holds")
