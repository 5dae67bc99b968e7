"""LibreOffice conversion: a missing converter, a hanging one (killed with its process group at the time
limit), and real conversions — a devportal report written as DOC by LibreOffice and read back through
DOC → DOCX → ``docx_document`` → the analysis. Tests that need LibreOffice skip without it locally and
fail under CI (CI installs it)."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nianbao.devportal.catalogue import report
from nianbao.devportal.render.docxdoc import report_doc, report_docx
from nianbao.devportal.render.layout import report_layout
from nianbao.parser.analyze import Budget, analyze
from nianbao.parser.convert import ConverterMissing, convert, target_for
from nianbao.parser.docxflow import docx_document
from nianbao.parser.errors import UnusableInput
from nianbao.parser.settings import ParserSettings
from nianbao.parser.xlsxflow import xlsx_document
from nianbao.shared.record import Source

from support import skip_or_fail


def need_soffice() -> None:
    if not shutil.which("soffice"):
        skip_or_fail("LibreOffice (soffice) is not installed")


def _leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("nianbao-convert-*")}


def test_targets() -> None:
    assert [target_for(s) for s in (".doc", "WPS", "rtf", ".xls", ".et", ".pdf")] == [
        "docx", "docx", "docx", "xlsx", "xlsx", None,
    ]  # fmt: skip


def test_missing_converter_raises_converter_missing() -> None:
    settings = ParserSettings(converter_command="nianbao-no-such-soffice-binary")
    with pytest.raises(ConverterMissing) as info:
        convert(b"{\\rtf1 x}", ".rtf", "docx", settings)
    assert info.value.command == "nianbao-no-such-soffice-binary"
    assert not isinstance(info.value, UnusableInput)


def test_hanging_converter_is_killed_with_its_children(tmp_path: Path) -> None:
    """The converter starts a child and sleeps; at the time limit both die and the temp dir goes."""
    pids = tmp_path / "pids"
    script = tmp_path / "fake-soffice"
    script.write_text(f"#!/bin/sh\nsleep 600 &\necho $! >> {pids}\necho $$ >> {pids}\nwhile :; do sleep 1; done\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    before = _leftovers()
    settings = ParserSettings(converter_command=str(script), converter_timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(UnusableInput) as info:
        convert(b"\xd0\xcf\x11\xe0 not really a doc", ".doc", "docx", settings)
    assert info.value.reason == "conversion_failed"
    assert "longer than 1 s" in str(info.value)
    assert time.monotonic() - started < 10
    for pid in (int(p) for p in pids.read_text().split()):
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid), f"process {pid} survived the timeout"
    assert _leftovers() <= before


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(")")[-1].split()[0] == "Z")  # a zombie is dead


def test_converter_that_writes_nothing_is_conversion_failed(tmp_path: Path) -> None:
    script = tmp_path / "silent-soffice"
    script.write_text("#!/bin/sh\necho 'Error: source file could not be loaded'\nexit 0\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(UnusableInput) as info:
        convert(b"junk", ".doc", "docx", ParserSettings(converter_command=str(script)))
    assert info.value.reason == "conversion_failed"
    assert "could not be loaded" in str(info.value)


def test_conversion_arguments_use_a_private_profile(tmp_path: Path) -> None:
    """The command line and the seeded profile: own UserInstallation, macros off, proxy closed."""
    record = tmp_path / "argv"
    script = tmp_path / "recording-soffice"
    script.write_text(
        "#!/bin/sh\n"
        f'for a in "$@"; do echo "$a" >> {record}; done\n'
        'profile=$(echo "$1" | sed "s|^-env:UserInstallation=file://||")\n'
        f'cat "$profile/user/registrymodifications.xcu" > {record}.xcu\n'
        f'env > {record}.env\n'
        'eval out=\\${$(($# - 1))}\n'
        'echo converted > "$out/input.docx"\n'
    )  # fmt: skip
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    assert convert(b"x", ".wps", "docx", ParserSettings(converter_command=str(script))) == b"converted\n"
    args = record.read_text().splitlines()
    assert args[0].startswith("-env:UserInstallation=file:///") and "nianbao-convert-" in args[0]
    assert {"--headless", "--norestore", "--convert-to", "docx"} <= set(args)
    assert args[-1].endswith("input.wps")
    profile = Path(f"{record}.xcu").read_text()
    assert '"MacroSecurityLevel" oor:op="fuse"><value>3<' in profile
    assert '"DisableMacrosExecution" oor:op="fuse"><value>true<' in profile
    assert "http_proxy=http://127.0.0.1:9" in Path(f"{record}.env").read_text().splitlines()


def test_doc_report_through_libreoffice() -> None:
    need_soffice()
    rep = report("market-2021")
    before = _leftovers()
    doc = report_doc(report_layout(rep))
    assert doc.startswith(b"\xd0\xcf\x11\xe0")  # an OLE2 compound file: Word 97
    converted = convert(doc, ".doc", "docx", ParserSettings())
    document = docx_document(converted, ParserSettings())
    source = Source(content_sha256=hashlib.sha256(doc).hexdigest(), media_type="application/msword")
    record = analyze(document, source=source, budget=Budget.of(20))
    assert record.tables == rep.expected_tables()
    expected = rep.expected_metadata()
    assert (record.title, record.agency.name, record.year.value, record.generation.value) == (
        expected["title"], expected["agency"], expected["year"], expected["generation"],
    )  # fmt: skip
    assert all(c.at.table_index is not None and c.at.row is not None for c in record.cells)
    assert _leftovers() <= before


def test_rtf_and_xls_through_libreoffice() -> None:
    """RTF → DOCX and XLS → XLSX (the XLS written by LibreOffice from an XLSX of one table)."""
    need_soffice()
    rep = report("county-2019")
    rtf = convert(report_docx(report_layout(rep)), ".docx", "rtf", ParserSettings())
    assert rtf.startswith(b"{\\rtf")
    record = analyze(docx_document(convert(rtf, ".rtf", "docx", ParserSettings()), ParserSettings()),
                     source=Source(content_sha256="0" * 64), budget=Budget.of(20))  # fmt: skip
    assert record.tables == rep.expected_tables()

    from .test_docx_frontend import _report_xlsx

    xls = convert(_report_xlsx(report_layout(rep)), ".xlsx", "xls", ParserSettings())
    assert xls.startswith(b"\xd0\xcf\x11\xe0")
    sheet = xlsx_document(convert(xls, ".xls", "xlsx", ParserSettings()), ParserSettings())
    record = analyze(sheet, source=Source(content_sha256="0" * 64), budget=Budget.of(20))
    assert record.tables == rep.expected_tables()


def test_concurrent_conversions_do_not_share_a_profile() -> None:
    need_soffice()
    data = report_docx(report_layout(report("county-2018")))
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: convert(data, ".docx", "doc", ParserSettings()), range(3)))
    assert all(r.startswith(b"\xd0\xcf\x11\xe0") for r in results)


def test_garbage_converts_to_a_document_without_tables() -> None:
    """LibreOffice imports bytes it does not recognise as text instead of failing: the result is an
    ordinary workbook holding no report table (the record then says ``no_tables``)."""
    need_soffice()
    converted = convert(b"\x00\x01garbage" * 100, ".xls", "xlsx", ParserSettings(converter_timeout_s=60))
    document = xlsx_document(converted, ParserSettings())
    record = analyze(document, source=Source(content_sha256="0" * 64), budget=Budget.of(20))
    assert not record.tables
