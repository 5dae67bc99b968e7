"""The Celery publisher: one task message per message, by task name, to the message's queue, with a short
``argsrepr`` (what worker logs and task events show of the argument) instead of Celery's repr of the payload."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from nianbao.shared.bus import CeleryPublisher, args_repr
from nianbao.shared.contracts import CrawlRequested, PageFetched, ReportParsed


class RecordingApp:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send_task(self, name: str, **options: Any) -> SimpleNamespace:
        self.sent.append((name, options))
        return SimpleNamespace(id=f"task-{len(self.sent)}")  # as Celery's AsyncResult has


def test_published_with_the_payload_and_a_short_repr() -> None:
    app = RecordingApp()
    record = {"sections": {"preamble": "文" * 200_000}}  # a large payload: its repr must not follow it
    message = ReportParsed(site_id="demo", url="http://a.gov.cn/r.html", raw_key="a" * 64, record=record)
    CeleryPublisher(app).publish(message)
    [(name, options)] = app.sent
    assert name == ReportParsed.TASK and options["queue"] == ReportParsed.QUEUE
    assert options["args"] == [message.to_payload()]
    assert options["argsrepr"] == "ReportParsed(site_id=demo url=http://a.gov.cn/r.html)"
    assert CeleryPublisher(app).send(message) == "task-2"  # the sent task's id (what a retry reports)


def test_the_repr_names_what_each_kind_of_message_is_about() -> None:
    assert args_repr(CrawlRequested(site_id="demo")) == "CrawlRequested(site_id=demo)"
    page = PageFetched(site_id="demo", url="http://a.gov.cn/p.html", final_url="http://a.gov.cn/p.html",
                       raw_key="b" * 64, content_sha256="b" * 64)  # fmt: skip
    assert args_repr(page) == "PageFetched(site_id=demo url=http://a.gov.cn/p.html)"
