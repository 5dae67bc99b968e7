"""The typed shape of one resolved site entry of sites.yaml (family preset merged with overrides).

Every model forbids unknown keys, so a typo in sites.yaml is an error that names the field instead of a
silently ignored setting. Regular expressions are compiled while validating, so a broken pattern fails
at load time, not in the middle of a crawl. Numbers have sane bounds (no ``.inf``/``.nan``, no delay of
``1e12`` seconds, no negative counts), encodings must be known to Python, year ranges ascend and host
globs are host names (``*.example.gov.cn``) or IP literals.
"""

from __future__ import annotations

import codecs
import ipaddress
import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

Family = Literal["trs", "hanweb_jpage", "gkmlpt", "ucap", "govcn", "vsb", "static_generic"]
FAMILIES: tuple[str, ...] = ("trs", "hanweb_jpage", "gkmlpt", "ucap", "govcn", "vsb", "static_generic")


Year = Annotated[int, Field(ge=1990, le=2100)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


MAX_PATTERN_CHARS = 1000


def _quote(text: str, limit: int = 120) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _check_patterns(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        if len(pattern) > MAX_PATTERN_CHARS:
            raise ValueError(f"regular expression {_quote(pattern)} is longer than {MAX_PATTERN_CHARS} characters")
        try:
            re.compile(pattern)
        except (re.error, OverflowError, RecursionError) as exc:
            raise ValueError(f"not a valid regular expression {_quote(pattern)}: {exc}") from None
    return patterns


def _check_pattern(pattern: str | None) -> str | None:
    return None if pattern is None else _check_patterns([pattern])[0]


_HOST_LABEL = r"(?:[a-z0-9_\u0080-\uffff](?:[a-z0-9_\u0080-\uffff-]{0,61}[a-z0-9_\u0080-\uffff])?)"
_HOST_GLOB = re.compile(rf"(?:\*\.)?{_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?", re.IGNORECASE)


def _check_host(host: str) -> str:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        pass
    if len(host) > 253 or not _HOST_GLOB.fullmatch(host):
        raise ValueError(
            f"host {_quote(host)} is not a host name, a '*.' glob of one (e.g. '*.example.gov.cn') or an IP "
            "address (no scheme, port, path or other wildcard)"
        )
    return host


class HttpConfig(_Strict):
    user_agent: str | None = Field(None, max_length=500)  # None = the identifiable default from settings
    timeout_s: float | None = Field(None, gt=0, le=600)
    encoding: str = "auto"  # auto | a codec name (gbk/gb2312 are read as gb18030)
    challenge: Literal["detect", "none"] = "detect"

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        if value == "auto":
            return value
        try:
            info = codecs.lookup(value)
        except (LookupError, ValueError):
            raise ValueError(f"unknown encoding {_quote(value)} (use auto or a codec name such as gb18030)") from None
        if not getattr(info, "_is_text_encoding", True):
            raise ValueError(f"{_quote(value)} is not a text encoding")
        return value


class Politeness(_Strict):
    min_delay_s: float | None = Field(None, ge=0, le=3600)
    jitter_s: float | None = Field(None, ge=0, le=3600)
    max_concurrency_per_host: int | None = Field(None, ge=1, le=64)
    max_pages_per_run: int | None = Field(None, ge=1, le=1_000_000)
    backoff_on: list[Annotated[int, Field(ge=100, le=599)]] = Field(default_factory=lambda: [403, 412, 429, 503, 521])
    robots: Literal["obey", "ignore"] = "obey"
    robots_reason: str | None = None

    @model_validator(mode="after")
    def _ignore_needs_reason(self) -> Politeness:
        if self.robots == "ignore" and not (self.robots_reason or "").strip():
            raise ValueError("robots: ignore needs a robots_reason saying why ignoring robots.txt is justified")
        return self


class ContentFingerprint(_Strict):
    any_of: list[str] = Field(
        default_factory=lambda: [
            "第二十条第（一）项",
            "本列数据的勾稽关系",
            "收到和处理政府信息公开申请情况",
            "政府信息公开行政复议",
        ]
    )
    min_hits: int = Field(2, ge=1, le=100)


class Filters(_Strict):
    title_include: list[str] = Field(default_factory=list)
    title_exclude: list[str] = Field(default_factory=list)
    year_range: tuple[Year | None, Year | None] = (2008, None)
    content_fingerprint: ContentFingerprint = Field(default_factory=ContentFingerprint)

    _patterns = field_validator("title_include", "title_exclude")(_check_patterns)

    @field_validator("year_range")
    @classmethod
    def _ascending(cls, value: tuple[int | None, int | None]) -> tuple[int | None, int | None]:
        first, last = value
        if first is not None and last is not None and first > last:
            raise ValueError(f"year_range is reversed: {first} is after {last} (write [earliest, latest])")
        return value


class Discovery(_Strict):
    mode: Literal["listing", "tree"] = "listing"
    link_allow: list[str] = Field(default_factory=list)  # article URL patterns; empty = any same-site link
    pagination: Literal["auto", "template", "next_link", "none"] = "auto"
    page2_index: Literal["auto", 1, 2] = "auto"  # TRS: is page 2 index_1.html or index_2.html
    next_text: list[str] = Field(default_factory=lambda: ["下一页", "下页", "下一頁", "后页"])
    descend_link_pattern: str | None = None  # tree mode: sub-column links to descend into
    max_depth: int = Field(2, ge=1, le=5)

    _patterns = field_validator("link_allow")(_check_patterns)

    _descend = field_validator("descend_link_pattern")(_check_pattern)


class HanwebIds(_Strict):
    webid: str | None = None  # None = read from the column page
    unitid: str | None = None
    columnid: str | None = None
    perpage: int | None = Field(None, ge=1, le=200)  # None = the column page's jpage perpage, else 20
    # dataproxy form: "page" (GET page=N), "records" (startrecord/endrecord, the POST form's fields sent in the
    # query), "auto" = the form of the <nextgroup> / jpage proxy URL
    proxy_form: Literal["auto", "page", "records"] = "auto"
    # how the records form is sent: "post" (start/end/perpage in the query, the other fields in the body, as
    # the jpage script does), "get" (every field in the query), "auto" = POST, and GET for the rest of the walk
    # when the first POST is answered 405 or 501. The page form is always a GET.
    proxy_method: Literal["auto", "get", "post"] = "auto"


class GkmlptConfig(_Strict):
    sid: str | None = None  # None = read window._CONFIG.SID from /gkmlpt/index
    categories: list[Annotated[int, Field(ge=0)]] | None = None  # None = tree nodes matching category_pattern
    category_pattern: str = "年报|年度报告"
    index_path: str = "/gkmlpt/index"

    _pattern = field_validator("category_pattern")(_check_pattern)


class UcapConfig(_Strict):
    channel_id: str | None = None  # None = read from the start URL (/c<digits>/)
    page_size: int = Field(15, ge=1, le=100)
    search_path: str = "/common/search/{channel_id}"


class Attachments(_Strict):
    fetch: bool = True
    extensions: list[str] = Field(
        default_factory=lambda: ["pdf", "doc", "docx", "wps", "et", "xls", "xlsx", "ofd", "rtf", "zip", "rar"]
    )
    href_patterns: list[str] = Field(
        default_factory=lambda: [r"downfile\.jsp", r"/P0\d{10,}", r"/attachment/", r"/attach/"]
    )

    _patterns = field_validator("href_patterns")(_check_patterns)


class Schedule(_Strict):
    peak_months: list[int] = Field(default_factory=lambda: [1, 2, 3, 4])
    peak_days_per_week: int = Field(2, ge=1, le=7)
    off_peak_days_per_month: int = Field(1, ge=0, le=4)

    @field_validator("peak_months")
    @classmethod
    def _months(cls, value: list[int]) -> list[int]:
        if not value or any(m < 1 or m > 12 for m in value):
            raise ValueError("peak_months must be a non-empty list of month numbers 1..12")
        return value


class SiteConfig(_Strict):
    """One site after merging built-in family preset, file defaults, file family preset and entry."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,99}$")
    name: str = Field(min_length=1)
    family: Family
    start_urls: list[str] = Field(min_length=1)
    allowed_hosts: list[Annotated[str, AfterValidator(_check_host)]] = Field(default_factory=lambda: ["*.gov.cn"])
    allow_private_addresses: bool = False  # loopback/private/link-local targets (demo, tests, intranets)
    level: str | None = None
    region_code: str | None = None
    parent: str | None = None
    publisher: str | None = None
    site_id_code: str | None = None
    notes: str | None = None
    http: HttpConfig = Field(default_factory=HttpConfig)
    politeness: Politeness = Field(default_factory=Politeness)
    filters: Filters = Field(default_factory=Filters)
    discovery: Discovery = Field(default_factory=Discovery)
    hanweb: HanwebIds = Field(default_factory=HanwebIds)
    gkmlpt: GkmlptConfig = Field(default_factory=GkmlptConfig)
    ucap: UcapConfig = Field(default_factory=UcapConfig)
    attachments: Attachments = Field(default_factory=Attachments)
    schedule: Schedule = Field(default_factory=Schedule)

    @field_validator("start_urls")
    @classmethod
    def _absolute_http(cls, urls: list[str]) -> list[str]:
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"start URL {url!r} is not an absolute http(s) URL")
        return urls

    @property
    def start_hosts(self) -> list[str]:
        return [h for h in (urlsplit(u).hostname for u in self.start_urls) if h]

    @property
    def host_patterns(self) -> list[str]:
        """Hosts this site may fetch: the configured globs plus every start-URL host."""
        return list(dict.fromkeys([*self.allowed_hosts, *self.start_hosts]))
