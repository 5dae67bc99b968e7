"""Unit tests: charset precedence and detection, media-type sniffing, input limits."""

from __future__ import annotations

import codecs

import pytest

from nianbao.parser.decode import canonical_charset, decode, meta_charset
from nianbao.parser.errors import UnusableInput
from nianbao.parser.guard import check_bytes, check_html, check_text, sniff_html
from nianbao.parser.settings import ParserSettings
from nianbao.shared.errors import PermanentError

TEXT = "重庆市2019年政府信息公开工作年度报告：申请人情况，予以公开"
GBK_ONLY = "镕"  # in GBK, not in GB2312: pages that declare gb2312 use such characters


def test_bom_wins_over_everything() -> None:
    data = codecs.BOM_UTF8 + TEXT.encode("utf-8")
    decoded = decode(data, http_charset="gbk")
    assert (decoded.text, decoded.charset, decoded.source) == (TEXT, "utf-8", "bom")


def test_http_charset_before_meta() -> None:
    data = f'<meta charset="utf-8"><p>{TEXT}</p>'.encode("gbk")
    decoded = decode(data, http_charset="GBK")
    assert decoded.charset == "gb18030" and decoded.source == "http" and TEXT in decoded.text


def test_meta_charset_gb2312_decodes_gbk_only_characters() -> None:
    data = f'<meta http-equiv="Content-Type" content="text/html; charset=gb2312"><p>{TEXT}{GBK_ONLY}</p>'.encode("gbk")
    assert meta_charset(data) == "gb2312"
    decoded = decode(data)
    assert decoded.source == "meta" and decoded.charset == "gb18030" and GBK_ONLY in decoded.text


def test_undeclared_gbk_is_detected() -> None:
    decoded = decode(f"<p>{TEXT}</p>".encode("gbk"))
    assert decoded.charset == "gb18030" and decoded.source == "detected" and TEXT in decoded.text


def test_wrong_declaration_is_overruled_with_a_warning() -> None:
    decoded = decode(f'<meta charset="utf-8"><p>{TEXT}</p>'.encode("gbk"))
    assert TEXT in decoded.text and decoded.source == "detected"
    assert decoded.warnings[0][0] == "charset_mismatch"
    decoded = decode(f"<p>{TEXT}</p>".encode(), http_charset="gbk")  # UTF-8 bytes declared as GBK
    assert TEXT in decoded.text and decoded.charset == "utf-8"
    decoded = decode(f"<p>{TEXT}</p>".encode("gbk"), http_charset="ISO-8859-1")  # server default
    assert TEXT in decoded.text and decoded.charset == "gb18030"


def test_undecodable_bytes_are_replaced_not_fatal() -> None:
    decoded = decode(b"<p>\x81\x30\xff\xfe\xfd</p>" * 3, http_charset="utf-8")
    assert decoded.text.startswith("<p>")
    assert decoded.charset in ("gb18030", "cp1252", "windows-1252", "cp1250", "utf-16") or decoded.warnings


def test_canonical_charset() -> None:
    assert canonical_charset("GB2312") == canonical_charset("gbk") == "gb18030"
    assert canonical_charset("no-such-charset") is None
    assert canonical_charset(None) is None


def test_sniffing() -> None:
    assert sniff_html(b"<!DOCTYPE html><html>", None)
    assert sniff_html(b"anything", "text/html; charset=utf-8")
    assert not sniff_html(b"<p>x</p>", "text/plain")
    assert not sniff_html("一、总体情况\n规章 | 0 |".encode(), None)
    assert sniff_html(b"x", None, suffix=".shtml")


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "empty"), (b"  \n\t ", "empty"), (b"%PDF-1.7\n...", "binary"), (b"PK\x03\x04rest", "binary"),
     (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1....", "binary"), (b"\x89PNG\r\n\x1a\n....", "binary")],
)
def test_check_bytes_refuses(data: bytes, reason: str) -> None:
    with pytest.raises(UnusableInput) as info:
        check_bytes(data, ParserSettings())
    assert info.value.reason == reason
    assert isinstance(info.value, PermanentError)


def test_limits() -> None:
    settings = ParserSettings(max_input_bytes=2048, max_tags=100, max_nesting_depth=16)
    with pytest.raises(UnusableInput, match="over the limit"):
        check_bytes(b"x" * 4096, settings)
    with pytest.raises(UnusableInput, match="tags"):
        check_html(b"<b>" * 101, settings)
    with pytest.raises(UnusableInput, match="nest"):
        check_html(b"<div>" * 50 + b"</div>" * 50, ParserSettings(max_tags=1000, max_nesting_depth=16))
    check_html(b"<p>x" * 50, ParserSettings(max_tags=1000, max_nesting_depth=16))  # p closes p: flat
    with pytest.raises(UnusableInput, match="not text"):
        check_text("\x00\x01\x02\x03" * 100, ParserSettings())


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIANBAO_MAX_INPUT_BYTES", "4096")
    monkeypatch.setenv("NIANBAO_TIME_BUDGET_S", "1.5")
    settings = ParserSettings()
    assert settings.max_input_bytes == 4096 and settings.time_budget_s == 1.5
