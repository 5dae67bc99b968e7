"""The corpus through a real validator worker: exact counter values on its metrics endpoint.

Each seed of ../shared/corpus is parsed here and sent as a ReportParsed message to the validator queue;
a `nianbao worker validator` process (two prefork children) validates and stores them. The expected
counters come from the seeds' expected.json (`expected_findings`, generation), not from the code."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from nianbao.parser.extract import parse_file
from nianbao.shared.bus import CeleryPublisher
from nianbao.shared.celery_app import make_celery
from nianbao.shared.contracts import ReportParsed
from nianbao.shared.rawstore import RawStore

from integration_support import Stack, metric_value, wait_until

pytestmark = pytest.mark.integration


def test_validator_worker_counts_corpus_findings_exactly(
    stack_factory: Callable[[dict[str, object]], Stack], corpus_dir: Path
) -> None:
    stack = stack_factory({"version": 1, "sites": []})
    stack.cli("db", "upgrade")
    stack.start_worker("validator", concurrency=2)
    stack.wait_ready()
    seeds = sorted((corpus_dir / "seeds").glob("*.txt"))
    expected = [json.loads(p.with_suffix(".expected.json").read_text(encoding="utf-8")) for p in seeds]
    store = RawStore(stack.data_dir / "raw")
    publisher = CeleryPublisher(make_celery("nianbao-test", stack.env["NIANBAO_BROKER_URL"]))
    for path in seeds:
        record = parse_file(path)
        key = store.put(path.read_bytes())
        publisher.publish(ReportParsed(site_id="corpus", url=f"file:///{path.name}", raw_key=key,
                                       record=record.model_dump(mode="json")))  # fmt: skip

    wait_until(
        lambda: metric_value(stack.metrics("validator"), "nianbao_validator_tasks_total", outcome="ok") >= len(seeds),
        timeout=60,
        message=lambda: stack.log_tail("validator"),
    )
    text = stack.metrics("validator")
    failing = Counter(f["rule"] for e in expected for f in e["expected_findings"])
    assert sum(failing.values()) == 5  # seed 001's five failures; the other seeds have none
    for rule, count in failing.items():
        assert metric_value(text, "nianbao_validator_findings_total", rule=rule, status="fail") == count, rule
    assert metric_value(text, "nianbao_validator_findings_total", status="fail") == sum(failing.values())
    generations = Counter(e["generation"]["value"] for e in expected)
    for generation, count in generations.items():
        assert metric_value(text, "nianbao_validator_reports_validated_total", generation=generation) == count
    with_errors = sum(1 for e in expected if any(f["rule"].startswith("requests.") for f in e["expected_findings"]))
    assert metric_value(text, "nianbao_validator_reports_validated_total", outcome="failing") == with_errors
    assert metric_value(text, "nianbao_validator_reports_with_errors", site="corpus") == with_errors
    newest = max(e["year"]["value"] for e in expected)
    assert metric_value(text, "nianbao_validator_newest_report_year", site="corpus") == newest
    assert metric_value(text, "nianbao_validator_validation_seconds_count") == len(seeds)
