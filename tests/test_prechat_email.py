"""The pre-chat form's optional email address (SPEC V9): asked for when email continuation is
on, checked, kept with the conversation, shown to the operator, and where the transcript by
email (V11) goes (docs/email.md)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack

import pytest

from clients import Visitor
from conftest import DatabaseFactory, LiveServer, online
from mailboxes import Mailbox, email_config

ADDRESS = "hanako@example.jp"


@pytest.fixture
def mail_server(backend: str, databases: DatabaseFactory, mailbox: Mailbox) -> Iterator[LiveServer]:
    """A node on each backend whose mail goes to ``mailbox``."""
    live = LiveServer(databases.new(backend), config=email_config(mailbox.port)).start()
    yield live
    live.stop()
    databases.release(live.database_url)


async def test_the_form_asks_for_an_address_only_when_the_desk_mails(
    mail_server: LiveServer, server: LiveServer, stack: AsyncExitStack
) -> None:
    visitor = await stack.enter_async_context(Visitor(mail_server.url))
    config = (await visitor.http.get("/api/v1/visitor/config")).json()
    assert config["email"] == {"continuation": True}  # smtp backend: on by default
    console_only = await stack.enter_async_context(Visitor(server.url))
    config = (await console_only.http.get("/api/v1/visitor/config")).json()
    assert config["email"] == {"continuation": False}  # the console backend mails nobody


async def test_the_address_is_kept_shown_to_the_operator_and_used_for_the_transcript(
    mail_server: LiveServer, mailbox: Mailbox, stack: AsyncExitStack
) -> None:
    operator, _ = await online(mail_server, stack, "佐藤")
    visitor = await stack.enter_async_context(Visitor(mail_server.url))
    conv = await visitor.start(prechat={"contact_person": "山田", "email": f"  {ADDRESS} "})
    assert conv["email"] == ADDRESS  # the visitor's own summary says where mail goes
    seen = await operator.http.get(f"/api/v1/agent/conversations/{conv['id']}")
    assert seen.status_code == 200, seen.text
    assert seen.json()["prechat"]["email"] == ADDRESS
    assert seen.json()["prechat"]["contact_person"] == "山田"

    url = f"/api/v1/visitor/conversations/{conv['id']}/transcript/email"
    sent = await visitor.http.post(url, json={"client_id": str(uuid.uuid4())})
    assert sent.status_code == 202, sent.text
    assert sent.json() == {"to": ADDRESS}
    [mail] = await asyncio.to_thread(
        mailbox.wait_for, 1, where=lambda m: "チャット履歴" in str(m["Subject"])
    )
    assert mail["To"] == ADDRESS


async def test_a_bad_address_is_refused_and_no_address_means_no_mail(
    mail_server: LiveServer, stack: AsyncExitStack
) -> None:
    await online(mail_server, stack, "佐藤")
    visitor = await stack.enter_async_context(Visitor(mail_server.url))
    for bad in ("hanako", "hanako@example", "a b@example.jp", "@example.jp"):
        response = await visitor.http.post(
            "/api/v1/visitor/conversations",
            json={
                "topic": "technical",
                "language": "ja",
                "consent": True,
                "prechat": {"email": bad},
            },
        )
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "bad_email"
    listed = (await visitor.http.get("/api/v1/visitor/conversations")).json()
    assert listed["conversations"] == []  # nothing was started

    conv = await visitor.start(prechat={"email": "   "})  # left empty: no address
    assert conv["email"] is None
    url = f"/api/v1/visitor/conversations/{conv['id']}/transcript/email"
    refused = await visitor.http.post(url, json={"client_id": str(uuid.uuid4())})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "no_email"
