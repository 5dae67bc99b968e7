"""The crawler changes this benchmark recommends, emulated around the unchanged crawler code.

1. Send-anchored spacing. Today ``RedisLimiter`` sets a host's ``next`` (earliest next request start)
to *grant time + spacing*, on Redis's clock, at the moment it grants the slot. The request reaches the
wire only when the granted thread gets to run again and gets through httpx; in a busy process (crawl
threads of every host waking together each second, one GIL) that can be tens of ms later for one request
and not for the next, so the server sees gaps below the spacing. The change: record when the request
head was actually written (httpcore's ``trace`` extension, event ``http11.send_request_headers.complete``)
and, when the slot is released (after the response, so always before the host's next grant while one
request is in flight), move ``next`` to *send time + spacing*, never earlier than it was. The send time
is handed to Redis as "ms elapsed since the send", so worker clocks still do not matter.

Here :class:`SendClock` is an httpx request hook that adds the trace callback, and
:class:`SendAnchoredLimiter` wraps ``RedisLimiter`` with a release that runs one Lua script on the
limiter's own keys. In the crawler the same would live in ``fetcher.http_get`` and ``RedisLimiter.release``.

2. One TLS context per process. ``client.build_client`` makes a ``GuardedTransport`` per site crawl,
which builds two ``ssl.SSLContext`` (httpx's default one, discarded, and ``ssl.create_default_context()``
for the guarded pool), each loading a CA bundle: about 28 ms of CPU under the GIL per crawl. When many
crawls start together (50 here) their first requests wait up to a second for each other. An SSLContext
can be shared by every connection and thread, so one per process is enough: :func:`build_client` below
is the crawler's ``build_client`` with that change (and the send hook of 1).
"""

from __future__ import annotations

import ssl
import threading
import time
from functools import cache
from typing import Any

import httpcore
import httpx
import redis

from nianbao.crawler.client import address_policy
from nianbao.crawler.netguard import AddressPolicy, GuardedBackend, GuardedTransport
from nianbao.crawler.politeness import BackoffPolicy, HostRate
from nianbao.crawler.redis_limiter import RedisLimiter
from nianbao.crawler.settings import CrawlerSettings
from nianbao.crawler.siteschema import SiteConfig

SENT_EVENT = "http11.send_request_headers.complete"

# KEYS: slots, next. ARGV: token, ms elapsed since the request was sent (floored), spacing in ms.
# Returns how far next moved, in ms (0 = it was already later).
_RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.ceil(tonumber(t[2]) / 1000)
local want = now - tonumber(ARGV[2]) + tonumber(ARGV[3])
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if want <= current then return 0 end
redis.call('SET', KEYS[2], want, 'PX', math.max(want - now, 1) + 1000)
return want - current
"""


class SendClock:
    """Per thread, when the last request head went out (``time.monotonic``). A crawl thread sends one
    request at a time, between ``acquire`` and ``release`` of its host slot."""

    def __init__(self) -> None:
        self._local = threading.local()

    def hook(self, request: httpx.Request) -> None:
        """httpx ``request`` event hook: ask httpcore to report the send of this request."""
        request.extensions["trace"] = self._trace

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        if event == SENT_EVENT:
            self._local.sent_at = time.monotonic()

    def clear(self) -> None:
        self._local.sent_at = None

    def sent_at(self) -> float | None:
        value: float | None = getattr(self._local, "sent_at", None)
        return value


class SendAnchoredLimiter:
    """``RedisLimiter`` whose release re-anchors the host's spacing on the request's send time."""

    def __init__(self, client: redis.Redis, *, lease_s: float, prefix: str, clock: SendClock) -> None:
        self.inner = RedisLimiter(client, lease_s=lease_s, prefix=prefix)
        self.prefix = prefix
        self.clock = clock
        self._release: Any = client.register_script(_RELEASE)
        self._spacing_ms: dict[str, int] = {}  # token -> spacing granted with it
        self._lock = threading.Lock()

    def acquire(self, host: str, rate: HostRate, *, max_wait_s: float) -> str:
        token = self.inner.acquire(host, rate, max_wait_s=max_wait_s)
        self.clock.clear()
        with self._lock:
            self._spacing_ms[token] = int(rate.min_delay_s * 1000)  # jitter 0 in the bench
        return token

    def release(self, host: str, token: str) -> None:
        with self._lock:
            spacing_ms = self._spacing_ms.pop(token, None)
        sent_at = self.clock.sent_at()
        if spacing_ms is None or sent_at is None:  # nothing was sent (refused, no connection): as today
            self.inner.release(host, token)
            return
        elapsed_ms = int((time.monotonic() - sent_at) * 1000)
        self._release(keys=[f"{self.prefix}:{host}:slots", f"{self.prefix}:{host}:next"],
                      args=[token, elapsed_ms, spacing_ms])

    def back_off(self, host: str, policy: BackoffPolicy, *, retry_after_s: float | None = None) -> float:
        return self.inner.back_off(host, policy, retry_after_s=retry_after_s)

    def reset(self, host: str) -> None:
        self.inner.reset(host)


@cache
def tls_context() -> ssl.SSLContext:
    """The process's one TLS context (SSLContext is safe to share between connections and threads)."""
    return ssl.create_default_context()


class SharedTlsTransport(GuardedTransport):
    """``GuardedTransport`` built on the process's TLS context instead of two new ones."""

    def __init__(self, policy: AddressPolicy, *, limits: httpx.Limits) -> None:
        context = tls_context()
        httpx.HTTPTransport.__init__(self, verify=context, limits=limits, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=GuardedBackend(policy),
        )


def build_client(site: SiteConfig, settings: CrawlerSettings, *, clock: SendClock) -> httpx.Client:
    """``nianbao.crawler.client.build_client`` with changes 1 (send hook) and 2 (shared TLS context)."""
    timeout = site.http.timeout_s or settings.read_timeout_s
    return httpx.Client(
        transport=SharedTlsTransport(address_policy(site, settings),
                                     limits=httpx.Limits(max_connections=4, max_keepalive_connections=2)),
        timeout=httpx.Timeout(timeout, connect=settings.connect_timeout_s),
        follow_redirects=False,
        trust_env=False,
        event_hooks={"request": [clock.hook]},
    )
