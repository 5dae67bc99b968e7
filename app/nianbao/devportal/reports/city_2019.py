"""示例市人民政府 2019 (gen2019, UTF-8): a city-wide report whose cells carry real-world decorations.

Decorations a parser must see through: ``8(含2018年结转1件)`` (an annotation; the value is 8), ``-3`` and
``-78`` (signed deltas), ``36.85亿元`` (money with its unit in the cell: 36.85 × 10000 = 368500 万元), spaced
header labels, and the title repeated inside the body. The title names the place only (示例市); the agency
comes from the 发布机构 metadata.

Consistent throughout. Requests per column, new + carried in = handled + carried out, by hand:
自然人 412+9 = 413+8; 商业企业 37+1 = 35+3; 科研机构 4+0 = 3+1; 社会公益组织 2+0 = 2+0;
法律服务机构 15+0 = 13+2; 其他 6+0 = 5+1; 总计 476+10 = 471+15.
Review/litigation: 18+3+2+4 = 27, 9+1+2+5 = 17, 3+0+1+2 = 6 (litigation 17 + 6 = 23, as the prose says).
"""

from __future__ import annotations

from datetime import date

from nianbao.devportal.model import Attachment, Presentation, Report, Section
from nianbao.devportal.tables import requests_table, review_table

REPORT = Report(
    id="city-2019",
    doc_id=123418,
    title="示例市2019年政府信息公开工作年度报告",
    agency="示例市人民政府",
    agency_kind="government",
    year=2019,
    generation="gen2019",
    index_no="11999900MB0000019D/2020-01127",
    topic="综合政务",
    publisher="示例市人民政府",
    written_date=date(2020, 3, 27),
    publish_date=date(2020, 3, 30),
    publish_time="16:40",
    signature_body="示例市人民政府办公室",
    signature_date=date(2020, 3, 27),
    attachment=Attachment(
        filename="P020200330598120374456.pdf",
        label="示例市2019年政府信息公开工作年度报告（PDF版）.pdf",
    ),
    presentation=Presentation(spaced_headers=True, title_in_body=True),
    preamble=(
        "根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《中华人民共和国政府信息公开工作年度报告格式"
        "（试行）》要求，编制本报告。本报告中所列数据的统计期限自2019年1月1日起至2019年12月31日止。",
    ),
    sections=(
        Section(
            "一、总体情况",
            (
                "2019年，示例市各级行政机关认真贯彻新修订的《条例》，以企业和群众需求为导向，推进决策、执行、管理、"
                "服务、结果公开，全市政府信息公开工作质量稳步提升。",
                "（一）主动公开。全市各级行政机关全年主动公开政府信息41.7万条，其中市本级12.3万条。"
                "在门户网站设立营商环境政策专区，集中发布涉企政策文件183件，并梳理公布市级权责清单事项2375项。",
                "（二）依申请公开。全市共收到政府信息公开申请476件，上年结转10件，办理答复471件，"
                "结转下年度继续办理15件。申请内容集中在征地拆迁、规划许可和社会保障等领域。",
                "（三）政府信息管理。全面清理市政府规章和行政规范性文件，废止规章2件、行政规范性文件31件，"
                "在门户网站集中公开现行有效文件目录。",
                "（四）平台建设。推进政府网站集约化，市、县两级政府网站统一接入市级平台；"
                "政务新媒体清理整合后保留127个，全部纳入常态化监管。",
                "（五）监督保障。将政务公开纳入市政府对各县（市、区）和市级部门的年度目标考核，权重不低于4%；"
                "组织全市政务公开业务培训3期，参训420人次。",
            ),
        ),
        Section("二、主动公开政府信息情况"),
        Section("三、收到和处理政府信息公开申请情况"),
        Section(
            "四、政府信息公开行政复议、行政诉讼情况",
            ("2019年，全市因政府信息公开工作被申请行政复议27件，提起行政诉讼23件。",),
        ),
        Section(
            "五、存在的主要问题及改进情况",
            (
                "一是部分县（市、区）和部门公开工作发展不平衡，基层公开标准化规范化建设进度较慢；"
                "二是政策解读的针对性和可读性有待增强；三是依申请公开答复中法律适用不够准确的情况仍有发生。",
                "2020年，我市将加快基层政务公开标准目录编制，扩大政策解读覆盖面，"
                "开展依申请公开答复文书案例评析，提升答复质量。",
            ),
        ),
        Section(
            "六、其他需要报告的事项",
            ("2019年，全市政府信息公开工作考核结果已在门户网站公布，未发生因政府信息公开工作被追究责任的情况。",),
        ),
    ),
    tables={
        "active": {
            "regulations.new_made": 3,
            "regulations.new_published": 3,
            "regulations.total_published": 58,
            "normative_docs.new_made": 7,
            "normative_docs.new_published": 8,
            "normative_docs.total_published": 214,
            "licensing.prev_items": 684,
            "licensing.delta": -3,
            "licensing.decisions": 412365,
            "other_services.prev_items": 1523,
            "other_services.delta": -78,
            "other_services.decisions": 983127,
            "penalty.prev_items": 3210,
            "penalty.delta": 46,
            "penalty.decisions": 25873,
            "coercion.prev_items": 168,
            "coercion.delta": -5,
            "coercion.decisions": 3409,
            "fees.prev_items": 38,
            "fees.delta": 0,
            "procurement.projects": 2687,
            "procurement.amount_wan": 368500.0,
        },
        "requests": requests_table(
            "gen2019",
            {
                "new": (412, 37, 4, 2, 15, 6, 476),
                "carried_in": (9, 1, 0, 0, 0, 0, 10),
                "granted": (168, 15, 2, 1, 6, 2, 194),
                "partial": (21, 3, 0, 0, 1, 0, 25),
                "denied_state_secret": (2, 0, 0, 0, 0, 0, 2),
                "denied_law_prohibited": (3, 0, 0, 0, 0, 0, 3),
                "denied_security": (4, 1, 0, 0, 0, 0, 5),
                "denied_third_party": (11, 2, 0, 0, 1, 0, 14),
                "denied_internal": (6, 0, 0, 0, 0, 0, 6),
                "denied_process": (9, 1, 0, 0, 0, 0, 10),
                "denied_enforcement": (3, 0, 0, 0, 0, 0, 3),
                "denied_query": (7, 0, 0, 0, 0, 0, 7),
                "unavailable_not_held": (97, 8, 1, 1, 4, 2, 113),
                "unavailable_needs_creation": (15, 2, 0, 0, 0, 0, 17),
                "unavailable_unclear": (12, 1, 0, 0, 0, 1, 14),
                "refused_petition": (24, 0, 0, 0, 0, 0, 24),
                "refused_repeat": (13, 1, 0, 0, 0, 0, 14),
                "refused_publication": (2, 0, 0, 0, 0, 0, 2),
                "refused_mass": (5, 0, 0, 0, 0, 0, 5),
                "refused_confirm": (3, 0, 0, 0, 0, 0, 3),
                "other": (8, 1, 0, 0, 1, 0, 10),
                "results_total": (413, 35, 3, 2, 13, 5, 471),
                "carried_out": (8, 3, 1, 0, 2, 1, 15),
            },
        ),
        "review_litigation": review_table(
            review=(18, 3, 2, 4, 27),
            direct=(9, 1, 2, 5, 17),
            after_review=(3, 0, 1, 2, 6),
        ),
    },
    raw={
        "active/normative_docs.new_published": "8(含2018年结转1件)",
        "active/procurement.amount_wan": "36.85亿元",
    },
)
