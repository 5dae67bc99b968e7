"""The handler's error contract, the Celery task registration, and the metrics a crawl leaves behind."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from celery import Celery
from prometheus_client import REGISTRY

from nianbao.crawler.handlers import crawl_site
from nianbao.crawler.sites import SiteRegistry
from nianbao.crawler.tasks import current_registry, register_tasks
from nianbao.shared.bus import CollectingPublisher
from nianbao.shared.contracts import CrawlContinued, CrawlRequested
from nianbao.shared.errors import PermanentError, TransientError

from .conftest import Crawler, site_entry
from .portal import Article, Portal, Response, build_trs

REPORT = Article("20240115", 1, "2023年度政府信息公开工作年度报告")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unknown_site_is_permanent(crawler: Crawler) -> None:
    with pytest.raises(PermanentError, match="'ghost' is not configured"):
        crawl_site(CrawlRequested(site_id="ghost"), registry=SiteRegistry([]), settings=crawler.settings,
                   store=crawler.store, publisher=CollectingPublisher())


@pytest.mark.parametrize("robots", ["obey", "ignore"])
def test_unreachable_start_url_is_transient(crawler: Crawler, robots: str) -> None:
    port = _closed_port()
    entry = {"id": "down", "name": "离线", "family": "trs", "allowed_hosts": ["127.0.0.1"],
             "start_urls": [f"http://127.0.0.1:{port}/zfxxgknb/"], "allow_private_addresses": True,
             "politeness": {"min_delay_s": 0, "robots": robots, "robots_reason": "test"}}
    with pytest.raises(TransientError, match="no listing page could be read"):
        crawler.run(entry)


@pytest.mark.parametrize(("status", "error"), [(503, TransientError), (404, PermanentError)])
def test_start_url_http_errors(portal: Portal, crawler: Crawler, status: int, error: type[Exception]) -> None:
    portal.routes["/zfxxgknb/index.html"] = Response(status, b"")
    with pytest.raises(error, match=f"HTTP {status}"):
        crawler.run(site_entry(portal, "/zfxxgknb/index.html"))


def test_challenge_is_a_distinct_outcome(portal: Portal, crawler: Crawler) -> None:
    shell = b"<html><script>document.cookie='__jsl_clearance=1';location.href=location.href</script></html>"
    portal.routes["/zfxxgknb/index.html"] = Response(521, shell, {"Content-Type": "text/html"})
    before = REGISTRY.get_sample_value("nianbao_crawler_challenges_total", {"site": "sim", "challenge": "jiasule"})
    with pytest.raises(PermanentError, match="challenge"):
        crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    row = next(r for r in crawler.fetch_rows() if r.kind == "listing")
    assert (row.outcome, row.status_code) == ("challenge", 521)
    after = REGISTRY.get_sample_value("nianbao_crawler_challenges_total", {"site": "sim", "challenge": "jiasule"})
    assert after == (before or 0) + 1


def test_metrics_after_a_crawl(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", [REPORT], etags=True)

    def sample(name: str, labels: dict[str, str]) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    ok = {"site": "sim", "kind": "page", "outcome": "ok", "status_class": "2xx"}
    new = {"site": "sim", "family": "trs", "state": "new"}
    before = (sample("nianbao_crawler_requests_total", ok), sample("nianbao_crawler_reports_total", new),
              sample("nianbao_crawler_not_modified_total", {"site": "sim"}))
    entry = site_entry(portal, "/zfxxgknb/index.html")
    crawler.run(entry)
    crawler.run(entry)
    assert sample("nianbao_crawler_requests_total", ok) == before[0] + 1
    assert sample("nianbao_crawler_reports_total", new) == before[1] + 1
    assert sample("nianbao_crawler_not_modified_total", {"site": "sim"}) == before[2] + 1
    assert sample("nianbao_crawler_last_success_timestamp_seconds", {"site": "sim"}) > 1.7e9
    assert sample("nianbao_crawler_request_seconds_count", {"kind": "page"}) >= 2


def test_register_tasks_binds_the_contract_name(crawler: Crawler) -> None:
    app = Celery("test-crawler", broker="memory://")
    register_tasks(app, crawler.settings)
    task = app.tasks[CrawlRequested.TASK]
    assert task.acks_late is True
    assert task.name == "nianbao.crawler.crawl_site"
    continuation = app.tasks[CrawlContinued.TASK]  # a slice hands the rest of its run to this one
    assert continuation.acks_late is True
    assert continuation.name == "nianbao.crawler.continue_crawl"


def test_task_registry_problems_are_permanent(crawler: Crawler, tmp_path: Path) -> None:
    crawler.settings.sites_file = tmp_path / "missing.yaml"
    with pytest.raises(PermanentError, match="not found"):
        current_registry(crawler.settings)
    crawler.settings.sites_file = tmp_path / "bad.yaml"
    crawler.settings.sites_file.write_text("sites: [{id: x}]\n", encoding="utf-8")
    with pytest.raises(PermanentError, match="required field is missing"):
        current_registry(crawler.settings)


def test_limiter_choice_follows_settings() -> None:
    from nianbao.crawler.settings import CrawlerSettings

    def make(**values: object) -> CrawlerSettings:
        return CrawlerSettings(_env_file=None, **values)  # type: ignore[arg-type, call-arg]

    assert make(broker_url="redis://r:6379/0").resolved_limiter_redis_url() == "redis://r:6379/0"
    assert make(broker_url="redis://r:6379/0", limiter="local").resolved_limiter_redis_url() is None
    assert make(broker_url=None).resolved_limiter_redis_url() is None
    assert make(limiter_redis_url="redis://l/1", broker_url="amqp://x").resolved_limiter_redis_url() == "redis://l/1"
    with pytest.raises(ValueError, match="needs"):
        make(limiter="redis", broker_url=None).resolved_limiter_redis_url()
    assert make().user_agent.startswith("nianbao/0.1 (+http")
