"""The audit log (table ``audit_log``): who did what when to a visitor or a secret (A10, V15)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.store.ids import new_id
from madoguchi.store.tables import audit_log


@dataclass(frozen=True)
class AuditEntry:
    """One recorded action."""

    id: str
    at: datetime
    actor_id: str | None
    action: str
    target: str
    data: dict[str, Any]


async def record(
    conn: AsyncConnection,
    *,
    actor_id: str | None,
    action: str,
    target: str,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> str:
    """Add an entry in the caller's transaction, so the action and its record commit together."""
    entry_id = new_id("a")
    await conn.execute(
        insert(audit_log).values(
            id=entry_id, at=now, actor_id=actor_id, action=action, target=target, data=data or {}
        )
    )
    return entry_id


async def list_entries(
    conn: AsyncConnection, *, target: str | None = None, limit: int = 100
) -> list[AuditEntry]:
    """The newest entries first, all or about one target."""
    query = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id).limit(limit)
    if target is not None:
        query = query.where(audit_log.c.target == target)
    return [
        AuditEntry(r.id, r.at, r.actor_id, r.action, r.target, dict(r.data))
        for r in await conn.execute(query)
    ]
