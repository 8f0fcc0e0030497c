"""Idle, no reply and time limit on a real node (SPEC P2, P3, P4), driven by the fake clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest

from clients import Operator, Socket, Visitor
from clock import FakeClock
from conftest import TEST_CONFIG, DatabaseFactory, LiveServer, fire_timers, online

MINUTE = 60
# Support keeps the seed's limits (20 idle minutes, warned 5 before; 30 minutes an inquiry,
# the operator told 10 before) and adds a no-reply limit of 10 minutes, warned 2 before.
NO_REPLY = TEST_CONFIG.replace(
    'routing = "least-active"',
    'routing = "least-active"\nno_reply_minutes = 10\nno_reply_warning_minutes = 2',
)
FOLLOW_UP = TEST_CONFIG.replace(
    'routing = "least-active"', 'routing = "least-active"\ntime_limit_action = "follow_up"'
)


def _desk(
    backend: str, databases: DatabaseFactory, clock: FakeClock, config: str
) -> Iterator[LiveServer]:
    live = LiveServer(databases.new(backend), config=config, clock=clock).start()
    yield live
    live.stop()
    databases.release(live.database_url)


@pytest.fixture
def desk(backend: str, databases: DatabaseFactory, clock: FakeClock) -> Iterator[LiveServer]:
    yield from _desk(backend, databases, clock, TEST_CONFIG)


@pytest.fixture
def strict_desk(backend: str, databases: DatabaseFactory, clock: FakeClock) -> Iterator[LiveServer]:
    yield from _desk(backend, databases, clock, NO_REPLY)


async def chat(
    desk: LiveServer, stack: AsyncExitStack
) -> tuple[Operator, Socket, Visitor, Socket, str]:
    """An operator online, and a visitor whose chat they have (at the clock's time)."""
    operator, op_ws = await online(desk, stack, "佐藤")
    visitor = await stack.enter_async_context(Visitor(desk.url))
    conv = await visitor.start()
    assert conv["status"] == "active"
    ws = await visitor.connect(resume={conv["id"]: 0})
    stack.push_async_callback(ws.close)
    await op_ws.expect("assigned")
    return operator, op_ws, visitor, ws, conv["id"]


async def events(client: Visitor | Operator, conv_id: str, role: str) -> list[dict[str, Any]]:
    response = await client.http.get(f"/api/v1/{role}/conversations/{conv_id}/events")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["events"]
    return found


def kinds(found: list[dict[str, Any]]) -> list[str]:
    return [e["kind"] for e in found]


async def say(ws: Socket, conv_id: str, body: str) -> None:
    await ws.send(
        {"type": "send", "conversation_id": conv_id, "client_id": str(uuid.uuid4()), "body": body}
    )
    await ws.expect("ack")


async def test_idle_warns_both_sides_at_fifteen_minutes_and_ends_at_twenty(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    operator, op_ws, visitor, ws, conv_id = await chat(desk, stack)
    fire_timers(desk, clock, 15 * MINUTE - 1)
    assert "warning" not in kinds(await events(visitor, conv_id, "visitor"))
    fire_timers(desk, clock, 1)
    for socket in (ws, op_ws):
        warning = await socket.event("warning")
        assert warning["data"] == {
            "limit": "idle",
            "ends_at": "2026-04-01T09:20:00.000Z",
            "minutes": 5,
        }
    fire_timers(desk, clock, 5 * MINUTE - 1)
    assert (await operator.http.get(f"/api/v1/agent/conversations/{conv_id}")).json()[
        "status"
    ] == "active"
    fire_timers(desk, clock, 1)
    ended = await ws.event("ended")
    assert ended["data"] == {"reason": "idle", "by": "system"}
    summary = (await operator.http.get(f"/api/v1/agent/conversations/{conv_id}")).json()
    assert (summary["status"], summary["end_reason"]) == ("ended", "idle")
    # Fired once: one warning and one end in the history, and no timer left behind.
    assert kinds(await events(operator, conv_id, "agent")).count("warning") == 1
    assert kinds(await events(operator, conv_id, "agent")).count("ended") == 1
    assert desk.call(_timers_of, desk.desk, conv_id) == []


async def test_a_message_puts_the_idle_limit_off_and_clears_a_warning(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    _, op_ws, visitor, ws, conv_id = await chat(desk, stack)
    fire_timers(desk, clock, 10 * MINUTE)
    await say(ws, conv_id, "まだ確認中です")
    fire_timers(desk, clock, 5 * MINUTE)  # minute 15: not idle, only 5 minutes since
    assert "warning" not in kinds(await events(visitor, conv_id, "visitor"))
    fire_timers(desk, clock, 5 * MINUTE)  # minute 20: the time limit's notice, operators only
    fire_timers(desk, clock, 5 * MINUTE)  # minute 25: idle since 10
    warning = await op_ws.event("warning")
    assert warning["data"]["ends_at"] == "2026-04-01T09:30:00.000Z"
    await say(op_ws, conv_id, "お待たせしました")
    cleared = await ws.event("warning_cleared")
    assert cleared["data"] == {"limits": ["idle"]}
    fire_timers(desk, clock, 4 * MINUTE)  # minute 29: no end
    assert "ended" not in kinds(await events(visitor, conv_id, "visitor"))


async def test_typing_is_activity_for_slow_typists(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    _, op_ws, visitor, ws, conv_id = await chat(desk, stack)
    fire_timers(desk, clock, 14 * MINUTE)
    await ws.send({"type": "typing", "conversation_id": conv_id, "typing": True})
    await op_ws.expect("typing", role="visitor", typing=True)
    fire_timers(desk, clock, 1 * MINUTE)  # minute 15: typing at 14 put it off
    assert "warning" not in kinds(await events(visitor, conv_id, "visitor"))
    # Still typing at 16 and 18, then silence: warned at 18 + 15 = 33 … but 30 ends the inquiry.
    for _ in range(2):
        fire_timers(desk, clock, 2 * MINUTE)
        await ws.send({"type": "typing", "conversation_id": conv_id, "typing": True})
        await op_ws.expect("typing", role="visitor", typing=True)
    fire_timers(desk, clock, 12 * MINUTE)
    ended = await ws.event("ended")
    assert ended["data"]["reason"] == "time_limit"
    assert "warning" not in kinds(await events(visitor, conv_id, "visitor"))


async def test_still_here_answers_the_warning_on_both_sides(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    _, op_ws, visitor, ws, conv_id = await chat(desk, stack)
    fire_timers(desk, clock, 15 * MINUTE)
    await ws.event("warning")
    await ws.send({"type": "still_here", "conversation_id": conv_id})
    still = await op_ws.event("still_here")
    assert still["author"]["role"] == "visitor"
    assert (await op_ws.event("warning_cleared"))["data"] == {"limits": ["idle"]}
    fire_timers(desk, clock, 5 * MINUTE)
    assert "ended" not in kinds(await events(visitor, conv_id, "visitor"))
    # REST does the same, and says so when there is nothing to answer.
    response = await visitor.http.post(f"/api/v1/visitor/conversations/{conv_id}/still-here")
    assert response.status_code == 204


async def test_still_here_is_refused_clearly(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    _operator, _, visitor, ws, conv_id = await chat(desk, stack)
    async with Visitor(desk.url) as stranger:
        response = await stranger.http.post(f"/api/v1/visitor/conversations/{conv_id}/still-here")
        assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    await ws.send({"type": "still_here"})
    assert (await ws.expect("error"))["code"] == "bad_frame"
    await visitor.http.post(f"/api/v1/visitor/conversations/{conv_id}/end", json={})
    response = await visitor.http.post(f"/api/v1/visitor/conversations/{conv_id}/still-here")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "not_active")


async def test_no_reply_warns_and_ends_after_the_operators_message(
    strict_desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    _operator, op_ws, visitor, ws, conv_id = await chat(strict_desk, stack)
    fire_timers(strict_desk, clock, 1 * MINUTE)
    await say(op_ws, conv_id, "契約番号を教えてください")
    fire_timers(strict_desk, clock, 8 * MINUTE - 1)
    assert "warning" not in kinds(await events(visitor, conv_id, "visitor"))
    fire_timers(strict_desk, clock, 1)  # minute 9: two minutes before the end
    warning = await ws.event("warning")
    assert warning["data"] == {
        "limit": "no_reply",
        "ends_at": "2026-04-01T09:11:00.000Z",
        "minutes": 2,
    }
    fire_timers(strict_desk, clock, 2 * MINUTE)
    ended = await ws.event("ended")
    assert ended["data"] == {"reason": "no_reply", "by": "system"}


async def test_a_reply_stops_the_no_reply_limit(
    strict_desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    _, op_ws, visitor, ws, conv_id = await chat(strict_desk, stack)
    await say(op_ws, conv_id, "契約番号を教えてください")
    fire_timers(strict_desk, clock, 8 * MINUTE)
    await ws.event("warning")
    await say(ws, conv_id, "AB12345 です")
    assert (await op_ws.event("warning_cleared"))["data"] == {"limits": ["no_reply"]}
    fire_timers(strict_desk, clock, 3 * MINUTE)
    assert "ended" not in kinds(await events(visitor, conv_id, "visitor"))


async def test_the_operator_sees_the_time_left_and_the_visitor_is_not_rushed(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    _operator, op_ws, visitor, ws, conv_id = await chat(desk, stack)
    for _ in range(2):  # a lively chat: never idle
        fire_timers(desk, clock, 10 * MINUTE)
        await say(ws, conv_id, "続きです")
    notice = await op_ws.event("time_notice")
    assert notice["data"] == {
        "limit": "time_limit",
        "ends_at": "2026-04-01T09:30:00.000Z",
        "minutes": 10,
    }
    seen = await events(visitor, conv_id, "visitor")
    assert "time_notice" not in kinds(seen)
    assert "hidden" in kinds(seen)
    fire_timers(desk, clock, 10 * MINUTE)
    ended = await ws.event("ended")
    assert ended["data"] == {"reason": "time_limit", "by": "system"}


async def test_at_the_time_limit_the_chat_can_become_a_follow_up(
    backend: str, databases: DatabaseFactory, clock: FakeClock, stack: AsyncExitStack
) -> None:
    for desk in _desk(backend, databases, clock, FOLLOW_UP):
        operator, _op_ws, _visitor, ws, conv_id = await chat(desk, stack)
        for _ in range(3):
            await say(ws, conv_id, "続きです")
            fire_timers(desk, clock, 10 * MINUTE)
        follow = await ws.event("follow_up")
        assert follow["data"] == {"reason": "time_limit", "by": "system"}
        listed = (await operator.http.get("/api/v1/agent/follow-ups")).json()["conversations"]
        assert [(c["id"], c["status"], c["end_reason"]) for c in listed] == [
            (conv_id, "follow_up", "time_limit")
        ]
        await stack.aclose()


async def test_an_ended_chat_frees_the_operator_for_the_next_one(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    _, op_ws, _, ws, _conv_id = await chat(desk, stack)
    desk.call(_set_capacity, desk.desk, 1)
    fire_timers(desk, clock, 15 * MINUTE)
    await ws.event("warning")
    async with Visitor(desk.url) as second:
        waiting = await second.start(message="次の質問です")
        assert waiting["status"] == "waiting"  # the operator's one slot is taken
        clock.advance(seconds=5 * MINUTE)
        await op_ws.send({"type": "ping", "t": 1})  # the console is there, as every 25 s
        await op_ws.expect("pong")
        fire_timers(desk, clock, 0)
        await ws.event("ended")
        assigned = await op_ws.expect("assigned")
        assert assigned["conversation"]["id"] == waiting["id"]


async def _timers_of(desk: Any, conv_id: str) -> list[str]:
    from sqlalchemy import select

    from madoguchi.store.tables import timers

    async with desk.db.read() as conn:
        rows = await conn.execute(select(timers.c.key).where(timers.c.key.contains(conv_id)))
        return [row.key for row in rows]


async def _set_capacity(desk: Any, capacity: int) -> None:
    from sqlalchemy import update

    from madoguchi.store.tables import operators

    async with desk.db.write() as conn:
        await conn.execute(update(operators).values(capacity=capacity))
