"""Human-readable output of the CLI. Machine-readable output is ``--json``.

Everything that comes from a document, a site or the database (titles, agencies, URLs, raw cells, warning
details) is printed with rich markup off or escaped: a ``[/bold]`` in a title is text, not a crash."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nianbao.app.queries import FindingListRow, ReportRow
from nianbao.app.show import RawCopy, ReportView
from nianbao.shared.record import Finding, Record
from nianbao.shared.settings import CommonSettings


def _fmt_failing(failing: dict[str, list[str]]) -> str:
    if not failing:
        return "none"
    return "; ".join(f"{rule} ({', '.join(wheres)})" for rule, wheres in failing.items())


def print_reports(console: Console, rows: Iterable[ReportRow]) -> None:
    """One block per report: readable at any terminal width, and greppable."""
    for r in rows:
        console.print(
            f"[bold]#{r.id}[/bold] "
            + escape(f"{r.agency or '(agency unknown)'} · {r.year or '?'} · {r.generation or '?'} · ")
            + escape(f"索引号 {r.index_no or '—'}"),
            soft_wrap=True,
        )
        _plain(console, f"    tables: {', '.join(r.tables) or 'none'}")
        for source in sorted(set(r.from_attachment.values())):
            tables = ", ".join(t for t, s in r.from_attachment.items() if s == source)
            _plain(console, f"    read from attachment {source}: {tables}")
        _plain(console, f"    failing findings by rule: {_fmt_failing(r.failing)}")
        _plain(console, f"    {r.url}")


def _plain(console: Console, line: str) -> None:
    """A line of user data as is: no markup, no highlighting, no wrapping, tabs kept."""
    console.file.write(line + "\n")


def print_demo_summary(console: Console, rows: Sequence[ReportRow], stats: Any, settings: CommonSettings) -> None:
    console.print()
    console.print(f"[bold]reports found: {len(rows)}[/bold]")
    print_reports(console, rows)
    console.print()
    failing = Counter(rule for r in rows for rule in r.failing)
    if failing:
        summary = ", ".join(f"{rule}: {n} report(s)" for rule, n in sorted(failing.items()))
        _plain(console, f"failing rules: {summary}")
    if stats.failures:
        console.print(f"[red]{len(stats.failures)} message(s) failed[/red] (recorded in table task_failure)")
    from sqlalchemy.engine import make_url

    url = make_url(settings.resolved_database_url()).render_as_string(hide_password=True)
    _plain(console, f"database: {url}")
    _plain(console, f"raw pages: {settings.resolved_raw_store_dir()}")
    console.print("next: `uv run nianbao findings --site demo` lists each failing finding", soft_wrap=True)


def print_record(console: Console, record: Record) -> None:
    console.print(f"[bold]{escape(record.title or '(no title line)')}[/bold]", soft_wrap=True)
    _plain(
        console,
        f"agency: {record.agency.name} ({record.agency.source})   year: {record.year.value} "
        f"({record.year.source})   generation: {record.generation.value} ({record.generation.source})",
    )
    meta = record.metadata
    _plain(
        console,
        f"索引号: {meta.index_no or '—'}   发布机构: {meta.publisher or '—'}   "
        f"成文日期: {meta.written_date or '—'}   发布日期: {meta.publish_date or '—'}",
    )
    _plain(console, f"signature: {meta.signature.body or '—'} {meta.signature.date or ''}")
    for name, values in record.tables.items():
        filled = sum(1 for v in values.values() if v is not None)
        source = record.table_sources.get(name)
        origin = f" (from {source})" if source and source != record.source.url else ""
        console.print(f"table {name}: {filled}/{len(values)} values{origin}", soft_wrap=True, markup=False)
    for a in record.attachments:
        if a.outcome is not None:
            console.print(f"attachment {a.url}: {a.outcome}", soft_wrap=True, markup=False)
    for w in record.warnings:
        detail = escape(f"{w.code} {w.where or ''} {w.detail or ''}")
        console.print(f"[yellow]warning[/yellow] {detail}", soft_wrap=True)
    console.print("(use --json for every value with its source cell)")


def _finding_line(
    rule: str, severity: str, where: str | None, lhs: float | None, rhs: float | None, message: str
) -> str:
    return f"{rule} [{severity}] where={where or '—'} lhs={_num(lhs)} rhs={_num(rhs)}  {message}"


def _cells_with_source(record: Record, keys: Sequence[str], limit: int = 6) -> str:
    """``table.key=raw @ where`` for the first few operands, so a person can find them in the page."""
    parts = []
    for full_key in keys[:limit]:
        table, _, key = full_key.partition(".")
        cell = record.cell(table, key)
        if cell is None:
            parts.append(f"{full_key}=?")
            continue
        parts.append(f"{full_key}={cell.raw if cell.raw not in (None, '') else '(blank)'} @ {cell.at.describe()}")
    more = f", … {len(keys) - limit} more" if len(keys) > limit else ""
    return ", ".join(parts) + more


def print_findings(console: Console, record: Record, findings: Sequence[Finding]) -> None:
    counts = Counter(f.status for f in findings)
    console.print(
        f"[bold]{escape(record.title or record.agency.name or '(untitled)')}[/bold] — "
        f"{record.generation.value}, year {record.year.value}",
        soft_wrap=True,
    )
    failing = [f for f in findings if f.status == "fail"]
    console.print(f"{len(failing)} failing finding(s)" if failing else "no failing finding")
    for f in failing:
        console.print("  " + _finding_line(f.rule, f.severity, f.where, f.lhs, f.rhs, f.message),
                      soft_wrap=True, highlight=False, markup=False)  # fmt: skip
        if f.cells:
            _plain(console, f"      cells: {_cells_with_source(record, f.cells)}")
    console.print(
        f"pass: {counts.get('pass', 0)}  fail: {counts.get('fail', 0)}  "
        f"not assessable: {counts.get('not_assessable', 0)}"
    )


def print_finding_rows(console: Console, total: int, rows: Iterable[FindingListRow]) -> None:
    """``total`` findings, then each of ``rows`` as it comes (they may be streamed from the database)."""
    console.print(f"{total} finding(s)")
    for r in rows:
        console.print(f"{_finding_line(r.rule, r.severity, r.where, r.lhs, r.rhs, r.message)} [{r.status}]",
                      soft_wrap=True, highlight=False, markup=False)  # fmt: skip
        _plain(console, f"    {r.site_id} · {r.agency or '?'} · {r.year or '?'} · {r.url}")


def print_rules(console: Console, catalogue: Sequence[Any], version: str) -> None:
    if not console.is_terminal:  # piped: one tab-separated line per rule, never wrapped at 80 columns
        _plain(console, f"# rule catalogue (version {version})")
        _plain(console, "id\tseverity\tgenerations\tversion\tdescription")
        for spec in catalogue:
            _plain(
                console, f"{spec.id}\t{spec.severity}\t{','.join(spec.generations)}\t{spec.version}\t{spec.description}"
            )
        return
    table = Table(title=f"rule catalogue (version {version})")
    for name in ("id", "severity", "generations", "version", "description"):
        table.add_column(name)
    for spec in catalogue:
        table.add_row(spec.id, spec.severity, ", ".join(spec.generations), str(spec.version), spec.description)
    console.print(table)


def _num(value: float | int | None, limit: int = 40) -> str:
    """A number for a line of text; integers of any size (a 400-digit cell) and inf/nan never fail, and
    very long ones are cut."""
    if value is None:
        return "—"
    if isinstance(value, int):
        text = (
            str(value) if value.bit_length() < 4000 else f"(an integer of about {value.bit_length() * 3 // 10} digits)"
        )
    elif value != value or value in (float("inf"), float("-inf")):
        text = str(value)
    else:
        text = str(int(value)) if value.is_integer() and abs(value) < 1e16 else f"{value:g}"
    return text if len(text) <= limit else f"{text[:limit]}…"


def print_report_view(console: Console, view: ReportView) -> None:
    """``nianbao show``: the report, its raw copies, failing findings with their operands, then every value
    with where it was read (a failing finding's operands are marked ``FAIL rule(where)``)."""
    _plain(console, f"#{view.id} {view.agency or '(agency unknown)'} · {view.year or '?'} · {view.generation or '?'}")
    _plain(console, f"title: {view.title or '—'}")
    _plain(console, f"site: {view.site_id}   parser {view.parser_version or '?'}   rules {view.rules_version or '?'}")
    _plain(console, f"source: {view.url}")
    _plain(console, f"raw copy: {_raw_line(view.raw)}")
    meta = view.metadata
    _plain(
        console,
        f"索引号: {meta.get('index_no') or '—'}   发布机构: {meta.get('publisher') or '—'}   "
        f"成文日期: {meta.get('written_date') or '—'}   发布日期: {meta.get('publish_date') or '—'}",
    )
    for a in view.attachments:
        raw = f"; raw copy: {_raw_line(a.raw)}" if a.raw else ""
        _plain(console, f"attachment {a.url} ({a.name or 'unnamed'}): {a.outcome or 'not read'}{raw}")
    counts = "  ".join(f"{status}: {n}" for status, n in view.findings.items()) or "none"
    _plain(console, f"findings: {counts}")
    for f in view.failing:
        _plain(console, "  FAIL " + _finding_line(f.rule, f.severity, f.where, f.lhs, f.rhs, f.message))
        for o in f.operands:
            _plain(console, f"      {o.cell} = {_num(o.value)} (as written {o.text_as_written!r}) @ {o.source}")
    for table in view.tables:
        _plain(console, f"table {table.name} ({len(table.values)} values) read from {table.read_from}")
        for v in table.values:
            unit = f" {v.value_unit}" if v.value is not None and v.value_unit != "count" else ""
            mark = f"\tFAIL {', '.join(v.failing)}" if v.failing else ""
            _plain(
                console,
                f"  {v.key}\t{v.label or '—'}\t{_num(v.value)}{unit}\t{v.status}\t"
                f"{v.text_as_written!r}\t@ {v.source}{mark}",
            )


def _raw_line(raw: RawCopy | None) -> str:
    if raw is None:
        return "—"
    if raw.path is None:
        return f"{raw.key} (not a raw-store key)"
    return f"{raw.key} at {raw.path}" + ("" if raw.stored else " (missing from the raw store)")
