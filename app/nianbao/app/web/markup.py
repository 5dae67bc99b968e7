"""HTML building blocks of the web view. Every value put into a page goes through :func:`h`
(``html.escape`` with quotes), so a site name, a title or a URL read from a portal is text, never markup."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from nianbao.app.web.data import Page


def h(value: Any) -> str:
    """``value`` as HTML text or attribute value (``None`` is empty)."""
    return "" if value is None else html.escape(str(value), quote=True)


def number(value: float | None) -> str:
    """A stored value for people: integers without a decimal point, ``—`` for a blank."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return str(int(value))
    return str(value)


def link(href: str, text: Any, **attrs: str) -> str:
    extra = "".join(f' {name.rstrip("_").replace("_", "-")}="{h(v)}"' for name, v in attrs.items())
    return f'<a href="{h(href)}"{extra}>{h(text)}</a>'


def bilingual(english: str, chinese: str) -> str:
    """An English label with its Chinese one beside it."""
    return f'{h(english)} <span class="zh" lang="zh-CN">{h(chinese)}</span>'


def query(path: str, **params: Any) -> str:
    """``path`` with the non-empty parameters as a query string."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


def pager(page: Page, path: str, **params: Any) -> str:
    """Previous/next links and the position, e.g. ``page 2 of 7 (318 rows)``."""
    parts = []
    if page.number > 1:
        parts.append(link(query(path, **params, page=page.number - 1), "← previous 上一页", rel="prev"))
    parts.append(f'<span class="position">page {page.number} of {page.last} ({page.total} rows · 共 {page.total} 条)'
                 "</span>")  # fmt: skip
    if page.number < page.last:
        parts.append(link(query(path, **params, page=page.number + 1), "next 下一页 →", rel="next"))
    return f'<nav class="pager">{" ".join(parts)}</nav>'


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], *, cls: str = "list") -> str:
    """An HTML table from already-escaped header and cell fragments."""
    head = "".join(f"<th>{cell}</th>" for cell in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{h(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def layout(base: str, title: str, body: str, *, logged_in: bool = True) -> str:
    """A whole page: header with navigation, the body, no script."""
    nav = ""
    if logged_in:
        nav = (
            f'<nav class="top">{link(base + "/", "Sites 站点")} {link(base + "/findings", "Findings 审核结果")}'
            f'<form method="post" action="{h(base)}/logout" class="logout"><button type="submit">Log out 退出'
            "</button></form></nav>"
        )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{h(title)} · nianbao</title>"
        f'<link rel="stylesheet" href="{h(base)}/static/style.css"></head>'
        f'<body><header><strong>nianbao</strong> <span class="zh">政府信息公开年报</span>{nav}</header>'
        f"<main>{body}</main></body></html>"
    )
