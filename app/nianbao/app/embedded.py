"""Embedded mode: the whole pipeline in one process, no broker, the same handlers the tasks wrap.

Messages go through an in-process FIFO instead of Redis. A failing handler does not stop the run: its
message is recorded in ``task_failure`` (as a worker would after its retries) and the run goes on.
"""

from __future__ import annotations

import logging
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nianbao.crawler.handlers import crawl_site
from nianbao.crawler.settings import CrawlerSettings
from nianbao.crawler.sites import SiteRegistry
from nianbao.parser.handlers import handle_page_fetched
from nianbao.parser.settings import ParserSettings
from nianbao.shared.contracts import CrawlRequested, Message, PageFetched, ReportParsed
from nianbao.shared.db import upgrade
from nianbao.shared.errors import PermanentError
from nianbao.shared.rawstore import RawStore
from nianbao.shared.settings import CommonSettings
from nianbao.shared.taskrunner import record_failure
from nianbao.validator.handlers import handle_report_parsed
from nianbao.validator.settings import ValidatorSettings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class RunStats:
    handled: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    crawl_summaries: list[Any] = field(default_factory=list)


class InProcessBus:
    """A :class:`~nianbao.shared.bus.Publisher` that runs handlers in this process, first in first out."""

    def __init__(self, settings: CommonSettings, progress: Progress | None = None) -> None:
        self._settings = settings
        self._handlers: dict[str, Callable[[Any], object]] = {}
        self._queue: deque[Message] = deque()
        self._progress = progress or (lambda _line: None)
        self.stats = RunStats()

    def register(self, message_cls: type[Message], handler: Callable[[Any], object]) -> None:
        self._handlers[message_cls.TASK] = handler

    def publish(self, message: Message) -> None:
        self._queue.append(message)

    def drain(self) -> RunStats:
        while self._queue:
            message = self._queue.popleft()
            handler = self._handlers[message.TASK]
            try:
                result = handler(message)
            except Exception as exc:
                reason = "permanent" if isinstance(exc, PermanentError) else "embedded_error"
                record_failure(
                    self._settings,
                    task=message.TASK,
                    queue=message.QUEUE,
                    reason=reason,
                    error="".join(traceback.format_exception(exc)),
                    payload=message.to_payload(),
                )
                line = f"failed {message.TASK} ({type(exc).__name__}: {exc})"
                self.stats.failures.append(line)
                self._progress(line)
                continue
            self.stats.handled[message.TASK] = self.stats.handled.get(message.TASK, 0) + 1
            if isinstance(message, CrawlRequested):
                self.stats.crawl_summaries.append(result)
                self._progress(f"crawled site {message.site_id}: {result}")
            elif isinstance(message, PageFetched):
                self._progress(f"parsed {message.url}")
            elif isinstance(message, ReportParsed):
                self._progress(f"validated and stored {message.url}")
        return self.stats


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
    bus.register(ReportParsed, lambda m: handle_report_parsed(m, validator_settings))
    return bus


def run_embedded(
    registry: SiteRegistry,
    site_ids: Iterable[str],
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> RunStats:
    """Crawl, parse, validate and store the given sites in this process (migrating the database first)."""
    upgrade(CommonSettings().resolved_database_url())
    bus = build_bus(registry, progress)
    for site_id in site_ids:
        bus.publish(CrawlRequested(site_id=site_id, force=force, reason="cli"))
    return bus.drain()
