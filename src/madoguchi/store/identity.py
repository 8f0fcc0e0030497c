"""The verified member on a conversation (SPEC V4): written once, when the chat starts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.store.tables import conversations


async def set_identity(
    conn: AsyncConnection, conversation_id: str, identity: dict[str, Any]
) -> None:
    """Record who the host app vouched for: {member_id, plan, verified_at}."""
    await conn.execute(
        update(conversations).where(conversations.c.id == conversation_id).values(identity=identity)
    )
