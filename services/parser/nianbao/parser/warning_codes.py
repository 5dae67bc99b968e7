"""The stable warning codes of ``record.warnings[].code``. Dashboards and the validator may rely on them;
add codes, never rename them. ``where`` is ``<table>.<key or row>`` for table warnings, a field name for
metadata warnings, and null for the whole document.
"""

from __future__ import annotations

WARNING_CODES: dict[str, str] = {
    # decoding and input
    "charset_mismatch": "the declared charset did not decode the bytes; the detected one was used",
    "charset_replaced": "some bytes could not be decoded and were replaced with U+FFFD",
    "charset_ignored": "the declared charset is not a text encoding (idna, rot13, base64, …) and was ignored",
    "time_budget_exceeded": "the time budget ran out; later optional stages were skipped",
    "table_too_large": "an HTML table over the cell or column limit was not read",
    # document formats (PDF, Word, spreadsheets) and attachments
    "scanned_document": "PDF pages without a text layer (a scan) were not read; no OCR",
    "converter_missing": "the format needs LibreOffice to be converted and none is installed",
    "conversion_failed": "LibreOffice could not convert the document (error or time limit)",
    "unsupported_format": "a format nianbao cannot read (OFD, archives, images); nothing was read",
    "number_split": "a cell's number is printed over several lines; joined only where the break is a wrap; check it",
    "pages_skipped": "PDF pages beyond the page or time limit were not read",
    "attachment_unreadable": "an attachment could not be read; attachments[].outcome says why",
    # document structure
    "sections_missing": "no numbered part headings (一、… 六、) were found",
    "no_tables": "the document contains none of the canonical tables",
    "table_missing": "a numbered part exists but its table was not found (modern reports)",
    "table_empty": "a table has labels but no numeric cell (only blanks or placeholders)",
    # rows and cells
    "row_missing": "a template row is absent: its values are null with status missing",
    "row_duplicate": "a template row occurs twice; the first occurrence is kept",
    "row_not_in_generation": "a row of the other generation's template was found and not used",
    "requests_other_not_split": "a gen2021 report has one (六)其他处理 row instead of three; kept as other.*",
    "extra_row": "a row the template does not have; kept as extra.<n>.<column>",
    "cell_missing": "a row has fewer cells than columns; the absent ones are null with status missing",
    "cell_overflow": "a row has more values than columns; the surplus was ignored",
    "cell_unparseable": "a cell holds text that is neither a number nor a placeholder",
    "money_unit_unknown": "a non-zero money amount has no unit in its cell or header",
    "label_fuzzy": "a label matched a template label only approximately (a typo); check it",
    "label_ambiguous": "a label fits several template rows and its group did not decide",
    "legacy_unmatched_label": "a 统计表 row fits no legacy key; kept in legacy_other",
    # identity and metadata
    "title_missing": "the document has no title line",
    "agency_unknown": "no agency could be found",
    "year_unknown": "no covered year could be found",
    "generation_inferred": "no label decided the generation; it was inferred from the covered year",
    "generation_year_mismatch": "the labels' generation disagrees with the covered year",
    "date_unparseable": "a metadata date could not be read",
    "index_no_unparsed": "the 索引号 does not have the issuer/period-sequence shape",
}

OTHER = "other"


def metric_code(code: str) -> str:
    """A bounded metrics label: the code if catalogued, else ``other``."""
    return code if code in WARNING_CODES else OTHER
