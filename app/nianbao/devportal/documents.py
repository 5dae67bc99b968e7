"""The bytes of each report's attachment: the report itself as a PDF, DOCX or DOC, drawn from the same
definition as the article page (so the attachment's tables are the report's ground truth).

Documents are rendered once per process and kept: rendering is deterministic, and a DOC needs a
LibreOffice run of a few seconds. A DOC cannot be made without LibreOffice: ``DocumentUnavailable``.
"""

from __future__ import annotations

import threading

from nianbao.devportal.model import Report
from nianbao.devportal.render.docxdoc import report_doc, report_docx
from nianbao.devportal.render.layout import report_layout
from nianbao.devportal.render.pdfdoc import PdfOptions, report_pdf

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# The PDF-only report shows the quirks of real Word-exported PDFs: a table broken across pages without
# its header, a label split by the break, a vertical group label, running header and page numbers.
PDF_OPTIONS: dict[str, PdfOptions] = {"water-2020": PdfOptions(split_requests=True, vertical_label=True)}

_cache: dict[str, tuple[str, bytes]] = {}
_lock = threading.Lock()


class DocumentUnavailable(RuntimeError):
    """The attachment cannot be made on this machine (a DOC needs LibreOffice)."""


def attachment_document(report: Report) -> tuple[str, bytes]:
    """``(media type, bytes)`` of ``report``'s attachment, rendered on first use."""
    if report.attachment is None:
        raise KeyError(f"{report.id} has no attachment")
    with _lock:  # one render per report even when handler threads ask at once
        if report.id not in _cache:
            _cache[report.id] = _render(report, report.attachment.filename.rsplit(".", 1)[-1].lower())
        return _cache[report.id]


def _render(report: Report, suffix: str) -> tuple[str, bytes]:
    layout = report_layout(report)
    if suffix == "pdf":
        return "application/pdf", report_pdf(layout, PDF_OPTIONS.get(report.id, PdfOptions()))
    if suffix == "docx":
        return DOCX_TYPE, report_docx(layout)
    if suffix == "doc":
        from nianbao.parser.convert import ConverterMissing

        try:
            return "application/msword", report_doc(layout)
        except ConverterMissing as exc:
            raise DocumentUnavailable(f"{report.id}: a .doc needs LibreOffice ({exc})") from exc
    raise KeyError(f"{report.id}: no renderer for .{suffix} attachments")
