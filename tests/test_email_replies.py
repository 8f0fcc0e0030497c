"""Replies by email through the node's own SMTP receiver: a Japanese reply in ISO-2022-JP and
in UTF-8 reaches the operator live, without its quote and signature; forged tokens are refused
at RCPT and oversize mail with 552 (docs/email.md, "Replies")."""

from __future__ import annotations

import base64
import quopri
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import aiosmtplib
import pytest

from clients import Socket, Visitor
from conftest import SECRET, DatabaseFactory, LiveServer, online
from madoguchi.domain.reply_address import make_reply_address
from mailboxes import REPLY_DOMAIN, Mailbox, email_config

QUOTE = (
    "2026年11月22日(日) 10:00 madoguchi <support@madoguchi.test>:\n> 再起動をお試しください。\n> \n"
)
SIGNATURE = "-- \n山田花子\n株式会社サンプル\n"
REPLY = "ありがとうございます。\n再起動したら直りました。"


@pytest.fixture
def reply_server(backend: str, databases: DatabaseFactory) -> Iterator[LiveServer]:
    """A node receiving replies by email on a port of its own (the relay is never reached)."""
    box = Mailbox()
    live = LiveServer(databases.new(backend), config=email_config(box.port, max_bytes=4096))
    live.start()
    yield live
    live.stop()
    databases.release(live.database_url)


async def _active_chat(
    server: LiveServer, stack: AsyncExitStack
) -> tuple[dict[str, Any], Socket, Visitor]:
    _, console = await online(server, stack, "佐藤")
    visitor = await stack.enter_async_context(Visitor(server.url))
    conv = await visitor.start()
    await console.expect("assigned")
    await console.event("message", conversation_id=conv["id"])
    return conv, console, visitor


def _raw(body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


def _headers(to: str, content_type: str, encoding: str) -> dict[str, str]:
    return {
        "From": "hanako@example.jp",
        "To": to,
        "Subject": "Re: =?UTF-8?B?" + base64.b64encode("ご回答".encode()).decode() + "?=",
        "Message-ID": f"<{uuid.uuid4()}@example.jp>",
        "MIME-Version": "1.0",
        "Content-Type": content_type,
        "Content-Transfer-Encoding": encoding,
    }


async def _send(server: LiveServer, to: str, raw: bytes) -> None:
    await aiosmtplib.send(
        raw,
        sender="hanako@example.jp",
        recipients=[to],
        hostname="127.0.0.1",
        port=server.app.state.mail_receiver.port,
        start_tls=False,
        timeout=10,
    )


async def test_a_reply_in_iso_2022_jp_reaches_the_operator_live(
    reply_server: LiveServer, stack: AsyncExitStack
) -> None:
    conv, console, _ = await _active_chat(reply_server, stack)
    to = make_reply_address(SECRET, conv["id"], REPLY_DOMAIN)
    text = f"{REPLY}\n\n{QUOTE}{SIGNATURE}".replace("\n", "\r\n")
    raw = _raw(
        text.encode("iso2022_jp"),
        _headers(to, 'text/plain; charset="ISO-2022-JP"', "7bit"),
    )
    await _send(reply_server, to, raw)
    event = await console.event("message", conversation_id=conv["id"])
    assert event["author"]["role"] == "visitor"
    assert event["body"] == REPLY


@pytest.mark.parametrize("encoding", ["base64", "quoted-printable"])
async def test_a_reply_in_utf_8_reaches_the_operator_live(
    reply_server: LiveServer, stack: AsyncExitStack, encoding: str
) -> None:
    conv, console, visitor = await _active_chat(reply_server, stack)
    to = make_reply_address(SECRET, conv["id"], REPLY_DOMAIN)
    text = f"{REPLY}\n\nOn Sun, 22 Nov 2026 at 10:00, madoguchi <support@madoguchi.test> wrote:\n"
    text += "> 再起動をお試しください。\n\niPhoneから送信\n"
    data = text.encode("utf-8")
    body = base64.encodebytes(data) if encoding == "base64" else quopri.encodestring(data)
    headers = _headers(to, "text/plain; charset=utf-8", encoding)
    raw = _raw(body, headers)
    await _send(reply_server, to, raw)
    event = await console.event("message", conversation_id=conv["id"])
    assert event["body"] == REPLY
    # The same mail delivered twice (a relay's retry) is one message.
    await _send(reply_server, to, raw)
    events = (await visitor.http.get(f"/api/v1/visitor/conversations/{conv['id']}/events")).json()
    assert [e["body"] for e in events["events"] if e["kind"] == "message"].count(REPLY) == 1


async def test_forged_and_foreign_addresses_are_refused_at_rcpt(
    reply_server: LiveServer, stack: AsyncExitStack
) -> None:
    conv, _, visitor = await _active_chat(reply_server, stack)
    genuine = make_reply_address(SECRET, conv["id"], REPLY_DOMAIN)
    local = genuine.split("@")[0]
    forged = [
        make_reply_address(b"another-secret-another-secret-0123456789", conv["id"], REPLY_DOMAIN),
        local[:-1] + ("0" if local[-1] != "0" else "1") + "@" + REPLY_DOMAIN,
        f"reply+{local.split('+')[1].split('.')[0]}@{REPLY_DOMAIN}",
        "support@" + REPLY_DOMAIN,
        genuine.split("@")[0] + "@example.com",
    ]
    raw = _raw(b"hello\r\n", _headers(genuine, "text/plain; charset=us-ascii", "7bit"))
    for address in forged:
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await _send(reply_server, address, raw)
        assert refused.value.recipients[0].code == 550, address
    # A conversation that has ended takes no more replies: refused too, with its reason.
    await visitor.http.post(f"/api/v1/visitor/conversations/{conv['id']}/end", json={})
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as ended:
        await _send(reply_server, genuine, raw)
    assert ended.value.recipients[0].code == 550
    assert "ended" in ended.value.recipients[0].message


async def test_oversize_and_empty_replies_are_refused_with_their_codes(
    reply_server: LiveServer, stack: AsyncExitStack
) -> None:
    conv, _, visitor = await _active_chat(reply_server, stack)
    to = make_reply_address(SECRET, conv["id"], REPLY_DOMAIN)
    big = _raw(b"x" * 8000 + b"\r\n", _headers(to, "text/plain; charset=us-ascii", "7bit"))
    with pytest.raises(aiosmtplib.SMTPResponseException) as oversize:
        await _send(reply_server, to, big)
    assert oversize.value.code == 552
    only_quote = (QUOTE + SIGNATURE).replace("\n", "\r\n").encode("utf-8")
    empty = _raw(only_quote, _headers(to, "text/plain; charset=utf-8", "8bit"))
    with pytest.raises(aiosmtplib.SMTPResponseException) as nothing:
        await _send(reply_server, to, empty)
    assert nothing.value.code == 550
    events = (await visitor.http.get(f"/api/v1/visitor/conversations/{conv['id']}/events")).json()
    assert [e["body"] for e in events["events"] if e["kind"] == "message"] == ["こんにちは"]
