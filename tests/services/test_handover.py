"""Handover (SPEC V10, second half) on both backends, on the fake clock.

An operator whose console is gone longer than ``disconnect_grace_seconds`` (45 s here) loses
their chats: each goes back to the front of its queue, the visitor is told another operator will
continue, and the next operator gets it with the whole history. A console back within the grace
keeps everything; a node killed without closing its sockets is caught by the dead-man's switch
(one heartbeat, 25 s, plus the grace after the last sign of life).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from typing import Any

import pytest

from clients import Operator, Socket, Visitor
from clock import FakeClock
from conftest import DatabaseFactory, LiveServer, fire_timers, online
from madoguchi.services.handlers import TIMER_HANDLERS
from madoguchi.services.presence import GONE_TIMER, gone_key
from madoguchi.services.timers import Scheduler
from madoguchi.store import timers as timer_repo

GRACE = 45
DEAD_MAN = 25 + GRACE


@pytest.fixture
def desk(backend: str, databases: DatabaseFactory, clock: FakeClock) -> Iterator[LiveServer]:
    live = LiveServer(databases.new(backend), clock=clock).start()
    yield live
    live.stop()
    databases.release(live.database_url)


async def _gone_due(server: LiveServer, operator_id: str) -> datetime | None:
    async with server.desk.db.read() as conn:
        timer = await timer_repo.get_timer(conn, gone_key(operator_id))
    return timer.due_at if timer is not None else None


async def _until(server: LiveServer, operator_id: str, due: datetime, what: str) -> None:
    for _ in range(500):
        if server.call(_gone_due, server, operator_id) == due:
            return
        await asyncio.sleep(0.01)  # the node records it on its own thread, after the frames
    raise AssertionError(f"the node did not record that the console {what}")


async def console_seen(server: LiveServer, clock: FakeClock, operator_id: str) -> None:
    """Wait until the node has recorded a console's opening (its dead-man's switch is set)."""
    await _until(server, operator_id, clock() + timedelta(seconds=DEAD_MAN), "opened")


async def close_console(
    server: LiveServer, clock: FakeClock, operator_id: str, socket: Socket
) -> None:
    """Close the operator's only console and wait until the node has set the grace's deadline."""
    await socket.close()
    await _until(server, operator_id, clock() + timedelta(seconds=GRACE), "closed")


async def status_of(operator: Operator) -> str:
    return str((await operator.http.get("/api/v1/agent/me")).json()["operator"]["status"])


async def say(who: Operator | Visitor, conv: dict[str, Any], body: str) -> None:
    prefix = "agent" if isinstance(who, Operator) else "visitor"
    response = await who.http.post(
        f"/api/v1/{prefix}/conversations/{conv['id']}/messages",
        json={"client_id": str(uuid.uuid4()), "body": body},
    )
    assert response.status_code == 201, response.text


async def bodies_on(socket: Socket, conv_id: str, count: int) -> list[str]:
    """The next ``count`` message bodies of a conversation on a socket."""
    return [(await socket.event("message", conversation_id=conv_id))["body"] for _ in range(count)]


async def queue_ids(operator: Operator) -> list[str]:
    response = await operator.http.get("/api/v1/agent/queue")
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["conversations"]]


async def test_an_operator_gone_past_the_grace_loses_the_chat_to_the_next_with_its_history(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato", capacity=1)
    visitor = await stack.enter_async_context(Visitor(desk.url))
    conv = await visitor.start(message="印刷できません")
    assert (await sato_ws.expect("assigned"))["conversation"]["id"] == conv["id"]
    visitor_ws = await visitor.connect()
    stack.push_async_callback(visitor_ws.close)
    await say(sato, conv, "お調べします")
    assert await bodies_on(visitor_ws, conv["id"], 2) == ["印刷できません", "お調べします"]
    clock.advance(seconds=60)
    later = await (await stack.enter_async_context(Visitor(desk.url))).start(message="後から")
    assert later["status"] == "waiting"  # Sato has no free slot

    # Sato's console closes (a crashed laptop). Within the grace nothing changes.
    await close_console(desk, clock, sato.me["id"], sato_ws)
    fire_timers(desk, clock, GRACE - 1)
    assert await status_of(sato) == "online"
    assert (await visitor.http.get("/api/v1/visitor/conversations")).json()["conversations"][0][
        "status"
    ] == "active"

    # Past it, Sato is offline and the chat waits again, ahead of the one that came later.
    fire_timers(desk, clock, 1)
    assert await status_of(sato) == "offline"
    told = await visitor_ws.event("requeued")
    assert told["data"] == {
        "reason": "operator_lost",
        "operator": {"name": "Sato"},
        "department": "support",
    }
    place = await visitor_ws.expect("queue", conversation_id=conv["id"])
    assert place["position"] == 1
    assert await queue_ids(sato) == [conv["id"], later["id"]]

    # Its maximum wait (15 minutes) started again: the later chat gives up first.
    fire_timers(desk, clock, 15 * 60 - 1)
    waiting = await queue_ids(sato)
    assert waiting == [conv["id"]]

    # Suzuki comes online and gets it with everything said before.
    suzuki, suzuki_ws = await online(desk, stack, "Suzuki", capacity=1)
    assigned = await suzuki_ws.expect("assigned")
    assert assigned["conversation"]["id"] == conv["id"]
    assert await bodies_on(suzuki_ws, conv["id"], 2) == ["印刷できません", "お調べします"]
    joined = await visitor_ws.event("assigned")
    assert joined["data"]["operator"] == {"name": "Suzuki"}
    await say(suzuki, conv, "代わりにご案内します")
    assert await bodies_on(visitor_ws, conv["id"], 1) == ["代わりにご案内します"]

    # Sato comes back: the console is told the chat is no longer theirs, and does not follow it.
    back = await sato.connect(resume={conv["id"]: 3})
    stack.push_async_callback(back.close)
    gone = await back.expect("unassigned")
    assert gone == {
        "type": "unassigned",
        "conversation_id": conv["id"],
        "reason": "operator_lost",
        "to": None,
    }
    await back.send({"type": "ping", "t": 1})
    await back.expect("pong")
    assert not [f for f in back.seen if f.get("conversation_id") == conv["id"] and f is not gone]
    refused = await sato.http.post(
        f"/api/v1/agent/conversations/{conv['id']}/messages",
        json={"client_id": "late", "body": "まだいますか"},
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")


async def test_a_console_back_within_the_grace_keeps_its_chats(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato")
    visitor = await stack.enter_async_context(Visitor(desk.url))
    conv = await visitor.start(message="こんにちは")
    await sato_ws.expect("assigned")
    visitor_ws = await visitor.connect()
    stack.push_async_callback(visitor_ws.close)

    # A reload: the console closes and opens again within the grace.
    await close_console(desk, clock, sato.me["id"], sato_ws)
    fire_timers(desk, clock, GRACE - 5)
    again = await sato.connect(resume={conv["id"]: 0})
    stack.push_async_callback(again.close)
    await console_seen(desk, clock, sato.me["id"])
    fire_timers(desk, clock, 10)  # past the closed console's deadline
    assert await status_of(sato) == "online"
    await say(sato, conv, "お待たせしました")
    assert await bodies_on(again, conv["id"], 2) == ["こんにちは", "お待たせしました"]
    assert await bodies_on(visitor_ws, conv["id"], 2) == ["こんにちは", "お待たせしました"]
    assert not [f for f in visitor_ws.seen if f.get("kind") == "requeued"]
    assert not [f for f in again.seen if f.get("type") == "unassigned"]


async def test_a_supervisor_who_joined_and_is_lost_just_leaves_the_chat(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato")
    boss, boss_ws = await online(desk, stack, "Boss", role="supervisor", departments=["sales"])
    visitor = await stack.enter_async_context(Visitor(desk.url))
    conv = await visitor.start(message="こんにちは")
    await sato_ws.expect("assigned")
    visitor_ws = await visitor.connect()
    stack.push_async_callback(visitor_ws.close)
    joined = await boss.http.post(f"/api/v1/agent/conversations/{conv['id']}/join")
    assert joined.status_code == 200, joined.text
    await visitor_ws.event("joined")

    await close_console(desk, clock, boss.me["id"], boss_ws)
    fire_timers(desk, clock, GRACE)

    assert await status_of(boss) == "offline"
    overview = (await boss.http.get("/api/v1/agent/supervisor/overview")).json()
    [active] = overview["active"]
    assert active["id"] == conv["id"]
    assert active["operator"]["name"] == "Sato"
    assert active["participants"] == []
    # The chat goes on with Sato; the visitor was told nothing.
    await say(sato, conv, "引き続きご案内します")
    assert (await visitor_ws.event("message", body="引き続きご案内します"))["author"]["name"] == (
        "Sato"
    )
    assert not [f for f in visitor_ws.seen if f.get("kind") == "requeued"]
    # Back, the supervisor's console closes the chat's tab.
    back = await boss.connect(resume={conv["id"]: 2})
    stack.push_async_callback(back.close)
    assert (await back.expect("unassigned"))["conversation_id"] == conv["id"]


async def test_a_node_killed_without_closing_its_sockets_trips_the_dead_mans_switch(
    backend: str, databases: DatabaseFactory, clock: FakeClock, stack: AsyncExitStack
) -> None:
    url = databases.new(backend)
    node1 = LiveServer(url, clock=clock).start()
    # The node that survives never fires "gone" on its own here: the test fires it, so that
    # the moment between the deadline and the firing can be looked at.
    others = {kind: h for kind, h in TIMER_HANDLERS.items() if kind != GONE_TIMER}
    node2: LiveServer | None = None
    frozen = threading.Event()
    try:
        sato, _ = await online(node1, stack, "Sato")
        await console_seen(node1, clock, sato.me["id"])
        visitor = await stack.enter_async_context(Visitor(node1.url))
        conv = await visitor.start(message="つながりません")
        await say(sato, conv, "確認します")

        # Node 1 stops dead (as under kill -9 or SIGSTOP): no close, no heartbeat, nothing.
        node1.loop.call_soon_threadsafe(frozen.wait)
        node2 = LiveServer(url, clock=clock, timer_handlers=others).start()
        clock.advance(seconds=DEAD_MAN + 1)

        # Past the switch's deadline, before anyone fires it: Sato, still "online" with two
        # free slots, is given nothing.
        async with Visitor(node2.url) as newcomer:
            assert (await newcomer.start(message="新しい質問"))["status"] == "waiting"

        fired = node2.call(Scheduler(node2.desk, TIMER_HANDLERS).run_due)
        assert fired >= 1
        async with Operator(node2.url, sato.email, sato.password) as again:
            assert await status_of(again) == "offline"
        visitor_ws = await visitor.connect(resume={conv["id"]: 3}, url=node2.url)
        stack.push_async_callback(visitor_ws.close)
        assert (await visitor_ws.event("requeued"))["data"]["reason"] == "operator_lost"
        assert (await visitor_ws.expect("queue", conversation_id=conv["id"]))["position"] == 1

        _, suzuki_ws = await online(node2, stack, "Suzuki", capacity=1)
        assert (await suzuki_ws.expect("assigned"))["conversation"]["id"] == conv["id"]
        assert await bodies_on(suzuki_ws, conv["id"], 2) == ["つながりません", "確認します"]
        assert (await visitor_ws.event("assigned"))["data"]["operator"] == {"name": "Suzuki"}
    finally:
        frozen.set()  # first, or closing Sato's console would wait for node 1's answer
        await stack.aclose()
        node1.stop()
        if node2 is not None:
            node2.stop()
        databases.release(url)


async def test_a_visitor_who_drops_and_returns_within_minutes_continues_where_they_were(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato")
    visitor = await stack.enter_async_context(Visitor(desk.url))
    conv = await visitor.start(message="こんにちは")
    await sato_ws.expect("assigned")
    first = await visitor.connect()
    last = (await first.event("assigned"))["seq"]
    # The visitor sends, and the connection drops before the ack arrives (screen off).
    sent = {
        "type": "send",
        "conversation_id": conv["id"],
        "client_id": str(uuid.uuid4()),
        "body": "スクリーンショットを送ります",
    }
    await first.send(sent)
    stored = await sato_ws.event("message", body=sent["body"])
    first.ws.transport.abort()  # the network is gone: no close handshake

    # Minutes pass (below the idle limit); the operator answers meanwhile.
    fire_timers(desk, clock, 4 * 60)
    await say(sato, conv, "届きました")
    await say(sato, conv, "確認します")

    # Back: the widget resumes from the last seq it had and sends its unacknowledged message
    # again with the same client id.
    again = await visitor.connect(resume={conv["id"]: last})
    stack.push_async_callback(again.close)
    await again.send(sent)
    ack = await again.expect("ack", client_id=sent["client_id"])
    assert (ack["seq"], ack["message_id"]) == (stored["seq"], stored["id"])
    await again.send({"type": "ping", "t": 1})
    await again.expect("pong")
    # What was missed came after the welcome, each once, in order; nothing is left out.
    events = [f for f in again.seen if f.get("type") == "event"]
    assert [(e["seq"], e["body"]) for e in events] == [
        (last + 1, "スクリーンショットを送ります"),
        (last + 2, "届きました"),
        (last + 3, "確認します"),
    ]
    [mine] = (await visitor.http.get("/api/v1/visitor/conversations")).json()["conversations"]
    assert (mine["id"], mine["status"]) == (conv["id"], "active")
    assert mine["operator"] == {"name": "Sato"}
    # The operator got the visitor's message once, and can go on.
    await sato_ws.send({"type": "ping", "t": 2})
    await sato_ws.expect("pong")
    assert [f["body"] for f in sato_ws.seen if f.get("kind") == "message"].count(sent["body"]) == 1
