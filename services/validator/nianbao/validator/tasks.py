"""Celery task of the validator: thin wrapper around :func:`handle_report_parsed`, its messages batched.

With ``batch_size`` > 1 the worker sends up to that many messages to a child as one job, stored by
:func:`store_batch` in one transaction (``nianbao.shared.batching``); a message the batch does not store
runs alone through this task, as every message does with ``batch_size`` = 1."""

from __future__ import annotations

from typing import Any

from nianbao.shared.batching import batched_task_options
from nianbao.shared.contracts import ReportParsed
from nianbao.shared.taskrunner import run_message_task
from nianbao.validator import metrics
from nianbao.validator.handlers import handle_report_parsed, store_batch
from nianbao.validator.settings import ValidatorSettings


def register_tasks(app: Any, settings: ValidatorSettings) -> None:
    batching = batched_task_options(app, ReportParsed.TASK, lambda payloads: store_batch(payloads, settings),
                                    size=settings.batch_size, wait_ms=settings.batch_wait_ms)  # fmt: skip

    @app.task(name=ReportParsed.TASK, bind=True, acks_late=True, shared=False, **batching)  # type: ignore[untyped-decorator]
    def validate_report(self: Any, payload: dict[str, Any]) -> None:
        run_message_task(
            self,
            ReportParsed,
            payload,
            lambda message: handle_report_parsed(message, settings),
            settings,
            on_outcome=lambda outcome: metrics.TASKS.labels(outcome).inc(),
        )
