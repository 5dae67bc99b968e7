"""Read-side queries the CLI prints: reports and findings held in the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from nianbao.shared.models import FINDING_ALL, FindingRow, Report


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


# Findings are read from the view of every finding (the ``finding`` rows and each report's ``passed`` list);
# filtered on a status other than "pass", the database skips the passed lists.
FINDING = FINDING_ALL.c


def _finding_conditions(site_id: str | None, rule: str | None, status: str | None) -> list[Any]:
    conditions: list[Any] = []
    if site_id:
        conditions.append(col(Report.site_id) == site_id)
    if rule:
        conditions.append(FINDING.rule == rule)
    if status:
        conditions.append(FINDING.status == status)
    return conditions


def count_findings(
    session: Session, *, site_id: str | None = None, rule: str | None = None, status: str | None = "fail"
) -> int:
    """How many findings :func:`list_findings` lists with the same filters."""
    query = select(func.count()).select_from(FINDING_ALL).join(Report, col(Report.id) == FINDING.report_id)
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
    ``limit`` page through them (the order is total: report and position break ties)."""
    query = (
        sa_select(Report, FINDING.rule, FINDING.location, FINDING.severity, FINDING.status, FINDING.lhs, FINDING.rhs,
                  FINDING.message)
        .join_from(FINDING_ALL, Report, col(Report.id) == FINDING.report_id)
        .where(*_finding_conditions(site_id, rule, status))
        .order_by(col(Report.site_id), col(Report.year), FINDING.rule, FINDING.location, col(Report.id),
                  FINDING.position)
        .offset(offset)
        .limit(limit)
    )  # fmt: skip
    return [
        FindingListRow(
            report_id=report.id or 0,
            site_id=report.site_id,
            agency=report.agency,
            year=report.year,
            rule=rule,
            where=location or None,
            severity=severity,
            status=finding_status,
            lhs=lhs,
            rhs=rhs,
            message=message,
            url=report.url,
        )
        for report, rule, location, severity, finding_status, lhs, rhs, message in session.execute(query)
    ]


def find_report(session: Session, ref: str) -> Report | None:
    """The stored report ``ref`` names: its id (digits) or its page URL (the oldest such report when
    several sites link the same URL)."""
    ref = ref.strip()
    if ref.isdigit():
        return session.get(Report, int(ref))
    query = select(Report).where(Report.url == ref).order_by(col(Report.id))
    return session.exec(query).first()
