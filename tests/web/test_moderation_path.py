"""Moderation on the message path (SPEC P8, P9, P10): what each side sees, on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest

from clients import Operator, Socket, Visitor
from conftest import TEST_CONFIG, DatabaseFactory, LiveServer, online

CARD = "4111 1111 1111 1111"
# サービスについて質問です sent as UTF-8 but read as Latin-1 on the way: each byte survived, so
# the exact text can be offered back. Read as CP932 (the Windows case) bytes are lost: no repair.
ORIGINAL = "サービスについて質問です"
GARBLED = ORIGINAL.encode("utf-8").decode("latin-1")
LOSSY = ORIGINAL.encode("utf-8").decode("cp932", errors="replace")
BLOCKING = TEST_CONFIG + '\n[moderation]\nblocked_hosts = ["evil.example", "10.0.0.0/8"]\n'


@pytest.fixture
def desk(backend: str, databases: DatabaseFactory) -> Iterator[LiveServer]:
    live = LiveServer(databases.new(backend), config=BLOCKING).start()
    yield live
    live.stop()
    databases.release(live.database_url)


async def chat(
    desk: LiveServer, stack: AsyncExitStack
) -> tuple[Operator, Socket, Visitor, Socket, str]:
    operator, op_ws = await online(desk, stack, "佐藤")
    visitor = await stack.enter_async_context(Visitor(desk.url))
    conv = await visitor.start()
    ws = await visitor.connect(resume={conv["id"]: 0})
    stack.push_async_callback(ws.close)
    await op_ws.expect("assigned")
    return operator, op_ws, visitor, ws, conv["id"]


def send(conv_id: str, body: str) -> dict[str, Any]:
    return {
        "type": "send",
        "conversation_id": conv_id,
        "client_id": str(uuid.uuid4()),
        "body": body,
    }


async def events(client: Visitor | Operator, conv_id: str, role: str) -> list[dict[str, Any]]:
    response = await client.http.get(f"/api/v1/{role}/conversations/{conv_id}/events")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["events"]
    return found


async def test_garbled_text_is_refused_with_the_repair_and_never_reaches_the_operator(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    operator, op_ws, visitor, ws, conv_id = await chat(desk, stack)
    frame = send(conv_id, GARBLED)
    await ws.send(frame)
    error = await ws.expect("error")
    assert error["code"] == "garbled_text"
    assert error["client_id"] == frame["client_id"]
    assert error["details"] == {"kind": "utf8_as_latin1", "repaired": ORIGINAL}
    await ws.send(send(conv_id, LOSSY))
    assert (await ws.expect("error"))["details"] == {"kind": "utf8_as_cp932"}

    response = await visitor.http.post(
        f"/api/v1/visitor/conversations/{conv_id}/messages",
        json={"client_id": "rest-1", "body": "ï¿½ï¿½ï¿½ï¿½ï¿½"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "garbled_text"

    # The visitor sends the repaired text; the operator gets that and nothing before it.
    await ws.send(send(conv_id, ORIGINAL))
    got = await op_ws.event("message", body=ORIGINAL)
    assert got["body"] == ORIGINAL
    bodies = [e["body"] for e in await events(operator, conv_id, "agent") if e["kind"] == "message"]
    assert bodies == ["こんにちは", ORIGINAL]


async def test_a_garbled_first_message_starts_no_chat(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    visitor = await stack.enter_async_context(Visitor(desk.url))
    response = await visitor.http.post(
        "/api/v1/visitor/conversations",
        json={
            "topic": "technical",
            "language": "ja",
            "consent": True,
            "message": {"client_id": "first", "body": GARBLED},
        },
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"]["repaired"] == ORIGINAL
    listed = await visitor.http.get("/api/v1/visitor/conversations")
    assert listed.json()["conversations"] == []


async def test_card_numbers_are_masked_before_storage_and_the_sender_sees_why(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    operator, op_ws, _, ws, conv_id = await chat(desk, stack)
    await ws.send(send(conv_id, f"カード番号は {CARD} です"))
    mine = await ws.event("message", body="カード番号は **** **** **** 1111 です")
    assert mine["data"]["masked_cards"] == 1
    theirs = await op_ws.event("message", seq=mine["seq"])
    assert theirs["body"] == "カード番号は **** **** **** 1111 です"

    # The operator's side is masked too: a card number has no place in a chat.
    await op_ws.send(send(conv_id, "Test card: 4242-4242-4242-4242"))
    assert (await ws.event("message", body="Test card: ****-****-****-4242"))["data"] == {
        "masked_cards": 1
    }
    stored = " ".join(e["body"] or "" for e in await events(operator, conv_id, "agent"))
    assert "**** 1111" in stored
    assert "4111" not in stored
    assert "4242-4242" not in stored


async def test_links_to_blocked_hosts_are_refused_however_they_are_written(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    operator, op_ws, _, ws, conv_id = await chat(desk, stack)
    for body, host in [
        ("こちら http://EVIL.example./payload.exe をどうぞ", "evil.example"),
        ("ｈｔｔｐｓ：／／ｄｌ．ｅｖｉｌ．ｅｘａｍｐｌｅ/x", "dl.evil.example"),
        ("http://support.example.com@evil.example/login", "evil.example"),
        ("http://167772161/admin", "10.0.0.1"),
    ]:
        await ws.send(send(conv_id, body))
        error = await ws.expect("error")
        assert (error["code"], error["details"]["host"]) == ("blocked_link", host), body
    await op_ws.send(send(conv_id, "see evil.example"))
    assert (await op_ws.expect("error"))["code"] == "blocked_link"

    await ws.send(
        send(conv_id, "マニュアルは https://docs.example.com/設定 です。javascript:alert(1) は?")
    )
    await ws.expect("ack")
    got = await op_ws.event("message")
    assert got["data"]["links"] == [
        {
            "text": "https://docs.example.com/設定",
            "url": "https://docs.example.com/設定",
            "host": "docs.example.com",
        }
    ]
    kinds = [e["kind"] for e in await events(operator, conv_id, "agent")]
    assert kinds.count("message") == 2  # the greeting and the one allowed


async def test_abuse_words_flag_the_message_to_operators_only(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    operator, op_ws, visitor, ws, conv_id = await chat(desk, stack)
    await ws.send(send(conv_id, "ﾊﾞｶじゃないの!"))
    message = await op_ws.event("message", body="ﾊﾞｶじゃないの!")
    flag = await op_ws.event("flagged")
    assert flag["data"] == {"seq": message["seq"], "words": ["バカ"]}
    # The visitor's side keeps the seq but learns nothing (a hidden placeholder).
    hidden = await ws.event("hidden")
    assert hidden["seq"] == flag["seq"]
    assert hidden["data"] == {}
    assert hidden["body"] is None
    visitor_view = await events(visitor, conv_id, "visitor")
    assert "flagged" not in [e["kind"] for e in visitor_view]
    assert "バカ" not in str([e["data"] for e in visitor_view])

    # The operator may end the chat for prohibited content.
    ended = await operator.http.post(
        f"/api/v1/agent/conversations/{conv_id}/end", json={"reason": "prohibited"}
    )
    assert ended.status_code == 200, ended.text
    assert (await ws.event("ended"))["data"]["reason"] == "prohibited"

    # A word inside a harmless one is not flagged; operators' own words are not screened.
    operator2, op2_ws, _, ws2, conv2 = await chat(desk, stack)
    await ws2.send(send(conv2, "バカンスの予約サイトです"))
    await op2_ws.event("message", body="バカンスの予約サイトです")
    after = await events(operator2, conv2, "agent")
    assert "flagged" not in [e["kind"] for e in after]
