"""The validator's unit of work: check one parsed record, store it with its findings, update metrics."""

from __future__ import annotations

import time
from collections import Counter

from pydantic import ValidationError
from sqlmodel import Session

from nianbao.shared.contracts import ReportParsed
from nianbao.shared.db import session_scope
from nianbao.shared.errors import PermanentError
from nianbao.shared.record import Finding, Record
from nianbao.validator import metrics
from nianbao.validator.rules import evaluate
from nianbao.validator.settings import ValidatorSettings
from nianbao.validator.store import StoreResult, previous_record, store_validated


def handle_report_parsed(
    message: ReportParsed, settings: ValidatorSettings, session: Session | None = None
) -> StoreResult:
    """Validate ``message.record`` and upsert report, values and findings. Idempotent.

    In its own transaction, or in ``session`` when given (a caller batching several reports per commit,
    e.g. ``nianbao reparse``; the caller commits, and the metrics count the report already then)."""
    try:
        record = message.parsed_record()  # validated here unless the parser handed its object over in process
    except ValidationError as exc:
        raise PermanentError(f"record of {message.url} does not match the canonical record: {exc}") from exc
    started = time.perf_counter()
    if session is None:
        with session_scope(settings.resolved_database_url()) as own:
            result, findings = _validate_and_store(own, message, record, settings)
    else:
        result, findings = _validate_and_store(session, message, record, settings)
    metrics.VALIDATION_SECONDS.observe(time.perf_counter() - started)
    generation = record.generation.value or "unknown"
    metrics.REPORTS_VALIDATED.labels(generation, "failing" if result.failing_errors else "clean").inc()
    # One labels() lookup per (rule, severity, status), not per finding: a rule checked on every row of a
    # table yields dozens of findings with the same labels.
    for labels, count in Counter((f.rule, f.severity, f.status) for f in findings).items():
        metrics.FINDINGS.labels(*labels).inc(count)
    # From the site's gauge row (kept by delta in the store's transaction): no aggregate over the site.
    metrics.REPORTS_WITH_ERRORS.labels(message.site_id).set(result.site_reports_with_errors)
    if result.site_newest_year is not None:
        metrics.NEWEST_YEAR.labels(message.site_id).set(result.site_newest_year)
    return result


def _validate_and_store(
    session: Session, message: ReportParsed, record: Record, settings: ValidatorSettings
) -> tuple[StoreResult, list[Finding]]:
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
        record_json=message.record,
    )
    return result, list(evaluation.findings)
