"""The validator's unit of work: check one parsed record, store it with its findings, update metrics."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from pydantic import ValidationError
from sqlmodel import Session

from nianbao.shared.contracts import ReportParsed
from nianbao.shared.db import session_scope
from nianbao.shared.errors import PermanentError
from nianbao.shared.record import Finding, Record
from nianbao.validator import metrics
from nianbao.validator.rules import evaluate
from nianbao.validator.settings import ValidatorSettings
from nianbao.validator.store import NewReportWrite, StoreResult, finish_store, prepare_store, previous_record


@dataclass(frozen=True)
class CheckedReport:
    """A report checked against the rules and stored, or ready to be: ``stored`` is the store's result, or
    the new report's statement still to execute in the same transaction (see :func:`check_report`)."""

    message: ReportParsed
    record: Record
    findings: list[Finding]
    stored: StoreResult | NewReportWrite


def handle_report_parsed(
    message: ReportParsed, settings: ValidatorSettings, session: Session | None = None
) -> StoreResult:
    """Validate ``message.record`` and upsert report, values and findings. Idempotent.

    In its own transaction, or in ``session`` when given (a caller batching several reports per commit,
    e.g. ``nianbao reparse``; the caller commits, and the metrics count the report already then)."""
    started = time.perf_counter()
    if session is None:
        with session_scope(settings.resolved_database_url()) as own:
            checked, result = _check_and_store(own, message, settings)
    else:
        checked, result = _check_and_store(session, message, settings)
    count_stored(checked, result, seconds=time.perf_counter() - started)
    return result


def _check_and_store(
    session: Session, message: ReportParsed, settings: ValidatorSettings
) -> tuple[CheckedReport, StoreResult]:
    checked = check_report(session, message, settings)
    return checked, finish_store(session, checked.stored)


def check_report(session: Session, message: ReportParsed, settings: ValidatorSettings) -> CheckedReport:
    """Evaluate the rules on ``message``'s record and store it in ``session``'s transaction, except a new
    report on PostgreSQL, whose one statement is returned unexecuted (the caller executes it, then commits).
    Raises :class:`PermanentError` for a record that does not match the canonical record."""
    try:
        record = message.parsed_record()  # validated here unless the parser handed its object over in process
    except ValidationError as exc:
        raise PermanentError(f"record of {message.url} does not match the canonical record: {exc}") from exc
    previous, unreadable = None, None
    try:
        previous = previous_record(session, agency=record.agency.name, year=record.year.value, exclude_url=message.url)
    except ValidationError as exc:
        # Stored by an older parser whose record no longer validates: this report is still checked and stored;
        # its cross-year rules say why they could not run (findings, so the database and metrics show it).
        unreadable = (
            f"the {record.year.value - 1 if record.year.value else '?'} report stored for this agency does not "
            f"match the canonical record ({exc.error_count()} errors); re-parse it with `nianbao reparse`"
        )
    evaluation = evaluate(
        record,
        previous=previous,
        previous_unreadable=unreadable,
        extra_hosts=settings.extra_allowed_hosts,
        thresholds=settings.rule_thresholds(),
    )
    stored = prepare_store(
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
    return CheckedReport(message, record, list(evaluation.findings), stored)


def count_stored(checked: CheckedReport, result: StoreResult, *, seconds: float) -> None:
    """Update the metrics for a report whose store is committed (``result``): the ``seconds`` its check and
    store took, its findings, and the site's gauges as the store's transaction left them."""
    metrics.VALIDATION_SECONDS.observe(seconds)
    generation = checked.record.generation.value or "unknown"
    metrics.REPORTS_VALIDATED.labels(generation, "failing" if result.failing_errors else "clean").inc()
    # One labels() lookup per (rule, severity, status), not per finding: a rule checked on every row of a
    # table yields dozens of findings with the same labels.
    for labels, count in Counter((f.rule, f.severity, f.status) for f in checked.findings).items():
        metrics.FINDINGS.labels(*labels).inc(count)
    # From the site's gauge row (kept by delta in the store's transaction): no aggregate over the site.
    site_id = checked.message.site_id
    metrics.REPORTS_WITH_ERRORS.labels(site_id).set(result.site_reports_with_errors)
    if result.site_newest_year is not None:
        metrics.NEWEST_YEAR.labels(site_id).set(result.site_newest_year)
