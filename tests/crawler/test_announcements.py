"""How discovery reads what a column announces (page scripts, pager text, VSB links, JSON totals, gov.cn feed
links), and hostile announcements: absurd page counts, totals that are not numbers, nested or truncated JSON,
a feed on another host, counts inside report titles."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from nianbao.crawler.discovery.apis import _count, feed_url
from nianbao.crawler.discovery.listing import _vsb_pages, stated_pages, stated_records, template_of

from .conftest import Crawler, site_entry
from .portal import Portal, trs_listing
from .test_large_columns import _discover

BASE = "http://www.gov.cn/zhengce/xxgk/nb/home.htm"


def test_page_scripts() -> None:
    trs = template_of('<script>createPageHTML(26, 0, "index", "shtml");</script>', "http://a.gov.cn/nb/index.shtml")
    assert trs is not None and (trs.prefix, trs.ext, trs.total, trs.records) == ("index", "shtml", 26, None)
    govcn = template_of("<script>createPageHTML('page_div', 26, 1, 'home', 'htm', 516);</script>", BASE)
    assert govcn is not None and (govcn.prefix, govcn.ext, govcn.total, govcn.records) == ("home", "htm", 26, 516)
    assert govcn.url(3) == "http://www.gov.cn/zhengce/xxgk/nb/home_3.htm"
    old = template_of("<script>var countPage = 7;</script>", "http://a.gov.cn/nb/")
    assert old is not None and (old.prefix, old.total) == ("index", 7)


def test_pager_links_give_the_template_and_the_last_page() -> None:
    pager = '<a href="home_1.htm">下一页</a><a href="home_25.htm">尾页</a><a href="../other_3.htm">x</a>'
    found = template_of(pager, BASE)
    assert found is not None and (found.prefix, found.ext, found.total, found.source) == (
        "home",
        "htm",
        26,
        "pager links",
    )
    no_last = template_of('<a href="home_1.htm">下一页</a>', BASE)
    assert no_last is not None and no_last.total is None
    assert template_of('<a href="/zhengce/content/202401/content_1.htm">报告</a>', BASE) is None


@pytest.mark.parametrize(
    ("html", "records", "pages"),
    [
        ("<div>共517条 每页20条</div>", 517, None),
        ("<span>共<b>517</b>条</span><span>共26页</span>", 517, 26),
        ("<span class='p_t'>1/26</span>", None, 26),
        ("<div>第1/26页</div>", None, 26),
        # counts inside link text (a report title) and dates are not pager statements
        ('<a href="x.htm">关于共12条意见的2023年度报告</a><span>2024/1/15</span>', None, None),
        ("<div>共99999999条</div>", None, None),  # more digits than any column: not a count
    ],
)
def test_pager_text(html: str, records: int | None, pages: int | None) -> None:
    assert stated_records(html) == records
    assert stated_pages(html) == pages


def test_vsb_counts_its_pages_backwards() -> None:
    assert _vsb_pages("http://a.gov.cn/nb.htm", "http://a.gov.cn/nb/25.htm") == 26
    assert _vsb_pages("http://a.gov.cn/nb.htm", "http://a.gov.cn/nb/list_2.htm") is None
    assert _vsb_pages("http://a.gov.cn/nb.htm", "http://a.gov.cn/other/25.htm") is None


def test_feed_links() -> None:
    assert feed_url('<script>$.getJSON("./NIANBAO.json", f)</script>', BASE) == (
        "http://www.gov.cn/zhengce/xxgk/nb/NIANBAO.json"
    )
    assert feed_url("<a href='/zhengce/zuixin/ZUIXINZHENGCE.json?v=2'>", BASE) == (
        "http://www.gov.cn/zhengce/zuixin/ZUIXINZHENGCE.json"
    )
    assert feed_url('<a href="home_1.htm">下一页</a>', BASE) is None


@pytest.mark.parametrize(("value", "count"), [(12, 12), ("12", 12), (" 7 ", 7), (True, None), (-5, None),
                                              ("abc", None), (3.5, None), (None, None), ([1], None)])  # fmt: skip
def test_json_totals(value: object, count: int | None) -> None:
    assert _count(value) == count


# --- hostile columns over HTTP ----------------------------------------------------------------------------


def test_an_absurd_page_count_ends_quickly_as_a_shortfall(portal: Portal, crawler: Crawler, tmp_path: Path) -> None:
    pages = 10**9
    portal.add(
        "/nb/index.html",
        trs_listing(
            [(f"./202401/t20240115_{k}.html", f"第{k}单位2023年度政府信息公开工作年度报告") for k in range(3)],
            pages=pages,
            current=0,
        ),
    )
    second = trs_listing(
        [("./202401/t20240115_9.html", "某局2023年度政府信息公开工作年度报告")], pages=pages, current=1
    )
    portal.add("/nb/index_1.html", second)
    portal.add("/robots.txt", "", content_type="text/plain")
    started = time.monotonic()
    ctx = _discover(crawler, site_entry(portal, "/nb/index.html"), tmp_path)
    assert time.monotonic() - started < 10
    [announcement] = ctx.log.announced
    assert (announcement.count, announcement.at_least) == (pages * 3, (pages - 1) * 3 + 1)
    assert ctx.found == 4
    [short] = ctx.log.incomplete
    assert short.expected == (pages - 1) * 3 + 1 and "failed" in short.reason
    # index_2 .. index_4 answered 404: three failures in a row end the walk
    assert [p for p in portal.paths() if p.startswith("/nb/")] == [
        f"/nb/index{s}.html" for s in ("", "_1", "_2", "_3", "_4")
    ]


@pytest.mark.parametrize("total", ["abc", -5, True, None, {"n": 3}])
def test_an_api_total_that_is_no_number_is_not_announced(
    portal: Portal, crawler: Crawler, tmp_path: Path, total: object
) -> None:
    paths = [f"/hjq/c120310/202401/{k:032x}.shtml" for k in range(3)]
    results = [{"title": f"第{k}单位2023年度政府信息公开工作年度报告", "url": p} for k, p in enumerate(paths)]
    portal.add("/hjq/c120310/list.shtml", "<html><body></body></html>")
    for page, chunk in ((1, results), (2, [])):
        query = f"page={page}&_pageSize=15&_isAgg=true&_isJson=true&_template=index"
        body = json.dumps({"data": {"total": total, "results": chunk}})
        portal.add(f"/common/search/120310?{query}", body, content_type="application/json")
    portal.add("/robots.txt", "", content_type="text/plain")
    ctx = _discover(crawler, site_entry(portal, "/hjq/c120310/list.shtml", family="ucap"), tmp_path)
    assert ctx.log.announced == [] and ctx.log.incomplete == []
    assert len(ctx.log.kept) == 3


@pytest.mark.parametrize(
    "body",
    ["[" * 100_000 + "]" * 100_000, '[{"TITLE": "某局2023年度政府信息公开工作年度报告", "URL": "/a', "\xff\xfe{"],
)
def test_a_nested_or_truncated_feed_is_noted_not_fatal(
    portal: Portal, crawler: Crawler, tmp_path: Path, body: str
) -> None:
    portal.add("/zhengce/nb/index.htm", '<script>$.getJSON("./NB.json", f)</script>')
    portal.add("/zhengce/nb/NB.json", body.encode("utf-8", "surrogatepass"), content_type="application/json")
    portal.add("/robots.txt", "", content_type="text/plain")
    ctx = _discover(crawler, site_entry(portal, "/zhengce/nb/index.htm", family="govcn"), tmp_path)
    assert ctx.log.kept == [] and ctx.log.announced == []
    assert any("NB.json" in note and ("not JSON" in note or "no list" in note) for note in ctx.log.notes), ctx.log.notes


def test_a_feed_on_another_host_is_not_followed(portal: Portal, crawler: Crawler, tmp_path: Path) -> None:
    items = [
        (f"/zhengce/content/202401/content_{k}.htm", f"第{k}单位2023年度政府信息公开工作年度报告") for k in range(2)
    ]
    lis = "".join(f'<li><a href="{p}">{t}</a></li>' for p, t in items)
    portal.add(
        "/zhengce/nb/home.htm",
        f"<script>$.getJSON('http://feeds.example.com/NB.json', f)</script><ul>{lis}</ul><span>共1页</span>",
    )
    portal.add("/robots.txt", "", content_type="text/plain")
    ctx = _discover(crawler, site_entry(portal, "/zhengce/nb/home.htm", family="govcn"), tmp_path)
    assert len(ctx.log.kept) == 2 and ctx.log.incomplete == []
    [announcement] = ctx.log.announced
    assert (announcement.count, announcement.at_least) == (2, None)  # one page of two: exact
    assert any("walking its pager" in note for note in ctx.log.notes)


@pytest.mark.parametrize(
    ("family", "start", "body"),
    [
        (
            "trs",
            "/nb/index.html",
            "<html><body>" + "<a href='./202401/t20240115_1.html'>" * 20_000 + "共5条</body></html>",
        ),
        (
            "hanweb_jpage",
            "/col/col77/index.html",
            "<datastore>" + "<record><![CDATA[<li>" * 20_000 + "<nextgroup>" * 20_000,
        ),
        ("vsb", "/nb.htm", "<ul>" + "<li><a href='/info/1/2.htm'>报告" * 20_000 + "<span>1/3</span>"),
    ],
)
def test_unclosed_markup_is_read_in_linear_time(
    portal: Portal, crawler: Crawler, tmp_path: Path, family: str, start: str, body: str
) -> None:
    """Column pages full of unclosed anchors, records or groups: a pattern spanning open to close tag would
    take minutes on them (quadratic); discovery reads them in well under a few seconds."""
    portal.add(start, body)
    portal.add("/robots.txt", "", content_type="text/plain")
    started = time.monotonic()
    ctx = _discover(crawler, site_entry(portal, start, family=family), tmp_path)
    assert time.monotonic() - started < 8
    assert ctx.log.visits and ctx.log.visits[0].outcome == "ok"


def test_govcn_pager_script_with_its_record_count(portal: Portal, crawler: Crawler, tmp_path: Path) -> None:
    """gov.cn's createPageHTML('page_div', pages, current, 'home', 'htm', records): the record count is exact."""
    titles = [
        (f"/zhengce/content/202401/content_{k}.htm", f"第{k}单位2023年度政府信息公开工作年度报告") for k in range(45)
    ]
    names = ["home.htm", "home_1.htm", "home_2.htm"]
    for i, name in enumerate(names):
        lis = "".join(f'<li><a href="{p}">{t}</a></li>' for p, t in titles[i * 20 : (i + 1) * 20])
        script = f"<script>createPageHTML('page_div', 3, {i}, 'home', 'htm', 45);</script>"
        portal.add(f"/zhengce/nb/{name}", f"<html><body><ul>{lis}</ul><div id='page_div'></div>{script}</body></html>")
    portal.add("/robots.txt", "", content_type="text/plain")
    ctx = _discover(crawler, site_entry(portal, "/zhengce/nb/home.htm", family="govcn"), tmp_path)
    [announcement] = ctx.log.announced
    assert (announcement.count, announcement.at_least) == (45, None)
    assert ctx.found == 45 and len(ctx.log.kept) == 45 and ctx.log.incomplete == []
    assert [p for p in portal.paths() if p.startswith("/zhengce/nb/")] == [f"/zhengce/nb/{n}" for n in names]
