"""Property: whatever the bytes, ``parse_bytes`` returns a valid Record or raises UnusableInput."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nianbao.parser.errors import UnusableInput
from nianbao.parser.extract import parse_bytes
from nianbao.shared.record import Record

from .builders import make_report, render_html

LABELS = ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况", "第二十条第(一)项",
          "(一)予以公开", "(七)总计", "自然人", "总计", "规章", "行政许可", "结果维持", "统计指标", "索引号:",
          "发布日期:2021-01-01", "2020年1月17日", "二〇二〇年一月十七日", "|", "||||", "0", "-3", "8(含2018年)",
          "552.94亿元", "/", "—", "无", "", " ", "\u3000", "\ufeff", "某局2020年政府信息公开工作年度报告"]
TAGS = ["<table>", "</table>", "<tr>", "</tr>", "<td>", "</td>", '<td rowspan="3">', '<td colspan="0">',
        '<td rowspan="x" colspan="999999">', "<th>", "<p>", "</p>", "<div>", "</div>", "<br>", "<span>",
        "<dl><dt>", "<dd>", "<li>", "<!--", "-->", "<script>", "</script>", '<meta charset="gbk">', "&nbsp;",
        "&#xe010;1&#xe011;", "\ue0103\ue011"]

fragments = st.lists(st.sampled_from(LABELS + TAGS) | st.text(max_size=12), max_size=80).map("".join)
PAGE = render_html(make_report("gen2021", seed=11)).encode()


def check(data: bytes, **kwargs: object) -> None:
    try:
        record = parse_bytes(data, **kwargs)  # type: ignore[arg-type]
    except UnusableInput:
        return
    assert isinstance(record, Record)
    assert Record.model_validate(record.model_dump(mode="json")) == record
    for table, values in record.tables.items():
        assert all(v is None or isinstance(v, int | float) for v in values.values()), table


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_any_bytes(data: bytes) -> None:
    check(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fragments, st.sampled_from(["text/html", "text/plain", None]), st.sampled_from(["utf-8", "gbk", "utf-16"]))
def test_markup_and_label_soup(text: str, media_type: str | None, encoding: str) -> None:
    check(text.encode(encoding, errors="replace"), media_type=media_type)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(PAGE) - 1), st.integers(0, len(PAGE) - 1), st.binary(min_size=1, max_size=64))
def test_damaged_report_page(start: int, stop: int, patch: bytes) -> None:
    lo, hi = sorted((start, stop))
    check(PAGE[:lo] + patch + PAGE[hi:], media_type="text/html")
