"""Transfers, private notes and supervisors (SPEC A6, A9), as the widget and consoles see them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import orjson
import pytest

from clients import Operator, Socket, Visitor
from clock import FakeClock
from conftest import TEST_CONFIG, DatabaseFactory, LiveServer, online

# Support routes by least-active and sales waits for operators to pick (manual). Billing only
# speaks Japanese on Tokyo weekdays 10:00–18:00; the clock starts on Wednesday 2026-04-01 at
# 09:00 UTC, 18:00 in Tokyo, so billing has just closed. Beta answers in English only.
CONFIG = TEST_CONFIG.replace(
    "[[topics]]",
    '[departments.billing]\nname = { ja = "請求", en = "Billing" }\nhours = { ja = "tokyo" }\n\n'
    '[departments.beta]\nname = { ja = "ベータ", en = "Beta" }\nlanguages = ["en"]\n\n'
    "[[topics]]",
    1,
) + (
    '\n[hours.tokyo]\ntime_zone = "Asia/Tokyo"\nweekdays = ["10:00-18:00"]\n'
    '\n[[topics]]\nid = "invoice"\ndepartment = "billing"\nlabel = { ja = "請求書", en = "Invoices" }\n'
    '\n[[topics]]\nid = "beta"\ndepartment = "beta"\nlabel = { ja = "ベータ", en = "Beta" }\n'
)
SECRET_NOTE = "Refund approved for invoice 42 — do not tell the customer yet"


@pytest.fixture
def desk(backend: str, databases: DatabaseFactory, clock: FakeClock) -> Iterator[LiveServer]:
    live = LiveServer(databases.new(backend), config=CONFIG, clock=clock).start()
    yield live
    live.stop()
    databases.release(live.database_url)


async def chatting(
    server: LiveServer, stack: AsyncExitStack, operator_ws: Socket, **start: Any
) -> tuple[Visitor, Socket, dict[str, Any]]:
    """A visitor whose chat the operator behind ``operator_ws`` was just given."""
    visitor = await stack.enter_async_context(Visitor(server.url))
    conv = await visitor.start(**start)
    assigned = await operator_ws.expect("assigned")
    assert assigned["conversation"]["id"] == conv["id"]
    socket = await visitor.connect()
    stack.push_async_callback(socket.close)
    await socket.event("assigned")
    return visitor, socket, conv


def path(conv: dict[str, Any], action: str = "") -> str:
    return f"/api/v1/agent/conversations/{conv['id']}{action}"


async def events_of(operator: Operator, conv: dict[str, Any]) -> list[dict[str, Any]]:
    response = await operator.http.get(path(conv, "/events"))
    assert response.status_code == 200, response.text
    return response.json()["events"]  # type: ignore[no-any-return]


async def say(who: Operator | Visitor, conv: dict[str, Any], body: str) -> Any:
    prefix = "agent" if isinstance(who, Operator) else "visitor"
    return await who.http.post(
        f"/api/v1/{prefix}/conversations/{conv['id']}/messages",
        json={"client_id": str(uuid.uuid4()), "body": body},
    )


def error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def nowhere_in(frames: list[dict[str, Any]], text: str) -> bool:
    return text not in orjson.dumps(frames).decode()


async def test_a_transfer_to_an_operator_tells_the_visitor_and_hands_over_history_and_note(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato")
    visitor, visitor_ws, conv = await chatting(desk, stack, sato_ws)
    suzuki, suzuki_ws = await online(desk, stack, "Suzuki")
    assert (await say(visitor, conv, "請求書が届きません")).status_code == 201
    assert (await say(sato, conv, "確認します")).status_code == 201

    moved = await sato.http.post(
        path(conv, "/transfer"), json={"operator_id": suzuki.me["id"], "note": SECRET_NOTE}
    )

    assert moved.status_code == 200, moved.text
    assert moved.json()["operator"]["name"] == "Suzuki"
    told = await visitor_ws.event("transferred")
    assert told["data"]["to"] == {"name": "Suzuki"}
    assert told["data"]["from"] == {"name": "Sato"}
    # The note's place in the sequence reaches the visitor as a placeholder, nothing more.
    hidden = await visitor_ws.event("hidden", seq=told["seq"] + 1)
    assert (hidden["body"], hidden["data"], hidden["author"]["name"]) == (None, {}, None)
    gone = await sato_ws.expect("unassigned", conversation_id=conv["id"])
    assert (gone["reason"], gone["to"]) == ("transferred", {"name": "Suzuki"})
    await suzuki_ws.expect("assigned")
    # The new operator has the whole history, the note with it.
    note = await suzuki_ws.event("note")
    assert (note["body"], note["author"]) == (SECRET_NOTE, {"role": "operator", "name": "Sato"})
    kinds = [(e["kind"], e["body"]) for e in await events_of(suzuki, conv)]
    assert ("message", "請求書が届きません") in kinds
    assert ("message", "確認します") in kinds
    assert kinds[-2:] == [("transferred", None), ("note", SECRET_NOTE)]
    mine = (await suzuki.http.get("/api/v1/agent/conversations")).json()["conversations"]
    assert [c["id"] for c in mine] == [conv["id"]]
    # Suzuki writes now; Sato may no longer, nor see it.
    assert (await say(suzuki, conv, "担当の鈴木です")).status_code == 201
    assert (await visitor_ws.event("message"))["author"]["name"] == "Suzuki"
    assert error(await say(sato, conv, "まだいますか")) == (403, "forbidden")
    assert error(await sato.http.get(path(conv))) == (403, "forbidden")
    assert (await sato.http.get("/api/v1/agent/conversations")).json()["conversations"] == []
    assert nowhere_in(visitor_ws.seen, "Refund")


async def test_notes_never_reach_the_visitor_live_by_rest_or_on_resume(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato")
    visitor, visitor_ws, conv = await chatting(desk, stack, sato_ws)
    body = {"client_id": "note-1", "body": SECRET_NOTE}

    added = await sato.http.post(path(conv, "/notes"), json=body)
    again = await sato.http.post(path(conv, "/notes"), json=body)  # a retry: stored once
    assert (await say(sato, conv, "お待たせしました")).status_code == 201

    assert added.status_code == again.status_code == 201
    assert added.json() == again.json()
    seq = added.json()["seq"]
    assert (await sato_ws.event("note"))["body"] == SECRET_NOTE
    # Live: a placeholder keeps the seq, and the next message follows it at once (no gap left
    # for the client to fill, so nothing is fetched again).
    assert (await visitor_ws.event("hidden"))["seq"] == seq
    assert (await visitor_ws.event("message"))["seq"] == seq + 1
    await visitor_ws.send({"type": "ping", "t": 1})
    await visitor_ws.expect("pong")
    seqs = [f["seq"] for f in visitor_ws.seen if f["type"] == "event"]
    assert seqs == sorted(set(seqs))
    # By REST, and resuming from before the note or from the start.
    listed = await visitor.http.get(f"/api/v1/visitor/conversations/{conv['id']}/events")
    assert [e["kind"] for e in listed.json()["events"]][-2:] == ["hidden", "message"]
    for since in (0, seq - 1):
        resumed = await visitor.connect(resume={conv["id"]: since})
        await resumed.event("message", seq=seq + 1)
        kinds = {f["kind"] for f in resumed.seen if f["type"] == "event"}
        assert "hidden" in kinds
        assert "note" not in kinds
        assert nowhere_in(resumed.seen, "Refund")
        await resumed.close()
    assert nowhere_in(visitor_ws.seen, "Refund")
    assert "Refund" not in listed.text
    # Operators read the note wherever they read the chat.
    assert (await events_of(sato, conv))[-2]["body"] == SECRET_NOTE


async def test_a_transfer_to_a_department_waits_first_in_its_queue(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato")
    _, visitor_ws, conv = await chatting(desk, stack, sato_ws)
    clock.advance(seconds=60)
    later = await (await stack.enter_async_context(Visitor(desk.url))).start(topic="sales")
    tanaka, _ = await online(desk, stack, "Tanaka", departments=["sales"])

    moved = await sato.http.post(
        path(conv, "/transfer"), json={"department": "sales", "note": SECRET_NOTE}
    )

    assert moved.status_code == 200, moved.text
    assert (moved.json()["status"], moved.json()["department"]) == ("waiting", "sales")
    told = await visitor_ws.event("transferred")
    assert (told["data"]["to"], told["data"]["department"]) == (None, "sales")
    assert told["data"]["department_name"] == {"ja": "営業", "en": "Sales"}
    place = await visitor_ws.expect("queue", conversation_id=conv["id"])
    assert place["position"] == 1  # ahead of the chat that came a minute after it
    assert (await sato_ws.expect("unassigned"))["to"] is None
    queue = (await tanaka.http.get("/api/v1/agent/queue")).json()["conversations"]
    assert [c["id"] for c in queue] == [conv["id"], later["id"]]
    # The sales operator reads the history and the note before taking it.
    assert (await events_of(tanaka, conv))[-1]["body"] == SECRET_NOTE
    taken = await tanaka.http.post(path(conv, "/accept"))
    assert taken.json()["operator"]["name"] == "Tanaka"
    assert (await visitor_ws.event("assigned"))["data"]["operator"] == {"name": "Tanaka"}
    assert nowhere_in(visitor_ws.seen, "Refund")


async def test_a_department_transfer_is_routed_by_its_mode_never_back_to_the_sender(
    backend: str, databases: DatabaseFactory, stack: AsyncExitStack
) -> None:
    config = CONFIG.replace('routing = "manual"', 'routing = "least-active"')
    server = LiveServer(databases.new(backend), config=config, clock=FakeClock()).start()
    try:
        # Sato serves both departments and holds nothing else: least-active would pick Sato.
        sato, sato_ws = await online(server, stack, "Sato", departments=["support", "sales"])
        _, visitor_ws, conv = await chatting(server, stack, sato_ws)
        _, tanaka_ws = await online(server, stack, "Tanaka", departments=["sales"], capacity=1)
        moved = await sato.http.post(path(conv, "/transfer"), json={"department": "sales"})
        assert moved.status_code == 200, moved.text
        assigned = await tanaka_ws.expect("assigned")
        assert assigned["conversation"]["id"] == conv["id"]
        assert (await visitor_ws.event("assigned"))["data"]["operator"] == {"name": "Tanaka"}
        # No note given: none stored.
        await visitor_ws.send({"type": "ping", "t": 2})
        await visitor_ws.expect("pong")
        assert not [f for f in visitor_ws.seen if f.get("kind") == "hidden"]
    finally:
        await stack.aclose()
        server.stop()
        databases.release(server.database_url)


async def test_a_supervisor_joins_and_both_operators_write(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato")
    visitor, visitor_ws, conv = await chatting(desk, stack, sato_ws)
    boss, boss_ws = await online(desk, stack, "Boss", role="supervisor", capacity=1)

    overview = (await boss.http.get("/api/v1/agent/supervisor/overview")).json()
    [active] = overview["active"]
    assert (active["id"], active["operator"]["name"], active["participants"]) == (
        conv["id"],
        "Sato",
        [],
    )
    loads = {o["name"]: (o["status"], o["load"], o["capacity"]) for o in overview["operators"]}
    assert loads == {"Sato": ("online", 1, 3), "Boss": ("online", 0, 1)}
    assert [d["id"] for d in overview["departments"]] == ["support", "sales", "billing", "beta"]

    joined = await boss.http.post(path(conv, "/join"))

    assert joined.status_code == 200, joined.text
    assert (await visitor_ws.event("joined"))["data"] == {"operator": {"name": "Boss"}}
    await boss_ws.expect("assigned")
    assert (await say(boss, conv, "責任者の者です")).status_code == 201
    assert (await say(sato, conv, "引き続き対応します")).status_code == 201
    await boss_ws.send(
        {"type": "send", "conversation_id": conv["id"], "client_id": "b2", "body": "補足です"}
    )
    await boss_ws.expect("ack", client_id="b2")
    names = [(await visitor_ws.event("message"))["author"]["name"] for _ in range(3)]
    assert names == ["Boss", "Sato", "Boss"]
    assert (await say(visitor, conv, "ありがとうございます")).status_code == 201
    assert (await boss_ws.event("message", body="ありがとうございます"))["seq"] > 0
    assert error(await boss.http.post(path(conv, "/join"))) == (409, "already_joined")
    mine = (await boss.http.get("/api/v1/agent/conversations")).json()["conversations"]
    assert [c["id"] for c in mine] == [conv["id"]]
    overview = (await boss.http.get("/api/v1/agent/supervisor/overview")).json()
    assert [p["name"] for p in overview["active"][0]["participants"]] == ["Boss"]
    # Joining takes no slot: the supervisor's load is still what routing sees.
    assert {o["name"]: o["load"] for o in overview["operators"]}["Boss"] == 0
    # A reconnecting supervisor's console gets the joined chat back.
    again = await boss.connect()
    welcome = next(f for f in again.seen if f["type"] == "welcome")
    assert [c["id"] for c in welcome["conversations"]] == [conv["id"]]
    await again.close()


async def test_a_supervisor_takes_over_and_the_operator_gets_the_next_chat(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato", capacity=1)
    visitor, visitor_ws, conv = await chatting(desk, stack, sato_ws)
    waiting = await (await stack.enter_async_context(Visitor(desk.url))).start()
    boss, boss_ws = await online(desk, stack, "Boss", role="supervisor", departments=["sales"])

    taken = await boss.http.post(path(conv, "/take-over"))

    assert taken.status_code == 200, taken.text
    assert taken.json()["operator"]["name"] == "Boss"
    gone = await sato_ws.expect("unassigned", conversation_id=conv["id"])
    assert (gone["reason"], gone["to"]) == ("taken_over", {"name": "Boss"})
    told = await visitor_ws.event("transferred")
    assert told["data"]["reason"] == "take_over"
    assert told["data"]["to"] == {"name": "Boss"}
    await boss_ws.expect("assigned")
    # Sato's slot is free again: the waiting chat is Sato's now.
    assert (await sato_ws.expect("assigned"))["conversation"]["id"] == waiting["id"]
    assert error(await say(sato, conv, "失礼します")) == (403, "forbidden")
    assert (await say(boss, conv, "代わって対応いたします")).status_code == 201
    assert (await visitor_ws.event("message"))["author"]["name"] == "Boss"
    assert (await boss.http.post(path(conv, "/take-over"))).status_code == 200  # no change
    assert (await say(visitor, conv, "はい")).status_code == 201


async def test_only_supervisors_see_the_overview_join_or_take_over(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    _, sato_ws = await online(desk, stack, "Sato")
    _, _, conv = await chatting(desk, stack, sato_ws)
    suzuki, _ = await online(desk, stack, "Suzuki")

    assert error(await suzuki.http.get("/api/v1/agent/supervisor/overview")) == (
        403,
        "not_supervisor",
    )
    assert error(await suzuki.http.post(path(conv, "/join"))) == (403, "not_supervisor")
    assert error(await suzuki.http.post(path(conv, "/take-over"))) == (403, "not_supervisor")
    # Anyone may list operators, to pick whom to transfer to.
    listed = (await suzuki.http.get("/api/v1/agent/operators")).json()["operators"]
    assert {o["name"]: o["load"] for o in listed} == {"Sato": 1, "Suzuki": 0}
    assert set(listed[0]) == {
        "id",
        "name",
        "role",
        "status",
        "departments",
        "languages",
        "load",
        "capacity",
    }


async def test_bad_transfers_and_notes_get_their_error_codes(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato")
    _, _, conv = await chatting(desk, stack, sato_ws)
    # Suzuki's one slot goes to the next chat (Sato already holds one: least-active).
    suzuki, suzuki_ws = await online(desk, stack, "Suzuki", capacity=1)
    await chatting(desk, stack, suzuki_ws)
    eigo, _ = await online(desk, stack, "Eigo", languages=["en"])
    offline = desk.create_operator(name="Offline")
    boss, _ = await online(desk, stack, "Boss", role="supervisor")
    sales_chat = await (await stack.enter_async_context(Visitor(desk.url))).start(topic="sales")

    async def transfer(body: dict[str, Any], by: Operator = sato) -> Any:
        return await by.http.post(path(conv, "/transfer"), json=body)

    for body in ({"note": "x"}, {"operator_id": suzuki.me["id"], "department": "sales"}):
        assert error(await transfer(body)) == (400, "bad_request")
    assert error(await transfer({"operator_id": sato.me["id"]})) == (400, "bad_request")
    assert error(await transfer({"department": "nowhere"})) == (400, "unknown_department")
    closed = await transfer({"department": "billing"})
    assert error(closed) == (409, "department_closed")
    assert closed.json()["error"]["details"] == {"opens_at": "2026-04-02T01:00:00.000Z"}
    assert error(await transfer({"department": "beta"})) == (409, "language_not_served")
    unavailable = {
        "o_nobody": "unknown",
        offline["id"]: "offline",
        eigo.me["id"]: "skills",
        suzuki.me["id"]: "at_capacity",
    }
    for operator_id, reason in unavailable.items():
        refused = await transfer({"operator_id": operator_id})
        assert error(refused) == (409, "operator_unavailable")
        assert refused.json()["error"]["details"] == {"reason": reason}
    too_long = await transfer({"department": "sales", "note": "x" * 2001})
    assert error(too_long) == (413, "message_too_long")
    assert error(await transfer({"department": "sales"}, by=suzuki)) == (403, "forbidden")
    waiting = await boss.http.post(path(sales_chat, "/transfer"), json={"department": "support"})
    assert error(waiting) == (409, "not_active")
    assert error(await boss.http.post(path(sales_chat, "/join"))) == (409, "not_active")
    # Nothing of it changed the chat.
    assert (await sato.http.get(path(conv))).json()["operator"]["name"] == "Sato"
    assert [e["kind"] for e in await events_of(sato, conv)][-1] == "assigned"

    async def note(body: str) -> Any:
        return await sato.http.post(path(conv, "/notes"), json={"client_id": "n1", "body": body})

    assert error(await note(" \n")) == (400, "empty_message")
    assert error(await note("x" * 2001)) == (413, "message_too_long")
    not_theirs = await suzuki.http.post(path(conv, "/notes"), json={"client_id": "n2", "body": "a"})
    assert error(not_theirs) == (403, "forbidden")
    assert (await say(sato, conv, "メッセージ")).status_code == 201
    ended = await sato.http.post(path(conv, "/end"), json={"reason": "resolved"})
    assert ended.status_code == 200
    assert error(await note("後で確認")) == (409, "conversation_ended")
    assert error(await transfer({"department": "sales"})) == (409, "conversation_ended")


async def test_a_transfer_reaches_the_other_node_and_the_note_stays_off_the_visitor_there(
    databases: DatabaseFactory, redis_server: str, request: pytest.FixtureRequest
) -> None:
    """SPEC X2: Sato and the visitor on one node, Suzuki on another, one PostgreSQL and Redis."""
    if databases.pg_template is None:
        databases.pg_template = request.getfixturevalue("pg_template")
    url = databases.new("postgres")
    bus = f"{redis_server}{'&' if '?' in redis_server else '?'}prefix=mdg-test:{uuid.uuid4().hex}:"
    one = LiveServer(url, bus_url=bus, config=CONFIG).start()
    two = LiveServer(url, bus_url=bus, config=CONFIG).start()
    try:
        async with AsyncExitStack() as stack:
            sato, sato_ws = await online(one, stack, "Sato")
            _, visitor_ws, conv = await chatting(one, stack, sato_ws)
            suzuki, suzuki_ws = await online(two, stack, "Suzuki")
            moved = await sato.http.post(
                path(conv, "/transfer"), json={"operator_id": suzuki.me["id"], "note": SECRET_NOTE}
            )
            assert moved.status_code == 200, moved.text
            await suzuki_ws.expect("assigned")
            assert (await suzuki_ws.event("note"))["body"] == SECRET_NOTE
            await sato_ws.expect("unassigned")
            await visitor_ws.event("hidden")
            assert (await say(suzuki, conv, "鈴木です")).status_code == 201
            assert (await visitor_ws.event("message"))["author"]["name"] == "Suzuki"
            assert nowhere_in(visitor_ws.seen, "Refund")
    finally:
        one.stop()
        two.stop()
        databases.release(url)
