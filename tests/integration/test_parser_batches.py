"""A real parser worker on Redis and PostgreSQL batching its messages (NIANBAO_PARSE_BATCH_SIZE): the pages of
a batch are parsed and published; a page the batch cannot parse (its blob missing, bytes that are no page)
runs alone, is recorded once as a permanent failure and counted once; a child killed in the middle of a batch
loses no page. The parser's queue and Redis' unacknowledged set end empty: every message was acknowledged,
none dropped."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from sqlmodel import select

from nianbao.devportal.render.article import report_page
from nianbao.shared.bus import CeleryPublisher
from nianbao.shared.celery_app import make_celery
from nianbao.shared.contracts import PARSER_QUEUE, VALIDATOR_QUEUE, PageFetched
from nianbao.shared.db import session_scope
from nianbao.shared.models import TaskFailure
from nianbao.shared.rawstore import RawStore, content_key

from integration_support import Stack, metric_value, wait_until
from support import task_args
from support.reports import HTML_PAGES

pytestmark = pytest.mark.integration


def _page(store: RawStore, data: bytes, name: str) -> PageFetched:
    key = store.put(data) if data else "0" * 64  # no bytes: a blob the store does not have
    url = f"http://127.0.0.1:8734/zfxxgknb/{name}.html"
    return PageFetched(site_id="demo", url=url, final_url=url, raw_key=key, content_sha256=key)


def test_a_batch_publishes_its_pages_and_its_failures_are_recorded_once(
    stack_factory: Callable[[dict[str, object]], Stack], postgres_url: str, redis_url: str
) -> None:
    stack = stack_factory({"sites": []})
    stack.env.update({"NIANBAO_PARSE_BATCH_SIZE": "4", "NIANBAO_PARSE_BATCH_WAIT_MS": "300"})
    stack.cli("db", "upgrade")
    store = RawStore(Path(stack.env["NIANBAO_DATA_DIR"]) / "raw")
    good = [_page(store, report_page(page, revision=i).encode("utf-8"), f"{i:03d}")
            for i, page in enumerate(HTML_PAGES[:5])]  # fmt: skip
    missing = _page(store, b"", "missing")
    unusable = _page(store, b"\x00\x01\x02 not a page " * 10, "unusable")
    publisher = CeleryPublisher(make_celery("test-parser-batches", redis_url))
    # Queued before the worker starts: it takes 4 at once, so the batches are [3 good, missing] and
    # [2 good, unusable].
    for message in [*good[:3], missing, *good[3:], unusable]:
        publisher.publish(message)
    stack.start_worker("parser", concurrency=1)
    stack.wait_ready()
    broker = redis.Redis.from_url(redis_url)

    def failures() -> list[tuple[str, str]]:
        with session_scope(postgres_url) as session:
            return sorted((f.reason, str(f.payload.get("url"))) for f in session.exec(select(TaskFailure)).all())

    wait_until(lambda: broker.llen(VALIDATOR_QUEUE) == 5 and len(failures()) == 2, 60,
               lambda: stack.log_tail("parser"))  # fmt: skip
    wait_until(lambda: broker.llen(PARSER_QUEUE) == 0 and broker.hlen("unacked") == 0, 30,
               lambda: stack.log_tail("parser"))  # fmt: skip
    assert failures() == [("permanent", missing.url), ("permanent", unusable.url)]
    published = sorted(str(task_args(raw)[0]["url"]) for raw in broker.lrange(VALIDATOR_QUEUE, 0, -1))  # type: ignore[index]
    assert published == sorted(m.url for m in good)  # each good page once
    metrics = stack.metrics("parser")
    assert metric_value(metrics, "nianbao_parser_tasks_total", outcome="ok") == 5
    assert metric_value(metrics, "nianbao_parser_tasks_total", outcome="permanent") == 2
    assert metric_value(metrics, "nianbao_parser_reports_parsed_total", generation="unknown",
                        outcome="blob_missing") == 1  # fmt: skip
    assert metric_value(metrics, "nianbao_parser_reports_parsed_total", generation="unknown",
                        outcome="unusable") == 1  # fmt: skip
    assert "a page of a batch runs alone (PermanentError" in stack.log_tail("parser", lines=400)


def test_a_child_killed_in_the_middle_of_a_batch_loses_no_page(
    stack_factory: Callable[[dict[str, object]], Stack], postgres_url: str, redis_url: str
) -> None:
    """Page B's blob is a named pipe: reading it blocks until the test writes B's bytes into it, so the child
    is held inside its batch after publishing A. Killed there, the batch fails as a whole and each of its pages
    runs alone: A is published again (idempotent downstream), B once its bytes come, C too; nothing recorded
    as failed, nothing left in Redis."""
    stack = stack_factory({"sites": []})
    stack.env.update({"NIANBAO_PARSE_BATCH_SIZE": "3", "NIANBAO_PARSE_BATCH_WAIT_MS": "300"})
    stack.cli("db", "upgrade")
    store = RawStore(Path(stack.env["NIANBAO_DATA_DIR"]) / "raw")
    a = _page(store, report_page(HTML_PAGES[0], revision=0).encode("utf-8"), "a")
    b_bytes = report_page(HTML_PAGES[1], revision=1).encode("utf-8")
    b_key = content_key(b_bytes)
    b_path = store.root / b_key[:2] / b_key[2:4] / b_key
    b_path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(b_path)
    b = PageFetched(site_id="demo", url="http://127.0.0.1:8734/zfxxgknb/b.html",
                    final_url="http://127.0.0.1:8734/zfxxgknb/b.html", raw_key=b_key, content_sha256=b_key)  # fmt: skip
    c = _page(store, report_page(HTML_PAGES[2], revision=2).encode("utf-8"), "c")
    publisher = CeleryPublisher(make_celery("test-parser-batches", redis_url))
    for message in (a, b, c):
        publisher.publish(message)
    broker = redis.Redis.from_url(redis_url)
    stack.start_worker("parser", concurrency=1)
    stack.wait_ready()
    wait_until(lambda: broker.llen(VALIDATOR_QUEUE) == 1, 60, lambda: stack.log_tail("parser"))  # A, then B blocks
    parent = stack.procs["parser"].pid
    children = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
    assert len(children) == 1, children
    os.kill(int(children[0]), signal.SIGKILL)
    wait_until(lambda: broker.llen(VALIDATOR_QUEUE) >= 2, 60, lambda: stack.log_tail("parser"))  # A alone

    def feed_b() -> bool:  # a reader (B running alone) is waiting on the pipe: hand it B's bytes
        try:
            fd = os.open(b_path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # no reader yet
                return False
            raise
        os.set_blocking(fd, True)  # non-blocking only to find the reader; the page may pass the pipe's buffer
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(b_bytes)
        return True

    wait_until(feed_b, 60, lambda: stack.log_tail("parser"))
    wait_until(lambda: broker.llen(PARSER_QUEUE) == 0 and broker.hlen("unacked") == 0
               and broker.llen(VALIDATOR_QUEUE) == 4, 60, lambda: stack.log_tail("parser"))  # fmt: skip
    published = sorted(str(task_args(raw)[0]["url"]) for raw in broker.lrange(VALIDATOR_QUEUE, 0, -1))  # type: ignore[index]
    assert published == sorted([a.url, a.url, b.url, c.url])
    with session_scope(postgres_url) as session:
        assert session.exec(select(TaskFailure)).all() == []
    log = stack.log_tail("parser", lines=400)
    assert "a batch of 3 nianbao.parser.parse_page messages failed as a whole (WorkerLostError" in log
