"""PDFs as bodies make them: a Word document exported to PDF by an office suite, not drawn by our own PDF
writer. Every devportal report is written as DOCX, exported by LibreOffice (as Word or WPS would: table
rows that break across pages, labels wrapped in narrow cells, cell borders as filled rectangles), and the
PDF must give exactly the report's tables."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.render.docxdoc import report_docx
from nianbao.devportal.render.layout import report_layout
from nianbao.parser.extract import parse_bytes


def _soffice() -> str:
    found = shutil.which("soffice")
    if found is None:
        message = "LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def exported() -> dict[str, bytes]:
    """Every report as a Word-exported PDF, converted in one LibreOffice run (one start-up, not nine)."""
    soffice = _soffice()
    with tempfile.TemporaryDirectory(prefix="nianbao-export-") as tmp:
        root = Path(tmp)
        sources = []
        for spec in REPORTS:
            path = root / f"{spec.id}.docx"
            path.write_bytes(report_docx(report_layout(spec)))
            sources.append(str(path))
        subprocess.run(
            [soffice, f"-env:UserInstallation=file://{root / 'profile'}", "--headless", "--norestore",
             "--convert-to", "pdf", "--outdir", str(root / "pdf"), *sources],
            check=True, capture_output=True, timeout=240,
        )  # fmt: skip
        return {spec.id: (root / "pdf" / f"{spec.id}.pdf").read_bytes() for spec in REPORTS}


@pytest.mark.parametrize("spec", REPORTS, ids=lambda r: r.id)
def test_word_exported_pdf_gives_the_reports_tables(spec: object, exported: dict[str, bytes]) -> None:
    from nianbao.devportal.model import Report

    assert isinstance(spec, Report)
    record = parse_bytes(exported[spec.id], url=f"file:///{spec.id}.pdf")
    assert record.source.media_type == "application/pdf"
    assert record.tables == spec.expected_tables()
    assert (record.year.value, record.generation.value) == (spec.year, spec.generation)
    assert record.title == spec.title
    assert all(cell.at.page is not None and cell.at.bbox is not None for cell in record.cells)
    assert not {"extra_row", "row_missing", "cell_missing", "number_split"} & {w.code for w in record.warnings}
