"""Unit tests: label catalogue, text tokenisation, HTML grids, metadata, skeleton, identity."""

from __future__ import annotations

import pytest

from nianbao.parser.document import Line
from nianbao.parser.htmlgrid import build_grid, span
from nianbao.parser.identity import find_agency, find_year, generation_from_labels, government_of
from nianbao.parser.metadata import parse_index_no, read_metadata
from nianbao.parser.normalize import bare_label, label_key
from nianbao.parser.sections import is_title_line, layout
from nianbao.parser.settings import ParserSettings
from nianbao.parser.textflow import text_document, tokenize_lines
from nianbao.parser.vocabulary import vocabulary
from nianbao.shared.record import ACTIVE_KEYS_2019, ACTIVE_KEYS_2021, LEGACY_KEYS, REQUEST_COLUMNS, request_rows


def lines(*texts: str) -> list[Line]:
    return text_document("\n".join(texts)).lines


# --- vocabulary ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "key", "how"),
    [
        ("（一）予以公开", "granted", "exact"),
        ("(五)不予处", None, None),  # a group, not a row
        ("6.属于四类过程信息", "denied_process", "fuzzy"),
        ("结转下一年度继续办理", "carried_out", "exact"),
        ("2.申请人逾期未按收费通知要求缴纳费用，行政机关不再处理其政府信息公开申请", "other_fee_unpaid", "exact"),
        ("3.危及\"三安全一稳定\"", "denied_security", "exact"),
        ("(七)合计", "results_total", "exact"),
        ("2019年,市政务服务局无因政府信息公开工作被申请行政复议", None, None),
    ],
)
def test_request_row_labels(label: str, key: str | None, how: str | None) -> None:
    match = vocabulary().request_rows.match(bare_label(label))
    assert (match.key if match else None, match.how if match else None) == (key, how)


def test_truncated_labels_match_by_prefix() -> None:
    vocab = vocabulary()
    assert vocab.request_groups.match(bare_label("(五)不予处")).key == "group"  # type: ignore[union-attr]
    assert vocab.request_column_headers.match("商业").key == "commercial"  # type: ignore[union-attr]
    assert vocab.active_headers.match("本年新制作") is not None


def test_catalogue_matches_the_record_contract() -> None:
    vocab = vocabulary()
    assert {k.split(".")[0] for k in ACTIVE_KEYS_2019 + ACTIVE_KEYS_2021} == set(vocab.active_blocks)
    for gen, keys in (("gen2019", ACTIVE_KEYS_2019), ("gen2021", ACTIVE_KEYS_2021)):
        columns = vocab.active_columns[gen]
        built = {f"{row}.{col}" for row, block in vocab.active_blocks.items() if block in columns
                 for col in columns[block]}
        assert built >= set(keys)
    rows = {m.key for m in (vocab.request_rows.match(b) for b in vocab.request_rows.exact) if m}
    assert rows == set(request_rows("gen2019")) | set(request_rows("gen2021"))
    assert vocab.request_columns == REQUEST_COLUMNS
    assert {key for pairs in vocab.legacy_rows.values() for _, key in pairs} == set(LEGACY_KEYS)


# --- text tokenisation ---------------------------------------------------------------------------------


def test_row_lines_keep_empty_cells_and_lone_pipes() -> None:
    tokens = tokenize_lines(lines("(六)其他处理 | 0 | 0 | |||", "1.政府公报公开政府信息数 | 条 |", "|"))
    assert [t.text for t in tokens] == ["(六)其他处理", "0", "0", "", "", "", "1.政府公报公开政府信息数", "条", ""]
    assert tokens[0].line == 1 and tokens[-1].line == 3
    assert tokens[0].group == tokens[3].group != tokens[6].group


def test_separator_lines_join_wrapped_cells() -> None:
    tokens = tokenize_lines(lines("(三)", "不予公开", "|", "1.属于国家秘密", "|", "0", "|", "|", "5"))
    assert [t.text for t in tokens] == ["(三)不予公开", "1.属于国家秘密", "0", "", "5"]
    assert tokens[0].line == 1


def test_bare_lines_are_one_cell_each() -> None:
    assert [t.text for t in tokenize_lines(lines("规章", "0", "1"))] == ["规章", "0", "1"]


# --- HTML grids ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("2", 2), ("3px", 3), (" 4", 4), ("x", 1), ("", 1), (None, 1),
                                                 ("0", 0)])
def test_span_values(value: str | None, expected: int) -> None:
    assert span(value) == expected


def test_grid_places_cells_around_row_and_col_spans() -> None:
    rows = [[("a", 2, 1), ("b", 1, 2)], [("c", 1, 1), ("d", 1, 1)], [("e", 1, 3)]]
    grid = build_grid(rows, index=0, settings=ParserSettings())
    assert [(c.text, c.row, c.col) for row in grid.rows for c in row] == [
        ("a", 0, 0), ("b", 0, 1), ("c", 1, 1), ("d", 1, 2), ("e", 2, 0)]
    assert grid.n_cols == 3


def test_grid_repairs_malformed_spans() -> None:
    rows = [[("a", 0, 1), ("b", 1, 0)], [("c", 1, 1)], [("d", 99, 1)]]  # rowspan=0 runs to the end
    grid = build_grid(rows, index=0, settings=ParserSettings())
    assert [(c.text, c.row, c.col) for row in grid.rows for c in row] == [
        ("a", 0, 0), ("b", 0, 1), ("c", 1, 1), ("d", 2, 1)]
    assert grid.rows[2][0].rowspan == 1  # clamped to the rows that exist


def test_grid_limits() -> None:
    settings = ParserSettings(max_table_columns=16, max_table_cells=100)
    assert build_grid([[("x", 1, 1)] * 17], index=0, settings=settings).skipped
    assert build_grid([[("x", 1, 1)] * 10] * 11, index=0, settings=settings).skipped
    wide = build_grid([[("x", 1, 10_000)]], index=0, settings=settings)
    assert wide.rows[0][0].colspan == 16 and not wide.skipped


# --- metadata ------------------------------------------------------------------------------------------


def test_metadata_wide_grid_with_collapsed_empty_values() -> None:
    block = read_metadata(lines(
        "索引号 : | 11500000009275780L/2020-11304 | 主题分类 : | 电子政务 | ||||",
        "发布机构 : | 成文日期 : | 2020-03-31 | 发布日期 : | 2020-03-31 | |||",
        "标题 : | 重庆市2019年政府信息公开工作年度报告 | ||||||",
        "发文字号 : | 有 效 性 : |",
        "重庆市2019年政府信息公开工作年度报告",
    ))
    assert block.values == {"index_no": "11500000009275780L/2020-11304", "topic": "电子政务", "publisher": None,
                            "written_date": "2020-03-31", "publish_date": "2020-03-31",
                            "title": "重庆市2019年政府信息公开工作年度报告", "doc_no": None, "validity": None}
    assert block.lines == {1, 2, 3, 4}


def test_metadata_inline_and_dt_dd() -> None:
    block = read_metadata(lines("发布时间:2021-11-02 09:08 来源:中国政府网 作者:", "信息来源:", "某某局",
                                "有 效 性:", "有效"))
    assert block.values["publish_date"] == "2021-11-02"
    assert block.values["publisher"] == "中国政府网"
    assert block.values["validity"] == "有效"


def test_metadata_ignores_prose_that_starts_like_a_label() -> None:
    assert read_metadata(lines("来源于群众的意见建议共30条。")).values == {}


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        ("11500000009275780L/2020-11304", ("11500000009275780L", "009275780", "2020", "11304")),
        ("11341702486344515H/202110-00013", ("11341702486344515H", "486344515", "202110", "00013")),
        ("000014349/2018-00222", ("000014349", "000014349", "2018", "00222")),
        ("0142768-8/2022-00185", ("0142768-8", "01427688", "2022", "00185")),
        ("ABC", None),
    ],
)
def test_index_no(value: str, parts: tuple[str, ...] | None) -> None:
    got = parse_index_no(value)
    assert (None if got is None else (got.issuer, got.org_code, got.period, got.seq)) == parts


# --- skeleton ------------------------------------------------------------------------------------------


def test_headings_follow_ordinals_and_keywords() -> None:
    doc = text_document("\n".join([
        "某局2020年政府信息公开工作年度报告", "前言。", "一、总体情况", "一、加强领导", "二、强化机制",
        "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况", "四、结转下年度继续办理",
        "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项", "无。",
        "某局", "2021年1月10日", "版权所有 某局",
    ]))
    lay = layout(doc.items)
    assert [h.ordinal for h in lay.headings] == ["一", "二", "三", "四", "五", "六"]
    assert lay.headings[1].title == "主动公开政府信息情况"
    assert lay.title_index == 0
    assert lay.signature == ("某局", "2021-01-10")
    assert lay.ranges["六"] == (11, 12)


@pytest.mark.parametrize(
    ("text", "is_title"),
    [("昆明市政务服务管理局2019年政府信息公开年度报告", True),
     ("2019年上海市人民政府办公厅政府信息公开工作年度报告", True),
     ("津市市人民政府2018年度政府信息公开工作报告", True), ("衢州市2022年政务公开工作年报", True),
     ("2020年报_审计局", True), ("根据《条例》,编制普洱市人民政府办公室2020年政府信息公开工作年度报告。", False),
     ("2018年度常德市津市市政府信息公开工作统计表", False)],
)
def test_title_lines(text: str, is_title: bool) -> None:
    assert is_title_line(text) is is_title


# --- identity ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "agency"),
    [("昆明市政务服务管理局2019年政府信息公开年度报告", "昆明市政务服务管理局"),
     ("重庆市2019年政府信息公开工作年度报告", "重庆市人民政府"),
     ("2019年上海市人民政府办公厅政府信息公开工作年度报告", "上海市人民政府办公厅"),
     ("2023年度沅江路街道信息公开工作报告", "沅江路街道"),
     ("2020年报_审计局", "审计局"),
     ("某某镇2021年政府信息公开工作年度报告", "某某镇人民政府")],
)
def test_agency_from_title(title: str, agency: str) -> None:
    found = find_agency(title=title, preamble="", signature_body=None, publisher=None)
    assert (found.value, found.source) == (agency, "title")


def test_agency_and_year_from_preamble_signature_and_dates() -> None:
    preamble = "本报告由银川市市政管理局根据《条例》编制,统计期限为2020年1月1日至2020年12月31日。"
    found = find_agency(title=None, preamble=preamble, signature_body=None, publisher=None)
    assert found.value == "银川市市政管理局"
    year = find_year(title=None, preamble=preamble, publish_date=None, signature_date=None)
    assert (year.value, year.source) == (2020, "period_sentence")
    compiled = "根据《条例》,编制普洱市人民政府办公室2020年政府信息公开工作年度报告。"
    agency = find_agency(title=None, preamble=compiled, signature_body="x", publisher=None)
    assert (agency.value, agency.source) == ("普洱市人民政府办公室", "preamble")
    assert find_year(title=None, preamble=compiled, publish_date=None, signature_date=None).source == "preamble"
    year = find_year(title=None, preamble="", publish_date="2021-01-31", signature_date=None)
    assert (year.value, year.source) == (2020, "publish_date")
    assert find_agency(title=None, preamble="", signature_body="某局", publisher="x").source == "signature"
    assert find_year(title=None, preamble="", publish_date=None, signature_date=None).value is None


def test_generation_markers_in_order() -> None:
    assert generation_from_labels(label_key("本年制发件数 上一年项目数量")) == "gen2021"
    assert generation_from_labels(label_key("本年新制作数量")) == "gen2019"
    assert generation_from_labels(label_key("统 计 指 标")) == "legacy"
    assert generation_from_labels("总体情况") is None
    assert government_of("津市市人民政府") == "津市市人民政府"
