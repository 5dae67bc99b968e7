"""Celery tasks of the crawler: thin wrappers around :func:`nianbao.crawler.handlers.crawl_site` and
:func:`nianbao.crawler.handlers.continue_crawl`.

Recovery from a killed worker is Celery's: both tasks acknowledge late, so the message of a task that
was running stays in Redis' unacked set and is delivered again after the broker's visibility timeout.
The crawl run is named by the task id (the same for every delivery and retry), so the new delivery
continues the run after its last handled candidate. Each task stops after a slice (a quarter of the
visibility timeout, at most :data:`MAX_SLICE_S`) and hands the rest of its run to ``CrawlContinued``:
a task is never still running when the broker would deliver its message a second time.
"""

from __future__ import annotations

from typing import Any

from nianbao.crawler import metrics
from nianbao.crawler.handlers import continue_crawl, crawl_site
from nianbao.crawler.registry import shared_source
from nianbao.crawler.settings import CrawlerSettings
from nianbao.crawler.sites import SiteConfigError, SiteRegistry
from nianbao.shared.bus import CeleryPublisher
from nianbao.shared.contracts import CrawlContinued, CrawlRequested
from nianbao.shared.errors import PermanentError
from nianbao.shared.rawstore import RawStore
from nianbao.shared.taskrunner import run_message_task

MAX_SLICE_S = 240.0
# The broker's visibility timeout when the settings do not say (celery_app's former constant).
DEFAULT_VISIBILITY_TIMEOUT_S = 3600.0


def slice_seconds(settings: CrawlerSettings) -> float:
    """How long one crawl task works before it hands the rest of its run on: well inside the visibility
    timeout, which also has to cover the candidate in flight when the slice ends."""
    visibility = float(getattr(settings, "broker_visibility_timeout_s", DEFAULT_VISIBILITY_TIMEOUT_S))
    return min(MAX_SLICE_S, visibility / 4)


def register_tasks(app: Any, settings: CrawlerSettings) -> None:
    """Register ``CrawlRequested.TASK`` and ``CrawlContinued.TASK`` on ``app``. The site registry is the
    process-wide :class:`~nianbao.crawler.registry.RegistrySource` of ``settings.sites_file``, watched from
    now on: an edited sites.yaml takes effect without restarting the worker (a broken edit keeps the last
    good registry and is logged and counted at once)."""
    shared_source(settings.sites_file).start_watching()
    publisher = CeleryPublisher(app)
    store = RawStore(settings.resolved_raw_store_dir())
    slice_s = slice_seconds(settings)

    def outcome(value: str) -> None:
        metrics.TASKS.labels(value).inc()

    @app.task(name=CrawlRequested.TASK, bind=True, acks_late=True, shared=False)  # type: ignore[untyped-decorator]
    def crawl_site_task(self: Any, payload: dict[str, Any]) -> None:
        run_id = str(self.request.id)  # the same for a redelivery and a retry: they continue the run
        run_message_task(
            self,
            CrawlRequested,
            payload,
            lambda message: crawl_site(
                message,
                registry=current_registry(settings),
                settings=settings,
                store=store,
                publisher=publisher,
                run_id=run_id,
                slice_s=slice_s,
            ),
            settings,
            on_outcome=outcome,
        )

    @app.task(name=CrawlContinued.TASK, bind=True, acks_late=True, shared=False)  # type: ignore[untyped-decorator]
    def continue_crawl_task(self: Any, payload: dict[str, Any]) -> None:
        run_message_task(
            self,
            CrawlContinued,
            payload,
            lambda message: continue_crawl(
                message,
                registry=current_registry(settings),
                settings=settings,
                store=store,
                publisher=publisher,
                slice_s=slice_s,
            ),
            settings,
            on_outcome=outcome,
        )


def current_registry(settings: CrawlerSettings) -> SiteRegistry:
    """The registry as the file says now (or its last good version, if the file has since become invalid);
    a file that never loaded fails the message permanently (it is recorded, and re-enqueued by the
    operator once the file is fixed) instead of burning retries."""
    try:
        return shared_source(settings.sites_file).current()
    except FileNotFoundError as exc:
        raise PermanentError(f"site registry {settings.sites_file} not found") from exc
    except SiteConfigError as exc:
        raise PermanentError(str(exc)) from exc
