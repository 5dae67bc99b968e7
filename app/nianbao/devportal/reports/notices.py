"""Items of the 年报 column that are not disclosure reports; a crawler must drop them by title.

Each one matches an exclusion pattern of portals.md §1.3: ``年度报告格式`` (even though the title also
contains 政府信息公开工作年度报告), ``网站.*年度报表`` and ``政府工作报告``.
"""

from __future__ import annotations

from datetime import date

from nianbao.devportal.model import Notice

FORMAT_NOTICE = Notice(
    id="notice-format-2021",
    doc_id=226518,
    title="关于转发《中华人民共和国政府信息公开工作年度报告格式》的通知",
    publisher="示例市人民政府办公室",
    publish_date=date(2021, 10, 12),
    publish_time="17:30",
    paragraphs=(
        "各县（市、区）人民政府，市政府各部门：",
        "现将国务院办公厅政府信息公开办公室印发的《中华人民共和国政府信息公开工作年度报告格式》转发给你们，"
        "自2021年度报告起执行。请各单位按新格式编制并按时发布本机关政府信息公开工作年度报告，"
        "发布后将链接报市政府办公室备案。",
        "示例市人民政府办公室",
        "2021年10月12日",
    ),
)

WEBSITE_FORM = Notice(
    id="website-form-2020",
    doc_id=185907,
    title="示例市人民政府门户网站2020年政府网站工作年度报表",
    publisher="示例市人民政府办公室",
    publish_date=date(2021, 1, 15),
    publish_time="10:00",
    paragraphs=(
        "网站名称：示例市人民政府门户网站。",
        "2020年，门户网站发布信息总数18362条，其中概况类信息212条、政务动态信息9870条、信息公开目录信息8280条；"
        "办理网民留言1437条，平均办理时限4.2天；发布解读信息96条。",
    ),
)

WORK_REPORT = Notice(
    id="work-report-2022",
    doc_id=251334,
    title="2022年示例市人民政府工作报告",
    publisher="示例市人民政府",
    publish_date=date(2022, 2, 10),
    publish_time="09:00",
    paragraphs=(
        "——2022年1月20日在示例市第十届人民代表大会第二次会议上",
        "各位代表：现在，我代表市人民政府，向大会报告工作，请予审议，并请市政协委员和其他列席人员提出意见。",
        "过去一年，全市地区生产总值增长7.1%，一般公共预算收入增长9.4%，城乡居民人均可支配收入分别增长"
        "7.6%和9.8%，经济社会发展主要目标任务圆满完成。",
    ),
)

NOTICES: tuple[Notice, ...] = (FORMAT_NOTICE, WEBSITE_FORM, WORK_REPORT)
