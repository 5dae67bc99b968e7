"""Article pages: a report (metadata block, title, ``div.TRS_Editor`` body, attachment) or a notice.

``revision`` > 0 appends a dated correction note to a report's body, so a revised page has new bytes
(and a new ETag) while its tables, and therefore its ground truth, stay the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from html import escape

from nianbao.devportal.model import Notice, Report
from nianbao.devportal.render import gen2019, gen2021, legacy
from nianbao.devportal.render.chrome import COLUMN_NAME, SITE_NAME, breadcrumb, document, share_bar
from nianbao.shared.record import Generation

TableRenderer = Callable[[Report], dict[str, str]]
RENDERERS: Mapping[Generation, TableRenderer] = {
    "gen2019": gen2019.tables,
    "gen2021": gen2021.tables,
    "legacy": legacy.tables,
}

# Articles live in /zfxxgknb/YYYYMM/, so the site root and the column are two and one levels up.
_ROOT = "../../"
_COLUMN = "../"


def report_page(report: Report, *, revision: int = 0) -> str:
    """The full article page of ``report`` as text; the caller encodes it with ``report.encoding``."""
    tables = RENDERERS[report.generation](report)
    body = "\n".join(
        [
            breadcrumb(root=_ROOT, column=_COLUMN),
            _metadata_block(report),
            _heading(report.title, report.publish_date, report.publish_time, report.publisher),
            share_bar(),
            '<div class="article-content">',
            '<div class="TRS_Editor">',
            _report_body(report, tables, revision),
            "</div>",
            _attachment(report),
            "</div>",
        ]
    )
    return document(
        charset=report.encoding,
        title=f"{report.title}_{COLUMN_NAME}_{SITE_NAME}",
        meta=_article_meta(report.title, report.publish_date, report.publish_time, report.publisher),
        body=body,
    )


def notice_page(notice: Notice) -> str:
    """A non-report item: same chrome and body container, no metadata block, no tables."""
    paragraphs = "\n".join(_p(text) for text in notice.paragraphs)
    body = "\n".join(
        [
            breadcrumb(root=_ROOT, column=_COLUMN),
            _heading(notice.title, notice.publish_date, notice.publish_time, notice.publisher),
            share_bar(),
            f'<div class="article-content">\n<div class="TRS_Editor">\n{paragraphs}\n</div>\n</div>',
        ]
    )
    return document(
        charset="utf-8",
        title=f"{notice.title}_{COLUMN_NAME}_{SITE_NAME}",
        meta=_article_meta(notice.title, notice.publish_date, notice.publish_time, notice.publisher),
        body=body,
    )


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _article_meta(title: str, published: date, time: str, source: str) -> list[tuple[str, str]]:
    return [
        ("ColumnName", COLUMN_NAME),
        ("ColumnType", COLUMN_NAME),
        ("ArticleTitle", title),
        ("PubDate", f"{published.isoformat()} {time}"),
        ("ContentSource", source),
    ]


def _heading(title: str, published: date, time: str, source: str) -> str:
    return (
        f'<h1 class="article-title">{escape(title)}</h1>\n'
        f'<div class="article-info"><span>发布时间：{published.isoformat()} {time}</span>'
        f"<span>来源：{escape(source)}</span><span>浏览次数：</span><span>字体：[ 大 中 小 ]</span></div>"
    )


def _metadata_block(report: Report) -> str:
    def pair(label: str, value: str | None, colspan: int = 1) -> str:
        span = f' colspan="{colspan}"' if colspan > 1 else ""
        return f"<th>{label}</th><td{span}>{escape(value or '')}</td>"

    # Some labels spaced or U+3000-padded, as real 信息公开 grids print them.
    rows = [
        pair("索 引 号：", report.index_no) + pair("主题分类：", report.topic),
        pair("发布机构：", report.publisher) + pair("成文日期：", report.written_date.isoformat()),
        pair("标　　题：", report.title, colspan=3),
        pair("发文字号：", report.doc_no) + pair("发布日期：", report.publish_date.isoformat()),
        pair("有 效 性：", report.validity, colspan=3),
    ]
    return (
        '<div class="xxgk-info"><table class="xxgk-table">\n'
        + "\n".join(f"<tr>{r}</tr>" for r in rows)
        + "\n</table></div>"
    )


# Where the tables are only in the attachment, the article says so where each table would be.
_SEE_ATTACHMENT = "（统计表详见附件）"


def _report_body(report: Report, tables: dict[str, str], revision: int) -> str:
    if report.published_as != "html":
        tables = dict.fromkeys(tables, _p(_SEE_ATTACHMENT))
    parts: list[str] = []
    if report.presentation.title_in_body:
        parts.append(f'<p align="center" style="text-align:center;"><strong>{escape(report.title)}</strong></p>')
    parts.extend(_p(text) for text in report.preamble)
    for section in report.sections:
        parts.append(f'<p style="text-indent:2em;"><strong>{escape(section.heading)}</strong></p>')
        parts.extend(_p(text) for text in section.paragraphs)
        if section.ordinal in tables:
            parts.append(tables[section.ordinal])
    parts.append(f'<p style="text-align:right;">{escape(report.signature_body)}</p>')
    parts.append(f'<p style="text-align:right;">{chinese_date(report.signature_date)}</p>')
    if legacy.APPENDIX in tables:
        parts.append(tables[legacy.APPENDIX])
    if revision > 0:
        parts.append(_p(f"（本文已于第{revision}次更新中修订个别文字表述，数据未作调整。）"))
    return "\n".join(parts)


def _attachment(report: Report) -> str:
    if report.attachment is None:
        return ""
    a = report.attachment
    return f'<div class="attachment">附件：<a href="./{a.filename}" target="_blank">{escape(a.label)}</a></div>'


def _p(text: str) -> str:
    return f'<p style="text-indent:2em;">{escape(text, quote=False)}</p>'
