"""`nianbao failures list|retry|delete` and `nianbao sites summary`: recorded task failures listed and
filtered, retried onto a real Redis broker (row deleted, payload unchanged but for sent_at), refused when the
stored payload cannot be the original message, dismissed by id or filter, exit 2 for unknown ids, sites and
filters."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from sqlmodel import select

from nianbao.app import cli
from nianbao.shared.contracts import PageFetched
from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.models import CrawlRun, FindingRow, Report, TaskFailure
from nianbao.shared.settings import CommonSettings
from nianbao.shared.taskrunner import record_failure

from support import task_args

PARSE = PageFetched.TASK


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(list(args))
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def _db() -> str:
    url = CommonSettings().resolved_database_url()
    upgrade(url)
    return url


def _record(task: str, queue: str, reason: str, payload: Any, error: str = "ValueError: boom") -> int:
    url = _db()
    record_failure(CommonSettings(), task=task, queue=queue, reason=reason, error=error, payload=payload)
    with session_scope(url) as session:
        ids = list(session.exec(select(TaskFailure.id)))
        return max(i for i in ids if i is not None)


def _page(n: int, site: str = "demo") -> dict[str, Any]:
    url = f"http://www.example.gov.cn/{n}.html"
    return PageFetched(
        site_id=site, url=url, final_url=url, raw_key=f"{n:064x}", content_sha256=f"{n:064x}"
    ).to_payload()


def test_list_filters_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    a = _record(
        PARSE, "parser", "retries_exhausted", _page(1), "Traceback (most recent call last):\n  …\nOSError: disk"
    )
    b = _record("nianbao.validator.validate_report", "validator", "invalid_message", {"site_id": "other", "url": 1})
    code, out, err = _run(capsys, "failures", "list", "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == [b, a]
    assert rows[1]["error_summary"] == "OSError: disk" and rows[1]["url"] == "http://www.example.gov.cn/1.html"
    code, out, err = _run(capsys, "failures", "list", "--queue", "parser")
    assert code == 0 and out.split("\t")[0] == str(a) and len(out.splitlines()) == 1 and "1 task failure" in err
    code, out, _ = _run(capsys, "failures", "list", "--site", "other", "--json")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [b]
    code, out, _ = _run(capsys, "failures", "list", "--reason", "permanent", "--json")
    assert code == 0 and out == ""
    for bad in (
        ["--queue", "nosuch"],
        ["--reason", "x"],
        ["--task", "os.system"],
        ["--site", "nowhere"],
        ["--limit", "0"],
    ):
        code, out, err = _run(capsys, "failures", "list", *bad)
        assert code == 2 and out == "" and "error" in err, bad


def test_retry_sends_the_stored_message_and_deletes_the_row(
    capsys: pytest.CaptureFixture[str], redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = _page(7)
    good = _record(PARSE, "parser", "permanent", payload)
    cut = _record(PARSE, "parser", "permanent", {**_page(8), "title_hint": "题" * 70_000})
    monkeypatch.setenv("NIANBAO_BROKER_URL", redis_url)
    broker = redis.Redis.from_url(redis_url)
    code, out, err = _run(capsys, "failures", "retry", str(good))
    assert code == 0, err
    [raw] = broker.lrange("parser", 0, -1)
    envelope = json.loads(raw)
    task_id = envelope["headers"]["id"]
    assert out.strip() == f"retried failure {good} ({PARSE}) as task {task_id} on queue parser"
    sent = task_args(raw)[0]
    assert {k: v for k, v in sent.items() if k != "sent_at"} == {k: v for k, v in payload.items() if k != "sent_at"}
    assert datetime.fromisoformat(sent["sent_at"]) > datetime.fromisoformat(payload["sent_at"])
    with session_scope(_db()) as session:
        assert session.get(TaskFailure, good) is None and session.get(TaskFailure, cut) is not None
    code, out, err = _run(capsys, "failures", "retry", str(good))  # gone now
    assert code == 2 and f"no task failure {good}" in err
    code, out, err = _run(capsys, "failures", "retry", str(cut))  # a string cut when it was stored
    assert code == 1 and "not retried" in err and broker.llen("parser") == 1
    more = [_record(PARSE, "parser", "retries_exhausted", _page(n, "s2")) for n in (10, 11)]
    _record(PARSE, "parser", "retries_exhausted", _page(12, "s3"))
    code, out, err = _run(capsys, "failures", "retry", "--all", "--site", "s2")
    assert code == 0 and len(out.splitlines()) == 2 and broker.llen("parser") == 3
    assert {int(line.split()[2]) for line in out.splitlines()} == set(more)
    for usage in ([], ["1", "--all"], ["1", "--queue", "parser"], ["abc"], ["--all", "--queue", "nosuch"]):
        code, _, err = _run(capsys, "failures", "retry", *usage)
        assert code == 2, usage


def test_delete_dismisses_rows_by_id_or_filter_and_needs_no_broker(capsys: pytest.CaptureFixture[str]) -> None:
    unreadable = _record(PARSE, "parser", "unreadable", {"body_head": "{\"trunc", "body_bytes": 7},
                         "the message body could not be read: DecodeError: Unterminated string")  # fmt: skip
    kept = _record(PARSE, "parser", "permanent", _page(1))
    flood = [_record("(none)", "parser", "unreadable", {"body_head": "x"}) for _ in range(3)]
    code, out, err = _run(capsys, "failures", "delete", str(unreadable))
    assert code == 0, err
    assert out.strip() == f"deleted failure {unreadable} ({PARSE}, unreadable)"
    code, out, err = _run(capsys, "failures", "delete", str(unreadable))  # gone now
    assert code == 2 and f"no task failure {unreadable}" in err
    code, out, err = _run(capsys, "failures", "delete", "--all", "--reason", "unreadable")
    assert code == 0 and {int(line.split()[2]) for line in out.splitlines()} == set(flood)
    with session_scope(_db()) as session:
        assert [f.id for f in session.exec(select(TaskFailure))] == [kept]
    code, out, _ = _run(capsys, "failures", "delete", "--all", "--reason", "unreadable")
    assert code == 0 and out.strip() == "no task failure matches"
    for usage in ([], ["1", "--all"], ["1", "--reason", "unreadable"], ["--all", "--reason", "nosuch"]):
        code, _, err = _run(capsys, "failures", "delete", *usage)
        assert code == 2, usage
    with session_scope(_db()) as session:
        assert [f.id for f in session.exec(select(TaskFailure))] == [kept]


def test_retry_needs_a_broker(capsys: pytest.CaptureFixture[str]) -> None:
    failure = _record(PARSE, "parser", "permanent", _page(1))
    code, _, err = _run(capsys, "failures", "retry", str(failure))
    assert code == 2 and "NIANBAO_BROKER_URL" in err
    with session_scope(_db()) as session:
        assert session.get(TaskFailure, failure) is not None


def test_sites_summary(capsys: pytest.CaptureFixture[str]) -> None:
    url = _db()
    with session_scope(url) as session:
        reports = []
        for n, year in enumerate((2019, 2020, 2020, None)):
            r = Report(site_id="demo", url=f"http://x.gov.cn/{n}", raw_key="0" * 64, content_sha256="0" * 64, year=year)
            session.add(r)
            reports.append(r)
        session.flush()
        fails = [
            (0, "requests.balance", "natural"),
            (0, "requests.balance", "total"),
            (1, "requests.balance", "total"),
            (1, "active.total", ""),
        ]
        for i, rule, where in fails:
            session.add(
                FindingRow(report_id=reports[i].id or 0, rule=rule, location=where, severity="error", status="fail")
            )
        session.add(FindingRow(report_id=reports[2].id or 0, rule="requests.balance", severity="error", status="pass"))
        session.add(
            CrawlRun(
                run_id="r1",
                site_id="demo",
                family="trs",
                announced=None,
                found=4,
                kept=4,
                verdict="unknown",
                started_at=datetime(2026, 2, 1, tzinfo=UTC),
            )
        )
    code, out, _ = _run(capsys, "sites", "summary", "demo", "--json")
    assert code == 0
    summary = json.loads(out)
    assert [(y["year"], y["reports"], y["failing_reports"]) for y in summary["reports_per_year"]] == [
        (2019, 1, 1),
        (2020, 2, 1),
        (None, 1, 0),
    ]
    assert [(r["rule"], r["failing"], r["reports"]) for r in summary["failing_by_rule"]] == [
        ("requests.balance", 3, 2),
        ("active.total", 1, 1),
    ]
    assert summary["failing_findings"] == 4 and summary["last_crawl"]["found"] == 4
    code, out, _ = _run(capsys, "sites", "summary", "demo")
    assert "found 4, nothing announced" in out and "  2020\t2\t1" in out
    code, out, err = _run(capsys, "sites", "summary", "nowhere")
    assert code == 2 and "unknown site" in err
