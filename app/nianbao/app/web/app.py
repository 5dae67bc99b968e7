"""The read-only web view: server-rendered HTML pages over the stored reports, mounted by the admin API
under ``/ui`` and behind the same token (see auth.py for the login cookie).

Every response carries a Content-Security-Policy that allows no script and no framing, ``X-Frame-Options:
DENY``, ``nosniff``, no referrer and ``no-store``. Errors are HTML pages (401 shows the login form, 400
names the bad parameter, 404, 503 when the database cannot be reached). A stored raw copy is only ever
sent as an attachment of type ``application/octet-stream``: a portal's page is never rendered here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from nianbao.app import summaries
from nianbao.app.admin_api import unavailable_reason
from nianbao.app.settings import AppSettings
from nianbao.app.show import RawCopy, build_view
from nianbao.app.web import auth, data, pages
from nianbao.app.web.grid import build_grid
from nianbao.app.web.params import BadRequest, finding_filter, page_number, single
from nianbao.app.web.style import CSS
from nianbao.shared.db import session_scope
from nianbao.shared.models import Report

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
MAX_FORM_BYTES = 8192  # the login form: a token and a path
# Extensions a downloaded copy keeps (from the URL it was fetched from); anything else is `.bin`.
RAW_SUFFIXES = frozenset({".html", ".htm", ".shtml", ".pdf", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".et",
                          ".rtf", ".txt", ".zip"})  # fmt: skip


class _Unauthenticated(Exception):
    pass


class _NotFound(Exception):
    pass


def _base(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _html(content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(content, status_code=status)


def _download_name(stem: str, url: str) -> str:
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    return f"{stem}{suffix if suffix in RAW_SUFFIXES else '.bin'}"


def _raw_response(raw: RawCopy | None, filename: str) -> Response:
    if raw is None or not raw.stored or raw.path is None:
        raise _NotFound("the stored copy is not in the raw store")
    response = FileResponse(
        raw.path, media_type="application/octet-stream", filename=filename, content_disposition_type="attachment"
    )
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def create_web_app(settings: AppSettings, registry: Any) -> FastAPI:
    """The web view as an app to mount (``api.mount("/ui", create_web_app(settings, registry))``); links are
    built from the mount path. ``settings.admin_token`` must be set (the admin API checks it first)."""
    assert settings.admin_token is not None
    token = settings.admin_token.get_secret_value().strip().encode()
    db_url = settings.resolved_database_url()
    raw_root = settings.resolved_raw_store_dir()

    def _names() -> dict[str, str]:
        """Site id -> name of the registry in use (a RegistrySource follows its file: read per request)."""
        return {site.id: site.name for site in registry.sites}

    web = FastAPI(title="nianbao web view", docs_url=None, redoc_url=None, openapi_url=None)

    @web.middleware("http")
    async def _security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def _logged_in(request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and value and auth.token_matches(token, value):
            return True
        return auth.session_valid(token, request.cookies.get(auth.SESSION_COOKIE), time.time())

    def _require_login(request: Request) -> None:
        if not _logged_in(request):
            raise _Unauthenticated

    def _login_form(request: Request, status: int, message: str | None) -> HTMLResponse:
        base = _base(request)
        target = request.url.path if status == 401 else None
        if target and request.url.query:
            target += "?" + request.url.query
        response = _html(pages.login_page(base, auth.safe_next(base, target), message), status)
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="nianbao"'
        return response

    @web.exception_handler(_Unauthenticated)
    async def _unauthenticated(request: Request, _: Exception) -> Response:
        return _login_form(request, 401, "Log in with the admin token to see this page · 请先登录")

    @web.exception_handler(BadRequest)
    async def _bad_request(request: Request, exc: Exception) -> Response:
        return _html(pages.error_page(_base(request), 400, "Bad request", str(exc)), 400)

    @web.exception_handler(_NotFound)
    async def _not_found(request: Request, exc: Exception) -> Response:
        return _html(pages.error_page(_base(request), 404, "Not found", str(exc)), 404)

    @web.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response = _html(
            pages.error_page(_base(request), exc.status_code, "Error", str(exc.detail), logged_in=False),
            exc.status_code,
        )
        if exc.headers and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response

    @web.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return _html(pages.error_page(_base(request), 400, "Bad request", "invalid request"), 400)

    @web.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        base = _base(request)
        unavailable = unavailable_reason(exc)
        if unavailable is not None and unavailable[0] == "database_unavailable":
            log.warning("%s %s: the database cannot be reached", request.method, request.url.path)
            message = "the database cannot be reached (NIANBAO_DATABASE_URL)"
            response = _html(pages.error_page(base, 503, "Unavailable", message, logged_in=False), 503)
        else:
            log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
            message = "internal error (see the admin API's log)"
            response = _html(pages.error_page(base, 500, "Internal error", message, logged_in=False), 500)
        for name, value in SECURITY_HEADERS.items():  # this handler answers outside the header middleware
            response.headers.setdefault(name, value)
        return response

    def _login(request: Request, given: str, next_path: str | None) -> Response:
        base = _base(request)
        if not auth.token_matches(token, given):
            return _html(pages.login_page(base, auth.safe_next(base, next_path), "wrong token · 令牌错误"), 403)
        response = RedirectResponse(auth.safe_next(base, next_path), status_code=303)
        response.set_cookie(
            auth.SESSION_COOKIE, auth.session_value(token, time.time()), max_age=auth.SESSION_SECONDS,
            path=base or "/", httponly=True, samesite="strict", secure=request.url.scheme == "https",
        )  # fmt: skip
        return response

    @web.get("/static/style.css", include_in_schema=False)
    def style() -> Response:
        return Response(CSS, media_type="text/css; charset=utf-8")

    @web.get("/login", response_class=HTMLResponse)
    def login_link(request: Request) -> Response:
        params = single(request.query_params.multi_items(), {"token", "next"}, longest=MAX_FORM_BYTES)
        if "token" in params:
            return _login(request, params["token"], params.get("next"))
        base = _base(request)
        return _html(pages.login_page(base, auth.safe_next(base, params.get("next"))))

    @web.post("/login", response_class=HTMLResponse)
    async def login_form(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return _html(pages.error_page(_base(request), 415, "Unsupported", "send the login form", logged_in=False),
                         415)  # fmt: skip
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise BadRequest(f"the login form is larger than {MAX_FORM_BYTES} bytes")
        try:
            fields = single(
                parse_qsl(body.decode("utf-8"), keep_blank_values=True), {"token", "next"}, longest=MAX_FORM_BYTES
            )
        except UnicodeDecodeError:
            raise BadRequest("the login form is not UTF-8") from None
        return _login(request, fields.get("token", ""), fields.get("next"))

    @web.post("/logout")
    def logout(request: Request) -> Response:
        base = _base(request)
        response = RedirectResponse(f"{base}/login", status_code=303)
        response.delete_cookie(auth.SESSION_COOKIE, path=base or "/", httponly=True, samesite="strict")
        return response

    @web.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> Response:
        _require_login(request)
        number = page_number(single(request.query_params.multi_items(), {"page"}))
        names = _names()
        with session_scope(db_url) as session:
            ids = sorted(summaries.known_site_ids(session, names))
            page = data.Page(number, len(ids))
            sites = summaries.sites_overview(session, ids[page.offset : page.offset + page.size])
        return _html(pages.overview(_base(request), sites, names, page))

    @web.get("/sites/{site_id}", response_class=HTMLResponse)
    def site(request: Request, site_id: str) -> Response:
        _require_login(request)
        number = page_number(single(request.query_params.multi_items(), {"page"}))
        names = _names()
        with session_scope(db_url) as session:
            if site_id not in summaries.known_site_ids(session, names):
                raise _NotFound(f"no site {site_id!r} in the registry or the database")
            summary = summaries.site_summary(session, site_id)
            page, reports = data.reports_page(session, site_id, number)
        return _html(pages.site_page(_base(request), summary, names.get(site_id), page, reports))

    def _report(session: Any, report_id: str) -> Report:
        report = session.get(Report, int(report_id)) if report_id.isascii() and report_id.isdigit() and len(
            report_id) < 19 else None  # fmt: skip
        if report is None:
            raise _NotFound(f"no stored report {report_id[:30]!r}")
        return report  # type: ignore[no-any-return]

    @web.get("/reports/{report_id}", response_class=HTMLResponse)
    def report(request: Request, report_id: str) -> Response:
        _require_login(request)
        single(request.query_params.multi_items(), ())
        with session_scope(db_url) as session:
            view = build_view(session, _report(session, report_id), raw_root=raw_root)
        grids = [build_grid(t) for t in view.tables]
        return _html(pages.report_page(_base(request), view, _names().get(view.site_id), grids))

    @web.get("/reports/{report_id}/raw")
    def raw(request: Request, report_id: str) -> Response:
        _require_login(request)
        with session_scope(db_url) as session:
            view = build_view(session, _report(session, report_id), raw_root=raw_root)
        return _raw_response(view.raw, _download_name(f"report-{view.id}", view.url))

    @web.get("/reports/{report_id}/attachments/{index}/raw")
    def attachment_raw(request: Request, report_id: str, index: str) -> Response:
        _require_login(request)
        with session_scope(db_url) as session:
            view = build_view(session, _report(session, report_id), raw_root=raw_root)
        if not (index.isascii() and index.isdigit() and int(index) < len(view.attachments)):
            raise _NotFound(f"report {view.id} has no attachment {index[:10]!r}")
        attachment = view.attachments[int(index)]
        return _raw_response(attachment.raw, _download_name(f"report-{view.id}-attachment-{index}", attachment.url))

    @web.get("/findings", response_class=HTMLResponse)
    def findings(request: Request) -> Response:
        _require_login(request)
        params = single(request.query_params.multi_items(), {"rule", "status", "site", "page"})
        number = page_number(params)
        with session_scope(db_url) as session:
            rules = sorted(set(pages.rule_descriptions()) | data.stored_rules(session))
            sites = sorted(set(_names()) | data.stored_sites(session))
            where = finding_filter(params, rules, sites)
            page, rows = data.findings_page(session, where, number)
        return _html(pages.findings_page(_base(request), where, rules, sites, page, rows))

    return web
