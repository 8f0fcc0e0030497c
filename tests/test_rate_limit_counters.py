"""The rate-limit counters on each bus (``Bus.hit``): shared by every node on Redis, atomic across
the keys of one action, expiring, and under the bus's own prefix."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from conftest import REDIS_URL, RUN_ID
from madoguchi.bus import Bus, MemoryBus, RedisBus, create_bus
from madoguchi.domain.ratelimits import Rule

pytestmark = pytest.mark.usefixtures("redis_server")

T0 = 1_775_034_000_000
TWO_A_MINUTE = Rule(2, 60_000)


def redis_url(prefix: str) -> str:
    return f"{REDIS_URL}{'&' if '?' in REDIS_URL else '?'}prefix={prefix}"


def unique_prefix() -> str:
    return f"mdg-test:{RUN_ID}:{uuid.uuid4().hex[:8]}:"


@pytest.fixture(params=["memory", "redis"])
async def nodes(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Bus, Bus]]:
    """Two nodes' buses on one prefix; for memory, one bus twice (it is one node)."""
    if request.param == "memory":
        bus = create_bus("memory://")
        assert isinstance(bus, MemoryBus)
        yield bus, bus
        return
    url = redis_url(unique_prefix())
    first, second = create_bus(url), create_bus(url)
    await first.start()
    await second.start()
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def test_two_nodes_count_in_one_counter(nodes: tuple[Bus, Bus]) -> None:
    first, second = nodes
    limits = [("rl:message:v:v1", TWO_A_MINUTE)]
    assert await first.hit(limits, T0) is None
    assert await second.hit(limits, T0 + 1) is None
    # Each node has counted one: alone, either would let a second through.
    assert await first.hit(limits, T0 + 2) == 30_000 - 2
    assert await second.hit(limits, T0 + 2) == 30_000 - 2
    assert await second.hit(limits, T0 + 30_000) is None


async def test_one_full_key_refuses_and_the_other_keys_do_not_count_it(
    nodes: tuple[Bus, Bus],
) -> None:
    first, second = nodes
    network = ("rl:message:n:203.0.113.7", Rule(3, 60_000))
    assert await first.hit([("rl:message:v:a", TWO_A_MINUTE), network], T0) is None
    assert await first.hit([("rl:message:v:a", TWO_A_MINUTE), network], T0) is None
    assert await second.hit([("rl:message:v:a", TWO_A_MINUTE), network], T0) == 30_000
    # The network counted two, not three: another visitor there still has one.
    assert await second.hit([("rl:message:v:b", TWO_A_MINUTE), network], T0) is None
    assert await first.hit([("rl:message:v:c", TWO_A_MINUTE), network], T0) == 20_000


async def test_redis_keys_live_under_the_prefix_and_expire() -> None:
    prefix = unique_prefix()
    bus = RedisBus(redis_url(prefix))
    await bus.start()
    client = aioredis.from_url(REDIS_URL)
    try:
        assert await bus.hit([("rl:start:v:v1", Rule(5, 600_000))], T0) is None
        # The TAT is 2 minutes on; the key outlives it by one 10-minute window, no more.
        ttl = await client.pttl(f"{prefix}rl:start:v:v1")
        assert 600_000 < ttl <= 720_000
        assert int(await client.get(f"{prefix}rl:start:v:v1")) == T0 + 120_000
        other = RedisBus(redis_url(unique_prefix()))
        await other.start()
        try:  # another desk on the same Redis counts apart
            for _ in range(5):
                assert await other.hit([("rl:start:v:v1", Rule(5, 600_000))], T0) is None
        finally:
            await other.close()
    finally:
        await bus.close()
        await client.aclose()


async def test_limits_are_not_checked_while_redis_does_not_answer() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0?prefix=nobody:&socket_connect_timeout=0.2")
    try:
        assert await bus.hit([("rl:message:v:v1", Rule(1, 60_000))], T0) is None
        assert await bus.hit([("rl:message:v:v1", Rule(1, 60_000))], T0) is None
    finally:
        await bus.close()
