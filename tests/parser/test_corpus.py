"""Every expected value and metadata field of every seed document (../shared/corpus), exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nianbao.parser.evaluate import evaluate_corpus, render_eval
from nianbao.parser.extract import parse_file

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
SEEDS = sorted((CORPUS / "seeds").glob("*.expected.json")) if (CORPUS / "seeds").is_dir() else []

pytestmark = pytest.mark.skipif(not SEEDS, reason=f"the shared corpus is not beside the repo ({CORPUS})")


def _document(expected: Path) -> Path:
    return expected.with_name(expected.name.replace(".expected.json", ".txt"))


@pytest.mark.parametrize("expected_path", SEEDS, ids=lambda p: p.name.split(".")[0])
def test_seed_values_and_metadata(expected_path: Path) -> None:
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    record = parse_file(_document(expected_path))
    assert record.title == expected["title"]
    assert record.agency.name == expected["agency"]["name"]
    assert record.year.value == expected["year"]["value"]
    assert record.generation.value == expected["generation"]["value"]
    assert record.metadata.model_dump(mode="json") == expected["metadata"]
    assert set(record.tables) == set(expected["tables"])
    for table, values in expected["tables"].items():
        got = {k: record.tables[table].get(k, "ABSENT") for k in values}
        assert got == values, table
        assert list(record.tables[table])[: len(values)] == list(values), "template keys in template order"


@pytest.mark.parametrize("expected_path", SEEDS, ids=lambda p: p.name.split(".")[0])
def test_seed_every_value_has_provenance(expected_path: Path) -> None:
    record = parse_file(_document(expected_path))
    for table, values in record.tables.items():
        for key, value in values.items():
            cell = record.cell(table, key)
            assert cell is not None, f"{table}.{key}"
            assert cell.value == value
            if cell.status in ("number", "placeholder", "blank"):
                assert cell.at.line is not None and cell.raw is not None


def test_evaluate_corpus_reports_full_accuracy_on_the_seeds() -> None:
    result = evaluate_corpus(CORPUS)
    assert len(result.documents) == len(SEEDS)
    assert result.values_total == result.values_right == 850
    assert result.fields_total == result.fields_right
    assert result.perfect, render_eval(result)


def test_seed_000_blank_total_of_other_is_blank_not_zero() -> None:
    record = parse_file(_document(CORPUS / "seeds" / "000_592af5ca0dea8887.expected.json"))
    cell = record.cell("requests", "other.total")
    assert cell is not None and cell.status == "blank" and cell.value is None
    assert record.tables["active"]["procurement.amount_wan"] == 2830.17


def test_seed_001_keeps_the_source_error_in_results_total() -> None:
    record = parse_file(_document(CORPUS / "seeds" / "001_bf80b47987e57cd0.expected.json"))
    requests = record.tables["requests"]
    row = [requests[f"results_total.{c}"] for c in ("natural", "commercial", "research", "social", "legal",
                                                   "other_org", "total")]
    assert row == [0, 0, 0, 0, 0, 0, 1]
    assert requests["granted.natural"] == 1
    assert record.year.source == "period_sentence"
    assert record.title is None


def test_seed_002_legacy_blanks_stay_null_and_money_is_float() -> None:
    record = parse_file(_document(CORPUS / "seeds" / "002_ce499626db922e7b.expected.json"))
    legacy = record.tables["legacy"]
    assert legacy["requests_completed"] is None and legacy["completed_on_time"] == 4
    assert isinstance(legacy["budget_wan"], float) and legacy["budget_wan"] == 8.0
    assert record.metadata.signature.date == "2019-01-18"  # not the 统计表's 填报日期 2019.1.20
    assert "八" in record.sections and "统计表" not in record.sections["八"]


def test_seed_004_metadata_units_and_sections() -> None:
    record = parse_file(_document(CORPUS / "seeds" / "004_392dabf3539690db.expected.json"))
    assert record.tables["active"]["procurement.amount_wan"] == 5529400.0
    cell = record.cell("active", "regulations.new_published")
    assert cell is not None and cell.annotation == "含2018年 结转1件" and cell.value == 8
    assert "统计期限自2019年1月1日起至2019年12月31日止" in record.sections["preamble"]
    assert "您即将离开" not in record.sections["六"]
    assert record.agency.source == "title"
