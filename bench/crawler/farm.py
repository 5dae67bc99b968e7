"""The portal farm: many simulated TRS portals, one loopback address each, threaded HTTP servers.

Host ``i`` listens on ``127.0.0.(2+i)`` (every 127.x.y.z address is local on Linux, so each portal is a
distinct host to a crawler's per-host limiter and to Scrapy's per-domain slots). Each response waits a
latency drawn uniformly from ``latency_s`` (seeded per host) before it is written, like a slow government
server. The servers speak just enough HTTP/1.1 for crawlers: GET/HEAD, keep-alive, conditional GET on
articles.

Arrival times are the kernel's receive timestamps (``SO_TIMESTAMPNS``) of each request's first bytes,
not the moment a server thread got around to reading them: on a small machine the crawlers and the farm
share the CPUs, and a farm thread waiting for a CPU must not make a request look late (and the next one
early). Times are converted to ``time.monotonic``, which on Linux is one system-wide clock, so driver
processes can report request starts on the same scale. Without kernel timestamps (not Linux) the read
time is used and ``kernel_timestamps`` is False.

    with Farm(hosts=50, pages=4, per_page=5) as farm:
        farm.hosts[0].base_url          # http://127.0.0.2:PORT
        farm.arrivals()                 # [Arrival(host, path, at, done, status), ...]
"""

from __future__ import annotations

import ipaddress
import random
import socket
import socketserver
import struct
import sys
import threading
import time
from dataclasses import dataclass
from email.utils import format_datetime
from types import TracebackType
from typing import cast

from bench.crawler.portal import TrsPortal
from nianbao.devportal.site import Resource

FIRST_ADDRESS = ipaddress.IPv4Address("127.0.0.2")
MAX_HEAD_BYTES = 16 * 1024
IDLE_TIMEOUT_S = 30.0
REASONS = {200: "OK", 304: "Not Modified", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
# SO_TIMESTAMPNS (Linux; 35 on the common architectures, not exported by every Python build): each recvmsg
# carries an SCM_TIMESTAMPNS message with the receive time as a struct timespec (CLOCK_REALTIME).
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35) if sys.platform == "linux" else None
TIMESPEC = struct.Struct("@qq")


@dataclass(frozen=True)
class Arrival:
    """One request as the farm saw it: ``at`` when its first bytes reached the host's socket, ``done``
    after the response was written (both ``time.monotonic``)."""

    host: str
    path: str
    at: float
    done: float
    status: int


@dataclass(frozen=True)
class Host:
    address: str
    port: int
    portal: TrsPortal

    @property
    def base_url(self) -> str:
        return f"http://{self.address}:{self.port}"

    @property
    def start_url(self) -> str:
        return self.base_url + self.portal.listing_paths[0]


class _HostServer(socketserver.ThreadingTCPServer):
    daemon_threads = True  # a client that keeps a connection open must not hold up stop()
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, farm: Farm, address: str, portal: TrsPortal, rng: random.Random) -> None:
        super().__init__((address, 0), _Handler, bind_and_activate=False)
        if farm.kernel_timestamps:  # accepted sockets inherit it: a request sent before accept() is stamped too
            self.socket.setsockopt(socket.SOL_SOCKET, cast(int, SO_TIMESTAMPNS), 1)
        try:
            self.server_bind()
            self.server_activate()
        except OSError:
            self.server_close()
            raise
        self.farm = farm
        self.address = address
        self.portal = portal
        self.rng = rng
        self.rng_lock = threading.Lock()


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server = cast(_HostServer, self.server)
        sock = cast(socket.socket, self.request)
        sock.settimeout(IDLE_TIMEOUT_S)
        buffer = b""
        first_at: float | None = None
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    if len(buffer) > MAX_HEAD_BYTES:
                        return
                    data, ancillary, _, _ = sock.recvmsg(65536, socket.CMSG_SPACE(TIMESPEC.size))
                    if not data:
                        return
                    if not buffer:
                        first_at = server.farm.arrival_time(ancillary)
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                at = first_at if first_at is not None else time.monotonic()
                if not server.farm.answer(server, sock, head, at=at):
                    return
        except OSError:  # timeouts, resets: the connection is over
            return


class Farm:
    """``hosts`` portals of ``pages`` listing pages × ``per_page`` reports, answering after a latency
    in ``latency_s`` seconds. Serves from daemon threads between ``start()`` and ``stop()``."""

    def __init__(
        self, *, hosts: int, pages: int, per_page: int, latency_s: tuple[float, float] = (0.05, 0.3), seed: int = 1
    ) -> None:
        if not 1 <= hosts <= 250:
            raise ValueError("the farm serves 1 to 250 hosts (127.0.0.2 to 127.0.0.251)")
        self.portals = [TrsPortal(number=n, pages=pages, per_page=per_page) for n in range(hosts)]
        self.latency_s = latency_s
        self.seed = seed
        self.kernel_timestamps = SO_TIMESTAMPNS is not None
        self.hosts: list[Host] = []
        self._servers: list[_HostServer] = []
        self._log: list[Arrival] = []
        self._lock = threading.Lock()
        self._offset = 0.0  # CLOCK_REALTIME - CLOCK_MONOTONIC
        self.unstamped = 0  # requests timed by the read instead of the kernel (should stay 0 on Linux)

    # --- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> Farm:
        self._calibrate()
        for number, portal in enumerate(self.portals):
            address = str(FIRST_ADDRESS + number)
            server = _HostServer(self, address, portal, random.Random(f"{self.seed}-{number}"))
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True, name=f"farm-{address}"
            ).start()
            self._servers.append(server)
            self.hosts.append(Host(address, server.server_address[1], portal))
        return self

    def stop(self) -> None:
        stoppers = [threading.Thread(target=s.shutdown, daemon=True) for s in self._servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join(timeout=10)
        for server in self._servers:
            server.server_close()
        self._servers.clear()

    def __enter__(self) -> Farm:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- request log ---------------------------------------------------------------------------------

    def arrivals(self) -> list[Arrival]:
        with self._lock:
            return list(self._log)

    def clear(self) -> None:
        """Forget the log (and re-measure the clock offset) before a run."""
        self._calibrate()
        with self._lock:
            self._log.clear()
            self.unstamped = 0

    # --- serving -------------------------------------------------------------------------------------

    def _calibrate(self) -> None:
        samples = []
        for _ in range(5):
            before = time.monotonic()
            real = time.time()
            after = time.monotonic()
            samples.append((after - before, real - (before + after) / 2))
        self._offset = min(samples)[1]

    def arrival_time(self, ancillary: list[tuple[int, int, bytes]]) -> float | None:
        """The kernel receive time in ``ancillary`` as a ``time.monotonic`` value, if there is one."""
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= TIMESPEC.size:
                seconds, nanoseconds = (int(v) for v in TIMESPEC.unpack(data[: TIMESPEC.size]))
                if seconds > 0:
                    return seconds + nanoseconds / 1e9 - self._offset
        with self._lock:
            self.unstamped += 1
        return None

    def answer(self, server: _HostServer, sock: socket.socket, head: bytes, *, at: float) -> bool:
        """Answer one request; returns whether the connection stays open."""
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        resource: Resource | None = None
        method, path = "GET", lines[0][:200]
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            status = 400
        else:
            method, target = parts[0], parts[1]
            path = target.split("?", 1)[0].split("#", 1)[0]
            if "://" in path:  # absolute-form request target
                path = "/" + path.split("://", 1)[1].partition("/")[2]
            resource = server.portal.resolve(path) if method in ("GET", "HEAD") else None
            status = resource.status if resource is not None else 405
        with server.rng_lock:
            latency = server.rng.uniform(*self.latency_s)
        time.sleep(max(0.0, at + latency - time.monotonic()))
        body = b""
        extra: dict[str, str] = {"Content-Type": "text/plain; charset=utf-8"}
        if resource is not None:
            body = resource.body
            extra = {"Content-Type": resource.content_type, **_validators(resource)}
            if status == 200 and resource.etag and headers.get("if-none-match") == resource.etag:
                status, body = 304, b""
        close = headers.get("connection", "").lower() == "close" or parts[-1] == "HTTP/1.0" or status == 400
        out = [
            f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}",
            "Server: nianbao-bench-farm",
            f"Content-Length: {len(body)}",
            f"Connection: {'close' if close else 'keep-alive'}",
            *(f"{k}: {v}" for k, v in extra.items()),
        ]
        payload = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + (body if method != "HEAD" else b"")
        try:
            sock.sendall(payload)
        finally:  # a request counts even when the client hung up before the answer was written
            with self._lock:
                self._log.append(Arrival(server.address, path, at, time.monotonic(), status))
        return not close


def _validators(resource: Resource) -> dict[str, str]:
    headers = {}
    if resource.etag:
        headers["ETag"] = resource.etag
    if resource.last_modified:
        headers["Last-Modified"] = format_datetime(resource.last_modified, usegmt=True)
    return headers
