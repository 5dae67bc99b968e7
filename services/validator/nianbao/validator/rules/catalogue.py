"""The rule catalogue (report-format.md §3.2) as data: one entry per rule, in evaluation order.

Adding a rule: write its check function in the module of its table, add one entry here. Changing a
rule's logic: bump its ``version``; ``RULES_VERSION`` then changes with it.
"""

from __future__ import annotations

import hashlib

from nianbao.validator.rules import active, copies, legacy, meta, peers, requests, review, sources, text, xyear
from nianbao.validator.rules.model import ALL_GENERATIONS, GEN2019, GEN2021, LEGACY, MODERN, RuleSpec

CATALOGUE: tuple[RuleSpec, ...] = (
    # --- T3 requests. results_sum runs before balance (§3.4): they localise different errors.
    RuleSpec(id="requests.row_total", severity="error", generations=MODERN, version=1, check=requests.row_total,
             table="requests", blank_test=True,
             description="per row: the six applicant columns add up to 总计"),
    RuleSpec(id="requests.results_sum", severity="error", generations=MODERN, version=1, check=requests.results_sum,
             table="requests", blank_test=True,
             description="per column: result rows (一)…(六) add up to (七)总计"),
    RuleSpec(id="requests.balance", severity="error", generations=MODERN, version=1, check=requests.balance,
             table="requests", blank_test=True,
             description="per column: 新收 + 上年结转 = (七)总计 + 结转下年度 (the official 勾稽关系)"),
    RuleSpec(id="requests.other_split", severity="error", generations=GEN2021, version=1,
             check=requests.other_split, table="requests",
             description="gen2021: (六)其他处理 has its three sub-rows, not a single gen2019 row"),
    RuleSpec(id="requests.nonneg_int", severity="error", generations=MODERN, version=1, check=requests.nonneg_int,
             table="requests", description="per row: every value is an integer ≥ 0"),
    RuleSpec(id="requests.shape", severity="error", generations=MODERN, version=1, check=requests.shape,
             table="requests", description="every template row present, none with more than 7 value cells"),
    # --- T4 review / litigation
    RuleSpec(id="review.total", severity="error", generations=MODERN, version=1, check=review.review_total,
             table="review_litigation", blank_test=True,
             description="行政复议: 维持 + 纠正 + 其他 + 尚未审结 = 总计"),
    RuleSpec(id="litigation.direct_total", severity="error", generations=MODERN, version=1,
             check=review.direct_total, table="review_litigation", blank_test=True,
             description="未经复议直接起诉: 维持 + 纠正 + 其他 + 尚未审结 = 总计"),
    RuleSpec(id="litigation.after_review_total", severity="error", generations=MODERN, version=1,
             check=review.after_review_total, table="review_litigation", blank_test=True,
             description="复议后起诉: 维持 + 纠正 + 其他 + 尚未审结 = 总计"),
    RuleSpec(id="reviewlit.nonneg_int", severity="error", generations=MODERN, version=1, check=review.nonneg_int,
             table="review_litigation", description="all 15 values are integers ≥ 0"),
    # --- T2 active disclosure
    RuleSpec(id="active.nonneg", severity="error", generations=ALL_GENERATIONS, version=1, check=active.nonneg,
             table="active", description="counts and money ≥ 0; only 本年增/减 may be negative"),
    RuleSpec(id="active19.delta_floor", severity="error", generations=GEN2019, version=1, check=active.delta_floor,
             table="active", blank_test=True,
             description="(五)(六)(八): 上一年项目数量 + 本年增/减 ≥ 0"),
    RuleSpec(id="active19.new_le_total", severity="warn", generations=GEN2019, version=1,
             check=active.new_le_total, table="active", blank_test=True,
             description="(一): 本年新制作数量 and 本年新公开数量 ≤ 对外公开总数量"),
    RuleSpec(id="active19.money_unit", severity="warn", generations=GEN2019, version=1, check=active.money_unit,
             table="active", description="a non-zero 采购总金额 has a resolved unit (header or cell)"),
    RuleSpec(id="active21.fee_unit", severity="info", generations=GEN2021, version=1, check=active.fee_unit,
             table="active", description="本年收费金额 is in 万元; 元/亿元 cells were converted, not read raw"),
    RuleSpec(id="active21.valid_plausible", severity="warn", generations=GEN2021, version=1,
             check=active.valid_plausible, table="active",
             description="现行有效件数 ≥ 0, and not 0 when 本年制发件数 > 0"),
    # --- legacy 统计表
    RuleSpec(id="legacy.received_channels", severity="error", generations=LEGACY, version=1,
             check=legacy.received_channels, table="legacy", blank_test=True,
             description="收到申请数 = 当面 + 传真 + 网络 + 信函"),
    RuleSpec(id="legacy.completed_split", severity="error", generations=LEGACY, version=1,
             check=legacy.completed_split, table="legacy", blank_test=True,
             description="申请办结数 = 按时办结数 + 延期办结数"),
    RuleSpec(id="legacy.answers_sum", severity="error", generations=LEGACY, version=1, check=legacy.answers_sum,
             table="legacy", blank_test=True, description="申请答复数 = Σ items 1–8"),
    RuleSpec(id="legacy.refusal_reasons", severity="warn", generations=LEGACY, version=1,
             check=legacy.refusal_reasons, table="legacy", blank_test=True,
             description="不同意公开答复数 = Σ its six 其中 reasons"),
    RuleSpec(id="legacy.review_sum", severity="error", generations=LEGACY, version=1, check=legacy.review_sum,
             table="legacy", blank_test=True, description="行政复议数量 = 维持 + 纠错 + 其他情形"),
    RuleSpec(id="legacy.litigation_sum", severity="error", generations=LEGACY, version=1,
             check=legacy.litigation_sum, table="legacy", blank_test=True,
             description="行政诉讼数量 = 维持/驳回 + 纠错 + 其他情形"),
    RuleSpec(id="legacy.staff_sum", severity="error", generations=LEGACY, version=1, check=legacy.staff_sum,
             table="legacy", blank_test=True, description="从事政府信息公开工作人员数 = 专职 + 兼职"),
    RuleSpec(id="legacy.of_which", severity="warn", generations=LEGACY, version=1, check=legacy.of_which,
             table="legacy", blank_test=True, description="every 其中 row ≤ its parent"),
    RuleSpec(id="legacy.channel_le_total", severity="warn", generations=LEGACY, version=1,
             check=legacy.channel_le_total, table="legacy",
             description="each publication channel ≤ 主动公开政府信息数"),
    RuleSpec(id="legacy.answered_le_received", severity="warn", generations=LEGACY, version=1,
             check=legacy.answered_le_received, table="legacy",
             description="申请办结数 and 申请答复数 ≤ 收到申请数"),
    # --- narrative
    RuleSpec(id="text.requests_new", severity="warn", generations=ALL_GENERATIONS, version=1,
             check=text.requests_new, description="narrative 收到/受理…申请N件 = 本年新收 总计"),
    RuleSpec(id="text.requests_done", severity="warn", generations=ALL_GENERATIONS, version=1,
             check=text.requests_done, description="narrative 办理/答复N件 = (七)总计 总计"),
    RuleSpec(id="text.reviewlit", severity="warn", generations=ALL_GENERATIONS, version=1, check=text.reviewlit,
             description="narrative 行政复议/行政诉讼 counts = the T4 totals"),
    RuleSpec(id="text.zero_claim", severity="warn", generations=ALL_GENERATIONS, version=1,
             check=text.zero_claim, description="narrative 无…行政复议/诉讼, 未收到…申请 ⇒ matching totals are 0"),
    RuleSpec(id="text.offsite_url", severity="warn", generations=ALL_GENERATIONS, version=1,
             check=text.offsite_url, description="web addresses are on *.gov.cn or the site's own hosts"),
    # issue 14: what a peer tool checks (carry-over, received, fees, part 五) and copies across years
    RuleSpec(id="text.requests_carried_in", severity="warn", generations=ALL_GENERATIONS, version=1,
             check=peers.requests_carried_in, description="narrative 上年结转N件 = 上年结转 总计"),
    RuleSpec(id="text.requests_carried_out", severity="warn", generations=ALL_GENERATIONS, version=1,
             check=peers.requests_carried_out, description="narrative 结转下年度N件 = 结转下年度 总计"),
    RuleSpec(id="text.requests_received", severity="warn", generations=ALL_GENERATIONS, version=1,
             check=peers.requests_received,
             description="narrative 收到…申请N件 = one reading the template allows: 新收, 新收+上年结转 or "
                         "(七)总计+结转下年度 (legacy 收到申请数); the message names the one that matched"),
    RuleSpec(id="text.section5_empty", severity="warn", generations=MODERN, version=1,
             check=peers.section5_empty, description="part 五 (problems and improvements) is not empty or only 无"),
    RuleSpec(id="text.fees_vs_section6", severity="warn", generations=ALL_GENERATIONS, version=1,
             check=peers.fees_vs_section6,
             description="part 六's 收取/未收取费用 agrees with the table's fee amount about the same fees "
                         "(legacy 收取的费用; gen2021 行政事业性收费 only when 六 names it)"),
    # --- cross-year
    RuleSpec(id="xyear.carry", severity="warn", generations=MODERN, version=1, check=xyear.carry,
             description="上年结转 (N) = 结转下年度 (N−1), per column"),
    RuleSpec(id="xyear.items19", severity="warn", generations=GEN2019, version=1, check=xyear.items19,
             description="上一年项目数量 (N) = 上一年项目数量 + 本年增/减 (N−1), per row"),
    RuleSpec(id="xyear.valid21", severity="warn", generations=GEN2021, version=1, check=xyear.valid21,
             description="现行有效件数 (N) ≈ 现行有效 (N−1) + 制发 − 废止 (N)"),
    RuleSpec(id="xyear.copied_text", severity="warn", generations=ALL_GENERATIONS, version=1,
             check=copies.copied_text,
             description="part texts not (near-)identical to the N−1 report's (shingle similarity below a setting)"),
    RuleSpec(id="xyear.copied_tables", severity="warn", generations=ALL_GENERATIONS, version=1,
             check=copies.copied_tables, description="not every table identical to the N−1 report's"),
    # --- sources: what the page and its attachments gave
    RuleSpec(id="report.no_tables", severity="error", generations=ALL_GENERATIONS, version=1,
             check=sources.no_tables,
             description="the page or one of its attachments gives the statistics tables (scans, unreadable "
                         "or missing attachments fail)"),
    RuleSpec(id="source.page_attachment_mismatch", severity="warn", generations=ALL_GENERATIONS, version=1,
             check=sources.page_attachment_mismatch,
             description="per table printed on the page and in an attachment: every value agrees"),
    RuleSpec(id="structure.table_missing", severity="error", generations=MODERN, version=1,
             check=peers.table_missing,
             description="a part 二/三/四 that is present has its table T2/T3/T4 (no table at all: report.no_tables)"),
    RuleSpec(id="quality.blank_cells", severity="info", generations=ALL_GENERATIONS, version=1,
             check=peers.blank_cells,
             description="per table: blank and placeholder cells counted and listed; above a setting (T3, T4) fails"),
    # --- metadata
    RuleSpec(id="meta.generation_year", severity="warn", generations=ALL_GENERATIONS, version=1,
             check=meta.generation_year, description="detected generation agrees with the covered year"),
    RuleSpec(id="meta.period_year", severity="warn", generations=ALL_GENERATIONS, version=1,
             check=meta.period_year, description="title year and 统计期限 year both equal N"),
    RuleSpec(id="meta.publish_window", severity="warn", generations=MODERN, version=1,
             check=meta.publish_window,
             description="published/signed in N+1 by 31 Jan (department) or 31 Mar (government)"),
    RuleSpec(id="meta.index_year", severity="info", generations=ALL_GENERATIONS, version=1,
             check=meta.index_year, description="the 索引号 year is the publication year N+1"),
)  # fmt: skip


def catalogue_version(catalogue: tuple[RuleSpec, ...]) -> str:
    """A short hash of the ordered rule ids and versions: descriptions may change without changing it."""
    digest = hashlib.sha256("\n".join(f"{spec.id}@{spec.version}" for spec in catalogue).encode())
    return digest.hexdigest()[:12]


RULES_VERSION: str = catalogue_version(CATALOGUE)
