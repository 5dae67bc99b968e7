"""Synthetic but realistic report pages, written for these tests (and reused by bench/parser).

A :class:`Report` holds the values; ``render_html`` lays them out as a portal page the way real portals
do: chrome around the body, a metadata grid, the official table layouts with rowspan/colspan (gen2019,
gen2021, the legacy 统计表), cells wrapped in ``<p><span>``, inline styles. Options switch on the quirks
the parser must survive (a table split at a page break, a nested layout table, dl/dd metadata, blanks).
The expected record is the Report itself: its values never come from the parser.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from html import escape

from nianbao.shared.record import (
    ACTIVE_KEYS_2019,
    ACTIVE_KEYS_2021,
    LEGACY_KEYS,
    REQUEST_COLUMNS,
    REVIEW_KEYS,
    Generation,
    request_rows,
)

REQUEST_LABELS = {
    "new": "一、本年新收政府信息公开申请数量",
    "carried_in": "二、上年结转政府信息公开申请数量",
    "granted": "（一）予以公开",
    "partial": "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
    "denied_state_secret": "1．属于国家秘密",
    "denied_law_prohibited": "2．其他法律行政法规禁止公开",
    "denied_security": "3．危及“三安全一稳定”",
    "denied_third_party": "4．保护第三方合法权益",
    "denied_internal": "5．属于三类内部事务信息",
    "denied_process": "6．属于四类过程性信息",
    "denied_enforcement": "7．属于行政执法案卷",
    "denied_query": "8．属于行政查询事项",
    "unavailable_not_held": "1．本机关不掌握相关政府信息",
    "unavailable_needs_creation": "2．没有现成信息需要另行制作",
    "unavailable_unclear": "3．补正后申请内容仍不明确",
    "refused_petition": "1．信访举报投诉类申请",
    "refused_repeat": "2．重复申请",
    "refused_publication": "3．要求提供公开出版物",
    "refused_mass": "4．无正当理由大量反复申请",
    "refused_confirm": "5．要求行政机关确认或重新出具已获取信息",
    "other": "（六）其他处理",
    "other_no_correction": "1．申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "other_fee_unpaid": "2．申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "other_misc": "3．其他",
    "results_total": "（七）总计",
    "carried_out": "四、结转下年度继续办理",
}
GROUPS = {
    "denied": ("（三）不予公开", ("denied_state_secret", "denied_law_prohibited", "denied_security",
                              "denied_third_party", "denied_internal", "denied_process", "denied_enforcement",
                              "denied_query")),
    "unavailable": ("（四）无法提供", ("unavailable_not_held", "unavailable_needs_creation", "unavailable_unclear")),
    "refused": ("（五）不予处理", ("refused_petition", "refused_repeat", "refused_publication", "refused_mass",
                              "refused_confirm")),
    "other": ("（六）其他处理", ("other_no_correction", "other_fee_unpaid", "other_misc")),
}
LEGACY_LABELS: list[tuple[str | None, str, str]] = [
    (None, "一、主动公开情况", "——"),
    ("active_total", "（一）主动公开政府信息数（不同渠道和方式公开相同信息计1条）", "条"),
    ("active_normative", "其中：主动公开规范性文件数", "条"),
    ("normative_issued", "制发规范性文件总数", "件"),
    (None, "（二）通过不同渠道和方式公开政府信息的情况", "——"),
    ("channel_gazette", "1．政府公报公开政府信息数", "条"),
    ("channel_website", "2．政府网站公开政府信息数", "条"),
    ("channel_weibo", "3．政务微博公开政府信息数", "条"),
    ("channel_wechat", "4．政务微信公开政府信息数", "条"),
    ("channel_other", "5．其他方式公开政府信息数", "条"),
    (None, "二、回应解读情况", "——"),
    ("hotspot_responses", "（一）回应公众关注热点或重大舆情数（不同方式回应同一热点或舆情计1次）", "次"),
    (None, "（二）通过不同渠道和方式回应解读的情况", "——"),
    ("press_conferences", "1．参加或举办新闻发布会总次数", "次"),
    ("press_conferences_leaders", "其中：主要负责同志参加新闻发布会次数", "次"),
    ("online_interviews", "2．政府网站在线访谈次数", "次"),
    ("online_interviews_leaders", "其中：主要负责同志参加政府网站在线访谈次数", "次"),
    ("interpretations", "3．政策解读稿件发布数", "篇"),
    ("weibo_wechat_responses", "4．微博微信回应事件数", "次"),
    ("other_responses", "5．其他方式回应事件数", "次"),
    (None, "三、依申请公开情况", "——"),
    ("requests_received", "（一）收到申请数", "件"),
    ("requests_in_person", "1．当面申请数", "件"),
    ("requests_fax", "2．传真申请数", "件"),
    ("requests_online", "3．网络申请数", "件"),
    ("requests_mail", "4．信函申请数", "件"),
    ("requests_completed", "（二）申请办结数", "件"),
    ("completed_on_time", "1．按时办结数", "件"),
    ("completed_extended", "2．延期办结数", "件"),
    ("answers_total", "（三）申请答复数", "件"),
    ("answers_already_public", "1．属于已主动公开范围数", "件"),
    ("answers_granted", "2．同意公开答复数", "件"),
    ("answers_partial", "3．同意部分公开答复数", "件"),
    ("answers_denied", "4．不同意公开答复数", "件"),
    ("denied_state_secret", "其中：涉及国家秘密", "件"),
    ("denied_commercial_secret", "涉及商业秘密", "件"),
    ("denied_privacy", "涉及个人隐私", "件"),
    ("denied_security", "危及国家安全、公共安全、经济安全和社会稳定", "件"),
    ("denied_not_gov_info", "不是《条例》所指政府信息", "件"),
    ("denied_other_law", "法律法规规定的其他情形", "件"),
    ("answers_not_this_agency", "5．不属于本行政机关公开数", "件"),
    ("answers_not_exist", "6．申请信息不存在数", "件"),
    ("answers_amend", "7．告知作出更改补充数", "件"),
    ("answers_other_channel", "8．告知通过其他途径办理数", "件"),
    ("review_total", "四、行政复议数量", "件"),
    ("review_upheld", "（一）维持具体行政行为数", "件"),
    ("review_corrected", "（二）被依法纠错数", "件"),
    ("review_other", "（三）其他情形数", "件"),
    ("litigation_total", "五、行政诉讼数量", "件"),
    ("litigation_upheld", "（一）维持具体行政行为或者驳回原告诉讼请求数", "件"),
    ("litigation_corrected", "（二）被依法纠错数", "件"),
    ("litigation_other", "（三）其他情形数", "件"),
    ("complaints", "六、举报投诉数量", "件"),
    ("fees_wan", "七、依申请公开信息收取的费用", "万元"),
    (None, "八、机构建设和保障经费情况", "——"),
    ("dedicated_units", "（一）政府信息公开工作专门机构数", "个"),
    ("reading_points", "（二）设置政府信息公开查阅点数", "个"),
    ("staff_total", "（三）从事政府信息公开工作人员数", "人"),
    ("staff_fulltime", "1．专职人员数（不包括政府公报及政府网站工作人员数）", "人"),
    ("staff_parttime", "2．兼职人员数", "人"),
    ("budget_wan", "（四）政府信息公开专项经费（不包括用于政府公报编辑管理及政府网站建设维护等方面的经费）", "万元"),
    (None, "九、政府信息公开会议和培训情况", "——"),
    ("meetings", "（一）召开政府信息公开工作会议或专题会议数", "次"),
    ("trainings", "（二）举办各类培训班数", "次"),
    ("trainees", "（三）接受培训人员数", "人次"),
]

CELL_STYLE = 'style="border:1px solid #000;padding:2px 4px;text-align:center;vertical-align:middle"'


@dataclass
class Report:
    """Values and identity of one synthetic report; ``values[table][key]`` is what the parser must read."""

    generation: Generation
    agency: str = "江城市生态环境局"
    year: int = 2020
    values: dict[str, dict[str, int | float | None]] = field(default_factory=dict)
    raw: dict[tuple[str, str], str] = field(default_factory=dict)  # cell text overrides (annotations, units)
    index_no: str = "11420100MB1234567X/2021-00042"
    publish_date: str = "2021-01-28"
    prose_paragraphs: int = 6

    @property
    def title(self) -> str:
        return f"{self.agency}{self.year}年政府信息公开工作年度报告"

    def cell(self, table: str, key: str) -> str:
        if (table, key) in self.raw:
            return self.raw[(table, key)]
        value = self.values[table][key]
        return "" if value is None else str(value)


def make_report(generation: Generation, *, seed: int = 1, year: int | None = None) -> Report:
    """A report with random but arithmetically consistent values."""
    rng = random.Random(seed)
    year = year or {"legacy": 2017, "gen2019": 2020, "gen2021": 2022}[generation]
    report = Report(generation=generation, year=year)
    if generation == "legacy":
        report.values["legacy"] = {key: rng.randint(0, 60) for key in LEGACY_KEYS}
        report.values["legacy"]["fees_wan"] = 0.0
        report.values["legacy"]["budget_wan"] = float(rng.randint(1, 30))
        return report
    active_keys = ACTIVE_KEYS_2021 if generation == "gen2021" else ACTIVE_KEYS_2019
    active: dict[str, int | float | None] = {k: rng.randint(0, 900) for k in active_keys}
    if generation == "gen2019":
        for k in active_keys:
            if k.endswith(".delta"):
                active[k] = rng.randint(-9, 9)
        active["procurement.amount_wan"] = round(rng.uniform(10, 5000), 2)
    else:
        active["fees.amount_wan"] = round(rng.uniform(0, 300), 4)
    report.values["active"] = active
    requests: dict[str, int | float | None] = {}
    result_rows = [r for r in request_rows(generation) if r not in ("new", "carried_in", "results_total",
                                                                      "carried_out")]
    totals = dict.fromkeys(REQUEST_COLUMNS, 0)
    for row in result_rows:
        cells = [rng.randint(0, 12) if rng.random() < 0.4 else 0 for _ in REQUEST_COLUMNS[:-1]]
        for col, v in zip(REQUEST_COLUMNS[:-1], cells, strict=True):
            requests[f"{row}.{col}"] = v
            totals[col] += v
        requests[f"{row}.total"] = sum(cells)
        totals["total"] += sum(cells)
    carried_in = {c: rng.randint(0, 3) for c in REQUEST_COLUMNS[:-1]}
    carried_out = {c: rng.randint(0, 3) for c in REQUEST_COLUMNS[:-1]}
    for col in REQUEST_COLUMNS[:-1]:
        requests[f"results_total.{col}"] = totals[col]
        requests[f"carried_in.{col}"] = carried_in[col]
        requests[f"carried_out.{col}"] = carried_out[col]
        requests[f"new.{col}"] = totals[col] + carried_out[col] - carried_in[col] + 3
        requests[f"carried_out.{col}"] = carried_out[col] + 3
    for row in ("new", "carried_in", "results_total", "carried_out"):
        requests[f"{row}.total"] = sum(int(requests[f"{row}.{c}"] or 0) for c in REQUEST_COLUMNS[:-1])
    report.values["requests"] = {f"{r}.{c}": requests[f"{r}.{c}"] for r in request_rows(generation)
                                 for c in REQUEST_COLUMNS}
    review: dict[str, int | float | None] = {}
    for group in ("review", "direct", "after_review"):
        parts = [rng.randint(0, 5) for _ in range(4)]
        for col, v in zip(("upheld", "corrected", "other", "pending"), parts, strict=True):
            review[f"{group}.{col}"] = v
        review[f"{group}.total"] = sum(parts)
    report.values["review_litigation"] = {k: review[k] for k in REVIEW_KEYS}
    return report


# --- HTML ------------------------------------------------------------------------------------------------


def _td(text: str, *, rowspan: int = 1, colspan: int = 1, wrap: bool = True, tag: str = "td") -> str:
    attrs = ""
    if rowspan > 1:
        attrs += f' rowspan="{rowspan}"'
    if colspan > 1:
        attrs += f' colspan="{colspan}"'
    body = escape(text)
    if wrap:
        body = (f'<p style="text-align:center;line-height:20px">'
                f'<span style="font-family:宋体;font-size:12px">{body}</span></p>')
    return f"<{tag}{attrs} {CELL_STYLE}>{body}</{tag}>"


def _table(rows: list[str], *, width: str = "600") -> str:
    body = "".join(f"<tr>{row}</tr>" for row in rows)
    return (f'<table border="1" cellspacing="0" cellpadding="0" width="{width}" style="border-collapse:collapse">'
            f"<tbody>{body}</tbody></table>")


def active_html(report: Report) -> str:
    def a(key: str) -> str:
        return report.cell("active", key)

    rows = []
    if report.generation == "gen2021":
        blocks = [
            ("第二十条第（一）项", ["本年制发件数", "本年废止件数", "现行有效件数"],
             [("规章", "regulations"), ("行政规范性文件", "normative_docs")], ["issued", "repealed", "in_force"]),
            ("第二十条第（五）项", ["本年处理决定数量"], [("行政许可", "licensing")], ["decisions"]),
            ("第二十条第（六）项", ["本年处理决定数量"], [("行政处罚", "penalty"), ("行政强制", "coercion")],
             ["decisions"]),
            ("第二十条第（八）项", ["本年收费金额（单位：万元）"], [("行政事业性收费", "fees")], ["amount_wan"]),
        ]
    else:
        blocks = [
            ("第二十条第（一）项", ["本年新制作数量", "本年新公开数量", "对外公开总数量"],
             [("规章", "regulations"), ("规范性文件", "normative_docs")],
             ["new_made", "new_published", "total_published"]),
            ("第二十条第（五）项", ["上一年项目数量", "本年增/减", "处理决定数量"],
             [("行政许可", "licensing"), ("其他对外管理服务事项", "other_services")],
             ["prev_items", "delta", "decisions"]),
            ("第二十条第（六）项", ["上一年项目数量", "本年增/减", "处理决定数量"],
             [("行政处罚", "penalty"), ("行政强制", "coercion")], ["prev_items", "delta", "decisions"]),
            ("第二十条第（八）项", ["上一年项目数量", "本年增/减", ""], [("行政事业性收费", "fees")],
             ["prev_items", "delta"]),
            ("第二十条第（九）项", ["采购项目数量", "采购总金额（单位：万元）", ""], [("政府集中采购", "procurement")],
             ["projects", "amount_wan"]),
        ]
    for caption, headers, block_rows, columns in blocks:
        rows.append(_td(caption, colspan=4))
        if len(headers) == 1:
            rows.append(_td("信息内容") + _td(headers[0], colspan=3))
        else:
            rows.append(_td("信息内容") + "".join(_td(h) for h in headers))
        for label, key in block_rows:
            cells = [a(f"{key}.{col}") for col in columns]
            if len(columns) == 1:
                rows.append(_td(label) + _td(cells[0], colspan=3))
            else:
                rows.append(_td(label) + "".join(_td(c) for c in cells) + ("" if len(cells) == 3 else _td("")))
    return _table(rows)


def requests_html(report: Report, *, split_at: str | None = None, repeat_header: bool = False) -> str:
    """T3; ``split_at`` (a row key) closes the table before that row and reopens it, repeating the group
    label as a page break does (and the three header rows too, with ``repeat_header``)."""
    gen = report.generation
    def values(row: str) -> str:
        return "".join(_td(report.cell("requests", f"{row}.{col}")) for col in REQUEST_COLUMNS)

    header = [
        _td("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", rowspan=3, colspan=3)
        + _td("申请人情况", colspan=7),
        _td("自然人", rowspan=2) + _td("法人或其他组织", colspan=5) + _td("总计", rowspan=2),
        "".join(_td(h) for h in ("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")),
    ]
    body: list[tuple[str, str]] = []  # (row key, html)
    body.append(("new", _td(REQUEST_LABELS["new"], colspan=3) + values("new")))
    body.append(("carried_in", _td(REQUEST_LABELS["carried_in"], colspan=3) + values("carried_in")))
    span = 22 if gen == "gen2021" else 20
    results: list[tuple[str, str]] = [
        ("granted", _td(REQUEST_LABELS["granted"], colspan=2) + values("granted")),
        ("partial", _td(REQUEST_LABELS["partial"], colspan=2) + values("partial")),
    ]
    groups = ["denied", "unavailable", "refused"] + (["other"] if gen == "gen2021" else [])
    for name in groups:
        label, members = GROUPS[name]
        for i, row in enumerate(members):
            group_cell = _td(label, rowspan=len(members)) if i == 0 else ""
            results.append((row, group_cell + _td(REQUEST_LABELS[row]) + values(row)))
    if gen != "gen2021":
        results.append(("other", _td(REQUEST_LABELS["other"], colspan=2) + values("other")))
    results.append(("results_total", _td(REQUEST_LABELS["results_total"], colspan=2) + values("results_total")))
    results[0] = (results[0][0], _td("三、本年度办理结果", rowspan=span) + results[0][1])
    body += results
    body.append(("carried_out", _td(REQUEST_LABELS["carried_out"], colspan=3) + values("carried_out")))
    if split_at is None:
        return _table(header + [row for _, row in body])
    keys = [k for k, _ in body]
    cut = keys.index(split_at)
    first = header + [row for _, row in body[:cut]]
    second = [row for _, row in body[cut:]]
    remaining_results = keys.index("results_total") - cut + 1
    second[0] = _td("三、本年度办理结果", rowspan=remaining_results) + second[0]
    if repeat_header:
        second = header + second
    return _table(first) + '<p style="page-break-after:always">&nbsp;</p>' + _table(second)


def review_html(report: Report) -> str:
    def v(key: str) -> str:
        return report.cell("review_litigation", key)

    cols = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
    rows = [
        _td("行政复议", colspan=5) + _td("行政诉讼", colspan=10),
        "".join(_td(c, rowspan=2) for c in cols) + _td("未经复议直接起诉", colspan=5) + _td("复议后起诉", colspan=5),
        "".join(_td(c) for c in cols) * 2,
        "".join(_td(v(k)) for k in REVIEW_KEYS),
    ]
    return _table(rows, width="100%")


def legacy_html(report: Report) -> str:
    head = ("<thead><tr>" + _td("统 计 指 标", tag="th") + _td("单位", tag="th") + _td("统计数", tag="th")
            + "</tr></thead>")
    rows = []
    for key, label, unit in LEGACY_LABELS:
        value = "" if key is None else report.cell("legacy", key)
        rows.append(_td(label) + _td(unit) + _td(value))
    return _table(rows).replace("<tbody>", head + "<tbody>", 1)


PROSE = ("按照党中央、国务院关于全面推进政务公开工作的决策部署，认真贯彻落实《中华人民共和国政府信息公开条例》，"
         "围绕中心工作，加强组织领导，完善工作机制，持续深化重点领域信息公开，不断提升政务公开质量和实效。")


def _paras(n: int, text: str = PROSE) -> str:
    return "".join(f'<p style="text-indent:2em;line-height:28px"><span style="font-size:16px">{escape(text)}</span></p>'
                   for _ in range(n))


def _chrome_top(nav_links: int) -> str:
    links = "".join(f'<li><a href="/col/col{i}/index.html" target="_blank">栏目{i}</a></li>' for i in range(nav_links))
    return (f'<div class="header"><div class="logo"><img src="/images/logo.png" alt="江城市人民政府"></div>'
            f'<ul class="nav">{links}</ul></div>'
            '<div class="position">当前位置：<a href="/">首页</a> &gt; '
            '<a href="/zfxxgk/">政府信息公开</a> &gt; 政府信息公开年报</div>')


def _metadata_grid(report: Report, *, style: str) -> str:
    title = escape(report.title)
    if style == "dl":
        return (f"<dl class=\"xxgk-meta\"><dt>索 引 号：</dt><dd>{report.index_no}</dd>"
                "<dt>主题分类：</dt><dd>综合政务\\政务公开</dd>"
                f"<dt>发布机构：</dt><dd>{escape(report.agency)}</dd><dt>成文日期：</dt><dd>{report.publish_date}</dd>"
                f"<dt>发布日期：</dt><dd>{report.publish_date} 09:30</dd><dt>标　　题：</dt><dd>{title}</dd>"
                "<dt>文　　号：</dt><dd></dd><dt>有 效 性：</dt><dd>有效</dd></dl>")
    return ('<table class="xxgk_table" width="100%"><tbody>'
            f"<tr><td>索引号：</td><td>{report.index_no}</td><td>主题分类：</td><td>综合政务\\政务公开</td></tr>"
            f"<tr><td>发布机构：</td><td>{escape(report.agency)}</td><td>成文日期：</td><td>{report.publish_date}</td></tr>"
            f"<tr><td>标题：</td><td colspan=\"3\">{title}</td></tr>"
            f"<tr><td>文号：</td><td></td><td>发布日期：</td><td>{report.publish_date} 09:30</td></tr>"
            "</tbody></table>")


def render_html(
    report: Report,
    *,
    metadata: str = "table",
    nav_links: int = 40,
    split_requests_at: str | None = None,
    repeat_header: bool = False,
    layout_table: bool = False,
    charset: str = "utf-8",
) -> str:
    """The whole page. ``metadata``: table | dl | none."""
    gen = report.generation
    parts = [f'<div class="title"><h1>{escape(report.title)}</h1></div>',
             '<div class="info">发布时间：' + report.publish_date + ' 09:30 来源：' + escape(report.agency)
             + ' 浏览次数：<span id="hits">128</span> 字体：[<a>大</a> <a>中</a> <a>小</a>]</div>']
    body = [_paras(1, f"本报告根据《中华人民共和国政府信息公开条例》要求编制，统计期限为{report.year}年1月1日至"
                      f"{report.year}年12月31日。本报告电子版可在江城市人民政府门户网站（http://www.jiangcheng.gov.cn）下载。")]
    if gen == "legacy":
        body += ["<p><strong>一、概述</strong></p>", _paras(report.prose_paragraphs),
                 "<p><strong>二、主动公开政府信息情况</strong></p>", _paras(2),
                 "<p><strong>三、依申请公开政府信息情况</strong></p>", _paras(2),
                 "<p><strong>四、政府信息公开的收费及减免情况</strong></p>", _paras(1),
                 "<p><strong>五、因政府信息公开申请行政复议、提起行政诉讼的情况</strong></p>", _paras(1),
                 "<p><strong>六、存在的主要问题及改进情况</strong></p>", _paras(2),
                 f'<p style="text-align:right">{escape(report.agency)}</p>',
                 f'<p style="text-align:right">{report.year + 1}年1月20日</p>',
                 f"<p style=\"text-align:center\"><strong>{report.year}年度{escape(report.agency)}"
                 "政府信息公开工作统计表</strong></p>",
                 legacy_html(report)]
    else:
        body += ['<p style="text-align:center"><strong>一、总体情况</strong></p>', _paras(report.prose_paragraphs),
                 "<p><strong>二、主动公开政府信息情况</strong></p>", active_html(report),
                 "<p><strong>三、收到和处理政府信息公开申请情况</strong></p>",
                 requests_html(report, split_at=split_requests_at, repeat_header=repeat_header),
                 "<p><strong>四、政府信息公开行政复议、行政诉讼情况</strong></p>", review_html(report),
                 "<p><strong>五、存在的主要问题及改进情况</strong></p>", _paras(2),
                 "<p><strong>六、其他需要报告的事项</strong></p>", _paras(1, "本年度未收取信息处理费。"),
                 f'<p style="text-align:right">{escape(report.agency)}</p>',
                 f'<p style="text-align:right">{report.year + 1}年1月20日</p>']
    body.append('<p>附件：<a href="/attach/0/report-2020.pdf">年报全文（PDF）</a></p>')
    content = f'<div id="zoom" class="TRS_Editor">{"".join(body)}</div>'
    if layout_table:
        content = f'<table width="100%"><tr><td class="main">{content}</td></tr></table>'
    meta_html = "" if metadata == "none" else _metadata_grid(report, style=metadata)
    share = ('<div class="bdsharebuttonbox">分享到：<a class="bds_weixin">微信</a><a class="bds_tsina">微博</a></div>'
             '<div class="print">【<a href="javascript:window.print()">打印本页</a>】'
             '【<a href="javascript:window.close()">关闭窗口</a>】</div>')
    footer = ('<div class="footer"><p>主办单位：江城市人民政府办公室</p><p>网站标识码：4201000001 鄂ICP备00000000号</p>'
              '<p>版权所有 江城市人民政府</p></div>')
    return (f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>{escape(report.title)}_江城市人民政府</title>'
            f'<meta name="ArticleTitle" content="{escape(report.title)}">'
            f'<meta name="PubDate" content="{report.publish_date} 09:30">'
            f'<meta name="ContentSource" content="{escape(report.agency)}">'
            '<script>var _hmt = _hmt || []; document.write("<p>一、脚本</p>");</script>'
            '<style>.nav li{float:left}</style></head><body>'
            f'{_chrome_top(nav_links)}<div class="main-content">{meta_html}{"".join(parts)}{content}{share}</div>'
            f"{footer}"
            "</body></html>")
