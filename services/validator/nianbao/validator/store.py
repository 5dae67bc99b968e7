"""Storing a validated record: the report row, one row per table value, one row per finding.

Writes are idempotent and minimal: rows are matched on their natural identity (report: site + url;
value: report + table + key; finding: report + rule + where) and only rows whose content differs are
written, so re-validating an unchanged record changes nothing (not even ``updated_at``). Concurrent
writers are kept honest by the unique constraints; the loser of a race gets an IntegrityError, which the
task retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, func, select

from nianbao.shared.models import FindingRow, Report, ReportValue, ReportVersion
from nianbao.shared.record import Finding, Record


@dataclass(frozen=True)
class StoreResult:
    report_id: int
    created: bool
    changed: bool
    failing_errors: int
    failing_warnings: int


def _now() -> datetime:
    return datetime.now(UTC)


def _location(where: str | None) -> str:
    return where or ""


def report_fields(
    record: Record,
    *,
    raw_key: str,
    findings: Sequence[Finding],
    rules_version: str,
    blank_policy: dict[str, str],
) -> dict[str, Any]:
    """The report row's columns derived from a record and its findings."""
    failing = [f for f in findings if f.status == "fail"]
    return {
        "raw_key": raw_key,
        "content_sha256": record.source.content_sha256 or raw_key,
        "title": record.title,
        "agency": record.agency.name,
        "year": record.year.value,
        "generation": record.generation.value,
        "index_no": record.metadata.index_no,
        "publish_date": record.metadata.publish_date,
        "parser_version": record.parser_version,
        "rules_version": rules_version,
        "blank_policy": blank_policy,
        "record": record.model_dump(mode="json"),
        "failing_errors": sum(1 for f in failing if f.severity == "error"),
        "failing_warnings": sum(1 for f in failing if f.severity != "error"),
    }


def store_validated(
    session: Session,
    *,
    site_id: str,
    url: str,
    raw_key: str,
    record: Record,
    findings: Sequence[Finding],
    rules_version: str,
    blank_policy: dict[str, str],
) -> StoreResult:
    fields = report_fields(
        record, raw_key=raw_key, findings=findings, rules_version=rules_version, blank_policy=blank_policy
    )
    report = session.exec(select(Report).where(Report.site_id == site_id, Report.url == url)).first()
    created = report is None
    changed = created
    if report is None:
        report = Report(site_id=site_id, url=url, **fields)
        session.add(report)
        session.flush()
    else:
        for name, value in fields.items():
            if getattr(report, name) != value:
                setattr(report, name, value)
                changed = True
        if changed:
            report.updated_at = _now()
    assert report.id is not None
    changed |= _sync_values(session, report.id, record)
    changed |= _sync_findings(session, report.id, findings, rules_version)
    _record_version(session, report, findings)
    session.flush()
    return StoreResult(report.id, created, changed, fields["failing_errors"], fields["failing_warnings"])


def _record_version(session: Session, report: Report, findings: Sequence[Finding]) -> None:
    """Append a history row the first time a (content, parser version, rules version) is stored."""
    seen = session.exec(
        select(ReportVersion).where(
            ReportVersion.report_id == report.id,
            ReportVersion.content_sha256 == report.content_sha256,
            ReportVersion.parser_version == report.parser_version,
            ReportVersion.rules_version == report.rules_version,
        )
    ).first()
    if seen is not None:
        return
    assert report.id is not None
    failing = [
        {"rule": f.rule, "where": f.where, "severity": f.severity, "lhs": f.lhs, "rhs": f.rhs}
        for f in findings
        if f.status == "fail"
    ]
    session.add(
        ReportVersion(
            report_id=report.id,
            content_sha256=report.content_sha256,
            raw_key=report.raw_key,
            parser_version=report.parser_version,
            rules_version=report.rules_version,
            failing=failing,
        )
    )


def _value_rows(record: Record) -> dict[tuple[str, str], dict[str, Any]]:
    by_cell = {(c.table, c.key): c for c in record.cells}
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for table, values in record.tables.items():
        for key, value in values.items():
            cell = by_cell.get((table, key))
            rows[(table, key)] = {
                "value": None if value is None else float(value),
                "status": cell.status if cell else ("number" if value is not None else "missing"),
                "raw": cell.raw if cell else None,
                "unit": cell.unit if cell else None,
            }
    return rows


def _sync_values(session: Session, report_id: int, record: Record) -> bool:
    wanted = _value_rows(record)
    existing = {
        (v.table_name, v.key): v for v in session.exec(select(ReportValue).where(ReportValue.report_id == report_id))
    }
    changed = False
    for ident, data in wanted.items():
        row = existing.pop(ident, None)
        if row is None:
            session.add(ReportValue(report_id=report_id, table_name=ident[0], key=ident[1], **data))
            changed = True
            continue
        for name, value in data.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
                changed = True
    for stale in existing.values():
        session.delete(stale)
        changed = True
    return changed


def _finding_data(f: Finding, rules_version: str) -> dict[str, Any]:
    return {
        "severity": f.severity,
        "status": f.status,
        "lhs": None if f.lhs is None else float(f.lhs),
        "rhs": None if f.rhs is None else float(f.rhs),
        "delta": None if f.delta is None else float(f.delta),
        "cells": list(f.cells),
        "message": f.message,
        "rule_version": rules_version,
    }


def _sync_findings(session: Session, report_id: int, findings: Sequence[Finding], rules_version: str) -> bool:
    existing = {
        (r.rule, r.location): r for r in session.exec(select(FindingRow).where(FindingRow.report_id == report_id))
    }
    changed = False
    seen: set[tuple[str, str]] = set()
    for f in findings:
        ident = (f.rule, _location(f.where))
        if ident in seen:  # one finding per (rule, where); a duplicate would break the unique key
            continue
        seen.add(ident)
        data = _finding_data(f, rules_version)
        row = existing.pop(ident, None)
        if row is None:
            session.add(FindingRow(report_id=report_id, rule=ident[0], location=ident[1], **data))
            changed = True
            continue
        if any(getattr(row, k) != v for k, v in data.items()):
            for k, v in data.items():
                setattr(row, k, v)
            row.updated_at = _now()
            changed = True
    for stale in existing.values():
        session.delete(stale)
        changed = True
    return changed


def previous_record(session: Session, *, agency: str | None, year: int | None, exclude_url: str) -> Record | None:
    """The same agency's report for the year before, for the cross-year rules."""
    if not agency or year is None:
        return None
    row = session.exec(
        select(Report)
        .where(Report.agency == agency, Report.year == year - 1, Report.url != exclude_url)
        .order_by(col(Report.updated_at).desc())
    ).first()
    return Record.model_validate(row.record) if row else None


def site_summary(session: Session, site_id: str) -> tuple[int, int | None]:
    """(reports with a failing error rule, newest covered year) for one site, for the gauges."""
    # Aggregated in the database: this runs after every validation, and rows carry the whole record.
    with_errors, newest = session.exec(
        select(
            func.count(col(Report.id)).filter(col(Report.failing_errors) > 0),
            func.max(col(Report.year)),
        ).where(Report.site_id == site_id)
    ).one()
    return int(with_errors or 0), newest
