"""Durable timers: deadlines in the database, claimed by whichever node's scheduler comes first."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.store.tables import timers


@dataclass(frozen=True)
class Timer:
    """A deadline and what to do at it: ``kind`` names the handler, ``payload`` its arguments."""

    key: str
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int = 0


async def upsert(
    conn: AsyncConnection,
    timer: Timer,
    now: datetime,
    *,
    keep_earlier: bool = False,
) -> None:
    """Store a timer; one already under its key is replaced (deadline, payload, attempts), or
    with ``keep_earlier`` keeps its deadline if that is sooner."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    values = {
        "key": timer.key,
        "kind": timer.kind,
        "due_at": timer.due_at,
        "payload": timer.payload,
        "attempts": timer.attempts,
        "created_at": now,
    }
    stmt = dialect.insert(timers).values(**values)
    replaced: dict[str, Any] = {name: stmt.excluded[name] for name in values if name != "key"}
    if keep_earlier:
        replaced["due_at"] = case(
            (timers.c.due_at < stmt.excluded.due_at, timers.c.due_at),
            else_=stmt.excluded.due_at,
        )
    await conn.execute(stmt.on_conflict_do_update(index_elements=[timers.c.key], set_=replaced))


async def postpone_kind(conn: AsyncConnection, kind: str, until: datetime) -> int:
    """Move every timer of ``kind`` due before ``until`` to ``until``; how many moved."""
    result = await conn.execute(
        update(timers)
        .where(timers.c.kind == kind)
        .where(timers.c.due_at < until)
        .values(due_at=until)
    )
    return int(result.rowcount)


async def delete_timer(conn: AsyncConnection, key: str) -> bool:
    """Remove the timer under ``key``; whether there was one."""
    result = await conn.execute(delete(timers).where(timers.c.key == key))
    return result.rowcount > 0


async def insert_if_absent(conn: AsyncConnection, timer: Timer, now: datetime) -> bool:
    """Store a timer unless its key is set already; whether it was stored.

    For desk-wide timers every node ensures at start: nodes starting together leave the
    first one's deadline as it is instead of pushing it on.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(timers)
        .values(
            key=timer.key,
            kind=timer.kind,
            due_at=timer.due_at,
            payload=timer.payload,
            attempts=timer.attempts,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=[timers.c.key])
        .returning(timers.c.key)
    )
    return (await conn.execute(stmt)).first() is not None


async def delete_keyed_to(conn: AsyncConnection, subject_id: str) -> int:
    """Drop every timer keyed ``<purpose>:<subject_id>`` (e.g. all of a conversation's).

    Ids are random and long, so the suffix names that one subject alone.
    """
    result = await conn.execute(
        delete(timers).where(timers.c.key.endswith(f":{subject_id}", autoescape=True))
    )
    return result.rowcount


async def get_timer(conn: AsyncConnection, key: str) -> Timer | None:
    """The timer under ``key``, if any."""
    row = (await conn.execute(select(timers).where(timers.c.key == key))).first()
    return _timer(row) if row else None


def _due(now: datetime, kinds: Collection[str]) -> ColumnElement[bool]:
    return and_(timers.c.due_at <= now, timers.c.kind.in_(kinds))


async def count_due(conn: AsyncConnection, now: datetime, kinds: Collection[str]) -> int:
    """How many timers of these kinds are due at ``now``."""
    query = select(func.count()).select_from(timers).where(_due(now, kinds))
    return int((await conn.execute(query)).scalar_one())


async def next_due_at(conn: AsyncConnection, kinds: Collection[str]) -> datetime | None:
    """The earliest deadline among timers of these kinds."""
    query = select(func.min(timers.c.due_at)).where(timers.c.kind.in_(kinds))
    found: datetime | None = (await conn.execute(query)).scalar_one()
    return found


async def claim_due(conn: AsyncConnection, now: datetime, kinds: Collection[str]) -> Timer | None:
    """Take the earliest due timer out of the table for this transaction; None if none is free.

    The row is deleted here and the deletion commits with the handler's effects, or rolls
    back with them. On PostgreSQL, ``SKIP LOCKED`` passes over rows another node's open
    transaction holds, and the row stays locked until this one ends: no other node can fire
    it meanwhile, and a node that dies releases it with its connection. On SQLite the
    process's write lock does the same (one node).
    """
    chosen = (
        select(timers.c.key)
        .where(_due(now, kinds))
        .order_by(timers.c.due_at, timers.c.key)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    row = (
        await conn.execute(delete(timers).where(timers.c.key == chosen).returning(timers))
    ).first()
    return _timer(row) if row else None


async def push_back(conn: AsyncConnection, failed: Timer, due_at: datetime) -> bool:
    """Count a failed run and move the deadline to ``due_at``.

    Only if the timer is still the one that failed: one rescheduled, cancelled or fired
    meanwhile is left as it is. Whether it was pushed back.
    """
    result = await conn.execute(
        update(timers)
        .where(
            timers.c.key == failed.key,
            timers.c.due_at == failed.due_at,
            timers.c.attempts == failed.attempts,
        )
        .values(attempts=failed.attempts + 1, due_at=due_at)
    )
    return result.rowcount > 0


def _timer(row: Any) -> Timer:
    return Timer(
        key=row.key,
        kind=row.kind,
        due_at=row.due_at,
        payload=dict(row.payload or {}),
        attempts=row.attempts,
    )
