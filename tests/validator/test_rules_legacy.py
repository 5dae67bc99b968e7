"""legacy.* rules on a hand-written 统计表 (values modelled on seed 002, with its blanks filled in)."""

from __future__ import annotations

import pytest
from validator.fixtures_rules import cell, failing, findings_of, legacy_table, make_record, run, verdicts

from nianbao.shared.record import Cell, Number, Record

SUM_RULES = {
    "legacy.received_channels": ("requests_received", "requests_fax"),
    "legacy.completed_split": ("requests_completed", "completed_extended"),
    "legacy.answers_sum": ("answers_total", "answers_not_exist"),
    "legacy.refusal_reasons": ("answers_denied", "denied_privacy"),
    "legacy.review_sum": ("review_total", "review_corrected"),
    "legacy.litigation_sum": ("litigation_total", "litigation_other"),
    "legacy.staff_sum": ("staff_total", "staff_parttime"),
}


def _record(cells: list[Cell] | None = None, **changes: Number | None) -> Record:
    table = legacy_table()
    for key, value in changes.items():
        assert key in table, key
        table[key] = value
    return make_record(generation="legacy", year=2018, tables={"legacy": table}, cells=cells or [])


def test_consistent_table_passes_every_legacy_rule() -> None:
    evaluation = run(_record())
    legacy_findings = [f for f in evaluation.findings if f.rule.startswith("legacy.")]
    assert {f.status for f in legacy_findings} == {"pass"}
    assert {f.rule for f in legacy_findings} == {*SUM_RULES, "legacy.of_which", "legacy.channel_le_total",
                                                 "legacy.answered_le_received"}  # fmt: skip
    assert not [f for f in evaluation.findings if f.rule.startswith(("requests.", "active", "review"))]


@pytest.mark.parametrize(("rule", "parent_child"), SUM_RULES.items())
def test_sum_rules_fail_with_the_parent_as_where(rule: str, parent_child: tuple[str, str]) -> None:
    parent, child = parent_child
    grown = (legacy_table()[child] or 0) + 2
    evaluation = run(_record(**{child: grown}))  # one child grows by 2, the parent does not
    found = findings_of(evaluation, rule)[parent]
    assert found.status == "fail"
    assert found.lhs is not None and found.rhs is not None and found.delta == 2
    assert found.cells[-1] == f"legacy.{parent}"
    assert failing(evaluation) >= {(rule, parent)}


@pytest.mark.parametrize(("rule", "parent_child"), SUM_RULES.items())
def test_sum_rules_not_assessable_with_missing_parent(rule: str, parent_child: tuple[str, str]) -> None:
    parent, _ = parent_child
    evaluation = run(_record(cells=[cell("legacy", parent, None, "missing")], **{parent: None}))
    assert verdicts(evaluation, rule)[parent] == "not_assessable"


def test_severities() -> None:
    evaluation = run(_record())
    assert findings_of(evaluation, "legacy.refusal_reasons")["answers_denied"].severity == "warn"
    assert findings_of(evaluation, "legacy.staff_sum")["staff_total"].severity == "error"


def test_of_which_per_child_row() -> None:
    evaluation = run(_record(online_interviews_leaders=5))  # 5 > 4 online interviews in total
    of_which = verdicts(evaluation, "legacy.of_which")
    assert of_which == {
        "active_normative": "pass",
        "press_conferences_leaders": "pass",
        "online_interviews_leaders": "fail",
    }


def test_channel_le_total_per_channel_while_the_sum_may_exceed() -> None:
    # 5078 on the website and 3000 by weibo: more than 5078 in sum, which is allowed; each channel is not.
    evaluation = run(_record(channel_weibo=3000, channel_gazette=6000))
    channels = verdicts(evaluation, "legacy.channel_le_total")
    assert channels == {
        "channel_gazette": "fail",
        "channel_website": "pass",
        "channel_weibo": "pass",
        "channel_wechat": "pass",
        "channel_other": "pass",
    }


def test_answered_le_received() -> None:
    evaluation = run(_record(requests_completed=5, completed_on_time=5))
    assert verdicts(evaluation, "legacy.answered_le_received") == {
        "requests_completed": "fail",
        "answers_total": "pass",
    }
    assert verdicts(evaluation, "legacy.completed_split")["requests_completed"] == "pass"
