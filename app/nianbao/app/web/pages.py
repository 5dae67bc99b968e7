"""The web view's pages as HTML strings, from the data of ``data.py`` and ``show.py``: pure functions, no
database, no request. ``base`` is the path the view is mounted at (``/ui``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import urlsplit

from nianbao.app.queries import FindingListRow
from nianbao.app.show import ReportView, ShownValue
from nianbao.app.summaries import LastCrawl, SiteOverview, SiteSummary
from nianbao.app.web.data import FindingFilter, Page, ReportLine
from nianbao.app.web.grid import Grid, Header
from nianbao.app.web.markup import bilingual, h, layout, link, number, pager, query, table

STATUSES = ("fail", "pass", "not_assessable", "all")
# The record's metadata keys (spec/canonical-record.md) and the labels portals print them under.
METADATA_LABELS = {
    "index_no": "索引号",
    "index_no_parts": "索引号各段",
    "topic": "主题分类",
    "publisher": "发布机构",
    "written_date": "成文日期",
    "publish_date": "发布日期",
    "doc_no": "文号",
    "validity": "有效性",
    "signature": "落款",
}


def rule_descriptions() -> dict[str, str]:
    from nianbao.validator.rules.catalogue import CATALOGUE

    return {rule.id: rule.description for rule in CATALOGUE}


def _outside(url: str, text: str | None = None, cls: str = "original") -> str:
    """A link to a portal's URL (a new page, no referrer); a URL that is not http(s) is shown, not linked."""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return f"<code>{h(url)}</code>"
    return link(url, text or url, class_=cls, rel="noopener noreferrer nofollow", target="_blank")


def _crawl(run: LastCrawl | None) -> str:
    if run is None:
        return '<span class="muted">no crawl recorded · 无抓取记录</span>'
    announced = run.announced_text
    when = run.started_at.strftime("%Y-%m-%d %H:%M")
    finished = "" if run.finished_at else " (not finished)"
    short = f" · {len(run.shortfalls)} listing(s) short" if run.shortfalls else ""
    return (
        f'<span class="verdict {h(run.verdict)}">{h(run.verdict)}</span> found {run.found} · {h(announced)} · '
        f"kept {run.kept} · handed on {run.handed_on}{h(short)} · started {h(when)}{h(finished)}"
    )


def overview(base: str, sites: Sequence[SiteOverview], names: dict[str, str], page: Page) -> str:
    rows = [
        [
            link(f"{base}/sites/{site.site_id}", site.site_id),
            h(names[site.site_id])
            if site.site_id in names
            else '<span class="muted">not in the registry · 不在站点表</span>',
            str(site.reports),
            link(query(f"{base}/findings", site=site.site_id), site.failing_findings) if site.failing_findings else "0",
            _crawl(site.last_crawl),
        ]
        for site in sites
    ]
    body = (
        f"<h1>{bilingual('Sites', '站点')}</h1>"
        + table(
            [
                bilingual("Site", "站点"),
                bilingual("Name", "名称"),
                bilingual("Reports", "年报数"),
                bilingual("Failing findings", "未通过校验"),
                bilingual("Last crawl", "最近抓取"),
            ],
            rows,
        )
        + pager(page, f"{base}/")
    )
    return layout(base, "Sites", body)


def site_page(base: str, summary: SiteSummary, name: str | None, page: Page, reports: Sequence[ReportLine]) -> str:
    site_id = summary.site_id
    described = rule_descriptions()
    year_rows = [
        [h(y.year if y.year is not None else "?"), str(y.reports), str(y.failing_reports)]
        for y in sorted(summary.reports_per_year, key=lambda y: (y.year is None, -(y.year or 0)))  # newest first
    ]
    rule_rows = [
        [
            link(query(f"{base}/findings", site=site_id, rule=r.rule), r.rule),
            h(r.severity),
            str(r.failing),
            str(r.reports),
            h(described.get(r.rule, "")),
        ]
        for r in summary.failing_by_rule
    ]
    report_rows = [
        [
            link(f"{base}/reports/{r.id}", r.id),
            h(r.year if r.year is not None else "?"),
            h(r.agency or ""),
            link(f"{base}/reports/{r.id}", r.title or r.url),
            h(r.generation or ""),
            f'<span class="{"fail" if r.failing_errors else ""}">{r.failing_errors}</span> / {r.failing_warnings}',
        ]
        for r in reports
    ]
    body = (
        f'<h1>{h(site_id)} <span class="zh">{h(name or "")}</span></h1>'
        f"<p>{bilingual('Last crawl', '最近抓取')}: {_crawl(summary.last_crawl)}</p>"
        f"<p>{bilingual('Task failures recorded', '任务失败记录')}: {summary.task_failures}"
        " (<code>nianbao failures list --site …</code>)</p>"
        f"<section><h2>{bilingual('Reports by year', '各年度年报')}</h2>"
        + (
            table(
                [
                    bilingual("Year", "年度"),
                    bilingual("Reports", "年报数"),
                    bilingual("With failing findings", "有未通过校验"),
                ],
                year_rows,
            )
            if year_rows
            else '<p class="muted">no stored report · 无年报</p>'
        )
        + f"</section><section><h2>{bilingual('Failing findings by rule', '按规则统计未通过校验')}</h2>"
        + (
            table(
                [
                    bilingual("Rule", "规则"),
                    bilingual("Severity", "级别"),
                    bilingual("Failing", "未通过"),
                    bilingual("Reports", "年报数"),
                    bilingual("What it checks", "说明"),
                ],
                rule_rows,
            )
            if rule_rows
            else '<p class="muted">no failing finding · 全部通过</p>'
        )
        + f"</section><section><h2>{bilingual('Reports', '年报')}</h2>"
        + table(
            [
                bilingual("Id", "编号"),
                bilingual("Year", "年度"),
                bilingual("Agency", "机关"),
                bilingual("Title", "标题"),
                bilingual("Template", "模板"),
                bilingual("Failing errors / warnings", "错误 / 警告"),
            ],
            report_rows,
        )
        + pager(page, f"{base}/sites/{site_id}")
        + "</section>"
    )
    return layout(base, site_id, body)


def _column_header(column: Header) -> str:
    label = f'<span class="zh">{h(column.label)}</span><br>' if column.label else ""
    return f"{label}<code>{h(column.key)}</code>"


def _cell(table_name: str, value: ShownValue | None) -> str:
    if value is None:
        return '<td class="none"></td>'
    classes = ["value", value.status] + (["fail"] if value.failing else [])
    shown = number(value.value)
    written = value.text_as_written
    extra = f'<small class="written">{h(written)}</small>' if written and written.strip() != shown else ""
    return (
        f'<td id="{h(f"c-{table_name}.{value.key}")}" class="{h(" ".join(classes))}" title="{h(value.source)}"'
        f' data-key="{h(value.key)}">{h(shown)}{extra}</td>'
    )


def _grid(grid: Grid, report_url: str) -> str:
    english, chinese = grid.title
    columns = "".join(f"<th>{_column_header(c)}</th>" for c in grid.columns)
    head = f'<th class="corner">row 行 \\ column 列</th>{columns}'
    rows = "".join(
        f"<tr><th>{_column_header(row.header)}</th>{''.join(_cell(grid.name, v) for v in row.cells)}</tr>"
        for row in grid.rows
    )
    source = "" if grid.read_from == report_url else f"<p>read from {_outside(grid.read_from)}</p>"
    return (
        f'<section class="grid"><h2>{bilingual(english, chinese)} <code>{h(grid.name)}</code></h2>{source}'
        f'<table class="report" data-table="{h(grid.name)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></section>"
    )


def _failing(base: str, view: ReportView) -> str:
    if not view.failing:
        return f'<p class="muted">{bilingual("No failing finding.", "全部通过校验。")}</p>'
    rows = []
    for f in view.failing:
        operands = "<br>".join(
            f'{link("#c-" + o.cell, o.cell)} = {h(number(o.value))} <span class="muted">({h(o.source)})</span>'
            for o in f.operands
        )
        rows.append([
            link(query(f"{base}/findings", rule=f.rule, site=view.site_id), f.rule), h(f.where or "—"),
            h(f.severity), h(number(f.lhs)), h(number(f.rhs)), h(number(f.delta)), h(f.message), operands,
        ])  # fmt: skip
    return table(
        [bilingual("Rule", "规则"), bilingual("Where", "位置"), bilingual("Severity", "级别"), "lhs", "rhs",
         bilingual("Delta", "差"), bilingual("Message", "说明"), bilingual("Cells", "单元格")],
        rows,
    )  # fmt: skip


def report_page(base: str, view: ReportView, site_name: str | None, grids: Sequence[Grid]) -> str:
    raw = (
        link(f"{base}/reports/{view.id}/raw", "download the stored copy · 下载存档", class_="raw")
        if view.raw.stored
        else '<span class="muted">not in the raw store · 存档缺失</span>'
    )
    facts = [
        (bilingual("Site", "站点"), link(f"{base}/sites/{view.site_id}", view.site_id) + f" {h(site_name or '')}"),
        (bilingual("Agency", "机关"), h(view.agency or "?")),
        (bilingual("Year", "年度"), h(view.year if view.year is not None else "?")),
        (bilingual("Template", "模板"), h(view.generation or "?")),
        (bilingual("Original", "原文"), _outside(view.url)),
        (bilingual("Stored copy", "存档"), f"{raw} <code>{h(view.raw.key)}</code>"),
        (bilingual("Findings", "校验结果"), h(", ".join(f"{k} {n}" for k, n in view.findings.items()) or "none")),
        ("Parser / rules", h(f"{view.parser_version} / {view.rules_version}")),
    ]
    facts += [
        (bilingual(k, METADATA_LABELS[k]) if k in METADATA_LABELS else h(k),
         h(json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v))
        for k, v in view.metadata.items()
    ]  # fmt: skip
    attachments = ""
    if view.attachments:
        items = []
        for i, a in enumerate(view.attachments):
            stored = (
                link(f"{base}/reports/{view.id}/attachments/{i}/raw", "stored copy · 存档", class_="raw")
                if a.raw and a.raw.stored
                else '<span class="muted">not stored · 未存档</span>'
            )
            items.append(f"<li>{_outside(a.url, a.name or a.url)} · {h(a.outcome or '')} · {stored}</li>")
        attachments = f"<section><h2>{bilingual('Attachments', '附件')}</h2><ul>{''.join(items)}</ul></section>"
    legend = (
        '<p class="legend"><span class="fail swatch">12</span> a value a failing finding is computed from · '
        '<span class="zh">未通过校验的单元格</span>; hover a value for where it was read '
        "(<code>line 12</code>, <code>p.2 (x0,y0,x1,y1)</code>, <code>table 1 row 5 col 3</code>) · "
        '<span class="zh">悬停查看出处</span></p>'
    )
    body = (
        f"<h1>{h(view.title or view.url)}</h1><dl class=\"facts\">"
        + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
        + "</dl>" + attachments
        + f"<section><h2>{bilingual('Failing findings', '未通过校验')}</h2>{_failing(base, view)}</section>"
        + legend
        + ("".join(_grid(g, view.url) for g in grids) or '<p class="muted">no table was read · 未读出表格</p>')
    )  # fmt: skip
    return layout(base, view.title or f"report {view.id}", body)


def findings_page(
    base: str,
    where: FindingFilter,
    rules: Sequence[str],
    sites: Sequence[str],
    page: Page,
    rows: Sequence[FindingListRow],
) -> str:
    def options(name: str, values: Sequence[str], selected: str | None, any_label: str | None) -> str:
        opts = [f'<option value="">{h(any_label)}</option>'] if any_label else []
        opts += [f'<option value="{h(v)}"{" selected" if v == selected else ""}>{h(v)}</option>' for v in values]
        return f'<label>{h(name)} <select name="{h(name)}">{"".join(opts)}</select></label>'

    status = where.status or "all"
    form = (
        f'<form method="get" action="{h(base)}/findings" class="filter">'
        + options("rule", rules, where.rule, "any rule · 全部规则")
        + options("status", STATUSES, status, None)
        + options("site", sites, where.site, "any site · 全部站点")
        + '<button type="submit">Filter 筛选</button></form>'
    )
    table_rows = [
        [link(f"{base}/sites/{f.site_id}", f.site_id), h(f.year if f.year is not None else "?"), h(f.agency or ""),
         h(f.rule), h(f.where or "—"), h(f.severity), f'<span class="{h(f.status)}">{h(f.status)}</span>',
         h(number(f.lhs)), h(number(f.rhs)), h(f.message), link(f"{base}/reports/{f.report_id}", f.report_id)]
        for f in rows
    ]  # fmt: skip
    params = {"rule": where.rule, "status": status, "site": where.site}
    body = (
        f"<h1>{bilingual('Findings', '审核结果')}</h1>{form}"
        + table([bilingual("Site", "站点"), bilingual("Year", "年度"), bilingual("Agency", "机关"),
                 bilingual("Rule", "规则"), bilingual("Where", "位置"), bilingual("Severity", "级别"),
                 bilingual("Status", "状态"), "lhs", "rhs", bilingual("Message", "说明"),
                 bilingual("Report", "年报")], table_rows)
        + pager(page, f"{base}/findings", **params)
    )  # fmt: skip
    return layout(base, "Findings", body)


def login_page(base: str, next_path: str, message: str | None = None) -> str:
    note = f'<p class="error">{h(message)}</p>' if message else ""
    body = (
        f"<h1>{bilingual('Log in', '登录')}</h1>{note}"
        f'<form method="post" action="{h(base)}/login" class="login">'
        f'<input type="hidden" name="next" value="{h(next_path)}">'
        '<label>Admin token · 管理令牌 <input type="password" name="token" autocomplete="current-password" '
        'required autofocus></label> <button type="submit">Log in 登录</button></form>'
        "<p>The token is <code>NIANBAO_ADMIN_TOKEN</code>, the one the admin API wants.</p>"
    )
    return layout(base, "Log in", body, logged_in=False)


def error_page(base: str, status: int, title: str, message: str, *, logged_in: bool = True) -> str:
    body = f'<h1>{status} {h(title)}</h1><p class="error">{h(message)}</p><p>{link(base + "/", "Sites 站点")}</p>'
    return layout(base, f"{status} {title}", body, logged_in=logged_in)
