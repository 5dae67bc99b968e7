"""Re-parsing stored raw bytes (after a parser change) and re-validating, with no refetch.

Every stored report is parsed again from its page's bytes together with the attachments stored for it
(``fetch`` rows of kind ``attachment`` whose ``parent_url`` is the page, or, for rows stored before that
column existed, the attachment URLs its record lists). Stored attachments that belong to no report are
parsed as reports of their own, once per distinct content: so upgrading nianbao reads the PDFs it already
holds without fetching anything again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlmodel import Session, col, select

from nianbao.app.embedded import InProcessBus, RunStats
from nianbao.parser.handlers import handle_page_fetched
from nianbao.parser.settings import ParserSettings
from nianbao.shared.contracts import FetchedDocument, PageFetched, ReportParsed
from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.models import Fetch, Report
from nianbao.shared.rawstore import RawStore
from nianbao.validator.handlers import handle_report_parsed
from nianbao.validator.settings import ValidatorSettings


def reparse(site_id: str | None = None, progress: Callable[[str], None] | None = None) -> RunStats:
    parser_settings = ParserSettings()
    validator_settings = ValidatorSettings()
    url = validator_settings.resolved_database_url()
    upgrade(url)
    store = RawStore(parser_settings.resolved_raw_store_dir())
    bus = InProcessBus(validator_settings, progress)
    bus.register(PageFetched, lambda m: handle_page_fetched(m, store, bus, parser_settings))
    bus.register(ReportParsed, lambda m: handle_report_parsed(m, validator_settings))
    with session_scope(url) as session:
        for message in stored_messages(session, site_id):
            bus.publish(message)
    return bus.drain()


def stored_messages(session: Session, site_id: str | None = None) -> Iterable[PageFetched]:
    """The ``PageFetched`` messages that re-read everything stored: each report with its attachments,
    then each stored attachment no report holds (one per distinct content)."""
    attachments = _stored_attachments(session, site_id)
    used: set[tuple[str, str]] = set()  # (site, content sha256) already read
    query = select(Report).order_by(col(Report.id))
    if site_id:
        query = query.where(Report.site_id == site_id)
    report_urls: set[tuple[str, str]] = set()
    for report in session.exec(query):
        report_urls.add((report.site_id, report.url))
        site = attachments.get(report.site_id, {})
        listed = [a.get("url") for a in report.record.get("attachments") or [] if isinstance(a, dict)]
        mine = [row for row in site.values() if row.parent_url == report.url]
        mine += [site[u] for u in listed if isinstance(u, str) and u in site and site[u].parent_url is None]
        docs = {row.url: _document(row) for row in mine}
        used.update((report.site_id, d.content_sha256) for d in docs.values())
        used.add((report.site_id, report.content_sha256))
        source: dict[str, Any] = report.record.get("source") or {}
        yield PageFetched(
            site_id=report.site_id,
            url=report.url,
            final_url=source.get("final_url") or report.url,
            raw_key=report.raw_key,
            content_sha256=report.content_sha256,
            media_type=source.get("media_type") or "text/html",
            http_charset=None,
            title_hint=report.title,
            attachments=tuple(docs.values()),
        )
    for site_id, rows in attachments.items():
        for row in rows.values():
            assert row.raw_key is not None and row.content_sha256 is not None  # selected so
            identity = (site_id, row.content_sha256)
            if identity in used or (site_id, row.url) in report_urls:
                continue  # these bytes are read already (a report's page or attachment, or an earlier URL)
            used.add(identity)
            yield PageFetched(
                site_id=site_id,
                url=row.url,
                final_url=row.final_url or row.url,
                raw_key=row.raw_key,
                content_sha256=row.content_sha256,
                media_type=row.media_type or "application/octet-stream",
            )


def _stored_attachments(session: Session, site_id: str | None) -> dict[str, dict[str, Fetch]]:
    """The latest stored fetch of every attachment URL, per site."""
    query = select(Fetch).where(Fetch.kind == "attachment", col(Fetch.raw_key).is_not(None))
    if site_id:
        query = query.where(Fetch.site_id == site_id)
    out: dict[str, dict[str, Fetch]] = {}
    for row in session.exec(query.order_by(col(Fetch.fetched_at), col(Fetch.id))):
        if row.content_sha256:
            out.setdefault(row.site_id, {})[row.url] = row
    return out


def _document(row: Fetch) -> FetchedDocument:
    assert row.raw_key is not None and row.content_sha256 is not None
    return FetchedDocument(
        url=row.url,
        final_url=row.final_url or row.url,
        raw_key=row.raw_key,
        content_sha256=row.content_sha256,
        media_type=row.media_type or "application/octet-stream",
    )
