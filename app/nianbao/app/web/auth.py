"""The web view's login: the admin token, given once (``/ui/login?token=…`` or the login form), becomes a
session cookie that holds an expiry and an HMAC of it keyed by the token — never the token itself.

A browser cannot send a bearer header on a link, hence the cookie; it is HttpOnly and SameSite=Strict, and
every comparison is constant-time (``hmac.compare_digest``). Changing the token ends every session.
"""

from __future__ import annotations

import hashlib
import hmac

SESSION_COOKIE = "nianbao_ui"
SESSION_SECONDS = 8 * 3600  # a login lasts a working day
_MAX_COOKIE = 100  # "<10 digits>.<64 hex>" is 75 characters; anything longer is not ours


def _mac(token: bytes, expires: int) -> str:
    return hmac.new(token, f"nianbao-ui-session:{expires}".encode(), hashlib.sha256).hexdigest()


def token_matches(token: bytes, given: str) -> bool:
    """Whether ``given`` (as typed or pasted: surrounding blanks ignored) is the admin token."""
    return hmac.compare_digest(given.strip().encode("utf-8", "replace"), token)


def session_value(token: bytes, now: float) -> str:
    """The cookie value of a session that starts at ``now`` (seconds since the epoch)."""
    expires = int(now) + SESSION_SECONDS
    return f"{expires}.{_mac(token, expires)}"


def session_valid(token: bytes, value: str | None, now: float) -> bool:
    """Whether ``value`` is a cookie made by :func:`session_value` with this token and not yet expired."""
    if not value or len(value) > _MAX_COOKIE:
        return False
    expires_text, _, mac = value.partition(".")
    if not (expires_text.isascii() and expires_text.isdigit()):
        return False
    expires = int(expires_text)
    if not hmac.compare_digest(mac.encode("utf-8", "replace"), _mac(token, expires).encode()):
        return False
    return now < expires <= now + SESSION_SECONDS


def safe_next(base: str, value: str | None) -> str:
    """Where to go after login: ``value`` when it is a path inside the web view (``base`` + ``/…``),
    else the overview — never another host (``//evil``, ``/\\evil``, ``http://…``) or a header injection."""
    home = f"{base}/"
    if not value or len(value) > 2000:
        return home
    if not value.startswith(home) or value.startswith("//") or "\\" in value:
        return home
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return home
    return value
