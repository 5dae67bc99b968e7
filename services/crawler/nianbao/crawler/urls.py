"""URL helpers: host allow-lists, canonical report URLs and the dedupe key.

Portals publish one report under several URLs: a ``_wap`` twin, a ``wap.``/``m.`` mobile host, http and
https, tracking parameters. :func:`canonical_url` maps them onto one URL to fetch and
:func:`dedupe_key` onto one key per run, so each report is fetched once.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

TRACKING_PARAMS = ("from", "spm", "isappinstalled", "share_token", "wxshare")
_WAP_SUFFIX = re.compile(r"_wap(\.s?html?)$")
_MOBILE_HOST = re.compile(r"^(wap|m)\.(?=[^.]+\.[^.]+)")


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def host_allowed(host: str, patterns: list[str]) -> bool:
    """True if ``host`` matches one glob. ``*.gov.cn`` also matches ``gov.cn``; IP literals never match
    a glob, only an exact entry, so an IP-literal host must be listed explicitly."""
    host = host.lower().rstrip(".")
    if not host:
        return False
    is_ip = _is_ip(host)
    for pattern in patterns:
        pattern = pattern.lower().rstrip(".")
        if host == pattern:
            return True
        if is_ip or "*" not in pattern:
            continue
        if fnmatch.fnmatchcase(host, pattern):
            return True
        if pattern.startswith("*.") and host == pattern[2:]:
            return True
    return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def absolute(base: str, href: str) -> str | None:
    """Resolve ``href`` against ``base``; None for links that cannot be fetched: non-http(s) schemes
    (javascript:, mailto:, #...), no host, a port outside 0–65535 or not a number, an unparseable URL."""
    href = href.strip()
    if not href or href.lower().startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    try:
        url = urljoin(base, href)
    except ValueError:  # an invalid IPv6 literal ("http://[::1")
        return None
    return url if fetchable(url) else None


def fetchable(url: str) -> bool:
    """An http(s) URL with a host and a valid port (0–65535): what may be handed to the HTTP client.
    ``urlsplit`` raises on a port out of range; other parsers wrap it modulo 65536 onto another port."""
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError: out of range or not a number
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if any(c in url for c in "\x00\r\n\t"):
        return False
    return port is None or 0 <= port <= 65535


def strip_fragment(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(fragment=""))


def canonical_url(url: str) -> str:
    """The URL to fetch for a report link: no ``_wap`` twin, no mobile host, no tracking parameters,
    no fragment, lower-case host, default port dropped. The scheme is kept (some hosts serve only one)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not _is_ip(host):
        host = _MOBILE_HOST.sub("www.", host)
    try:
        port = parts.port
    except ValueError:  # not fetchable anyway (see fetchable); keep its key distinct, do not raise
        return url
    default = {"http": 80, "https": 443}.get(parts.scheme)
    netloc = host if port in (None, default) else f"{host}:{port}"
    path = _WAP_SUFFIX.sub(r"\1", parts.path) or "/"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _tracking(k)])
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def _tracking(key: str) -> bool:
    key = key.lower()
    return key.startswith("utm_") or key in TRACKING_PARAMS


def dedupe_key(url: str) -> str:
    """Scheme-less canonical form: http and https copies of one page share a key."""
    canonical = urlsplit(canonical_url(url))
    path = canonical.path
    if path.endswith("/index.html") or path.endswith("/index.shtml"):
        path = path.rsplit("/", 1)[0] + "/"
    return f"{canonical.netloc}{path}" + (f"?{canonical.query}" if canonical.query else "")


def same_document(a: str, b: str) -> bool:
    return dedupe_key(a) == dedupe_key(b)
