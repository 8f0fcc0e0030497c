"""Events go out only after the commit: a unit of work that fails tells nobody."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conftest import DatabaseFactory, make_settings
from madoguchi.bus import MemoryBus
from madoguchi.services.auth import do_login, ensure_first_admin
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


async def test_the_first_admin_is_made_once(databases: DatabaseFactory) -> None:
    url = databases.new("sqlite")
    settings = replace(
        make_settings(url, "memory://", "http://x"), admin_password="chosen-password"
    )
    desk = Desk(settings=settings, db=Database(url), bus=MemoryBus())
    try:
        assert await ensure_first_admin(desk) == ("admin@example.com", "chosen-password")
        assert await ensure_first_admin(desk) is None
        operator, _, _ = await do_login(desk, "admin@example.com", "chosen-password")
        assert operator.role == "admin"
        assert set(operator.departments) == {"support", "sales"}
    finally:
        await desk.db.close()
