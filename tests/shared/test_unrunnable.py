"""The recording consumer: a message the worker cannot run is stored in task_failure, then dropped by Celery
as before; when the database does not take the row the message goes back to its queue instead. What it
stores: a misrouted task's argument (so a retry can send it where it belongs), or an unreadable body's head.

The real thing, with a worker process, Redis and PostgreSQL: tests/integration/test_unrunnable_messages.py."""

from __future__ import annotations

import json
import uuid
import zlib
from typing import Any

import pytest
from kombu.exceptions import DecodeError
from sqlmodel import select

from nianbao.shared import unrunnable
from nianbao.shared.celery_app import make_celery
from nianbao.shared.contracts import PageFetched
from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.models import TaskFailure
from nianbao.shared.settings import CommonSettings
from nianbao.shared.taskrunner import MAX_PAYLOAD_BYTES
from nianbao.shared.unrunnable import recording_consumer, task_argument, unreadable_payload

PAYLOAD = PageFetched(site_id="s", url="http://a.gov.cn/x.html", final_url="http://a.gov.cn/x.html",
                      raw_key="a" * 64, content_sha256="a" * 64).to_payload()  # fmt: skip


class FakeMessage:
    """What the consumer's handlers use of a kombu message; records how it was settled."""

    def __init__(self, body: bytes, *, task: str | None = PageFetched.TASK, content_type: str = "application/json",
                 compressed: bool = False) -> None:  # fmt: skip
        self.body = body
        self.headers: dict[str, Any] = {"task": task, "id": "t-1"} if task else {}
        self.content_type = content_type
        self.content_encoding = "utf-8"
        self.delivery_info = {"routing_key": "parser"}
        self.properties: dict[str, Any] = {}
        self.compressed = compressed
        self.settled: list[str] = []

    def decode(self) -> Any:
        if self.content_type != "application/json":
            raise DecodeError(f"refusing content type {self.content_type}")
        return json.loads(zlib.decompress(self.body) if self.compressed else self.body)

    payload = property(decode)

    def ack(self) -> None:
        self.settled.append("ack")

    def reject_log_error(self, logger: Any, errors: Any, requeue: bool = False) -> None:
        self.settled.append("requeue" if requeue else "reject")

    def ack_log_error(self, logger: Any, errors: Any) -> None:
        self.settled.append("ack")


def _consumer(settings: CommonSettings, counted: list[int]) -> Any:
    """The consumer class's handlers on an instance without Celery's start-up (they use app and
    connection_errors only)."""
    cls = recording_consumer(settings, queue="parser", on_recorded=lambda: counted.append(1))
    consumer = object.__new__(cls)
    consumer.app = make_celery(f"test-unrunnable-{uuid.uuid4()}", "memory://")

    def parse_page(payload: Any) -> None:
        return None

    consumer.app.task(name=PageFetched.TASK, shared=False)(parse_page)
    consumer.connection_errors = ()
    consumer.event_dispatcher = None
    return consumer


@pytest.fixture
def settings(sqlite_url: str) -> CommonSettings:
    upgrade(sqlite_url)
    return CommonSettings(database_url=sqlite_url)


def _failures(settings: CommonSettings) -> list[TaskFailure]:
    with session_scope(settings.resolved_database_url()) as s:
        return list(s.exec(select(TaskFailure).order_by(TaskFailure.id)))  # type: ignore[arg-type]


def test_a_misrouted_task_is_stored_with_its_argument_then_dropped(settings: CommonSettings) -> None:
    counted: list[int] = []
    consumer = _consumer(settings, counted)
    body = json.dumps([[PAYLOAD], {}, {}]).encode()
    message = FakeMessage(body, task="nianbao.validator.validate_report")
    consumer.on_unknown_task(None, message, KeyError("nianbao.validator.validate_report"))
    [row] = _failures(settings)
    assert (row.task, row.queue, row.reason) == ("nianbao.validator.validate_report", "parser", "unknown_task")
    assert row.payload == PAYLOAD  # the task's argument: `nianbao failures retry` can send it where it belongs
    assert "does not run task 'nianbao.validator.validate_report'" in row.error
    assert PageFetched.TASK in row.error  # what this worker does run
    assert message.settled == ["reject"] and counted == [1]  # then Celery's own handling: dropped


@pytest.mark.parametrize(
    ("handler", "args"),
    [
        ("on_decode_error", lambda m: (m, DecodeError("Unterminated string"))),
        ("on_invalid_task", lambda m: (None, m, DecodeError("Refusing to deserialize untrusted content"))),
        ("on_unknown_message", lambda m: (None, m)),
    ],
)
def test_an_unreadable_message_is_stored_with_its_body_head(settings: CommonSettings, handler: str, args: Any) -> None:
    counted: list[int] = []
    consumer = _consumer(settings, counted)
    message = FakeMessage(b'{"truncated \xff\x00', task=None if handler == "on_unknown_message" else PageFetched.TASK)
    getattr(consumer, handler)(*args(message))
    [row] = _failures(settings)
    assert row.reason == "unreadable"
    assert row.task == ("(none)" if handler == "on_unknown_message" else PageFetched.TASK)
    assert row.payload["body_head"] == '{"truncated \ufffd\ufffd'  # NUL and bad UTF-8 made storable
    assert (row.payload["body_bytes"], row.payload["content_type"]) == (14, "application/json")
    assert len(message.settled) == 1 and message.settled[0] in ("ack", "reject") and counted == [1]


def test_database_down_puts_the_message_back_instead_of_dropping_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unrunnable, "REQUEUE_PAUSE_S", 0.0)
    counted: list[int] = []
    # Nothing listens on port 1: the row cannot be stored.
    consumer = _consumer(CommonSettings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"), counted)
    for handler, args in (
        ("on_unknown_task", lambda m: (None, m, KeyError("x"))),
        ("on_decode_error", lambda m: (m, DecodeError("bad"))),
        ("on_invalid_task", lambda m: (None, m, DecodeError("bad"))),
        ("on_unknown_message", lambda m: (None, m)),
    ):
        message = FakeMessage(b"[[{}], {}, {}]", task="x")
        getattr(consumer, handler)(*args(message))
        assert message.settled == ["requeue"], handler  # back on its queue, not acked nor dropped
    assert counted == []


def test_task_argument_of_bodies_that_are_not_one_argument() -> None:
    assert task_argument(FakeMessage(json.dumps([[1, 2], {}, {}]).encode())) == ({"body": [[1, 2], {}, {}]}, None)
    assert task_argument(FakeMessage(b'{"a": 1}')) == ({"body": {"a": 1}}, None)
    payload, error = task_argument(FakeMessage(b"\x80\x04pickle", content_type="application/x-python-serialize"))
    assert error is not None and "refusing content type" in error
    assert payload["content_type"] == "application/x-python-serialize"


def test_json_nested_beyond_any_parser_is_kept_as_text() -> None:
    bomb = b"[" * 200_000 + b"]" * 200_000
    payload, error = task_argument(FakeMessage(bomb))
    assert error is not None and "RecursionError" in error
    assert payload["body_bytes"] == 400_000 and len(payload["body_head"]) == unrunnable.BODY_HEAD_CHARS


def test_a_huge_body_keeps_a_bounded_head(settings: CommonSettings) -> None:
    consumer = _consumer(settings, [])
    huge = b"x" * (50 * 1024 * 1024)
    consumer.on_decode_error(FakeMessage(huge), DecodeError("not JSON"))
    [row] = _failures(settings)
    assert row.payload["body_bytes"] == len(huge)
    assert len(row.payload["body_head"]) == unrunnable.BODY_HEAD_CHARS
    assert len(json.dumps(row.payload)) < MAX_PAYLOAD_BYTES


def test_unreadable_payload_of_a_text_body() -> None:
    message = FakeMessage(b"")
    message.body = "正文" * 10  # type: ignore[assignment]  # a transport may hand over str
    assert unreadable_payload(message)["body_head"] == "正文" * 10
    assert unreadable_payload(message)["body_bytes"] == 60
