"""The parser's public entry points: bytes or a file → canonical :class:`Record`.

Each format has its front end (text, HTML, PDF, DOCX, XLSX; DOC/WPS/RTF/XLS/ET through LibreOffice) and
all of them yield a :class:`Document` that one analysis turns into the record. ``parse_bytes`` never
raises on a bad document: damage becomes warnings in the record, and so does a format that cannot be
read here (``unsupported_format``, ``converter_missing``, ``scanned_document``). It raises only
:class:`~nianbao.parser.errors.UnusableInput` when the bytes cannot be a report at all (empty, over a
limit, binary, encrypted, corrupt, a bomb), with the reason in its message.
"""

from __future__ import annotations

import codecs
import hashlib
from pathlib import Path

from nianbao.parser.analyze import Budget, analyze
from nianbao.parser.decode import decode
from nianbao.parser.document import Document
from nianbao.parser.errors import UnusableInput
from nianbao.parser.formats import CONVERTED_TO, MEDIA_TYPES, UNSUPPORTED_FORMATS, Format, sniff_format
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
    """Parse one page or document. PDF, Word and spreadsheet files are recognised by their bytes; for
    text, ``media_type``/``suffix`` say HTML or plain text, and without them the bytes decide."""
    settings = settings or ParserSettings()
    budget = Budget.of(settings.time_budget_s)
    document: Document
    fmt = sniff_format(data, media_type, suffix)
    if fmt is not None:
        document = read_document(data, fmt, settings, deadline=budget.deadline)
        source = Source(
            url=url,
            final_url=final_url,
            content_sha256=hashlib.sha256(data).hexdigest(),
            media_type=MEDIA_TYPES.get(fmt, media_type),
            fetched_at=fetched_at,
        )
        return analyze(document, source=source, budget=budget)
    check_bytes(data, settings)
    html = sniff_html(data, media_type, suffix=suffix)
    if html:
        check_html(data, settings)
    decoded = decode(data, http_charset=http_charset, html=html)
    check_text(decoded.text, settings)
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


def read_document(data: bytes, fmt: Format, settings: ParserSettings, *, deadline: float | None = None) -> Document:
    """The :class:`Document` of a PDF, Word or spreadsheet file. A format nianbao cannot read, or one that
    needs a converter that is not installed, gives an empty document whose warning says so; input that is
    damaged, encrypted or over a limit raises :class:`UnusableInput`."""
    if not data.strip():
        raise UnusableInput("empty", "the input is empty")
    if len(data) > settings.max_document_bytes:
        raise UnusableInput(
            "too_large", f"the document has {len(data)} bytes, over the limit of {settings.max_document_bytes}"
        )
    if fmt in UNSUPPORTED_FORMATS:
        what = {"ofd": "an OFD document", "image": "an image", "archive": "an archive"}.get(fmt, "an Office file")
        return Document([], kind=fmt, warnings=[("unsupported_format", None, f"{fmt}: {what}; nothing was read")])
    if fmt in CONVERTED_TO:
        from nianbao.parser.convert import ConverterMissing, convert

        try:
            data = convert(data, f".{fmt}", CONVERTED_TO[fmt], settings)
        except ConverterMissing as exc:
            return Document([], kind=fmt, warnings=[("converter_missing", None, f"{fmt}: {exc}")])
        fmt = "docx" if CONVERTED_TO[fmt] == "docx" else "xlsx"
    if fmt == "pdf":
        from nianbao.parser.pdfflow import pdf_document

        return pdf_document(data, settings, deadline=deadline)
    if fmt == "docx":
        from nianbao.parser.docxflow import docx_document

        return docx_document(data, settings)
    from nianbao.parser.xlsxflow import xlsx_document

    return xlsx_document(data, settings)


def parse_file(path: Path | str, *, settings: ParserSettings | None = None) -> Record:
    """Parse a local file: documents by their bytes; for text its suffix (``.html``, ``.txt``) or else its
    content says HTML or text. A file over every input limit is refused before it is read."""
    path = Path(path)
    settings = settings or ParserSettings()
    limit = max(settings.max_input_bytes, settings.max_document_bytes)
    try:
        size = path.stat().st_size
        if size > limit:
            raise UnusableInput("too_large", f"{path}: {size} bytes, over the limit of {limit}")
        data = path.read_bytes()
    except OSError as exc:
        raise UnusableInput("unreadable", f"{path}: {exc.strerror or exc}") from exc
    return parse_bytes(data, url=path.resolve().as_uri(), settings=settings, suffix=path.suffix.lower() or None)
