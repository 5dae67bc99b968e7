"""Conditional GET (RFC 9110 §13): decide whether a validator-carrying resource answers 304."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime


def not_modified(
    *, etag: str | None, last_modified: datetime | None, if_none_match: str | None, if_modified_since: str | None
) -> bool:
    """True when the client's cached copy is current.

    If-None-Match wins when present (weak comparison, ``*`` matches anything); only without it is
    If-Modified-Since compared, at one-second resolution. An unparseable date is ignored, as the RFC says.
    """
    if if_none_match is not None:
        if etag is None:
            return False
        tags = [t.strip() for t in if_none_match.split(",")]
        return "*" in tags or _weak(etag) in {_weak(t) for t in tags}
    if if_modified_since is None or last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return last_modified.replace(microsecond=0) <= since


def _weak(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag
