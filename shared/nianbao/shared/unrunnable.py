"""Messages a worker cannot run are recorded in ``task_failure`` before Celery drops them.

Celery's consumer (in a worker's parent process) rejects or acks, that is deletes, a message it cannot turn
into a task run, and says so only in its log:

* a task this worker does not have (a message on the wrong queue: a producer's routing mistake, or an
  operator's ``add_consumer`` to another service's queue);
* a body it cannot read (not JSON, a broken zlib stream, a content type it does not accept, such as pickle);
* a message that is not a Celery task at all.

:func:`recording_consumer` builds the worker's consumer class (Celery's ``worker_consumer`` setting) that
first stores each such message as a ``task_failure`` row, then lets Celery log and drop it as before:

* ``unknown_task``: the stored payload is the task's argument, so ``nianbao failures retry`` sends it to
  the queue its task belongs to;
* ``unreadable``: the stored payload keeps the body's head as text, with its content type, encoding and
  size, for the operator (a retry refuses it: it is not a message).

If the database does not take the row, the message is not dropped: it goes back to its queue after
``REQUEUE_PAUSE_S`` (the pause keeps a worker whose database is down from spinning on it) and is recorded
when the database is back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from celery.worker.consumer import Consumer

from nianbao.shared.settings import CommonSettings
from nianbao.shared.taskrunner import record_failure

log = logging.getLogger(__name__)

UNKNOWN_TASK = "unknown_task"
UNREADABLE = "unreadable"
REASONS = (UNKNOWN_TASK, UNREADABLE)
REQUEUE_PAUSE_S = 1.0
# How much of an unreadable body is kept as text: enough to tell its producer, small enough that a flood
# of garbage costs the database 4 KiB a message, not record_failure's 256 KiB bound.
BODY_HEAD_CHARS = 4 * 1024


def unreadable_payload(message: Any) -> dict[str, Any]:
    """What an operator can see of a body that could not be read: its head as text, and what it said it was."""
    body = message.body
    raw = body if isinstance(body, bytes | bytearray | memoryview) else str(body).encode("utf-8", "replace")
    head = bytes(raw[: BODY_HEAD_CHARS * 4]).decode("utf-8", "replace")[:BODY_HEAD_CHARS]
    return {
        "body_head": head,
        "body_bytes": len(raw),
        "content_type": str(message.content_type),
        "content_encoding": str(message.content_encoding),
    }


def task_argument(message: Any) -> tuple[Any, str | None]:
    """(payload to store, error) for a message of a task this worker does not have: the task's one
    argument when the body reads as Celery's ``[args, kwargs, embed]``, else what :func:`unreadable_payload`
    keeps, with the reason it could not be read."""
    try:
        decoded = message.decode()
    except Exception as exc:  # a bad body, a disallowed content type, JSON nested beyond the parser's limit
        return unreadable_payload(message), f"{type(exc).__name__}: {exc}"
    if isinstance(decoded, list | tuple) and decoded and isinstance(decoded[0], list | tuple) and len(decoded[0]) == 1:
        return decoded[0][0], None
    return {"body": decoded}, None


def recording_consumer(
    settings: CommonSettings, *, queue: str, on_recorded: Callable[[], None] = lambda: None
) -> type[Consumer]:
    """Celery's consumer, recording what it would drop (see the module's docstring). ``queue`` is the
    worker's own queue, stored when the message does not say where it was sent; ``on_recorded`` is called
    once per stored row (the service counts it)."""

    class RecordingConsumer(Consumer):  # type: ignore[misc]
        def _kept(self, message: Any, *, task: str, reason: str, error: str, payload: Any) -> bool:
            """True once the row is stored; otherwise the message was put back on its queue."""
            sent_to = (message.delivery_info or {}).get("routing_key") or queue
            try:
                record_failure(settings, task=task, queue=str(sent_to), reason=reason, error=error, payload=payload)
            except Exception as exc:  # the database did not take the row: keep the message
                log.warning("could not record an unrunnable message of task %s (%s: %s); it goes back to its "
                            "queue in %.0fs", task, type(exc).__name__, exc, REQUEUE_PAUSE_S)  # fmt: skip
                time.sleep(REQUEUE_PAUSE_S)
                message.reject_log_error(log, self.connection_errors, requeue=True)
                return False
            on_recorded()
            return True

        @staticmethod
        def _task_name(message: Any) -> str:
            headers = message.headers or {}
            name = headers.get("task") if isinstance(headers, dict) else None
            return str(name) if name else "(none)"

        def on_unknown_task(self, body: Any, message: Any, exc: BaseException) -> None:
            name = self._task_name(message)
            payload, unreadable = task_argument(message)
            runs = ", ".join(sorted(t for t in self.app.tasks if not t.startswith("celery.")))
            error = f"this worker does not run task {name!r} (it runs: {runs}); the message was sent to the wrong queue"
            if unreadable:
                error += f"; its body could not be read either: {unreadable}"
            if self._kept(message, task=name, reason=UNKNOWN_TASK, error=error, payload=payload):
                super().on_unknown_task(body, message, exc)

        def on_decode_error(self, message: Any, exc: BaseException) -> None:
            if self._kept(message, task=self._task_name(message), reason=UNREADABLE,
                          error=f"the message body could not be read: {type(exc).__name__}: {exc}",
                          payload=unreadable_payload(message)):  # fmt: skip
                super().on_decode_error(message, exc)

        def on_invalid_task(self, body: Any, message: Any, exc: BaseException) -> None:
            if self._kept(message, task=self._task_name(message), reason=UNREADABLE,
                          error=f"the message is not a task this worker accepts: {type(exc).__name__}: {exc}",
                          payload=unreadable_payload(message)):  # fmt: skip
                super().on_invalid_task(body, message, exc)

        def on_unknown_message(self, body: Any, message: Any) -> None:
            if self._kept(message, task=self._task_name(message), reason=UNREADABLE,
                          error="the message is not a Celery task (no task name in its headers or body)",
                          payload=unreadable_payload(message)):  # fmt: skip
                super().on_unknown_message(body, message)

    return RecordingConsumer


__all__ = ["REASONS", "UNKNOWN_TASK", "UNREADABLE", "recording_consumer", "task_argument", "unreadable_payload"]
