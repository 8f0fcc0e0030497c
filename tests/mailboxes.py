"""A real SMTP server for the email tests (aiosmtpd in a thread), and a desk that mails to it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from conftest import TEST_CONFIG

REPLY_DOMAIN = "reply.madoguchi.test"
FROM = "support@madoguchi.test"


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mailbox:
    """The relay: collects every mail it accepts; ``stop`` and ``start`` make an outage."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content
        assert isinstance(raw, bytes)
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
            self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 OK"

    def start(self) -> Mailbox:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(
        self, count: int, timeout: float = 10.0, where: Callable[[EmailMessage], bool] | None = None
    ) -> list[EmailMessage]:
        """Poll until ``count`` mails (matching ``where``) have arrived; return them."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [m for m in self.messages if where is None or where(m)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)


def email_config(smtp_port: int, *, inbound: bool = True, max_bytes: int = 20_000) -> str:
    """The test desk with mail through the test relay and, optionally, replies received."""
    section = f"""
[email]
backend = "smtp"
from_address = "{FROM}"
retry_first_seconds = 30
retry_max_seconds = 600
give_up_hours = 1

[email.smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
timeout_seconds = 5
"""
    if inbound:
        section += f"""
[email.inbound]
enabled = true
domain = "{REPLY_DOMAIN}"
host = "127.0.0.1"
port = 0
max_bytes = {max_bytes}
"""
    return TEST_CONFIG + section


def text_of(message: EmailMessage) -> str:
    """The plain-text body of a mail."""
    part = message.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content()).replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    """The HTML body of a mail."""
    part = message.get_body(preferencelist=("html",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content()).replace("\r\n", "\n")


def offline_message(**extra: Any) -> dict[str, Any]:
    """The body of POST /api/v1/visitor/offline-messages."""
    import uuid

    return {
        "topic": "technical",
        "language": "ja",
        "consent": True,
        "name": "山田花子",
        "email": "hanako@example.jp",
        "message": {"client_id": str(uuid.uuid4()), "body": "サーバーに接続できません。"},
        **extra,
    }
