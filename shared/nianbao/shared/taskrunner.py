"""The one way every Celery task runs its message: validate, handle, retry or record.

Tasks stay thin: ``run_message_task`` validates the JSON payload into the message class, calls the
service's plain handler, and on failure either retries with exponential back-off and jitter (transient
and unexpected errors) or records a ``task_failure`` row with the reason (permanent errors, invalid
messages, retries exhausted). A message is never silently dropped:

* an outage of our own infrastructure (the database or the broker unreachable) is retried without
  limit, with the capped back-off: it is not the message's fault, and it ends;
* a retry that cannot be enqueued (the broker is down) is not turned into Celery's
  ``Reject(requeue=False)``: the message is rejected *with* requeue, and if even that cannot reach the
  broker it stays in Redis' ``unacked`` set, redelivered after the visibility timeout;
* recording a failure cannot fail on the payload (it is made JSON-safe and bounded first); if the
  database cannot take the row, the message is retried as above, never acked.
"""

from __future__ import annotations

import json
import logging
import math
import traceback
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from celery.exceptions import Reject, Retry
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

# A stored payload is at most this many bytes of JSON; a larger one keeps its head and its size.
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_ERROR_CHARS = 4000
_MAX_DEPTH = 40
_MAX_STR_CHARS = 64 * 1024
# Python refuses str(int) beyond 4300 digits (CVE-2020-10735): json.dumps of such an int raises.
_MAX_INT_BITS = 4000 * 3


def json_safe(value: Any, *, _depth: int = 0) -> Any:
    """``value`` as plain JSON data any database takes: string keys, no NUL or lone surrogates, finite
    floats, ints that print, bounded depth and string length; anything else by its ``repr``."""
    if _depth > _MAX_DEPTH:
        return "<nested too deep>"
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if value.bit_length() <= _MAX_INT_BITS else f"<int of {value.bit_length()} bits>"
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        return {_clean_text(str(k)): json_safe(v, _depth=_depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v, _depth=_depth + 1) for v in value]
    if isinstance(value, bytes):
        return _clean_text(value.decode("utf-8", "replace"))
    return _clean_text(_safe_repr(value))


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:  # a broken __repr__ must not break the recording
        return f"<unprintable {type(value).__name__}>"


def _clean_text(text: str) -> str:
    text = text[:_MAX_STR_CHARS].replace("\x00", "\ufffd")
    return text.encode("utf-8", "replace").decode("utf-8")


def bounded_payload(payload: Any, max_bytes: int = MAX_PAYLOAD_BYTES) -> dict[str, Any]:
    """The payload to store with a failure: JSON-safe, a dict, and at most ``max_bytes`` of JSON."""
    safe = json_safe(payload)
    if not isinstance(safe, dict):
        safe = {"raw": safe}
    text = json.dumps(safe, ensure_ascii=False)
    size = len(text.encode("utf-8"))
    if size <= max_bytes:
        return safe
    head = text.encode("utf-8")[: max_bytes // 2].decode("utf-8", "ignore")
    kept = {k: safe[k] for k in ("site_id", "url", "raw_key", "sent_at") if isinstance(safe.get(k), str)}
    return {**kept, "truncated": True, "json_bytes": size, "json_head": head}


def record_failure(
    settings: CommonSettings,
    *,
    task: str,
    queue: str,
    reason: str,
    error: str,
    payload: Any,
) -> None:
    """Store a failed message so an operator can see it and re-enqueue it. Raises only if the database
    does not take the row (unreachable, schema missing): the caller must then keep the message."""
    stored = bounded_payload(payload)
    site_id = stored.get("site_id")
    with session_scope(settings.resolved_database_url()) as session:
        session.add(
            TaskFailure(
                task=task[:100],
                queue=queue[:30],
                reason=reason[:30],
                error=_clean_text(error[:MAX_ERROR_CHARS]),
                payload=stored,
                site_id=site_id[:100] if isinstance(site_id, str) else None,
            )
        )
    # For a traceback the last line names the exception; for a plain message it is the message.
    summary = next((line for line in reversed(error.splitlines()) if line.strip()), "")
    log.error("task %s gave up (%s): %s", task, reason, summary)


def is_infrastructure_error(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) says our database or broker is unreachable."""
    from kombu.exceptions import OperationalError as BrokerError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OperationalError | InterfaceError | BrokerError | RedisConnectionError):
            return True
        if isinstance(current, RedisTimeoutError):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False


def retry_or_keep(task: Any, exc: BaseException, *, countdown: float, max_retries: int | None) -> NoReturn:
    """Retry ``task`` after ``countdown`` seconds. If the retry cannot be enqueued, requeue the message
    instead of letting Celery drop it (its ``retry`` raises ``Reject(requeue=False)`` then)."""
    try:
        raise task.retry(exc=exc, countdown=countdown, max_retries=max_retries)
    except Retry:
        raise
    except Reject as reject:
        log.warning(
            "task %s: its retry could not be enqueued (%s); the message is requeued, or redelivered after "
            "the visibility timeout if the broker cannot take it back",
            task.name,
            reject.reason,
        )
        raise Reject(reject.reason, requeue=True) from exc


def run_message_task(
    task: Any,
    message_cls: type[M],
    payload: Any,
    handler: Callable[[M], object],
    settings: CommonSettings,
    on_outcome: Callable[[str], None] = lambda _outcome: None,
) -> None:
    """Run ``handler`` on the validated message inside a bound Celery task (``bind=True``)."""
    retries = int(task.request.retries or 0)

    def delay() -> float:
        return backoff_delay(retries, settings.task_retry_backoff_s, settings.task_retry_backoff_max_s)

    def give_up(reason: str, error: str, failed_payload: Any) -> None:
        try:
            record_failure(settings, task=task.name, queue=message_cls.QUEUE, reason=reason, error=error,
                           payload=failed_payload)  # fmt: skip
        except Exception as exc:  # the database did not take the row: keep the message, try again later
            log.warning("task %s: could not record its failure (%s: %s); retrying the message",
                        task.name, type(exc).__name__, exc)  # fmt: skip
            on_outcome("retry")
            retry_or_keep(task, exc, countdown=delay(), max_retries=None)
        on_outcome(reason)

    try:
        message = message_cls.model_validate(payload)
    except ValidationError as exc:
        give_up("invalid_message", str(exc), payload)
        return
    try:
        handler(message)
    except PermanentError as exc:
        give_up("permanent", f"{type(exc).__name__}: {exc}", message.to_payload())
        return
    except Exception as exc:  # transient or unexpected: retry, then record
        infrastructure = is_infrastructure_error(exc)
        if retries >= settings.task_max_retries and not infrastructure:
            give_up("retries_exhausted", "".join(traceback.format_exception(exc)), message.to_payload())
            return
        on_outcome("retry")
        countdown = delay()
        log.warning(
            "task %s failed (%s: %s); retry %d in %.1fs%s",
            task.name,
            type(exc).__name__,
            exc,
            retries + 1,
            countdown,
            " (infrastructure unavailable: retried until it is back)" if infrastructure else "",
        )
        retry_or_keep(task, exc, countdown=countdown, max_retries=None if infrastructure else settings.task_max_retries)
    on_outcome("ok")
