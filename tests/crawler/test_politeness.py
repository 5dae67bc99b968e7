"""Host limiter semantics (in-process and Redis), and push-back handling over real HTTP."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from nianbao.crawler.politeness import BackoffPolicy, HostBackedOff, HostLimiter, HostRate, LocalLimiter, host_slot

from .conftest import Crawler, site_entry
from .portal import Article, Portal, Response, build_trs

_URLS: dict[int, str] = {}  # limiter -> the Redis URL it was made from


def _redis_limiter(url: str) -> HostLimiter:
    """A Redis limiter on the test Redis (tests/conftest.py finds or starts one; CI never skips)."""
    from nianbao.crawler.redis_limiter import RedisLimiter

    limiter = _prefixed(RedisLimiter.from_url(url, lease_s=0.5))
    _URLS[id(limiter)] = url
    return limiter


def _prefixed(limiter: HostLimiter) -> HostLimiter:
    limiter.prefix = f"nianbao:test:{uuid.uuid4().hex}"  # type: ignore[attr-defined]
    return limiter


@pytest.fixture(params=["local", "redis"])
def limiter(request: pytest.FixtureRequest) -> Iterator[HostLimiter]:
    yield LocalLimiter() if request.param == "local" else _redis_limiter(request.getfixturevalue("redis_url"))


def _starts(
    limiter: HostLimiter,
    rate: HostRate,
    workers: int,
    per_worker: int,
    hold_s: float = 0.0,
    second: HostLimiter | None = None,
) -> tuple[list[float], int]:
    """Start times of all requests and the highest number in flight at once."""
    starts: list[float] = []
    active = [0, 0]
    lock = threading.Lock()

    def work(index: int) -> None:
        mine = second if (second is not None and index % 2) else limiter
        for _ in range(per_worker):
            with host_slot(mine, "a.gov.cn", rate, max_wait_s=5):
                with lock:
                    starts.append(time.monotonic())
                    active[0] += 1
                    active[1] = max(active[1], active[0])
                time.sleep(hold_s)
                with lock:
                    active[0] -= 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(starts), active[1]


def _other_process(limiter: HostLimiter) -> HostLimiter:
    """A second limiter as another worker process would hold it (Redis: own connection, same keys)."""
    if isinstance(limiter, LocalLimiter):
        return limiter  # in-process limiting is per process by design
    from nianbao.crawler.redis_limiter import RedisLimiter

    assert isinstance(limiter, RedisLimiter)
    return RedisLimiter(redis.Redis.from_url(_URLS[id(limiter)]), lease_s=0.5, prefix=limiter.prefix)


def test_min_delay_spaces_request_starts(limiter: HostLimiter) -> None:
    starts, _ = _starts(limiter, HostRate(0.1, 0.0, 4), workers=3, per_worker=2, second=_other_process(limiter))
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(starts) == 6 and min(gaps) >= 0.09


def test_concurrency_cap(limiter: HostLimiter) -> None:
    _, peak = _starts(limiter, HostRate(0.0, 0.0, 2), workers=5, per_worker=2, hold_s=0.1)
    assert peak == 2


def test_back_off_doubles_caps_and_honours_retry_after(limiter: HostLimiter) -> None:
    policy = BackoffPolicy(base_s=10, cap_s=25)
    assert limiter.back_off("b.gov.cn", policy) == 10
    assert limiter.back_off("b.gov.cn", policy) == 20
    assert limiter.back_off("b.gov.cn", policy) == 25
    assert limiter.back_off("b.gov.cn", policy, retry_after_s=3) == 3
    with pytest.raises(HostBackedOff) as info:
        limiter.acquire("b.gov.cn", HostRate(0, 0, 1), max_wait_s=1)
    assert 20 < info.value.remaining_s <= 25
    limiter.reset("b.gov.cn")
    assert limiter.back_off("c.gov.cn", policy) == 10  # other hosts are unaffected


def test_an_absurd_retry_after_is_capped_not_an_overflow(limiter: HostLimiter) -> None:
    policy = BackoffPolicy(base_s=10, cap_s=25)
    for absurd in (float("inf"), float("nan"), 1e400, 10.0**300, 86_400.0):
        assert limiter.back_off("e.gov.cn", policy, retry_after_s=absurd) == 25
    assert limiter.back_off("e.gov.cn", policy, retry_after_s=-5) == 0


def test_short_back_off_is_waited_for(limiter: HostLimiter) -> None:
    limiter.back_off("d.gov.cn", BackoffPolicy(base_s=0.3, cap_s=1))
    started = time.monotonic()
    token = limiter.acquire("d.gov.cn", HostRate(0, 0, 1), max_wait_s=1)
    limiter.release("d.gov.cn", token)
    assert time.monotonic() - started >= 0.25


def test_redis_lease_frees_the_slot_of_a_crashed_worker(redis_url: str) -> None:
    limiter = _redis_limiter(redis_url)  # lease 0.5 s
    limiter.acquire("e.gov.cn", HostRate(0, 0, 1), max_wait_s=1)  # never released
    started = time.monotonic()
    limiter.release("e.gov.cn", limiter.acquire("e.gov.cn", HostRate(0, 0, 1), max_wait_s=1))
    assert 0.3 <= time.monotonic() - started < 2


def test_politeness_delay_between_requests_over_http(portal: Portal, crawler: Crawler) -> None:
    build_trs(
        portal,
        "/zfxxgknb/",
        [Article("20240115", n, f"第{n}号2023年度政府信息公开工作年度报告") for n in range(3)],
        per_page=3,
    )
    crawler.run(site_entry(portal, "/zfxxgknb/index.html", politeness={"min_delay_s": 0.15, "jitter_s": 0.05}))
    times = [r.at for r in portal.requests]
    assert len(times) == 5  # robots, listing, three pages
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.14


def test_push_back_backs_the_host_off_for_the_rest_of_the_run(portal: Portal, crawler: Crawler) -> None:
    articles = [Article("20240115", n, f"第{n}号2023年度政府信息公开工作年度报告") for n in range(4)]
    build_trs(portal, "/zfxxgknb/", articles, per_page=4)
    portal.routes["/zfxxgknb/" + articles[1].trs_path] = Response(503, b"busy")
    summary, published = crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    assert len(published) == 1 and summary.errors == 3
    assert portal.count("/zfxxgknb/" + articles[2].trs_path) == 0  # never asked while backed off
    outcomes = [r.outcome for r in crawler.fetch_rows() if r.kind == "page"]
    assert outcomes == ["ok", "server_error", "backed_off", "backed_off"]


def test_retry_after_within_the_wait_budget_is_honoured(portal: Portal, crawler: Crawler) -> None:
    articles = [Article("20240115", n, f"第{n}号2023年度政府信息公开工作年度报告") for n in range(2)]
    build_trs(portal, "/zfxxgknb/", articles, per_page=2)
    portal.routes["/zfxxgknb/" + articles[0].trs_path] = Response(429, b"slow down", {"Retry-After": "1"})
    crawler.settings.backoff_max_wait_s = 3
    summary, _ = crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    assert summary.fetched == 1 and summary.errors == 1
    throttled = next(r for r in portal.requests if r.path.endswith(articles[0].trs_path))
    after = next(r for r in portal.requests if r.path.endswith(articles[1].trs_path))
    assert after.at - throttled.at >= 0.95


def test_spacing_counts_from_the_actual_send_not_the_grant(limiter: HostLimiter) -> None:
    """A request that leaves 0.3 s after its grant (a busy process) pushes the next start to send + 1 s."""
    rate = HostRate(min_delay_s=1.0, jitter_s=0.0, max_concurrency=1)
    with host_slot(limiter, "late.gov.cn", rate, max_wait_s=5) as clock:
        granted = time.monotonic()
        time.sleep(0.3)
        clock.mark_sent()
        sent = time.monotonic()
    with host_slot(limiter, "late.gov.cn", rate, max_wait_s=5):
        second = time.monotonic()
    assert second - sent >= 0.98  # 1 s from the send (2 ms for clock granularity), not from the grant
    assert second - granted >= 1.28


def test_no_send_keeps_the_grant_anchored_spacing(limiter: HostLimiter) -> None:
    rate = HostRate(min_delay_s=0.4, jitter_s=0.0, max_concurrency=1)
    with host_slot(limiter, "refused.gov.cn", rate, max_wait_s=5):
        granted = time.monotonic()  # nothing sent: e.g. the address was refused before connecting
    with host_slot(limiter, "refused.gov.cn", rate, max_wait_s=5):
        second = time.monotonic()
    assert 0.38 <= second - granted < 1.0
