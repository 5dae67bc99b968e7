"""What a rule sees: the record, its effective generation, policy-resolved tables, narrative, previous year."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import wraps

from nianbao.shared.record import Generation, Record
from nianbao.validator.rules.model import Verdict
from nianbao.validator.rules.thresholds import DEFAULT_THRESHOLDS, Thresholds
from nianbao.validator.rules.views import TableView

# Section keys in document order; the narrative joins them so that "first mention" means first in the text.
SECTION_ORDER: tuple[str, ...] = ("preamble", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十")


def generation_for_year(year: int) -> Generation:
    """The format generation in force for covered year ``year`` (report-format.md §1.1)."""
    if year <= 2018:
        return "legacy"
    return "gen2019" if year <= 2020 else "gen2021"


def effective_generation(record: Record) -> Generation | None:
    """The record's generation, or the one its covered year implies (report-format.md §1.3 step 4)."""
    if record.generation.value is not None:
        return record.generation.value
    return None if record.year.value is None else generation_for_year(record.year.value)


def narrative(record: Record) -> str:
    """All section text in document order (known keys first, then any others as the record lists them)."""
    keys = [k for k in SECTION_ORDER if k in record.sections]
    keys += [k for k in record.sections if k not in SECTION_ORDER]
    return "\n".join(record.sections[k] for k in keys)


@dataclass(frozen=True)
class Context:
    """Everything a rule may read. ``previous`` is the same agency's report for year N−1, if known;
    ``previous_unreadable`` says why it is not, when one is stored but could not be read (the cross-year
    rules are then not assessable, not silent); ``thresholds`` are the configured limits of the rules that
    have one."""

    record: Record
    generation: Generation | None
    tables: Mapping[str, TableView]
    previous: Context | None = None
    previous_unreadable: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    thresholds: Thresholds = DEFAULT_THRESHOLDS
    text: str = field(default="", repr=False)

    def table(self, name: str) -> TableView | None:
        return self.tables.get(name)

    def with_table(self, view: TableView) -> Context:
        return replace(self, tables={**self.tables, view.name: view})

    @property
    def year(self) -> int | None:
        return self.record.year.value


CrossYearRule = Callable[[Context], Iterator[Verdict]]


def needs_previous(text: str) -> Callable[[CrossYearRule], CrossYearRule]:
    """For a cross-year rule stating ``text``: when the N−1 report is stored but could not be read
    (``Context.previous_unreadable``), the rule's one verdict is not assessable with that reason, where
    without any N−1 report it says nothing."""

    def wrap(rule: CrossYearRule) -> CrossYearRule:
        @wraps(rule)
        def checked(ctx: Context) -> Iterator[Verdict]:
            if ctx.previous_unreadable is not None:
                yield Verdict(None, "not_assessable", message=f"{text}: not assessable ({ctx.previous_unreadable})")
                return
            yield from rule(ctx)

        return checked

    return wrap
