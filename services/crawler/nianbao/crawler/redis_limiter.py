"""Host limiter shared by every crawler worker process, kept in Redis.

Per host, three keys under ``<prefix>:<host>``: ``slots`` (sorted set of in-flight request tokens
scored by start time; a lease expiry frees the slot of a crashed worker), ``next`` (epoch ms before
which no new request may start) and ``backoff``/``strikes`` (push-back state). Each decision is one Lua
script, so two workers cannot both take the last slot, and all clocks are Redis's ``TIME``, so worker
clock skew does not matter.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import redis

from nianbao.crawler.politeness import BackoffPolicy, HostBackedOff, HostRate, clamp_delay

# Returns {state, wait_ms}: 0 = acquired, 1 = backed off, 2 = all slots busy, 3 = too soon.
_ACQUIRE = """
local slots, nextk, backoffk = KEYS[1], KEYS[2], KEYS[3]
local token, limit, lease_ms, delay_ms = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = tonumber(redis.call('GET', backoffk) or '0')
if until_ms > now then return {1, until_ms - now} end
redis.call('ZREMRANGEBYSCORE', slots, '-inf', now - lease_ms)
if redis.call('ZCARD', slots) >= limit then return {2, 100} end
local nxt = tonumber(redis.call('GET', nextk) or '0')
if nxt > now then return {3, nxt - now} end
redis.call('ZADD', slots, now, token)
redis.call('PEXPIRE', slots, lease_ms)
redis.call('SET', nextk, now + delay_ms, 'PX', delay_ms + 1000)
return {0, 0}
"""

# Frees the slot and, given how long ago the request went out, moves ``next`` to send time + spacing
# (never earlier than it already is). Returns how far ``next`` moved, in ms.
_RELEASE = """
local slots, nextk = KEYS[1], KEYS[2]
local token, sent_ago_ms, spacing_ms = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREM', slots, token)
if sent_ago_ms < 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.ceil(tonumber(t[2]) / 1000)
local want = now - sent_ago_ms + spacing_ms
local current = tonumber(redis.call('GET', nextk) or '0')
if want <= current then return 0 end
redis.call('SET', nextk, want, 'PX', math.max(want - now, 1) + 1000)
return want - current
"""

# Returns the back-off chosen in ms.
_BACKOFF = """
local backoffk, strikesk = KEYS[1], KEYS[2]
local base_ms, cap_ms, retry_after_ms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local strikes = redis.call('INCR', strikesk)
redis.call('PEXPIRE', strikesk, cap_ms * 4)
local delay
if retry_after_ms >= 0 then
  delay = math.min(retry_after_ms, cap_ms)
else
  delay = math.min(cap_ms, base_ms * (2 ^ (strikes - 1)))
end
delay = math.floor(delay)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local current = tonumber(redis.call('GET', backoffk) or '0')
if delay > 0 and now + delay > current then
  redis.call('SET', backoffk, now + delay, 'PX', delay)
end
return delay
"""


class RedisLimiter:
    """:class:`~nianbao.crawler.politeness.HostLimiter` over Redis (see module docstring)."""

    def __init__(self, client: redis.Redis, *, lease_s: float, prefix: str = "nianbao:crawler:host") -> None:
        self.client = client
        self.lease_ms = int(lease_s * 1000)
        self.prefix = prefix
        self._acquire: Any = client.register_script(_ACQUIRE)
        self._release: Any = client.register_script(_RELEASE)
        self._backoff: Any = client.register_script(_BACKOFF)
        self._spacing_ms: dict[str, int] = {}  # token -> spacing granted with it (this process's tokens)
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, *, lease_s: float) -> RedisLimiter:
        return cls(redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5), lease_s=lease_s)

    def _key(self, host: str, part: str) -> str:
        return f"{self.prefix}:{host}:{part}"

    def acquire(self, host: str, rate: HostRate, *, max_wait_s: float) -> str:
        token = uuid.uuid4().hex
        keys = [self._key(host, "slots"), self._key(host, "next"), self._key(host, "backoff")]
        while True:
            delay_ms = int(rate.spacing() * 1000)
            state, wait_ms = self._acquire(keys=keys, args=[token, rate.max_concurrency, self.lease_ms, delay_ms])
            if int(state) == 0:
                with self._lock:
                    self._spacing_ms[token] = delay_ms
                return token
            wait_s = int(wait_ms) / 1000
            if int(state) == 1 and wait_s > max_wait_s:
                raise HostBackedOff(host, wait_s)
            time.sleep(min(max(wait_s, 0.005), 5.0))

    def release(self, host: str, token: str, *, sent_ago_s: float | None = None) -> None:
        with self._lock:
            spacing_ms = self._spacing_ms.pop(token, 0)
        # Floor the elapsed time (never overstate how long ago it was): the gap can only grow.
        sent_ago_ms = -1 if sent_ago_s is None else int(sent_ago_s * 1000)
        self._release(keys=[self._key(host, "slots"), self._key(host, "next")], args=[token, sent_ago_ms, spacing_ms])

    def back_off(self, host: str, policy: BackoffPolicy, *, retry_after_s: float | None = None) -> float:
        # Clamped first: a Retry-After of inf or 10**400 seconds must not overflow the millisecond count.
        capped = None if retry_after_s is None else clamp_delay(retry_after_s, policy.cap_s)
        retry_ms = -1 if capped is None else int(capped * 1000)
        delay_ms = self._backoff(
            keys=[self._key(host, "backoff"), self._key(host, "strikes")],
            args=[int(policy.base_s * 1000), int(policy.cap_s * 1000), retry_ms],
        )
        return int(delay_ms) / 1000

    def reset(self, host: str) -> None:
        self.client.delete(self._key(host, "strikes"))
