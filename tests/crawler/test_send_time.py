"""The fetcher reports when each request head went out, over real HTTP (one call per hop)."""

from __future__ import annotations

import httpx

from nianbao.crawler.fetcher import http_get
from nianbao.devportal.server import DevPortal


def test_on_sent_fires_once_per_request_head() -> None:
    sent: list[int] = []
    with DevPortal() as portal, httpx.Client() as client:
        result = http_get(client, portal.column_url, kind="listing", headers={}, host_ok=lambda _u: True,
                          max_redirects=3, max_bytes=10**7, deadline_s=10, on_sent=lambda: sent.append(1))  # fmt: skip
        assert result.status == 200
        assert sent == [1]
        assert [r.path for r in portal.requests] == ["/zfxxgknb/index.html"]
