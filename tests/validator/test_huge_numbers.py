"""A number no report can hold (400 digits, 10**5000, inf, nan) reaches the rules from a record stored
by an older parser: every rule runs and none crashes (issue 10: ``nianbao check`` exited 1 with
``OverflowError: int too large to convert to float``). Such a value reads as unparseable."""

from __future__ import annotations

import json
import sys

import pytest
from validator.fixtures_rules import make_record, modern_tables, run, with_values

from nianbao.shared.record import Number
from nianbao.validator.rules import narrative
from nianbao.validator.rules.views import usable_number


@pytest.fixture(autouse=True)
def _lift_int_str_limit() -> object:
    """10**5000 cannot even be put into a record while Python's int↔str limit is on (pydantic builds it)."""
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    yield
    sys.set_int_max_str_digits(old)


HUGE: list[Number] = [10**400 - 1, -(10**400), 10**5000, 10**19, float("inf"), float("-inf"), float("nan"), 1e300]


@pytest.mark.parametrize(
    "value", HUGE, ids=["400-digits", "neg-400", "5000-digits", "1e19", "inf", "-inf", "nan", "1e300"]
)
@pytest.mark.parametrize("generation", ["gen2019", "gen2021"])
def test_rules_never_crash_on_a_huge_number(value: Number, generation: str) -> None:
    tables = modern_tables(generation)
    tables["requests"] = with_values(tables["requests"], new__natural=value, results_total__total=value)
    tables["active"] = dict.fromkeys(tables["active"], value)
    tables["review_litigation"] = with_values(tables["review_litigation"], review__total=value)
    record = make_record(generation=generation, tables=tables)
    sys.set_int_max_str_digits(4300)  # the rules run under Python's default limit
    evaluation = run(
        record, previous=record.model_copy(update={"year": record.year.model_copy(update={"value": 2018})})
    )
    assert evaluation.findings
    json.dumps([f.model_dump(mode="json") for f in evaluation.findings])  # findings serialise too
    for finding in evaluation.findings:
        if "requests.new.natural" in finding.cells:
            assert finding.status != "fail" or "requests.new.natural" not in finding.message


def test_usable_number() -> None:
    assert usable_number(0) and usable_number(10**18) and usable_number(-3.5) and usable_number(1e18)
    assert not any(usable_number(v) for v in (10**18 + 1, 1e19, float("nan"), float("inf"), True, "3"))


def test_narrative_figures_over_eighteen_digits_are_not_figures() -> None:
    assert narrative.requests_new("共收到政府信息公开申请" + "9" * 5000 + "件") is None
    assert narrative.requests_done("共办理政府信息依申请公开" + "9" * 400 + "件") is None
    assert narrative.proceedings_figures("被申请行政复议" + "1" * 19 + "件。") == {}
    figure = narrative.requests_new("共收到政府信息公开申请" + "9" * 18 + "件")
    assert figure is not None and figure.value == 10**18 - 1


@pytest.mark.parametrize(
    "value",
    [0, 7, -3, 2.5, 10**18, -(10**18), 1e18, 10**18 + 1, 1e19, float("nan"), float("inf"), True, False],
    ids=str,
)
def test_an_operand_is_what_usable_number_says(value: Number) -> None:
    """``TableView._operand`` tests plain ints and floats inline; every value reads as ``usable_number``
    decides, the same named tuple either way."""
    from nianbao.validator.rules.model import Operand
    from nianbao.validator.rules.views import TableView

    view = TableView(name="requests", values={"new.natural": value}, cells={})
    operand = view.operand("new.natural")
    expected = Operand("requests.new.natural", value, None) if usable_number(value) else (
        Operand("requests.new.natural", None, "unparseable"))  # fmt: skip
    assert type(operand) is Operand and operand == expected and operand.value is expected.value
