"""Celery task of the validator: thin wrapper around :func:`handle_report_parsed`."""

from __future__ import annotations

from typing import Any

from nianbao.shared.contracts import ReportParsed
from nianbao.shared.taskrunner import run_message_task
from nianbao.validator import metrics
from nianbao.validator.handlers import handle_report_parsed
from nianbao.validator.settings import ValidatorSettings


def register_tasks(app: Any, settings: ValidatorSettings) -> None:
    @app.task(name=ReportParsed.TASK, bind=True, acks_late=True)  # type: ignore[untyped-decorator]
    def validate_report(self: Any, payload: dict[str, Any]) -> None:
        run_message_task(
            self,
            ReportParsed,
            payload,
            lambda message: handle_report_parsed(message, settings),
            settings,
            on_outcome=lambda outcome: metrics.TASKS.labels(outcome).inc(),
        )
