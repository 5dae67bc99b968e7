"""The Celery app every worker and producer builds: task events are the operator's choice (off by default,
they cost each task several Redis publishes), everything else as the reliability rules need it."""

from __future__ import annotations

import pytest

from nianbao.shared.celery_app import make_celery
from nianbao.shared.settings import CommonSettings


def test_task_events_are_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NIANBAO_TASK_EVENTS", raising=False)
    conf = make_celery("t", "redis://127.0.0.1:6379/0", CommonSettings()).conf
    assert conf.worker_send_task_events is False and conf.task_send_sent_event is False
    # What the events setting must not change: late acks, one message per child, requeue on a lost worker.
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1


def test_task_events_on_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIANBAO_TASK_EVENTS", "true")
    conf = make_celery("t", "redis://127.0.0.1:6379/0").conf
    assert conf.worker_send_task_events is True and conf.task_send_sent_event is True


def test_task_events_setting_rejects_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIANBAO_TASK_EVENTS", "sometimes")
    with pytest.raises(ValueError, match="task_events"):
        CommonSettings()
