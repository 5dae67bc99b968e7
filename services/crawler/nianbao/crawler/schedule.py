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
from typing import Any

from celery.schedules import crontab

from nianbao.crawler.sites import SiteRegistry
from nianbao.crawler.siteschema import SiteConfig
from nianbao.shared.contracts import CrawlRequested

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
