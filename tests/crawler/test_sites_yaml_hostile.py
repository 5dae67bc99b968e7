"""Hostile or careless sites.yaml files are refused with the file, the line and a short message."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from nianbao.crawler.sites import QUOTE_LIMIT, SiteConfigError, load_sites

SITE = "  - id: x\n    name: 示例\n    family: trs\n    start_urls: ['http://www.example.gov.cn/']\n"


def refused(tmp_path: Path, text: str | bytes) -> str:
    path = tmp_path / "sites.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(SiteConfigError) as info:
        load_sites(path)
    message = str(info.value)
    assert str(path) in message
    assert len(message) < 5000, len(message)
    return message


def with_fields(fields: str) -> str:
    """The one-site registry with extra field lines (indented as entry fields) at line 7 on."""
    return "version: 1\nsites:\n" + SITE + "".join(f"    {line}\n" for line in fields.splitlines())


def test_the_valid_registry_loads(tmp_path: Path) -> None:
    path = tmp_path / "sites.yaml"
    path.write_text(with_fields("filters: {year_range: [2019, 2025]}"), encoding="utf-8")
    assert [s.id for s in load_sites(path).sites] == ["x"]


def test_alias_bomb_is_refused_fast_and_short(tmp_path: Path) -> None:
    bomb = "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n"
    for i in range(1, 12):
        prev = chr(ord("a") + i - 1)
        name = chr(ord("a") + i)
        bomb += f"{name}: &{name} [{','.join(['*' + prev] * 9)}]\n"
    bomb += "sites: *l\n"
    started = time.monotonic()
    message = refused(tmp_path, bomb)
    assert time.monotonic() - started < 2
    assert "line 1" in message and "anchors (&name) are not allowed" in message


def test_aliases_are_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, "version: 1\nsites:\n  - *missing\n")
    assert "line 3" in message and "alias" in message


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, "version: 1\nsites:\n" + SITE + "sites: []\n")
    assert "line 7" in message and "duplicate key 'sites' (first at line 2" in message
    nested = refused(tmp_path, with_fields("name: again"))
    assert "line 7" in nested and "duplicate key 'name' (first at line 4" in nested


def test_non_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    text = with_fields("notes: 年报").encode("gbk")
    message = refused(tmp_path, text)
    assert "line 4: not UTF-8" in message  # the GBK name 示例 is on line 4


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "sites.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + with_fields("").encode())
    assert load_sites(path).get("x").name == "示例"


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("politeness: {min_delay_s: .inf}", "finite number"),
        ("politeness: {min_delay_s: 1.0e+12}", "less than or equal to 3600"),
        ("politeness: {jitter_s: -1}", "greater than or equal to 0"),
        ("politeness: {max_pages_per_run: 1.0e+12}", "less than or equal to 1000000"),
        ("politeness: {backoff_on: [-5]}", "greater than or equal to 100"),
        ("http: {timeout_s: .nan}", "finite number"),
        ("filters: {content_fingerprint: {min_hits: 100000}}", "less than or equal to 100"),
        ("filters: {year_range: [2025, 2019]}", "year_range is reversed"),
        ("filters: {year_range: [-1, null]}", "greater than or equal to 1990"),
        ("gkmlpt: {categories: [-3]}", "greater than or equal to 0"),
    ],
)
def test_out_of_range_numbers(tmp_path: Path, field: str, expected: str) -> None:
    message = refused(tmp_path, with_fields(field))
    assert expected in message and "line 7:" in message and "site #1 ('x')" in message


def test_unknown_encoding(tmp_path: Path) -> None:
    message = refused(tmp_path, with_fields("http: {encoding: gbkk}"))
    assert "line 7:" in message and "unknown encoding 'gbkk'" in message
    assert "is not a text encoding" in refused(tmp_path, with_fields("http: {encoding: base64}"))


@pytest.mark.parametrize(
    "field",
    [
        "filters: {title_include: ['年报(']}",
        "filters: {title_exclude: ['[/bold']}",
        "discovery: {link_allow: ['*.html']}",
        "discovery: {descend_link_pattern: '(?P<x'}",
        "attachments: {href_patterns: ['a{2,1}']}",
        "gkmlpt: {category_pattern: '年报|('}",
    ],
)
def test_bad_pattern_in_every_regex_field(tmp_path: Path, field: str) -> None:
    message = refused(tmp_path, with_fields(field))
    assert "not a valid regular expression" in message and "line 7:" in message


@pytest.mark.parametrize(
    "host",
    ["http://www.example.gov.cn", "*", "www.example.gov.cn/path", "a b.gov.cn", "www.*.gov.cn", "x.gov.cn:8080", ""],
)
def test_malformed_hosts(tmp_path: Path, host: str) -> None:
    message = refused(tmp_path, with_fields(f"allowed_hosts: ['{host}']"))
    assert "line 7:" in message and "is not a host name" in message


def test_good_hosts(tmp_path: Path) -> None:
    path = tmp_path / "sites.yaml"
    path.write_text(with_fields("allowed_hosts: ['*.gov.cn', 'WWW.Example.gov.cn', '127.0.0.1', '::1', 'a_b.gov.cn']"))
    assert load_sites(path).get("x").allowed_hosts[0] == "*.gov.cn"


def test_quoted_values_are_cut(tmp_path: Path) -> None:
    huge = "x" * 1_000_000
    message = refused(tmp_path, with_fields(f"filters: {{title_include: ['({huge}']}}"))
    assert "more characters" in message or "…" in message
    assert len(message) < 3 * QUOTE_LIMIT + 1000
    assert len(refused(tmp_path, with_fields(f"{huge}: 1"))) < 5000
    assert len(refused(tmp_path, f"version: 1\nsites: [{huge}\n")) < 5000


def test_error_lines_point_into_the_file(tmp_path: Path) -> None:
    text = "version: 1\nsites:\n" + SITE + SITE.replace("id: x", "id: y") + "    politeness: {robots: ignore}\n"
    message = refused(tmp_path, text)
    assert "line 11: site #2 ('y')" in message


def test_cli_reports_the_problem_in_one_short_block(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "sites.yaml"
    path.write_text("a: &a [1,2]\nb: [*a,*a]\n", encoding="utf-8")
    nianbao = str(Path(sys.executable).parent / "nianbao")
    result = subprocess.run([nianbao, "sites", "list", "--sites-file", str(path)], capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert result.returncode == 2 and "line 1" in result.stderr and len(result.stderr) < 2000
