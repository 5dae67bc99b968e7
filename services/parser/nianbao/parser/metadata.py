"""The portal metadata block (portals.md §2, report-format §5): fields found by label in any markup.

Input is lines: flattened table rows (``索引号 : | 1150…/2020-11304 | 主题分类 : | 电子政务 |``), lines
holding one ``label`` then the value on the next line (``dt``/``dd``), and inline ``label:value`` runs
(``发布时间:2021-11-02 09:08 来源:中国政府网 作者:``). A label followed by nothing, or by another label,
has no value (seed 004's collapsed wide grid: ``发布机构 : | 成文日期 : | 2020-03-31``). The first
non-empty value of a field wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from nianbao.parser.dates import parse_date
from nianbao.parser.document import Line
from nianbao.parser.normalize import label_key
from nianbao.parser.vocabulary import vocabulary
from nianbao.shared.record import IndexNoParts

DATE_FIELDS = ("written_date", "publish_date")
_INDEX_NO = re.compile(r"^([0-9A-Z]{18}|[0-9A-Z]{8,9}|[0-9A-Z]{7,8}-[0-9A-Z])/(\d{4}(?:\d{2})?)-(\d+)$")


@dataclass(frozen=True)
class _Labels:
    pattern: re.Pattern[str]  # a label at the start of a cell, with or without a colon
    inline: re.Pattern[str]  # a label followed by a colon anywhere
    field_of: dict[str, str | None]  # label_key(label) -> record field (None: known label, no field)
    first_chars: frozenset[str]  # a cache-cheap test before the regular expression


@cache
def _labels() -> _Labels:
    vocab = vocabulary()
    field_of: dict[str, str | None] = {}
    for name, labels in vocab.metadata_fields.items():
        for label in labels:
            field_of[label_key(label)] = name
    for label in vocab.section("metadata")["other_labels"]:
        field_of.setdefault(label_key(label), None)
    alternation = "|".join(
        r"\s*".join(re.escape(ch) for ch in label) for label in sorted(field_of, key=len, reverse=True)
    )
    return _Labels(
        pattern=re.compile(rf"^(?P<label>{alternation})\s*(?P<colon>[::])?\s*"),
        inline=re.compile(rf"(?P<label>{alternation})\s*[::]"),
        field_of=field_of,
        first_chars=frozenset(label[0] for label in field_of),
    )


@dataclass
class MetadataBlock:
    values: dict[str, str | None] = field(default_factory=dict)
    lines: set[int] = field(default_factory=set)  # numbers of the lines that held metadata
    unparsed_dates: list[tuple[str, str]] = field(default_factory=list)

    def offer(self, name: str | None, value: str | None) -> None:
        if name is None:
            return
        value = _clean(value)
        if self.values.get(name) is None:
            self.values[name] = value


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().strip("|").strip()
    return value or None


def _starts_with_label(text: str) -> bool:
    if text[:1] not in _labels().first_chars:
        return False
    m = _labels().pattern.match(text)
    return bool(m and (m.group("colon") or m.end() == len(text)))


def _cell_pairs(cell: str) -> list[tuple[str | None, str]]:
    """``(field, value)`` pairs in one cell; a trailing pair with an empty value awaits the next cell."""
    labels = _labels()
    if cell[:1] not in labels.first_chars:
        return []
    head = labels.pattern.match(cell)
    if head is None:
        return []
    label = label_key(head.group("label"))
    if not head.group("colon") and head.end() != len(cell):
        return []  # "来源于…": a word that happens to start like a label
    current, rest = labels.field_of.get(label), cell[head.end() :]
    pairs: list[tuple[str | None, str]] = []
    while True:
        m = labels.inline.search(rest)
        if m is None:
            return [*pairs, (current, rest)]
        pairs.append((current, rest[: m.start()]))
        current = labels.field_of.get(label_key(m.group("label")))
        rest = rest[m.end() :]


def read_metadata(lines: list[Line]) -> MetadataBlock:
    """Collect metadata fields from ``lines`` (those before the report's first heading, and page chrome)."""
    block = MetadataBlock()
    consumed: set[int] = set()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.text.split("|")] if line.piped else [line.text]
        used = False
        for j, cell in enumerate(cells):
            if i in consumed:
                break
            pairs = _cell_pairs(cell)
            if not pairs:
                continue
            used = True
            for name, inline in pairs[:-1]:
                block.offer(name, inline)
            name, last = pairs[-1]
            value: str | None = last
            if not last.strip():
                value, took_next = _following_value(cells, j, lines, i, piped=line.piped)
                if took_next:
                    consumed.add(i + 1)
                    block.lines.add(lines[i + 1].number)
            block.offer(name, value)
        if used:
            block.lines.add(line.number)
    for name in DATE_FIELDS:
        raw = block.values.get(name)
        if raw is not None:
            iso = parse_date(raw)
            if iso is None:
                block.unparsed_dates.append((name, raw))
            block.values[name] = iso
    return block


def _following_value(
    cells: list[str], j: int, lines: list[Line], i: int, *, piped: bool
) -> tuple[str | None, bool]:
    """The value of a label that ends its cell: the next cell of the row, or (dt/dd) the next line.

    Returns the value and whether it was taken from the next line."""
    if piped:
        for cell in cells[j + 1 :]:
            if cell:
                return (None if _starts_with_label(cell) else cell), False
        return None, False
    if j == len(cells) - 1 and i + 1 < len(lines):
        following = lines[i + 1]
        if not following.piped and len(following.text) <= 100 and not _starts_with_label(following.text):
            return following.text, True
    return None, False


def parse_index_no(value: str | None) -> IndexNoParts | None:
    """索引号 → issuer / org code / period / sequence (report-format §5.2); None when it does not fit."""
    if not value:
        return None
    m = _INDEX_NO.match(value.replace(" ", ""))
    if not m:
        return None
    issuer, period, seq = m.groups()
    org_code = issuer[8:17] if len(issuer) == 18 else issuer.replace("-", "")
    return IndexNoParts(issuer=issuer, org_code=org_code, period=period, seq=seq)
