"""The admin HTTP API for automation: list sites, reports and findings, and trigger a recrawl.

Every endpoint but ``/healthz`` requires ``Authorization: Bearer <NIANBAO_ADMIN_TOKEN>``; with no token
configured the API refuses to start. Errors are JSON: ``{"error": {"code": ..., "message": ...}}``.
"""

from __future__ import annotations

import hmac
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text

from nianbao.app.queries import list_findings, list_reports
from nianbao.app.settings import AppSettings
from nianbao.shared.db import session_scope


class AdminConfigError(Exception):
    """The admin API cannot start as configured."""


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def create_app(settings: AppSettings, registry: Any, publisher: Any | None) -> FastAPI:
    """Build the API. ``publisher`` sends CrawlRequested (None: no broker, recrawl answers 503).

    ``/metrics`` (unauthenticated, like ``/healthz``: Prometheus scrapes it) serves the broker's queue
    depth and age."""
    if settings.admin_token is None or not settings.admin_token.get_secret_value():
        raise AdminConfigError("NIANBAO_ADMIN_TOKEN is not set: the admin API refuses to start without a token")
    token = settings.admin_token.get_secret_value().encode()
    db_url = settings.resolved_database_url()
    api = FastAPI(title="nianbao admin", version="1")

    @api.exception_handler(HTTPException)
    async def _http_error(_: Request, exc: HTTPException) -> JSONResponse:
        code, message = exc.detail if isinstance(exc.detail, tuple) else ("error", str(exc.detail))
        response = _error(exc.status_code, code, message)
        if exc.status_code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(
            422, "invalid_request", "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        )

    def require_token(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value:
            raise HTTPException(401, ("unauthorized", "missing bearer token"))
        if not hmac.compare_digest(value.strip().encode(), token):
            raise HTTPException(403, ("forbidden", "wrong token"))

    authed = [Depends(require_token)]

    if settings.broker_url:
        import redis
        from prometheus_client import CollectorRegistry, make_asgi_app

        from nianbao.app.queue_metrics import QueueCollector

        metrics_registry = CollectorRegistry()
        metrics_registry.register(QueueCollector(redis.Redis.from_url(settings.broker_url, socket_timeout=2)))
        api.mount("/metrics", make_asgi_app(registry=metrics_registry))

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        with session_scope(db_url) as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok"}

    @api.get("/sites", dependencies=authed)
    def sites() -> dict[str, Any]:
        return {
            "sites": [
                {"id": s.id, "name": s.name, "family": s.family, "start_urls": list(s.start_urls)}
                for s in registry.sites
            ]
        }

    @api.post("/sites/{site_id}/recrawl", status_code=202, dependencies=authed)
    def recrawl(site_id: str) -> dict[str, Any]:
        from nianbao.crawler.sites import UnknownSite
        from nianbao.shared.contracts import CrawlRequested

        try:
            registry.get(site_id)
        except UnknownSite:
            raise HTTPException(404, ("unknown_site", f"no site {site_id!r} in the registry")) from None
        if publisher is None:
            raise HTTPException(503, ("no_broker", "NIANBAO_BROKER_URL is not configured"))
        message = CrawlRequested(site_id=site_id, force=True, reason="api")
        publisher.publish(message)
        return {
            "enqueued": True,
            "site_id": site_id,
            "task": message.TASK,
            "queue": message.QUEUE,
            "requested_at": message.requested_at.isoformat(),
        }

    @api.get("/reports", dependencies=authed)
    def reports(
        site: Annotated[str | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        with session_scope(db_url) as session:
            rows = list_reports(session, site)
        return {"total": len(rows), "reports": [asdict(r) for r in rows[offset : offset + limit]]}

    @api.get("/findings", dependencies=authed)
    def findings(
        site: Annotated[str | None, Query()] = None,
        rule: Annotated[str | None, Query()] = None,
        status: Annotated[str, Query(pattern="^(fail|pass|not_assessable|all)$")] = "fail",
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        with session_scope(db_url) as session:
            rows = list_findings(session, site_id=site, rule=rule, status=None if status == "all" else status)
        return {"total": len(rows), "findings": [asdict(r) for r in rows[offset : offset + limit]]}

    return api
