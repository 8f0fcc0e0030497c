"""Visitors, conversations and their events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.domain.conversation import Role, Status
from madoguchi.domain.records import Conversation, Event
from madoguchi.store.ids import new_id
from madoguchi.store.tables import (
    conversation_participants,
    conversations,
    events,
    operators,
    visitors,
)


class SeqClaim(NamedTuple):
    """A sequence number just claimed, with what the writer must check before using it."""

    seq: int
    visitor_id: str
    operator_id: str | None
    status: Status
    department: str = ""
    warned: dict[str, str] | None = None  # the limits' warnings in force (domain/limits.py)
    mail_when_away: bool = False  # V9: an operator's message may have to be mailed


async def insert_visitor(conn: AsyncConnection, now: datetime) -> str:
    """Create a visitor and return its id."""
    visitor_id = new_id("v")
    await conn.execute(visitors.insert().values(id=visitor_id, created_at=now))
    return visitor_id


async def visitor_exists(conn: AsyncConnection, visitor_id: str) -> bool:
    """Whether the visitor is known."""
    row = await conn.execute(select(visitors.c.id).where(visitors.c.id == visitor_id))
    return row.first() is not None


def _select_conversations() -> Select[Any]:
    return select(conversations, operators.c.name.label("operator_name")).outerjoin(
        operators, operators.c.id == conversations.c.operator_id
    )


def _conversation(row: Any) -> Conversation:
    return Conversation(
        id=row.id,
        visitor_id=row.visitor_id,
        topic=row.topic,
        department=row.department,
        language=row.language,
        status=Status(row.status),
        operator_id=row.operator_id,
        operator_name=row.operator_name,
        last_seq=row.last_seq,
        created_at=row.created_at,
        assigned_at=row.assigned_at,
        ended_at=row.ended_at,
        end_reason=row.end_reason,
        prechat=dict(row.prechat),
        context=dict(row.context),
        queued_at=row.queued_at,
        offered_to=row.offered_to,
        offer_expires_at=row.offer_expires_at,
        passed_by=tuple(row.passed_by or ()),
        last_activity_at=row.last_activity_at,
        last_visitor_at=row.last_visitor_at,
        last_operator_at=row.last_operator_at,
        warned=_read_warned(row.warned),
        follow_up_at=row.follow_up_at,
        rating=row.rating,
        rating_comment=row.rating_comment,
        rated_at=row.rated_at,
        erased_at=row.erased_at,
        identity=row.identity,
        mail_when_away=bool(row.mail_when_away),
        visitor_has_seq=row.visitor_has_seq,
    )


def _read_warned(stored: dict[str, str] | None) -> dict[str, datetime]:
    return {limit: datetime.fromisoformat(end) for limit, end in (stored or {}).items()}


async def insert_conversation(
    conn: AsyncConnection,
    *,
    visitor_id: str,
    topic: str,
    department: str,
    language: str,
    prechat: dict[str, Any],
    context: dict[str, Any],
    now: datetime,
    status: Status = Status.WAITING,
    mail_when_away: bool = False,
) -> str:
    """Create a conversation (waiting, unless an offline message) with no events yet;
    ``mail_when_away``: the visitor asked for mail while they are away (V9)."""
    conv_id = new_id("c")
    await conn.execute(
        conversations.insert().values(
            id=conv_id,
            visitor_id=visitor_id,
            topic=topic,
            department=department,
            language=language,
            status=status.value,
            last_seq=0,
            prechat=prechat,
            context=context,
            created_at=now,
            queued_at=now,
            mail_when_away=mail_when_away,
        )
    )
    return conv_id


async def get_conversation(
    conn: AsyncConnection, conversation_id: str, *, lock: bool = False
) -> Conversation | None:
    """A conversation by id; ``lock`` holds its row until the transaction ends.

    On PostgreSQL that is ``FOR UPDATE``. SQLite has no row locks and SQLAlchemy leaves the
    clause out there: its single writer at a time already serializes the transactions, so
    callers ask for the lock the same way on both backends.
    """
    query = _select_conversations().where(conversations.c.id == conversation_id)
    if lock:
        query = query.with_for_update(of=conversations)
    row = (await conn.execute(query)).first()
    return _conversation(row) if row else None


async def list_for_visitor(conn: AsyncConnection, visitor_id: str) -> list[Conversation]:
    """A visitor's conversations, open ones first, newest first within each group."""
    rows = await conn.execute(
        _select_conversations()
        .where(conversations.c.visitor_id == visitor_id)
        .order_by((conversations.c.status == Status.ENDED.value), conversations.c.created_at.desc())
        .limit(50)
    )
    return [_conversation(row) for row in rows]


async def list_waiting(
    conn: AsyncConnection, departments: Sequence[str] | None, *, limit: int = 200
) -> list[Conversation]:
    """Waiting conversations, oldest first; all departments when ``departments`` is None."""
    query = _select_conversations().where(conversations.c.status == Status.WAITING.value)
    if departments is not None:
        query = query.where(conversations.c.department.in_(list(departments)))
    rows = await conn.execute(
        query.order_by(conversations.c.queued_at, conversations.c.id).limit(limit)
    )
    return [_conversation(row) for row in rows]


async def list_offline(
    conn: AsyncConnection,
    departments: Sequence[str] | None,
    *,
    limit: int = 200,
    status: Status = Status.OFFLINE,
) -> list[Conversation]:
    """Offline messages (or, by ``status``, follow-ups) waiting for an answer, oldest first."""
    query = _select_conversations().where(conversations.c.status == status.value)
    if departments is not None:
        query = query.where(conversations.c.department.in_(list(departments)))
    rows = await conn.execute(query.order_by(conversations.c.created_at).limit(limit))
    return [_conversation(row) for row in rows]


async def list_offered_to(conn: AsyncConnection, operator_id: str) -> list[Conversation]:
    """The waiting conversations offered to an operator, oldest first."""
    rows = await conn.execute(
        _select_conversations()
        .where(conversations.c.offered_to == operator_id)
        .where(conversations.c.status == Status.WAITING.value)
        .order_by(conversations.c.queued_at)
    )
    return [_conversation(row) for row in rows]


async def offer(
    conn: AsyncConnection, conversation_id: str, operator_id: str, expires_at: datetime
) -> bool:
    """Reserve a waiting conversation for an operator until ``expires_at``."""
    result = await conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .where(conversations.c.status == Status.WAITING.value)
        .values(offered_to=operator_id, offer_expires_at=expires_at)
    )
    return result.rowcount == 1


async def withdraw_offer(conn: AsyncConnection, conv: Conversation, *, passed: bool) -> None:
    """Take back an offer; ``passed``: its operator is not offered this conversation again."""
    passed_by = list(conv.passed_by)
    if passed and conv.offered_to and conv.offered_to not in passed_by:
        passed_by.append(conv.offered_to)
    await conn.execute(
        update(conversations)
        .where(conversations.c.id == conv.id)
        .values(offered_to=None, offer_expires_at=None, passed_by=passed_by)
    )


async def set_status(
    conn: AsyncConnection,
    conversation_id: str,
    status: Status,
    *,
    requeue_at: datetime | None = None,
) -> None:
    """Move a conversation to another status, leaving no offer behind."""
    values: dict[str, Any] = {"status": status.value, "offered_to": None, "offer_expires_at": None}
    if requeue_at is not None:
        values["queued_at"] = requeue_at
    await conn.execute(
        update(conversations).where(conversations.c.id == conversation_id).values(**values)
    )


async def list_active_for_operator(conn: AsyncConnection, operator_id: str) -> list[Conversation]:
    """The active conversations an operator holds, oldest first."""
    rows = await conn.execute(
        _select_conversations()
        .where(conversations.c.operator_id == operator_id)
        .where(conversations.c.status == Status.ACTIVE.value)
        .order_by(conversations.c.assigned_at)
    )
    return [_conversation(row) for row in rows]


# What a writer gets back with its sequence number (SeqClaim), in the same statement; also
# the batch's claim (store/messages.py).
CLAIM_COLUMNS = (
    conversations.c.last_seq,
    conversations.c.visitor_id,
    conversations.c.operator_id,
    conversations.c.status,
    conversations.c.department,
    conversations.c.warned,
    conversations.c.mail_when_away,
)


def claim_of(row: Any) -> SeqClaim | None:
    if row is None:
        return None
    return SeqClaim(
        row.last_seq,
        row.visitor_id,
        row.operator_id,
        Status(row.status),
        row.department,
        row.warned,
        bool(row.mail_when_away),
    )


async def next_seq(
    conn: AsyncConnection,
    conversation_id: str,
    *,
    activity: Role | None = None,
    now: datetime | None = None,
) -> SeqClaim | None:
    """Hand out the conversation's next sequence number, locking its row until commit.

    The row lock is what serializes writers of one conversation: a second writer waits
    here until the first commits, so sequence numbers are committed in order, gap-free.
    The same statement returns what a writer must check (owner, operator, status), so the
    hot path needs no separate read; for a message (``activity``: its author's role) it also
    moves the limits' clocks (domain/limits.py), so activity costs no statement of its own.
    """
    values: dict[str, Any] = {"last_seq": conversations.c.last_seq + 1}
    if activity is not None:
        assert now is not None
        values.update(_activity_values(activity, now))
    result = await conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .values(**values)
        .returning(*CLAIM_COLUMNS)
    )
    return claim_of(result.first())


def _activity_values(role: Role, now: datetime) -> dict[str, datetime]:
    if role is Role.VISITOR:
        return {"last_activity_at": now, "last_visitor_at": now}
    return {"last_activity_at": now, "last_operator_at": now}


async def touch(
    conn: AsyncConnection, conversation_id: str, role: Role, now: datetime, *, message: bool
) -> SeqClaim | None:
    """Record activity that is not a stored message (typing, "I'm still here") on an active
    conversation; None if it is not active. An operator typing is activity but not an answer,
    so it moves only ``last_activity_at``."""
    values: dict[str, Any] = (
        _activity_values(role, now)
        if message or role is Role.VISITOR
        else {"last_activity_at": now}
    )
    result = await conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .where(conversations.c.status == Status.ACTIVE.value)
        .values(**values)
        .returning(*CLAIM_COLUMNS)
    )
    return claim_of(result.first())


async def set_warned(
    conn: AsyncConnection, conversation_id: str, warned: dict[str, datetime]
) -> None:
    """Remember the limits' warnings in force: limit → the end each announced."""
    stored = {limit: end.isoformat() for limit, end in warned.items()} or None
    await conn.execute(
        update(conversations).where(conversations.c.id == conversation_id).values(warned=stored)
    )


async def insert_event(
    conn: AsyncConnection,
    *,
    conversation_id: str,
    seq: int,
    kind: str,
    author_role: Role,
    author_id: str | None,
    author_name: str | None,
    now: datetime,
    body: str | None = None,
    client_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> Event | None:
    """Store an event; None when ``client_id`` was already used in this conversation."""
    event = Event(
        conversation_id=conversation_id,
        seq=seq,
        id=new_id("e"),
        kind=kind,
        author_role=author_role,
        author_id=author_id,
        author_name=author_name,
        client_id=client_id,
        body=body,
        data=data or {},
        created_at=now,
    )
    if client_id is None:
        await conn.execute(events.insert().values(**event_row(event)))
        return event
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(events)
        .values(**event_row(event))
        .on_conflict_do_nothing(index_elements=["conversation_id", "client_id"])
        .returning(events.c.seq)
    )
    if (await conn.execute(stmt)).first() is None:
        return None
    return event


def event_row(event: Event) -> dict[str, Any]:
    """An event as a row of ``events``."""
    return {
        "conversation_id": event.conversation_id,
        "seq": event.seq,
        "id": event.id,
        "kind": event.kind,
        "author_role": event.author_role.value,
        "author_id": event.author_id,
        "author_name": event.author_name,
        "client_id": event.client_id,
        "body": event.body,
        "data": event.data,
        "created_at": event.created_at,
    }


def _event(row: Any) -> Event:
    return Event(
        conversation_id=row.conversation_id,
        seq=row.seq,
        id=row.id,
        kind=row.kind,
        author_role=Role(row.author_role),
        author_id=row.author_id,
        author_name=row.author_name,
        client_id=row.client_id,
        body=row.body,
        data=dict(row.data),
        created_at=row.created_at,
    )


async def get_event_by_client_id(
    conn: AsyncConnection, conversation_id: str, client_id: str
) -> Event | None:
    """The event a client already sent with this id."""
    row = (
        await conn.execute(
            select(events)
            .where(events.c.conversation_id == conversation_id)
            .where(events.c.client_id == client_id)
        )
    ).first()
    return _event(row) if row else None


async def get_events(
    conn: AsyncConnection, conversation_id: str, since: int, *, limit: int = 1000
) -> list[Event]:
    """The events after ``since``, in order."""
    rows = await conn.execute(
        select(events)
        .where(events.c.conversation_id == conversation_id)
        .where(events.c.seq > since)
        .order_by(events.c.seq)
        .limit(limit)
    )
    return [_event(row) for row in rows]


async def assign(
    conn: AsyncConnection, conversation_id: str, operator_id: str, now: datetime
) -> bool:
    """Give a waiting conversation to an operator; False if it was no longer waiting."""
    result = await conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .where(conversations.c.status == Status.WAITING.value)
        .values(
            status=Status.ACTIVE.value,
            operator_id=operator_id,
            # The first operator's time is when the inquiry's handling starts (P4); a chat
            # that comes back to the queue and is taken again keeps it.
            assigned_at=func.coalesce(conversations.c.assigned_at, now),
            offered_to=None,
            offer_expires_at=None,
            # The idle clock starts when someone can answer, not when the visitor queued.
            last_activity_at=now,
            warned=None,
        )
    )
    return result.rowcount == 1


async def end(conn: AsyncConnection, conversation_id: str, reason: str, now: datetime) -> None:
    """Mark a conversation ended (a follow-up keeps the reason it was opened with)."""
    await conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .values(
            status=Status.ENDED.value,
            ended_at=now,
            end_reason=func.coalesce(conversations.c.end_reason, reason),
            offered_to=None,
            offer_expires_at=None,
            warned=None,
        )
    )


async def follow_up(
    conn: AsyncConnection, conversation_id: str, reason: str, now: datetime
) -> None:
    """The live chat is over, the answer still owed: a follow-up, kept by its operator."""
    await conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .values(
            status=Status.FOLLOW_UP.value,
            follow_up_at=now,
            end_reason=reason,
            offered_to=None,
            offer_expires_at=None,
            warned=None,
        )
    )


# -- transfers and supervisors (SPEC A6, A9; services/handoff.py) ---------------------------


async def reassign(
    conn: AsyncConnection, conversation_id: str, operator_id: str, *, from_operator: str | None
) -> bool:
    """Hand an active conversation from ``from_operator`` to another; False if it moved meanwhile.

    ``assigned_at`` stays: it is when the visitor first got an operator, which the wait and
    handle times are counted from.
    """
    result = await conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .where(conversations.c.status == Status.ACTIVE.value)
        .where(conversations.c.operator_id == from_operator)
        .values(operator_id=operator_id)
    )
    return result.rowcount == 1


async def requeue(
    conn: AsyncConnection, conversation_id: str, department: str, *, passed_by: Sequence[str]
) -> None:
    """Put an active conversation back in the queue of ``department``, at its old place.

    ``queued_at`` is kept, so it waits ahead of the chats that came after it; ``passed_by``
    (the operator who transferred it) is not given it again by routing.
    """
    await conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .values(
            status=Status.WAITING.value,
            department=department,
            operator_id=None,
            offered_to=None,
            offer_expires_at=None,
            passed_by=list(passed_by),
        )
    )


async def list_active(conn: AsyncConnection, *, limit: int = 500) -> list[Conversation]:
    """Every active conversation, oldest assignment first (the supervisor's overview)."""
    rows = await conn.execute(
        _select_conversations()
        .where(conversations.c.status == Status.ACTIVE.value)
        .order_by(conversations.c.assigned_at, conversations.c.id)
        .limit(limit)
    )
    return [_conversation(row) for row in rows]


async def list_joined(conn: AsyncConnection, operator_id: str) -> list[Conversation]:
    """The active conversations an operator joined as a second operator, oldest first."""
    rows = await conn.execute(
        _select_conversations()
        .join(
            conversation_participants,
            conversation_participants.c.conversation_id == conversations.c.id,
        )
        .where(conversation_participants.c.operator_id == operator_id)
        .where(conversations.c.status == Status.ACTIVE.value)
        .order_by(conversation_participants.c.joined_at)
    )
    return [_conversation(row) for row in rows]
