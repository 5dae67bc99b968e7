"""Is a fetched page a report? The crawler's decision of record, made before a page is handed on.

A page is a report when it holds one (any of, checked in this order after the title):

* the template's **statistics tables**: a table cell that is a label of the national tables (2019/2021
  T2–T4, or the legacy 统计表), not prose in a layout table;
* a **report attachment**: a document (PDF, Word, spreadsheet, …) linked from the page whose name is not
  itself an interpretation or graphic;
* the report's **section structure**: numbered part headings of the national skeleton (一、总体情况 …
  六、其他需要报告的事项) or of the legacy one (概述, 依申请公开, 收费及减免 …), with at least the
  主动公开 and the 申请 parts. A modern report (covered year 2019 or later) puts parts 二–四 in tables;
  when no table is there it stays a report (the validator then fails ``report.no_tables``) unless those
  parts carry the statistics as sentences instead (three or more figures with units): that is a prose
  summary of a report, not the report. Legacy reports (up to 2018) were prose and are kept as prose.

Titles decide first, on the title as listed and on the page's own title (``ArticleTitle``, ``<h1>``,
``<title>`` up to its first separator), whichever names a report:

* **interpretation or graphic** (解读, 图解, 一图读懂, 答记者问, 问答, 新闻发布会, 视频 …): never a report,
  whatever the page holds (an interpretation repeats the report's figures; the report is elsewhere);
* **notice** (通知, 印发, 转发, …的公告/通告): not a report unless it carries the report itself, as the
  template's tables in the page or as a report attachment (a notice that 印发 the report with it attached
  holds the report).

Everything else without any evidence is not a report. The functions are pure and linear in the page
size: tags are split by one regular expression, never matched with backtracking over the body.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from nianbao.crawler.titles import report_year

# --- titles --------------------------------------------------------------------------------------------------

INTERPRETATION = re.compile(
    r"解读|答记者问|答问|问答|新闻发布会|发布会|一图(?:读懂|看懂|了解|速览|带你)|图解|图说|图示|长图|动漫|视频"
)
NOTICE = re.compile(r"通知(?!公告)|印发|转发|的公告|的通告")
# A page title names a report (or one of its derivatives) when it says so; a column name in <h1> or
# <title> ("政策解读", "通知公告") does not.
_REPORTISH = re.compile(r"报告|年报")
_TITLE_SEPARATORS = re.compile(r"\s*(?:_|｜|\||——|—|\s-\s)\s*")


def norm(text: str) -> str:
    """NFKC, no whitespace: the form labels and titles are compared in."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def decoy_kind(title: str) -> tuple[str, str] | None:
    """('interpretation' | 'notice', the matched words) for a title that names an interpretation,
    graphic or notice, else None."""
    text = norm(title)
    for kind, pattern in (("interpretation", INTERPRETATION), ("notice", NOTICE)):
        match = pattern.search(text)
        if match:
            return kind, match.group(0)
    return None


# --- page text -----------------------------------------------------------------------------------------------

# One token per tag, comment opening or stray '<'; text between tokens is content. Scripts and styles are
# skipped, comments jumped over with str.find (a regex for a whole comment rescans an unclosed one).
_TOKEN = re.compile(r"<!--|<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>|<")
_BLOCK = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "tr", "table", "tbody", "thead", "tfoot", "section", "article", "center"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd", "dt", "dl", "title"}
)
_SKIP = frozenset({"script", "style", "noscript", "textarea"})
_CELL = frozenset({"td", "th"})
_ATTR = re.compile(r"""\b(name|content)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
MAX_CELL_CHARS = 60  # a label cell; longer cells are prose (a page laid out in a table)
MAX_H1 = 5  # <h1> elements read as titles


@dataclass(frozen=True)
class PageText:
    """What the classifier reads from a page: its text lines, short table cells and own titles."""

    lines: list[str]
    cells: list[str]  # normalised text of short table cells
    titles: list[str]  # ArticleTitle meta, <h1> texts, <title> up to its first separator


class _Reader:
    """One pass over the tokens of a page (see :func:`read_page`)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.cells: list[str] = []
        self.meta_title = ""
        self.title_tag: list[str] = []
        self.h1: list[str] = []
        self.current: list[str] = []
        self.cell: list[str] | None = None
        self.in_title = False
        self.in_h1 = False

    def text(self, chunk: str) -> None:
        chunk = html.unescape(chunk)
        self.current.append(chunk)
        if self.cell is not None:
            self.cell.append(chunk)
        if self.in_title:
            self.title_tag.append(chunk)
        if self.in_h1:
            self.h1[-1] += chunk

    def flush(self) -> None:
        line = " ".join("".join(self.current).split())
        if line:
            self.lines.append(line)
        self.current.clear()

    def end_cell(self) -> None:
        if self.cell is not None:
            value = norm("".join(self.cell))
            if value and len(value) <= MAX_CELL_CHARS:
                self.cells.append(value)
        self.cell = None

    def tag(self, name: str, closing: bool, raw: str) -> None:
        if name == "meta" and not self.meta_title:
            attrs = {m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or "" for m in _ATTR.finditer(raw)}
            if attrs.get("name", "").lower() == "articletitle":
                self.meta_title = html.unescape(attrs.get("content", ""))
        elif name == "title":
            self.in_title = not closing
        elif name == "h1":
            self.in_h1 = not closing
            if self.in_h1:
                self.h1.append("")
        if name in _CELL or name in ("tr", "table"):
            self.end_cell()
            if name in _CELL and not closing:
                self.cell = []
        if name in _BLOCK or name in _CELL:
            self.flush()


def read_page(text: str) -> PageText:
    """Lines of text (block tags end a line), short table cells and the page's own titles, in one linear
    pass over ``text``."""
    reader = _Reader()
    skip: str | None = None  # inside <script> / <style> …: text is not content
    pos = 0
    while True:
        match = _TOKEN.search(text, pos)
        if match is None:
            break
        if match.start() > pos and skip is None:
            reader.text(text[pos : match.start()])
        pos = match.end()
        token = match.group(0)
        if token == "<!--":
            end = text.find("-->", pos)
            pos = len(text) if end < 0 else end + 3
            continue
        name = (match.group(2) or "").lower()
        if not name:
            continue  # a stray '<'
        closing = bool(match.group(1))
        if skip is not None:
            if closing and name == skip:
                skip = None
            continue
        if name in _SKIP and not closing:
            if not token.endswith("/>"):
                skip = name
            continue
        reader.tag(name, closing, token)
    if skip is None and pos < len(text):
        reader.text(text[pos:])
    reader.end_cell()
    reader.flush()
    titles: list[str] = []
    first_of_title_tag = _TITLE_SEPARATORS.split(" ".join("".join(reader.title_tag).split()))[0]
    for candidate in [reader.meta_title, *reader.h1[:MAX_H1], first_of_title_tag]:
        candidate = " ".join(candidate.split())
        if candidate and candidate not in titles:
            titles.append(candidate)
    return PageText(reader.lines, reader.cells, titles)


def own_title(page: PageText) -> str:
    """The page's own title: the first of its titles that names a report, else the first one."""
    for title in page.titles:
        if _REPORTISH.search(norm(title)):
            return title
    return page.titles[0] if page.titles else ""


# --- evidence ----------------------------------------------------------------------------------------------

# Labels found only in the statistics tables (compared after norm(): full-width brackets folded).
TABLE_LABELS = tuple(
    norm(label)
    for label in (
        # 2019 / 2021 T2
        "第二十条第（一）项", "第二十条第（五）项", "第二十条第（六）项", "第二十条第（八）项", "第二十条第（九）项",
        "信息内容", "本年制发件数", "本年废止件数", "现行有效件数", "本年新制作数量", "本年新公开数量",
        "对外公开总数量", "上一年项目数量", "本年增/减", "处理决定数量", "本年处理决定数量", "本年收费金额",
        "采购项目数量", "采购总金额",
        # T3
        "本列数据的勾稽关系", "申请人情况", "本年新收政府信息公开申请数量", "上年结转政府信息公开申请数量",
        "本年度办理结果", "结转下年度继续办理", "商业企业", "科研机构", "社会公益组织", "法律服务机构",
        # T4
        "结果维持", "结果纠正", "其他结果", "尚未审结", "未经复议直接起诉", "复议后起诉",
        # legacy 统计表
        "统计指标", "统计数", "主动公开政府信息数", "收到申请数", "申请答复数", "同意公开答复数",
        "不同意公开答复数", "维持具体行政行为数", "被依法纠错数", "举报投诉数量", "依申请公开信息收取的费用",
    )
)  # fmt: skip

# Labels no sentence uses: two of them in the text, outside any table cell, are a table flattened into
# text (a plain-text page, a table drawn with <div>s), which the parser reads too.
FLAT_TABLE_LABELS = tuple(
    norm(label)
    for label in (
        "第二十条第（一）项", "第二十条第（五）项", "第二十条第（六）项", "本列数据的勾稽关系", "本年制发件数",
        "本年废止件数", "现行有效件数", "本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量",
        "统计指标",
    )
)  # fmt: skip
FLAT_TABLE_MIN = 2

_HEADING = re.compile(r"^([一二三四五六七八九十])[、.]\s*(.{2,40})")
ORDINALS = "一二三四五六七八九十"
# Keywords of part headings in either skeleton (spec report-format §1.2: match by ordinal plus keywords).
_PART_KEYWORDS = re.compile(
    r"总体情况|基本情况|概述|主动公开|申请|咨询|复议|诉讼|收费|减免|支出|问题|改进|其他|回应解读|机构建设"
)
_LEGACY_HEADING = re.compile(r"依申请公开|咨询处理|收费|减免|支出情况")
_FIGURE = re.compile(r"\d[\d,，.]*\s*(?:件|条|项|个|次|人次|万元|元|篇|场|期|份|家)")
PROSE_FIGURES = 3  # figures in sentences under parts 二–四 that make a page a summary, not the report
LAST_LEGACY_YEAR = 2018  # the 2019 条例 and its template apply from the 2019 reports


@dataclass(frozen=True)
class Structure:
    parts: dict[int, str]  # ordinal → heading line, first occurrence of each
    legacy: bool  # a legacy-only heading (依申请公开, 咨询处理, 收费及减免 …)
    prose_figures: int  # figures with units written under parts 二, 三 and 四

    @property
    def is_skeleton(self) -> bool:
        texts = list(self.parts.values())
        return len(self.parts) >= 4 and any("主动公开" in t for t in texts) and any("申请" in t for t in texts)


def structure(lines: Sequence[str]) -> Structure:
    parts: dict[int, str] = {}
    starts: list[tuple[int, int]] = []  # (line index, ordinal) of every part heading, in order
    legacy = False
    for index, line in enumerate(lines):
        match = _HEADING.match(norm(line[:80]))
        if not match:
            continue
        ordinal = ORDINALS.index(match.group(1)) + 1
        title = match.group(2)
        if not _PART_KEYWORDS.search(title):
            continue
        starts.append((index, ordinal))
        parts.setdefault(ordinal, line)
        legacy = legacy or bool(_LEGACY_HEADING.search(title))
    figures = 0
    for number, (index, ordinal) in enumerate(starts):
        if ordinal not in (2, 3, 4):
            continue
        stop = starts[number + 1][0] if number + 1 < len(starts) else len(lines)
        body = lines[index:stop]
        # The heading itself may carry text after it ("二、主动公开情况：本年…"): count it too.
        figures += sum(len(_FIGURE.findall(norm(line))) for line in body)
    return Structure(parts, legacy, figures)


@dataclass(frozen=True)
class Verdict:
    """The decision on one page. ``evidence`` is a code (tables | attachment | sections | document for
    reports; interpretation_title | notice_title | prose | no_evidence | empty otherwise), ``reason`` one
    line saying what was seen, ``title`` the best title (as listed, else the page's own; '' if none)."""

    is_report: bool
    evidence: str
    reason: str
    title: str

    @property
    def outcome(self) -> str:
        return "report" if self.is_report else "not_a_report"


def _flat_labels(lines: Sequence[str]) -> list[str]:
    found: set[str] = set()
    for line in lines:
        text = norm(line)
        found.update(label for label in FLAT_TABLE_LABELS if label in text)
        if len(found) >= FLAT_TABLE_MIN:
            break
    return sorted(found)


def _decoy_in(named: Sequence[tuple[str, str]]) -> tuple[str, str, str, str] | None:
    """(kind, words, where, title) of the strongest decoy among the (where, title) pairs: an
    interpretation beats a notice."""
    best: tuple[str, str, str, str] | None = None
    for where, candidate in named:
        found = decoy_kind(candidate) if candidate else None
        if found and (best is None or (found[0] == "interpretation" and best[0] == "notice")):
            best = (found[0], found[1], where, candidate)
    return best


def _is_interpretation(name: str) -> bool:
    found = decoy_kind(name)
    return found is not None and found[0] == "interpretation"


def _more(items: Sequence[str], shown: int) -> str:
    return f" (+{len(items) - shown})" if len(items) > shown else ""


def judge_page(
    text: str,
    *,
    listing_title: str = "",
    attachment_names: Sequence[str] = (),
    year: int | None = None,
) -> Verdict:
    """Decide whether the page ``text`` (decoded HTML or plain text) is a report. ``attachment_names``
    are the link texts (or file names) of the documents it links; ``year`` the covered year, if known
    (else read from the titles)."""
    listing_title = " ".join(listing_title.split())
    if not text.strip():
        return Verdict(False, "empty", "empty page: no text", listing_title)
    page = read_page(text)
    mine = own_title(page)
    title = listing_title or mine
    named = [("listing title", listing_title)] + [("page title", t) for t in page.titles if _REPORTISH.search(norm(t))]
    decoy = _decoy_in(named)
    if decoy is not None and decoy[0] == "interpretation":
        reason = f"interpretation or graphic: '{decoy[1]}' in the {decoy[2]} 「{decoy[3]}」"
        return Verdict(False, "interpretation_title", reason, title)
    labels = sorted({label for cell in page.cells for label in TABLE_LABELS if label in cell})
    if labels:
        return Verdict(True, "tables", f"statistics table labels: {', '.join(labels[:4])}{_more(labels, 4)}", title)
    flat = _flat_labels(page.lines)
    if len(flat) >= FLAT_TABLE_MIN:
        return Verdict(True, "tables", f"statistics table labels in the text: {', '.join(flat[:4])}", title)
    reports = [name for name in attachment_names if not _is_interpretation(name)]
    if reports:
        return Verdict(True, "attachment", f"report attachment: {reports[0][:80]}{_more(reports, 1)}", title)
    if decoy is not None:
        reason = (
            f"notice: '{decoy[1]}' in the {decoy[2]} 「{decoy[3]}」, without the report's tables or a report attachment"
        )
        return Verdict(False, "notice_title", reason, title)
    shape = structure(page.lines)
    if shape.is_skeleton:
        if year is None:
            year = report_year(listing_title, None) or report_year(mine, None)
        legacy = shape.legacy or (year is not None and year <= LAST_LEGACY_YEAR)
        parts = "".join(ORDINALS[o - 1] for o in sorted(shape.parts))
        if not legacy and shape.prose_figures >= PROSE_FIGURES:
            reason = (
                f"prose: the template's parts {parts} with {shape.prose_figures} figures in sentences under "
                "parts 二–四, no statistics table, no report attachment"
            )
            return Verdict(False, "prose", reason, title)
        kind = "legacy" if legacy else "template"
        return Verdict(True, "sections", f"{kind} section structure: parts {parts}, no statistics table", title)
    return Verdict(False, "no_evidence", "no statistics table, no report attachment, no section structure", title)


def judge_document(*, listing_title: str) -> Verdict:
    """A document (PDF, Word, …) listed directly or served for a page URL: its content is the parser's to
    read, so only an interpretation or graphic title makes it not a report."""
    title = " ".join(listing_title.split())
    found = decoy_kind(title)
    if found and found[0] == "interpretation":
        reason = f"interpretation or graphic: '{found[1]}' in the listing title 「{title}」"
        return Verdict(False, "interpretation_title", reason, title)
    return Verdict(True, "document", "a document: its content is the parser's to read", title)
