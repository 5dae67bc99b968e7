"""The batching of a task's messages (``nianbao.shared.batching``), without a broker: a request joins the open
batch, the batch goes to the pool as one job when full or when its wait is over, and every message the job
does not answer as done (or every message of a job that failed) goes down the usual one-task path."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from kombu.exceptions import ContentDisallowed

from nianbao.shared.batching import Batcher, register_handler, run_batch


class FakeRequest:
    def __init__(self, number: int, retries: int = 0) -> None:
        self.number = number
        self.id = str(number)
        self.request_dict = {"id": str(number), "retries": retries}
        self.body = orjson.dumps([[{"n": number}], {}, {}])
        self.content_type = "application/json"
        self.content_encoding = "utf-8"
        self.acked = False

    def acknowledge(self) -> None:
        assert not self.acked, "acknowledged twice"
        self.acked = True


class FakeEntry:
    def __init__(self, secs: float, fun: Any) -> None:
        self.secs, self.fun, self.cancelled = secs, fun, False

    def cancel(self) -> None:
        self.cancelled = True


class FakeTimer:
    def __init__(self) -> None:
        self.entries: list[FakeEntry] = []

    def call_after(self, secs: float, fun: Any) -> FakeEntry:
        self.entries.append(FakeEntry(secs, fun))
        return self.entries[-1]


class FakePool:
    def __init__(self) -> None:
        self.jobs: list[dict[str, Any]] = []

    def apply_async(self, target: Any, args: Any, **options: Any) -> None:
        self.jobs.append({"target": target, "args": args, **options})


class FakeConsumer:
    def __init__(self) -> None:
        self.timer = FakeTimer()
        self.pool = FakePool()
        self.alone: list[FakeRequest] = []

    def on_task_request(self, request: FakeRequest) -> None:
        self.alone.append(request)


class FakeConf:
    task_soft_time_limit = 570
    task_time_limit = 600


class FakeApp:
    conf = FakeConf()


class FakeTask:
    name = "nianbao.test.batched"
    app = FakeApp()
    soft_time_limit = None
    time_limit = None


def _batcher(size: int = 3, wait_s: float = 0.05) -> tuple[Batcher, FakeConsumer]:
    consumer = FakeConsumer()
    return Batcher(FakeTask(), consumer, size=size, wait_s=wait_s), consumer


def test_a_full_batch_is_one_pool_job_and_its_done_messages_are_acknowledged() -> None:
    batcher, consumer = _batcher(size=3)
    requests = [FakeRequest(i) for i in range(3)]
    for request in requests:
        batcher.add(request)
    [job] = consumer.pool.jobs
    assert job["target"] is run_batch
    name, bodies = job["args"]
    assert name == FakeTask.name and [b[0] for b in bodies] == [r.body for r in requests]
    assert (job["soft_timeout"], job["timeout"]) == (570, 600)  # the task's limits, for the whole batch
    assert consumer.timer.entries[0].cancelled  # the wait was over with the batch full
    job["callback"]([True, False, True])
    assert [r.acked for r in requests] == [True, False, True]
    assert consumer.alone == [requests[1]]  # the one not done runs as its own task
    assert batcher.pending == []


def test_the_wait_sends_a_partial_batch_and_a_lone_message_goes_the_usual_way() -> None:
    batcher, consumer = _batcher(size=10, wait_s=0.05)
    first, second = FakeRequest(1), FakeRequest(2)
    batcher.add(first)
    [entry] = consumer.timer.entries
    assert entry.secs == 0.05
    batcher.add(second)
    assert len(consumer.timer.entries) == 1  # one wait per batch, from its first message
    entry.fun()
    [job] = consumer.pool.jobs
    assert len(job["args"][1]) == 2
    third = FakeRequest(3)
    batcher.add(third)
    consumer.timer.entries[-1].fun()
    assert consumer.alone == [third] and len(consumer.pool.jobs) == 1  # no job of one message


def test_retries_and_a_batch_size_of_one_run_alone() -> None:
    batcher, consumer = _batcher(size=3)
    retried = FakeRequest(1, retries=2)
    batcher.add(retried)
    assert consumer.alone == [retried] and batcher.pending == [] and consumer.timer.entries == []
    single, consumer_one = _batcher(size=1)
    request = FakeRequest(2)
    single.add(request)
    assert consumer_one.alone == [request] and consumer_one.pool.jobs == []


def test_a_failed_job_sends_every_message_alone() -> None:
    batcher, consumer = _batcher(size=2)
    requests = [FakeRequest(1), FakeRequest(2)]
    for request in requests:
        batcher.add(request)
    consumer.pool.jobs[0]["error_callback"](RuntimeError("WorkerLostError: the child was killed"))
    assert consumer.alone == requests and not any(r.acked for r in requests)


def test_run_batch_decodes_the_bodies_it_may_read() -> None:
    seen: list[Any] = []

    def handler(payloads: Any) -> list[bool]:
        seen.extend(payloads)
        return [p is not None for p in payloads]

    register_handler("nianbao.test.decode", handler, accept=["json"])
    bodies = [
        (orjson.dumps([[{"n": 1}], {}, {}]), "application/json", "utf-8"),
        (b'{"truncated', "application/json", "utf-8"),  # not JSON
        (orjson.dumps([[1, 2], {}, {}]), "application/json", "utf-8"),  # not one argument
        (b"\x80\x04N.", "application/x-python-serialize", "binary"),  # a pickle: not accepted, never loaded
    ]
    assert run_batch("nianbao.test.decode", bodies) == [True, False, False, False]
    assert seen == [{"n": 1}, None, None, None]
    with pytest.raises(ContentDisallowed):
        from kombu.serialization import loads

        loads(bodies[3][0], bodies[3][1], bodies[3][2], accept=["application/json"])  # type: ignore[no-untyped-call]


def test_a_handler_answering_the_wrong_number_of_results_fails_the_job() -> None:
    register_handler("nianbao.test.short", lambda payloads: [True], accept=["json"])
    body = (orjson.dumps([[{}], {}, {}]), "application/json", "utf-8")
    with pytest.raises(RuntimeError, match="1 results for 2 messages"):
        run_batch("nianbao.test.short", [body, body])
