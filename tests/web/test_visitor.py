"""The chat frame's REST API: bad inputs are refused with a code and store nothing."""

from __future__ import annotations

import httpx
import pytest

from clients import Visitor
from conftest import LiveServer


async def test_config_lists_topics_languages_and_policy_links(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        config = (await client.get("/api/v1/visitor/config")).json()
    assert config["languages"] == ["ja", "en"]
    assert [t["id"] for t in config["topics"]] == [
        "technical",
        "plan",
        "billing",
        "affiliate",
        "sales",
    ]
    assert config["topics"][0]["label"]["ja"] == "技術的な質問"
    assert config["company"]["privacy_policy_url"]
    assert config["limits"]["message_max_chars"] == 2000


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"topic": "technical", "language": "ja", "consent": False}, 400, "consent_required"),
        ({"topic": "technical", "language": "ja"}, 400, "consent_required"),
        ({"topic": "astrology", "language": "ja", "consent": True}, 400, "unknown_topic"),
        ({"topic": "technical", "language": "tlh", "consent": True}, 400, "unknown_language"),
        ({"topic": "technical", "consent": True}, 400, "bad_request"),
        (
            {
                "topic": "technical",
                "language": "ja",
                "consent": True,
                "prechat": {"member_id": "9" * 201},
            },
            400,
            "bad_request",
        ),
        (
            {
                "topic": "technical",
                "language": "ja",
                "consent": True,
                "message": {"client_id": "a", "body": " "},
            },
            400,
            "empty_message",
        ),
        (
            {"topic": "technical", "language": "ja", "consent": True, "surprise": 1},
            400,
            "bad_request",
        ),
    ],
)
async def test_bad_starts_are_refused_and_store_nothing(
    server: LiveServer, body: dict[str, object], status: int, code: str
) -> None:
    async with Visitor(server.url) as visitor:
        response = await visitor.http.post("/api/v1/visitor/conversations", json=body)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
        assert response.json()["error"]["message"]
        listed = await visitor.http.get("/api/v1/visitor/conversations")
        assert listed.json()["conversations"] == []


async def test_a_body_that_is_not_json_is_a_bad_request(server: LiveServer) -> None:
    async with Visitor(server.url) as visitor:
        response = await visitor.http.post(
            "/api/v1/visitor/conversations",
            content=b"{topic: technical",
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


async def test_optional_fields_are_really_optional(server: LiveServer) -> None:
    async with Visitor(server.url) as visitor:
        response = await visitor.http.post(
            "/api/v1/visitor/conversations",
            json={"topic": "billing", "language": "en", "consent": True},
        )
        assert response.status_code == 201
        conv = response.json()
        assert (conv["topic"], conv["department"], conv["language"]) == ("billing", "support", "en")
        assert "prechat" not in conv  # the visitor's view carries no operator-only fields
        assert "visitor" not in conv


@pytest.mark.parametrize("token", [None, "garbage", "v1.v_abc.bad-signature"])
async def test_visitor_endpoints_need_a_valid_token(server: LiveServer, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as client:
        response = await client.get("/api/v1/visitor/conversations")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_a_visitor_can_keep_several_conversations(server: LiveServer) -> None:
    async with Visitor(server.url) as visitor:
        technical = await visitor.start(topic="technical")
        billing = await visitor.start(topic="billing")
        listed = (await visitor.http.get("/api/v1/visitor/conversations")).json()["conversations"]
        assert {c["id"] for c in listed} == {technical["id"], billing["id"]}
