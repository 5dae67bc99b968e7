"""The report definition: one synthetic annual report as data, and the ground truth read off that data.

A ``Report`` holds what the page says (metadata, narrative, table values) and nothing about markup; the
renderers in ``nianbao.devportal.render`` turn it into HTML. Table values are keyed exactly by the canonical
keys of ``nianbao.shared.record.table_keys``, and they are the values a correct parser must extract: money
is already in 万元, a blank cell is ``None``. How a cell is *printed* when that differs from the plain
number (an annotation, a unit, a placeholder) is a per-key override in ``Report.raw``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from nianbao.shared.record import Generation, Number, table_keys

Encoding = Literal["utf-8", "gbk"]
PublishedAs = Literal["html", "pdf", "docx", "doc"]
"""Where the tables are: on the article page (``html``), or only in its attachment of that format."""
AgencyKind = Literal["government", "department"]
Finding = tuple[str, str | None]
"""A failing rule instance: (rule id of report-format.md §3.2, ``where``) as canonical-record.md §5 names it."""

TABLES_BY_GENERATION: Mapping[Generation, tuple[str, ...]] = {
    "gen2019": ("active", "requests", "review_litigation"),
    "gen2021": ("active", "requests", "review_litigation"),
    "legacy": ("legacy",),
}


@dataclass(frozen=True)
class Section:
    """One numbered part of the report: its heading as printed (``二、主动公开政府信息情况``) and its prose."""

    heading: str
    paragraphs: tuple[str, ...] = ()

    @property
    def ordinal(self) -> str:
        """The Chinese ordinal before ``、`` (``一`` … ``八``); tables attach to sections by it."""
        return self.heading.split("、", 1)[0].strip()


@dataclass(frozen=True)
class Attachment:
    """A file linked from the article (TRS names uploads ``P0<date><digits>.pdf``), served next to it."""

    filename: str
    label: str


@dataclass(frozen=True)
class StatisticsForm:
    """The framing of a legacy 统计表: its own title, the 填报单位 line and the signatures/date footer."""

    title: str
    filler: str
    footer: tuple[str, ...]


@dataclass(frozen=True)
class Presentation:
    """Layout choices that vary between real reports but carry no data."""

    spaced_headers: bool = False  # Word line-wraps in narrow cells: 结 果 维 持, 总 计, 商业 企业
    amount_unit_in_header: str | None = None  # 采购总金额（单位：万元） instead of a bare 采购总金额
    title_in_body: bool = False  # the title repeated, centred, as the first line of the TRS_Editor body


@dataclass(frozen=True)
class Report:
    """One synthetic annual report. ``id`` is stable and is what ``DevPortal.revise`` takes."""

    id: str
    doc_id: int
    title: str
    agency: str
    agency_kind: AgencyKind
    year: int
    generation: Generation
    index_no: str
    topic: str
    publisher: str
    written_date: date
    publish_date: date
    publish_time: str
    signature_body: str
    signature_date: date
    preamble: tuple[str, ...]
    sections: tuple[Section, ...]
    tables: Mapping[str, Mapping[str, Number | None]]
    raw: Mapping[str, str] = field(default_factory=dict)
    doc_no: str | None = None
    validity: str | None = None
    encoding: Encoding = "utf-8"
    attachment: Attachment | None = None
    presentation: Presentation = Presentation()
    statistics_form: StatisticsForm | None = None
    failing_rules: tuple[Finding, ...] = ()
    published_as: PublishedAs = "html"

    def __post_init__(self) -> None:
        # A data mistake here would silently weaken every test built on the catalogue, so refuse it early.
        expected = TABLES_BY_GENERATION[self.generation]
        if tuple(self.tables) != expected:
            raise ValueError(f"{self.id}: tables {tuple(self.tables)} != {expected}")
        for name, values in self.tables.items():
            keys = table_keys(name, self.generation)
            if tuple(values) != keys:
                missing = set(keys) - set(values)
                extra = set(values) - set(keys)
                raise ValueError(f"{self.id}: {name} keys differ (missing {missing}, extra {extra}, or order)")
        for ref, text in self.raw.items():
            table, _, key = ref.partition("/")
            if table not in self.tables or key not in self.tables[table]:
                raise ValueError(f"{self.id}: raw override for unknown cell {ref!r}")
            if self.tables[table][key] is None and text.strip():
                raise ValueError(f"{self.id}: {ref!r} is blank (None) but prints {text!r}")
        if self.published_as != "html" and (
            self.attachment is None or not self.attachment.filename.endswith(f".{self.published_as}")
        ):
            raise ValueError(f"{self.id}: published as {self.published_as} needs a .{self.published_as} attachment")
        if (self.generation == "legacy") != (self.statistics_form is not None):
            raise ValueError(f"{self.id}: a legacy report, and only a legacy report, has a 统计表 form")

    def cell_text(self, table: str, key: str) -> str:
        """The text printed in the cell of ``table``/``key``: the raw override, else the plain number."""
        override = self.raw.get(f"{table}/{key}")
        if override is not None:
            return override
        return format_number(self.tables[table][key])

    def expected_tables(self) -> dict[str, dict[str, Number | None]]:
        """``{table: {key: value}}`` exactly as a correct parser must extract it (money in 万元, blank = None)."""
        return {name: dict(values) for name, values in self.tables.items()}

    def expected_failing_rules(self) -> list[Finding]:
        """Every rule instance of report-format.md §3.2 that fails on this report alone, worked out by hand.

        Covers the single-report rules (``requests.*``, ``review.*``, ``litigation.*``, ``active*``,
        ``legacy.*``, ``meta.*``, ``text.*``); the cross-year ``xyear.*`` rules need two reports of one agency
        and are out of scope. Every rule not listed passes (or, for legacy blanks, holds under blank_as_zero).
        """
        return list(self.failing_rules)

    def expected_metadata(self) -> dict[str, str | int | None]:
        """The metadata a correct parser reads from the page (canonical-record.md §1), dates ISO."""
        return {
            "title": self.title,
            "agency": self.agency,
            "year": self.year,
            "generation": self.generation,
            "index_no": self.index_no,
            "topic": self.topic,
            "publisher": self.publisher,
            "written_date": self.written_date.isoformat(),
            "publish_date": self.publish_date.isoformat(),
            "doc_no": self.doc_no,
            "validity": self.validity,
            "signature_body": self.signature_body,
            "signature_date": self.signature_date.isoformat(),
        }


@dataclass(frozen=True)
class Notice:
    """A non-report item of the column (a format notice, a website statistics form, a work report).

    Real 年报 columns carry such items; a crawler has to drop them by title, so the portal lists them too.
    """

    id: str
    doc_id: int
    title: str
    publisher: str
    publish_date: date
    publish_time: str
    paragraphs: tuple[str, ...]


def format_number(value: Number | None) -> str:
    """Print a value the way a report does: integers bare, decimals without a trailing ``.0``, blank empty."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text
