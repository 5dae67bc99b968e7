"""Hostile and broken Word/spreadsheet packages: each is refused with a clear reason, or read in bounded
time with a warning, before any library gets to expand, fetch or inflate what it should not."""

from __future__ import annotations

import io
import socket
import threading
import time
import zipfile

import docx
import openpyxl
import pytest

from nianbao.parser.docxflow import docx_document
from nianbao.parser.errors import UnusableInput
from nianbao.parser.settings import ParserSettings
from nianbao.parser.xlsxflow import xlsx_document

SETTINGS = ParserSettings()
MIB = 1024 * 1024
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def small_docx(text: str = "示例县人民政府2019年政府信息公开工作年度报告") -> bytes:
    word = docx.Document()
    word.add_paragraph(text)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def small_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "统计表"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rezip(data: bytes, *, replace: dict[str, bytes] | None = None, drop: tuple[str, ...] = (),
          add: dict[str, bytes] | None = None) -> bytes:  # fmt: skip
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in drop:
                continue
            target.writestr(info.filename, (replace or {}).get(info.filename, source.read(info.filename)))
        for name, body in (add or {}).items():
            target.writestr(name, body)
    return out.getvalue()


REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
RELS_OPEN = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
)


def document_xml(body: str) -> bytes:
    head = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W} {R}>'
    return f"{head}<w:body>{body}</w:body></w:document>".encode()


def refused(reader: object, data: bytes, reason: str, settings: ParserSettings = SETTINGS) -> str:
    started = time.monotonic()
    with pytest.raises(UnusableInput) as info:
        reader(data, settings)  # type: ignore[operator]
    assert time.monotonic() - started < 10
    assert info.value.reason == reason, str(info.value)
    return str(info.value)


@pytest.mark.parametrize("reader", [docx_document, xlsx_document], ids=["docx", "xlsx"])
def test_not_a_zip(reader: object) -> None:
    assert "not a readable zip" in refused(reader, b"%PDF-1.7 this is not a zip at all" * 10, "corrupt")


def test_truncated_docx() -> None:
    data = small_docx()
    refused(docx_document, data[: len(data) // 2], "corrupt")


def test_docx_without_document_xml() -> None:
    assert "word/document.xml" in refused(docx_document, rezip(small_docx(), drop=("word/document.xml",)), "corrupt")


def test_xlsx_without_workbook() -> None:
    refused(xlsx_document, rezip(small_xlsx(), drop=("xl/workbook.xml",)), "corrupt")


def test_damaged_member_stream() -> None:
    """A member whose compressed bytes were overwritten: zlib or the CRC check says so."""
    data = bytearray(small_docx())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 10 : start + 60] = b"\xff" * 50
    refused(docx_document, bytes(data), "corrupt")


@pytest.mark.parametrize("reader", [docx_document, xlsx_document], ids=["docx", "xlsx"])
def test_input_over_the_document_limit(reader: object) -> None:
    data = small_docx() if reader is docx_document else small_xlsx()
    settings = ParserSettings(max_document_bytes=2048)
    assert "over 2048" in refused(reader, data, "too_large", settings)


@pytest.mark.parametrize("reader", [docx_document, xlsx_document], ids=["docx", "xlsx"])
def test_zip_bomb_by_ratio(reader: object) -> None:
    """One member of 200 MB of zeros, deflated to about 200 KB."""
    base = small_docx() if reader is docx_document else small_xlsx()
    bomb = rezip(base, add={"customXml/item9.xml": b"\0" * (200 * MIB)})
    assert len(bomb) < 1 * MIB
    assert "zip bomb" in refused(reader, bomb, "too_large")


def test_zip_bomb_by_declared_total() -> None:
    """Many members of ordinary ratio whose sizes add up beyond the limit."""
    chunk = bytes(range(256)) * (MIB // 256)  # barely compressible
    bomb = rezip(small_docx(), add={f"word/media/image{i}.bin": chunk for i in range(3)})
    message = refused(docx_document, bomb, "too_large", ParserSettings(max_decompressed_bytes=2 * MIB))
    assert "declares" in message


def test_zip_member_lying_about_its_size() -> None:
    """A central directory that declares 10 bytes for a member that inflates to megabytes: never trusted;
    the member is refused when inflating it disagrees with its header."""
    data = rezip(small_docx(), add={"word/big.xml": b"<a>" + b"x" * (4 * MIB) + b"</a>"})
    archive = bytearray(data)
    name = b"word/big.xml"
    # patch the uncompressed size in both the local header and the central directory entry
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = 0
        while (at := archive.find(signature, at)) >= 0:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if archive[name_at : name_at + len(name)] == name:
                archive[at + size_at : at + size_at + 4] = (10).to_bytes(4, "little")
            at += 4
    refused(docx_document, bytes(archive), "corrupt")


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    + "]>"
)


def test_docx_billion_laughs_is_refused_before_parsing() -> None:
    body = BILLION_LAUGHS + f"<w:document {W}><w:body><w:p><w:r><w:t>&j;</w:t></w:r></w:p></w:body></w:document>"
    message = refused(docx_document, rezip(small_docx(), replace={"word/document.xml": body.encode()}), "hostile_xml")
    assert "word/document.xml" in message


def test_docx_external_entity_in_utf16_part_is_refused() -> None:
    body = (
        f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        f"<w:document {W}><w:body><w:p><w:r><w:t>&e;</w:t></w:r></w:p></w:body></w:document>"
    )
    data = rezip(small_docx(), replace={"word/document.xml": body.encode("utf-16")})
    refused(docx_document, data, "hostile_xml")


def test_xlsx_entities_in_shared_strings_are_refused() -> None:
    payload = (
        BILLION_LAUGHS.replace("w:document", "sst")
        + '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&j;</t></si></sst>'
    )
    data = rezip(small_xlsx(), add={"xl/sharedStrings.xml": payload.encode()})
    refused(xlsx_document, data, "hostile_xml")


def test_python_docx_parser_does_not_expand_entities() -> None:
    """Defence in depth: even past the guard, python-docx's lxml parser keeps entities unexpanded."""
    from docx.oxml.parser import parse_xml

    body = BILLION_LAUGHS + f"<w:document {W}><w:body><w:p><w:r><w:t>&j;</w:t></w:r></w:p></w:body></w:document>"
    started = time.monotonic()
    try:
        root = parse_xml(body.encode())
    except Exception:
        return  # libxml2 refusing the amplification is as good
    assert time.monotonic() - started < 2
    text = "".join(root.itertext())
    assert len(text) < 1000


def test_external_relationships_are_never_fetched() -> None:
    """A linked image and an attached template on a listening local port: the text is read, no
    connection is ever made."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    hits: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                hits.append(server.accept())
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    rels = (
        f'{RELS_OPEN}<Relationship Id="rId1" Type="{REL}/styles" Target="styles.xml"/>'
        f'<Relationship Id="rId90" Type="{REL}/image" Target="{url}/logo.png" TargetMode="External"/>'
        f'<Relationship Id="rId91" Type="{REL}/hyperlink" Target="{url}/x" TargetMode="External"/>'
        "</Relationships>"
    )
    settings_rels = (
        f'{RELS_OPEN}<Relationship Id="rId1" Type="{REL}/attachedTemplate" Target="{url}/template.dotm" '
        'TargetMode="External"/></Relationships>'
    )
    body = document_xml(
        '<w:p><w:r><w:t>示例县人民政府2019年政府信息公开工作年度报告</w:t></w:r></w:p>'
        '<w:p><w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing">'
        '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:graphicData uri="x">'
        '<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:blipFill>'
        '<a:blip r:link="rId90"/></pic:blipFill></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r>'
        '<w:hyperlink r:id="rId91"><w:r><w:t>链接</w:t></w:r></w:hyperlink></w:p>'
    )  # fmt: skip
    data = rezip(
        small_docx(),
        replace={"word/_rels/document.xml.rels": rels.encode(), "word/document.xml": body},
        add={"word/_rels/settings.xml.rels": settings_rels.encode()},
    )
    try:
        document = docx_document(data, SETTINGS)
        time.sleep(0.3)
    finally:
        stop.set()
        thread.join(2)
        server.close()
    assert [line.text for line in document.lines] == ["示例县人民政府2019年政府信息公开工作年度报告", "链接"]
    assert hits == []


def _nested(depth: int) -> str:
    inner = "<w:p><w:r><w:t>最里层</w:t></w:r></w:p>"
    for level in range(depth):
        inner = f"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>层{level}</w:t></w:r></w:p>{inner}</w:tc></w:tr></w:tbl><w:p/>"
    return inner


def test_deeply_nested_tables_are_bounded() -> None:
    data = rezip(small_docx(), replace={"word/document.xml": document_xml(_nested(40))})
    started = time.monotonic()
    document = docx_document(data, SETTINGS)
    assert time.monotonic() - started < 5
    assert len(document.grids) == 1
    text = document.grids[0].text()
    assert text.startswith("层39 层38 层37") and "最里层" not in text and "层35" not in text
    assert ("table_too_large", "docx.nested_table", "a table nested deeper than 3") in document.warnings


def test_xml_nested_beyond_the_parser_depth_is_refused() -> None:
    """libxml2 stops at 256 levels without XML_PARSE_HUGE (python-docx does not set it)."""
    data = rezip(small_docx(), replace={"word/document.xml": document_xml(_nested(200))})
    assert "depth" in refused(docx_document, data, "corrupt")


def test_nested_table_text_is_flattened_into_its_cell() -> None:
    data = rezip(small_docx(), replace={"word/document.xml": document_xml(_nested(2))})
    grid = docx_document(data, SETTINGS).grids[0]
    assert grid.rows[0][0].text == "层1 层0 最里层"


def test_table_over_the_column_limit_is_skipped_with_a_warning() -> None:
    row = "<w:tr>" + "<w:tc><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc>" * 300 + "</w:tr>"
    data = rezip(small_docx(), replace={"word/document.xml": document_xml(f"<w:tbl>{row}</w:tbl>")})
    document = docx_document(data, SETTINGS)
    assert document.grids[0].skipped and document.grids[0].rows == []
    assert document.warnings[0][:2] == ("table_too_large", "docx.table[0]")


def test_absurd_spans_are_clamped() -> None:
    cells = (
        '<w:tc><w:tcPr><w:gridSpan w:val="99999999"/><w:vMerge w:val="restart"/></w:tcPr>'
        "<w:p><w:r><w:t>a</w:t></w:r></w:p></w:tc>"
    )
    rows = f"<w:tr>{cells}</w:tr>" + "<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc></w:tr>" * 3
    data = rezip(small_docx(), replace={"word/document.xml": document_xml(f"<w:tbl>{rows}</w:tbl>")})
    grid = docx_document(data, SETTINGS).grids[0]
    cells = [(c.text, c.row, c.col, c.rowspan, c.colspan) for r in grid.rows for c in r]
    assert cells == [("a", 0, 0, 4, SETTINGS.max_table_columns)]  # as an HTML colspan is clamped


def test_sliver_grid_columns_are_dropped() -> None:
    """A 1-twip grid column (DOC converted by LibreOffice) does not shift the cells right of it."""
    grid_cols = "".join(f'<w:gridCol w:w="{w}"/>' for w in (500, 500, 1, 500))

    def tc(text: str, span: int = 1) -> str:
        return f'<w:tc><w:tcPr><w:gridSpan w:val="{span}"/></w:tcPr><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>'

    rows = f"<w:tr>{tc('a')}{tc('b', 2)}{tc('c')}</w:tr><w:tr>{tc('1')}{tc('2')}{tc('3', 2)}</w:tr>"
    body = document_xml(f"<w:tbl><w:tblGrid>{grid_cols}</w:tblGrid>{rows}</w:tbl>")
    grid = docx_document(rezip(small_docx(), replace={"word/document.xml": body}), SETTINGS).grids[0]
    assert [[(c.text, c.col, c.colspan) for c in r] for r in grid.rows] == [
        [("a", 0, 1), ("b", 1, 1), ("c", 2, 1)],
        [("1", 0, 1), ("2", 1, 1), ("3", 2, 1)],
    ]
    assert grid.n_cols == 3


def test_encrypted_member_is_refused() -> None:
    data = bytearray(small_docx())
    at = data.find(b"PK\x01\x02")
    data[at + 8] |= 0x1  # the encryption flag in the first central directory entry
    refused(docx_document, bytes(data), "corrupt")


def test_xlsx_sheet_with_a_huge_merge_and_far_cell_is_bounded() -> None:
    """A merged range over millions of cells and a cell 90 000 rows down: read in bounded time."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "统计表"
    sheet["B1"] = "1"
    sheet["A90000"] = "far away"
    out = io.BytesIO()
    workbook.save(out)
    name = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        xml = archive.read(name).decode()
    xml = xml.replace("</sheetData>", '</sheetData><mergeCells count="1"><mergeCell ref="C1:ZZ60000"/></mergeCells>')
    started = time.monotonic()
    document = xlsx_document(rezip(out.getvalue(), replace={name: xml.encode()}), SETTINGS)
    assert time.monotonic() - started < 20
    assert [[c.text for c in row] for row in document.grids[0].rows] == [["统计表", "1"]]
    assert document.lines[-1].text == "far away"
