"""Admin API for issue 13 against PostgreSQL and a Redis broker: one report as `nianbao show --json` gives
it, task failures listed and retried onto the broker, and a site's summary (reports per year, failing
findings per rule, the last crawl run)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import select

from nianbao.app import cli
from nianbao.app.admin_api import create_app
from nianbao.app.embedded import run_embedded
from nianbao.app.settings import AppSettings
from nianbao.crawler.sites import SiteRegistry
from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.server import DevPortal
from nianbao.devportal.urls import article_path
from nianbao.shared.bus import CeleryPublisher
from nianbao.shared.celery_app import make_celery
from nianbao.shared.contracts import PageFetched
from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.models import CrawlRun, Report, TaskFailure
from nianbao.shared.settings import CommonSettings
from nianbao.shared.taskrunner import MAX_PAYLOAD_BYTES, record_failure

from support import task_args

pytestmark = pytest.mark.integration
TOKEN = "t0ken-for-reports"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REGISTRY = {
    "version": 1,
    "sites": [{"id": "cq", "name": "重庆市人民政府", "family": "trs", "start_urls": ["https://www.cq.gov.cn/x/"]}],
}


@pytest.fixture
def pg(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NIANBAO_DATABASE_URL", postgres_url)
    upgrade(postgres_url)
    return postgres_url


def _client(database_url: str, broker_url: str | None) -> TestClient:
    settings = AppSettings(admin_token=SecretStr(TOKEN), database_url=database_url, broker_url=broker_url)
    publisher = CeleryPublisher(make_celery("nianbao-test", broker_url)) if broker_url else None
    return TestClient(create_app(settings, SiteRegistry.from_dict(REGISTRY), publisher), raise_server_exceptions=False)


@pytest.fixture
def demo(pg: str) -> dict[str, Report]:
    """The demo portal crawled into PostgreSQL; stored reports by devportal id."""
    with DevPortal() as portal:
        run_embedded(SiteRegistry.from_dict(cli.demo_registry(portal.column_url)), ["demo"])
    with session_scope(pg) as session:
        stored = list(session.exec(select(Report)))
    return {s.id: next(r for r in stored if r.url.endswith(article_path(s.publish_date, s.doc_id))) for s in REPORTS}


@pytest.fixture
def client(pg: str, redis_url: str) -> Iterator[TestClient]:
    with _client(pg, redis_url) as c:
        yield c


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}
    return str(response.json()["error"]["code"])


def test_report_is_what_show_json_prints(
    demo: dict[str, Report], client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    transport = demo["transport-2020"]
    body = client.get(f"/reports/{transport.id}", headers=AUTH)
    assert body.status_code == 200, body.text
    with pytest.raises(SystemExit):
        cli.main(["show", str(transport.id), "--json"])
    assert body.json() == json.loads(capsys.readouterr().out)
    view = body.json()
    assert (view["url"], view["year"], view["agency"]) == (transport.url, 2020, "示例市交通运输局")
    natural = next(f for f in view["failing"] if (f["rule"], f["where"]) == ("requests.balance", "natural"))
    # 5 new + 1 carried in against 4 handled + 1 carried out (the fixture's documented error)
    assert [(o["cell"], o["value"]) for o in natural["operands"]] == [
        ("requests.new.natural", 5),
        ("requests.carried_in.natural", 1),
        ("requests.results_total.natural", 4),
        ("requests.carried_out.natural", 1),
    ]
    assert all(o["source"].startswith("table 2 row ") for o in natural["operands"])
    assert [(o["at"]["table_index"], o["at"]["col"]) for o in natural["operands"]] == [(2, 3)] * 4
    requests = next(t for t in view["tables"] if t["name"] == "requests")
    new = next(v for v in requests["values"] if v["key"] == "new.natural")
    assert (new["at"]["table_index"], new["at"]["row"], new["at"]["col"]) == (2, 3, 3)
    for missing in ("0", "999999", str(2**31), str(10**30), "-1"):
        assert _error(client.get(f"/reports/{missing}", headers=AUTH), 404) == "unknown_report"
    assert _error(client.get("/reports/abc", headers=AUTH), 422) == "invalid_request"
    assert _error(client.get(f"/reports/{transport.id}"), 401) == "unauthorized"


def _fail(pg: str, task: str, queue: str, reason: str, payload: Any, error: str = "boom") -> int:
    record_failure(CommonSettings(database_url=pg), task=task, queue=queue, reason=reason, error=error, payload=payload)
    with session_scope(pg) as session:
        last = session.exec(select(TaskFailure).order_by(TaskFailure.id.desc())).first()  # type: ignore[union-attr]
        assert last is not None and last.id is not None
        return last.id


def _page(site: str, n: int) -> dict[str, Any]:
    return PageFetched(
        site_id=site,
        url=f"https://www.cq.gov.cn/a/{n}.html",
        final_url=f"https://www.cq.gov.cn/a/{n}.html",
        raw_key=f"{n:064x}",
        content_sha256=f"{n:064x}",
    ).to_payload()


def test_task_failures_listed_filtered_paged_and_retried(pg: str, client: TestClient, redis_url: str) -> None:
    parse, validate = PageFetched.TASK, "nianbao.validator.validate_report"
    pages = [_page("cq", n) for n in range(5)]
    ids = [
        _fail(pg, parse, "parser", "retries_exhausted", pages[n], f"Traceback …\nValueError: bad {n}") for n in range(5)
    ]
    invalid = _fail(pg, validate, "validator", "invalid_message", {"site_id": "cq", "url": 3}, "1 validation error")
    many = [
        {
            "url": f"https://www.cq.gov.cn/f/{n}.pdf",
            "final_url": f"https://www.cq.gov.cn/f/{n}.pdf",
            "raw_key": f"{n:064x}",
            "content_sha256": f"{n:064x}",
        }
        for n in range(MAX_PAYLOAD_BYTES // 200)
    ]
    huge = _fail(pg, parse, "parser", "permanent", {**_page("cq", 9), "attachments": many})  # stored truncated
    long = _fail(pg, parse, "parser", "permanent", {**_page("cq", 8), "title_hint": "题" * 100_000})  # a string cut
    everything = client.get("/task-failures", headers=AUTH).json()
    assert everything["total"] == 8
    assert [f["id"] for f in everything["failures"]] == [long, huge, invalid, *reversed(ids)]  # newest first
    first = next(f for f in everything["failures"] if f["id"] == ids[0])
    assert first["error_summary"] == "ValueError: bad 0" and first["url"] == "https://www.cq.gov.cn/a/0.html"
    assert first["reason"] == "retries_exhausted" and first["queue"] == "parser" and first["site_id"] == "cq"

    by = {
        q: client.get(f"/task-failures?{q}", headers=AUTH).json()
        for q in (
            "queue=validator",
            "reason=retries_exhausted",
            f"task={validate}",
            "site=cq",
            "queue=parser&reason=permanent",
        )
    }
    assert [f["id"] for f in by["queue=validator"]["failures"]] == [invalid]
    assert by["reason=retries_exhausted"]["total"] == 5
    assert [f["id"] for f in by[f"task={validate}"]["failures"]] == [invalid]
    assert by["site=cq"]["total"] == 8
    assert [f["id"] for f in by["queue=parser&reason=permanent"]["failures"]] == [long, huge]

    page1 = client.get("/task-failures?limit=3", headers=AUTH).json()
    page2 = client.get(f"/task-failures?limit=3&after_id={page1['next_after_id']}", headers=AUTH).json()
    page3 = client.get(f"/task-failures?limit=3&after_id={page2['next_after_id']}", headers=AUTH).json()
    listed = [f["id"] for p in (page1, page2, page3) for f in p["failures"]]
    assert listed == [f["id"] for f in everything["failures"]] and page3["next_after_id"] is None
    assert [f["id"] for f in client.get("/task-failures?offset=6", headers=AUTH).json()["failures"]] == ids[1::-1]
    assert len(client.get(f"/task-failures?after_id={10**30}", headers=AUTH).json()["failures"]) == 8
    assert client.get(f"/task-failures?offset={10**30}", headers=AUTH).json()["failures"] == []

    for bad in ("queue=nosuch", "reason=oops", "task=os.system", "site=nowhere", "queue=" + "q" * 10_000):
        assert _error(client.get(f"/task-failures?{bad}", headers=AUTH), 400) == "bad_filter", bad
    for bad in ("limit=0", "limit=1001", "offset=-1", "after_id=x"):
        assert _error(client.get(f"/task-failures?{bad}", headers=AUTH), 422) == "invalid_request", bad

    detail = client.get(f"/task-failures/{ids[2]}", headers=AUTH).json()
    assert detail["payload"] == pages[2] and detail["error"].endswith("ValueError: bad 2")
    assert _error(client.get("/task-failures/999999", headers=AUTH), 404) == "unknown_failure"

    broker = redis.Redis.from_url(redis_url)
    assert broker.llen("parser") == 0
    done = client.post(f"/task-failures/{ids[2]}/retry", headers=AUTH)
    assert done.status_code == 200, done.text
    assert done.json()["task"] == parse and done.json()["queue"] == "parser" and done.json()["failure_id"] == ids[2]
    [raw] = broker.lrange("parser", 0, -1)
    envelope = json.loads(raw)
    assert envelope["headers"]["task"] == parse and envelope["headers"]["id"] == done.json()["task_id"]
    sent = task_args(raw)[0]
    assert {k: v for k, v in sent.items() if k != "sent_at"} == {k: v for k, v in pages[2].items() if k != "sent_at"}
    assert datetime.fromisoformat(sent["sent_at"]) > datetime.now(UTC) - timedelta(minutes=1)  # a fresh sent_at
    assert _error(client.get(f"/task-failures/{ids[2]}", headers=AUTH), 404) == "unknown_failure"  # row deleted
    assert _error(client.post(f"/task-failures/{ids[2]}/retry", headers=AUTH), 404) == "unknown_failure"
    for refused in (invalid, huge, long):  # invalid, truncated or cut: not the original message; kept, 409
        assert _error(client.post(f"/task-failures/{refused}/retry", headers=AUTH), 409) == "not_retryable"
    assert client.get("/task-failures", headers=AUTH).json()["total"] == 7 and broker.llen("parser") == 1
    assert _error(client.post("/task-failures/99999999999/retry", headers=AUTH), 404) == "unknown_failure"


def test_retry_without_a_broker_keeps_the_row(pg: str) -> None:
    failure = _fail(pg, PageFetched.TASK, "parser", "permanent", _page("cq", 1))
    with _client(pg, None) as c:
        assert _error(c.post(f"/task-failures/{failure}/retry", headers=AUTH), 503) == "no_broker"
        assert c.get(f"/task-failures/{failure}", headers=AUTH).status_code == 200


def test_delete_dismisses_one_failure_without_a_broker(pg: str) -> None:
    unreadable = _fail(pg, PageFetched.TASK, "parser", "unreadable", {"body_head": "{\"trunc", "body_bytes": 7})
    kept = _fail(pg, PageFetched.TASK, "parser", "permanent", _page("cq", 1))
    with _client(pg, None) as c:
        assert c.delete(f"/task-failures/{unreadable}").status_code == 401  # the token is required
        done = c.delete(f"/task-failures/{unreadable}", headers=AUTH)
        assert done.status_code == 200, done.text
        assert done.json() == {"deleted": True, "failure_id": unreadable, "task": PageFetched.TASK,
                               "reason": "unreadable"}  # fmt: skip
        assert _error(c.delete(f"/task-failures/{unreadable}", headers=AUTH), 404) == "unknown_failure"
        assert _error(c.delete("/task-failures/99999999999", headers=AUTH), 404) == "unknown_failure"
        assert [f["id"] for f in c.get("/task-failures", headers=AUTH).json()["failures"]] == [kept]


def test_site_summary(demo: dict[str, Report], client: TestClient, pg: str) -> None:
    per_year = Counter(spec.year for spec in REPORTS)
    before = client.get("/sites/demo/summary", headers=AUTH).json()
    assert before["reports"] == len(REPORTS)
    assert [(y["year"], y["reports"]) for y in before["reports_per_year"]] == sorted(per_year.items())
    balance = next(r for r in before["failing_by_rule"] if r["rule"] == "requests.balance")
    # transport-2020 and water-2020 each fail requests.balance for 自然人 and 总计 (catalogue docstring)
    assert (balance["failing"], balance["reports"], balance["severity"]) == (4, 2, "error")
    assert before["failing_findings"] == sum(r["failing"] for r in before["failing_by_rule"])
    failing_2020 = next(y for y in before["reports_per_year"] if y["year"] == 2020)["failing_reports"]
    assert failing_2020 >= 2
    never = client.get("/sites/cq/summary", headers=AUTH).json()
    assert never["last_crawl"] is None and never["last_crawl_note"] == "no crawl run recorded for this site"
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    with session_scope(pg) as session:
        session.add(
            CrawlRun(
                run_id="old", site_id="cq", family="trs", announced=80, found=80, verdict="complete", started_at=t0
            )
        )
        session.add(
            CrawlRun(
                run_id="new",
                site_id="cq",
                family="trs",
                announced=120,
                found=97,
                kept=90,
                verdict="incomplete",
                started_at=t0 + timedelta(days=1),
                shortfalls=[
                    {
                        "start_url": "https://www.cq.gov.cn/x/",
                        "found": 97,
                        "expected": 120,
                        "reason": "page 5 answered 500",
                    }
                ],
            )
        )
    cq = client.get("/sites/cq/summary", headers=AUTH).json()
    assert cq["reports"] == 0 and cq["reports_per_year"] == [] and cq["failing_by_rule"] == []
    crawl = cq["last_crawl"]
    assert (crawl["run_id"], crawl["announced"], crawl["found"], crawl["verdict"]) == ("new", 120, 97, "incomplete")
    assert crawl["shortfalls"][0]["expected"] == 120 and cq["last_crawl_note"] is None
    assert before["last_crawl"] is None or before["last_crawl"]["found"] >= len(REPORTS)
    assert _error(client.get("/sites/nowhere/summary", headers=AUTH), 404) == "unknown_site"
    assert _error(client.get("/sites/" + "x" * 5000 + "/summary", headers=AUTH), 404) == "unknown_site"
