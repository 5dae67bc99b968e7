"""Recognise anti-bot challenges, so they are recorded as such instead of as broken pages.

A challenge is not content: parsing it would yield nothing and a retry without a cookie/JS solver gets
the same page. The crawler records outcome ``challenge`` with the kind below, backs the host off, and
the operator decides (``http.challenge`` in sites.yaml, a different vantage point, a browser tier).
"""

from __future__ import annotations

import re

# Small bodies that only run a script to set a cookie and reload (C3VK, HOY_TR, WZWS style shells).
SHELL_MAX_BYTES = 4096
_SCRIPT_ONLY = re.compile(
    rb"^\s*(<!doctype[^>]*>\s*)?(<html[^>]*>\s*)?(<head[^>]*>\s*)?(<meta[^>]*>\s*)*<script", re.IGNORECASE
)


def detect_challenge(status: int, body: bytes, headers: dict[str, str] | None = None) -> str | None:
    """The challenge kind, or None for an ordinary response.

    Kinds: ``jiasule`` (521 + ``__jsl_clearance``), ``ruishu`` (412 JS-cookie page), ``edgeone``
    (Tencent EdgeOne ``WTKkN`` marker), ``wzws``, ``js_cookie`` (tiny script-only page setting
    ``document.cookie``). A 521 without the Jiasule marker is Cloudflare's "origin down", not a challenge.
    """
    head = body[: SHELL_MAX_BYTES * 4]
    lowered = head.lower()
    cookies = (headers or {}).get("set-cookie", "").lower()
    if b"__jsl_clearance" in lowered or "__jsluid" in cookies:
        return "jiasule"
    if status == 412:
        return "ruishu"
    if b"wtkkn" in lowered or "eo_bot_ssid" in cookies:
        return "edgeone"
    if b"wzws" in lowered and (b"document.cookie" in lowered or "wzws" in cookies):
        return "wzws"
    if (
        len(body) <= SHELL_MAX_BYTES
        and b"document.cookie" in lowered
        and (_SCRIPT_ONLY.match(head) is not None or b"$_ts" in head)
    ):
        return "js_cookie"
    return None
