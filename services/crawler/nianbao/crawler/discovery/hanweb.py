"""Hanweb JCMS columns: ``/col/col<ID>/index.html`` with an embedded ``<datastore>`` and the
``dataproxy.jsp`` endpoint for the records beyond it.

The column page embeds the first records as ``<record><![CDATA[<li><a …></li>]]></record>``; the
column, web and unit ids come from the page (``webid=…&unitid=…`` in the jpage call or ``<nextgroup>``)
unless sites.yaml sets them. dataproxy pages are walked from the first page the embedded records do not
cover, until the announced page count, an empty record set, or a page with nothing new.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urljoin

from nianbao.crawler.discovery.base import DiscoveryContext, Link, html_links

_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.DOTALL | re.IGNORECASE)
_TOTAL_RECORD = re.compile(r"(?:<totalrecord>|totalRecord\s*[:=]\s*['\"]?)\s*(\d+)", re.IGNORECASE)
_TOTAL_PAGE = re.compile(r"<totalpage>\s*(\d+)", re.IGNORECASE)
_ID = {name: re.compile(rf"\b{name}\s*[=:]\s*['\"]?(\d+)", re.IGNORECASE) for name in ("webid", "unitid", "columnid")}
_COL_IN_URL = re.compile(r"/col/col(\d+)/")
DATAPROXY_PATH = "/module/web/jpage/dataproxy.jsp"


def records(text: str, base_url: str) -> list[Link]:
    """Links inside the datastore records of a column page or dataproxy response."""
    links: list[Link] = []
    for fragment in _RECORD.findall(text):
        links.extend(html_links(fragment, base_url))
    return links


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
    ids = _ids(ctx, text, base)
    if ids is None:
        ctx.log.notes.append("webid/unitid/columnid not found; only the embedded records were read")
        return
    perpage = ctx.site.hanweb.perpage
    total_records = _int(_TOTAL_RECORD, text)
    if total_records is not None and total_records <= len(embedded):
        ctx.log.notes.append(f"all {total_records} records are embedded in the column page")
        return
    first_page = len(embedded) // perpage + 1
    total_pages = None if total_records is None else -(-total_records // perpage)
    ctx.log.notes.append(
        f"dataproxy from page {first_page} (perpage {perpage}, {len(embedded)} embedded, "
        f"total records {total_records if total_records is not None else 'unknown'})"
    )
    for n in range(first_page, first_page + ctx.max_pages):
        if total_pages is not None and n > total_pages:
            ctx.log.notes.append(f"walked all {total_pages} dataproxy pages")
            return
        query = urlencode(
            {
                "page": n,
                "appid": 1,
                "webid": ids[0],
                "path": "/",
                "columnid": ids[2],
                "unitid": ids[1],
                "permissiontype": 0,
                "perpage": perpage,
            }
        )
        url = urljoin(base, DATAPROXY_PATH) + "?" + query
        proxy = ctx.listing(url)
        if not ctx.usable(proxy):
            ctx.log.notes.append(f"stopped at dataproxy page {n}: {proxy.outcome}")
            return
        body = proxy.text(ctx.site.http.encoding)
        if total_pages is None:
            total_pages = _int(_TOTAL_PAGE, body)
        if ctx.offer_all(records(body, base), url) == 0:
            ctx.log.notes.append(f"stopped at dataproxy page {n}: no new records")
            return
    ctx.log.notes.append(f"stopped at the page cap ({ctx.max_pages})")


def _ids(ctx: DiscoveryContext, text: str, url: str) -> tuple[str, str, str] | None:
    cfg = ctx.site.hanweb
    found = {name: (m.group(1) if (m := pattern.search(text)) else None) for name, pattern in _ID.items()}
    col = _COL_IN_URL.search(url)
    webid = cfg.webid or found["webid"]
    unitid = cfg.unitid or found["unitid"]
    columnid = cfg.columnid or found["columnid"] or (col.group(1) if col else None)
    if webid and unitid and columnid:
        return webid, unitid, columnid
    return None


def _int(pattern: re.Pattern[str], text: str) -> int | None:
    match = pattern.search(text)
    return int(match.group(1)) if match else None
