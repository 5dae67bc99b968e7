"""Celery task of the crawler: a thin wrapper around :func:`nianbao.crawler.handlers.crawl_site`."""

from __future__ import annotations

from typing import Any

from nianbao.crawler import metrics
from nianbao.crawler.handlers import crawl_site
from nianbao.crawler.settings import CrawlerSettings
from nianbao.crawler.sites import SiteConfigError, SiteRegistry, load_sites
from nianbao.shared.bus import CeleryPublisher
from nianbao.shared.contracts import CrawlRequested
from nianbao.shared.errors import PermanentError
from nianbao.shared.rawstore import RawStore
from nianbao.shared.taskrunner import run_message_task


def register_tasks(app: Any, settings: CrawlerSettings) -> None:
    """Register ``CrawlRequested.TASK`` on ``app``. The site registry is read when the task runs, so
    an edited sites.yaml takes effect without restarting the worker."""
    publisher = CeleryPublisher(app)
    store = RawStore(settings.resolved_raw_store_dir())

    @app.task(name=CrawlRequested.TASK, bind=True, acks_late=True)  # type: ignore[untyped-decorator]
    def crawl_site_task(self: Any, payload: dict[str, Any]) -> None:
        run_message_task(
            self,
            CrawlRequested,
            payload,
            lambda message: crawl_site(
                message, registry=current_registry(settings), settings=settings, store=store, publisher=publisher
            ),
            settings,
            on_outcome=lambda outcome: metrics.TASKS.labels(outcome).inc(),
        )


def current_registry(settings: CrawlerSettings) -> SiteRegistry:
    """The registry as the file says now; a missing or invalid file fails the message permanently (it is
    recorded, and re-enqueued by the operator once the file is fixed) instead of burning retries."""
    try:
        return load_sites(settings.sites_file)
    except FileNotFoundError as exc:
        raise PermanentError(f"site registry {settings.sites_file} not found") from exc
    except SiteConfigError as exc:
        raise PermanentError(str(exc)) from exc
