"""A report as a sequence of blocks (paragraphs and tables with spans), for the document writers.

The HTML renderers are the one definition of how each generation's tables look (labels, spans, cell
texts); the PDF and Word writers draw the same tables, so they read them from that HTML instead of
defining the tables a second time. ``report_layout`` returns the article body in reading order: title,
preamble, numbered parts with their tables, signature, and a legacy report's 统计表 appendix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from selectolax.lexbor import LexborHTMLParser

from nianbao.devportal.model import Report
from nianbao.devportal.render import legacy
from nianbao.devportal.render.article import RENDERERS, chinese_date

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class CellSpec:
    """One source cell: its text and how many grid rows/columns it spans."""

    text: str
    rowspan: int = 1
    colspan: int = 1


@dataclass(frozen=True)
class Paragraph:
    text: str
    heading: bool = False  # a numbered part's heading (一、总体情况)
    align: Align = "left"


@dataclass(frozen=True)
class Table:
    """A table as rows of cells in source order (a spanned cell appears once, in its first row)."""

    rows: tuple[tuple[CellSpec, ...], ...]


Block = Paragraph | Table


@dataclass(frozen=True)
class DocumentLayout:
    title: str
    blocks: tuple[Block, ...]

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]


def _span(value: str | None) -> int:
    digits = "".join(ch for ch in (value or "") if ch.isdigit())
    return max(int(digits), 1) if digits else 1


def html_table(html: str) -> Table:
    """The first ``<table>`` of ``html`` as a :class:`Table` (cell text with whitespace collapsed)."""
    tree = LexborHTMLParser(html)
    node = tree.css_first("table")
    if node is None:
        raise ValueError("no <table> in the rendered HTML")
    rows: list[tuple[CellSpec, ...]] = []
    for tr in node.css("tr"):
        cells = []
        for td in tr.css("td, th"):
            text = " ".join(td.text(deep=True, separator=" ").split())
            cells.append(CellSpec(text, _span(td.attributes.get("rowspan")), _span(td.attributes.get("colspan"))))
        rows.append(tuple(cells))
    return Table(tuple(rows))


def report_layout(report: Report) -> DocumentLayout:
    """The body of ``report`` as blocks, in the order the article page prints them."""
    tables = RENDERERS[report.generation](report)
    blocks: list[Block] = [Paragraph(report.title, align="center")]
    blocks.extend(Paragraph(text) for text in report.preamble)
    for section in report.sections:
        blocks.append(Paragraph(section.heading, heading=True))
        blocks.extend(Paragraph(text) for text in section.paragraphs)
        if section.ordinal in tables:
            blocks.append(html_table(tables[section.ordinal]))
    blocks.append(Paragraph(report.signature_body, align="right"))
    blocks.append(Paragraph(chinese_date(report.signature_date), align="right"))
    if legacy.APPENDIX in tables:
        appendix = tables[legacy.APPENDIX]
        if report.statistics_form is not None:
            blocks.append(Paragraph(report.statistics_form.title, align="center"))
            blocks.append(Paragraph(report.statistics_form.filler))
        blocks.append(html_table(appendix))
        if report.statistics_form is not None:
            blocks.extend(Paragraph(line) for line in report.statistics_form.footer)
    return DocumentLayout(report.title, tuple(blocks))
