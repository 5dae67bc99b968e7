"""Checks a peer tool makes that the original catalogue did not (issue 14): carry-over and received
figures of the narrative, fees in part 六, an empty part 五, a part without its table, blank-cell counts.
(The copy checks across years are in :mod:`~nianbao.validator.rules.copies`.)

``where`` is null for the narrative rules and the table name for ``structure.table_missing`` and
``quality.blank_cells``. As for the other ``text.*`` rules, a claim the narrative does not make yields no
finding (never a pass); a claim whose table value is blank, missing or absent is not assessable.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from nianbao.shared.record import FindingStatus
from nianbao.validator.rules import claims, narrative
from nianbao.validator.rules.compare import combine, compare, fmt, not_assessable
from nianbao.validator.rules.context import Context
from nianbao.validator.rules.model import Operand, Verdict

REQUESTS = "requests"


def _operand(ctx: Context, table: str, key: str) -> Operand:
    view = ctx.table(table)
    return view.operand(key) if view is not None else Operand(f"{table}.{key}", None, "absent")


def _stated(figure: narrative.Figure) -> Operand:
    return Operand("narrative", figure.value, local=False)


def _carry_rule(ctx: Context, figure: narrative.Figure | None, row: str, label: str) -> Iterator[Verdict]:
    if figure is None:
        return
    yield compare(
        where=None,
        left=[_stated(figure)],
        right=[_operand(ctx, REQUESTS, f"{row}.total")],
        relation="eq",
        text=f"正文“{figure.excerpt}” = 表中{label}总计",
    )


def requests_carried_in(ctx: Context) -> Iterator[Verdict]:
    """A sentence stating 上年结转N件 (about applications) equals the table's 上年结转 总计."""
    yield from _carry_rule(ctx, claims.carried_in(ctx.text), "carried_in", "上年结转")


def requests_carried_out(ctx: Context) -> Iterator[Verdict]:
    """A sentence stating 结转下年度N件 (about applications) equals the table's 结转下年度 总计."""
    yield from _carry_rule(ctx, claims.carried_out(ctx.text), "carried_out", "结转下年度")


def _readings(ctx: Context) -> list[tuple[str, list[Operand]]]:
    """What "收到…申请N件" may count under the national template: 本年新收 alone, 新收 + 上年结转 (all
    applications handled in the year), or (七)总计 + 结转下年度 (the same by the 勾稽关系, but a separate
    reading when the table does not balance). A legacy 统计表 has only 收到申请数."""
    if ctx.table("legacy") is not None and ctx.table(REQUESTS) is None:
        return [("收到申请数", [_operand(ctx, "legacy", "requests_received")])]

    def ops(*keys: str) -> list[Operand]:
        return [_operand(ctx, REQUESTS, key) for key in keys]

    return [
        ("本年新收", ops("new.total")),
        ("本年新收+上年结转", ops("new.total", "carried_in.total")),
        ("办理结果总计+结转下年度", ops("results_total.total", "carried_out.total")),
    ]


def requests_received(ctx: Context) -> Iterator[Verdict]:
    """The narrative's 收到/受理…申请N件 equals at least one reading the template allows: 本年新收,
    本年新收 + 上年结转, or (七)总计 + 结转下年度 (legacy: 收到申请数). Passes naming every reading that
    matches; fails only when every reading can be computed and none matches; otherwise not assessable."""
    figure = narrative.requests_new(ctx.text)
    if figure is None:
        return
    stated = _stated(figure)
    text = f"正文“{figure.excerpt}”"
    verdicts = [
        (label, compare(where=None, left=[stated], right=operands, relation="eq", text=label))
        for label, operands in _readings(ctx)
    ]
    matched = [(label, v) for label, v in verdicts if v.status == "pass"]
    if matched:
        cells = tuple(dict.fromkeys(c for _, v in matched for c in v.cells))
        names = " and ".join(label for label, _ in matched)
        message = f"{text} matches {names}: " + "; ".join(v.message for _, v in matched)
        yield Verdict(None, "pass", lhs=figure.value, rhs=matched[0][1].rhs, cells=cells, message=message)
        return
    cells = tuple(dict.fromkeys(c for _, v in verdicts for c in v.cells))
    listed = "; ".join(v.message for _, v in verdicts)
    if any(v.status == "not_assessable" for _, v in verdicts):
        message = f"{text}: no reading matches and some cannot be computed: {listed}"
        yield Verdict(None, "not_assessable", cells=cells, message=message)
        return
    message = f"{text} matches no reading: {listed}"
    yield Verdict(None, "fail", lhs=figure.value, rhs=verdicts[0][1].rhs, cells=cells, message=message)


# part → (table, its caption): the three parts of a modern report that carry one table each
_PART_TABLES: tuple[tuple[str, str, str], ...] = (
    ("二", "active", "T2 主动公开"),
    ("三", REQUESTS, "T3 收到和处理申请"),
    ("四", "review_litigation", "T4 行政复议、行政诉讼"),
)


def table_missing(ctx: Context) -> Iterator[Verdict]:
    """Modern reports: a part 二/三/四 that is present comes with its table (T2/T3/T4). A report without
    any table is ``report.no_tables``' finding, not this one; a part that is absent yields nothing."""
    if not ctx.record.tables:
        return
    for part, table, caption in _PART_TABLES:
        if part not in ctx.record.sections:
            continue
        if ctx.table(table) is None:
            message = f"part {part} is present but its table {caption} ({table}) is not"
            yield Verdict(table, "fail", lhs=0, rhs=1, message=message)
        else:
            yield Verdict(table, "pass", lhs=1, rhs=1, message=f"part {part} and its table {caption} present")


def blank_cells(ctx: Context) -> Iterator[Verdict]:
    """Per table: the blank and placeholder (/, —, -, 无) cells, counted and listed (info). Blanks never
    make a rule fail (report-format.md §3.5): above the table's configured limit (T3, T4; the peer tool fails
    there) the table is too sparsely filled to vouch for and the finding is not assessable; within it, or
    for a table without a limit, it passes with the count."""
    for name, view in ctx.tables.items():
        keys = sorted(view.keys_with("blank", "placeholder"))
        blanks = sum(1 for k in keys if view.status(k) == "blank")
        count = len(keys)
        limit = ctx.thresholds.blank_cells_limit(name)
        counted = f"{count} of {len(view.values)} cells blank ({blanks}) or placeholder ({count - blanks})"
        cells = tuple(view.ref(k) for k in keys)
        if limit is None:
            yield Verdict(name, "pass", lhs=count, cells=cells, message=f"{counted}; no limit for this table")
        else:
            ok = count <= limit
            message = f"{counted}; {'within' if ok else 'above'} the limit {limit}"
            status: FindingStatus = "pass" if ok else "not_assessable"
            yield Verdict(name, status, lhs=count, rhs=limit, cells=cells, message=message)


def section5_empty(ctx: Context) -> Iterator[Verdict]:
    """Modern reports: part 五 (存在的主要问题及改进情况) says something — it is not empty or only "无".
    A report without a part 五 (or whose parts were not found) yields no finding, as a claim not made."""
    text = "五、存在的主要问题及改进情况 有内容"
    section = ctx.record.sections.get("五")
    if section is None:
        return
    body = claims.section_body(section)
    if claims.is_empty_body(body):
        shown = repr(body) if body else "empty"
        yield Verdict(None, "fail", lhs=len(body), message=f"{text}: part 五 is {shown}")
    else:
        yield Verdict(None, "pass", lhs=len(body), message=f"{text}: {len(body)} characters")


def _fee_operand(ctx: Context, claim: claims.FeeClaim) -> Operand | str:
    """The table value ``claim`` is about, or why no table value counts it.

    A legacy 统计表 counts 依申请公开信息收取的费用 (the fees of disclosure). A gen2021 T2 counts
    行政事业性收费 — the agency's administrative fees, not the 信息处理费 part 六 reports — so only a claim
    about 行政事业性收费 is compared with it. gen2019's T2 counts fee items, not money.
    """
    if ctx.table("legacy") is not None and ctx.table("active") is None:
        if claim.object == "administrative":
            return "the 统计表 counts only fees of disclosure, not 行政事业性收费"
        return _operand(ctx, "legacy", "fees_wan")
    if ctx.generation == "gen2021" and claim.object == "administrative":
        return _operand(ctx, "active", "fees.amount_wan")
    if ctx.generation == "gen2021":
        return "no table value counts 信息处理费 (T2 (八) is 行政事业性收费)"
    return "no table value counts fees charged in money in this format"


def _fee_verdict(claim: claims.FeeClaim, found: Operand | str) -> Verdict:
    stated = f"六、“{claim.excerpt}”"
    if isinstance(found, str):
        return Verdict(None, "not_assessable", message=f"{stated}: not assessable ({found})")
    expected = "> 0" if claim.charged else "= 0"
    text = f"{stated} ⇒ 表中{found.ref} {expected}"
    if found.value is None:
        return not_assessable(None, text, [found])
    ok = found.value > 0 if claim.charged else found.value == 0
    cells = (found.ref,) if found.local else ()
    rhs: float = (claim.amount_yuan or 0.0) / 10000
    return Verdict(None, "pass" if ok else "fail", lhs=found.value, rhs=rhs, cells=cells,
                   message=f"{text}: {fmt(found.value)} 万元")  # fmt: skip


def fees_vs_section6(ctx: Context) -> Iterator[Verdict]:
    """Part 六's statement that fees were (or were not) charged agrees with the table's fee amount: a
    "no fees" claim with an amount > 0 fails, and so does a stated charge with an amount of 0. Only claims
    and amounts about the same fees are compared (see :func:`_fee_operand`); others are not assessable."""
    section = ctx.record.sections.get("六")
    found: Sequence[claims.FeeClaim] = claims.fee_claims(section) if section else ()
    if found:
        yield combine(None, [_fee_verdict(claim, _fee_operand(ctx, claim)) for claim in found])
