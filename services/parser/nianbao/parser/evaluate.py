"""Parser accuracy on a corpus: every document with an ``<stem>.expected.json`` beside it.

Per document and in total: the share of expected table values reproduced exactly (``null`` must be
``null``; a number must be equal, ``8`` and ``8.0`` alike), the share of identity and metadata fields
right (title, agency.name, year.value, generation.value and every ``metadata`` field, signature
included), and every mismatch as (key, expected, got). A table the parser reports but the expected
record does not have is a mismatch too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nianbao.parser.errors import UnusableInput
from nianbao.parser.extract import parse_file

_MISSING = object()


@dataclass(frozen=True)
class Mismatch:
    key: str
    expected: Any
    got: Any


@dataclass
class DocumentEval:
    name: str
    values_total: int = 0
    values_right: int = 0
    fields_total: int = 0
    fields_right: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    error: str | None = None

    def check(self, key: str, expected: Any, got: Any, *, value: bool) -> None:
        right = _same(expected, got)
        if value:
            self.values_total += 1
            self.values_right += right
        else:
            self.fields_total += 1
            self.fields_right += right
        if not right:
            self.mismatches.append(Mismatch(key, expected, None if got is _MISSING else got))


@dataclass
class EvalResult:
    documents: list[DocumentEval] = field(default_factory=list)

    @property
    def values_total(self) -> int:
        return sum(d.values_total for d in self.documents)

    @property
    def values_right(self) -> int:
        return sum(d.values_right for d in self.documents)

    @property
    def fields_total(self) -> int:
        return sum(d.fields_total for d in self.documents)

    @property
    def fields_right(self) -> int:
        return sum(d.fields_right for d in self.documents)

    @property
    def perfect(self) -> bool:
        return all(not d.mismatches and d.error is None for d in self.documents)


def _same(expected: Any, got: Any) -> bool:
    if got is _MISSING:
        return False
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected is got
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return float(expected) == float(got)
    return bool(expected == got)


def _document_path(expected: Path) -> Path | None:
    stem = expected.name[: -len(".expected.json")]
    candidates = sorted(p for p in expected.parent.glob(f"{stem}.*") if p != expected
                        and not p.name.endswith(".json"))
    return candidates[0] if candidates else None


def evaluate_document(document: Path, expected: dict[str, Any]) -> DocumentEval:
    """Compare the parser's record of ``document`` with ``expected``."""
    result = DocumentEval(document.name)
    try:
        record = parse_file(document).model_dump(mode="json")
    except UnusableInput as exc:
        result.error = f"unusable input: {exc}"
        return result
    result.check("title", expected.get("title"), record["title"], value=False)
    for section, name in (("agency", "name"), ("year", "value"), ("generation", "value")):
        if section in expected:
            result.check(f"{section}.{name}", expected[section].get(name), record[section][name], value=False)
    for name, want in (expected.get("metadata") or {}).items():
        if name == "signature":
            for part in ("body", "date"):
                result.check(f"metadata.signature.{part}", (want or {}).get(part),
                             record["metadata"]["signature"][part], value=False)
        else:
            result.check(f"metadata.{name}", want, record["metadata"].get(name, _MISSING), value=False)
    tables = expected.get("tables") or {}
    for table, values in tables.items():
        got_table = record["tables"].get(table)
        for key, want in values.items():
            got = _MISSING if got_table is None else got_table.get(key, _MISSING)
            result.check(f"tables.{table}.{key}", want, got, value=True)
    for table in record["tables"]:
        if table not in tables:
            result.mismatches.append(Mismatch(f"tables.{table}", None, "present"))
    return result


def evaluate_corpus(directory: Path) -> EvalResult:
    """Evaluate every document of ``directory`` (searched recursively) that has an expected record."""
    result = EvalResult()
    for expected_path in sorted(Path(directory).rglob("*.expected.json")):
        document = _document_path(expected_path)
        if document is None:
            continue
        expected = json.loads(expected_path.read_text(encoding="utf-8"))
        result.documents.append(evaluate_document(document, expected))
    return result


def _pct(right: int, total: int) -> str:
    return f"{100.0 * right / total:6.2f} %" if total else "     – "


def render_eval(result: EvalResult, *, max_mismatches: int = 20) -> str:
    """A plain-text table: one line per document, a total line, then the mismatches."""
    name_width = max([len(d.name) for d in result.documents] + [len("TOTAL"), len("document")])
    header = f"{'document':<{name_width}}  {'values':>15}  {'share':>8}  {'fields':>9}  {'share':>8}"
    lines = [header, "-" * len(header)]
    for d in result.documents:
        values = f"{d.values_right}/{d.values_total}"
        fields = f"{d.fields_right}/{d.fields_total}"
        note = f"  ERROR: {d.error}" if d.error else ""
        lines.append(f"{d.name:<{name_width}}  {values:>15}  {_pct(d.values_right, d.values_total):>8}  "
                     f"{fields:>9}  {_pct(d.fields_right, d.fields_total):>8}{note}")
    lines.append("-" * len(header))
    values = f"{result.values_right}/{result.values_total}"
    fields = f"{result.fields_right}/{result.fields_total}"
    lines.append(f"{'TOTAL':<{name_width}}  {values:>15}  {_pct(result.values_right, result.values_total):>8}  "
                 f"{fields:>9}  {_pct(result.fields_right, result.fields_total):>8}")
    if not result.documents:
        lines.append("(no document with an .expected.json beside it)")
    for d in result.documents:
        if d.mismatches:
            lines.append("")
            lines.append(f"{d.name}: {len(d.mismatches)} mismatch(es)")
            for m in d.mismatches[:max_mismatches]:
                lines.append(f"  {m.key}: expected {m.expected!r}, got {m.got!r}")
            if len(d.mismatches) > max_mismatches:
                lines.append(f"  … {len(d.mismatches) - max_mismatches} more")
    return "\n".join(lines)
