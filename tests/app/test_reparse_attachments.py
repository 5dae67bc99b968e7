"""Upgrading picks up the documents already held: ``reparse`` reads each stored report together with the
attachments stored for it, and stored attachments that no report holds become reports of their own,
without fetching anything."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from nianbao.app.maintenance import reparse
from nianbao.devportal.catalogue import report
from nianbao.devportal.documents import attachment_document
from nianbao.devportal.render.article import report_page
from nianbao.parser.handlers import handle_page_fetched
from nianbao.parser.settings import ParserSettings
from nianbao.shared.bus import CollectingPublisher
from nianbao.shared.contracts import PageFetched, ReportParsed
from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.models import Fetch, FindingRow, Report
from nianbao.shared.rawstore import RawStore
from nianbao.shared.settings import CommonSettings
from nianbao.validator.handlers import handle_report_parsed
from nianbao.validator.settings import ValidatorSettings

SITE = "demo"
PAGE = "http://127.0.0.1:8734/zfxxgknb/202003/t20200331_123470.html"
DOCX = "http://127.0.0.1:8734/zfxxgknb/202003/P020200331601287345190.docx"


def _store_as_before_the_upgrade(store: RawStore) -> None:
    """What an older nianbao left: the article stored as a report without tables (its parser did not read
    attachments), and the DOCX stored by the crawler as a fetch of kind attachment with no parent."""
    town = report("town-2019")
    page_key = store.put(report_page(town).encode(town.encoding))
    media_type, docx = attachment_document(town)
    docx_key = store.put(docx)
    published = CollectingPublisher()
    message = PageFetched(site_id=SITE, url=PAGE, final_url=PAGE, raw_key=page_key, content_sha256=page_key)
    handle_page_fetched(message, store, published, ParserSettings())
    [parsed] = published.messages
    assert isinstance(parsed, ReportParsed)
    handle_report_parsed(parsed, ValidatorSettings())
    url = CommonSettings().resolved_database_url()
    with session_scope(url) as session:
        for at, attachment_url in enumerate((DOCX, DOCX + "?copy=1")):  # the same bytes under two URLs
            session.add(Fetch(site_id=SITE, url=attachment_url, final_url=attachment_url, kind="attachment",
                              outcome="ok", status_code=200, content_sha256=docx_key, raw_key=docx_key,
                              media_type=media_type, bytes=len(docx),
                              fetched_at=datetime(2026, 1, 1, 8, at, tzinfo=UTC)))  # fmt: skip


def test_reparse_reads_stored_attachments_into_their_reports() -> None:
    url = CommonSettings().resolved_database_url()
    upgrade(url)
    store = RawStore(ParserSettings().resolved_raw_store_dir())
    _store_as_before_the_upgrade(store)
    with session_scope(url) as session:
        [before] = session.exec(select(Report)).all()
        assert before.record["tables"] == {}
        failing = session.exec(select(FindingRow.rule).where(FindingRow.status == "fail")).all()
        assert "report.no_tables" in failing  # a table-less report is visible, not silent

    stats = reparse(SITE)

    assert stats.failures == []
    town = report("town-2019")
    with session_scope(url) as session:
        reports = session.exec(select(Report)).all()
        # The article's DOCX (listed by the article, stored before parent_url existed) joined the article's
        # report; its copy under a second URL is the same bytes and is not a report of its own.
        assert [r.url for r in reports] == [PAGE]
        record = reports[0].record
        assert record["tables"] == {name: dict(values) for name, values in town.expected_tables().items()}
        assert record["metadata"]["index_no"] == town.index_no  # from the article page
        assert set(record["table_sources"].values()) == {DOCX}
        outcomes = {a["url"]: a["outcome"] for a in record["attachments"]}
        assert outcomes[DOCX] == "tables"
        failing = session.exec(select(FindingRow.rule).where(FindingRow.status == "fail")).all()
        assert "report.no_tables" not in failing
        assert sorted(failing) == sorted(rule for rule, _ in town.expected_failing_rules())

    again = reparse(SITE)  # idempotent: nothing new appears
    assert again.failures == []
    with session_scope(url) as session:
        assert [r.url for r in session.exec(select(Report)).all()] == [PAGE]


def test_stored_attachments_of_no_report_become_reports_once_per_content() -> None:
    url = CommonSettings().resolved_database_url()
    upgrade(url)
    store = RawStore(ParserSettings().resolved_raw_store_dir())
    water = report("water-2020")
    media_type, pdf = attachment_document(water)
    key = store.put(pdf)
    with session_scope(url) as session:
        for n, link in enumerate(("a/P0201.pdf", "b/P0201.pdf")):
            session.add(Fetch(site_id=SITE, url=f"http://127.0.0.1:8734/{link}", kind="attachment", outcome="ok",
                              content_sha256=key, raw_key=key, media_type=media_type,
                              fetched_at=datetime(2026, 1, 1, 9, n, tzinfo=UTC)))  # fmt: skip
    stats = reparse(SITE)
    assert stats.failures == []
    with session_scope(url) as session:
        [stored] = session.exec(select(Report)).all()
        assert stored.url == "http://127.0.0.1:8734/a/P0201.pdf"
        assert stored.record["tables"]["requests"] == dict(water.expected_tables()["requests"])
        failing = {
            (f.rule, f.location or None)
            for f in session.exec(
                select(FindingRow).where(FindingRow.report_id == stored.id, FindingRow.status == "fail")
            )
        }
        assert set(water.expected_failing_rules()) <= failing
