"""Celery beat entries: crawl each site often in the reporting season, rarely the rest of the year.

Departments publish by 31 January and local governments by 31 March, so the peak months (default
January–April) get ``peak_days_per_week`` crawls a week and the other months
``off_peak_days_per_month`` a month. Each site gets a stable minute, hour and weekday derived from its
id, so a large registry does not fire all at once and a site keeps its slot across restarts. Times are
UTC (the Celery app runs with ``enable_utc``); 16:00–21:59 UTC is 00:00–05:59 in China, off-hours for
the portals.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from celery.beat import PersistentScheduler
from celery.schedules import crontab

from nianbao.crawler.registry import RegistrySource
from nianbao.crawler.sites import SiteConfigError, SiteRegistry
from nianbao.crawler.siteschema import SiteConfig
from nianbao.shared.contracts import CrawlRequested

log = logging.getLogger(__name__)

FIRST_HOUR_UTC = 16
HOURS = 6


def _slot(site_id: str) -> int:
    return int.from_bytes(hashlib.sha256(site_id.encode()).digest()[:8], "big")


def _spread(start: int, count: int, period: int, offset: int = 0) -> list[int]:
    """``count`` values spread evenly over ``period`` from ``start`` (e.g. weekdays, days of month)."""
    return sorted({offset + (start + (i * period) // count) % period for i in range(count)})


def site_entries(site: SiteConfig) -> dict[str, dict[str, Any]]:
    slot = _slot(site.id)
    minute, hour = slot % 60, FIRST_HOUR_UTC + (slot // 60) % HOURS
    payload = {"site_id": site.id, "force": False, "reason": "schedule", "schema_version": 1}
    common = {"task": CrawlRequested.TASK, "args": [payload], "options": {"queue": CrawlRequested.QUEUE}}
    peak = sorted(set(site.schedule.peak_months))
    off = [m for m in range(1, 13) if m not in peak]
    weekdays = _spread(slot // 360, site.schedule.peak_days_per_week, 7)
    entries = {
        f"crawl:{site.id}:peak": {
            **common,
            "schedule": crontab(
                minute=minute,
                hour=hour,
                day_of_week=",".join(map(str, weekdays)),
                month_of_year=",".join(map(str, peak)),
            ),
        }
    }
    if off and site.schedule.off_peak_days_per_month:
        # days 1..28 exist in every month
        days = _spread(slot // 2520, site.schedule.off_peak_days_per_month, 28, offset=1)
        entries[f"crawl:{site.id}:off-peak"] = {
            **common,
            "schedule": crontab(
                minute=minute, hour=hour, day_of_month=",".join(map(str, days)), month_of_year=",".join(map(str, off))
            ),
        }
    return entries


def beat_schedule(registry: SiteRegistry) -> dict[str, dict[str, Any]]:
    """The ``beat_schedule`` mapping for every site of ``registry``."""
    schedule: dict[str, dict[str, Any]] = {}
    for site in registry.sites:
        schedule.update(site_entries(site))
    return schedule


REGISTRY_CHECK_S = 5.0  # beat wakes at least this often to look at the registry (a stat: cheap)


def registry_scheduler(source: RegistrySource) -> type[PersistentScheduler]:
    """A Celery beat scheduler class whose entries follow ``source``: when the registry changes (file edit
    or SIGHUP), sites added get their entries, removed ones lose them and changed schedules are rebuilt,
    without restarting beat. Entries that did not change keep their last run time. A registry that fails
    to load leaves the schedule as it was (the source logs and counts the failure)."""

    class RegistryScheduler(PersistentScheduler):  # type: ignore[misc]
        registry_source = source
        registry_seen: SiteRegistry | None = None

        def setup_schedule(self) -> None:
            self.registry_seen = self.registry_source.current()
            self.app.conf.beat_schedule = beat_schedule(self.registry_seen)
            super().setup_schedule()

        def tick(self, *args: Any, **kwargs: Any) -> float:
            self.sync_registry()
            return min(float(super().tick(*args, **kwargs)), REGISTRY_CHECK_S)

        def sync_registry(self) -> bool:
            """Rebuild the entries when the registry in use changed; True when it did."""
            try:
                registry = self.registry_source.current()
            except (OSError, SiteConfigError):  # never loaded: nothing to schedule yet, said by the source
                return False
            if registry is self.registry_seen:
                return False
            wanted = beat_schedule(registry)
            self.app.conf.beat_schedule = wanted
            self.merge_inplace(wanted)
            self.install_default_entries(self.schedule)
            self._heap = None  # entries changed in place: rebuild the heap
            self.sync()
            self.registry_seen = registry
            log.info("beat schedule follows the site registry: %d site(s), %d entries", len(registry.sites),
                     len(wanted))  # fmt: skip
            return True

    return RegistryScheduler
