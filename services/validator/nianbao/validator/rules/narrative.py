"""Figures and claims the narrative states about requests and review/litigation (for ``text.*``).

The patterns are deliberately narrow: a missed sentence costs a finding, a misread one costs a false
warning. Text is NFKC-folded by the parser (``,`` ``;`` ``:`` ASCII), but full-width forms are accepted too.
Lines that contain ``|`` are flattened table rows, not narrative, and are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

ClaimKind = Literal["requests", "review", "litigation", "review_litigation"]

_SENTENCE_END = re.compile(r"[。;；!！?？\n]")
_CLAUSE_END = re.compile(r"[,，]")

# 共收到政府信息公开申请7522件 / 共受理政府信息依申请公开22件 / 收到政府信息依申请公开申请1件
_LINK = r"(?:共计|共|合计|总计|为|:|：|达)?"  # words allowed between a label and its number
_FIGURE = r"(\d{1,18})(?!\d)"  # a longer run of digits is no count (and int() of 4301 digits raises)
_NEW = re.compile(
    r"(?:收到|受理)[^,，。;；、\d]{0,24}?申请(?:公开)?(?:申请)?(?:数量|总数)?" + _LINK + _FIGURE + r"\s*(?:件|条|个)"
)
# 办理7498件 / 共办理政府信息依申请公开1条 (only in a sentence about 申请, see _done_figure)
_DONE = re.compile(r"(?:办理|答复)(?:政府信息|依申请|公开|申请|类)*" + _LINK + _FIGURE + r"\s*(?:件|条)")
_COUNT = r"(?:的)?(?:案件)?(?:数量|总数)?(各)?" + _LINK + _FIGURE + r"\s*(?:件|起|宗|个)"
_BOTH = re.compile(r"行政复议(?:和|及|与|、|或)(?:被)?(?:提起)?行政诉讼" + _COUNT)
_REVIEW = re.compile(r"行政复议(?:申请)?" + _COUNT)
_LITIGATION = re.compile(r"行政诉讼" + _COUNT)

# 无/没有/未 … 行政复议|行政诉讼, but not 尚未(审结), 未经(复议), 无法(提供)
_NEGATION = r"(?:(?<!尚)无(?!法)|没有|未(?!经))"
_NO_PROCEEDINGS = re.compile(_NEGATION + r"[^,，。;；]{0,30}?(?:行政复议|行政诉讼)")
_PROCEEDINGS_CONTEXT = re.compile(r"信息公开|(?:行政复议|行政诉讼)[^,，。;；]{0,6}?(?:情况|案件|案|事项)")
_NOT_PROCEEDINGS = re.compile(r"费用|支出|经费")  # 没有…与诉讼(行政复议…)有关的费用支出 is about money
_NO_REQUESTS = re.compile(r"(?:未|没有)(?:收到|受理)[^,，。;；]{0,20}?(?:信息公开申请|依申请公开|公开申请)")


@dataclass(frozen=True)
class Figure:
    """A number the narrative states, with the sentence it came from (for the finding message)."""

    value: int
    excerpt: str


def sentences(text: str) -> tuple[str, ...]:
    """The narrative's sentences, stripped; flattened table rows (with ``|``) left out. Several rules read
    the same report's text, so the last few splits are kept."""
    return _sentences(text)


@lru_cache(maxsize=8)
def _sentences(text: str) -> tuple[str, ...]:
    stripped = (sentence.strip() for sentence in _SENTENCE_END.split(text))
    return tuple(sentence for sentence in stripped if sentence and "|" not in sentence)


@lru_cache(maxsize=1024)
def clauses(sentence: str) -> tuple[str, ...]:
    """A sentence split at its commas (ASCII or full-width)."""
    return tuple(_CLAUSE_END.split(sentence))


def _excerpt(sentence: str, start: int, end: int) -> str:
    """The clause a match sits in: from the comma before it to the end of the match."""
    clause_start = max(sentence.rfind(",", 0, start), sentence.rfind("，", 0, start)) + 1
    return sentence[clause_start:end].strip()


def requests_new(text: str) -> Figure | None:
    """The first "收到/受理…申请N件" figure: applications received in the year."""
    for sentence in sentences(text):
        if "申请" in sentence and (match := _NEW.search(sentence)):
            return Figure(int(match.group(1)), _excerpt(sentence, match.start(), match.end()))
    return None


def requests_done(text: str) -> Figure | None:
    """The first "办理/答复N件" figure in a sentence about 申请: applications handled in the year."""
    for sentence in sentences(text):
        if "申请" not in sentence:
            continue  # a figure counts only in a sentence about 申请
        for match in _DONE.finditer(sentence):
            if "申请" in sentence[: match.end()]:
                return Figure(int(match.group(1)), _excerpt(sentence, match.start(), match.end()))
    return None


def proceedings_figures(text: str) -> dict[ClaimKind, Figure]:
    """First stated counts of 行政复议, 行政诉讼, or both together ("行政复议和行政诉讼共N件")."""
    found: dict[ClaimKind, Figure] = {}
    for sentence in sentences(text):
        if "行政复议" not in sentence and "行政诉讼" not in sentence:
            continue  # every pattern below names one of them: a substring test is far cheaper than three scans
        taken: list[tuple[int, int]] = []
        patterns: tuple[tuple[ClaimKind, re.Pattern[str]], ...] = (
            ("review_litigation", _BOTH),
            ("review", _REVIEW),
            ("litigation", _LITIGATION),
        )
        for kind, pattern in patterns:
            for match in pattern.finditer(sentence):
                overlaps = any(s < match.end() and match.start() < e for s, e in taken)
                # "各N件" gives a count for each, not a total: skip it rather than guess.
                if overlaps or match.group(1):
                    continue
                taken.append(match.span())
                found.setdefault(kind, Figure(int(match.group(2)), _excerpt(sentence, match.start(), match.end())))
    return found


def zero_claims(text: str) -> dict[ClaimKind, str]:
    """Statements that something did not happen: no review, no litigation, no applications received.

    Returns the first excerpt per kind. A clause qualifies for review/litigation only when it is about
    disclosure proceedings (mentions 信息公开, or …情况/案件) and not about money (费用/支出/经费).
    """
    claims: dict[ClaimKind, str] = {}
    for sentence in sentences(text):
        if "行政复议" not in sentence and "行政诉讼" not in sentence and "申请" not in sentence:
            continue  # what both patterns below need (_NO_PROCEEDINGS one of the first two, _NO_REQUESTS 申请)
        for clause in clauses(sentence):
            match = _NO_PROCEEDINGS.search(clause)
            if match and _PROCEEDINGS_CONTEXT.search(clause) and not _NOT_PROCEEDINGS.search(clause):
                rest = clause[match.start() :]
                if "行政复议" in rest:
                    claims.setdefault("review", clause)
                if "行政诉讼" in rest:
                    claims.setdefault("litigation", clause)
            elif _NO_REQUESTS.search(clause) and "行政复议" not in clause and "行政诉讼" not in clause:
                claims.setdefault("requests", clause)
    return claims
