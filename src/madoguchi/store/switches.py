"""Desk-wide switches an admin flips without a deploy (table ``switches``), e.g. maintenance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.store.tables import switches


@dataclass(frozen=True)
class Switch:
    """One switch's stored value, and who set it when."""

    name: str
    value: dict[str, Any]
    updated_by: str | None
    updated_at: datetime


async def get_switch(conn: AsyncConnection, name: str) -> Switch | None:
    """The switch ``name`` (one primary-key lookup), or None if it was never set."""
    row = (await conn.execute(select(switches).where(switches.c.name == name))).first()
    if row is None:
        return None
    return Switch(row.name, dict(row.value), row.updated_by, row.updated_at)


async def set_switch(
    conn: AsyncConnection, name: str, value: dict[str, Any], *, by: str | None, now: datetime
) -> None:
    """Store ``value`` under ``name``, replacing what was there."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(switches).values(name=name, value=value, updated_by=by, updated_at=now)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[switches.c.name],
            set_={"value": stmt.excluded.value, "updated_by": by, "updated_at": now},
        )
    )
