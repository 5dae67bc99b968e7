"""Fixtures: one dev portal over real HTTP for the read-only tests, and an httpx client bound to it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from nianbao.devportal.server import DevPortal


@pytest.fixture(scope="module")
def portal() -> Iterator[DevPortal]:
    with DevPortal() as running:
        yield running


@pytest.fixture(scope="module")
def client(portal: DevPortal) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=portal.base_url, timeout=10) as c:
        yield c
