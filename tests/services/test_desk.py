"""Events go out only after the commit: a unit of work that fails tells nobody."""

from __future__ import annotations

import pytest

from conftest import DatabaseFactory, make_settings
from madoguchi.bus import MemoryBus
from madoguchi.services.desk import Desk
from madoguchi.store import conversations as repo
from madoguchi.store.database import Database


async def _failing_use_case(desk: Desk) -> None:
    async with desk.unit() as unit:
        await repo.insert_visitor(unit.conn, desk.clock())
        unit.publish("t", {"n": 2})
        raise RuntimeError("the use case failed")


async def test_publish_waits_for_the_commit_and_a_rollback_publishes_nothing(
    databases: DatabaseFactory,
) -> None:
    url = databases.new("sqlite")
    bus = MemoryBus()
    heard: list[tuple[str, bytes]] = []
    await bus.subscribe("t", lambda topic, message: heard.append((topic, message)))
    desk = Desk(settings=make_settings(url, "memory://", "http://x"), db=Database(url), bus=bus)
    try:
        async with desk.unit() as unit:
            visitor_id = await repo.insert_visitor(unit.conn, desk.clock())
            unit.publish("t", {"n": 1})
            assert heard == []  # not before the commit
        assert heard == [("t", b'{"n":1}')]
        with pytest.raises(RuntimeError):
            await _failing_use_case(desk)
        assert heard == [("t", b'{"n":1}')]
        async with desk.db.read() as conn:
            assert await repo.visitor_exists(conn, visitor_id)
    finally:
        await desk.db.close()
