"""Comparison primitives shared by the table rules: sums, bounds, sign checks, and how verdicts combine.

Every primitive follows §3.5 rule 4: an operand without a value makes the instance ``not_assessable``,
never ``pass`` or ``fail``. Integers compare exactly; money (万元) within §3.4's tolerance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from nianbao.shared.record import Number
from nianbao.validator.rules.model import Operand, Verdict

Relation = Literal["eq", "le", "ge"]

MONEY_ABS_TOLERANCE = 0.01  # 万元
MONEY_REL_TOLERANCE = 1e-4

_SYMBOLS: dict[Relation, tuple[str, str]] = {"eq": ("=", "≠"), "le": ("≤", ">"), "ge": ("≥", "<")}


def fmt(value: Number) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def money_close(a: Number, b: Number) -> bool:
    """§3.4: equal within 0.01 万元 or 1e-4 relative, whichever is looser."""
    diff = abs(a - b)
    return diff <= MONEY_ABS_TOLERANCE or diff <= MONEY_REL_TOLERANCE * max(abs(a), abs(b))


def holds(lhs: Number, rhs: Number, relation: Relation, *, money: bool = False) -> bool:
    if money and money_close(lhs, rhs):
        return True
    if relation == "eq":
        return lhs == rhs
    return lhs <= rhs if relation == "le" else lhs >= rhs


# List comprehensions rather than generators below: these run for every comparison of a report, and a
# generator's per-item resumption costs more than building the short list.


def _total(operands: Sequence[Operand]) -> Number:
    return sum([op.value for op in operands if op.value is not None])


def local_refs(operands: Iterable[Operand]) -> tuple[str, ...]:
    refs = [op.ref for op in operands if op.local]
    # Nearly always distinct already: a set tells in one pass, cheaper than building the ordered dict.
    return tuple(refs) if len(set(refs)) == len(refs) else tuple(dict.fromkeys(refs))


def not_assessable(where: str | None, text: str, operands: Sequence[Operand]) -> Verdict:
    missing = "; ".join(op.describe() for op in operands if op.value is None)
    return Verdict(where, "not_assessable", cells=local_refs(operands), message=f"{text}: not assessable ({missing})")


def compare(
    *,
    where: str | None,
    left: Sequence[Operand],
    right: Sequence[Operand],
    relation: Relation,
    text: str,
    money: bool = False,
) -> Verdict:
    """``Σleft <relation> Σright``; ``lhs``/``rhs`` are the two sums, ``text`` states the expected relation."""
    operands = [*left, *right]
    if None in [op.value for op in operands]:  # (a number never equals None)
        return not_assessable(where, text, operands)
    lhs, rhs = _total(left), _total(right)
    ok = holds(lhs, rhs, relation, money=money)
    symbol = _SYMBOLS[relation][0 if ok else 1]
    return Verdict(
        where,
        "pass" if ok else "fail",
        lhs=lhs,
        rhs=rhs,
        cells=local_refs(operands),
        message=f"{text}: {fmt(lhs)} {symbol} {fmt(rhs)}",
    )


def sign_check(
    *, where: str | None, operands: Sequence[Operand], text: str, integer: bool, signed: frozenset[str] = frozenset()
) -> Verdict:
    """Every available operand is ≥ 0 (except refs in ``signed``) and, if ``integer``, integral.

    A violation fails even when other operands are unavailable: it is a fact about a value that is there.
    """
    bad = [
        op
        for op in operands
        if op.value is not None
        and ((op.value < 0 and op.ref not in signed) or (integer and not float(op.value).is_integer()))
    ]
    cells = local_refs(operands)
    if bad:
        listed = ", ".join(f"{op.ref} = {fmt(op.value)}" for op in bad if op.value is not None)
        first = bad[0].value
        return Verdict(where, "fail", lhs=first, rhs=0, cells=cells, message=f"{text}: {listed}")
    if any(op.value is None for op in operands):
        return not_assessable(where, text, operands)
    return Verdict(where, "pass", cells=cells, message=f"{text}: all {len(operands)} values hold")


def combine(where: str | None, verdicts: Sequence[Verdict]) -> Verdict:
    """Several comparisons that make up one rule instance: any fail fails; else any gap is not assessable."""
    if not verdicts:
        raise ValueError("combine() needs at least one verdict")
    rank = {"fail": 0, "not_assessable": 1, "pass": 2}
    head = min(verdicts, key=lambda v: rank[v.status])  # min() keeps the first of equals
    cells = tuple(dict.fromkeys(c for v in verdicts for c in v.cells))
    return Verdict(
        where,
        head.status,
        lhs=head.lhs,
        rhs=head.rhs,
        cells=cells,
        message="; ".join(v.message for v in verdicts),
    )
