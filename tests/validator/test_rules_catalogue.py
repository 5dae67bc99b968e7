"""The catalogue as data, its version, and the engine's contract (one finding per rule instance)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from validator.fixtures_rules import make_record, modern_tables, run

from nianbao.validator.rules import CATALOGUE, RULES_VERSION, Evaluation, RuleSpec, evaluate
from nianbao.validator.rules.catalogue import catalogue_version

# report-format.md §3.2, transcribed by hand: id → (severity, generations)
MODERN = {"gen2019", "gen2021"}
ALL = {"legacy", "gen2019", "gen2021"}
SPEC_TABLE: dict[str, tuple[str, set[str]]] = {
    "requests.balance": ("error", MODERN),
    "requests.row_total": ("error", MODERN),
    "requests.results_sum": ("error", MODERN),
    "requests.other_split": ("error", {"gen2021"}),
    "requests.nonneg_int": ("error", MODERN),
    "requests.shape": ("error", MODERN),
    "review.total": ("error", MODERN),
    "litigation.direct_total": ("error", MODERN),
    "litigation.after_review_total": ("error", MODERN),
    "reviewlit.nonneg_int": ("error", MODERN),
    "active.nonneg": ("error", ALL),
    "active19.delta_floor": ("error", {"gen2019"}),
    "active19.new_le_total": ("warn", {"gen2019"}),
    "active19.money_unit": ("warn", {"gen2019"}),
    "active21.fee_unit": ("info", {"gen2021"}),
    "active21.valid_plausible": ("warn", {"gen2021"}),
    "legacy.received_channels": ("error", {"legacy"}),
    "legacy.completed_split": ("error", {"legacy"}),
    "legacy.answers_sum": ("error", {"legacy"}),
    "legacy.refusal_reasons": ("warn", {"legacy"}),
    "legacy.review_sum": ("error", {"legacy"}),
    "legacy.litigation_sum": ("error", {"legacy"}),
    "legacy.staff_sum": ("error", {"legacy"}),
    "legacy.of_which": ("warn", {"legacy"}),
    "legacy.channel_le_total": ("warn", {"legacy"}),
    "legacy.answered_le_received": ("warn", {"legacy"}),
    "text.requests_new": ("warn", ALL),
    "text.requests_done": ("warn", ALL),
    "text.reviewlit": ("warn", ALL),
    "text.zero_claim": ("warn", ALL),
    "text.offsite_url": ("warn", ALL),
    "xyear.carry": ("warn", MODERN),
    "xyear.items19": ("warn", {"gen2019"}),
    "xyear.valid21": ("warn", {"gen2021"}),
    "meta.generation_year": ("warn", ALL),
    "meta.period_year": ("warn", ALL),
    "meta.publish_window": ("warn", MODERN),
    "meta.index_year": ("info", ALL),
}
# Beyond the spec: what the report's sources gave (issue 9: tables read from attachments).
SOURCE_RULES: dict[str, tuple[str, set[str]]] = {
    "report.no_tables": ("error", ALL),
    "source.page_attachment_mismatch": ("warn", ALL),
}
# Beyond the spec: what a peer tool checks, and copies across years (issue 14; test_rules_peers.py).
PEER_RULES: dict[str, tuple[str, set[str]]] = {
    "text.requests_carried_in": ("warn", ALL),
    "text.requests_carried_out": ("warn", ALL),
    "text.requests_received": ("warn", ALL),
    "text.section5_empty": ("warn", MODERN),
    "text.fees_vs_section6": ("warn", ALL),
    "structure.table_missing": ("error", MODERN),
    "quality.blank_cells": ("info", ALL),
    "xyear.copied_text": ("warn", ALL),
    "xyear.copied_tables": ("warn", ALL),
}


def test_catalogue_matches_the_spec_table() -> None:
    assert {s.id: (s.severity, set(s.generations)) for s in CATALOGUE} == SPEC_TABLE | SOURCE_RULES | PEER_RULES
    assert len({s.id for s in CATALOGUE}) == len(CATALOGUE)
    for spec in CATALOGUE:
        assert isinstance(spec, RuleSpec)
        assert spec.description and spec.version >= 1
        assert spec.check.__doc__, f"{spec.id}: its check function documents the rule"


def test_rules_version_follows_ids_and_versions() -> None:
    assert catalogue_version(CATALOGUE) == RULES_VERSION
    assert len(RULES_VERSION) == 12
    bumped = (dataclasses.replace(CATALOGUE[0], version=CATALOGUE[0].version + 1), *CATALOGUE[1:])
    assert catalogue_version(bumped) != RULES_VERSION
    reworded = (dataclasses.replace(CATALOGUE[0], description="other words"), *CATALOGUE[1:])
    assert catalogue_version(reworded) == RULES_VERSION  # a description is not logic
    assert catalogue_version(CATALOGUE[:-1]) != RULES_VERSION


def test_findings_carry_catalogue_severity_and_version() -> None:
    evaluation = evaluate(make_record())
    assert isinstance(evaluation, Evaluation)
    assert evaluation.rules_version == RULES_VERSION
    severity = {s.id: s.severity for s in CATALOGUE}
    assert evaluation.findings
    for finding in evaluation.findings:
        assert finding.severity == severity[finding.rule]
        if finding.lhs is not None and finding.rhs is not None:
            assert finding.delta == finding.lhs - finding.rhs


def test_one_finding_per_rule_and_where_for_every_generation() -> None:
    for generation, year in (("gen2019", 2019), ("gen2021", 2021), ("legacy", 2018), (None, None)):
        record = make_record(
            generation=generation,
            year=year,
            sections={
                "preamble": "统计期限为2019年1月1日至2019年12月31日。见 http://x.gov.cn/",
                "四": "无行政复议、行政诉讼情况。",
            },
        )
        previous = make_record(generation=generation, year=None if year is None else year - 1)
        idents = [(f.rule, f.where) for f in run(record, previous=previous).findings]
        assert len(idents) == len(set(idents)), generation


def test_rules_of_other_generations_do_not_run() -> None:
    legacy = {f.rule for f in evaluate(make_record(generation="legacy", year=2018)).findings}
    assert not {r for r in legacy if r.startswith(("requests.", "review.", "active19.", "active21.", "meta.publish"))}
    gen2021 = {f.rule for f in evaluate(make_record(generation="gen2021", year=2021)).findings}
    assert "requests.other_split" in gen2021 and not {r for r in gen2021 if r.startswith("active19.")}
    unknown = {f.rule for f in evaluate(make_record(generation=None, year=None, tables=modern_tables())).findings}
    # without a generation only the rules for every generation run
    assert unknown and all(set(s.generations) == ALL for s in CATALOGUE if s.id in unknown)


def test_package_stays_pure() -> None:
    package = Path(__file__).resolve().parents[2] / "services" / "validator" / "nianbao" / "validator" / "rules"
    banned = ("celery", "sqlalchemy", "sqlmodel", "prometheus_client", "redis", "nianbao.validator.store")
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            assert not [m for m in modules if m.split(".")[0] in banned or m in banned], path
