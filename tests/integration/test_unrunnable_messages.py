"""A real parser worker on Redis and PostgreSQL is sent messages it cannot run: another service's task, a body
that is not JSON, a broken zlib stream, a pickle, JSON nested 100 000 deep, 8 MB of garbage, a message that is
not a Celery task, a zstd bomb and a truncated zstd frame. Celery alone logs and deletes each of them (the queue
empties, nothing else is left); here every one is a task_failure row, counted as a message given up on, and the
misrouted task is retried onto the queue it belongs to."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest
import redis
from sqlmodel import select

from nianbao.shared.celery_app import make_celery
from nianbao.shared.compression import compress_zstd
from nianbao.shared.contracts import PARSER_QUEUE, VALIDATOR_QUEUE, ReportParsed
from nianbao.shared.db import session_scope
from nianbao.shared.models import TaskFailure

from integration_support import Stack, metric_value, publish_raw, wait_until
from support import zstd_bomb

pytestmark = pytest.mark.integration

PARSE_TASK = "nianbao.parser.parse_page"


def _publish_raw(app: Any, body: Any, *, content_type: str | None, encoding: str | None = "utf-8",
                 task: str | None = PARSE_TASK, headers: dict[str, Any] | None = None) -> None:  # fmt: skip
    publish_raw(app, PARSER_QUEUE, body, content_type=content_type, encoding=encoding, task=task, headers=headers)


def test_messages_the_worker_cannot_run_are_recorded_not_dropped(
    stack_factory: Callable[[dict[str, object]], Stack], postgres_url: str, redis_url: str
) -> None:
    stack = stack_factory({"sites": []})
    stack.cli("db", "upgrade")
    stack.start_worker("parser", concurrency=1)
    stack.wait_ready()
    app = make_celery("test-unrunnable", redis_url)
    misrouted = ReportParsed(site_id="demo", url="http://a.gov.cn/r.html", raw_key="a" * 64, record={"not": "read"})
    app.send_task(ReportParsed.TASK, args=[misrouted.to_payload()], queue=PARSER_QUEUE)  # the wrong queue
    _publish_raw(app, b'{"truncated', content_type="application/json")
    _publish_raw(app, b'[[{}], {}, {}]', content_type="application/json", headers={"compression": "application/x-gzip"})
    _publish_raw(app, pickle.dumps(([{}], {}, {})), content_type="application/x-python-serialize", encoding="binary")
    _publish_raw(app, b"[" * 100_000 + b"]" * 100_000, content_type="application/json", task="nianbao.other.task")
    _publish_raw(app, b"\xff\xfe garbage " * (8 * 1024 * 1024 // 11), content_type="application/json")
    _publish_raw(app, {"hello": "world"}, content_type=None, task=None)
    _publish_raw(app, zstd_bomb(200 * 1024 * 1024), content_type="application/json",
                 headers={"compression": "application/zstd"})  # fmt: skip
    _publish_raw(app, compress_zstd(b'[[{}], {}, {}]')[:-3], content_type="application/json",
                 headers={"compression": "application/zstd"})  # fmt: skip
    sent = 9

    def failures() -> list[TaskFailure]:
        with session_scope(postgres_url) as s:
            return list(s.exec(select(TaskFailure).order_by(TaskFailure.id)))  # type: ignore[arg-type]

    wait_until(lambda: len(failures()) >= sent, timeout=60, message=lambda: stack.log_tail("parser"))
    rows = failures()
    assert [(r.task, r.reason) for r in rows] == [
        (ReportParsed.TASK, "unknown_task"),
        (PARSE_TASK, "unreadable"),  # not JSON
        (PARSE_TASK, "unreadable"),  # not a zlib stream
        (PARSE_TASK, "unreadable"),  # pickle: a content type the worker refuses
        ("nianbao.other.task", "unknown_task"),  # and its body nested beyond any parser
        (PARSE_TASK, "unreadable"),  # 8 MB of garbage
        ("(none)", "unreadable"),  # not a Celery task
        (PARSE_TASK, "unreadable"),  # 200 MB of zeros in 7 KB of zstd: refused, not inflated
        (PARSE_TASK, "unreadable"),  # a truncated zstd frame
    ]
    assert {r.queue for r in rows} == {PARSER_QUEUE}
    assert rows[0].payload["url"] == "http://a.gov.cn/r.html"  # the task's argument, whole
    assert "recursion depth" in rows[4].error and rows[4].payload["body_bytes"] == 200_000
    assert rows[5].payload["body_bytes"] > 8_000_000 and len(rows[5].payload["body_head"]) == 4096
    assert "declares 209715200 bytes" in rows[7].error, rows[7].error
    client = redis.Redis.from_url(redis_url)
    assert client.llen(PARSER_QUEUE) == 0 and client.hlen("unacked") == 0  # taken off the queue once recorded
    assert metric_value(stack.metrics("parser"), "nianbao_parser_tasks_total", outcome="invalid_message") == sent
    assert metric_value(stack.metrics("parser"), "nianbao_parser_tasks_total", outcome="ok") == 0

    listed = stack.cli("failures", "list", "--reason", "unknown_task")
    assert str(rows[0].id) in listed.stdout and str(rows[4].id) in listed.stdout
    retried = stack.cli("failures", "retry", str(rows[0].id))
    assert f"on queue {VALIDATOR_QUEUE}" in retried.stdout  # sent where its task belongs
    assert client.llen(VALIDATOR_QUEUE) == 1
    refused = stack.cli("failures", "retry", str(rows[1].id), check=False)
    assert refused.returncode == 1 and "not retried" in refused.stderr  # an unreadable body is not a message
    assert [r.id for r in failures()] == [r.id for r in rows[1:]]
