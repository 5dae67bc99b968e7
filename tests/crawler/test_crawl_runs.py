"""One ``crawl_run`` row per crawl run, over real HTTP: announced vs found, kept, fetched and handed on, the
verdict and its shortfalls, written at discovery and kept up to date as candidates finish; a redelivered
or sliced run updates the same row; a blocked run is recorded before it raises; SQLite and PostgreSQL.
The discovery gauges and the crawl summary line say the same."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from pydantic import ValidationError
from sqlmodel import select

from nianbao.crawler.crawl import CrawlSummary
from nianbao.crawler.handlers import continue_crawl, crawl_site
from nianbao.crawler.politeness import LocalLimiter
from nianbao.crawler.robots import RobotsCache
from nianbao.crawler.runs import get_run, latest_runs
from nianbao.crawler.settings import MAX_AGE_S, CrawlerSettings
from nianbao.crawler.sites import SiteRegistry
from nianbao.crawler.state import CrawlState
from nianbao.shared.bus import CollectingPublisher
from nianbao.shared.contracts import CrawlContinued, CrawlRequested, PageFetched
from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.errors import PermanentError, TransientError
from nianbao.shared.models import CrawlRun
from nianbao.shared.rawstore import RawStore

from .conftest import Crawler, site_entry
from .portal import FINGERPRINT_BODY, Article, Portal, add_article, build_trs, hanweb_jpage_column

TITLE = "某单位{}年度政府信息公开工作年度报告"
PROXY = "/zwgk/module/web/jpage/dataproxy.jsp"


def _column(portal: Portal, count: int, **options: Any) -> dict[str, Any]:
    """A Hanweb JCMS column of ``count`` report articles, 3 embedded and 3 per proxy page; its site entry."""
    items = [(f"/art/2024/1/15/art_4411_{n}.html", TITLE.format(1000 + n)) for n in range(count)]
    for n, (path, title) in enumerate(items):
        add_article(portal, path, Article("20240115", n, title))
    portal.add("/robots.txt", "", content_type="text/plain")
    start = hanweb_jpage_column(portal, 4411, items, embedded=3, perpage=3, proxy_path=PROXY, **options)
    return site_entry(portal, start, family="hanweb_jpage")


def _crawl(crawler: Crawler, entry: dict[str, Any], *, run_id: str, publisher: Any = None, **kw: Any) -> CrawlSummary:
    registry = SiteRegistry.from_dict({"version": 1, "sites": [entry]})
    return crawl_site(CrawlRequested(site_id=entry["id"]), registry=registry, settings=crawler.settings,
                      store=crawler.store, publisher=publisher or CollectingPublisher(), limiter=crawler.limiter,
                      robots=crawler.robots, run_id=run_id, **kw)  # fmt: skip


def _rows(crawler: Crawler) -> list[CrawlRun]:
    with session_scope(crawler.settings.resolved_database_url()) as session:
        return list(session.exec(select(CrawlRun)).all())


def _gauge(name: str, site: str = "sim") -> float | None:
    return REGISTRY.get_sample_value(f"nianbao_crawler_discovery_{name}", {"site": site})


def test_complete_column_is_one_row_with_every_count(portal: Portal, crawler: Crawler) -> None:
    entry = _column(portal, 13)
    summary = _crawl(crawler, entry, run_id="run-complete")
    [row] = _rows(crawler)
    assert (row.run_id, row.site_id, row.family) == ("run-complete", "sim", "hanweb_jpage")
    assert (row.announced, row.found, row.kept, row.fetched, row.handed_on, row.not_a_report) == (13, 13, 13, 13, 13, 0)
    assert row.verdict == "complete" and row.shortfalls == []
    assert row.finished_at is not None and row.finished_at >= row.started_at
    assert "announced 13, found 13, kept 13: complete (found 13 of 13 announced)" in str(summary)
    assert (_gauge("announced"), _gauge("found"), _gauge("kept"), _gauge("complete")) == (13, 13, 13, 1)
    assert (_gauge("timestamp_seconds") or 0) > 0


def test_incomplete_column_row_keeps_the_shortfall(portal: Portal, crawler: Crawler) -> None:
    entry = _column(portal, 13, fail={3: 500})  # embedded 3 + proxy page 2; page 3 answers 500
    summary = _crawl(crawler, entry, run_id="run-short")
    [row] = _rows(crawler)
    assert (row.announced, row.found, row.kept, row.fetched, row.handed_on) == (13, 6, 6, 6, 6)
    assert row.verdict == "incomplete"
    [short] = row.shortfalls
    assert (short["start_url"], short["found"], short["expected"]) == (entry["start_urls"][0], 6, 13)
    assert "500" in short["reason"]
    assert "announced 13, found 6, kept 6: incomplete (found 6 of 13 announced;" in str(summary)
    assert (_gauge("found"), _gauge("complete")) == (6, 0)


def test_blocked_run_is_recorded_before_it_raises(portal: Portal, crawler: Crawler) -> None:
    entry = site_entry(portal, "/gone/index.html")  # 404: no listing page can be read
    with pytest.raises(PermanentError, match="no listing page could be read"):
        _crawl(crawler, entry, run_id="run-blocked")
    [row] = _rows(crawler)
    assert row.verdict == "blocked" and (row.found, row.kept, row.fetched) == (0, 0, 0)
    assert row.announced is None and row.finished_at is not None
    assert _gauge("complete") == 0 and math.isnan(_gauge("announced") or 0.0)


def test_column_without_a_total_is_unknown_and_announced_is_null(portal: Portal, crawler: Crawler) -> None:
    items = "".join(f'<li><a href="/art/{n}.html">{TITLE.format(2019 + n)}</a></li>' for n in range(4))
    portal.add("/nb/index.html", f"<html><body><ul>{items}</ul></body></html>")
    for n in range(4):
        add_article(portal, f"/art/{n}.html", Article("20240115", n, TITLE.format(2019 + n)))
    portal.add("/robots.txt", "", content_type="text/plain")
    entry = site_entry(portal, "/nb/index.html", family="static_generic")
    summary = _crawl(crawler, entry, run_id="run-unknown")
    [row] = _rows(crawler)
    assert (row.announced, row.found, row.kept, row.handed_on, row.verdict) == (None, 4, 4, 4, "unknown")
    assert "announced nothing, found 4, kept 4: unknown (no total announced; found 4)" in str(summary)
    assert math.isnan(_gauge("announced") or 0.0) and _gauge("complete") == 1


class FailingAt:
    """Raises instead of publishing the ``at``-th PageFetched (a broker outage mid-run)."""

    def __init__(self, at: int) -> None:
        self.at, self.attempts = at, 0

    def publish(self, message: Any) -> None:
        if isinstance(message, PageFetched):
            self.attempts += 1
            if self.attempts == self.at:
                raise ConnectionError("broker went away")


def test_redelivered_run_updates_the_same_row(portal: Portal, crawler: Crawler) -> None:
    entry = _column(portal, 13)
    with pytest.raises(TransientError):
        _crawl(crawler, entry, run_id="run-again", publisher=FailingAt(5))
    [row] = _rows(crawler)
    # candidates 1-5 were committed (the 5th with its outbox row) before the publish failed
    assert (row.verdict, row.found, row.fetched, row.handed_on, row.finished_at) == ("complete", 13, 5, 5, None)
    summary = _crawl(crawler, entry, run_id="run-again")  # the redelivery: same task id, continues the run
    [row] = _rows(crawler)
    assert (row.fetched, row.handed_on, row.verdict) == (13, 13, "complete") and row.finished_at is not None
    assert summary.resumed == 5 and summary.verdict == "complete"  # the verdict read back from the row


def test_sliced_run_is_one_row_finished_by_its_continuation(portal: Portal, crawler: Crawler) -> None:
    entry = _column(portal, 7)
    publisher = CollectingPublisher()
    _crawl(crawler, entry, run_id="run-sliced", publisher=publisher, slice_s=0.0)
    [row] = _rows(crawler)
    assert (row.fetched, row.finished_at) == (1, None)
    registry = SiteRegistry.from_dict({"version": 1, "sites": [entry]})
    for _ in range(10):
        pending = [m for m in publisher.messages if isinstance(m, CrawlContinued)]
        publisher.messages.clear()
        if not pending:
            break
        continue_crawl(pending[-1], registry=registry, settings=crawler.settings, store=crawler.store,
                       publisher=publisher, limiter=crawler.limiter, robots=crawler.robots, slice_s=0.0)  # fmt: skip
    [row] = _rows(crawler)
    assert (row.announced, row.found, row.fetched, row.handed_on) == (7, 7, 7, 7) and row.finished_at is not None


def test_two_runs_are_two_rows_newest_first(portal: Portal, crawler: Crawler) -> None:
    entry = _column(portal, 4)
    _crawl(crawler, entry, run_id="first")
    _crawl(crawler, entry, run_id="second")  # unchanged pages: fetched again (conditional), not handed on
    url = crawler.settings.resolved_database_url()
    assert [r.run_id for r in latest_runs(url, "sim")] == ["second", "first"]
    second = get_run(url, "second")
    assert second is not None and (second.found, second.fetched, second.handed_on) == (4, 4, 0)


def test_postgresql_run_row(portal: Portal, postgres_url: str, tmp_path: Path) -> None:
    upgrade(postgres_url)
    settings = CrawlerSettings(_env_file=None, data_dir=tmp_path, database_url=postgres_url, broker_url=None,  # type: ignore[call-arg]
                               limiter="local", min_delay_s=0.0, jitter_s=0.0)  # fmt: skip
    robots = RobotsCache(ttl_s=3600, retry_s=600)
    crawler = Crawler(settings, RawStore(settings.resolved_raw_store_dir()), LocalLimiter(), robots)
    entry = _column(portal, 13, fail={4: 404})
    with pytest.raises(TransientError):
        _crawl(crawler, entry, run_id="pg-run", publisher=FailingAt(3))
    _crawl(crawler, entry, run_id="pg-run")
    [row] = _rows(crawler)
    assert (row.announced, row.found, row.fetched, row.handed_on, row.verdict) == (13, 9, 9, 9, "incomplete")
    assert row.finished_at is not None and row.shortfalls[0]["expected"] == 13


def test_an_absurd_announced_total_is_stored_clamped_on_postgresql(portal: Portal, postgres_url: str,
                                                                    tmp_path: Path) -> None:  # fmt: skip
    """A column claiming 99,999,999,999 records: an SQL INTEGER cannot hold it, the crawl must not fail."""
    upgrade(postgres_url)
    settings = CrawlerSettings(_env_file=None, data_dir=tmp_path, database_url=postgres_url, broker_url=None,  # type: ignore[call-arg]
                               limiter="local", min_delay_s=0.0, jitter_s=0.0, max_pages_per_run=3)  # fmt: skip
    robots = RobotsCache(ttl_s=3600, retry_s=600)
    crawler = Crawler(settings, RawStore(settings.resolved_raw_store_dir()), LocalLimiter(), robots)
    entry = _column(portal, 3, script="new jpage({totalRecord:99999999999, perpage:3})")
    _crawl(crawler, entry, run_id="absurd")
    [row] = _rows(crawler)
    assert (row.announced, row.found, row.verdict) == (2**31 - 1, 3, "incomplete")
    assert _gauge("announced") == 99_999_999_999  # the gauge is a float: it keeps the portal's number


def test_a_page_count_announcement_shows_its_range_in_the_summary(portal: Portal, crawler: Crawler) -> None:
    """TRS states 3 pages of 2: 5 to 6 records; the row stores the sure minimum."""
    articles = [Article("20240115", n, TITLE.format(2015 + n)) for n in range(6)]
    build_trs(portal, "/nb/", articles, per_page=2, page2=1)
    summary = _crawl(crawler, site_entry(portal, "/nb/index.html"), run_id="trs")
    assert "discovery announced 5–6, found 6, kept 6: complete (found 6 of 5–6 announced)" in str(summary)
    [row] = _rows(crawler)
    assert (row.announced, row.announced_max, row.found, row.handed_on, row.verdict) == (5, 6, 6, 6, "complete")


def test_a_report_titled_page_without_tables_counts_as_not_a_report(portal: Portal, crawler: Crawler) -> None:
    """crawl_run.not_a_report counts the run's candidates whose checkpoint outcome is not_a_report."""
    prose = "<p>一、总体情况。本年度共收到政府信息公开申请十件，均已按期答复。</p><p>二、存在的主要问题及改进情况。</p>"
    rows = [(f"/art/{n}.html", TITLE.format(2019 + n)) for n in range(4)]
    portal.add("/nb/index.html", "<html><body><ul>" + "".join(
        f'<li><a href="{path}">{title}</a></li>' for path, title in rows) + "</ul></body></html>")  # fmt: skip
    for n, (path, title) in enumerate(rows):
        add_article(portal, path, Article("20240115", n, title, body=prose if n == 3 else FINGERPRINT_BODY))
    portal.add("/robots.txt", "", content_type="text/plain")
    _crawl(crawler, site_entry(portal, "/nb/index.html", family="static_generic"), run_id="decoy")
    [row] = _rows(crawler)
    assert (row.found, row.kept, row.fetched, row.handed_on, row.not_a_report) == (4, 4, 4, 3, 1)


# --- retention: crawl_run rows older than crawl_run_retention_days go at the site's next crawl -----------


def _add_runs(crawler: Crawler, site_id: str, ages_days: list[float]) -> None:
    now = datetime.now(UTC)
    with session_scope(crawler.settings.resolved_database_url()) as session:
        for n, age in enumerate(ages_days):
            started = now - timedelta(days=age)
            session.add(CrawlRun(run_id=f"{site_id}-{n}", site_id=site_id, started_at=started, finished_at=started))


def _run_ids(crawler: Crawler, site_id: str) -> list[str]:
    return sorted(r.run_id for r in _rows(crawler) if r.site_id == site_id)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_crawler(request: pytest.FixtureRequest, tmp_path: Path) -> Crawler:
    if request.param == "sqlite":
        sqlite: Crawler = request.getfixturevalue("crawler")
        return sqlite
    url: str = request.getfixturevalue("postgres_url")
    upgrade(url)
    settings = CrawlerSettings(_env_file=None, data_dir=tmp_path, database_url=url, broker_url=None)  # type: ignore[call-arg]
    return Crawler(
        settings, RawStore(settings.resolved_raw_store_dir()), LocalLimiter(), RobotsCache(ttl_s=1, retry_s=1)
    )


def test_old_runs_are_pruned_and_each_sites_newest_kept(any_crawler: Crawler) -> None:
    crawler = any_crawler
    _add_runs(crawler, "sim", [900, 500, 30, 1])
    _add_runs(crawler, "other", [900])
    _add_runs(crawler, "lone", [700, 600])  # every run old: the newest stays, it is the site's last crawl
    state = CrawlState(crawler.settings.resolved_database_url())
    for site in ("sim", "lone"):
        state.prune(site, run_retention_days=400)
    assert _run_ids(crawler, "sim") == ["sim-2", "sim-3"]
    assert _run_ids(crawler, "lone") == ["lone-1"]
    assert _run_ids(crawler, "other") == ["other-0"]  # another site's rows wait for that site's crawl
    state.prune("sim", run_retention_days=0)  # 0 keeps them all
    assert _run_ids(crawler, "sim") == ["sim-2", "sim-3"]


def test_a_crawl_prunes_its_sites_old_runs(portal: Portal, crawler: Crawler) -> None:
    entry = _column(portal, 4)
    _add_runs(crawler, entry["id"], [800, 450, 10])
    crawler.settings = crawler.settings.model_copy(update={"crawl_run_retention_days": 365})
    _crawl(crawler, entry, run_id="today")
    assert _run_ids(crawler, entry["id"]) == sorted([f"{entry['id']}-2", "today"])


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("crawl_run_retention_days", "-1"),
        ("crawl_run_retention_days", "1e9"),  # "now minus a billion days" is no date: refused, not a crash
        ("crawl_run_retention_days", "nan"),
        ("crawl_run_retention_days", "forever"),
        ("handoff_recheck_s", "1e12"),
        ("handoff_recheck_s", "inf"),
    ],
)
def test_retention_and_recheck_ages_refuse_what_is_no_age(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"NIANBAO_{name.upper()}", value)
    with pytest.raises(ValidationError, match=name):
        CrawlerSettings(_env_file=None)  # type: ignore[call-arg]


def test_the_longest_ages_allowed_still_work(crawler: Crawler) -> None:
    settings = CrawlerSettings(_env_file=None, crawl_run_retention_days=MAX_AGE_S / 86400, handoff_recheck_s=MAX_AGE_S)  # type: ignore[call-arg]
    _add_runs(crawler, "sim", [900, 1])
    CrawlState(crawler.settings.resolved_database_url()).prune(
        "sim", run_retention_days=settings.crawl_run_retention_days
    )
    assert _run_ids(crawler, "sim") == ["sim-0", "sim-1"]
