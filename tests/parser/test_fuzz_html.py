"""A bounded, seeded fuzzer over the parser's HTML and text input (issue 10), run in CI.

Inputs are a corpus of the hostile cases found by hand (quadratic attachment scans, nested tables,
huge numbers, charsets that are not text codecs, unclosed tags) plus seeded mutations of a real report
page and of the corpus: byte flips, insertions of hostile fragments, repetitions of a slice, truncations.
Every input must give a :class:`Record` or raise :class:`UnusableInput` (nothing else) within a few
seconds; the whole file stays under a minute. A failure names the seed, so it can be replayed."""

from __future__ import annotations

import random
import time

import pytest

from nianbao.parser.errors import UnusableInput
from nianbao.parser.extract import parse_bytes
from nianbao.shared.record import Record

from .builders import make_report, render_html

pytestmark = pytest.mark.timeout(120)

PER_INPUT_S = 5.0
N_MUTANTS = 400

FRAGMENTS: tuple[bytes, ...] = (
    b"<a ",
    b".pdf ",
    b"<a .pdf",
    b'<a href="x.pdf">',
    b"</a>",
    b"<table><tr><td>",
    b"</td></tr></table>",
    b"<td rowspan=99999 colspan=0>",
    b"<div>",
    b"<!--",
    b"<script>",
    b"&#x0;",
    b"&amp;&#99999999;",
    b"\xef\xbf\xbd",
    b"\x00",
    b"\xee\x80\x80",  # U+E000, the flow's private markers
    "９".encode() * 30,
    b"9" * 450,
    "一、总体情况".encode(),
    "（七）总计".encode(),
    b'<meta charset="idna">',
    b'<meta charset="rot13">',
    b"filename=" * 50,
    b"http://a.cn/" + b"." * 500,
    b"<",
    b">",
    b'"',
)

CORPUS: dict[str, tuple[bytes, str | None, str | None]] = {  # name: (bytes, media type, http charset)
    "a-pdf-repeated": (b"<html><body>" + b"<a .pdf" * 29_000 + b"</body></html>", "text/html", None),
    "one-tag-many-pdf": (b"<html><body><a " + b".pdf " * 40_000 + b"</body></html>", "text/html", None),
    "nested-tables": (
        b"<html><body>" + b"<table><tr><td>" * 8_000 + b"x" + b"</td></tr></table>" * 8_000,
        "text/html",
        None,
    ),
    "nested-tables-1900": (
        b"<html><body>" + b"<table><tr><td>" * 1_900 + b"x" + b"</td></tr></table>" * 1_900,
        "text/html",
        None,
    ),
    "unclosed-divs": (b"<html><body>" + b"<div " * 50_000, "text/html", None),
    "unclosed-comments": (b"<html><body>" + b"<!--" * 50_000, "text/html", None),
    "unclosed-tags": (b"<html><body>" + b"<p" * 60_000, "text/html", None),
    "huge-number-cell": (
        b"<html><body><p>\xe4\xb8\x89\xe3\x80\x81</p><table><tr><td>" + b"9" * 5_000 + b"</td></tr></table>",
        "text/html",
        None,
    ),
    "charset-idna": (b"<html><body><p>" + b"a" * 100 + b"</p></body></html>", "text/html", "idna"),
    "charset-base64": (b"<html><body>abc</body></html>", "text/html", "base64"),
    "meta-charset-zlib": (b'<html><head><meta charset="zlib"></head><body>x</body></html>', "text/html", None),
    "text-long-link": (b"http://a.cn/" + b"." * 200_000 + b"x\n", "text/plain", None),
    "text-filename": (b"http://a.cn/dl?" + b"filename=x" * 30_000 + b"\n", "text/plain", None),
    "text-many-lines": (b"\n" * 300_000 + b"x", "text/plain", None),
    "entities": (b"<html><body>" + b"&#x" * 60_000, "text/html", None),
    "markers": (b"<html><body>" + "\ue010\ue011\ue020\ue021\ue000".encode() * 10_000, "text/html", None),
}


def _check(data: bytes, media_type: str | None, http_charset: str | None, label: str) -> None:
    started = time.perf_counter()
    try:
        outcome = parse_bytes(data, media_type=media_type, http_charset=http_charset)
    except UnusableInput:
        pass
    else:
        assert isinstance(outcome, Record), label
    elapsed = time.perf_counter() - started
    assert elapsed < PER_INPUT_S, f"{label}: {elapsed:.1f}s for {len(data)} bytes"


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus(name: str) -> None:
    data, media_type, charset = CORPUS[name]
    _check(data, media_type, charset, name)


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four random edits; the result stays under about 400 KB."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        at = rng.randrange(len(out) + 1)
        if op == 0 and out:  # flip bytes
            for _ in range(rng.randint(1, 16)):
                out[rng.randrange(len(out))] = rng.randrange(256)
        elif op == 1:  # insert a hostile fragment, repeated
            out[at:at] = rng.choice(FRAGMENTS) * rng.choice((1, 10, 1_000, 5_000))
        elif op == 2 and out:  # repeat a slice of the input
            start = rng.randrange(len(out))
            piece = bytes(out[start : start + rng.randint(1, 200)])
            out[at:at] = piece * rng.randint(2, max(2, 100_000 // max(1, len(piece))))
        elif op == 3:  # truncate
            del out[at:]
        else:  # delete a span
            del out[at : at + rng.randint(1, 2_000)]
    return bytes(out[:400_000])


@pytest.fixture(scope="module")
def seeds() -> list[bytes]:
    page = render_html(make_report("gen2021", seed=5)).encode()
    return [page, render_html(make_report("legacy", seed=6)).encode(), *(c[0][:50_000] for c in CORPUS.values())]


@pytest.mark.parametrize("block", range(4))
def test_mutants(block: int, seeds: list[bytes]) -> None:
    started = time.perf_counter()
    for i in range(N_MUTANTS // 4):
        seed = block * 1_000 + i
        rng = random.Random(seed)
        data = mutate(rng.choice(seeds), rng)
        media_type = rng.choice(("text/html", "text/plain", None))
        charset = rng.choice((None, None, None, "gbk", "utf-8", "idna", "rot13", "no-such"))
        _check(data, media_type, charset, f"seed {seed}")
    assert time.perf_counter() - started < 30
