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
