"""The home page, the 年报 column's listing pages (TRS ``createPageHTML`` pager) and the 404 page."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from nianbao.devportal.catalogue import Entry
from nianbao.devportal.render.chrome import COLUMN_NAME, SITE_NAME, breadcrumb, document
from nianbao.devportal.urls import COLUMN_DIR, COLUMN_PATH

# The pager TRS templates inline: page 0 is index.<ext>, page N is index_N.<ext>. Crawlers read the
# page count from the call below it, never by running this.
_PAGER_JS = """<script>
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
  if(_nPageCount == null || _nPageCount <= 1){ return; }
  var html = "";
  function name(i){ return i == 0 ? _sPageName + "." + _sPageExt : _sPageName + "_" + i + "." + _sPageExt; }
  html += "<span>共" + _nPageCount + "页</span>";
  if(_nCurrIndex > 0){ html += "<a href='" + name(0) + "'>首页</a><a href='" + name(_nCurrIndex - 1) + "'>上一页</a>"; }
  if(_nCurrIndex < _nPageCount - 1){
    html += "<a href='" + name(_nCurrIndex + 1) + "'>下一页</a><a href='" + name(_nPageCount - 1) + "'>尾页</a>";
  }
  document.write(html);
}
</script>
"""


def home_page() -> str:
    body = (
        '<div class="main"><div class="box"><h2>政府信息公开</h2><ul>'
        f'<li><a href=".{COLUMN_PATH}">{COLUMN_NAME}</a></li>'
        "</ul></div></div>"
    )
    return document(charset="utf-8", title=SITE_NAME, meta=[("ColumnName", "首页")], body=body)


def column_page(entries: Sequence[Entry], *, page: int, pages: int) -> str:
    """Listing page ``page`` (0-based) of ``pages``; links are relative to the column directory."""
    items = "\n".join(
        f'<li><a href="./{e.path.removeprefix(COLUMN_DIR)}" title="{escape(e.title)}">'
        f"{escape(e.title)}</a><span>{e.published.isoformat()}</span></li>"
        for e in entries
    )
    body = (
        f"{breadcrumb(root='../', column='./index.html')}\n"
        f'<div class="list-box"><div class="list-title">{COLUMN_NAME}</div>\n<ul class="list">\n{items}\n</ul>\n'
        f'<div class="page"><script>createPageHTML({pages}, {page}, "index", "html");</script></div></div>'
    )
    return document(
        charset="utf-8",
        title=f"{COLUMN_NAME}_{SITE_NAME}",
        meta=[("ColumnName", COLUMN_NAME), ("ColumnType", COLUMN_NAME)],
        body=body,
        head_extra=_PAGER_JS,
    )


def not_found_page() -> str:
    body = '<div class="main"><p>对不起，您访问的页面不存在或已被删除。</p><p><a href="/">返回首页</a></p></div>'
    return document(charset="utf-8", title="页面不存在", meta=[], body=body)
