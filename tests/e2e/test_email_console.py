"""The console answers an offline message by email: the visitor's mailbox gets the answer, and
the reader shows it in the conversation (SPEC V8, docs/email.md)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import expect

from conftest import DatabaseFactory, LiveServer
from e2e.actors import Operator
from mailboxes import Mailbox, email_config, offline_message, text_of


@pytest.fixture
def live_server(databases: DatabaseFactory, mailbox: Mailbox) -> Iterator[LiveServer]:
    """The browser tests' node, mailing to ``mailbox``."""
    live = LiveServer(databases.new("sqlite"), config=email_config(mailbox.port)).start()
    yield live
    live.stop()


def test_an_operator_answers_an_offline_message_by_email(
    live_server: LiveServer, mailbox: Mailbox, make_operator: Callable[..., Operator]
) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        token = http.post("/api/v1/visitor/session", json={}).json()["token"]
        left = http.post(
            "/api/v1/visitor/offline-messages",
            json=offline_message(),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert left.status_code == 201
    assert len(mailbox.wait_for(1)) == 1  # the acknowledgment
    operator = make_operator()
    page = operator.page
    page.locator(".offline-item", has_text="山田花子").click()
    expect(page.locator("#reader-title")).to_have_text("山田花子")
    answer = f"再起動をお試しください。{uuid.uuid4().hex[:6]}"
    page.get_by_label("メールで回答").fill(answer)
    page.get_by_role("button", name="メールで送信").click()
    expect(page.locator("ol.messages > li.msg", has_text=answer)).to_be_visible()
    expect(page.get_by_label("メールで回答")).to_have_value("")  # sent, so not offered again
    mails = mailbox.wait_for(2)
    assert len(mails) == 2
    assert answer in text_of(mails[1])
    assert mails[1]["To"] == "hanako@example.jp"
