"""Shortcuts the rules take for speed give the same answers as the plain definitions they replace."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from nianbao.shared.record import Cell
from nianbao.validator.rules.hosts import _ADDRESS, _addresses
from nianbao.validator.rules.views import TableView

TRICKY_TEXTS = [
    "",
    "网址http://www.example.com/a，另见www.gov.cn。",
    "HTTPS://Example.ORG:8080/x and Www.Foo.cn.",
    "awww.example.com is no address (a letter before www), nor 1www.x.cn, nor -www.x.cn, nor .www.x.cn",
    "wwww.example.com hhttp://x.cn http://www.x.cnwww.y.cn http://",
    "http://a.cnhttp://b.cn www.www.c.cn (www.d.cn)【www.e.cn】",
    "中文www.中文.cn http://-x-.cn./ www.",
]


def _finditer(text: str) -> list[tuple[tuple[int, int], str]]:
    return [(m.span(), m.group(1)) for m in _ADDRESS.finditer(text)]


def _scanned(text: str) -> list[tuple[tuple[int, int], str]]:
    return [(m.span(), m.group(1)) for m in _addresses(text)]


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_the_address_scan_finds_what_finditer_finds(text: str) -> None:
    assert _scanned(text) == _finditer(text)


def test_the_address_scan_agrees_with_finditer_on_random_text() -> None:
    rng = random.Random(14)
    pieces = ["http://", "https://", "HTTP://", "www.", "WWW.", "w", "h", "a", "1", "-", ".", ":", "/", "中", " ", "cn"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert _scanned(text) == _finditer(text), text


def _view() -> TableView:
    values: dict[str, int | float | None] = {"a.x": 3, "a.y": None, "b.x": None, "c.x": 0, "d.x": 5}
    cells = {
        "b.x": Cell(table="t", key="b.x", value=None, status="missing"),
        "d.x": Cell(table="t", key="d.x", value=5, status="placeholder"),
    }
    return TableView(name="t", values=values, cells=cells)


def _check_sets(view: TableView) -> None:
    keys = [*view.values, "zz.x"]
    assert view.present_keys == {k for k in keys if view.status(k) not in ("absent", "missing")}  # present()
    for statuses in (("blank",), ("blank", "placeholder"), ("missing", "number")):
        assert view.keys_with(*statuses) == [k for k in view.values if view.status(k) in statuses]
    assert view.blank_keys() == {k for k in keys if view.status(k) == "blank"}


def test_key_sets_agree_with_the_per_key_answers_in_every_derived_view() -> None:
    view = _view()
    _check_sets(view)
    assert view.present_keys == {"a.x", "a.y", "c.x", "d.x"}
    _check_sets(view.with_policy("blank_as_zero"))
    # A view of other values works its sets out again; nothing carries over from the first view.
    other = replace(view, values={"a.x": None, "b.x": 2, "e.x": None}, cells={})
    _check_sets(other)
    assert other.present_keys == {"a.x", "b.x", "e.x"} and view.present_keys == {"a.x", "a.y", "c.x", "d.x"}
