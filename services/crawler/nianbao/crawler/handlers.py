"""The crawler's message handler: ``CrawlRequested`` in, ``PageFetched`` out (via the publisher).

Plain function, no Celery: the task, the embedded bus and the tests all call :func:`crawl_site`.
"""

from __future__ import annotations

import httpx

from nianbao.crawler.client import build_client, shared_limiter, shared_robots
from nianbao.crawler.crawl import CrawlSummary, run_crawl
from nianbao.crawler.fetching import SiteFetcher
from nianbao.crawler.politeness import HostLimiter
from nianbao.crawler.robots import RobotsCache
from nianbao.crawler.settings import CrawlerSettings
from nianbao.crawler.sites import SiteRegistry, UnknownSite
from nianbao.crawler.state import CrawlState
from nianbao.shared.bus import Publisher
from nianbao.shared.contracts import CrawlRequested
from nianbao.shared.errors import PermanentError
from nianbao.shared.rawstore import RawStore


def crawl_site(
    message: CrawlRequested,
    *,
    registry: SiteRegistry,
    settings: CrawlerSettings,
    store: RawStore,
    publisher: Publisher,
    client: httpx.Client | None = None,
    limiter: HostLimiter | None = None,
    robots: RobotsCache | None = None,
) -> CrawlSummary:
    """Crawl the site named by ``message`` and publish ``PageFetched`` for new or changed report pages
    (for every fetched report page when ``message.force``).

    Writes the ``site`` row and one ``fetch`` row per HTTP attempt to ``settings``' database, which must
    be migrated. Raises PermanentError for an unknown site or a start URL that cannot work as
    configured, TransientError when the site is unreachable for now. ``client`` (tests) replaces the
    address-guarded client; ``limiter``/``robots`` default to the process-wide ones.
    """
    try:
        site = registry.get(message.site_id)
    except UnknownSite as exc:
        raise PermanentError(f"site {message.site_id!r} is not configured in the site registry") from exc
    state = CrawlState(settings.resolved_database_url())
    state.upsert_site(site)
    own_client = client is None
    http = client if client is not None else build_client(site, settings)
    try:
        fetcher = SiteFetcher(
            site=site,
            settings=settings,
            client=http,
            store=store,
            state=state,
            limiter=limiter or shared_limiter(settings),
            robots=robots or shared_robots(settings),
            forced=message.force,
        )
        return run_crawl(fetcher=fetcher, force=message.force, settings=settings, publisher=publisher)
    finally:
        if own_client:
            http.close()
