"""示例市示范区人民政府 2022 (gen2021, **GBK**): a district report served as GBK bytes.

The charset is declared only by ``<meta charset="gbk">``; the HTTP ``Content-Type`` says ``text/html`` with
no charset, as on many older county sub-sites, so a client that trusts the header or defaults to UTF-8
gets mojibake and must sniff the meta tag (decode as gb18030, the GBK superset). The title puts the year
first (``2022年示例市示范区…``) and the 索引号 carries a YYYYMM period.

Consistent throughout. Requests per column, new + carried in = handled + carried out, by hand:
自然人 63+5 = 67+1; 商业企业 4 = 4; 社会公益组织 1 = 1; 法律服务机构 2 = 2; 科研机构 and 其他 0;
总计 70+5 = 74+1. Review/litigation: 2+0+1+0 = 3, 0+1+0+0 = 1, all-zero 复议后起诉.
"""

from __future__ import annotations

from datetime import date

from nianbao.devportal.model import Presentation, Report, Section
from nianbao.devportal.tables import ZERO7, requests_table, review_table

REPORT = Report(
    id="district-2022",
    doc_id=318265,
    title="2022年示例市示范区政府信息公开工作年度报告",
    agency="示例市示范区人民政府",
    agency_kind="government",
    year=2022,
    generation="gen2021",
    index_no="11999903MB0000318K/202303-00009",
    topic="政务公开",
    publisher="示例市示范区人民政府办公室",
    written_date=date(2023, 3, 29),
    publish_date=date(2023, 3, 30),
    publish_time="15:02",
    signature_body="示例市示范区人民政府办公室",
    signature_date=date(2023, 3, 29),
    encoding="gbk",
    presentation=Presentation(spaced_headers=True),
    preamble=(
        "本年度报告根据《中华人民共和国政府信息公开条例》和《中华人民共和国政府信息公开工作年度报告格式》要求，"
        "由示例市示范区人民政府办公室编制。全文包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、"
        "政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项。"
        "本报告所列数据的统计期限为2022年1月1日至2022年12月31日。",
    ),
    sections=(
        Section(
            "一、总体情况",
            (
                "2022年，示范区坚持以人民为中心，把政务公开作为建设法治政府、服务型政府的重要抓手，"
                "推动公开工作向基层延伸。",
                "（一）主动公开。全区主动公开政府信息5127条，其中区政府及其办公室文件38件、政策解读41篇；"
                "“示范区发布”政务新媒体推送信息2316条。",
                "（二）依申请公开。全区共收到政府信息公开申请70件，上年结转5件，办理答复74件，结转下年度继续办理1件。"
                "申请主要涉及房屋征收补偿、土地利用规划和教育资源配置。",
                "（三）政府信息管理。完善公开前保密审查和公开后动态调整机制，对涉及个人隐私的行政处罚决定按期撤下，"
                "全年撤下到期信息96条。",
                "（四）平台建设。区政府门户网站改版上线，政府信息公开专栏按法定主动公开内容分为15个栏目，"
                "街道便民服务中心全部设立政务公开专区。",
                "（五）监督保障。区政府将政务公开纳入街道和区级部门年度综合考核；组织培训2次，参训168人次；"
                "聘请社会监督员12名，开展社会评议1次。",
            ),
        ),
        Section("二、主动公开政府信息情况"),
        Section("三、收到和处理政府信息公开申请情况"),
        Section(
            "四、政府信息公开行政复议、行政诉讼情况",
            ("2022年，全区因政府信息公开工作被申请行政复议3件，提起行政诉讼1件。",),
        ),
        Section(
            "五、存在的主要问题及改进情况",
            (
                "一是部分街道公开专区使用率不高；二是依申请公开办理中征询第三方意见的程序还需规范；"
                "三是政策解读与文件同步发布的比例有待提高。",
                "2023年，示范区将完善公开专区运行管理，细化征询第三方意见工作规程，"
                "落实政策文件与解读材料同步起草、同步审签、同步发布。",
            ),
        ),
        Section(
            "六、其他需要报告的事项",
            ("本年度未收取信息处理费。全区2022年政务公开工作要点确定的任务均已完成。",),
        ),
    ),
    tables={
        "active": {
            "regulations.issued": 0,
            "regulations.repealed": 0,
            "regulations.in_force": 0,
            "normative_docs.issued": 5,
            "normative_docs.repealed": 1,
            "normative_docs.in_force": 37,
            "licensing.decisions": 6748,
            "penalty.decisions": 942,
            "coercion.decisions": 31,
            "fees.amount_wan": 0.0,
        },
        "requests": requests_table(
            "gen2021",
            {
                "new": (63, 4, 0, 1, 2, 0, 70),
                "carried_in": (5, 0, 0, 0, 0, 0, 5),
                "granted": (27, 2, 0, 1, 1, 0, 31),
                "partial": (6, 0, 0, 0, 0, 0, 6),
                "denied_state_secret": ZERO7,
                "denied_law_prohibited": ZERO7,
                "denied_security": (1, 0, 0, 0, 0, 0, 1),
                "denied_third_party": (3, 0, 0, 0, 0, 0, 3),
                "denied_internal": (1, 0, 0, 0, 0, 0, 1),
                "denied_process": (2, 1, 0, 0, 0, 0, 3),
                "denied_enforcement": ZERO7,
                "denied_query": (1, 0, 0, 0, 0, 0, 1),
                "unavailable_not_held": (14, 1, 0, 0, 1, 0, 16),
                "unavailable_needs_creation": (2, 0, 0, 0, 0, 0, 2),
                "unavailable_unclear": (2, 0, 0, 0, 0, 0, 2),
                "refused_petition": (4, 0, 0, 0, 0, 0, 4),
                "refused_repeat": (2, 0, 0, 0, 0, 0, 2),
                "refused_publication": (1, 0, 0, 0, 0, 0, 1),
                "refused_mass": ZERO7,
                "refused_confirm": ZERO7,
                "other_no_correction": (1, 0, 0, 0, 0, 0, 1),
                "other_fee_unpaid": ZERO7,
                "other_misc": ZERO7,
                "results_total": (67, 4, 0, 1, 2, 0, 74),
                "carried_out": (1, 0, 0, 0, 0, 0, 1),
            },
        ),
        "review_litigation": review_table(
            review=(2, 0, 1, 0, 3),
            direct=(0, 1, 0, 0, 1),
            after_review=(0, 0, 0, 0, 0),
        ),
    },
)
