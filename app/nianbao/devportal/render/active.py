"""Table 二、主动公开政府信息情况: caption-row blocks over four columns (report-format.md §2.1, §2.2).

Each block is a caption row spanning the table (``第二十条第（一）项``), a header row starting with
``信息内容``, then its data rows. A block with one value column spans that cell over the three value
columns (gen2021); a block with two pads the fourth cell empty (gen2019 (八)/(九)).
"""

from __future__ import annotations

from dataclasses import dataclass

from nianbao.devportal.model import Report
from nianbao.devportal.render.cells import table, td, tr

VALUE_COLUMNS = 3


@dataclass(frozen=True)
class ActiveRow:
    label: str
    row_key: str


@dataclass(frozen=True)
class ActiveBlock:
    """One caption block: ``columns`` pairs a printed header with the column key it holds."""

    caption: str
    columns: tuple[tuple[str, str], ...]
    rows: tuple[ActiveRow, ...]


def active_table(report: Report, blocks: tuple[ActiveBlock, ...], *, header_overrides: dict[str, str]) -> str:
    """Render the blocks with ``report``'s values; ``header_overrides`` swaps a printed header by column key."""
    rows: list[str] = []
    for block in blocks:
        rows.append(tr([td(block.caption, colspan=VALUE_COLUMNS + 1)]))
        headers = [header_overrides.get(key, label) for label, key in block.columns]
        rows.append(tr([td("信息内容"), *_value_cells(headers)]))
        for row in block.rows:
            texts = [report.cell_text("active", f"{row.row_key}.{key}") for _, key in block.columns]
            rows.append(tr([td(row.label), *_value_cells(texts)]))
    return table(rows)


def _value_cells(texts: list[str]) -> list[str]:
    if len(texts) == 1:
        return [td(texts[0], colspan=VALUE_COLUMNS)]
    return [td(t) for t in texts] + [td("") for _ in range(VALUE_COLUMNS - len(texts))]
