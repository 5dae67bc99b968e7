"""The embedded bus: depth first (a page's record is stored before the next page is parsed), and on
PostgreSQL its records go to an ``OverlappedStore``, whose outcomes are counted, reported and recorded as a
handler's are, all of them before ``drain`` returns and before any crawl runs."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import func, select

from nianbao.app.cli import demo_registry
from nianbao.app.embedded import InProcessBus, run_embedded
from nianbao.crawler.sites import SiteRegistry
from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.server import DevPortal
from nianbao.devportal.urls import article_path
from nianbao.shared.contracts import CrawlRequested, PageFetched, ReportParsed
from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.models import Report, ReportValue, TaskFailure
from nianbao.shared.settings import CommonSettings
from nianbao.validator.overlap import OverlappedStore
from nianbao.validator.settings import ValidatorSettings

from support.reports import parsed_pages


def _page(n: int) -> PageFetched:
    url = f"http://x.gov.cn/{n}.html"
    return PageFetched(site_id="s", url=url, final_url=url, raw_key=f"{n:064d}", content_sha256=f"{n:064d}")


def test_what_a_handler_publishes_is_handled_before_what_was_queued() -> None:
    bus = InProcessBus(CommonSettings())
    handled: list[str] = []

    def parse(message: PageFetched) -> None:
        handled.append(f"parse {message.url[-6:]}")
        bus.publish(ReportParsed(site_id="s", url=message.url, raw_key=message.raw_key, record={}))

    bus.register(PageFetched, parse)
    bus.register(ReportParsed, lambda m: handled.append(f"store {m.url[-6:]}"))
    for n in (1, 2, 3):
        bus.publish(_page(n))
    stats = bus.drain()
    assert handled == ["parse 1.html", "store 1.html", "parse 2.html", "store 2.html", "parse 3.html", "store 3.html"]
    assert stats.handled == {PageFetched.TASK: 3, ReportParsed.TASK: 3}


@pytest.fixture
def postgres(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NIANBAO_DATABASE_URL", postgres_url)
    upgrade(postgres_url)
    return postgres_url


def test_embedded_run_on_postgresql_stores_every_report_through_the_overlapped_store(postgres: str) -> None:
    lines: list[str] = []
    with DevPortal() as portal:
        registry = SiteRegistry.from_dict(demo_registry(portal.column_url))
        stats = run_embedded(registry, ["demo"], progress=lines.append)
    assert stats.failures == []
    assert stats.handled[ReportParsed.TASK] == len(REPORTS)
    stored_lines = [line for line in lines if line.startswith("validated and stored ")]
    assert len(stored_lines) == len(set(stored_lines)) == len(REPORTS)
    with session_scope(postgres) as s:
        reports = s.exec(select(Report)).all()
        assert len(reports) == len(REPORTS)
        assert s.exec(select(func.count()).select_from(TaskFailure)).one() == 0
        for spec in REPORTS:  # what the catalogue says each page holds (as the SQLite embedded test checks)
            report = next(r for r in reports if r.url.endswith(article_path(spec.publish_date, spec.doc_id)))
            assert (report.agency, report.year, report.generation) == (spec.agency, spec.year, spec.generation)
            values = {
                (v.table_name, v.key): v.value
                for v in s.exec(select(ReportValue).where(ReportValue.report_id == report.id))
            }
            for key, value in spec.expected_tables().get("requests", {}).items():
                assert values[("requests", key)] == (None if value is None else float(value)), (spec.id, key)


def test_a_failed_report_is_recorded_and_a_crawl_sees_every_earlier_report(postgres: str) -> None:
    good = parsed_pages(3)
    bad = ReportParsed(site_id="demo", url="http://127.0.0.1:8734/bad.html", raw_key="b" * 64, record={"year": "x"})
    bus = InProcessBus(CommonSettings())
    bus.store_reports_with(OverlappedStore(ValidatorSettings()))
    seen_by_crawl: list[int] = []

    def crawl(_message: CrawlRequested) -> Any:
        with session_scope(postgres) as s:  # another connection: sees only what is committed
            seen_by_crawl.append(s.exec(select(func.count()).select_from(Report)).one())
        return "crawled"

    bus.register(CrawlRequested, crawl)
    for message in (good[0], bad, good[1], CrawlRequested(site_id="demo", reason="cli"), good[2]):
        bus.publish(message)
    stats = bus.drain()

    assert seen_by_crawl == [2]
    assert stats.handled == {ReportParsed.TASK: 3, CrawlRequested.TASK: 1}
    assert len(stats.failures) == 1 and "PermanentError" in stats.failures[0]
    with session_scope(postgres) as s:
        assert s.exec(select(func.count()).select_from(Report)).one() == 3
        [failure] = s.exec(select(TaskFailure)).all()
        assert (failure.task, failure.reason) == (ReportParsed.TASK, "permanent")
        assert failure.payload["url"] == bad.url
