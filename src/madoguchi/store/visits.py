"""A visitor's live conversations, for the several-conversations rule (domain/visits.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.domain.visits import LIVE, LiveChat
from madoguchi.store.tables import conversations, visitors


async def lock_visitor(conn: AsyncConnection, visitor_id: str) -> None:
    """Hold the visitor's row until the transaction ends, so that two starts at once (a
    double click, two tabs) are checked one after the other. SQLite's writes already take
    turns (store/database.py)."""
    if conn.dialect.name == "sqlite":
        return
    await conn.execute(select(visitors.c.id).where(visitors.c.id == visitor_id).with_for_update())


async def list_live_chats(conn: AsyncConnection, visitor_id: str) -> list[LiveChat]:
    """The visitor's waiting and active conversations, oldest first (index visitor_id, status)."""
    rows = await conn.execute(
        select(conversations.c.id, conversations.c.topic)
        .where(conversations.c.visitor_id == visitor_id)
        .where(conversations.c.status.in_([status.value for status in LIVE]))
        .order_by(conversations.c.created_at, conversations.c.id)
    )
    return [LiveChat(row.id, row.topic) for row in rows]
