"""Fixtures for crawler tests: migrated SQLite database, raw store, isolated limiter and robots cache,
simulated portals on loopback, and a helper that runs one crawl."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from nianbao.crawler.crawl import CrawlSummary
from nianbao.crawler.handlers import crawl_site
from nianbao.crawler.politeness import LocalLimiter
from nianbao.crawler.robots import RobotsCache
from nianbao.crawler.settings import CrawlerSettings
from nianbao.crawler.sites import SiteRegistry
from nianbao.shared.bus import CollectingPublisher
from nianbao.shared.contracts import CrawlRequested, PageFetched
from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.models import Fetch
from nianbao.shared.rawstore import RawStore

from .portal import Portal


@pytest.fixture
def settings(tmp_path: Path) -> CrawlerSettings:
    url = f"sqlite:///{tmp_path / 'crawler.db'}"
    upgrade(url)
    return CrawlerSettings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        database_url=url,
        broker_url=None,
        limiter="local",
        min_delay_s=0.0,
        jitter_s=0.0,
        backoff_base_s=60.0,
        backoff_max_wait_s=0.5,
        connect_timeout_s=5.0,
        read_timeout_s=5.0,
    )


@pytest.fixture
def store(settings: CrawlerSettings) -> RawStore:
    return RawStore(settings.resolved_raw_store_dir())


@pytest.fixture
def portal() -> Iterator[Portal]:
    with Portal() as running:
        yield running


def site_entry(portal: Portal, start: str | list[str], **overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": "sim",
        "name": "模拟门户",
        "family": "trs",
        "start_urls": [portal.url(s) for s in ([start] if isinstance(start, str) else start)],
        "allowed_hosts": ["127.0.0.1"],
        "allow_private_addresses": True,
        "politeness": {"min_delay_s": 0.0, "jitter_s": 0.0},
    }
    entry.update(overrides)
    return entry


@dataclass
class Crawler:
    settings: CrawlerSettings
    store: RawStore
    limiter: LocalLimiter
    robots: RobotsCache

    def run(self, entry: dict[str, Any], *, force: bool = False) -> tuple[CrawlSummary, list[PageFetched]]:
        registry = SiteRegistry.from_dict({"version": 1, "sites": [entry]})
        publisher = CollectingPublisher()
        summary = crawl_site(CrawlRequested(site_id=entry["id"], force=force), registry=registry,
                             settings=self.settings, store=self.store, publisher=publisher,
                             limiter=self.limiter, robots=self.robots)
        return summary, [m for m in publisher.messages if isinstance(m, PageFetched)]

    def fetch_rows(self) -> list[Fetch]:
        with session_scope(self.settings.resolved_database_url()) as session:
            return list(session.exec(select(Fetch).order_by(Fetch.id)).all())  # type: ignore[arg-type]


@pytest.fixture
def crawler(settings: CrawlerSettings, store: RawStore) -> Crawler:
    return Crawler(settings, store, LocalLimiter(), RobotsCache(ttl_s=3600, retry_s=600))
