"""The bus transports: the memory bus in one process, and Redis between nodes.

Each Redis test runs two ``RedisBus`` instances (two nodes) on the machine's Redis, under a
channel prefix of its own, so parallel runs and test workers never hear each other. Nothing
here sleeps: a listener puts what it hears on a queue, and "nothing arrived" is proved with a
fence, a later message on the same connection, which Redis delivers in order.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest
import redis.asyncio as aioredis

from conftest import REDIS_URL, RUN_ID
from madoguchi.bus import Bus, MemoryBus, RedisBus, create_bus
from madoguchi.bus.redis import split_prefix

pytestmark = pytest.mark.usefixtures("redis_server")

WAIT = 5.0


class Recorder:
    """A listener that keeps what it hears, to be awaited."""

    def __init__(self) -> None:
        self.heard: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()

    def __call__(self, topic: str, message: bytes) -> None:
        self.heard.put_nowait((topic, message))

    async def next(self) -> tuple[str, bytes]:
        """The next message heard (fails the test if none comes in time)."""
        return await asyncio.wait_for(self.heard.get(), WAIT)

    def nothing_more(self) -> bool:
        """Whether everything heard so far was taken."""
        return self.heard.empty()


def redis_url(prefix: str) -> str:
    """The test Redis with our ``prefix`` query parameter."""
    return f"{REDIS_URL}{'&' if '?' in REDIS_URL else '?'}prefix={prefix}"


def unique_prefix() -> str:
    return f"mdg-test:{RUN_ID}:{uuid.uuid4().hex[:8]}:"


@pytest.fixture(params=["memory", "redis"])
async def nodes(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Bus, Bus]]:
    """Two nodes' buses: two RedisBus instances on one prefix; for memory, one bus twice.

    The memory bus only reaches its own process, so "every node" is that one node.
    """
    if request.param == "memory":
        bus = create_bus("memory://")
        assert isinstance(bus, MemoryBus)
        yield bus, bus
        return
    url = redis_url(unique_prefix())
    first, second = create_bus(url), create_bus(url)
    assert isinstance(first, RedisBus)
    await first.start()
    await second.start()
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def fence(publisher: Bus, subscriber: Bus) -> None:
    """Return once ``subscriber`` has received everything ``publisher`` sent before now."""
    marker = Recorder()
    topic = f"fence-{uuid.uuid4().hex[:8]}"
    await subscriber.subscribe(topic, marker)
    await publisher.publish(topic, b"fence")
    assert await marker.next() == (topic, b"fence")
    await subscriber.unsubscribe(topic, marker)


async def test_a_message_reaches_every_listener_of_its_topic_on_every_node(
    nodes: tuple[Bus, Bus],
) -> None:
    a, b = nodes
    on_a, also_on_a, on_b = Recorder(), Recorder(), Recorder()
    other_on_a, other_on_b = Recorder(), Recorder()
    await a.subscribe("conv:c_1", on_a)
    await a.subscribe("conv:c_1", also_on_a)
    await b.subscribe("conv:c_1", on_b)
    await a.subscribe("conv:c_2", other_on_a)
    await b.subscribe("conv:c_2", other_on_b)

    message = orjson.dumps({"type": "event", "seq": 1, "body": "こんにちは\n  改行も空白も"})
    await a.publish("conv:c_1", message)
    for listener in (on_a, also_on_a, on_b):
        assert await listener.next() == ("conv:c_1", message)

    # From the other node too, and in the order sent.
    await b.publish("conv:c_1", b"second")
    await b.publish("conv:c_1", b"third")
    for listener in (on_a, also_on_a, on_b):
        assert [await listener.next() for _ in range(2)] == [
            ("conv:c_1", b"second"),
            ("conv:c_1", b"third"),
        ]

    # Listeners of another topic heard none of it: what they hear next is their own.
    await a.publish("conv:c_2", b"for c_2")
    assert await other_on_a.next() == ("conv:c_2", b"for c_2")
    assert await other_on_b.next() == ("conv:c_2", b"for c_2")
    await fence(a, b)
    await fence(b, a)
    for listener in (on_a, also_on_a, on_b, other_on_a, other_on_b):
        assert listener.nothing_more()


async def test_a_message_with_no_listener_anywhere_is_dropped(nodes: tuple[Bus, Bus]) -> None:
    a, b = nodes
    await a.publish("conv:nobody", b"lost")
    late = Recorder()
    await b.subscribe("conv:nobody", late)
    await a.publish("conv:nobody", b"heard")
    # Only what was published after the subscription arrives; nothing is replayed.
    assert await late.next() == ("conv:nobody", b"heard")
    await fence(a, b)
    assert late.nothing_more()


async def test_unsubscribe_stops_delivery(nodes: tuple[Bus, Bus]) -> None:
    a, b = nodes
    leaving, staying = Recorder(), Recorder()
    await b.subscribe("op:o_1", leaving)
    await b.subscribe("op:o_1", staying)
    await b.unsubscribe("op:o_1", leaving)
    await b.unsubscribe("op:o_1", leaving)  # a second time is harmless

    await a.publish("op:o_1", b"one")
    assert await staying.next() == ("op:o_1", b"one")

    # The last listener leaving ends the node's interest in the topic altogether ...
    await b.unsubscribe("op:o_1", staying)
    await a.publish("op:o_1", b"two")
    await fence(a, b)
    assert leaving.nothing_more()
    assert staying.nothing_more()

    # ... and subscribing again takes it up again.
    back = Recorder()
    await b.subscribe("op:o_1", back)
    await a.publish("op:o_1", b"three")
    assert await back.next() == ("op:o_1", b"three")
    await fence(a, b)
    assert leaving.nothing_more()
    assert staying.nothing_more()
    assert back.nothing_more()


async def test_unsubscribing_a_stranger_changes_nothing(nodes: tuple[Bus, Bus]) -> None:
    a, b = nodes
    listener = Recorder()
    await b.unsubscribe("queue:support", listener)  # never subscribed: no error
    await b.subscribe("queue:support", listener)
    await b.unsubscribe("queue:support", Recorder())  # someone else: ours stays
    await a.publish("queue:support", b"changed")
    assert await listener.next() == ("queue:support", b"changed")


async def test_a_listener_that_raises_does_not_stop_the_others(
    nodes: tuple[Bus, Bus], caplog: pytest.LogCaptureFixture
) -> None:
    a, b = nodes

    def broken(topic: str, message: bytes) -> None:
        raise RuntimeError("this socket is gone")

    # Listeners are kept in a set: one on each side of the broken one, whatever the order.
    before, after = Recorder(), Recorder()
    await b.subscribe("conv:c_9", before)
    await b.subscribe("conv:c_9", broken)
    await b.subscribe("conv:c_9", after)
    await a.publish("conv:c_9", b"first")
    assert await before.next() == ("conv:c_9", b"first")
    assert await after.next() == ("conv:c_9", b"first")
    # The node keeps delivering afterwards (on Redis: its reader task did not die).
    await a.publish("conv:c_9", b"second")
    assert await before.next() == ("conv:c_9", b"second")
    assert await after.next() == ("conv:c_9", b"second")
    failures = [r for r in caplog.records if r.getMessage() == "bus listener failed on conv:c_9"]
    assert len(failures) == 2
    assert all(r.exc_info and r.exc_info[0] is RuntimeError for r in failures)


async def test_a_listener_may_unsubscribe_while_being_called(nodes: tuple[Bus, Bus]) -> None:
    """A socket that closes while a message is being delivered must not break the loop."""
    a, b = nodes
    heard = Recorder()
    tasks: list[asyncio.Task[None]] = []

    def once(topic: str, message: bytes) -> None:
        heard(topic, message)
        tasks.append(asyncio.get_running_loop().create_task(b.unsubscribe(topic, once)))

    await b.subscribe("conv:c_once", once)
    await a.publish("conv:c_once", b"first")
    assert await heard.next() == ("conv:c_once", b"first")
    await asyncio.wait_for(asyncio.gather(*tasks), WAIT)
    await a.publish("conv:c_once", b"second")
    await fence(a, b)
    assert heard.nothing_more()


async def test_nodes_under_different_prefixes_do_not_hear_each_other() -> None:
    ours_url = redis_url(unique_prefix())
    mine, same, theirs = (
        RedisBus(ours_url),
        RedisBus(ours_url),
        RedisBus(redis_url(unique_prefix())),
    )
    for bus in (mine, same, theirs):
        await bus.start()
    try:
        friend, stranger = Recorder(), Recorder()
        await same.subscribe("conv:c_1", friend)
        await theirs.subscribe("conv:c_1", stranger)
        await mine.publish("conv:c_1", b"ours")
        assert await friend.next() == ("conv:c_1", b"ours")
        # The other desk hears its own traffic, and nothing of ours came before it.
        await theirs.publish("conv:c_1", b"theirs")
        assert await stranger.next() == ("conv:c_1", b"theirs")
        assert stranger.nothing_more()
        await fence(mine, same)
        assert friend.nothing_more()
    finally:
        for bus in (mine, same, theirs):
            await bus.close()


async def test_a_node_hears_its_topics_again_after_its_pubsub_connection_drops() -> None:
    """Redis restarts, failovers and idle-killing proxies cut the pub/sub connection.

    Messages published while it is down are lost (the node's sockets then catch up from the
    database: tests/web/test_bus_loss.py); what must not happen is a node that stays deaf.
    """
    prefix = unique_prefix()
    name = f"mdg-test-{uuid.uuid4().hex[:12]}"  # to find this node's connection, and only it
    publisher = RedisBus(redis_url(prefix))
    node = RedisBus(redis_url(prefix) + f"&client_name={name}")
    admin = aioredis.from_url(REDIS_URL)
    await publisher.start()
    await node.start()
    try:
        conv, queue = Recorder(), Recorder()
        await node.subscribe("conv:c_1", conv)
        await node.subscribe("queue:support", queue)
        await publisher.publish("conv:c_1", b"before")
        assert await conv.next() == ("conv:c_1", b"before")

        subscribed = [c for c in await admin.client_list() if c.get("name") == name]
        subscribed = [c for c in subscribed if int(c.get("sub", 0)) > 0]
        assert len(subscribed) == 1, subscribed
        assert await admin.client_kill_filter(_id=subscribed[0]["id"]) == 1

        # Publish until the node hears again (it reconnects after a short backoff).
        for attempt in range(int(WAIT / 0.1)):
            await publisher.publish("conv:c_1", f"probe {attempt}".encode())
            try:
                await asyncio.wait_for(conv.heard.get(), 0.1)
                break
            except TimeoutError:
                continue
        else:
            pytest.fail("the node did not hear conv:c_1 again after its connection dropped")
        # Every topic it followed is back, and new ones work.
        await publisher.publish("queue:support", b"changed")
        assert await queue.next() == ("queue:support", b"changed")
        later = Recorder()
        await node.subscribe("op:o_1", later)
        await publisher.publish("op:o_1", b"assigned")
        assert await later.next() == ("op:o_1", b"assigned")
    finally:
        await admin.aclose()
        await publisher.close()
        await node.close()


async def test_ping_is_true_when_redis_answers() -> None:
    bus = RedisBus(redis_url(unique_prefix()))
    await bus.start()
    try:
        assert await asyncio.wait_for(bus.ping(), WAIT) is True
    finally:
        await bus.close()


async def test_ping_is_false_and_quick_when_redis_is_not_there() -> None:
    # Port 1 is closed: the connection is refused. ping must say so, not hang or raise.
    bus = RedisBus("redis://127.0.0.1:1/0?prefix=nobody:")
    try:
        assert await asyncio.wait_for(bus.ping(), WAIT) is False
        assert await asyncio.wait_for(bus.ping(), WAIT) is False  # and again, no stuck state
    finally:
        await bus.close()


async def test_the_memory_bus_always_answers_ping() -> None:
    assert await MemoryBus().ping() is True


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379/0", ("redis://127.0.0.1:6379/0", "madoguchi:")),
        ("redis://127.0.0.1:6379/0?prefix=desk-a:", ("redis://127.0.0.1:6379/0", "desk-a:")),
        (
            "rediss://:pw@cache:6380/2?socket_timeout=5&prefix=b%3A&health_check_interval=30",
            ("rediss://:pw@cache:6380/2?socket_timeout=5&health_check_interval=30", "b:"),
        ),
    ],
)
def test_the_prefix_is_taken_out_of_the_redis_url(url: str, expected: tuple[str, str]) -> None:
    assert split_prefix(url) == expected


@pytest.mark.parametrize(
    ("url", "kind"),
    [("memory://", MemoryBus), ("redis://127.0.0.1:6379/0", RedisBus), ("rediss://h/0", RedisBus)],
)
async def test_create_bus_picks_the_transport_by_url(url: str, kind: type[Bus]) -> None:
    bus = create_bus(url)
    assert isinstance(bus, kind)
    await bus.close()  # never started: closing is still clean


def test_create_bus_refuses_other_urls() -> None:
    with pytest.raises(ValueError, match="unknown bus URL"):
        create_bus("amqp://127.0.0.1/")
