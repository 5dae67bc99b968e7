"""Hanweb JCMS columns: ``/col/col<ID>/index.html`` with an embedded ``<datastore>`` and the
``dataproxy.jsp`` endpoint for the records beyond it.

The column page embeds the first records as ``<record><![CDATA[<li><a …></li>]]></record>`` and says
where the rest are: the ``<nextgroup>`` link (or the jpage script's ``proxyUrl``) names the data proxy
and its parameters, the jpage init script (``new jpage({totalRecord:13, perpage:3 …})``, ``perPage``,
``var totalRecord = 13``) or the datastore's ``<totalrecord>``/``<totalpage>`` say how many records
there are and how many a page holds. sites.yaml (``hanweb.webid/unitid/columnid/perpage/proxy_form``)
overrides what the page says; without a proxy link the proxy is ``/module/web/jpage/dataproxy.jsp``.

Two proxy forms are walked: ``?page=N&…&perpage=P`` (always a GET) and the records form. The records form
is sent as ``hanweb.proxy_method`` says: ``post`` as the jpage script does (``?startrecord=S&endrecord=E&
perpage=P`` in the query, ``col=1&appid=1&webid=…&path=/&columnid=…&sourceContentType=1&unitid=…&webname=…
&permissiontype=0`` in a urlencoded body); ``get`` with every field in the query (the JSP reads query and
body alike); ``auto`` (default) POSTs, and when the first POST is answered 405 or 501 (the method is not
allowed or not implemented) repeats that call as a GET and GETs for the rest of the walk, with a note in
the discovery log; the refused POST is logged as a probe, not as a failed page. A 403 is not a reason to
switch: it is what WAFs answer and it backs the host off (``politeness.backoff_on``), so a second
request at once would be both useless and impolite.

Proxy pages are walked from the first one the embedded records do not cover until the announced total is
covered.
A failed page stops the walk; a short or empty page before the total is logged and the walk goes on
(three pages in a row with nothing new stop it). Whenever fewer distinct records than announced were
read, the crawl of that column is recorded as incomplete (``ctx.log.incomplete``: found, expected,
reason) and a note says "incomplete: found F of T records". The total is announced (``ctx.announce``):
``totalRecord`` exactly, a ``totalpage`` alone as pages x perpage with its sure minimum.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from nianbao.crawler.discovery.base import DiscoveryContext, Link, Shortfall, html_links
from nianbao.crawler.urls import dedupe_key

# Blocks are cut by an opener and the next closer (never by one ``(.*?)`` pattern: over many unclosed
# openers that takes quadratic time).
_RECORD = (re.compile(r"<record>\s*<!\[CDATA\[", re.IGNORECASE), re.compile(r"\]\]>\s*</record>", re.IGNORECASE))
_TOTAL_RECORD = re.compile(r"(?:<totalrecord>|\btotal_?records?['\"]?\s*[:=]\s*['\"]?)\s*(\d+)", re.IGNORECASE)
_TOTAL_PAGE = re.compile(r"(?:<totalpage>|\btotal_?pages?['\"]?\s*[:=]\s*['\"]?)\s*(\d+)", re.IGNORECASE)
_PERPAGE = re.compile(r"\bper_?page['\"]?\s*[:=]\s*['\"]?(\d+)", re.IGNORECASE)
_NEXTGROUP = (re.compile(r"<nextgroup>", re.IGNORECASE), re.compile(r"</nextgroup>", re.IGNORECASE))
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_PROXY_URL = re.compile(r"""\bproxyUrl['"]?\s*[:=]\s*["']([^"']+)["']""", re.IGNORECASE)
_ID = {name: re.compile(rf"\b{name}\s*[=:]\s*['\"]?(\d+)", re.IGNORECASE) for name in ("webid", "unitid", "columnid")}
_COL_IN_URL = re.compile(r"/col/col(\d+)/")
DATAPROXY_PATH = "/module/web/jpage/dataproxy.jsp"
DEFAULT_PERPAGE = 20
MAX_STALLED = 3  # proxy pages in a row that bring no new record before the walk gives up
METHOD_FALLBACK_STATUSES = (405, 501)  # a first POST answered so makes an ``auto`` walk GET instead
_QUERY_KEYS = ("startrecord", "endrecord", "perpage")  # what the records form keeps in the query when POSTed
_PAGE_KEYS = ("page", "appid", "webid", "path", "columnid", "unitid", "permissiontype", "perpage")
_RECORD_KEYS = ("startrecord", "endrecord", "perpage", "col", "appid", "webid", "path", "columnid",
                "sourceContentType", "unitid", "webname", "permissiontype")  # fmt: skip
_DEFAULTS = {"appid": "1", "path": "/", "permissiontype": "0", "col": "1", "sourceContentType": "1"}

Form = Literal["page", "records"]


@dataclass(frozen=True)
class Proxy:
    endpoint: str  # absolute URL without query
    params: dict[str, str]  # the proxy link's parameters plus the ids
    form: Form
    perpage: int

    def url(self, first: int, last: int) -> str:
        """The proxy call for records ``first..last`` (1-based; ``first`` starts a page in the page form)."""
        return self.endpoint + "?" + urlencode(self._fields(first, last))

    def call(self, first: int, last: int, *, post: bool) -> tuple[str, dict[str, str] | None]:
        """(URL, form) of the call for records ``first..last``: with ``post`` (records form only) the query
        holds start, end and perpage and the form every other field; else the form is None (a GET)."""
        if not post or self.form != "records":
            return self.url(first, last), None
        fields = self._fields(first, last)
        query = [(k, v) for k, v in fields if k in _QUERY_KEYS]
        return self.endpoint + "?" + urlencode(query), {k: v for k, v in fields if k not in _QUERY_KEYS}

    def _fields(self, first: int, last: int) -> list[tuple[str, str]]:
        keys: tuple[str, ...]
        if self.form == "page":
            fixed = {"page": str((first - 1) // self.perpage + 1), "perpage": str(self.perpage)}
            keys = _PAGE_KEYS
        else:
            fixed = {"startrecord": str(first), "endrecord": str(last), "perpage": str(self.perpage)}
            keys = _RECORD_KEYS
        values = {**_DEFAULTS, **self.params, **fixed}
        ordered = [(k, values[k]) for k in keys if k in values]
        skip = set(keys) | {"page", "startrecord", "endrecord"}
        ordered += [(k, v) for k, v in self.params.items() if k not in skip]
        return ordered


Delimiters = tuple[re.Pattern[str], re.Pattern[str]]


def _spans(text: str, delimiters: Delimiters) -> list[tuple[int, int, int, int]]:
    """(block start, content start, content end, block end) of each block, in one pass: an opener
    without a closer after it ends the scan."""
    opener, closer = delimiters
    spans: list[tuple[int, int, int, int]] = []
    pos = 0
    while (start := opener.search(text, pos)) is not None:
        end = closer.search(text, start.end())
        if end is None:
            break
        spans.append((start.start(), start.end(), end.start(), end.end()))
        pos = end.end()
    return spans


def blocks(text: str, delimiters: Delimiters) -> list[str]:
    """The contents of the blocks (``<record><![CDATA[…]]></record>``, ``<nextgroup>…</nextgroup>``)."""
    return [text[inner:close] for _, inner, close, _ in _spans(text, delimiters)]


def outside(text: str, delimiters: Delimiters) -> list[str]:
    """The text between and around the blocks."""
    parts, pos = [], 0
    for start, _, _, end in _spans(text, delimiters):
        parts.append(text[pos:start])
        pos = end
    parts.append(text[pos:])
    return parts


def records(text: str, base_url: str) -> list[Link]:
    """Links inside the datastore records of a column page or dataproxy response."""
    links: list[Link] = []
    for fragment in blocks(text, _RECORD):
        links.extend(html_links(fragment, base_url))
    return links


def _record_keys(text: str, base_url: str) -> list[str]:
    """One key per record (its first link), to count records against the announced total."""
    keys: list[str] = []
    for fragment in blocks(text, _RECORD):
        links = html_links(fragment, base_url)
        keys.append(dedupe_key(links[0].url) if links else fragment.strip())
    return keys


def discover_hanweb(ctx: DiscoveryContext, start_url: str) -> None:
    page = ctx.listing(start_url)
    if not ctx.usable(page):
        return
    base = page.final_url or start_url
    text = page.text(ctx.site.http.encoding)
    embedded = records(text, base)
    if not embedded:  # an ordinary HTML list (older templates): take its links
        ctx.log.notes.append("no <datastore> records on the column page; reading its links")
        ctx.offer_all(html_links(text, base), base)
    else:
        ctx.offer_all(embedded, base)
    seen = set(_record_keys(text, base))
    proxy = _proxy(ctx, text, base)
    if proxy is None:
        ctx.log.notes.append("webid/unitid/columnid not found; only the embedded records were read")
        return
    total, exact = _int(_TOTAL_RECORD, text), True
    if total is None and (pages := _int(_TOTAL_PAGE, text)) is not None:
        total, exact = (len(seen), True) if pages <= 1 else (pages * proxy.perpage, False)
    if total is not None and exact:
        ctx.announce(start_url, total, "hanweb totalRecord" if _int(_TOTAL_RECORD, text) is not None else "hanweb")
    elif total is not None:
        ctx.announce_pages(start_url, total // proxy.perpage, proxy.perpage, "hanweb totalpage")
    if total is not None and total <= len(seen):
        ctx.log.notes.append(f"all {total} records are embedded in the column page")
        return
    _walk(ctx, start_url, base, proxy, seen, (total, exact))


def _walk(
    ctx: DiscoveryContext, start_url: str, base: str, proxy: Proxy, seen: set[str], announced: tuple[int | None, bool]
) -> None:
    """Proxy calls from the first record the embedded ones do not cover up to the total. ``announced`` is the
    total and whether it is exact (``totalRecord``) or an upper bound (``totalpage`` × perpage)."""
    total, exact = announced
    perpage = proxy.perpage
    embedded = len(seen)
    first = embedded + 1 if proxy.form == "records" else (embedded // perpage) * perpage + 1
    method = ctx.site.hanweb.proxy_method
    post = proxy.form == "records" and method != "get"
    fallback = post and method == "auto"  # until the first POST has been answered
    ctx.log.notes.append(
        f"dataproxy {proxy.endpoint} ({proxy.form} form, {'POST' if post else 'GET'}) from record {first} "
        f"(perpage {perpage}, {embedded} embedded, total records {total if total is not None else 'unknown'})"
    )
    stalled, calls, stop, capped = 0, 0, "", False
    while total is None or first <= total:
        if calls >= ctx.max_pages:
            stop, capped = f"stopped at the page cap ({ctx.max_pages})", True
            break
        last = first + perpage - 1 if total is None else min(first + perpage - 1, total)
        url, form = proxy.call(first, last, post=post)
        answer = ctx.listing(url, form=form, note="POST" if form is not None else None)
        calls += 1
        if fallback and answer.outcome in ("http_error", "server_error") and answer.status in METHOD_FALLBACK_STATUSES:
            ctx.log.visits[-1].note = f"probe: POST answered HTTP {answer.status}; the records form goes as GET"
            ctx.log.notes.append(
                f"dataproxy answered the POST of records {first}-{last} with HTTP {answer.status}: "
                "sending the records form as GET (every field in the query) for the rest of the walk"
            )
            post = False
            url, form = proxy.call(first, last, post=False)
            answer = ctx.listing(url)
        fallback = False
        if not ctx.usable(answer):
            status = f" (HTTP {answer.status})" if answer.status else ""
            stop = f"dataproxy records {first}-{last} failed: {answer.outcome}{status}"
            break
        body = answer.text(ctx.site.http.encoding)
        if total is None:
            total = _int(_TOTAL_RECORD, body)
            if total is not None:
                ctx.announce(start_url, total, "hanweb totalRecord (dataproxy)")
            if total is None and (pages := _int(_TOTAL_PAGE, body)) is not None:
                total, exact = pages * perpage, False  # an upper bound: the last page may be short
                ctx.announce_pages(start_url, pages, perpage, "hanweb totalpage (dataproxy)")
            last = last if total is None else min(last, total)
        keys = _record_keys(body, base)
        ctx.offer_all(records(body, base), url)
        new = len(set(keys) - seen)
        seen.update(keys)
        expected = last - first + 1
        if len(keys) < expected:
            if total is None or not exact:  # nothing says more remain: a short page is the last one
                ctx.log.notes.append(f"dataproxy records {first}-{last}: {len(keys)} records, the last page")
                break
            ctx.log.notes.append(
                f"dataproxy records {first}-{last}: {len(keys)} of {expected} records before the total {total}"
            )
        stalled = stalled + 1 if new == 0 else 0
        if stalled >= MAX_STALLED:
            stop = f"{MAX_STALLED} dataproxy pages in a row brought no new record (last {url})"
            break
        first = last + 1
    if stop:
        ctx.log.notes.append(stop)
    if total is not None and exact and len(seen) < total:
        reason = stop or "short or empty dataproxy pages"
        ctx.log.incomplete.append(Shortfall(start_url, len(seen), total, reason, capped=capped))
        ctx.log.notes.append(f"incomplete: found {len(seen)} of {total} records ({reason})")
    elif total is not None and not exact and (short := ctx.settle(start_url, len(seen), stop=stop, capped=capped)):
        ctx.log.notes.append(f"fewer records than the {short.expected} the page count promises at least")
    elif not stop:
        ctx.log.notes.append(f"read all {len(seen)} records (announced {total})")


def _proxy(ctx: DiscoveryContext, text: str, base: str) -> Proxy | None:
    cfg = ctx.site.hanweb
    link = _proxy_link(text)
    endpoint, params = urljoin(base, DATAPROXY_PATH), {}
    if link is not None:
        parts = urlsplit(urljoin(base, link))
        endpoint = parts._replace(query="", fragment="").geturl()
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
    found = {name: (m.group(1) if (m := pattern.search(text)) else None) for name, pattern in _ID.items()}
    col = _COL_IN_URL.search(base)
    webid = cfg.webid or params.get("webid") or found["webid"]
    unitid = cfg.unitid or params.get("unitid") or found["unitid"]
    columnid = cfg.columnid or params.get("columnid") or found["columnid"] or (col.group(1) if col else None)
    if not (webid and unitid and columnid):
        return None
    params.update(webid=webid, unitid=unitid, columnid=columnid)
    form: Form
    if cfg.proxy_form != "auto":
        form = cfg.proxy_form
    elif "startrecord" in params or "endrecord" in params or (link is None and "startrecord" in text):
        form = "records"
    else:
        form = "page"
    # the jpage script's perpage is what the page asks for; the <nextgroup> link's only when it has none
    announced = _int(_PERPAGE, "".join(outside(text, _NEXTGROUP))) or _int(_PERPAGE, text)
    perpage = cfg.perpage or announced or DEFAULT_PERPAGE
    if cfg.perpage and announced and cfg.perpage != announced:
        ctx.log.notes.append(f"perpage {cfg.perpage} from sites.yaml (the page says {announced})")
    return Proxy(endpoint, params, form, perpage)


def _proxy_link(text: str) -> str | None:
    """The data proxy URL the column page names: ``<nextgroup>`` href first, then jpage ``proxyUrl``."""
    for block in blocks(text, _NEXTGROUP):
        if match := _HREF.search(block):
            return html.unescape(match.group(1).strip())
    if match := _PROXY_URL.search(text):
        return html.unescape(match.group(1).strip())
    return None


def _int(pattern: re.Pattern[str], text: str) -> int | None:
    match = pattern.search(text)
    return int(match.group(1)) if match else None
