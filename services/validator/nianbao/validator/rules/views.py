"""Read-only views of one record table that resolve each key to an operand under a blank policy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import InitVar, dataclass, field, replace
from functools import cached_property
from typing import Literal

from nianbao.shared.record import Cell, CellStatus, Number, Record
from nianbao.validator.rules.model import Operand, Unavailable

BlankPolicy = Literal["no_blanks", "blank_as_zero", "blank_is_missing"]
KeyStatus = CellStatus | Literal["absent"]


# Builds an Operand from its four fields without the named tuple's Python-level __new__ (a frame per operand).
_new_operand = tuple.__new__

MAX_MAGNITUDE = 10**18  # no count or 万元 amount of a report comes near; beyond it a value is not data


def usable_number(value: object) -> bool:
    """A value the rules can compute with: an int or finite float of at most ``MAX_MAGNITUDE``. A record
    stored by an older parser (or another front end) may hold a 400-digit integer, which float arithmetic
    and int→str conversion cannot handle; such a value reads as unparseable."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return abs(value) <= MAX_MAGNITUDE  # False for nan; exact for int and float alike
    except (OverflowError, ValueError):  # pragma: no cover - comparisons of int and float are exact
        return False


@dataclass(frozen=True)
class TableView:
    """One table of one record.

    A key's status comes from the record's ``cells``; a value without a cell entry counts as a ``number``
    and a null without one as ``blank`` (a blank cell is the usual reason for a null, and the parser
    declares the other reasons, ``missing`` and ``unparseable``, in ``cells``). A key that is not in the
    table is ``absent``. Only blanks depend on the policy: under ``blank_as_zero`` they read as 0.
    """

    name: str
    values: Mapping[str, Number | None]
    cells: Mapping[str, Cell]
    policy: BlankPolicy = "blank_is_missing"
    local: bool = True
    # key -> its operand under this view's policy: rules read the same cells many times (the blank test,
    # row and column sums, sign checks), and an operand is immutable. A new policy is a new view. (Built as
    # read: building the whole table's at once measured no faster.)
    _operands: dict[str, Operand] = field(default_factory=dict, init=False, repr=False, compare=False)
    # key -> its status, for every key of the table (any other key is absent). Resolved for the whole table
    # when the view is made, in one pass: deciding the blank policy reads every status anyway, and the rules
    # read most of them several times. No policy changes a status: ``with_policy`` hands them on.
    _statuses: dict[str, KeyStatus] = field(init=False, repr=False, compare=False)
    statuses: InitVar[dict[str, KeyStatus] | None] = None  # only for with_policy

    def __post_init__(self, statuses: dict[str, KeyStatus] | None) -> None:
        if statuses is None:
            statuses = {key: _status(value, self.cells.get(key)) for key, value in self.values.items()}
        object.__setattr__(self, "_statuses", statuses)

    def with_policy(self, policy: BlankPolicy) -> TableView:
        return replace(self, policy=policy, statuses=self._statuses)  # same values and cells: same statuses

    def ref(self, key: str) -> str:
        return f"{self.name}.{key}"

    def status(self, key: str) -> KeyStatus:
        return self._statuses.get(key, "absent")

    def operand(self, key: str) -> Operand:
        found = self._operands.get(key)
        if found is None:
            found = self._operands[key] = self._operand(key)
        return found

    def _operand(self, key: str) -> Operand:
        # Runs for every cell a report's rules read: a value needs neither the status nor the policy.
        ref = f"{self.name}.{key}"
        value = self.values.get(key)
        if value is not None:  # a value is itself under every policy and whatever its status
            # Nearly every value is a plain int or float in range: tested inline (NaN fails the comparison
            # and takes the full test, as does a bool or any subclass).
            if (type(value) is int or type(value) is float) and -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
                return _new_operand(Operand, (ref, value, None, self.local))
            if usable_number(value):
                return Operand(ref, value, None, self.local)
            return Operand(ref, None, "unparseable", self.local)
        status = self.status(key)
        if status == "blank" and self.policy == "blank_as_zero":
            return Operand(ref, 0, None, self.local)
        reason: Unavailable = "blank"
        if status in ("missing", "unparseable", "absent"):
            reason = status
        return Operand(ref, None, reason, self.local)

    def operands(self, keys: Iterable[str]) -> list[Operand]:
        cached = self._operands
        return [cached.get(k) or self.operand(k) for k in keys]

    def cell(self, key: str) -> Cell | None:
        return self.cells.get(key)

    def blank_keys(self) -> frozenset[str]:
        return frozenset(self.keys_with("blank"))

    def keys_with(self, *statuses: KeyStatus) -> list[str]:
        """The table's keys whose status is one of ``statuses``, in table order (one pass, no call per key)."""
        return [k for k, status in self._statuses.items() if status in statuses]

    def present(self, key: str) -> bool:
        """The cell exists in the document (possibly blank); absent and missing cells do not."""
        return key in self.present_keys

    @cached_property
    def present_keys(self) -> frozenset[str]:
        """Every key whose cell exists in the document (a key not in the table is absent): :meth:`present`
        for one key, and a whole row tests against it in one set operation."""
        return frozenset(k for k, status in self._statuses.items() if status != "missing")


def _status(value: Number | None, cell: Cell | None) -> KeyStatus:
    """The status of a key that is in the table, with ``value`` and its ``cell`` entry if any."""
    if value is not None:
        return cell.status if cell is not None and cell.status == "placeholder" else "number"
    if cell is not None and cell.status in ("missing", "unparseable"):
        return cell.status
    return "blank"


def table_views(record: Record, *, local: bool = True) -> dict[str, TableView]:
    """One view per table the record contains, with the default (strict) policy."""
    index: dict[str, dict[str, Cell]] = {name: {} for name in record.tables}
    for cell in record.cells:
        if (table := index.get(cell.table)) is not None:  # (cells of a table without values are not read)
            table[cell.key] = cell
    return {
        name: TableView(name=name, values=values, cells=index[name], local=local)
        for name, values in record.tables.items()
    }
