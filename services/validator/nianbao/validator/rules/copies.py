"""Cross-year copy checks: a report that repeats the same agency's previous report (``xyear.copied_*``).

条例 art. 47 names copy-paste (雷同) reports. Without a previous report of the same format generation there
is no finding (as for the other ``xyear.*`` rules); a previous report for another year than N−1 makes the
check not assessable, and so does one stored but unreadable. ``where`` is null; both reports are named
in the message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping

from nianbao.shared.record import Number, Record
from nianbao.validator.rules.context import SECTION_ORDER, Context, needs_previous
from nianbao.validator.rules.model import Verdict

SHINGLE = 4  # characters per shingle: short enough for Chinese, long enough not to match by chance
# Digits (years, counts) change every year even in a copied text; punctuation and spaces carry no wording.
_NOT_WORDING = re.compile(r"[\d\s\W_]+")
# What each rule states (its findings' messages start with it).
COPIED_TEXT = "正文与上一年度报告不雷同"
COPIED_TABLES = "统计表与上一年度报告不完全相同"


def report_name(record: Record) -> str:
    """How a finding names one report: agency and year, and its address when known."""
    name = f"{record.agency.name or '?'} {record.year.value if record.year.value is not None else '?'}"
    url = record.source.url or record.source.final_url
    return f"{name} <{url}>" if url else name


def _previous(ctx: Context, text: str) -> tuple[Context | None, Verdict | None]:
    """The previous context if it is for N−1; else the not-assessable verdict. Nothing without a previous
    report of the same format generation."""
    previous = ctx.previous
    if previous is None or previous.generation != ctx.generation:
        return None, None  # across a format change the parts and tables differ by design
    if ctx.year is None or previous.year != ctx.year - 1:
        message = f"{text}: not assessable (previous report is for {previous.year}, this one for {ctx.year})"
        return None, Verdict(None, "not_assessable", message=message)
    return previous, None


def wording(record: Record) -> dict[str, str]:
    """Each part's text (the preamble excepted: its legal-basis sentence is the same every year),
    NFKC-folded, without digits, punctuation and spaces."""
    keys = [k for k in SECTION_ORDER if k in record.sections and k != "preamble"]
    keys += [k for k in record.sections if k not in SECTION_ORDER]
    return {k: _NOT_WORDING.sub("", unicodedata.normalize("NFKC", record.sections[k])) for k in keys}


def _shingles(text: str) -> set[str]:
    return {text[i : i + SHINGLE] for i in range(max(len(text) - SHINGLE + 1, 1))} if text else set()


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' 4-character shingles: 1.0 for the same wording, 0 for none shared."""
    return _jaccard(_shingles(a), _shingles(b))


def _jaccard(left: set[str], right: set[str]) -> float:
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def joined_shingles(parts: list[str], shingled: list[set[str]]) -> set[str]:
    """``_shingles("".join(parts))`` from the parts' own shingles (``shingled``, in the same order): every
    window inside a part of at least ``SHINGLE`` characters is one of its shingles, so only the windows
    across a boundary between parts are cut again. Halves the work of copied_text, which needs both."""
    joined = "".join(parts)
    if len(joined) < SHINGLE:
        return _shingles(joined)
    out: set[str] = set()
    for part, own in zip(parts, shingled, strict=True):
        if len(part) >= SHINGLE:
            out |= own
    crossing: set[int] = set()  # start of each window that spans a boundary
    offset = 0
    for part in parts[:-1]:
        offset += len(part)
        crossing.update(range(max(offset - SHINGLE + 1, 0), min(offset, len(joined) - SHINGLE + 1)))
    out.update(joined[i : i + SHINGLE] for i in crossing)
    return out


@needs_previous(COPIED_TEXT)
def copied_text(ctx: Context) -> Iterator[Verdict]:
    """The report's part texts are not (near-)identical to the same agency's report for N−1: the shingle
    similarity of all parts together stays below the configured threshold. Not assessable when either
    report has too little text to judge."""
    text = COPIED_TEXT
    previous, verdict = _previous(ctx, text)
    if verdict is not None:
        yield verdict
    if previous is None:
        return
    now, before = wording(ctx.record), wording(previous.record)
    joined_now, joined_before = "".join(now.values()), "".join(before.values())
    names = f"{report_name(ctx.record)} vs {report_name(previous.record)}"
    minimum = ctx.thresholds.copied_text_min_chars
    if min(len(joined_now), len(joined_before)) < minimum:
        message = (f"{text}: not assessable ({names}: {len(joined_now)} and {len(joined_before)} characters "
                   f"of text, fewer than {minimum})")  # fmt: skip
        yield Verdict(None, "not_assessable", message=message)
        return
    own_now = {k: _shingles(v) for k, v in now.items()}
    own_before = {k: _shingles(v) for k, v in before.items()}
    score = round(_jaccard(joined_shingles(list(now.values()), list(own_now.values())),
                           joined_shingles(list(before.values()), list(own_before.values()))), 4)
    limit = ctx.thresholds.copied_text_similarity
    parts = ", ".join(f"{k} {_jaccard(own_now[k], own_before[k]):.2f}" for k in now if now[k] and before.get(k))
    copied = score >= limit
    relation = "≥" if copied else "<"
    yield Verdict(
        None,
        "fail" if copied else "pass",
        lhs=score,
        rhs=limit,
        message=f"{text}: {names}: similarity {score:.2f} {relation} {limit:g} (per part: {parts})",
    )


def _informative(tables: Mapping[str, Mapping[str, Number | None]]) -> bool:
    """At least one value other than 0 or blank: all-zero tables repeat without being copied."""
    return any(v not in (None, 0) for values in tables.values() for v in values.values())


@needs_previous(COPIED_TABLES)
def copied_tables(ctx: Context) -> Iterator[Verdict]:
    """Not every table of the report is identical, value for value, to the same agency's N−1 report.
    Not assessable when either has no table or when all values of both are 0 or blank."""
    text = COPIED_TABLES
    previous, verdict = _previous(ctx, text)
    if verdict is not None:
        yield verdict
    if previous is None:
        return
    now, before = ctx.record.tables, previous.record.tables
    names = f"{report_name(ctx.record)} vs {report_name(previous.record)}"
    if not now or not before or not (_informative(now) or _informative(before)):
        reason = "a report has no table" if not now or not before else "every value is 0 or blank in both"
        yield Verdict(None, "not_assessable", message=f"{text}: not assessable ({names}: {reason})")
        return
    tables = sorted(set(now) | set(before))
    same = [t for t in tables if t in now and t in before and now[t] == before[t]]
    copied = len(same) == len(tables)
    listed = ", ".join(same) or "none"
    yield Verdict(
        None,
        "fail" if copied else "pass",
        lhs=len(same),
        rhs=len(tables),
        message=f"{text}: {names}: {len(same)} of {len(tables)} tables identical ({listed})",
    )
