"""Which part of a document holds which table, as token streams.

HTML tables are classified by their words (``第二十条`` → active, ``申请人情况`` → requests, ``结果维持``
→ review_litigation, ``统计指标`` → legacy); a table without such words that directly continues a
classified one (a table split at a page break) or sits inside the matching numbered part joins it. Text
tables are the lines of their numbered part, or, without headings, the lines between the tables' own
anchors. When an HTML page has no table of a kind, flattened text lines of that part are tried.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nianbao.parser.document import Grid, Item, Line, Token, grid_tokens
from nianbao.parser.normalize import label_key
from nianbao.parser.sections import Layout
from nianbao.parser.textflow import tokenize_lines

MODERN = ("active", "requests", "review_litigation")
_SECTION_WORDS = {"active": ("主动公开",), "requests": ("申请",), "review_litigation": ("复议", "诉讼")}
_ANCHORS = {
    "active": ("第二十条第", "信息内容"),
    "requests": ("本列数据的勾稽关系", "申请人情况"),
    "review_litigation": ("行政复议",),
}
_LEGACY_ANCHORS = ("统计指标", "指标名称")


def classify_grid(grid: Grid) -> list[str]:
    """The table kinds whose words a grid contains (a few reports put two tables in one grid)."""
    text = label_key(grid.text())
    kinds = []
    if "统计指标" in text or "收到申请数" in text or "主动公开政府信息数" in text:
        kinds.append("legacy")
    if "第二十条" in text or ("信息内容" in text and ("规章" in text or "行政许可" in text)):
        kinds.append("active")
    if "申请人情况" in text or "本年新收" in text or ("予以公开" in text and "自然人" in text):
        kinds.append("requests")
    if "行政复议" in text and ("结果维持" in text or "尚未审结" in text or "复议后起诉" in text):
        kinds.append("review_litigation")
    return kinds


@dataclass
class Regions:
    """Token streams per table kind. Several grids of one kind (a table split at page breaks) are one
    stream; a row that a repeated table repeats is then reported by the reader as a duplicate."""

    tokens: dict[str, list[Token]] = field(default_factory=dict)


def _section_of(layout: Layout, index: int) -> str | None:
    """The (matching form of the) title of the numbered part ``items[index]`` sits in."""
    title = None
    for heading in layout.headings:
        if heading.index < index:
            stop = layout.ranges.get(heading.ordinal, (0, 0))[1]
            title = label_key(heading.title) if index < stop else None
    return title


def _kind_of_section(title: str | None) -> str | None:
    if title is None:
        return None
    for kind, words in _SECTION_WORDS.items():
        if any(w in title for w in words):
            return kind
    return None


def grid_regions(items: list[Item], layout: Layout) -> Regions:
    regions = Regions()
    previous_kind: str | None = None
    heading_at = {h.index for h in layout.headings}
    for index, item in enumerate(items):
        if isinstance(item, Line):
            if index in heading_at:
                previous_kind = None  # a table after a new heading continues nothing
            continue
        if item.skipped or not item.in_body:
            continue
        kinds = classify_grid(item)
        if not kinds:
            section_kind = _kind_of_section(_section_of(layout, index))
            kinds = [k for k in (previous_kind, section_kind) if k is not None][:1]
        for kind in kinds:
            regions.tokens.setdefault(kind, []).extend(grid_tokens(item))
        previous_kind = kinds[-1] if kinds else None
    return regions


def _lines(items: list[Item], start: int, stop: int) -> list[Line]:
    return [item for item in items[start:stop] if isinstance(item, Line) and item.in_body]


def text_regions(items: list[Item], layout: Layout, *, legacy: bool) -> Regions:
    """Token streams of flattened text tables."""
    regions = Regions()
    if legacy:
        start = next((i for i, item in enumerate(items) if isinstance(item, Line)
                      and any(a in label_key(item.text) for a in _LEGACY_ANCHORS)), None)
        if start is not None:
            regions.tokens["legacy"] = tokenize_lines(_lines(items, start, len(items)))
        return regions
    by_kind: dict[str, tuple[int, int]] = {}
    for heading in layout.headings:
        kind = _kind_of_section(label_key(heading.title))
        if kind is not None and kind not in by_kind:
            by_kind[kind] = layout.ranges[heading.ordinal]
    if len(by_kind) < len(MODERN):
        by_kind = {**_anchor_ranges(items), **by_kind}
    for kind, (start, stop) in by_kind.items():
        lines = _lines(items, start, stop)
        if lines:
            regions.tokens[kind] = tokenize_lines(lines)
    return regions


def _anchor_ranges(items: list[Item]) -> dict[str, tuple[int, int]]:
    """Table ranges from the tables' own first words, for documents without usable headings."""
    starts: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, Line):
            continue
        key = label_key(item.text)
        for kind, anchors in _ANCHORS.items():
            if kind not in starts and any(key.startswith(a) for a in anchors):
                if kind == "review_litigation" and "requests" not in starts:
                    continue
                starts[kind] = index
    ordered = sorted(starts.items(), key=lambda kv: kv[1])
    out = {}
    for i, (kind, start) in enumerate(ordered):
        stop = ordered[i + 1][1] if i + 1 < len(ordered) else len(items)
        out[kind] = (start, stop)
    return out
