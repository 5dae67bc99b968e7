"""Guess a portal's software family from a listing page (the first step of adding a site).

Checks run from the most to the least specific marker, so a Hanweb page that also carries TRS-style
``t2024…`` links is still reported as Hanweb.
"""

from __future__ import annotations

import re

_CHECKS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("gkmlpt", "gkmlpt index / window._CONFIG", re.compile(r"/gkmlpt/|window\._CONFIG\s*=\s*\{\s*SID")),
    ("hanweb_jpage", "<datastore> or /col/colN/", re.compile(r"<datastore>|/col/col\d+/|dataproxy\.jsp", re.I)),
    (
        "trs",
        "createPageHTML, t<date>_<id> links or TRS_ markup",
        re.compile(r"createPage(?:HTML)?\s*\(|/t\d{8}_\d+(?:_wap)?\.s?html?|TRS_(?:Editor|UEDITOR)"),
    ),
    (
        "ucap",
        "UCAP markup or /cN/YYYYMM/<32hex>.shtml",
        re.compile(r"ucapcontent|UCAP-CONTENT|/[cC]\d+/\d{6}/[0-9a-f]{32}\.shtml", re.I),
    ),
    ("vsb", "/info/<col>/<id>.htm links", re.compile(r"/info/\d+/\d+\.htm")),
)


def sniff_family(url: str, text: str) -> tuple[str, str]:
    """(family, evidence). Falls back to ``static_generic``; a ``.json`` URL is a gov.cn feed."""
    if url.split("?", 1)[0].endswith(".json"):
        return "govcn", "JSON feed URL"
    haystack = url + "\n" + text
    for family, evidence, pattern in _CHECKS:
        if pattern.search(haystack):
            return family, evidence
    return "static_generic", "no family marker found"
