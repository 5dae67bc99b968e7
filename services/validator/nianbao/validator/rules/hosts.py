"""Web addresses written in a report, and which hosts count as the report's own (for ``text.offsite_url``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

GOVERNMENT_SUFFIX = "gov.cn"

# http(s)://host or a bare www.host; the host ends at the first character a host cannot contain
# (Chinese text, brackets, slashes, punctuation), and a port is dropped.
_ADDRESS = re.compile(r"(?i)(?:https?://|(?<![A-Za-z0-9.\-])(?=www\.))([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*)")
# Where an address can start: its "h" (http) or its first "w" (www.). Under IGNORECASE no other character
# matches these two letters (checked over all of Unicode).
_START = re.compile(r"[HhWw]")


def normalise(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    return host.removeprefix("www.")


def hosts_in(text: str) -> list[str]:
    """Hosts of the web addresses in ``text``, lower-cased, in order of first appearance."""
    return list(dict.fromkeys(m.group(1).lower().rstrip(".") for m in _addresses(text)))


def _addresses(text: str) -> Iterator[re.Match[str]]:
    """``_ADDRESS.finditer(text)``, tried only where an address can start.

    Speed: finditer attempts the IGNORECASE pattern at every character of a long Chinese text, about
    0.3 ms a report; a case-sensitive scan for the start letters is several times cheaper. The matches are
    the same: ``match(text, pos)`` still sees the characters before ``pos`` for the look-behind, and a
    match is never empty, so the next search starts at its end as finditer's does.
    """
    pos = 0
    while (start := _START.search(text, pos)) is not None:
        match = _ADDRESS.match(text, start.start())
        if match is None:
            pos = start.start() + 1
        else:
            yield match
            pos = match.end()


def url_host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlsplit(url if "//" in url else f"//{url}").hostname
    except ValueError:  # malformed netloc, e.g. an unclosed IPv6 bracket
        return None


def is_allowed(host: str, allowed: Iterable[str]) -> bool:
    """``*.gov.cn``, or an allowed host or a subdomain of one (``www.`` is ignored on both sides)."""
    name = normalise(host)
    if name == GOVERNMENT_SUFFIX or name.endswith("." + GOVERNMENT_SUFFIX):
        return True
    for other in allowed:
        base = normalise(other)
        if base and (name == base or name.endswith("." + base)):
            return True
    return False
