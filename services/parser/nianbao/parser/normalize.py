"""Text normalisation: one canonical form for prose and a stricter one for matching labels (spec §4.1).

Prose keeps its words and single spaces; labels lose every space (spaced-out headers such as
``结 果 维 持`` and ``本年新 制作数量`` are common), quotes and list punctuation, so that the label
catalogue can be matched after the same folding.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Characters that act as spaces in Chinese pages but are not all folded by NFKC (ZWSP, BOM, ...).
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


def _fold_table() -> dict[int, str]:
    """Per-character NFKC of the blocks where Chinese pages use compatibility characters (full-width
    forms, ideographic space, enclosed numerals, CJK compatibility), plus invisible characters."""
    table = {}
    for cp in (*range(0xA0, 0x3400), *range(0xF900, 0x10000)):
        folded = unicodedata.normalize("NFKC", chr(cp))
        if folded != chr(cp):
            table[cp] = folded
    table.update(dict.fromkeys(map(ord, _INVISIBLE), ""))
    return table


_FOLD_TABLE = _fold_table()
_COMMON_FOLDS = tuple((chr(cp), _FOLD_TABLE[cp]) for cp in (
    0xFF0C, 0xFF1A, 0xFF1B, 0xFF08, 0xFF09, 0xFF01, 0xFF1F, 0x3000, 0xA0, 0xFF0F, *range(0xFF10, 0xFF1A)))
_FOLD_RUNS = re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(_FOLD_TABLE)) + "]+")
SPACES = re.compile(r"[\s\u00a0\u3000\u2000-\u200a\u202f\u205f]+")  # what clean_line folds to one space
_LABEL_DROP = re.compile(r"[\s\u00a0\u3000\u2000-\u200a\u202f\u205f\"'“”‘’「」『』]+")
_LABEL_COMMA = re.compile(r"[,、;]")
_ORDINAL = re.compile(
    r"^(?P<ord>[一二三四五六七八九十]+[、.,]|\([一二三四五六七八九十]+\)|\d{1,2}[、.,](?!\d)|[①-⑳])"
)
_REMARK = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】")
_TRAILING_COLON = re.compile(r"[::]+$")


def fold(text: str) -> str:
    """NFKC with invisible characters removed: the form every extracted string is kept in.

    Only runs of characters that change are translated (a page is mostly characters that do not);
    whatever the per-character table cannot do right (combining sequences) gets full NFKC."""
    if text.isascii():
        return text
    for wide, narrow in _COMMON_FOLDS:  # str.replace runs at memchr speed; most pages need only these
        if wide in text:
            text = text.replace(wide, narrow)
    # Six substring tests beat one character-class search (~10 ns a character) several times over.
    if unicodedata.is_normalized("NFKC", text) and not any(ch in text for ch in _INVISIBLE):
        return text
    out = _FOLD_RUNS.sub(lambda m: m.group().translate(_FOLD_TABLE), text)
    if not unicodedata.is_normalized("NFKC", out):
        out = unicodedata.normalize("NFKC", out)
    return out


def clean_line(text: str) -> str:
    """Prose form: runs of any whitespace (NBSP, U+3000, tabs) become one space; ends stripped.

    ``str.split`` finds the runs at C speed: it splits at exactly the characters ``SPACES`` matches (those
    ``str.isspace`` accepts), where a character-class pattern costs about 10 ns a character. Its list of
    words takes no more memory than ``SPACES.sub`` builds for the same text (tests/parser/test_clean_line.py)."""
    return " ".join(text.split())


@lru_cache(maxsize=16_384)
def label_key(text: str) -> str:
    """Matching form of a label: folded, without whitespace, quotes or a trailing colon; commas unified."""
    folded = fold(text) if not text.isascii() else text
    out = _LABEL_DROP.sub("", folded)
    out = _LABEL_COMMA.sub(",", out)
    return _TRAILING_COLON.sub("", out)


def split_ordinal(key: str) -> tuple[str | None, str]:
    """``(一)予以公开`` → ``("(一)", "予以公开")``; works on :func:`label_key` output."""
    m = _ORDINAL.match(key)
    if not m:
        return None, key
    return m.group("ord"), key[m.end() :]


def strip_remarks(key: str) -> str:
    """Drop parenthesised remarks (``(区分处理的,…)``, ``(单位:万元)``); keeps the text if all is remark."""
    out = _REMARK.sub("", key)
    return out if out else key


@lru_cache(maxsize=16_384)
def bare_label(text: str) -> str:
    """Label reduced to its words: matching form, ordinal and remarks removed."""
    _, rest = split_ordinal(label_key(text))
    return strip_remarks(rest)
