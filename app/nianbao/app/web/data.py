"""The read-side queries of the web view: per-site counts, last crawls, and paged lists of reports and
findings. Counting and paging happen in SQL (LIMIT/OFFSET), so a page costs the same on a large database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from nianbao.shared.models import CrawlRun, FindingRow, Report

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
class LastCrawl:
    run_id: str
    verdict: str
    announced: int | None
    found: int
    kept: int
    handed_on: int
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class SiteRow:
    id: str
    name: str | None  # None: a site with stored reports that the registry no longer lists
    reports: int
    failing: int  # failing findings (status fail) over the site's reports
    last_crawl: LastCrawl | None


@dataclass(frozen=True)
class YearRow:
    year: int | None
    reports: int
    failing_reports: int  # reports with at least one failing error or warning


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
class FindingLine:
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


@dataclass(frozen=True)
class FindingFilter:
    rule: str | None = None
    status: str | None = "fail"  # None: every status
    site: str | None = None


def _last_crawls(session: Session, site_ids: list[str] | None = None) -> dict[str, LastCrawl]:
    latest = select(CrawlRun.site_id, func.max(CrawlRun.started_at).label("started"))
    if site_ids is not None:
        latest = latest.where(col(CrawlRun.site_id).in_(site_ids))
    sub = latest.group_by(col(CrawlRun.site_id)).subquery()
    query = select(CrawlRun).join(
        sub, (col(CrawlRun.site_id) == sub.c.site_id) & (col(CrawlRun.started_at) == sub.c.started)
    )
    out: dict[str, LastCrawl] = {}
    for run in session.exec(query.order_by(col(CrawlRun.id))):  # on a tie of started_at, the later row wins
        out[run.site_id] = LastCrawl(
            run_id=run.run_id, verdict=run.verdict, announced=run.announced, found=run.found, kept=run.kept,
            handed_on=run.handed_on, started_at=run.started_at, finished_at=run.finished_at,
        )  # fmt: skip
    return out


def site_overview(session: Session, registry: dict[str, str]) -> list[SiteRow]:
    """Every registry site (id -> name), then every other site with stored reports, sorted by id."""
    reports = dict(session.exec(select(Report.site_id, func.count()).group_by(col(Report.site_id))).all())
    failing = dict(
        session.exec(
            select(Report.site_id, func.count())
            .join(FindingRow, col(FindingRow.report_id) == col(Report.id))
            .where(FindingRow.status == "fail")
            .group_by(col(Report.site_id))
        ).all()
    )
    crawls = _last_crawls(session)
    ids = sorted(set(registry) | set(reports))
    return [
        SiteRow(id=i, name=registry.get(i), reports=reports.get(i, 0), failing=failing.get(i, 0),
                last_crawl=crawls.get(i))
        for i in ids
    ]  # fmt: skip


def has_reports(session: Session, site_id: str) -> bool:
    return session.exec(select(Report.id).where(Report.site_id == site_id).limit(1)).first() is not None


def last_crawl(session: Session, site_id: str) -> LastCrawl | None:
    return _last_crawls(session, [site_id]).get(site_id)


def reports_by_year(session: Session, site_id: str) -> list[YearRow]:
    failing = (col(Report.failing_errors) + col(Report.failing_warnings)) > 0
    query = (
        select(Report.year, func.count(), func.sum(case((failing, 1), else_=0)))
        .where(Report.site_id == site_id)
        .group_by(col(Report.year))
    )
    rows = [YearRow(year, int(n), int(f or 0)) for year, n, f in session.exec(query)]
    return sorted(rows, key=lambda r: (r.year is None, -(r.year or 0)))  # newest first, unknown year last


def failing_by_rule(session: Session, site_id: str) -> list[tuple[str, int]]:
    query = (
        select(FindingRow.rule, func.count())
        .join(Report, col(Report.id) == col(FindingRow.report_id))
        .where(Report.site_id == site_id, FindingRow.status == "fail")
        .group_by(col(FindingRow.rule))
    )
    return sorted(((rule, int(n)) for rule, n in session.exec(query)), key=lambda r: (-r[1], r[0]))


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


def findings_page(session: Session, where: FindingFilter, number: int) -> tuple[Page, list[FindingLine]]:
    conditions = []
    if where.site:
        conditions.append(col(Report.site_id) == where.site)
    if where.rule:
        conditions.append(col(FindingRow.rule) == where.rule)
    if where.status:
        conditions.append(col(FindingRow.status) == where.status)
    joined = select(func.count()).select_from(FindingRow).join(Report, col(Report.id) == col(FindingRow.report_id))
    total = session.exec(joined.where(*conditions)).one()
    page = Page(number, int(total))
    query = (
        select(FindingRow, Report)
        .join(Report, col(Report.id) == col(FindingRow.report_id))
        .where(*conditions)
        .order_by(col(Report.site_id), col(Report.year), col(FindingRow.rule), col(FindingRow.location),
                  col(FindingRow.id))
        .offset(page.offset)
        .limit(page.size)
    )  # fmt: skip
    return page, [
        FindingLine(report_id=r.id or 0, site_id=r.site_id, agency=r.agency, year=r.year, rule=f.rule,
                    where=f.location or None, severity=f.severity, status=f.status, lhs=f.lhs, rhs=f.rhs,
                    message=f.message)
        for f, r in session.exec(query)
    ]  # fmt: skip


def stored_rules(session: Session) -> set[str]:
    """Rule ids with stored findings (an older catalogue's rules included)."""
    return set(session.exec(select(FindingRow.rule).distinct()).all())


def stored_sites(session: Session) -> set[str]:
    return set(session.exec(select(Report.site_id).distinct()).all())
