"""The post-chat survey over HTTP (SPEC V12): one answer per ended chat, seen by operators."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from clients import Operator, Socket, Visitor
from clock import FakeClock
from conftest import TEST_CONFIG, DatabaseFactory, LiveServer, online
from madoguchi.services import retention

COMMENT = "とても丁寧に対応していただきました。\nありがとうございます。"


@pytest.fixture
def desk(backend: str, databases: DatabaseFactory, clock: FakeClock) -> Iterator[LiveServer]:
    live = LiveServer(databases.new(backend), clock=clock).start()
    yield live
    live.stop()
    databases.release(live.database_url)


async def chat_with(
    server: LiveServer, stack: AsyncExitStack, operator_ws: Socket
) -> tuple[Visitor, dict[str, Any]]:
    visitor = await stack.enter_async_context(Visitor(server.url))
    conv = await visitor.start()
    assert (await operator_ws.expect("assigned"))["conversation"]["id"] == conv["id"]
    return visitor, conv


async def end(operator: Operator, conv: dict[str, Any], reason: str = "resolved") -> None:
    response = await operator.http.post(
        f"/api/v1/agent/conversations/{conv['id']}/end", json={"reason": reason}
    )
    assert response.status_code == 200, response.text


async def rate(visitor: Visitor, conv: dict[str, Any], body: Any) -> httpx.Response:
    return await visitor.http.post(f"/api/v1/visitor/conversations/{conv['id']}/survey", json=body)


def error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def test_the_visitor_rates_an_ended_chat_and_its_operator_sees_it(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato")
    visitor, conv = await chat_with(desk, stack, sato_ws)
    await end(sato, conv)
    listed = (await visitor.http.get("/api/v1/visitor/conversations")).json()["conversations"]
    assert [(c["id"], c["rated"]) for c in listed] == [(conv["id"], False)]

    answered = await rate(visitor, conv, {"rating": 4, "comment": f"  {COMMENT}  "})

    assert answered.status_code == 201, answered.text
    assert (answered.json()["id"], answered.json()["rated"]) == (conv["id"], True)
    assert "rating" not in answered.json()  # the visitor's own view carries no score back
    told = await sato_ws.expect("rated", conversation_id=conv["id"])
    assert told["rating"] == {"score": 4, "comment": COMMENT, "at": "2026-04-01T09:00:00.000Z"}
    seen = (await sato.http.get(f"/api/v1/agent/conversations/{conv['id']}")).json()
    assert seen["rating"] == told["rating"]
    listed = (await visitor.http.get("/api/v1/visitor/conversations")).json()["conversations"]
    assert listed[0]["rated"] is True
    # Stored with operator, department and language: they are the conversation's own.
    assert (seen["operator"]["name"], seen["department"], seen["language"]) == (
        "Sato",
        "support",
        "ja",
    )
    # One answer per chat.
    assert error(await rate(visitor, conv, {"rating": 1})) == (409, "already_rated")
    assert (await sato.http.get(f"/api/v1/agent/conversations/{conv['id']}")).json()["rating"][
        "score"
    ] == 4


async def test_a_follow_up_can_be_rated_and_supervisors_see_the_average_per_department(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato", capacity=3)
    first, one = await chat_with(desk, stack, sato_ws)
    second, two = await chat_with(desk, stack, sato_ws)
    await end(sato, one)
    await end(sato, two, reason="other_channel")  # stays open as a follow-up (A7)
    assert (await sato.http.get(f"/api/v1/agent/conversations/{two['id']}")).json()[
        "status"
    ] == "follow_up"

    assert (await rate(first, one, {"rating": 5})).status_code == 201
    assert (await rate(second, two, {"rating": 2, "comment": ""})).status_code == 201

    assert (await sato_ws.expect("rated", conversation_id=two["id"]))["rating"]["comment"] is None
    boss, _ = await online(desk, stack, "Boss", role="supervisor")
    overview = (await boss.http.get("/api/v1/agent/supervisor/overview")).json()
    ratings = {d["id"]: d["rating"] for d in overview["departments"]}
    assert ratings == {
        "support": {"average": 3.5, "count": 2, "days": 30},
        "sales": {"average": None, "count": 0, "days": 30},
    }


async def test_every_bad_answer_gets_its_status_and_code(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato")
    visitor, conv = await chat_with(desk, stack, sato_ws)
    stranger = await stack.enter_async_context(Visitor(desk.url))
    anonymous = await stack.enter_async_context(httpx.AsyncClient(base_url=desk.url))

    # While the chat is live it cannot be rated yet.
    assert error(await rate(visitor, conv, {"rating": 5})) == (409, "not_ended")
    await end(sato, conv)
    for bad in (0, 6, -1, 4.5, 4.0, "4", True, None, [4], {"score": 4}):
        assert error(await rate(visitor, conv, {"rating": bad})) == (422, "bad_rating"), bad
    too_long = "あ" * 2001  # the default survey.comment_max_chars is 2000
    assert error(await rate(visitor, conv, {"rating": 4, "comment": too_long})) == (
        413,
        "comment_too_long",
    )
    assert error(await rate(visitor, conv, {"rating": 4, "comment": 42})) == (400, "bad_request")
    assert error(await rate(visitor, conv, {"rating": 4, "comment": "a\x00b"})) == (
        400,
        "bad_request",
    )
    assert error(await rate(visitor, conv, {"comment": "no rating"})) == (400, "bad_request")
    assert error(await rate(visitor, conv, {"rating": 4, "stars": 4})) == (400, "bad_request")
    # Another visitor's chat, or none at all, is not found; no token is unauthorized.
    assert error(await rate(stranger, conv, {"rating": 4})) == (404, "not_found")
    assert error(await rate(visitor, {"id": "c_nothere"}, {"rating": 4})) == (404, "not_found")
    url = f"/api/v1/visitor/conversations/{conv['id']}/survey"
    assert error(await anonymous.post(url, json={"rating": 4})) == (401, "unauthorized")
    # An operator has no visitor token: the survey is the visitor's.
    assert error(await sato.http.post(url, json={"rating": 4})) == (401, "unauthorized")
    # Nothing of the refused answers was kept: the first good one is stored.
    assert (await rate(visitor, conv, {"rating": 3, "comment": "a" * 2000})).status_code == 201


async def test_a_chat_no_operator_handled_cannot_be_rated(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    visitor = await stack.enter_async_context(Visitor(desk.url))
    conv = await visitor.start()  # nobody is online: it waits
    assert error(await rate(visitor, conv, {"rating": 1})) == (409, "not_ended")
    left = await visitor.http.post(f"/api/v1/visitor/conversations/{conv['id']}/end", json={})
    assert left.json()["status"] == "ended"
    assert error(await rate(visitor, conv, {"rating": 1})) == (409, "no_operator")


async def test_after_erasure_the_survey_is_gone_but_a_given_rating_stays(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato", capacity=3)
    rated_visitor, rated = await chat_with(desk, stack, sato_ws)
    late_visitor, late = await chat_with(desk, stack, sato_ws)
    await end(sato, rated)
    await end(sato, late)
    assert (await rate(rated_visitor, rated, {"rating": 5, "comment": COMMENT})).status_code == 201

    for conv in (rated, late):
        assert desk.call(retention.do_erase, desk.desk, conv["id"]) is True

    assert error(await rate(late_visitor, late, {"rating": 4})) == (410, "erased")
    kept = (await sato.http.get(f"/api/v1/agent/conversations/{rated['id']}")).json()["rating"]
    assert (kept["score"], kept["comment"]) == (5, None)  # the comment was content


async def test_a_desk_without_the_survey_refuses_answers(
    backend: str, databases: DatabaseFactory, stack: AsyncExitStack
) -> None:
    config = TEST_CONFIG + "\n[survey]\nenabled = false\n"
    server = LiveServer(databases.new(backend), config=config, clock=FakeClock()).start()
    try:
        sato, sato_ws = await online(server, stack, "Sato")
        visitor, conv = await chat_with(server, stack, sato_ws)
        await end(sato, conv)
        config_seen = (await visitor.http.get("/api/v1/visitor/config")).json()
        assert config_seen["survey"] == {"enabled": False, "comment_max_chars": 2000}
        assert error(await rate(visitor, conv, {"rating": 5})) == (404, "survey_disabled")
    finally:
        await stack.aclose()
        server.stop()
        databases.release(server.database_url)
