"""Hostile HTTP (issue 10): stacked encodings, trickled headers, absurd delays, unfetchable links and
redirects, ports out of range, IPv4 hidden in IPv6. Each ends in a refusal with a reason, in bounded
time and memory; none reaches past one page. Servers are raw loopback sockets that misbehave on purpose."""

from __future__ import annotations

import gzip
import ipaddress
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator

import httpx
import pytest

from nianbao.crawler.decode import decode_page
from nianbao.crawler.fetcher import FetchRefused, HttpResult, http_get
from nianbao.crawler.netguard import AddressPolicy, AddressRefused, GuardedBackend, GuardedTransport, classify
from nianbao.crawler.politeness import BackoffPolicy, clamp_delay
from nianbao.crawler.robots import RobotsAnswer, RobotsCache
from nianbao.crawler.urls import absolute, canonical_url, fetchable

pytestmark = pytest.mark.timeout(60)

Handler = Callable[[socket.socket], None]


@pytest.fixture
def raw_server() -> Iterator[Callable[[Handler], str]]:
    """Start a one-handler-per-connection loopback server; returns its base URL."""
    servers: list[socket.socket] = []

    def start(handler: Handler) -> str:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        servers.append(server)

        def serve() -> None:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                threading.Thread(target=_handle, args=(handler, conn), daemon=True).start()

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{server.getsockname()[1]}"

    yield start
    for server in servers:
        server.close()


def _handle(handler: Handler, conn: socket.socket) -> None:
    try:
        conn.recv(65536)
        handler(conn)
    except OSError:
        pass
    finally:
        conn.close()


def _respond(head: str, body: bytes = b"") -> Handler:
    def handler(conn: socket.socket) -> None:
        conn.sendall(head.encode("latin-1") + b"\r\n" + body)

    return handler


def _get(url: str, *, max_bytes: int = 10 * 2**20, deadline_s: float = 30.0) -> HttpResult:
    client = httpx.Client(
        transport=GuardedTransport(AddressPolicy(allow_loopback=True), limits=httpx.Limits(max_connections=4)),
        timeout=httpx.Timeout(30.0, connect=5.0),
        follow_redirects=False,
        trust_env=False,
    )
    with client:
        return http_get(
            client,
            url,
            kind="page",
            headers={},
            host_ok=lambda u: True,
            max_redirects=3,
            max_bytes=max_bytes,
            deadline_s=deadline_s,
        )


# --- stacked encodings --------------------------------------------------------------------------------------


def _gzip_bomb(decoded: int, layers: int) -> bytes:
    body = b"\0" * decoded
    for _ in range(layers):
        body = gzip.compress(body, 9)
    return body


def test_gzip_gzip_bomb_stops_at_the_cap_of_decoded_bytes(raw_server: Callable[[Handler], str]) -> None:
    # 256 MiB of zeros, gzipped twice: a few KB on the wire. Before: the whole first layer in memory per chunk.
    body = _gzip_bomb(2**28, 2)
    assert len(body) < 20_000
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip, gzip\r\nContent-Length: {len(body)}\r\n"
    )
    url = raw_server(_respond(head, body))
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(FetchRefused) as refused:
        _get(url, max_bytes=10 * 2**20)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert refused.value.reason == "too_large"
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    assert elapsed < 5, f"{elapsed:.1f}s"


def test_three_stacked_encodings_are_refused(raw_server: Callable[[Handler], str]) -> None:
    body = _gzip_bomb(1000, 3)
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Encoding: gzip, gzip\r\nContent-Length: {len(body)}\r\n"
    )
    with pytest.raises(FetchRefused) as refused:
        _get(raw_server(_respond(head, body)))
    assert refused.value.reason == "too_many_encodings"


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("gzip, gzip", lambda b: gzip.compress(gzip.compress(b))),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some servers send it
        ("identity", lambda b: b),
    ],
)
def test_ordinary_encodings_still_decode(
    raw_server: Callable[[Handler], str], encoding: str, encode: Callable[[bytes], bytes]
) -> None:
    page = "<html><body>政府信息公开工作年度报告</body></html>".encode() * 500
    body = encode(page)
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: {encoding}\r\nContent-Length: {len(body)}\r\n"
    )
    assert _get(raw_server(_respond(head, body))).body == page


def test_a_corrupt_gzip_body_is_refused(raw_server: Callable[[Handler], str]) -> None:
    head = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 20\r\n"
    with pytest.raises(FetchRefused) as refused:
        _get(raw_server(_respond(head, b"\x1f\x8bnot really gzip!!!")))
    assert refused.value.reason == "bad_encoding"


# --- deadline -----------------------------------------------------------------------------------------------


def _trickle(payload: bytes, every_s: float) -> Handler:
    def handler(conn: socket.socket) -> None:
        for i in range(len(payload)):
            conn.sendall(payload[i : i + 1])
            time.sleep(every_s)

    return handler


def test_headers_trickled_byte_by_byte_end_at_the_deadline(raw_server: Callable[[Handler], str]) -> None:
    # Before: each byte arrived within the read timeout, so the request never ended (the deadline was
    # checked only between body chunks). Now the deadline bounds every socket operation.
    head = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000 + b"\r\n\r\n"
    url = raw_server(_trickle(head, 0.2))
    started = time.perf_counter()
    with pytest.raises(FetchRefused) as refused:
        _get(url, deadline_s=1.5)
    elapsed = time.perf_counter() - started
    assert refused.value.reason == "deadline"
    assert elapsed < 3, f"{elapsed:.1f}s"


def test_a_body_trickled_byte_by_byte_ends_at_the_deadline(raw_server: Callable[[Handler], str]) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n"
    url = raw_server(lambda conn: (conn.sendall(head), _trickle(b"x" * 10_000, 0.2)(conn)))
    started = time.perf_counter()
    with pytest.raises(FetchRefused) as refused:
        _get(url, deadline_s=1.5)
    assert refused.value.reason == "deadline"
    assert time.perf_counter() - started < 3


# --- unfetchable links and redirects ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "javascript:alert(1)",
        "JavaScript:void(0)",
        "mailto:a@b.cn",
        "http://127.0.0.1:99999/x",
        "http://127.0.0.1:-1/x",
        "http://[::1/x",
        "http://:80/",
        "ftp://example.gov.cn/a.pdf",
    ],
)
def test_an_unfetchable_redirect_is_refused_with_a_reason(raw_server: Callable[[Handler], str], location: str) -> None:
    url = raw_server(_respond(f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n"))
    with pytest.raises(FetchRefused) as refused:
        _get(url + "/start")
    assert refused.value.reason == "bad_redirect"
    assert refused.value.final_url is not None and refused.value.final_url.endswith("/start")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:99999/", "http://127.0.0.1:65536/", "javascript:x", "http://[::1/", "http:///x"]
)
def test_an_unfetchable_url_is_refused_before_any_connection(url: str) -> None:
    with pytest.raises(FetchRefused) as refused:
        _get(url)
    assert refused.value.reason == "bad_url"


def test_absolute_and_fetchable() -> None:
    base = "https://www.a.gov.cn/list/"
    assert absolute(base, "../x.html") == "https://www.a.gov.cn/x.html"
    assert absolute(base, "http://www.a.gov.cn:8080/y") == "http://www.a.gov.cn:8080/y"
    for href in ("javascript:void(0)", "JAVASCRIPT:x", "mailto:x", "http://a.gov.cn:99999/", "http://[::1", "//:80/"):
        assert absolute(base, href) is None, href
    assert fetchable("http://a.gov.cn:65535/") and fetchable("http://a.gov.cn:0/")
    assert not fetchable("http://a.gov.cn:65536/") and not fetchable("http://a.gov.cn:1x/")
    assert canonical_url("http://a.gov.cn:99999/x") == "http://a.gov.cn:99999/x"  # no exception


def test_the_backend_refuses_ports_out_of_range() -> None:
    backend = GuardedBackend(AddressPolicy(allow_loopback=True))
    for port in (65536, 99999, -1):
        with pytest.raises(AddressRefused):
            backend.connect_tcp("127.0.0.1", port)


# --- addresses ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
        ("2002:a9fe:a9fe::", "link_local"),  # 6to4 of 169.254.169.254
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo, client 127.0.0.1 (obfuscated)
        ("2002:808:808::", "public"),  # 6to4 of 8.8.8.8
    ],
)
def test_ipv4_inside_6to4_and_teredo_is_checked(address: str, kind: str) -> None:
    parsed = ipaddress.IPv6Address(address)
    if kind == "public":
        assert classify(parsed) in ("public", "private")  # 2002::/16 itself is not special
    else:
        assert classify(parsed) == kind


# --- delays -------------------------------------------------------------------------------------------------


def test_crawl_delay_is_capped() -> None:
    cache = RobotsCache(ttl_s=60, retry_s=60, max_crawl_delay_s=30)
    body = b"User-agent: *\nCrawl-delay: 86400\nDisallow: /private\n"
    verdict = cache.check("https://a.gov.cn/x", agent="nianbao", fetch=lambda _: RobotsAnswer(200, body))
    assert verdict.allowed and verdict.crawl_delay_s == 30


def test_retry_after_is_capped() -> None:
    policy = BackoffPolicy(120, 3600, max_retry_after_s=600)
    assert policy.delay(1, 86400) == 600
    assert policy.delay(1, float("inf")) == 600
    assert policy.delay(1, float("nan")) == 600
    assert policy.delay(1, -5) == 0
    assert BackoffPolicy(120, 3600).delay(10_000, None) == 3600  # 2**9999 strikes: no OverflowError
    assert clamp_delay(None, 5) is None and clamp_delay(3, 5) == 3


# --- charsets -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label", ["idna", "rot13", "base64", "zlib", "hex", "uu", "bz2", "quopri", "utf-7", "undefined"]
)
def test_a_declared_charset_that_is_not_a_text_encoding_is_ignored(label: str) -> None:
    body = f'<html><head><meta charset="{label}"></head><body>'.encode() + "年度报告".encode() + b"a" * 100
    decoded = decode_page(body, http_charset=label)
    assert (decoded.charset, decoded.source) == ("utf-8", "detected")
    assert "年度报告" in decoded.text
    assert decode_page(body, http_charset=None, override=label).charset == "gb18030"
