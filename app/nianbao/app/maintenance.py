"""Re-parsing stored raw bytes (after a parser change) and re-validating, with no refetch.

Every stored report is parsed again from its page's bytes together with the attachments stored for it
(``fetch`` rows of kind ``attachment`` whose ``parent_url`` is the page, or, for rows stored before that
column existed, the attachment URLs its record lists). Stored attachments that belong to no report are
parsed as reports of their own, once per distinct content: so upgrading nianbao reads the PDFs it already
holds without fetching anything again.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from nianbao.app.embedded import Progress, RunStats
from nianbao.parser.handlers import handle_page_fetched
from nianbao.parser.settings import ParserSettings
from nianbao.shared.contracts import FetchedDocument, Message, PageFetched, ReportParsed
from nianbao.shared.db import dispose_engines, session_scope, upgrade
from nianbao.shared.errors import PermanentError
from nianbao.shared.models import Fetch, Report
from nianbao.shared.rawstore import RawStore
from nianbao.shared.taskrunner import record_failure
from nianbao.validator.handlers import handle_report_parsed
from nianbao.validator.settings import ValidatorSettings
from nianbao.validator.store import recount_site_gauges

# Reports validated and stored per transaction: one commit (one WAL flush) for this many reports.
BATCH_SIZE = 50


def default_processes(database_url: str) -> int:
    """Processes a reparse uses: one per core (at most 4) on PostgreSQL; one on SQLite (a single writer)."""
    return 1 if database_url.startswith("sqlite") else max(1, min(os.cpu_count() or 1, 4))


def reparse(
    site_id: str | None = None,
    progress: Callable[[str], None] | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    processes: int | None = None,
) -> RunStats:
    """Parse every stored report again and validate and store it, ``batch_size`` reports per transaction,
    in ``processes`` processes (default :func:`default_processes`), each taking whole batches.

    The stored rows are streamed (not loaded at once). A report whose parse fails is recorded in
    ``task_failure`` and skipped; if storing one report of a batch fails, the batch is rolled back and
    stored again one report per transaction, so only the failing report is recorded and the others
    are kept. Progress: one ``parsed``/``validated and stored``/``failed`` line per step."""
    url = ValidatorSettings().resolved_database_url()
    upgrade(url)
    say = progress or (lambda _line: None)
    stats = RunStats()
    workers = processes if processes is not None else default_processes(url)
    with session_scope(url) as reading:
        batches = _batches(stored_messages(reading, site_id), batch_size)
        if workers <= 1:
            for batch in batches:
                _merge(stats, _reparse_batch(batch), say)
        else:
            _reparse_in_pool(batches, workers, stats, say)
    with session_scope(url) as session:  # kept by delta per report; re-counted once per run (repairs drift)
        recount_site_gauges(session, site_id)
    return stats


def _reparse_in_pool(batches: Iterable[list[PageFetched]], workers: int, stats: RunStats, say: Progress) -> None:
    # fork: the children start with the code loaded; each drops the parent's pooled connections first.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=dispose_engines) as pool:
        pending: set[Future[BatchOutcome]] = set()
        for batch in batches:
            pending.add(pool.submit(_reparse_batch, batch))
            if len(pending) >= 2 * workers:  # bounded: the stored rows are not all read ahead
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    _merge(stats, future.result(), say)
        for future in pending:
            _merge(stats, future.result(), say)


def _batches(messages: Iterable[PageFetched], size: int) -> Iterator[list[PageFetched]]:
    batch: list[PageFetched] = []
    for message in messages:
        batch.append(message)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# What one batch did: steps handled per task, failure lines, progress lines (in order).
BatchOutcome = tuple[dict[str, int], list[str], list[str]]


def _merge(stats: RunStats, outcome: BatchOutcome, say: Progress) -> None:
    handled, failures, lines = outcome
    for task, count in handled.items():
        stats.handled[task] = stats.handled.get(task, 0) + count
    stats.failures.extend(failures)
    for line in lines:
        say(line)


def _reparse_batch(batch: list[PageFetched]) -> BatchOutcome:
    """Parse a batch of stored pages and store their records in one transaction (in this process or a
    pool's); settings from the environment, as the caller's."""
    parser_settings = ParserSettings()
    validator_settings = ValidatorSettings()
    store = RawStore(parser_settings.resolved_raw_store_dir())
    stats = RunStats()
    lines: list[str] = []
    parsed_batch: list[ReportParsed] = []
    for message in batch:
        try:
            parsed = handle_page_fetched(message, store, _Discard(), parser_settings)
        except Exception as exc:
            _failed(stats, validator_settings, message, exc, lines.append)
            continue
        _count(stats, message)
        lines.append(f"parsed {message.url}")
        parsed_batch.append(parsed)
    if parsed_batch:
        _store_batch(parsed_batch, validator_settings, stats, lines.append)
    return stats.handled, stats.failures, lines


class _Discard:
    """The parser's publisher during a reparse: the parsed record is taken from the handler's return."""

    def publish(self, message: Message) -> None:
        return None


def _store_batch(batch: list[ReportParsed], settings: ValidatorSettings, stats: RunStats, say: Progress) -> None:
    url = settings.resolved_database_url()
    try:
        with session_scope(url) as session:
            for message in batch:
                handle_report_parsed(message, settings, session=session)
    except Exception:  # one report broke the batch: store them one by one, so only that one is lost
        for message in batch:
            try:
                handle_report_parsed(message, settings)
            except Exception as exc:
                _failed(stats, settings, message, exc, say)
                continue
            _stored(stats, message, say)
        return
    for message in batch:
        _stored(stats, message, say)


def _count(stats: RunStats, message: Message) -> None:
    stats.handled[message.TASK] = stats.handled.get(message.TASK, 0) + 1


def _stored(stats: RunStats, message: ReportParsed, say: Progress) -> None:
    _count(stats, message)
    say(f"validated and stored {message.url}")


def _failed(stats: RunStats, settings: ValidatorSettings, message: Message, exc: Exception, say: Progress) -> None:
    """Record the message in ``task_failure`` (as a worker would after its retries) and go on."""
    reason = "permanent" if isinstance(exc, PermanentError) else "embedded_error"
    record_failure(settings, task=message.TASK, queue=message.QUEUE, reason=reason,
                   error="".join(traceback.format_exception(exc)), payload=message.to_payload())  # fmt: skip
    line = f"failed {message.TASK} ({type(exc).__name__}: {exc})"
    stats.failures.append(line)
    say(line)


def stored_messages(session: Session, site_id: str | None = None) -> Iterable[PageFetched]:
    """The ``PageFetched`` messages that re-read everything stored: each report with its attachments,
    then each stored attachment no report holds (one per distinct content)."""
    attachments = _stored_attachments(session, site_id)
    used: set[tuple[str, str]] = set()  # (site, content sha256) already read
    by_parent: dict[tuple[str, str], list[Fetch]] = {}  # (site, page URL) → its attachments, built once
    for holder, rows in attachments.items():
        for row in rows.values():
            if row.parent_url is not None:
                by_parent.setdefault((holder, row.parent_url), []).append(row)
    # Only the columns needed, and of the stored record only the two parts read here (not the whole JSON).
    query = sa_select(
        col(Report.site_id), col(Report.url), col(Report.raw_key), col(Report.content_sha256), col(Report.title),
        col(Report.record)["attachments"], col(Report.record)["source"],
    ).order_by(col(Report.id))  # fmt: skip
    if site_id:
        query = query.where(col(Report.site_id) == site_id)
    report_urls: set[tuple[str, str]] = set()
    # Streamed: a million stored reports are not held in memory at once.
    for site_of, url, raw_key, content_sha256, title, listed_json, source_json in session.execute(
        query.execution_options(yield_per=500)
    ):
        report_urls.add((site_of, url))
        site = attachments.get(site_of, {})
        listed = [a.get("url") for a in listed_json or [] if isinstance(a, dict)]
        mine = list(by_parent.get((site_of, url), []))
        mine += [site[u] for u in listed if isinstance(u, str) and u in site and site[u].parent_url is None]
        docs = {row.url: _document(row) for row in mine}
        used.update((site_of, d.content_sha256) for d in docs.values())
        used.add((site_of, content_sha256))
        source: dict[str, Any] = source_json if isinstance(source_json, dict) else {}
        yield PageFetched(
            site_id=site_of,
            url=url,
            final_url=source.get("final_url") or url,
            raw_key=raw_key,
            content_sha256=content_sha256,
            media_type=source.get("media_type") or "text/html",
            http_charset=None,
            title_hint=title,
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
