"""The admin API's report and finding lists are counted and paged in SQL: a request costs one page (no
whole records, no list of everything cut in Python), and a page equals the same slice of the full list,
on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import event

from nianbao.app.admin_api import create_app
from nianbao.app.queries import list_findings, list_reports
from nianbao.app.settings import AppSettings
from nianbao.crawler.sites import SiteRegistry
from nianbao.shared.db import get_engine, session_scope, upgrade
from nianbao.shared.record import Finding, Record, request_keys
from nianbao.validator.store import store_validated

TOKEN = "paging-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REGISTRY = {"version": 1, "sites": [{"id": s, "name": s, "family": "trs", "start_urls": [f"http://{s}.gov.cn/"]}
                                    for s in ("s1", "s2")]}  # fmt: skip


def _record(n: int) -> Record:
    return Record(
        title=f"第{n}县人民政府2021年政府信息公开工作年度报告",
        agency={"name": f"第{n}县人民政府"},
        year={"value": 2015 + n % 7},
        generation={"value": "gen2019"},
        tables={"requests": dict.fromkeys(request_keys("gen2019"), 0), "active": {"regulations.new_made": n}},
        table_sources={"active": f"http://s1.gov.cn/{n}.pdf"} if n % 4 == 0 else {},
        parser_version="test",
    )


def _findings(n: int) -> list[Finding]:
    return [
        Finding(rule="requests.balance", severity="error", status="fail" if n % 3 else "pass", where="natural"),
        Finding(rule="meta.year", severity="warn", status="fail" if n % 2 else "pass", where=None),
    ]


@pytest.fixture(params=["sqlite_url", "postgres_url"])
def client(request: pytest.FixtureRequest) -> Iterator[tuple[TestClient, str]]:
    url: str = request.getfixturevalue(request.param)
    upgrade(url)
    for n in range(23):
        with session_scope(url) as session:
            store_validated(session, site_id="s1" if n < 17 else "s2", url=f"http://x.gov.cn/{n}.html",
                            raw_key="a" * 64, record=_record(n), findings=_findings(n), rules_version="r1",
                            blank_policy={})  # fmt: skip
    settings = AppSettings(admin_token=SecretStr(TOKEN), database_url=url)
    with TestClient(create_app(settings, SiteRegistry.from_dict(REGISTRY), None)) as c:
        yield c, url


def _statements(url: str) -> Any:
    seen: list[str] = []

    def listen(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(get_engine(url), "before_cursor_execute", listen)
    return seen, lambda: event.remove(get_engine(url), "before_cursor_execute", listen)


@pytest.mark.parametrize("site", [None, "s1", "s2"])
def test_report_pages_are_slices_of_the_full_list(client: tuple[TestClient, str], site: str | None) -> None:
    c, url = client
    with session_scope(url) as session:
        everything = [r.__dict__ for r in list_reports(session, site)]
    query = f"&site={site}" if site else ""
    pages = [c.get(f"/reports?limit=5&offset={o}{query}", headers=AUTH).json() for o in range(0, 30, 5)]
    assert {p["total"] for p in pages} == {len(everything)} == {{None: 23, "s1": 17, "s2": 6}[site]}
    assert [r for p in pages for r in p["reports"]] == everything
    assert everything[0]["tables"] == ["active", "requests"] and "requests.balance" in everything[1]["failing"]
    assert any(r["from_attachment"] for r in everything) and not all(r["from_attachment"] for r in everything)


@pytest.mark.parametrize("status", ["fail", "pass", "all"])
def test_finding_pages_are_slices_of_the_full_list(client: tuple[TestClient, str], status: str) -> None:
    c, url = client
    with session_scope(url) as session:
        everything = [r.__dict__ for r in list_findings(session, status=None if status == "all" else status)]
    pages = [c.get(f"/findings?status={status}&limit=7&offset={o}", headers=AUTH).json() for o in range(0, 49, 7)]
    assert {p["total"] for p in pages} == {len(everything)} and len(everything) > 7
    assert [r for p in pages for r in p["findings"]] == everything


def test_a_page_is_cut_in_sql_and_reads_no_whole_record(client: tuple[TestClient, str]) -> None:
    c, url = client
    seen, stop = _statements(url)
    try:
        assert len(c.get("/reports?limit=3&offset=4", headers=AUTH).json()["reports"]) == 3
        assert len(c.get("/findings?status=all&limit=3&offset=4", headers=AUTH).json()["findings"]) == 3
    finally:
        stop()
    listings = [s for s in seen if "LIMIT" in s.upper()]
    assert len(listings) == 2, seen
    for statement in seen:  # the record only through a JSON path (tables, table_sources), never as a column
        flat = " ".join(statement.split())
        paths = flat.replace("JSON_EXTRACT(report.record,", "").replace("report.record ->", "")  # SQLite, PostgreSQL
        assert "report.record" not in paths and not re.search(r"report\.passed\b", flat), flat  # passed_count may be


def test_an_offset_beyond_everything_is_an_empty_page_and_a_huge_one_is_refused(
    client: tuple[TestClient, str],
) -> None:
    c, _url = client
    for path in ("/reports", "/findings"):
        far = c.get(f"{path}?offset={2**31 - 1}", headers=AUTH)
        assert far.status_code == 200 and far.json()[path[1:]] == [] and far.json()["total"] > 0
        huge = c.get(f"{path}?offset={10**20}", headers=AUTH)
        assert huge.status_code == 422 and huge.json()["error"]["code"] == "invalid_request"
