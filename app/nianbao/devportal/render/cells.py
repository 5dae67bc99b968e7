"""Table cells the way Word's HTML export writes them: every cell's text wrapped in ``<p><span>``.

Government reports are drafted in Word and pasted into the CMS editor, so their tables carry Word's
markup (fixed widths, inline borders, ``MsoNormal`` paragraphs); parsers have to read through it.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

_CELL_STYLE = "border:1px solid #000000;padding:0pt 5.4pt;"
_SPAN_STYLE = "font-family:宋体;font-size:10.5pt;"


def td(text: str, *, rowspan: int = 1, colspan: int = 1, align: str = "center") -> str:
    """One cell; empty text becomes ``&nbsp;`` as in Word's export."""
    spans = ""
    if rowspan > 1:
        spans += f' rowspan="{rowspan}"'
    if colspan > 1:
        spans += f' colspan="{colspan}"'
    content = escape(text, quote=False) if text.strip() else "&nbsp;"
    return (
        f'<td{spans} valign="center" style="{_CELL_STYLE}">'
        f'<p class="MsoNormal" align="{align}" style="text-align:{align};">'
        f'<span style="{_SPAN_STYLE}">{content}</span></p></td>'
    )


def tr(cells: Iterable[str]) -> str:
    return "<tr>" + "".join(cells) + "</tr>"


def table(rows: Iterable[str]) -> str:
    return (
        '<table class="MsoNormalTable" border="1" cellspacing="0" cellpadding="0" width="100%" '
        'style="border-collapse:collapse;border:none;">\n<tbody>\n' + "\n".join(rows) + "\n</tbody>\n</table>"
    )


def letterspaced(label: str, *, on: bool) -> str:
    """``结果维持`` → ``结 果 维 持`` when ``on`` (narrow header cells in real reports read like that)."""
    return " ".join(label) if on else label


def wrapped(label: str, *, on: bool) -> str:
    """``商业企业`` → ``商业 企业`` when ``on``: a label that Word wrapped once in a narrow cell."""
    if not on or len(label) < 2:
        return label
    half = len(label) // 2
    return f"{label[:half]} {label[half:]}"
