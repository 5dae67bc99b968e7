"""Stored task failures (``task_failure`` rows): list them, and re-enqueue one's stored message.

Used by the admin API (``GET /task-failures``, ``POST /task-failures/{id}/retry``), the CLI (``nianbao
failures list|retry``) and the web view.

A retry validates the stored payload as the message its task takes (so a truncated or invalid payload is
refused with the reason, not sent to fail again), gives it a fresh ``sent_at`` (the queue-age metrics
measure the wait from now, not from the first attempt), sends it by task name to its queue, and **deletes
the failure row in the same transaction**, after the broker took the message. ``task_failure`` is the
list of what still needs attention: a retried message that fails again records a new row, so nothing is
lost, and no migration is needed to mark rows. The row is locked while it is retried (``SELECT … FOR
UPDATE`` on PostgreSQL), so two operators retrying the same row send it once; the second gets "no such
failure". If the broker refuses the message the row stays. (If the database then fails to commit the
delete, the message is sent and the row stays: a second retry would send it twice, which the handlers
tolerate, as they do a redelivery.) Each retry is logged (failure id, task, new task id).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, select

from nianbao.shared.bus import CeleryPublisher
from nianbao.shared.contracts import MESSAGE_TYPES, QUEUES, Message, utcnow
from nianbao.shared.models import TaskFailure
from nianbao.shared.taskrunner import _MAX_STR_CHARS
from nianbao.shared.unrunnable import REASONS as UNRUNNABLE_REASONS

log = logging.getLogger(__name__)

# Every reason a task_failure row is stored with: the task runner's give-ups (taskrunner.OUTCOMES that record
# a row), a task killed at its hard time limit (app.worker), and a message the worker could not run at all
# (shared.unrunnable).
REASONS = ("permanent", "retries_exhausted", "invalid_message", "time_limit", *UNRUNNABLE_REASONS)
TASKS = tuple(m.TASK for m in MESSAGE_TYPES)
MAX_LIMIT = 1000
MAX_ID = 2**31 - 1  # ids are SQL integers; a larger id names no row


class FilterError(ValueError):
    """A filter value that can match nothing (unknown queue, reason or task; bad paging)."""


class NotRetryable(Exception):
    """The stored payload is not a message its task takes (invalid, truncated, or an unknown task)."""


@dataclass(frozen=True)
class FailureRow:
    """One failure as listed: the error's last line, and the page URL of the payload when it has one."""

    id: int
    task: str
    queue: str
    reason: str
    site_id: str | None
    created_at: datetime
    error_summary: str
    url: str | None


@dataclass(frozen=True)
class FailureDetail:
    """One failure in full: the whole error and the stored payload."""

    id: int
    task: str
    queue: str
    reason: str
    site_id: str | None
    created_at: datetime
    error: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class FailurePage:
    total: int  # rows matching the filters (before paging)
    failures: list[FailureRow]


@dataclass(frozen=True)
class Retried:
    failure_id: int
    task: str
    queue: str
    task_id: str | None  # the new Celery task id (None from a publisher that does not say)


def summary(error: str) -> str:
    """The line of an error that names it: a traceback's last non-empty line, or the message."""
    line = next((line for line in reversed(error.splitlines()) if line.strip()), "")
    return line.strip()[:300]


def check_filters(*, queue: str | None = None, reason: str | None = None, task: str | None = None) -> None:
    """Raise :class:`FilterError` naming the valid values when a filter can match no stored row."""
    for name, value, valid in (("queue", queue, QUEUES), ("reason", reason, REASONS), ("task", task, TASKS)):
        if value is not None and value not in valid:
            raise FilterError(f"unknown {name} {value[:80]!r}; one of: {', '.join(valid)}")


def list_failures(
    session: Session,
    *,
    queue: str | None = None,
    site_id: str | None = None,
    reason: str | None = None,
    task: str | None = None,
    limit: int = 100,
    offset: int = 0,
    after_id: int | None = None,
) -> FailurePage:
    """Failures matching every filter given, newest first (highest id first). ``after_id`` pages by key:
    only rows listed after row ``after_id`` in this order, i.e. with a smaller id (stable while new
    failures arrive); ``offset`` skips rows after that. ``total`` counts the matches ignoring paging."""
    check_filters(queue=queue, reason=reason, task=task)
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise FilterError(f"limit must be 1..{MAX_LIMIT} and offset >= 0")
    conditions = []
    if queue is not None:
        conditions.append(col(TaskFailure.queue) == queue)
    if site_id is not None:
        conditions.append(col(TaskFailure.site_id) == site_id)
    if reason is not None:
        conditions.append(col(TaskFailure.reason) == reason)
    if task is not None:
        conditions.append(col(TaskFailure.task) == task)
    total = session.exec(select(func.count()).select_from(TaskFailure).where(*conditions)).one()
    if offset > MAX_ID:  # past every row (and past what an SQL integer parameter holds)
        return FailurePage(total=int(total), failures=[])
    query = select(TaskFailure).where(*conditions)
    if after_id is not None and after_id <= MAX_ID:  # a larger one is above every id: no bound
        query = query.where(col(TaskFailure.id) < after_id)
    rows = session.exec(query.order_by(col(TaskFailure.id).desc()).offset(offset).limit(limit))
    return FailurePage(total=int(total), failures=[_row(f) for f in rows])


def _row(f: TaskFailure) -> FailureRow:
    assert f.id is not None
    url = f.payload.get("url") if isinstance(f.payload, dict) else None
    return FailureRow(
        id=f.id, task=f.task, queue=f.queue, reason=f.reason, site_id=f.site_id, created_at=f.created_at,
        error_summary=summary(f.error), url=url if isinstance(url, str) else None,
    )  # fmt: skip


def get_failure(session: Session, failure_id: int) -> FailureDetail | None:
    f = session.get(TaskFailure, failure_id) if 1 <= failure_id <= MAX_ID else None
    if f is None:
        return None
    assert f.id is not None
    return FailureDetail(
        id=f.id, task=f.task, queue=f.queue, reason=f.reason, site_id=f.site_id, created_at=f.created_at,
        error=f.error, payload=f.payload,
    )  # fmt: skip


def message_of(failure: TaskFailure) -> Message:
    """The stored payload as the message its task takes, with a fresh ``sent_at``."""
    message_cls = next((m for m in MESSAGE_TYPES if failure.task == m.TASK), None)
    if message_cls is None:
        raise NotRetryable(f"task {failure.task!r} is not one nianbao sends (one of: {', '.join(TASKS)})")
    if failure.payload.get("truncated"):
        raise NotRetryable(
            f"the stored payload was truncated ({failure.payload.get('json_bytes')} bytes of JSON): "
            "it cannot be sent again; recrawl or reparse the site instead"
        )
    if _has_cut_string(failure.payload):
        raise NotRetryable(
            f"a string of the stored payload was cut to {_MAX_STR_CHARS} characters when it was recorded: "
            "sending it would not be the original message; recrawl or reparse the site instead"
        )
    try:
        message = message_cls.model_validate(failure.payload)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '-'}: {e['msg']}" for e in exc.errors()[:3])
        raise NotRetryable(f"the stored payload is not a valid {message_cls.__name__}: {problems}") from None
    return message.model_copy(update={"sent_at": utcnow()})


def _has_cut_string(value: Any, depth: int = 0) -> bool:
    """True when a string of the payload is as long as ``json_safe`` keeps one (it was probably cut)."""
    if isinstance(value, str):
        return len(value) >= _MAX_STR_CHARS
    if depth > 60:  # json_safe stores no deeper than this
        return False
    if isinstance(value, dict):
        return any(_has_cut_string(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_has_cut_string(v, depth + 1) for v in value)
    return False


Send = Callable[[Message], "str | None"]


def sender(publisher: Any) -> Send:
    """Send through the app's publisher and return the new task id: a Celery publisher says it
    (``CeleryPublisher.send``; ``Publisher.publish`` returns nothing); any other publisher just publishes."""
    if isinstance(publisher, CeleryPublisher):
        return publisher.send

    def send(message: Message) -> str | None:
        publisher.publish(message)
        return None

    return send


def retry_failure(session: Session, failure_id: int, send: Send) -> Retried | None:
    """Re-enqueue failure ``failure_id``'s message and delete its row (None: no such failure). Raises
    :class:`NotRetryable` (row kept) when the payload cannot be sent, and whatever ``send`` raises (row
    kept: the caller's session rolls back)."""
    if not 1 <= failure_id <= MAX_ID:
        return None
    query = select(TaskFailure).where(col(TaskFailure.id) == failure_id).with_for_update()
    failure = session.exec(query).first()
    if failure is None:
        return None
    message = message_of(failure)
    task_id = send(message)
    session.delete(failure)
    session.flush()
    log.info("task failure %d (%s, %s) re-enqueued as task %s", failure_id, failure.task, failure.reason, task_id)
    return Retried(failure_id=failure_id, task=message.TASK, queue=message.QUEUE, task_id=task_id)


def delete_failure(session: Session, failure_id: int) -> TaskFailure | None:
    """Delete failure ``failure_id`` and return what it was (None: no such failure): an operator dismissing
    a message that cannot or need not be sent again (an unreadable body, a page since removed). Logged,
    with task, reason and the error's last line."""
    if not 1 <= failure_id <= MAX_ID:
        return None
    failure = session.exec(select(TaskFailure).where(col(TaskFailure.id) == failure_id).with_for_update()).first()
    if failure is None:
        return None
    session.delete(failure)
    session.flush()
    log.info("task failure %d (%s, %s) deleted: %s", failure_id, failure.task, failure.reason, summary(failure.error))
    return failure
