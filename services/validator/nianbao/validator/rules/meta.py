"""Rules about the report as a whole: generation, covered year, publication dates, 索引号 (``meta.*``).

All have ``where`` = null. Dates compare as calendar dates; findings carry them in the message only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from nianbao.validator.rules.context import Context, generation_for_year
from nianbao.validator.rules.model import Verdict

_TITLE_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_PERIOD = re.compile(r"统计期限[^。;；\n]{0,60}")
_PERIOD_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")


def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def generation_year(ctx: Context) -> Iterator[Verdict]:
    """The detected generation is the one the covered year implies (≤2018 legacy, 2019–20 gen2019, ≥2021 gen2021)."""
    detected, year = ctx.record.generation.value, ctx.year
    text = "格式代别与统计年度一致"
    if detected is None or year is None:
        yield Verdict(None, "not_assessable", message=f"{text}: generation={detected}, year={year}")
        return
    implied = generation_for_year(year)
    yield Verdict(
        None,
        "pass" if implied == detected else "fail",
        message=f"{text}: {detected} for {year} (year implies {implied})",
    )


def period_year(ctx: Context) -> Iterator[Verdict]:
    """The title's year and the 统计期限 sentence's years all equal the covered year N."""
    year = ctx.year
    text = "标题年度与统计期限年度均为统计年度"
    stated: list[tuple[str, int]] = []
    if ctx.record.title and (m := _TITLE_YEAR.search(ctx.record.title)):
        stated.append(("title", int(m.group(1))))
    if period := _PERIOD.search(ctx.text):
        stated += [("统计期限", int(y)) for y in _PERIOD_YEAR.findall(period.group())]
    if year is None or not stated:
        yield Verdict(None, "not_assessable", message=f"{text}: year={year}, no title or 统计期限 year to compare")
        return
    wrong = [(src, y) for src, y in stated if y != year]
    listed = ", ".join(f"{src} {y}" for src, y in stated)
    if wrong:
        yield Verdict(None, "fail", lhs=wrong[0][1], rhs=year, message=f"{text} {year}: {listed}")
    else:
        yield Verdict(None, "pass", lhs=year, rhs=year, message=f"{text} {year}: {listed}")


def is_government(agency: str | None) -> bool:
    """A 人民政府 itself (deadline 31 March) rather than one of its departments (31 January).

    Unknown agencies get the later deadline: a wrong early deadline would raise false warnings.
    """
    return agency is None or agency.endswith("政府")


def publish_window(ctx: Context) -> Iterator[Verdict]:
    """Publication and signature dates fall in N+1, by 31 Jan (department) or 31 Mar (government)."""
    year = ctx.year
    text = "发布/落款日期在法定期限内"
    meta = ctx.record.metadata
    dates = [(name, d) for name, raw in (("发布日期", meta.publish_date), ("落款日期", meta.signature.date))
             if (d := _parse_date(raw)) is not None]  # fmt: skip
    if year is None or not dates:
        yield Verdict(None, "not_assessable", message=f"{text}: year={year}, no publication or signature date")
        return
    government = is_government(ctx.record.agency.name)
    start, deadline = date(year + 1, 1, 1), date(year + 1, 3 if government else 1, 31)
    window = f"{start.isoformat()}…{deadline.isoformat()} ({'政府' if government else '部门'})"
    outside = [(name, d) for name, d in dates if not start <= d <= deadline]
    listed = ", ".join(f"{name} {d.isoformat()}" for name, d in dates)
    yield Verdict(None, "fail" if outside else "pass", message=f"{text} {window}: {listed}")


def index_year(ctx: Context) -> Iterator[Verdict]:
    """The year in the 索引号 is the publication year, normally N+1 (info). No 索引号, no finding."""
    meta = ctx.record.metadata
    if meta.index_no is None:
        return
    year = ctx.year
    text = "索引号年份为发布年度 (N+1)"
    parts = meta.index_no_parts
    if year is None or parts is None or not parts.period[:4].isdigit():
        yield Verdict(None, "not_assessable", message=f"{text}: 索引号 {meta.index_no}, year={year}")
        return
    period_year = int(parts.period[:4])
    ok = period_year == year + 1
    yield Verdict(
        None, "pass" if ok else "fail", lhs=period_year, rhs=year + 1, message=f"{text}: {meta.index_no} for {year}"
    )
