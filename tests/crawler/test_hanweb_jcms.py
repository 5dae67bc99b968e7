"""Hanweb JCMS discovery over real HTTP: the data proxy named by ``<nextgroup>`` (under a non-root path), its
perpage and total read from the column page, both proxy forms, long columns, a failing proxy page recorded
as an incomplete crawl, and the sites.yaml perpage override."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from nianbao.crawler.client import build_client
from nianbao.crawler.discovery import DiscoveryContext, DiscoveryLog, discover
from nianbao.crawler.fetching import SiteFetcher
from nianbao.crawler.sites import SiteRegistry
from nianbao.shared.rawstore import RawStore

from .conftest import Crawler, site_entry
from .portal import Article, Portal, add_article, hanweb_jpage_column

TITLE = "某单位{}年度政府信息公开工作年度报告"
PROXY = "/zwgk/module/web/jpage/dataproxy.jsp"  # not at the host root: only <nextgroup> says where it is


def _items(portal: Portal, count: int, *, articles: bool = True) -> list[tuple[str, str]]:
    items = [(f"/art/2024/1/15/art_4411_{n}.html", TITLE.format(1000 + n)) for n in range(count)]
    if articles:
        for n, (path, title) in enumerate(items):
            add_article(portal, path, Article("20240115", n, title))
    portal.add("/robots.txt", "", content_type="text/plain")
    return items


def _discover(crawler: Crawler, entry: dict[str, Any], tmp_path: Path) -> DiscoveryLog:
    """Discovery alone (no report fetches), with a page cap above the walk's length."""
    site = SiteRegistry.from_dict({"sites": [entry]}).sites[0]
    with build_client(site, crawler.settings) as client:
        fetcher = SiteFetcher(site=site, settings=crawler.settings, client=client, store=RawStore(tmp_path / "raw"),
                              state=None, limiter=crawler.limiter, robots=crawler.robots)  # fmt: skip
        get = lambda url, kind, form=None: fetcher.get(url, kind=kind, form=form)  # noqa: E731
        ctx = DiscoveryContext(site, get, fetcher.host_ok, max_pages=500)
        discover(ctx)
    return ctx.log


def _proxy_queries(portal: Portal) -> list[dict[str, str]]:
    """The fields of each proxy call: query plus a POST's body (the records form is POSTed by default)."""
    return [
        {k: v[0] for k, v in parse_qs(r.body.decode() + "&" + urlsplit(r.path).query).items()}
        for r in list(portal.requests)
        if r.path.startswith(PROXY + "?")
    ]


@pytest.mark.parametrize("form", ["page", "records"])
def test_column_of_13_perpage_3_finds_all(portal: Portal, crawler: Crawler, form: str) -> None:
    items = _items(portal, 13)
    start = hanweb_jpage_column(portal, 4411, items, embedded=3, perpage=3, proxy_path=PROXY, form=form)
    summary, published = crawler.run(site_entry(portal, start, family="hanweb_jpage"))
    assert summary.reports_found == 13 and len(published) == 13
    queries = _proxy_queries(portal)
    assert {q["perpage"] for q in queries} == {"3"}
    assert all(q["webid"] == "5" and q["unitid"] == "77" and q["columnid"] == "4411" for q in queries)
    if form == "page":
        assert [q["page"] for q in queries] == ["2", "3", "4", "5"]
        assert all(q["webname"] == "模拟" for q in queries)  # the <nextgroup> parameters are carried over
    else:
        assert [(q["startrecord"], q["endrecord"]) for q in queries] == [("4", "6"), ("7", "9"), ("10", "12"),
                                                                        ("13", "13")]  # fmt: skip
        assert all(q["col"] == "1" and q["sourceContentType"] == "1" for q in queries)
    assert portal.count("/module/web/jpage/dataproxy.jsp") == 0


@pytest.mark.parametrize(
    "script",
    ["var totalRecord = 13; var perPage = 3;", "$('#4411').jpage({'totalRecord':'13','perPage':'3',groupSize:3})"],
)
def test_jpage_script_variants(portal: Portal, crawler: Crawler, tmp_path: Path, script: str) -> None:
    items = _items(portal, 13, articles=False)
    start = hanweb_jpage_column(portal, 4411, items, embedded=3, perpage=3, proxy_path=PROXY, script=script)
    log = _discover(crawler, site_entry(portal, start, family="hanweb_jpage"), tmp_path)
    assert len(log.kept) == 13 and not log.incomplete
    assert {q["perpage"] for q in _proxy_queries(portal)} == {"3"}


@pytest.mark.parametrize("form", ["page", "records"])
def test_long_column_is_read_to_the_end(portal: Portal, crawler: Crawler, tmp_path: Path, form: str) -> None:
    items = _items(portal, 527, articles=False)
    start = hanweb_jpage_column(portal, 4411, items, embedded=20, perpage=20, proxy_path=PROXY, form=form)
    log = _discover(crawler, site_entry(portal, start, family="hanweb_jpage"), tmp_path)
    assert len(_proxy_queries(portal)) == 26  # records 21..527 at 20 a page
    assert len(log.kept) == 527 and not log.incomplete
    assert {c.url.rsplit("_", 1)[1] for c in log.kept} == {f"{n}.html" for n in range(527)}
    assert any("read all 527 records" in note for note in log.notes)


@pytest.mark.parametrize("status", [404, 500])
def test_failing_proxy_page_is_an_incomplete_crawl(
    portal: Portal, crawler: Crawler, tmp_path: Path, status: int
) -> None:
    items = _items(portal, 13, articles=False)
    start = hanweb_jpage_column(portal, 4411, items, embedded=3, perpage=3, proxy_path=PROXY, fail={3: status})
    log = _discover(crawler, site_entry(portal, start, family="hanweb_jpage"), tmp_path)
    assert len(log.kept) == 6  # embedded 3 + page 2; page 3 failed, so the walk stopped there
    [shortfall] = log.incomplete
    assert (shortfall.found, shortfall.expected) == (6, 13)
    assert shortfall.start_url == portal.url(start) and str(status) in shortfall.reason
    assert any(note.startswith("incomplete: found 6 of 13 records") for note in log.notes)


def test_empty_proxy_pages_before_the_total_are_not_the_end(portal: Portal, crawler: Crawler, tmp_path: Path) -> None:
    items = _items(portal, 13, articles=False)
    start = hanweb_jpage_column(portal, 4411, items[:9], embedded=3, perpage=3, proxy_path=PROXY,
                                script="new jpage({totalRecord:13, perpage:3})")  # fmt: skip
    log = _discover(crawler, site_entry(portal, start, family="hanweb_jpage"), tmp_path)
    # the proxy holds 9 records: page 4 is empty and page 5 too, yet both were asked for
    assert [q["page"] for q in _proxy_queries(portal)] == ["2", "3", "4", "5"]
    assert len(log.kept) == 9
    [shortfall] = log.incomplete
    assert (shortfall.found, shortfall.expected) == (9, 13)
    assert any("0 of 3 records before the total 13" in note for note in log.notes)


def test_sites_yaml_perpage_overrides_the_page(portal: Portal, crawler: Crawler, tmp_path: Path) -> None:
    items = _items(portal, 13, articles=False)
    start = hanweb_jpage_column(portal, 4411, items, embedded=3, perpage=3, proxy_path=PROXY)
    entry = site_entry(portal, start, family="hanweb_jpage", hanweb={"perpage": 5})
    log = _discover(crawler, entry, tmp_path)
    queries = _proxy_queries(portal)
    assert {q["perpage"] for q in queries} == {"5"}
    assert [q["page"] for q in queries] == ["1", "2", "3"]  # page 1 (5 records) overlaps the 3 embedded
    assert len(log.kept) == 13 and not log.incomplete
    assert any("perpage 5 from sites.yaml (the page says 3)" in note for note in log.notes)


def test_sites_yaml_proxy_form_overrides(portal: Portal, crawler: Crawler, tmp_path: Path) -> None:
    items = _items(portal, 13, articles=False)
    start = hanweb_jpage_column(portal, 4411, items, embedded=3, perpage=3, proxy_path=PROXY, form="records")
    route = portal.routes[start]
    assert not callable(route)
    portal.add(start, route.body.replace(b"startrecord=1&endrecord=9&", b""), content_type="text/html; charset=utf-8")
    entry = site_entry(portal, start, family="hanweb_jpage", hanweb={"proxy_form": "records"})
    log = _discover(crawler, entry, tmp_path)
    assert len(log.kept) == 13 and all("startrecord" in q for q in _proxy_queries(portal))


def test_incomplete_column_is_a_problem_for_sites_check_and_in_the_crawl_summary(
    portal: Portal, crawler: Crawler
) -> None:
    from nianbao.crawler.sitecheck import check_site

    items = _items(portal, 13)
    start = hanweb_jpage_column(portal, 4411, items, embedded=3, perpage=3, proxy_path=PROXY, fail={2: 500})
    entry = site_entry(portal, start, family="hanweb_jpage")
    site = SiteRegistry.from_dict({"sites": [entry]}).sites[0]
    report = check_site(site, crawler.settings, limiter=crawler.limiter, robots=crawler.robots)
    assert not report.ok and report.render().endswith("; needs attention")
    assert any(p.startswith("incomplete (found 3 of 13 announced)") for p in report.problems), report.problems

    summary, published = crawler.run(entry)
    assert len(published) == 3  # the embedded records still go on
    [line] = summary.incomplete
    assert "found 3 of 13" in line and "HTTP 500" in line and "INCOMPLETE" in str(summary)


def test_sampled_dry_run_of_a_long_column_is_not_called_incomplete(portal: Portal, crawler: Crawler) -> None:
    from nianbao.crawler.sitecheck import check_site

    items = _items(portal, 40, articles=False)
    start = hanweb_jpage_column(portal, 4411, items, embedded=3, perpage=3, proxy_path=PROXY)
    site = SiteRegistry.from_dict({"sites": [site_entry(portal, start, family="hanweb_jpage")]}).sites[0]
    report = check_site(site, crawler.settings, limiter=crawler.limiter, robots=crawler.robots)
    assert not any(p.startswith("incomplete") for p in report.problems), report.render()
