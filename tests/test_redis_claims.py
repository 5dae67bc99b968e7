"""The tests' own Redis databases: two test runs on one machine (a developer's and CI's) each claim a number
of their own instead of flushing each other's (``support.claim_redis_db``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from support import claim_redis_db, release_redis_db

# Claim keys for numbers no test uses, so this test cannot disturb the claim of the run it is part of.
NUMBERS = range(1000, 1003)


@pytest.fixture
def claims(redis_server_url: str) -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(f"{redis_server_url}/0")
    keys = [f"nianbao-tests:db:{n}" for n in NUMBERS]
    client.delete(*keys)
    yield client
    client.delete(*keys)
    client.close()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_two_live_processes_get_two_numbers_and_keep_them(claims: Any) -> None:
    me, other = os.getpid(), os.getppid()
    assert claim_redis_db(claims, NUMBERS, pid=me) == 1000
    assert claim_redis_db(claims, NUMBERS, pid=other) == 1001
    assert claim_redis_db(claims, NUMBERS, pid=me) == 1000  # asked again: the same one


def test_no_number_when_every_one_is_held_by_a_live_process(claims: Any) -> None:
    holders = [os.getppid(), 1, os.getpid()]  # pid 1 is always alive
    for n, pid in zip(NUMBERS, holders, strict=True):
        claims.set(f"nianbao-tests:db:{n}", pid)
    assert claim_redis_db(claims, NUMBERS, pid=_dead_pid()) is None


def test_a_claim_of_a_process_that_is_gone_is_taken_over(claims: Any) -> None:
    gone = _dead_pid()
    assert claim_redis_db(claims, NUMBERS, pid=gone) == 1000
    assert claim_redis_db(claims, NUMBERS, pid=os.getpid()) == 1000
    claims.set("nianbao-tests:db:1001", "not a pid")  # a stray value is no claim either
    assert claim_redis_db(claims, NUMBERS, pid=os.getppid()) == 1001


def test_only_the_holder_releases_its_number(claims: Any) -> None:
    assert claim_redis_db(claims, NUMBERS, pid=os.getpid()) == 1000
    release_redis_db(claims, 1000, pid=os.getppid())
    assert claims.get("nianbao-tests:db:1000") == str(os.getpid()).encode()
    release_redis_db(claims, 1000, pid=os.getpid())
    assert claims.get("nianbao-tests:db:1000") is None
