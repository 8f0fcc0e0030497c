"""Operators in a chat besides its assigned one: supervisors who joined it (SPEC A9)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.store.tables import conversation_participants, operators


async def add(conn: AsyncConnection, conversation_id: str, operator_id: str, now: datetime) -> bool:
    """Add an operator to a conversation; False if they were in it already."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    result = await conn.execute(
        dialect.insert(conversation_participants)
        .values(conversation_id=conversation_id, operator_id=operator_id, joined_at=now)
        .on_conflict_do_nothing()
        .returning(conversation_participants.c.operator_id)
    )
    return result.first() is not None


async def remove(conn: AsyncConnection, conversation_id: str, operator_id: str) -> None:
    """Take an operator out of a conversation's participants (they became its operator)."""
    await conn.execute(
        delete(conversation_participants)
        .where(conversation_participants.c.conversation_id == conversation_id)
        .where(conversation_participants.c.operator_id == operator_id)
    )


async def is_participant(conn: AsyncConnection, conversation_id: str, operator_id: str) -> bool:
    """Whether an operator joined this conversation."""
    row = await conn.execute(
        select(conversation_participants.c.operator_id)
        .where(conversation_participants.c.conversation_id == conversation_id)
        .where(conversation_participants.c.operator_id == operator_id)
    )
    return row.first() is not None


async def list_by_conversation(
    conn: AsyncConnection, conversation_ids: Sequence[str]
) -> dict[str, list[dict[str, str]]]:
    """Each conversation's joined operators ({id, name}), in the order they joined."""
    if not conversation_ids:
        return {}
    rows = await conn.execute(
        select(conversation_participants.c.conversation_id, operators.c.id, operators.c.name)
        .join(operators, operators.c.id == conversation_participants.c.operator_id)
        .where(conversation_participants.c.conversation_id.in_(list(conversation_ids)))
        .order_by(conversation_participants.c.joined_at, operators.c.id)
    )
    found: dict[str, list[dict[str, str]]] = {}
    for conv_id, op_id, name in rows:
        found.setdefault(conv_id, []).append({"id": op_id, "name": name})
    return found
