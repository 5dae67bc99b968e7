"""Find the attachments of a report page: documents linked by extension or by a known download path.

Some bodies publish the report only as a PDF/Word attachment (``P020…pdf`` on TRS, Hanweb
``downfile.jsp``), so attachments are fetched with the page and stored like it.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

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


# Types that say nothing about the document: servers send them for any download.
GENERIC_TYPES = frozenset(
    {"application/octet-stream", "application/x-download", "application/force-download", "application/download"}
)
_TYPE_OF_EXTENSION = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "wps": "application/kswps",
    "et": "application/kset",
    "ofd": "application/ofd",
    "rtf": "application/rtf",
    "zip": "application/zip",
    "rar": "application/x-rar",
}


def document_media_type(media_type: str | None, *names: str | None) -> str:
    """The declared type of a document, or, when the server declared none or a generic download type,
    the type its file name says (``names``: Content-Disposition name, final URL, URL, first match wins).
    A hint for the parser, which reads the format from the bytes."""
    if media_type and media_type not in GENERIC_TYPES:
        return media_type
    for name in names:
        if not name:
            continue
        if "://" in name:  # a URL: its path, then its query values (downfile.jsp?filename=<name>.pdf)
            parts = urlsplit(name)
            candidates = [parts.path, *(value for _, value in parse_qsl(parts.query))]
        else:
            candidates = [name]
        for candidate in candidates:
            base = unquote(candidate).rsplit("/", 1)[-1].lower()
            extension = base.rsplit(".", 1)[-1] if "." in base else ""
            if extension in _TYPE_OF_EXTENSION:
                return _TYPE_OF_EXTENSION[extension]
    return media_type or "application/octet-stream"
