"""The visitor sockets following a conversation whose visitor wants mail when away (V9).

A row says "a live client of this conversation's visitor is on a socket until ``alive_until``":
written when the socket starts following the conversation, pushed on with each heartbeat, and
deleted when the socket closes. A socket whose client went silent, or whose node was killed,
is not deleted: its row lapses, which is what makes the answer hold across nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.store.tables import conversations, visitor_sockets


class VisitorSocket(NamedTuple):
    """One socket's row: alive until when, and the last seq it delivered to a live client."""

    socket_id: str
    alive_until: datetime
    seen_seq: int


async def register(
    conn: AsyncConnection, conversation_id: str, socket_id: str, alive_until: datetime, seen: int
) -> None:
    """The socket follows the conversation (again): alive until ``alive_until``."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(visitor_sockets).values(
        conversation_id=conversation_id, socket_id=socket_id, alive_until=alive_until, seen_seq=seen
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[visitor_sockets.c.conversation_id, visitor_sockets.c.socket_id],
            set_={"alive_until": stmt.excluded.alive_until, "seen_seq": stmt.excluded.seen_seq},
        )
    )


async def beat(
    conn: AsyncConnection, socket_id: str, alive_until: datetime, seen: dict[str, int]
) -> None:
    """The socket's client spoke: alive until ``alive_until``, and ``seen`` (conversation →
    seq) reached it."""
    for conversation_id, seq in seen.items():
        await conn.execute(
            update(visitor_sockets)
            .where(visitor_sockets.c.conversation_id == conversation_id)
            .where(visitor_sockets.c.socket_id == socket_id)
            .values(alive_until=alive_until, seen_seq=seq)
        )


async def close(conn: AsyncConnection, socket_id: str, seen: dict[str, int]) -> None:
    """The socket closed: its rows go, and what it delivered counts as the visitor's."""
    for conversation_id, seq in seen.items():
        await raise_has_seq(conn, conversation_id, seq)
        await conn.execute(
            delete(visitor_sockets)
            .where(visitor_sockets.c.conversation_id == conversation_id)
            .where(visitor_sockets.c.socket_id == socket_id)
        )


async def list_for(conn: AsyncConnection, conversation_id: str) -> Sequence[VisitorSocket]:
    """The rows of a conversation's sockets, lapsed ones too."""
    rows = await conn.execute(
        select(
            visitor_sockets.c.socket_id, visitor_sockets.c.alive_until, visitor_sockets.c.seen_seq
        ).where(visitor_sockets.c.conversation_id == conversation_id)
    )
    return [VisitorSocket(*row) for row in rows]


async def forget_lapsed(conn: AsyncConnection, conversation_id: str, now: datetime) -> None:
    """Drop the conversation's rows of sockets that lapsed before ``now``."""
    await conn.execute(
        delete(visitor_sockets)
        .where(visitor_sockets.c.conversation_id == conversation_id)
        .where(visitor_sockets.c.alive_until < now)
    )


async def forget_conversation(conn: AsyncConnection, conversation_id: str) -> None:
    """Drop every row of a conversation (its erasure)."""
    await conn.execute(
        delete(visitor_sockets).where(visitor_sockets.c.conversation_id == conversation_id)
    )


async def raise_has_seq(conn: AsyncConnection, conversation_id: str, seq: int) -> None:
    """The visitor has everything up to ``seq`` (never lowered)."""
    await conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .where(conversations.c.visitor_has_seq < seq)
        .values(visitor_has_seq=seq)
    )
