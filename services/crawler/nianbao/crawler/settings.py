"""Crawler settings (env prefix ``NIANBAO_``); the only place the crawler reads the environment.

Per-site values in sites.yaml (politeness, filters) override the politeness defaults here; the caps
(body size, redirects, request deadline) are global safety limits a site entry cannot raise.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from nianbao.shared.settings import CommonSettings

# The longest age a setting may give (100 years): beyond it "now minus the age" is not a date.
MAX_AGE_S = 100 * 365 * 86400.0


class CrawlerSettings(CommonSettings):
    user_agent_product: str = Field("nianbao/0.1", description="Product token at the start of the UA.")
    contact_url: str = Field(
        "https://github.com/nianbao/nianbao",
        description="Where a site operator learns who crawls them; part of the User-Agent.",
    )
    connect_timeout_s: float = Field(10.0, description="TCP/TLS connect timeout of one request.")
    read_timeout_s: float = Field(30.0, description="Timeout between two reads of one response.")
    request_deadline_s: float = Field(90.0, description="Wall-clock cap on one request, body included.")
    min_delay_s: float = Field(2.0, description="Default minimum spacing of requests to one host.")
    jitter_s: float = Field(1.0, description="Default random extra spacing, uniform in [0, jitter_s].")
    max_concurrency_per_host: int = Field(1, description="Default concurrent requests to one host.")
    max_pages_per_run: int = Field(
        500,
        description="Default cap on listing pages walked per start URL (a walk it stops is reported as capped).",
    )
    max_requests_per_run: int = Field(2000, description="Cap on all requests of one site crawl.")
    max_body_bytes: int = Field(10 * 1024 * 1024, description="Cap on a page body after decompression.")
    max_attachment_bytes: int = Field(60 * 1024 * 1024, description="Cap on an attachment body after decompression.")
    max_redirects: int = Field(5, description="Redirect hops followed per request.")
    allow_loopback: bool = Field(
        False,
        description="Let every site reach loopback addresses (development only). A single site can "
        "instead set allow_private_addresses in sites.yaml.",
    )
    limiter: Literal["auto", "redis", "local"] = Field(
        "auto",
        description="Host limiter: redis (shared by all worker processes), local (this process only), "
        "auto = redis when a redis URL is known, else local.",
    )
    limiter_redis_url: str | None = Field(
        None, description="Redis for the shared host limiter; default is broker_url when it is Redis."
    )
    limiter_lease_s: float = Field(
        180.0, description="A held host slot expires after this long (a crashed worker frees its slot)."
    )
    backoff_base_s: float = Field(120.0, description="First back-off of a host after 403/412/429/503/521.")
    backoff_cap_s: float = Field(3600.0, description="Cap on one host back-off (also caps Retry-After).")
    backoff_max_wait_s: float = Field(
        30.0,
        description="A host backed off for less than this is waited for; longer, the run skips the host.",
    )
    robots_cache_s: float = Field(86400.0, description="How long a fetched robots.txt is trusted.")
    robots_retry_s: float = Field(
        600.0, description="How long an unreachable/5xx robots.txt keeps its host disallowed."
    )
    fetch_attachments: bool = Field(
        True, description="Fetch and store attachments of report pages and hand them to the parser with their page."
    )
    max_attachments_per_page: int = Field(10, description="Cap on attachments fetched per report page.")
    max_crawl_delay_s: float = Field(
        30.0, ge=0, description="Cap on a robots.txt Crawl-delay (a site asking for 86400 s gets this spacing)."
    )
    max_retry_after_s: float = Field(
        3600.0, ge=0, description="Cap on a Retry-After header (seconds or HTTP date; absurd values end here)."
    )
    handoff_recheck_s: float = Field(
        21600.0,
        ge=0,
        le=MAX_AGE_S,
        description="A page handed on this long ago that has no report of those bytes yet is handed on once "
        "more at the site's next crawl (a message the broker lost); 0 turns the check off.",
    )
    crawl_run_retention_days: float = Field(
        400.0,
        ge=0,
        le=MAX_AGE_S / 86400,
        description="Crawl-run rows (crawl_run: what each crawl of a site announced, found and handed on) older "
        "than this are deleted at the site's next crawl; the site's newest run is always kept; 0 keeps them all.",
    )
    max_content_encodings: int = Field(
        2, ge=1, le=4, description="Responses with more stacked Content-Encodings are refused (bomb guard)."
    )

    @property
    def user_agent(self) -> str:
        """Identifiable User-Agent: product token plus a contact URL (RFC 9110 comment form)."""
        return f"{self.user_agent_product} (+{self.contact_url})"

    @property
    def robots_agent(self) -> str:
        """The token matched against robots.txt ``User-agent`` lines."""
        return self.user_agent_product.split("/", 1)[0]

    def resolved_limiter_redis_url(self) -> str | None:
        """Redis URL of the shared limiter, or None for the in-process one."""
        if self.limiter == "local":
            return None
        url = self.limiter_redis_url
        if url is None and self.broker_url and self.broker_url.startswith(("redis://", "rediss://")):
            url = self.broker_url
        if self.limiter == "redis" and url is None:
            raise ValueError("NIANBAO_LIMITER=redis needs NIANBAO_LIMITER_REDIS_URL or a Redis broker_url")
        return url
