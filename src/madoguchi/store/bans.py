"""Bans (table ``bans``, SPEC A10) and the visitor's address kept on a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.store.ids import new_id
from madoguchi.store.tables import bans, conversations


@dataclass(frozen=True)
class Ban:
    """One ban as stored."""

    id: str
    visitor_id: str
    network: str | None
    reason: str
    duration: str
    conversation_id: str | None
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    lifted_at: datetime | None
    lifted_by: str | None


def _ban(row: Any) -> Ban:
    return Ban(
        row.id,
        row.visitor_id,
        row.network,
        row.reason,
        row.duration,
        row.conversation_id,
        row.created_by,
        row.created_at,
        row.expires_at,
        row.lifted_at,
        row.lifted_by,
    )


def _in_force(now: datetime) -> Any:
    return and_(
        bans.c.lifted_at.is_(None), or_(bans.c.expires_at.is_(None), bans.c.expires_at > now)
    )


async def insert_ban(
    conn: AsyncConnection,
    *,
    visitor_id: str,
    network: str | None,
    reason: str,
    duration: str,
    conversation_id: str | None,
    created_by: str | None,
    now: datetime,
    expires_at: datetime | None,
) -> str:
    """Add a ban in the caller's transaction."""
    ban_id = new_id("b")
    await conn.execute(
        insert(bans).values(
            id=ban_id,
            visitor_id=visitor_id,
            network=network,
            reason=reason,
            duration=duration,
            conversation_id=conversation_id,
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return ban_id


async def find_in_force(
    conn: AsyncConnection, *, visitor_id: str | None, network: str | None, now: datetime
) -> str | None:
    """The id of a ban in force on this visitor or this network, if any: one indexed query."""
    keys = []
    if visitor_id is not None:
        keys.append(bans.c.visitor_id == visitor_id)
    if network is not None:
        keys.append(bans.c.network == network)
    if not keys:
        return None
    query = select(bans.c.id).where(or_(*keys), _in_force(now)).limit(1)
    found: str | None = (await conn.execute(query)).scalar()
    return found


async def list_in_force(conn: AsyncConnection, now: datetime) -> list[Ban]:
    """Every ban in force, newest first."""
    query = select(bans).where(_in_force(now)).order_by(bans.c.created_at.desc(), bans.c.id)
    return [_ban(row) for row in await conn.execute(query)]


async def get_ban(conn: AsyncConnection, ban_id: str, *, lock: bool = False) -> Ban | None:
    """A ban by id (``lock``: FOR UPDATE on PostgreSQL)."""
    query = select(bans).where(bans.c.id == ban_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return _ban(row) if row else None


async def lift(conn: AsyncConnection, ban_id: str, *, by: str, now: datetime) -> None:
    """Mark a ban lifted; it stays, for the audit trail."""
    await conn.execute(update(bans).where(bans.c.id == ban_id).values(lifted_at=now, lifted_by=by))


async def set_client_address(
    conn: AsyncConnection, conversation_id: str, address: str | None
) -> None:
    """Keep the address a conversation was made from (what a network ban covers)."""
    await conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .values(client_address=address)
    )


async def get_client_address(conn: AsyncConnection, conversation_id: str) -> str | None:
    """The address a conversation was made from; None if unknown or erased."""
    query = select(conversations.c.client_address).where(conversations.c.id == conversation_id)
    found: str | None = (await conn.execute(query)).scalar()
    return found
