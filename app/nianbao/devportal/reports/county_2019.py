"""示例县人民政府 2019 (gen2019, UTF-8): a county government's first report in the trial format.

Consistent throughout. Requests, by hand: 自然人 46 new + 2 carried in = 47 handled + 1 carried out; every
other column has no carry-over (商业企业 5 = 5, 法律服务机构 2 = 2, 其他 1 = 1); 总计 54 + 2 = 55 + 1.
Review/litigation: 复议 2+1+0+1 = 4, 直接起诉 1+0+0+1 = 2, 复议后起诉 1+0+0+0 = 1.
采购总金额 carries its unit in the header (万元), so the cell is a bare decimal.
"""

from __future__ import annotations

from datetime import date

from nianbao.devportal.model import Attachment, Presentation, Report, Section
from nianbao.devportal.tables import ZERO7, requests_table, review_table

REPORT = Report(
    id="county-2019",
    doc_id=123456,
    title="示例县人民政府2019年政府信息公开工作年度报告",
    agency="示例县人民政府",
    agency_kind="government",
    year=2019,
    generation="gen2019",
    index_no="11999902MB0000027R/2020-00086",
    topic="综合政务\\政务公开",
    publisher="示例县人民政府办公室",
    written_date=date(2020, 3, 30),
    publish_date=date(2020, 3, 31),
    publish_time="10:15",
    validity="有效",
    signature_body="示例县人民政府办公室",
    signature_date=date(2020, 3, 30),
    attachment=Attachment(
        filename="P020200331512345678901.pdf",
        label="示例县人民政府2019年政府信息公开工作年度报告.pdf",
    ),
    presentation=Presentation(amount_unit_in_header="万元"),
    preamble=(
        "本报告由示例县人民政府办公室根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和"
        "《中华人民共和国政府信息公开工作年度报告格式（试行）》要求编制，内容包括总体情况、主动公开政府信息情况、"
        "收到和处理政府信息公开申请情况、政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况、"
        "其他需要报告的事项。本报告中所列数据的统计期限自2019年1月1日起至2019年12月31日止。"
        "本报告电子版可在示例县人民政府门户网站“政府信息公开”专栏下载。如对本报告有疑问，"
        "请与示例县人民政府办公室联系（地址：示例县人民路88号）。",
    ),
    sections=(
        Section(
            "一、总体情况",
            (
                "2019年，示例县人民政府深入贯彻新修订的《条例》，坚持“以公开为常态、不公开为例外”，"
                "围绕全县重点工作推进政府信息公开，各项工作有序开展。",
                "（一）主动公开。全年通过县政府门户网站主动公开政府信息2368条，其中政策文件71条、政策解读23篇、"
                "财政预决算信息146条、重点项目信息58条；召开新闻发布会6场，及时回应群众关切。",
                "（二）依申请公开。全年共收到政府信息公开申请54件，上年结转2件，办理答复55件，"
                "结转下年度继续办理1件，均在法定期限内作出答复。",
                "（三）政府信息管理。修订《示例县政府信息公开保密审查办法》，落实“先审查、后公开”和“一事一审”制度，"
                "全年开展公开内容合规性检查4次，整改问题信息17条。",
                "（四）平台建设。完成县政府门户网站集约化迁移，规范设置政府信息公开专栏，"
                "将法定主动公开内容调整为16个栏目；开通“示例县发布”政务新媒体，全年推送信息1180条。",
                "（五）监督保障。县政府将政府信息公开工作纳入年度绩效考核，组织专题培训2次，参训130人次；"
                "全年未发生因政府信息公开工作受到责任追究的情形。",
            ),
        ),
        Section("二、主动公开政府信息情况"),
        Section("三、收到和处理政府信息公开申请情况"),
        Section(
            "四、政府信息公开行政复议、行政诉讼情况",
            ("2019年，因政府信息公开工作被申请行政复议4件，提起行政诉讼3件。",),
        ),
        Section(
            "五、存在的主要问题及改进情况",
            (
                "一是部分乡镇和部门对新《条例》理解不够深入，公开内容更新不及时；二是政策解读形式较为单一，"
                "图解、视频解读偏少；三是依申请公开答复文书的规范性有待提高。",
                "2020年，县政府将加强对乡镇和部门的业务指导，按季度通报网站信息更新情况；丰富政策解读形式，"
                "提高图解、视频解读比例；制定依申请公开答复文书参考模板，进一步规范办理流程。",
            ),
        ),
        Section("六、其他需要报告的事项", ("本年度无其他需要报告的事项。",)),
    ),
    tables={
        "active": {
            "regulations.new_made": 0,
            "regulations.new_published": 0,
            "regulations.total_published": 0,
            "normative_docs.new_made": 6,
            "normative_docs.new_published": 6,
            "normative_docs.total_published": 41,
            "licensing.prev_items": 236,
            "licensing.delta": 12,
            "licensing.decisions": 5832,
            "other_services.prev_items": 315,
            "other_services.delta": -7,
            "other_services.decisions": 12406,
            "penalty.prev_items": 1184,
            "penalty.delta": 35,
            "penalty.decisions": 427,
            "coercion.prev_items": 52,
            "coercion.delta": 0,
            "coercion.decisions": 18,
            "fees.prev_items": 27,
            "fees.delta": -2,
            "procurement.projects": 86,
            "procurement.amount_wan": 12580.36,
        },
        "requests": requests_table(
            "gen2019",
            {
                "new": (46, 5, 0, 0, 2, 1, 54),
                "carried_in": (2, 0, 0, 0, 0, 0, 2),
                "granted": (21, 3, 0, 0, 1, 0, 25),
                "partial": (4, 1, 0, 0, 0, 0, 5),
                "denied_state_secret": ZERO7,
                "denied_law_prohibited": ZERO7,
                "denied_security": (1, 0, 0, 0, 0, 0, 1),
                "denied_third_party": (2, 0, 0, 0, 0, 0, 2),
                "denied_internal": (1, 0, 0, 0, 0, 0, 1),
                "denied_process": (2, 0, 0, 0, 1, 0, 3),
                "denied_enforcement": ZERO7,
                "denied_query": (1, 0, 0, 0, 0, 0, 1),
                "unavailable_not_held": (9, 1, 0, 0, 0, 1, 11),
                "unavailable_needs_creation": (2, 0, 0, 0, 0, 0, 2),
                "unavailable_unclear": (1, 0, 0, 0, 0, 0, 1),
                "refused_petition": (2, 0, 0, 0, 0, 0, 2),
                "refused_repeat": (1, 0, 0, 0, 0, 0, 1),
                "refused_publication": ZERO7,
                "refused_mass": ZERO7,
                "refused_confirm": ZERO7,
                "other": ZERO7,
                "results_total": (47, 5, 0, 0, 2, 1, 55),
                "carried_out": (1, 0, 0, 0, 0, 0, 1),
            },
        ),
        "review_litigation": review_table(
            review=(2, 1, 0, 1, 4),
            direct=(1, 0, 0, 1, 2),
            after_review=(1, 0, 0, 0, 1),
        ),
    },
)
