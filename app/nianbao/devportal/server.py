"""``DevPortal``: the demo portal over real HTTP on 127.0.0.1, in a background thread.

    with DevPortal() as portal:          # port 0: the OS picks a free port
        httpx.get(portal.column_url)     # http://127.0.0.1:PORT/zfxxgknb/index.html
        portal.revise("county-2019")     # that article's body, ETag and Last-Modified change
        portal.requests                  # [(method, path, headers), ...] as received

Article pages and attachments carry ETag and Last-Modified and answer conditional GETs with 304.
"""

from __future__ import annotations

import logging
import threading
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import NamedTuple, cast
from urllib.parse import urlsplit

from nianbao.devportal.conditional import not_modified
from nianbao.devportal.site import Resource, Site
from nianbao.devportal.urls import COLUMN_PATH

log = logging.getLogger(__name__)


class LoggedRequest(NamedTuple):
    """One request as the portal received it: ``path`` is the raw request target (query included) and
    ``headers`` keeps header names as the client sent them."""

    method: str
    path: str
    headers: dict[str, str]


class RequestLog:
    """Every request received, in arrival order; owned by the portal so it outlives a stop()."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []

    def append(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def snapshot(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung client must not keep stop() or the interpreter waiting

    def __init__(self, address: tuple[str, int], site: Site, request_log: RequestLog) -> None:
        super().__init__(address, _Handler)
        self.site = site
        self.request_log = request_log


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients reuse connections as they would on a real site
    server_version = "nianbao-devportal"
    sys_version = ""

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - " + format, self.address_string(), *args)

    def _respond(self, *, send_body: bool) -> None:
        server = cast(_Server, self.server)
        server.request_log.append(LoggedRequest(self.command, self.path, dict(self.headers.items())))
        resource = server.site.resolve(urlsplit(self.path).path)
        if resource.status == 200 and not_modified(
            etag=resource.etag,
            last_modified=resource.last_modified,
            if_none_match=self.headers.get("If-None-Match"),
            if_modified_since=self.headers.get("If-Modified-Since"),
        ):
            self.send_response(304)
            self._validators(resource)
            self.end_headers()
            return
        self.send_response(resource.status)
        self.send_header("Content-Type", resource.content_type)
        self.send_header("Content-Length", str(len(resource.body)))
        self._validators(resource)
        self.end_headers()
        if send_body:
            self.wfile.write(resource.body)

    def _validators(self, resource: Resource) -> None:
        if resource.etag is not None:
            self.send_header("ETag", resource.etag)
        if resource.last_modified is not None:
            self.send_header("Last-Modified", format_datetime(resource.last_modified, usegmt=True))


class DevPortal:
    """The demo portal. Binds on ``start()`` (port 0 = a free port) and serves until ``stop()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.site = Site()
        self._log = RequestLog()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> DevPortal:
        if self._server is not None:
            raise RuntimeError("the dev portal is already running")
        self._server = _Server((self.host, self.port), self.site, self._log)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="devportal", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; safe to call when not running."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> DevPortal:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("the dev portal is not running; call start() or use it as a context manager")
        return f"http://{self.host}:{self.port}"

    @property
    def column_url(self) -> str:
        """The 年报 column's first listing page, the crawl entry point."""
        return self.url(COLUMN_PATH)

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def requests(self) -> list[LoggedRequest]:
        """A copy of every request received so far (also after ``stop()``), in arrival order."""
        return self._log.snapshot()

    def clear_requests(self) -> None:
        self._log.clear()

    def revise(self, report_id: str) -> int:
        """Change ``report_id``'s article (a correction note; tables unchanged); returns its new revision."""
        return self.site.revise(report_id)
