"""Outgoing mail through a real SMTP server: the offline message's acknowledgment and the
operator's answer (V8), the transcript by email (V11), retries through an outage, and no
second send after a crash (docs/email.md)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from datetime import timedelta

import pytest

from clients import Operator, Visitor
from clock import FakeClock
from conftest import DatabaseFactory, LiveServer, online
from madoguchi.store import outbox
from mailboxes import FROM, REPLY_DOMAIN, Mailbox, email_config, html_of, offline_message, text_of


@pytest.fixture
def mail_server(backend: str, databases: DatabaseFactory, mailbox: Mailbox) -> Iterator[LiveServer]:
    """A node on each backend whose mail goes to ``mailbox``, in real time."""
    live = LiveServer(databases.new(backend), config=email_config(mailbox.port)).start()
    yield live
    live.stop()
    databases.release(live.database_url)


async def _leave(server: LiveServer, stack: AsyncExitStack, **extra: object) -> dict[str, object]:
    visitor = await stack.enter_async_context(Visitor(server.url))
    response = await visitor.http.post(
        "/api/v1/visitor/offline-messages", json=offline_message(**extra)
    )
    assert response.status_code == 201, response.text
    conv: dict[str, object] = response.json()
    conv["_visitor"] = visitor
    return conv


async def test_an_offline_message_is_acknowledged_by_email(
    mail_server: LiveServer, mailbox: Mailbox, stack: AsyncExitStack
) -> None:
    message = "サーバーに接続できません。\n<script>alert(1)</script>"
    conv = await _leave(
        mail_server,
        stack,
        message={"client_id": str(uuid.uuid4()), "body": message},
    )
    [mail] = await asyncio.to_thread(mailbox.wait_for, 1)
    assert mail["To"] == "hanako@example.jp"
    assert mail["From"].addresses[0].addr_spec == FROM
    assert mail["From"].addresses[0].display_name == "madoguchi"
    assert mail["Subject"] == "[madoguchi] メッセージを受け付けました"
    assert re.fullmatch(r"<m_[\w-]+@madoguchi\.test>", mail["Message-ID"])
    assert mail["Auto-Submitted"] == "auto-generated"
    reply_to = mail["Reply-To"].addresses[0].addr_spec
    assert reply_to.startswith("reply+")
    assert reply_to.endswith("@" + REPLY_DOMAIN)
    text = text_of(mail)
    assert text.startswith("山田花子 様\n")
    assert "「技術的な質問」についてのメッセージ" in text
    assert "> サーバーに接続できません。\n> <script>alert(1)</script>" in text
    assert f"お問い合わせ番号：{conv['id']}" in text
    assert "個人情報保護ポリシー: " + mail_server.url + "/demo/privacy" in text
    html = html_of(mail)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert mailbox.envelopes[0] == (FROM, ["hanako@example.jp"])


async def test_the_operators_answer_reaches_the_visitor_by_email_once(
    mail_server: LiveServer, mailbox: Mailbox, stack: AsyncExitStack
) -> None:
    conv = await _leave(mail_server, stack)
    operator, _ = await online(mail_server, stack, "佐藤")
    await asyncio.to_thread(mailbox.wait_for, 1)
    answer = {"client_id": str(uuid.uuid4()), "body": "再起動をお試しください。\n  $ sudo reboot"}
    url = f"/api/v1/agent/conversations/{conv['id']}/email"
    first = await operator.http.post(url, json=answer)
    assert first.status_code == 201, first.text
    again = await operator.http.post(url, json=answer)  # a retry: stored and mailed once
    assert again.json() == first.json()

    mails = await asyncio.to_thread(mailbox.wait_for, 2)
    assert len(mails) == 2
    mail = mails[1]
    assert mail["Subject"] == "[madoguchi] お問い合わせへのご回答（技術的な質問）"
    assert "Auto-Submitted" not in mail
    text = text_of(mail)
    assert "佐藤よりご回答いたします" in text
    assert "再起動をお試しください。\n    $ sudo reboot" in text  # verbatim, indented
    assert "> サーバーに接続できません。" in text  # the question it answers
    # The visitor reads the answer in the widget too.
    visitor: Visitor = conv["_visitor"]  # type: ignore[assignment]
    events = (await visitor.http.get(f"/api/v1/visitor/conversations/{conv['id']}/events")).json()
    assert events["events"][-1]["body"] == answer["body"]
    assert events["events"][-1]["author"] == {"role": "operator", "name": "佐藤"}
    listed = (await operator.http.get(f"/api/v1/agent/conversations/{conv['id']}/mails")).json()
    assert [(m["kind"], m["status"]) for m in listed["mails"]] == [
        ("ack", "sent"),
        ("answer", "sent"),
    ]
    await asyncio.sleep(0)
    assert len(mailbox.messages) == 2


async def test_answering_by_email_refuses_what_it_cannot_send(
    mail_server: LiveServer, mailbox: Mailbox, stack: AsyncExitStack
) -> None:
    operator, _ = await online(mail_server, stack, "佐藤")
    visitor = await stack.enter_async_context(Visitor(mail_server.url))
    live = await visitor.start()
    url = f"/api/v1/agent/conversations/{live['id']}/email"
    body = {"client_id": str(uuid.uuid4()), "body": "回答"}
    refused = await operator.http.post(url, json=body)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "not_by_email"
    # A live chat ended as "needs another channel" is a follow-up, but this visitor gave no
    # address: nothing can be mailed.
    ended = await operator.http.post(
        f"/api/v1/agent/conversations/{live['id']}/end", json={"reason": "other_channel"}
    )
    assert ended.json()["status"] == "follow_up"
    no_email = await operator.http.post(url, json=body)
    assert no_email.status_code == 409
    assert no_email.json()["error"]["code"] == "no_email"
    conv = await _leave(mail_server, stack)
    empty = await operator.http.post(
        f"/api/v1/agent/conversations/{conv['id']}/email",
        json={"client_id": str(uuid.uuid4()), "body": "  \n"},
    )
    assert empty.status_code == 400
    assert empty.json()["error"]["code"] == "empty_message"
    # The visitor may mail the transcript only to their own address; without one, no_email.
    no_address = await visitor.http.post(
        f"/api/v1/visitor/conversations/{live['id']}/transcript/email",
        json={"client_id": str(uuid.uuid4())},
    )
    assert no_address.status_code == 409
    assert no_address.json()["error"]["code"] == "no_email"


async def test_the_transcript_goes_by_email_to_the_visitors_address_only(
    mail_server: LiveServer, mailbox: Mailbox, stack: AsyncExitStack
) -> None:
    conv = await _leave(mail_server, stack)
    visitor: Visitor = conv["_visitor"]  # type: ignore[assignment]
    url = f"/api/v1/visitor/conversations/{conv['id']}/transcript/email"
    request = {"client_id": str(uuid.uuid4())}
    response = await visitor.http.post(url, json=request)
    assert response.status_code == 202
    assert response.json() == {"to": "hanako@example.jp"}
    assert (await visitor.http.post(url, json=request)).status_code == 202  # a retry
    # Someone else's conversation is not found, and no address can be given.
    other = await stack.enter_async_context(Visitor(mail_server.url))
    assert (await other.http.post(url, json=request)).status_code == 404
    mails = await asyncio.to_thread(
        mailbox.wait_for, 1, where=lambda m: "チャット履歴" in str(m["Subject"])
    )
    assert len(mails) == 1
    assert mails[0]["To"] == "hanako@example.jp"
    text = text_of(mails[0])
    assert "madoguchi チャット履歴" in text
    assert "サーバーに接続できません。" in text
    assert "<pre" in html_of(mails[0])


# -- durability: an outage and a crash (fake clock) ---------------------------------------------


@pytest.fixture
def clocked(
    backend: str, databases: DatabaseFactory, clock: FakeClock
) -> Iterator[tuple[LiveServer, Mailbox]]:
    """A node on a fake clock whose relay is down until the test starts it."""
    box = Mailbox()
    live = LiveServer(databases.new(backend), config=email_config(box.port), clock=clock).start()
    yield live, box
    box.stop()
    live.stop()
    databases.release(live.database_url)


def _mails(server: LiveServer, conversation_id: str) -> list[outbox.Mail]:
    async def read() -> list[outbox.Mail]:
        async with server.desk.db.read() as conn:
            return await outbox.list_for_conversation(conn, conversation_id)

    return server.call(read)


def _wait_attempted(server: LiveServer, conversation_id: str) -> outbox.Mail:
    for _ in range(500):
        mails = _mails(server, conversation_id)
        if mails and mails[0].attempts and mails[0].status == outbox.PENDING:
            return mails[0]
        server.call(asyncio.sleep, 0.02)
    raise AssertionError(f"no failed attempt: {mails}")


async def test_mail_waits_out_an_smtp_outage_and_arrives_once(
    clocked: tuple[LiveServer, Mailbox], clock: FakeClock, stack: AsyncExitStack
) -> None:
    server, mailbox = clocked
    conv = await _leave(server, stack)  # the relay is down: the first attempt fails
    failed = await asyncio.to_thread(_wait_attempted, server, str(conv["id"]))
    assert failed.last_error is not None
    assert failed.next_attempt_at == clock() + timedelta(seconds=30)
    mailer = server.app.state.mailer
    clock.advance(seconds=29)
    assert server.call(mailer.run_due) == 0  # not due yet, and still down
    mailbox.start()
    assert mailbox.messages == []
    clock.advance(seconds=2)
    sent = server.call(mailer.run_due) + len(await asyncio.to_thread(mailbox.wait_for, 1, 2.0))
    assert sent >= 1
    clock.advance(seconds=3600)
    server.call(mailer.run_due)
    assert len(await asyncio.to_thread(mailbox.wait_for, 2, 0.5)) == 1
    [mail] = _mails(server, str(conv["id"]))
    assert mail.status == outbox.SENT
    assert mailbox.messages[0]["Message-ID"] == f"<{mail.id}@madoguchi.test>"


async def test_a_sender_that_died_mid_send_does_not_make_a_second_copy(
    clocked: tuple[LiveServer, Mailbox], clock: FakeClock, stack: AsyncExitStack
) -> None:
    server, mailbox = clocked
    conv = await _leave(server, stack)
    mail = await asyncio.to_thread(_wait_attempted, server, str(conv["id"]))
    mailbox.start()
    clock.advance(seconds=31)
    mailer = server.app.state.mailer

    async def claim_and_die() -> outbox.Mail | None:
        # Another node claims the mail, then dies before the relay answers.
        async with server.desk.unit() as unit:
            now = server.desk.clock()
            return await outbox.claim(unit.conn, mail.id, now, now + mailer.lease)

    assert server.call(claim_and_die) is not None
    assert server.call(mailer.run_due) == 0  # it is claimed: nobody else sends it
    clock.advance(mailer.lease - timedelta(seconds=1))
    assert server.call(mailer.run_due) == 0
    assert mailbox.messages == []
    clock.advance(seconds=2)  # the dead sender's lease is over: it is sent, once

    async def two_senders_at_once() -> list[int]:
        return list(await asyncio.gather(mailer.run_due(), mailer.run_due()))

    server.call(two_senders_at_once)
    assert len(await asyncio.to_thread(mailbox.wait_for, 2, 1.0)) == 1
    assert mailbox.messages[0]["Message-ID"] == f"<{mail.id}@madoguchi.test>"
    assert _mails(server, str(conv["id"]))[0].status == outbox.SENT


async def test_an_operator_reads_whether_each_mail_went(
    clocked: tuple[LiveServer, Mailbox], stack: AsyncExitStack
) -> None:
    server, _ = clocked
    conv = await _leave(server, stack)
    await asyncio.to_thread(_wait_attempted, server, str(conv["id"]))
    account = server.create_operator(name="Sato")
    operator = await stack.enter_async_context(
        Operator(server.url, account["email"], account["password"])
    )
    listed = (await operator.http.get(f"/api/v1/agent/conversations/{conv['id']}/mails")).json()
    [mail] = listed["mails"]
    assert mail["status"] == "pending"
    assert mail["attempts"] == 1
    assert mail["to"] == "hanako@example.jp"
    assert mail["last_error"]
