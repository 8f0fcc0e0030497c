"""The receiver of replies by email: an SMTP server (aiosmtpd) on its own port.

The company's MX for the reply domain (or its MTA, relaying that domain) delivers here. The
checks come as early as SMTP allows, so a refusal reaches the sending MTA, which tells the
person (a bounce) instead of the mail disappearing:

- RCPT: an address that is not a reply address with a valid token is refused with 550 5.1.1;
  one of an ended conversation with 550 5.7.1 (start a new chat instead);
- MAIL FROM with SIZE, and DATA: more than ``max_bytes`` is refused with 552 5.3.4;
- DATA: a reply with no new text above the quote gets 550 5.6.0; a text over the desk's message
  limit 552 5.3.4; automatic replies (out of office) are accepted and dropped.
"""

from __future__ import annotations

import asyncio
import logging
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from madoguchi.domain.errors import DomainError
from madoguchi.services import email
from madoguchi.services.desk import Desk

log = logging.getLogger("madoguchi.mail.inbound")

_REFUSALS = {
    "unknown_address": "550 5.1.1 No such reply address",
    "conversation_ended": "550 5.7.1 This conversation has ended; please start a new chat",
    "empty_message": "550 5.6.0 No reply text found above the quoted message",
    "message_too_long": "552 5.3.4 Reply too long for one chat message",
}


def _refusal(error: DomainError) -> str:
    return _REFUSALS.get(error.code, "550 5.7.0 Reply refused")


def _is_automatic(raw: bytes) -> bool:
    """An out-of-office or other automatic reply (RFC 3834), which the chat should not show."""
    message = message_from_bytes(raw, policy=policy.default)
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    return auto != "no" or message.get("X-Autoreply") is not None


class ReplyHandler:
    """aiosmtpd's handler: check each recipient at RCPT, store the reply at DATA."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    async def handle_RCPT(  # aiosmtpd's hook names
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Accept only reply addresses with a valid token, of conversations still open."""
        try:
            await email.get_reply_target(self.desk, address)
        except DomainError as exc:
            log.info("reply refused at RCPT (%s): %s", exc.code, address)
            return _refusal(exc)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Add the reply's new text to each conversation it was sent to."""
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        if _is_automatic(raw):
            log.info("automatic reply to %s dropped", envelope.rcpt_tos)
            return "250 2.6.0 Automatic reply dropped"
        for address in envelope.rcpt_tos:
            try:
                conv = await email.get_reply_target(self.desk, address)
                await email.do_receive_reply(self.desk, conv.id, raw)
            except DomainError as exc:
                log.info("reply refused at DATA (%s): %s", exc.code, address)
                return _refusal(exc)
        return "250 2.0.0 Reply received"


class Receiver:
    """The inbound SMTP server, started and stopped in the app's lifespan."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.config = desk.settings.desk.email.inbound
        self._server: asyncio.Server | None = None
        self.port: int | None = None

    async def start(self) -> None:
        """Listen on ``[email.inbound] host`` and ``port`` (0: a free port, for tests)."""
        handler = ReplyHandler(self.desk)

        def protocol() -> Any:
            return SMTP(
                handler,
                data_size_limit=self.config.max_bytes,
                enable_SMTPUTF8=True,
                hostname=self.config.domain,
                ident="madoguchi",
            )

        loop = asyncio.get_running_loop()
        # reuse_port: the worker processes of one node (serve --workers N) all listen on the
        # port, and the kernel shares the connections among them.
        self._server = await loop.create_server(
            protocol, self.config.host, self.config.port, reuse_port=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("receiving replies by email on %s:%d", self.config.host, self.port)

    async def stop(self) -> None:
        """Stop listening; sessions in progress are closed."""
        if self._server is None:
            return
        self._server.close()
        await self._server.wait_closed()
        self._server = None
