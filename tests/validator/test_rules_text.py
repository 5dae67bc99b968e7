"""text.* rules, the narrative patterns behind them, and the host policy of text.offsite_url."""

from __future__ import annotations

import pytest
from validator.fixtures_rules import cell, findings_of, legacy_table, make_record, modern_tables, run, verdicts

from nianbao.validator.rules import narrative
from nianbao.validator.rules.hosts import hosts_in, is_allowed, url_host

# The fixture tables: 本年新收 总计 7, (七)总计 总计 6, 行政复议 总计 4, 诉讼 1 + 0.


def _sections(text: str, where: str = "一") -> dict[str, str]:
    return {"preamble": "根据《条例》编制本报告。", where: text}


# --- narrative patterns, on sentences taken from the seeds and from report-format.md -------------------


@pytest.mark.parametrize(
    ("sentence", "value"),
    [
        ("2019年共收到政府信息依申请公开申请1件,经审核", 1),  # seed 000
        ("2020年,共受理政府信息依申请公开22件,办结率100%。", 22),  # seed 003
        ("全市各级行政机关共收到政府信息公开申请7522件,办理7498件", 7522),  # seed 004
        ("津市市2018年度受理政府信息公开申请4件,均为网上申请。", 4),  # seed 002
        ("共收到申请共计12件", 12),
    ],
)
def test_requests_new_figure(sentence: str, value: int) -> None:
    figure = narrative.requests_new(sentence)
    assert figure is not None and figure.value == value


@pytest.mark.parametrize(
    "sentence",
    [
        "2019年共受理、办结信访投诉件48件,办结率100%。",  # seed 000: petitions, not applications
        "政务微博共受理480件,政务抖音发布信息16条。",  # seed 001
        "累计受理量达177691件,办结164749件",  # seed 000: 政务服务 cases
        "一、本年新收政府信息公开申请数量 | 1 | 0 | 0 | 0 | 0 | 0 | 1 |",  # a table row
    ],
)
def test_requests_new_ignores_other_counts(sentence: str) -> None:
    assert narrative.requests_new(sentence) is None


def test_requests_done_figure_needs_an_application_sentence() -> None:
    figure = narrative.requests_done("共办理政府信息依申请公开1条,为自然人通过邮寄信函方式申请")  # seed 001
    assert figure is not None and figure.value == 1
    figure = narrative.requests_done("共收到政府信息公开申请7522件,办理7498件,办结率99.7%")  # seed 004
    assert figure is not None and figure.value == 7498
    assert narrative.requests_done("办理网民留言788条。") is None  # seed 003
    assert narrative.requests_done("政务大厅办理120000件。") is None


def test_proceedings_figures() -> None:
    found = narrative.proceedings_figures("全年被申请行政复议2件,被提起行政诉讼1件。")
    assert {k: f.value for k, f in found.items()} == {"review": 2, "litigation": 1}
    found = narrative.proceedings_figures("发生行政复议和行政诉讼共3件。")
    assert {k: f.value for k, f in found.items()} == {"review_litigation": 3}
    assert narrative.proceedings_figures("行政复议、行政诉讼各1件。") == {}  # "each": no total is stated
    assert narrative.proceedings_figures("行政复议 | 行政诉讼 | 1 | 2") == {}


@pytest.mark.parametrize(
    ("sentence", "kinds"),
    [
        ("2019年,市政务服务局无因政府信息公开工作被申请行政复议、行政诉讼情况。", {"review", "litigation"}),  # 000
        ("全年无因政府信息公开申请行政复议、提起行政诉讼情况;", {"review", "litigation"}),  # 001
        ("没有因政府信息公开被申请行政复议、被提起行政诉讼和接受行政申诉、举报案件。", {"review", "litigation"}),
        ("2018年度没有发生针对政府信息公开事务的行政诉讼、行政复议案。", {"review", "litigation"}),  # 002
        ("本年度未收到政府信息公开申请。", {"requests"}),
        ("3.全年没有发生与诉讼(行政复议、行政申诉)有关的费用支出;", set()),  # 002: about money
        ("结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 | 未经复议直接起诉", set()),  # table header
        ("行政复议尚未审结的案件1件。", set()),
    ],
)
def test_zero_claims(sentence: str, kinds: set[str]) -> None:
    assert set(narrative.zero_claims(sentence)) == kinds


# --- the rules -----------------------------------------------------------------------------------------


def test_requests_new_and_done_pass_fail() -> None:
    passing = run(make_record(sections=_sections("全年共收到政府信息公开申请7件,办理6件。")))
    assert verdicts(passing, "text.requests_new") == {None: "pass"}
    assert verdicts(passing, "text.requests_done") == {None: "pass"}
    failing = run(make_record(sections=_sections("全年共收到政府信息公开申请9件,办理5件。")))
    new = findings_of(failing, "text.requests_new")[None]
    assert (new.status, new.lhs, new.rhs, new.delta, new.severity) == ("fail", 9, 7, 2, "warn")
    assert new.cells == ["requests.new.total"]
    assert verdicts(failing, "text.requests_done") == {None: "fail"}


def test_text_rules_without_a_claim_yield_nothing() -> None:
    evaluation = run(make_record(sections=_sections("本年度工作稳步推进。")))
    assert not [f for f in evaluation.findings if f.rule.startswith("text.")]


def test_requests_new_not_assessable_when_the_table_cell_is_missing() -> None:
    tables = modern_tables()
    tables["requests"]["new.total"] = None
    record = make_record(
        tables=tables,
        sections=_sections("全年共收到政府信息公开申请7件。"),
        cells=[cell("requests", "new.total", None, "missing")],
    )
    assert verdicts(run(record), "text.requests_new") == {None: "not_assessable"}


def test_requests_new_on_legacy_reads_the_statistics_table() -> None:
    record = make_record(
        generation="legacy", year=2018, sections=_sections("津市市2018年度受理政府信息公开申请4件,均为网上申请。")
    )
    found = findings_of(run(record), "text.requests_new")[None]
    assert (found.status, found.cells) == ("pass", ["legacy.requests_received"])
    assert "收到申请数" in found.message


def test_reviewlit() -> None:
    ok = run(make_record(sections=_sections("本年度被申请行政复议4件,被提起行政诉讼1件。")))
    assert verdicts(ok, "text.reviewlit") == {None: "pass"}
    wrong = run(make_record(sections=_sections("本年度被申请行政复议4件,被提起行政诉讼3件。")))
    found = findings_of(wrong, "text.reviewlit")[None]
    assert (found.status, found.lhs, found.rhs) == ("fail", 3, 1)
    assert found.cells == [
        "review_litigation.review.total",
        "review_litigation.direct.total",
        "review_litigation.after_review.total",
    ]
    combined = run(make_record(sections=_sections("发生行政复议和行政诉讼共5件。")))
    assert verdicts(combined, "text.reviewlit") == {None: "pass"}


def test_zero_claim_rule() -> None:
    zero = modern_tables()
    zero["review_litigation"] = dict.fromkeys(zero["review_litigation"], 0)
    claim = _sections("全年无因政府信息公开申请行政复议、提起行政诉讼情况。", where="四")
    assert verdicts(run(make_record(tables=zero, sections=claim)), "text.zero_claim") == {None: "pass"}
    found = findings_of(run(make_record(sections=claim)), "text.zero_claim")[None]  # fixture: 复议 4, 诉讼 1
    assert (found.status, found.lhs, found.rhs) == ("fail", 4, 0)
    no_requests = run(make_record(sections=_sections("本年度未收到政府信息公开申请。")))
    assert verdicts(no_requests, "text.zero_claim") == {None: "fail"}  # 本年新收 is 7


def test_zero_claim_not_assessable_on_blank_legacy_rows() -> None:
    table = legacy_table()
    for key in ("review_total", "review_upheld", "review_corrected", "review_other"):
        table[key] = None
    table["press_conferences"] = 0  # an explicit zero: the blanks are "not filled"
    record = make_record(
        generation="legacy",
        year=2018,
        tables={"legacy": table},
        sections=_sections("2018年度没有发生针对政府信息公开事务的行政复议案。"),
    )
    assert verdicts(run(record), "text.zero_claim") == {None: "not_assessable"}


@pytest.mark.parametrize(
    ("text", "source_url", "extra", "expected"),
    [
        ("电子版可在本网站(http://www.hkjmqz120.com/)下载", None, (), "fail"),  # seed 001
        ("电子版可在(http://www.cq.gov.cn/)获取", None, (), "pass"),  # seed 004
        ("详见 www.example.org.cn 。", "https://www.example.org.cn/a/b.html", (), "pass"),  # the report's own host
        ("详见 http://sub.example.com/x", "http://example.com/", (), "pass"),  # a subdomain of it
        ("详见 http://portal.city.example:8080/x", None, ("city.example",), "pass"),  # configured host
        ("详见 http://180.76.149.248:88/book/page9.html", None, (), "fail"),
        ("http://www.gov.cn.example.com/ 下载", None, (), "fail"),  # gov.cn must be the suffix
    ],
)
def test_offsite_url(text: str, source_url: str | None, extra: tuple[str, ...], expected: str) -> None:
    record = make_record(sections={"preamble": text}, source={"url": source_url})
    found = findings_of(run(record, extra_hosts=extra), "text.offsite_url")[None]
    assert (found.status, found.severity) == (expected, "warn")


def test_offsite_url_final_url_counts_as_own_host() -> None:
    record = make_record(
        sections={"六": "见 http://mirror.example.net/report"},
        source={"url": "http://a.gov.cn/r", "final_url": "http://mirror.example.net/r"},
    )
    assert verdicts(run(record), "text.offsite_url") == {None: "pass"}


def test_hosts_helpers() -> None:
    assert hosts_in("门户网(http://www.hkjmqz120.com/)下载,或www.cq.gov.cn。邮箱:ab@mail.x.com") == [
        "www.hkjmqz120.com",
        "www.cq.gov.cn",
    ]
    assert url_host("https://WWW.Example.com:8443/x") == "www.example.com"
    assert url_host(None) is None
    assert is_allowed("www.kunming.gov.cn", ())
    assert not is_allowed("kunming.gov.cn.evil.com", ())
    assert is_allowed("example.com", ("www.example.com",))
