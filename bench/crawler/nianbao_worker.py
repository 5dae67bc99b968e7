"""One nianbao crawler process of the benchmark: ``plan.threads`` threads, each taking site ids from a
Redis list shared by every process of the run and crawling them with the real
:func:`nianbao.crawler.handlers.crawl_site`, through one :class:`~nianbao.crawler.redis_limiter.RedisLimiter`
(so all processes share the per-host limits). Each process has its own raw store and its own SQLite
database, or all share the run's PostgreSQL database. The crawl is the crawler as it is: its own HTTP
client per site crawl (on the process's one TLS context) and host slots whose spacing the limiter
re-anchors on each request's send time.

    python -m bench.crawler.nianbao_worker --plan PLAN.json --index 0     (started by bench_crawl.py)
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from pathlib import Path
from typing import Any

import redis

from bench.crawler.plan import Plan, report, wait_for_go
from nianbao.crawler.crawl import CrawlSummary
from nianbao.crawler.handlers import crawl_site
from nianbao.crawler.politeness import BackoffPolicy, HostLimiter, HostRate
from nianbao.crawler.redis_limiter import RedisLimiter
from nianbao.crawler.robots import RobotsCache
from nianbao.crawler.settings import CrawlerSettings
from nianbao.crawler.sites import SiteRegistry
from nianbao.shared.bus import CollectingPublisher
from nianbao.shared.contracts import CrawlRequested
from nianbao.shared.db import upgrade
from nianbao.shared.rawstore import RawStore


def registry_document(plan: Plan) -> dict[str, Any]:
    """sites.yaml content for the farm: one TRS site per host, limited to one request per
    ``min_delay_s`` with no jitter and one request in flight."""
    politeness = {"min_delay_s": plan.min_delay_s, "jitter_s": 0.0, "max_concurrency_per_host": 1}
    return {
        "version": 1,
        "sites": [
            {
                "id": site.id,
                "name": f"模拟门户{n + 1}",
                "family": "trs",
                "start_urls": [site.start_url],
                "allowed_hosts": [site.address],
                "allow_private_addresses": True,
                "politeness": politeness,
            }
            for n, site in enumerate(plan.sites)
        ],
    }


def crawler_settings(plan: Plan, data_dir: Path) -> CrawlerSettings:
    database_url = plan.database_url or f"sqlite:///{data_dir / 'crawler.db'}"
    return CrawlerSettings(
        _env_file=None,
        data_dir=data_dir,
        database_url=database_url,
        broker_url=None,
        limiter="redis",
        limiter_redis_url=plan.redis_url,
        min_delay_s=plan.min_delay_s,
        jitter_s=0.0,
        max_concurrency_per_host=1,
        fetch_attachments=False,
        log_level="WARNING",
    )


class RecordingLimiter:
    """The run's limiter, noting when each host slot was granted: the request start as the crawler sees
    it, to compare with the arrival at the server."""

    def __init__(self, inner: HostLimiter) -> None:
        self.inner = inner
        self.starts: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, host: str, rate: HostRate, *, max_wait_s: float) -> str:
        token = self.inner.acquire(host, rate, max_wait_s=max_wait_s)
        now = time.monotonic()
        with self._lock:
            self.starts.setdefault(host, []).append(now)
        return token

    def release(self, host: str, token: str, *, sent_ago_s: float | None = None) -> None:
        self.inner.release(host, token, sent_ago_s=sent_ago_s)

    def back_off(self, host: str, policy: BackoffPolicy, *, retry_after_s: float | None = None) -> float:
        return self.inner.back_off(host, policy, retry_after_s=retry_after_s)

    def reset(self, host: str) -> None:
        self.inner.reset(host)


class Worker:
    def __init__(self, plan: Plan, index: int) -> None:
        data_dir = Path(plan.work_dir) / f"nianbao-{index}"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.plan = plan
        self.index = index
        self.settings = crawler_settings(plan, data_dir)
        if plan.database_url is None:  # a shared database is migrated once, by the orchestrator
            upgrade(self.settings.resolved_database_url())
        self.registry = SiteRegistry.from_dict(registry_document(plan))
        self.store = RawStore(self.settings.resolved_raw_store_dir())
        self.redis = redis.Redis.from_url(plan.redis_url, socket_timeout=10, socket_connect_timeout=5)
        self.limiter = RecordingLimiter(
            RedisLimiter(self.redis, lease_s=self.settings.limiter_lease_s, prefix=plan.limiter_prefix)
        )
        self.robots = RobotsCache(ttl_s=self.settings.robots_cache_s, retry_s=self.settings.robots_retry_s)
        self.publisher = CollectingPublisher()
        self.summaries: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()

    def run(self, started_at: float) -> None:
        threads = [
            threading.Thread(target=self._loop, args=(started_at,), name=f"crawl-{n}", daemon=True)
            for n in range(self.plan.threads)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _loop(self, started_at: float) -> None:
        while time.monotonic() - started_at < self.plan.deadline_s:
            raw = self.redis.lpop(self.plan.queue_key)
            if raw is None:
                return
            site_id = raw.decode() if isinstance(raw, bytes) else str(raw)
            try:
                summary = self._crawl(site_id)
            except Exception as exc:  # any failure is a finding of the run, reported with the figures
                with self._lock:
                    self.errors.append(f"{site_id}: {type(exc).__name__}: {exc}"[:300])
                continue
            with self._lock:
                self.summaries.append(
                    {
                        "site_id": site_id,
                        "pages_listed": summary.pages_listed,
                        "reports_found": summary.reports_found,
                        "fetched": summary.fetched,
                        "published": summary.published,
                        "errors": summary.errors,
                    }
                )
                if summary.errors:
                    self.errors.append(f"{site_id}: {summary.errors} report page(s) not fetched")

    def _crawl(self, site_id: str) -> CrawlSummary:
        message = CrawlRequested(site_id=site_id, reason="cli")
        return crawl_site(
            message,
            registry=self.registry,
            settings=self.settings,
            store=self.store,
            publisher=self.publisher,
            limiter=self.limiter,
            robots=self.robots,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plan", type=Path, required=True)
    parser.add_argument("--index", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    worker = Worker(Plan.load(args.plan), args.index)
    started_at = wait_for_go()
    worker.run(started_at)
    finished_at = time.monotonic()
    report(
        {
            "index": args.index,
            "threads": worker.plan.threads,
            "started_at": started_at,
            "finished_at": finished_at,
            "sites": len(worker.summaries),
            "summaries": worker.summaries,
            "published": len(worker.publisher.messages),
            "errors": worker.errors,
            "starts": worker.limiter.starts,
        }
    )


if __name__ == "__main__":
    main()
