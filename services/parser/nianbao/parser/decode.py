"""Bytes → text, and which evidence chose the charset (``source.charset`` / ``source.charset_source``).

Order: byte-order mark > HTTP ``Content-Type`` charset > ``<meta charset>`` / ``http-equiv`` > detection.
``gbk`` and ``gb2312`` are decoded as ``gb18030`` (their superset: pages declare gb2312 and use GBK-only
characters). A declaration that does not decode the bytes is overruled by detection, with a warning; one that names
a codec that is not a text encoding (``idna``, ``rot13``, ``base64``, ``zlib``, …) is ignored, with a
``charset_ignored`` warning.
Detection tries UTF-8, then GB18030 (undeclared Chinese pages are nearly always GBK), then either of
them with a few bytes replaced (a page cut mid-character), then charset-normalizer; as a last resort
GB18030 with replacement characters.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{2,40})""", re.IGNORECASE
)
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
              "ascii": "utf-8", "us-ascii": "utf-8", "iso-8859-1": "cp1252", "latin-1": "cp1252",
              "big5": "big5hkscs"}
_SNIFF_BYTES = 4096
_WESTERN = frozenset({"cp1252", "iso8859-1", "iso8859-15"})


@dataclass
class Decoded:
    text: str
    charset: str
    source: str  # bom | http | meta | detected | default
    warnings: list[tuple[str, str | None, str | None]] = field(default_factory=list)


# Python codecs that are no page charset: they transform text or bytes (idna, punycode, escapes), always
# fail (undefined), or let a page smuggle markup past the decoder (utf-7, which browsers do not support).
# Bytes-to-bytes and text-to-text codecs (base64, zlib, hex, uu, bz2, quopri, rot13) are refused by the
# codec registry's own flag.
_NOT_PAGE_CODECS = frozenset(
    {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined", "utf-7", "charmap"}
)


def _lookup(name: str | None) -> tuple[str | None, bool]:
    """``(codec name, refused)``: the Python codec of a declared charset (None when unknown), and whether
    the label names a codec that is not a text encoding of pages."""
    if not name:
        return None, False
    label = name.strip().strip("\"'").lower()
    label = _SUPERSETS.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):  # ValueError: a label with NUL characters
        return None, False
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_PAGE_CODECS:
        return None, True
    return info.name, False


def canonical_charset(name: str | None) -> str | None:
    """A Python codec name for a declared charset, or None when unknown or not a text encoding."""
    return _lookup(name)[0]


def meta_charset(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:_SNIFF_BYTES])
    return m.group(1).decode("ascii", "replace") if m else None


def _strict(data: bytes, charset: str) -> str | None:
    try:
        return data.decode(charset)
    except (UnicodeError, LookupError, ValueError, TypeError):  # any codec failure means "not this one"
        return None


def _lenient(data: bytes, charset: str) -> str | None:
    """Decode with replacement when only a few bytes are bad (a page cut mid-character, a stray byte)."""
    try:
        text = data.decode(charset, "replace")
    except (UnicodeError, LookupError, ValueError, TypeError):
        return None
    bad = text.count("\ufffd")
    return text if bad <= max(2, len(text) // 2000) else None


def _detect(data: bytes) -> tuple[str, str, bool] | None:
    """``(text, charset, replaced)``."""
    for charset in ("utf-8", "gb18030"):
        text = _strict(data, charset)
        if text is not None:
            return text, charset, False
    for charset in ("utf-8", "gb18030"):
        text = _lenient(data, charset)
        if text is not None:
            return text, charset, True
    from charset_normalizer import from_bytes  # only pages that are neither UTF-8 nor GB18030

    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        text = _strict(data, best.encoding)
        if text is not None:
            return text, best.encoding, False
    return None


def decode(data: bytes, *, http_charset: str | None = None, html: bool = True) -> Decoded:
    """Decode ``data`` following the precedence above."""
    for bom, charset in _BOMS:
        if data.startswith(bom):
            return Decoded(data[len(bom) :].decode(charset, "replace"), charset, "bom")
    warnings: list[tuple[str, str | None, str | None]] = []
    declared: list[tuple[str, str | None]] = [("http", http_charset)]
    if html:
        declared.append(("meta", meta_charset(data)))
    for source, name in declared:
        found, refused = _lookup(name)
        if refused:
            warnings.append(("charset_ignored", "source.charset", f"{source} declared {name}: not a text encoding"))
        if found is None:
            continue
        charset = found
        if charset != "utf-8" and not data.isascii():
            # Valid multi-byte UTF-8 is practically never another charset's text: the declaration is wrong.
            as_utf8 = _strict(data, "utf-8")
            if as_utf8 is not None:
                warnings.append(("charset_mismatch", "source.charset", f"{source} declared {name}; text is UTF-8"))
                return Decoded(as_utf8, "utf-8", "detected", warnings)
        if charset in _WESTERN and not data.isascii():
            # Servers default to ISO-8859-1; on a Chinese government page that label is never right.
            as_gb = _strict(data, "gb18030")
            if as_gb is not None:
                warnings.append(("charset_mismatch", "source.charset", f"{source} declared {name}; text is GBK"))
                return Decoded(as_gb, "gb18030", "detected", warnings)
        text = _strict(data, charset)
        if text is not None:
            return Decoded(text, charset, source, warnings)
        text = _lenient(data, charset)
        if text is not None:
            warnings.append(("charset_replaced", "source.charset", f"a few bytes are not valid {name}"))
            return Decoded(text, charset, source, warnings)
        warnings.append(("charset_mismatch", "source.charset", f"{source} declared {name}; bytes do not decode"))
        break
    detected = _detect(data)
    if detected is not None:
        text, charset, replaced = detected
        if replaced:
            warnings.append(("charset_replaced", "source.charset", f"a few bytes are not valid {charset}"))
        return Decoded(text, charset, "detected", warnings)
    warnings.append(("charset_replaced", "source.charset", "undecodable bytes replaced"))
    return Decoded(data.decode("gb18030", "replace"), "gb18030", "default", warnings)
