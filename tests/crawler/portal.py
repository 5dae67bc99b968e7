"""Simulated government portals for crawler tests: real HTTP on 127.0.0.1, routes defined per test.

:class:`Portal` serves fixed routes (optionally with ETag/Last-Modified handling, gzip, delays) and
records every request, so tests can assert what the crawler asked for and when. Builders below lay out
the URL shapes of the portal families (TRS, Hanweb, gkmlpt, UCAP, gov.cn, VSB).
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

FINGERPRINT_BODY = (
    "<table><tr><td>第二十条第（一）项</td></tr></table>"
    "<p>三、收到和处理政府信息公开申请情况</p><p>（本列数据的勾稽关系为：第一项加第二项之和）</p>"
    "<p>四、政府信息公开行政复议、行政诉讼情况</p>"
)


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    gzip: bool = False
    delay_s: float = 0.0


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    at: float
    method: str = "GET"
    body: bytes = b""  # a POST's body (read up to MAX_POST_BODY)


MAX_POST_BODY = 1 << 20  # the portal reads at most this much of a POST body


Handler = Callable[[Seen], Response]


class Portal:
    def __init__(self) -> None:
        self.routes: dict[str, Response | Handler] = {}
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        portal = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
                with portal._lock:
                    portal.requests.append(seen)
                portal._answer(self, seen)

            def do_POST(self) -> None:
                """Recorded like a GET, with the method and body; routed the same way (handlers see both)."""
                declared = self.headers.get("Content-Length", "0")
                size = min(int(declared), MAX_POST_BODY) if declared.isdigit() else 0
                body = self.rfile.read(size) if size else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                seen = Seen(self.path, headers, time.monotonic(), method="POST", body=body)
                with portal._lock:
                    portal.requests.append(seen)
                portal._answer(self, seen)

            def log_message(self, format: str, *args: object) -> None:  # quiet test output
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # --- lifecycle ---------------------------------------------------------------------------------------

    def __enter__(self) -> Portal:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    # --- routes ------------------------------------------------------------------------------------------

    def add(
        self,
        path: str,
        body: str | bytes = b"",
        *,
        status: int = 200,
        content_type: str | None = None,
        encoding: str = "utf-8",
        **options: object,
    ) -> None:
        data = body.encode(encoding) if isinstance(body, str) else body
        headers = dict(options.pop("headers", {}) or {})  # type: ignore[call-overload]
        if content_type is None:
            content_type = f"text/html; charset={encoding}" if isinstance(body, str) else "text/html"
        if content_type:
            headers["Content-Type"] = content_type
        self.routes[path] = Response(status=status, body=data, headers=headers, **options)  # type: ignore[arg-type]

    def handle(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def count(self, path: str) -> int:
        return self.paths().count(path)

    def _answer(self, http: BaseHTTPRequestHandler, seen: Seen) -> None:
        route = self.routes.get(seen.path) or self.routes.get(urlsplit(seen.path).path)
        if route is None:
            response = Response(404, b"<html><body>404 Not Found</body></html>", {"Content-Type": "text/html"})
        elif callable(route):
            response = route(seen)
        else:
            response = route
        if response.delay_s:
            time.sleep(response.delay_s)
        status, body = response.status, response.body
        if status == 200 and (
            (response.etag and seen.headers.get("if-none-match") == response.etag)
            or (response.last_modified and seen.headers.get("if-modified-since") == response.last_modified)
        ):
            status, body = 304, b""
        headers = dict(response.headers)
        if response.etag:
            headers["ETag"] = response.etag
        if response.last_modified:
            headers["Last-Modified"] = response.last_modified
        if response.gzip and body:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        try:
            http.send_response(status)
            for key, value in headers.items():
                http.send_header(key, value)
            http.send_header("Content-Length", str(len(body)))
            http.end_headers()
            http.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the crawler hung up (size cap): fine
            pass


# --- family layouts --------------------------------------------------------------------------------------


@dataclass
class Article:
    date: str  # YYYYMMDD
    doc_id: int
    title: str
    body: str = FINGERPRINT_BODY
    encoding: str = "utf-8"
    meta_only_charset: bool = False  # GBK page with only <meta charset>, no HTTP charset

    @property
    def trs_path(self) -> str:
        return f"{self.date[:6]}/t{self.date}_{self.doc_id}.html"


def article_html(article: Article, extra: str = "") -> str:
    meta = f'<meta charset="{article.encoding}">' if article.encoding != "utf-8" else '<meta charset="utf-8">'
    return (
        f"<html><head>{meta}<title>{article.title}</title></head><body>"
        f"<table><tr><td>索引号：</td><td>000014349/2024-00001</td></tr></table>"
        f'<div class="TRS_Editor"><h1>{article.title}</h1>{article.body}{extra}</div></body></html>'
    )


def add_article(portal: Portal, path: str, article: Article, *, etag: str | None = None, extra: str = "") -> None:
    html = article_html(article, extra)
    content_type = "text/html" if article.meta_only_charset else f"text/html; charset={article.encoding}"
    portal.add(path, html, encoding=article.encoding, content_type=content_type, etag=etag)


def trs_listing(
    items: list[tuple[str, str]], *, pages: int, current: int, prefix: str = "index", filler: int = 0
) -> str:
    """A TRS column page: one <li> per (href, title), the createPageHTML call, optional padding."""
    lis = "".join(
        f'<li><a href="{href}" title="{title}">{title}</a><span>2024-01-15</span></li>' for href, title in items
    )
    pad = "<!-- " + "x" * filler + " -->" if filler else ""
    return (
        f"<html><head><meta charset='utf-8'><title>政府信息公开年报</title></head><body>"
        f"<ul class='list'>{lis}</ul>{pad}"
        f'<script>createPageHTML({pages}, {current}, "{prefix}", "html");</script></body></html>'
    )


def build_trs(
    portal: Portal,
    column: str,
    articles: list[Article],
    *,
    per_page: int = 2,
    page2: int = 1,
    etags: bool = False,
    extra_titles: list[tuple[str, str]] | None = None,
) -> None:
    """A TRS column at ``column`` (ending in '/'), ``per_page`` links per page, page 2 at
    ``index_<page2>.html``; ``extra_titles`` adds (href, title) noise to page 1."""
    chunks = [articles[i : i + per_page] for i in range(0, len(articles), per_page)] or [[]]
    for number, chunk in enumerate(chunks):
        items = [(f"./{a.trs_path}", a.title) for a in chunk]
        if number == 0 and extra_titles:
            items += extra_titles
        html = trs_listing(items, pages=len(chunks), current=number)
        name = "index.html" if number == 0 else f"index_{number - 1 + page2}.html"
        portal.add(column + name, html)
    for article in articles:
        add_article(portal, column + article.trs_path, article, etag=f'"{article.doc_id}"' if etags else None)
    portal.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")


# --- report documents behind article pages ---------------------------------------------------------------

PDF_ONLY_BODY = "<p>根据《中华人民共和国政府信息公开条例》，现公布本机关年度报告，详见附件。</p>"
DOWNFILE = "/module/download/downfile.jsp?classid=0&filename={name}"


def pdf_document(label: str) -> bytes:
    """A small PDF-looking document; ``label`` makes its bytes (and so its raw key) unique."""
    return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Title (" + label.encode() + b") >> endobj\n%%EOF\n"


def attachment_link(href: str, text: str) -> str:
    return f'<p>附件：<a href="{href}">{text}</a></p>'


def add_trs_pdf_report(
    portal: Portal,
    column: str,
    article: Article,
    pdf: bytes,
    *,
    name: str = "P020210129123456789012.pdf",
    etag: str | None = None,
    links: list[tuple[str, str]] | None = None,
) -> str:
    """A TRS article at ``column`` + its t-date path whose report is only the attachment
    ``./<name>`` next to it (``links`` adds or replaces the article's attachment links). Returns the
    attachment's path."""
    month = column + article.date[:6] + "/"
    extra = "".join(attachment_link(h, t) for h, t in (links or [(f"./{name}", article.title + ".pdf")]))
    body = Article(article.date, article.doc_id, article.title, body=PDF_ONLY_BODY)
    add_article(portal, column + article.trs_path, body, extra=extra)
    portal.add(month + name, pdf, content_type="application/pdf", etag=etag)
    return month + name


def add_downfile(portal: Portal, name: str, data: bytes, *, disposition: str | None = None) -> str:
    """Hanweb's download script for ``name``: a 302 to ``/attach/0/<name>`` (the usual answer), or, with
    ``disposition``, the bytes themselves as octet-stream named by Content-Disposition. Returns the
    script's path."""
    path = DOWNFILE.format(name=name)
    if disposition is None:
        portal.add(path, b"", status=302, headers={"Location": f"/attach/0/{name}"})
        portal.add(f"/attach/0/{name}", data, content_type="application/pdf")
    else:
        portal.add(path, data, content_type="application/octet-stream", headers={"Content-Disposition": disposition})
    return path


def hanweb_column(portal: Portal, column_id: int, items: list[tuple[str, str]]) -> str:
    """A Hanweb column page with all its records embedded in the datastore. Returns its path."""
    records = "".join(
        f'<record><![CDATA[<li><a href="{href}" title="{title}">{title}</a><span>2024-01-15</span></li>]]></record>'
        for href, title in items
    )
    path = f"/col/col{column_id}/index.html"
    portal.add(
        path,
        (
            f"<html><body><script type='text/xml'><datastore><recordset>{records}</recordset>"
            f"</datastore></script><script>new jpage({{totalRecord:{len(items)}, perpage:15}})</script>"
            "</body></html>"
        ),
    )
    return path


def hanweb_jpage_column(
    portal: Portal,
    column_id: int,
    items: list[tuple[str, str]],
    *,
    embedded: int,
    perpage: int,
    proxy_path: str = "/module/web/jpage/dataproxy.jsp",
    form: str = "page",
    script: str | None = None,
    fail: dict[int, int] | None = None,
    method: str = "any",
) -> str:
    """A Hanweb JCMS column whose first ``embedded`` records are in the page's datastore and the rest come
    from the data proxy at ``proxy_path``, named by ``<nextgroup>`` in the ``page`` (``?page=N``) or
    ``records`` (``?startrecord=S&endrecord=E``) form. The proxy honours the ``perpage`` it is asked for,
    answers a page number in ``fail`` with that status (records form: the page the start record falls on,
    at the requested perpage) and announces ``len(items)`` as the total. ``script`` replaces the jpage
    init script (default ``new jpage({... totalRecord:N, perpage:P ...})``). ``method``: ``any`` (the proxy
    answers GET and POST), ``post_only`` (a GET gets 405) or ``get_only`` (a POST gets 405); the proxy reads
    its fields from the query and a POST's urlencoded body, and when ``method`` is not ``any`` answers 400
    unless webid, unitid and columnid are among them. Returns the column path."""
    from urllib.parse import parse_qsl  # appended builder: the module's imports stay as they were

    fail = fail or {}

    def record(href: str, title: str) -> str:
        return (
            f'<record><![CDATA[<li><a href="{href}" title="{title}">{title}</a><span>2024-01-15</span></li>]]></record>'
        )

    def proxy(seen: Seen) -> Response:
        if (method == "post_only" and seen.method != "POST") or (method == "get_only" and seen.method != "GET"):
            allowed = "POST" if method == "post_only" else "GET"
            body405 = b"<html><body><h1>HTTP Status 405 - Method Not Allowed</h1></body></html>"
            return Response(405, body405, {"Content-Type": "text/html", "Allow": allowed})
        query = dict(parse_qsl(seen.body.decode("utf-8", "replace"))) if seen.method == "POST" else {}
        query.update(parse_qsl(urlsplit(seen.path).query))
        if method != "any" and not all(query.get(k) for k in ("webid", "unitid", "columnid")):
            return Response(400, b"missing webid/unitid/columnid")
        size = int(query.get("perpage", "20"))
        if form == "page" and "page" in query:
            start = (int(query["page"]) - 1) * size
            end = start + size
        elif form == "records" and "startrecord" in query:
            start, end = int(query["startrecord"]) - 1, int(query["endrecord"])
        else:
            return Response(400, b"bad proxy call")
        status = fail.get(start // size + 1)
        if status:
            return Response(status, b"<html><body>error</body></html>", {"Content-Type": "text/html"})
        rows = "".join(record(h, t) for h, t in items[start:end])
        pages = -(-len(items) // size)
        body = (
            f"<datastore><totalrecord>{len(items)}</totalrecord><totalpage>{pages}</totalpage>"
            f"<recordset>{rows}</recordset></datastore>"
        )
        return Response(200, body.encode(), {"Content-Type": "text/xml; charset=utf-8"})

    if form == "page":
        link = (
            f"{proxy_path}?page=1&appid=1&webid=5&path=/&columnid={column_id}&unitid=77&webname=模拟&permissiontype=0"
        )
    else:
        link = (
            f"{proxy_path}?startrecord=1&endrecord={perpage * 3}&perpage={perpage}&col=1&appid=1&webid=5&path=/"
            f"&columnid={column_id}&unitid=77&sourceContentType=1&permissiontype=0"
        )
    if script is None:
        script = f"new jpage({{proxyUrl:'{proxy_path}', totalRecord:{len(items)}, perpage:{perpage}, groupSize:3}})"
    rows = "".join(record(h, t) for h, t in items[:embedded])
    path = f"/col/col{column_id}/index.html"
    portal.add(
        path,
        (
            f"<html><body><div id='{column_id}'><script type='text/xml'><datastore><nextgroup><![CDATA["
            f'<a href="{link}"></a>]]></nextgroup><recordset>{rows}</recordset></datastore></script></div>'
            f"<script>{script}</script></body></html>"
        ),
    )
    portal.handle(proxy_path, proxy)
    return path
