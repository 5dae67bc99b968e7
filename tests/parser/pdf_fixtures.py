"""PDF fixtures for the PDF front-end tests: devportal reports drawn as PDFs, and hand-built hostile files.

Expected values always come from the report definitions (``Report.expected_tables()``), written by hand;
never from the parser.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from functools import cache

from nianbao.devportal.catalogue import report as catalogue_report
from nianbao.devportal.render.layout import report_layout
from nianbao.devportal.render.pdfdoc import PdfOptions, report_pdf
from nianbao.parser.analyze import Budget, analyze
from nianbao.parser.document import Document
from nianbao.parser.pdfflow import pdf_document
from nianbao.parser.settings import ParserSettings
from nianbao.shared.record import Record, Source


@cache
def rendered(report_id: str, options: PdfOptions | None = None) -> bytes:
    return report_pdf(report_layout(catalogue_report(report_id)), options or PdfOptions())


def parse(data: bytes, settings: ParserSettings | None = None) -> tuple[Document, Record]:
    """The document and the record, the way ``parse_bytes`` chains them."""
    document = pdf_document(data, settings or ParserSettings())
    source = Source(content_sha256="0" * 64, media_type="application/pdf")
    return document, analyze(document, source=source, budget=Budget.of(20))


def build_pdf(objects: Sequence[bytes], *, info: int | None = None) -> bytes:
    """A PDF with these object bodies (numbered from 1; object 1 is the catalog) and a correct xref;
    ``info``: the number of the document-information dictionary."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode() + b"0000000000 65535 f \n"
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    extra = f" /Info {info} 0 R" if info is not None else ""
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{extra} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length " + str(len(data)).encode() + extra + b" >>\nstream\n" + data + b"\nendstream"


def one_page(text: bytes = b"Annual report", *, info: bytes | None = None) -> bytes:
    """One page with a line of Helvetica ``text``; ``info``: a document-information dictionary."""
    content = b"BT /F1 12 Tf 72 700 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        stream(content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if info is not None:
        objects.append(info)
    return build_pdf(objects, info=len(objects) if info is not None else None)


def many_pages(n: int, *, declared: int | None = None) -> bytes:
    """``n`` empty pages sharing one content stream; ``declared``: what ``/Count`` claims."""
    first_page = 4
    kids = b" ".join(f"{first_page + i} 0 R".encode() for i in range(n))
    count = n if declared is None else declared
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(count).encode() + b" >>",
        stream(b"BT ET"),
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 3 0 R /Resources << >> >>"
    objects.extend([page] * n)
    return build_pdf(objects)


@cache
def flate_bomb(inflated: int = 1 << 30) -> bytes:
    """One page whose content stream is ``inflated`` zero bytes, Flate-compressed (~5 MB for 1 GB at level 1)."""
    packer = zlib.compressobj(1)  # fast to build; ~5 MB for 1 GB
    block = bytes(1 << 24)
    parts = [packer.compress(block) for _ in range(inflated // len(block))]
    parts.append(packer.flush())
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
        stream(b"".join(parts), b" /Filter /FlateDecode"),
    ]
    return build_pdf(objects)


def scanned_pdf(text_pages: int, image_pages: int) -> bytes:
    """``text_pages`` pages of report text, then ``image_pages`` pages holding only an image (a scan)."""
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    from nianbao.devportal.render.pdfdoc import FONT, font

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    font()
    for _ in range(text_pages):
        pdf.setFont(FONT, 14)
        pdf.drawString(72, 760, "示例县人民政府2019年政府信息公开工作年度报告")
        pdf.setFont(FONT, 11)
        pdf.drawString(72, 730, "一、总体情况")
        pdf.drawString(72, 710, "2019年，示例县人民政府深入贯彻新修订的《条例》。")
        pdf.showPage()
    scan = ImageReader(Image.new("L", (60, 80), 200))
    for _ in range(image_pages):
        pdf.drawImage(scan, 40, 40, width=515, height=760)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
