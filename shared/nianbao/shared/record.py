"""The canonical report record: the parser's output contract (``../shared/spec/canonical-record.md``).

Field names and table keys here are stable identifiers used by code, tests, dashboards and exports.
The key catalogues (rows × columns per table) live here because both the parser (to fill them) and the
validator (to check them) depend on exactly the same keys.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RECORD_VERSION = 1

Generation = Literal["legacy", "gen2019", "gen2021"]
EvidenceSource = Literal[
    "title", "labels", "metadata", "period_sentence", "signature", "publish_date", "inferred", "preamble"
]
CellStatus = Literal["number", "placeholder", "blank", "missing", "unparseable"]
Number = int | float

# --- active (二、主动公开政府信息情况): key "<row>.<column>" -------------------------------------------
ACTIVE_KEYS_2019: tuple[str, ...] = (
    "regulations.new_made", "regulations.new_published", "regulations.total_published",
    "normative_docs.new_made", "normative_docs.new_published", "normative_docs.total_published",
    "licensing.prev_items", "licensing.delta", "licensing.decisions",
    "other_services.prev_items", "other_services.delta", "other_services.decisions",
    "penalty.prev_items", "penalty.delta", "penalty.decisions",
    "coercion.prev_items", "coercion.delta", "coercion.decisions",
    "fees.prev_items", "fees.delta",
    "procurement.projects", "procurement.amount_wan",
)  # fmt: skip
ACTIVE_KEYS_2021: tuple[str, ...] = (
    "regulations.issued", "regulations.repealed", "regulations.in_force",
    "normative_docs.issued", "normative_docs.repealed", "normative_docs.in_force",
    "licensing.decisions", "penalty.decisions", "coercion.decisions", "fees.amount_wan",
)  # fmt: skip

# --- requests (三、收到和处理政府信息公开申请情况): key "<row>.<column>" ---------------------------------
REQUEST_COLUMNS: tuple[str, ...] = ("natural", "commercial", "research", "social", "legal", "other_org", "total")
REQUEST_APPLICANT_COLUMNS: tuple[str, ...] = REQUEST_COLUMNS[:-1]
REQUEST_DENIED_ROWS: tuple[str, ...] = (
    "denied_state_secret", "denied_law_prohibited", "denied_security", "denied_third_party",
    "denied_internal", "denied_process", "denied_enforcement", "denied_query",
)  # fmt: skip
REQUEST_UNAVAILABLE_ROWS: tuple[str, ...] = (
    "unavailable_not_held",
    "unavailable_needs_creation",
    "unavailable_unclear",
)
REQUEST_REFUSED_ROWS: tuple[str, ...] = (
    "refused_petition",
    "refused_repeat",
    "refused_publication",
    "refused_mass",
    "refused_confirm",
)
REQUEST_OTHER_ROWS_2019: tuple[str, ...] = ("other",)
REQUEST_OTHER_ROWS_2021: tuple[str, ...] = ("other_no_correction", "other_fee_unpaid", "other_misc")


def request_result_rows(generation: Generation) -> tuple[str, ...]:
    """The rows whose sum must equal ``results_total`` (granted … other), in template order."""
    other = REQUEST_OTHER_ROWS_2021 if generation == "gen2021" else REQUEST_OTHER_ROWS_2019
    return ("granted", "partial", *REQUEST_DENIED_ROWS, *REQUEST_UNAVAILABLE_ROWS, *REQUEST_REFUSED_ROWS, *other)


def request_rows(generation: Generation) -> tuple[str, ...]:
    """All data rows of the requests table in template order (23 in gen2019, 25 in gen2021)."""
    return ("new", "carried_in", *request_result_rows(generation), "results_total", "carried_out")


def request_keys(generation: Generation) -> tuple[str, ...]:
    return tuple(f"{row}.{col}" for row in request_rows(generation) for col in REQUEST_COLUMNS)


# --- review_litigation (四、行政复议、行政诉讼): key "<group>.<column>" ---------------------------------
REVIEW_GROUPS: tuple[str, ...] = ("review", "direct", "after_review")
REVIEW_COLUMNS: tuple[str, ...] = ("upheld", "corrected", "other", "pending", "total")
REVIEW_KEYS: tuple[str, ...] = tuple(f"{g}.{c}" for g in REVIEW_GROUPS for c in REVIEW_COLUMNS)

# --- legacy 统计表: key = indicator ----------------------------------------------------------------------
LEGACY_KEYS: tuple[str, ...] = (
    "active_total", "active_normative", "normative_issued",
    "channel_gazette", "channel_website", "channel_weibo", "channel_wechat", "channel_other",
    "hotspot_responses", "press_conferences", "press_conferences_leaders",
    "online_interviews", "online_interviews_leaders", "interpretations",
    "weibo_wechat_responses", "other_responses",
    "requests_received", "requests_in_person", "requests_fax", "requests_online", "requests_mail",
    "requests_completed", "completed_on_time", "completed_extended",
    "answers_total", "answers_already_public", "answers_granted", "answers_partial", "answers_denied",
    "denied_state_secret", "denied_commercial_secret", "denied_privacy", "denied_security",
    "denied_not_gov_info", "denied_other_law",
    "answers_not_this_agency", "answers_not_exist", "answers_amend", "answers_other_channel",
    "review_total", "review_upheld", "review_corrected", "review_other",
    "litigation_total", "litigation_upheld", "litigation_corrected", "litigation_other",
    "complaints", "fees_wan",
    "dedicated_units", "reading_points", "staff_total", "staff_fulltime", "staff_parttime", "budget_wan",
    "meetings", "trainings", "trainees",
)  # fmt: skip

TableName = Literal["active", "requests", "review_litigation", "legacy"]


def table_keys(table: str, generation: Generation) -> tuple[str, ...]:
    """Every key the canonical record defines for ``table`` in ``generation``."""
    if table == "active":
        return ACTIVE_KEYS_2021 if generation == "gen2021" else ACTIVE_KEYS_2019
    if table == "requests":
        return request_keys(generation)
    if table == "review_litigation":
        return REVIEW_KEYS
    if table == "legacy":
        return LEGACY_KEYS
    raise KeyError(f"unknown table {table!r}")


# --- record models ---------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Model):
    url: str | None = None
    final_url: str | None = None
    content_sha256: str | None = None
    media_type: str | None = None
    charset: str | None = None
    charset_source: str | None = None  # bom | http | meta | detected | default | declared_text
    fetched_at: str | None = None


class Agency(_Model):
    name: str | None = None
    source: str | None = None


class Year(_Model):
    value: int | None = None
    source: str | None = None


class GenerationInfo(_Model):
    value: Generation | None = None
    source: str | None = None


class IndexNoParts(_Model):
    issuer: str
    org_code: str | None = None
    period: str
    seq: str


class Signature(_Model):
    body: str | None = None
    date: str | None = None


class Metadata(_Model):
    index_no: str | None = None
    index_no_parts: IndexNoParts | None = None
    topic: str | None = None
    publisher: str | None = None
    written_date: str | None = None
    publish_date: str | None = None
    doc_no: str | None = None
    validity: str | None = None
    signature: Signature = Field(default_factory=Signature)


class CellLocation(_Model):
    """Where a value sits in the source.

    * a grid (HTML table, DOCX table): ``table_index``, ``row``, ``col`` (0-based, after span expansion);
      a spreadsheet: ``table_index`` is the sheet's position in the workbook and ``row``/``col`` the 0-based
      sheet coordinates (``A1`` is 0, 0);
    * text: ``line`` (1-based) and, on a flattened table row, ``col``;
    * PDF: ``page`` (1-based) and ``bbox`` = ``[x0, y0, x1, y1]`` in PDF points measured from the page's
      top-left corner (``y`` grows downwards, as pdfplumber reports it), together with the grid position
      of the cell in the table it belongs to.

    ``source`` is the URL of the document the cell was read from when that is not the record's own page
    (a table taken from an attachment).
    """

    table_index: int | None = None
    row: int | None = None
    col: int | None = None
    line: int | None = None
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    source: str | None = None

    def describe(self) -> str:
        """For people: ``p.4 (72.0,310.5,130.2,328.0)``, ``line 12`` or ``table 1 row 5 col 3``, followed by
        ``in <url>`` when the cell is in an attachment."""
        if self.page is not None:
            box = f" ({','.join(f'{v:g}' for v in self.bbox)})" if self.bbox else ""
            where = f"p.{self.page}{box}"
        elif self.line is not None:
            where = f"line {self.line}"
        elif self.table_index is not None:
            where = f"table {self.table_index} row {self.row} col {self.col}"
        else:
            where = "?"
        return f"{where} in {self.source}" if self.source else where


class Cell(_Model):
    table: str
    key: str
    value: Number | None
    status: CellStatus
    raw: str | None = None
    unit: str | None = None
    annotation: str | None = None
    at: CellLocation = Field(default_factory=CellLocation)


class ParseWarning(_Model):
    code: str
    where: str | None = None
    detail: str | None = None


class Attachment(_Model):
    """A document linked from the page. When the parser read it (the crawler stored its bytes), ``raw_key``
    and ``content_sha256`` name those bytes and ``outcome`` says what reading gave: ``tables`` (tables
    found), ``no_tables``, ``scanned``, ``converter_missing``, ``unsupported_format`` or ``unusable``."""

    url: str
    name: str | None = None
    media_type: str | None = None
    raw_key: str | None = None
    content_sha256: str | None = None
    outcome: str | None = None


class SourceMismatch(_Model):
    """A value that the page and an attachment both state, differently (the page's value is kept)."""

    table: str
    key: str
    page_value: Number | None
    attachment_value: Number | None
    attachment_url: str
    page_at: CellLocation = Field(default_factory=CellLocation)
    attachment_at: CellLocation = Field(default_factory=CellLocation)


class Record(_Model):
    """One report, whatever its source format. ``tables`` holds only the tables the document contains."""

    record_version: int = RECORD_VERSION
    source: Source = Field(default_factory=Source)
    title: str | None = None
    agency: Agency = Field(default_factory=Agency)
    year: Year = Field(default_factory=Year)
    generation: GenerationInfo = Field(default_factory=GenerationInfo)
    metadata: Metadata = Field(default_factory=Metadata)
    sections: dict[str, str] = Field(default_factory=dict)
    tables: dict[str, dict[str, Number | None]] = Field(default_factory=dict)
    legacy_other: dict[str, Number | None] = Field(default_factory=dict)
    cells: list[Cell] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)
    # Which document each table was read from: the page's own URL, or an attachment's.
    table_sources: dict[str, str] = Field(default_factory=dict)
    # Tables printed by both the page and an attachment: table -> the attachment compared, and the values
    # that differ (the page's are kept).
    cross_checked: dict[str, str] = Field(default_factory=dict)
    source_mismatches: list[SourceMismatch] = Field(default_factory=list)
    warnings: list[ParseWarning] = Field(default_factory=list)
    parser_version: str = ""

    def cell(self, table: str, key: str) -> Cell | None:
        """The provenance entry of one value, if the parser saw that cell."""
        for c in self.cells:
            if c.table == table and c.key == key:
                return c
        return None


# --- findings (validator output) -------------------------------------------------------------------------

FindingStatus = Literal["pass", "fail", "not_assessable"]
Severity = Literal["error", "warn", "info"]


class Finding(_Model):
    """One rule instance's verdict on one report; identity is (report, rule, where)."""

    rule: str
    severity: Severity
    status: FindingStatus
    where: str | None = None
    lhs: Number | None = None
    rhs: Number | None = None
    delta: Number | None = None
    cells: list[str] = Field(default_factory=list)
    message: str = ""
