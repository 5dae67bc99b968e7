"""A real validator worker on Redis and PostgreSQL batching its messages (NIANBAO_BATCH_SIZE): a batch is
stored in one transaction; a batch holding a record that cannot be stored runs its messages alone, so the
good ones are stored and the bad one is recorded; a child killed in the middle of a batch loses nothing.
Each ends with the queue and Redis' unacknowledged set empty: every message was acknowledged, none dropped."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
from collections.abc import Callable

import pytest
import redis
from sqlalchemy import text
from sqlmodel import func, select

from nianbao.shared.bus import CeleryPublisher
from nianbao.shared.celery_app import make_celery
from nianbao.shared.contracts import VALIDATOR_QUEUE, ReportParsed
from nianbao.shared.db import session_scope
from nianbao.shared.models import Report, TaskFailure

from integration_support import Stack, metric_value, publish_raw, site_gauge_locked, wait_until
from support.reports import parsed_pages

pytestmark = pytest.mark.integration


def _stored(url: str) -> int:
    with session_scope(url) as session:
        return int(session.exec(select(func.count()).select_from(Report)).one())


def _failures(url: str) -> list[tuple[str, str]]:
    with session_scope(url) as session:
        return sorted((f.reason, str(f.payload.get("url"))) for f in session.exec(select(TaskFailure)).all())


def _drained(redis_url: str) -> bool:
    broker = redis.Redis.from_url(redis_url)
    return broker.llen(VALIDATOR_QUEUE) == 0 and broker.hlen("unacked") == 0


def _batching_stack(stack_factory: Callable[[dict[str, object]], Stack], *, size: int, wait_ms: int) -> Stack:
    stack = stack_factory({"sites": []})
    stack.env.update({"NIANBAO_BATCH_SIZE": str(size), "NIANBAO_BATCH_WAIT_MS": str(wait_ms)})
    stack.cli("db", "upgrade")
    return stack


def test_a_bad_record_in_a_batch_is_recorded_and_the_rest_stored(
    stack_factory: Callable[[dict[str, object]], Stack], postgres_url: str, redis_url: str
) -> None:
    stack = _batching_stack(stack_factory, size=4, wait_ms=300)
    publisher = CeleryPublisher(make_celery("test-batches", redis_url))
    good = parsed_pages(6)
    broken = ReportParsed(site_id="demo", url="http://a.gov.cn/broken.html", raw_key="b" * 64, record={"year": "x"})
    # Queued before the worker starts: it takes 4 x 2 of them at once, so the batches are [4 good] and
    # [2 good, the broken record, a payload that is not a message].
    for message in [*good, broken]:
        publisher.publish(message)
    publisher.app.send_task(ReportParsed.TASK, args=[{"site_id": "demo", "url": "http://a.gov.cn/x.html"}],
                            queue=VALIDATOR_QUEUE)  # fmt: skip
    stack.start_worker("validator", concurrency=2)
    stack.wait_ready()
    wait_until(lambda: _stored(postgres_url) == 6 and len(_failures(postgres_url)) == 2, 60,
               lambda: stack.log_tail("validator"))  # fmt: skip
    assert _failures(postgres_url) == [("invalid_message", "http://a.gov.cn/x.html"),
                                       ("permanent", "http://a.gov.cn/broken.html")]  # fmt: skip
    wait_until(lambda: _drained(redis_url), 30, lambda: stack.log_tail("validator"))
    metrics = stack.metrics("validator")
    assert metric_value(metrics, "nianbao_validator_tasks_total", outcome="ok") == 6
    assert metric_value(metrics, "nianbao_validator_batches_total", outcome="stored") >= 1
    assert metric_value(metrics, "nianbao_validator_batches_total", outcome="alone") >= 1
    assert metric_value(metrics, "nianbao_validator_reports_validated_total") == 6  # each counted once


def test_a_child_killed_in_the_middle_of_a_batch_loses_nothing(
    stack_factory: Callable[[dict[str, object]], Stack], postgres_url: str, redis_url: str
) -> None:
    stack = _batching_stack(stack_factory, size=4, wait_ms=200)
    publisher = CeleryPublisher(make_celery("test-batches", redis_url))
    for message in parsed_pages(4):
        publisher.publish(message)
    # A batch writes its sites' gauge rows before it commits: with the table locked, the batch's transaction
    # waits inside the child until the child is killed.
    with site_gauge_locked(postgres_url) as blocker:
        stack.start_worker("validator", concurrency=1)
        stack.wait_ready()

        def waiting_on_the_lock() -> bool:
            row = blocker.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                       "AND datname = current_database()")).scalar_one()  # fmt: skip
            return bool(row)

        wait_until(waiting_on_the_lock, 60, lambda: stack.log_tail("validator"))
        parent = stack.procs["validator"].pid
        children = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
        assert len(children) == 1, children
        os.kill(int(children[0]), signal.SIGKILL)
    wait_until(lambda: _stored(postgres_url) == 4, 60, lambda: stack.log_tail("validator"))
    wait_until(lambda: _drained(redis_url), 30, lambda: stack.log_tail("validator"))
    assert _failures(postgres_url) == []
    log = stack.log_tail("validator", lines=400)
    assert "a batch of 4 nianbao.validator.validate_report messages failed as a whole (WorkerLostError" in log
    assert metric_value(stack.metrics("validator"), "nianbao_validator_tasks_total", outcome="ok") == 4


def test_a_batch_past_its_soft_time_limit_runs_alone_and_is_stored(
    stack_factory: Callable[[dict[str, object]], Stack], postgres_url: str, redis_url: str
) -> None:
    """A batch's job has the task's time limits. Held past the soft limit (its transaction waits for a locked
    site_gauge), the batch gives up as a whole; its messages then run alone, are retried while the lock
    lasts, and are stored once it is released: nothing recorded as failed, nothing left in Redis."""
    stack = _batching_stack(stack_factory, size=4, wait_ms=200)
    stack.env.update({"NIANBAO_TASK_SOFT_TIME_LIMIT_S": "2", "NIANBAO_TASK_TIME_LIMIT_S": "4"})
    publisher = CeleryPublisher(make_celery("test-batches", redis_url))
    for message in parsed_pages(4):
        publisher.publish(message)
    with site_gauge_locked(postgres_url):
        stack.start_worker("validator", concurrency=1)
        stack.wait_ready()
        wait_until(lambda: metric_value(stack.metrics("validator"), "nianbao_validator_batches_total",
                                        outcome="alone") >= 1, 60, lambda: stack.log_tail("validator"))  # fmt: skip
    wait_until(lambda: _stored(postgres_url) == 4, 90, lambda: stack.log_tail("validator"))
    wait_until(lambda: _drained(redis_url), 60, lambda: stack.log_tail("validator"))
    assert _failures(postgres_url) == []
    # The soft limit interrupts the batch's statement; what the log names is the rollback's error after it.
    assert "a batch of 4 reports was not stored (" in stack.log_tail("validator", lines=400)
    assert metric_value(stack.metrics("validator"), "nianbao_validator_tasks_total", outcome="ok") == 4


def test_bodies_that_do_not_read_are_recorded_and_the_batch_around_them_stored(
    stack_factory: Callable[[dict[str, object]], Stack], postgres_url: str, redis_url: str
) -> None:
    """Hostile bodies on the validator's queue between good messages, taken in batches: not JSON, a broken zlib
    stream, a truncated body, a pickle, JSON nested 100 000 deep, 8 MB of garbage. The consumer reads every
    body before it joins a batch, so each of these is recorded (``unreadable``) and never reaches a child;
    the good messages around them are stored in batches."""
    stack = _batching_stack(stack_factory, size=4, wait_ms=300)
    app = make_celery("test-batches", redis_url)
    publisher = CeleryPublisher(app)
    good = parsed_pages(4)
    truncated = json.dumps([[good[0].to_payload()], {}, {}]).encode()[:5000]
    hostile: list[tuple[bytes, str, str]] = [
        (b'{"truncated', "application/json", "utf-8"),
        (truncated, "application/json", "utf-8"),
        (b"\x00\x01 not zlib", "application/json", "utf-8"),  # sent with the zlib header below
        (pickle.dumps(([{}], {}, {})), "application/x-python-serialize", "binary"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "utf-8"),
        (b"\xff\xfe garbage " * (8 * 1024 * 1024 // 11), "application/json", "utf-8"),
    ]
    for message, (body, content_type, encoding) in zip(good + good[:2], hostile, strict=True):
        publisher.publish(message)  # the last two goods again: stored once, the batch is idempotent
        headers = {"compression": "application/x-gzip"} if body.startswith(b"\x00\x01") else None
        publish_raw(app, VALIDATOR_QUEUE, body, content_type=content_type, encoding=encoding,
                    task=ReportParsed.TASK, headers=headers)  # fmt: skip
    assert redis.Redis.from_url(redis_url).llen(VALIDATOR_QUEUE) == len(good) + 2 + len(hostile)  # all queued
    stack.start_worker("validator", concurrency=2)
    stack.wait_ready()
    wait_until(lambda: _stored(postgres_url) == 4 and len(_failures(postgres_url)) == len(hostile), 90,
               lambda: stack.log_tail("validator"))  # fmt: skip
    assert {reason for reason, _ in _failures(postgres_url)} == {"unreadable"}
    wait_until(lambda: _drained(redis_url), 30, lambda: stack.log_tail("validator"))
    metrics = stack.metrics("validator")
    assert metric_value(metrics, "nianbao_validator_tasks_total", outcome="ok") == len(good) + 2
    assert metric_value(metrics, "nianbao_validator_tasks_total", outcome="invalid_message") == len(hostile)
    assert metric_value(metrics, "nianbao_validator_batches_total", outcome="stored") >= 1
