"""Turn page bytes into text, recording how the charset was decided.

Order: BOM, HTTP ``charset``, ``<meta charset>``/``http-equiv``, strict UTF-8, then GB18030.
``gb2312``/``gbk`` are read as GB18030 (a superset: pages that declare gb2312 routinely contain GBK-only
characters). If a declared charset decodes with more than 0.5 % replacement characters, GB18030 is
tried instead. A declared charset that is not a text encoding (``idna``, ``rot13``, ``base64``, ``zlib``)
is ignored. The parser makes its own decision from the raw bytes; this one only serves discovery.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_META = re.compile(rb"""<meta[^<>]{1,400}?charset\s*=\s*["']?\s*([a-zA-Z0-9_\-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_GB_FAMILY = {"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "gb18030", "euc-cn"}


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str
    source: str  # bom | http | meta | detected | override


# Codecs that are no page charset (they transform text or bytes, always fail, or smuggle markup past
# the decoder); bytes-to-bytes and text-to-text codecs (base64, zlib, hex, rot13, ...) are refused by the
# registry's own flag. A page declaring one is decoded as if it declared nothing.
_NOT_PAGE_CODECS = frozenset(
    {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined", "utf-7", "charmap"}
)


def normalise_charset(name: str) -> str | None:
    """The Python codec of a declared charset; None when unknown or not a text encoding of pages."""
    name = name.strip().strip("\"'").lower()
    if name in _GB_FAMILY:
        return "gb18030"
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_PAGE_CODECS:
        return None
    return info.name


def _decode(body: bytes, charset: str) -> str | None:
    try:
        return body.decode(charset, errors="replace")
    except (UnicodeError, LookupError, ValueError, TypeError):  # a codec that cannot decode this at all
        return None


def decode_page(body: bytes, *, http_charset: str | None, override: str = "auto") -> Decoded:
    if override != "auto":
        charset = normalise_charset(override) or "gb18030"
        text = _decode(body, charset)
        if text is not None:
            return Decoded(text, charset, "override")
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
        text = _decode(body, charset)
        if text is not None and _replacement_ratio(text) <= 0.005:
            return Decoded(text, charset, source)
    try:
        return Decoded(body.decode("utf-8"), "utf-8", "detected")
    except UnicodeDecodeError:
        return Decoded(body.decode("gb18030", errors="replace"), "gb18030", "detected")


def _replacement_ratio(text: str) -> float:
    return text.count("\ufffd") / max(1, len(text))
