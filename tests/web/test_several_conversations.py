"""Several conversations per visitor (SPEC V16): one live chat per topic, at most five at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest

from clients import Visitor
from clock import FakeClock
from conftest import TEST_CONFIG, DatabaseFactory, LiveServer, online

# Two more support topics, so that five live chats leave a topic free for a sixth.
CONFIG = (
    TEST_CONFIG
    + '\n[[topics]]\nid = "domain"\ndepartment = "support"\nlabel = { ja = "ドメイン", en = "Domains" }\n'
    + '\n[[topics]]\nid = "mail"\ndepartment = "support"\nlabel = { ja = "メール", en = "Mail" }\n'
)


@pytest.fixture
def desk(backend: str, databases: DatabaseFactory, clock: FakeClock) -> Iterator[LiveServer]:
    live = LiveServer(databases.new(backend), config=CONFIG, clock=clock).start()
    yield live
    live.stop()
    databases.release(live.database_url)


def body(topic: str, text: str = "質問があります") -> dict[str, Any]:
    return {
        "topic": topic,
        "language": "ja",
        "consent": True,
        "message": {"client_id": str(uuid.uuid4()), "body": text},
    }


async def start(visitor: Visitor, topic: str) -> Any:
    return await visitor.http.post("/api/v1/visitor/conversations", json=body(topic))


async def listed(visitor: Visitor) -> list[dict[str, Any]]:
    response = await visitor.http.get("/api/v1/visitor/conversations")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["conversations"]
    return found


def error(response: Any) -> tuple[int, str, Any]:
    failure = response.json()["error"]
    return response.status_code, failure["code"], failure.get("details")


async def test_a_second_topic_opens_a_second_conversation_and_both_are_listed(
    desk: LiveServer, stack: AsyncExitStack, clock: FakeClock
) -> None:
    visitor = await stack.enter_async_context(Visitor(desk.url))
    technical = (await start(visitor, "technical")).json()
    clock.advance(seconds=60)
    billing = await start(visitor, "billing")
    assert billing.status_code == 201, billing.text
    found = await listed(visitor)
    # Newest first among the open ones, with what the widget's list shows.
    assert [(c["id"], c["topic"], c["status"]) for c in found] == [
        (billing.json()["id"], "billing", "waiting"),
        (technical["id"], "technical", "waiting"),
    ]
    assert found[0]["created_at"] == "2026-04-01T09:01:00.000Z"
    assert found[1]["created_at"] == "2026-04-01T09:00:00.000Z"
    assert {"last_activity_at", "last_seq", "operator"} <= set(found[0])


@pytest.mark.parametrize("status", ["waiting", "active"])
async def test_a_second_chat_on_a_live_topic_points_to_the_first(
    desk: LiveServer, stack: AsyncExitStack, status: str
) -> None:
    if status == "active":
        _, console = await online(desk, stack, "Sato")
    visitor = await stack.enter_async_context(Visitor(desk.url))
    first = (await start(visitor, "technical")).json()
    if status == "active":
        await console.expect("assigned")
    assert (await listed(visitor))[0]["status"] == status
    again = await start(visitor, "technical")
    assert error(again) == (409, "already_open", {"conversation_id": first["id"]})
    assert again.json()["error"]["message"]
    assert [c["id"] for c in await listed(visitor)] == [first["id"]]
    # Another visitor is not concerned by this one's chats.
    async with Visitor(desk.url) as other:
        assert (await start(other, "technical")).status_code == 201


async def test_an_ended_chat_or_an_offline_message_does_not_block_the_topic(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    visitor = await stack.enter_async_context(Visitor(desk.url))
    first = (await start(visitor, "technical")).json()
    ended = await visitor.http.post(f"/api/v1/visitor/conversations/{first['id']}/end", json={})
    assert ended.status_code == 200, ended.text
    second = await start(visitor, "technical")
    assert second.status_code == 201, second.text
    left = await visitor.http.post(
        "/api/v1/visitor/offline-messages",
        json={**body("sales"), "name": "山田", "email": "yamada@example.com"},
    )
    assert left.status_code == 201, left.text
    assert (await start(visitor, "sales")).status_code == 201
    statuses = sorted((c["topic"], c["status"]) for c in await listed(visitor))
    assert statuses == [
        ("sales", "offline"),
        ("sales", "waiting"),
        ("technical", "ended"),
        ("technical", "waiting"),
    ]


async def test_five_live_chats_at_most(desk: LiveServer, stack: AsyncExitStack) -> None:
    visitor = await stack.enter_async_context(Visitor(desk.url))
    topics = ["technical", "plan", "billing", "affiliate", "sales"]
    opened = [(await start(visitor, topic)).json()["id"] for topic in topics]
    sixth = await start(visitor, "domain")
    assert error(sixth) == (409, "too_many_open", {"limit": 5})
    assert len(await listed(visitor)) == 5
    # Ending one frees a place.
    end = await visitor.http.post(f"/api/v1/visitor/conversations/{opened[0]}/end", json={})
    assert end.status_code == 200
    assert (await start(visitor, "domain")).status_code == 201
    assert error(await start(visitor, "mail"))[:2] == (409, "too_many_open")


async def test_two_starts_at_once_on_one_topic_make_one_conversation(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    """A double click, or two tabs: the visitor's row is locked, so the second sees the first."""
    visitor = await stack.enter_async_context(Visitor(desk.url))
    answers = await asyncio.gather(*(start(visitor, "technical") for _ in range(4)))
    made = [a.json()["id"] for a in answers if a.status_code == 201]
    assert len(made) == 1
    for refused in (a for a in answers if a.status_code != 201):
        assert error(refused) == (409, "already_open", {"conversation_id": made[0]})
    assert [c["id"] for c in await listed(visitor)] == made


async def test_one_socket_follows_every_open_conversation(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    sato, console = await online(desk, stack, "Sato")
    visitor = await stack.enter_async_context(Visitor(desk.url))
    technical = (await start(visitor, "technical")).json()
    await console.expect("assigned")
    socket = await visitor.connect()
    stack.push_async_callback(socket.close)
    welcome = next(f for f in socket.seen if f["type"] == "welcome")
    assert [c["id"] for c in welcome["conversations"]] == [technical["id"]]
    # A chat started while the socket is open is followed once the frame resumes it.
    billing = (await start(visitor, "billing")).json()
    await socket.send({"type": "resume", "conversation_id": billing["id"], "since": 0})
    await socket.event("created", conversation_id=billing["id"])
    await console.expect("assigned")
    for conv, text in ((technical, "技術の回答です"), (billing, "請求の回答です")):
        sent = await sato.http.post(
            f"/api/v1/agent/conversations/{conv['id']}/messages",
            json={"client_id": str(uuid.uuid4()), "body": text},
        )
        assert sent.status_code == 201, sent.text
        got = await socket.event("message", conversation_id=conv["id"], body=text)
        assert got["author"]["name"] == "Sato"
    found = {c["id"]: c for c in await listed(visitor)}
    assert found[technical["id"]]["last_activity_at"] is not None
