"""Human-readable output of the CLI (rich tables). Machine-readable output is ``--json``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from nianbao.app.queries import FindingListRow, ReportRow
from nianbao.shared.record import Finding, Record
from nianbao.shared.settings import CommonSettings


def _fmt_failing(failing: dict[str, int]) -> str:
    if not failing:
        return "none"
    return ", ".join(f"{rule}×{n}" for rule, n in failing.items())


def print_reports(console: Console, rows: Sequence[ReportRow]) -> None:
    table = Table(title=f"{len(rows)} report(s)")
    for name in ("site", "agency", "year", "generation", "索引号", "tables", "failing findings by rule"):
        table.add_column(name)
    for r in rows:
        table.add_row(
            r.site_id,
            r.agency or "?",
            str(r.year or "?"),
            r.generation or "?",
            r.index_no or "—",
            ", ".join(r.tables) or "—",
            _fmt_failing(r.failing),
        )
    console.print(table)


def print_demo_summary(console: Console, rows: Sequence[ReportRow], stats: Any, settings: CommonSettings) -> None:
    console.print()
    console.print(f"[bold]reports found: {len(rows)}[/bold]")
    print_reports(console, rows)
    failing = Counter(rule for r in rows for rule in r.failing)
    if failing:
        console.print("reports failing each rule: " + ", ".join(f"{k}: {v}" for k, v in sorted(failing.items())))
    if stats.failures:
        console.print(f"[red]{len(stats.failures)} message(s) failed[/red] (recorded in table task_failure)")
    from sqlalchemy.engine import make_url

    url = make_url(settings.resolved_database_url()).render_as_string(hide_password=True)
    console.print(f"database: {url}")
    console.print(f"raw pages: {settings.resolved_raw_store_dir()}")
    console.print("next: `uv run nianbao findings --site demo` lists each failing finding with its cells")


def print_record(console: Console, record: Record) -> None:
    console.print(f"[bold]{record.title or '(no title line)'}[/bold]")
    console.print(
        f"agency: {record.agency.name} ({record.agency.source})   year: {record.year.value} "
        f"({record.year.source})   generation: {record.generation.value} ({record.generation.source})"
    )
    meta = record.metadata
    console.print(
        f"索引号: {meta.index_no or '—'}   发布机构: {meta.publisher or '—'}   "
        f"成文日期: {meta.written_date or '—'}   发布日期: {meta.publish_date or '—'}"
    )
    console.print(f"signature: {meta.signature.body or '—'} {meta.signature.date or ''}")
    for name, values in record.tables.items():
        filled = sum(1 for v in values.values() if v is not None)
        console.print(f"table {name}: {filled}/{len(values)} values")
    for w in record.warnings:
        console.print(f"[yellow]warning[/yellow] {w.code} {w.where or ''} {w.detail or ''}")
    console.print("(use --json for every value with its source cell)")


def print_findings(console: Console, record: Record, findings: Sequence[Finding]) -> None:
    counts = Counter(f.status for f in findings)
    console.print(
        f"[bold]{record.title or record.agency.name or '(untitled)'}[/bold] — "
        f"{record.generation.value}, year {record.year.value}"
    )
    failing = [f for f in findings if f.status == "fail"]
    if failing:
        table = Table(title=f"{len(failing)} failing finding(s)")
        for name in ("rule", "severity", "where", "lhs", "rhs", "message"):
            table.add_column(name)
        for f in failing:
            table.add_row(f.rule, f.severity, f.where or "—", _num(f.lhs), _num(f.rhs), f.message)
        console.print(table)
    else:
        console.print("no failing finding")
    console.print(
        f"pass: {counts.get('pass', 0)}  fail: {counts.get('fail', 0)}  "
        f"not assessable: {counts.get('not_assessable', 0)}"
    )


def print_finding_rows(console: Console, rows: Sequence[FindingListRow]) -> None:
    table = Table(title=f"{len(rows)} finding(s)")
    for name in ("site", "agency", "year", "rule", "where", "status", "lhs", "rhs", "message"):
        table.add_column(name)
    for r in rows:
        table.add_row(
            r.site_id,
            r.agency or "?",
            str(r.year or "?"),
            r.rule,
            r.where or "—",
            r.status,
            _num(r.lhs),
            _num(r.rhs),
            r.message,
        )
    console.print(table)


def print_rules(console: Console, catalogue: Sequence[Any], version: str) -> None:
    table = Table(title=f"rule catalogue (version {version})")
    for name in ("id", "severity", "generations", "version", "description"):
        table.add_column(name)
    for spec in catalogue:
        table.add_row(spec.id, spec.severity, ", ".join(spec.generations), str(spec.version), spec.description)
    console.print(table)


def _num(value: float | int | None) -> str:
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
