"""Loading and validating the site registry: presets, overrides, and readable errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nianbao.crawler.sites import SiteConfigError, SiteRegistry, UnknownSite, load_sites

REPO = Path(__file__).resolve().parents[2]


def entry(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "x", "name": "某局", "family": "trs", "start_urls": ["https://a.gov.cn/nb/"]}
    base.update(overrides)
    return base


def problems(data: dict[str, Any]) -> str:
    with pytest.raises(SiteConfigError) as info:
        SiteRegistry.from_dict(data)
    return str(info.value)


def test_repository_sites_yaml_is_valid() -> None:
    registry = load_sites(REPO / "sites.yaml")
    assert len(registry.sites) >= 5
    tree = registry.get("gs-gz-nb")
    assert tree.discovery.mode == "tree" and tree.discovery.max_depth == 2
    # defaults from the file and the family preset both reach the site
    assert tree.politeness.min_delay_s == 2.0
    assert tree.discovery.link_allow == [r"/t\d{8}_\d+(_wap)?\.s?html?$"]
    assert registry.get("zj-nbjb").family == "hanweb_jpage"


def test_preset_defaults_and_entry_merge_in_order() -> None:
    registry = SiteRegistry.from_dict({
        "version": 1,
        "defaults": {"politeness": {"min_delay_s": 5, "jitter_s": 2}},
        "families": {"trs": {"politeness": {"min_delay_s": 3}, "discovery": {"page2_index": 2}}},
        "sites": [entry(politeness={"jitter_s": 0.5}), entry(id="y", family="vsb")],
    })
    trs, vsb = registry.sites
    assert (trs.politeness.min_delay_s, trs.politeness.jitter_s) == (3, 0.5)
    assert trs.discovery.page2_index == 2 and trs.discovery.pagination == "template"
    assert (vsb.politeness.min_delay_s, vsb.discovery.pagination) == (5, "next_link")
    assert trs.filters.title_include  # built-in title rules
    assert trs.host_patterns == ["*.gov.cn", "a.gov.cn"]


def test_unknown_site_and_lookup() -> None:
    registry = SiteRegistry.from_dict({"sites": [entry()]})
    assert registry.get("x").name == "某局" and "x" in registry
    with pytest.raises(UnknownSite, match="nope"):
        registry.get("nope")


def test_unknown_field_names_site_field_and_allowed_fields() -> None:
    text = problems({"sites": [entry(politeness={"min_dealy_s": 1})]})
    assert "site #1 ('x')" in text
    assert "politeness.min_dealy_s: unknown field" in text
    assert "min_delay_s" in text  # the allowed names are listed


def test_wrong_types_and_values_say_what_was_expected() -> None:
    text = problems({"sites": [
        entry(politeness={"min_delay_s": "slow"}),
        entry(id="b", family="drupal"),
        entry(id="c", start_urls=["ftp://a.gov.cn/"]),
        entry(id="d", filters={"title_include": ["年报("]}),
        entry(id="e", politeness={"robots": "ignore"}),
    ]})
    assert "site #1 ('x'): field politeness.min_delay_s: Input should be a valid number" in text
    assert "got 'slow'" in text
    assert "site #2 ('b'): field family: Input should be 'trs'" in text
    assert "site #3 ('c')" in text and "not an absolute http(s) URL" in text
    assert "site #4 ('d')" in text and "not a valid regular expression '年报('" in text
    assert "site #5 ('e')" in text and "robots_reason" in text
    assert "5 problem(s)" in text


def test_missing_required_and_duplicates() -> None:
    text = problems({"sites": [{"id": "x", "family": "trs"}, entry(), entry()]})
    assert "field name: required field is missing" in text
    assert "field start_urls: required field is missing" in text
    assert "duplicate id 'x'" in text


def test_error_from_a_preset_is_attributed() -> None:
    text = problems({"defaults": {"politeness": {"min_delay_s": -1}}, "sites": [entry()]})
    assert "politeness.min_delay_s" in text and "comes from defaults or the family preset" in text


def test_top_level_problems() -> None:
    text = problems({"version": 2, "sitez": [], "families": {"wordpress": {}}})
    assert "version: expected 1" in text
    assert "unknown top-level key 'sitez'" in text
    assert "families.wordpress: unknown family" in text


def test_load_reports_bad_yaml(tmp_path: Path) -> None:
    path = tmp_path / "sites.yaml"
    path.write_text("sites: [\n", encoding="utf-8")
    with pytest.raises(SiteConfigError, match="not valid YAML"):
        load_sites(path)
