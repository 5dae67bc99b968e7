"""The crawler's message handlers: ``CrawlRequested`` and ``CrawlContinued`` in, ``PageFetched`` out (via
the publisher, after the outbox commit), and ``CrawlContinued`` when a slice ends.

Plain functions, no Celery: the tasks, the embedded bus and the tests all call :func:`crawl_site` and
:func:`continue_crawl`.
"""

from __future__ import annotations

import uuid

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
from nianbao.shared.contracts import CrawlContinued, CrawlRequested
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
    run_id: str | None = None,
    slice_s: float | None = None,
) -> CrawlSummary:
    """Crawl the site named by ``message`` and publish ``PageFetched`` for new or changed report pages
    (for every fetched report page when ``message.force``).

    ``run_id`` names the crawl run: a second call with the same id (a redelivered or retried task)
    continues the run after its last handled candidate instead of crawling again; None starts a new run.
    ``slice_s``: stop after about that long and publish a ``CrawlContinued`` for the rest (None: crawl
    to the end, as embedded mode does).

    Writes the ``site`` row, one ``fetch`` row per HTTP attempt, the run's checkpoint and its outbox rows
    to ``settings``' database, which must be migrated. Raises PermanentError for an unknown site or a
    start URL that cannot work as configured, TransientError when the site is unreachable for now or a
    hand-off cannot be published. ``client`` (tests) replaces the address-guarded client;
    ``limiter``/``robots`` default to the process-wide ones.
    """
    return _crawl(
        message.site_id,
        force=message.force,
        run_id=run_id or uuid.uuid4().hex,
        discover_if_new=True,
        registry=registry,
        settings=settings,
        store=store,
        publisher=publisher,
        client=client,
        limiter=limiter,
        robots=robots,
        slice_s=slice_s,
    )


def continue_crawl(
    message: CrawlContinued,
    *,
    registry: SiteRegistry,
    settings: CrawlerSettings,
    store: RawStore,
    publisher: Publisher,
    client: httpx.Client | None = None,
    limiter: HostLimiter | None = None,
    robots: RobotsCache | None = None,
    slice_s: float | None = None,
) -> CrawlSummary:
    """Go on with crawl run ``message.run_id`` where it stopped (a no-op for a run that is finished,
    unknown or pruned). Same writes, errors and ``slice_s`` as :func:`crawl_site`."""
    return _crawl(
        message.site_id,
        force=message.force,
        run_id=message.run_id,
        discover_if_new=False,
        registry=registry,
        settings=settings,
        store=store,
        publisher=publisher,
        client=client,
        limiter=limiter,
        robots=robots,
        slice_s=slice_s,
    )


def _crawl(
    site_id: str,
    *,
    force: bool,
    run_id: str,
    discover_if_new: bool,
    registry: SiteRegistry,
    settings: CrawlerSettings,
    store: RawStore,
    publisher: Publisher,
    client: httpx.Client | None,
    limiter: HostLimiter | None,
    robots: RobotsCache | None,
    slice_s: float | None,
) -> CrawlSummary:
    try:
        site = registry.get(site_id)
    except UnknownSite as exc:
        raise PermanentError(f"site {site_id!r} is not configured in the site registry") from exc
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
            forced=force,
        )
        return run_crawl(
            fetcher=fetcher,
            force=force,
            settings=settings,
            publisher=publisher,
            run_id=run_id,
            slice_s=slice_s,
            discover_if_new=discover_if_new,
        )
    finally:
        if own_client:
            http.close()
