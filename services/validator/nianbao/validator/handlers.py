"""The validator's unit of work: check one parsed record, store it with its findings, update metrics."""

from __future__ import annotations

import time

from pydantic import ValidationError

from nianbao.shared.contracts import ReportParsed
from nianbao.shared.db import session_scope
from nianbao.shared.errors import PermanentError
from nianbao.shared.record import Record
from nianbao.validator import metrics
from nianbao.validator.rules import evaluate
from nianbao.validator.settings import ValidatorSettings
from nianbao.validator.store import StoreResult, previous_record, site_summary, store_validated


def handle_report_parsed(message: ReportParsed, settings: ValidatorSettings) -> StoreResult:
    """Validate ``message.record`` and upsert report, values and findings. Idempotent."""
    try:
        record = Record.model_validate(message.record)
    except ValidationError as exc:
        raise PermanentError(f"record of {message.url} does not match the canonical record: {exc}") from exc
    started = time.perf_counter()
    with session_scope(settings.resolved_database_url()) as session:
        previous = previous_record(session, agency=record.agency.name, year=record.year.value, exclude_url=message.url)
        evaluation = evaluate(
            record, previous=previous, extra_hosts=settings.extra_allowed_hosts, thresholds=settings.rule_thresholds()
        )
        result = store_validated(
            session,
            site_id=message.site_id,
            url=message.url,
            raw_key=message.raw_key,
            record=record,
            findings=evaluation.findings,
            rules_version=evaluation.rules_version,
            blank_policy=evaluation.blank_policy,
        )
        with_errors, newest_year = site_summary(session, message.site_id)
    metrics.VALIDATION_SECONDS.observe(time.perf_counter() - started)
    generation = record.generation.value or "unknown"
    metrics.REPORTS_VALIDATED.labels(generation, "failing" if result.failing_errors else "clean").inc()
    for finding in evaluation.findings:
        metrics.FINDINGS.labels(finding.rule, finding.severity, finding.status).inc()
    metrics.REPORTS_WITH_ERRORS.labels(message.site_id).set(with_errors)
    if newest_year is not None:
        metrics.NEWEST_YEAR.labels(message.site_id).set(newest_year)
    return result
