"""A report as the PDF a government office uploads: Word's export, drawn with reportlab.

A4 pages with a running header (the site name) and a ``- N -`` page number; paragraphs wrapped to the
text width with a two-character first-line indent; tables as **ruled** grids (every cell's four borders
drawn, spanned cells merged) whose column widths make long labels wrap inside their cells, as Word does.

:class:`PdfOptions` switches on the real-world quirks a PDF front end has to survive: a table continued
on the next page without its header and with a merged label cut by the page break (``（四）无`` |
``法提供``), a vertical group label (one character per line), a body paragraph inside a bordered box,
a money amount wrapped over two lines, a gen2021 requests table with a single ``（六）其他处理`` row, a
``小计`` column in the 法人或其他组织 group, and a table row broken across a page break (Word's "allow row
to break across pages": the label's first lines and the values end one page, the label's last line opens
the next in a continuation of the row whose value cells are empty). Output is deterministic (reportlab ``invariant=1``).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, replace
from functools import cache

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from nianbao.devportal.render.layout import Block, CellSpec, DocumentLayout, Paragraph, Table

FONT = "STSong-Light"
PAGE_W, PAGE_H = A4
MARGIN_X, TOP, BOTTOM = 72.0, 80.0, PAGE_H - 72.0  # text area: x in [72, W-72], top-based y in [TOP, BOTTOM]
TEXT_W = PAGE_W - 2 * MARGIN_X
BODY_SIZE, TITLE_SIZE, CELL_SIZE = 11.0, 15.0, 8.0
CELL_LEAD, PAD_X, PAD_Y = 10.0, 3.0, 3.0
_NUMERIC = re.compile(r"^[-+]?\d[\d.,]*$|^[/—–-]*$")


@dataclass(frozen=True)
class PdfOptions:
    """Which real-world quirks to draw. ``encrypt``: a user password (a fixture for refused input)."""

    header: str | None = "政府信息公开专栏"  # running page header; None: none
    page_numbers: bool = True  # ``- N -`` centred in the footer
    split_requests: bool = False  # break T3 inside （四）无法提供, header not repeated, label text divided
    vertical_label: bool = False  # 三、本年度办理结果 one character per line in a narrow column
    boxed_paragraph: bool = False  # the first two paragraphs of part 一 in a bordered box, ruled between
    money_split: bool = False  # the first money amount of T2 wrapped over two lines (12580 / .36)
    single_other_row: bool = False  # gen2021: one （六）其他处理 row (the sum of its three sub-rows)
    subtotal_column: bool = False  # T3 with a 小计 column closing the 法人或其他组织 group
    split_row: bool = False  # T3 broken inside the row 5.要求行政机关确认或重新出具已获取信息 (see split_row)
    encrypt: str | None = None
    compress: bool = True  # Flate-compressed page content; False: plain operators (a fuzzing target)


@cache
def font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _width(text: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, font(), size))


def wrap(text: str, width: float, size: float) -> list[str]:
    """Character-wise wrapping (CJK text has no spaces to break at)."""
    lines: list[str] = []
    current = ""
    for ch in text:
        if current and _width(current + ch, size) > width:
            lines.append(current)
            current = ""
        current += ch
    if current or not lines:
        lines.append(current)
    return lines


def _numeric(text: str) -> bool:
    return bool(_NUMERIC.match(text.strip()))


@dataclass
class _Cell:
    spec: CellSpec
    row: int
    col: int
    vertical: bool = False
    lines: tuple[str, ...] = ()

    @property
    def rowspan(self) -> int:
        return self.spec.rowspan

    @property
    def colspan(self) -> int:
        return self.spec.colspan


def _place(table: Table) -> tuple[list[_Cell], int]:
    """Grid positions of the cells (a cell goes to the first column no span from above covers)."""
    covered: dict[tuple[int, int], bool] = {}
    cells: list[_Cell] = []
    n_cols = 0
    for r, row in enumerate(table.rows):
        c = 0
        for spec in row:
            while covered.get((r, c)):
                c += 1
            cells.append(_Cell(spec, r, c))
            for dr in range(spec.rowspan):
                for dc in range(spec.colspan):
                    covered[(r + dr, c + dc)] = True
            c += spec.colspan
            n_cols = max(n_cols, c)
    return cells, n_cols


def _column_widths(cells: list[_Cell], n_cols: int) -> list[float]:
    """Value columns as wide as their numbers (at least 34 pt); label columns share the rest by their
    longest label, at least 40 pt, so long labels wrap in their cells as Word's autofit leaves them."""
    natural = [0.0] * n_cols
    votes = [0] * n_cols
    for cell in cells:
        if cell.colspan != 1:
            continue
        text = cell.spec.text
        votes[cell.col] += 1 if _numeric(text) else -1
        width = CELL_SIZE if cell.vertical else min(_width(text, CELL_SIZE), 220.0)
        natural[cell.col] = max(natural[cell.col], width + 2 * PAD_X)
    widths = [0.0] * n_cols
    labels = [c for c in range(n_cols) if votes[c] < 0]
    for c in range(n_cols):
        if c not in labels:
            widths[c] = max(34.0, min(natural[c], 60.0))
    vertical_cols = {cell.col for cell in cells if cell.vertical}
    for c in vertical_cols:
        widths[c] = CELL_SIZE + 2 * PAD_X + 4
    flexible = [c for c in labels if c not in vertical_cols]
    room = TEXT_W - sum(widths)
    if flexible:
        total = sum(natural[c] for c in flexible) or 1.0
        for c in flexible:
            widths[c] = max(40.0, room * natural[c] / total)
    scale = TEXT_W / sum(widths)
    return [w * scale for w in widths]


def _row_heights(cells: list[_Cell], n_rows: int) -> list[float]:
    heights = [CELL_LEAD + 2 * PAD_Y + 2] * n_rows
    for cell in cells:
        if cell.rowspan == 1:
            heights[cell.row] = max(heights[cell.row], len(cell.lines) * CELL_LEAD + 2 * PAD_Y + 2)
    for cell in cells:
        if cell.rowspan > 1:
            end = min(cell.row + cell.rowspan, n_rows)
            need = len(cell.lines) * CELL_LEAD + 2 * PAD_Y + 2
            have = sum(heights[cell.row : end])
            if have < need:
                heights[end - 1] += need - have
    return heights


def _is_requests(table: Table) -> bool:
    return any(c.text == "申请人情况" for row in table.rows for c in row)


def _is_active(table: Table) -> bool:
    return any(c.text.startswith("第二十条") for row in table.rows for c in row)


def _as_int(text: str) -> int:
    return int(text) if text.strip().lstrip("-").isdigit() else 0


def single_other_row(table: Table) -> Table:
    """T3 with the three （六） sub-rows replaced by one ``（六）其他处理`` row holding their sums."""
    rows = [list(r) for r in table.rows]
    start = next(i for i, r in enumerate(rows) if any(c.text.startswith("（六）") for c in r))
    leaves = rows[start : start + 3]
    sums = [sum(_as_int(r[-7 + k].text) for r in leaves) for k in range(7)]
    rows[start : start + 3] = [[CellSpec("（六）其他处理", 1, 2), *(CellSpec(str(s)) for s in sums)]]
    for r in rows:
        for i, c in enumerate(r):
            if c.text.startswith("三、本年度办理结果"):
                r[i] = replace(c, rowspan=c.rowspan - 2)
    return Table(tuple(tuple(r) for r in rows))


def subtotal_column(table: Table) -> Table:
    """T3 with a ``小计`` column after 其他 in the 法人或其他组织 group (the sum of the five kinds)."""
    rows: list[tuple[CellSpec, ...]] = []
    for r in table.rows:
        cells = list(r)
        if any(c.text == "申请人情况" for c in cells):
            cells = [replace(c, colspan=8) if c.text == "申请人情况" else c for c in cells]
        elif any(c.text == "法人或其他组织" for c in cells):
            cells = [replace(c, colspan=6) if c.text == "法人或其他组织" else c for c in cells]
        elif cells and cells[-1].text == "其他":
            cells.append(CellSpec("小计"))
        elif len(cells) >= 8 and all(_numeric(c.text) for c in cells[-7:]):
            values = cells[-7:]
            subtotal = sum(_as_int(c.text) for c in values[1:6])
            cells = [*cells[:-1], CellSpec(str(subtotal)), cells[-1]]
        rows.append(tuple(cells))
    return Table(tuple(rows))


SPLIT_ROW_LABEL = "要求行政机关确认或重新出具已获取信息"


def split_row(cells: list[_Cell], n_rows: int) -> tuple[int, int]:
    """Break the row of ``SPLIT_ROW_LABEL`` in two, as Word does when a page ends inside a tall row: the
    label's first lines and the values stay in the row, the label's last line goes to a new row below it
    with empty value cells; merged cells around it grow by that row. Returns the new row count and the
    continuation row (which must open a page). ``cells`` are changed in place (their lines wrapped)."""
    label = next(c for c in cells if SPLIT_ROW_LABEL in c.spec.text)
    if len(label.lines) < 2:
        raise ValueError(f"{label.spec.text!r} is on one line: no row to break")
    r = label.row
    added: list[_Cell] = []
    for cell in cells:
        if cell.row > r:
            cell.row += 1
        elif cell.row + cell.rowspan > r + 1:  # a merged cell across the row: it spans the new one too
            cell.spec = replace(cell.spec, rowspan=cell.rowspan + 1)
        elif cell.row == r and cell is not label:
            added.append(_Cell(CellSpec("", 1, cell.colspan), r + 1, cell.col))
    tail = _Cell(replace(label.spec, text=""), r + 1, label.col, lines=label.lines[-1:])
    label.lines = label.lines[:-1]
    cells.extend([tail, *added])
    return n_rows + 1, r + 1


class _Writer:
    def __init__(self, options: PdfOptions, title: str) -> None:
        self.options = options
        self.buffer = io.BytesIO()
        self.canvas = canvas.Canvas(
            self.buffer, pagesize=A4, invariant=1, encrypt=options.encrypt, pageCompression=int(options.compress)
        )
        self.canvas.setTitle(title)
        self.canvas.setCreator("nianbao devportal")
        self.page = 1
        self.y = TOP  # top-based cursor
        self._chrome()

    # -- pages -------------------------------------------------------------------------------------
    def _chrome(self) -> None:
        c = self.canvas
        c.setLineWidth(0.5)
        if self.options.header:
            c.setFont(font(), 9)
            c.drawCentredString(PAGE_W / 2, PAGE_H - 42, self.options.header)
            c.line(MARGIN_X, PAGE_H - 50, PAGE_W - MARGIN_X, PAGE_H - 50)
        if self.options.page_numbers:
            c.setFont(font(), 10)
            c.drawCentredString(PAGE_W / 2, 36, f"- {self.page} -")

    def new_page(self) -> None:
        self.canvas.showPage()
        self.page += 1
        self.y = TOP
        self._chrome()

    def text(self, x: float, top: float, text: str, size: float) -> None:
        self.canvas.setFont(font(), size)
        self.canvas.drawString(x, PAGE_H - top - size * 0.88, text)

    # -- paragraphs --------------------------------------------------------------------------------
    def paragraph(self, block: Paragraph, *, boxed: bool = False, title: bool = False) -> None:
        size = TITLE_SIZE if title else BODY_SIZE
        lead = size * 1.6
        inset = 8.0 if boxed else 0.0
        width = TEXT_W - 2 * inset
        indent = 2 * size if block.align == "left" and not block.heading else 0.0
        first = wrap(block.text, width - indent, size)[0] if block.text else ""
        rest = wrap(block.text[len(first) :], width, size) if block.text[len(first) :] else []
        lines = [first, *rest]
        if boxed:
            height = len(lines) * lead + 2 * inset
            if self.y + height > BOTTOM:
                self.new_page()
            self.canvas.rect(MARGIN_X, PAGE_H - self.y - height, TEXT_W, height, stroke=1, fill=0)
            self.y += inset
        for i, line in enumerate(lines):
            if self.y + lead > BOTTOM:
                self.new_page()
            line_w = _width(line, size)
            if block.align == "center":
                x = MARGIN_X + (TEXT_W - line_w) / 2
            elif block.align == "right":
                x = PAGE_W - MARGIN_X - line_w - 2 * size
            else:
                x = MARGIN_X + inset + (indent if i == 0 else 0.0)
            self.text(x, self.y + (lead - size) / 2, line, size)
            self.y += lead
        self.y += inset + (0.0 if boxed else 6.0 if block.heading else 2.0)

    # -- tables ------------------------------------------------------------------------------------
    def table(self, table: Table) -> None:
        requests = _is_requests(table)
        if requests and self.options.single_other_row:
            table = single_other_row(table)
        if requests and self.options.subtotal_column:
            table = subtotal_column(table)
        cells, n_cols = _place(table)
        n_rows = len(table.rows)
        money_done = not (self.options.money_split and _is_active(table))
        for cell in cells:
            cell.vertical = (self.options.vertical_label and cell.col == 0 and cell.colspan == 1
                             and cell.rowspan >= 5 and not _numeric(cell.spec.text))  # fmt: skip
        widths = _column_widths(cells, n_cols)
        xs = [MARGIN_X]
        for w in widths:
            xs.append(xs[-1] + w)
        money_cols = {c.col for c in cells if "金额" in c.spec.text and c.colspan == 1}
        for cell in cells:
            text = cell.spec.text
            inner = xs[cell.col + cell.colspan] - xs[cell.col] - 2 * PAD_X
            if cell.vertical:
                cell.lines = tuple(text)
            elif not money_done and cell.col in money_cols and _numeric(text) and len(text) >= 3:
                cut = text.rfind(".") if "." in text else len(text) - 2
                cell.lines = (text[:cut], text[cut:])
                money_done = True
            else:
                cell.lines = tuple(wrap(text, inner, CELL_SIZE)) if text else ()
        forced: set[int] = set()
        if requests and self.options.split_requests:
            forced.add(next(c for c in cells if c.spec.text.startswith("（四）")).row + 1)
        if requests and self.options.split_row:
            n_rows, cut = split_row(cells, n_rows)
            forced = {r + (r >= cut) for r in forced} | {cut}
        heights = _row_heights(cells, n_rows)
        for start, stop in self._segments(cells, heights, forced):
            if start > 0:
                self.new_page()
            self._draw_segment(cells, xs, heights, start, stop)
        self.y += 8.0

    def _segments(self, cells: list[_Cell], heights: list[float], forced: set[int]) -> list[tuple[int, int]]:
        """Row ranges drawn on successive pages. A table that fits on the page (or on a fresh page) is
        kept whole; a longer one breaks where no merged cell crosses, else where it must; ``forced``: rows
        that open a page."""
        n_rows = len(heights)
        need = sum(heights[: min(forced)]) if forced else sum(heights)
        if self.y + need > BOTTOM and (need <= BOTTOM - TOP or self.y + heights[0] > BOTTOM) and self.y > TOP:
            self.new_page()
        crossing = {r for c in cells for r in range(c.row + 1, c.row + c.rowspan)}
        segments: list[tuple[int, int]] = []
        start, y = 0, self.y
        for r in range(n_rows):
            if r in forced and r > start:
                segments.append((start, r))
                start, y = r, TOP
            elif r > start and y + heights[r] > BOTTOM:
                allowed = [b for b in range(start + 1, r + 1) if b not in crossing]
                cut = allowed[-1] if allowed else r
                segments.append((start, cut))
                start, y = cut, TOP + sum(heights[cut:r])
            y += heights[r]
        segments.append((start, n_rows))
        return segments

    def _draw_segment(self, cells: list[_Cell], xs: list[float], heights: list[float], a: int, b: int) -> None:
        tops = [self.y]
        for r in range(a, b):
            tops.append(tops[-1] + heights[r])
        c = self.canvas
        for cell in cells:
            first, last = max(cell.row, a), min(cell.row + cell.rowspan, b)
            if first >= last:
                continue
            x0, x1 = xs[cell.col], xs[cell.col + cell.colspan]
            top, bottom = tops[first - a], tops[last - a]
            c.rect(x0, PAGE_H - bottom, x1 - x0, bottom - top, stroke=1, fill=0)
            lines = self._portion(cell, heights, first, last)
            block = len(lines) * CELL_LEAD
            y = top + (bottom - top - block) / 2
            for line in lines:
                w = _width(line, CELL_SIZE)
                left = x0 + PAD_X
                x = left if w > (x1 - x0) * 0.6 and not cell.vertical else (x0 + x1 - w) / 2
                self.text(x, y + (CELL_LEAD - CELL_SIZE) / 2, line, CELL_SIZE)
                y += CELL_LEAD
        self.y = tops[-1]

    @staticmethod
    def _portion(cell: _Cell, heights: list[float], first: int, last: int) -> tuple[str, ...]:
        """The lines of a merged cell that fall on this page: a cell cut by a page break is divided in
        proportion to the height on each side, as Word divides it."""
        end = cell.row + cell.rowspan
        if first == cell.row and last == end:
            return cell.lines
        full = sum(heights[cell.row : end])
        n = len(cell.lines)
        cut_a = round(n * sum(heights[cell.row : first]) / full)
        cut_b = round(n * sum(heights[cell.row : last]) / full)
        return cell.lines[cut_a:cut_b]

    def finish(self) -> bytes:
        self.canvas.save()
        return self.buffer.getvalue()


def report_pdf(layout: DocumentLayout, options: PdfOptions = PdfOptions()) -> bytes:
    """The report drawn as a PDF (same bytes for the same input)."""
    writer = _Writer(options, layout.title)
    boxes_left = 2 if options.boxed_paragraph else 0
    seen_heading = False
    block: Block
    for i, block in enumerate(layout.blocks):
        if isinstance(block, Table):
            writer.table(block)
            continue
        boxed = boxes_left > 0 and seen_heading and not block.heading
        writer.paragraph(block, boxed=boxed, title=i == 0)
        boxes_left -= boxed
        if boxed and not boxes_left:
            writer.y += 4.0
        seen_heading = seen_heading or block.heading
    return writer.finish()
