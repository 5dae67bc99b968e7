"""Mutation fuzz of document bytes: valid PDF and DOCX reports (devportal), damaged in seeded, repeatable
ways, must give a Record or :class:`UnusableInput`, never another exception, and never hang.

Mutations: truncation at many offsets, byte flips, a chunk duplicated or deleted, a range zeroed; for PDFs
also a damaged cross-reference (``startxref``, xref rows, trailer, ``/Count``, ``/Length``), for DOCX a
damaged zip central directory or end record (sizes, offsets, counts, method, flags) and a re-zipped
``word/document.xml`` that is itself truncated or flipped. The PDFs are drawn both with compressed and
with plain content streams, so that flips also reach the page's drawing operators (text, lines, boxes)
and with them the ruled-table reader.

Every case is a fixed seed (no Hypothesis database); the whole file runs in about 30 s on two cores.
Each case's time is bounded by a generous hang guard, not a speed requirement.
"""

from __future__ import annotations

import io
import random
import re
import struct
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import pytest

from nianbao.devportal.catalogue import report as catalogue_report
from nianbao.devportal.render.docxdoc import report_docx
from nianbao.devportal.render.layout import report_layout
from nianbao.devportal.render.pdfdoc import PdfOptions, report_pdf
from nianbao.parser.errors import UnusableInput
from nianbao.parser.extract import parse_bytes
from nianbao.shared.record import Record

HANG_GUARD_S = 15.0  # one case; they take well under a second each

Mutator = Callable[[bytes, random.Random], bytes]


@cache
def base(name: str) -> bytes:
    """The valid documents the mutations start from."""
    kind, report_id, variant = name.split(":")
    layout = report_layout(catalogue_report(report_id))
    if kind == "docx":
        return report_docx(layout)
    options = PdfOptions(compress=variant != "plain", split_row=variant == "plain", subtotal_column=True)
    return report_pdf(layout, options)


PDFS = ["pdf:county-2019:flate", "pdf:market-2021:plain"]
DOCXS = ["docx:county-2019:-", "docx:market-2021:-"]


# -- generic byte mutations ----------------------------------------------------------------------------
def _span(data: bytes, rng: random.Random, most: int = 4096) -> tuple[int, int]:
    start = rng.randrange(len(data))
    return start, min(len(data), start + rng.randint(1, most))


def flip(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.choice((1, 2, 4, 16, 64))):
        out[rng.randrange(len(out))] ^= rng.randrange(1, 256)
    return bytes(out)


def duplicate(data: bytes, rng: random.Random) -> bytes:
    a, b = _span(data, rng)
    at = rng.randrange(len(data) + 1)
    return data[:at] + data[a:b] + data[at:]


def delete(data: bytes, rng: random.Random) -> bytes:
    a, b = _span(data, rng)
    return data[:a] + data[b:]


def zero(data: bytes, rng: random.Random) -> bytes:
    a, b = _span(data, rng, 512)
    return data[:a] + bytes(b - a) + data[b:]


GENERIC: dict[str, Mutator] = {"flip": flip, "duplicate": duplicate, "delete": delete, "zero": zero}


def _number(rng: random.Random, old: int) -> int:
    return rng.choice((0, 1, -1, old + 1, old - 1, old * 2, old // 2, rng.randrange(1 << 20), 2**31 - 1, 10**12))


def _replace_numbers(data: bytes, pattern: re.Pattern[bytes], rng: random.Random, share: float) -> bytes:
    def one(m: re.Match[bytes]) -> bytes:
        if rng.random() >= share:
            return m.group(0)
        value = _number(rng, int(m.group(2)))
        return m.group(1) + str(value).encode() + m.group(3)

    return pattern.sub(one, data)


# -- PDF structure ---------------------------------------------------------------------------------------
_STARTXREF = re.compile(rb"(startxref\s+)(\d+)(\s)")
_XREF_ROW = re.compile(rb"(\n)(\d{10})( \d{5} [nf])")
_COUNT = re.compile(rb"(/Count )(\d+)(\D)")
_LENGTH = re.compile(rb"(/Length )(\d+)(\D)")
_REF = re.compile(rb"(/(?:Root|Pages|Parent|Contents|Font|F\d|Info|Resources|Kids \[) ?)(\d+)( 0 R)")


def pdf_xref(data: bytes, rng: random.Random) -> bytes:
    """A damaged cross-reference: where it starts, its rows, the trailer, or the keywords around them."""
    how = rng.randrange(7)
    if how == 0:
        return _replace_numbers(data, _STARTXREF, rng, 1.0)
    if how == 1:
        return _replace_numbers(data, _XREF_ROW, rng, rng.choice((0.1, 0.5, 1.0)))
    if how == 2:
        return _replace_numbers(data, _COUNT, rng, 1.0)
    if how == 3:
        return _replace_numbers(data, _LENGTH, rng, rng.choice((0.3, 1.0)))
    if how == 4:
        return _replace_numbers(data, _REF, rng, rng.choice((0.2, 1.0)))
    if how == 5:  # keywords gone
        word = rng.choice((b"xref", b"trailer", b"startxref", b"%%EOF", b"endobj", b"endstream", b"obj"))
        return data.replace(word, rng.choice((b"", b"xxxx", word[:-1])))
    xref = max(data.rfind(b"xref"), 0)  # a span of the table and trailer reversed
    a, b = _span(data[xref:], rng, 256)
    return data[: xref + a] + data[xref + a : xref + b][::-1] + data[xref + b :]


_CONTENT = re.compile(rb"stream\n(.*?)endstream", re.DOTALL)
_OPERAND = re.compile(rb"(?<![\w.\\])-?\d+(?:\.\d+)?(?![\w.])")


def pdf_operands(data: bytes, rng: random.Random) -> bytes:
    """Numbers in plain content streams (coordinates of text, lines and boxes; sizes) replaced by others of
    the same length (so the xref and /Length stay right): huge, zero, negative or random."""
    out = bytearray(data)
    spots = [m.span() for c in _CONTENT.finditer(data) for m in _OPERAND.finditer(data, c.start(1), c.end(1))]
    if not spots:
        return data
    for a, b in rng.sample(spots, k=min(len(spots), rng.choice((1, 5, 40, len(spots) // 5)))):
        n = b - a
        new = rng.choice(("9" * n, "0" * n, "-" + "9" * (n - 1) if n > 1 else "0",
                          "".join(rng.choice("0123456789") for _ in range(n))))  # fmt: skip
        out[a:b] = new.encode()
    return bytes(out)


# -- DOCX (zip) structure -------------------------------------------------------------------------------
_EOCD = b"PK\x05\x06"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
# (offset in the record, struct format) of the fields worth damaging
_CENTRAL_FIELDS = [(8, "<H"), (10, "<H"), (16, "<I"), (20, "<I"), (24, "<I"), (28, "<H"), (30, "<H"), (42, "<I")]
_LOCAL_FIELDS = [(6, "<H"), (8, "<H"), (14, "<I"), (18, "<I"), (22, "<I"), (26, "<H"), (28, "<H")]
_EOCD_FIELDS = [(8, "<H"), (10, "<H"), (12, "<I"), (16, "<I"), (20, "<H")]


def _poke(data: bytearray, at: int, fmt: str, rng: random.Random) -> None:
    size = struct.calcsize(fmt)
    if at + size > len(data):
        return
    (old,) = struct.unpack_from(fmt, data, at)
    top = (1 << (8 * size)) - 1
    value = rng.choice((0, 1, top, old + 1, max(old - 1, 0), min(old * 1000, top), rng.randrange(top + 1), 99, 8))
    struct.pack_into(fmt, data, at, min(max(value, 0), top))


def zip_directory(data: bytes, rng: random.Random) -> bytes:
    """A damaged central directory, end record or local header: sizes, offsets, counts, method, flags."""
    out = bytearray(data)
    signature, fields = rng.choice(
        ((_CENTRAL, _CENTRAL_FIELDS), (_CENTRAL, _CENTRAL_FIELDS), (_EOCD, _EOCD_FIELDS), (_LOCAL, _LOCAL_FIELDS))
    )
    starts = [m.start() for m in re.finditer(re.escape(signature), data)]
    if not starts:
        return bytes(out)
    for start in rng.sample(starts, k=min(len(starts), rng.choice((1, 2, len(starts))))):
        for offset, fmt in rng.sample(fields, k=rng.randint(1, 3)):
            _poke(out, start + offset, fmt, rng)
    return bytes(out)


def docx_member(data: bytes, rng: random.Random) -> bytes:
    """The zip rewritten (valid) with ``word/document.xml`` (or another part) damaged inside it."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        parts = [(info.filename, source.read(info)) for info in source.infolist()]
    target = "word/document.xml" if rng.random() < 0.7 else rng.choice(parts)[0]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, content in parts:
            if name == target:
                mutate = rng.choice((flip, duplicate, delete, zero, lambda d, r: d[: r.randrange(len(d) + 1)]))
                content = mutate(content, rng) if content else content
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, content)
    return buffer.getvalue()


# -- cases -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    document: str
    how: str
    seed: int

    def __str__(self) -> str:
        return f"{self.document}:{self.how}:{self.seed}"

    def data(self) -> bytes:
        data = base(self.document)
        rng = random.Random(f"{self}")
        if self.how == "truncate":
            return data[: self.seed]
        mutators: dict[str, Mutator] = {
            **GENERIC,
            "xref": pdf_xref,
            "operands": pdf_operands,
            "zipdir": zip_directory,
            "member": docx_member,
        }
        return mutators[self.how](data, rng)


def _truncations(document: str, n: int) -> list[Case]:
    size = len(base(document))
    rng = random.Random(f"{document}:cuts")
    cuts = {0, 1, 5, 8, 100, size - 1, size - 6, size - 30} | {size * i // n for i in range(1, n)}
    cuts |= {rng.randrange(size) for _ in range(n // 3)}
    return [Case(document, "truncate", cut) for cut in sorted(c for c in cuts if 0 <= c < size)]


def _cases() -> list[Case]:
    cases: list[Case] = []
    for document in PDFS:
        cases += _truncations(document, 12)
        for how, n in (("flip", 12), ("duplicate", 5), ("delete", 5), ("zero", 5), ("xref", 12)):
            cases += [Case(document, how, seed) for seed in range(n)]
        if document.endswith(":plain"):
            cases += [Case(document, "operands", seed) for seed in range(24)]
    for document in DOCXS:
        cases += _truncations(document, 30)
        for how, n in (("flip", 20), ("duplicate", 8), ("delete", 8), ("zero", 8), ("zipdir", 30), ("member", 30)):
            cases += [Case(document, how, seed) for seed in range(n)]
    return cases


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_damaged_document_gives_a_record_or_unusable_input(case: Case) -> None:
    data = case.data()
    start = time.monotonic()
    try:
        record = parse_bytes(data)
    except UnusableInput as exc:
        assert exc.reason
    else:
        assert isinstance(record, Record)
        for table, values in record.tables.items():
            assert all(v is None or isinstance(v, int | float) for v in values.values()), table
    assert time.monotonic() - start < HANG_GUARD_S, case


def test_mutations_are_deterministic_and_change_the_bytes() -> None:
    changed = 0
    for case in CASES:
        data = case.data()
        assert data == case.data()
        changed += data != base(case.document)
    assert changed >= len(CASES) * 0.9
    # The structural mutators find what they damage.
    pdf, docx = base(PDFS[0]), base(DOCXS[0])
    assert _STARTXREF.search(pdf) and _XREF_ROW.search(pdf) and _COUNT.search(pdf) and _LENGTH.search(pdf)
    assert docx.count(_CENTRAL) == docx.count(_LOCAL) > 5 and docx.count(_EOCD) == 1


def test_zip_member_needing_an_unknown_zip_version_is_unusable() -> None:
    # Found by this fuzz (docx:market-2021:-:flip:1007 and docx:county-2019:-:flip:1047 in a longer run).
    data = bytearray(base(DOCXS[0]))
    central = data.index(_CENTRAL)
    struct.pack_into("<H", data, central + 6, 198)  # "version needed to extract": 19.8
    with pytest.raises(UnusableInput):
        parse_bytes(bytes(data))
