"""run_message_task: invalid messages and permanent errors are recorded, transient ones retried with
back-off until the limit, then recorded. Nothing is dropped."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlmodel import select

from nianbao.shared.contracts import PageFetched
from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.errors import PermanentError, TransientError
from nianbao.shared.models import TaskFailure
from nianbao.shared.settings import CommonSettings
from nianbao.shared.taskrunner import run_message_task


class Retry(Exception):
    def __init__(self, countdown: float) -> None:
        self.countdown = countdown


class FakeTask:
    """Stands in for a bound Celery task: the runner only uses name, request.retries and retry()."""

    name = PageFetched.TASK

    def __init__(self, retries: int = 0) -> None:
        self.request = SimpleNamespace(retries=retries)

    def retry(self, *, exc: BaseException, countdown: float, max_retries: int) -> Retry:
        return Retry(countdown)


PAYLOAD: dict[str, Any] = PageFetched(
    site_id="s",
    url="http://a.gov.cn/x.html",
    final_url="http://a.gov.cn/x.html",
    raw_key="a" * 64,
    content_sha256="a" * 64,
).to_payload()


@pytest.fixture
def settings(sqlite_url: str) -> CommonSettings:
    upgrade(sqlite_url)
    return CommonSettings(database_url=sqlite_url, task_max_retries=3, task_retry_backoff_s=1.0)


def _failures(settings: CommonSettings) -> list[TaskFailure]:
    with session_scope(settings.resolved_database_url()) as s:
        return list(s.exec(select(TaskFailure)))


def test_ok_runs_handler_with_validated_message(settings: CommonSettings) -> None:
    seen: list[PageFetched] = []
    outcomes: list[str] = []
    run_message_task(FakeTask(), PageFetched, PAYLOAD, seen.append, settings, outcomes.append)
    assert seen[0].url == "http://a.gov.cn/x.html" and outcomes == ["ok"]


def test_invalid_message_is_recorded_not_retried(settings: CommonSettings) -> None:
    outcomes: list[str] = []
    run_message_task(FakeTask(), PageFetched, {"site_id": "s"}, lambda m: None, settings, outcomes.append)
    [failure] = _failures(settings)
    assert failure.reason == "invalid_message" and "url" in failure.error and outcomes == ["invalid_message"]


def test_permanent_error_is_recorded_with_payload(settings: CommonSettings) -> None:
    def boom(_: PageFetched) -> None:
        raise PermanentError("raw blob missing")

    run_message_task(FakeTask(), PageFetched, PAYLOAD, boom, settings)
    [failure] = _failures(settings)
    assert (failure.reason, failure.site_id) == ("permanent", "s")
    assert "raw blob missing" in failure.error and failure.payload["raw_key"] == "a" * 64


def test_transient_error_retries_with_growing_backoff_then_records(settings: CommonSettings) -> None:
    def flaky(_: PageFetched) -> None:
        raise TransientError("connection refused")

    ceilings = []
    for retries in range(3):
        with pytest.raises(Retry) as info:
            run_message_task(FakeTask(retries), PageFetched, PAYLOAD, flaky, settings)
        ceilings.append(1.0 * 2**retries)
        assert 0.5 <= info.value.countdown <= ceilings[-1]
    assert _failures(settings) == []
    run_message_task(FakeTask(3), PageFetched, PAYLOAD, flaky, settings)
    [failure] = _failures(settings)
    assert failure.reason == "retries_exhausted" and "connection refused" in failure.error


class CeleryLikeTask(FakeTask):
    """retry() behaves as Celery's when the broker refuses the new message: Reject(requeue=False)."""

    def __init__(self, retries: int = 0) -> None:
        super().__init__(retries)
        self.max_retries_seen: list[int | None] = []

    def retry(self, *, exc: BaseException, countdown: float, max_retries: int | None) -> Retry:  # type: ignore[override]
        from celery.exceptions import Reject

        self.max_retries_seen.append(max_retries)
        raise Reject(ConnectionError("broker down"), requeue=False)


def test_retry_that_cannot_be_enqueued_requeues_instead_of_dropping(settings: CommonSettings) -> None:
    from celery.exceptions import Reject

    def flaky(_: PageFetched) -> None:
        raise TransientError("upstream 503")

    with pytest.raises(Reject) as info:
        run_message_task(CeleryLikeTask(), PageFetched, PAYLOAD, flaky, settings)
    assert info.value.requeue is True
    assert _failures(settings) == []


def test_unreachable_database_is_retried_past_the_retry_limit(settings: CommonSettings) -> None:
    from sqlalchemy.exc import OperationalError

    def db_down(_: PageFetched) -> None:
        raise OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))

    task = FakeTask(retries=10)  # far past task_max_retries=3
    with pytest.raises(Retry):
        run_message_task(task, PageFetched, PAYLOAD, db_down, settings)
    assert _failures(settings) == []


def test_failure_that_cannot_be_recorded_is_retried_not_acked(tmp_path: Any) -> None:
    # No `db upgrade`: the task_failure table does not exist, as for a worker started before migrations.
    bare = CommonSettings(database_url=f"sqlite:///{tmp_path / 'bare.db'}", task_max_retries=0)
    outcomes: list[str] = []

    def boom(_: PageFetched) -> None:
        raise PermanentError("unusable")

    task = CeleryLikeTask()
    with pytest.raises(Exception) as info:
        run_message_task(task, PageFetched, PAYLOAD, boom, bare, outcomes.append)
    assert getattr(info.value, "requeue", None) is True  # retry could not be enqueued either: requeued
    assert task.max_retries_seen == [None] and outcomes == ["retry"]


def test_payload_that_does_not_serialise_is_stored_safely(settings: CommonSettings) -> None:
    from nianbao.shared.taskrunner import MAX_PAYLOAD_BYTES, bounded_payload, record_failure

    huge = 10**5000  # str() refuses it: json.dumps would raise
    payload = {"site_id": "s", "value": huge, "nan": float("nan"), "text": "a\x00b\ud800", 3: b"\xff"}
    record_failure(settings, task="t", queue="validator", reason="permanent", error="e\x00", payload=payload)
    [failure] = _failures(settings)
    assert failure.site_id == "s" and failure.payload["value"].startswith("<int of ")
    assert failure.payload["nan"] == "nan" and "\x00" not in failure.payload["text"]
    big = bounded_payload({"site_id": "s", "record": ["x" * 1000] * 1000})
    assert big["truncated"] is True and big["site_id"] == "s" and len(big["json_head"]) <= MAX_PAYLOAD_BYTES


def test_worker_schema_check_names_the_fix(tmp_path: Any) -> None:
    from nianbao.shared.db import SchemaNotCurrent, check_schema

    url = f"sqlite:///{tmp_path / 'schema.db'}"
    with pytest.raises(SchemaNotCurrent, match=r"no schema.*run `nianbao db upgrade`"):
        check_schema(url)
    upgrade(url)
    check_schema(url)
    with pytest.raises(SchemaNotCurrent, match="unreachable"):
        check_schema("postgresql+psycopg://postgres@127.0.0.1:1/none", wait_s=0)
