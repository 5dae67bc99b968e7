"""Per-site summaries read from the database: reports per year, failing findings per rule, the last crawl
run (``crawl_run``, with how many report pages the site's listings announced and how many were found) and
the task failures still recorded. Used by the admin API (``GET /sites/{id}/summary``), the CLI (``nianbao
sites summary``) and the web view (``sites_overview`` for its sites page)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from nianbao.crawler.completeness import announced_text
from nianbao.crawler.runs import NEWEST_FIRST
from nianbao.shared.models import CrawlRun, FindingRow, Report, TaskFailure

NO_CRAWL = "no crawl run recorded for this site"


@dataclass(frozen=True)
class YearCount:
    year: int | None  # None: the report's year could not be read
    reports: int
    failing_reports: int  # reports with at least one failing finding (any severity)


@dataclass(frozen=True)
class RuleCount:
    rule: str
    severity: str
    failing: int  # failing findings (one per rule instance)
    reports: int  # distinct reports they are in


@dataclass(frozen=True)
class LastCrawl:
    """The latest ``crawl_run`` row of a site (see ``CrawlRun``): ``announced`` is null when no listing
    states a total; ``verdict`` complete | incomplete | unknown | blocked | empty."""

    run_id: str
    family: str
    started_at: datetime
    finished_at: datetime | None
    announced: int | None
    found: int
    kept: int
    fetched: int
    handed_on: int
    not_a_report: int
    verdict: str
    shortfalls: list[dict[str, Any]]
    announced_max: int | None = None  # above ``announced`` when a listing stated only a page count

    @property
    def announced_text(self) -> str:
        """As the crawl summary says it: ``nothing announced``, ``13 announced``, ``9–12 announced``."""
        return announced_text(self.announced, self.announced_max)


@dataclass(frozen=True)
class SiteSummary:
    site_id: str
    reports: int
    failing_findings: int
    reports_per_year: list[YearCount]
    failing_by_rule: list[RuleCount]
    task_failures: int  # task_failure rows still recorded for the site (`nianbao failures list --site`)
    last_crawl: LastCrawl | None
    last_crawl_note: str | None  # NO_CRAWL when the site has no crawl_run row


@dataclass(frozen=True)
class SiteOverview:
    """One line of the sites overview."""

    site_id: str
    reports: int
    failing_findings: int
    last_crawl: LastCrawl | None


def known_site_ids(session: Session, configured: Iterable[str] = ()) -> set[str]:
    """Site ids the registry configures (``configured``) or the database holds reports, crawl runs or
    task failures of (the demo site, or a site since removed from ``sites.yaml``)."""
    known = set(configured)
    known |= set(session.exec(select(col(Report.site_id)).distinct()))
    known |= set(session.exec(select(col(CrawlRun.site_id)).distinct()))
    known |= {s for s in session.exec(select(col(TaskFailure.site_id)).distinct()) if s}
    return known


def last_crawl(session: Session, site_id: str) -> LastCrawl | None:
    """The site's latest crawl run (latest start; the higher id on a tie), or None."""
    query = select(CrawlRun).where(col(CrawlRun.site_id) == site_id).order_by(*NEWEST_FIRST)
    run = session.exec(query.limit(1)).first()
    return None if run is None else _crawl(run)


def _crawl(run: CrawlRun) -> LastCrawl:
    return LastCrawl(
        run_id=run.run_id, family=run.family, started_at=run.started_at, finished_at=run.finished_at,
        announced=run.announced, found=run.found, kept=run.kept, fetched=run.fetched, handed_on=run.handed_on,
        not_a_report=run.not_a_report, verdict=run.verdict, shortfalls=list(run.shortfalls or []),
        announced_max=run.announced_max,
    )  # fmt: skip


def site_summary(session: Session, site_id: str) -> SiteSummary:
    """The summary of one site (zeros and no crawl for a site with nothing stored)."""
    per_year: dict[int | None, list[int]] = {}
    failing_reports = select(col(FindingRow.report_id)).where(col(FindingRow.status) == "fail").distinct()
    failing_ids = set(
        session.exec(
            failing_reports.join(Report, col(Report.id) == FindingRow.report_id).where(Report.site_id == site_id)
        )
    )
    for report_id, year in session.exec(select(Report.id, Report.year).where(Report.site_id == site_id)):
        counts = per_year.setdefault(year, [0, 0])
        counts[0] += 1
        counts[1] += report_id in failing_ids
    by_rule = session.exec(
        select(FindingRow.rule, FindingRow.severity, func.count(), func.count(func.distinct(FindingRow.report_id)))
        .join(Report, col(Report.id) == FindingRow.report_id)
        .where(Report.site_id == site_id, col(FindingRow.status) == "fail")
        .group_by(col(FindingRow.rule), col(FindingRow.severity))
    ).all()
    rules = sorted((RuleCount(r, s, int(n), int(m)) for r, s, n, m in by_rule), key=lambda c: (-c.failing, c.rule))
    failures = session.exec(select(func.count()).select_from(TaskFailure).where(TaskFailure.site_id == site_id)).one()
    crawl = last_crawl(session, site_id)
    return SiteSummary(
        site_id=site_id,
        reports=sum(c[0] for c in per_year.values()),
        failing_findings=sum(c.failing for c in rules),
        reports_per_year=[
            YearCount(year, n, f)
            for year, (n, f) in sorted(per_year.items(), key=lambda item: (item[0] is None, item[0] or 0))
        ],
        failing_by_rule=rules,
        task_failures=int(failures),
        last_crawl=crawl,
        last_crawl_note=None if crawl else NO_CRAWL,
    )


def sites_overview(session: Session, site_ids: Iterable[str]) -> list[SiteOverview]:
    """Reports, failing findings and the last crawl of each site in ``site_ids`` (in that order)."""
    reports = dict(session.exec(select(Report.site_id, func.count()).group_by(col(Report.site_id))).all())
    failing = dict(
        session.exec(
            select(Report.site_id, func.count())
            .join(FindingRow, col(FindingRow.report_id) == Report.id)
            .where(col(FindingRow.status) == "fail")
            .group_by(col(Report.site_id))
        ).all()
    )
    return [
        SiteOverview(
            site_id=s,
            reports=int(reports.get(s, 0)),
            failing_findings=int(failing.get(s, 0)),
            last_crawl=last_crawl(session, s),
        )
        for s in site_ids
    ]
