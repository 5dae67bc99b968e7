"""What a PDF must pass before pdfminer reads it: size, signature, inflated size, encryption, page count.

pdfminer inflates a ``/FlateDecode`` stream with one ``zlib.decompress`` call: a 1 MB stream of zeros
becomes 1 GB in memory before any limit could act. So every Flate stream of the file is first inflated
here in 1 MB steps that are counted and thrown away (every stream is tried, whatever its dictionary says:
a stream that is not zlib data fails on its first bytes), and the file is refused (``bomb``) once the total
passes ``max_decompressed_bytes``. This costs one extra inflate of the file's streams, small next to
pdfminer's layout analysis. (Filter chains that inflate twice are counted once.)
"""

from __future__ import annotations

import io
import re
import zlib
from typing import Any

from nianbao.parser.errors import UnusableInput
from nianbao.parser.settings import ParserSettings

_STREAM = re.compile(rb">>\s*stream\r?\n")
_STEP = 1 << 20


def check_pdf_bytes(data: bytes, settings: ParserSettings) -> None:
    """Refuse input that is too large, not a PDF, or inflates beyond the limit."""
    if len(data) > settings.max_document_bytes:
        raise UnusableInput(
            "too_large", f"the PDF has {len(data)} bytes, over the limit of {settings.max_document_bytes}"
        )
    if b"%PDF-" not in data[:1024]:
        raise UnusableInput("corrupt", "the input does not start with a PDF header (%PDF-)")
    inflated = inflated_size(data, settings.max_decompressed_bytes)
    if inflated > settings.max_decompressed_bytes:
        raise UnusableInput(
            "bomb",
            f"the PDF's compressed streams inflate to more than {settings.max_decompressed_bytes} bytes",
        )


def inflated_size(data: bytes, limit: int) -> int:
    """Bytes the file's Flate streams inflate to, counted up to just past ``limit``."""
    total = 0
    view = memoryview(data)
    for m in _STREAM.finditer(data):
        start = m.end()
        end = data.find(b"endstream", start)
        chunk: Any = view[start : end if end >= 0 else len(data)]
        inflater = zlib.decompressobj()
        try:
            while chunk and not inflater.eof:
                total += len(inflater.decompress(chunk, _STEP))
                if total > limit:
                    return total
                chunk = inflater.unconsumed_tail
        except zlib.error:
            continue  # damaged or encrypted stream: pdfminer will skip or fail on it, not inflate it
    return total


def open_pdf(data: bytes, settings: ParserSettings) -> Any:
    """The pdfplumber document, or :class:`UnusableInput` (encrypted, corrupt, too many pages)."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except PdfminerException as exc:
        cause = exc.args[0] if exc.args else exc
        if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
            raise UnusableInput("encrypted", "the PDF is encrypted and opens only with a password") from exc
        raise UnusableInput("corrupt", f"the PDF cannot be read: {str(cause)[:200]}") from exc
    except Exception as exc:  # pdfminer raises many kinds on damaged files
        raise UnusableInput("corrupt", f"the PDF cannot be read: {str(exc)[:200]}") from exc
    declared = _declared_pages(pdf)
    if declared > settings.max_pdf_pages:
        close_pdf(pdf)
        raise UnusableInput("too_many_pages", f"the PDF has {declared} pages, over {settings.max_pdf_pages}")
    return pdf


def close_pdf(pdf: Any) -> None:
    """Release the document without ``pdfplumber.PDF.close``: that walks the whole page tree again (every
    page, past the page limit) and raises on a tree that is damaged, replacing the error being reported."""
    try:
        pdf.flush_cache()
        if not pdf.stream_is_external:
            pdf.stream.close()
    except Exception:  # nothing to release is worth an error here
        return


def _declared_pages(pdf: Any) -> int:
    from pdfminer.pdftypes import resolve1

    try:
        pages = resolve1(pdf.doc.catalog.get("Pages"))
        count = resolve1(pages.get("Count")) if isinstance(pages, dict) else None
    except Exception:
        return 0
    return count if isinstance(count, int) else 0


def page_list(pdf: Any, settings: ParserSettings) -> list[Any]:
    """The document's pages (refused when there are more than the limit, whatever ``/Count`` says)."""
    from pdfminer.pdfpage import PDFPage
    from pdfplumber.page import Page

    pages = []
    try:
        for number, page in enumerate(PDFPage.create_pages(pdf.doc), start=1):
            if number > settings.max_pdf_pages:
                raise UnusableInput("too_many_pages", f"the PDF has more than {settings.max_pdf_pages} pages")
            pages.append(Page(pdf, page, page_number=number, initial_doctop=0))
    except UnusableInput:
        raise
    except Exception as exc:
        if not pages:
            raise UnusableInput("corrupt", f"the PDF's page tree cannot be read: {str(exc)[:200]}") from exc
    if not pages:
        raise UnusableInput("corrupt", "the PDF has no pages")
    return pages
