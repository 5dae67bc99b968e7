"""Chinese labels of table keys, used only to make finding messages readable (report-format.md §2)."""

from __future__ import annotations

REQUEST_COLUMN_LABELS: dict[str, str] = {
    "natural": "自然人",
    "commercial": "商业企业",
    "research": "科研机构",
    "social": "社会公益组织",
    "legal": "法律服务机构",
    "other_org": "其他",
    "total": "总计",
}

REQUEST_ROW_LABELS: dict[str, str] = {
    "new": "本年新收",
    "carried_in": "上年结转",
    "granted": "(一)予以公开",
    "partial": "(二)部分公开",
    "denied_state_secret": "(三)1.属于国家秘密",
    "denied_law_prohibited": "(三)2.其他法律行政法规禁止公开",
    "denied_security": "(三)3.危及“三安全一稳定”",
    "denied_third_party": "(三)4.保护第三方合法权益",
    "denied_internal": "(三)5.属于三类内部事务信息",
    "denied_process": "(三)6.属于四类过程性信息",
    "denied_enforcement": "(三)7.属于行政执法案卷",
    "denied_query": "(三)8.属于行政查询事项",
    "unavailable_not_held": "(四)1.本机关不掌握相关政府信息",
    "unavailable_needs_creation": "(四)2.没有现成信息需要另行制作",
    "unavailable_unclear": "(四)3.补正后申请内容仍不明确",
    "refused_petition": "(五)1.信访举报投诉类申请",
    "refused_repeat": "(五)2.重复申请",
    "refused_publication": "(五)3.要求提供公开出版物",
    "refused_mass": "(五)4.无正当理由大量反复申请",
    "refused_confirm": "(五)5.要求行政机关确认或重新出具已获取信息",
    "other": "(六)其他处理",
    "other_no_correction": "(六)1.申请人无正当理由逾期不补正",
    "other_fee_unpaid": "(六)2.申请人逾期未按收费通知要求缴纳费用",
    "other_misc": "(六)3.其他",
    "results_total": "(七)总计",
    "carried_out": "结转下年度继续办理",
}

REVIEW_GROUP_LABELS: dict[str, str] = {
    "review": "行政复议",
    "direct": "行政诉讼·未经复议直接起诉",
    "after_review": "行政诉讼·复议后起诉",
}

ACTIVE_ROW_LABELS: dict[str, str] = {
    "regulations": "规章",
    "normative_docs": "规范性文件",
    "licensing": "行政许可",
    "other_services": "其他对外管理服务事项",
    "penalty": "行政处罚",
    "coercion": "行政强制",
    "fees": "行政事业性收费",
    "procurement": "政府集中采购",
}

LEGACY_LABELS: dict[str, str] = {
    "active_total": "主动公开政府信息数",
    "active_normative": "其中:主动公开规范性文件数",
    "channel_gazette": "政府公报公开政府信息数",
    "channel_website": "政府网站公开政府信息数",
    "channel_weibo": "政务微博公开政府信息数",
    "channel_wechat": "政务微信公开政府信息数",
    "channel_other": "其他方式公开政府信息数",
    "press_conferences": "参加或举办新闻发布会总次数",
    "press_conferences_leaders": "其中:主要负责同志参加新闻发布会次数",
    "online_interviews": "政府网站在线访谈次数",
    "online_interviews_leaders": "其中:主要负责同志参加政府网站在线访谈次数",
    "requests_received": "收到申请数",
    "requests_completed": "申请办结数",
    "answers_total": "申请答复数",
    "answers_denied": "不同意公开答复数",
    "review_total": "行政复议数量",
    "litigation_total": "行政诉讼数量",
    "staff_total": "从事政府信息公开工作人员数",
}
