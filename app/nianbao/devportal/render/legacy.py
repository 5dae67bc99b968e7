"""The legacy national 统计表 (统计指标 | 单位 | 统计数, report-format.md §2.3), placed after the signature.

Rows are listed in the form's order, which is also the order of ``LEGACY_KEYS``; group rows carry ``——``
in the unit column and an empty value cell.
"""

from __future__ import annotations

from html import escape

from nianbao.devportal.model import Report
from nianbao.devportal.render.cells import table, td, tr

APPENDIX = "appendix"
GROUP_UNIT = "——"

# (label, unit, key); key None marks a group row.
ROWS: tuple[tuple[str, str, str | None], ...] = (
    ("一、主动公开情况", GROUP_UNIT, None),
    ("（一）主动公开政府信息数（不同渠道和方式公开相同信息计1条）", "条", "active_total"),
    ("其中：主动公开规范性文件数", "条", "active_normative"),
    ("制发规范性文件总数", "件", "normative_issued"),
    ("（二）通过不同渠道和方式公开政府信息的情况", GROUP_UNIT, None),
    ("1.政府公报公开政府信息数", "条", "channel_gazette"),
    ("2.政府网站公开政府信息数", "条", "channel_website"),
    ("3.政务微博公开政府信息数", "条", "channel_weibo"),
    ("4.政务微信公开政府信息数", "条", "channel_wechat"),
    ("5.其他方式公开政府信息数", "条", "channel_other"),
    ("二、回应解读情况", GROUP_UNIT, None),
    ("（一）回应公众关注热点或重大舆情数（不同方式回应同一热点或舆情计1次）", "次", "hotspot_responses"),
    ("（二）通过不同渠道和方式回应解读的情况", GROUP_UNIT, None),
    ("1.参加或举办新闻发布会总次数", "次", "press_conferences"),
    ("其中：主要负责同志参加新闻发布会次数", "次", "press_conferences_leaders"),
    ("2.政府网站在线访谈次数", "次", "online_interviews"),
    ("其中：主要负责同志参加政府网站在线访谈次数", "次", "online_interviews_leaders"),
    ("3.政策解读稿件发布数", "篇", "interpretations"),
    ("4.微博微信回应事件数", "次", "weibo_wechat_responses"),
    ("5.其他方式回应事件数", "次", "other_responses"),
    ("三、依申请公开情况", GROUP_UNIT, None),
    ("（一）收到申请数", "件", "requests_received"),
    ("1.当面申请数", "件", "requests_in_person"),
    ("2.传真申请数", "件", "requests_fax"),
    ("3.网络申请数", "件", "requests_online"),
    ("4.信函申请数", "件", "requests_mail"),
    ("（二）申请办结数", "件", "requests_completed"),
    ("1.按时办结数", "件", "completed_on_time"),
    ("2.延期办结数", "件", "completed_extended"),
    ("（三）申请答复数", "件", "answers_total"),
    ("1.属于已主动公开范围数", "件", "answers_already_public"),
    ("2.同意公开答复数", "件", "answers_granted"),
    ("3.同意部分公开答复数", "件", "answers_partial"),
    ("4.不同意公开答复数", "件", "answers_denied"),
    ("其中：涉及国家秘密", "件", "denied_state_secret"),
    ("涉及商业秘密", "件", "denied_commercial_secret"),
    ("涉及个人隐私", "件", "denied_privacy"),
    ("危及国家安全、公共安全、经济安全和社会稳定", "件", "denied_security"),
    ("不是《条例》所指政府信息", "件", "denied_not_gov_info"),
    ("法律法规规定的其他情形", "件", "denied_other_law"),
    ("5.不属于本行政机关公开数", "件", "answers_not_this_agency"),
    ("6.申请信息不存在数", "件", "answers_not_exist"),
    ("7.告知作出更改补充数", "件", "answers_amend"),
    ("8.告知通过其他途径办理数", "件", "answers_other_channel"),
    ("四、行政复议数量", "件", "review_total"),
    ("（一）维持具体行政行为数", "件", "review_upheld"),
    ("（二）被依法纠错数", "件", "review_corrected"),
    ("（三）其他情形数", "件", "review_other"),
    ("五、行政诉讼数量", "件", "litigation_total"),
    ("（一）维持具体行政行为或者驳回原告诉讼请求数", "件", "litigation_upheld"),
    ("（二）被依法纠错数", "件", "litigation_corrected"),
    ("（三）其他情形数", "件", "litigation_other"),
    ("六、举报投诉数量", "件", "complaints"),
    ("七、依申请公开信息收取的费用", "万元", "fees_wan"),
    ("八、机构建设和保障经费情况", GROUP_UNIT, None),
    ("（一）政府信息公开工作专门机构数", "个", "dedicated_units"),
    ("（二）设置政府信息公开查阅点数", "个", "reading_points"),
    ("（三）从事政府信息公开工作人员数", "人", "staff_total"),
    ("1.专职人员数（不包括政府公报及政府网站工作人员数）", "人", "staff_fulltime"),
    ("2.兼职人员数", "人", "staff_parttime"),
    ("（四）政府信息公开专项经费（不包括用于政府公报编辑管理及政府网站建设维护等方面的经费）", "万元", "budget_wan"),
    ("九、政府信息公开会议和培训情况", GROUP_UNIT, None),
    ("（一）召开政府信息公开工作会议或专题会议数", "次", "meetings"),
    ("（二）举办各类培训班数", "次", "trainings"),
    ("（三）接受培训人员数", "人次", "trainees"),
)


def tables(report: Report) -> dict[str, str]:
    """The 统计表 with its title, 填报单位 line and footer, keyed to go after the signature."""
    form = report.statistics_form
    if form is None:
        raise ValueError(f"{report.id}: a legacy report needs its statistics form")
    rows = [tr([td("统 计 指 标"), td("单位"), td("统计数")])]
    for label, unit, key in ROWS:
        value = "" if key is None else report.cell_text("legacy", key)
        rows.append(tr([td(label, align="left"), td(unit), td(value)]))
    parts = [
        f'<p align="center" style="text-align:center;"><strong>{escape(form.title)}</strong></p>',
        f"<p>{escape(form.filler)}</p>",
        table(rows),
        *(f"<p>{escape(line)}</p>" for line in form.footer),
    ]
    return {APPENDIX: "\n".join(parts)}
