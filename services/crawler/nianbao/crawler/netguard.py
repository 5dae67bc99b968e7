"""Refuse to connect to non-public addresses, checked after DNS resolution, on every connection.

A crawler that follows links and redirects from the public web must not be steered into the operator's
own network (loopback admin ports, RFC 1918 hosts, cloud metadata at 169.254.169.254). The check sits in
the network backend of the HTTP client: it resolves the host itself, rejects the connection if any
resolved address is not allowed, and then connects to the checked address. Checking at connect time
covers every redirect hop and leaves no gap for DNS rebinding between check and connect; TLS still
verifies the certificate against the host name, which httpcore passes separately.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The host resolves to an address this crawl may not reach."""


@dataclass(frozen=True)
class AddressPolicy:
    allow_loopback: bool = False
    allow_private: bool = False  # private, link-local, shared, reserved ranges (implies loopback)


def classify(address: Address) -> str:
    """``public`` or the reason an address is not: loopback, private, link_local, multicast, reserved.

    IPv6 addresses that carry an IPv4 address (mapped ``::ffff:0:0/96``, 6to4 ``2002::/16``, Teredo
    ``2001::/32``) are judged by the IPv4 address inside as well: ``2002:7f00:1::`` reaches 127.0.0.1."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return classify(address.ipv4_mapped)
        embedded = [address.sixtofour] if address.sixtofour is not None else []
        if address.teredo is not None:
            embedded += list(address.teredo)  # (server, client)
        for inner in embedded:
            if inner is not None and (kind := classify(inner)) != "public":
                return kind
    if address.is_loopback:
        return "loopback"
    if address.is_multicast:
        return "multicast"
    if address.is_link_local:
        return "link_local"
    if address.is_unspecified or address.is_reserved:
        return "reserved"
    if address.is_private or not address.is_global:
        return "private"
    return "public"


def allowed(address: Address, policy: AddressPolicy) -> bool:
    kind = classify(address)
    if kind == "public":
        return True
    if kind == "multicast":
        return False  # never a web server
    if kind == "loopback":
        return policy.allow_loopback or policy.allow_private
    return policy.allow_private


def resolve(host: str, port: int) -> list[Address]:
    """All addresses of ``host`` (an IP literal resolves to itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))


def checked_addresses(host: str, port: int, policy: AddressPolicy) -> list[Address]:
    """Resolved addresses of ``host``; raises :class:`AddressRefused` if any is not allowed.

    All addresses must pass, not just one: a name that mixes public and private records is treated as
    an attempt to reach the private one."""
    addresses = resolve(host, port)
    bad = [a for a in addresses if not allowed(a, policy)]
    if bad:
        raise AddressRefused(f"{host} resolves to {classify(bad[0])} address {bad[0]}; not allowed for this site")
    return addresses


_deadline = threading.local()


@contextmanager
def request_deadline(at: float) -> Iterator[None]:
    """Every socket operation of this thread inside the block ends by ``at`` (``time.monotonic``): connect,
    TLS, writes and reads, whatever per-operation timeout httpx passes. A server that trickles its headers
    one byte a second meets no read timeout; it meets this."""
    previous = getattr(_deadline, "at", None)
    _deadline.at = at if previous is None else min(at, previous)
    try:
        yield
    finally:
        _deadline.at = previous


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    at: float | None = getattr(_deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the request deadline passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose operations honour the thread's :func:`request_deadline`."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore network backend that connects only to addresses allowed by ``policy``."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise AddressRefused(f"port {port!r} is outside 0-65535")
        timeout = _bounded(timeout, httpcore.ConnectTimeout)
        try:
            addresses = checked_addresses(host, port, self.policy)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        last: Exception | None = None
        for address in addresses:
            try:
                stream = self._inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
                return DeadlineStream(stream)
            except httpcore.ConnectError as exc:  # try the next record, as a resolver-based connect would
                last = exc
        raise last or httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise AddressRefused("unix sockets are never crawled")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


@functools.cache
def process_tls_context() -> ssl.SSLContext:
    """The process's TLS context, shared by every connection and thread."""
    return ssl.create_default_context()


class GuardedTransport(httpx.HTTPTransport):
    """httpx transport whose connection pool uses :class:`GuardedBackend`.

    httpx does not take a network backend argument, so the pool built by ``HTTPTransport.__init__`` is
    replaced by an equivalent one (same TLS context and limits) with the guarded backend."""

    def __init__(self, policy: AddressPolicy, *, limits: httpx.Limits) -> None:
        # One TLS context per process: building one loads the CA bundle (~28 ms of CPU under the GIL),
        # and many site crawls start together in a threaded worker. SSLContext is safe to share.
        ssl_context = process_tls_context()
        super().__init__(verify=ssl_context, limits=limits, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=GuardedBackend(policy),
        )
