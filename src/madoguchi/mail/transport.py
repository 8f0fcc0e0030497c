"""Handing a built mail to the company's relay (SMTP) or, in development, to the log.

Each transport raises ``TemporaryFailure`` for what may pass (no connection, a 4xx answer, a
timeout) and ``PermanentFailure`` for what will not (a 5xx answer): the sender retries the
first with backoff and gives up on the second at once.
"""

from __future__ import annotations

import logging
import os
import ssl
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from madoguchi.config import EmailConfig

log = logging.getLogger("madoguchi.mail")


class TemporaryFailure(Exception):
    """The mail could not be handed over now; later may work."""


class PermanentFailure(Exception):
    """The relay refused the mail for good (a 5xx answer)."""


class Transport(Protocol):
    """Where mails go."""

    async def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        """Hand ``message`` over, or raise one of the two failures."""


class ConsoleTransport:
    """Development: each mail is written to the log, nothing is sent."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        """Log the mail's headers and its plain text."""
        text = message.get_body(preferencelist=("plain",))
        body = text.get_content() if isinstance(text, EmailMessage) else ""
        log.info(
            "mail (console backend, not sent)\nFrom: %s\nTo: %s\nSubject: %s\nMessage-ID: %s\n\n%s",
            message["From"],
            recipient,
            message["Subject"],
            message["Message-ID"],
            body,
        )
        self.sent.append(message)


class SmtpTransport:
    """The company's relay through aiosmtplib: STARTTLS, TLS or plain, with optional AUTH."""

    def __init__(self, config: EmailConfig, env: dict[str, str] | None = None) -> None:
        self.config = config.smtp
        env = dict(os.environ if env is None else env)
        self.password = env.get("MADOGUCHI_SMTP_PASSWORD") or self.config.password

    async def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        """One SMTP transaction for one recipient."""
        smtp = self.config
        try:
            await aiosmtplib.send(
                message,
                sender=sender,
                recipients=[recipient],
                hostname=smtp.host,
                port=smtp.port,
                username=smtp.username,
                password=self.password if smtp.username else None,
                use_tls=smtp.security == "tls",
                start_tls=smtp.security == "starttls",
                timeout=smtp.timeout_seconds,
                tls_context=ssl.create_default_context() if smtp.security != "none" else None,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [error.code for error in exc.recipients]
            if codes and all(500 <= code < 600 for code in codes):
                raise PermanentFailure(str(exc)) from exc
            raise TemporaryFailure(str(exc)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentFailure(f"{exc.code} {exc.message}") from exc
            raise TemporaryFailure(f"{exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc


def create_transport(config: EmailConfig) -> Transport:
    """The transport ``[email] backend`` names."""
    if config.backend == "smtp":
        return SmtpTransport(config)
    return ConsoleTransport()
