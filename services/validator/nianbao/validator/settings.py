"""Validator settings (env prefix ``NIANBAO_``); the only place the validator reads the environment."""

from __future__ import annotations

from pydantic import Field

from nianbao.shared.settings import CommonSettings
from nianbao.validator.rules.thresholds import DEFAULT_THRESHOLDS, Thresholds


class ValidatorSettings(CommonSettings):
    extra_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts besides *.gov.cn and the report's own host that text.offsite_url accepts.",
    )
    blank_cells_max_requests: int = Field(
        default=DEFAULT_THRESHOLDS.blank_cells_requests,
        ge=0,
        description="quality.blank_cells (info) reports the requests table (T3) as not assessable when it has "
        "more blank or placeholder (/, —) cells than this.",
    )
    blank_cells_max_review: int = Field(
        default=DEFAULT_THRESHOLDS.blank_cells_review,
        ge=0,
        description="quality.blank_cells (info) reports the review/litigation table (T4) as not assessable "
        "when it has more blank or placeholder cells than this.",
    )
    copied_text_similarity: float = Field(
        default=DEFAULT_THRESHOLDS.copied_text_similarity,
        gt=0.0,
        le=1.0,
        description="xyear.copied_text fails when the section texts of a report and of the same agency's "
        "previous report are at least this similar (share of common 4-character shingles, digits ignored).",
    )
    copied_text_min_chars: int = Field(
        default=DEFAULT_THRESHOLDS.copied_text_min_chars,
        ge=1,
        description="xyear.copied_text is not assessable when either report has fewer section-text "
        "characters than this (after dropping digits, punctuation and spaces).",
    )

    batch_size: int = Field(
        default=10,
        ge=1,
        le=100,
        description="A validator worker sends up to this many ReportParsed messages to a child as one job, "
        "checked and stored in one transaction (1: every message alone). A message the batch cannot store runs "
        "alone, with its usual retries and failure record. The worker prefetches this many per child.",
    )
    batch_wait_ms: int = Field(
        default=50,
        ge=1,
        le=10_000,
        description="How long a validator worker waits for a batch to fill once its first message arrived.",
    )

    def rule_thresholds(self) -> Thresholds:
        """The limits the rules read from their context (pass to ``evaluate(thresholds=...)``)."""
        return Thresholds(
            blank_cells_requests=self.blank_cells_max_requests,
            blank_cells_review=self.blank_cells_max_review,
            copied_text_similarity=self.copied_text_similarity,
            copied_text_min_chars=self.copied_text_min_chars,
        )
