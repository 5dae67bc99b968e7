"""A table view keeps each key's operand once read (rules read the same cells many times): the cache must
never carry an operand from one blank policy to another, nor a status from one record to another."""

from __future__ import annotations

from dataclasses import replace

from nianbao.shared.record import Cell
from nianbao.validator.rules.views import TableView


def _view() -> TableView:
    values: dict[str, int | float | None] = {"a": 3, "b": None, "c": None}
    cells = {"c": Cell(table="t", key="c", value=None, status="missing")}
    return TableView(name="t", values=values, cells=cells)


def test_each_policy_reads_a_blank_its_own_way_whatever_was_read_before() -> None:
    strict = _view()
    assert strict.operand("b").value is None and strict.operand("b").reason == "blank"  # cached now
    zero = strict.with_policy("blank_as_zero")
    assert zero.operand("b").value == 0 and zero.operand("b").reason is None
    assert strict.operand("b").value is None  # the strict view's own operand is unchanged
    back = zero.with_policy("blank_is_missing")
    assert back.operand("b").value is None and back.operand("b").reason == "blank"
    # A missing cell is never zero, under any policy; a number is itself under every policy.
    assert zero.operand("c").value is None and zero.operand("c").reason == "missing"
    assert [v.operand("a").value for v in (strict, zero, back)] == [3, 3, 3]
    assert zero.operand("zz").reason == "absent"


def test_a_view_of_other_values_does_not_inherit_statuses() -> None:
    view = _view()
    assert view.status("b") == "blank"
    other = replace(view, values={"a": 3, "b": 7, "c": None})
    assert other.status("b") == "number" and other.operand("b").value == 7
    assert view.status("b") == "blank"
