"""示例县人民政府 2018 (legacy, UTF-8): a pre-2019 report with the national 统计表 after the signature.

The 统计表 has three columns (统计指标 | 单位 | 统计数); group rows carry ``——`` in the unit column and no value.
As in many real copies, nothing is written as ``0``: cells with nothing to report are left blank, so the
expected value of those keys is ``None`` (blank), and because the table holds no explicit 0 and every blank
sits where zero is arithmetically consistent, the blank_as_zero policy (report-format.md §3.5) applies.

Sums, by hand: 收到申请数 12 = 当面 3 + 传真 blank + 网络 8 + 信函 1; 申请办结数 12 = 按时 11 + 延期 1;
申请答复数 12 = 已主动公开 2 + 同意 5 + 部分 1 + 不同意 1 + 非本机关 2 + 不存在 1; 不同意公开 1 = 涉及个人隐私 1;
行政复议数量 1 = 维持 1; 行政诉讼数量 blank = its three blank children; 工作人员 27 = 专职 3 + 兼职 24.
Each 其中 row is below its parent (9 ≤ 3265, 2 ≤ 4, 1 ≤ 3) and each channel ≤ 3265.
The 索引号 uses the 9-character 组织机构代码 that the 2019 report's credit code embeds (MB0000027).
"""

from __future__ import annotations

from datetime import date

from nianbao.devportal.model import Report, Section, StatisticsForm

REPORT = Report(
    id="county-2018",
    doc_id=98723,
    title="示例县人民政府2018年度政府信息公开工作报告",
    agency="示例县人民政府",
    agency_kind="government",
    year=2018,
    generation="legacy",
    index_no="MB0000027/2019-00012",
    topic="综合政务",
    publisher="示例县人民政府办公室",
    written_date=date(2019, 3, 27),
    publish_date=date(2019, 3, 28),
    publish_time="08:50",
    signature_body="示例县政务公开领导小组办公室",
    signature_date=date(2019, 3, 26),
    preamble=(
        "根据《中华人民共和国政府信息公开条例》规定，现公布示例县人民政府2018年度政府信息公开工作报告。"
        "本报告中所列数据的统计期限自2018年1月1日起至2018年12月31日止。",
    ),
    sections=(
        Section(
            "一、概述",
            (
                "2018年，示例县以推进决策、执行、管理、服务、结果公开为主线，扎实做好政府信息公开各项工作。"
                "县政府成立由常务副县长任组长的政务公开领导小组，办公室设在县政府办公室，配备专职人员3名，"
                "各乡镇、各部门共确定兼职人员24名。",
            ),
        ),
        Section(
            "二、主动公开政府信息情况",
            (
                "全年主动公开政府信息3265条，其中规范性文件9条。通过县政府门户网站公开3265条，"
                "通过政务微博发布412条，通过政务微信发布1038条。全年回应社会关注热点6次，举办新闻发布会4场，"
                "开展在线访谈3次，发布政策解读稿件15篇。",
            ),
        ),
        Section(
            "三、依申请公开政府信息情况",
            (
                "2018年，全县共收到政府信息公开申请12件，其中当面申请3件、网络申请8件、信函申请1件，"
                "已全部办结，其中按时办结11件、延期办结1件。",
                "答复情况：属于已主动公开范围2件，同意公开5件，同意部分公开1件，不同意公开1件（涉及个人隐私），"
                "不属于本行政机关公开2件，申请信息不存在1件。",
            ),
        ),
        Section("四、政府信息公开咨询处理情况", ("全年接受群众现场和电话咨询214人次，均及时予以解答。",)),
        Section(
            "五、政府信息公开行政复议、行政诉讼情况",
            (
                "2018年，因政府信息公开被申请行政复议1件，经复议维持原具体行政行为；未发生因政府信息公开提起行政诉讼的情况。",
            ),
        ),
        Section("六、政府信息公开的收费及减免情况", ("2018年，未收取政府信息公开相关费用。",)),
        Section(
            "七、存在的主要问题和改进措施",
            (
                "一是个别部门主动公开意识不强，信息发布不够及时；二是政策解读的数量和质量有待提高。"
                "2019年，我县将以贯彻新修订的《条例》为契机，健全公开工作考核制度，加强业务培训，"
                "全面提升政府信息公开工作水平。",
            ),
        ),
    ),
    statistics_form=StatisticsForm(
        title="2018年度示例市示例县政府信息公开工作统计表",
        filler="填报单位（盖章）：示例县人民政府办公室",
        footer=(
            "单位负责人：王某某　　审核人：李某某　　填报人：张某某",
            "联系电话：（略）　　填报日期：2019.3.20",
        ),
    ),
    tables={
        "legacy": {
            "active_total": 3265,
            "active_normative": 9,
            "normative_issued": 9,
            "channel_gazette": None,
            "channel_website": 3265,
            "channel_weibo": 412,
            "channel_wechat": 1038,
            "channel_other": None,
            "hotspot_responses": 6,
            "press_conferences": 4,
            "press_conferences_leaders": 2,
            "online_interviews": 3,
            "online_interviews_leaders": 1,
            "interpretations": 15,
            "weibo_wechat_responses": 6,
            "other_responses": None,
            "requests_received": 12,
            "requests_in_person": 3,
            "requests_fax": None,
            "requests_online": 8,
            "requests_mail": 1,
            "requests_completed": 12,
            "completed_on_time": 11,
            "completed_extended": 1,
            "answers_total": 12,
            "answers_already_public": 2,
            "answers_granted": 5,
            "answers_partial": 1,
            "answers_denied": 1,
            "denied_state_secret": None,
            "denied_commercial_secret": None,
            "denied_privacy": 1,
            "denied_security": None,
            "denied_not_gov_info": None,
            "denied_other_law": None,
            "answers_not_this_agency": 2,
            "answers_not_exist": 1,
            "answers_amend": None,
            "answers_other_channel": None,
            "review_total": 1,
            "review_upheld": 1,
            "review_corrected": None,
            "review_other": None,
            "litigation_total": None,
            "litigation_upheld": None,
            "litigation_corrected": None,
            "litigation_other": None,
            "complaints": None,
            "fees_wan": None,
            "dedicated_units": 1,
            "reading_points": 18,
            "staff_total": 27,
            "staff_fulltime": 3,
            "staff_parttime": 24,
            "budget_wan": 6.5,
            "meetings": 2,
            "trainings": 3,
            "trainees": 186,
        },
    },
)
