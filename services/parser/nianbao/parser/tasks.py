"""Celery task of the parser: a thin wrapper around :func:`handle_page_fetched`, its messages batched.

Consumes :class:`PageFetched` (queue ``parser``), publishes :class:`ReportParsed`; transient failures are
retried with back-off by :func:`run_message_task`, permanent ones (missing blob, unusable input) are
recorded as task failures. With ``parse_batch_size`` > 1 the worker sends up to that many messages to a
child as one job, parsed by :func:`parse_batch` (``nianbao.shared.batching``); a page the batch does not
publish runs alone through this task, as every message does with ``parse_batch_size`` = 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nianbao.parser import metrics
from nianbao.parser.handlers import handle_page_fetched, parse_batch
from nianbao.parser.settings import ParserSettings
from nianbao.shared.batching import batched_task_options
from nianbao.shared.bus import CeleryPublisher
from nianbao.shared.contracts import PageFetched, ReportParsed
from nianbao.shared.rawstore import RawStore
from nianbao.shared.taskrunner import run_message_task


def register_tasks(app: Any, settings: ParserSettings) -> None:
    """Register task ``PageFetched.TASK`` on ``app``, and on no other Celery app of the process (``shared=False``,
    as every service's tasks: a task holds its app's settings; Celery's default would add it to every app
    created later in the process)."""

    def run_batch(payloads: Sequence[Any]) -> list[bool]:
        store = RawStore(settings.resolved_raw_store_dir())
        return parse_batch(payloads, store, CeleryPublisher(app), settings)

    batching = batched_task_options(app, PageFetched.TASK, run_batch, size=settings.parse_batch_size,
                                    wait_ms=settings.parse_batch_wait_ms)  # fmt: skip

    @app.task(name=PageFetched.TASK, bind=True, acks_late=True, shared=False, **batching)  # type: ignore[untyped-decorator]
    def parse_page(self: Any, payload: dict[str, Any]) -> None:
        def handle(message: PageFetched) -> ReportParsed:
            store = RawStore(settings.resolved_raw_store_dir())
            return handle_page_fetched(message, store, CeleryPublisher(app), settings)

        run_message_task(
            self,
            PageFetched,
            payload,
            handle,
            settings,
            on_outcome=lambda outcome: metrics.TASKS.labels(outcome).inc(),
        )
