"""Builders for small synthetic records used by the rule tests.

The tables are written out by hand so that every expected verdict can be checked against them by eye.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nianbao.shared.record import (
    ACTIVE_KEYS_2019,
    ACTIVE_KEYS_2021,
    LEGACY_KEYS,
    REVIEW_KEYS,
    Cell,
    Finding,
    Generation,
    Number,
    Record,
    request_keys,
)
from nianbao.validator.rules import Evaluation, evaluate

# Applicant values per row (natural, commercial); every other applicant column is 0. Totals are the row
# sums written out. Balance holds per column: natural 5+1 = 5+1, commercial 2+0 = 1+1, total 7+1 = 6+2;
# and (一)…(六) add up to (七): natural 3+1+1 = 5, commercial 1 = 1, total 4+1+1 = 6.
REQUESTS_NONZERO: dict[str, Number] = {
    "new.natural": 5, "new.commercial": 2, "new.total": 7,
    "carried_in.natural": 1, "carried_in.total": 1,
    "granted.natural": 3, "granted.commercial": 1, "granted.total": 4,
    "partial.natural": 1, "partial.total": 1,
    "unavailable_not_held.natural": 1, "unavailable_not_held.total": 1,
    "results_total.natural": 5, "results_total.commercial": 1, "results_total.total": 6,
    "carried_out.natural": 1, "carried_out.commercial": 1, "carried_out.total": 2,
}  # fmt: skip

REVIEW_NONZERO: dict[str, Number] = {
    "review.upheld": 2, "review.corrected": 1, "review.pending": 1, "review.total": 4,
    "direct.upheld": 1, "direct.total": 1,
}  # fmt: skip

ACTIVE_2019_NONZERO: dict[str, Number] = {
    "regulations.new_made": 1, "regulations.new_published": 1, "regulations.total_published": 10,
    "normative_docs.new_made": 3, "normative_docs.new_published": 3, "normative_docs.total_published": 30,
    "licensing.prev_items": 20, "licensing.delta": -2, "licensing.decisions": 500,
    "fees.prev_items": 4, "fees.delta": -3,
    "procurement.projects": 7, "procurement.amount_wan": 3168.0656,
}  # fmt: skip

ACTIVE_2021_NONZERO: dict[str, Number] = {
    "regulations.issued": 1, "regulations.in_force": 12,
    "normative_docs.issued": 5, "normative_docs.repealed": 2, "normative_docs.in_force": 40,
    "licensing.decisions": 300, "fees.amount_wan": 0.038,
}  # fmt: skip

# staff 56 = 16 + 40, received 4 = 4 online, completed 4 = 4 on time, answers 4 = 3 granted + 1 denied,
# denied 1 = 1 security; review/litigation all zero.
LEGACY_NONZERO: dict[str, Number] = {
    "active_total": 5078, "active_normative": 16, "normative_issued": 16, "channel_website": 5078,
    "hotspot_responses": 1, "online_interviews": 4,
    "requests_received": 4, "requests_online": 4, "requests_completed": 4, "completed_on_time": 4,
    "answers_total": 4, "answers_granted": 3, "answers_denied": 1, "denied_security": 1,
    "dedicated_units": 1, "reading_points": 30, "staff_total": 56, "staff_fulltime": 16, "staff_parttime": 40,
    "budget_wan": 8.0, "trainings": 1, "trainees": 220,
}  # fmt: skip


def filled(keys: Iterable[str], nonzero: Mapping[str, Number]) -> dict[str, Number | None]:
    table: dict[str, Number | None] = dict.fromkeys(keys, 0)
    table.update(nonzero)
    return table


def requests_table(generation: Generation = "gen2019") -> dict[str, Number | None]:
    return filled(request_keys(generation), REQUESTS_NONZERO)


def review_table() -> dict[str, Number | None]:
    return filled(REVIEW_KEYS, REVIEW_NONZERO)


def active_table(generation: Generation = "gen2019") -> dict[str, Number | None]:
    if generation == "gen2021":
        return filled(ACTIVE_KEYS_2021, ACTIVE_2021_NONZERO)
    return filled(ACTIVE_KEYS_2019, ACTIVE_2019_NONZERO)


def legacy_table() -> dict[str, Number | None]:
    return filled(LEGACY_KEYS, LEGACY_NONZERO)


def modern_tables(generation: Generation = "gen2019") -> dict[str, dict[str, Number | None]]:
    return {
        "active": active_table(generation),
        "requests": requests_table(generation),
        "review_litigation": review_table(),
    }


def cell(table: str, key: str, value: Number | None, status: str = "number", **extra: Any) -> Cell:
    return Cell.model_validate({"table": table, "key": key, "value": value, "status": status, **extra})


def make_record(
    *,
    generation: Generation | None = "gen2019",
    year: int | None = 2019,
    tables: Mapping[str, Mapping[str, Number | None]] | None = None,
    sections: Mapping[str, str] | None = None,
    cells: Iterable[Cell] = (),
    **fields: Any,
) -> Record:
    """A record with the given parts; ``tables`` defaults to consistent modern (or legacy) tables."""
    if tables is None:
        tables = {"legacy": legacy_table()} if generation == "legacy" else modern_tables(generation or "gen2019")
    data: dict[str, Any] = {
        "generation": {"value": generation},
        "year": {"value": year},
        "tables": {name: dict(values) for name, values in tables.items()},
        "sections": dict(sections or {}),
        "cells": list(cells),
        **fields,
    }
    return Record.model_validate(data)


def run(record: Record, **kwargs: Any) -> Evaluation:
    return evaluate(record, **kwargs)


def findings_of(evaluation: Evaluation, rule: str) -> dict[str | None, Finding]:
    """The findings of one rule keyed by ``where`` (the engine emits one per (rule, where))."""
    return {f.where: f for f in evaluation.findings if f.rule == rule}


def verdicts(evaluation: Evaluation, rule: str) -> dict[str | None, str]:
    return {where: f.status for where, f in findings_of(evaluation, rule).items()}


def failing(evaluation: Evaluation) -> set[tuple[str, str | None]]:
    return {(f.rule, f.where) for f in evaluation.findings if f.status == "fail"}


def with_values(table: Mapping[str, Number | None], **changes: Number | None) -> dict[str, Number | None]:
    """A copy of ``table`` with keys changed; keyword names use ``__`` for the dot (``new__natural``)."""
    out = dict(table)
    for name, value in changes.items():
        key = name.replace("__", ".")
        if key not in out:
            raise KeyError(key)
        out[key] = value
    return out
