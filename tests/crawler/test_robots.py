"""robots.txt policy: rules obeyed, 4xx allows, 5xx/unreachable disallows for now, override needs reason."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest

from nianbao.crawler.robots import MAX_ROBOTS_BYTES, RobotsAnswer, RobotsCache, decode_robots
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


# --- RFC 9309 matching (protego) --------------------------------------------------------------------------


def _verdicts(robots: bytes | str, urls: list[str], *, agent: str = "nianbao") -> list[bool]:
    body = robots.encode() if isinstance(robots, str) else robots
    cache = RobotsCache(ttl_s=60, retry_s=60)
    return [cache.check(u, agent=agent, fetch=lambda _: RobotsAnswer(200, body)).allowed for u in urls]


def test_wildcards_and_end_anchor() -> None:
    robots = "User-agent: *\nDisallow: /*.pdf$\nDisallow: /gk/*/draft/\nDisallow: /tmp*x\n"
    urls = ["http://a.gov.cn/nb/2023.pdf",       # *.pdf$ matches
            "http://a.gov.cn/nb/2023.pdf?dl=1",  # $ anchors the end: the query makes it longer
            "http://a.gov.cn/nb/2023.pdfx",
            "http://a.gov.cn/gk/2023/draft/a.html",
            "http://a.gov.cn/gk/draft/a.html",   # * needs the two slashes around it
            "http://a.gov.cn/tmp/abcx.html",
            "http://a.gov.cn/tmp/abc.html"]
    assert _verdicts(robots, urls) == [False, True, True, False, True, False, True]


def test_longest_match_wins_whatever_the_order() -> None:
    # First-match parsers (urllib.robotparser) deny /nb/report.html here: Disallow comes first.
    robots = ("User-agent: *\nDisallow: /nb/\nAllow: /nb/report\nDisallow: /nb/report/secret\n"
              "Allow: /same\nDisallow: /same\n")
    urls = ["http://a.gov.cn/nb/report.html", "http://a.gov.cn/nb/other.html",
            "http://a.gov.cn/nb/report/secret/1.html", "http://a.gov.cn/same/x"]
    # the longest pattern decides; on equal length Allow wins (RFC 9309 2.2.2)
    assert _verdicts(robots, urls) == [True, False, False, True]


def test_wildcard_length_counts_for_precedence() -> None:
    robots = "User-agent: *\nAllow: /*/nb/*.html\nDisallow: /gk/\n"
    # "/*/nb/*.html" (12 chars) is longer than "/gk/" (4): the Allow wins where both match
    assert _verdicts(robots, ["http://a.gov.cn/gk/nb/1.html", "http://a.gov.cn/gk/nb/1.pdf"]) == [True, False]


def test_our_agent_group_wins_over_star_with_a_full_product_token() -> None:
    robots = "User-agent: *\nDisallow: /\n\nUser-agent: NianBao\nAllow: /\nDisallow: /x$\n"
    assert _verdicts(robots, ["http://a.gov.cn/nb/1.html", "http://a.gov.cn/x", "http://a.gov.cn/xy"]) == [
        True, False, True]
    assert _verdicts(robots, ["http://a.gov.cn/nb/1.html"], agent="otherbot") == [False]


def test_crawl_delay_is_read_and_capped() -> None:
    cache = RobotsCache(ttl_s=60, retry_s=60, max_crawl_delay_s=5)
    verdict = cache.check("http://a.gov.cn/", agent="nianbao",
                          fetch=lambda _: RobotsAnswer(200, b"User-agent: *\nCrawl-delay: 86400\n"))
    assert verdict.crawl_delay_s == 5


def test_wildcard_rules_obeyed_by_a_crawl(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", [REPORT, OTHER], per_page=2)
    portal.add("/robots.txt", "User-agent: *\nDisallow: /*/202401/*.html$\n", content_type="text/plain")
    _, published = crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    assert [m.url for m in published] == [portal.url("/zfxxgknb/" + OTHER.trs_path)]
    assert portal.count("/zfxxgknb/" + REPORT.trs_path) == 0


# --- one fetch per origin, across sites -------------------------------------------------------------------


def test_two_sites_on_one_origin_share_one_robots_fetch(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", [REPORT])
    build_trs(portal, "/bmnb/", [OTHER])
    # a slow robots.txt: both crawls ask for it while the first fetch is still in flight
    portal.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain", delay_s=0.4)
    first = site_entry(portal, "/zfxxgknb/index.html", id="sim-a")
    second = site_entry(portal, "/bmnb/index.html", id="sim-b")
    results: dict[str, int] = {}

    def crawl(entry: dict[str, Any]) -> None:
        _, published = crawler.run(entry)
        results[str(entry["id"])] = len(published)

    threads = [threading.Thread(target=crawl, args=(e,)) for e in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {"sim-a": 1, "sim-b": 1}
    assert portal.count("/robots.txt") == 1
    crawler.run(first)  # a later crawl of either site, inside the TTL, asks again for nothing
    crawler.run(second)
    assert portal.count("/robots.txt") == 1


def test_cache_is_per_origin_not_per_host() -> None:
    calls: list[str] = []

    def fetch(url: str) -> RobotsAnswer:
        calls.append(url)
        return RobotsAnswer(404)

    cache = RobotsCache(ttl_s=60, retry_s=60)
    for url in ("http://a.gov.cn/1", "http://A.gov.cn/2", "https://a.gov.cn/3", "http://a.gov.cn:8080/4"):
        cache.check(url, agent="nianbao", fetch=fetch)
    assert calls == ["http://a.gov.cn/robots.txt", "https://a.gov.cn/robots.txt", "http://a.gov.cn:8080/robots.txt"]


def test_ttl_expiry_refetches() -> None:
    calls: list[str] = []

    def fetch(url: str) -> RobotsAnswer:
        calls.append(url)
        return RobotsAnswer(200, b"User-agent: *\nAllow: /\n")

    cache = RobotsCache(ttl_s=0.2, retry_s=60)
    cache.check("http://a.gov.cn/1", agent="nianbao", fetch=fetch)
    cache.check("http://a.gov.cn/2", agent="nianbao", fetch=fetch)
    time.sleep(0.25)
    cache.check("http://a.gov.cn/3", agent="nianbao", fetch=fetch)
    assert len(calls) == 2


# --- hostile robots.txt -----------------------------------------------------------------------------------


def test_huge_robots_is_cut_at_500_kib() -> None:
    filler = b"".join(b"Disallow: /filler/%d/\n" % i for i in range(200_000))  # ~5 MB
    body = b"User-agent: *\nDisallow: /early/\n" + filler + b"Disallow: /late/\n"
    assert len(body) > 2 * MAX_ROBOTS_BYTES
    start = time.perf_counter()
    verdicts = _verdicts(body, ["http://a.gov.cn/early/x", "http://a.gov.cn/late/x", "http://a.gov.cn/filler/7/"])
    elapsed = time.perf_counter() - start
    # a rule past the first 500 KiB is not read (RFC 9309 asks for at least 500 KiB)
    assert verdicts == [False, True, False]
    assert elapsed < 3.0


def test_one_huge_line_is_cut_too() -> None:
    body = b"User-agent: *\nDisallow: /" + b"x" * (5 * 1024 * 1024)  # 5 MB, no line end after the rule
    start = time.perf_counter()
    assert _verdicts(body, ["http://a.gov.cn/x", "http://a.gov.cn/nb/"]) == [True, True]
    assert time.perf_counter() - start < 3.0


def test_binary_robots_does_not_crash_and_keeps_readable_rules() -> None:
    rng = random.Random(11)
    noise = bytes(rng.randrange(256) for _ in range(50_000))
    body = noise + b"\nUser-agent: *\nDisallow: /private/\n" + noise.replace(b"\n", b" ") + b"\x00\xff\xfe"
    assert _verdicts(body, ["http://a.gov.cn/private/1", "http://a.gov.cn/public/1"]) == [False, True]


def test_gbk_robots_is_read() -> None:
    body = "# 本网站的爬虫规则（GBK 编码）\nUser-agent: *\nDisallow: /内部/\nDisallow: /tmp/\n".encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert decode_robots(body).startswith("# 本网站的爬虫规则")
    assert _verdicts(body, ["http://a.gov.cn/tmp/x", "http://a.gov.cn/内部/x", "http://a.gov.cn/nb/x"]) == [
        False, False, True]


def test_ten_thousand_lines_take_linear_time() -> None:
    def lines(n: int) -> bytes:
        rules = "".join(f"Disallow: /*a*{i}*b$\nAllow: /p{i}/*\n" for i in range(n // 2))
        return f"User-agent: *\n{rules}".encode()

    url = "http://a.gov.cn/" + "a" * 2000 + "c.html"  # many near-matches for every wildcard rule

    def cost(n: int) -> float:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            _verdicts(lines(n), [url] * 5)
            best = min(best, time.perf_counter() - start)
        return best

    small, large = cost(2_500), cost(10_000)
    assert large < 2.0  # 10 000 lines: parsed and 5 URLs checked in well under a second here
    assert large / small < 4 * 2.5  # 4× the lines cost about 4× (a quadratic parser would be ~16×)


def test_parse_failure_means_no_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    from protego import Protego

    def broken(_: str) -> Protego:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(Protego, "parse", staticmethod(broken))
    verdict = RobotsCache(ttl_s=60, retry_s=60).check(
        "http://a.gov.cn/x", agent="nianbao", fetch=lambda _: RobotsAnswer(200, b"User-agent: *\nDisallow: /\n"))
    assert (verdict.allowed, verdict.reason) == (True, "no_robots")
