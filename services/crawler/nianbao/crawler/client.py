"""The HTTP client a site crawl uses, and the process-wide limiter and robots cache.

The client is built per site crawl because the address policy is per site (loopback only for sites
that allow it); the limiter and robots cache live for the whole process so that politeness and robots
decisions carry over between crawls.
"""

from __future__ import annotations

import threading

import httpx

from nianbao.crawler.netguard import AddressPolicy, GuardedTransport
from nianbao.crawler.politeness import HostLimiter, LocalLimiter
from nianbao.crawler.robots import RobotsCache
from nianbao.crawler.settings import CrawlerSettings
from nianbao.crawler.siteschema import SiteConfig

_lock = threading.Lock()
_limiters: dict[str | None, HostLimiter] = {}
_robots: dict[tuple[float, float, float], RobotsCache] = {}


def address_policy(site: SiteConfig, settings: CrawlerSettings) -> AddressPolicy:
    return AddressPolicy(
        allow_loopback=settings.allow_loopback or site.allow_private_addresses,
        allow_private=site.allow_private_addresses,
    )


def build_client(site: SiteConfig, settings: CrawlerSettings) -> httpx.Client:
    """An httpx client whose connections are checked against the site's address policy."""
    timeout = site.http.timeout_s or settings.read_timeout_s
    return httpx.Client(
        transport=GuardedTransport(
            address_policy(site, settings), limits=httpx.Limits(max_connections=4, max_keepalive_connections=2)
        ),
        timeout=httpx.Timeout(timeout, connect=settings.connect_timeout_s),
        follow_redirects=False,
        trust_env=False,
    )


def shared_limiter(settings: CrawlerSettings) -> HostLimiter:
    """Redis-backed when a Redis URL is configured (all worker processes share it), else in-process."""
    url = settings.resolved_limiter_redis_url()
    with _lock:
        limiter = _limiters.get(url)
        if limiter is None:
            if url is None:
                limiter = LocalLimiter()
            else:
                from nianbao.crawler.redis_limiter import RedisLimiter

                limiter = RedisLimiter.from_url(url, lease_s=settings.limiter_lease_s)
            _limiters[url] = limiter
        return limiter


def shared_robots(settings: CrawlerSettings) -> RobotsCache:
    key = (settings.robots_cache_s, settings.robots_retry_s, settings.max_crawl_delay_s)
    with _lock:
        cache = _robots.get(key)
        if cache is None:
            cache = RobotsCache(
                ttl_s=settings.robots_cache_s,
                retry_s=settings.robots_retry_s,
                max_crawl_delay_s=settings.max_crawl_delay_s,
            )
            _robots[key] = cache
        return cache
