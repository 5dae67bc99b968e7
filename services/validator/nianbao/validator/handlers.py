"""The validator's unit of work: check one parsed record, store it with its findings, update metrics."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from nianbao.shared.contracts import ReportParsed
from nianbao.shared.db import session_scope
from nianbao.shared.errors import PermanentError
from nianbao.shared.record import Finding, Record
from nianbao.validator import metrics
from nianbao.validator.reads import BatchReads, BatchReport, ReportKey, previous_record, read_batch
from nianbao.validator.rules import RULES_VERSION, evaluate
from nianbao.validator.settings import ValidatorSettings
from nianbao.validator.store import (
    GaugeChanges,
    NewReportWrite,
    StoreResult,
    content_sha256,
    execute_new_reports,
    finish_store,
    prepare_store,
)

log = logging.getLogger(__name__)


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


def store_batch(payloads: Sequence[Any], settings: ValidatorSettings) -> list[bool]:
    """Check and store the reports of several ``ReportParsed`` payloads in one transaction (the validator
    worker's batches, see ``nianbao.shared.batching``). Idempotent, as :func:`handle_report_parsed`.

    Answers, per payload, True when its report is stored and committed, False for a payload the worker must
    run alone, through the task and its usual handling: one that is not a valid message (None included: a
    body that did not read), and every payload when the transaction fails (a permanent error in one record,
    the database away, a deadlock with another writer). Metrics count only what was committed."""
    messages: list[ReportParsed | None] = []
    for payload in payloads:
        try:
            messages.append(ReportParsed.model_validate(payload) if payload is not None else None)
        except ValidationError:
            messages.append(None)
    valid = [message for message in messages if message is not None]
    if not valid:
        metrics.BATCHES.labels("alone").inc()
        return [False] * len(payloads)
    # In site, then address order: rows that two batches both write (a report sent twice) are then locked in
    # one order by both, so they queue instead of deadlocking; the gauges are written in site order too.
    valid.sort(key=lambda message: (message.site_id, message.url))
    started = time.perf_counter()
    gauges = GaugeChanges()  # written once per site at the end: the gauge rows are held only then
    try:
        with session_scope(settings.resolved_database_url()) as session:
            stored = _store_in_order(session, valid, settings, gauges)
            site_gauges = gauges.apply(session)
    except Exception as exc:  # each message runs alone: its own retries, or its failure record
        metrics.BATCHES.labels("alone").inc()
        # The exception's first line only: a database error's text goes on with the statement and its parameters.
        log.warning("a batch of %d reports was not stored (%s: %s); each runs alone",
                    len(valid), type(exc).__name__, str(exc).partition("\n")[0][:300])  # fmt: skip
        return [False] * len(payloads)
    seconds = (time.perf_counter() - started) / len(valid)
    for checked, result in stored:
        with_errors, newest = site_gauges[checked.message.site_id]
        count_stored(checked, replace(result, site_reports_with_errors=with_errors, site_newest_year=newest),
                     seconds=seconds)  # fmt: skip
    metrics.BATCHES.labels("stored").inc()
    metrics.TASKS.labels("ok").inc(len(valid))
    return [message is not None for message in messages]


def _store_in_order(
    session: Session, messages: list[ReportParsed], settings: ValidatorSettings, gauges: GaugeChanges
) -> list[tuple[CheckedReport, StoreResult]]:
    """Check and store ``messages`` in this order in ``session``'s transaction, with the outcome of one at a
    time, in fewer statements: what they read is read ahead for all (``reads.read_batch``: two statements),
    and the new reports are written together (one statement), except that a report reading in its turn
    (what a batch-mate may write) first has the new reports before it written."""
    batch = [_batch_report(message) for message in messages]
    reads = read_batch(session, batch)
    stored: list[tuple[CheckedReport, StoreResult]] = []
    new: list[tuple[CheckedReport, NewReportWrite]] = []
    for message, report in zip(messages, batch, strict=True):
        if new and not reads.complete(report):
            stored += _write_new(session, new)
            new = []
        checked = check_report(session, message, settings, gauges, reads)
        if isinstance(checked.stored, NewReportWrite):
            new.append((checked, checked.stored))
        else:
            stored.append((checked, checked.stored))
    return stored + _write_new(session, new)


def _write_new(
    session: Session, new: list[tuple[CheckedReport, NewReportWrite]]
) -> list[tuple[CheckedReport, StoreResult]]:
    results = execute_new_reports(session, [write for _checked, write in new])
    return [(checked, result) for (checked, _write), result in zip(new, results, strict=True)]


def _batch_report(message: ReportParsed) -> BatchReport:
    """What a batch reads ahead for ``message``'s report (see ``reads.read_batch``)."""
    record = _record(message)
    key = ReportKey(
        message.site_id, message.url, content_sha256(record, message.raw_key), record.parser_version, RULES_VERSION
    )
    return BatchReport(key, record.agency.name, record.year.value)


def _record(message: ReportParsed) -> Record:
    """The message's record, validated once (unless the parser handed its object over in process)."""
    try:
        return message.parsed_record()
    except ValidationError as exc:
        raise PermanentError(f"record of {message.url} does not match the canonical record: {exc}") from exc


def _check_and_store(
    session: Session, message: ReportParsed, settings: ValidatorSettings
) -> tuple[CheckedReport, StoreResult]:
    checked = check_report(session, message, settings)
    return checked, finish_store(session, checked.stored)


def check_report(
    session: Session,
    message: ReportParsed,
    settings: ValidatorSettings,
    gauges: GaugeChanges | None = None,
    reads: BatchReads | None = None,
) -> CheckedReport:
    """Evaluate the rules on ``message``'s record and store it in ``session``'s transaction, except a new
    report on PostgreSQL, whose one statement is returned unexecuted (the caller executes it, then commits).
    With ``gauges`` the site's gauge change is added there, for the caller to apply before committing; with
    ``reads``, what the report's batch read ahead for it is taken from there.
    Raises :class:`PermanentError` for a record that does not match the canonical record."""
    record = _record(message)
    previous, unreadable = None, None
    try:
        previous = previous_record(
            session, agency=record.agency.name, year=record.year.value, exclude_url=message.url, reads=reads
        )
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
        gauges=gauges,
        reads=reads,
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
