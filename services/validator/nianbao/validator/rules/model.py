"""The vocabulary of the rule catalogue: operands, verdicts and rule specifications.

A rule is a pure function from a :class:`~nianbao.validator.rules.context.Context` to verdicts, one per
instance (``where``) of the rule. The engine turns verdicts into :class:`~nianbao.shared.record.Finding`
objects, adding the rule id and severity from the rule's :class:`RuleSpec`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

from nianbao.shared.record import FindingStatus, Generation, Number, Severity

if TYPE_CHECKING:
    from nianbao.validator.rules.context import Context

ALL_GENERATIONS: tuple[Generation, ...] = ("legacy", "gen2019", "gen2021")
MODERN: tuple[Generation, ...] = ("gen2019", "gen2021")
GEN2019: tuple[Generation, ...] = ("gen2019",)
GEN2021: tuple[Generation, ...] = ("gen2021",)
LEGACY: tuple[Generation, ...] = ("legacy",)

# Why an operand has no value: the cell status of a null value, or ``absent`` when the key is not in the
# table at all (the row or table is missing from the record).
Unavailable = Literal["blank", "missing", "unparseable", "absent"]


class Operand(NamedTuple):
    """One value a rule reads: ``value`` is None when the rule cannot use it, and ``reason`` says why.

    ``ref`` is ``"table.key"``; ``local`` is False for values read from another report (the previous year),
    which a finding mentions in its message but not in its ``cells``. (Operands and verdicts are named
    tuples: a report makes hundreds, and a frozen dataclass costs several times as much to build.)
    """

    ref: str
    value: Number | None
    reason: Unavailable | None = None
    local: bool = True

    def describe(self) -> str:
        return f"{self.ref} is {self.reason}" if self.value is None else f"{self.ref} = {self.value}"


class Verdict(NamedTuple):
    """The outcome of one rule instance, before the engine adds rule id and severity."""

    where: str | None
    status: FindingStatus
    lhs: Number | None = None
    rhs: Number | None = None
    cells: tuple[str, ...] = ()
    message: str = ""


Check = Callable[["Context"], Iterable[Verdict]]


@dataclass(frozen=True)
class RuleSpec:
    """One catalogue entry (report-format.md §3.2).

    ``version`` is bumped whenever the rule's logic changes, which changes ``RULES_VERSION``.
    ``table`` names the table the rule checks; ``blank_test`` marks the arithmetic relations consulted
    when deciding whether that table's blank cells can be read as zero (§3.5).
    """

    id: str
    severity: Severity
    generations: tuple[Generation, ...]
    description: str
    version: int
    check: Check = field(repr=False, compare=False)
    table: str | None = None
    blank_test: bool = False

    def applies_to(self, generation: Generation | None) -> bool:
        """Rules for one generation need a known generation; rules for all of them run regardless."""
        if generation is None:
            return set(self.generations) == set(ALL_GENERATIONS)
        return generation in self.generations
