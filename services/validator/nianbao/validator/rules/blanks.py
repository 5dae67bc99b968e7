"""The blank-cell policy of one table, decided once per table per report (report-format.md §3.5).

* ``no_blanks``: the table has no blank cell.
* ``blank_is_missing``: blanks are "not filled" and every rule reading one is not assessable. Chosen when
  the table also has an explicit 0 (or a placeholder: the filler had a way to write zero and did not), when
  nothing in it is filled at all (an empty template asserts nothing), or when reading the blanks as 0 breaks
  an arithmetic relation of the table (seed 002: 申请办结数 blank while 按时办结数 = 4).
* ``blank_as_zero``: otherwise — no explicit zero, and 0 is arithmetically consistent for every blank.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from nianbao.validator.rules.model import Verdict
from nianbao.validator.rules.views import BlankPolicy, TableView

# Runs the table's blank-test relations against a view and returns their verdicts.
Trial = Callable[[TableView], Iterable[Verdict]]


def decide(view: TableView, trial: Trial) -> BlankPolicy:
    blanks = view.blank_keys()
    if not blanks:
        return "no_blanks"
    filled = [v for v in view.values.values() if v is not None]
    if not filled or any(v == 0 for v in filled):
        return "blank_is_missing"
    blank_refs = {view.ref(k) for k in blanks}
    for verdict in trial(view.with_policy("blank_as_zero")):
        if verdict.status == "fail" and blank_refs.intersection(verdict.cells):
            return "blank_is_missing"
    return "blank_as_zero"
