"""JSON list endpoints: Guangdong gkmlpt, Kaipuyun UCAP search, and gov.cn column feeds.

* gkmlpt: ``<prefix>/gkmlpt/index`` holds ``window._CONFIG = {SID: '…', TREE: […]}``; categories are
  tree nodes whose name matches ``gkmlpt.category_pattern`` (nodes with ``jump_url`` point elsewhere and
  are skipped) unless configured or given as the start URL's ``#<id>``. Each category is paged through
  ``/gkmlpt/api/all/<cat>?page=N&sid=<SID>`` until ``classify.post_count`` articles were seen, an empty
  page, a page with nothing new, or a 404 (single-page sites).
* UCAP: ``/common/search/<channel>?page=N&_pageSize=…&_isJson=true`` with ``data.results``.
* gov.cn: a start URL ending in ``.json`` is a whole-column feed of ``{TITLE, URL, DOCRELPUBTIME}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from nianbao.crawler.discovery.base import DiscoveryContext, Link, html_links

_SID = re.compile(r"""SID\s*:\s*['"]?(\d+)""")
_CHANNEL = re.compile(r"/[cC](\d+)/")


def _json(ctx: DiscoveryContext, url: str) -> Any | None:
    page = ctx.listing(url)
    if not ctx.usable(page):
        ctx.log.notes.append(f"{url}: {page.outcome} (HTTP {page.status})")
        return None
    try:
        return json.loads(page.text(ctx.site.http.encoding))
    except json.JSONDecodeError as exc:
        ctx.log.notes.append(f"{url}: not JSON ({exc})")
        return None


def _page_json_api(
    ctx: DiscoveryContext,
    page_url: Callable[[int], str],
    read_page: Callable[[str, Any], tuple[list[Link], Any]],
) -> None:
    """Page a JSON list API from page 1 until an empty page, a page with nothing new, the announced
    total of items seen, or ``max_pages``. ``read_page`` turns one response into (links, total)."""
    seen = 0
    for n in range(1, ctx.max_pages + 1):
        url = page_url(n)
        links, total = read_page(url, _json(ctx, url))
        if not links:
            break
        seen += len(links)
        if ctx.offer_all(links, url) == 0:
            break
        if isinstance(total, int) and seen >= total:
            break


def _date(value: Any) -> str | None:
    if isinstance(value, int | float) and value > 10**9:  # epoch seconds or milliseconds
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d")
    return str(value) if value else None


# --- gkmlpt ---------------------------------------------------------------------------------------------


def tree_array(text: str) -> list[Any]:
    """The ``TREE: [...]`` array of ``window._CONFIG``, cut out by bracket matching (the surrounding
    object is JavaScript, not JSON, so it cannot be parsed whole)."""
    start = text.find("TREE")
    start = text.find("[", start) if start >= 0 else -1
    if start < 0:
        return []
    depth, in_string, escaped = 0, False, False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            escaped = (char == "\\") and not escaped
            if char == '"' and not escaped:
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                try:
                    value = json.loads(text[start : index + 1])
                except json.JSONDecodeError:
                    return []
                return value if isinstance(value, list) else []
    return []


def _matching_categories(nodes: list[Any], pattern: re.Pattern[str]) -> list[int]:
    found: list[int] = []
    for node in nodes:
        if not isinstance(node, dict):
            continue
        if pattern.search(str(node.get("name", ""))) and not node.get("jump_url") and "id" in node:
            found.append(int(node["id"]))
        found.extend(_matching_categories(node.get("children") or [], pattern))
    return found


def discover_gkmlpt(ctx: DiscoveryContext, start_url: str) -> None:
    cfg = ctx.site.gkmlpt
    parts = urlsplit(start_url)
    prefix = parts.path.split("/gkmlpt", 1)[0] if "/gkmlpt" in parts.path else ""
    root = f"{parts.scheme}://{parts.netloc}{prefix}"
    index = ctx.listing(root + cfg.index_path)
    text = index.text(ctx.site.http.encoding) if ctx.usable(index) else ""
    sid = cfg.sid or (m.group(1) if (m := _SID.search(text)) else None)
    if sid is None:
        ctx.log.notes.append("gkmlpt SID not found (set gkmlpt.sid)")
        return
    categories = cfg.categories or (
        [int(parts.fragment)]
        if parts.fragment.isdigit()
        else _matching_categories(tree_array(text), re.compile(cfg.category_pattern))
    )
    ctx.log.notes.append(f"gkmlpt SID {sid}, categories {categories or 'none'}")
    for category in categories:
        api = f"{root}/gkmlpt/api/all/{category}"
        # The URL builder is used within this iteration only, so binding ``api`` late is safe.
        _page_json_api(ctx, lambda n: f"{api}?{urlencode({'page': n, 'sid': sid})}", _gkmlpt_page)  # noqa: B023


def _gkmlpt_page(url: str, data: Any) -> tuple[list[Link], Any]:
    articles = data.get("articles") if isinstance(data, dict) else None
    classify = data.get("classify") if isinstance(data, dict) else None
    links = [
        Link(
            urljoin(url, str(a.get("url") or a.get("post_url") or "")),
            str(a.get("title") or ""),
            _date(a.get("date") or a.get("created_at")),
        )
        for a in articles or []
        if isinstance(a, dict)
    ]
    return links, classify.get("post_count") if isinstance(classify, dict) else None


# --- UCAP -------------------------------------------------------------------------------------------------


def discover_ucap(ctx: DiscoveryContext, start_url: str) -> None:
    cfg = ctx.site.ucap
    first = ctx.listing(start_url)
    if ctx.usable(first):
        ctx.offer_all(html_links(first.text(ctx.site.http.encoding), first.final_url or start_url), start_url)
    channel = cfg.channel_id or (m.group(1) if (m := _CHANNEL.search(urlsplit(start_url).path)) else None)
    if channel is None:
        ctx.log.notes.append("UCAP channel id not found (set ucap.channel_id)")
        return
    query = {"_pageSize": cfg.page_size, "_isAgg": "true", "_isJson": "true", "_template": "index"}
    search = urljoin(start_url, cfg.search_path.format(channel_id=channel))
    _page_json_api(ctx, lambda n: search + "?" + urlencode({"page": n, **query}), _ucap_page)


def _ucap_page(url: str, data: Any) -> tuple[list[Link], Any]:
    body = data.get("data") if isinstance(data, dict) else None
    results = body.get("results") if isinstance(body, dict) else None
    links = [
        Link(
            urljoin(url, str(r.get("url") or "")),
            str(r.get("title") or ""),
            _date(r.get("publishedTimeStr") or r.get("publishedTime")),
        )
        for r in results or []
        if isinstance(r, dict)
    ]
    return links, body.get("total") if isinstance(body, dict) else None


# --- gov.cn feeds ---------------------------------------------------------------------------------------


def discover_govcn(ctx: DiscoveryContext, start_url: str) -> None:
    data = _json(ctx, start_url)
    if isinstance(data, dict):  # some feeds wrap the list
        data = next((v for v in data.values() if isinstance(v, list)), None)
    if not isinstance(data, list):
        ctx.log.notes.append("feed holds no list of items")
        return
    links = [
        Link(
            urljoin(start_url, str(item.get("URL") or item.get("url") or "")),
            str(item.get("TITLE") or item.get("title") or ""),
            _date(item.get("DOCRELPUBTIME") or item.get("pubtime")),
        )
        for item in data
        if isinstance(item, dict)
    ]
    ctx.offer_all(links, start_url)
