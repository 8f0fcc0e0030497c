"""Identity over REST (SPEC V4): verified members, plans without chat, unverified visitors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from clients import Operator, Visitor
from clock import FakeClock
from conftest import PASSWORD, DatabaseFactory, LiveServer
from identity_desk import DOCS_EN, DOCS_JA, FORUM, PREVIOUS, SECRET, IdentityServer, token

NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def node(backend: str, databases: DatabaseFactory) -> Iterator[IdentityServer]:
    """A node that verifies tokens of the current secret and the previous one (a rotation)."""
    live = IdentityServer(
        databases.new(backend), secrets=(SECRET, PREVIOUS), clock=FakeClock(NOW)
    ).start()
    yield live
    live.stop()
    databases.release(live.database_url)


async def _as_operator(node: LiveServer, path: str) -> Any:
    account = node.create_operator(name="Sato")
    async with Operator(node.url, account["email"], PASSWORD) as operator:
        response = await operator.http.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_verified_member_is_shown_to_the_operator_with_their_plan(
    node: IdentityServer,
) -> None:
    async with Visitor(node.url) as visitor:
        started = await visitor.start(
            identity=token("M-1001", "business", now=NOW), prechat={"contract_name": "ACME"}
        )
        assert "visitor" not in started
        mine = await visitor.http.get("/api/v1/visitor/conversations")
    assert "visitor" not in mine.json()["conversations"][0]
    seen = await _as_operator(node, f"/api/v1/agent/conversations/{started['id']}")
    assert seen["visitor"] == {
        "id": visitor.visitor_id,
        "verified": True,
        "member_id": "M-1001",
        "plan": "business",
    }
    assert seen["prechat"]["member_id"] is None
    queue = await _as_operator(node, "/api/v1/agent/queue")
    assert queue["conversations"][0]["visitor"]["member_id"] == "M-1001"


async def test_a_token_of_the_previous_secret_verifies_during_a_rotation(
    node: IdentityServer,
) -> None:
    async with Visitor(node.url) as visitor:
        started = await visitor.start(identity=token("M-7", "pro", now=NOW, secret=PREVIOUS))
    seen = await _as_operator(node, f"/api/v1/agent/conversations/{started['id']}")
    assert seen["visitor"]["verified"] is True
    assert seen["visitor"]["member_id"] == "M-7"


async def test_without_a_token_the_typed_member_id_stays_unverified(node: IdentityServer) -> None:
    async with Visitor(node.url) as visitor:
        started = await visitor.start(prechat={"member_id": "M-1001"})
    seen = await _as_operator(node, f"/api/v1/agent/conversations/{started['id']}")
    assert seen["visitor"]["verified"] is False
    assert seen["visitor"]["member_id"] is None
    assert seen["prechat"]["member_id"] == "M-1001"


@pytest.mark.parametrize(
    ("language", "docs"),
    [("ja", DOCS_JA), ("en", DOCS_EN), (None, DOCS_JA), ("tlh", DOCS_JA)],
)
async def test_the_frame_learns_before_typing_that_a_plan_has_no_chat(
    node: IdentityServer, language: str | None, docs: str
) -> None:
    body: dict[str, Any] = {"token": token("M-5", "lite", now=NOW)}
    if language:
        body["language"] = language
    async with httpx.AsyncClient(base_url=node.url) as client:
        response = await client.post("/api/v1/visitor/identity", json=body)
    assert response.status_code == 200
    assert response.json() == {
        "verified": True,
        "member_id": "M-5",
        "plan": "lite",
        "chat_allowed": False,
        "links": [{"kind": "docs", "url": docs}, {"kind": "forum", "url": FORUM}],
    }


async def test_the_frame_learns_a_member_may_chat_and_without_a_token_anyone_may(
    node: IdentityServer,
) -> None:
    async with httpx.AsyncClient(base_url=node.url) as client:
        member = await client.post(
            "/api/v1/visitor/identity", json={"token": token("M-6", "pro", now=NOW)}
        )
        nobody = await client.post("/api/v1/visitor/identity", json={})
        bad = await client.post("/api/v1/visitor/identity", json={"token": "v1.x.y", "x": 1})
    assert member.json() == {
        "verified": True,
        "member_id": "M-6",
        "plan": "pro",
        "chat_allowed": True,
        "links": [],
    }
    assert nobody.json() == {"verified": False, "chat_allowed": True, "links": []}
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "bad_request"


async def test_a_plan_without_chat_may_not_start_a_chat_nor_leave_a_message(
    node: IdentityServer,
) -> None:
    lite = token("M-5", "lite", now=NOW)
    async with Visitor(node.url) as visitor:
        start = await visitor.http.post(
            "/api/v1/visitor/conversations",
            json={"topic": "technical", "language": "en", "consent": True, "identity": lite},
        )
        leave = await visitor.http.post(
            "/api/v1/visitor/offline-messages",
            json={
                "topic": "technical",
                "language": "ja",
                "consent": True,
                "name": "田中",
                "email": "tanaka@example.com",
                "message": {"client_id": str(uuid.uuid4()), "body": "質問です"},
                "identity": lite,
            },
        )
        listed = await visitor.http.get("/api/v1/visitor/conversations")
    assert start.status_code == 403
    assert start.json()["error"]["code"] == "plan_without_chat"
    assert start.json()["error"]["details"]["links"][0] == {"kind": "docs", "url": DOCS_EN}
    assert leave.status_code == 403
    assert leave.json()["error"]["code"] == "plan_without_chat"
    assert listed.json()["conversations"] == []  # nothing was stored


async def test_an_offline_message_keeps_the_verified_member(node: IdentityServer) -> None:
    async with Visitor(node.url) as visitor:
        response = await visitor.http.post(
            "/api/v1/visitor/offline-messages",
            json={
                "topic": "technical",
                "language": "ja",
                "consent": True,
                "name": "田中",
                "email": "tanaka@example.com",
                "message": {"client_id": str(uuid.uuid4()), "body": "質問です"},
                "identity": token("M-8", "pro", now=NOW),
            },
        )
    assert response.status_code == 201, response.text
    offline = await _as_operator(node, "/api/v1/agent/offline-messages")
    assert offline["conversations"][0]["visitor"]["member_id"] == "M-8"
    assert offline["conversations"][0]["visitor"]["plan"] == "pro"


async def test_a_desk_without_a_secret_trusts_no_token(server: LiveServer) -> None:
    """The plain test desk has no MADOGUCHI_IDENTITY_SECRET: every token is unverified."""
    good = token("M-1", "pro", lifetime=timedelta(minutes=5))
    async with Visitor(server.url) as visitor:
        started = await visitor.start(identity=good)
        answer = await visitor.http.post("/api/v1/visitor/identity", json={"token": good})
    assert answer.json() == {"verified": False, "chat_allowed": True, "links": []}
    seen = await _as_operator(server, f"/api/v1/agent/conversations/{started['id']}")
    assert seen["visitor"]["verified"] is False
