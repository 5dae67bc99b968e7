"""The served tables have the official layout and hold every value of ``expected_tables()``.

The pages are fetched over HTTP and read back with the independent grid reader in ``grid.py``; labels,
spans and positions below are typed from report-format.md §2, not taken from the renderers.
"""

from __future__ import annotations

import httpx
import pytest

from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.model import Report
from nianbao.shared.record import LEGACY_KEYS, REQUEST_COLUMNS, REVIEW_KEYS, Number, request_rows

from .grid import Cell, editor_tables, own_cells, parse_cell
from .pages import sniff_text

Grid = list[list[Cell]]

ACTIVE_ROWS_2019: dict[str, tuple[str | None, ...]] = {
    "规章": ("regulations.new_made", "regulations.new_published", "regulations.total_published"),
    "规范性文件": ("normative_docs.new_made", "normative_docs.new_published", "normative_docs.total_published"),
    "行政许可": ("licensing.prev_items", "licensing.delta", "licensing.decisions"),
    "其他对外管理服务事项": ("other_services.prev_items", "other_services.delta", "other_services.decisions"),
    "行政处罚": ("penalty.prev_items", "penalty.delta", "penalty.decisions"),
    "行政强制": ("coercion.prev_items", "coercion.delta", "coercion.decisions"),
    "行政事业性收费": ("fees.prev_items", "fees.delta", None),  # 4th cell empty by design
    "政府集中采购": ("procurement.projects", "procurement.amount_wan", None),
}
ACTIVE_ROWS_2021: dict[str, tuple[str | None, ...]] = {
    "规章": ("regulations.issued", "regulations.repealed", "regulations.in_force"),
    "行政规范性文件": ("normative_docs.issued", "normative_docs.repealed", "normative_docs.in_force"),
    "行政许可": ("licensing.decisions",),  # one value cell spanning three columns
    "行政处罚": ("penalty.decisions",),
    "行政强制": ("coercion.decisions",),
    "行政事业性收费": ("fees.amount_wan",),
}
CAPTIONS = {
    "gen2019": [
        "第二十条第（一）项",
        "第二十条第（五）项",
        "第二十条第（六）项",
        "第二十条第（八）项",
        "第二十条第（九）项",
    ],
    "gen2021": ["第二十条第（一）项", "第二十条第（五）项", "第二十条第（六）项", "第二十条第（八）项"],
}
REQUEST_LABELS = {
    "new": "一、本年新收政府信息公开申请数量",
    "carried_in": "二、上年结转政府信息公开申请数量",
    "granted": "（一）予以公开",
    "partial": "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
    "denied_state_secret": "1.属于国家秘密",
    "denied_law_prohibited": "2.其他法律行政法规禁止公开",
    "denied_security": "3.危及“三安全一稳定”",
    "denied_third_party": "4.保护第三方合法权益",
    "denied_internal": "5.属于三类内部事务信息",
    "denied_process": "6.属于四类过程性信息",
    "denied_enforcement": "7.属于行政执法案卷",
    "denied_query": "8.属于行政查询事项",
    "unavailable_not_held": "1.本机关不掌握相关政府信息",
    "unavailable_needs_creation": "2.没有现成信息需要另行制作",
    "unavailable_unclear": "3.补正后申请内容仍不明确",
    "refused_petition": "1.信访举报投诉类申请",
    "refused_repeat": "2.重复申请",
    "refused_publication": "3.要求提供公开出版物",
    "refused_mass": "4.无正当理由大量反复申请",
    "refused_confirm": "5.要求行政机关确认或重新出具已获取信息",
    "other": "（六）其他处理",
    "other_no_correction": "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "other_fee_unpaid": "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "other_misc": "3.其他",
    "results_total": "（七）总计",
    "carried_out": "四、结转下年度继续办理",
}
LEGACY_LABELS = {
    "active_total": "主动公开政府信息数", "active_normative": "其中：主动公开规范性文件数",
    "normative_issued": "制发规范性文件总数", "channel_gazette": "政府公报公开", "channel_website": "政府网站公开",
    "channel_weibo": "政务微博公开", "channel_wechat": "政务微信公开", "channel_other": "其他方式公开",
    "hotspot_responses": "回应公众关注热点", "press_conferences": "新闻发布会总次数",
    "press_conferences_leaders": "主要负责同志参加新闻发布会", "online_interviews": "政府网站在线访谈次数",
    "online_interviews_leaders": "主要负责同志参加政府网站在线访谈", "interpretations": "政策解读稿件发布数",
    "weibo_wechat_responses": "微博微信回应事件数", "other_responses": "其他方式回应事件数",
    "requests_received": "收到申请数", "requests_in_person": "当面申请数", "requests_fax": "传真申请数",
    "requests_online": "网络申请数", "requests_mail": "信函申请数", "requests_completed": "申请办结数",
    "completed_on_time": "按时办结数", "completed_extended": "延期办结数", "answers_total": "申请答复数",
    "answers_already_public": "属于已主动公开范围数", "answers_granted": "2.同意公开答复数",
    "answers_partial": "同意部分公开答复数", "answers_denied": "不同意公开答复数",
    "denied_state_secret": "涉及国家秘密", "denied_commercial_secret": "涉及商业秘密", "denied_privacy": "涉及个人隐私",
    "denied_security": "危及国家安全", "denied_not_gov_info": "不是《条例》所指政府信息",
    "denied_other_law": "法律法规规定的其他情形", "answers_not_this_agency": "不属于本行政机关公开数",
    "answers_not_exist": "申请信息不存在数", "answers_amend": "告知作出更改补充数",
    "answers_other_channel": "告知通过其他途径办理数", "review_total": "四、行政复议数量",
    "review_upheld": "维持具体行政行为数", "review_corrected": "被依法纠错数", "review_other": "其他情形数",
    "litigation_total": "五、行政诉讼数量", "litigation_upheld": "维持具体行政行为或者驳回原告诉讼请求数",
    "litigation_corrected": "被依法纠错数", "litigation_other": "其他情形数", "complaints": "举报投诉数量",
    "fees_wan": "依申请公开信息收取的费用", "dedicated_units": "专门机构数", "reading_points": "查阅点数",
    "staff_total": "从事政府信息公开工作人员数", "staff_fulltime": "专职人员数", "staff_parttime": "兼职人员数",
    "budget_wan": "专项经费", "meetings": "工作会议或专题会议数", "trainings": "举办各类培训班数",
    "trainees": "接受培训人员数",
}  # fmt: skip
LEGACY_UNITS = {"fees_wan": "万元", "budget_wan": "万元", "staff_total": "人", "trainees": "人次", "active_total": "条"}
RESULTS_GROUP_SPAN = {"gen2019": 20, "gen2021": 22}


@pytest.fixture(scope="module")
def grids(client: httpx.Client) -> dict[str, list[Grid]]:
    out: dict[str, list[Grid]] = {}
    for report in ON_PAGE:
        day = report.publish_date
        response = client.get(f"/zfxxgknb/{day:%Y%m}/t{day:%Y%m%d}_{report.doc_id}.html")
        assert response.status_code == 200
        out[report.id] = editor_tables(sniff_text(response))
    return out


def _same(found: Number | None, expected: Number | None, where: str) -> None:
    if expected is None or found is None:
        assert found == expected, where
    else:
        assert found == pytest.approx(expected, abs=1e-6), where


# The article pages that print their tables (the others say 详见附件: their tables are in the attachment).
ON_PAGE = [r for r in REPORTS if r.published_as == "html"]
MODERN = [r for r in ON_PAGE if r.generation != "legacy"]
LEGACY = [r for r in ON_PAGE if r.generation == "legacy"]


def test_each_generation_is_covered() -> None:
    assert {r.generation for r in REPORTS} == {"legacy", "gen2019", "gen2021"}


@pytest.mark.parametrize("report", MODERN, ids=lambda r: r.id)
def test_modern_reports_have_three_tables(report: Report, grids: dict[str, list[Grid]]) -> None:
    assert len(grids[report.id]) == 3


@pytest.mark.parametrize("report", MODERN, ids=lambda r: r.id)
def test_active_table(report: Report, grids: dict[str, list[Grid]]) -> None:
    grid = grids[report.id][0]
    assert len(grid[0]) == 4
    expected = report.expected_tables()["active"]
    layout = ACTIVE_ROWS_2019 if report.generation == "gen2019" else ACTIVE_ROWS_2021
    captions, seen = [], set()
    header_unit: str | None = None
    for r in range(len(grid)):
        cells = own_cells(grid, r)
        if len(cells) == 1 and cells[0].colspan == 4:
            captions.append(cells[0].label)
            continue
        if cells[0].label == "信息内容":
            header_unit = next((u for u in ("万元", "亿元") if any(f"单位：{u}" in c.label for c in cells)), None)
            continue
        keys = layout[cells[0].label]
        assert len(cells) - 1 == len(keys), f"{cells[0].label}: {[c.text for c in cells]}"
        for cell, key in zip(cells[1:], keys, strict=True):
            if key is None:
                assert cell.label == "", f"{cells[0].label}: the cell empty by design holds {cell.text!r}"
                continue
            if len(keys) == 1:
                assert cell.colspan == 3
            _same(parse_cell(cell.text, header_unit=header_unit), expected[key], f"active/{key}")
            seen.add(key)
    assert captions == CAPTIONS[report.generation]
    assert seen == set(expected)


@pytest.mark.parametrize("report", MODERN, ids=lambda r: r.id)
def test_requests_table(report: Report, grids: dict[str, list[Grid]]) -> None:
    grid = grids[report.id][1]
    assert len(grid[0]) == 10
    note = grid[0][0]
    assert (note.rowspan, note.colspan) == (3, 3) and "本列数据的勾稽关系" in note.label
    assert (grid[0][3].label, grid[0][3].colspan) == ("申请人情况", 7)
    assert (grid[1][3].label, grid[1][3].rowspan) == ("自然人", 2)
    assert (grid[1][4].label, grid[1][4].colspan) == ("法人或其他组织", 5)
    assert (grid[1][9].label, grid[1][9].rowspan) == ("总计", 2)
    assert [c.label for c in grid[2][4:9]] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]

    rows = request_rows(report.generation)
    assert len(grid) == 3 + len(rows)
    expected = report.expected_tables()["requests"]
    for i, row in enumerate(rows):
        r = 3 + i
        assert grid[r][2].label.startswith(REQUEST_LABELS[row]), f"row {r}: {grid[r][2].text!r} for {row}"
        for column, cell in zip(REQUEST_COLUMNS, grid[r][3:], strict=True):
            assert (cell.row, cell.rowspan, cell.colspan) == (r, 1, 1)
            _same(parse_cell(cell.text), expected[f"{row}.{column}"], f"requests/{row}.{column}")

    first_result = 3 + rows.index("granted")
    group = grid[first_result][0]
    assert group.label == "三、本年度办理结果"
    assert (group.row, group.rowspan) == (first_result, RESULTS_GROUP_SPAN[report.generation])
    spans = {grid[3 + rows.index(first)][1].label: grid[3 + rows.index(first)][1].rowspan
             for first in ("denied_state_secret", "unavailable_not_held", "refused_petition")}  # fmt: skip
    assert spans == {"（三）不予公开": 8, "（四）无法提供": 3, "（五）不予处理": 5}
    if report.generation == "gen2021":
        other = grid[3 + rows.index("other_no_correction")][1]
        assert (other.label, other.rowspan) == ("（六）其他处理", 3)


@pytest.mark.parametrize("report", MODERN, ids=lambda r: r.id)
def test_review_litigation_table(report: Report, grids: dict[str, list[Grid]]) -> None:
    grid = grids[report.id][2]
    assert len(grid) == 4 and len(grid[0]) == 15
    assert [(c.label, c.colspan) for c in own_cells(grid, 0)] == [("行政复议", 5), ("行政诉讼", 10)]
    row1 = [(c.label, c.rowspan, c.colspan) for c in own_cells(grid, 1)]
    outcomes = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    assert row1 == [*((o, 2, 1) for o in outcomes), ("未经复议直接起诉", 1, 5), ("复议后起诉", 1, 5)]
    assert [c.label for c in own_cells(grid, 2)] == outcomes * 2
    values = own_cells(grid, 3)
    assert len(values) == 15
    expected = report.expected_tables()["review_litigation"]
    for key, cell in zip(REVIEW_KEYS, values, strict=True):
        _same(parse_cell(cell.text), expected[key], f"review_litigation/{key}")


@pytest.mark.parametrize("report", LEGACY, ids=lambda r: r.id)
def test_legacy_statistics_table(report: Report, grids: dict[str, list[Grid]]) -> None:
    tables = grids[report.id]
    assert len(tables) == 1
    grid = tables[0]
    assert [c.label for c in grid[0]] == ["统计指标", "单位", "统计数"]
    data = []
    for r in range(1, len(grid)):
        label, unit, value = grid[r]
        if unit.label == "——":
            assert value.label == "", f"group row {label.text!r} carries a value"
        else:
            data.append((label, unit, value))
    assert len(data) == len(LEGACY_KEYS)
    expected = report.expected_tables()["legacy"]
    for key, (label, unit, value) in zip(LEGACY_KEYS, data, strict=True):
        assert LEGACY_LABELS[key] in label.label, f"{key}: {label.text!r}"
        if key in LEGACY_UNITS:
            assert unit.label == LEGACY_UNITS[key]
        _same(parse_cell(value.text), expected[key], f"legacy/{key}")


def test_decorated_cells_read_back_to_their_values(grids: dict[str, list[Grid]]) -> None:
    """Hand-checked: the annotated and unit-carrying cells print as decorated and read as plain values."""
    city = _rows_by_label(grids["city-2019"][0])
    assert city["规范性文件"] == ["7", "8(含2018年结转1件)", "214"]
    assert city["行政许可"][1] == "-3"
    assert city["政府集中采购"][1] == "36.85亿元"
    assert parse_cell("36.85亿元") == pytest.approx(368500.0)  # 36.85 亿元 = 368500 万元
    transport = _rows_by_label(grids["transport-2020"][0])
    assert transport["政府集中采购"][1] == "1268.4375(万元)"
    assert parse_cell("1268.4375(万元)") == pytest.approx(1268.4375)


def _rows_by_label(grid: Grid) -> dict[str, list[str]]:
    """First-cell label → the texts of the row's other cells."""
    rows = (own_cells(grid, r) for r in range(len(grid)))
    return {cells[0].label: [c.text for c in cells[1:]] for cells in rows}
