"""Parser metrics, declared once. Labels are bounded: generations and outcomes are enumerations, warning
codes come from :data:`nianbao.parser.warning_codes.WARNING_CODES` (anything else is counted as
``other``). Import this module only in processes that have set up Prometheus multiprocess mode."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REPORTS_PARSED = Counter(
    "nianbao_parser_reports_parsed_total",
    "Pages parsed, by format generation (legacy | gen2019 | gen2021 | unknown) and outcome "
    "(clean | warnings | unusable | blob_missing).",
    ["generation", "outcome"],
)
WARNINGS = Counter(
    "nianbao_parser_warnings_total",
    "Warnings put into parsed records, by warning code.",
    ["code"],
)
PARSE_SECONDS = Histogram(
    "nianbao_parser_parse_seconds",
    "Time to parse one page into its record.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DOCUMENTS = Counter(
    "nianbao_parser_documents_total",
    "Documents read (the page itself or an attachment), by format (html | text | pdf | docx | xlsx | doc | rtf "
    "| xls | ofd | image | archive | office_other) and outcome (tables | no_tables | scanned | converter_missing "
    "| unsupported_format | unusable).",
    ["format", "outcome"],
)
TASKS = Counter("nianbao_parser_tasks_total", "Parser task runs by outcome.", ["outcome"])
