"""Find the attachments of a report page: documents linked by extension or by a known download path.

Some bodies publish the report only as a PDF/Word attachment (``P020…pdf`` on TRS, Hanweb
``downfile.jsp``), so attachments are fetched with the page and stored like it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from nianbao.crawler.discovery.base import Link, html_links
from nianbao.crawler.siteschema import Attachments


def is_document_url(url: str, extensions: list[str]) -> bool:
    path = unquote(urlsplit(url).path).lower()
    return any(path.endswith("." + ext.lower()) for ext in extensions)


def attachment_links(html: str, base_url: str, cfg: Attachments, *, limit: int) -> list[Link]:
    """Document links of a page, first occurrence of each URL, at most ``limit``."""
    patterns = [re.compile(p) for p in cfg.href_patterns]
    found: dict[str, Link] = {}
    for link in html_links(html, base_url):
        if link.url in found:
            continue
        if is_document_url(link.url, cfg.extensions) or any(p.search(link.url) for p in patterns):
            found[link.url] = link
        if len(found) >= limit:
            break
    return list(found.values())
