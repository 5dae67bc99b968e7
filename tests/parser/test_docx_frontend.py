"""The Word and spreadsheet front ends on the devportal reports: DOCX written by the devportal's own
writer (python-docx, merged cells through ``cell.merge``) and XLSX written here with openpyxl (merged
ranges included) go through ``docx_document``/``xlsx_document`` and the one analysis path.

Expected values are the reports' hand-written ground truth (``expected_tables()``, ``expected_metadata()``);
provenance is checked against the documents themselves, read back with python-docx / openpyxl.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import docx
import openpyxl
import pytest

from nianbao.devportal.catalogue import REPORTS, report
from nianbao.devportal.model import Report
from nianbao.devportal.render.docxdoc import report_docx, table_positions
from nianbao.devportal.render.layout import DocumentLayout, Paragraph, Table, report_layout
from nianbao.parser.analyze import Budget, analyze
from nianbao.parser.docxflow import docx_document
from nianbao.parser.normalize import clean_line, fold
from nianbao.parser.settings import ParserSettings
from nianbao.parser.xlsxflow import display, xlsx_document
from nianbao.shared.record import Record, Source

SETTINGS = ParserSettings()
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def record_of(document: Any, data: bytes, media_type: str) -> Record:
    source = Source(content_sha256=hashlib.sha256(data).hexdigest(), media_type=media_type)
    return analyze(document, source=source, budget=Budget.of(20))


def shown(text: str) -> str:
    """A document's cell text in the form the parser keeps (folded, whitespace collapsed)."""
    return clean_line(fold(text))


def assert_identity(record: Record, rep: Report) -> None:
    expected = rep.expected_metadata()
    assert record.title == expected["title"]
    assert record.agency.name == expected["agency"]
    assert record.year.value == expected["year"]
    assert record.generation.value == expected["generation"]
    assert record.generation.source == "labels"


@pytest.fixture(scope="module")
def docx_files() -> dict[str, bytes]:
    return {rep.id: report_docx(report_layout(rep)) for rep in REPORTS}


@pytest.mark.parametrize("rep", REPORTS, ids=lambda r: r.id)
def test_docx_report_tables_identity_and_provenance(rep: Report, docx_files: dict[str, bytes]) -> None:
    data = docx_files[rep.id]
    document = docx_document(data, SETTINGS)
    assert document.kind == "docx"
    record = record_of(document, data, DOCX_TYPE)
    assert record.tables == rep.expected_tables()
    assert_identity(record, rep)
    assert record.metadata.signature.date == rep.signature_date.isoformat()
    assert not [w for w in record.warnings if w.code in ("cell_missing", "cell_overflow", "extra_row")]
    # Every cell points at a real cell of the Word table whose text is the cell's raw text: python-docx
    # resolves (row, col) through gridSpan and vMerge on its own.
    word_tables = docx.Document(io.BytesIO(data)).tables
    for cell in record.cells:
        at = cell.at
        assert at.table_index is not None and at.row is not None and at.col is not None, cell
        assert 0 <= at.table_index < len(word_tables)
        table = word_tables[at.table_index]
        assert shown(table.cell(at.row, at.col).text) == cell.raw, (cell.key, at)


@pytest.mark.parametrize("rep", REPORTS[:2], ids=lambda r: r.id)
def test_docx_cell_positions_are_the_layout_grid(rep: Report, docx_files: dict[str, bytes]) -> None:
    """The grid position of every cell is the one the layout gives it (spans expanded like HTML)."""
    layout = report_layout(rep)
    grids = docx_document(docx_files[rep.id], SETTINGS).grids
    assert len(grids) == len(layout.tables)
    for grid, table in zip(grids, layout.tables, strict=True):
        expected = [
            (shown(spec.text), r, c, spec.rowspan, spec.colspan)
            for row, placed in zip(table.rows, table_positions(table), strict=True)
            for spec, (r, c) in zip(row, placed, strict=True)
        ]
        assert [(g.text, g.row, g.col, g.rowspan, g.colspan) for row in grid.rows for g in row] == expected


def test_docx_writer_is_deterministic() -> None:
    layout = report_layout(report("market-2021"))
    assert report_docx(layout) == report_docx(layout)


def test_docx_paragraph_breaks_tabs_and_content_controls() -> None:
    word = docx.Document()
    paragraph = word.add_paragraph("示例县人民政府")
    paragraph.add_run().add_break()
    paragraph.add_run("2020年1月20日\t（盖章）")
    out = io.BytesIO()
    word.save(out)
    lines = [line.text for line in docx_document(out.getvalue(), SETTINGS).lines]
    assert lines == ["示例县人民政府", "2020年1月20日 (盖章)"]


def _report_xlsx(layout: DocumentLayout, *, only: int | None = None, title: str | None = None) -> bytes:
    """The layout in one sheet: paragraphs typed into column A, tables with their merged ranges, numbers
    as numbers. ``only``: just that table, under ``title`` merged across it (an attachment's statistics
    sheet)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    blocks: list[Paragraph | Table] = list(layout.blocks)
    if only is not None:
        blocks = [layout.tables[only]]
    top = 1
    if title is not None:
        sheet.cell(1, 1, title)
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=4)
        top = 2
    for block in blocks:
        if isinstance(block, Paragraph):
            sheet.cell(top, 1, block.text)
            top += 1
            continue
        height = 0
        for row, placed in zip(block.rows, table_positions(block), strict=True):
            for spec, (r, c) in zip(row, placed, strict=True):
                sheet.cell(top + r, c + 1, _typed(spec.text))
                if spec.rowspan > 1 or spec.colspan > 1:
                    sheet.merge_cells(start_row=top + r, start_column=c + 1,
                                      end_row=top + r + spec.rowspan - 1, end_column=c + spec.colspan)  # fmt: skip
                height = max(height, r + spec.rowspan)
        top += height
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _typed(text: str) -> object:
    """Numbers go into a sheet as numbers, as people type them."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


@pytest.mark.parametrize("rep", REPORTS, ids=lambda r: r.id)
def test_xlsx_report_tables_identity_and_provenance(rep: Report) -> None:
    data = _report_xlsx(report_layout(rep))
    document = xlsx_document(data, SETTINGS)
    assert document.kind == "xlsx"
    record = record_of(document, data, XLSX_TYPE)
    assert record.tables == rep.expected_tables()
    assert_identity(record, rep)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    for cell in record.cells:
        at = cell.at
        assert at.table_index == 0 and at.row is not None and at.col is not None, cell
        value = sheet.cell(at.row + 1, at.col + 1).value  # at is 0-based, openpyxl 1-based
        assert (display(value) if value is not None else "") == cell.raw, (cell.key, at)


def test_xlsx_statistics_sheet_with_only_the_requests_table() -> None:
    rep = report("county-2019")
    layout = report_layout(rep)
    requests = next(i for i, t in enumerate(layout.tables) if "申请人情况" in str(t))
    data = _report_xlsx(layout, only=requests, title="收到和处理政府信息公开申请情况")
    record = record_of(xlsx_document(data, SETTINGS), data, XLSX_TYPE)
    assert record.tables["requests"] == rep.expected_tables()["requests"]
    cell = record.cell("requests", "new.natural")
    assert cell is not None and cell.raw == str(rep.expected_tables()["requests"]["new.natural"])


def test_xlsx_display_of_values() -> None:
    assert display(12.0) == "12"
    assert display(0.1 + 0.2) == "0.3"
    assert display(552.94) == "552.94"
    assert display(0.125, "0.0%") == "12.5%"
    assert display("（一）予以公开\n ") == "(一)予以公开"
    assert display(True) == "TRUE"
