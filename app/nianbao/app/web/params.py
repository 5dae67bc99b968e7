"""Query parameters of the web view, validated: a parameter a page does not take, a repeated one, an
unknown rule/status/site or a page number that is not a small positive integer is a :class:`BadRequest`
(a 400 page that says which), never a silently ignored filter."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from nianbao.app.web.data import MAX_PAGE, FindingFilter

MAX_VALUE = 200  # characters; ids and rule names are far shorter


class BadRequest(Exception):
    """A query parameter the page cannot use; the message names it."""


def single(items: Sequence[tuple[str, str]], allowed: Collection[str], *, longest: int = MAX_VALUE) -> dict[str, str]:
    """The parameters as a dict, after refusing unknown, repeated and oversized (``longest``) ones."""
    out: dict[str, str] = {}
    for name, value in items:
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise BadRequest(f"unknown parameter {name[:50]!r} (this page takes: {known})")
        if name in out:
            raise BadRequest(f"parameter {name!r} given more than once")
        if len(value) > longest:
            raise BadRequest(f"parameter {name!r} is longer than {longest} characters")
        out[name] = value
    return out


def page_number(params: dict[str, str]) -> int:
    text = params.get("page", "").strip()
    if not text:
        return 1
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PAGE:
        raise BadRequest(f"page must be a whole number from 1 to {MAX_PAGE}, not {text[:20]!r}")
    return int(text)


def finding_filter(params: dict[str, str], rules: Collection[str], sites: Collection[str]) -> FindingFilter:
    """The findings filter: ``rule`` and ``site`` must be known (empty: any), ``status`` one of fail, pass,
    not_assessable or all (empty: fail)."""
    rule = params.get("rule", "").strip() or None
    site = params.get("site", "").strip() or None
    status = params.get("status", "").strip() or "fail"
    if rule is not None and rule not in rules:
        raise BadRequest(f"unknown rule {rule!r} (see `nianbao rules`)")
    if site is not None and site not in sites:
        raise BadRequest(f"unknown site {site!r}")
    if status not in ("fail", "pass", "not_assessable", "all"):
        raise BadRequest(f"status must be fail, pass, not_assessable or all, not {status!r}")
    return FindingFilter(rule=rule, status=None if status == "all" else status, site=site)
