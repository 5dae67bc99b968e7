"""Unit tests: text folding, label matching form, cell values, dates."""

from __future__ import annotations

import unicodedata

import pytest

from nianbao.parser.dates import is_date_line, parse_date
from nianbao.parser.normalize import bare_label, clean_line, fold, label_key, split_ordinal, strip_remarks
from nianbao.parser.values import header_unit, looks_like_value, parse_cell


@pytest.mark.parametrize(
    "text", ["（一）予以公开：", "１２３，４５６", "标　　题", "①②", "ﾊﾝｶｸ", "e\u0301", "\u200b零宽"]
)
def test_fold_equals_nfkc_without_invisibles(text: str) -> None:
    assert fold(text) == unicodedata.normalize("NFKC", text).replace("\u200b", "")


def test_clean_line_collapses_all_kinds_of_space() -> None:
    assert clean_line("  a\u00a0\u3000 b\t\nc ") == "a b c"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("结 果 维 持", "结果维持"),
        ("本年新 制作数量", "本年新制作数量"),
        ("3．危及“三安全一稳定”", "3.危及三安全一稳定"),
        ('3.危及"三安全一稳定"', "3.危及三安全一稳定"),
        ("有 效 性 :", "有效性"),
        ("申请人无正当理由逾期不补正，行政机关不再处理", "申请人无正当理由逾期不补正,行政机关不再处理"),
        ("申请人无正当理由逾期不补正、行政机关不再处理", "申请人无正当理由逾期不补正,行政机关不再处理"),
    ],
)
def test_label_key(raw: str, key: str) -> None:
    assert label_key(raw) == key


@pytest.mark.parametrize(
    ("key", "ordinal", "rest"),
    [("(一)予以公开", "(一)", "予以公开"), ("1.属于国家秘密", "1.", "属于国家秘密"), ("一,概述", "一,", "概述"),
     ("3168.06", None, "3168.06"), ("规章", None, "规章")],
)
def test_split_ordinal(key: str, ordinal: str | None, rest: str) -> None:
    assert split_ordinal(key) == (ordinal, rest)


def test_remarks_and_bare_label() -> None:
    assert strip_remarks("采购总金额(单位:万元)") == "采购总金额"
    assert strip_remarks("(本列数据的勾稽关系)") == "(本列数据的勾稽关系)"  # all remark: kept
    assert bare_label("（二）部分公开（区分处理的，只计这一情形，不计其他情形）") == "部分公开"


@pytest.mark.parametrize(
    ("raw", "money", "value", "status", "unit", "annotation"),
    [
        ("16", False, 16, "number", None, None),
        ("-105", False, -105, "number", None, None),
        ("+2", False, 2, "number", None, None),
        ("3,456", False, 3456, "number", None, None),
        ("8(含2018年 结转1件)", False, 8, "number", None, "含2018年 结转1件"),
        ("39（市政府、市政府办印发）", False, 39, "number", None, "市政府、市政府办印发"),
        ("12件", False, 12, "number", "件", None),
        ("2830.17", True, 2830.17, "number", "unknown", None),
        ("3168.0656(万元)", True, 3168.0656, "number", "万元", None),
        ("552.94亿元", True, 5529400.0, "number", "亿元", None),
        ("251000元", True, 25.1, "number", "元", None),
        ("/", False, 0, "placeholder", None, None),
        ("—", False, 0, "placeholder", None, None),
        ("-", False, 0, "placeholder", None, None),
        ("无", True, 0.0, "placeholder", "万元", None),
        ("", False, None, "blank", None, None),
        ("   ", False, None, "blank", None, None),
        ("不详", False, None, "unparseable", None, None),
    ],
)
def test_parse_cell(
    raw: str, money: bool, value: object, status: str, unit: str | None, annotation: str | None
) -> None:
    parsed = parse_cell(raw, money=money)
    assert (parsed.value, parsed.status, parsed.unit, parsed.annotation) == (value, status, unit, annotation)
    assert parsed.raw == raw
    assert type(parsed.value) is type(value)


def test_money_default_unit_from_header() -> None:
    assert header_unit("采购总金额(单位:万元)") == "万元"
    assert header_unit("本年收费金额（单位：元）") == "元"
    assert header_unit("采购总金额") is None
    assert parse_cell("2500", money=True, default_unit="元").value == 0.25


@pytest.mark.parametrize(("text", "is_value"), [("0", True), ("—", True), ("1.属于国家秘密", False),
                                                 ("2019年,市政务服务局", False), ("3168.0656(万元)", True),
                                                 ("(七)总计", False)])
def test_looks_like_value(text: str, is_value: bool) -> None:
    assert looks_like_value(text) is is_value


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2020-03-31", "2020-03-31"),
        ("2021-10-08 15:47", "2021-10-08"),
        ("2020/3/1", "2020-03-01"),
        ("2020年1月17日", "2020-01-17"),
        ("填报日期:2019.1.20", "2019-01-20"),
        ("二〇二〇年一月十七日", "2020-01-17"),
        ("二〇一一年五月三十日", "2011-05-30"),
        ("二〇二一年十二月三十一日", "2021-12-31"),
        ("2020年2月30日", None),
        ("2021926", None),
        ("无日期", None),
    ],
)
def test_parse_date(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso


def test_date_lines() -> None:
    assert is_date_line("2020年1月17日")
    assert is_date_line("二〇二一年一月十五日")
    assert not is_date_line("2020年1月17日召开会议")
