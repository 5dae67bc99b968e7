"""``clean_line`` collapses whitespace with ``str.split`` (fast): it gives what a plain ``\\s+``
substitution gives, for every Unicode space, and takes no more memory on a hostile text."""

from __future__ import annotations

import re
import sys
import tracemalloc
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from nianbao.parser.normalize import clean_line

# Every character Python counts as whitespace, and a few that look like it but are not (ZWSP, BOM).
WHITESPACE = "".join(chr(cp) for cp in range(sys.maxunicode + 1) if chr(cp).isspace())
ALPHABET = WHITESPACE + "ab甲乙\u200b\ufeff\ue000"


def reference(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=40))
def test_clean_line_is_the_whitespace_substitution(text: str) -> None:
    assert clean_line(text) == reference(text)


def test_every_unicode_space_collapses() -> None:
    assert len(WHITESPACE) > 20  # NBSP, U+3000, U+2000–U+200A, … are all there
    assert clean_line(f"甲{WHITESPACE}乙{WHITESPACE}") == "甲 乙"


def _peak(call: Callable[[], str]) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_huge_text_of_short_words_takes_no_more_memory_than_the_substitution() -> None:
    text = "ab \t" * 250_000  # 1 M characters, 250 000 words
    assert clean_line(text) == ("ab " * 250_000).strip()
    assert _peak(lambda: clean_line(text)) <= _peak(lambda: reference(text))
