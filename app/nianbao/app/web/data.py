"""The read-side queries of the web view beyond the per-site summaries of ``nianbao.app.summaries``: paged
lists of reports and findings. Counting and paging happen in SQL (LIMIT/OFFSET): a page sends one page of
rows, whatever the database holds. A findings page follows the reports' listing index on PostgreSQL, so its
cost is its offset and size (see ``nianbao.app.queries.list_findings``); its total adds one number a report
(``count_findings``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from nianbao.app.queries import FindingListRow, count_findings, list_findings
from nianbao.shared.models import FindingRow, Report

PAGE_SIZE = 50  # rows per page of every long list
MAX_PAGE = 100_000  # a larger page number is a bad request, not a query


@dataclass(frozen=True)
class Page:
    """One page of a list: ``number`` is 1-based; ``total`` counts every row of the list."""

    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.size))


@dataclass(frozen=True)
class ReportLine:
    id: int
    year: int | None
    agency: str | None
    title: str | None
    generation: str | None
    url: str
    failing_errors: int
    failing_warnings: int


@dataclass(frozen=True)
class FindingFilter:
    rule: str | None = None
    status: str | None = "fail"  # None: every status
    site: str | None = None


def reports_page(session: Session, site_id: str, number: int) -> tuple[Page, list[ReportLine]]:
    total = session.exec(select(func.count()).select_from(Report).where(Report.site_id == site_id)).one()
    page = Page(number, int(total))
    query = (
        select(Report)
        .where(Report.site_id == site_id)
        .order_by(col(Report.year).desc(), col(Report.agency), col(Report.id))
        .offset(page.offset)
        .limit(page.size)
    )
    return page, [
        ReportLine(id=r.id or 0, year=r.year, agency=r.agency, title=r.title, generation=r.generation, url=r.url,
                   failing_errors=r.failing_errors, failing_warnings=r.failing_warnings)
        for r in session.exec(query)
    ]  # fmt: skip


def findings_page(session: Session, where: FindingFilter, number: int) -> tuple[Page, list[FindingListRow]]:
    filters = {"site_id": where.site, "rule": where.rule, "status": where.status}
    page = Page(number, count_findings(session, **filters))
    return page, list_findings(session, **filters, offset=page.offset, limit=page.size)


def stored_rules(session: Session) -> set[str]:
    """Rule ids with stored findings that do not pass (an older catalogue's rules included; a rule that
    only ever passed is in the catalogue, or retired with nothing to show)."""
    return set(session.exec(select(FindingRow.rule).distinct()).all())


def stored_sites(session: Session) -> set[str]:
    return set(session.exec(select(Report.site_id).distinct()).all())
