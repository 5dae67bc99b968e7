"""Validator metrics, declared once. Labels are bounded: rule ids and severities come from the catalogue,
generations and statuses are enumerations, site ids come from the site registry."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REPORTS_VALIDATED = Counter(
    "nianbao_validator_reports_validated_total",
    "Reports validated, by format generation and outcome (clean | failing).",
    ["generation", "outcome"],
)
FINDINGS = Counter(
    "nianbao_validator_findings_total",
    "Findings produced by validation runs, by rule, severity and status.",
    ["rule", "severity", "status"],
)
REPORTS_WITH_ERRORS = Gauge(
    "nianbao_validator_reports_with_errors",
    "Stored reports of a site with at least one failing error-severity rule (as of the last validation).",
    ["site"],
    multiprocess_mode="mostrecent",
)
NEWEST_YEAR = Gauge(
    "nianbao_validator_newest_report_year",
    "Newest covered year among a site's stored reports.",
    ["site"],
    multiprocess_mode="max",
)
VALIDATION_SECONDS = Histogram(
    "nianbao_validator_validation_seconds",
    "Time to evaluate the rules and store one report.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TASKS = Counter("nianbao_validator_tasks_total", "Validator task runs by outcome.", ["outcome"])
BATCHES = Counter(
    "nianbao_validator_batches_total",
    "Batches of ReportParsed messages run as one job, by outcome: stored (one transaction for all its valid "
    "messages) or alone (not stored together: each of its messages then runs as its own task).",
    ["outcome"],
)
BATCH_OUTCOMES = ("stored", "alone")
