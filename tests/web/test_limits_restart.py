"""The limits' durable timer across a restart of the only node (SPEC P2, P6; issue 4).

A chat's limits live in one row of the ``timers`` table, ``limits:<conversation>``, so a node
that stops and a new one that starts on the same database (the clock running on meanwhile)
pick them up where they were: the warning and the end each come once, on the new node.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from sqlalchemy import select

from clients import Operator, Socket, Visitor
from clock import FakeClock
from conftest import TEST_CONFIG, DatabaseFactory, LiveServer, fire_timers
from madoguchi.store.tables import timers

MINUTE = 60
# The operator's console may be away for an hour before they count as gone (services/
# presence.py): an outage of ten minutes then says nothing about them, only about the chat.
LONG_GRACE = TEST_CONFIG + "\n[operators]\ndisconnect_grace_seconds = 3600\n"


class Nodes:
    """Nodes started one after another on one database; those still running stop at the end."""

    def __init__(self, database_url: str, clock: FakeClock) -> None:
        self.database_url = database_url
        self.clock = clock
        self.running: list[LiveServer] = []

    def start(self, config: str = TEST_CONFIG) -> LiveServer:
        live = LiveServer(self.database_url, config=config, clock=self.clock).start()
        self.running.append(live)
        return live

    async def stop(self, live: LiveServer) -> None:
        """Shut a node down as a deploy does; the test's loop keeps serving its clients'
        sockets meanwhile, so they see the node close them."""
        self.running.remove(live)
        await asyncio.to_thread(live.stop)


@pytest.fixture
def nodes(backend: str, databases: DatabaseFactory, clock: FakeClock) -> Iterator[Nodes]:
    """One database for several nodes in turn, kept until the last has stopped."""
    found = Nodes(databases.new(backend), clock)
    yield found
    for live in found.running:
        live.stop()
    databases.release(found.database_url)


class People:
    """An operator and a visitor with a chat between them, who come back to any node."""

    def __init__(self, account: dict[str, Any], token: str, conv_id: str) -> None:
        self.account = account
        self.token = token
        self.conv_id = conv_id

    async def connect(
        self, live: LiveServer, stack: AsyncExitStack, since: int = 0
    ) -> tuple[Operator, Socket, Visitor, Socket]:
        """Both open the node's pages again: the console logs in, the chat frame resumes."""
        operator = await stack.enter_async_context(
            Operator(live.url, self.account["email"], self.account["password"])
        )
        op_ws = await operator.connect(resume={self.conv_id: since})
        stack.push_async_callback(op_ws.close)
        visitor = await stack.enter_async_context(Visitor(live.url, token=self.token))
        ws = await visitor.connect(resume={self.conv_id: since})
        stack.push_async_callback(ws.close)
        return operator, op_ws, visitor, ws


async def chat(live: LiveServer, stack: AsyncExitStack) -> tuple[People, Socket, Socket]:
    """An operator online, and a visitor whose chat they have (at the clock's time)."""
    account = live.create_operator(name="佐藤")
    operator = await stack.enter_async_context(
        Operator(live.url, account["email"], account["password"])
    )
    op_ws = await operator.connect()
    stack.push_async_callback(op_ws.close)
    assert (await operator.presence("online")).status_code == 200
    visitor = await stack.enter_async_context(Visitor(live.url))
    conv = await visitor.start(message="サーバーに接続できません")
    assert conv["status"] == "active"
    ws = await visitor.connect(resume={conv["id"]: 0})
    stack.push_async_callback(ws.close)
    await op_ws.expect("assigned")
    assert visitor.token is not None
    return People(account, visitor.token, conv["id"]), op_ws, ws


async def events(client: Visitor | Operator, conv_id: str) -> list[dict[str, Any]]:
    role = "visitor" if isinstance(client, Visitor) else "agent"
    response = await client.http.get(f"/api/v1/{role}/conversations/{conv_id}/events")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["events"]
    return found


async def listed(visitor: Visitor, conv_id: str) -> dict[str, Any]:
    """The conversation as the visitor's list of conversations shows it."""
    response = await visitor.http.get("/api/v1/visitor/conversations")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = next(c for c in response.json()["conversations"] if c["id"] == conv_id)
    return found


def kinds(found: list[dict[str, Any]]) -> list[str]:
    return [e["kind"] for e in found]


async def quiet(ws: Socket) -> None:
    """Nothing more reached the socket: a ping's pong comes back with no event before it."""
    ws.seen.clear()
    await ws.send({"type": "ping", "t": 1})
    await ws.expect("pong")
    assert [f for f in ws.seen if f.get("type") == "event"] == []


async def _limits_timers(desk: Any) -> list[str]:
    async with desk.db.read() as conn:
        rows = await conn.execute(select(timers.c.key).where(timers.c.key.startswith("limits:")))
        return [row.key for row in rows]


async def test_a_restarted_node_warns_at_fifteen_minutes_and_ends_at_twenty_once(
    nodes: Nodes, clock: FakeClock, stack: AsyncExitStack
) -> None:
    first = nodes.start()
    people, _, ws = await chat(first, stack)
    assert first.call(_limits_timers, first.desk) == [f"limits:{people.conv_id}"]
    await nodes.stop(first)
    # The only node is gone; a new one starts on the same database. The timer waits there.
    second = nodes.start()
    operator, op_ws, visitor, ws = await people.connect(second, stack)
    fire_timers(second, clock, 15 * MINUTE - 1)
    assert "warning" not in kinds(await events(visitor, people.conv_id))
    fire_timers(second, clock, 1)
    for socket in (ws, op_ws):
        warning = await socket.event("warning")
        assert warning["data"] == {
            "limit": "idle",
            "ends_at": "2026-04-01T09:20:00.000Z",
            "minutes": 5,
        }
    fire_timers(second, clock, 5 * MINUTE)
    for socket in (ws, op_ws):
        ended = await socket.event("ended")
        assert ended["data"] == {"reason": "idle", "by": "system"}
    history = await events(operator, people.conv_id)
    # Long after: nothing is left to fire, and nobody is told anything more.
    fire_timers(second, clock, 60 * MINUTE)
    for socket in (ws, op_ws):
        await quiet(socket)
    assert await events(operator, people.conv_id) == history
    assert kinds(history).count("warning") == 1
    assert kinds(history).count("ended") == 1
    summary = await listed(visitor, people.conv_id)
    assert (summary["status"], summary["end_reason"]) == ("ended", "idle")
    assert second.call(_limits_timers, second.desk) == []


async def test_a_node_back_after_the_announced_end_ends_the_chat_once(
    nodes: Nodes, clock: FakeClock, stack: AsyncExitStack
) -> None:
    first = nodes.start(LONG_GRACE)
    people, op_ws, ws = await chat(first, stack)
    fire_timers(first, clock, 15 * MINUTE)
    for socket in (ws, op_ws):
        await socket.event("warning")
    warned_seq = ws.seen[-1]["seq"]
    await nodes.stop(first)
    # Down from minute 15 to minute 25, past the end the warning announced at 20. The visitor
    # was given the whole five minutes, so the new node ends the chat at once, as it starts.
    clock.advance(seconds=10 * MINUTE)
    second = nodes.start(LONG_GRACE)
    operator, op_ws, visitor, ws = await people.connect(second, stack, since=warned_seq)
    fire_timers(second, clock, 0)  # in case its own loop has not looked yet
    for socket in (ws, op_ws):
        ended = await socket.event("ended")
        assert ended["data"] == {"reason": "idle", "by": "system"}
        assert ended["at"] == "2026-04-01T09:25:00.000Z"
    fire_timers(second, clock, 30 * MINUTE)
    for socket in (ws, op_ws):
        await quiet(socket)
    history = kinds(await events(operator, people.conv_id))
    assert (history.count("warning"), history.count("ended")) == (1, 1)
    assert history[-2:] == ["warning", "ended"]
    summary = await listed(visitor, people.conv_id)
    assert (summary["status"], summary["end_reason"]) == ("ended", "idle")
    assert second.call(_limits_timers, second.desk) == []


async def test_a_restarted_node_gives_the_consoles_their_grace_before_losing_anyone(
    nodes: Nodes, clock: FakeClock, stack: AsyncExitStack
) -> None:
    # With the default grace (45 s) the operator's `gone` deadline passed while the desk was
    # down; the node that starts gives every console the grace again instead of sending the
    # chat back to the queue at once. The idle end it had announced comes first: the chat ends,
    # once, and is never handed on.
    first = nodes.start()
    people, op_ws, ws = await chat(first, stack)
    fire_timers(first, clock, 15 * MINUTE)
    for socket in (ws, op_ws):
        await socket.event("warning")
    warned_seq = ws.seen[-1]["seq"]
    await nodes.stop(first)
    clock.advance(seconds=10 * MINUTE)
    second = nodes.start()
    async with Visitor(second.url, token=people.token) as visitor:
        ws = await visitor.connect(resume={people.conv_id: warned_seq})
        stack.push_async_callback(ws.close)
        fire_timers(second, clock, 0)
        ended = await ws.event("ended")
        assert ended["data"] == {"reason": "idle", "by": "system"}
        fire_timers(second, clock, 1 * MINUTE)
        await quiet(ws)
        history = kinds(await events(visitor, people.conv_id))
        assert (history.count("requeued"), history.count("ended")) == (0, 1)
        assert (await listed(visitor, people.conv_id))["status"] == "ended"
    assert second.call(_limits_timers, second.desk) == []
