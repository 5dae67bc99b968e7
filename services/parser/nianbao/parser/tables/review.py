"""T4 ``review_litigation`` (四、政府信息公开行政复议、行政诉讼情况): one row of 15 values.

The header is not parsed (extracts dislocate it: seed 001 splits it mid-row and spaces its characters);
the values are read in the template's fixed order after the last header label (report-format §4.4).
Empty cells on a header row are spacers by design; empty cells on the value row are blanks.
"""

from __future__ import annotations

from collections.abc import Sequence

from nianbao.parser.document import Token
from nianbao.parser.normalize import bare_label
from nianbao.parser.tables.common import TableResult, from_grid, place_by_column, place_positional
from nianbao.parser.vocabulary import vocabulary
from nianbao.shared.record import REVIEW_KEYS

WIDTH = len(REVIEW_KEYS)


def read_review(tokens: Sequence[Token]) -> TableResult | None:
    """Read the review/litigation table; None when neither its header nor a value row is found."""
    vocab = vocabulary()
    headers = vocab.review_headers
    first_header = bare_label(vocab.section("review")["first_value_header"])
    is_header = [t.is_text and headers.match(bare_label(t.text)) is not None for t in tokens]
    header_rows = {t.group for t, h in zip(tokens, is_header, strict=True) if h and t.group is not None}
    distinct = {bare_label(t.text) for t, h in zip(tokens, is_header, strict=True) if h}
    last_header = max((i for i, h in enumerate(is_header) if h), default=-1)
    values: list[Token] = []
    for token in tokens[last_header + 1 :]:
        if token.is_text:
            if values:
                break
            continue  # a label column or a note before the values
        if token.empty and token.group is not None and token.group in header_rows:
            continue  # spacer cells completing a header row
        values.append(token)
    if len(distinct) < 3 and sum(1 for t in values if not t.empty) < WIDTH:
        return None
    result = TableResult("review_litigation", REVIEW_KEYS)
    for token, header in zip(tokens, is_header, strict=True):
        if header:
            result.note_label(token)
    if from_grid(values):
        starts = [t.col for t in tokens if t.col is not None and bare_label(t.text) == first_header]
        start = min(starts) if starts else min(t.col for t in values if t.col is not None)
        placement = place_by_column(values, {start + i: i for i in range(WIDTH)}, WIDTH)
    else:
        placement = place_positional(values, WIDTH)
    for key, slot in zip(REVIEW_KEYS, placement.slots, strict=True):
        result.put(key, slot)
    absent = sum(slot is None for slot in placement.slots)
    if absent:
        result.warn("cell_missing", None, f"{absent} of {WIDTH} cells absent")
    if placement.overflow:
        result.warn("cell_overflow", None, " | ".join(t.text for t in placement.overflow)[:80])
    result.rows_found = 1
    result.finish()
    return result
