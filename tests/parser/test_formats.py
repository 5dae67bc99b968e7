"""Format sniffing: the bytes decide (servers send attachments as octet-stream, names lie); the declared
type or suffix only tells a Word from a spreadsheet OLE file when the container does not say."""

from __future__ import annotations

import io
import zipfile

import pytest

from nianbao.parser.formats import sniff_format

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)


def zipped(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "media_type", "suffix", "expected"),
    [
        (b"%PDF-1.7\n...", None, None, "pdf"),
        (b"\xef\xbb\xbf\r\n%PDF-1.4\n...", "application/octet-stream", ".doc", "pdf"),  # junk before the header
        (zipped("[Content_Types].xml", "word/document.xml"), None, ".pdf", "docx"),
        (zipped("[Content_Types].xml", "xl/workbook.xml"), None, None, "xlsx"),
        (zipped("OFD.xml", "Doc_0/Document.xml"), None, None, "ofd"),
        (zipped("[Content_Types].xml", "ppt/presentation.xml"), None, None, "office_other"),
        (zipped("report.pdf"), None, None, "archive"),
        (b"PK\x03\x04truncated", None, None, "docx"),  # damaged: the DOCX front end refuses it with its reason
        (OLE + "WordDocument".encode("utf-16-le"), None, ".xls", "doc"),  # the container wins over the name
        (OLE + "Workbook".encode("utf-16-le"), None, None, "xls"),
        (OLE, "application/vnd.ms-excel", None, "xls"),
        (OLE, None, ".et", "xls"),
        (OLE, None, ".wps", "doc"),
        (b"{\\rtf1\\ansi ...}", None, None, "rtf"),
        (b"\x89PNG\r\n\x1a\n....", None, None, "image"),
        (b"\xff\xd8\xff\xe0....", None, None, "image"),
        (b"Rar!\x1a\x07\x00", None, None, "archive"),
        (b"<html><body>2020\xe5\xb9\xb4</body></html>", "application/pdf", ".pdf", None),  # text: HTML path
        (b"plain text", None, None, None),
    ],
)
def test_sniff_format(data: bytes, media_type: str | None, suffix: str | None, expected: str | None) -> None:
    assert sniff_format(data, media_type, suffix) == expected


def test_zip_members_are_found_without_listing_the_archive() -> None:
    # A central directory of a million entries is never materialised: names are found by a byte search.
    names = [f"m/{i}.xml" for i in range(20_000)] + ["word/document.xml"]
    assert sniff_format(zipped(*names)) == "docx"
