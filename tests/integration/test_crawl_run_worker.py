"""The crawl_run row and the discovery gauges from a real crawler worker (Celery, Redis, PostgreSQL,
Prometheus multiprocess mode) crawling the local demo portal, plus a site whose column is gone."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from sqlmodel import select

from nianbao.app.cli import demo_registry
from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.server import DevPortal
from nianbao.shared.db import session_scope
from nianbao.shared.models import CrawlRun

from integration_support import Stack, metric_value, wait_until

pytestmark = pytest.mark.integration


def _runs(url: str) -> dict[str, CrawlRun]:
    with session_scope(url) as session:
        return {row.site_id: row for row in session.exec(select(CrawlRun)).all()}


def test_worker_records_one_row_per_run_and_the_gauges(
    stack_factory: Callable[[dict[str, object]], Stack], postgres_url: str
) -> None:
    with DevPortal() as portal:
        registry = demo_registry(portal.column_url)
        gone = dict(copy.deepcopy(registry["sites"][0]), id="gone", start_urls=[portal.url("/no-such-column/")])
        registry["sites"].append(gone)
        stack = stack_factory(registry)
        stack.cli("db", "upgrade")
        stack.start_worker("crawler", concurrency=1)
        stack.wait_ready()
        stack.cli("run")

        def finished() -> bool:
            rows = _runs(postgres_url)
            return len(rows) == 2 and all(r.finished_at is not None for r in rows.values())

        wait_until(finished, 120, lambda: f"{_runs(postgres_url)}\n{stack.log_tail('crawler')}")
        rows = _runs(postgres_url)
        demo, blocked = rows["demo"], rows["gone"]
        n = len(REPORTS)  # the demo column lists every catalogued report once
        assert (demo.family, demo.kept, demo.fetched, demo.handed_on, demo.verdict) == ("trs", n, n, n, "complete")
        assert demo.announced is not None and demo.announced <= demo.found and demo.shortfalls == []
        assert (blocked.verdict, blocked.found, blocked.fetched) == ("blocked", 0, 0)
        assert demo.run_id != blocked.run_id and len(demo.run_id) >= 32  # the crawl task's id

        text = stack.metrics("crawler")
        assert metric_value(text, "nianbao_crawler_discovery_found", site="demo") == demo.found
        assert metric_value(text, "nianbao_crawler_discovery_kept", site="demo") == n
        assert metric_value(text, "nianbao_crawler_discovery_announced", site="demo") == demo.announced
        assert metric_value(text, "nianbao_crawler_discovery_complete", site="demo") == 1
        assert metric_value(text, "nianbao_crawler_discovery_complete", site="gone") == 0
        assert 'nianbao_crawler_discovery_complete{site="gone"} 0.0' in text  # one series, not one per process
