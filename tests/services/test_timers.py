"""Durable timers (SPEC P6) on both backends: on time, once, and never lost.

A handler here notes a timer only once its transaction has committed (``after_commit``), so
"fired" below means "its effects are in the database", which is what exactly-once is about.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from clock import START, FakeClock
from conftest import DatabaseFactory, LiveServer, make_settings
from madoguchi.bus import MemoryBus
from madoguchi.services.desk import Desk, Unit
from madoguchi.services.timers import Scheduler, Timer, cancel, schedule
from madoguchi.store import timers as repo
from madoguchi.store.database import Database


class Record:
    """A handler that notes every timer whose firing committed."""

    def __init__(self) -> None:
        self.fired: list[Timer] = []

    async def __call__(self, unit: Unit, timer: Timer) -> None:
        unit.after_commit(lambda: self.fired.append(timer))

    @property
    def keys(self) -> list[str]:
        return [timer.key for timer in self.fired]


@pytest.fixture
def url(backend: str, databases: DatabaseFactory) -> Iterator[str]:
    """A fresh database of the backend; the test closes what it opens on it."""
    database_url = databases.new(backend)
    yield database_url
    databases.release(database_url)


def make_desk(url: str, clock: Callable[[], Any], db: Database | None = None) -> Desk:
    """A node's desk without a server: its own engine unless it shares ``db``."""
    settings = make_settings(url, "memory://", "http://127.0.0.1")
    return Desk(settings=settings, db=db or Database(url), bus=MemoryBus(), clock=clock)


async def set_timers(desk: Desk, *timers: tuple[str, str, timedelta]) -> None:
    """Schedule (kind, key, due after START) in one unit of work."""
    async with desk.unit() as unit:
        for kind, key, after in timers:
            await schedule(unit, kind, key, START + after, {"key": key})


async def stored(desk: Desk, key: str) -> Timer | None:
    async with desk.db.read() as conn:
        return await repo.get_timer(conn, key)


async def eventually(check: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait (real time) until ``check()`` holds, for a background loop to get there."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.01)


async def test_a_timer_fires_at_its_due_instant_and_not_before(url: str) -> None:
    clock = FakeClock()
    desk = make_desk(url, clock)
    record = Record()
    scheduler = Scheduler(desk, {"ping": record})
    try:
        await set_timers(
            desk,
            ("ping", "ping:late", timedelta(seconds=30)),
            ("ping", "ping:soon", timedelta(seconds=10)),
        )
        clock.advance(seconds=9.999)
        assert await scheduler.run_due() == 0
        clock.set(START + timedelta(seconds=10))
        assert await scheduler.run_due() == 1
        assert record.fired == [
            Timer("ping:soon", "ping", START + timedelta(seconds=10), {"key": "ping:soon"}, 0)
        ]
        assert await stored(desk, "ping:soon") is None
        assert await stored(desk, "ping:late") is not None
        clock.set(START + timedelta(seconds=30))
        assert await scheduler.run_due() == 1
        assert record.keys == ["ping:soon", "ping:late"]
        assert await scheduler.run_due() == 0
    finally:
        await desk.db.close()


async def test_timers_due_together_fire_earliest_first(url: str) -> None:
    clock = FakeClock()
    desk = make_desk(url, clock)
    record = Record()
    try:
        await set_timers(
            desk,
            ("ping", "ping:c", timedelta(seconds=3)),
            ("ping", "ping:a", timedelta(seconds=1)),
            ("ping", "ping:b", timedelta(seconds=2)),
        )
        clock.advance(seconds=60)
        assert await Scheduler(desk, {"ping": record}).run_due() == 3
        assert record.keys == ["ping:a", "ping:b", "ping:c"]
    finally:
        await desk.db.close()


async def test_scheduling_a_key_again_replaces_its_deadline(url: str) -> None:
    clock = FakeClock()
    desk = make_desk(url, clock)
    record = Record()
    scheduler = Scheduler(desk, {"idle": record})
    try:
        await set_timers(desk, ("idle", "idle:c1", timedelta(minutes=20)))
        # A message comes in: the idle deadline moves on, as every message will push it.
        clock.advance(timedelta(minutes=5))
        async with desk.unit() as unit:
            await schedule(unit, "idle", "idle:c1", START + timedelta(minutes=25), {"n": 2})
        clock.set(START + timedelta(minutes=20))
        assert await scheduler.run_due() == 0
        clock.set(START + timedelta(minutes=25))
        assert await scheduler.run_due() == 1
        assert record.fired == [
            Timer("idle:c1", "idle", START + timedelta(minutes=25), {"n": 2}, 0)
        ]
    finally:
        await desk.db.close()


async def test_a_cancelled_timer_never_fires(url: str) -> None:
    clock = FakeClock()
    desk = make_desk(url, clock)
    record = Record()
    try:
        await set_timers(
            desk,
            ("offer", "offer:c1", timedelta(seconds=30)),
            ("offer", "offer:c2", timedelta(seconds=30)),
        )
        async with desk.unit() as unit:
            await cancel(unit, "offer:c1")
            await cancel(unit, "offer:never-set")  # nothing to cancel is not an error
        clock.advance(timedelta(hours=1))
        assert await Scheduler(desk, {"offer": record}).run_due() == 1
        assert record.keys == ["offer:c2"]
    finally:
        await desk.db.close()


async def _cancel_then_fail(desk: Desk) -> None:
    async with desk.unit() as unit:
        await cancel(unit, "offer:c1")
        raise RuntimeError("the use case failed after cancelling")


async def test_a_cancel_that_rolls_back_leaves_the_timer(url: str) -> None:
    clock = FakeClock()
    desk = make_desk(url, clock)
    try:
        await set_timers(desk, ("offer", "offer:c1", timedelta(seconds=30)))
        with pytest.raises(RuntimeError):
            await _cancel_then_fail(desk)
        assert await stored(desk, "offer:c1") is not None
    finally:
        await desk.db.close()


async def test_kinds_without_a_handler_here_are_left_for_a_node_that_has_one(url: str) -> None:
    clock = FakeClock()
    desk = make_desk(url, clock)
    record = Record()
    try:
        await set_timers(
            desk,
            ("mail", "mail:c1", timedelta(seconds=1)),
            ("ping", "ping:c1", timedelta(seconds=2)),
        )
        clock.advance(seconds=10)
        assert await Scheduler(desk, {"ping": record}).run_due() == 1
        assert await Scheduler(desk, {}).run_due() == 0
        assert record.keys == ["ping:c1"]
        assert await stored(desk, "mail:c1") is not None
    finally:
        await desk.db.close()


async def test_a_failing_handler_rolls_back_and_is_tried_again_later(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    desk = make_desk(url, clock)
    record = Record()
    calls = 0

    async def flaky(unit: Unit, timer: Timer) -> None:
        nonlocal calls
        calls += 1
        # An effect first, then the failure: the effect must roll back with the timer's claim.
        await schedule(unit, "ping", f"effect:{calls}", START)
        if calls <= 2:
            raise RuntimeError("the mail server is away")
        await record(unit, timer)

    scheduler = Scheduler(desk, {"mail": flaky})
    try:
        await set_timers(desk, ("mail", "mail:c1", timedelta(0)))
        with caplog.at_level(logging.ERROR, logger="madoguchi.services.timers"):
            assert await scheduler.run_due() == 0
        assert "mail:c1" in caplog.text
        assert "the mail server is away" in caplog.text
        assert await stored(desk, "effect:1") is None
        kept = await stored(desk, "mail:c1")
        assert kept is not None
        assert kept.attempts == 1
        assert kept.due_at == START + timedelta(seconds=1)
        # Not again before its new time.
        assert await scheduler.run_due() == 0
        assert calls == 1
        clock.advance(seconds=1)
        assert await scheduler.run_due() == 0
        kept = await stored(desk, "mail:c1")
        assert kept is not None
        assert kept.attempts == 2
        assert kept.due_at == START + timedelta(seconds=3)  # waits twice as long
        clock.advance(seconds=2)
        assert await scheduler.run_due() == 1
        assert calls == 3
        assert [(t.key, t.attempts) for t in record.fired] == [("mail:c1", 2)]
        assert await stored(desk, "mail:c1") is None
        assert await stored(desk, "effect:3") is not None
    finally:
        await desk.db.close()


async def test_two_schedulers_racing_over_200_due_timers_fire_each_once(
    backend: str, url: str
) -> None:
    clock = FakeClock()
    first = make_desk(url, clock)
    # PostgreSQL: two nodes, each its own engine. SQLite: one node, so they share its database.
    second = make_desk(url, clock, db=None if backend == "postgres" else first.db)
    records = (Record(), Record())

    def slow(record: Record) -> Callable[[Unit, Timer], Any]:
        async def handler(unit: Unit, timer: Timer) -> None:
            await asyncio.sleep(0.001)  # long enough for the other node to reach the same rows
            await record(unit, timer)

        return handler

    schedulers = [
        Scheduler(d, {"ping": slow(r)}) for d, r in zip((first, second), records, strict=True)
    ]
    keys = [f"ping:{n:03}" for n in range(200)]
    try:
        await set_timers(first, *(("ping", key, timedelta(seconds=1)) for key in keys))
        clock.advance(seconds=1)
        for _ in range(10):
            # A node may stop early when the rows it looked at were taken; run again.
            await asyncio.gather(*(s.run_due() for s in schedulers))
            if len(records[0].fired) + len(records[1].fired) >= 200:
                break
        fired = records[0].keys + records[1].keys
        assert sorted(fired) == keys  # every one, none twice
        if backend == "postgres":
            assert records[0].fired
            assert records[1].fired
        assert await schedulers[0].run_due() == 0
    finally:
        await first.db.close()
        if backend == "postgres":
            await second.db.close()


async def test_a_node_dying_mid_handler_leaves_the_timer_to_the_next(
    backend: str, url: str
) -> None:
    clock = FakeClock()
    dying = make_desk(url, clock)
    survivor = make_desk(url, clock, db=None if backend == "postgres" else dying.db)
    entered = asyncio.Event()
    dead_record, survivor_record = Record(), Record()

    async def hang(unit: Unit, timer: Timer) -> None:
        await schedule(unit, "ping", "effect:of-the-dead", START)
        await dead_record(unit, timer)
        entered.set()
        await asyncio.Event().wait()  # never returns: the node dies in here

    try:
        await set_timers(dying, ("ping", "ping:c1", timedelta(0)))
        task = asyncio.create_task(Scheduler(dying, {"ping": hang}).run_due())
        await asyncio.wait_for(entered.wait(), 10)
        survivor_scheduler = Scheduler(survivor, {"ping": survivor_record})
        if backend == "postgres":
            # While the first node holds it, the other passes it by instead of firing it too.
            assert await asyncio.wait_for(survivor_scheduler.run_due(), 10) == 0
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await survivor_scheduler.run_due() == 1
        assert survivor_record.keys == ["ping:c1"]
        assert dead_record.fired == []
        assert await stored(survivor, "effect:of-the-dead") is None
        assert await survivor_scheduler.run_due() == 0
    finally:
        await dying.db.close()
        if backend == "postgres":
            await survivor.db.close()


async def test_the_loop_wakes_for_a_deadline_sooner_than_its_next_poll(url: str) -> None:
    clock = FakeClock()
    desk = make_desk(url, clock)
    record = Record()
    # A poll so long that only the wake-up after the commit can make it fire in time.
    scheduler = Scheduler(desk, {"ping": record}, poll_seconds=3600)
    try:
        await scheduler.start()
        await set_timers(desk, ("ping", "ping:now", timedelta(0)))
        await eventually(lambda: record.keys == ["ping:now"])
        await set_timers(desk, ("ping", "ping:next", timedelta(0)))
        await eventually(lambda: record.keys == ["ping:now", "ping:next"])
    finally:
        await scheduler.stop()
        await desk.db.close()


async def test_the_loop_reads_the_desk_clock_and_survives_database_errors(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    desk = make_desk(url, clock)
    record = Record()
    scheduler = Scheduler(desk, {"ping": record}, poll_seconds=0.02)
    try:
        await set_timers(desk, ("ping", "ping:c1", timedelta(minutes=10)))
        await scheduler.start()
        await asyncio.sleep(0.1)
        assert record.fired == []  # ten minutes have not passed on the desk's clock
        # The table goes away under the loop: every query fails until it comes back.
        async with desk.db.write() as conn:
            await conn.exec_driver_sql("ALTER TABLE timers RENAME TO timers_away")
        with caplog.at_level(logging.ERROR, logger="madoguchi.services.timers"):
            await eventually(lambda: "timer loop failed" in caplog.text)
        clock.advance(timedelta(minutes=10))
        async with desk.db.write() as conn:
            await conn.exec_driver_sql("ALTER TABLE timers_away RENAME TO timers")
        await eventually(lambda: record.keys == ["ping:c1"])
    finally:
        await scheduler.stop()
        await desk.db.close()


def test_the_only_node_restarted_fires_what_came_due_while_it_was_down(
    backend: str, databases: DatabaseFactory
) -> None:
    clock = FakeClock()
    record = Record()
    database_url = databases.new(backend)
    handlers = {"ping": record}
    node = LiveServer(database_url, clock=clock, timer_handlers=handlers).start()
    try:
        node.call(
            set_timers,
            node.desk,
            ("ping", "ping:a", timedelta(seconds=10)),
            ("ping", "ping:b", timedelta(seconds=20)),
            ("ping", "ping:c", timedelta(minutes=10)),
        )
    finally:
        node.stop()
    clock.advance(seconds=30)  # it was down while two came due
    assert record.fired == []
    node = LiveServer(database_url, clock=clock, timer_handlers=handlers).start()
    try:
        deadline = time.monotonic() + 10
        while len(record.fired) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert record.keys == ["ping:a", "ping:b"]
        clock.advance(timedelta(minutes=10))
        deadline = time.monotonic() + 10
        while len(record.fired) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert record.keys == ["ping:a", "ping:b", "ping:c"]
    finally:
        node.stop()
        databases.release(database_url)
