"""The outbox's sender: every node sends the mails that are due, each once (docs/email.md).

Why a poller of its own and not a durable timer: a timer's handler runs inside the
transaction that claimed it (services/timers.py), so its effects commit with the timer's end.
Sending mail is network I/O that may take the relay's whole timeout; held inside a
transaction, it would keep SQLite's single write lock (every chat on the node waits) or a
PostgreSQL row lock for that long. So a mail is sent between two short transactions:

1. claim: ``pending`` (due) -> ``sending`` with a lease, one compare-and-set UPDATE, commit;
2. send, outside any transaction, with a stable Message-ID (the outbox id);
3. record: ``sent``, or ``pending`` again with the next attempt backed off, or ``failed``.

A node that dies in 2 leaves the mail ``sending``; when the lease ends any node claims it
again. Exactly-once is impossible across SMTP (the relay's "250" may be lost with the node);
the outbox narrows the window to the milliseconds between that 250 and the commit of step 3,
and a resend in that window carries the same Message-ID, Date and bytes, which mail stores
treat as the same message. Two nodes never send the same mail at once: the claim is atomic.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from madoguchi.config import EmailConfig
from madoguchi.mail.transport import PermanentFailure, TemporaryFailure, Transport
from madoguchi.services.desk import Desk
from madoguchi.store import outbox
from madoguchi.store.outbox import Mail

log = logging.getLogger("madoguchi.mail")

# The loop looks at least this often (real seconds) for mails due: retries come due while it
# sleeps, and other nodes' mails are found this way too.
_POLL_SECONDS = 5.0
_LOOP_BACKOFF_MAX_SECONDS = 30.0
_STOP_GRACE_SECONDS = 5.0


def mail_domain(config: EmailConfig) -> str:
    """The domain of Message-IDs: the sender address's."""
    return config.from_address.rpartition("@")[2] or "localhost"


def build_message(mail: Mail, config: EmailConfig, company: str) -> EmailMessage:
    """The MIME message of an outbox row: the same bytes on every attempt."""
    domain = mail_domain(config)
    message = EmailMessage()
    local, _, host = config.from_address.rpartition("@")
    message["From"] = Address(config.from_name or company, local, host)
    message["To"] = mail.to_address
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = f"<{mail.id}@{domain}>"
    if mail.conversation_id:
        # One thread per conversation in the visitor's mail client.
        thread = f"<conversation.{mail.conversation_id}@{domain}>"
        message["References"] = thread
        message["In-Reply-To"] = thread
    if mail.kind != "answer":  # RFC 3834: no vacation auto-replies to automatic mail
        message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body_text, cte="quoted-printable")
    message.add_alternative(mail.body_html, subtype="html", cte="quoted-printable")
    return message


class Mailer:
    """One node's mail sender: a loop that sends the outbox's due mails."""

    def __init__(self, desk: Desk, transport: Transport) -> None:
        self.desk = desk
        self.transport = transport
        self.config = desk.settings.desk.email
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False

    @property
    def lease(self) -> timedelta:
        """How long a claim holds: past the relay's timeout, so a live sender never loses it."""
        return timedelta(seconds=4 * self.config.smtp.timeout_seconds + 60)

    async def run_due(self) -> int:
        """Send every mail due at ``desk.clock()``; return how many the relay accepted."""
        now = self.desk.clock()
        async with self.desk.db.read() as conn:
            due = await outbox.list_due_ids(conn, now)
        sent = 0
        for mail_id in due:
            if self._stopping:
                break
            sent += await self._send_one(mail_id, now)
        return sent

    async def _send_one(self, mail_id: str, now: datetime) -> int:
        async with self.desk.unit() as unit:
            mail = await outbox.claim(unit.conn, mail_id, now, now + self.lease)
        if mail is None:
            return 0  # another sender took it
        message = build_message(mail, self.config, self.desk.settings.desk.company.name)
        try:
            await self.transport.send(message, self.config.from_address, mail.to_address)
        except PermanentFailure as exc:
            log.error("mail %s to %s refused for good: %s", mail.id, mail.to_address, exc)
            await self._record(mail, str(exc), retry_at=None)
            return 0
        except TemporaryFailure as exc:
            retry_at = self._retry_at(mail)
            log.warning(
                "mail %s not sent (attempt %d): %s; %s",
                mail.id,
                mail.attempts,
                exc,
                f"again at {retry_at.isoformat()}" if retry_at else "giving up",
            )
            await self._record(mail, str(exc), retry_at=retry_at)
            return 0
        async with self.desk.unit() as unit:
            await outbox.mark_sent(unit.conn, mail.id, self.desk.clock())
        return 1

    async def _record(self, mail: Mail, error: str, *, retry_at: datetime | None) -> None:
        async with self.desk.unit() as unit:
            await outbox.mark_failed(unit.conn, mail.id, error, retry_at=retry_at)

    def _retry_at(self, mail: Mail) -> datetime | None:
        """The next attempt, doubling from retry_first_seconds; None once it is too late."""
        now = self.desk.clock()
        if now - mail.created_at >= timedelta(hours=self.config.give_up_hours):
            return None
        exponent = min(max(mail.attempts - 1, 0), 20)
        seconds = min(self.config.retry_max_seconds, self.config.retry_first_seconds * 2**exponent)
        return now + timedelta(seconds=seconds)

    # -- the loop -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Run the loop in the background (the app's lifespan)."""
        if self._task is not None:
            return
        self._stopping = False
        self.desk.mail_alarm = self._wake.set
        self._task = asyncio.create_task(self._loop(), name="madoguchi-mail")

    async def stop(self) -> None:
        """End the loop; a send in progress gets a few seconds, then is cancelled (the mail
        stays claimed until its lease ends, then is sent again)."""
        task, self._task = self._task, None
        if task is None:
            return
        self.desk.mail_alarm = None
        self._stopping = True
        self._wake.set()
        done, _ = await asyncio.wait({task}, timeout=_STOP_GRACE_SECONDS)
        if not done:
            task.cancel()
            await asyncio.wait({task})

    async def _loop(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                await self.run_due()
                delay = await self._seconds_to_next()
                failures = 0
            except Exception:
                failures += 1
                delay = min(_LOOP_BACKOFF_MAX_SECONDS, _POLL_SECONDS * 2 ** min(failures, 8))
                log.exception("mail loop failed (%d in a row); again in %.1f s", failures, delay)
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass
            finally:
                self._wake.clear()

    async def _seconds_to_next(self) -> float:
        async with self.desk.db.read() as conn:
            next_due = await outbox.next_due_at(conn)
        if next_due is None:
            return _POLL_SECONDS
        seconds = (next_due - self.desk.clock()).total_seconds()
        return min(_POLL_SECONDS, max(0.05, seconds))
