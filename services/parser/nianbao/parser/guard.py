"""What is let in: media-type sniffing and the input limits that keep one hostile page cheap.

Refused with :class:`UnusableInput`: empty input, input over ``max_input_bytes``, binary formats that
reach the text path (documents are recognised earlier, in ``formats``, and read by front ends of their
own), bytes that are not text, HTML with more tags than ``max_tags``, and block elements (tables included) nested deeper
than ``max_nesting_depth`` (lexbor's tree builder is quadratic in that depth: 100 000 nested ``<div>`` take seconds).
The scans are linear: a tag pattern never looks past the next ``<``.
"""

from __future__ import annotations

import re

from nianbao.parser.errors import UnusableInput
from nianbao.parser.settings import ParserSettings

_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (docx, xlsx, ofd)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE document (doc, xls, wps)"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"{\\rtf", "an RTF document"),
)
_HTML_HINT = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|meta|title|table|div|p|br|span|script|tr|td)[\s>/]", re.IGNORECASE
)
_BLOCK_TAG = re.compile(
    rb"<(/?)(?:div|section|article|aside|blockquote|center|ul|ol|dl|nav|header|footer|main|form|fieldset|"
    rb"figure|details|address|menu|dir|hgroup|table)\b[^<>]*?(/?)>",
    re.IGNORECASE,
)
_DEPTH_SCAN_MIN_TAGS = 20_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")


def check_bytes(data: bytes, settings: ParserSettings) -> None:
    """Refuse inputs that cannot be a report page, before any decoding."""
    if not data or not data.strip():
        raise UnusableInput("empty", "the input is empty")
    if len(data) > settings.max_input_bytes:
        raise UnusableInput(
            "too_large", f"the input has {len(data)} bytes, over the limit of {settings.max_input_bytes}"
        )
    head = data[:16].lstrip()
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise UnusableInput("binary", f"the input is {what}, not a page")


def sniff_html(data: bytes, media_type: str | None, *, suffix: str | None = None) -> bool:
    """HTML or plain text: the declared media type or file suffix if it says, else the first bytes."""
    declared = (media_type or "").split(";")[0].strip().lower()
    if declared in ("text/html", "application/xhtml+xml"):
        return True
    if suffix in (".html", ".htm", ".shtml", ".xhtml", ".jsp", ".php", ".asp", ".aspx"):
        return True
    if declared == "text/plain" or suffix == ".txt":
        return False
    return bool(_HTML_HINT.search(data[:4096]))


def check_html(data: bytes, settings: ParserSettings) -> None:
    """Refuse HTML whose tag count or block nesting would make parsing slow."""
    tags = data.count(b"<")
    if tags > settings.max_tags:
        raise UnusableInput("too_many_tags", f"the page has about {tags} tags, over {settings.max_tags}")
    limit = settings.max_nesting_depth
    if tags <= limit:
        return  # too few tags to nest that deep
    if tags < _DEPTH_SCAN_MIN_TAGS and data.count(b"<div") + data.count(b"<table") <= limit:
        return  # cheap pages: other block tags alone cannot nest badly enough to slow the parser
    depth = 0
    for m in _BLOCK_TAG.finditer(data):
        if m.group(2):
            continue  # <div/>
        depth = max(depth - 1, 0) if m.group(1) else depth + 1
        if depth > settings.max_nesting_depth:
            raise UnusableInput(
                "too_deep", f"block elements nest deeper than {settings.max_nesting_depth} levels"
            )


def check_text(text: str, settings: ParserSettings) -> None:
    """Refuse decoded input that is not text (control characters or replacement characters)."""
    sample = text[:20_000]
    if not sample.strip():
        raise UnusableInput("empty", "the input holds only whitespace")
    bad = len(_CONTROL.findall(sample))
    if bad > max(8, len(sample) // 20):
        raise UnusableInput("not_text", f"the input is not text ({bad} control characters in the first "
                            f"{len(sample)})")
    if text.count("\n") > settings.max_text_lines:
        raise UnusableInput("too_many_lines", f"the text has more than {settings.max_text_lines} lines")
