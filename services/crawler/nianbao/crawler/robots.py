"""robots.txt, fetched once per origin and cached for every site of the process.

Rules are read by protego, the RFC 9309 parser Scrapy uses: the longest matching ``Allow``/``Disallow``
path wins (``Allow`` on a tie), ``*`` matches any run of characters and a trailing ``$`` anchors the end.
The group for our agent token (``nianbao``) is used when there is one, else ``*``.

Policy (after RFC 9309):

* 2xx: obey the rules; ``Crawl-delay`` raises the host's minimum spacing (capped).
* 4xx (404, 403, 410...) and a redirect we could not follow: no usable rules, so everything is allowed.
* 5xx, network failure, timeout: the origin is treated as fully disallowed for ``retry_s`` and asked
  again after that; the crawl reports these URLs as ``robots_unavailable`` and a later run retries.

The cache is keyed by origin (scheme, host, port), not by site: two sites on one host share one fetch per
``ttl_s``, and threads asking for the same origin at once wait for a single fetch. A hostile file cannot
cost more than linear time: only the first :data:`MAX_ROBOTS_BYTES` are parsed (RFC 9309 asks for at
least 500 KiB), bytes that are not UTF-8 are read as GB18030 (Chinese portals save GBK files), and a file
protego cannot read at all is treated like a 4xx (no rules).

A site can opt out with ``politeness.robots: ignore`` plus a ``robots_reason`` (checked at load time).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

from nianbao.crawler.politeness import clamp_delay

log = logging.getLogger(__name__)

MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309 2.5: parse at least 500 KiB; what lies beyond is ignored


@dataclass(frozen=True)
class RobotsAnswer:
    """What fetching robots.txt gave: an HTTP status and body, or ``status=None`` for no answer."""

    status: int | None
    body: bytes = b""


@dataclass(frozen=True)
class RobotsVerdict:
    allowed: bool
    reason: str  # rules | no_robots | unavailable | ignored
    crawl_delay_s: float | None = None


@dataclass
class _Entry:
    rules: Protego | None  # None = allow all
    unavailable: bool
    expires_at: float


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def decode_robots(body: bytes) -> str:
    """The text of a robots.txt body: cut to :data:`MAX_ROBOTS_BYTES` at a line end, UTF-8 (BOM
    dropped) or else GB18030, undecodable bytes replaced. NUL bytes end no line and match no rule."""
    if len(body) > MAX_ROBOTS_BYTES:
        cut = body.rfind(b"\n", 0, MAX_ROBOTS_BYTES)
        body = body[: cut if cut > 0 else MAX_ROBOTS_BYTES]
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("gb18030", errors="replace")


def parse_robots(body: bytes) -> Protego | None:
    """The rules of a 2xx robots.txt body, or None (allow all) when protego cannot read it."""
    try:
        return Protego.parse(decode_robots(body))
    except Exception as exc:  # a parser bug on hostile input must not stop a crawl: no usable rules
        log.warning("robots.txt could not be parsed (%s: %s); treated as no rules", type(exc).__name__, exc)
        return None


class RobotsCache:
    """Thread-safe per-origin cache of robots.txt decisions, shared by every site of the process."""

    def __init__(self, *, ttl_s: float, retry_s: float, max_crawl_delay_s: float = 30.0) -> None:
        self.ttl_s = ttl_s
        self.retry_s = retry_s
        self.max_crawl_delay_s = max_crawl_delay_s  # Crawl-delay: 86400 must not stall a crawl for a day
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._loading: dict[str, threading.Lock] = {}  # one fetch per origin at a time

    def check(self, url: str, *, agent: str, fetch: Callable[[str], RobotsAnswer]) -> RobotsVerdict:
        """May ``agent`` fetch ``url``? ``fetch`` is called with the robots.txt URL on a cache miss."""
        origin = origin_of(url)
        entry = self._entry(origin, fetch)
        if entry.unavailable:
            return RobotsVerdict(False, "unavailable")
        if entry.rules is None:
            return RobotsVerdict(True, "no_robots")
        try:
            delay = entry.rules.crawl_delay(agent)
            allowed = entry.rules.can_fetch(url, agent)
        except (ValueError, OverflowError, UnicodeError):  # a hostile URL: no rule applies
            delay, allowed = None, True
        capped = clamp_delay(float(delay), self.max_crawl_delay_s) if delay is not None else None
        return RobotsVerdict(allowed, "rules", capped)

    def _entry(self, origin: str, fetch: Callable[[str], RobotsAnswer]) -> _Entry:
        entry = self._cached(origin)
        if entry is not None:
            return entry
        with self._lock:
            loading = self._loading.setdefault(origin, threading.Lock())
        with loading:  # a second thread for this origin waits here, then finds the first one's entry
            entry = self._cached(origin)
            if entry is None:
                entry = self._load(fetch(origin + "/robots.txt"))
                with self._lock:
                    self._entries[origin] = entry
        return entry

    def _cached(self, origin: str) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(origin)
            if entry is not None and entry.expires_at > time.monotonic():
                return entry
            return None

    def _load(self, answer: RobotsAnswer) -> _Entry:
        now = time.monotonic()
        if answer.status is None or answer.status >= 500:
            return _Entry(None, True, now + self.retry_s)
        if answer.status >= 300:
            # 4xx, or a redirect we could not follow (too many hops, off-site): RFC 9309 treats both as
            # "unavailable" in the 4xx sense, so everything is allowed.
            return _Entry(None, False, now + self.ttl_s)
        return _Entry(parse_robots(answer.body), False, now + self.ttl_s)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
