"""Messages the services exchange, one class per event, sent by task name to one queue per service.

Every message is a frozen pydantic model serialised to JSON (Celery is configured to accept JSON only).
``schema_version`` lets a consumer refuse a message from a newer producer with a clear error instead of
misreading it. Messages carry keys into the raw store, never page bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from nianbao.shared.record import Record

CRAWLER_QUEUE = "crawler"
PARSER_QUEUE = "parser"
VALIDATOR_QUEUE = "validator"
QUEUES = (CRAWLER_QUEUE, PARSER_QUEUE, VALIDATOR_QUEUE)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Message(BaseModel):
    """Base of every message: versioned, immutable, JSON only."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TASK: ClassVar[str]
    QUEUE: ClassVar[str]

    schema_version: Literal[1] = 1
    sent_at: datetime = Field(default_factory=utcnow)  # when the producer created it (queue-age metrics)

    def to_payload(self) -> dict[str, Any]:
        """The JSON-safe dict sent as the task's single argument."""
        return self.model_dump(mode="json")


class CrawlRequested(Message):
    """Crawl one configured site now. ``force`` bypasses freshness caches (conditional GET, hashes)."""

    TASK: ClassVar[str] = "nianbao.crawler.crawl_site"
    QUEUE: ClassVar[str] = CRAWLER_QUEUE

    site_id: str
    force: bool = False
    reason: Literal["schedule", "manual", "cli", "api"] = "manual"
    requested_at: datetime = Field(default_factory=utcnow)


class CrawlContinued(Message):
    """Go on with crawl run ``run_id`` of a site where its last slice stopped (the crawler sends it to
    itself, so that no crawl task runs longer than a slice). Never starts a run: a finished or unknown
    run makes it a no-op."""

    TASK: ClassVar[str] = "nianbao.crawler.continue_crawl"
    QUEUE: ClassVar[str] = CRAWLER_QUEUE

    site_id: str
    run_id: str
    force: bool = False


class FetchedDocument(BaseModel):
    """An attachment of a page (PDF, Word, spreadsheet...), fetched and stored under ``raw_key``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    final_url: str
    raw_key: str
    content_sha256: str
    media_type: str = "application/octet-stream"
    title_hint: str | None = None  # the link text


class PageFetched(Message):
    """A candidate report page was fetched and its bytes are in the raw store under ``raw_key``.

    ``attachments`` are the documents the page links to that the crawler stored: the parser reads them
    with the page and makes one record of both (a page whose tables are only in its PDF is one report).
    A document reached directly from a listing is a ``PageFetched`` of its own, with no attachments."""

    TASK: ClassVar[str] = "nianbao.parser.parse_page"
    QUEUE: ClassVar[str] = PARSER_QUEUE

    site_id: str
    url: str
    final_url: str
    raw_key: str
    content_sha256: str
    media_type: str = "text/html"
    http_charset: str | None = None
    fetched_at: datetime = Field(default_factory=utcnow)
    title_hint: str | None = None
    attachments: tuple[FetchedDocument, ...] = ()


class ReportParsed(Message):
    """The parser's canonical record of one page (see ``nianbao.shared.record.Record``)."""

    TASK: ClassVar[str] = "nianbao.validator.validate_report"
    QUEUE: ClassVar[str] = VALIDATOR_QUEUE

    site_id: str
    url: str
    raw_key: str
    record: dict[str, Any]
    # The Record ``record`` was dumped from, while the message has not left the process that built it (the
    # in-process bus, ``nianbao reparse``): the validator takes it instead of validating ``record`` again.
    # Never part of the payload; a message read from the broker has none.
    _record: Record | None = PrivateAttr(default=None)

    @classmethod
    def of(cls, *, site_id: str, url: str, raw_key: str, record: Record) -> ReportParsed:
        """The message for ``record``: its JSON form in ``record``, the object itself kept for this process."""
        message = cls(site_id=site_id, url=url, raw_key=raw_key, record=record.model_dump(mode="json"))
        message._record = record
        return message

    def __eq__(self, other: object) -> bool:
        # Equal as messages: the kept object is a cache of ``record``, not part of the message (pydantic's
        # own equality would compare it too, and a message read back from JSON has none).
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = Message.__hash__

    def parsed_record(self) -> Record:
        """The record: the object :meth:`of` kept, or ``record`` validated, once, and kept (raises
        ``ValidationError``). Both are equal: the parser's records survive ``model_dump(mode="json")`` and
        validation unchanged (``tests/parser/test_record_handover.py`` checks it on the corpus and the dev
        portal's reports)."""
        if self._record is None:
            self._record = Record.model_validate(self.record)
        return self._record

    def to_payload(self) -> dict[str, Any]:
        """As :meth:`Message.to_payload`, with ``record`` passed on as it is: it is a record's JSON form
        already (``Record.model_dump(mode="json")``, what the validator reads back with ``Record.model_validate``),
        and dumping its ~60 KB again cost the parser 0.3 ms a report."""
        payload = self.model_dump(mode="json", exclude={"record"})
        payload["record"] = self.record
        return payload


MESSAGE_TYPES: tuple[type[Message], ...] = (CrawlRequested, CrawlContinued, PageFetched, ReportParsed)
TASK_ROUTES: dict[str, dict[str, str]] = {m.TASK: {"queue": m.QUEUE} for m in MESSAGE_TYPES}
