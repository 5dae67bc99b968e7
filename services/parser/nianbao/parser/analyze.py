"""From an intermediate :class:`Document` to the canonical :class:`Record` — the same steps for every
front end: skeleton, metadata, identity, tables, section texts, warnings.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin

from nianbao.parser import PARSER_VERSION
from nianbao.parser.dates import parse_date
from nianbao.parser.document import Document, Grid, Item, Line
from nianbao.parser.identity import (
    find_agency,
    find_year,
    generation_from_labels,
    generation_from_year,
)
from nianbao.parser.metadata import parse_index_no, read_metadata
from nianbao.parser.normalize import label_key
from nianbao.parser.sections import Layout, is_chrome, is_title_line, layout
from nianbao.parser.tables.active import read_active
from nianbao.parser.tables.common import TableResult
from nianbao.parser.tables.legacy import read_legacy
from nianbao.parser.tables.locate import MODERN, Regions, grid_regions, text_regions
from nianbao.parser.tables.requests import read_requests
from nianbao.parser.tables.review import read_review
from nianbao.parser.vocabulary import vocabulary
from nianbao.shared.record import (
    Agency,
    Attachment,
    Generation,
    GenerationInfo,
    Metadata,
    Number,
    ParseWarning,
    Record,
    Signature,
    Source,
    Year,
)

_LEGACY_TABLE_TITLE = re.compile(r"政府信息公开.{0,6}统计表$")
_SITE_SUFFIX = re.compile(r"\s*[_|–—-]\s*[^_|–—-]*$")
_METADATA_WINDOW = 80  # items before the first heading that may hold the metadata block
_COMPACT_QUOTES = "\"'“”‘’「」『』"  # dropped, with all whitespace, from the text markers are looked for in
_TRAILING_PUNCT_CHARS = ".,;:。"
_TEXT_LINK = re.compile(r"https?://[^\s\"'<>()（）]+", re.IGNORECASE)
_MEDIA_TYPES = {
    "pdf": "application/pdf", "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "wps": "application/vnd.ms-works", "et": "application/vnd.ms-excel", "ofd": "application/ofd",
    "zip": "application/zip", "rar": "application/vnd.rar", "7z": "application/x-7z-compressed",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "csv": "text/csv",
}  # fmt: skip


@dataclass
class Budget:
    """Wall-clock budget of one parse; checked between stages (a C call cannot be interrupted)."""

    deadline: float

    @classmethod
    def of(cls, seconds: float) -> Budget:
        return cls(time.monotonic() + seconds)

    def expired(self) -> bool:
        return time.monotonic() > self.deadline


def _legacy_anchor(items: list[Item]) -> int | None:
    """Where a legacy 统计表 starts: its title line (``…政府信息公开工作统计表``), else its header row
    (``统计指标``). Everything from there on is table, not the text of the last numbered part."""
    for index, item in enumerate(items):
        if isinstance(item, Grid):
            if item.in_body and "统计指标" in label_key(item.text()[:400]):
                return index
            continue
        if not item.in_body or ("统" not in item.text and "指" not in item.text):
            continue  # cheap test first: this runs on every line
        key = label_key(item.text)
        if (_LEGACY_TABLE_TITLE.search(key) and len(key) < 60) or "统计指标" in key or "指标名称" in key:
            return index
    return None


def _compact(items: list[Item]) -> str:
    """All text without whitespace, quotes or list commas: where generation markers are looked for."""
    text = "".join(i.text if isinstance(i, Line) else i.text() for i in items if i.in_body)
    # str.split drops exactly the characters \s matches, at C speed, and str.replace skips an absent quote
    # at memchr speed: one pass of a character-class pattern over the whole page cost several times more.
    text = "".join(text.split())
    for quote in _COMPACT_QUOTES:
        if quote in text:
            text = text.replace(quote, "")
    return text.replace("、", ",")


def _metadata_lines(items: list[Item], first_heading: int) -> list[Line]:
    """Where the metadata block may be: the lines just before the report's first heading (the block sits
    above the title), and page lines outside the report body after it (some portals put it below)."""
    lines: list[Line] = []
    window_start = max(0, first_heading - _METADATA_WINDOW)
    for index, item in enumerate(items):
        if index < window_start:
            continue
        before = index < first_heading
        if isinstance(item, Line):
            if before or not item.in_body:
                lines.append(item)
        elif before or not item.in_body:
            lines.extend(Line(text, -1, in_body=False, piped=True) for text in item.row_lines())
    return lines


def _title(doc: Document, lay: Layout, metadata_title: str | None) -> str | None:
    """The title line; else the 标题 field, ``<meta name=ArticleTitle>``, ``<h1>``, ``<title>``. A title
    line that markup cut short (``<span>重庆市</span>2019年…``) yields to a field that completes it."""
    others = []
    for candidate in (metadata_title, doc.meta.get("articletitle"), doc.meta.get("h1"), doc.meta.get("title")):
        if candidate:
            text = candidate if is_title_line(candidate) else _SITE_SUFFIX.sub("", candidate)
            if is_title_line(text):
                others.append(text)
    item = doc.items[lay.title_index] if lay.title_index is not None else None
    if isinstance(item, Line):
        longer = [o for o in others if item.text in o and len(o) > len(item.text)]
        return longer[0] if longer else item.text
    return others[0] if others else None


def _preamble(items: list[Item], lay: Layout, metadata_lines: set[int]) -> str:
    first = lay.headings[0].index if lay.headings else 0
    start = lay.title_index + 1 if lay.title_index is not None else 0
    out = [
        item.text for item in items[start:first]
        if isinstance(item, Line) and item.in_body and item.number not in metadata_lines
        and not is_chrome(item.text) and not is_title_line(item.text) and item.text != "|"
    ]  # fmt: skip
    return "\n".join(out)


def _sections(items: list[Item], lay: Layout, excluded: set[int]) -> dict[str, str]:
    sections: dict[str, str] = {}
    for heading in lay.headings:
        if heading.ordinal in sections:
            continue
        start, stop = lay.ranges[heading.ordinal]
        sections[heading.ordinal] = "\n".join(
            item.text for item in items[start:stop]
            if isinstance(item, Line) and item.in_body and item.number not in excluded
            and item.text != "|" and not is_chrome(item.text)
        )  # fmt: skip
    return sections


def _table_lines(results: list[TableResult]) -> set[int]:
    excluded: set[int] = set()
    for result in results:
        if result.lines:
            excluded.update(range(min(result.lines), max(result.lines) + 1))
    return excluded


def _attachments(doc: Document, base: str | None) -> list[Attachment]:
    """Document links (by extension, also in a ``filename=`` parameter) as attachments, once each.

    Linear in the links' length: the ``filename=`` parameter is looked for in each ``&``-separated part
    (a pattern running from every ``filename=`` to the part's end was quadratic), trailing punctuation of
    a text link is stripped without a pattern."""
    extensions = vocabulary().section("html")["attachment_extensions"]
    at_end, in_name = _extension_patterns(tuple(extensions))
    links = list(doc.attachments)
    if doc.kind == "text":
        links += [
            (m.group(0).rstrip(_TRAILING_PUNCT_CHARS), None)
            for line in doc.lines
            if "://" in line.text  # every link has it; a substring test is far cheaper than the pattern
            for m in _TEXT_LINK.finditer(line.text)
        ]
    out: list[Attachment] = []
    seen: set[str] = set()
    for href, name in links:
        ext = _link_extension(href, at_end, in_name)
        if ext is None:
            continue
        url = urljoin(base, href) if base else href
        if url in seen:
            continue
        seen.add(url)
        out.append(Attachment(url=url, name=name or None, media_type=_MEDIA_TYPES.get(ext)))
    return out


@lru_cache(maxsize=4)
def _extension_patterns(extensions: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    alternatives = "|".join(extensions)
    return (
        re.compile(rf"\.({alternatives})(?:$|[?#&])", re.IGNORECASE),
        re.compile(rf"\.({alternatives})\b", re.IGNORECASE),
    )


def _link_extension(href: str, at_end: re.Pattern[str], in_name: re.Pattern[str]) -> str | None:
    """The document extension of a link: of its path (before ``?``/``#``/``&``), else of the file name in
    the first ``filename=`` parameter of an ``&``-separated part that has one (its last extension)."""
    m = at_end.search(href)
    if m:
        return m.group(1).lower()
    lowered = href.lower()
    if "filename=" not in lowered:
        return None
    offset = 0
    for part in lowered.split("&"):
        found = part.find("filename=")
        if found >= 0:
            names = in_name.findall(href, offset + found + len("filename="), offset + len(part))
            if names:
                return str(names[-1]).lower()
        offset += len(part) + 1
    return None


def _read_tables(
    doc: Document, lay: Layout, generation: Generation | None
) -> tuple[dict[str, TableResult], dict[str, Number | None]]:
    items = doc.items
    legacy = generation == "legacy"
    regions = grid_regions(items, lay) if doc.kind != "text" else Regions()
    wanted = ("legacy",) if legacy else MODERN
    if doc.kind == "text" or (any(k not in regions.tokens for k in wanted) and any(
            isinstance(i, Line) and i.piped for i in items)):
        fallback = text_regions(items, lay, legacy=legacy)  # flattened tables, also inside HTML
        tokens = {**fallback.tokens, **regions.tokens}
    else:
        tokens = regions.tokens
    results: dict[str, TableResult] = {}
    other: dict[str, Number | None] = {}
    if legacy or (generation is None and "legacy" in regions.tokens):
        found = read_legacy(tokens.get("legacy", []))
        if found is not None:
            results["legacy"] = found.table
            other = found.other
        return results, other
    gen: Generation = generation or "gen2019"
    readers = {
        "active": lambda t: read_active(t, gen),
        "requests": lambda t: read_requests(t, gen),
        "review_litigation": read_review,
    }
    for kind in MODERN:
        result = readers[kind](tokens.get(kind, []))
        if result is not None:
            results[kind] = result
    return results, other


def analyze(doc: Document, *, source: Source, budget: Budget) -> Record:
    """Build the record of one document."""
    items = doc.items
    warnings = [ParseWarning(code=c, where=w, detail=d) for c, w, d in doc.warnings]
    lay = layout(items, legacy_table_start=_legacy_anchor(items))
    first_heading = lay.headings[0].index if lay.headings else len(items)
    block = read_metadata(_metadata_lines(items, first_heading))
    values = block.values
    publisher = values.get("publisher") or doc.meta.get("contentsource")
    publish_date = values.get("publish_date")
    if publish_date is None and doc.meta.get("pubdate"):
        publish_date = parse_date(doc.meta["pubdate"])
    title = _title(doc, lay, values.get("title"))
    preamble = _preamble(items, lay, block.lines)
    body, signed = lay.signature
    year = find_year(title=title, preamble=preamble, publish_date=publish_date, signature_date=signed)
    agency = find_agency(title=title, preamble=preamble, signature_body=body, publisher=publisher)
    compact = _compact(items)
    generation: Generation | None = generation_from_labels(compact)
    generation_source = "labels" if generation else None
    year_value = year.value if isinstance(year.value, int) else None
    by_year = generation_from_year(year_value)
    if generation is None and by_year is not None:
        generation, generation_source = by_year, "inferred"
        warnings.append(ParseWarning(code="generation_inferred", where="generation", detail=f"year {year_value}"))
    elif generation is not None and by_year is not None and by_year != generation:
        warnings.append(ParseWarning(code="generation_year_mismatch", where="generation",
                                     detail=f"labels say {generation}, year {year_value} says {by_year}"))
    results: dict[str, TableResult] = {}
    other: dict[str, Number | None] = {}
    if budget.expired():
        warnings.append(ParseWarning(code="time_budget_exceeded", where=None, detail="tables not read"))
    else:
        results, other = _read_tables(doc, lay, generation)
    warnings += _structure_warnings(lay, results, generation, title, agency.value, year_value)
    for name, field_value in block.unparsed_dates:
        warnings.append(ParseWarning(code="date_unparseable", where=f"metadata.{name}", detail=field_value[:60]))
    index_no = values.get("index_no")
    parts = parse_index_no(index_no)
    if index_no and parts is None:
        warnings.append(ParseWarning(code="index_no_unparsed", where="metadata.index_no", detail=index_no[:60]))
    sections = _sections(items, lay, _table_lines(list(results.values())))
    sections["preamble"] = preamble
    for result in results.values():
        warnings += result.warnings
    return Record.model_validate({
        "source": source,
        "title": title,
        "agency": Agency(name=agency.value if isinstance(agency.value, str) else None, source=agency.source),
        "year": Year(value=year_value, source=year.source),
        "generation": GenerationInfo(value=generation, source=generation_source),
        "metadata": Metadata(
            index_no=index_no, index_no_parts=parts, topic=values.get("topic"), publisher=publisher,
            written_date=values.get("written_date"), publish_date=publish_date, doc_no=values.get("doc_no"),
            validity=values.get("validity"), signature=Signature(body=body, date=signed),
        ),
        "sections": sections,
        "tables": {name: result.values for name, result in results.items()},
        "legacy_other": other,
        "cells": [cell for result in results.values() for cell in result.cells],
        "attachments": _attachments(doc, source.final_url or source.url),
        "warnings": warnings,
        "parser_version": PARSER_VERSION,
    })


def _structure_warnings(
    lay: Layout,
    results: dict[str, TableResult],
    generation: Generation | None,
    title: str | None,
    agency: object,
    year: int | None,
) -> list[ParseWarning]:
    out = []
    if not lay.headings:
        out.append(ParseWarning(code="sections_missing", where="sections"))
    if not results:
        out.append(ParseWarning(code="no_tables", where="tables"))
    elif generation != "legacy":
        titles = {h.ordinal: label_key(h.title) for h in lay.headings}
        expected = {"active": ("二", "主动公开"), "requests": ("三", "申请"), "review_litigation": ("四", "复议")}
        for kind, (ordinal, word) in expected.items():
            if kind not in results and word in titles.get(ordinal, ""):
                out.append(ParseWarning(code="table_missing", where=kind))
    if title is None:
        out.append(ParseWarning(code="title_missing", where="title"))
    if agency is None:
        out.append(ParseWarning(code="agency_unknown", where="agency"))
    if year is None:
        out.append(ParseWarning(code="year_unknown", where="year"))
    return out
