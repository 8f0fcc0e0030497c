"""Offers, the queue and hours through the API, as the widget and the console see them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AsyncExitStack

import pytest

from clients import Operator, Socket, Visitor
from clock import FakeClock
from conftest import TEST_CONFIG, DatabaseFactory, LiveServer, fire_timers, online

# Support offers each chat for 30 s and keeps at most 3 waiting; sales answers in Japanese
# on Tokyo weekdays 10:00–18:00 and never in English. The clock starts on Wednesday
# 2026-04-01 at 09:00 UTC, 18:00 in Tokyo: sales has just closed.
CONFIG = (
    TEST_CONFIG.replace(
        'routing = "least-active"',
        'routing = "least-active"\noffer_seconds = 30\nmax_wait_minutes = 10\nmax_queue = 3',
    ).replace(
        'routing = "manual"',
        'routing = "manual"\nhours = { ja = "tokyo-office" }',
    )
    + '\n[hours.tokyo-office]\ntime_zone = "Asia/Tokyo"\nweekdays = ["10:00-18:00"]\n'
    'holidays = "JP"\n'
)


@pytest.fixture
def desk(backend: str, databases: DatabaseFactory, clock: FakeClock) -> Iterator[LiveServer]:
    live = LiveServer(databases.new(backend), config=CONFIG, clock=clock).start()
    yield live
    live.stop()
    databases.release(live.database_url)


async def visitor_socket(visitor: Visitor, stack: AsyncExitStack) -> Socket:
    socket = await visitor.connect()
    stack.push_async_callback(socket.close)
    return socket


async def test_an_offered_chat_waits_for_the_operator_to_accept(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato")
    async with Visitor(desk.url) as visitor:
        conv = await visitor.start()
        assert conv["status"] == "waiting"  # offered, not yet taken
        offered = await sato_ws.expect("offered")
        assert offered["conversation"]["id"] == conv["id"]
        assert offered["expires_at"] == "2026-04-01T09:00:30.000Z"
        offers = (await sato.http.get("/api/v1/agent/offers")).json()["offers"]
        assert [o["conversation"]["id"] for o in offers] == [conv["id"]]
        accepted = await sato.http.post(f"/api/v1/agent/conversations/{conv['id']}/accept")
        assert accepted.json()["status"] == "active"
        await sato_ws.expect("assigned")


async def test_a_lapsed_offer_moves_to_the_next_operator_and_not_back(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    first, first_ws = await online(desk, stack, "First")
    _, second_ws = await online(desk, stack, "Second")
    async with Visitor(desk.url) as visitor:
        conv = await visitor.start()
        # Whoever got it, the other one gets it after 30 s without an answer.
        offered_first = await asyncio.wait_for(_first_offer([first_ws, second_ws]), timeout=10)
        took, other = (first_ws, second_ws) if offered_first is first_ws else (second_ws, first_ws)
        fire_timers(desk, clock, 29)
        assert desk.call(_offered_to, desk, conv["id"]) is not None
        fire_timers(desk, clock, 1)
        withdrawn = await took.expect("offer_withdrawn")
        assert (withdrawn["conversation_id"], withdrawn["reason"]) == (conv["id"], "lapsed")
        assert (await other.expect("offered"))["conversation"]["id"] == conv["id"]
        # The second lapses too: nobody is left who has not passed, so it waits in the queue.
        fire_timers(desk, clock, 30)
        await other.expect("offer_withdrawn", reason="lapsed")
        queue = (await first.http.get("/api/v1/agent/queue")).json()["conversations"]
        assert [c["id"] for c in queue] == [conv["id"]]
        # Anyone may still take it from the queue.
        taken = await first.http.post(f"/api/v1/agent/conversations/{conv['id']}/accept")
        assert taken.json()["status"] == "active"


async def _first_offer(sockets: list[Socket]) -> Socket:
    tasks = {asyncio.ensure_future(s.expect("offered")): s for s in sockets}
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return tasks[done.pop()]


async def _offered_to(server: LiveServer, conv_id: str) -> str | None:
    from madoguchi.store import conversations as repo

    async with server.desk.db.read() as conn:
        conv = await repo.get_conversation(conn, conv_id)
    assert conv is not None
    return conv.offered_to


async def test_declining_or_going_away_moves_the_offer_on_at_once(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    a, a_ws = await online(desk, stack, "A")
    async with Visitor(desk.url) as visitor:
        conv = await visitor.start()
        await a_ws.expect("offered")
        b, b_ws = await online(desk, stack, "B")
        # Away: A gets nothing new, and the offer waiting on A goes to B.
        assert (await a.presence("away")).status_code == 200
        assert (await a_ws.expect("offer_withdrawn"))["reason"] == "unavailable"
        assert (await b_ws.expect("offered"))["conversation"]["id"] == conv["id"]
        # B declines: with A away there is nobody else, so it waits.
        declined = await b.http.post(f"/api/v1/agent/conversations/{conv['id']}/decline")
        assert declined.status_code == 204
        await b_ws.expect("offer_withdrawn", reason="declined")
        again = await b.http.post(f"/api/v1/agent/conversations/{conv['id']}/decline")
        assert (again.status_code, again.json()["error"]["code"]) == (409, "not_offered")
        # A comes back: the longest-waiting chat goes to A at once (A did not decline it).
        assert (await a.presence("online")).status_code == 200
        assert (await a_ws.expect("offered"))["conversation"]["id"] == conv["id"]


async def test_the_queue_tells_each_visitor_their_place_and_wait(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    async with Visitor(desk.url) as v1, Visitor(desk.url) as v2:
        first = await v1.start()
        clock.advance(seconds=5)
        second = await v2.start()
        ws2 = await visitor_socket(v2, stack)
        place = await ws2.expect("queue", conversation_id=second["id"])
        # Nobody is online: no honest estimate exists.
        assert (place["position"], place["wait_seconds"]) == (2, None)
        ended = await v1.http.post(f"/api/v1/visitor/conversations/{first['id']}/end", json={})
        assert ended.status_code == 200
        place = await ws2.expect("queue", conversation_id=second["id"])
        assert place["position"] == 1
        # An operator with room comes online: it is offered at once, so no wait.
        await online(desk, stack, "Sato", capacity=1)
        place = await ws2.expect("queue", conversation_id=second["id"], wait_seconds=0)
        assert place["position"] == 1


async def test_a_full_queue_says_busy_before_the_visitor_types(desk: LiveServer) -> None:
    async with Visitor(desk.url) as visitor:
        found = await _availability(visitor, "ja")
        assert _state(found, "technical") == "open"
        for topic in ("technical", "plan", "billing"):  # one live chat per topic (V16)
            await visitor.start(topic=topic)
        found = await _availability(visitor, "ja")
        assert _state(found, "technical") == "busy"
        response = await visitor.http.post(
            "/api/v1/visitor/conversations",
            json={"topic": "technical", "language": "ja", "consent": True},
        )
        assert (response.status_code, response.json()["error"]["code"]) == (503, "busy")


async def test_outside_hours_the_widget_gets_the_hours_and_a_closed_error(
    desk: LiveServer,
) -> None:
    async with Visitor(desk.url) as visitor:
        found = await _availability(visitor, "ja")
        assert _state(found, "sales") == "closed"
        sales = next(t for t in found["topics"] if t["id"] == "sales")
        # Thursday 10:00 in Tokyo.
        assert sales["next_change"] == "2026-04-02T01:00:00.000Z"
        hours = found["departments"]["sales"]["hours"]
        assert hours["ja"][0] == ["2026-04-02T01:00:00.000Z", "2026-04-02T09:00:00.000Z"]
        assert hours["en"] == []
        assert found["departments"]["sales"]["open_now"] == []
        assert found["departments"]["support"]["open_now"] == ["ja", "en"]
        response = await visitor.http.post(
            "/api/v1/visitor/conversations",
            json={"topic": "sales", "language": "ja", "consent": True},
        )
        assert response.status_code == 409
        error = response.json()["error"]
        assert (error["code"], error["details"]) == (
            "closed",
            {"opens_at": "2026-04-02T01:00:00.000Z"},
        )
        english = await _availability(visitor, "en")
        assert _state(english, "sales") == "not_served"


async def test_a_message_left_outside_hours_waits_for_an_operator(desk: LiveServer) -> None:
    sales = desk.create_operator(name="Eigyo", departments=["sales"])
    async with (
        Visitor(desk.url) as visitor,
        Operator(desk.url, sales["email"], sales["password"]) as operator,
    ):
        body = {
            "topic": "sales",
            "language": "ja",
            "consent": True,
            "name": "山田 太郎",
            "email": "taro@example.jp",
            "message": {"client_id": "m1", "body": "見積もりをお願いします"},
        }
        bad = await visitor.http.post(
            "/api/v1/visitor/offline-messages", json={**body, "email": "taro@"}
        )
        assert (bad.status_code, bad.json()["error"]["code"]) == (422, "bad_email")
        no_consent = await visitor.http.post(
            "/api/v1/visitor/offline-messages", json={**body, "consent": False}
        )
        assert no_consent.json()["error"]["code"] == "consent_required"
        left = await visitor.http.post("/api/v1/visitor/offline-messages", json=body)
        assert left.status_code == 201, left.text
        assert left.json()["status"] == "offline"
        listed = (await operator.http.get("/api/v1/agent/offline-messages")).json()
        [message] = listed["conversations"]
        assert message["prechat"]["email"] == "taro@example.jp"
        events = await operator.http.get(f"/api/v1/agent/conversations/{message['id']}/events")
        bodies = [e["body"] for e in events.json()["events"] if e["kind"] == "message"]
        assert bodies == ["見積もりをお願いします"]


async def test_nobody_in_time_turns_the_chat_into_an_offline_message(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    async with Visitor(desk.url) as visitor:
        conv = await visitor.start()
        ws = await visitor_socket(visitor, stack)
        fire_timers(desk, clock, 10 * 60 - 1)
        assert (await visitor.http.get("/api/v1/visitor/conversations")).json()["conversations"][0][
            "status"
        ] == "waiting"
        fire_timers(desk, clock, 1)
        told = await ws.event("offline")
        assert told["data"] == {"reason": "no_operator"}
        listed = (await visitor.http.get("/api/v1/visitor/conversations")).json()
        assert listed["conversations"][0]["id"] == conv["id"]
        assert listed["conversations"][0]["status"] == "offline"
        # It left the queue: an operator coming online is not offered it.
        sato, _ = await online(desk, stack, "Sato")
        queue = (await sato.http.get("/api/v1/agent/queue")).json()["conversations"]
        assert queue == []


def _state(found: dict[str, object], topic: str) -> str:
    topics = found["topics"]
    assert isinstance(topics, list)
    return str(next(t for t in topics if t["id"] == topic)["state"])


async def _availability(visitor: Visitor, language: str) -> dict[str, object]:
    response = await visitor.http.get(f"/api/v1/visitor/availability?language={language}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_console_gone_longer_than_the_grace_sets_its_operator_offline(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    gone, gone_ws = await online(desk, stack, "Gone")

    async def status() -> str:
        return str((await gone.http.get("/api/v1/agent/me")).json()["operator"]["status"])

    # A reload: the console closes and opens again within the grace; nothing changes.
    await gone_ws.close()
    await _consoles(desk, gone.me["id"], 0)
    again = await gone.connect()
    stack.push_async_callback(again.close)
    fire_timers(desk, clock, 45)
    assert await status() == "online"
    # The browser is closed for good: the operator stays online for the grace (a network
    # blip), then is offline, and gets nothing new.
    await again.close()
    await _consoles(desk, gone.me["id"], 0)
    fire_timers(desk, clock, 44)
    assert await status() == "online"
    fire_timers(desk, clock, 1)
    assert await status() == "offline"
    _, other_ws = await online(desk, stack, "Other")
    async with Visitor(desk.url) as visitor:
        conv = await visitor.start()
        assert (await other_ws.expect("offered"))["conversation"]["id"] == conv["id"]


async def _consoles(server: LiveServer, operator_id: str, count: int) -> None:
    """Wait until the node counts ``count`` open consoles of the operator."""
    for _ in range(500):
        if server.app.state.consoles.get(operator_id, 0) == count:
            return
        await asyncio.sleep(0.01)  # the node handles the close on its own thread
    raise AssertionError(f"the node does not count {count} consoles")
