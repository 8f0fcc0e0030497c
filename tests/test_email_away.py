"""Away (SPEC V9): what an operator writes while the visitor has no live connection reaches
them by email, once, with a signed, expiring link back into the same conversation; a visitor
who is there, or comes back quickly, gets no mail (docs/email.md, "Away").

A node on a fake clock and a real SMTP server; "no mail" is read from the outbox, the durable
record of every mail, right after the timers that could have queued one have run.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from clients import Operator, Socket, Visitor
from clock import FakeClock
from conftest import DatabaseFactory, LiveServer, fire_timers, online
from madoguchi.store import outbox, visitor_sockets
from mailboxes import Mailbox, email_config, html_of, text_of

ADDRESS = "hanako@example.jp"
DELAY = 60  # [email] away_delay_seconds, the default
ALIVE = 50  # two heartbeats: a socket whose client said nothing for this long has lapsed


@pytest.fixture
def away_server(
    backend: str, databases: DatabaseFactory, mailbox: Mailbox, clock: FakeClock
) -> Iterator[LiveServer]:
    """A node on each backend, on a fake clock, whose mail goes to ``mailbox``."""
    live = LiveServer(
        databases.new(backend), config=email_config(mailbox.port), clock=clock
    ).start()
    yield live
    live.stop()
    databases.release(live.database_url)


def away_mails(server: LiveServer, conversation_id: str) -> list[outbox.Mail]:
    async def read() -> list[outbox.Mail]:
        async with server.desk.db.read() as conn:
            mails = await outbox.list_for_conversation(conn, conversation_id)
        return [mail for mail in mails if mail.kind == "away"]

    return server.call(read)


def wait_socket_rows(server: LiveServer, conversation_id: str, count: int) -> None:
    """Until the node has recorded ``count`` visitor sockets of the conversation (it records
    a closed socket's end just after the close)."""

    async def rows() -> int:
        async with server.desk.db.read() as conn:
            return len(await visitor_sockets.list_for(conn, conversation_id))

    for _ in range(500):
        if server.call(rows) == count:
            return
        server.call(asyncio.sleep, 0.01)
    raise AssertionError(f"the conversation has not {count} socket rows")


async def chatting(
    server: LiveServer, stack: AsyncExitStack, **start: Any
) -> tuple[Operator, Visitor, dict[str, Any]]:
    """An operator and a visitor (who gave an address) in a chat, the visitor not connected."""
    operator, operator_ws = await online(server, stack, "佐藤")
    visitor = await stack.enter_async_context(Visitor(server.url))
    conv = await visitor.start(prechat={"email": ADDRESS}, **start)
    assert (await operator_ws.expect("assigned"))["conversation"]["id"] == conv["id"]
    return operator, visitor, conv


async def write(operator: Operator, conv: dict[str, Any], body: str) -> int:
    response = await operator.http.post(
        f"/api/v1/agent/conversations/{conv['id']}/messages",
        json={"client_id": str(uuid.uuid4()), "body": body},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["seq"])


async def ping(socket: Socket) -> None:
    await socket.send({"type": "ping", "t": 7})
    await socket.expect("pong", t=7)


def link_token(mail_text: str) -> tuple[str, str]:
    """The link back in a mail: its URL without the fragment, and the token in the fragment."""
    [url] = [line for line in mail_text.splitlines() if "#return=" in line]
    parts = urlsplit(url.strip())
    assert parts.fragment.startswith("return=")
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parts.fragment.removeprefix("return=")


async def test_a_reply_while_the_visitor_is_away_is_mailed_once_with_a_link_back(
    away_server: LiveServer, mailbox: Mailbox, clock: FakeClock, stack: AsyncExitStack
) -> None:
    operator, visitor, conv = await chatting(
        away_server, stack, context={"time_zone": "Asia/Tokyo"}
    )
    socket = await visitor.connect()
    await socket.event("message", body="こんにちは")
    await socket.close()  # the visitor closed the window
    wait_socket_rows(away_server, conv["id"], 0)
    await write(operator, conv, "お調べします。")
    fire_timers(away_server, clock, 30)
    await write(operator, conv, "DNS の設定を変更してください。")  # the wait does not restart
    fire_timers(away_server, clock, DELAY - 31)
    assert away_mails(away_server, conv["id"]) == []  # not yet: a quick return sends nothing
    fire_timers(away_server, clock, 2)
    [queued] = away_mails(away_server, conv["id"])
    assert queued.to_address == ADDRESS
    # The operator reads that the visitor was mailed; the visitor's side holds no such line.
    seen = await operator.http.get(f"/api/v1/agent/conversations/{conv['id']}/events")
    [note] = [e for e in seen.json()["events"] if e["kind"] == "away_mailed"]
    assert note["data"] == {"messages": 2}

    [mail] = await asyncio.to_thread(mailbox.wait_for, 1, where=lambda m: "返信" in m["Subject"])
    assert mail["To"] == ADDRESS
    assert mail["Subject"] == "[madoguchi] チャットに返信があります（技術的な質問）"
    text = text_of(mail)
    assert "チャットを離れている間に、佐藤から返信がありました。" in text
    assert text.index("お調べします。") < text.index("DNS の設定を変更してください。")
    assert "こんにちは" not in text  # the visitor's own words are not "unread"
    assert "このメールにご返信いただくと" in text  # replies by email reach the chat
    page, token = link_token(text)
    assert page == f"{away_server.url}/chat"
    assert f"#return={token}" in html_of(mail)
    expires = (clock() + timedelta(days=7)).astimezone().strftime("%Y-%m-%d")
    assert f"{expires}" in text
    assert "まで同じお問い合わせを開けます" in text

    # Later timers find nothing new to send: one mail for those two messages.
    fire_timers(away_server, clock, 300)
    assert len(away_mails(away_server, conv["id"])) == 1

    # The link opens the same conversation, in a browser that has no session of its own.
    async with Visitor(away_server.url, token="none") as stranger:
        del stranger.http.headers["Authorization"]
        back = await stranger.http.post("/api/v1/visitor/return", json={"token": token})
    assert back.status_code == 200, back.text
    assert back.json()["conversation_id"] == conv["id"]
    assert back.json()["visitor_id"] == visitor.visitor_id
    returned = await stack.enter_async_context(Visitor(away_server.url, back.json()["token"]))
    listed = (await returned.http.get("/api/v1/visitor/conversations")).json()["conversations"]
    assert [c["id"] for c in listed] == [conv["id"]]
    events = await returned.http.get(f"/api/v1/visitor/conversations/{conv['id']}/events")
    bodies = [e.get("body") for e in events.json()["events"]]
    assert "DNS の設定を変更してください。" in bodies
    assert "away_mailed" not in [e["kind"] for e in events.json()["events"]]
    socket = await returned.connect()
    await socket.event("message", body="DNS の設定を変更してください。")
    sent = await returned.http.post(
        f"/api/v1/visitor/conversations/{conv['id']}/messages",
        json={"client_id": str(uuid.uuid4()), "body": "できました！"},
    )
    assert sent.status_code == 201, sent.text
    await socket.event("message", body="できました！")
    await socket.close()


async def test_the_link_reaches_that_conversation_only(
    away_server: LiveServer, mailbox: Mailbox, clock: FakeClock, stack: AsyncExitStack
) -> None:
    operator, visitor, conv = await chatting(away_server, stack)
    other = await visitor.start(topic="billing", message="請求書について")
    await write(operator, conv, "ご確認ください。")
    fire_timers(away_server, clock, DELAY + 1)
    [mail] = await asyncio.to_thread(mailbox.wait_for, 1, where=lambda m: "返信" in m["Subject"])
    _, token = link_token(text_of(mail))
    back = await visitor.http.post("/api/v1/visitor/return", json={"token": token})
    returned = await stack.enter_async_context(Visitor(away_server.url, back.json()["token"]))

    listed = (await returned.http.get("/api/v1/visitor/conversations")).json()["conversations"]
    assert [c["id"] for c in listed] == [conv["id"]]  # not the visitor's other chat
    for path in (
        f"/conversations/{other['id']}/events",
        f"/conversations/{other['id']}/transcript",
    ):
        response = await returned.http.get(f"/api/v1/visitor{path}")
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    refused = await returned.http.post(
        f"/api/v1/visitor/conversations/{other['id']}/messages",
        json={"client_id": str(uuid.uuid4()), "body": "x"},
    )
    assert refused.status_code == 404, refused.text
    started = await returned.http.post(
        "/api/v1/visitor/conversations",
        json={"topic": "plan", "language": "ja", "consent": True},
    )
    assert started.status_code == 403, started.text
    assert started.json()["error"]["code"] == "scoped_session"
    socket = await returned.connect(resume={other["id"]: 0})
    welcome = next(f for f in socket.seen if f["type"] == "welcome")
    assert [c["id"] for c in welcome["conversations"]] == [conv["id"]]
    await ping(socket)
    assert not any(f.get("conversation_id") == other["id"] for f in socket.seen)
    await socket.close()


async def test_forged_damaged_and_expired_links_are_refused(
    away_server: LiveServer, mailbox: Mailbox, clock: FakeClock, stack: AsyncExitStack
) -> None:
    operator, _, conv = await chatting(away_server, stack)
    await write(operator, conv, "ご確認ください。")
    fire_timers(away_server, clock, DELAY + 1)
    [mail] = await asyncio.to_thread(mailbox.wait_for, 1, where=lambda m: "返信" in m["Subject"])
    _, token = link_token(text_of(mail))
    conversation_id, visitor_id, expiry, signature = token.split(".")
    intruder = await stack.enter_async_context(Visitor(away_server.url))
    forged = [
        f"{conversation_id}.{intruder.visitor_id}.{expiry}.{signature}",  # another visitor
        f"{conversation_id}.{visitor_id}.{int(expiry) + 86400 * 365}.{signature}",  # longer
        f"{conversation_id}.{visitor_id}.{expiry}.{signature[:-2]}AA",  # signed by nobody
        f"{conversation_id}.{visitor_id}.{expiry}",
        "not a token",
    ]
    for bad in forged:
        response = await intruder.http.post("/api/v1/visitor/return", json={"token": bad})
        assert response.status_code == 400, (bad, response.text)
        assert response.json()["error"]["code"] == "bad_link"
    for body in ({}, {"token": ""}, {"token": "x" * 301}, {"token": 5}):
        response = await intruder.http.post("/api/v1/visitor/return", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"] == "bad_request"
    clock.advance(timedelta(days=7, seconds=1))
    expired = await intruder.http.post("/api/v1/visitor/return", json={"token": token})
    assert expired.status_code == 410, expired.text
    assert expired.json()["error"]["code"] == "link_expired"


async def test_a_visitor_who_is_there_gets_no_mail(
    away_server: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    operator, visitor, conv = await chatting(away_server, stack)
    socket = await visitor.connect()
    wait_socket_rows(away_server, conv["id"], 1)
    await write(operator, conv, "お待たせしました。")
    await socket.event("message", body="お待たせしました。")
    for _ in range(4):  # a live client's heartbeats, every 25 s (fake time)
        fire_timers(away_server, clock, 25)
        await ping(socket)  # alive, and it had the message
    assert away_mails(away_server, conv["id"]) == []
    await socket.close()
    wait_socket_rows(away_server, conv["id"], 0)
    fire_timers(away_server, clock, 300)
    assert away_mails(away_server, conv["id"]) == []  # what it had live is not mailed later

    # Gone now: only what was written after it left goes by mail.
    await write(operator, conv, "ほかにご質問はありますか。")
    fire_timers(away_server, clock, DELAY + 1)
    [mail] = away_mails(away_server, conv["id"])
    assert "ほかにご質問はありますか。" in mail.body_text
    assert "お待たせしました。" not in mail.body_text


async def test_a_quick_reconnect_sends_nothing(
    away_server: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    operator, visitor, conv = await chatting(away_server, stack)
    socket = await visitor.connect()
    last = (await socket.event("message", body="こんにちは"))["seq"]
    await socket.close()
    wait_socket_rows(away_server, conv["id"], 0)
    await write(operator, conv, "いま確認しています。")
    fire_timers(away_server, clock, 20)
    socket = await visitor.connect(resume={conv["id"]: last})  # a page reload, say
    await socket.event("message", body="いま確認しています。")
    fire_timers(away_server, clock, DELAY - 19)
    await ping(socket)
    fire_timers(away_server, clock, ALIVE + 1)
    assert away_mails(away_server, conv["id"]) == []
    await socket.close()


async def test_a_socket_gone_silent_lapses_and_the_mail_goes(
    away_server: LiveServer, mailbox: Mailbox, clock: FakeClock, stack: AsyncExitStack
) -> None:
    """A client that vanished without closing (a laptop shut, a node killed with kill -9)
    leaves its row behind; the row lapses after two heartbeats and the mail goes."""
    operator, visitor, conv = await chatting(away_server, stack)
    socket = await visitor.connect()
    wait_socket_rows(away_server, conv["id"], 1)
    await write(operator, conv, "聞こえますか。")
    fire_timers(away_server, clock, DELAY + 1)  # the socket is open but its client is silent
    [mail] = away_mails(away_server, conv["id"])
    assert "聞こえますか。" in mail.body_text
    await socket.close()


async def test_an_answer_after_the_visitor_left_an_ended_chat_still_goes(
    away_server: LiveServer, mailbox: Mailbox, clock: FakeClock, stack: AsyncExitStack
) -> None:
    operator, _, conv = await chatting(away_server, stack)
    await write(operator, conv, "解決方法はこちらです。")
    ended = await operator.http.post(
        f"/api/v1/agent/conversations/{conv['id']}/end", json={"reason": "resolved"}
    )
    assert ended.status_code == 200, ended.text
    fire_timers(away_server, clock, DELAY + 1)
    [mail] = await asyncio.to_thread(mailbox.wait_for, 1, where=lambda m: "返信" in m["Subject"])
    text = text_of(mail)
    assert "解決方法はこちらです。" in text
    assert "このチャットはすでに終了しています" in text
    assert "このメールにご返信いただくと" not in text  # an ended chat takes no replies
    assert mail["Reply-To"] is None


async def test_no_address_no_mail(
    away_server: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    operator, operator_ws = await online(away_server, stack, "佐藤")
    visitor = await stack.enter_async_context(Visitor(away_server.url))
    conv = await visitor.start()
    await operator_ws.expect("assigned")
    await write(operator, conv, "ご質問をどうぞ。")
    fire_timers(away_server, clock, DELAY + 1)
    assert away_mails(away_server, conv["id"]) == []
