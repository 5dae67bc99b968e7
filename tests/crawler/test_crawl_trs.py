"""Crawling a simulated TRS portal over real HTTP: discovery, filters, incremental re-crawls, records."""

from __future__ import annotations

import pytest
from sqlmodel import select

from nianbao.shared.db import session_scope
from nianbao.shared.models import Site

from .conftest import Crawler, site_entry
from .portal import Article, Portal, build_trs, trs_listing

ARTICLES = [
    Article("20240115", 1001, "某市水利局2023年度政府信息公开工作年度报告"),
    Article("20240120", 1002, "某市民政局2023年政府信息公开工作年度报告"),
    Article("20230130", 903, "某市水利局2022年度政府信息公开工作年度报告"),
    Article("20230210", 904, "2022年度某街道信息公开工作报告"),
    Article("20220125", 801, "某市水利局2021年度政府信息公开工作年度报告", encoding="gbk", meta_only_charset=True),
]
NOISE = [
    ("./202401/t20240101_1.html", "关于做好2023年政府信息公开工作年度报告有关事项的通知"),
    ("./202401/t20240102_2.html", "某市人民政府网站2023年工作年度报表"),
    ("../zcwj/202401/t20240103_3.html", "2024年政府工作报告"),
]


@pytest.mark.parametrize("page2", [1, 2])
def test_full_crawl_walks_every_page_and_keeps_only_reports(portal: Portal, crawler: Crawler, page2: int) -> None:
    build_trs(portal, "/zfxxgknb/", ARTICLES, per_page=2, page2=page2, extra_titles=NOISE)
    summary, published = crawler.run(site_entry(portal, "/zfxxgknb/index.html"))

    assert summary.pages_listed == 3
    assert summary.reports_found == 5
    assert summary.fetched == 5 and summary.published == 5 and summary.errors == 0
    assert {m.url for m in published} == {portal.url("/zfxxgknb/" + a.trs_path) for a in ARTICLES}
    assert {m.title_hint for m in published} == {a.title for a in ARTICLES}
    # noise titles were never fetched
    assert not any("t2024010" in p for p in portal.paths())
    # page 2 was found at the right file: with index_2 numbering, the index_1 probe 404s first
    listing = [p.rsplit("/", 1)[1] for p in portal.paths() if "/index" in p]
    if page2 == 1:
        assert listing == ["index.html", "index_1.html", "index_2.html"]
    else:
        assert listing == ["index.html", "index_1.html", "index_2.html", "index_3.html"]
    # each report page fetched exactly once
    for article in ARTICLES:
        assert portal.count("/zfxxgknb/" + article.trs_path) == 1


def test_fetched_pages_are_stored_recorded_and_described(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", ARTICLES[:1] + ARTICLES[4:], per_page=5)
    _, published = crawler.run(site_entry(portal, "/zfxxgknb/index.html"))

    gbk = next(m for m in published if "801" in m.url)
    raw = crawler.store.get(gbk.raw_key)
    assert "政府信息公开".encode("gbk") in raw  # bytes stored untouched
    assert gbk.http_charset is None and gbk.media_type == "text/html"
    utf8 = next(m for m in published if "1001" in m.url)
    assert utf8.http_charset == "utf-8"

    rows = crawler.fetch_rows()
    kinds = [r.kind for r in rows]
    assert kinds.count("robots") == 1 and kinds.count("listing") == 1 and kinds.count("page") == 2
    page_rows = [r for r in rows if r.kind == "page"]
    assert all(
        r.outcome == "ok"
        and r.status_code == 200
        and r.bytes
        and r.elapsed_ms is not None
        and r.raw_key == r.content_sha256
        for r in page_rows
    )
    with session_scope(crawler.settings.resolved_database_url()) as session:
        site = session.exec(select(Site)).one()
    assert (site.id, site.family) == ("sim", "trs")
    assert site.config["allowed_hosts"] == ["127.0.0.1"]


def test_user_agent_is_identifiable(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", ARTICLES[:1])
    crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    agents = {r.headers.get("user-agent") for r in portal.requests}
    assert agents == {f"nianbao/0.1 (+{crawler.settings.contact_url})"}


def test_second_run_uses_conditional_get_and_hashes(portal: Portal, crawler: Crawler) -> None:
    # two pages send ETags (→ 304), the rest do not (→ same hash = unchanged)
    build_trs(portal, "/zfxxgknb/", ARTICLES[:4], per_page=4, etags=True)
    for article in ARTICLES[2:4]:
        route = portal.routes["/zfxxgknb/" + article.trs_path]
        route.etag = None  # type: ignore[union-attr]
    entry = site_entry(portal, "/zfxxgknb/index.html")
    first, _ = crawler.run(entry)
    assert first.fetched == 4

    second, published = crawler.run(entry)
    assert (second.not_modified, second.unchanged, second.fetched, second.published) == (2, 2, 0, 0)
    assert published == []
    conditional = [r for r in portal.requests if r.headers.get("if-none-match")]
    assert {r.headers["if-none-match"] for r in conditional} == {'"1001"', '"1002"'}
    rows = [r for r in crawler.fetch_rows() if r.kind == "page"]
    assert sorted(r.outcome for r in rows[-4:]) == ["not_modified", "not_modified", "unchanged", "unchanged"]
    # a 304 row keeps the validators and hash it confirmed
    not_modified = [r for r in rows[-4:] if r.outcome == "not_modified"]
    assert all(r.etag and r.content_sha256 and r.raw_key for r in not_modified)


def test_changed_page_is_published_again(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", ARTICLES[:2], per_page=2)
    entry = site_entry(portal, "/zfxxgknb/index.html")
    crawler.run(entry)
    corrected = "<html><body>更正后的报告 <table><tr><td>第二十条第（一）项</td></tr></table></body></html>"
    portal.add("/zfxxgknb/" + ARTICLES[0].trs_path, corrected)
    summary, published = crawler.run(entry)
    assert (summary.fetched, summary.unchanged, summary.published) == (1, 1, 1)
    assert published[0].url.endswith(ARTICLES[0].trs_path)


def test_force_refetches_without_validators_and_publishes_all(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", ARTICLES[:3], per_page=3, etags=True)
    entry = site_entry(portal, "/zfxxgknb/index.html")
    crawler.run(entry)
    before = len(portal.requests)
    summary, published = crawler.run(entry, force=True)
    assert summary.published == 3 and len(published) == 3
    assert not any(r.headers.get("if-none-match") for r in portal.requests[before:])
    assert all(r.forced for r in crawler.fetch_rows()[-3:])


@pytest.mark.parametrize(
    "past_end",
    [
        ("meta refresh", '<html><head><meta http-equiv="refresh" content="0;url=./"></head></html>'),
        ("stub", "<html><body></body></html>"),
    ],
)
def test_paging_stops_on_past_the_end_pages(portal: Portal, crawler: Crawler, past_end: tuple[str, str]) -> None:
    # the page script claims 40 pages, but only two exist; deeper pages are stubs or refresh to ./
    portal.add("/gknb/index.html", trs_listing([("./202401/t20240115_1.html", ARTICLES[0].title)], pages=40, current=0))
    portal.add(
        "/gknb/index_1.html", trs_listing([("./202401/t20240120_2.html", ARTICLES[1].title)], pages=40, current=1)
    )
    portal.add("/gknb/index_2.html", past_end[1])
    portal.add("/robots.txt", "", content_type="text/plain")
    summary, _ = crawler.run(site_entry(portal, "/gknb/index.html"))
    assert summary.pages_listed == 3 and summary.reports_found == 2
    assert not any(p.startswith("/gknb/index_3") for p in portal.paths())


def test_page_cap_limits_listing_pages(portal: Portal, crawler: Crawler) -> None:
    articles = [Article("20240115", 2000 + i, f"第{i}单位2023年度政府信息公开工作年度报告") for i in range(10)]
    build_trs(portal, "/zfxxgknb/", articles, per_page=1)
    entry = site_entry(
        portal, "/zfxxgknb/index.html", politeness={"min_delay_s": 0, "jitter_s": 0, "max_pages_per_run": 3}
    )
    summary, _ = crawler.run(entry)
    assert summary.pages_listed == 3 and summary.reports_found == 3


def test_wap_twin_and_duplicates_are_fetched_once(portal: Portal, crawler: Crawler) -> None:
    article = ARTICLES[0]
    wap = article.trs_path.replace(".html", "_wap.html")
    portal.add(
        "/zfxxgknb/index.html",
        trs_listing(
            [
                (f"./{article.trs_path}", article.title),
                (f"./{wap}", article.title),
                (f"./{article.trs_path}?from=timeline", article.title),
            ],
            pages=1,
            current=0,
        ),
    )
    build_trs(portal, "/other/", [article])  # serves the article page and robots.txt
    portal.add("/zfxxgknb/" + article.trs_path, portal.routes["/other/" + article.trs_path].body)  # type: ignore[union-attr]
    summary, published = crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    assert summary.reports_found == 1 and len(published) == 1
    assert portal.count("/zfxxgknb/" + wap) == 0


def test_year_range_filter(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", ARTICLES[:4], per_page=4)
    entry = site_entry(portal, "/zfxxgknb/index.html", filters={"year_range": [2023, None]})
    summary, published = crawler.run(entry)
    assert summary.reports_found == 2
    assert all("2023年" in (m.title_hint or "") for m in published)


def test_gbk_listing_with_only_meta_charset(portal: Portal, crawler: Crawler) -> None:
    html = trs_listing([(f"./{a.trs_path}", a.title) for a in ARTICLES[:2]], pages=1, current=0)
    portal.add(
        "/zfxxgknb/index.html",
        html.replace("charset='utf-8'", "charset='gb2312'"),
        encoding="gbk",
        content_type="text/html",
    )
    build_trs(portal, "/x/", ARTICLES[:2])  # article pages and robots.txt
    for article in ARTICLES[:2]:
        portal.routes["/zfxxgknb/" + article.trs_path] = portal.routes["/x/" + article.trs_path]
    _, published = crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    assert sorted(m.title_hint or "" for m in published) == sorted(a.title for a in ARTICLES[:2])


def test_not_modified_listing_is_read_from_the_raw_store(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", ARTICLES[:2], per_page=2)
    portal.routes["/zfxxgknb/index.html"].last_modified = "Mon, 15 Jan 2024 08:00:00 GMT"  # type: ignore[union-attr]
    entry = site_entry(portal, "/zfxxgknb/index.html")
    crawler.run(entry)
    summary, _ = crawler.run(entry)
    listing = [r for r in crawler.fetch_rows() if r.kind == "listing"]
    assert listing[-1].outcome == "not_modified"
    asked = [r for r in portal.requests if r.path == "/zfxxgknb/index.html"]
    assert [r.headers.get("if-modified-since") for r in asked] == [None, "Mon, 15 Jan 2024 08:00:00 GMT"]
    assert summary.pages_listed == 1 and summary.reports_found == 2 and summary.unchanged == 2


def test_start_url_behind_a_redirect_shell(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgk/zfxxgknb/", ARTICLES[:1])
    portal.add("/zfxxgk/", "<html><script>window.location.replace('./zfxxgknb/index.html')</script></html>")
    summary, _ = crawler.run(site_entry(portal, "/zfxxgk/"))
    assert summary.reports_found == 1 and summary.fetched == 1


def test_request_budget_caps_a_run(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", ARTICLES, per_page=5)
    crawler.settings.max_requests_per_run = 4  # robots.txt, listing, two pages
    summary, published = crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    assert len(portal.requests) == 4 and len(published) == 2
    assert summary.errors == 3 and summary.reports_found == 5


def test_a_report_already_stored_from_another_url_is_not_handed_on_twice(portal: Portal, crawler: Crawler) -> None:
    page = (
        "<html><head><meta charset='utf-8'><title>某县2023年度政府信息公开工作年度报告</title></head><body>"
        "<div class='TRS_Editor'>第二十条第（一）项 本列数据的勾稽关系 收到和处理政府信息公开申请情况</div>"
        "</body></html>"
    )
    title = "某县2023年度政府信息公开工作年度报告"
    # The same report under its old path and, after a site move, under a new one.
    portal.add("/zfxxgknb/202401/t20240115_1.html", page)
    portal.add("/zfxxgknb/202401/t20240115_2.html", page)
    portal.add("/robots.txt", "", content_type="text/plain")
    portal.add("/zfxxgknb/index.html", trs_listing([("./202401/t20240115_1.html", title)], pages=1, current=0))
    first, _ = crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    assert (first.published, first.duplicates) == (1, 0)
    portal.add("/zfxxgknb/index.html", trs_listing([("./202401/t20240115_2.html", title)], pages=1, current=0))
    second, published_again = crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    assert (second.fetched, second.duplicates, second.published) == (1, 1, 0)
    assert published_again == []
