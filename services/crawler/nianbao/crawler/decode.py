"""Turn page bytes into text, recording how the charset was decided.

Order: BOM, HTTP ``charset``, ``<meta charset>``/``http-equiv``, strict UTF-8, then GB18030.
``gb2312``/``gbk`` are read as GB18030 (a superset: pages that declare gb2312 routinely contain GBK-only
characters). If a declared charset decodes with more than 0.5 % replacement characters, GB18030 is
tried instead. The parser makes its own decision from the raw bytes; this one only serves discovery.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_GB_FAMILY = {"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "gb18030", "euc-cn"}


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str
    source: str  # bom | http | meta | detected | override


def normalise_charset(name: str) -> str | None:
    name = name.strip().strip("\"'").lower()
    if name in _GB_FAMILY:
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_page(body: bytes, *, http_charset: str | None, override: str = "auto") -> Decoded:
    if override != "auto":
        charset = normalise_charset(override) or "gb18030"
        return Decoded(body.decode(charset, errors="replace"), charset, "override")
    for bom, charset in _BOMS:
        if body.startswith(bom):
            return Decoded(body.decode(charset, errors="replace"), charset, "bom")
    declared: list[tuple[str, str]] = []
    if http_charset and (norm := normalise_charset(http_charset)):
        declared.append((norm, "http"))
    match = _META.search(body[:4096])
    if match and (norm := normalise_charset(match.group(1).decode("ascii", "ignore"))):
        declared.append((norm, "meta"))
    for charset, source in declared:
        text = body.decode(charset, errors="replace")
        if _replacement_ratio(text) <= 0.005:
            return Decoded(text, charset, source)
    try:
        return Decoded(body.decode("utf-8"), "utf-8", "detected")
    except UnicodeDecodeError:
        return Decoded(body.decode("gb18030", errors="replace"), "gb18030", "detected")


def _replacement_ratio(text: str) -> float:
    return text.count("\ufffd") / max(1, len(text))
