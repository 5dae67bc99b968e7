"""The parser's unit of work: one fetched page (and its attachments) → one canonical record, published
for validation."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

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
    message: PageFetched,
    store: RawStore,
    publisher: Publisher,
    settings: ParserSettings,
    *,
    count_failures: bool = True,
) -> ReportParsed:
    """Load the page's bytes and its attachments', parse them into one record and publish
    :class:`ReportParsed`. Idempotent: the same bytes always give the same record.

    Raises :class:`PermanentError` when the page's blob is missing and :class:`UnusableInput` (also
    permanent) when the page's bytes cannot be a report; retrying helps with neither. An attachment that
    is missing or unusable does not fail the page: the record says so (``attachment_unreadable``).
    ``count_failures=False`` (a batch, whose failed page then runs alone and is counted there) leaves a
    failed page out of the metrics."""
    try:
        data = store.get(message.raw_key)
    except RawStoreError as exc:
        if count_failures:
            metrics.REPORTS_PARSED.labels("unknown", "blob_missing").inc()
        raise PermanentError(f"page {message.url}: {exc}") from exc
    started = time.perf_counter()
    parsed_ok = False
    try:
        record = _parse_counted(
            data,
            url=message.url,
            final_url=message.final_url,
            media_type=message.media_type,
            http_charset=message.http_charset,
            fetched_at=message.fetched_at.isoformat(),
            settings=settings,
            count_failures=count_failures,
        )
        record = merge_attachments(record, [_read_attachment(a, store, settings) for a in message.attachments])
        if not record.title and message.title_hint and message.title_hint.strip():
            # No title line in the document: the title it was listed under, never an empty one (the
            # record keeps its ``title_missing`` warning, so the fallback stays visible).
            record = record.model_copy(update={"title": " ".join(message.title_hint.split())[:500]})
        parsed_ok = True
    except UnusableInput:
        if count_failures:
            metrics.REPORTS_PARSED.labels("unknown", "unusable").inc()
        raise
    finally:
        if parsed_ok or count_failures:
            metrics.PARSE_SECONDS.observe(time.perf_counter() - started)
    parsed = ReportParsed.of(site_id=message.site_id, url=message.url, raw_key=message.raw_key, record=record)
    publisher.publish(parsed)
    generation = record.generation.value or "unknown"
    metrics.REPORTS_PARSED.labels(generation, "warnings" if record.warnings else "clean").inc()
    for warning in record.warnings:
        metrics.WARNINGS.labels(metric_code(warning.code)).inc()
    return parsed


def _parse_counted(data: bytes, *, media_type: str | None, count_failures: bool = True, **kwargs: object) -> Record:
    """``parse_bytes``, counting the document by format and outcome (``nianbao_parser_documents_total``; an
    unusable one only with ``count_failures``)."""
    fmt = sniff_format(data, media_type) or ("html" if "html" in (media_type or "html") else "text")
    try:
        record = parse_bytes(data, media_type=media_type, **kwargs)  # type: ignore[arg-type]
    except UnusableInput:
        if count_failures:
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


def parse_batch(
    payloads: Sequence[Any], store: RawStore, publisher: Publisher, settings: ParserSettings
) -> list[bool]:
    """Parse and publish the pages of several ``PageFetched`` payloads, one after the other (the parser
    worker's batches, see ``nianbao.shared.batching``). Idempotent, as :func:`handle_page_fetched`.

    Answers, per payload, True when its ``ReportParsed`` is published, False for a payload the worker must
    run alone, through the task and its usual handling: one that is not a valid message (None included: a
    body that did not read) and one whose page failed (a missing blob, an unusable page, Redis away). Such a
    page is counted in the metrics when it runs alone, not here."""
    done: list[bool] = []
    for payload in payloads:
        try:
            if payload is None:
                raise ValueError("the message body did not read")
            message = PageFetched.model_validate(payload)
            handle_page_fetched(message, store, publisher, settings, count_failures=False)
        except Exception as exc:  # each such page runs alone: its own retries, or its failure record
            log.info("a page of a batch runs alone (%s: %s)", type(exc).__name__, str(exc).partition("\n")[0][:300])
            done.append(False)
        else:
            done.append(True)
    metrics.TASKS.labels("ok").inc(sum(done))
    return done
