"""The maintenance switch (SPEC X5): an admin pauses new chats with a message; running ones go on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest

from clients import Operator, Visitor
from clock import FakeClock
from conftest import DatabaseFactory, LiveServer, online

NOTICE = "本日 2:00〜4:00 はシステムメンテナンスのため、チャットをお休みします。"


@pytest.fixture
def desk(backend: str, databases: DatabaseFactory, clock: FakeClock) -> Iterator[LiveServer]:
    live = LiveServer(databases.new(backend), clock=clock).start()
    yield live
    live.stop()
    databases.release(live.database_url)


async def staff(server: LiveServer, stack: AsyncExitStack, role: str, name: str) -> Operator:
    """A logged-in account of ``role`` (operator, supervisor or admin), without a socket."""
    account = server.create_operator(name=name, role=role)
    return await stack.enter_async_context(
        Operator(server.url, account["email"], account["password"])
    )


async def switch(admin: Operator, enabled: bool, message: str = "") -> Any:
    return await admin.http.put(
        "/api/v1/agent/maintenance", json={"enabled": enabled, "message": message}
    )


async def availability(visitor: Visitor) -> dict[str, Any]:
    response = await visitor.http.get("/api/v1/visitor/availability", params={"language": "ja"})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def start_body(topic: str = "technical") -> dict[str, Any]:
    return {
        "topic": topic,
        "language": "ja",
        "consent": True,
        "message": {"client_id": str(uuid.uuid4()), "body": "ログインできません"},
    }


def offline_body() -> dict[str, Any]:
    return {
        "topic": "sales",
        "language": "ja",
        "consent": True,
        "name": "山田",
        "email": "yamada@example.com",
        "message": {"client_id": str(uuid.uuid4()), "body": "見積もりをお願いします"},
    }


def error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def test_an_admin_turns_maintenance_on_and_off_and_every_console_is_told(
    desk: LiveServer, stack: AsyncExitStack, clock: FakeClock
) -> None:
    admin = await staff(desk, stack, "admin", "Kanri")
    sato, console = await online(desk, stack, "Sato")
    visitor = await stack.enter_async_context(Visitor(desk.url))
    assert (await availability(visitor))["maintenance"] is None
    off = (await admin.http.get("/api/v1/agent/maintenance")).json()
    assert off == {"enabled": False, "message": "", "since": None, "by": None}

    on = await switch(admin, True, f"  {NOTICE}\n  ")
    assert on.status_code == 200, on.text
    assert on.json() == {
        "enabled": True,
        "message": NOTICE,
        "since": "2026-04-01T09:00:00.000Z",
        "by": {"id": admin.me["id"], "name": "Kanri"},
    }
    frame = await console.expect("maintenance")
    assert (frame["enabled"], frame["message"]) == (True, NOTICE)
    assert (await availability(visitor))["maintenance"] == {"message": NOTICE}
    # Every operator reads it (the console's banner), not only admins.
    sato_view = (await sato.http.get("/api/v1/agent/maintenance")).json()
    assert (sato_view["enabled"], sato_view["message"]) == (True, NOTICE)

    # A new message while on keeps the time it went on.
    clock.advance(seconds=600)
    changed = await switch(admin, True, "4:00 再開予定です")
    assert (changed.json()["message"], changed.json()["since"]) == (
        "4:00 再開予定です",
        "2026-04-01T09:00:00.000Z",
    )
    await console.expect("maintenance", message="4:00 再開予定です")

    resumed = await switch(admin, False)
    assert resumed.status_code == 200, resumed.text
    # Off, the last message is kept for next time.
    assert resumed.json()["enabled"] is False
    assert resumed.json()["message"] == "4:00 再開予定です"
    assert resumed.json()["since"] == "2026-04-01T09:10:00.000Z"
    assert (await console.expect("maintenance"))["enabled"] is False
    assert (await availability(visitor))["maintenance"] is None
    started = await visitor.http.post("/api/v1/visitor/conversations", json=start_body())
    assert started.status_code == 201, started.text


@pytest.mark.parametrize("role", ["operator", "supervisor"])
async def test_only_admins_may_flip_the_switch(
    desk: LiveServer, stack: AsyncExitStack, role: str
) -> None:
    someone = await staff(desk, stack, role, "Tanaka")
    assert error(await switch(someone, True, NOTICE)) == (403, "forbidden")
    assert (await someone.http.get("/api/v1/agent/maintenance")).json()["enabled"] is False
    async with Visitor(desk.url) as visitor:
        assert (await availability(visitor))["maintenance"] is None
        assert error(await visitor.http.get("/api/v1/agent/maintenance")) == (401, "unauthorized")
    admin = await staff(desk, stack, "admin", "Kanri")
    del admin.http.headers["X-CSRF-Token"]
    assert error(await switch(admin, True, NOTICE)) == (403, "csrf_failed")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"enabled": True, "message": ""}, 422, "bad_message"),
        ({"enabled": True, "message": " \n\t "}, 422, "bad_message"),
        ({"enabled": True}, 422, "bad_message"),
        ({"enabled": True, "message": "あ" * 1001}, 422, "bad_message"),
        ({"enabled": True, "message": "メンテナンス\x00中"}, 422, "bad_message"),
        ({"enabled": False, "message": "x" * 1001}, 422, "bad_message"),
        ({"message": NOTICE}, 400, "bad_request"),
        ({"enabled": "sometimes", "message": NOTICE}, 400, "bad_request"),
        ({"enabled": True, "message": NOTICE, "until": "04:00"}, 400, "bad_request"),
    ],
)
async def test_a_bad_switch_is_refused_and_changes_nothing(
    desk: LiveServer, stack: AsyncExitStack, body: dict[str, Any], status: int, code: str
) -> None:
    admin = await staff(desk, stack, "admin", "Kanri")
    response = await admin.http.put("/api/v1/agent/maintenance", json=body)
    assert error(response) == (status, code)
    assert response.json()["error"]["message"]
    assert (await admin.http.get("/api/v1/agent/maintenance")).json()["enabled"] is False


async def test_a_message_of_exactly_1000_characters_is_taken(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    admin = await staff(desk, stack, "admin", "Kanri")
    text = "お知らせ\n" + "あ" * 995
    assert len(text) == 1000
    response = await switch(admin, True, text)
    assert (response.status_code, response.json()["message"]) == (200, text)


async def test_new_chats_and_offline_messages_are_refused_with_the_message(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    admin = await staff(desk, stack, "admin", "Kanri")
    assert (await switch(admin, True, NOTICE)).status_code == 200
    visitor = await stack.enter_async_context(Visitor(desk.url))
    started = await visitor.http.post("/api/v1/visitor/conversations", json=start_body())
    assert error(started) == (503, "maintenance")
    assert started.json()["error"]["details"] == {"message": NOTICE}
    left = await visitor.http.post("/api/v1/visitor/offline-messages", json=offline_body())
    assert error(left) == (503, "maintenance")
    assert left.json()["error"]["details"] == {"message": NOTICE}
    listed = await visitor.http.get("/api/v1/visitor/conversations")
    assert listed.json()["conversations"] == []
    # Bad input is still told as such first: the visitor has something to fix either way.
    bad = await visitor.http.post(
        "/api/v1/visitor/conversations", json={**start_body(), "consent": False}
    )
    assert error(bad) == (400, "consent_required")


async def test_a_running_chat_goes_on_during_maintenance(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato")
    visitor = await stack.enter_async_context(Visitor(desk.url))
    conv = (await visitor.http.post("/api/v1/visitor/conversations", json=start_body())).json()
    await sato_ws.expect("assigned")
    visitor_ws = await visitor.connect()
    stack.push_async_callback(visitor_ws.close)
    await visitor_ws.event("assigned")
    admin = await staff(desk, stack, "admin", "Kanri")
    assert (await switch(admin, True, NOTICE)).status_code == 200

    await visitor_ws.send(
        {"type": "send", "conversation_id": conv["id"], "client_id": "c1", "body": "まだ使えますか"}
    )
    await visitor_ws.expect("ack", client_id="c1")
    assert (await sato_ws.event("message", client_id="c1"))["body"] == "まだ使えますか"
    path = f"/api/v1/agent/conversations/{conv['id']}"
    answer = await sato.http.post(
        f"{path}/messages", json={"client_id": str(uuid.uuid4()), "body": "はい、続けられます"}
    )
    assert answer.status_code == 201, answer.text
    assert (await visitor_ws.event("message"))["body"] == "はい、続けられます"
    # Operators' work goes on: a transfer back to the queue, taken again, and the end.
    moved = await sato.http.post(f"{path}/transfer", json={"department": "support", "note": ""})
    assert moved.status_code == 200, moved.text
    await visitor_ws.event("transferred")
    suzuki, suzuki_ws = await online(desk, stack, "Suzuki")
    await suzuki_ws.expect("assigned")
    ended = await suzuki.http.post(f"{path}/end", json={"reason": "resolved"})
    assert (ended.status_code, ended.json()["status"]) == (200, "ended")
    assert (await visitor_ws.event("ended"))["data"]["reason"] == "resolved"


async def test_two_nodes_on_one_database_agree_at_once(
    databases: DatabaseFactory, redis_server: str, request: pytest.FixtureRequest
) -> None:
    """No per-node copy: what an admin sets on one node, the other enforces at its next read."""
    if databases.pg_template is None:
        databases.pg_template = request.getfixturevalue("pg_template")
    url = databases.new("postgres")
    bus = f"{redis_server}{'&' if '?' in redis_server else '?'}prefix=mdg-test:{uuid.uuid4().hex}:"
    one = LiveServer(url, bus_url=bus).start()
    two = LiveServer(url, bus_url=bus).start()
    try:
        async with AsyncExitStack() as stack:
            _, console_two = await online(two, stack, "Suzuki")
            admin = await staff(one, stack, "admin", "Kanri")
            assert (await switch(admin, True, NOTICE)).status_code == 200
            visitor = await stack.enter_async_context(Visitor(two.url))
            assert (await availability(visitor))["maintenance"] == {"message": NOTICE}
            started = await visitor.http.post("/api/v1/visitor/conversations", json=start_body())
            assert error(started) == (503, "maintenance")
            assert (await console_two.expect("maintenance"))["message"] == NOTICE

            assert (await switch(admin, False)).status_code == 200
            assert (await availability(visitor))["maintenance"] is None
            started = await visitor.http.post("/api/v1/visitor/conversations", json=start_body())
            assert started.status_code == 201, started.text
            assert (await console_two.expect("maintenance"))["enabled"] is False
    finally:
        one.stop()
        two.stop()
        databases.release(url)
