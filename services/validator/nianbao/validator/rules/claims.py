"""What the narrative states about carried-over requests, fees and its own sections (for the peer rules).

Like :mod:`~nianbao.validator.rules.narrative`, the patterns are narrow: a missed sentence costs a finding,
a misread one a false warning. Lines with ``|`` (flattened table rows) are not narrative.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from nianbao.validator.rules.narrative import Figure, clauses, sentences

_LINK = r"(?:共计|共|合计|总计|为|:|：|达|有)?"
_FIGURE = r"(\d{1,18})(?!\d)"
_PIECES = r"\s*(?:件|条)"
_REQUEST_WORDS = r"(?:的)?(?:政府信息公开|依申请公开)?(?:申请)?(?:数量|总数)?"

# 上年结转10件 / 上年度结转政府信息公开申请2件 / 2件为上年结转 (not "2018年结转": a T2 cell annotation)
_CARRIED_IN = (
    re.compile(r"上(?:一)?年(?:度)?结转(?:至本年(?:度)?)?(?:办理)?" + _REQUEST_WORDS + _LINK + _FIGURE + _PIECES),
    re.compile(_FIGURE + _PIECES + r"(?:为|系|属于|是)上(?:一)?年(?:度)?结转"),
)
# 结转下年度继续办理15件 / 结转至下一年度办理1件 / 另有3件结转下年度
_NEXT_YEAR = r"下(?:一)?年(?:度)?"
_CARRIED_OUT = (
    re.compile(r"结转(?:至|到)?" + _NEXT_YEAR + r"(?:继续)?(?:办理)?" + _REQUEST_WORDS + _LINK + _FIGURE + _PIECES),
    re.compile(_FIGURE + _PIECES + r"(?:申请)?(?:需|将|已)?(?:结转|转入)(?:至|到)?" + _NEXT_YEAR),
)

FeeObject = Literal["processing", "administrative", "any"]


@dataclass(frozen=True)
class FeeClaim:
    """A statement that fees were (``amount`` > 0) or were not (``amount`` = 0) charged; ``amount`` in 元
    when stated, ``None`` for "charged" without a figure. ``object``: 信息处理费 / disclosure fees
    (``processing``), 行政事业性收费 (``administrative``) or unqualified (``any``)."""

    charged: bool
    amount_yuan: float | None
    object: FeeObject
    excerpt: str


# 未收取信息处理费 / 没有对公民、法人和其他组织进行收费 / 免收 / 不收取任何费用 / 未产生信息处理费
_NO_FEE = re.compile(
    r"(?:(?<!尚)未|没有)[^,，。;；]{0,24}?(?:收取|收费|产生|发生)|不收取|不收费|免收|免费|无收费|零收费"
)
_FEE_AMOUNT = re.compile(r"收取[^,，。;；\d]{0,20}?(?:费|费用)[^,，。;；\d]{0,8}?(\d+(?:\.\d+)?)\s*(万元|元)")
_NOT_FEES = re.compile(r"支出|经费|减免|退还")  # spending and waivers are not fees charged
_ADMINISTRATIVE = re.compile(r"行政事业性收费")
_PROCESSING = re.compile(r"信息处理费|信息公开|依申请")


def _first(patterns: tuple[re.Pattern[str], ...], text: str) -> Figure | None:
    """The first match of any pattern, in a sentence about 申请 (a count of requests, not of documents)."""
    for sentence in sentences(text):
        if "申请" not in sentence:
            continue
        hits = [m for p in patterns if (m := p.search(sentence))]
        if hits:
            match = min(hits, key=lambda m: m.start())
            start = max(sentence.rfind(",", 0, match.start()), sentence.rfind("，", 0, match.start())) + 1
            return Figure(int(match.group(1)), sentence[start : match.end()].strip())
    return None


def carried_in(text: str) -> Figure | None:
    """The first "上年结转N件" figure of a sentence about applications."""
    return _first(_CARRIED_IN, text)


def carried_out(text: str) -> Figure | None:
    """The first "结转下年度N件" figure of a sentence about applications."""
    return _first(_CARRIED_OUT, text)


def _object(clause: str) -> FeeObject:
    if _ADMINISTRATIVE.search(clause):
        return "administrative"
    return "processing" if _PROCESSING.search(clause) else "any"


def fee_claims(text: str) -> list[FeeClaim]:
    """Every clause of ``text`` that says fees were or were not charged, in order."""
    claims: list[FeeClaim] = []
    for sentence in sentences(text):
        for clause in clauses(sentence):
            if "费" not in clause or _NOT_FEES.search(clause):
                continue
            if amount := _FEE_AMOUNT.search(clause):
                value = float(amount.group(1)) * (10000 if amount.group(2) == "万元" else 1)
                claims.append(FeeClaim(value > 0, value, _object(clause), clause.strip()))
            elif _NO_FEE.search(clause):
                claims.append(FeeClaim(False, 0.0, _object(clause), clause.strip()))
    return claims


_HEADING_LINE = re.compile(r"^\s*[一二三四五六七八九十]\s*[、.．]")
_FILLER = re.compile(r"[\s\u3000,，。.;；:：、!！?？()（）“”\"'‘’《》<>\-—_/|]+")
EMPTY_SECTION_WORDS = frozenset({"", "无", "暂无", "没有", "无相关情况", "本年度无", "本年度无相关情况"})


def section_body(section: str) -> str:
    """A section's text without its heading line (the parser drops it; other producers keep it)."""
    lines = section.splitlines()
    if lines and _HEADING_LINE.match(lines[0]):
        lines = lines[1:]
    return "\n".join(lines).strip()


def is_empty_body(body: str) -> bool:
    """Nothing but "无" (or a close variant) once spaces and punctuation are dropped."""
    return _FILLER.sub("", body) in EMPTY_SECTION_WORDS
