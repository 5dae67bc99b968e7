"""The PDF front end reads the devportal reports drawn as PDFs into the same record as their HTML pages.

Every report of the catalogue (legacy, gen2019, gen2021) must give exactly ``expected_tables()``, and
each real-world PDF quirk has its own fixture: a table continued on the next page with a merged label
cut by the break, a vertical label, prose in a box, a single （六） row, a 小计 column, running headers
and page numbers, a money amount wrapped over two lines, scanned pages.
"""

from __future__ import annotations

import io
import re
import time

import pdfplumber
import pytest

from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.catalogue import report as catalogue_report
from nianbao.devportal.render.pdfdoc import PdfOptions
from nianbao.parser.document import Grid
from nianbao.parser.normalize import fold, label_key
from nianbao.parser.pdfflow import pdf_document
from nianbao.parser.pdfgrid import cell_text
from nianbao.parser.settings import ParserSettings
from nianbao.shared.record import REQUEST_COLUMNS, request_rows

from .pdf_fixtures import parse, rendered, scanned_pdf

IDS = [r.id for r in REPORTS]
QUIRKS = PdfOptions(split_requests=True, vertical_label=True, boxed_paragraph=True, money_split=True, split_row=True)


def _codes(record: object) -> list[str]:
    return [w.code for w in record.warnings]  # type: ignore[attr-defined]


def _page_text(data: bytes, page: int) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return pdf.pages[page - 1].extract_text() or ""


@pytest.mark.parametrize("report_id", IDS)
def test_every_report_reads_as_its_ground_truth(report_id: str) -> None:
    report = catalogue_report(report_id)
    document, record = parse(rendered(report_id))
    assert document.kind == "pdf"
    assert record.tables == report.expected_tables()
    expected = report.expected_metadata()
    assert record.title == expected["title"]
    assert record.agency.name == expected["agency"]
    assert record.year.value == expected["year"]
    assert record.generation.value == expected["generation"]
    assert record.generation.source == "labels"
    assert not {"row_missing", "cell_missing", "extra_row", "no_tables", "table_missing"} & set(_codes(record))


@pytest.mark.parametrize("report_id", IDS)
def test_every_report_reads_the_same_with_all_quirks(report_id: str) -> None:
    report = catalogue_report(report_id)
    _, record = parse(rendered(report_id, QUIRKS))
    assert record.tables == report.expected_tables()


@pytest.mark.parametrize("report_id", ["county-2018", "county-2019", "market-2021"])
def test_cells_point_at_their_page_and_box(report_id: str) -> None:
    data = rendered(report_id, QUIRKS)
    _, record = parse(data)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        checked = 0
        table_pages: dict[int, set[int]] = {}
        for cell in record.cells:
            if cell.status != "number":
                continue
            at = cell.at
            assert at is not None and at.page is not None and at.bbox is not None and at.table_index is not None
            page = pdf.pages[at.page - 1]
            x0, top, x1, bottom = at.bbox
            assert 0 <= x0 < x1 <= page.width and 0 <= top < bottom <= page.height
            shown = page.crop(at.bbox).extract_text() or ""
            assert re.sub(r"\s", "", fold(shown)) == re.sub(r"\s", "", cell.raw or ""), cell.key
            table_pages.setdefault(at.table_index, set()).add(at.page)
            checked += 1
    assert checked > 10
    if report_id != "county-2018":  # three distinct table indexes, one per modern table
        assert len({c.at.table_index for c in record.cells if c.at is not None}) == 3


def test_split_table_and_cut_merged_label_read_as_one() -> None:
    data = rendered("county-2019", PdfOptions(split_requests=True))
    # The fixture really cuts the label: "（四）无" ends one page, "法提供" opens the next, no header repeated.
    pages = [label_key(_page_text(data, n)) for n in (3, 4)]
    assert "(四)无" in pages[0] and "(四)无法提供" not in pages[0]
    assert pages[1].startswith("法提供") or "法提供" in pages[1][:40]
    assert "申请人情况" not in pages[1]
    document, record = parse(data)
    assert record.tables == catalogue_report("county-2019").expected_tables()
    requests = [g for g in document.grids if "申请人情况" in g.text()]
    assert len(requests) == 1
    labels = {c.text: c for row in requests[0].rows for c in row}
    assert "(四)无法提供" in labels and labels["(四)无法提供"].rowspan == 3
    assert "三、本年度办理结果" in labels and labels["三、本年度办理结果"].rowspan == 20
    assert {c.page for row in requests[0].rows for c in row} == {3, 4}
    assert "row_duplicate" not in _codes(record)


@pytest.mark.parametrize("report_id", ["market-2021", "county-2019"])
def test_row_broken_across_a_page_break_is_one_row(report_id: str) -> None:
    # Word lets a tall row break across pages: the label's first line and the values end page N, the
    # label's last line opens page N+1 in a continuation of the row whose value cells are empty.
    report = catalogue_report(report_id)
    data = rendered(report_id, PdfOptions(split_row=True))
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        pages = [fold(p.extract_text() or "") for p in pdf.pages]
    texts = [label_key(t) for t in pages]
    page = next(n for n, t in enumerate(texts, start=1) if "5.要求行政机关确认" in t)
    assert "5.要求行政机关确认或重新出具已获取信息" not in texts[page - 1]
    assert "已获取信息" not in texts[page - 1] and "已获取信息" in texts[page][:40]
    assert "申请人情况" not in texts[page]
    expected = report.expected_tables()
    values = [expected["requests"][f"refused_confirm.{c}"] for c in REQUEST_COLUMNS]
    head = next(line for line in pages[page - 1].splitlines() if line.startswith("5.要求行政机关确认"))
    assert head.split()[1:] == [str(v) for v in values]  # the values are on page N

    document, record = parse(data)
    assert record.tables == expected
    assert not {"extra_row", "row_missing", "cell_missing", "cell_overflow", "row_duplicate"} & set(_codes(record))
    grid = next(g for g in document.grids if "申请人情况" in g.text())
    labels = [c for row in grid.rows for c in row if "要求行政机关确认" in c.text or "已获取信息" in c.text]
    assert [(c.text, c.rowspan, c.page) for c in labels] == [("5.要求行政机关确认或重新出具已获取信息", 1, page)]
    assert {c.page for row in grid.rows for c in row} >= {page, page + 1}
    confirm = [c for c in record.cells if c.table == "requests" and c.key.startswith("refused_confirm.")]
    assert len(confirm) == 7
    assert all(c.at is not None and c.at.page == page and c.at.row == labels[0].row for c in confirm)


def test_vertical_group_label_reads_as_the_normal_string() -> None:
    data = rendered("county-2019", PdfOptions(vertical_label=True))
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        chars = [c for p in pdf.pages for c in p.chars if c["text"] in "三本年度办理结果"]
        stacked = [c for c in chars if c["text"] == "办"]
        assert stacked and any(abs(c["x0"] - stacked[0]["x0"]) < 1 and c["top"] > stacked[0]["top"] for c in chars)
    document, record = parse(data)
    assert record.tables == catalogue_report("county-2019").expected_tables()
    texts = {c.text for g in document.grids for row in g.rows for c in row}
    assert "三、本年度办理结果" in texts


def test_boxed_prose_is_text_not_a_table() -> None:
    report = catalogue_report("county-2019")
    data = rendered("county-2019", PdfOptions(boxed_paragraph=True))
    # The line finder reports the box (two ruled paragraphs) as a table of two cells.
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        found = pdf.pages[0].find_tables({"vertical_strategy": "lines", "horizontal_strategy": "lines"})
        assert [len(t.cells) for t in found] == [2]
    document, record = parse(data)
    assert len(document.grids) == 3
    for paragraph in report.sections[0].paragraphs[:2]:
        boxed = fold(paragraph)
        assert any(line.text == boxed for line in document.lines)
        assert boxed in record.sections["一"]
    assert record.tables == report.expected_tables()


def test_gen2021_single_other_row_is_kept_as_other() -> None:
    report = catalogue_report("market-2021")
    _, record = parse(rendered("market-2021", PdfOptions(single_other_row=True)))
    expected = report.expected_tables()["requests"]
    requests = record.tables["requests"]
    for column in REQUEST_COLUMNS:
        parts = [expected[f"{row}.{column}"] for row in ("other_no_correction", "other_fee_unpaid", "other_misc")]
        assert requests[f"other.{column}"] == sum(p for p in parts if isinstance(p, int))
        for row in ("other_no_correction", "other_fee_unpaid", "other_misc"):
            assert requests[f"{row}.{column}"] is None
    kept = [r for r in request_rows("gen2021") if not r.startswith("other")]
    assert {k: v for k, v in requests.items() if k.split(".")[0] in kept} == {
        k: v for k, v in expected.items() if k.split(".")[0] in kept
    }
    assert "requests_other_not_split" in _codes(record)


def test_subtotal_column_is_not_read_as_a_value_column() -> None:
    report = catalogue_report("county-2019")
    document, record = parse(rendered("county-2019", PdfOptions(subtotal_column=True)))
    requests = next(g for g in document.grids if "申请人情况" in g.text())
    assert requests.n_cols == 11 and "小计" in requests.text()
    assert record.tables == report.expected_tables()


@pytest.mark.parametrize("report_id", ["market-2021", "county-2019"])
def test_subtotal_column_table_is_one_grid_read_by_its_headers(report_id: str) -> None:
    # market-2021: the 11-column table is taller than a page; only its header rows fit at the foot of page
    # 1 (their merged cells draw 4 of its 11 columns), the rest fills page 2 and its last row page 3.
    # county-2019: on one page.
    report = catalogue_report(report_id)
    document, record = parse(rendered(report_id, PdfOptions(subtotal_column=True)))
    assert record.tables == report.expected_tables()
    assert not {"cell_overflow", "cell_missing", "row_missing", "extra_row"} & set(_codes(record))
    grids = [g for g in document.grids if "申请人情况" in g.text() or "本年新收" in g.text()]
    assert len(grids) == 1 and grids[0].n_cols == 11
    grid = grids[0]
    cells = {(c.row, c.col): c for row in grid.rows for c in row}
    headers = {c.text: c.col for c in cells.values()}
    assert headers["小计"] == headers["其他"] + 1 == headers["总计"] - 1
    if report_id == "market-2021":
        assert {c.page for c in cells.values()} == {1, 2, 3}
        assert cells[(0, 3)].text == "申请人情况" and cells[(0, 3)].page == 1
    requests = [c for c in record.cells if c.table == "requests"]
    assert len(requests) == len(report.expected_tables()["requests"])
    for cell in requests:
        at = cell.at
        assert at is not None and at.table_index == grid.index, cell.key
        source = cells[(at.row, at.col)]
        assert (source.page, source.bbox, source.text) == (at.page, at.bbox, cell.raw), cell.key
        assert at.col != headers["小计"]


def test_running_header_and_page_numbers_are_never_text_or_values() -> None:
    data = rendered("county-2019", PdfOptions(split_requests=True))
    assert "- 3 -" in _page_text(data, 3)  # the fixture prints them
    document, record = parse(data)
    page_number = re.compile(r"^-\s*\d+\s*-$")
    assert not any(page_number.match(line.text) or line.text == "政府信息公开专栏" for line in document.lines)
    assert all(c.raw is None or not page_number.match(c.raw) for c in record.cells)
    assert record.tables == catalogue_report("county-2019").expected_tables()


def test_money_wrapped_over_two_lines_is_never_ten_times_too_large() -> None:
    report = catalogue_report("county-2019")
    data = rendered("county-2019", PdfOptions(money_split=True))
    with pdfplumber.open(io.BytesIO(data)) as pdf:  # the fixture prints 12580 above .36 in one cell
        words = {w["text"]: w for w in pdf.pages[1].extract_words()}
        assert 0 < words[".36"]["top"] - words["12580"]["top"] < 20
    _, record = parse(data)
    assert record.tables["active"]["procurement.amount_wan"] == 12580.36
    assert record.tables == report.expected_tables()
    split = [w for w in record.warnings if w.code == "number_split"]
    assert len(split) == 1 and "12580" in (split[0].detail or "")
    assert split[0].where == "pdf.table[0].cell[17,2]"  # T2's 采购总金额 cell, page 2


@pytest.mark.parametrize("text", ["- 3 -", "— 12 —", "3", "第 3 页", "第3页 共12页", "3/12", "Page 3 of 12"])
def test_page_number_forms(text: str) -> None:
    from nianbao.parser.pdfflow import _PAGE_NUMBER

    assert _PAGE_NUMBER.match(text)


def _chars(lines: list[tuple[str, float]]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for i, (text, x) in enumerate(lines):
        for j, ch in enumerate(text):
            x0 = x + 5 * j
            out.append({"text": ch, "x0": x0, "x1": x0 + 5, "top": 10.0 + 12 * i, "bottom": 19.0 + 12 * i,
                        "size": 9.0, "upright": True})  # fmt: skip
    return out


def test_split_number_joined_only_when_it_is_a_wrap() -> None:
    box = (0.0, 0.0, 30.0, 40.0)
    # "961716" fills the cell, the rest wraps: one number.
    assert cell_text(_chars([("961716", 0.0), ("5", 0.0)]), box)[0] == "9617165"
    # The decimal point at the break: one number.
    assert cell_text(_chars([("96171", 2.0), (".6", 2.0)]), box)[0] == "96171.6"
    # Two short lines: maybe two numbers; not joined (unparseable, never 10×), with a note.
    text, note = cell_text(_chars([("5", 12.0), ("3", 12.0)]), box)
    assert text == "5 3" and note is not None and "not joined" in note
    assert cell_text(_chars([("三", 12.0), ("、", 12.0), ("本", 12.0)]), box) == ("三、本", None)


def test_scanned_pages_are_counted_and_the_text_kept() -> None:
    document, _ = parse(scanned_pdf(1, 2))
    warnings = [w for w in document.warnings if w[0] == "scanned_document"]
    assert len(warnings) == 1 and (warnings[0][2] or "").startswith("2 of 3 pages")
    assert any("政府信息公开工作年度报告" in line.text for line in document.lines)


def test_all_scanned_gives_an_empty_document_with_a_warning() -> None:
    document, record = parse(scanned_pdf(0, 3))
    assert document.items == []
    assert [w[0] for w in document.warnings] == ["scanned_document"]
    assert "scanned_document" in _codes(record) and record.tables == {}


def test_pages_after_the_deadline_are_skipped_with_a_warning() -> None:
    document = pdf_document(rendered("county-2019"), ParserSettings(), deadline=time.monotonic() - 1)
    assert document.items == []
    assert [(w[0], w[2]) for w in document.warnings] == [
        ("pages_skipped", "pages 1–4 of 4 not read: the time budget ran out")
    ]


def test_output_is_deterministic_and_titled() -> None:
    options = PdfOptions(split_requests=True, vertical_label=True)
    from nianbao.devportal.render.layout import report_layout
    from nianbao.devportal.render.pdfdoc import report_pdf

    layout = report_layout(catalogue_report("city-2019"))
    assert report_pdf(layout, options) == report_pdf(layout, options)
    document, _ = parse(report_pdf(layout, options))
    assert document.meta["title"] == "示例市2019年政府信息公开工作年度报告"
    assert all(isinstance(g, Grid) and g.in_body for g in document.grids)
