"""Hanweb JCMS data proxy over real POST (the ``startrecord/endrecord`` form), over real HTTP on loopback:
a POST-only proxy crawled completely, ``auto`` falling back to GET on a GET-only proxy, ``proxy_method: post``
against a GET-only proxy recorded as incomplete with its 405, and the HTTP layer's POST rules (redirects,
form size cap, off-site redirect, never conditional)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from nianbao.crawler.client import build_client
from nianbao.crawler.discovery import DiscoveryContext, DiscoveryLog, discover
from nianbao.crawler.fetcher import MAX_FORM_BYTES, FetchRefused, http_get
from nianbao.crawler.fetching import SiteFetcher
from nianbao.crawler.netguard import AddressPolicy, GuardedTransport
from nianbao.crawler.sites import SiteRegistry
from nianbao.crawler.state import CrawlState
from nianbao.shared.rawstore import RawStore

from .conftest import Crawler, site_entry
from .portal import Article, Portal, Response, Seen, add_article, hanweb_jpage_column

TITLE = "某单位{}年度政府信息公开工作年度报告"
PROXY = "/zwgk/module/jpage/dataproxy.jsp"
COLUMN = 4411
# What the real jpage script POSTs besides start/end/perpage (portals.md, Hanweb row), for the builder's
# column (webid 5, unitid 77; its <nextgroup> link names no webname), in the script's order.
EXPECTED_BODY = [("col", "1"), ("appid", "1"), ("webid", "5"), ("path", "/"), ("columnid", str(COLUMN)),
                 ("sourceContentType", "1"), ("unitid", "77"), ("permissiontype", "0")]  # fmt: skip


def _items(portal: Portal, count: int, *, articles: bool = True) -> list[tuple[str, str]]:
    items = [(f"/art/2024/1/15/art_{COLUMN}_{n}.html", TITLE.format(1000 + n)) for n in range(count)]
    if articles:
        for n, (path, title) in enumerate(items):
            add_article(portal, path, Article("20240115", n, title))
    portal.add("/robots.txt", "", content_type="text/plain")
    return items


def _column(portal: Portal, count: int, method: str, *, articles: bool = True) -> str:
    items = _items(portal, count, articles=articles)
    return hanweb_jpage_column(portal, COLUMN, items, embedded=10, perpage=10, proxy_path=PROXY, form="records",
                               method=method)  # fmt: skip


def _proxy_calls(portal: Portal) -> list[Seen]:
    return [r for r in list(portal.requests) if r.path.startswith(PROXY + "?")]


def _discover(crawler: Crawler, entry: dict[str, Any], tmp_path: Path) -> DiscoveryLog:
    site = SiteRegistry.from_dict({"sites": [entry]}).sites[0]
    with build_client(site, crawler.settings) as client:
        fetcher = SiteFetcher(site=site, settings=crawler.settings, client=client, store=RawStore(tmp_path / "raw"),
                              state=None, limiter=crawler.limiter, robots=crawler.robots)  # fmt: skip
        ctx = DiscoveryContext(site, lambda url, kind, form=None: fetcher.get(url, kind=kind, form=form),
                               fetcher.host_ok, max_pages=500)  # fmt: skip
        discover(ctx)
    return ctx.log


# --- the crawl ------------------------------------------------------------------------------------------------


def test_post_only_proxy_column_of_40_is_crawled_completely(portal: Portal, crawler: Crawler) -> None:
    start = _column(portal, 40, "post_only")
    summary, published = crawler.run(site_entry(portal, start, family="hanweb_jpage"))
    assert (summary.announced, summary.found, summary.reports_found, len(published)) == (40, 40, 40, 40)
    assert summary.verdict.startswith("complete"), summary.verdict
    assert {urlsplit(m.url).path for m in published} == {f"/art/2024/1/15/art_{COLUMN}_{n}.html" for n in range(40)}

    calls = _proxy_calls(portal)
    assert [c.method for c in calls] == ["POST"] * 3  # records 11-20, 21-30, 31-40; 1-10 are embedded
    queries = [parse_qsl(urlsplit(c.path).query) for c in calls]
    assert queries == [[("startrecord", str(s)), ("endrecord", str(s + 9)), ("perpage", "10")] for s in (11, 21, 31)]
    assert all(parse_qsl(c.body.decode()) == EXPECTED_BODY for c in calls)
    assert all(c.headers["content-type"] == "application/x-www-form-urlencoded" for c in calls)
    assert all(c.headers["content-length"] == str(len(c.body)) for c in calls)

    # the fetch rows record the URL (start/end/perpage), not the form, and no validators for a POST
    rows = [r for r in crawler.fetch_rows() if r.url.startswith(portal.url(PROXY))]
    assert len(rows) == 3 and all("webid" not in r.url and r.outcome == "ok" and r.etag is None for r in rows)


def test_get_only_proxy_under_auto_falls_back_to_get_and_is_complete(
    portal: Portal, crawler: Crawler, tmp_path: Path
) -> None:
    start = _column(portal, 40, "get_only")
    summary, published = crawler.run(site_entry(portal, start, family="hanweb_jpage"))
    assert (summary.announced, summary.found, len(published)) == (40, 40, 40)
    assert summary.verdict.startswith("complete"), summary.verdict

    calls = _proxy_calls(portal)
    assert [c.method for c in calls] == ["POST", "GET", "GET", "GET"]  # one POST (405), then GET throughout
    got = [dict(parse_qsl(urlsplit(c.path).query)) for c in calls[1:]]
    assert [(q["startrecord"], q["endrecord"]) for q in got] == [("11", "20"), ("21", "30"), ("31", "40")]
    assert all(set(EXPECTED_BODY) <= set(q.items()) for q in got)  # every field in the query
    assert all(c.body == b"" for c in calls[1:])

    log = _discover(crawler, site_entry(portal, start, family="hanweb_jpage"), tmp_path)
    assert any("with HTTP 405: sending the records form as GET" in note for note in log.notes), log.notes
    refused = [v for v in log.visits if v.status == 405]
    assert len(refused) == 1 and (refused[0].note or "").startswith("probe")
    assert not log.incomplete and len(log.kept) == 40


def test_proxy_method_post_against_a_get_only_proxy_is_incomplete_with_the_405(
    portal: Portal, crawler: Crawler
) -> None:
    start = _column(portal, 40, "get_only")
    entry = site_entry(portal, start, family="hanweb_jpage", hanweb={"proxy_method": "post"})
    summary, published = crawler.run(entry)
    assert len(published) == 10  # the embedded records only
    assert summary.verdict.startswith("incomplete"), summary.verdict
    assert "found 10 of 40" in summary.verdict and "HTTP 405" in summary.verdict
    assert [c.method for c in _proxy_calls(portal)] == ["POST"]  # no fallback: the walk stopped at the failure


def test_proxy_method_get_sends_every_field_in_the_query(portal: Portal, crawler: Crawler) -> None:
    start = _column(portal, 25, "any")
    entry = site_entry(portal, start, family="hanweb_jpage", hanweb={"proxy_method": "get"})
    summary, published = crawler.run(entry)
    assert len(published) == 25 and summary.verdict.startswith("complete"), summary.verdict
    calls = _proxy_calls(portal)
    assert [c.method for c in calls] == ["GET", "GET"]
    assert all(set(EXPECTED_BODY) <= set(parse_qsl(urlsplit(c.path).query)) for c in calls)


def test_auto_does_not_fall_back_on_a_server_error(portal: Portal, crawler: Crawler) -> None:
    """Only 405/501 mean "not this method": a 500 on the first POST is a failed page, not a reason to GET."""
    items = _items(portal, 40, articles=False)
    start = hanweb_jpage_column(portal, COLUMN, items, embedded=10, perpage=10, proxy_path=PROXY, form="records",
                                fail={2: 500})  # fmt: skip
    summary, _ = crawler.run(site_entry(portal, start, family="hanweb_jpage"))
    assert summary.verdict.startswith("incomplete") and "HTTP 500" in summary.verdict, summary.verdict
    assert [c.method for c in _proxy_calls(portal)] == ["POST"]


# --- the HTTP layer -------------------------------------------------------------------------------------------


def _client() -> httpx.Client:
    return httpx.Client(
        transport=GuardedTransport(AddressPolicy(allow_loopback=True), limits=httpx.Limits(max_connections=4)),
        timeout=httpx.Timeout(10.0, connect=5.0),
        follow_redirects=False,
        trust_env=False,
    )


def _post(url: str, form: dict[str, str], *, host_ok: Any = lambda u: True) -> Any:
    with _client() as client:
        return http_get(client, url, kind="listing", headers={}, host_ok=host_ok, max_redirects=3,
                        max_bytes=1 << 20, deadline_s=10.0, form=form)  # fmt: skip


def _echo(seen: Seen) -> Response:
    return Response(200, f"{seen.method} {seen.body.decode()}".encode(), {"Content-Type": "text/plain"})


@pytest.mark.parametrize(("status", "method"), [(301, "GET"), (302, "GET"), (303, "GET"), (307, "POST"), (308, "POST")])
def test_redirect_after_post(portal: Portal, status: int, method: str) -> None:
    portal.handle("/dp", lambda seen: Response(status, b"", {"Location": "/moved?x=1"}))
    portal.handle("/moved", _echo)
    result = _post(portal.url("/dp"), {"webname": "模拟", "path": "/"})
    body = "webname=%E6%A8%A1%E6%8B%9F&path=%2F"  # UTF-8, percent-encoded
    assert result.status == 200 and result.method == method
    assert result.body.decode() == (f"POST {body}" if method == "POST" else "GET ")
    first, second = portal.requests
    assert (first.method, first.body.decode()) == ("POST", body)
    assert second.path == "/moved?x=1" and second.method == method
    assert ("content-type" in second.headers) == (method == "POST")


def test_form_over_the_cap_is_refused_before_anything_is_sent(portal: Portal) -> None:
    portal.handle("/dp", _echo)
    at_cap = {"x": "a" * (MAX_FORM_BYTES - 2)}  # "x=" + value: exactly the cap
    assert _post(portal.url("/dp"), at_cap).body == f"POST x={'a' * (MAX_FORM_BYTES - 2)}".encode()
    with pytest.raises(FetchRefused) as refused:
        _post(portal.url("/dp"), {"x": "a" * (MAX_FORM_BYTES - 1)})
    assert refused.value.reason == "form_too_large"
    # percent-encoding counts: 1 400 Chinese characters are 12 600 bytes encoded
    with pytest.raises(FetchRefused):
        _post(portal.url("/dp"), {"webname": "模" * 1400})
    assert len(portal.requests) == 1


def test_site_fetcher_refuses_a_huge_form_without_spending_budget(
    portal: Portal, crawler: Crawler, tmp_path: Path
) -> None:
    portal.handle("/dp", _echo)
    _items(portal, 0)
    site = SiteRegistry.from_dict({"sites": [site_entry(portal, "/dp", family="hanweb_jpage")]}).sites[0]
    with build_client(site, crawler.settings) as client:
        fetcher = SiteFetcher(site=site, settings=crawler.settings, client=client, store=RawStore(tmp_path / "raw"),
                              state=None, limiter=crawler.limiter, robots=crawler.robots)  # fmt: skip
        page = fetcher.get(portal.url("/dp"), kind="listing", form={"k": "v" * 100_000})
        assert page.outcome == "refused" and "form_too_large" in (page.error or "")
        assert fetcher.requests == 0 and portal.count("/dp") == 0


def test_post_redirected_off_site_is_refused(portal: Portal, crawler: Crawler, tmp_path: Path) -> None:
    port = portal.server.server_address[1]
    portal.handle("/dp", lambda seen: Response(307, b"", {"Location": f"http://localhost:{port}/steal"}))
    portal.handle("/steal", _echo)
    _items(portal, 0)
    site = SiteRegistry.from_dict({"sites": [site_entry(portal, "/dp", family="hanweb_jpage")]}).sites[0]
    with build_client(site, crawler.settings) as client:
        fetcher = SiteFetcher(site=site, settings=crawler.settings, client=client, store=RawStore(tmp_path / "raw"),
                              state=None, limiter=crawler.limiter, robots=crawler.robots)  # fmt: skip
        page = fetcher.get(portal.url("/dp"), kind="listing", form={"columnid": "1"})
    assert page.outcome == "refused" and "offsite_redirect" in (page.error or "") and page.status == 307
    assert portal.count("/steal") == 0
    with pytest.raises(FetchRefused) as refused:  # the HTTP layer alone, with a host rule of its own
        _post(portal.url("/dp"), {"columnid": "1"}, host_ok=lambda u: urlsplit(u).hostname == "127.0.0.1")
    assert refused.value.reason == "offsite_redirect" and portal.count("/steal") == 0


def test_a_post_is_never_conditional(portal: Portal, crawler: Crawler, tmp_path: Path) -> None:
    portal.add("/dp", "<datastore></datastore>", etag='"v1"')
    _items(portal, 0)
    site = SiteRegistry.from_dict({"sites": [site_entry(portal, "/dp", family="hanweb_jpage")]}).sites[0]
    state = CrawlState(crawler.settings.resolved_database_url())
    state.upsert_site(site)
    with build_client(site, crawler.settings) as client:
        fetcher = SiteFetcher(site=site, settings=crawler.settings, client=client, store=RawStore(tmp_path / "raw"),
                              state=state, limiter=crawler.limiter, robots=crawler.robots)  # fmt: skip
        assert fetcher.get(portal.url("/dp"), kind="listing").etag == '"v1"'  # a GET stores its validators
        posted = [fetcher.get(portal.url("/dp"), kind="listing", form={"page": "1"}) for _ in range(2)]
    assert [p.outcome for p in posted] == ["ok", "ok"] and all(p.body for p in posted)
    sent = [r for r in portal.requests if r.path == "/dp"]
    assert [r.method for r in sent] == ["GET", "POST", "POST"]
    assert all("if-none-match" not in r.headers and "if-modified-since" not in r.headers for r in sent[1:])
    rows = [r for r in crawler.fetch_rows() if r.url == portal.url("/dp")]
    assert [r.etag for r in rows] == ['"v1"', None, None]
