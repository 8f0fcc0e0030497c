"""Erasing a conversation's content while keeping the facts metrics need (SPEC P10)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.domain.conversation import Status
from madoguchi.store.tables import conversations, events


async def erase_content(conn: AsyncConnection, conversation_id: str, now: datetime) -> bool:
    """Erase an ended, not yet erased conversation's content; whether it was erased.

    What goes: every event (messages, notes, names of their authors, system events with their
    data), the pre-chat fields, the collected context, the survey comment and the warnings.
    What stays is the row's facts: times, topic, department, language, status, end reason,
    operator, rating, ``last_seq`` (so a client resuming from an old ``seq`` is not confused).
    """
    result = await conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .where(conversations.c.status == Status.ENDED.value)
        .where(conversations.c.erased_at.is_(None))
        .values(prechat={}, context={}, rating_comment=None, warned=None, erased_at=now)
        # The verified member id is as personal as the typed one (SPEC V4, docs/identity.md).
        .values(identity=None)
        # The address the chat came from is personal data too (SPEC A10, docs/security.md).
        .values(client_address=None)
    )
    if result.rowcount != 1:
        return False
    await conn.execute(delete(events).where(events.c.conversation_id == conversation_id))
    return True


async def list_erasable(conn: AsyncConnection, ended_before: datetime, *, limit: int) -> list[str]:
    """Ended conversations not yet erased, ended at or before ``ended_before``; oldest first."""
    rows = await conn.execute(
        select(conversations.c.id)
        .where(conversations.c.status == Status.ENDED.value)
        .where(conversations.c.erased_at.is_(None))
        .where(conversations.c.ended_at <= ended_before)
        .order_by(conversations.c.ended_at, conversations.c.id)
        .limit(limit)
    )
    return [row.id for row in rows]
