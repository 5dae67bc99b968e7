"""A page counts as handled only when its PageFetched is published: the hand-off is committed with the
fetch rows (outbox), published after the commit, and published again by the next crawl task of the site
when that failed. Before the outbox, such a page was ``unchanged`` for every later crawl and never
handed on. A published hand-off whose page has no report of its bytes long after (the broker lost it) is
published once more."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlmodel import select

from nianbao.crawler.crawl import CrawlSummary
from nianbao.crawler.handlers import crawl_site
from nianbao.crawler.sites import SiteRegistry
from nianbao.crawler.state import CrawlState
from nianbao.shared.contracts import CrawlRequested, Message, PageFetched
from nianbao.shared.db import session_scope
from nianbao.shared.errors import TransientError
from nianbao.shared.models import Outbox, Report, TaskFailure

from .conftest import Crawler, site_entry
from .portal import Article, Portal, add_article, add_trs_pdf_report, build_trs, pdf_document, trs_listing

ARTICLES = [
    Article("20240115", 4001, "某市水利局2023年度政府信息公开工作年度报告"),
    Article("20240116", 4002, "某市民政局2023年度政府信息公开工作年度报告"),
    Article("20240117", 4003, "某市教育局2023年度政府信息公开工作年度报告"),
]


class Publisher:
    """Records what it publishes; raises for the URLs in ``refuse``."""

    def __init__(self, refuse: set[str] | None = None) -> None:
        self.refuse = refuse or set()
        self.messages: list[Message] = []

    def publish(self, message: Message) -> None:
        if isinstance(message, PageFetched) and message.url in self.refuse:
            raise ConnectionError("broker unreachable")
        self.messages.append(message)

    def pages(self) -> list[PageFetched]:
        return [m for m in self.messages if isinstance(m, PageFetched)]


def _crawl(crawler: Crawler, entry: dict[str, Any], publisher: Publisher) -> CrawlSummary:
    registry = SiteRegistry.from_dict({"version": 1, "sites": [entry]})
    return crawl_site(CrawlRequested(site_id=entry["id"]), registry=registry, settings=crawler.settings,
                      store=crawler.store, publisher=publisher, limiter=crawler.limiter,
                      robots=crawler.robots)  # fmt: skip


def _outbox(crawler: Crawler) -> list[Outbox]:
    with session_scope(crawler.settings.resolved_database_url()) as session:
        return list(session.exec(select(Outbox).order_by(Outbox.id)).all())  # type: ignore[arg-type]


def _url(portal: Portal, article: Article) -> str:
    return portal.url("/zfxxgknb/" + article.trs_path)


def test_a_publish_that_fails_after_the_commit_is_published_by_the_next_crawl(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", ARTICLES, per_page=3)
    entry = site_entry(portal, "/zfxxgknb/index.html")
    lost = _url(portal, ARTICLES[1])

    first = Publisher(refuse={lost})
    with pytest.raises(TransientError, match="kept in the outbox"):
        _crawl(crawler, entry, first)
    assert [m.url for m in first.pages()] == [_url(portal, ARTICLES[0])]
    # the fetch of the lost page is committed, and so is its hand-off, unpublished
    assert any(r.url == lost and r.outcome == "ok" for r in crawler.fetch_rows())
    pending = [r for r in _outbox(crawler) if r.published_at is None]
    assert [r.url for r in pending] == [lost]

    second = Publisher()
    summary = _crawl(crawler, entry, second)  # a new crawl (a new run)

    # the lost page is `unchanged` now, and handed on all the same: from the outbox, first
    assert [m.url for m in second.pages()] == [lost, _url(portal, ARTICLES[2])]
    assert summary.republished == 1 and summary.unchanged == 2 and summary.published == 1
    assert second.pages()[0] == next(m for m in second.pages() if m.url == lost)
    assert PageFetched.model_validate(pending[0].payload).raw_key == second.pages()[0].raw_key
    assert all(r.published_at is not None for r in _outbox(crawler))

    third = Publisher()
    assert _crawl(crawler, entry, third).republished == 0 and third.pages() == []


def test_a_failure_before_the_commit_leaves_no_fetch_that_hides_the_page(
    portal: Portal, crawler: Crawler, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_trs(portal, "/zfxxgknb/", ARTICLES[:1], per_page=3)
    entry = site_entry(portal, "/zfxxgknb/index.html")
    original = CrawlState.stored_elsewhere

    def database_down(self: CrawlState, *args: Any, **kwargs: Any) -> str | None:
        raise ConnectionError("database went away between the fetch and the hand-off")

    monkeypatch.setattr(CrawlState, "stored_elsewhere", database_down)
    with pytest.raises(ConnectionError):
        _crawl(crawler, entry, Publisher())
    monkeypatch.setattr(CrawlState, "stored_elsewhere", original)
    assert [r for r in crawler.fetch_rows() if r.kind == "page"] == [] and _outbox(crawler) == []

    publisher = Publisher()
    summary = _crawl(crawler, entry, publisher)
    assert summary.fetched == 1 and [m.url for m in publisher.pages()] == [_url(portal, ARTICLES[0])]


def test_a_hand_off_not_marked_published_is_published_again(
    portal: Portal, crawler: Crawler, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_trs(portal, "/zfxxgknb/", ARTICLES[:1], per_page=3)
    entry = site_entry(portal, "/zfxxgknb/index.html")

    def killed(self: CrawlState, outbox_id: int) -> None:
        raise KeyboardInterrupt("killed between the publish and the mark")

    monkeypatch.setattr(CrawlState, "mark_published", killed)
    first = Publisher()
    with pytest.raises(KeyboardInterrupt):
        _crawl(crawler, entry, first)
    monkeypatch.undo()
    second = Publisher()
    _crawl(crawler, entry, second)
    # at least once: published twice rather than never (the parser and validator are idempotent)
    assert [m.url for m in first.pages()] == [m.url for m in second.pages()] == [_url(portal, ARTICLES[0])]
    assert all(r.published_at is not None for r in _outbox(crawler))


def test_the_hand_off_carries_the_attachments_committed_with_it(portal: Portal, crawler: Crawler) -> None:
    article = ARTICLES[0]
    pdf = pdf_document("outbox attachment")
    add_trs_pdf_report(portal, "/zfxxgknb/", article, pdf)
    portal.add("/zfxxgknb/index.html", trs_listing([(f"./{article.trs_path}", article.title)], pages=1, current=0))
    portal.add("/robots.txt", "", content_type="text/plain")
    entry = site_entry(portal, "/zfxxgknb/index.html")
    page_url = _url(portal, article)

    with pytest.raises(TransientError):
        _crawl(crawler, entry, Publisher(refuse={page_url}))
    (row,) = _outbox(crawler)
    stored = PageFetched.model_validate(row.payload)
    assert [d.content_sha256 for d in stored.attachments] == [hashlib.sha256(pdf).hexdigest()]
    # the attachment's fetch row was committed in the same transaction as the hand-off
    assert any(r.kind == "attachment" and r.parent_url == page_url for r in crawler.fetch_rows())

    publisher = Publisher()
    _crawl(crawler, entry, publisher)  # page and attachment unchanged: the hand-off comes from the outbox
    (message,) = publisher.pages()
    assert message.url == page_url and message.attachments == stored.attachments


def test_an_outbox_row_this_code_cannot_read_is_recorded_not_blocking(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", ARTICLES[:1], per_page=3)
    entry = site_entry(portal, "/zfxxgknb/index.html")
    url = crawler.settings.resolved_database_url()
    with session_scope(url) as session:
        session.add(Outbox(task="nianbao.parser.parse_page", payload={"site_id": "sim", "schema_version": 9},
                           site_id="sim", url="http://x/"))  # fmt: skip
    publisher = Publisher()
    summary = _crawl(crawler, entry, publisher)
    assert summary.republished == 0 and summary.published == 1
    with session_scope(url) as session:
        (failure,) = session.exec(select(TaskFailure)).all()
    assert failure.reason == "invalid_message" and failure.site_id == "sim"
    assert all(r.published_at is not None for r in _outbox(crawler))


# --- a page handed on long ago that never became a report (the broker lost the message) ---------------


def _age_hand_offs(crawler: Crawler, hours: float) -> None:
    with session_scope(crawler.settings.resolved_database_url()) as session:
        for row in session.exec(select(Outbox)).all():
            assert row.published_at is not None
            row.published_at = row.published_at - timedelta(hours=hours)
            session.add(row)


def _store_report_for(crawler: Crawler, site_id: str, url: str, raw_key: str) -> None:
    with session_scope(crawler.settings.resolved_database_url()) as session:
        session.add(Report(site_id=site_id, url=url, raw_key=raw_key, content_sha256=raw_key))


def _store_report_with_attachments(crawler: Crawler, message: PageFetched) -> None:
    """A report of ``message``'s page and attachments, naming them in its record as the parser does."""
    attachments = [{"url": d.url, "raw_key": d.raw_key, "content_sha256": d.content_sha256, "outcome": "tables"}
                   for d in message.attachments]  # fmt: skip
    with session_scope(crawler.settings.resolved_database_url()) as session:
        session.add(Report(site_id=message.site_id, url=message.url, raw_key=message.raw_key,
                           content_sha256=message.raw_key, record={"attachments": attachments}))  # fmt: skip


def _rehanded_metric(site_id: str) -> float:
    return REGISTRY.get_sample_value("nianbao_crawler_handoffs_total", {"site": site_id, "outcome": "rehanded"}) or 0.0


def test_a_page_without_a_report_long_after_its_hand_off_is_handed_on_once_more(
    portal: Portal, crawler: Crawler
) -> None:
    build_trs(portal, "/zfxxgknb/", ARTICLES, per_page=3)
    entry = site_entry(portal, "/zfxxgknb/index.html")
    first = Publisher()
    _crawl(crawler, entry, first)
    assert len(first.pages()) == 3

    soon = Publisher()  # within handoff_recheck_s (6 h): a report may still be on its way
    assert _crawl(crawler, entry, soon).rehanded == 0 and soon.pages() == []

    # Seven hours on, one of the three became a report; the broker lost the other two.
    _age_hand_offs(crawler, hours=7)
    stored = _url(portal, ARTICLES[0])
    _store_report_for(crawler, entry["id"], stored, raw_key={m.url: m.raw_key for m in first.pages()}[stored])
    before = _rehanded_metric(entry["id"])
    later = Publisher()
    summary = _crawl(crawler, entry, later)
    lost = [_url(portal, ARTICLES[1]), _url(portal, ARTICLES[2])]
    assert summary.rehanded == 2 and [m.url for m in later.pages()] == lost
    assert "2 page(s) without a report handed on again" in str(summary)
    # the same hand-off as the first time (same bytes), sent anew
    assert {m.url: m.raw_key for m in later.pages()} == {m.url: m.raw_key for m in first.pages() if m.url in lost}
    assert _rehanded_metric(entry["id"]) == before + 2
    assert sorted(r.url for r in _outbox(crawler) if r.rehanded_at is not None) == sorted(lost)

    # Once per hand-off: a page that fails for good is not sent again at every crawl.
    again = Publisher()
    assert _crawl(crawler, entry, again).rehanded == 0 and again.pages() == []


def test_a_changed_page_whose_newer_hand_off_was_lost_is_handed_on_once_more(portal: Portal, crawler: Crawler) -> None:
    """Its older report stands, stored from other bytes: the newest hand-off is sent again, not the older one
    (which would store the old bytes over the new), and not the pages whose report is of their bytes."""
    build_trs(portal, "/zfxxgknb/", ARTICLES, per_page=3)
    entry = site_entry(portal, "/zfxxgknb/index.html")
    first = Publisher()
    _crawl(crawler, entry, first)
    for message in first.pages():  # all three became reports
        _store_report_for(crawler, entry["id"], message.url, raw_key=message.raw_key)
    changed = _url(portal, ARTICLES[0])
    add_article(portal, "/zfxxgknb/" + ARTICLES[0].trs_path, ARTICLES[0], extra="<p>更正：表三数据已更新。</p>")
    second = Publisher()  # the broker takes the changed page's hand-off, and loses it
    _crawl(crawler, entry, second)
    (newer,) = second.pages()
    assert newer.url == changed and newer.raw_key != {m.url: m.raw_key for m in first.pages()}[changed]

    _age_hand_offs(crawler, hours=7)
    later = Publisher()
    summary = _crawl(crawler, entry, later)
    assert summary.rehanded == 1 and [(m.url, m.raw_key) for m in later.pages()] == [(changed, newer.raw_key)]
    again = Publisher()  # once
    assert _crawl(crawler, entry, again).rehanded == 0 and again.pages() == []


def test_the_recheck_can_be_turned_off(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", ARTICLES[:1], per_page=3)
    entry = site_entry(portal, "/zfxxgknb/index.html")
    _crawl(crawler, entry, Publisher())
    _age_hand_offs(crawler, hours=24)
    crawler.settings = crawler.settings.model_copy(update={"handoff_recheck_s": 0})
    publisher = Publisher()
    assert _crawl(crawler, entry, publisher).rehanded == 0 and publisher.pages() == []


def test_a_lost_re_publish_stays_for_the_next_crawl(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", ARTICLES[:1], per_page=3)
    entry = site_entry(portal, "/zfxxgknb/index.html")
    _crawl(crawler, entry, Publisher())
    _age_hand_offs(crawler, hours=7)
    with pytest.raises(TransientError, match="kept in the outbox"):
        _crawl(crawler, entry, Publisher(refuse={_url(portal, ARTICLES[0])}))
    assert [r.rehanded_at for r in _outbox(crawler)] == [None]
    publisher = Publisher()
    assert _crawl(crawler, entry, publisher).rehanded == 1 and len(publisher.pages()) == 1


def test_an_unreadable_stalled_hand_off_is_recorded_not_sent(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", ARTICLES[:1], per_page=3)
    entry = site_entry(portal, "/zfxxgknb/index.html")
    _crawl(crawler, entry, Publisher())
    _age_hand_offs(crawler, hours=7)
    with session_scope(crawler.settings.resolved_database_url()) as session:
        row = session.exec(select(Outbox)).one()
        row.payload = {**row.payload, "schema_version": 99}  # as a newer producer would write it
        session.add(row)
    publisher = Publisher()
    assert _crawl(crawler, entry, publisher).rehanded == 0 and publisher.pages() == []
    with session_scope(crawler.settings.resolved_database_url()) as session:
        failures = session.exec(select(TaskFailure)).all()
        assert [(f.reason, f.task) for f in failures] == [("invalid_message", PageFetched.TASK)]
    assert _outbox(crawler)[0].rehanded_at is not None  # and not read again


def test_an_embedded_run_hands_on_again_what_an_earlier_process_lost(portal: Portal, crawler: Crawler) -> None:
    """An embedded run's queue is its process's memory: whatever a killed run handed on and never stored is
    handed on again by the next run, at once and as often as it is lost (not once, 6 h later), except a
    page whose parse or check failed since (recorded in task_failure, retried from there)."""
    from datetime import UTC, datetime

    from nianbao.crawler.outbox import publish_stalled

    build_trs(portal, "/zfxxgknb/", ARTICLES, per_page=3)
    entry = site_entry(portal, "/zfxxgknb/index.html")
    killed = Publisher()
    run_started = datetime.now(UTC)
    _crawl(crawler, entry, killed)  # handed on all three; the process died after storing the first only
    # Hand-offs published since a run started are that run's own, in its queue: not lost.
    assert publish_stalled(CrawlState(crawler.settings.resolved_database_url()), Publisher(), site_id=entry["id"],
                           settings=crawler.settings, lost_before=run_started) == 0  # fmt: skip
    sent = {m.url: m for m in killed.pages()}
    stored, failed, lost = (_url(portal, a) for a in ARTICLES)
    _store_report_for(crawler, entry["id"], stored, raw_key=sent[stored].raw_key)
    with session_scope(crawler.settings.resolved_database_url()) as session:
        session.add(TaskFailure(task=PageFetched.TASK, queue="parser", reason="permanent", error="unreadable",
                                payload=sent[failed].to_payload(), site_id=entry["id"]))  # fmt: skip
    state = CrawlState(crawler.settings.resolved_database_url())

    for attempt in range(2):  # the next run is killed too before it stores the page: handed on again
        run = Publisher()
        count = publish_stalled(state, run, site_id=entry["id"], settings=crawler.settings,
                                lost_before=datetime.now(UTC))  # fmt: skip
        assert (count, [(m.url, m.raw_key) for m in run.pages()]) == (1, [(lost, sent[lost].raw_key)]), attempt
    _store_report_for(crawler, entry["id"], lost, raw_key=sent[lost].raw_key)
    assert publish_stalled(state, Publisher(), site_id=entry["id"], settings=crawler.settings,
                           lost_before=datetime.now(UTC)) == 0  # fmt: skip


@pytest.mark.parametrize("embedded", [False, True], ids=["workers", "embedded"])
def test_a_lost_hand_off_of_an_attachment_only_change_is_handed_on_again(
    portal: Portal, crawler: Crawler, embedded: bool
) -> None:
    """The page's bytes are those of its stored report, but the hand-off carries a corrected attachment the
    report was not built from: lost, it is handed on again like a changed page's (before, the report of the
    page's bytes hid it, and the attachment, unchanged since, was never handed on again)."""
    from datetime import UTC, datetime

    from nianbao.crawler.outbox import publish_stalled

    article = ARTICLES[0]
    pdf_path = add_trs_pdf_report(portal, "/zfxxgknb/", article, pdf_document("first upload"))
    portal.add("/zfxxgknb/index.html", trs_listing([(f"./{article.trs_path}", article.title)], pages=1, current=0))
    portal.add("/robots.txt", "", content_type="text/plain")
    entry = site_entry(portal, "/zfxxgknb/index.html")
    first = Publisher()
    _crawl(crawler, entry, first)
    (original,) = first.pages()
    _store_report_with_attachments(crawler, original)  # stored from the first upload
    portal.add(pdf_path, pdf_document("corrected upload"), content_type="application/pdf")
    second = Publisher()  # the broker (or the killed embedded run) loses the corrected attachment's hand-off
    _crawl(crawler, entry, second)
    (corrected,) = second.pages()
    assert corrected.raw_key == original.raw_key and corrected.attachments != original.attachments
    state = CrawlState(crawler.settings.resolved_database_url())

    def recheck() -> list[tuple[str, tuple[str, ...]]]:
        run = Publisher()
        if embedded:
            publish_stalled(state, run, site_id=entry["id"], settings=crawler.settings, lost_before=datetime.now(UTC))
        else:
            _age_hand_offs(crawler, hours=7)
            _crawl(crawler, entry, run)
        return [(m.url, tuple(d.raw_key for d in m.attachments)) for m in run.pages()]

    handed = [(corrected.url, tuple(d.raw_key for d in corrected.attachments))]
    assert recheck() == handed  # the newest hand-off, with the corrected attachment
    with session_scope(crawler.settings.resolved_database_url()) as session:  # ... and now stored
        session.delete(session.exec(select(Report)).one())
    _store_report_with_attachments(crawler, corrected)
    assert recheck() == []


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_stalled_compares_attachments_on_both_databases(request: pytest.FixtureRequest, database: str) -> None:
    """The query behind the test above, on rows written directly: a hand-off is stalled when its page has no
    report of its page bytes, or one of its page bytes built from other attachment bytes."""
    from datetime import UTC, datetime

    from nianbao.shared.contracts import FetchedDocument
    from nianbao.shared.db import upgrade

    url = request.getfixturevalue("sqlite_url" if database == "sqlite" else "postgres_url")
    upgrade(url)

    def document(key: str) -> FetchedDocument:
        return FetchedDocument(url=f"http://a.gov.cn/{key}.pdf", final_url=f"http://a.gov.cn/{key}.pdf",
                               raw_key=key * 64, content_sha256=key * 64)  # fmt: skip

    cases = {  # page -> (hand-off's attachments, stored report's page bytes and attachments or None)
        "same": ((document("a"),), ("p", ["a"])),
        "attachment changed": ((document("b"),), ("p", ["a"])),
        "attachment added": ((document("a"), document("c")), ("p", ["a"])),
        "page changed": ((), ("q", [])),
        "no report": ((), None),
        "no attachments, report": ((), ("p", [])),
        "stored attachments unreadable": ((document("a"),), ("p", None)),
    }
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    with session_scope(url) as session:
        for page, (attachments, report) in cases.items():
            message = PageFetched(site_id="s", url=f"http://a.gov.cn/{page}", final_url=f"http://a.gov.cn/{page}",
                                  raw_key="p" * 64, content_sha256="p" * 64, attachments=attachments)  # fmt: skip
            session.add(Outbox(task=PageFetched.TASK, payload=message.to_payload(), site_id="s", url=message.url,
                               published_at=long_ago))  # fmt: skip
            if report is not None:
                key, stored = report
                # None: a record whose attachments are not a list of objects (an old or damaged record)
                listed: object = "garbage" if stored is None else [{"url": "x", "raw_key": k * 64} for k in stored]
                record = {"attachments": listed}
                session.add(Report(site_id="s", url=message.url, raw_key=key * 64, content_sha256=key * 64,
                                   record=record))  # fmt: skip
    stalled = CrawlState(url).stalled("s", published_before=datetime.now(UTC))
    assert [h.url.rsplit("/", 1)[1] for h in stalled] == ["attachment changed", "attachment added", "page changed",
                                                           "no report", "stored attachments unreadable"]  # fmt: skip
