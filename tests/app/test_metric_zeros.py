"""Every metric a dashboard panel or an alert reads exists on a fresh worker's /metrics, before any task.

Real worker processes (``nianbao worker crawler|parser|validator --metrics-port``), scraped once ready.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from support import REPO_ROOT, free_port

NIANBAO = str(Path(sys.executable).parent / "nianbao")
DEPLOY = REPO_ROOT / "deploy"

_NAME = re.compile(r"\bnianbao_[a-z0-9_]+")
# Served by the admin API's queue exporter, not by a worker: every name queue_metrics.py declares.
QUEUE_METRICS = set(_NAME.findall((REPO_ROOT / "app" / "nianbao" / "app" / "queue_metrics.py").read_text("utf-8")))
# Gauges a worker must not create at 0 (see app/nianbao/app/metric_zeros.py): they appear once written.
GAUGES_NOT_ZEROED = {
    "nianbao_crawler_last_success_timestamp_seconds",
    "nianbao_validator_reports_with_errors",
    "nianbao_validator_newest_report_year",
    # a site's last discovery: 0 would claim a crawl that never ran (and complete 0 fires NianbaoDiscoveryIncomplete)
    "nianbao_crawler_discovery_announced",
    "nianbao_crawler_discovery_found",
    "nianbao_crawler_discovery_kept",
    "nianbao_crawler_discovery_complete",
    "nianbao_crawler_discovery_timestamp_seconds",
    # set by the first load of the registry (1, or 0 when it failed): 0 would fire NianbaoSiteRegistryInvalid
    "nianbao_crawler_sites_registry_ok",
}
_SUFFIXES = ("_bucket", "_count", "_sum")


def _deploy_expressions() -> list[str]:
    exprs: list[str] = []
    for path in sorted((DEPLOY / "grafana" / "dashboards").glob("*.json")):

        def walk(node: object) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    if key in ("expr", "query", "definition") and isinstance(value, str):
                        exprs.append(value)
                    else:
                        walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(json.loads(path.read_text(encoding="utf-8")))
    alerts = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    exprs += [rule["expr"] for group in alerts["groups"] for rule in group["rules"] if "expr" in rule]
    return exprs


def _base(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def deploy_metric_names() -> set[str]:
    return {_base(n) for expr in _deploy_expressions() for n in _NAME.findall(expr)}


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


@pytest.fixture
def fresh_workers(redis_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """/metrics text of each service's freshly started worker, once it is ready to consume."""
    sites = tmp_path / "sites.yaml"
    sites.write_text(
        "version: 1\nsites:\n  - {id: demo, name: 示例, family: trs, start_urls: ['http://www.example.gov.cn/']}\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "NIANBAO_BROKER_URL": redis_url,
        "NIANBAO_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "NIANBAO_SITES_FILE": str(sites),
        "NIANBAO_DATA_DIR": str(tmp_path / "data"),
    }
    from nianbao.shared.db import upgrade

    upgrade(env["NIANBAO_DATABASE_URL"])  # workers refuse to start on a database without the schema
    procs: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    try:
        for service in ("crawler", "parser", "validator"):
            port = free_port()
            proc = subprocess.Popen(
                [NIANBAO, "worker", service, "--concurrency", "1", "--metrics-port", str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(tmp_path / f"{service}.log").open("wb"),
            )
            procs[service] = (proc, port)
        texts: dict[str, str] = {}
        deadline = time.monotonic() + 90
        for service, (proc, port) in procs.items():
            log = tmp_path / f"{service}.log"
            while "ready." not in log.read_text(errors="replace"):
                assert proc.poll() is None, f"{service} worker exited:\n{log.read_text(errors='replace')[-3000:]}"
                assert time.monotonic() < deadline, f"{service} worker not ready:\n{log.read_text()[-3000:]}"
                time.sleep(0.2)
            texts[service] = _scrape(port)
        yield texts
    finally:
        for proc, _ in procs.values():
            proc.terminate()
        for proc, _ in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_deploy_expressions_are_found() -> None:
    names = deploy_metric_names()
    assert {"nianbao_crawler_requests_total", "nianbao_parser_documents_total", "nianbao_queue_depth"} <= names


def test_every_metric_of_dashboards_and_alerts_exists_on_fresh_workers(fresh_workers: dict[str, str]) -> None:
    exposed = {_base(line.split("{")[0].split(" ")[0]) for text in fresh_workers.values()
               for line in text.splitlines() if line and not line.startswith("#")}  # fmt: skip
    wanted = deploy_metric_names() - QUEUE_METRICS - GAUGES_NOT_ZEROED
    assert wanted, "no metric found in deploy/"
    assert sorted(wanted - exposed) == []


def test_label_sets_alerts_divide_by_exist_at_zero(fresh_workers: dict[str, str]) -> None:
    """The series rate()/increase() of alerts and panels read are there at 0 before any task."""
    crawler, parser, validator = fresh_workers["crawler"], fresh_workers["parser"], fresh_workers["validator"]
    for service, text in fresh_workers.items():
        for outcome in ("ok", "retry", "permanent", "invalid_message", "retries_exhausted"):
            assert f'nianbao_{service}_tasks_total{{outcome="{outcome}"}} 0.0' in text
    assert re.search(r'nianbao_crawler_requests_total\{[^}]*site="demo"[^}]*\} 0\.0', crawler)
    assert 'nianbao_crawler_challenges_total{challenge="ruishu",site="demo"} 0.0' in crawler
    assert 'nianbao_parser_documents_total{format="doc",outcome="converter_missing"} 0.0' in parser
    assert re.search(r'nianbao_parser_reports_parsed_total\{generation="unknown",outcome="unusable"\} 0\.0', parser)
    assert re.search(r'nianbao_validator_findings_total\{rule="requests\.balance",severity="\w+",status="fail"\} 0\.0',
                     validator)  # fmt: skip
    # Gauges are not zeroed: a last-success time of 0 would fire NianbaoSiteStale.
    assert "nianbao_crawler_last_success_timestamp_seconds{" not in crawler


def test_queue_metrics_are_the_admin_exporters() -> None:
    assert {"nianbao_queue_depth", "nianbao_broker_up"} <= QUEUE_METRICS
