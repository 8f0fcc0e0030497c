"""The mail outbox (table ``mail_outbox``): queued mails, their claims and their outcome.

docs/email.md ("Delivery") has the states and why a mail is sent once: a sender claims a mail
with a compare-and-set UPDATE (one statement, any backend), commits, sends, then records the
outcome; a claim whose sender died runs out (``lease_until``) and the mail is claimed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.store.ids import new_id
from madoguchi.store.tables import mail_outbox

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


@dataclass(frozen=True)
class Mail:
    """One outgoing mail as queued: rendered once, so every attempt sends the same bytes."""

    id: str
    dedupe_key: str
    conversation_id: str | None
    kind: str
    to_address: str
    reply_to: str | None
    subject: str
    body_text: str
    body_html: str
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None = None
    last_error: str | None = None


def _mail(row: Any) -> Mail:
    return Mail(
        id=row.id,
        dedupe_key=row.dedupe_key,
        conversation_id=row.conversation_id,
        kind=row.kind,
        to_address=row.to_address,
        reply_to=row.reply_to,
        subject=row.subject,
        body_text=row.body_text,
        body_html=row.body_html,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )


async def insert(
    conn: AsyncConnection,
    *,
    dedupe_key: str,
    conversation_id: str | None,
    kind: str,
    to_address: str,
    reply_to: str | None,
    subject: str,
    body_text: str,
    body_html: str,
    now: datetime,
) -> str | None:
    """Queue a mail in the caller's transaction; None when ``dedupe_key`` is queued already."""
    mail_id = new_id("m")
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(mail_outbox)
        .values(
            id=mail_id,
            dedupe_key=dedupe_key,
            conversation_id=conversation_id,
            kind=kind,
            to_address=to_address,
            reply_to=reply_to,
            subject=subject,
            body_text=body_text,
            body_html=body_html,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(mail_outbox.c.id)
    )
    row = (await conn.execute(stmt)).first()
    return None if row is None else str(row.id)


def _due(now: datetime) -> Any:
    return or_(
        and_(mail_outbox.c.status == PENDING, mail_outbox.c.next_attempt_at <= now),
        and_(mail_outbox.c.status == SENDING, mail_outbox.c.lease_until <= now),
    )


async def list_due_ids(conn: AsyncConnection, now: datetime, limit: int = 50) -> list[str]:
    """Mails that may be claimed now, oldest first: pending and due, or claimed by a sender
    whose lease ran out (it died or hung mid-send)."""
    result = await conn.execute(
        select(mail_outbox.c.id)
        .where(_due(now))
        .order_by(mail_outbox.c.next_attempt_at, mail_outbox.c.id)
        .limit(limit)
    )
    return [row.id for row in result]


async def claim(
    conn: AsyncConnection, mail_id: str, now: datetime, lease_until: datetime
) -> Mail | None:
    """Take a due mail for sending until ``lease_until``; None if another sender has it."""
    result = await conn.execute(
        update(mail_outbox)
        .where(mail_outbox.c.id == mail_id, _due(now))
        .values(status=SENDING, lease_until=lease_until, attempts=mail_outbox.c.attempts + 1)
        .returning(*mail_outbox.c)
    )
    row = result.first()
    return None if row is None else _mail(row)


async def mark_sent(conn: AsyncConnection, mail_id: str, now: datetime) -> None:
    """The relay accepted the mail."""
    await conn.execute(
        update(mail_outbox)
        .where(mail_outbox.c.id == mail_id)
        .values(status=SENT, sent_at=now, lease_until=None, last_error=None)
    )


async def mark_failed(
    conn: AsyncConnection, mail_id: str, error: str, *, retry_at: datetime | None
) -> None:
    """A send failed: pending again until ``retry_at``, or failed for good when None."""
    values: dict[str, Any] = {"lease_until": None, "last_error": error[:2000]}
    if retry_at is None:
        values["status"] = FAILED
    else:
        values.update(status=PENDING, next_attempt_at=retry_at)
    await conn.execute(update(mail_outbox).where(mail_outbox.c.id == mail_id).values(**values))


async def next_due_at(conn: AsyncConnection) -> datetime | None:
    """When the next mail will be due: a pending one's next attempt or a claim's end."""
    pending = await conn.scalar(
        select(func.min(mail_outbox.c.next_attempt_at)).where(mail_outbox.c.status == PENDING)
    )
    leased = await conn.scalar(
        select(func.min(mail_outbox.c.lease_until)).where(mail_outbox.c.status == SENDING)
    )
    times = [when for when in (pending, leased) if when is not None]
    if not times:
        return None
    # SQLite hands MIN() back without the column's type: a naive string or datetime.
    return min(_aware(when) for when in times)


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def get_mail(conn: AsyncConnection, mail_id: str) -> Mail | None:
    """One mail by id."""
    row = (await conn.execute(select(mail_outbox).where(mail_outbox.c.id == mail_id))).first()
    return None if row is None else _mail(row)


async def list_for_conversation(conn: AsyncConnection, conversation_id: str) -> list[Mail]:
    """A conversation's mails, oldest first."""
    result = await conn.execute(
        select(mail_outbox)
        .where(mail_outbox.c.conversation_id == conversation_id)
        .order_by(mail_outbox.c.created_at, mail_outbox.c.id)
    )
    return [_mail(row) for row in result]


async def erase_for_conversation(conn: AsyncConnection, conversation_id: str) -> None:
    """Retention (P10): a conversation's mails are its content too."""
    await conn.execute(delete(mail_outbox).where(mail_outbox.c.conversation_id == conversation_id))
