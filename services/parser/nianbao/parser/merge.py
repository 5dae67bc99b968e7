"""One report from an article page and its attachments.

Many bodies publish the metadata (索引号, 发布日期) on the article page and the tables only in a PDF or
Word attachment. The page's record is the base; an attachment contributes every table the page lacks
(with its cells, marked with the attachment's URL as their source), and the identity fields and section
texts the page does not state. A table both print is read from both and compared: the page's values are
kept, and every difference is listed in ``source_mismatches`` for the validator to report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nianbao.shared.record import Attachment, Cell, CellLocation, ParseWarning, Record, SourceMismatch

# Warnings of an attachment that describe the whole attachment: kept on the report whatever it gave.
_DOCUMENT_WARNINGS = frozenset(
    {"scanned_document", "converter_missing", "conversion_failed", "unsupported_format", "pages_skipped"}
)
# What reading a document can give (``attachments[].outcome``; the ``outcome`` label of
# ``nianbao_parser_documents_total``).
DOCUMENT_OUTCOMES = ("tables", "no_tables", "scanned", "converter_missing", "unsupported_format", "unusable")
_OUTCOME_BY_WARNING = (
    ("converter_missing", "converter_missing"),
    ("unsupported_format", "unsupported_format"),
    ("scanned_document", "scanned"),
)


@dataclass(frozen=True)
class AttachmentRead:
    """An attachment as the parser met it: where it came from and its record, or why there is none."""

    url: str
    raw_key: str | None
    content_sha256: str | None
    name: str | None = None
    media_type: str | None = None
    record: Record | None = None
    error: str | None = None  # set when ``record`` is None


def document_outcome(record: Record | None) -> str:
    """What reading a document gave: ``tables``, ``no_tables``, ``scanned``, ``converter_missing``,
    ``unsupported_format`` or (no record) ``unusable``. A bounded metrics label too."""
    if record is None:
        return "unusable"
    if record.tables:
        return "tables"
    codes = {w.code for w in record.warnings}
    for code, outcome in _OUTCOME_BY_WARNING:
        if code in codes:
            return outcome
    return "no_tables"


def merge_attachments(page: Record, reads: Sequence[AttachmentRead]) -> Record:
    """The report of ``page`` completed from its attachments (see the module docstring)."""
    if not reads:
        return page
    page_url = page.source.url or ""
    tables = dict(page.tables)
    sources = dict.fromkeys(tables, page_url)
    cells = list(page.cells)
    warnings = list(page.warnings)
    sections = dict(page.sections)
    cross_checked: dict[str, str] = {}
    mismatches: list[SourceMismatch] = []
    legacy_other = dict(page.legacy_other)
    update: dict[str, object] = {}
    attachments = {a.url: a for a in page.attachments}
    for read in reads:
        record = read.record
        attachments[read.url] = Attachment(
            url=read.url,
            name=read.name or (attachments[read.url].name if read.url in attachments else None),
            media_type=(record.source.media_type if record else None) or read.media_type,
            raw_key=read.raw_key,
            content_sha256=read.content_sha256,
            outcome=document_outcome(record),
        )
        if record is None:
            warnings.append(ParseWarning(code="attachment_unreadable", where="attachments",
                                         detail=f"{read.url}: {read.error or 'unreadable'}"[:300]))  # fmt: skip
            continue
        taken = [name for name in record.tables if name not in tables]
        for name in taken:
            tables[name] = record.tables[name]
            sources[name] = read.url
            cells += [_from_attachment(c, read.url) for c in record.cells if c.table == name]
            if name == "legacy":
                legacy_other = {**record.legacy_other, **legacy_other}
        for name in record.tables:
            if name not in taken and name in page.tables:
                cross_checked[name] = read.url
                mismatches += _compare(page, record, name, read.url)
        for w in record.warnings:
            table = (w.where or "").split(".", 1)[0]
            if w.code in _DOCUMENT_WARNINGS or table in taken:
                warnings.append(w.model_copy(update={"detail": f"{w.detail or ''} [{read.url}]".strip()[:300]}))
        for key, text in record.sections.items():
            if text and not sections.get(key):
                sections[key] = text
        update.update(_identity(page, record, update, taken))
    if tables:
        warnings = [w for w in warnings if w.code != "no_tables"]
        warnings = [w for w in warnings if not (w.code == "table_missing" and w.where in tables)]
    if "generation" in update:  # the attachment's table labels decided what the page could only infer
        warnings = [w for w in warnings if w.code != "generation_inferred"]
    return page.model_copy(
        update={
            **update,
            "tables": tables,
            "table_sources": sources,
            "cells": cells,
            "sections": sections,
            "legacy_other": legacy_other,
            "attachments": list(attachments.values()),
            "cross_checked": cross_checked,
            "source_mismatches": mismatches,
            "warnings": warnings,
        }
    )


def _from_attachment(cell: Cell, url: str) -> Cell:
    return cell.model_copy(update={"at": cell.at.model_copy(update={"source": url})})


def _compare(page: Record, attachment: Record, table: str, url: str) -> list[SourceMismatch]:
    ours, theirs = page.tables[table], attachment.tables[table]
    out = []
    for key in ours.keys() & theirs.keys():
        if ours[key] == theirs[key]:
            continue
        page_cell, att_cell = page.cell(table, key), attachment.cell(table, key)
        out.append(
            SourceMismatch(
                table=table,
                key=key,
                page_value=ours[key],
                attachment_value=theirs[key],
                attachment_url=url,
                page_at=page_cell.at if page_cell else CellLocation(),
                attachment_at=att_cell.at.model_copy(update={"source": url}) if att_cell else CellLocation(source=url),
            )
        )
    return sorted(out, key=lambda m: m.key)


def _identity(page: Record, attachment: Record, done: dict[str, object], taken: list[str]) -> dict[str, object]:
    """Title, agency, year and generation the page does not state, from the attachment (first one wins).
    A generation the page only inferred yields to one the attachment's table labels prove."""
    out: dict[str, object] = {}
    if page.title is None and "title" not in done and attachment.title:
        out["title"] = attachment.title
    if page.agency.name is None and "agency" not in done and attachment.agency.name:
        out["agency"] = attachment.agency
    if page.year.value is None and "year" not in done and attachment.year.value is not None:
        out["year"] = attachment.year
    weak = page.generation.value is None or page.generation.source == "inferred"
    if weak and taken and "generation" not in done and attachment.generation.source == "labels":
        out["generation"] = attachment.generation
    return out
