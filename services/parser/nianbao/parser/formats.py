"""Which front end reads an input: its format, from its first bytes (servers mislabel attachments as
``application/octet-stream``, and file names lie), with the declared media type and suffix only breaking
ties the bytes leave open (an OLE container is a Word or a spreadsheet file; text is HTML or plain).

Formats:

* ``html``, ``text``: pages (read directly);
* ``pdf``, ``docx``, ``xlsx``: documents with a front end of their own;
* ``doc``, ``rtf`` (Word, WPS), ``xls`` (Excel, ET): converted by LibreOffice to docx/xlsx first;
* ``ofd``, ``image``, ``archive``, ``office_other``: recorded as ``unsupported_format``.
"""

from __future__ import annotations

from typing import Literal

Format = Literal["html", "text", "pdf", "docx", "xlsx", "doc", "rtf", "xls", "ofd", "image", "archive", "office_other"]
UNSUPPORTED_FORMATS: frozenset[str] = frozenset({"ofd", "image", "archive", "office_other"})
CONVERTED_TO: dict[str, str] = {"doc": "docx", "rtf": "docx", "xls": "xlsx"}  # LibreOffice targets

MEDIA_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "rtf": "application/rtf",
    "xls": "application/vnd.ms-excel",
    "ofd": "application/ofd",
}

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*", b"BM")
_ARCHIVES = (b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b")
_SPREADSHEET_HINTS = ("xls", "et", "ett", "excel", "spreadsheet")
# OLE directory entry names are UTF-16LE: the stream that makes a file a Word or an Excel document.
_OLE_WORD = "WordDocument".encode("utf-16-le")
_OLE_BOOK = ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le"))


def sniff_format(data: bytes, media_type: str | None = None, suffix: str | None = None) -> Format | None:
    """The document format of ``data``, or None for text (HTML or plain; ``guard.sniff_html`` decides)."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"  # some generators put junk (or a BOM) before the header; readers accept it
    head = head.lstrip()
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_format(data)
    if head.startswith(_OLE):
        return _ole_format(data, media_type, suffix)
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(_IMAGES):
        return "image"
    if head.startswith(_ARCHIVES):
        return "archive"
    return None


def _zip_format(data: bytes) -> Format:
    # Member names are stored uncompressed (local headers and central directory), so a byte search finds
    # them in linear time without building the member list (a hostile archive may hold millions).
    if b"PK\x05\x06" not in data[-(1 << 16) - 22 :]:
        return "docx"  # no end-of-directory record: a truncated file; the front end refuses it as corrupt
    if b"word/document.xml" in data:
        return "docx"
    if b"xl/workbook.xml" in data:
        return "xlsx"
    if b"OFD.xml" in data:
        return "ofd"
    if b"[Content_Types].xml" in data:
        return "office_other"  # pptx and other OOXML documents carry no report tables we can read
    return "archive"


def _ole_format(data: bytes, media_type: str | None, suffix: str | None) -> Format:
    if _OLE_WORD in data:
        return "doc"  # Word and WPS (Kingsoft writes the same container)
    if any(name in data for name in _OLE_BOOK):
        return "xls"
    hint = f"{media_type or ''} {suffix or ''}".lower()
    return "xls" if any(word in hint for word in _SPREADSHEET_HINTS) else "doc"
