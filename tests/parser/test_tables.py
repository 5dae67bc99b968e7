"""Unit tests of the table readers on token streams (text and HTML grids)."""

from __future__ import annotations

from nianbao.parser.document import Grid, GridCell, grid_tokens
from nianbao.parser.tables.active import read_active
from nianbao.parser.tables.legacy import read_legacy
from nianbao.parser.tables.requests import read_requests
from nianbao.parser.tables.review import read_review
from nianbao.parser.textflow import text_document, tokenize_lines
from nianbao.shared.record import REQUEST_COLUMNS, request_keys


def tokens(*lines: str):  # type: ignore[no-untyped-def]
    return tokenize_lines(text_document("\n".join(lines)).lines)


def row(label: str, *values: object) -> str:
    return label + " | " + " | ".join(str(v) for v in values) + " |"


GEN2021_OTHER = [
    row("(六)其他处理", "", "", "", "", "", "", ""),
    row("1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", 1, 0, 0, 0, 0, 0, 1),
    row("2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", 0, 2, 0, 0, 0, 0, 2),
    row("3.其他", 0, 0, 3, 0, 0, 0, 3),
    row("(七)总计", 1, 2, 3, 0, 0, 0, 6),
]


def test_gen2021_other_is_a_group_of_three_rows() -> None:
    header = ["自然人 | 法人或其他组织 | 总计 | |||||||",
              "商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | |||||"]
    result = read_requests(tokens(*header, *GEN2021_OTHER), "gen2021")
    assert result is not None
    v = result.values
    assert (v["other_no_correction.natural"], v["other_fee_unpaid.commercial"], v["other_misc.research"]) == (1, 2, 3)
    assert v["results_total.total"] == 6
    assert "other.natural" not in v
    assert list(v)[: len(request_keys("gen2021"))] == list(request_keys("gen2021"))
    assert v["new.natural"] is None and {w.code for w in result.warnings} >= {"row_missing"}


def test_gen2021_report_with_one_other_row_keeps_it_apart() -> None:
    result = read_requests(tokens(row("(六)其他处理", 1, 0, 0, 0, 0, 0, 1)), "gen2021")
    assert result is not None
    assert result.values["other.natural"] == 1
    assert "requests_other_not_split" in {w.code for w in result.warnings}


def test_header_total_is_not_the_results_total_row() -> None:
    result = read_requests(tokens("总计 | |||", row("(七)总计", 1, 0, 0, 0, 0, 0, 1)), "gen2019")
    assert result is not None and result.values["results_total.total"] == 1


def test_duplicate_rows_keep_the_first() -> None:
    result = read_requests(tokens(row("(一)予以公开", *[1] * 7), row("(一)予以公开", *[2] * 7)), "gen2019")
    assert result is not None and result.values["granted.natural"] == 1
    assert ("row_duplicate", "requests.granted") in {(w.code, w.where) for w in result.warnings}


def test_html_requests_header_columns_drop_a_subtotal_column() -> None:
    headers = ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "小计", "总计"]
    rows = [[GridCell(h, 0, 3 + i) for i, h in enumerate(headers)]]
    rows.append([GridCell("(一)予以公开", 1, 0, colspan=3)]
                + [GridCell(str(v), 1, 3 + i) for i, v in enumerate([1, 2, 3, 4, 5, 6, 20, 21])])
    result = read_requests(grid_tokens(Grid(4, rows, 11)), "gen2019")
    assert result is not None
    assert [result.values[f"granted.{c}"] for c in REQUEST_COLUMNS] == [1, 2, 3, 4, 5, 6, 21]
    cell = next(c for c in result.cells if c["key"] == "granted.total")
    assert cell["at"] == {"table_index": 4, "row": 1, "col": 10}


def test_active_gen2021_and_empty_table() -> None:
    result = read_active(tokens(
        "第二十条第(一)项 | |||", "信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |",
        row("规章", 1, 2, 3), row("行政规范性文件", "/", "/", "/"),
        "第二十条第(八)项 | |||", "信息内容 | 本年收费金额(单位:万元) | ||", row("行政事业性收费", "12.5", "", ""),
    ), "gen2021")
    assert result is not None
    assert (result.values["regulations.in_force"], result.values["normative_docs.issued"]) == (3, 0)
    assert result.values["fees.amount_wan"] == 12.5
    assert result.values["licensing.decisions"] is None
    empty = read_active(tokens(row("规章", "/", "/", "/")), "gen2019")
    assert empty is not None and "table_empty" in {w.code for w in empty.warnings}
    assert read_active(tokens("没有表格的一段文字。"), "gen2019") is None


def test_review_values_after_a_label_column_and_short_rows() -> None:
    result = read_review(tokens("行政复议 | 行政诉讼 |", "结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 |",
                                "数量 | 1 | 0 | 0 | 0 | 1 | 0 | 0 | 0 | 0 | 0 | 2 | 0 | 0 | 0 | 2 |"))
    assert result is not None
    assert (result.values["review.upheld"], result.values["after_review.total"]) == (1, 2)
    short = read_review(tokens("行政复议 | 行政诉讼 | 结果维持 | 尚未审结 |", "1 | 0 | 0 |"))
    assert short is not None and short.values["review.upheld"] == 1 and short.values["after_review.total"] is None
    assert "cell_missing" in {w.code for w in short.warnings}


def test_legacy_group_context_and_other_rows() -> None:
    result = read_legacy(tokens(
        "统 计 指 标 | 单位 | 统计数 |", "四、行政复议数量 | 件 | 3 |", "(二)被依法纠错数 | 件 | 1 |",
        "五、行政诉讼数量 | 件 | 2 |", "(二)被依法纠错数 | 件 | 2 |", "七、依申请公开信息收取的费用 | 元 | 5000 |",
        "受理依申请公开信息总数 | 件 | 9 |",
    ))
    assert result is not None
    v = result.table.values
    assert (v["review_corrected"], v["litigation_corrected"], v["review_total"]) == (1, 2, 3)
    assert v["fees_wan"] == 0.5
    assert result.other == {"受理依申请公开信息总数": 9}
