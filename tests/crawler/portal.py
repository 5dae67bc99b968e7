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

    def add(self, path: str, body: str | bytes = b"", *, status: int = 200, content_type: str | None = None,
            encoding: str = "utf-8", **options: object) -> None:
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
    return (f"<html><head>{meta}<title>{article.title}</title></head><body>"
            f"<table><tr><td>索引号：</td><td>000014349/2024-00001</td></tr></table>"
            f'<div class="TRS_Editor"><h1>{article.title}</h1>{article.body}{extra}</div></body></html>')


def add_article(portal: Portal, path: str, article: Article, *, etag: str | None = None, extra: str = "") -> None:
    html = article_html(article, extra)
    content_type = "text/html" if article.meta_only_charset else f"text/html; charset={article.encoding}"
    portal.add(path, html, encoding=article.encoding, content_type=content_type, etag=etag)


def trs_listing(items: list[tuple[str, str]], *, pages: int, current: int, prefix: str = "index",
                filler: int = 0) -> str:
    """A TRS column page: one <li> per (href, title), the createPageHTML call, optional padding."""
    lis = "".join(f'<li><a href="{href}" title="{title}">{title}</a><span>2024-01-15</span></li>'
                  for href, title in items)
    pad = "<!-- " + "x" * filler + " -->" if filler else ""
    return (f"<html><head><meta charset='utf-8'><title>政府信息公开年报</title></head><body>"
            f"<ul class='list'>{lis}</ul>{pad}"
            f'<script>createPageHTML({pages}, {current}, "{prefix}", "html");</script></body></html>')


def build_trs(portal: Portal, column: str, articles: list[Article], *, per_page: int = 2, page2: int = 1,
              etags: bool = False, extra_titles: list[tuple[str, str]] | None = None) -> None:
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
