"""robots.txt policy: rules obeyed, 4xx allows, 5xx/unreachable disallows for now, override needs reason."""

from __future__ import annotations

import time

import pytest

from nianbao.crawler.robots import RobotsAnswer, RobotsCache
from nianbao.shared.errors import PermanentError, TransientError

from .conftest import Crawler, site_entry
from .portal import Article, Portal, Response, build_trs

REPORT = Article("20240115", 1, "2023年度政府信息公开工作年度报告")
OTHER = Article("20230115", 2, "2022年度政府信息公开工作年度报告")


def test_cache_policy_by_status() -> None:
    calls: list[str] = []
    answers = {"http://a.gov.cn": RobotsAnswer(200, b"User-agent: *\nDisallow: /private/\n"),
               "http://b.gov.cn": RobotsAnswer(404), "http://c.gov.cn": RobotsAnswer(503),
               "http://d.gov.cn": RobotsAnswer(None),
               "http://e.gov.cn": RobotsAnswer(200, b"User-agent: nianbao\nDisallow: /\n\nUser-agent: *\nAllow: /\n")}

    def fetch(url: str) -> RobotsAnswer:
        calls.append(url)
        return answers[url.removesuffix("/robots.txt")]

    cache = RobotsCache(ttl_s=60, retry_s=0.2)
    check = lambda url: cache.check(url, agent="nianbao", fetch=fetch)  # noqa: E731
    assert check("http://a.gov.cn/private/x.html").allowed is False
    assert check("http://a.gov.cn/nb/x.html").allowed is True
    assert check("http://b.gov.cn/x").reason == "no_robots"
    assert (check("http://c.gov.cn/x").allowed, check("http://c.gov.cn/x").reason) == (False, "unavailable")
    assert check("http://d.gov.cn/x").allowed is False
    assert check("http://e.gov.cn/x").allowed is False  # our own agent group wins over *
    assert calls.count("http://a.gov.cn/robots.txt") == 1  # cached
    time.sleep(0.25)
    check("http://c.gov.cn/x")
    assert calls.count("http://c.gov.cn/robots.txt") == 2  # an unavailable answer is retried later


def test_disallowed_report_pages_are_skipped_and_recorded(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", [REPORT, OTHER], per_page=2)
    portal.add("/robots.txt", "User-agent: *\nDisallow: /zfxxgknb/202401/\n", content_type="text/plain")
    summary, published = crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    assert [m.url.endswith(OTHER.trs_path) for m in published] == [True]
    assert portal.count("/zfxxgknb/" + REPORT.trs_path) == 0
    denied = [r for r in crawler.fetch_rows() if r.outcome == "robots_denied"]
    assert len(denied) == 1 and summary.errors == 1


def test_robots_fetched_once_per_origin_across_runs(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", [REPORT])
    entry = site_entry(portal, "/zfxxgknb/index.html")
    crawler.run(entry)
    crawler.run(entry)
    assert portal.count("/robots.txt") == 1


def test_disallowed_column_is_a_permanent_failure(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", [REPORT])
    portal.add("/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
    with pytest.raises(PermanentError, match="robots_denied"):
        crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    assert portal.paths() == ["/robots.txt"]


def test_robots_server_error_disallows_for_now(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", [REPORT])
    portal.routes["/robots.txt"] = Response(500, b"oops")
    with pytest.raises(TransientError, match="robots_unavailable"):
        crawler.run(site_entry(portal, "/zfxxgknb/index.html"))


def test_missing_robots_allows_everything(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", [REPORT])
    del portal.routes["/robots.txt"]
    summary, _ = crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    assert summary.fetched == 1


def test_ignore_with_reason_skips_robots(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", [REPORT])
    portal.add("/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
    entry = site_entry(portal, "/zfxxgknb/index.html", politeness={
        "min_delay_s": 0, "jitter_s": 0, "robots": "ignore",
        "robots_reason": "statutory disclosure column; operator confirmed with the site office"})
    summary, _ = crawler.run(entry)
    assert summary.fetched == 1 and portal.count("/robots.txt") == 0


def test_crawl_delay_raises_the_spacing(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", [REPORT])
    portal.add("/robots.txt", "User-agent: *\nCrawl-delay: 1\n", content_type="text/plain")
    crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    listing, page = (r for r in portal.requests if r.path != "/robots.txt")
    assert page.at - listing.at >= 0.95
