"""Parser settings (env prefix ``NIANBAO_``); the only place the parser reads the environment.

The limits bound the work one hostile or broken page can cause: inputs beyond them are refused with
:class:`~nianbao.parser.errors.UnusableInput` or degraded with a warning, never allowed to exhaust a worker.
"""

from __future__ import annotations

from pydantic import Field

from nianbao.shared.settings import CommonSettings


class ParserSettings(CommonSettings):
    max_input_bytes: int = Field(
        16 * 1024 * 1024, ge=1024, description="Larger inputs are refused (real report pages are < 2 MB)."
    )
    max_tags: int = Field(
        300_000, ge=100, description="Pages with more tags than this are refused before HTML parsing."
    )
    max_nesting_depth: int = Field(
        2_000,
        ge=16,
        description="Deeper nesting of block elements is refused: the HTML parser slows down quadratically.",
    )
    max_table_cells: int = Field(
        20_000, ge=100, description="A table with more cells (after span expansion) is skipped with a warning."
    )
    max_table_columns: int = Field(
        200, ge=16, description="Wider tables are skipped; colspans are clamped to this width."
    )
    max_rowspan: int = Field(1_000, ge=1, description="Row spans are clamped to this many rows.")
    max_text_lines: int = Field(200_000, ge=100, description="Plain-text inputs with more lines are refused.")
    time_budget_s: float = Field(
        20.0, gt=0, description="After this much time the remaining optional stages are skipped (warning)."
    )
    max_document_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1024,
        description="Larger PDF/Word/spreadsheet inputs are refused (real report attachments are < 20 MB).",
    )
    max_pdf_pages: int = Field(
        300, ge=1, description="PDFs with more pages are refused (real reports have < 40 pages)."
    )
    max_decompressed_bytes: int = Field(
        256 * 1024 * 1024,
        ge=1024 * 1024,
        description="Cap on the bytes a document may inflate to (PDF streams, DOCX/XLSX zip members): bombs stop here.",
    )
    scanned_min_chars_per_page: int = Field(
        20, ge=0, description="A PDF page with fewer text characters counts as scanned (no text layer)."
    )
    converter_command: str = Field(
        "soffice", description="LibreOffice binary that converts DOC/WPS/RTF/XLS/ET to DOCX/XLSX."
    )
    converter_timeout_s: float = Field(
        90.0, gt=0, description="A conversion running longer is killed and the input recorded as unusable."
    )
    max_number_digits: int = Field(
        18,
        ge=6,
        le=4000,
        description="A cell whose number has more integer digits is unparseable (warning), not a value: "
        "real counts and amounts have < 12, and 18 digits still fit a 64-bit integer.",
    )
    parse_batch_size: int = Field(
        default=10,
        ge=1,
        le=100,
        description="A parser worker sends up to this many PageFetched messages to a child as one job, parsed one "
        "after the other (1: every message alone). A page the batch cannot parse and publish runs alone, with its "
        "usual retries and failure record. The worker prefetches this many per child.",
    )
    parse_batch_wait_ms: int = Field(
        default=50,
        ge=1,
        le=10_000,
        description="How long a parser worker waits for a batch to fill once its first message arrived.",
    )
