"""Reports whose tables are published only as an attachment of the article (PDF, DOCX, DOC).

Whole district portals publish nothing but PDFs, others Word files: the article page carries the metadata
block, the title and the prose, and says ``（统计表详见附件）`` where each table would be. Each report
here takes its table values (and so its ground truth, failing findings included) from one of the HTML
reports, under its own agency, document id and 索引号:

| id | agency | from | attachment | intended failing findings |
|---|---|---|---|---|
| water-2020 | 示例市水务局 | transport-2020 | PDF (T3 split over pages, vertical label) | requests.balance |
| town-2019 | 示例县东坝镇人民政府 | county-2019 | DOCX | none |
| ecology-2021 | 示例市生态环境局 | market-2021 | DOC (converted from our DOCX by LibreOffice) | none |
"""

from __future__ import annotations

from dataclasses import replace

from nianbao.devportal.model import Attachment, Report
from nianbao.devportal.reports import county_2019, market_2021, transport_2020


def _attached(base: Report, *, id: str, doc_id: int, agency: str, index_no: str, filename: str) -> Report:
    title = base.title.replace(base.agency, agency)
    fmt = filename.rsplit(".", 1)[1]
    return replace(
        base,
        id=id,
        doc_id=doc_id,
        title=title,
        agency=agency,
        publisher=agency,
        signature_body=agency,
        index_no=index_no,
        attachment=Attachment(filename=filename, label=f"{title}.{fmt}"),
        published_as=fmt,  # type: ignore[arg-type]  # pdf | docx | doc, checked by Report
    )


WATER_2020 = _attached(
    transport_2020.REPORT,
    id="water-2020",
    doc_id=187351,
    agency="示例市水务局",
    index_no="11999900MB0000133X/2021-00006",
    filename="P020210127390451876203.pdf",
)
TOWN_2019 = _attached(
    county_2019.REPORT,
    id="town-2019",
    doc_id=123470,
    agency="示例县东坝镇人民政府",
    index_no="11999902MB0000044T/2020-00012",
    filename="P020200331601287345190.docx",
)
ECOLOGY_2021 = _attached(
    market_2021.REPORT,
    id="ecology-2021",
    doc_id=243088,
    agency="示例市生态环境局",
    index_no="11999900MB0000211E/2022-00021",
    filename="P020220125118836401275.doc",
)
REPORTS: tuple[Report, ...] = (WATER_2020, TOWN_2019, ECOLOGY_2021)
