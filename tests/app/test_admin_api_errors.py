"""The admin API under operator mistakes: token rules, hidden docs, one error shape, 503 when a backend
is down, no token in the access log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from nianbao.app.admin_api import AdminConfigError, RedactToken, create_app
from nianbao.app.settings import AppSettings
from nianbao.crawler.sites import SiteRegistry
from nianbao.shared.bus import CollectingPublisher
from nianbao.shared.db import upgrade

TOKEN = "s3cret-token-value"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REGISTRY = {
    "version": 1,
    "sites": [{"id": "demo", "name": "示例", "family": "trs", "start_urls": ["http://www.example.gov.cn/"]}],
}


def make_client(database_url: str, broker_url: str | None = None, publisher: Any = None) -> TestClient:
    settings = AppSettings(admin_token=SecretStr(TOKEN), database_url=database_url, broker_url=broker_url)
    api = create_app(settings, SiteRegistry.from_dict(REGISTRY), publisher)
    return TestClient(api, raise_server_exceptions=False)


@pytest.fixture
def client(sqlite_url: str) -> Iterator[TestClient]:
    upgrade(sqlite_url)
    with make_client(sqlite_url) as c:
        yield c


def assert_error_shape(response: Any, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return dict(body["error"])


@pytest.mark.parametrize("token", ["", "   ", "\t\n"])
def test_blank_token_refused_at_start(token: str, sqlite_url: str) -> None:
    settings = AppSettings(admin_token=SecretStr(token), database_url=sqlite_url)
    with pytest.raises(AdminConfigError, match="NIANBAO_ADMIN_TOKEN"):
        create_app(settings, SiteRegistry.from_dict(REGISTRY), None)


def test_docs_are_off_and_schema_needs_the_token(client: TestClient) -> None:
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert_error_shape(client.get(path), 404)
    assert_error_shape(client.get("/openapi.json"), 401)
    assert_error_shape(client.get("/openapi.json", headers={"Authorization": "Bearer wrong"}), 403)
    schema = client.get("/openapi.json", headers=AUTH)
    assert schema.status_code == 200 and "/findings" in schema.json()["paths"]


def test_every_error_has_the_documented_shape(client: TestClient) -> None:
    assert assert_error_shape(client.get("/nosuch", headers=AUTH), 404)["code"] == "not_found"
    assert assert_error_shape(client.delete("/sites", headers=AUTH), 405)["code"] == "method_not_allowed"
    assert assert_error_shape(client.get("/findings?status=bogus", headers=AUTH), 422)["code"] == "invalid_request"
    assert assert_error_shape(client.get("/reports?limit=0", headers=AUTH), 422)["code"] == "invalid_request"
    assert assert_error_shape(client.get("/sites"), 401)["code"] == "unauthorized"
    assert assert_error_shape(client.post("/sites/nope/recrawl", headers=AUTH), 404)["code"] == "unknown_site"
    assert assert_error_shape(client.post("/sites/demo/recrawl", headers=AUTH), 503)["code"] == "no_broker"


def test_token_with_surrounding_whitespace_in_the_setting_still_matches(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    settings = AppSettings(admin_token=SecretStr(f" {TOKEN}\n"), database_url=sqlite_url)
    with TestClient(create_app(settings, SiteRegistry.from_dict(REGISTRY), None)) as c:
        assert c.get("/sites", headers=AUTH).status_code == 200


def test_database_down_is_503(postgres_url: str) -> None:
    down = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    with make_client(down) as c:
        for path in ("/healthz", "/reports", "/findings"):
            error = assert_error_shape(c.get(path, headers=AUTH), 503)
            assert error["code"] == "database_unavailable" and "NIANBAO_DATABASE_URL" in error["message"]
            assert "nobody" not in error["message"]
    upgrade(postgres_url)
    with make_client(postgres_url) as c:
        assert c.get("/healthz").json() == {"status": "ok"}


def test_broker_down_is_503_on_recrawl(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    publisher = CollectingPublisher()
    with make_client(sqlite_url, broker_url="redis://127.0.0.1:1/0", publisher=publisher) as c:
        error = assert_error_shape(c.post("/sites/demo/recrawl", headers=AUTH), 503)
        assert error["code"] == "broker_unavailable" and "NIANBAO_BROKER_URL" in error["message"]
        assert publisher.messages == []
        metrics = c.get("/metrics/")
        assert metrics.status_code == 200 and "nianbao_broker_up 0.0" in metrics.text


def test_broker_up_recrawl_enqueues(sqlite_url: str, redis_url: str) -> None:
    upgrade(sqlite_url)
    publisher = CollectingPublisher()
    with make_client(sqlite_url, broker_url=redis_url, publisher=publisher) as c:
        response = c.post("/sites/demo/recrawl", headers=AUTH)
        assert response.status_code == 202 and len(publisher.messages) == 1


def test_internal_error_is_500_in_shape(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import nianbao.app.admin_api as admin_api

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(admin_api, "list_reports", boom)
    upgrade(sqlite_url)
    with make_client(sqlite_url) as c:
        error = assert_error_shape(c.get("/reports", headers=AUTH), 500)
        assert error["code"] == "internal_error" and "boom" not in error["message"]


def test_token_never_reaches_the_access_log(caplog: pytest.LogCaptureFixture, client: TestClient) -> None:
    access = logging.getLogger("uvicorn.access")
    assert any(isinstance(f, RedactToken) for f in access.filters)
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        # The record uvicorn writes for one request: client, method, path with query, HTTP version, status.
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                    f"/reports?token={TOKEN}&access_token=abc&site=demo&x={TOKEN}", "1.1", 200)  # fmt: skip
    line = caplog.records[-1].getMessage()
    assert TOKEN not in line and "abc" not in line
    assert "site=demo" in line and "token=***" in line and "access_token=***" in line
