"""``copied_text`` shingles the parts and the whole text once each: the whole text's shingles assembled
from the parts' (plus the windows across part boundaries) are exactly those of the joined text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nianbao.validator.rules.copies import SHINGLE, _shingles, joined_shingles, similarity

# A small alphabet makes repeated shingles (and so set overlaps) likely; short parts cross boundaries.
parts_strategy = st.lists(st.text(alphabet="ab甲乙", max_size=9), min_size=1, max_size=6)


def windows(text: str) -> set[str]:
    """Every SHINGLE-character window, cut independently of the code under test (whole text if shorter)."""
    if not text:
        return set()
    if len(text) < SHINGLE:
        return {text}
    return {text[i : i + SHINGLE] for i in range(len(text) - SHINGLE + 1)}


@settings(max_examples=500, deadline=None)
@given(parts_strategy)
def test_joined_shingles_equal_the_joined_texts(parts: list[str]) -> None:
    assert joined_shingles(parts, [_shingles(p) for p in parts]) == windows("".join(parts))


def test_boundary_windows_are_cut_across_parts() -> None:
    # "甲乙" + "丙丁戊": no part alone holds "乙丙丁戊" or "甲乙丙丁"; the joined text does.
    parts = ["甲乙", "丙丁戊"]
    assert joined_shingles(parts, [_shingles(p) for p in parts]) == {"甲乙丙丁", "乙丙丁戊"}


def test_similarity_of_identical_and_disjoint_texts() -> None:
    assert similarity("本机关依法公开政府信息", "本机关依法公开政府信息") == 1.0
    assert similarity("本机关依法公开政府信息", "完全不同的另一段文字内容") == 0.0
