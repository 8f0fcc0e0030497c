"""Messages written together (services/writer.py), on both backends: many senders at once, and
every conversation still numbers its messages without a gap, in the order each author sent
them; a retry, a conversation that ended and a joined supervisor are answered as before."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from clients import Visitor
from conftest import LiveServer, online
from madoguchi.domain.conversation import Role
from madoguchi.domain.errors import DomainError
from madoguchi.domain.records import Actor, Event
from madoguchi.services import chat, handoff
from madoguchi.store import conversations as repo

CHATS = 6
EACH = 15


def actors(conv: dict[str, object], visitor_id: str) -> tuple[Actor, Actor]:
    operator = conv["operator"]
    assert isinstance(operator, dict)
    return (
        Actor(role=Role.VISITOR, id=visitor_id),
        Actor(role=Role.OPERATOR, id=str(operator["id"]), name="佐藤", departments=("support",)),
    )


def stored_events(server: LiveServer, conversation_id: str) -> list[Event]:
    async def read() -> list[Event]:
        async with server.desk.db.read() as conn:
            return await repo.get_events(conn, conversation_id, 0)

    return server.call(read)


async def test_messages_sent_at_once_are_all_stored_in_order_without_gaps(
    server: LiveServer, stack: AsyncExitStack
) -> None:
    operator, operator_ws = await online(server, stack, "佐藤", capacity=CHATS)
    chats = []
    for _ in range(CHATS):
        visitor = await stack.enter_async_context(Visitor(server.url))
        conv = await visitor.start(message=None)
        await operator_ws.expect("assigned")
        chats.append((visitor, conv))
    for _, conv in chats:
        response = await operator.http.get(f"/api/v1/agent/conversations/{conv['id']}")
        conv["operator"] = response.json()["operator"]
    await operator_ws.close()  # the console would read the flood; this test reads the database
    desk = server.desk

    async def author(who: Actor, conversation_id: str) -> list[tuple[Event, bool]]:
        sent = []
        for i in range(EACH):
            text = f"{who.role.value} {i}"
            sent.append(
                await chat.do_send_message(desk, who, conversation_id, f"{who.id}-{i}", text)
            )
        return sent

    async def everyone() -> list[list[tuple[Event, bool]]]:
        tasks = []
        for visitor, conv in chats:
            assert visitor.visitor_id is not None
            for who in actors(conv, visitor.visitor_id):
                tasks.append(author(who, str(conv["id"])))
        return await asyncio.gather(*tasks)

    before = server.app.state.desk.writer.batched
    results = server.call(everyone)
    assert all(new for sent in results for _, new in sent)
    for _, conv in chats:
        events = stored_events(server, str(conv["id"]))
        assert [e.seq for e in events] == list(range(1, len(events) + 1))  # no gap, no twice
        messages = [e for e in events if e.kind == "message"]
        assert len(messages) == 2 * EACH
        for role in ("visitor", "operator"):
            assert [e.body for e in messages if e.author_role.value == role] == [
                f"{role} {i}" for i in range(EACH)
            ]
    writer = server.app.state.desk.writer
    assert writer.batched - before == 2 * EACH * CHATS  # all of them written by batches
    assert writer.batches < writer.batched  # and batches held several


async def test_a_batch_answers_retries_ended_chats_and_supervisors_as_one_message_does(
    server: LiveServer, stack: AsyncExitStack
) -> None:
    operator, _operator_ws = await online(server, stack, "佐藤", capacity=3)
    first = await stack.enter_async_context(Visitor(server.url))
    live = await first.start(message=None)
    second = await stack.enter_async_context(Visitor(server.url))
    ended = await second.start(message=None)
    for conv in (live, ended):
        conv["operator"] = (
            await operator.http.get(f"/api/v1/agent/conversations/{conv['id']}")
        ).json()["operator"]
    assert (
        await operator.http.post(
            f"/api/v1/agent/conversations/{ended['id']}/end", json={"reason": "resolved"}
        )
    ).status_code == 200
    boss = server.create_operator(name="上司", role="supervisor")
    supervisor = Actor(
        role=Role.OPERATOR,
        id=boss["id"],
        name="上司",
        departments=("support",),
        staff_role="supervisor",
    )
    desk = server.desk
    server.call(handoff.do_join, desk, supervisor, str(live["id"]))
    assert first.visitor_id is not None
    assert second.visitor_id is not None
    visitor, _ = actors(live, first.visitor_id)
    late, _ = actors(ended, second.visitor_id)

    async def together() -> list[object]:
        return await asyncio.gather(
            chat.do_send_message(desk, visitor, str(live["id"]), "same", "一回だけ"),
            chat.do_send_message(desk, visitor, str(live["id"]), "same", "一回だけ"),
            chat.do_send_message(desk, late, str(ended["id"]), "late", "遅すぎ"),
            chat.do_send_message(desk, supervisor, str(live["id"]), "boss", "補足します"),
            return_exceptions=True,
        )

    once, again, refused, joined = server.call(together)
    assert isinstance(once, tuple)
    assert isinstance(again, tuple)
    assert once[0].id == again[0].id
    assert sorted([once[1], again[1]]) == [False, True]  # stored once, the retry told so
    assert isinstance(refused, DomainError)
    assert refused.code == "conversation_ended"
    assert isinstance(joined, tuple)
    assert joined[0].author_name == "上司"
    events = stored_events(server, str(live["id"]))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.body for e in events if e.kind == "message"].count("一回だけ") == 1
    assert not any(e.body == "遅すぎ" for e in stored_events(server, str(ended["id"])))
