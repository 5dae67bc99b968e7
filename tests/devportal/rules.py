"""Test oracle: recompute the single-report rules of report-format.md §3.2 from a report's data.

Independent of the portal code: it reads only the ``Report`` fields and the canonical key catalogue, and
returns the failing (rule, where) instances, which the truth tests compare with the hand-written
``expected_failing_rules()``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from nianbao.devportal.model import Report
from nianbao.shared.record import (
    REQUEST_APPLICANT_COLUMNS,
    REQUEST_COLUMNS,
    Number,
    request_result_rows,
    request_rows,
)

Finding = tuple[str, str | None]


def failing(report: Report) -> set[Finding]:
    found: set[Finding] = set()
    if report.generation == "legacy":
        found |= _legacy(report.tables["legacy"])
    else:
        found |= _requests(report)
        found |= _review(report.tables["review_litigation"])
        found |= _active(report)
    found |= _meta(report)
    found |= _text(report)
    return found


def narrative(report: Report) -> str:
    return "\n".join([*report.preamble, *(p for s in report.sections for p in s.paragraphs)])


def _int(table: Mapping[str, Number | None], key: str) -> int:
    value = table[key]
    assert isinstance(value, int), f"{key} = {value!r} is not an integer count"
    return value


def _requests(report: Report) -> set[Finding]:
    r = report.tables["requests"]
    found: set[Finding] = set()
    for c in REQUEST_COLUMNS:
        if _int(r, f"new.{c}") + _int(r, f"carried_in.{c}") != _int(r, f"results_total.{c}") + _int(
            r, f"carried_out.{c}"
        ):
            found.add(("requests.balance", c))
        if sum(_int(r, f"{row}.{c}") for row in request_result_rows(report.generation)) != _int(
            r, f"results_total.{c}"
        ):
            found.add(("requests.results_sum", c))
    for row in request_rows(report.generation):
        if sum(_int(r, f"{row}.{c}") for c in REQUEST_APPLICANT_COLUMNS) != _int(r, f"{row}.total"):
            found.add(("requests.row_total", row))
    if any(not isinstance(v, int) or v < 0 for v in r.values()):
        found.add(("requests.nonneg_int", None))
    return found


def _review(t: Mapping[str, Number | None]) -> set[Finding]:
    found: set[Finding] = set()
    for group, rule in (("review", "review.total"), ("direct", "litigation.direct_total"),
                        ("after_review", "litigation.after_review_total")):  # fmt: skip
        parts = sum(_int(t, f"{group}.{c}") for c in ("upheld", "corrected", "other", "pending"))
        if parts != _int(t, f"{group}.total"):
            found.add((rule, group))
    if any(not isinstance(v, int) or v < 0 for v in t.values()):
        found.add(("reviewlit.nonneg_int", None))
    return found


def _active(report: Report) -> set[Finding]:
    a = report.tables["active"]
    found: set[Finding] = set()
    for key, value in a.items():
        if value is not None and value < 0 and not key.endswith(".delta"):
            found.add(("active.nonneg", key.split(".")[0]))
    if report.generation == "gen2019":
        for row in ("licensing", "other_services", "penalty", "coercion", "fees"):
            if _int(a, f"{row}.prev_items") + _int(a, f"{row}.delta") < 0:
                found.add(("active19.delta_floor", row))
        for row in ("regulations", "normative_docs"):
            total = _int(a, f"{row}.total_published")
            if _int(a, f"{row}.new_published") > total or _int(a, f"{row}.new_made") > total:
                found.add(("active19.new_le_total", row))
        amount = a["procurement.amount_wan"]
        raw = report.raw.get("active/procurement.amount_wan", "")
        if amount and not (report.presentation.amount_unit_in_header or "元" in raw):
            found.add(("active19.money_unit", "procurement"))
    else:
        for row in ("regulations", "normative_docs"):
            if _int(a, f"{row}.issued") > 0 and _int(a, f"{row}.in_force") == 0:
                found.add(("active21.valid_plausible", row))
    return found


def _legacy(t: Mapping[str, Number | None]) -> set[Finding]:
    # The blank_as_zero policy is only legitimate without explicit zeros (report-format.md §3.5, rule 2).
    assert 0 not in t.values(), "a legacy table with explicit zeros would make its blanks 'not filled'"

    def v(key: str) -> Number:
        value = t[key]
        return 0 if value is None else value

    def parts(*keys: str) -> Number:
        return sum(v(k) for k in keys)

    found: set[Finding] = set()
    sums = {
        ("legacy.received_channels", "requests_received"): parts(
            "requests_in_person", "requests_fax", "requests_online", "requests_mail"
        ),
        ("legacy.completed_split", "requests_completed"): parts("completed_on_time", "completed_extended"),
        ("legacy.answers_sum", "answers_total"): parts(
            "answers_already_public",
            "answers_granted",
            "answers_partial",
            "answers_denied",
            "answers_not_this_agency",
            "answers_not_exist",
            "answers_amend",
            "answers_other_channel",
        ),
        ("legacy.refusal_reasons", "answers_denied"): parts(
            "denied_state_secret",
            "denied_commercial_secret",
            "denied_privacy",
            "denied_security",
            "denied_not_gov_info",
            "denied_other_law",
        ),
        ("legacy.review_sum", "review_total"): parts("review_upheld", "review_corrected", "review_other"),
        ("legacy.litigation_sum", "litigation_total"): parts(
            "litigation_upheld", "litigation_corrected", "litigation_other"
        ),
        ("legacy.staff_sum", "staff_total"): parts("staff_fulltime", "staff_parttime"),
    }
    for (rule, parent), total in sums.items():
        if v(parent) != total:
            found.add((rule, parent))
    for child, parent in (("active_normative", "active_total"), ("press_conferences_leaders", "press_conferences"),
                          ("online_interviews_leaders", "online_interviews")):  # fmt: skip
        if v(child) > v(parent):
            found.add(("legacy.of_which", child))
    for channel in ("channel_gazette", "channel_website", "channel_weibo", "channel_wechat", "channel_other"):
        if v(channel) > v("active_total"):
            found.add(("legacy.channel_le_total", channel))
    for done in ("requests_completed", "answers_total"):
        if v(done) > v("requests_received"):
            found.add(("legacy.answered_le_received", done))
    return found


def _meta(report: Report) -> set[Finding]:
    found: set[Finding] = set()
    n = report.year
    expected_generation = "legacy" if n <= 2018 else "gen2019" if n <= 2020 else "gen2021"
    if report.generation != expected_generation:
        found.add(("meta.generation_year", None))
    title_years = {int(y) for y in re.findall(r"(20\d\d)年", report.title)}
    period = re.search(r"统计期限[^。]*?(\d{4})年1月1日", narrative(report))
    if title_years != {n} or period is None or int(period.group(1)) != n:
        found.add(("meta.period_year", None))
    if report.generation != "legacy":
        deadline = date(n + 1, 1, 31) if report.agency_kind == "department" else date(n + 1, 3, 31)
        for day in (report.publish_date, report.signature_date):
            if not date(n + 1, 1, 1) <= day <= deadline:
                found.add(("meta.publish_window", None))
    if not report.index_no.split("/")[1].startswith(str(report.publish_date.year)):
        found.add(("meta.index_year", None))
    return found


def _text(report: Report) -> set[Finding]:
    text = narrative(report)
    found: set[Finding] = set()
    if report.generation == "legacy":
        new, done = report.tables["legacy"]["requests_received"], None
        review = report.tables["legacy"]["review_total"] or 0
        litigation = report.tables["legacy"]["litigation_total"] or 0
    else:
        r, t = report.tables["requests"], report.tables["review_litigation"]
        new, done = r["new.total"], r["results_total.total"]
        review = _int(t, "review.total")
        litigation = _int(t, "direct.total") + _int(t, "after_review.total")
    for rule, pattern, expected in (
        ("text.requests_new", r"共收到政府信息公开申请(\d+)件", new),
        ("text.requests_done", r"办理答复(\d+)件", done),
        ("text.reviewlit", r"行政复议(\d+)件", review),
        ("text.reviewlit", r"行政诉讼(\d+)件", litigation),
    ):
        for figure in re.findall(pattern, text):
            if int(figure) != expected:
                found.add((rule, None))
    for claim, value in (("行政复议", review), ("行政诉讼", litigation)):
        if re.search(rf"未发生[^。]*{claim}", text) and value != 0:
            found.add(("text.zero_claim", None))
    for host in re.findall(r"https?://([^/\s，。；）]+)", text):
        if not host.endswith(".gov.cn"):
            found.add(("text.offsite_url", None))
    return found
