"""The read-only web view (`/ui` of the admin app) over a database the embedded demo pipeline filled:
token required, tables with failing cells and sources, escaping, raw copies as attachments, validated
filters, paging, HTML errors."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import col, func, select

from nianbao.app import cli
from nianbao.app.admin_api import create_app
from nianbao.app.embedded import run_embedded
from nianbao.app.settings import AppSettings
from nianbao.app.web import auth
from nianbao.crawler.sites import SiteRegistry
from nianbao.devportal.server import DevPortal
from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.models import FINDING_ALL, CrawlRun, FindingRow, Report
from nianbao.shared.rawstore import RawStore
from nianbao.shared.record import CellLocation

TOKEN = "web-view-token-s3cret"
HOSTILE = '<script>alert("x")</script>'


class Elements(HTMLParser):
    """Every element with its attributes and the text inside it (nested text included)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[dict[str, Any]] = []
        self._open: list[dict[str, Any]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = {"tag": tag, "attrs": {k: v or "" for k, v in attrs}, "text": ""}
        self.elements.append(element)
        if tag not in ("meta", "link", "input", "br"):
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()["tag"] == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element["text"] += data

    def find(self, tag: str, **attrs: str) -> list[dict[str, Any]]:
        return [e for e in self.elements if e["tag"] == tag and all(e["attrs"].get(k) == v for k, v in attrs.items())]


class Demo:
    def __init__(self, root: Path) -> None:
        self.settings = AppSettings(admin_token=SecretStr(TOKEN), data_dir=root)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("NIANBAO_DATA_DIR", str(root))
            with DevPortal() as portal:
                self.registry_dict = cli.demo_registry(portal.column_url)
                run_embedded(SiteRegistry.from_dict(self.registry_dict), ["demo"])
        self.db = self.settings.resolved_database_url()

    def client(self, registry: dict[str, Any] | None = None) -> TestClient:
        api = create_app(self.settings, SiteRegistry.from_dict(registry or self.registry_dict), None)
        return TestClient(api, raise_server_exceptions=False)

    def reports(self) -> list[Report]:
        with session_scope(self.db) as s:
            return list(s.exec(select(Report).order_by(col(Report.id))))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return Demo(tmp_path_factory.mktemp("web-demo"))


@pytest.fixture
def client(demo: Demo) -> Iterator[TestClient]:
    with demo.client() as c:
        assert c.get("/ui/login", params={"token": TOKEN}, follow_redirects=False).status_code == 303
        yield c


def _pages(demo: Demo) -> list[str]:
    report = demo.reports()[0]
    return ["/ui/", "/ui/sites/demo", f"/ui/reports/{report.id}", f"/ui/reports/{report.id}/raw", "/ui/findings"]


# --- the token --------------------------------------------------------------------------------------------


def test_every_page_needs_the_token(demo: Demo) -> None:
    agency = demo.reports()[0].agency
    assert agency
    with demo.client() as c:
        for path in _pages(demo):
            response = c.get(path, follow_redirects=False)
            assert response.status_code == 401, path
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert 'name="token"' in response.text and agency not in response.text, path
        wrong = c.get("/ui/login", params={"token": "not-it"}, follow_redirects=False)
        assert wrong.status_code == 403 and "set-cookie" not in wrong.headers
        assert c.get("/ui/", follow_redirects=False).status_code == 401
        # a script may send the bearer header instead of logging in
        assert c.get("/ui/sites/demo", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert c.get("/ui/sites/demo", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_login_sets_an_httponly_strict_cookie_without_the_token(demo: Demo) -> None:
    with demo.client() as c:
        response = c.get("/ui/login", params={"token": f"  {TOKEN} "}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/ui/"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{auth.SESSION_COOKIE}=")
        for part in ("HttpOnly", "SameSite=strict", "Path=/ui"):
            assert part.lower() in cookie.lower(), cookie
        value = cookie.split(";")[0].split("=", 1)[1]
        assert TOKEN not in value and TOKEN.encode("utf-8").hex() not in value
        assert c.get("/ui/").status_code == 200
        # logging out clears it
        assert c.post("/ui/logout", follow_redirects=False).status_code == 303
        assert c.get("/ui/", follow_redirects=False).status_code == 401


@pytest.mark.parametrize(
    "cookie",
    [
        "", "garbage", "1.2", "9" * 200, f"{int(time.time()) + 60}.{'0' * 64}",
        auth.session_value(TOKEN.encode(), time.time() - auth.SESSION_SECONDS - 5),  # expired
        auth.session_value(b"another token", time.time()),  # made with another token
        auth.session_value(TOKEN.encode(), time.time() + 10 * auth.SESSION_SECONDS),  # further than a session lasts
        "１２３.abc",  # non-ASCII digits
    ],
)  # fmt: skip
def test_forged_or_expired_cookies_are_refused(demo: Demo, cookie: str) -> None:
    with demo.client() as c:
        raw = f"{auth.SESSION_COOKIE}={cookie}".encode()
        assert c.get("/ui/", headers={"Cookie": raw}, follow_redirects=False).status_code == 401


def test_a_fresh_cookie_is_accepted(demo: Demo) -> None:
    with demo.client() as c:
        c.cookies.set(auth.SESSION_COOKIE, auth.session_value(TOKEN.encode(), time.time()), path="/ui")
        assert c.get("/ui/").status_code == 200


def test_login_form_post_and_where_it_may_lead(demo: Demo) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    with demo.client() as c:
        ok = c.post("/ui/login", data={"token": TOKEN, "next": "/ui/findings?status=all"}, follow_redirects=False)
        assert ok.status_code == 303 and ok.headers["location"] == "/ui/findings?status=all"
        for hostile in ("//evil.example/", "http://evil.example/", "/\\evil.example", "/ui/\r\nX: y", "/elsewhere",
                        "/ui" + "/x" * 1500):  # fmt: skip
            response = c.post("/ui/login", data={"token": TOKEN, "next": hostile}, follow_redirects=False)
            assert response.headers["location"] == "/ui/", hostile
        assert c.post("/ui/login", data={"token": "wrong"}, follow_redirects=False).status_code == 403
        as_json = c.post("/ui/login", content=b'{"token": 1}', headers={"content-type": "application/json"})
        assert as_json.status_code == 415
        huge = c.post("/ui/login", content=b"token=" + b"a" * 100_000, headers=form)
        assert huge.status_code == 400 and "larger than" in huge.text
        latin = c.post("/ui/login", content=b"token=\xff\xfe", headers=form)
        assert latin.status_code == 400 and "UTF-8" in latin.text
        twice = c.post("/ui/login", content=f"token={TOKEN}&token={TOKEN}".encode(), headers=form)
        assert twice.status_code == 400 and "more than once" in twice.text
    # an unauthenticated page's login form brings one back to it
    with demo.client() as c:
        page = Elements(c.get("/ui/sites/demo?page=1").text)
        assert page.find("input", name="next")[0]["attrs"]["value"] == "/ui/sites/demo?page=1"


def test_security_headers_on_pages_and_errors(client: TestClient) -> None:
    for path in ("/ui/", "/ui/findings?status=nope", "/ui/reports/999999", "/ui/nosuchpage"):
        response = client.get(path)
        assert response.headers["x-frame-options"] == "DENY", path
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "<script" not in response.text
    assert client.get("/ui/nosuchpage").status_code == 404
    assert client.get("/ui", follow_redirects=True).status_code == 200


# --- pages ------------------------------------------------------------------------------------------------


def _counts(demo: Demo) -> tuple[int, int]:
    with session_scope(demo.db) as s:
        reports = s.exec(select(func.count()).select_from(Report).where(Report.site_id == "demo")).one()
        failing = s.exec(select(func.count()).select_from(FindingRow).where(FindingRow.status == "fail")).one()
    return int(reports), int(failing)


def test_overview_and_site_page_count_what_is_stored(demo: Demo, client: TestClient) -> None:
    reports, failing = _counts(demo)
    cells = [e["text"] for e in Elements(client.get("/ui/").text).find("td")]
    assert cells[:4] == ["demo", demo.registry_dict["sites"][0]["name"], str(reports), str(failing)]
    with session_scope(demo.db) as s:
        run = s.exec(select(CrawlRun).where(CrawlRun.site_id == "demo")).one()
    assert run.verdict in cells[4] and f"found {run.found}" in cells[4]
    # the demo's TRS pager states a page count only: a range of records, shown as such
    assert run.announced is not None and run.announced_max is not None and run.announced < run.announced_max
    assert f"{run.announced}–{run.announced_max} announced" in cells[4]

    parsed = Elements(client.get("/ui/sites/demo").text)
    stored = demo.reports()
    assert {f"/ui/reports/{r.id}" for r in stored} <= {e["attrs"]["href"] for e in parsed.find("a")}
    by_year = parsed.find("table")[0]  # reports by year: year, reports, reports with a failing finding
    rows = [line for line in by_year["text"].split("\n") if line]
    with session_scope(demo.db) as s:
        failing_ids = set(s.exec(select(FindingRow.report_id).where(FindingRow.status == "fail")))
        balance = s.exec(select(func.count()).select_from(FindingRow).where(
            FindingRow.rule == "requests.balance", FindingRow.status == "fail")).one()  # fmt: skip
    for year in {r.year for r in stored}:
        n = sum(1 for r in stored if r.year == year)
        bad = sum(1 for r in stored if r.year == year and r.id in failing_ids)
        assert f"{year}{n}{bad}" in by_year["text"], (year, rows)
    by_rule = parsed.find("table")[1]["text"]  # rule, severity, failing findings, reports, description
    balance_reports = len(_unbalanced(demo))
    assert f"requests.balanceerror{balance}{balance_reports}" in by_rule
    assert parsed.find("a", href="/ui/findings?site=demo&rule=requests.balance")


def test_site_without_crawl_says_so(tmp_path: Path) -> None:
    settings = AppSettings(admin_token=SecretStr(TOKEN), database_url=f"sqlite:///{tmp_path}/empty.db")
    upgrade(settings.resolved_database_url())
    registry = {"version": 1, "sites": [{"id": "quiet", "name": "静", "family": "trs",
                                        "start_urls": ["http://www.example.gov.cn/"]}]}  # fmt: skip
    with TestClient(create_app(settings, SiteRegistry.from_dict(registry), None)) as c:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        assert "no crawl recorded" in c.get("/ui/", headers=headers).text
        site = c.get("/ui/sites/quiet", headers=headers)
        assert site.status_code == 200 and "no crawl recorded" in site.text and "no stored report" in site.text
        assert c.get("/ui/sites/unknown", headers=headers).status_code == 404


def _unbalanced(demo: Demo) -> list[Report]:
    with session_scope(demo.db) as s:
        ids = set(s.exec(select(FindingRow.report_id).where(FindingRow.rule == "requests.balance",
                                                           FindingRow.status == "fail")))  # fmt: skip
    found = [r for r in demo.reports() if r.id in ids]
    assert found, "the demo has reports failing requests.balance"
    return found


def test_report_page_highlights_the_failing_cells_with_their_sources(demo: Demo, client: TestClient) -> None:
    for report in _unbalanced(demo):
        with session_scope(demo.db) as s:
            failing = list(s.exec(select(FindingRow).where(FindingRow.report_id == report.id,
                                                           FindingRow.status == "fail")))  # fmt: skip
        expected = {f"c-{cell}" for f in failing for cell in f.cells}
        page = Elements(client.get(f"/ui/reports/{report.id}").text)
        marked = {e["attrs"]["id"] for e in page.find("td") if "fail" in e["attrs"].get("class", "").split()}
        assert marked == expected, report.url
        at = {(c["table"], c["key"]): c["at"] for c in report.record["cells"]}
        for cell_id in expected:
            table, _, key = cell_id.removeprefix("c-").partition(".")
            td = page.find("td", id=cell_id)[0]
            assert td["attrs"]["title"] == CellLocation.model_validate(at[table, key]).describe()
        # the row and column headers carry the Chinese label beside the English key
        requests = next(e for e in page.find("table") if e["attrs"].get("data-table") == "requests")
        assert "本年新收" in requests["text"] and "new" in requests["text"] and "自然人" in requests["text"]
        original = page.find("a", href=report.url)
        assert original and "original" in original[0]["attrs"]["class"]
        assert page.find("a", href=f"/ui/reports/{report.id}/raw")


def test_report_metadata_is_labelled_in_english_and_chinese(demo: Demo, client: TestClient) -> None:
    report = _unbalanced(demo)[0]
    meta = report.record["metadata"]
    assert meta["index_no"] and meta["written_date"], "the demo report carries 索引号 and 成文日期"
    terms = {" ".join(e["text"].split()) for e in Elements(client.get(f"/ui/reports/{report.id}").text).find("dt")}
    assert "index_no 索引号" in terms and "written_date 成文日期" in terms and "publisher 发布机构" in terms
    page = client.get(f"/ui/reports/{report.id}").text
    assert meta["index_no"] in page and meta["written_date"] in page


def test_raw_copies_are_attachments_never_rendered(demo: Demo, client: TestClient) -> None:
    store = RawStore(demo.settings.resolved_raw_store_dir())
    report = demo.reports()[0]
    response = client.get(f"/ui/reports/{report.id}/raw")
    assert response.status_code == 200 and response.content == store.get(report.raw_key)
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    with_attachment = next(r for r in demo.reports() if any(a.get("raw_key") for a in r.record["attachments"]))
    index, attachment = next((i, a) for i, a in enumerate(with_attachment.record["attachments"]) if a.get("raw_key"))
    response = client.get(f"/ui/reports/{with_attachment.id}/attachments/{index}/raw")
    assert response.status_code == 200 and response.content == store.get(attachment["raw_key"])
    assert response.headers["content-disposition"].startswith("attachment;")
    for bad in ("99", "-1", "x", "1" * 40):
        assert client.get(f"/ui/reports/{with_attachment.id}/attachments/{bad}/raw").status_code == 404
    for bad in ("999999", "abc", "1" * 40, "%00"):
        assert client.get(f"/ui/reports/{bad}").status_code == 404
        assert client.get(f"/ui/reports/{bad}/raw").status_code == 404


def test_a_raw_copy_missing_from_the_store_is_a_404(tmp_path: Path) -> None:
    demo = Demo(tmp_path / "d")
    report = demo.reports()[0]
    path = demo.settings.resolved_raw_store_dir() / report.raw_key[:2] / report.raw_key[2:4] / report.raw_key
    path.unlink()
    with demo.client() as c:
        c.get("/ui/login", params={"token": TOKEN})
        assert c.get(f"/ui/reports/{report.id}/raw").status_code == 404
        assert "not in the raw store" in c.get(f"/ui/reports/{report.id}").text


# --- findings ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("status=bogus", "status must be"), ("rule=no.such.rule", "unknown rule"), ("site=nowhere", "unknown site"),
        ("page=0", "page must be"), ("page=abc", "page must be"), ("page=1000000000", "page must be"),
        ("page=-1", "page must be"), ("page=%EF%BC%91", "page must be"), ("colour=red", "unknown parameter"),
        ("status=fail&status=pass", "more than once"), ("rule=" + "x" * 5000, "longer than"),
        (f"site={'%3Cscript%3E'}", "unknown site"),
    ],
)  # fmt: skip
def test_findings_filters_are_validated(client: TestClient, query: str, says: str) -> None:
    response = client.get(f"/ui/findings?{query}")
    assert response.status_code == 400 and says in response.text
    assert "<script>" not in response.text


def test_findings_filter_and_pages(demo: Demo, client: TestClient) -> None:
    with session_scope(demo.db) as s:
        balance = s.exec(select(func.count()).select_from(FindingRow).where(
            FindingRow.rule == "requests.balance", FindingRow.status == "fail")).one()  # fmt: skip
        everything = s.exec(select(func.count()).select_from(FINDING_ALL)).one()
    page = Elements(client.get("/ui/findings?rule=requests.balance&status=fail&site=demo").text)
    body_rows = page.find("tbody")[0]["text"]
    assert body_rows.count("requests.balance") == balance > 0
    assert len(page.find("tr")) - 1 == balance
    last = math.ceil(everything / 50)
    assert last > 1, "the demo has more findings than one page"
    first = client.get("/ui/findings?status=all").text
    assert f"page 1 of {last} ({everything} rows" in first
    assert 'href="/ui/findings?status=all&amp;page=2"' in first
    final = client.get(f"/ui/findings?status=all&page={last}").text
    assert len(Elements(final).find("tr")) - 1 == everything - 50 * (last - 1)
    assert 'rel="next"' not in final and 'rel="prev"' in final
    assert client.get(f"/ui/findings?status=all&page={last + 1}").status_code == 200  # past the end: empty


# --- hostile content --------------------------------------------------------------------------------------


def test_names_titles_and_urls_from_portals_are_escaped(tmp_path: Path) -> None:
    settings = AppSettings(admin_token=SecretStr(TOKEN), database_url=f"sqlite:///{tmp_path}/h.db",
                           raw_store_dir=tmp_path / "raw")  # fmt: skip
    upgrade(settings.resolved_database_url())
    raw_key = RawStore(tmp_path / "raw").put(b"<html>" + HOSTILE.encode() + b"</html>")
    with session_scope(settings.resolved_database_url()) as s:
        report = Report(
            site_id="evil", url=f"javascript:alert(1)//{HOSTILE}", raw_key=raw_key, content_sha256=raw_key,
            title=HOSTILE, agency=HOSTILE, year=2021, generation="gen2021",
            record={"metadata": {"publisher": HOSTILE}, "tables": {"requests": {"new.natural": 1}},
                    "cells": [{"table": "requests", "key": "new.natural", "at": {"line": 3, "source": HOSTILE}}],
                    "attachments": [{"url": HOSTILE, "name": HOSTILE}]},
        )  # fmt: skip
        s.add(report)
        s.commit()
        s.refresh(report)
        s.add(FindingRow(report_id=report.id or 0, rule="requests.balance", location=HOSTILE, severity="error",
                         status="fail", cells=["requests.new.natural"], message=HOSTILE))  # fmt: skip
        from nianbao.shared.models import ReportValue

        s.add(ReportValue(report_id=report.id or 0, table_name="requests", key="new.natural", value=1,
                          status="number", raw=HOSTILE, unit=HOSTILE))  # fmt: skip
        s.commit()
        report_id = report.id
    registry = {"version": 1, "sites": [{"id": "evil", "name": HOSTILE, "family": "trs",
                                        "start_urls": ["http://www.example.gov.cn/"]}]}  # fmt: skip
    with TestClient(create_app(settings, SiteRegistry.from_dict(registry), None)) as c:
        c.get("/ui/login", params={"token": TOKEN})
        for path in ("/ui/", "/ui/sites/evil", f"/ui/reports/{report_id}", "/ui/findings?site=evil",
                     f"/ui/sites/{HOSTILE}", f"/ui/findings?site={HOSTILE}"):  # fmt: skip
            text = c.get(path).text
            assert "<script>" not in text and 'href="javascript:' not in text, path
        report_page = c.get(f"/ui/reports/{report_id}").text
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in report_page
        assert "&lt;script&gt;" in c.get("/ui/").text
        raw = c.get(f"/ui/reports/{report_id}/raw")
        assert raw.headers["content-type"] == "application/octet-stream" and HOSTILE.encode() in raw.content


def test_an_unreachable_database_is_a_503_page() -> None:
    settings = AppSettings(admin_token=SecretStr(TOKEN), database_url="postgresql+psycopg://nobody@127.0.0.1:1/x")
    with TestClient(create_app(settings, SiteRegistry.from_dict({"version": 1, "sites": []}), None),
                    raise_server_exceptions=False) as c:  # fmt: skip
        response = c.get("/ui/findings", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 503 and "database cannot be reached" in response.text
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["x-frame-options"] == "DENY"


def test_the_view_follows_a_reloaded_registry_file(tmp_path: Path) -> None:
    from nianbao.crawler.registry import RegistrySource

    settings = AppSettings(admin_token=SecretStr(TOKEN), database_url=f"sqlite:///{tmp_path}/r.db")
    upgrade(settings.resolved_database_url())
    path = tmp_path / "sites.yaml"

    def write(site_id: str, name: str) -> None:
        path.write_text(
            f"version: 1\nsites:\n  - id: {site_id}\n    name: {name}\n    family: trs\n"
            "    start_urls: ['http://www.example.gov.cn/']\n",
            encoding="utf-8",
        )

    write("first", "第一")
    source = RegistrySource(path, check_interval_s=0)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(settings, source, None)) as c:
        assert "第一" in c.get("/ui/", headers=headers).text
        write("second", "第二个站点")
        overview = c.get("/ui/", headers=headers).text
        assert "第二个站点" in overview and "/ui/sites/first" not in overview
        assert c.get("/ui/sites/second", headers=headers).status_code == 200
        assert c.get("/ui/sites/first", headers=headers).status_code == 404
