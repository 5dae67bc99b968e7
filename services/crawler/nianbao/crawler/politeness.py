"""Per-host politeness: at most N requests in flight and one request start per D seconds (plus jitter),
and exponential back-off of a host that pushes back (403/412/429/503/521, Retry-After).

:class:`HostLimiter` is the interface; :class:`LocalLimiter` enforces it inside one process (embedded
mode, tests) and ``redis_limiter.RedisLimiter`` across every crawler worker process. A host backed off
for longer than ``max_wait_s`` is not waited for: :meth:`HostLimiter.acquire` raises
:class:`HostBackedOff` and the crawl skips the host until a later run.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class HostRate:
    min_delay_s: float
    jitter_s: float
    max_concurrency: int

    def spacing(self) -> float:
        """Delay to the next allowed request start: the minimum plus uniform jitter."""
        return self.min_delay_s + (random.uniform(0, self.jitter_s) if self.jitter_s > 0 else 0.0)


def clamp_delay(value: float | None, cap_s: float) -> float | None:
    """A server-given delay (Retry-After, Crawl-delay) within ``[0, cap_s]``; None stays None, and a value
    that is not a number (nan) or is infinite reads as the cap."""
    if value is None:
        return None
    if value != value or value > cap_s:  # nan, inf, 86400
        return cap_s
    return max(0.0, value)


@dataclass(frozen=True)
class BackoffPolicy:
    base_s: float
    cap_s: float
    max_retry_after_s: float | None = None  # a tighter cap on Retry-After than on back-off (settings)

    def delay(self, strikes: int, retry_after_s: float | None) -> float:
        """Retry-After wins when the server sent one (capped); otherwise base·2^(strikes-1), capped."""
        if retry_after_s is not None:
            cap = self.cap_s if self.max_retry_after_s is None else min(self.cap_s, self.max_retry_after_s)
            return clamp_delay(retry_after_s, cap) or 0.0
        return float(min(self.cap_s, self.base_s * 2.0 ** min(max(0, strikes - 1), 64)))


class HostBackedOff(Exception):
    """The host asked us to go away for longer than we are willing to wait now."""

    def __init__(self, host: str, remaining_s: float) -> None:
        super().__init__(f"{host} is backed off for another {remaining_s:.0f}s")
        self.host = host
        self.remaining_s = remaining_s


class HostLimiter(Protocol):
    def acquire(self, host: str, rate: HostRate, *, max_wait_s: float) -> str:
        """Block until a request to ``host`` may start; returns a token for :meth:`release`."""

    def release(self, host: str, token: str, *, sent_ago_s: float | None = None) -> None:
        """Free the slot taken by :meth:`acquire`. ``sent_ago_s`` (how long ago the request head went
        out) re-anchors the host's spacing on the actual send: a request that left late after its grant
        must not shorten the gap to the next one."""

    def back_off(self, host: str, policy: BackoffPolicy, *, retry_after_s: float | None = None) -> float:
        """Record a push-back from ``host``; returns the back-off chosen, in seconds."""

    def reset(self, host: str) -> None:
        """The host answered normally: forget its strikes."""


class SendClock:
    """When the request made under one host slot last went out (``time.monotonic``)."""

    def __init__(self) -> None:
        self.sent_at: float | None = None

    def mark_sent(self) -> None:
        self.sent_at = time.monotonic()

    def sent_ago_s(self) -> float | None:
        return None if self.sent_at is None else max(0.0, time.monotonic() - self.sent_at)


@contextmanager
def host_slot(limiter: HostLimiter, host: str, rate: HostRate, *, max_wait_s: float) -> Iterator[SendClock]:
    """Hold one of ``host``'s request slots; mark the send on the yielded clock."""
    token = limiter.acquire(host, rate, max_wait_s=max_wait_s)
    clock = SendClock()
    try:
        yield clock
    finally:
        limiter.release(host, token, sent_ago_s=clock.sent_ago_s())


@dataclass
class _HostState:
    active: int = 0
    next_at: float = 0.0
    backoff_until: float = 0.0
    strikes: int = 0


class LocalLimiter:
    """In-process limiter; thread-safe. Same semantics as the Redis one, clock = ``time.monotonic``."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._hosts: dict[str, _HostState] = {}
        self._spacing: dict[str, float] = {}  # token -> spacing granted with it

    def acquire(self, host: str, rate: HostRate, *, max_wait_s: float) -> str:
        with self._lock:
            while True:
                state = self._hosts.setdefault(host, _HostState())
                now = time.monotonic()
                remaining = state.backoff_until - now
                if remaining > max_wait_s:
                    raise HostBackedOff(host, remaining)
                if remaining > 0:
                    self._lock.wait(remaining)
                elif state.active >= rate.max_concurrency:
                    self._lock.wait(1.0)
                elif now < state.next_at:
                    self._lock.wait(state.next_at - now)
                else:
                    spacing = rate.spacing()
                    state.active += 1
                    state.next_at = now + spacing
                    token = uuid.uuid4().hex
                    self._spacing[token] = spacing
                    return token

    def release(self, host: str, token: str, *, sent_ago_s: float | None = None) -> None:
        with self._lock:
            state = self._hosts.setdefault(host, _HostState())
            state.active = max(0, state.active - 1)
            spacing = self._spacing.pop(token, None)
            if spacing is not None and sent_ago_s is not None:
                state.next_at = max(state.next_at, time.monotonic() - sent_ago_s + spacing)
            self._lock.notify_all()

    def back_off(self, host: str, policy: BackoffPolicy, *, retry_after_s: float | None = None) -> float:
        with self._lock:
            state = self._hosts.setdefault(host, _HostState())
            state.strikes += 1
            delay = policy.delay(state.strikes, retry_after_s)
            state.backoff_until = max(state.backoff_until, time.monotonic() + delay)
            return delay

    def reset(self, host: str) -> None:
        with self._lock:
            state = self._hosts.setdefault(host, _HostState())
            state.strikes = 0
