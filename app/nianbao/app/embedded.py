"""Embedded mode: the whole pipeline in one process, no broker, the same handlers the tasks wrap.

Messages go through an in-process queue instead of Redis. A failing handler does not stop the run: its
message is recorded in ``task_failure`` (as a worker would after its retries) and the run goes on.
"""

from __future__ import annotations

import logging
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nianbao.crawler.handlers import crawl_site
from nianbao.crawler.outbox import publish_stalled
from nianbao.crawler.settings import CrawlerSettings
from nianbao.crawler.sites import SiteRegistry
from nianbao.crawler.state import CrawlState
from nianbao.parser.handlers import handle_page_fetched
from nianbao.parser.settings import ParserSettings
from nianbao.shared.contracts import CrawlRequested, Message, PageFetched, ReportParsed
from nianbao.shared.db import upgrade
from nianbao.shared.errors import PermanentError
from nianbao.shared.rawstore import RawStore
from nianbao.shared.settings import CommonSettings
from nianbao.shared.taskrunner import record_failure
from nianbao.validator.overlap import OverlappedStore
from nianbao.validator.settings import ValidatorSettings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class RunStats:
    handled: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    crawl_summaries: list[Any] = field(default_factory=list)


class InProcessBus:
    """A :class:`~nianbao.shared.bus.Publisher` that runs handlers in this process, one message at a time.

    Depth first: what a handler publishes is handled before the messages queued before it (a page's
    record is stored right after its parse, not after every other page is parsed), so a run holds one
    parsed record at a time, not a site's worth.

    ``ReportParsed`` messages may go to an :class:`OverlappedStore` instead of a handler
    (:meth:`store_reports_with`): the database then writes one report while the next page is parsed. Its
    outcomes are counted, reported and recorded as a handler's are, at most one message late; the store is
    flushed before any other kind of message (a crawl reads what was stored) and before :meth:`drain`
    returns."""

    def __init__(self, settings: CommonSettings, progress: Progress | None = None) -> None:
        self._settings = settings
        self._handlers: dict[str, Callable[[Any], object]] = {}
        self._reports: OverlappedStore | None = None
        self._queue: deque[Message] = deque()
        self._published: list[Message] = []  # by the handler running now (or before the drain)
        self._progress = progress or (lambda _line: None)
        self.stats = RunStats()

    def register(self, message_cls: type[Message], handler: Callable[[Any], object]) -> None:
        self._handlers[message_cls.TASK] = handler

    def store_reports_with(self, reports: OverlappedStore | None) -> None:
        """Hand ``ReportParsed`` messages to ``reports`` (None: to the registered handler again)."""
        self._reports = reports

    def publish(self, message: Message) -> None:
        self._published.append(message)

    def drain(self) -> RunStats:
        try:
            self._take_published()
            while self._queue:
                message = self._queue.popleft()
                if self._reports is not None:
                    if isinstance(message, ReportParsed):
                        self._reports.submit(message, self._done)
                        continue
                    if not isinstance(message, PageFetched):
                        self._reports.flush()
                try:
                    result = self._handlers[message.TASK](message)
                except Exception as exc:
                    self._done(message, None, exc)
                else:
                    self._done(message, result, None)
                self._take_published()
        finally:
            if self._reports is not None:  # the last report's outcome, and the writer's connection back
                self._reports.flush()
        return self.stats

    def _take_published(self) -> None:
        """Put what was published since the last call at the queue's front, in publishing order."""
        self._queue.extendleft(reversed(self._published))
        self._published.clear()

    def _done(self, message: Message, result: object, error: Exception | None) -> None:
        """Count, report and (for a failure) record one handled message."""
        if error is not None:
            reason = "permanent" if isinstance(error, PermanentError) else "embedded_error"
            record_failure(
                self._settings,
                task=message.TASK,
                queue=message.QUEUE,
                reason=reason,
                error="".join(traceback.format_exception(error)),
                payload=message.to_payload(),
            )
            line = f"failed {message.TASK} ({type(error).__name__}: {error})"
            self.stats.failures.append(line)
            self._progress(line)
            return
        self.stats.handled[message.TASK] = self.stats.handled.get(message.TASK, 0) + 1
        if isinstance(message, CrawlRequested):
            self.stats.crawl_summaries.append(result)
            self._progress(f"crawled site {message.site_id}: {result}")
        elif isinstance(message, PageFetched):
            self._progress(f"parsed {message.url}")
        elif isinstance(message, ReportParsed):
            self._progress(f"validated and stored {message.url}")


def build_bus(registry: SiteRegistry, progress: Progress | None = None) -> InProcessBus:
    crawler_settings = CrawlerSettings()
    parser_settings = ParserSettings()
    validator_settings = ValidatorSettings()
    store = RawStore(crawler_settings.resolved_raw_store_dir())
    bus = InProcessBus(crawler_settings, progress)
    bus.register(
        CrawlRequested,
        lambda m: crawl_site(m, registry=registry, settings=crawler_settings, store=store, publisher=bus),
    )
    bus.register(PageFetched, lambda m: handle_page_fetched(m, store, bus, parser_settings))
    bus.store_reports_with(OverlappedStore(validator_settings))
    return bus


def run_embedded(
    registry: SiteRegistry,
    site_ids: Iterable[str],
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> RunStats:
    """Crawl, parse, validate and store the given sites in this process (migrating the database first).

    First, each site's page hand-offs that an earlier run published and that never became a report are
    handed on again: the in-process queue they went to ended with that run's process (killed, or stopped
    with Ctrl+C), and the site's next crawl would find those pages unchanged and skip them."""
    upgrade(CommonSettings().resolved_database_url())
    started = datetime.now(UTC)
    bus = build_bus(registry, progress)
    crawler_settings = CrawlerSettings()
    state = CrawlState(crawler_settings.resolved_database_url())
    for site_id in site_ids:
        publish_stalled(state, bus, site_id=site_id, settings=crawler_settings, lost_before=started)
        bus.publish(CrawlRequested(site_id=site_id, force=force, reason="cli"))
    return bus.drain()
