"""The rules of issue 14 (what a peer tool checks, and copies across years), on synthetic reports.

Each rule has a passing and a failing case, and the cases where it must not decide (not assessable, or no
finding when the narrative makes no claim). The fixture tables: T3 总计 column new 7, carried_in 1,
results_total 6, carried_out 2 (fixtures_rules).
"""

from __future__ import annotations

from typing import Any

import pytest
from validator.fixtures_rules import (
    active_table,
    cell,
    findings_of,
    legacy_table,
    make_record,
    modern_tables,
    requests_table,
    run,
    verdicts,
    with_values,
)

from nianbao.shared.record import Finding, Record
from nianbao.validator.rules import evaluate
from nianbao.validator.rules.copies import similarity
from nianbao.validator.rules.thresholds import DEFAULT_THRESHOLDS, Thresholds
from nianbao.validator.settings import ValidatorSettings


def only(record: Record, rule: str, **kwargs: Any) -> Finding:
    found = findings_of(run(record, **kwargs), rule)
    assert list(found) == [None], found
    return found[None]


def narrative(text: str, **kwargs: Any) -> Record:
    return make_record(sections={"一": text}, **kwargs)


# --- text.requests_carried_in / carried_out ---------------------------------------------------------------


def test_carried_in_sentence_matches_the_table() -> None:
    finding = only(narrative("全年共收到政府信息公开申请7件,上年结转1件,办理答复6件。"), "text.requests_carried_in")
    assert (finding.status, finding.lhs, finding.rhs) == ("pass", 1, 1)
    assert finding.cells == ["requests.carried_in.total"]
    assert "上年结转1件" in finding.message


def test_carried_in_sentence_that_differs_fails() -> None:
    finding = only(narrative("全年共收到政府信息公开申请7件,上年结转3件。"), "text.requests_carried_in")
    assert (finding.status, finding.lhs, finding.rhs, finding.delta) == ("fail", 3, 1, 2)


def test_carried_out_sentence_both_ways() -> None:
    text = "本年度收到政府信息公开申请7件,结转下年度继续办理{}件。"
    assert only(narrative(text.format(2)), "text.requests_carried_out").status == "pass"
    failed = only(narrative(text.format(5)), "text.requests_carried_out")
    assert (failed.status, failed.lhs, failed.rhs) == ("fail", 5, 2)
    number_first = only(narrative("收到申请7件,另有2件申请结转至下一年度办理。"), "text.requests_carried_out")
    assert number_first.status == "pass"


def test_carry_sentences_not_about_applications_or_absent_make_no_finding() -> None:
    # an annotation on documents (T2), and a report that states no carry-over at all
    for text in ("本年新公开规章8件(含上年结转1件)。", "全年共收到政府信息公开申请7件。"):
        evaluation = run(narrative(text))
        assert findings_of(evaluation, "text.requests_carried_in") == {}
        assert findings_of(evaluation, "text.requests_carried_out") == {}


def test_carry_sentence_with_a_blank_total_is_not_assessable() -> None:
    tables = {**modern_tables(), "requests": with_values(requests_table(), carried_in__total=None)}
    record = make_record(tables=tables, sections={"一": "收到政府信息公开申请7件,上年结转1件。"})
    finding = only(record, "text.requests_carried_in")
    assert finding.status == "not_assessable" and "requests.carried_in.total is blank" in finding.message


def test_carry_sentence_without_a_requests_table_is_not_assessable() -> None:
    record = make_record(generation="legacy", year=2018, sections={"一": "收到政府信息公开申请4件,上年结转1件。"})
    assert only(record, "text.requests_carried_in").status == "not_assessable"


# --- text.requests_received --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stated", "reading"),
    [(7, "本年新收"), (8, "本年新收+上年结转")],
)
def test_received_passes_on_any_reading_and_names_it(stated: int, reading: str) -> None:
    finding = only(narrative(f"全年共收到政府信息公开申请{stated}件。"), "text.requests_received")
    assert finding.status == "pass"
    assert f"matches {reading}" in finding.message


def test_received_names_the_results_reading_when_the_table_does_not_balance() -> None:
    # results_total 6 + carried_out 3 = 9 while new 7 + carried_in 1 = 8: only the third reading gives 9
    tables = {**modern_tables(), "requests": with_values(requests_table(), carried_out__total=3)}
    finding = only(make_record(tables=tables, sections={"一": "共收到政府信息公开申请9件。"}), "text.requests_received")
    assert finding.status == "pass"
    assert "matches 办理结果总计+结转下年度" in finding.message and "本年新收:" not in finding.message


def test_received_fails_only_when_no_reading_matches() -> None:
    finding = only(narrative("全年共收到政府信息公开申请20件。"), "text.requests_received")
    assert finding.status == "fail" and finding.lhs == 20
    assert "matches no reading" in finding.message
    for reading in ("本年新收: 20 ≠ 7", "本年新收+上年结转: 20 ≠ 8", "办理结果总计+结转下年度: 20 ≠ 8"):
        assert reading in finding.message


def test_received_with_an_unreadable_reading_is_not_assessable_unless_another_matches() -> None:
    tables = {**modern_tables(), "requests": with_values(requests_table(), carried_in__total=None)}
    blank = make_record(tables=tables, sections={"一": "共收到政府信息公开申请20件。"})
    assert only(blank, "text.requests_received").status == "not_assessable"
    matching = make_record(tables=tables, sections={"一": "共收到政府信息公开申请7件。"})
    assert only(matching, "text.requests_received").status == "pass"


def test_received_in_a_legacy_report_reads_the_statistics_form() -> None:
    text = "本年度受理政府信息公开申请{}件。"
    assert only(make_record(generation="legacy", year=2018, sections={"一": text.format(4)}),
                "text.requests_received").status == "pass"  # fmt: skip
    failed = only(
        make_record(generation="legacy", year=2018, sections={"一": text.format(5)}), "text.requests_received"
    )
    assert failed.status == "fail" and "收到申请数" in failed.message


def test_received_without_the_sentence_makes_no_finding() -> None:
    assert findings_of(run(narrative("本年度依法办理政府信息公开工作。")), "text.requests_received") == {}


# --- structure.table_missing -------------------------------------------------------------------------------


def test_parts_with_their_tables_pass() -> None:
    record = make_record(sections={"二": "", "三": "", "四": "无行政复议。"})
    assert verdicts(run(record), "structure.table_missing") == {
        "active": "pass",
        "requests": "pass",
        "review_litigation": "pass",
    }


def test_a_part_without_its_table_fails() -> None:
    tables = {k: v for k, v in modern_tables().items() if k != "review_litigation"}
    record = make_record(tables=tables, sections={"三": "", "四": "本年度无行政复议。"})
    found = findings_of(run(record), "structure.table_missing")
    assert {w: f.status for w, f in found.items()} == {"requests": "pass", "review_litigation": "fail"}
    assert "part 四 is present" in found["review_litigation"].message


def test_no_tables_at_all_is_left_to_report_no_tables() -> None:
    record = make_record(tables={}, sections={"二": "", "三": "", "四": ""})
    evaluation = run(record)
    assert findings_of(evaluation, "structure.table_missing") == {}
    assert verdicts(evaluation, "report.no_tables") == {None: "fail"}


def test_absent_parts_and_legacy_reports_make_no_table_missing_finding() -> None:
    assert findings_of(run(make_record(sections={})), "structure.table_missing") == {}
    legacy = make_record(generation="legacy", year=2018, sections={"三": "", "四": ""})
    assert findings_of(run(legacy), "structure.table_missing") == {}


# --- quality.blank_cells -----------------------------------------------------------------------------------


def _blank_requests(n_blank: int, n_placeholder: int) -> Record:
    keys = [k for k in requests_table() if k.startswith(("denied_", "refused_"))]
    values = dict(requests_table())
    placeholders = []
    for key in keys[:n_blank]:
        values[key] = None
    for key in keys[n_blank : n_blank + n_placeholder]:
        placeholders.append(cell("requests", key, 0, "placeholder", raw="/"))
    return make_record(tables={**modern_tables(), "requests": values}, cells=placeholders)


def test_blank_cells_within_the_limit_pass_with_count_and_cells() -> None:
    finding = findings_of(run(_blank_requests(3, 2)), "quality.blank_cells")["requests"]
    assert (finding.status, finding.severity, finding.lhs, finding.rhs) == ("pass", "info", 5, 10)
    assert len(finding.cells) == 5 and all(c.startswith("requests.") for c in finding.cells)
    assert "blank (3) or placeholder (2)" in finding.message


def test_blank_cells_above_the_limit_are_reported_not_failed_and_the_limit_is_configurable() -> None:
    """The peer tool fails here; blanks never make a rule fail (§3.5), so the table is not vouched for."""
    record = _blank_requests(8, 4)
    finding = findings_of(run(record), "quality.blank_cells")["requests"]
    assert (finding.status, finding.lhs, finding.rhs) == ("not_assessable", 12, 10)
    assert "above the limit 10" in finding.message and len(finding.cells) == 12
    loose = findings_of(run(record, thresholds=Thresholds(blank_cells_requests=12)), "quality.blank_cells")
    assert loose["requests"].status == "pass"


def test_blank_cells_of_review_have_their_own_limit() -> None:
    review = {
        k: (None if k.startswith(("direct", "after_review")) else v)
        for k, v in modern_tables()["review_litigation"].items()
    }
    finding = findings_of(
        run(make_record(tables={**modern_tables(), "review_litigation": review})), "quality.blank_cells"
    )
    assert (finding["review_litigation"].status, finding["review_litigation"].lhs) == ("not_assessable", 10)
    assert finding["active"].status == "pass" and finding["active"].rhs is None  # counted, no limit


def test_blank_cells_of_a_legacy_form_are_counted_without_a_limit() -> None:
    table = with_values(legacy_table(), requests_fax=None, complaints=None)
    finding = findings_of(
        run(make_record(generation="legacy", year=2018, tables={"legacy": table})), "quality.blank_cells"
    )
    assert (finding["legacy"].status, finding["legacy"].lhs) == ("pass", 2)


# --- text.section5_empty -----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["无", "无。", "  暂无 ", "五、存在的主要问题及改进情况\n无。", ""])
def test_part_five_empty_or_only_none_fails(body: str) -> None:
    assert only(make_record(sections={"五": body}), "text.section5_empty").status == "fail"


def test_part_five_with_content_passes() -> None:
    text = "一是公开内容有待深化;二是解读形式单一。下一步将加强培训。"
    assert only(make_record(sections={"五": text}), "text.section5_empty").status == "pass"


def test_part_five_absent_makes_no_finding_and_legacy_is_not_checked() -> None:
    assert findings_of(run(make_record(sections={"一": "总体情况。"})), "text.section5_empty") == {}
    legacy = make_record(generation="legacy", year=2018, sections={"五": "无"})  # legacy 五 is about 复议/诉讼
    assert findings_of(run(legacy), "text.section5_empty") == {}


# --- text.fees_vs_section6 ---------------------------------------------------------------------------------


def _legacy_fees(fees: float | None, six: str) -> Record:
    table = with_values(legacy_table(), fees_wan=fees)
    return make_record(generation="legacy", year=2018, tables={"legacy": table}, sections={"六": six})


def test_legacy_no_fee_claim_against_the_form() -> None:
    assert only(_legacy_fees(0, "全年没有对公民、法人和其他组织进行收费。"), "text.fees_vs_section6").status == "pass"
    failed = only(_legacy_fees(0.04, "全年没有对公民、法人和其他组织进行收费。"), "text.fees_vs_section6")
    assert (failed.status, failed.lhs) == ("fail", 0.04) and failed.cells == ["legacy.fees_wan"]


def test_legacy_charge_claim_against_the_form_the_reverse() -> None:
    assert only(_legacy_fees(0.04, "全年收取信息公开费用400元。"), "text.fees_vs_section6").status == "pass"
    failed = only(_legacy_fees(0, "全年收取信息公开费用400元。"), "text.fees_vs_section6")
    assert (failed.status, failed.rhs) == ("fail", 0.04)


def test_fee_claim_with_a_blank_amount_is_not_assessable() -> None:
    # legacy.fees_wan blank in a form that also has explicit zeros: blank means "not filled" (seed 002)
    finding = only(_legacy_fees(None, "全年未收取任何费用。"), "text.fees_vs_section6")
    assert finding.status == "not_assessable"


def test_gen2021_administrative_fee_claim_is_compared_with_t2() -> None:
    tables = modern_tables("gen2021")  # fees.amount_wan = 0.038
    record = make_record(
        generation="gen2021", year=2021, tables=tables, sections={"六": "本年度未收取行政事业性收费。"}
    )
    assert only(record, "text.fees_vs_section6").status == "fail"
    zero = {**tables, "active": with_values(active_table("gen2021"), fees__amount_wan=0)}
    record = make_record(generation="gen2021", year=2021, tables=zero, sections={"六": "本年度未收取行政事业性收费。"})
    assert only(record, "text.fees_vs_section6").status == "pass"


def test_gen2021_processing_fee_claim_is_not_compared_with_administrative_fees() -> None:
    """T2 (八) is 行政事业性收费 (0.038 万元 here); part 六's 信息处理费 is another fee: no false alarm."""
    record = make_record(generation="gen2021", year=2021, sections={"六": "本年度未收取信息处理费。"})
    finding = only(record, "text.fees_vs_section6")
    assert finding.status == "not_assessable" and "信息处理费" in finding.message


def test_part_six_without_a_fee_statement_makes_no_finding() -> None:
    for six in ("无。", "全年没有发生与诉讼有关的费用支出。", "本年度无其他需要报告的事项。"):
        assert findings_of(run(_legacy_fees(0.04, six)), "text.fees_vs_section6") == {}, six


# --- xyear.copied_text / xyear.copied_tables ---------------------------------------------------------------

_TEXT_2019 = (
    "2019年，本局认真贯彻落实《中华人民共和国政府信息公开条例》，围绕重点领域信息公开、政策解读和回应关切，"
    "不断完善工作机制，加强平台建设，主动公开各类政府信息{n}条，较好地保障了公众的知情权、参与权和监督权。"
    "全年组织业务培训{n}次，对各科室信息员进行了系统培训，进一步提升了工作人员的业务能力和服务水平。"
    "同时加强政府网站和政务新媒体的日常监测，按季度通报检查情况，督促整改存在的问题，确保信息发布及时准确。"
)
_TEXT_OTHER = (
    "2020年，本局以优化营商环境为主线，聚焦市场主体关切，集中发布惠企政策清单，建立政策兑现专栏，"
    "对涉企收费、行政许可和双随机抽查结果实行全流程公开。依申请公开方面修订了办理规程，统一答复文书格式，"
    "引入第三方评估，对答复质量逐件评查，并将评查结果纳入年度绩效考核，推动依法公开、规范公开。"
    "在平台建设上完成了门户网站集约化迁移，上线智能问答和无障碍浏览功能，公开专区覆盖全部乡镇街道。"
)


# The texts above are about 150 characters of wording each; real reports have thousands.
SHORT_TEXTS = Thresholds(copied_text_min_chars=100)


def _yearly(year: int, text: str, **fields: Any) -> Record:
    return make_record(year=year, agency={"name": "示例局"}, source={"url": f"http://x.gov.cn/{year}.html"},
                       sections={"一": text, "五": "无"}, **fields)  # fmt: skip


def test_copied_text_fails_when_only_the_figures_changed() -> None:
    previous = _yearly(2019, _TEXT_2019.format(n=150))
    record = _yearly(2020, _TEXT_2019.format(n=230).replace("2019年", "2020年"))
    finding = only(record, "xyear.copied_text", previous=previous, thresholds=SHORT_TEXTS)
    assert finding.status == "fail" and finding.lhs == 1.0 and finding.rhs == DEFAULT_THRESHOLDS.copied_text_similarity
    assert "http://x.gov.cn/2020.html" in finding.message and "http://x.gov.cn/2019.html" in finding.message


def test_rewritten_text_passes() -> None:
    previous = _yearly(2019, _TEXT_2019.format(n=1))
    finding = only(_yearly(2020, _TEXT_OTHER), "xyear.copied_text", previous=previous, thresholds=SHORT_TEXTS)
    assert finding.status == "pass" and finding.lhs is not None and finding.lhs < 0.2


def test_copied_text_threshold_and_minimum_length_are_settings() -> None:
    previous, record = _yearly(2019, _TEXT_2019.format(n=1)), _yearly(2020, _TEXT_OTHER)
    score = only(record, "xyear.copied_text", previous=previous, thresholds=SHORT_TEXTS).lhs
    assert score is not None and score > 0  # a few shingles in common (政府信息, 政务新媒体 …)
    strict = Thresholds(copied_text_similarity=float(score), copied_text_min_chars=100)
    assert only(record, "xyear.copied_text", previous=previous, thresholds=strict).status == "fail"
    short = only(_yearly(2020, "本年度工作正常开展。"), "xyear.copied_text", previous=previous)
    assert short.status == "not_assessable" and "fewer than 300" in short.message


def test_copy_rules_need_the_previous_year_of_the_same_format() -> None:
    assert findings_of(run(_yearly(2020, _TEXT_OTHER)), "xyear.copied_text") == {}
    assert findings_of(run(_yearly(2020, _TEXT_OTHER)), "xyear.copied_tables") == {}
    two_back = _yearly(2018, _TEXT_OTHER)
    assert only(_yearly(2020, _TEXT_OTHER), "xyear.copied_text", previous=two_back).status == "not_assessable"
    assert only(_yearly(2020, _TEXT_OTHER), "xyear.copied_tables", previous=two_back).status == "not_assessable"
    legacy = make_record(generation="legacy", year=2019, sections={"一": _TEXT_OTHER})
    evaluation = run(_yearly(2020, _TEXT_OTHER), previous=legacy)
    assert not [f for f in evaluation.findings if f.rule.startswith("xyear.copied")]


def test_identical_tables_fail_and_one_changed_value_passes() -> None:
    previous = _yearly(2019, _TEXT_OTHER)
    finding = only(_yearly(2020, _TEXT_OTHER), "xyear.copied_tables", previous=previous)
    assert (finding.status, finding.lhs, finding.rhs) == ("fail", 3, 3)
    assert "示例局 2019" in finding.message and "示例局 2020" in finding.message
    changed = {**modern_tables(), "active": with_values(active_table(), licensing__decisions=501)}
    finding = only(_yearly(2020, _TEXT_OTHER, tables=changed), "xyear.copied_tables", previous=previous)
    assert (finding.status, finding.lhs) == ("pass", 2)
    assert "(requests, review_litigation)" in finding.message


def test_all_zero_tables_repeating_is_not_evidence_of_a_copy() -> None:
    zeros = {name: dict.fromkeys(values, 0) for name, values in modern_tables().items()}
    finding = only(_yearly(2020, _TEXT_OTHER, tables=zeros), "xyear.copied_tables",
                   previous=_yearly(2019, _TEXT_OTHER, tables=zeros))  # fmt: skip
    assert finding.status == "not_assessable"


def test_similarity_is_symmetric_and_bounded() -> None:
    assert similarity("政府信息公开工作", "政府信息公开工作") == 1.0
    assert similarity("政府信息公开工作", "") == 0.0
    a, b = "政府信息公开工作年度报告", "政府信息公开工作要点"
    assert 0 < similarity(a, b) == similarity(b, a) < 1


# --- thresholds reach the rules from the settings ----------------------------------------------------------


def test_settings_defaults_are_the_rule_defaults_and_env_overrides_them(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ValidatorSettings().rule_thresholds() == DEFAULT_THRESHOLDS
    monkeypatch.setenv("NIANBAO_BLANK_CELLS_MAX_REQUESTS", "3")
    monkeypatch.setenv("NIANBAO_COPIED_TEXT_SIMILARITY", "0.5")
    thresholds = ValidatorSettings().rule_thresholds()
    assert (thresholds.blank_cells_requests, thresholds.copied_text_similarity) == (3, 0.5)
    finding = findings_of(evaluate(_blank_requests(4, 0), thresholds=thresholds), "quality.blank_cells")
    assert finding["requests"].status == "not_assessable"
