"""A crawl run is checkpointed: a delivery of the same run (a redelivered or retried task) continues after
the last handled candidate, without discovering or fetching again what was done; slices hand the rest of
a run to ``CrawlContinued``; a continuation never starts a run."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlmodel import select

from nianbao.crawler.crawl import CrawlSummary
from nianbao.crawler.fetching import Page, SiteFetcher
from nianbao.crawler.handlers import continue_crawl, crawl_site
from nianbao.crawler.sites import SiteRegistry
from nianbao.crawler.tasks import MAX_SLICE_S, slice_seconds
from nianbao.shared.bus import CollectingPublisher
from nianbao.shared.contracts import CrawlContinued, CrawlRequested, Message, PageFetched
from nianbao.shared.db import session_scope
from nianbao.shared.errors import TransientError
from nianbao.shared.models import CrawlCheckpoint, Outbox

from .conftest import Crawler, site_entry
from .portal import Article, Portal, build_trs

BUREAUS = ["水利", "民政", "教育", "交通", "财政", "卫生"]
ARTICLES = [
    Article(f"202401{10 + i}", 3000 + i, f"某市{name}局2023年度政府信息公开工作年度报告")
    for i, name in enumerate(BUREAUS)
]


class FailingAt:
    """Records what it publishes; raises instead of publishing the ``at``-th PageFetched (1-based)."""

    def __init__(self, at: int | None = None) -> None:
        self.at = at
        self.attempts = 0
        self.messages: list[Message] = []

    def publish(self, message: Message) -> None:
        if isinstance(message, PageFetched):
            self.attempts += 1
            if self.attempts == self.at:
                raise ConnectionError("broker went away")
        self.messages.append(message)

    def pages(self) -> list[str]:
        return [m.url for m in self.messages if isinstance(m, PageFetched)]


def _crawl(crawler: Crawler, entry: dict[str, Any], publisher: Any, **kwargs: Any) -> CrawlSummary:
    registry = SiteRegistry.from_dict({"version": 1, "sites": [entry]})
    return crawl_site(CrawlRequested(site_id=entry["id"]), registry=registry, settings=crawler.settings,
                      store=crawler.store, publisher=publisher, limiter=crawler.limiter, robots=crawler.robots,
                      **kwargs)  # fmt: skip


def _continue(crawler: Crawler, entry: dict[str, Any], message: CrawlContinued, publisher: Any) -> CrawlSummary:
    registry = SiteRegistry.from_dict({"version": 1, "sites": [entry]})
    return continue_crawl(message, registry=registry, settings=crawler.settings, store=crawler.store,
                          publisher=publisher, limiter=crawler.limiter, robots=crawler.robots,
                          slice_s=0.0)  # fmt: skip


def _site(portal: Portal) -> dict[str, Any]:
    build_trs(portal, "/zfxxgknb/", ARTICLES, per_page=3)
    return site_entry(portal, "/zfxxgknb/index.html")


def _url(portal: Portal, article: Article) -> str:
    return portal.url("/zfxxgknb/" + article.trs_path)


def _listing_requests(portal: Portal) -> int:
    return sum(1 for p in portal.paths() if "/index" in p)


def _outbox(crawler: Crawler) -> list[Outbox]:
    with session_scope(crawler.settings.resolved_database_url()) as session:
        return list(session.exec(select(Outbox)).all())


def _page_rows(crawler: Crawler, url: str) -> int:
    return sum(1 for r in crawler.fetch_rows() if r.url == url and r.kind == "page")


def test_crawl_interrupted_by_the_publisher_resumes_after_the_pages_done(portal: Portal, crawler: Crawler) -> None:
    entry = _site(portal)
    k = 3
    first = FailingAt(k)
    with pytest.raises(TransientError, match="not published"):
        _crawl(crawler, entry, first, run_id="run-1")
    assert first.pages() == [_url(portal, a) for a in ARTICLES[: k - 1]]
    listed = _listing_requests(portal)

    second = FailingAt()
    summary = _crawl(crawler, entry, second, run_id="run-1")  # the redelivered task: same run

    # page k's hand-off was committed with its fetch: published first, from the outbox; then the rest
    assert second.pages() == [_url(portal, a) for a in ARTICLES[k - 1 :]]
    assert (summary.resumed, summary.republished, summary.published, summary.fetched) == (k, 1, 3, 3)
    assert summary.pages_listed == 0 and summary.reports_found == len(ARTICLES)
    assert _listing_requests(portal) == listed  # no second discovery
    for article in ARTICLES:  # every page fetched (and recorded) exactly once over both deliveries
        assert portal.count("/zfxxgknb/" + article.trs_path) == 1
        assert _page_rows(crawler, _url(portal, article)) == 1
    # every page handed on exactly once, and every hand-off ends published
    assert sorted(first.pages() + second.pages()) == sorted(_url(portal, a) for a in ARTICLES)
    rows = _outbox(crawler)
    assert len(rows) == len(ARTICLES) and all(r.published_at is not None for r in rows)


def test_crawl_interrupted_by_the_fetcher_loses_only_the_page_in_flight(
    portal: Portal, crawler: Crawler, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = _site(portal)
    k = 4
    original_get = SiteFetcher.get
    pages = 0

    def dying_get(self: SiteFetcher, url: str, **kwargs: Any) -> Page:
        nonlocal pages
        page = original_get(self, url, **kwargs)
        if kwargs.get("kind") == "page":
            pages += 1
            if pages == k:  # the worker dies after fetching page k, before anything is decided about it
                raise KeyboardInterrupt("SIGKILL")
        return page

    monkeypatch.setattr(SiteFetcher, "get", dying_get)
    first = FailingAt()
    with pytest.raises(KeyboardInterrupt):
        _crawl(crawler, entry, first, run_id="run-2")
    monkeypatch.setattr(SiteFetcher, "get", original_get)
    in_flight = _url(portal, ARTICLES[k - 1])
    assert first.pages() == [_url(portal, a) for a in ARTICLES[: k - 1]]
    assert _page_rows(crawler, in_flight) == 0  # its fetch row went down with it: not "seen" as fetched

    second = FailingAt()
    summary = _crawl(crawler, entry, second, run_id="run-2")

    assert second.pages() == [_url(portal, a) for a in ARTICLES[k - 1 :]]
    assert (summary.resumed, summary.republished, summary.published) == (k - 1, 0, len(ARTICLES) - k + 1)
    for index, article in enumerate(ARTICLES):
        assert portal.count("/zfxxgknb/" + article.trs_path) == (2 if index == k - 1 else 1)
        assert _page_rows(crawler, _url(portal, article)) == 1
    assert all(r.published_at is not None for r in _outbox(crawler))


def test_a_finished_run_delivered_again_does_nothing(portal: Portal, crawler: Crawler) -> None:
    entry = _site(portal)
    _crawl(crawler, entry, FailingAt(), run_id="run-3")
    requests = len(portal.paths())
    again = FailingAt()
    summary = _crawl(crawler, entry, again, run_id="run-3")
    assert len(portal.paths()) == requests and again.messages == []
    assert summary.resumed == len(ARTICLES) and summary.published == 0


def test_a_new_run_crawls_again(portal: Portal, crawler: Crawler) -> None:
    entry = _site(portal)
    _crawl(crawler, entry, FailingAt())
    publisher = FailingAt()
    summary = _crawl(crawler, entry, publisher)  # a new task: a new run, discovered afresh
    assert summary.pages_listed == 2 and summary.unchanged == len(ARTICLES) and summary.resumed == 0
    assert publisher.pages() == []


def test_slices_hand_the_rest_of_a_run_to_continuations(portal: Portal, crawler: Crawler) -> None:
    entry = _site(portal)
    publisher = FailingAt()
    summaries = [_crawl(crawler, entry, publisher, run_id="run-4", slice_s=0.0)]
    continuations: list[CrawlContinued] = []
    while True:
        pending = [m for m in publisher.messages if isinstance(m, CrawlContinued)]
        if len(pending) == len(continuations):
            break
        message = pending[-1]
        continuations.append(message)
        summaries.append(_continue(crawler, entry, message, publisher))

    assert [c.run_id for c in continuations] == ["run-4"] * (len(ARTICLES) - 1)
    assert [s.published for s in summaries] == [1] * len(ARTICLES)  # each slice handles at least one
    assert [s.remaining for s in summaries] == list(range(len(ARTICLES) - 1, -1, -1))
    assert publisher.pages() == [_url(portal, a) for a in ARTICLES]
    assert _listing_requests(portal) == 2  # discovered once, by the first slice
    with session_scope(crawler.settings.resolved_database_url()) as session:
        marks = session.exec(select(CrawlCheckpoint).where(CrawlCheckpoint.run_id == "run-4")).all()
    assert len(marks) == len(ARTICLES) and {m.outcome for m in marks} == {"handed_on"}


def test_a_continuation_never_starts_a_run(portal: Portal, crawler: Crawler) -> None:
    entry = _site(portal)
    publisher = CollectingPublisher()
    summary = _continue(crawler, entry, CrawlContinued(site_id="sim", run_id="never-started"), publisher)
    assert portal.paths() == [] and publisher.messages == [] and summary.reports_found == 0


def test_a_slice_stays_well_inside_the_visibility_timeout() -> None:
    assert slice_seconds(SimpleNamespace(broker_visibility_timeout_s=120.0)) == 30.0  # type: ignore[arg-type]
    assert slice_seconds(SimpleNamespace(broker_visibility_timeout_s=900.0)) == 225.0  # type: ignore[arg-type]
    assert slice_seconds(SimpleNamespace()) == MAX_SLICE_S  # type: ignore[arg-type]
