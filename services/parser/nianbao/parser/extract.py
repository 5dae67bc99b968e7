"""The parser's public entry points: bytes or a file → canonical :class:`Record`.

``parse_bytes`` never raises on a bad document: damage becomes warnings in the record. It raises only
:class:`~nianbao.parser.errors.UnusableInput` when the bytes cannot be a report page at all (empty, over
a limit, binary, not text), with the reason in its message.
"""

from __future__ import annotations

import codecs
import hashlib
from pathlib import Path

from nianbao.parser.analyze import Budget, analyze
from nianbao.parser.decode import decode
from nianbao.parser.document import Document
from nianbao.parser.errors import UnusableInput
from nianbao.parser.guard import check_bytes, check_html, check_text, sniff_html
from nianbao.parser.settings import ParserSettings
from nianbao.parser.textflow import text_document
from nianbao.shared.record import Record, Source


def parse_bytes(
    data: bytes,
    *,
    url: str | None = None,
    final_url: str | None = None,
    media_type: str | None = None,
    http_charset: str | None = None,
    fetched_at: str | None = None,
    settings: ParserSettings | None = None,
    suffix: str | None = None,
) -> Record:
    """Parse one page. ``media_type``/``suffix`` say HTML or plain text; without them the bytes decide."""
    settings = settings or ParserSettings()
    budget = Budget.of(settings.time_budget_s)
    check_bytes(data, settings)
    html = sniff_html(data, media_type, suffix=suffix)
    if html:
        check_html(data, settings)
    decoded = decode(data, http_charset=http_charset, html=html)
    check_text(decoded.text, settings)
    document: Document
    if html:
        from nianbao.parser.htmlflow import html_document  # selectolax only for pages that need it

        utf8 = None
        if decoded.charset == "utf-8" and not decoded.warnings:
            utf8 = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
        document = html_document(decoded.text, settings=settings, utf8=utf8)
    else:
        document = text_document(decoded.text)
    document.warnings[:0] = decoded.warnings
    source = Source(
        url=url,
        final_url=final_url,
        content_sha256=hashlib.sha256(data).hexdigest(),
        media_type="text/html" if html else "text/plain",
        charset=decoded.charset,
        charset_source=decoded.source,
        fetched_at=fetched_at,
    )
    return analyze(document, source=source, budget=budget)


def parse_file(path: Path | str, *, settings: ParserSettings | None = None) -> Record:
    """Parse a local file; its suffix (``.html``, ``.txt``) or else its content says HTML or text."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnusableInput("unreadable", f"{path}: {exc.strerror or exc}") from exc
    return parse_bytes(data, url=path.resolve().as_uri(), settings=settings, suffix=path.suffix.lower() or None)
