"""The admin API over real HTTP, as the stack runs it: a `nianbao admin` process with a token, Redis as
broker and PostgreSQL as database. A recrawl puts a crawl task on the broker's crawler queue."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import yaml

from integration_support import NIANBAO
from support import free_port, task_args

pytestmark = pytest.mark.integration
TOKEN = "s3cret-admin-token"


def _env(redis_url: str, postgres_url: str, tmp_path: Path, token: str | None) -> dict[str, str]:
    sites = tmp_path / "sites.yaml"
    sites.write_text(
        yaml.safe_dump({"version": 1, "sites": [{"id": "cq", "name": "重庆市人民政府", "family": "trs",
                                                  "start_urls": ["https://www.cq.gov.cn/zwgk/zfxxgkml/zfxxgknb/"]}]},
                       allow_unicode=True),
        encoding="utf-8",
    )  # fmt: skip
    env = {"PATH": "/usr/bin:/bin", "NIANBAO_BROKER_URL": redis_url, "NIANBAO_DATABASE_URL": postgres_url,
           "NIANBAO_DATA_DIR": str(tmp_path / "data"), "NIANBAO_SITES_FILE": str(sites)}  # fmt: skip
    if token:
        env["NIANBAO_ADMIN_TOKEN"] = token
    return env


@pytest.fixture
def admin_url(redis_url: str, postgres_url: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "admin.log").open("wb")
    proc = subprocess.Popen([NIANBAO, "admin", "--port", str(port)], env=_env(redis_url, postgres_url, tmp_path, TOKEN),
                            stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise AssertionError((tmp_path / "admin.log").read_text())
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def test_no_token_configured_refuses_to_start(redis_url: str, postgres_url: str, tmp_path: Path) -> None:
    result = subprocess.run([NIANBAO, "admin", "--port", str(free_port())], capture_output=True, text=True,
                            env=_env(redis_url, postgres_url, tmp_path, None), timeout=60)  # fmt: skip
    assert result.returncode == 2
    assert "NIANBAO_ADMIN_TOKEN is not set" in result.stderr


def test_auth_errors_and_recrawl_enqueues_a_crawl_task(admin_url: str, redis_url: str) -> None:
    assert httpx.get(f"{admin_url}/healthz").json() == {"status": "ok"}
    missing = httpx.get(f"{admin_url}/sites")
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
    wrong = httpx.get(f"{admin_url}/sites", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "forbidden"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert [s["id"] for s in httpx.get(f"{admin_url}/sites", headers=auth).json()["sites"]] == ["cq"]
    unknown = httpx.post(f"{admin_url}/sites/nope/recrawl", headers=auth)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_site"
    assert httpx.get(f"{admin_url}/reports", headers=auth).json() == {"total": 0, "reports": []}
    assert httpx.get(f"{admin_url}/findings", headers=auth).json() == {"total": 0, "findings": []}
    bad = httpx.get(f"{admin_url}/findings?status=bogus", headers=auth)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"

    client = redis.Redis.from_url(redis_url)
    assert client.llen("crawler") == 0
    accepted = httpx.post(f"{admin_url}/sites/cq/recrawl", headers=auth)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["task"] == "nianbao.crawler.crawl_site"
    [raw] = client.lrange("crawler", 0, -1)
    envelope = json.loads(raw)
    assert envelope["headers"]["task"] == "nianbao.crawler.crawl_site"
    args = task_args(raw)
    assert args[0]["site_id"] == "cq" and args[0]["force"] is True and args[0]["reason"] == "api"


def test_metrics_report_queue_depth_and_age(admin_url: str, redis_url: str) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.post(f"{admin_url}/sites/cq/recrawl", headers=auth).status_code == 202
    time.sleep(1.1)
    text = httpx.get(f"{admin_url}/metrics/").text
    assert 'nianbao_queue_depth{queue="crawler"} 1.0' in text
    assert 'nianbao_queue_depth{queue="parser"} 0.0' in text
    age = float(next(line.split()[-1] for line in text.splitlines()
                     if line.startswith('nianbao_queue_oldest_age_seconds{queue="crawler"}')))  # fmt: skip
    assert 1.0 <= age < 60
    assert "nianbao_broker_up 1.0" in text
