"""robots.txt, fetched once per origin and cached.

Policy (after RFC 9309):

* 2xx: obey the rules for our agent token (``nianbao``), falling back to ``*``; ``Crawl-delay`` raises
  the host's minimum spacing.
* 4xx (404, 403, 410...): no usable rules, so everything is allowed.
* 5xx, network failure, timeout: the origin is treated as fully disallowed for ``retry_s`` and asked
  again after that; the crawl reports these URLs as ``robots_unavailable`` and a later run retries.

A site can opt out with ``politeness.robots: ignore`` plus a ``robots_reason`` (checked at load time).
"""

from __future__ import annotations

import threading
import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from nianbao.crawler.politeness import clamp_delay


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
    parser: urllib.robotparser.RobotFileParser | None  # None = allow all
    unavailable: bool
    expires_at: float


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class RobotsCache:
    """Thread-safe per-origin cache of robots.txt decisions."""

    def __init__(self, *, ttl_s: float, retry_s: float, max_crawl_delay_s: float = 30.0) -> None:
        self.ttl_s = ttl_s
        self.retry_s = retry_s
        self.max_crawl_delay_s = max_crawl_delay_s  # Crawl-delay: 86400 must not stall a crawl for a day
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def check(self, url: str, *, agent: str, fetch: Callable[[str], RobotsAnswer]) -> RobotsVerdict:
        """May ``agent`` fetch ``url``? ``fetch`` is called with the robots.txt URL on a cache miss."""
        origin = origin_of(url)
        entry = self._cached(origin)
        if entry is None:
            entry = self._load(origin, fetch(origin + "/robots.txt"))
            with self._lock:
                self._entries[origin] = entry
        if entry.unavailable:
            return RobotsVerdict(False, "unavailable")
        if entry.parser is None:
            return RobotsVerdict(True, "no_robots")
        try:
            delay = entry.parser.crawl_delay(agent)
            allowed = entry.parser.can_fetch(agent, url)
        except (ValueError, OverflowError):  # robotparser on a hostile file or URL: no rule applies
            delay, allowed = None, True
        capped = clamp_delay(float(delay), self.max_crawl_delay_s) if delay is not None else None
        return RobotsVerdict(allowed, "rules", capped)

    def _cached(self, origin: str) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(origin)
            if entry is not None and entry.expires_at > time.monotonic():
                return entry
            return None

    def _load(self, origin: str, answer: RobotsAnswer) -> _Entry:
        now = time.monotonic()
        if answer.status is None or answer.status >= 500:
            return _Entry(None, True, now + self.retry_s)
        if answer.status >= 400:
            return _Entry(None, False, now + self.ttl_s)
        if answer.status >= 300:
            # A redirect we could not follow (too many hops, off-site): RFC 9309 treats it as unavailable
            # in the 4xx sense, so everything is allowed.
            return _Entry(None, False, now + self.ttl_s)
        parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
        parser.parse(answer.body.decode("utf-8", errors="replace").splitlines())
        return _Entry(parser, False, now + self.ttl_s)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
