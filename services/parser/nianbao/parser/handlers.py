"""The parser's unit of work: one fetched page (and its attachments) → one canonical record, published
for validation."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from nianbao.parser import metrics
from nianbao.parser.errors import UnusableInput
from nianbao.parser.extract import parse_bytes
from nianbao.parser.formats import sniff_format
from nianbao.parser.merge import AttachmentRead, document_outcome, merge_attachments
from nianbao.parser.settings import ParserSettings
from nianbao.parser.warning_codes import metric_code
from nianbao.shared.bus import Publisher
from nianbao.shared.contracts import FetchedDocument, PageFetched, ReportParsed
from nianbao.shared.errors import PermanentError
from nianbao.shared.rawstore import RawStore, RawStoreError
from nianbao.shared.record import Record

log = logging.getLogger(__name__)


def handle_page_fetched(
    message: PageFetched, store: RawStore, publisher: Publisher, settings: ParserSettings
) -> ReportParsed:
    """Load the page's bytes and its attachments', parse them into one record and publish
    :class:`ReportParsed`. Idempotent: the same bytes always give the same record.

    Raises :class:`PermanentError` when the page's blob is missing and :class:`UnusableInput` (also
    permanent) when the page's bytes cannot be a report; retrying helps with neither. An attachment that
    is missing or unusable does not fail the page: the record says so (``attachment_unreadable``)."""
    try:
        data = store.get(message.raw_key)
    except RawStoreError as exc:
        metrics.REPORTS_PARSED.labels("unknown", "blob_missing").inc()
        raise PermanentError(f"page {message.url}: {exc}") from exc
    started = time.perf_counter()
    try:
        record = _parse_counted(
            data,
            url=message.url,
            final_url=message.final_url,
            media_type=message.media_type,
            http_charset=message.http_charset,
            fetched_at=message.fetched_at.isoformat(),
            settings=settings,
        )
        record = merge_attachments(record, [_read_attachment(a, store, settings) for a in message.attachments])
        if not record.title and message.title_hint and message.title_hint.strip():
            # No title line in the document: the title it was listed under, never an empty one (the
            # record keeps its ``title_missing`` warning, so the fallback stays visible).
            record = record.model_copy(update={"title": " ".join(message.title_hint.split())[:500]})
    except UnusableInput:
        metrics.REPORTS_PARSED.labels("unknown", "unusable").inc()
        raise
    finally:
        metrics.PARSE_SECONDS.observe(time.perf_counter() - started)
    parsed = ReportParsed.of(site_id=message.site_id, url=message.url, raw_key=message.raw_key, record=record)
    publisher.publish(parsed)
    generation = record.generation.value or "unknown"
    metrics.REPORTS_PARSED.labels(generation, "warnings" if record.warnings else "clean").inc()
    for warning in record.warnings:
        metrics.WARNINGS.labels(metric_code(warning.code)).inc()
    return parsed


def _parse_counted(data: bytes, *, media_type: str | None, **kwargs: object) -> Record:
    """``parse_bytes``, counting the document by format and outcome (``nianbao_parser_documents_total``)."""
    fmt = sniff_format(data, media_type) or ("html" if "html" in (media_type or "html") else "text")
    try:
        record = parse_bytes(data, media_type=media_type, **kwargs)  # type: ignore[arg-type]
    except UnusableInput:
        metrics.DOCUMENTS.labels(fmt, "unusable").inc()
        raise
    metrics.DOCUMENTS.labels(fmt, document_outcome(record)).inc()
    return record


def _read_attachment(attachment: FetchedDocument, store: RawStore, settings: ParserSettings) -> AttachmentRead:
    read = AttachmentRead(
        url=attachment.url,
        raw_key=attachment.raw_key,
        content_sha256=attachment.content_sha256,
        name=attachment.title_hint,
        media_type=attachment.media_type,
    )
    try:
        data = store.get(attachment.raw_key)
    except RawStoreError as exc:
        return replace(read, error=f"stored bytes missing: {exc}")
    try:
        record = _parse_counted(
            data, url=attachment.url, final_url=attachment.final_url, media_type=attachment.media_type,
            settings=settings,
        )  # fmt: skip
    except UnusableInput as exc:
        return replace(read, error=f"{exc.reason}: {exc}")
    except Exception as exc:  # a front-end bug on one attachment must not cost the page its record
        log.exception("attachment %s of a page could not be read", attachment.url)
        return replace(read, error=f"internal error: {type(exc).__name__}: {str(exc)[:200]}")
    return replace(read, record=record)
