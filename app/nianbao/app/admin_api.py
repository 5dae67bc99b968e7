"""The admin HTTP API for automation: sites, reports, findings, task failures and site summaries, a recrawl,
and (mounted under ``/ui``) the read-only web view (:mod:`nianbao.app.web`), whose errors are HTML pages.

Every endpoint but ``/healthz`` and ``/metrics`` requires ``Authorization: Bearer <NIANBAO_ADMIN_TOKEN>``,
the OpenAPI schema (``/openapi.json``) included; ``/docs`` and ``/redoc`` are off (a browser cannot send
the bearer token they would need). With no token, or a blank one, the API refuses to start. Every API
error is JSON: ``{"error": {"code": ..., "message": ...}}`` (404 and 405 of unknown routes, 422 and 500 too);
a database or broker that cannot be reached is a 503, not a 500. The token never reaches the access log:
the configured token, and any ``token``-like query parameter, are replaced by ``***`` in uvicorn's lines.
"""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from nianbao.app.queries import count_findings, count_reports, list_findings, list_reports
from nianbao.app.settings import AppSettings
from nianbao.shared.db import session_scope


class AdminConfigError(Exception):
    """The admin API cannot start as configured."""


log = logging.getLogger(__name__)

_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type", 429: "too_many_requests",
                 503: "unavailable"}  # fmt: skip
_SECRET_PARAM = re.compile(r"((?:^|[?&;])[^=&;]*(?:token|key|secret|password|auth)[^=&;]*=)[^&;\s\"]*", re.IGNORECASE)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


class RedactToken(logging.Filter):
    """Replaces the admin token, and the value of every token-like query parameter, by ``***`` in log
    records (installed on ``uvicorn.access`` and ``uvicorn.error``)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def _clean(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if self.token:
            value = value.replace(self.token, "***")
        return _SECRET_PARAM.sub(r"\1***", value)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: self._clean(v) for k, v in record.args.items()}
        if isinstance(record.msg, str):
            record.msg = self._clean(record.msg)
        return True


def install_log_redaction(token: str) -> None:
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.filters = [f for f in logger.filters if not isinstance(f, RedactToken)]
        logger.addFilter(RedactToken(token))


def _unavailable_types() -> tuple[type[Exception], ...]:
    import redis
    import sqlalchemy.exc
    from kombu.exceptions import OperationalError as KombuOperationalError

    return (
        sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError, KombuOperationalError,
    )  # fmt: skip


def unavailable_reason(exc: BaseException) -> tuple[str, str] | None:
    """(code, message) when ``exc`` means the database or the broker cannot be reached."""
    import redis
    import sqlalchemy.exc
    from kombu.exceptions import OperationalError as KombuOperationalError

    node: BaseException | None = exc
    for _ in range(10):
        if node is None:
            break
        if isinstance(node, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError):
            return "database_unavailable", "the database cannot be reached (NIANBAO_DATABASE_URL)"
        if isinstance(node, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError | KombuOperationalError):
            return "broker_unavailable", "the broker cannot be reached (NIANBAO_BROKER_URL)"
        node = node.__cause__ or node.__context__
    return None


def create_app(settings: AppSettings, registry: Any, publisher: Any | None) -> FastAPI:
    """Build the API. ``publisher`` sends CrawlRequested (None: no broker, recrawl answers 503).

    ``/metrics`` (unauthenticated, like ``/healthz``: Prometheus scrapes it) serves the broker's queue
    depth and age."""
    if settings.admin_token is None or not settings.admin_token.get_secret_value().strip():
        raise AdminConfigError(
            "NIANBAO_ADMIN_TOKEN is not set or blank: the admin API refuses to start without a token"
        )
    secret = settings.admin_token.get_secret_value().strip()
    token = secret.encode()
    install_log_redaction(secret)
    db_url = settings.resolved_database_url()
    api = FastAPI(title="nianbao admin", version="1", docs_url=None, redoc_url=None, openapi_url=None)

    @api.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.detail, tuple):
            code, message = exc.detail
        else:
            code, message = _STATUS_CODES.get(exc.status_code, "error"), str(exc.detail)
        response = _error(exc.status_code, code, message)
        if exc.status_code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        if exc.headers and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response

    async def _unavailable_error(request: Request, exc: Exception) -> JSONResponse:
        unavailable = unavailable_reason(exc)
        if unavailable is None:
            return await _internal_error(request, exc)
        detail = (str(exc).splitlines() or [""])[0][:300]
        log.warning("%s %s: %s: %s", request.method, request.url.path, unavailable[1], detail)
        return _error(503, *unavailable)

    for exc_type in _unavailable_types():  # handled here, not re-raised as 500s
        api.add_exception_handler(exc_type, _unavailable_error)

    @api.exception_handler(Exception)
    async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
        unavailable = unavailable_reason(exc)
        if unavailable is not None:
            return _error(503, *unavailable)
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return _error(500, "internal_error", "internal error (see the admin API's log)")

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

    @api.get("/openapi.json", dependencies=authed, include_in_schema=False)
    def openapi() -> dict[str, Any]:
        return api.openapi()

    if settings.broker_url:
        import redis
        from prometheus_client import CollectorRegistry, make_asgi_app

        from nianbao.app.queue_metrics import QueueCollector

        metrics_registry = CollectorRegistry()
        metrics_registry.register(QueueCollector(redis.Redis.from_url(settings.broker_url, socket_timeout=2)))
        api.mount("/metrics", make_asgi_app(registry=metrics_registry))

    from nianbao.app.web import create_web_app

    api.mount("/ui", create_web_app(settings, registry))  # the read-only web view (HTML, same token)

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        with session_scope(db_url) as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok"}

    def current_sites() -> Any:
        # ``registry`` is a RegistrySource (follows the file) or a fixed SiteRegistry (tests, embedded)
        return registry.current() if hasattr(registry, "current") else registry

    @api.get("/sites", dependencies=authed)
    def sites() -> dict[str, Any]:
        out: dict[str, Any] = {
            "sites": [
                {"id": s.id, "name": s.name, "family": s.family, "start_urls": list(s.start_urls)}
                for s in current_sites().sites
            ]
        }
        if hasattr(registry, "status"):  # the file, whether its last load worked, and why not
            out["registry"] = registry.status().as_dict()
        return out

    @api.post("/sites/{site_id}/recrawl", status_code=202, dependencies=authed)
    def recrawl(site_id: str) -> dict[str, Any]:
        from nianbao.crawler.sites import UnknownSite
        from nianbao.shared.contracts import CrawlRequested

        try:
            current_sites().get(site_id)
        except UnknownSite:
            raise HTTPException(404, ("unknown_site", f"no site {site_id!r} in the registry")) from None
        if publisher is None:
            raise HTTPException(503, ("no_broker", "NIANBAO_BROKER_URL is not configured"))
        _ping_broker(settings.broker_url)
        message = CrawlRequested(site_id=site_id, force=True, reason="api")
        publisher.publish(message)
        return {
            "enqueued": True,
            "site_id": site_id,
            "task": message.TASK,
            "queue": message.QUEUE,
            "requested_at": message.requested_at.isoformat(),
        }

    # Pages are counted and cut in SQL: a request costs one page, however many reports and findings are stored.
    @api.get("/reports", dependencies=authed)
    def reports(
        site: Annotated[str | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=_MAX_ID)] = 0,
    ) -> dict[str, Any]:
        with session_scope(db_url) as session:
            total = count_reports(session, site)
            rows = list_reports(session, site, offset=offset, limit=limit)
        return {"total": total, "reports": [asdict(r) for r in rows]}

    @api.get("/findings", dependencies=authed)
    def findings(
        site: Annotated[str | None, Query()] = None,
        rule: Annotated[str | None, Query()] = None,
        status: Annotated[str, Query(pattern="^(fail|pass|not_assessable|all)$")] = "fail",
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=_MAX_ID)] = 0,
    ) -> dict[str, Any]:
        wanted = None if status == "all" else status
        with session_scope(db_url) as session:
            total = count_findings(session, site_id=site, rule=rule, status=wanted)
            rows = list_findings(session, site_id=site, rule=rule, status=wanted, offset=offset, limit=limit)
        return {"total": total, "findings": [asdict(r) for r in rows]}

    _add_issue13_routes(api, settings, registry, publisher, authed, db_url)
    return api


_MAX_ID = 2**31 - 1  # ids are PostgreSQL integers: a larger one names nothing (never a database error)


def _add_issue13_routes(api: FastAPI, settings: AppSettings, registry: Any, publisher: Any | None,
                        authed: list[Any], db_url: str) -> None:  # fmt: skip
    """One report as ``nianbao show --json`` gives it; task failures (list, one, retry); a site's summary."""
    from nianbao.app import failures as tf
    from nianbao.app.show import build_view
    from nianbao.app.summaries import known_site_ids, site_summary
    from nianbao.shared.models import Report

    @api.get("/reports/{report_id}", dependencies=authed)
    def report(report_id: int) -> dict[str, Any]:
        with session_scope(db_url) as session:
            stored = session.get(Report, report_id) if 1 <= report_id <= _MAX_ID else None
            if stored is None:
                raise HTTPException(404, ("unknown_report", f"no stored report {report_id}"))
            return asdict(build_view(session, stored, raw_root=settings.resolved_raw_store_dir()))

    @api.get("/task-failures", dependencies=authed)
    def task_failures(
        queue: Annotated[str | None, Query()] = None,
        site: Annotated[str | None, Query()] = None,
        reason: Annotated[str | None, Query()] = None,
        task: Annotated[str | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,  # failures.MAX_LIMIT
        offset: Annotated[int, Query(ge=0)] = 0,
        after_id: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        with session_scope(db_url) as session:
            if site is not None and site not in known_site_ids(session, (s.id for s in registry.sites)):
                raise HTTPException(400, ("bad_filter", f"unknown site {site[:80]!r}"))
            try:
                page = tf.list_failures(session, queue=queue, site_id=site, reason=reason, task=task, limit=limit,
                                        offset=offset, after_id=after_id)  # fmt: skip
            except tf.FilterError as exc:
                raise HTTPException(400, ("bad_filter", str(exc))) from None
        rows = [asdict(f) for f in page.failures]
        return {"total": page.total, "failures": rows, "next_after_id": rows[-1]["id"] if len(rows) == limit else None}

    @api.get("/task-failures/{failure_id}", dependencies=authed)
    def task_failure(failure_id: int) -> dict[str, Any]:
        with session_scope(db_url) as session:
            detail = tf.get_failure(session, failure_id)
        if detail is None:
            raise _unknown_failure(failure_id)
        return asdict(detail)

    @api.post("/task-failures/{failure_id}/retry", dependencies=authed)
    def retry_task_failure(failure_id: int) -> dict[str, Any]:
        unknown = _unknown_failure(failure_id)
        with session_scope(db_url) as session:
            if tf.get_failure(session, failure_id) is None:
                raise unknown
        if publisher is None:
            raise HTTPException(503, ("no_broker", "NIANBAO_BROKER_URL is not configured"))
        _ping_broker(settings.broker_url)
        with session_scope(db_url) as session:
            try:
                done = tf.retry_failure(session, failure_id, tf.sender(publisher))
            except tf.NotRetryable as exc:
                raise HTTPException(409, ("not_retryable", str(exc))) from None
        if done is None:  # retried by someone else in between
            raise unknown
        return {"retried": True, **asdict(done)}

    @api.delete("/task-failures/{failure_id}", dependencies=authed)
    def delete_task_failure(failure_id: int) -> dict[str, Any]:
        with session_scope(db_url) as session:
            deleted = tf.delete_failure(session, failure_id)
            dismissed = None if deleted is None else {"task": deleted.task, "reason": deleted.reason}
        if dismissed is None:
            raise _unknown_failure(failure_id)
        return {"deleted": True, "failure_id": failure_id, **dismissed}

    @api.get("/sites/{site_id}/summary", dependencies=authed)
    def summary(site_id: str) -> dict[str, Any]:
        with session_scope(db_url) as session:
            if site_id not in known_site_ids(session, (s.id for s in registry.sites)):
                raise HTTPException(404, ("unknown_site", f"no site {site_id[:80]!r} in the registry or the database"))
            return asdict(site_summary(session, site_id))


def _unknown_failure(failure_id: int) -> HTTPException:
    return HTTPException(404, ("unknown_failure", f"no task failure {failure_id}"))


def _ping_broker(url: str | None) -> None:
    """A 503 in seconds when the Redis broker is down (publishing would retry for longer)."""
    import redis

    if not url or not url.startswith(("redis://", "rediss://", "unix://")):
        return
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except (redis.exceptions.RedisError, OSError) as exc:
        raise HTTPException(503, ("broker_unavailable", "the broker cannot be reached (NIANBAO_BROKER_URL)")) from exc
