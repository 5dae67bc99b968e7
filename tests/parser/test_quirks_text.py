"""Our own flattened-text fixture (fixtures/quirks_gen2019.txt) pinning each quirk of report-format §4.

Every expected value below was read off the fixture by hand; the comments name the quirk."""

from __future__ import annotations

from pathlib import Path

import pytest

from nianbao.parser.extract import parse_file
from nianbao.shared.record import Record, request_keys

FIXTURE = Path(__file__).parent / "fixtures" / "quirks_gen2019.txt"


@pytest.fixture(scope="module")
def record() -> Record:
    return parse_file(FIXTURE)


def codes(record: Record) -> list[tuple[str, str | None]]:
    return [(w.code, w.where) for w in record.warnings]


def test_identity_metadata_and_signature(record: Record) -> None:
    assert record.title == "江城市交通运输局2020年政府信息公开工作年度报告"
    assert (record.agency.name, record.agency.source) == ("江城市交通运输局", "title")
    assert (record.year.value, record.year.source) == (2020, "title")
    assert (record.generation.value, record.generation.source) == ("gen2019", "labels")
    meta = record.metadata
    assert meta.index_no == "11420100MB1234567X/2021-00007"  # spaced label 索 引 号
    assert meta.index_no_parts is not None and meta.index_no_parts.org_code == "MB1234567"
    assert meta.publish_date == "2021-01-20"  # inline "发布日期:… 来源:… 浏览次数:"
    assert meta.publisher == "江城市交通运输局"
    assert (meta.signature.body, meta.signature.date) == ("江城市交通运输局", "2021-01-15")  # 二〇二一年一月十五日


def test_sections_headings_variants_and_chrome(record: Record) -> None:
    assert set(record.sections) == {"一", "二", "三", "四", "五", "六", "preamble"}
    assert record.sections["一"].startswith("2020年,江城市交通运输局共收到")  # "一、 总体情况" with a space
    assert record.sections["六"] == "本年度收取信息处理费380元。"  # signature and page chrome cut off
    assert "统计期限为2020年1月1日" in record.sections["preamble"]
    assert "索" not in record.sections["preamble"] and "浏览次数" not in record.sections["preamble"]
    assert record.sections["四"].startswith("2020年,江城市交通运输局无因")  # prose kept, table lines not
    assert "|" not in "".join(record.sections.values())


def test_active_labels_annotations_units_placeholders_and_extra_row(record: Record) -> None:
    active = record.tables["active"]
    assert active["regulations.new_made"] == 2  # truncated header 本年新公开, spaced 本年新 制作数量
    assert active["regulations.new_published"] == 8  # 8(含2019年 结转1件)
    cell = record.cell("active", "regulations.new_published")
    assert cell is not None and cell.annotation == "含2019年 结转1件" and cell.raw == "8(含2019年 结转1件)"
    assert active["regulations.total_published"] == 35  # row label with a provincial remark
    for key in ("normative_docs.new_made", "normative_docs.new_published", "normative_docs.total_published"):
        assert active[key] == 0 and record.cell("active", key).status == "placeholder"  # type: ignore[union-attr]
    assert (active["licensing.prev_items"], active["licensing.delta"], active["licensing.decisions"]) == (120, -8, 3456)
    assert active["other_services.delta"] == 2  # "+2"
    assert active["penalty.delta"] == -105
    assert active["coercion.decisions"] == 0  # a lone "-" is a placeholder, not a negative zero
    assert (active["fees.prev_items"], active["fees.delta"]) == (6, -1)
    assert active["procurement.amount_wan"] == pytest.approx(25.1)  # 251000元 → 万元
    assert record.cell("active", "procurement.amount_wan").unit == "元"  # type: ignore[union-attr]
    assert active["extra.1.total_published"] == 40  # 其他主动公开文件: kept apart, template untouched
    assert ("extra_row", "active.extra.1") in codes(record)


def test_requests_missing_cells_split_labels_typos_and_blanks(record: Record) -> None:
    requests = record.tables["requests"]
    assert set(request_keys("gen2019")) <= set(requests)
    # "一、本年新收… | 3 | 3": two equal numbers and no separators to place them → 自然人 and 总计
    assert (requests["new.natural"], requests["new.total"]) == (3, 3)
    assert requests["new.commercial"] is None
    assert record.cell("requests", "new.commercial").status == "missing"  # type: ignore[union-attr]
    # "1 | 0 | 2": three values: kept from the left, the rest missing, never zero
    assert (requests["carried_in.natural"], requests["carried_in.commercial"], requests["carried_in.research"]) == (
        1, 0, 2)
    assert requests["carried_in.total"] is None
    assert ("cell_missing", "requests.new") in codes(record)
    assert requests["denied_process.natural"] == 1  # typo 6.属于四类过程信息
    assert ("label_fuzzy", "requests.denied_process") in codes(record)
    assert requests["denied_state_secret.total"] == 0  # group label split over two lines: (三) / 不予公开
    assert requests["unavailable_not_held.total"] == 0  # "/" placeholders
    assert record.cell("requests", "unavailable_not_held.total").status == "placeholder"  # type: ignore[union-attr]
    assert requests["refused_petition.total"] == 0  # repeated group label + truncated (五)不予处
    assert requests["other.total"] is None  # "|" "|": an empty cell the separators place
    assert record.cell("requests", "other.total").status == "blank"  # type: ignore[union-attr]
    assert (requests["results_total.natural"], requests["results_total.total"]) == (3, 3)
    assert (requests["carried_out.natural"], requests["carried_out.total"]) == (1, 1)


def test_review_table_with_dislocated_spaced_header(record: Record) -> None:
    assert record.tables["review_litigation"] == dict.fromkeys(record.tables["review_litigation"], 0)
    assert len(record.tables["review_litigation"]) == 15
    assert record.cell("review_litigation", "after_review.total").at.line == 416  # type: ignore[union-attr]


def _bare_gen2021_template(cell: str) -> str:
    """A gen2021 report extracted one cell per line with no separators (雄县 2019, 高陵 2021)."""
    lines = ["某某街道2021年政府信息公开工作年度报告", "一、总体情况", "本街道依法做好政府信息公开工作。",
             "二、主动公开政府信息情况", "第二十条第(一)项", "信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]
    for label in ("规章", "行政规范性文件"):
        lines += [label, cell, cell, cell]
    lines += ["第二十条第(五)项", "信息内容", "本年处理决定数量", "行政许可", cell]
    lines += ["三、收到和处理政府信息公开申请情况", "(本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和)",
              "申请人情况", "自然人", "法人或其他组织", "总计", "商业企业", "科研机构", "社会公益组织",
              "法律服务机构", "其他"]
    lines += ["一、本年新收政府信息公开申请数量", *[cell] * 7, "(六)其他处理",
              "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", *[cell] * 7,
              "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", *[cell] * 7,
              "3.其他", *[cell] * 7, "(七)总计", *[cell] * 7]
    lines += ["四、政府信息公开行政复议、行政诉讼情况", "行政复议", "行政诉讼", "结果维持", "结果纠正", "其他结果",
              "尚未审结", "总计", "未经复议直接起诉", "复议后起诉", *[cell] * 15,
              "五、存在的主要问题及改进情况", "无。", "六、其他需要报告的事项", "无。"]
    return "\n".join(lines)


def test_bare_lines_template_filled_with_placeholders_is_an_empty_table() -> None:
    from nianbao.parser.extract import parse_bytes

    record = parse_bytes(_bare_gen2021_template("/").encode(), media_type="text/plain")
    assert (record.generation.value, record.agency.name, record.year.value) == ("gen2021", "某某街道", 2021)
    assert record.tables["active"]["regulations.in_force"] == 0
    assert record.tables["requests"]["other_misc.total"] == 0
    assert record.tables["review_litigation"]["after_review.total"] == 0
    assert {w.where for w in record.warnings if w.code == "table_empty"} == {
        "active", "requests", "review_litigation"}
    blank = parse_bytes(_bare_gen2021_template("7").encode(), media_type="text/plain")
    assert blank.tables["requests"]["other_fee_unpaid.legal"] == 7
    assert blank.tables["active"]["licensing.decisions"] == 7
    assert blank.tables["requests"]["carried_in.natural"] is None  # absent row: missing, not zero
    assert ("row_missing", "requests.carried_in") in codes(blank)
