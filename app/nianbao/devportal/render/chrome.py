"""The portal's page chrome: ``<head>`` with the standard gov-site meta tags, banner, nav and footer.

Everything around the content that a parser must strip (nav, breadcrumb, share bar, print/close links,
footer with the 网站标识码) is here, identical on every page as on a real CMS template.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

SITE_NAME = "示例市人民政府门户网站"
SITE_ID_CODE = "9999000001"  # 网站标识码: 10 digits like local portals; 9999… is no real region
COLUMN_NAME = "政府信息公开年报"


def document(*, charset: str, title: str, meta: Sequence[tuple[str, str]], body: str, head_extra: str = "") -> str:
    """A complete HTML page; ``meta`` holds ``<meta name=… content=…>`` pairs after the site-wide ones."""
    metas = [("SiteName", SITE_NAME), ("SiteIDCode", SITE_ID_CODE), *meta]
    meta_html = "\n".join(f'<meta name="{escape(n)}" content="{escape(c)}">' for n, c in metas)
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f'<meta charset="{charset}">\n'
        '<meta http-equiv="X-UA-Compatible" content="IE=edge">\n'
        f"<title>{escape(title)}</title>\n{meta_html}\n{head_extra}</head>\n<body>\n"
        f"{_banner()}\n{body}\n{_footer()}\n</body>\n</html>\n"
    )


def breadcrumb(*, root: str, column: str) -> str:
    """``当前位置：首页 > 政府信息公开 > 政府信息公开年报`` with links relative to the current page."""
    return (
        '<div class="position">当前位置：'
        f'<a href="{root}">首页</a> &gt; <span>政府信息公开</span> &gt; '
        f'<a href="{column}">{COLUMN_NAME}</a></div>'
    )


def share_bar() -> str:
    return (
        '<div class="share">分享到：<a href="javascript:void(0);" class="wx">微信</a> '
        '<a href="javascript:void(0);" class="wb">微博</a> <a href="javascript:void(0);" class="qq">QQ空间</a></div>\n'
        '<div class="print">【<a href="javascript:window.print();">打印本页</a>】'
        '【<a href="javascript:window.close();">关闭窗口</a>】</div>'
    )


def _banner() -> str:
    return (
        f'<div class="header"><div class="logo">{SITE_NAME}</div>'
        '<div class="topbar"><span>无障碍浏览</span> | <span>长者模式</span> | <span>繁體</span></div>\n'
        '<ul class="nav"><li><a href="/">首页</a></li><li><span>政务动态</span></li>'
        '<li><a href="/zfxxgknb/index.html">政府信息公开</a></li><li><span>政务服务</span></li>'
        "<li><span>互动交流</span></li></ul></div>"
    )


def _footer() -> str:
    return (
        '<div class="footer"><p>主办：示例市人民政府办公室　承办：示例市大数据发展中心</p>'
        f"<p>网站标识码：{SITE_ID_CODE}　示ICP备00000000号</p>"
        "<p>本网站为演示站点，所有机构、数据均为虚构。</p></div>"
    )
