"""End to end across real processes: three `nianbao worker` processes on Redis and PostgreSQL crawl the
local portal over HTTP; the reports, values and findings land in PostgreSQL and every worker's metrics
endpoint counts them (summed over its prefork children)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import func, select

from nianbao.app.cli import demo_registry
from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.server import DevPortal
from nianbao.devportal.urls import article_path
from nianbao.shared.db import session_scope
from nianbao.shared.models import FINDING_ALL, Fetch, FindingRow, Report, ReportValue, TaskFailure

from integration_support import Stack, metric_value, wait_until

pytestmark = pytest.mark.integration


def _counts(url: str) -> tuple[int, int, int]:
    with session_scope(url) as s:
        return (
            s.exec(select(func.count()).select_from(Report)).one(),
            s.exec(select(func.count()).select_from(FINDING_ALL)).one(),
            s.exec(select(func.count()).select_from(Fetch)).one(),
        )


def test_workers_crawl_parse_validate_into_postgres(
    stack_factory: Callable[[dict[str, object]], Stack], postgres_url: str
) -> None:
    with DevPortal() as portal:
        stack = stack_factory(demo_registry(portal.column_url))
        stack.cli("db", "upgrade")
        for service in ("crawler", "parser", "validator"):
            stack.start_worker(service, concurrency=2)
        stack.wait_ready()

        stack.cli("run")  # enqueues one crawl per site, because NIANBAO_BROKER_URL is set
        n = len(REPORTS)
        wait_until(
            lambda: metric_value(stack.metrics("validator"), "nianbao_validator_tasks_total", outcome="ok") >= n,
            timeout=120,
            message=lambda: (
                f"reports/findings/fetches={_counts(postgres_url)}\n{stack.log_tail('crawler')}\n"
                f"{stack.log_tail('parser')}\n{stack.log_tail('validator')}"
            ),
        )

        with session_scope(postgres_url) as s:
            reports = {r.url: r for r in s.exec(select(Report)).all()}
            assert len(reports) == n
            assert s.exec(select(TaskFailure)).all() == []
            for spec in REPORTS:
                report = next(
                    r for r in reports.values() if r.url.endswith(article_path(spec.publish_date, spec.doc_id))
                )
                assert (report.agency, report.year, report.generation) == (spec.agency, spec.year, spec.generation)
                stored = {
                    (v.table_name, v.key): v.value
                    for v in s.exec(select(ReportValue).where(ReportValue.report_id == report.id))
                }
                for table, values in spec.expected_tables().items():
                    for key, value in values.items():
                        assert stored[(table, key)] == (None if value is None else float(value)), (spec.id, table, key)
                failing = {
                    (f.rule, f.location or None)
                    for f in s.exec(
                        select(FindingRow).where(FindingRow.report_id == report.id, FindingRow.status == "fail")
                    )
                }
                for rule, where in spec.expected_failing_rules():
                    assert (rule, where) in failing, (spec.id, failing)
            balance_failures = s.exec(
                select(FindingRow).where(FindingRow.rule == "requests.balance", FindingRow.status == "fail")
            ).all()
        expected_balance = sum(
            1 for spec in REPORTS for rule, _ in spec.expected_failing_rules() if rule == "requests.balance"
        )
        assert len(balance_failures) == expected_balance >= 1

        parser_metrics = stack.metrics("parser")
        assert metric_value(parser_metrics, "nianbao_parser_reports_parsed_total") == n
        validator_metrics = stack.metrics("validator")
        assert (
            metric_value(validator_metrics, "nianbao_validator_findings_total", rule="requests.balance", status="fail")
            == expected_balance
        )
        assert metric_value(validator_metrics, "nianbao_validator_reports_validated_total") == n
        crawler_metrics = stack.metrics("crawler")
        assert metric_value(crawler_metrics, "nianbao_crawler_tasks_total", outcome="ok") == 1

        # A recrawl from the CLI bypasses the freshness caches and produces new fetches.
        _, _, fetches_before = _counts(postgres_url)
        stack.cli("recrawl", "demo")
        wait_until(
            lambda: metric_value(stack.metrics("crawler"), "nianbao_crawler_tasks_total", outcome="ok") >= 2,
            timeout=120,
            message=lambda: stack.log_tail("crawler"),
        )
        reports_after, _, fetches_after = _counts(postgres_url)
        assert fetches_after > fetches_before
        assert reports_after == n  # the same pages again: no duplicate reports
