"""HTML pages in the three generations, laid out with the official rowspan/colspan structure by our
builders (tests/parser/builders.py); the expected values are the builders' own data."""

from __future__ import annotations

from typing import Any

import pytest

from nianbao.parser.extract import parse_bytes
from nianbao.shared.record import Record, table_keys

from .builders import Report, make_report, render_html


def parse(report: Report, **options: Any) -> Record:
    return parse_bytes(render_html(report, **options).encode("utf-8"), media_type="text/html",
                       url="https://www.jiangcheng.gov.cn/zfxxgk/zfxxgknb/t20210128_1.html")


def assert_tables(record: Record, report: Report) -> None:
    assert set(record.tables) == set(report.values)
    for table, values in report.values.items():
        assert list(record.tables[table]) == list(table_keys(table, report.generation))
        assert record.tables[table] == values, table


@pytest.mark.parametrize("generation", ["gen2019", "gen2021", "legacy"])
@pytest.mark.parametrize("seed", [1, 2])
def test_generation_tables_identity_and_metadata(generation: Any, seed: int) -> None:
    report = make_report(generation, seed=seed)
    record = parse(report)
    assert_tables(record, report)
    assert (record.generation.value, record.generation.source) == (generation, "labels")
    assert record.title == report.title
    assert record.agency.name == report.agency
    assert record.year.value == report.year
    assert record.metadata.index_no == report.index_no
    assert record.metadata.topic == "综合政务\\政务公开"
    assert record.metadata.publish_date == record.metadata.written_date == report.publish_date
    assert record.metadata.signature.date == f"{report.year + 1}-01-20"
    assert record.source.charset == "utf-8" and record.source.charset_source == "meta"


def test_cell_locations_are_grid_positions_after_span_expansion() -> None:
    report = make_report("gen2019")
    record = parse(report)
    # T3 body rows: the label spans 3 columns, so 自然人 is grid column 3; row 0–2 are the header rows.
    cell = record.cell("requests", "new.natural")
    assert cell is not None and (cell.at.row, cell.at.col) == (3, 3)
    total = record.cell("requests", "results_total.total")
    assert total is not None and total.at.col == 9
    # "三、本年度办理结果" spans 20 rows from row 5; (七)总计 is its last row
    assert total.at.row == 5 + 19
    t4 = record.cell("review_litigation", "after_review.total")
    assert t4 is not None and (t4.at.row, t4.at.col) == (3, 14)
    assert len({c.at.table_index for c in record.cells}) == 3


def test_gen2021_single_value_blocks_span_three_columns() -> None:
    report = make_report("gen2021", seed=5)
    record = parse(report)
    assert record.tables["active"]["licensing.decisions"] == report.values["active"]["licensing.decisions"]
    assert record.tables["active"]["fees.amount_wan"] == report.values["active"]["fees.amount_wan"]
    assert len(record.tables["requests"]) == 175


@pytest.mark.parametrize("split_at", ["unavailable_not_held", "refused_petition", "denied_process"])
def test_requests_table_split_at_a_page_break(split_at: str) -> None:
    report = make_report("gen2021", seed=7)
    assert_tables(parse(report, split_requests_at=split_at), report)


def test_requests_table_split_with_repeated_header_rows() -> None:
    report = make_report("gen2019", seed=8)
    record = parse(report, split_requests_at="refused_petition", repeat_header=True)
    assert_tables(record, report)
    assert not [w for w in record.warnings if w.code in ("row_duplicate", "cell_overflow", "extra_row")]


def test_report_inside_a_layout_table_and_dl_metadata() -> None:
    report = make_report("gen2019", seed=9)
    record = parse(report, metadata="dl", layout_table=True)
    assert_tables(record, report)
    assert record.metadata.validity == "有效"
    assert record.metadata.doc_no is None  # 文　　号 with an empty <dd>
    assert record.metadata.publisher == report.agency


def test_chrome_is_not_report_text_and_attachments_are_listed() -> None:
    report = make_report("gen2021", seed=3)
    record = parse(report, nav_links=120)
    text = "\n".join(record.sections.values())
    for chrome in ("栏目1", "首页", "分享到", "打印本页", "版权所有", "主办单位", "一、脚本"):
        assert chrome not in text
    assert record.sections["六"] == "本年度未收取信息处理费。"
    assert record.attachments[0].url == "https://www.jiangcheng.gov.cn/attach/0/report-2020.pdf"
    assert record.attachments[0].media_type == "application/pdf"
    assert record.attachments[0].name == "年报全文(PDF)"


def test_blank_and_placeholder_html_cells() -> None:
    report = make_report("gen2019", seed=4)
    report.values["requests"]["other.total"] = None
    report.raw[("requests", "granted.legal")] = "—"
    report.values["requests"]["granted.legal"] = 0
    report.raw[("active", "procurement.amount_wan")] = "552.94亿元"
    report.values["active"]["procurement.amount_wan"] = 5529400.0
    record = parse(report)
    assert_tables(record, report)
    assert record.cell("requests", "other.total").status == "blank"  # type: ignore[union-attr]
    assert record.cell("requests", "granted.legal").status == "placeholder"  # type: ignore[union-attr]


def test_gbk_page_without_declared_charset() -> None:
    report = make_report("gen2019", seed=6)
    html = render_html(report).replace('<meta charset="utf-8">', "")
    record = parse_bytes(html.encode("gbk"), media_type="text/html")
    assert record.source.charset == "gb18030" and record.source.charset_source == "detected"
    assert_tables(record, report)
