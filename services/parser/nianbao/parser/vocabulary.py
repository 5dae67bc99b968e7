"""The label catalogue (``vocabulary.toml``) loaded once, with the matcher every table reader uses.

A label matches a catalogue entry, after :func:`~nianbao.parser.normalize.bare_label`, in this order:
exactly; as a truncation (the document's label is a long enough prefix of the entry: ``不予处``,
``商业``); padded by at most two characters; or by a close fuzzy match for typos (``属于四类过程信息``).
The first two are silent; padded and fuzzy matches are reported so a person can check them.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

from nianbao.parser.normalize import bare_label, label_key

MatchHow = Literal["exact", "prefix", "padded", "fuzzy"]

_FUZZY_MIN_RATIO = 0.84
_FUZZY_MIN_LEN = 5


@dataclass(frozen=True)
class Match:
    key: str
    how: MatchHow


@dataclass
class LabelIndex:
    """Maps document labels to catalogue keys; build with :meth:`build`."""

    exact: dict[str, str] = field(default_factory=dict)
    _cache: dict[str, Match | None] = field(default_factory=dict)

    @classmethod
    def build(cls, entries: dict[str, list[str]]) -> LabelIndex:
        index = cls()
        for key, labels in entries.items():
            for label in labels:
                index.exact.setdefault(bare_label(label), key)
        return index

    def match(self, bare: str) -> Match | None:
        """Match an already reduced label (:func:`bare_label`)."""
        if bare in self._cache:
            return self._cache[bare]
        found = self._match(bare)
        if len(self._cache) < 50_000:  # hostile documents must not grow the cache without bound
            self._cache[bare] = found
        return found

    def _match(self, bare: str) -> Match | None:
        if not bare:
            return None
        key = self.exact.get(bare)
        if key is not None:
            return Match(key, "exact")
        if len(bare) > 80:  # sentences are not labels
            return None
        prefixes = {k for canon, k in self.exact.items() if canon.startswith(bare)}
        if len(prefixes) == 1 and len(bare) >= 2 and len(bare) * 2 >= min(
            len(c) for c, k in self.exact.items() if k in prefixes and c.startswith(bare)
        ):
            return Match(prefixes.pop(), "prefix")
        padded = {k for canon, k in self.exact.items() if len(canon) >= 4 and bare.startswith(canon)
                  and len(bare) - len(canon) <= 2}
        if len(padded) == 1:
            return Match(padded.pop(), "padded")
        if len(bare) < _FUZZY_MIN_LEN:
            return None
        scored = sorted(
            ((difflib.SequenceMatcher(None, bare, canon).ratio(), k) for canon, k in self.exact.items()
             if abs(len(canon) - len(bare)) <= 3),
            reverse=True,
        )
        if scored and scored[0][0] >= _FUZZY_MIN_RATIO and (len(scored) == 1 or scored[1][0] < scored[0][0] - 0.05
                                                            or scored[1][1] == scored[0][1]):
            return Match(scored[0][1], "fuzzy")
        return None


@dataclass(frozen=True)
class Vocabulary:
    raw: dict[str, Any]
    generation_markers: dict[str, tuple[str, ...]]
    heading_keywords: dict[str, tuple[str, ...]]
    not_headings: LabelIndex
    active_rows: LabelIndex
    active_blocks: dict[str, str]
    active_columns: dict[str, dict[str, tuple[str, ...]]]
    active_headers: LabelIndex
    request_rows: LabelIndex
    request_groups: LabelIndex
    request_headers: LabelIndex
    request_columns: tuple[str, ...]
    request_column_headers: LabelIndex
    review_headers: LabelIndex
    legacy_rows: dict[str, list[tuple[str, str]]]  # bare label -> [(group ordinal, key)]
    legacy_index: LabelIndex
    legacy_headers: LabelIndex
    legacy_groups: LabelIndex
    legacy_units: frozenset[str]
    metadata_fields: dict[str, tuple[str, ...]]

    def section(self, name: str) -> Any:
        return self.raw[name]


def _keys(labels: list[str]) -> tuple[str, ...]:
    return tuple(label_key(x) for x in labels)


@cache
def vocabulary() -> Vocabulary:
    """The catalogue, parsed on first use."""
    text = resources.files("nianbao.parser").joinpath("vocabulary.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    active, requests, review, legacy = raw["active"], raw["requests"], raw["review"], raw["legacy"]
    legacy_rows: dict[str, list[tuple[str, str]]] = {}
    for key, pairs in legacy["rows"].items():
        for group, label in pairs:
            legacy_rows.setdefault(bare_label(label), []).append((group, key))
    column_headers = dict(zip(requests["columns"], requests["column_headers"], strict=True))
    return Vocabulary(
        raw=raw,
        generation_markers={gen: _keys(markers) for gen, markers in raw["generation"].items()},
        heading_keywords={k: tuple(v) for k, v in raw["headings"].items() if k != "not_headings"},
        not_headings=LabelIndex.build({"row": raw["headings"]["not_headings"]}),
        active_rows=LabelIndex.build({row["key"]: row["labels"] for row in active["rows"]}),
        active_blocks={row["key"]: row["block"] for row in active["rows"]},
        active_columns={gen: {block: tuple(cols) for block, cols in blocks.items()}
                        for gen, blocks in active["columns"].items()},
        active_headers=LabelIndex.build({"header": active["headers"]}),
        request_rows=LabelIndex.build({row["key"]: row["labels"] for row in requests["rows"]}),
        request_groups=LabelIndex.build({"group": requests["groups"]}),
        request_headers=LabelIndex.build({"header": requests["headers"]}),
        request_columns=tuple(requests["columns"]),
        request_column_headers=LabelIndex.build(column_headers),
        review_headers=LabelIndex.build({"header": review["headers"]}),
        legacy_rows=legacy_rows,
        legacy_index=LabelIndex.build({label: [label] for label in legacy_rows}),
        legacy_headers=LabelIndex.build({"header": legacy["headers"]}),
        legacy_groups=LabelIndex.build({"group": legacy["group_labels"]}),
        legacy_units=frozenset(label_key(u) for u in legacy["units"]),
        metadata_fields={f: tuple(labels) for f, labels in raw["metadata"]["fields"].items()},
    )
