"""The parser's unit of work: one fetched page → its canonical record, published for validation."""

from __future__ import annotations

import time

from nianbao.parser import metrics
from nianbao.parser.errors import UnusableInput
from nianbao.parser.extract import parse_bytes
from nianbao.parser.settings import ParserSettings
from nianbao.parser.warning_codes import metric_code
from nianbao.shared.bus import Publisher
from nianbao.shared.contracts import PageFetched, ReportParsed
from nianbao.shared.errors import PermanentError
from nianbao.shared.rawstore import RawStore, RawStoreError


def handle_page_fetched(
    message: PageFetched, store: RawStore, publisher: Publisher, settings: ParserSettings
) -> ReportParsed:
    """Load the page's bytes, parse them and publish :class:`ReportParsed`. Idempotent: the same bytes
    always give the same record.

    Raises :class:`PermanentError` when the blob is missing and :class:`UnusableInput` (also permanent)
    when the bytes cannot be a report page; retrying helps with neither."""
    try:
        data = store.get(message.raw_key)
    except RawStoreError as exc:
        metrics.REPORTS_PARSED.labels("unknown", "blob_missing").inc()
        raise PermanentError(f"page {message.url}: {exc}") from exc
    started = time.perf_counter()
    try:
        record = parse_bytes(
            data,
            url=message.url,
            final_url=message.final_url,
            media_type=message.media_type,
            http_charset=message.http_charset,
            fetched_at=message.fetched_at.isoformat(),
            settings=settings,
        )
    except UnusableInput:
        metrics.REPORTS_PARSED.labels("unknown", "unusable").inc()
        raise
    finally:
        metrics.PARSE_SECONDS.observe(time.perf_counter() - started)
    parsed = ReportParsed(
        site_id=message.site_id, url=message.url, raw_key=message.raw_key, record=record.model_dump(mode="json")
    )
    publisher.publish(parsed)
    generation = record.generation.value or "unknown"
    metrics.REPORTS_PARSED.labels(generation, "warnings" if record.warnings else "clean").inc()
    for warning in record.warnings:
        metrics.WARNINGS.labels(metric_code(warning.code)).inc()
    return parsed
