"""The one way every Celery task runs its message: validate, handle, retry or record.

Tasks stay thin: ``run_message_task`` validates the JSON payload into the message class, calls the
service's plain handler, and on failure either retries with exponential back-off and jitter (transient
and unexpected errors) or records a ``task_failure`` row with the reason (permanent errors, invalid
messages, retries exhausted). A message is never silently dropped.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from nianbao.shared.celery_app import backoff_delay
from nianbao.shared.contracts import Message
from nianbao.shared.db import session_scope
from nianbao.shared.errors import PermanentError
from nianbao.shared.models import TaskFailure
from nianbao.shared.settings import CommonSettings

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)

# Outcomes reported to the service's metrics callback (bounded label values).
OUTCOMES = ("ok", "retry", "permanent", "invalid_message", "retries_exhausted")


def record_failure(
    settings: CommonSettings,
    *,
    task: str,
    queue: str,
    reason: str,
    error: str,
    payload: dict[str, Any],
) -> None:
    """Store a failed message so an operator can see it and re-enqueue it."""
    site_id = payload.get("site_id") if isinstance(payload, dict) else None
    with session_scope(settings.resolved_database_url()) as session:
        session.add(
            TaskFailure(
                task=task,
                queue=queue,
                reason=reason,
                error=error[:4000],
                payload=payload if isinstance(payload, dict) else {"raw": repr(payload)},
                site_id=site_id if isinstance(site_id, str) else None,
            )
        )
    # For a traceback the last line names the exception; for a plain message it is the message.
    summary = next((line for line in reversed(error.splitlines()) if line.strip()), "")
    log.error("task %s gave up (%s): %s", task, reason, summary)


def run_message_task(
    task: Any,
    message_cls: type[M],
    payload: Any,
    handler: Callable[[M], object],
    settings: CommonSettings,
    on_outcome: Callable[[str], None] = lambda _outcome: None,
) -> None:
    """Run ``handler`` on the validated message inside a bound Celery task (``bind=True``)."""

    def give_up(reason: str, error: str, failed_payload: dict[str, Any]) -> None:
        on_outcome(reason)
        record_failure(settings, task=task.name, queue=message_cls.QUEUE, reason=reason, error=error,
                       payload=failed_payload)  # fmt: skip

    try:
        message = message_cls.model_validate(payload)
    except ValidationError as exc:
        give_up("invalid_message", str(exc), payload if isinstance(payload, dict) else {"raw": payload})
        return
    try:
        handler(message)
    except PermanentError as exc:
        give_up("permanent", f"{type(exc).__name__}: {exc}", message.to_payload())
        return
    except Exception as exc:  # transient or unexpected: retry, then record
        retries = int(task.request.retries or 0)
        if retries >= settings.task_max_retries:
            give_up("retries_exhausted", "".join(traceback.format_exception(exc)), message.to_payload())
            return
        on_outcome("retry")
        delay = backoff_delay(retries, settings.task_retry_backoff_s, settings.task_retry_backoff_max_s)
        log.warning(
            "task %s failed (%s: %s); retry %d in %.1fs", task.name, type(exc).__name__, exc, retries + 1, delay
        )
        raise task.retry(exc=exc, countdown=delay, max_retries=settings.task_max_retries) from exc
    on_outcome("ok")
