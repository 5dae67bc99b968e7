"""示例市市场监督管理局 2021 (gen2021, UTF-8): a department report in the 2021 format.

The rebuilt 主动公开 table (本年制发/废止/现行有效, single-value blocks, 本年收费金额 in 万元) and the three
（六）其他处理 sub-rows. Consistent throughout. Requests per column, new + carried in = handled + carried out,
by hand: 自然人 38+3 = 40+1; 商业企业 12+1 = 12+1; 科研机构 1+0 = 1+0; 社会公益组织 0 = 0;
法律服务机构 3+0 = 2+1; 其他 2+0 = 2+0; 总计 56+4 = 57+3.
Review/litigation: 3+1+0+1 = 5, 1+0+1+1 = 3, 0+0+0+1 = 1 (litigation 3 + 1 = 4, as the prose says).
Part 六 reports a 信息处理费 of 200 元 in prose (not a table cell).
"""

from __future__ import annotations

from datetime import date

from nianbao.devportal.model import Report, Section
from nianbao.devportal.tables import ZERO7, requests_table, review_table

REPORT = Report(
    id="market-2021",
    doc_id=243071,
    title="示例市市场监督管理局2021年政府信息公开工作年度报告",
    agency="示例市市场监督管理局",
    agency_kind="department",
    year=2021,
    generation="gen2021",
    index_no="11999900MB0000203J/2022-00017",
    topic="市场监管、安全生产监管",
    publisher="示例市市场监督管理局",
    written_date=date(2022, 1, 25),
    publish_date=date(2022, 1, 26),
    publish_time="11:20",
    validity="有效",
    signature_body="示例市市场监督管理局",
    signature_date=date(2022, 1, 25),
    preamble=(
        "本报告依据《中华人民共和国政府信息公开条例》和《中华人民共和国政府信息公开工作年度报告格式》"
        "（国办公开办函〔2021〕30号）编制。本报告所列数据的统计期限从2021年1月1日到12月31日止。"
        "如对本报告有疑问，请与示例市市场监督管理局办公室联系。",
    ),
    sections=(
        Section(
            "一、总体情况",
            (
                "2021年，示例市市场监督管理局以优化营商环境和守住安全底线为重点，"
                "推进市场监管领域政府信息公开，公开质量和实效持续提升。",
                "（一）主动公开。全年主动公开政府信息1846条，其中行政许可信息823条、行政处罚信息612条、"
                "食品安全监督抽检信息214条；发布政策解读17篇。",
                "（二）依申请公开。全年共收到政府信息公开申请56件，上年结转4件，办理答复57件，结转下年度继续办理3件。"
                "申请内容主要涉及企业登记档案、行政处罚决定和食品抽检结果。",
                "（三）政府信息管理。完成本局行政规范性文件清理，制发4件、废止2件，现行有效23件，"
                "目录在门户网站集中公开并动态更新。",
                "（四）平台建设。在门户网站开设“双随机、一公开”专栏，按季度公开抽查计划和抽查结果；"
                "企业信用信息公示系统归集市场主体信息同步更新。",
                "（五）监督保障。局党组专题研究政务公开工作2次，开展业务培训3次，参训156人次；"
                "将公开工作纳入科室年度考核，未发生责任追究情形。",
            ),
        ),
        Section("二、主动公开政府信息情况"),
        Section("三、收到和处理政府信息公开申请情况"),
        Section(
            "四、政府信息公开行政复议、行政诉讼情况",
            ("2021年，本局因政府信息公开工作被申请行政复议5件，提起行政诉讼4件。",),
        ),
        Section(
            "五、政府信息公开工作存在的主要问题及改进情况",
            (
                "一是基层市场监管所公开工作力量较为薄弱；二是部分抽检结果公开时限偏长；"
                "三是政策解读中图解、问答等形式运用不够。",
                "2022年，本局将加强对基层所的业务指导，压缩抽检结果公开时限，丰富政策解读形式。",
            ),
        ),
        Section(
            "六、其他需要报告的事项",
            (
                "根据《政府信息公开信息处理费管理办法》，本年度共收取信息处理费200元。",
                "本局2021年政务公开工作要点确定的各项任务已全部完成。",
            ),
        ),
    ),
    tables={
        "active": {
            "regulations.issued": 0,
            "regulations.repealed": 0,
            "regulations.in_force": 0,
            "normative_docs.issued": 4,
            "normative_docs.repealed": 2,
            "normative_docs.in_force": 23,
            "licensing.decisions": 18426,
            "penalty.decisions": 1236,
            "coercion.decisions": 87,
            "fees.amount_wan": 35.62,
        },
        "requests": requests_table(
            "gen2021",
            {
                "new": (38, 12, 1, 0, 3, 2, 56),
                "carried_in": (3, 1, 0, 0, 0, 0, 4),
                "granted": (14, 5, 1, 0, 1, 0, 21),
                "partial": (3, 1, 0, 0, 0, 0, 4),
                "denied_state_secret": ZERO7,
                "denied_law_prohibited": (1, 0, 0, 0, 0, 0, 1),
                "denied_security": ZERO7,
                "denied_third_party": (2, 1, 0, 0, 0, 0, 3),
                "denied_internal": ZERO7,
                "denied_process": (1, 0, 0, 0, 0, 0, 1),
                "denied_enforcement": (1, 0, 0, 0, 0, 0, 1),
                "denied_query": (2, 0, 0, 0, 0, 0, 2),
                "unavailable_not_held": (8, 2, 0, 0, 1, 1, 12),
                "unavailable_needs_creation": (1, 0, 0, 0, 0, 0, 1),
                "unavailable_unclear": (1, 0, 0, 0, 0, 1, 2),
                "refused_petition": (3, 0, 0, 0, 0, 0, 3),
                "refused_repeat": (1, 1, 0, 0, 0, 0, 2),
                "refused_publication": ZERO7,
                "refused_mass": ZERO7,
                "refused_confirm": (1, 0, 0, 0, 0, 0, 1),
                "other_no_correction": (1, 1, 0, 0, 0, 0, 2),
                "other_fee_unpaid": ZERO7,
                "other_misc": (0, 1, 0, 0, 0, 0, 1),
                "results_total": (40, 12, 1, 0, 2, 2, 57),
                "carried_out": (1, 1, 0, 0, 1, 0, 3),
            },
        ),
        "review_litigation": review_table(
            review=(3, 1, 0, 1, 5),
            direct=(1, 0, 1, 1, 3),
            after_review=(0, 0, 0, 1, 1),
        ),
    },
)
