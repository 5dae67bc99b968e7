"""Built-in presets: what a site gets from its ``family`` before sites.yaml ``defaults``/``families``.

Presets are plain dicts in the sites.yaml shape, so the file can override any key and the merge rule is
the same everywhere: mappings merge key by key, lists and scalars replace.
"""

from __future__ import annotations

from typing import Any

# Titles of disclosure annual reports and their common variants ("…年度政府信息公开工作报告",
# "信息公开工作年报", "…政府信息公开年报").
TITLE_INCLUDE = [
    r"政府信息公开.{0,4}(工作)?(年度)?报告",
    r"信息公开(工作)?年(度)?报",
    r"信息公开工作报告",
]
# Things that sit in the same columns but are not reports: the template notice, website statistics,
# government work reports, budgets, guides.
TITLE_EXCLUDE = [
    r"年度报告格式",
    r"有关事项的通知",
    r"网站.*年度报表",
    r"政府工作报告",
    r"法治政府建设",
    r"预算",
    r"决算",
    r"统计公报",
    r"企业年报",
    r"信息公开指南",
    r"信息公开制度",
]

BASE: dict[str, Any] = {
    "filters": {"title_include": TITLE_INCLUDE, "title_exclude": TITLE_EXCLUDE},
}

FAMILY_PRESETS: dict[str, dict[str, Any]] = {
    "trs": {
        "discovery": {"link_allow": [r"/t\d{8}_\d+(_wap)?\.s?html?$"], "pagination": "template"},
    },
    "hanweb_jpage": {
        "discovery": {"link_allow": [r"/art/\d{4}/", r"/art_[0-9a-zA-Z_]+\.html$"]},
    },
    "gkmlpt": {
        "discovery": {"link_allow": [r"/post_\d+\.html$"]},
    },
    "ucap": {
        "discovery": {
            "link_allow": [r"/[cC]\w+/\d{6}/[0-9a-f]{32}\.shtml$", r"/[cC]\w+/\d{6}/c\d+_\d+\.shtml$"],
        },
    },
    "govcn": {
        "discovery": {"link_allow": [r"/content_\d+\.htm$"]},
    },
    "vsb": {
        "discovery": {"link_allow": [r"/info/\d+/\d+\.htm$"], "pagination": "next_link"},
    },
    "static_generic": {
        "discovery": {"pagination": "auto"},
    },
}


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge recursively; any other value in ``override`` replaces the base value."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
