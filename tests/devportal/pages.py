"""Test helpers that read served pages the way a crawler would, without using portal code."""

from __future__ import annotations

import re

import httpx

_META_CHARSET = re.compile(rb"""<meta\s+charset=["']?([\w-]+)""", re.IGNORECASE)
PAGER = re.compile(r'createPageHTML\((\d+),\s*(\d+),\s*"index",\s*"html"\)')
LIST_ITEM = re.compile(r'<li><a href="(\./[^"]+)" title="([^"]+)"[^>]*>[^<]*</a><span>(\d{4}-\d{2}-\d{2})</span></li>')


def sniff_text(response: httpx.Response) -> str:
    """Decode a page the way a crawler must: header charset, else the <meta charset> in the first 1 KB.

    GBK-declared pages are decoded as gb18030, the superset every GBK page is valid in.
    """
    declared = response.charset_encoding
    if declared is None:
        match = _META_CHARSET.search(response.content[:1024])
        assert match is not None, f"{response.url}: no charset in header or meta"
        declared = match.group(1).decode("ascii")
    codec = "gb18030" if declared.lower() in ("gbk", "gb2312", "gb18030") else declared
    return response.content.decode(codec)
