"""Hostile and broken PDFs are refused with a reason code, fast and in bounded memory, never a hang.

Elapsed-time assertions are generous hang guards (pytest-timeout also runs); the bomb is checked in a
child process whose peak RSS (VmHWM) is measured.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from nianbao.devportal.render.pdfdoc import PdfOptions
from nianbao.parser.errors import UnusableInput
from nianbao.parser.pdfflow import pdf_document
from nianbao.parser.pdfguard import inflated_size
from nianbao.parser.settings import ParserSettings

from .pdf_fixtures import flate_bomb, many_pages, one_page, parse, rendered

ROOT = Path(__file__).resolve().parents[2]


def _refused(data: bytes, settings: ParserSettings | None = None, *, within: float = 10.0) -> UnusableInput:
    start = time.monotonic()
    with pytest.raises(UnusableInput) as info:
        pdf_document(data, settings or ParserSettings())
    assert time.monotonic() - start < within
    return info.value


def test_encrypted_with_a_user_password_is_refused() -> None:
    data = rendered("county-2019", PdfOptions(encrypt="pw"))
    assert b"/Encrypt" in data
    assert _refused(data).reason == "encrypted"


def test_encrypted_with_an_empty_user_password_is_read() -> None:
    buffer = io.BytesIO()
    from reportlab.lib import pdfencrypt

    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1,
                        encrypt=pdfencrypt.StandardEncryption("", ownerPassword="owner", canPrint=1))  # fmt: skip
    pdf.setFont("Helvetica", 12)
    pdf.drawString(72, 700, "Annual report of an open government")
    pdf.showPage()
    pdf.save()
    document = pdf_document(buffer.getvalue(), ParserSettings())
    assert [line.text for line in document.lines] == ["Annual report of an open government"]


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.95])
def test_truncated_is_refused_or_read_without_hanging(fraction: float) -> None:
    data = rendered("county-2019")
    cut = data[: int(len(data) * fraction)]
    start = time.monotonic()
    try:
        document, record = parse(cut)
    except UnusableInput as exc:
        assert exc.reason == "corrupt"
    else:  # pdfminer rebuilds a cut file's xref: what survives is read, nothing is invented
        expected = rendered("county-2019")
        assert document.kind == "pdf" and len(cut) < len(expected)
        assert all(c.value is None or c.status == "number" for c in record.cells)
    assert time.monotonic() - start < 20


def test_truncated_to_the_header_is_corrupt() -> None:
    assert _refused(rendered("county-2019")[:200]).reason == "corrupt"


def test_garbage_after_the_header_is_corrupt() -> None:
    data = b"%PDF-1.7\n" + bytes(range(256)) * 400
    assert _refused(data).reason == "corrupt"


def test_an_xref_pointing_outside_the_file_is_corrupt() -> None:
    # The /Pages node at offset -1: the reason must survive closing the file (pdfplumber's close walks the
    # page tree again and raised over it; found by tests/parser/test_document_fuzz.py).
    data = one_page()
    pages_row = re.findall(rb"\n\d{10} 00000 n", data)[1]
    assert _refused(data.replace(pages_row, b"\n-000000001 00000 n", 1)).reason == "corrupt"


@pytest.mark.parametrize(
    ("title", "read"),
    [(rb"(\376\377\000A\000)", "A\ufffd"), (b"<FEFF0041D800>", "A\ufffd"), (b"9 9 R", None), (b"[1 2]", None)],
)
def test_a_damaged_title_is_never_an_error(title: bytes, read: str | None) -> None:
    # An odd number of UTF-16 bytes (found by the document fuzz), a lone surrogate, a dangling reference.
    document = pdf_document(one_page(info=b"<< /Title " + title + b" >>"), ParserSettings())
    assert [line.text for line in document.lines] == ["Annual report"]
    assert document.meta.get("title") == read


def test_not_a_pdf_is_corrupt() -> None:
    assert _refused(b"<html><body>not a pdf</body></html>" * 50).reason == "corrupt"


def test_over_the_size_limit_is_refused_before_reading() -> None:
    data = rendered("county-2019")
    error = _refused(data, ParserSettings(max_document_bytes=4096), within=1.0)
    assert error.reason == "too_large" and str(len(data)) in str(error)


def test_five_thousand_pages_are_refused_fast() -> None:
    data = many_pages(5000)
    assert _refused(data, within=5.0).reason == "too_many_pages"


def test_a_page_count_that_lies_is_still_refused() -> None:
    data = many_pages(2000, declared=1)
    assert _refused(data, within=10.0).reason == "too_many_pages"


def test_a_page_limit_below_the_document_is_respected() -> None:
    data = rendered("county-2019")  # four pages
    assert _refused(data, ParserSettings(max_pdf_pages=3)).reason == "too_many_pages"


def test_inflated_size_stops_counting_past_the_limit() -> None:
    data = flate_bomb()
    start = time.monotonic()
    assert inflated_size(data, 64 << 20) > 64 << 20
    assert time.monotonic() - start < 5


_CHILD = """
import json, sys, time
sys.path.insert(0, {tests!r})
from parser.pdf_fixtures import flate_bomb
from nianbao.parser.errors import UnusableInput
from nianbao.parser.pdfflow import pdf_document
from nianbao.parser.settings import ParserSettings
data = flate_bomb()
start = time.monotonic()
try:
    pdf_document(data, ParserSettings())
    reason = None
except UnusableInput as exc:
    reason = exc.reason
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork and exec, so it would include the test runner's.
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({{"reason": reason, "seconds": time.monotonic() - start, "rss_mb": peak_kb / 1024}}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak RSS is read from /proc")
def test_flate_bomb_is_refused_in_bounded_time_and_memory() -> None:
    child = _CHILD.format(tests=str(ROOT / "tests"))
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["reason"] == "bomb"
    assert outcome["seconds"] < 10
    assert outcome["rss_mb"] < 500


def test_a_bomb_under_a_lower_limit_is_refused() -> None:
    small = flate_bomb(64 << 20)
    assert _refused(small, ParserSettings(max_decompressed_bytes=16 << 20)).reason == "bomb"
