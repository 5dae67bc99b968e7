"""Hand-written HTML pages for markup the builders do not produce: no known body container, a title
split by inline markup, label/value metadata in list items, all tables in one grid, flattened text
tables inside paragraphs, nested layout tables."""

from __future__ import annotations

from nianbao.parser.extract import parse_bytes
from nianbao.shared.record import REQUEST_COLUMNS, Record

from .builders import active_html, make_report, render_html, requests_html, review_html


def parse(html: str) -> Record:
    return parse_bytes(html.encode("utf-8"), media_type="text/html", url="http://www.example.gov.cn/a/b.html")


def test_page_without_a_known_container() -> None:
    report = make_report("gen2019", seed=21)
    page = render_html(report).replace('id="zoom" class="TRS_Editor"', 'class="wz"')
    record = parse(page)
    assert record.tables == report.values
    assert record.title == report.title
    text = "\n".join(record.sections.values())
    assert "栏目1" not in text and "版权所有" not in text and "分享" not in text
    assert record.sections["六"] == "本年度未收取信息处理费。"


def test_title_cut_by_inline_markup_is_completed_from_the_page_metadata() -> None:
    report = make_report("gen2021", seed=22)
    page = render_html(report).replace(f"<h1>{report.title}</h1>",
                                       f"<h1><span>{report.agency}</span>{report.title[len(report.agency):]}</h1>")
    record = parse(page)
    assert record.title == report.title and record.agency.name == report.agency


def test_list_item_metadata_and_publisher_line() -> None:
    page = """<html><body><ul class="info"><li>索引号：000014349/2021-00222</li><li>主题分类：综合政务</li>
    <li>发文机关：某某县人民政府办公室</li><li>成文日期：2021年01月26日</li>
    <li>标　　题：某某县2020年政府信息公开工作年度报告</li>
    <li>发文字号：</li><li>发布日期：2021年01月28日</li></ul>
    <div id="zoom"><p>某某县2020年政府信息公开工作年度报告</p><p>一、总体情况</p><p>""" + "工作情况。" * 60 + """</p>
    <p>二、主动公开政府信息情况</p><p>三、收到和处理政府信息公开申请情况</p></div></body></html>"""
    record = parse(page)
    meta = record.metadata
    assert (meta.index_no, meta.topic, meta.publisher) == ("000014349/2021-00222", "综合政务", "某某县人民政府办公室")
    assert (meta.written_date, meta.publish_date, meta.doc_no) == ("2021-01-26", "2021-01-28", None)
    assert record.agency.name == "某某县人民政府" and record.year.value == 2020
    assert record.generation.source == "inferred"
    assert {w.code for w in record.warnings} >= {"generation_inferred", "no_tables"}


def test_all_three_tables_in_one_grid() -> None:
    report = make_report("gen2019", seed=23)
    t2, t3, t4 = active_html(report), requests_html(report), review_html(report)
    merged = (t2.replace("</tbody></table>", "") + t3[t3.index("<tbody>") + len("<tbody>"):]
              .replace("</tbody></table>", "") + t4[t4.index("<tbody>") + len("<tbody>"):])
    page = f"<html><body><div id='zoom'><p>一、总体情况</p><p>{'概述。' * 80}</p>" \
           f"<p>三、收到和处理政府信息公开申请情况</p>{merged}</div></body></html>"
    record = parse(page)
    assert record.tables == report.values
    assert not [w for w in record.warnings if w.code in ("row_duplicate", "extra_row", "cell_overflow")]


def test_flattened_text_tables_inside_paragraphs() -> None:
    values = [1, 0, 0, 0, 0, 0, 1]
    rows = "".join(f"<p>{label} | {' | '.join(map(str, values))} |</p>"
                   for label in ("一、本年新收政府信息公开申请数量", "(一)予以公开", "(七)总计"))
    page = ("<html><body><div id='zoom'><p>某局2020年政府信息公开工作年度报告</p><p>一、总体情况</p>"
            f"<p>{'概述。' * 80}</p><p>三、收到和处理政府信息公开申请情况</p>{rows}</div></body></html>")
    record = parse(page)
    requests = record.tables["requests"]
    assert [requests[f"granted.{c}"] for c in REQUEST_COLUMNS] == values
    assert requests["carried_in.natural"] is None


def test_report_table_nested_in_a_layout_table_cell() -> None:
    report = make_report("gen2021", seed=24)
    page = render_html(report, layout_table=True, metadata="dl").replace('id="zoom" class="TRS_Editor"', "")
    record = parse(page)
    assert record.tables == report.values
