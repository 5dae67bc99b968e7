"""Canonical records built directly, for tests of what reads stored reports (lists, totals, exports)."""

from __future__ import annotations

from nianbao.shared.record import Record, request_keys


def minimal_record(agency: str, year: int) -> Record:
    """A gen2019 report of ``agency`` for ``year`` whose requests table is all zeros, and nothing else."""
    return Record(
        title=f"{agency}{year}年政府信息公开工作年度报告",
        agency={"name": agency, "source": "title"},
        year={"value": year, "source": "title"},
        generation={"value": "gen2019", "source": "labels"},
        tables={"requests": dict.fromkeys(request_keys("gen2019"), 0)},
        parser_version="test",
    )
