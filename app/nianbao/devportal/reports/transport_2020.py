"""示例市交通运输局 2020 (gen2019, UTF-8): a department report whose requests table does not balance.

The source error, on purpose: the 自然人 column reads 5 new + 1 carried in = 6, but only 4 handled + 1
carried out = 5; the bureau counted the carried-in request as if it were new and still handled it once.
Every row total is right (5+1 = 6 new; 2+1 = 3 granted; 4+1 = 5 handled), and the results rows add up to
(七)总计 in every column (自然人 2+1+1 = 4, 商业企业 1 = 1), so the only failures are ``requests.balance``:
自然人 6 ≠ 5 and, because 总计 is the row sum of the applicant columns, 总计 7 ≠ 6. 商业企业 balances
(1+0 = 1+0) and the other columns are all zero. The prose repeats the table's figures, error included.

Also: 采购总金额 ``1268.4375(万元)`` (unit in the cell, already 万元) and a signed delta ``-3``.
"""

from __future__ import annotations

from datetime import date

from nianbao.devportal.model import Report, Section
from nianbao.devportal.tables import ZERO7, requests_table, review_table

REPORT = Report(
    id="transport-2020",
    doc_id=187342,
    title="示例市交通运输局2020年政府信息公开工作年度报告",
    agency="示例市交通运输局",
    agency_kind="department",
    year=2020,
    generation="gen2019",
    index_no="11999900MB0000115P/2021-00004",
    topic="交通运输",
    publisher="示例市交通运输局",
    written_date=date(2021, 1, 26),
    publish_date=date(2021, 1, 27),
    publish_time="09:05",
    signature_body="示例市交通运输局",
    signature_date=date(2021, 1, 26),
    preamble=(
        "本报告根据《中华人民共和国政府信息公开条例》和《中华人民共和国政府信息公开工作年度报告格式（试行）》编制，"
        "统计期限为2020年1月1日至2020年12月31日。",
    ),
    sections=(
        Section(
            "一、总体情况",
            (
                "2020年，示例市交通运输局围绕交通运输重点工作推进政府信息公开，"
                "做好疫情防控期间交通管控和运输保障信息发布。",
                "（一）主动公开。全年在局门户网站主动公开各类信息612条，发布疫情防控交通管控通告19期，"
                "公开重点交通建设项目批准和实施信息47条。",
                "（二）依申请公开。全年共收到政府信息公开申请6件，上年结转1件，办理答复5件，结转下年度继续办理1件。",
                "（三）政府信息管理。建立公文公开属性源头认定机制，拟稿时同步确定公开属性；"
                "全年清理规范性文件9件，宣布失效2件。",
                "（四）平台建设。优化门户网站“政府信息公开”专栏，新增“重点领域信息公开”子栏目；"
                "依托“示例交通”微信公众号发布出行服务信息530条。",
                "（五）监督保障。将政府信息公开工作纳入局机关年度目标考核，开展业务培训1次，参训45人次。",
            ),
        ),
        Section("二、主动公开政府信息情况"),
        Section("三、收到和处理政府信息公开申请情况"),
        Section(
            "四、政府信息公开行政复议、行政诉讼情况",
            ("2020年，本局未发生因政府信息公开工作被申请行政复议、提起行政诉讼的情况。",),
        ),
        Section(
            "五、存在的主要问题及改进情况",
            (
                "一是主动公开信息的时效性有待提高，个别项目信息更新滞后；二是依申请公开办理台账登记不够及时，"
                "统计口径不够统一。",
                "2021年，本局将建立信息更新提醒机制，按月核对依申请公开办理台账，确保年度统计数据准确。",
            ),
        ),
        Section("六、其他需要报告的事项", ("本年度无其他需要报告的事项。",)),
    ),
    tables={
        "active": {
            "regulations.new_made": 0,
            "regulations.new_published": 0,
            "regulations.total_published": 0,
            "normative_docs.new_made": 3,
            "normative_docs.new_published": 3,
            "normative_docs.total_published": 17,
            "licensing.prev_items": 48,
            "licensing.delta": 2,
            "licensing.decisions": 9315,
            "other_services.prev_items": 21,
            "other_services.delta": -1,
            "other_services.decisions": 2264,
            "penalty.prev_items": 312,
            "penalty.delta": -9,
            "penalty.decisions": 1587,
            "coercion.prev_items": 11,
            "coercion.delta": 0,
            "coercion.decisions": 46,
            "fees.prev_items": 6,
            "fees.delta": -3,
            "procurement.projects": 9,
            "procurement.amount_wan": 1268.4375,
        },
        "requests": requests_table(
            "gen2019",
            {
                "new": (5, 1, 0, 0, 0, 0, 6),
                "carried_in": (1, 0, 0, 0, 0, 0, 1),
                "granted": (2, 1, 0, 0, 0, 0, 3),
                "partial": (1, 0, 0, 0, 0, 0, 1),
                "denied_state_secret": ZERO7,
                "denied_law_prohibited": ZERO7,
                "denied_security": ZERO7,
                "denied_third_party": ZERO7,
                "denied_internal": ZERO7,
                "denied_process": ZERO7,
                "denied_enforcement": ZERO7,
                "denied_query": ZERO7,
                "unavailable_not_held": (1, 0, 0, 0, 0, 0, 1),
                "unavailable_needs_creation": ZERO7,
                "unavailable_unclear": ZERO7,
                "refused_petition": ZERO7,
                "refused_repeat": ZERO7,
                "refused_publication": ZERO7,
                "refused_mass": ZERO7,
                "refused_confirm": ZERO7,
                "other": ZERO7,
                "results_total": (4, 1, 0, 0, 0, 0, 5),
                "carried_out": (1, 0, 0, 0, 0, 0, 1),
            },
        ),
        "review_litigation": review_table(
            review=(0, 0, 0, 0, 0),
            direct=(0, 0, 0, 0, 0),
            after_review=(0, 0, 0, 0, 0),
        ),
    },
    raw={"active/procurement.amount_wan": "1268.4375(万元)"},
    failing_rules=(("requests.balance", "natural"), ("requests.balance", "total")),
)
