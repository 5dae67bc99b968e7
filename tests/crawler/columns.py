"""Report columns of every portal family, laid out on the loopback :class:`~tests.crawler.portal.Portal` the
way the family pages them (``../shared/spec/portals.md``), at any length.

Each builder serves ``n`` report pages (small pages with the template's table markers) listed ``per`` to a
listing/API page, and returns a :class:`Column`: the start path, the site-entry overrides, the report paths
in listing order and the listing pages in walk order. Breakage is switchable: ``fail`` answers one listing
page (1-based, in walk order) with HTTP 500, ``drop_last`` leaves the last listing page out (404), and
``claim`` makes an API (gkmlpt, UCAP) state a total larger than the items it returns.

The shapes:

* ``trs``: ``index.html``, ``index_1.html`` … with ``createPageHTML(pages, i, "index", "html")``; with
  ``state_records`` the pager also says "共N条".
* ``hanweb_jpage``: ``/col/col<ID>/index.html`` embedding the first ``per`` records, the rest from the data
  proxy its ``<nextgroup>`` names (``portal.hanweb_jpage_column``).
* ``gkmlpt``: ``/gkmlpt/index`` (SID, TREE) and ``/gkmlpt/api/all/<cat>?page=N&sid=…`` with
  ``classify.post_count``.
* ``ucap``: a ``/c<channel>/list.shtml`` page showing the first page's links, and
  ``/common/search/<channel>?page=N&_pageSize=…`` answering ``{data: {total, rows, results}}``.
* ``govcn``: a column page whose script loads ``./NIANBAO.json`` (the whole column in one feed), or
  (``govcn_pager``) ``home.htm``, ``home_1.htm`` … linked by 首页/上一页/下一页/尾页 and "共P页".
* ``vsb``: ``nb.htm``, then ``nb/<P-1>.htm`` … ``nb/1.htm`` (VSB counts backwards), 下页/尾页 links; with
  ``state_records`` the pager says "共N条".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .portal import Article, Portal, Response, Seen, add_article, hanweb_jpage_column, trs_listing

TITLE = "第{}单位2023年度政府信息公开工作年度报告"
SERVER_ERROR = Response(500, b"<html><body>500 Internal Server Error</body></html>", {"Content-Type": "text/html"})


@dataclass
class Column:
    family: str
    start: str  # path of the start URL
    reports: list[str]  # report page paths, in listing order
    listing: list[str] = field(default_factory=list)  # listing/API pages, in walk order (paths, no host)
    overrides: dict[str, Any] = field(default_factory=dict)  # site entry fields besides family/start

    @property
    def pages(self) -> int:
        return len(self.listing)


def _pages(n: int, per: int) -> int:
    return max(1, -(-n // per))


def _reports(portal: Portal, paths: list[str], *, articles: bool) -> list[tuple[str, str]]:
    items = [(path, TITLE.format(k)) for k, path in enumerate(paths)]
    if articles:
        for k, (path, title) in enumerate(items):
            add_article(portal, path, Article("20240115", 100000 + k, title))
    portal.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    return items


def _serve_listing(portal: Portal, column: Column, bodies: list[str], fail: int | None, drop_last: bool) -> None:
    for number, (path, body) in enumerate(zip(column.listing, bodies, strict=True), start=1):
        if drop_last and number == len(bodies) and number > 1:
            continue  # the pager still links it: 404
        if number == fail:
            portal.routes[path] = SERVER_ERROR
        else:
            portal.add(path, body)


def trs(
    portal: Portal,
    n: int,
    per: int = 20,
    *,
    fail: int | None = None,
    drop_last: bool = False,
    state_records: bool = False,
    articles: bool = True,
) -> Column:
    column = "/zfxxgknb/"
    ids = [(f"2024{(k % 12) + 1:02d}", 200000 + k) for k in range(n)]
    paths = [f"{column}{month}/t{month}15_{doc}.html" for month, doc in ids]
    items = _reports(portal, paths, articles=articles)
    pages = _pages(n, per)
    result = Column("trs", column + "index.html", paths)
    result.listing = [column + ("index.html" if i == 0 else f"index_{i}.html") for i in range(pages)]
    bodies = []
    for i in range(pages):
        chunk = [("./" + p.removeprefix(column), t) for p, t in items[i * per : (i + 1) * per]]
        body = trs_listing(chunk, pages=pages, current=i)
        if state_records:
            body = body.replace("</ul>", f"</ul><div class='page'>共{n}条 每页{per}条</div>")
        bodies.append(body)
    _serve_listing(portal, result, bodies, fail, drop_last)
    return result


def hanweb(portal: Portal, n: int, per: int = 20, *, fail: int | None = None, articles: bool = True) -> Column:
    paths = [f"/art/2024/1/15/art_5511_{700000 + k}.html" for k in range(n)]
    items = _reports(portal, paths, articles=articles)
    # page 1 is the column page's datastore; proxy page numbers count from there
    start = hanweb_jpage_column(portal, 5511, items, embedded=per, perpage=per, fail={fail: 500} if fail else None)
    result = Column("hanweb_jpage", start, paths)
    result.listing = [start] + [f"dataproxy page {i}" for i in range(2, _pages(n, per) + 1)]
    return result


def _json_handler(page: Callable[[int, int], Any], *, size_key: str | None, per: int, fail: int | None) -> Any:
    def handler(seen: Seen) -> Response:
        query = dict(parse_qsl(urlsplit(seen.path).query))
        number = int(query.get("page", "1"))
        size = int(query[size_key]) if size_key and size_key in query else per
        if number == fail:
            return SERVER_ERROR
        body = json.dumps(page(number, size), ensure_ascii=False).encode()
        return Response(200, body, {"Content-Type": "application/json; charset=utf-8"})

    return handler


def gkmlpt(
    portal: Portal, n: int, per: int = 20, *, fail: int | None = None, claim: int | None = None, articles: bool = True
) -> Column:
    paths = [f"/gkmlpt/content/0/1/post_{300000 + k}.html" for k in range(n)]
    items = _reports(portal, paths, articles=articles)
    tree = [{"id": 700, "name": "政策文件", "children": [{"id": 721, "name": "政府信息公开年报"}]}]
    portal.add(
        "/gkmlpt/index",
        f"<script>window._CONFIG = {{SID: '662021', TREE: {json.dumps(tree, ensure_ascii=False)}}};</script>",
    )

    def page(number: int, size: int) -> Any:
        chunk = items[(number - 1) * size : number * size]
        articles_ = [
            {"id": k, "title": t, "url": portal.url(p), "created_at": 1705300000} for k, (p, t) in enumerate(chunk)
        ]
        return {"classify": {"id": 721, "post_count": claim if claim is not None else n}, "articles": articles_}

    portal.handle("/gkmlpt/api/all/721", _json_handler(page, size_key=None, per=per, fail=fail))
    result = Column("gkmlpt", "/gkmlpt/index", paths)
    result.listing = [f"/gkmlpt/api/all/721?page={i}&sid=662021" for i in range(1, _pages(n, per) + 1)]
    return result


def ucap(
    portal: Portal, n: int, per: int = 20, *, fail: int | None = None, claim: int | None = None, articles: bool = True
) -> Column:
    paths = [f"/hjq/c120310/202401/{400000 + k:032x}.shtml" for k in range(n)]
    items = _reports(portal, paths, articles=articles)
    shown = "".join(f'<li><a href="{p}" title="{t}">{t}</a><span>2024-01-15</span></li>' for p, t in items[:per])
    portal.add("/hjq/c120310/list.shtml", f"<html><body><ul id='list'>{shown}</ul><div id='page'></div></body></html>")

    def page(number: int, size: int) -> Any:
        chunk = items[(number - 1) * size : number * size]
        results = [{"title": t, "url": p, "publishedTimeStr": "2024-01-15 09:00:00"} for p, t in chunk]
        return {"data": {"total": claim if claim is not None else n, "rows": size, "results": results}}

    portal.handle("/common/search/120310", _json_handler(page, size_key="_pageSize", per=per, fail=fail))
    result = Column("ucap", "/hjq/c120310/list.shtml", paths, overrides={"ucap": {"page_size": per}})
    result.listing = [f"/common/search/120310?page={i}" for i in range(1, _pages(n, per) + 1)]
    return result


def govcn_feed(portal: Portal, n: int, *, articles: bool = True) -> Column:
    paths = [f"/zhengce/content/202401/content_{500000 + k}.htm" for k in range(n)]
    items = _reports(portal, paths, articles=articles)
    portal.add(
        "/zhengce/xxgk/nb/index.htm",
        "<html><body><ul id='list'></ul><script src='/js/jquery.js'></script>"
        '<script>$.getJSON("./NIANBAO.json", function (rows) { render(rows); });</script></body></html>',
    )
    feed = [{"TITLE": t, "URL": portal.url(p), "DOCRELPUBTIME": "2024-01-15"} for p, t in items]
    portal.add("/zhengce/xxgk/nb/NIANBAO.json", json.dumps(feed, ensure_ascii=False), content_type="application/json")
    result = Column("govcn", "/zhengce/xxgk/nb/index.htm", paths)
    result.listing = ["/zhengce/xxgk/nb/index.htm", "/zhengce/xxgk/nb/NIANBAO.json"]
    return result


def govcn_pager(
    portal: Portal, n: int, per: int = 20, *, fail: int | None = None, drop_last: bool = False, articles: bool = True
) -> Column:
    column = "/zhengce/xxgk/nbpage/"
    paths = [f"/zhengce/content/202401/content_{600000 + k}.htm" for k in range(n)]
    items = _reports(portal, paths, articles=articles)
    pages = _pages(n, per)
    names = ["home.htm"] + [f"home_{i}.htm" for i in range(1, pages)]
    result = Column("govcn", column + "home.htm", paths)
    result.listing = [column + name for name in names]
    bodies = []
    for i in range(pages):
        lis = "".join(
            f'<li><a href="{p}" target="_blank">{t}</a><span class="date">2024-01-15</span></li>'
            for p, t in items[i * per : (i + 1) * per]
        )
        nav = '<a href="home.htm">首页</a>'
        nav += f'<a href="{names[i - 1]}">上一页</a>' if i > 0 else ""
        nav += f'<a href="{names[i + 1]}">下一页</a>' if i + 1 < pages else ""
        nav += f'<a href="{names[-1]}">尾页</a><span>共{pages}页</span>'
        bodies.append(f"<html><body><div class='list'><ul>{lis}</ul></div><div class='pager'>{nav}</div></body></html>")
    _serve_listing(portal, result, bodies, fail, drop_last)
    return result


def vsb(
    portal: Portal,
    n: int,
    per: int = 20,
    *,
    fail: int | None = None,
    drop_last: bool = False,
    state_records: bool = True,
    articles: bool = True,
) -> Column:
    paths = [f"/info/1050/{800000 + k}.htm" for k in range(n)]
    items = _reports(portal, paths, articles=articles)
    pages = _pages(n, per)
    # page 1 is nb.htm; page i (2..P) is nb/<P-i+1>.htm
    result = Column("vsb", "/nb.htm", paths)
    result.listing = ["/nb.htm"] + [f"/nb/{pages - i + 1}.htm" for i in range(2, pages + 1)]
    bodies = []
    for i in range(1, pages + 1):
        here = "nb/" if i == 1 else ""  # links are relative to the page: /nb.htm or /nb/<k>.htm
        lis = "".join(
            f'<li id="line_u8_{k}"><a href="{p}" title="{t}">{t}</a><span>2024-01-15</span></li>'
            for k, (p, t) in enumerate(items[(i - 1) * per : i * per])
        )
        count = f'<span class="p_t">共{n}条</span>' if state_records else ""
        nav = f'{count}<span class="p_t">{i}/{pages}</span>' if state_records else ""
        if i < pages:
            nav += f'<span class="p_next p_fun"><a href="{here}{pages - i}.htm">下页</a></span>'
            nav += f'<span class="p_last p_fun"><a href="{here}1.htm">尾页</a></span>'
        bodies.append(f"<html><body><ul>{lis}</ul><div class='pb_sys_common'>{nav}</div></body></html>")
    _serve_listing(portal, result, bodies, fail, drop_last)
    return result
