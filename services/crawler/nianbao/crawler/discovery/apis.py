"""JSON list endpoints: Guangdong gkmlpt, Kaipuyun UCAP search, and gov.cn columns (JSON feed or pager).

* gkmlpt: ``<prefix>/gkmlpt/index`` holds ``window._CONFIG = {SID: '…', TREE: […]}``; categories are
  tree nodes whose name matches ``gkmlpt.category_pattern`` (nodes with ``jump_url`` point elsewhere and
  are skipped) unless configured or given as the start URL's ``#<id>``. Each category is paged through
  ``/gkmlpt/api/all/<cat>?page=N&sid=<SID>``; its ``classify.post_count`` is announced (keyed by the
  category's API URL ``…/gkmlpt/api/all/<cat>``).
* UCAP: ``/common/search/<channel>?page=N&_pageSize=…&_isJson=true`` with ``data.results``; ``data.total``
  is announced (keyed by the start URL).
* Both APIs are paged from page 1 until the announced total is seen, an empty page, a page with nothing
  new, or the page cap. A page that fails while the total says more remain is stepped over (three in a
  row end the walk); whatever stays short of the total is recorded by ``ctx.settle``.
* gov.cn: the column page decides. A start URL that answers JSON is a whole-column feed of
  ``{TITLE, URL, DOCRELPUBTIME}`` (its length is announced); an HTML column page naming a ``*.json`` feed
  (in a link or a script) is read through that feed; otherwise the page is an HTML list paged by its
  ``home_N.htm`` pager (:func:`~nianbao.crawler.discovery.listing.walk_opened`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from nianbao.crawler.discovery.base import DiscoveryContext, Link, html_links
from nianbao.crawler.discovery.listing import open_start, walk_opened
from nianbao.crawler.urls import dedupe_key

_SID = re.compile(r"""SID\s*:\s*['"]?(\d+)""")
_CHANNEL = re.compile(r"/[cC](\d+)/")
_FEED = re.compile(r"""["'(]\s*([^"'()\s<>]+\.json)(?:\?[^"'()\s<>]*)?\s*["')]""", re.IGNORECASE)
MAX_FAILED = 3  # failed API pages in a row that end a walk


def _json(ctx: DiscoveryContext, url: str) -> Any | None:
    page = ctx.listing(url)
    if not ctx.usable(page):
        ctx.log.notes.append(f"{url}: {page.outcome} (HTTP {page.status})")
        return None
    return _parse(ctx, url, page.text(ctx.site.http.encoding))


def _parse(ctx: DiscoveryContext, url: str, text: str) -> Any | None:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:  # a deeply nested body is no list either
        ctx.log.notes.append(f"{url}: not JSON ({exc.__class__.__name__}: {str(exc)[:120]})")
        return None


def _count(value: Any) -> int | None:
    """A total as the API writes it: an int, or a string of digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _page_json_api(
    ctx: DiscoveryContext,
    key: str,
    page_url: Callable[[int], str],
    read_page: Callable[[str, Any], tuple[list[Link], Any]],
    source: str,
) -> None:
    """Page a JSON list API from page 1 (see the module docstring). ``read_page`` turns one response into
    (links, total); the first total read is announced under ``key``. What counts as found is the distinct
    article links the API itself returned (links the column page showed first count when the API repeats
    them)."""
    walk: set[str] = set()
    total: int | None = None
    stop, capped, in_a_row, failed = "", False, 0, 0
    n = 0
    while True:
        n += 1
        if n > ctx.max_pages:
            stop, capped = f"stopped at the page cap ({ctx.max_pages})", True
            ctx.log.notes.append(stop)
            break
        url = page_url(n)
        data = _json(ctx, url)
        if data is None:
            failed += 1
            in_a_row += 1
            if total is None or len(walk) >= total or in_a_row >= MAX_FAILED:
                stop = f"API page {n} failed ({url})"
                break
            ctx.log.notes.append(f"skipped API page {n} ({url}): failed")
            continue
        in_a_row = 0
        links, page_total = read_page(url, data)
        if total is None and (total := _count(page_total)) is not None:
            ctx.announce(key, total, source)
        keys = {dedupe_key(link.url) for link in links if ctx.is_article(link.url) and ctx.host_ok(link.url)}
        ctx.offer_all(links, url)
        if not keys - walk:
            short = total is not None and len(walk) < total
            stop = (f"API page {n} is empty" if not links else f"API page {n} brought nothing new") if short else ""
            break
        walk |= keys
        if total is not None and len(walk) >= total:
            break
    if failed and not stop.startswith(f"API page {n} failed"):
        stop = f"{failed} API page(s) failed" + (f"; {stop}" if stop else "")
    ctx.settle(key, len(walk), stop=stop, capped=capped)


def _date(value: Any) -> str | None:
    if isinstance(value, int | float) and value > 10**9:  # epoch seconds or milliseconds
        seconds = value / 1000 if value > 10**11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d")
        except (OverflowError, OSError, ValueError):  # a nonsense timestamp is no date
            return None
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

        def page_url(n: int, api: str = api) -> str:
            return f"{api}?{urlencode({'page': n, 'sid': sid})}"

        _page_json_api(ctx, api, page_url, _gkmlpt_page, "gkmlpt post_count")


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
    _page_json_api(ctx, start_url, lambda n: search + "?" + urlencode({"page": n, **query}), _ucap_page, "ucap total")


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
    """A gov.cn column, read the way its page says (module docstring): JSON feed, or HTML with a pager."""
    opened = open_start(ctx, start_url)
    if opened is None:
        return
    first, base = opened
    text = first.text(ctx.site.http.encoding)
    if text.lstrip()[:1] in ("[", "{"):
        _govcn_feed(ctx, start_url, base, _parse(ctx, base, text))
        return
    feed = feed_url(text, base)
    if feed is not None and ctx.host_ok(feed):
        ctx.log.notes.append(f"the column page names the feed {feed}")
        ctx.offer_all(html_links(text, base), base)  # links the page shows before its script loads the feed
        _govcn_feed(ctx, start_url, feed, _json(ctx, feed))
        return
    ctx.log.notes.append("no JSON feed named on the column page; walking its pager")
    walk_opened(ctx, start_url, first, base)


def feed_url(html: str, base: str) -> str | None:
    """The first ``*.json`` URL a column page names in a link or a script string, made absolute."""
    match = _FEED.search(html)
    return urljoin(base, match.group(1)) if match else None


def _govcn_feed(ctx: DiscoveryContext, start_url: str, feed: str, data: Any) -> None:
    """Offer every item of a whole-column feed and announce its length (distinct item URLs)."""
    if isinstance(data, dict):  # some feeds wrap the list
        data = next((v for v in data.values() if isinstance(v, list)), None)
    if not isinstance(data, list):
        ctx.log.notes.append(f"{feed}: the feed holds no list of items")
        return
    links = [
        Link(
            urljoin(feed, str(item.get("URL") or item.get("url") or "")),
            str(item.get("TITLE") or item.get("title") or ""),
            _date(item.get("DOCRELPUBTIME") or item.get("pubtime")),
        )
        for item in data
        if isinstance(item, dict) and (item.get("URL") or item.get("url"))
    ]
    listed = {dedupe_key(link.url) for link in links}
    ctx.announce(start_url, len(listed), "govcn feed length")
    ctx.offer_all(links, feed)
    found = len({dedupe_key(link.url) for link in links if ctx.seen(link.url)})
    others = len(listed) - found
    ctx.settle(start_url, found, stop=f"{others} feed item(s) are not article links of this site" if others else "")
