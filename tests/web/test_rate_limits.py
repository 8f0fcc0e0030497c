"""Rate limits on a real node (SPEC P11): what a limited client is told, and that nothing already
accepted is lost. On both backends, with the fake clock moved instead of waiting."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest

from clients import Operator, Socket, Visitor
from clock import FakeClock
from conftest import TEST_CONFIG, DatabaseFactory, LiveServer, online
from madoguchi.config import ConfigError, parse_desk_config
from madoguchi.domain.ratelimits import Rule

# 3 messages at once, then one every 20 s; 2 chat starts per visitor, 3 per network.
LIMITS = """
[rate_limits.message]
visitor = "3/1m"
network = "6/1m"
operator = "2/1m"

[rate_limits.start]
visitor = "2/10m"
network = "3/10m"
"""
OFF = '\n[rate_limits]\nenabled = false\n[rate_limits.message]\nvisitor = "1/1h"\n'


def _desk(
    backend: str, databases: DatabaseFactory, clock: FakeClock, config: str
) -> Iterator[LiveServer]:
    live = LiveServer(databases.new(backend), config=TEST_CONFIG + config, clock=clock).start()
    yield live
    live.stop()
    databases.release(live.database_url)


@pytest.fixture
def desk(backend: str, databases: DatabaseFactory, clock: FakeClock) -> Iterator[LiveServer]:
    yield from _desk(backend, databases, clock, LIMITS)


@pytest.fixture
def open_desk(backend: str, databases: DatabaseFactory, clock: FakeClock) -> Iterator[LiveServer]:
    yield from _desk(backend, databases, clock, OFF)


async def chat(desk: LiveServer, stack: AsyncExitStack) -> tuple[Socket, Visitor, Socket, str]:
    """An operator online, and a visitor in a chat with them."""
    _, op_ws = await online(desk, stack, "佐藤")
    visitor = await stack.enter_async_context(Visitor(desk.url))
    conv = await visitor.start()
    ws = await visitor.connect(resume={conv["id"]: 0})
    stack.push_async_callback(ws.close)
    await op_ws.expect("assigned")
    return op_ws, visitor, ws, conv["id"]


def send_frame(conv_id: str, body: str, client_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "send",
        "conversation_id": conv_id,
        "client_id": client_id or str(uuid.uuid4()),
        "body": body,
    }


async def bodies(client: Visitor | Operator, conv_id: str, role: str) -> list[str]:
    response = await client.http.get(f"/api/v1/{role}/conversations/{conv_id}/events")
    assert response.status_code == 200, response.text
    return [e["body"] for e in response.json()["events"] if e["kind"] == "message"]


async def test_a_visitor_over_the_limit_is_told_when_to_retry_and_the_retry_is_stored_once(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    op_ws, visitor, ws, conv_id = await chat(desk, stack)
    for n in (1, 2, 3):
        await ws.send(send_frame(conv_id, f"m{n}"))
        await ws.expect("ack")
    fourth = send_frame(conv_id, "m4")
    await ws.send(fourth)
    error = await ws.expect("error")
    assert error["code"] == "rate_limited"
    assert error["client_id"] == fourth["client_id"]
    assert error["conversation_id"] == conv_id
    assert error["retry_after"] == 20
    assert error["details"] == {"retry_after": 20, "action": "message"}
    # Refused means not stored: the operator saw three, and the history has three.
    assert [(await op_ws.event("message"))["body"] for _ in range(4)][1:] == ["m1", "m2", "m3"]
    assert await bodies(visitor, conv_id, "visitor") == ["こんにちは", "m1", "m2", "m3"]

    clock.advance(seconds=19)  # not yet: told the second left
    await ws.send(fourth)
    assert (await ws.expect("error", client_id=fourth["client_id"]))["retry_after"] == 1
    clock.advance(seconds=1)
    await ws.send(fourth)  # the same client id, as the widget resends it
    ack = await ws.expect("ack", client_id=fourth["client_id"])
    assert ack["seq"] == (await op_ws.event("message"))["seq"]
    assert await bodies(visitor, conv_id, "visitor") == ["こんにちは", "m1", "m2", "m3", "m4"]


async def test_a_limited_rest_call_gets_429_with_retry_after_and_changes_nothing(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    _, visitor, _, conv_id = await chat(desk, stack)
    path = f"/api/v1/visitor/conversations/{conv_id}/messages"
    for n in range(3):
        response = await visitor.http.post(path, json={"client_id": f"c{n}", "body": f"m{n}"})
        assert response.status_code == 201, response.text
    response = await visitor.http.post(path, json={"client_id": "c3", "body": "m3"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "20"
    assert response.json()["error"]["code"] == "rate_limited"
    assert response.json()["error"]["details"] == {"retry_after": 20, "action": "message"}
    assert await bodies(visitor, conv_id, "visitor") == ["こんにちは", "m0", "m1", "m2"]


async def test_bad_input_is_refused_for_what_it_is_and_costs_no_turn(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    _, _, ws, conv_id = await chat(desk, stack)
    for _ in range(5):
        await ws.send(send_frame(conv_id, "   "))
        assert (await ws.expect("error"))["code"] == "empty_message"
    for n in range(3):
        await ws.send(send_frame(conv_id, f"m{n}"))
        await ws.expect("ack")


async def test_an_operator_is_limited_by_their_own_count(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    op_ws, _, v_ws, conv_id = await chat(desk, stack)
    for n in range(2):
        await op_ws.send(send_frame(conv_id, f"answer {n}"))
        await op_ws.expect("ack")
    await op_ws.send(send_frame(conv_id, "answer 2"))
    error = await op_ws.expect("error")
    assert (error["code"], error["retry_after"]) == ("rate_limited", 30)
    # The visitor's own limit is untouched by the operator's.
    await v_ws.send(send_frame(conv_id, "thanks"))
    await v_ws.expect("ack")


async def test_chat_starts_are_limited_per_visitor_and_per_network(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    first = await stack.enter_async_context(Visitor(desk.url))
    for topic in ("technical", "billing"):
        await first.start(topic=topic)
    response = await first.http.post(
        "/api/v1/visitor/conversations",
        json={"topic": "plan", "language": "ja", "consent": True},
    )
    assert response.status_code == 429
    assert response.json()["error"]["details"] == {"retry_after": 300, "action": "start"}
    assert response.headers["Retry-After"] == "300"
    listed = (await first.http.get("/api/v1/visitor/conversations")).json()["conversations"]
    assert len(listed) == 2  # the refused start made nothing

    # A new visitor id from the same network has its own two starts, but the network has
    # only one left: a fresh id per request does not escape the limit.
    second = await stack.enter_async_context(Visitor(desk.url))
    await second.start()
    third = await stack.enter_async_context(Visitor(desk.url))
    response = await third.http.post(
        "/api/v1/visitor/conversations",
        json={"topic": "technical", "language": "ja", "consent": True},
    )
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    clock.advance(seconds=200)  # the network's next start comes every 200 s
    assert (await third.start())["status"] in ("waiting", "active")


async def test_an_offline_message_counts_as_a_start(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    visitor = await stack.enter_async_context(Visitor(desk.url))
    body = {
        "topic": "technical",
        "language": "ja",
        "consent": True,
        "name": "山田",
        "email": "yamada@example.com",
    }
    for n in range(2):
        message = {"client_id": str(uuid.uuid4()), "body": f"質問 {n}"}
        response = await visitor.http.post(
            "/api/v1/visitor/offline-messages", json={**body, "message": message}
        )
        assert response.status_code == 201, response.text
    message = {"client_id": str(uuid.uuid4()), "body": "質問 2"}
    response = await visitor.http.post(
        "/api/v1/visitor/offline-messages", json={**body, "message": message}
    )
    assert response.status_code == 429
    assert response.json()["error"]["details"]["action"] == "start"


async def test_with_limits_off_nothing_is_counted(
    open_desk: LiveServer, stack: AsyncExitStack
) -> None:
    _, _, ws, conv_id = await chat(open_desk, stack)
    for n in range(10):
        await ws.send(send_frame(conv_id, f"m{n}"))
        await ws.expect("ack")
    assert open_desk.desk.settings.desk.rate_limits.rules("message") is None


def test_a_limit_written_wrong_is_named_with_its_line() -> None:
    text = TEST_CONFIG + '\n[rate_limits.start]\nnetwork = "30 per 10 minutes"\n'
    line = text.splitlines().index('network = "30 per 10 minutes"') + 1
    with pytest.raises(ConfigError) as caught:
        parse_desk_config(text)
    assert f"rate_limits.start.network (line {line})" in str(caught.value)
    assert '"30/1m"' in str(caught.value)


def test_the_defaults_limit_every_action_and_zero_turns_one_off() -> None:
    limits = parse_desk_config(TEST_CONFIG).rate_limits
    assert limits.rules("message") == (Rule(30, 60_000), Rule(180, 60_000), Rule(120, 60_000))
    assert limits.rules("start") == (Rule(10, 600_000), Rule(30, 600_000), None)
    assert limits.rules("upload") is not None
    off = TEST_CONFIG + "\n[rate_limits.upload]\nvisitor = 0\nnetwork = 0\noperator = 0\n"
    assert parse_desk_config(off).rate_limits.rules("upload") is None
