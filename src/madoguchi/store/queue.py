"""The figures the queue's estimates need: counts, recent handle times and first replies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.domain.conversation import Role, Status
from madoguchi.store.tables import conversations, events


async def waiting_counts(conn: AsyncConnection) -> dict[str, int]:
    """How many conversations wait in each department's queue."""
    rows = await conn.execute(
        select(conversations.c.department, func.count())
        .where(conversations.c.status == Status.WAITING.value)
        .group_by(conversations.c.department)
    )
    return {department: int(count) for department, count in rows}


async def recent_handle_seconds(
    conn: AsyncConnection, department: str, since: datetime, *, limit: int = 50
) -> list[float]:
    """How long an operator held each of the department's recent chats, newest first."""
    rows = await conn.execute(
        select(conversations.c.assigned_at, conversations.c.ended_at)
        .where(conversations.c.department == department)
        .where(conversations.c.status == Status.ENDED.value)
        .where(conversations.c.assigned_at.is_not(None))
        .where(conversations.c.ended_at >= since)
        .order_by(conversations.c.ended_at.desc())
        .limit(limit)
    )
    return [(ended - assigned).total_seconds() for assigned, ended in rows]


async def recent_first_replies(
    conn: AsyncConnection, department: str, since: datetime, *, limit: int = 50
) -> list[float]:
    """Seconds from joining the queue to the first operator message, for recent chats."""
    first = func.min(events.c.created_at)
    rows = await conn.execute(
        select(conversations.c.queued_at, first)
        .join(events, events.c.conversation_id == conversations.c.id)
        .where(conversations.c.department == department)
        .where(conversations.c.assigned_at >= since)
        .where(events.c.kind == "message")
        .where(events.c.author_role == Role.OPERATOR.value)
        .group_by(conversations.c.id, conversations.c.queued_at)
        .order_by(conversations.c.queued_at.desc())
        .limit(limit)
    )
    return [
        max((replied - queued).total_seconds(), 0.0)
        for queued, replied in rows
        if queued is not None and replied is not None
    ]
