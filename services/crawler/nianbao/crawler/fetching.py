"""Polite, recorded fetching for one site crawl: the only path by which the crawler touches the network.

Each :meth:`SiteFetcher.get` checks the host allow-list, robots.txt and the request budget, waits for a
host slot, sends a conditional GET built from the URL's last successful fetch, classifies the answer
(challenge, push-back, 304, same hash), stores new bytes in the raw store, writes one ``fetch`` row and
updates metrics. It never raises for a network or HTTP problem: the outcome is in the returned
:class:`Page` so discovery and the crawl loop can decide what to do.

Inside :meth:`SiteFetcher.held_back` the ``fetch`` rows are kept back instead of written, so the crawl
loop commits a report page's rows together with what it decided about the page (its hand-off): a row
that says "fetched, these bytes" must never be durable while the hand-off of those bytes is not, or the
next crawl would see the page as unchanged and never hand it on.

A ``form`` makes the request a POST (Hanweb's data proxy): robots, budget and politeness apply as to a
GET, but a POST is never conditional: no validators are looked up or sent, and its ``fetch`` row keeps
no ETag/Last-Modified (so a later GET of the same URL is not made conditional on a POST's answer). The
row records the URL only, not the form.
"""

from __future__ import annotations

import email.utils
import hashlib
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from nianbao.crawler import metrics
from nianbao.crawler.challenge import detect_challenge
from nianbao.crawler.decode import Decoded, decode_page
from nianbao.crawler.fetcher import FetchRefused, HttpResult, encode_form, http_get
from nianbao.crawler.netguard import AddressRefused
from nianbao.crawler.politeness import BackoffPolicy, HostBackedOff, HostLimiter, HostRate, host_slot
from nianbao.crawler.robots import RobotsAnswer, RobotsCache
from nianbao.crawler.settings import CrawlerSettings
from nianbao.crawler.siteschema import SiteConfig
from nianbao.crawler.state import CrawlState, Validators
from nianbao.crawler.urls import host_allowed, host_of
from nianbao.shared.models import Fetch
from nianbao.shared.rawstore import RawStore, RawStoreError

# Outcomes worth retrying in a later run (the server or the path to it may recover).
TRANSIENT_OUTCOMES = ("network_error", "server_error", "robots_unavailable", "backed_off", "throttled")


@dataclass
class Page:
    """The result of one :meth:`SiteFetcher.get`. ``body`` is set for ok/unchanged, and for
    not_modified when the earlier bytes are still in the raw store."""

    url: str
    kind: str
    outcome: str  # ok | unchanged | not_modified | http_error | server_error | throttled | challenge |
    #               network_error | refused | robots_denied | robots_unavailable | backed_off | budget
    final_url: str | None = None
    status: int | None = None
    body: bytes | None = None
    media_type: str | None = None
    http_charset: str | None = None
    content_sha256: str | None = None
    raw_key: str | None = None
    is_new: bool = False  # no earlier successful fetch of this URL
    challenge: str | None = None
    error: str | None = None
    elapsed_ms: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    filename: str | None = None  # from Content-Disposition (download scripts name the file there)
    parent_url: str | None = None  # the report page an attachment was linked from
    method: str = "GET"  # POST when a form was sent (a 301/302/303 may have turned it into a GET)
    _decoded: Decoded | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def transient(self) -> bool:
        return self.outcome in TRANSIENT_OUTCOMES

    @property
    def has_body(self) -> bool:
        return self.body is not None

    def decoded(self, encoding: str = "auto") -> Decoded:
        if self._decoded is None:
            self._decoded = decode_page(self.body or b"", http_charset=self.http_charset, override=encoding)
        return self._decoded

    def text(self, encoding: str = "auto") -> str:
        return self.decoded(encoding).text


class SiteFetcher:
    """Fetches URLs for one site under its politeness, robots and safety rules."""

    def __init__(
        self,
        *,
        site: SiteConfig,
        settings: CrawlerSettings,
        client: httpx.Client,
        store: RawStore,
        state: CrawlState | None,
        limiter: HostLimiter,
        robots: RobotsCache,
        forced: bool = False,
    ) -> None:
        self.site = site
        self.forced = forced  # bypass conditional GET
        self.settings = settings
        self.client = client
        self.store = store
        self.state = state  # None = dry run: nothing is written to the database
        self.limiter = limiter
        self.robots = robots
        self.requests = 0
        self.backoff = BackoffPolicy(settings.backoff_base_s, settings.backoff_cap_s, settings.max_retry_after_s)
        self._crawl_delay: dict[str, float] = {}
        self._held: list[Fetch] | None = None

    # --- public -------------------------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        kind: str,
        conditional: bool = True,
        parent_url: str | None = None,
        form: Mapping[str, str] | None = None,
    ) -> Page:
        """Fetch ``url`` as ``kind`` (listing | page | attachment). ``conditional`` sends the validators of
        the URL's last successful fetch unless the crawl is forced. ``parent_url`` (attachments) is the
        report page that links the document; it is recorded on the fetch row. ``form`` POSTs it urlencoded
        (never conditional; over ``MAX_FORM_BYTES`` encoded it is ``refused`` before anything is sent).
        Never raises for network/HTTP trouble."""
        page = self._get(url, kind=kind, conditional=conditional, form=form)
        page.parent_url = parent_url
        return page if page.outcome == "budget" else self._finish(page)

    def _get(self, url: str, *, kind: str, conditional: bool, form: Mapping[str, str] | None = None) -> Page:
        if not self.host_ok(url):
            return Page(url, kind, "refused", error=f"offsite: host {host_of(url)!r} not allowed")
        if form is not None:
            try:
                encode_form(form)  # checked here too, so that a refused form spends no budget or host slot
            except FetchRefused as exc:
                return Page(url, kind, "refused", error=str(exc), method="POST")
        if self.requests >= self.settings.max_requests_per_run:
            return Page(url, kind, "budget", error="request budget of this run is spent")
        if self.site.politeness.robots == "obey":
            verdict = self.robots.check(url, agent=self.settings.robots_agent, fetch=self._fetch_robots)
            if verdict.crawl_delay_s:
                self._crawl_delay[host_of(url)] = verdict.crawl_delay_s
            if not verdict.allowed:
                outcome = "robots_unavailable" if verdict.reason == "unavailable" else "robots_denied"
                metrics.ROBOTS_DENIALS.labels(
                    self.site.id, "unavailable" if verdict.reason == "unavailable" else "rules"
                ).inc()
                return Page(url, kind, outcome, error=f"robots.txt: {verdict.reason}")
        if form is not None:  # a POST is never conditional and leaves no validators behind
            page = self._exchange(url, kind, None, conditional=False, form=form)
            page.etag = page.last_modified = None
            return page
        validators = self.state.validators(url) if self.state is not None else None
        return self._exchange(url, kind, validators, conditional=conditional and not self.forced)

    @contextmanager
    def held_back(self) -> Iterator[list[Fetch]]:
        """Keep back the ``fetch`` rows of the attempts made inside: they are appended to the yielded
        list, for the caller to commit with its decision, instead of being written one by one. Rows of
        a block left by an exception are dropped (the attempt is made again)."""
        if self._held is not None:
            raise RuntimeError("held_back blocks do not nest")
        self._held = []
        try:
            yield self._held
        finally:
            self._held = None

    def host_ok(self, url: str) -> bool:
        return url.startswith(("http://", "https://")) and host_allowed(host_of(url), self.site.host_patterns)

    # --- internals ----------------------------------------------------------------------------------

    def _rate(self, host: str) -> HostRate:
        p = self.site.politeness
        min_delay = p.min_delay_s if p.min_delay_s is not None else self.settings.min_delay_s
        return HostRate(
            min_delay_s=max(min_delay, self._crawl_delay.get(host, 0.0)),
            jitter_s=p.jitter_s if p.jitter_s is not None else self.settings.jitter_s,
            max_concurrency=p.max_concurrency_per_host or self.settings.max_concurrency_per_host,
        )

    def _headers(self, validators: Validators | None) -> dict[str, str]:
        headers = {
            "User-Agent": self.site.http.user_agent or self.settings.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
            "Accept-Language": "zh-CN,zh;q=0.9",
        }
        if validators is not None:
            if validators.etag:
                headers["If-None-Match"] = validators.etag
            if validators.last_modified:
                headers["If-Modified-Since"] = validators.last_modified
        return headers

    def _http(self, url: str, kind: str, headers: dict[str, str], form: Mapping[str, str] | None = None) -> HttpResult:
        host = host_of(url)
        with host_slot(self.limiter, host, self._rate(host), max_wait_s=self.settings.backoff_max_wait_s) as clock:
            self.requests += 1
            cap = self.settings.max_attachment_bytes if kind == "attachment" else self.settings.max_body_bytes
            return http_get(
                self.client,
                url,
                kind=kind,
                headers=headers,
                host_ok=self.host_ok,
                max_redirects=self.settings.max_redirects,
                max_bytes=cap,
                deadline_s=self.settings.request_deadline_s,
                on_sent=clock.mark_sent,
                max_encodings=self.settings.max_content_encodings,
                form=form,
            )

    def _exchange(
        self,
        url: str,
        kind: str,
        validators: Validators | None,
        *,
        conditional: bool,
        form: Mapping[str, str] | None = None,
    ) -> Page:
        started = time.monotonic()
        method = "GET" if form is None else "POST"
        try:
            result = self._http(url, kind, self._headers(validators if conditional else None), form)
        except HostBackedOff as exc:
            return Page(url, kind, "backed_off", error=str(exc), method=method)
        except FetchRefused as exc:
            return Page(
                url,
                kind,
                "refused",
                final_url=exc.final_url,
                status=exc.status,
                error=str(exc),
                elapsed_ms=_ms(started),
                method=method,
            )
        except AddressRefused as exc:
            return Page(url, kind, "refused", error=f"address: {exc}", elapsed_ms=_ms(started), method=method)
        except httpx.TransportError as exc:  # timeouts, refused connections, TLS and protocol errors
            error = f"{type(exc).__name__}: {exc}"[:500]
            return Page(url, kind, "network_error", error=error, elapsed_ms=_ms(started), method=method)
        metrics.REQUEST_SECONDS.labels(kind).observe(result.elapsed_s)
        metrics.RESPONSE_BYTES.labels(self.site.id, kind).inc(len(result.body))
        page = self._classify(result, kind, validators)
        page.method = result.method
        return page

    def _classify(self, result: HttpResult, kind: str, validators: Validators | None) -> Page:
        host = host_of(result.final_url)
        page = Page(
            result.url,
            kind,
            "ok",
            final_url=result.final_url,
            status=result.status,
            media_type=result.media_type,
            http_charset=result.http_charset,
            elapsed_ms=int(result.elapsed_s * 1000),
            is_new=validators is None,
            etag=result.headers.get("etag"),
            last_modified=result.headers.get("last-modified"),
            filename=result.filename,
        )
        status = result.status
        challenge = None
        if self.site.http.challenge == "detect" and kind != "robots":
            challenge = detect_challenge(status, result.body, dict(result.headers))
        if challenge or status in self.site.politeness.backoff_on:
            delay = self.limiter.back_off(host, self.backoff, retry_after_s=_retry_after(result.headers))
            metrics.BACKOFFS.labels(self.site.id, metrics.status_class(status)).inc()
            page.error = f"host backed off {delay:.0f}s after HTTP {status}"
        if challenge:
            metrics.CHALLENGES.labels(self.site.id, challenge).inc()
            page.outcome, page.challenge = "challenge", challenge
            return page
        if status == 304:
            page.outcome = "not_modified"
            if validators is not None:
                page.content_sha256, page.raw_key = validators.content_sha256, validators.raw_key
                page.etag = page.etag or validators.etag
                page.last_modified = page.last_modified or validators.last_modified
                page.media_type = page.media_type or validators.media_type
                page.body = self._stored(validators.raw_key)
            self.limiter.reset(host)
            return page
        if status >= 400 or status < 200:
            page.outcome = "throttled" if status == 429 else "server_error" if status >= 500 else "http_error"
            page.error = page.error or f"HTTP {status}"
            return page
        self.limiter.reset(host)
        page.body = result.body
        page.content_sha256 = hashlib.sha256(result.body).hexdigest()
        page.raw_key = self.store.put(result.body)
        if validators is not None and validators.content_sha256 == page.content_sha256:
            page.outcome = "unchanged"
        return page

    def _stored(self, raw_key: str | None) -> bytes | None:
        if not raw_key:
            return None
        try:
            return self.store.get(raw_key)
        except RawStoreError:
            return None

    def _fetch_robots(self, robots_url: str) -> RobotsAnswer:
        page = self._finish(self._exchange(robots_url, "robots", None, conditional=False))
        if page.outcome == "refused":
            # Our own rule stopped it (address, size, type, off-site redirect), not the server: like a 4xx,
            # there are no rules to obey; any refusal that applies to robots.txt applies to pages too.
            return RobotsAnswer(400)
        if page.outcome in ("network_error", "backed_off") or page.status is None:
            return RobotsAnswer(None)
        return RobotsAnswer(page.status, page.body or b"")

    def _finish(self, page: Page) -> Page:
        """Count and record the attempt (one ``fetch`` row per attempt)."""
        metrics.REQUESTS.labels(self.site.id, page.kind, page.outcome, metrics.status_class(page.status)).inc()
        if page.outcome == "not_modified":
            metrics.NOT_MODIFIED.labels(self.site.id).inc()
        if self.state is not None:
            row = Fetch(
                site_id=self.site.id,
                url=page.url,
                final_url=page.final_url,
                kind=page.kind,
                outcome=page.outcome,
                status_code=page.status,
                content_sha256=page.content_sha256,
                raw_key=page.raw_key,
                etag=page.etag,
                last_modified=page.last_modified,
                media_type=page.media_type,
                forced=self.forced,
                bytes=len(page.body) if page.body is not None and page.outcome in ("ok", "unchanged") else None,
                elapsed_ms=page.elapsed_ms,
                error=page.error,
                fetched_at=datetime.now(UTC),
                parent_url=page.parent_url,
            )
            if self._held is not None:
                self._held.append(row)
            else:
                self.state.record(row)
        return page


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date), None if absent or unreadable."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
