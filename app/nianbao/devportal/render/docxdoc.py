"""A report as a Word document: the DOCX (and, through LibreOffice, DOC) attachments of the dev portal and
the fixtures of the parser's Word front end.

``report_docx`` draws :func:`~nianbao.devportal.render.layout.report_layout`'s blocks with python-docx:
paragraphs as paragraphs (headings bold, the title and the statistics form's title centred, the signature
right-aligned), tables with their spans made by ``cell.merge`` (which writes ``w:gridSpan`` and
``w:vMerge`` as Word does). The output is byte-for-byte deterministic: fixed core properties and fixed
zip member times.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from nianbao.devportal.render.layout import DocumentLayout, Paragraph, Table

FIXED_TIME = datetime(2020, 1, 1, 0, 0, 0)
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def table_positions(table: Table) -> list[list[tuple[int, int]]]:
    """Per source row, the grid (row, col) of each cell: the first column no span from above covers, as
    a browser places HTML cells."""
    covered: set[tuple[int, int]] = set()
    out: list[list[tuple[int, int]]] = []
    for r, row in enumerate(table.rows):
        c = 0
        placed = []
        for cell in row:
            while (r, c) in covered:
                c += 1
            placed.append((r, c))
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    covered.add((r + dr, c + dc))
            c += cell.colspan
        out.append(placed)
    return out


def grid_size(table: Table) -> tuple[int, int]:
    positions = table_positions(table)
    n_rows = len(table.rows)
    n_cols = 0
    for row, placed in zip(table.rows, positions, strict=True):
        for cell, (r, c) in zip(row, placed, strict=True):
            n_cols = max(n_cols, c + cell.colspan)
            n_rows = max(n_rows, r + cell.rowspan)
    return n_rows, n_cols


def report_docx(layout: DocumentLayout) -> bytes:
    """The report as DOCX bytes (the same bytes for the same layout)."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn

    align = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT}
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name = "SimSun"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    props = document.core_properties
    props.title = layout.title
    props.author = "nianbao devportal"
    props.last_modified_by = "nianbao devportal"
    props.created = props.modified = props.last_printed = FIXED_TIME
    props.revision = 1
    for block in layout.blocks:
        if isinstance(block, Paragraph):
            paragraph = document.add_paragraph()
            run = paragraph.add_run(block.text)
            run.bold = block.heading
            paragraph.alignment = align[block.align]
        else:
            _add_table(document, block)
    out = io.BytesIO()
    document.save(out)
    return _fixed_zip_times(out.getvalue())


def _add_table(document: object, table: Table) -> None:
    n_rows, n_cols = grid_size(table)
    grid = document.add_table(rows=n_rows, cols=n_cols)  # type: ignore[attr-defined]
    grid.style = "Table Grid"
    positions = table_positions(table)
    origins = []
    for row, placed in zip(table.rows, positions, strict=True):
        for spec, (r, c) in zip(row, placed, strict=True):
            cell = grid.cell(r, c)
            if spec.rowspan > 1 or spec.colspan > 1:
                cell = cell.merge(grid.cell(r + spec.rowspan - 1, c + spec.colspan - 1))
            origins.append((cell, spec.text))
    for cell, text in origins:  # after all merges: a merge moves the covered cells' paragraphs in
        cell.text = text


def _fixed_zip_times(data: bytes) -> bytes:
    """The package re-zipped with fixed member times (python-docx stamps the current time)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            target.writestr(member, source.read(info.filename))
    return out.getvalue()


def report_doc(layout: DocumentLayout, *, timeout_s: float = 120.0) -> bytes:
    """The report as a Word 97 ``.doc``, converted from :func:`report_docx` by LibreOffice (raises the
    converter's ``ConverterMissing`` when it is not installed)."""
    from nianbao.parser.convert import convert
    from nianbao.parser.settings import ParserSettings

    settings = ParserSettings(converter_timeout_s=timeout_s)
    return convert(report_docx(layout), ".docx", "doc", settings)
