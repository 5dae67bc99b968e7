"""Discovery for the other portal families over real HTTP: Hanweb datastore + dataproxy, gkmlpt API,
UCAP search, gov.cn feeds, VSB next links, generic mode, tree mode, attachments."""

from __future__ import annotations

import json
from typing import Any

from nianbao.crawler.sitecheck import check_site
from nianbao.crawler.sites import SiteRegistry

from .conftest import Crawler, site_entry
from .portal import FINGERPRINT_BODY, Article, Portal, add_article, trs_listing

TITLE = "某单位{}年度政府信息公开工作年度报告"


def _reports(portal: Portal, paths: list[str]) -> None:
    for n, path in enumerate(paths):
        add_article(portal, path, Article("20240115", n, TITLE.format(2016 + n)))
    portal.add("/robots.txt", "", content_type="text/plain")


def _dry_run(crawler: Crawler, entry: dict[str, Any]) -> None:
    """`nianbao sites check` works on this family: the dry run finds reports and stores nothing."""
    rows_before = len(crawler.fetch_rows())
    site = SiteRegistry.from_dict({"sites": [entry]}).sites[0]
    report = check_site(site, crawler.settings, limiter=crawler.limiter, robots=crawler.robots)
    assert report.ok, report.render()
    assert report.kept, report.render()
    assert all("年度报告" in title for title, *_ in report.kept)
    assert len(crawler.fetch_rows()) == rows_before


def _record(href: str, title: str) -> str:
    item = f'<li><a href="{href}" title="{title}"><span>{title}</span></a><i>2024-01-15</i></li>'
    return f"<record><![CDATA[{item}]]></record>"


def test_hanweb_datastore_then_dataproxy(portal: Portal, crawler: Crawler) -> None:
    paths = [f"/art/2024/1/{d}/art_1229_{n}.html" for n, d in enumerate(range(1, 8))]
    _reports(portal, paths)
    titles = [TITLE.format(2016 + n) for n in range(len(paths))]
    embedded = "".join(_record(p, t) for p, t in zip(paths[:3], titles[:3], strict=True))
    portal.add(
        "/col/col1229/index.html",
        (
            "<html><body><div id='list'></div><script type='text/xml'><datastore><nextgroup><![CDATA["
            '<a href="/module/web/jpage/dataproxy.jsp?page=1&webid=77&path=/&columnid=1229&unitid=4321"></a>]]>'
            f"</nextgroup><recordset>{embedded}</recordset></datastore></script>"
            "<script>new jpage({totalRecord:7, perpage:2})</script></body></html>"
        ),
    )
    proxy_pages = {2: paths[2:4], 3: paths[4:6], 4: paths[6:]}  # perpage 2; page 2 overlaps the embedded
    for n, chunk in proxy_pages.items():
        records = "".join(_record(p, TITLE.format(2016 + paths.index(p))) for p in chunk)
        portal.add(
            f"/module/web/jpage/dataproxy.jsp?page={n}&appid=1&webid=77&path=%2F&columnid=1229&unitid=4321"
            "&permissiontype=0&perpage=2",
            f"<datastore><totalrecord>7</totalrecord><totalpage>4</totalpage><recordset>{records}"
            "</recordset></datastore>",
            content_type="text/xml; charset=utf-8",
        )
    entry = site_entry(portal, "/col/col1229/index.html", family="hanweb_jpage", hanweb={"perpage": 2})
    summary, published = crawler.run(entry)
    assert summary.reports_found == 7 and len(published) == 7
    proxy = [p for p in portal.paths() if "dataproxy" in p]
    assert [p.split("page=")[1].split("&")[0] for p in proxy] == ["2", "3", "4"]
    _dry_run(crawler, entry)


def test_gkmlpt_tree_and_api(portal: Portal, crawler: Crawler) -> None:
    paths = [f"/yjzjj/gkmlpt/content/0/1/post_{n}.html" for n in range(5)]
    _reports(portal, paths)
    tree = [
        {"id": 700, "name": "政策文件", "children": [{"id": 721, "name": "政府信息公开年报"}]},
        {"id": 730, "name": "年度报告(外链)", "jump_url": "http://elsewhere.gov.cn/"},
    ]
    portal.add(
        "/yjzjj/gkmlpt/index",
        f"<script>window._CONFIG = {{SID: '662021', TREE: {json.dumps(tree, ensure_ascii=False)}, "
        "DETAIL: {}};</script>",
    )

    def api(items: list[int]) -> str:
        return json.dumps(
            {
                "classify": {"post_count": 5},
                "articles": [
                    {"id": n, "title": TITLE.format(2016 + n), "url": portal.url(paths[n]), "created_at": 1705300000}
                    for n in items
                ],
            },
            ensure_ascii=False,
        )

    portal.add("/yjzjj/gkmlpt/api/all/721?page=1&sid=662021", api([0, 1, 2]), content_type="application/json")
    portal.add("/yjzjj/gkmlpt/api/all/721?page=2&sid=662021", api([3, 4]), content_type="application/json")
    entry = site_entry(portal, "/yjzjj/gkmlpt/index", family="gkmlpt")
    summary, published = crawler.run(entry)
    assert summary.reports_found == 5 and len(published) == 5
    _dry_run(crawler, entry)
    assert not any("api/all/730" in p or "page=3" in p for p in portal.paths())


def test_ucap_search_api(portal: Portal, crawler: Crawler) -> None:
    paths = [f"/hjq/c120310/202401/{n:032x}.shtml" for n in range(4)]
    _reports(portal, paths)
    portal.add("/hjq/c120310/list.shtml", "<html><body>列表由脚本加载</body></html>")

    def page(items: list[int]) -> str:
        return json.dumps(
            {
                "data": {
                    "total": 4,
                    "results": [
                        {"title": TITLE.format(2016 + n), "url": paths[n], "publishedTimeStr": "2024-01-15"}
                        for n in items
                    ],
                }
            },
            ensure_ascii=False,
        )

    portal.add(
        "/common/search/120310?page=1&_pageSize=15&_isAgg=true&_isJson=true&_template=index",
        page([0, 1]),
        content_type="application/json",
    )
    portal.add(
        "/common/search/120310?page=2&_pageSize=15&_isAgg=true&_isJson=true&_template=index",
        page([2, 3]),
        content_type="application/json",
    )
    entry = site_entry(portal, "/hjq/c120310/list.shtml", family="ucap")
    summary, _ = crawler.run(entry)
    assert summary.reports_found == 4 and summary.fetched == 4
    _dry_run(crawler, entry)


def test_govcn_json_feed(portal: Portal, crawler: Crawler) -> None:
    paths = [f"/zhengce/content/202401/content_{n}.htm" for n in range(3)]
    _reports(portal, paths)
    feed = [
        {"TITLE": TITLE.format(2016 + n), "URL": portal.url(p), "DOCRELPUBTIME": "2024-01-15"}
        for n, p in enumerate(paths)
    ]
    feed.append(
        {
            "TITLE": "国务院关于某事项的通知",
            "URL": portal.url("/zhengce/content/202401/content_99.htm"),
            "DOCRELPUBTIME": "2024-01-16",
        }
    )
    portal.add("/zhengce/nb/NIANBAO.json", json.dumps(feed, ensure_ascii=False), content_type="application/json")
    entry = site_entry(portal, "/zhengce/nb/NIANBAO.json", family="govcn")
    summary, published = crawler.run(entry)
    assert summary.reports_found == 3 and len(published) == 3
    _dry_run(crawler, entry)


def _vsb_page(items: list[tuple[str, str]], next_href: str | None) -> str:
    lis = "".join(f'<li><a href="{h}">{t}</a><span>2024-01-15</span></li>' for h, t in items)
    nav = f'<a href="{next_href}">下页</a><a href="nb.htm">尾页</a>' if next_href else ""
    return f"<html><body><ul>{lis}</ul><div class='pager'>{nav}</div></body></html>"


def test_vsb_follows_next_links(portal: Portal, crawler: Crawler) -> None:
    paths = [f"/info/1050/{6400 + n}.htm" for n in range(5)]
    _reports(portal, paths)
    items = [(p, TITLE.format(2016 + n)) for n, p in enumerate(paths)]
    portal.add("/nb.htm", _vsb_page(items[:2], "nb/3.htm"))
    portal.add("/nb/3.htm", _vsb_page(items[2:4], "2.htm"))
    portal.add("/nb/2.htm", _vsb_page(items[4:], None))
    entry = site_entry(portal, "/nb.htm", family="vsb")
    summary, _ = crawler.run(entry)
    assert summary.pages_listed == 3 and summary.reports_found == 5
    _dry_run(crawler, entry)


def test_generic_mode_uses_title_rules_and_any_pagination(portal: Portal, crawler: Crawler) -> None:
    paths = ["/xxgknb/61ee22bef8fd1c0bdc7bceed.html", "/xxgknb/1906985018193408001.html"]
    _reports(portal, paths)
    portal.add(
        "/xxgknb/index.html",
        _vsb_page([(paths[0], TITLE.format(2016)), ("/about.html", "关于我们")], "/xxgknb/list_2.html"),
    )
    portal.add("/xxgknb/list_2.html", _vsb_page([(paths[1], TITLE.format(2017))], None))
    entry = site_entry(portal, "/xxgknb/index.html", family="static_generic")
    summary, _ = crawler.run(entry)
    assert summary.reports_found == 2 and portal.count("/about.html") == 0
    _dry_run(crawler, entry)


def test_tree_mode_descends_into_year_and_unit_columns(portal: Portal, crawler: Crawler) -> None:
    # root → 2023n/ → bmnb2023/ and jdnb2023/ (unit-type columns), each a TRS list
    reports = {
        "/nb/2023n/bmnb2023/": Article("20240126", 1, "某局2023年度政府信息公开工作年度报告"),
        "/nb/2023n/jdnb2023/": Article("20240127", 2, "某街道2023年度政府信息公开工作年度报告"),
        "/nb/2022n/bmnb2022/": Article("20230126", 3, "某局2022年度政府信息公开工作年度报告"),
    }
    portal.add(
        "/nb/",
        '<html><body><a href="2023n/">2023年</a><a href="2022n/">2022年</a>'
        '<a href="/other/">其他栏目</a></body></html>',
    )
    portal.add("/nb/2023n/", '<a href="bmnb2023/">部门年报</a><a href="jdnb2023/">乡镇街道年报</a>')
    portal.add("/nb/2022n/", '<a href="bmnb2022/">部门年报</a>')
    for column, article in reports.items():
        portal.add(column, trs_listing([(f"./{article.trs_path}", article.title)], pages=1, current=0))
        add_article(portal, column + article.trs_path, article)
    portal.add("/robots.txt", "", content_type="text/plain")
    entry: dict[str, Any] = site_entry(
        portal,
        "/nb/",
        discovery={"mode": "tree", "descend_link_pattern": r"/nb/(\d{4}n/)?([a-z]+\d{4}/)?$", "max_depth": 2},
    )
    summary, published = crawler.run(entry)
    assert summary.reports_found == 3 and len(published) == 3
    assert portal.count("/other/") == 0


def test_attachments_are_fetched_and_stored(portal: Portal, crawler: Crawler) -> None:
    article = Article("20240115", 7, TITLE.format(2023))
    portal.add("/zfxxgknb/index.html", trs_listing([(f"./{article.trs_path}", article.title)], pages=1, current=0))
    add_article(
        portal,
        "/zfxxgknb/" + article.trs_path,
        article,
        extra=(
            '<p>附件：<a href="./P020240115123456789012.pdf">报告全文.pdf</a>'
            '<a href="/module/download/downfile.jsp?classid=0&filename=ab12.docx">附表</a>'
            '<a href="http://mirror.example.com/x.pdf">镜像</a></p>'
        ),
    )
    pdf = b"%PDF-1.4 " + FINGERPRINT_BODY.encode()
    portal.add("/zfxxgknb/202401/P020240115123456789012.pdf", pdf, content_type="application/pdf")
    portal.add(
        "/module/download/downfile.jsp?classid=0&filename=ab12.docx",
        b"PK\x03\x04docx",
        content_type="application/octet-stream",
    )
    portal.add("/robots.txt", "", content_type="text/plain")
    summary, published = crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    assert summary.attachments == 2 and len(published) == 1  # handed on with their page, not on their own
    rows = [r for r in crawler.fetch_rows() if r.kind == "attachment"]
    assert {r.media_type for r in rows} == {"application/pdf", "application/octet-stream"}
    assert crawler.store.get(rows[0].raw_key or "") in (pdf, b"PK\x03\x04docx")
    assert {r.parent_url for r in rows} == {published[0].url}
    assert sorted(d.media_type for d in published[0].attachments) == [
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",  # from filename=ab12.docx
    ]

    summary, published = crawler.run(site_entry(portal, "/zfxxgknb/index.html"), force=True)
    assert len(published) == 1 and len(published[0].attachments) == 2
