"""Read-side queries the CLI prints: reports and findings held in the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, func, select

from nianbao.shared.models import FindingRow, Report


@dataclass(frozen=True)
class ReportRow:
    id: int
    site_id: str
    agency: str | None
    year: int | None
    generation: str | None
    index_no: str | None
    title: str | None
    url: str
    tables: list[str]
    failing: dict[str, list[str]]  # rule id -> the `where` of each failing instance ("-" for whole-report rules)
    # The document each table was read from, where it is not the report's own page (an attachment).
    from_attachment: dict[str, str] = field(default_factory=dict)


def list_reports(session: Session, site_id: str | None = None) -> list[ReportRow]:
    query = select(Report).order_by(col(Report.site_id), col(Report.year), col(Report.agency))
    if site_id:
        query = query.where(Report.site_id == site_id)
    reports = session.exec(query).all()
    failing: dict[int, dict[str, list[str]]] = {}
    fails = select(FindingRow.report_id, FindingRow.rule, FindingRow.location).where(FindingRow.status == "fail")
    for report_id, rule, location in session.exec(fails.order_by(col(FindingRow.rule), col(FindingRow.location))):
        failing.setdefault(report_id, {}).setdefault(rule, []).append(location or "-")
    rows = []
    for r in reports:
        assert r.id is not None
        rows.append(
            ReportRow(
                id=r.id,
                site_id=r.site_id,
                agency=r.agency,
                year=r.year,
                generation=r.generation,
                index_no=r.index_no,
                title=r.title,
                url=r.url,
                tables=sorted((r.record.get("tables") or {}).keys()),
                failing=dict(sorted(failing.get(r.id, {}).items())),
                from_attachment={
                    table: source
                    for table, source in sorted((r.record.get("table_sources") or {}).items())
                    if source and source != r.url
                },
            )
        )
    return rows


@dataclass(frozen=True)
class FindingListRow:
    report_id: int
    site_id: str
    agency: str | None
    year: int | None
    rule: str
    where: str | None
    severity: str
    status: str
    lhs: float | None
    rhs: float | None
    message: str
    url: str


def _finding_conditions(site_id: str | None, rule: str | None, status: str | None) -> list[Any]:
    conditions: list[Any] = []
    if site_id:
        conditions.append(col(Report.site_id) == site_id)
    if rule:
        conditions.append(col(FindingRow.rule) == rule)
    if status:
        conditions.append(col(FindingRow.status) == status)
    return conditions


def count_findings(
    session: Session, *, site_id: str | None = None, rule: str | None = None, status: str | None = "fail"
) -> int:
    """How many findings :func:`list_findings` lists with the same filters."""
    query = select(func.count()).select_from(FindingRow).join(Report, col(Report.id) == col(FindingRow.report_id))
    return int(session.exec(query.where(*_finding_conditions(site_id, rule, status))).one())


def list_findings(
    session: Session,
    *,
    site_id: str | None = None,
    rule: str | None = None,
    status: str | None = "fail",
    offset: int = 0,
    limit: int | None = None,
) -> list[FindingListRow]:
    """Findings (failing ones by default) with their report, by site, year, rule and place; ``offset`` and
    ``limit`` page through them (the order is total: the finding id breaks ties)."""
    query = (
        select(FindingRow, Report)
        .join(Report, col(Report.id) == FindingRow.report_id)
        .where(*_finding_conditions(site_id, rule, status))
        .order_by(col(Report.site_id), col(Report.year), col(FindingRow.rule), col(FindingRow.location),
                  col(FindingRow.id))
        .offset(offset)
        .limit(limit)
    )  # fmt: skip
    return [
        FindingListRow(
            report_id=report.id or 0,
            site_id=report.site_id,
            agency=report.agency,
            year=report.year,
            rule=f.rule,
            where=f.location or None,
            severity=f.severity,
            status=f.status,
            lhs=f.lhs,
            rhs=f.rhs,
            message=f.message,
            url=report.url,
        )
        for f, report in session.exec(query)
    ]


def find_report(session: Session, ref: str) -> Report | None:
    """The stored report ``ref`` names: its id (digits) or its page URL (the oldest such report when
    several sites link the same URL)."""
    ref = ref.strip()
    if ref.isdigit():
        return session.get(Report, int(ref))
    query = select(Report).where(Report.url == ref).order_by(col(Report.id))
    return session.exec(query).first()
