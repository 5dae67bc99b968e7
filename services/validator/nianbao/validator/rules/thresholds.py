"""Tunable limits of the rules that need one (``quality.blank_cells``, ``xyear.copied_text``).

The rules read them from the :class:`~nianbao.validator.rules.context.Context`; the validator fills them
from its settings (``ValidatorSettings.rule_thresholds()``), whose defaults are these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    """``blank_cells``: per table, the most blank or placeholder cells ``quality.blank_cells`` passes
    (a table not named is only counted). ``copied_text_similarity``: the shingle similarity (0…1) of two
    years' section texts from which ``xyear.copied_text`` fails; ``copied_text_min_chars``: fewer
    normalised characters in either report and the texts are too short to judge."""

    blank_cells_requests: int = 10  # the peer tool's limit for T3
    blank_cells_review: int = 5  # and for T4
    copied_text_similarity: float = 0.9
    copied_text_min_chars: int = 300

    def blank_cells_limit(self, table: str) -> int | None:
        return {"requests": self.blank_cells_requests, "review_litigation": self.blank_cells_review}.get(table)


DEFAULT_THRESHOLDS = Thresholds()
