"""Rules about what the report's sources gave: tables at all (``report.no_tables``), and agreement between
an article page and an attachment that both print the tables (``source.page_attachment_mismatch``).

Both have ``where`` = null for the report as a whole, or the table for a mismatch.
"""

from __future__ import annotations

from collections.abc import Iterator

from nianbao.validator.rules.context import Context
from nianbao.validator.rules.model import Verdict

# Warnings that say why nothing could be read: they make "no tables" a statement about the source.
_UNREADABLE = ("scanned_document", "converter_missing", "unsupported_format", "attachment_unreadable")


def no_tables(ctx: Context) -> Iterator[Verdict]:
    """A report with none of the statistics tables, from its page or any attachment, fails: the numbers
    exist somewhere (a scan, an unreadable attachment, a missing upload) and nobody can check them."""
    record = ctx.record
    if record.tables:
        names = ", ".join(f"{t} ({record.table_sources.get(t) or 'page'})" for t in record.tables)
        yield Verdict(None, "pass", message=f"统计表已读取: {names}")
        return
    reasons = sorted({w.code for w in record.warnings if w.code in _UNREADABLE})
    read = [a for a in record.attachments if a.outcome is not None]
    detail = f"; why: {', '.join(reasons)}" if reasons else ""
    yield Verdict(
        None,
        "fail",
        message=f"页面及其{len(read)}个附件中均未读到统计表{detail}",
    )


def page_attachment_mismatch(ctx: Context) -> Iterator[Verdict]:
    """Per table that the page and an attachment both print: every value agrees. The page's value is the
    one stored; a mismatch names both cells (page and attachment, with their positions) in its message."""
    by_table: dict[str, list[str]] = {}
    cells: dict[str, list[str]] = {}
    for m in ctx.record.source_mismatches:
        where_page = m.page_at.describe()
        where_att = m.attachment_at.model_copy(update={"source": None}).describe()
        by_table.setdefault(m.table, []).append(
            f"{m.key}: 页面 {m.page_value} ({where_page}) ≠ 附件 {m.attachment_value} ({where_att}, {m.attachment_url})"
        )
        cells.setdefault(m.table, []).append(f"{m.table}.{m.key}")
    for table in sorted(set(by_table) | set(ctx.record.cross_checked)):
        if table in by_table:
            lines = by_table[table]
            yield Verdict(
                table,
                "fail",
                lhs=len(lines),
                rhs=0,
                cells=tuple(cells[table]),
                message=f"页面与附件的{table}表有{len(lines)}处数值不一致: " + "; ".join(lines[:10]),
            )
        else:
            yield Verdict(table, "pass", message=f"页面与附件 {ctx.record.cross_checked[table]} 的{table}表数值一致")
