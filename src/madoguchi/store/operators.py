"""Operators, their sessions, and the load figures routing needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.domain.conversation import Status
from madoguchi.domain.records import Operator
from madoguchi.domain.routing import Candidate
from madoguchi.store.ids import new_id
from madoguchi.store.tables import conversations, operators, sessions


def _operator(row: Any) -> Operator:
    return Operator(
        id=row.id,
        email=row.email,
        name=row.name,
        role=row.role,
        status=row.status,
        languages=tuple(row.languages),
        departments=tuple(row.departments),
        capacity=row.capacity,
        last_assigned_at=row.last_assigned_at,
        seen_at=row.seen_at,
    )


async def insert_operator(
    conn: AsyncConnection,
    *,
    email: str,
    name: str,
    password_hash: str,
    role: str,
    languages: Sequence[str],
    departments: Sequence[str],
    capacity: int,
    now: datetime,
) -> Operator:
    """Create an operator, offline."""
    op_id = new_id("o")
    await conn.execute(
        operators.insert().values(
            id=op_id,
            email=email,
            name=name,
            password_hash=password_hash,
            role=role,
            status="offline",
            languages=list(languages),
            departments=list(departments),
            capacity=capacity,
            created_at=now,
        )
    )
    found = await get_operator(conn, op_id)
    assert found is not None
    return found


async def get_operator(conn: AsyncConnection, operator_id: str) -> Operator | None:
    """An operator by id."""
    row = (await conn.execute(select(operators).where(operators.c.id == operator_id))).first()
    return _operator(row) if row else None


async def get_login(conn: AsyncConnection, email: str) -> tuple[Operator, str] | None:
    """An operator and their password hash, by e-mail (case-insensitive)."""
    row = (
        await conn.execute(select(operators).where(operators.c.email == email.strip().lower()))
    ).first()
    return (_operator(row), row.password_hash) if row else None


async def list_operators(conn: AsyncConnection) -> list[Operator]:
    """Every operator account, by name (the transfer picker, the supervisor's overview)."""
    rows = await conn.execute(select(operators).order_by(operators.c.name, operators.c.id))
    return [_operator(row) for row in rows]


async def count_operators(conn: AsyncConnection) -> int:
    """How many operator accounts exist."""
    return int((await conn.execute(select(func.count()).select_from(operators))).scalar_one())


async def set_status(conn: AsyncConnection, operator_id: str, status: str) -> None:
    """Set an operator's presence."""
    await conn.execute(update(operators).where(operators.c.id == operator_id).values(status=status))


async def set_password_hash(conn: AsyncConnection, operator_id: str, password_hash: str) -> None:
    """Replace a password hash (argon2 rehash on login, or a reset)."""
    await conn.execute(
        update(operators).where(operators.c.id == operator_id).values(password_hash=password_hash)
    )


async def mark_seen(conn: AsyncConnection, operator_id: str, now: datetime) -> None:
    """Remember that the operator's console was there at ``now``."""
    await conn.execute(update(operators).where(operators.c.id == operator_id).values(seen_at=now))


async def mark_assigned(conn: AsyncConnection, operator_id: str, now: datetime) -> None:
    """Remember when an operator last got a chat (the least-active tie-break)."""
    await conn.execute(
        update(operators).where(operators.c.id == operator_id).values(last_assigned_at=now)
    )


async def get_candidates(
    conn: AsyncConnection,
    *,
    lock: bool,
    operator_id: str | None = None,
    alive_since: datetime | None = None,
) -> list[Candidate]:
    """Online operators with their active-chat counts, for routing.

    With ``lock``, the operators' rows are locked until the transaction ends (PostgreSQL;
    SQLite serializes writers anyway and the clause is left out), so two nodes routing at once
    cannot both fill an operator's last free slot. With
    ``alive_since``, an operator whose console was last seen before it is left out: their
    node may be dead, and the timer that sets them offline has not fired yet (domain/presence.py).
    """
    query = select(operators).where(operators.c.status == "online").order_by(operators.c.id)
    if operator_id is not None:
        query = query.where(operators.c.id == operator_id)
    if alive_since is not None:
        # Never seen: no console ever proved itself (an API client); judged by status alone.
        query = query.where(or_(operators.c.seen_at.is_(None), operators.c.seen_at >= alive_since))
    if lock:
        query = query.with_for_update()
    rows = (await conn.execute(query)).all()
    if not rows:
        return []
    counts = await load_counts(conn, [row.id for row in rows])
    return [
        Candidate(
            operator_id=row.id,
            online=True,
            departments=frozenset(row.departments),
            languages=frozenset(row.languages),
            capacity=row.capacity,
            load=counts.get(row.id, 0),
            last_assigned_at=row.last_assigned_at,
        )
        for row in rows
    ]


async def active_counts(conn: AsyncConnection, operator_ids: Sequence[str]) -> dict[str, int]:
    """How many active conversations each of these operators holds."""
    rows = await conn.execute(
        select(conversations.c.operator_id, func.count())
        .where(conversations.c.status == Status.ACTIVE.value)
        .where(conversations.c.operator_id.in_(list(operator_ids)))
        .group_by(conversations.c.operator_id)
    )
    return {row[0]: int(row[1]) for row in rows}


async def load_counts(conn: AsyncConnection, operator_ids: Sequence[str]) -> dict[str, int]:
    """Active conversations plus waiting ones offered to each operator: what fills capacity."""
    counts = await active_counts(conn, operator_ids)
    rows = await conn.execute(
        select(conversations.c.offered_to, func.count())
        .where(conversations.c.status == Status.WAITING.value)
        .where(conversations.c.offered_to.in_(list(operator_ids)))
        .group_by(conversations.c.offered_to)
    )
    for operator_id, offered in rows:
        counts[operator_id] = counts.get(operator_id, 0) + int(offered)
    return counts


async def insert_session(
    conn: AsyncConnection,
    *,
    token_hash: str,
    operator_id: str,
    csrf_token: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    """Store a login session (by the hash of its token)."""
    await conn.execute(
        sessions.insert().values(
            id=token_hash,
            operator_id=operator_id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
        )
    )


async def get_session(
    conn: AsyncConnection, token_hash: str, now: datetime
) -> tuple[Operator, str] | None:
    """The operator and CSRF token of an unexpired session."""
    row = (
        await conn.execute(
            select(operators, sessions.c.csrf_token)
            .join(sessions, sessions.c.operator_id == operators.c.id)
            .where(sessions.c.id == token_hash)
            .where(sessions.c.expires_at > now)
        )
    ).first()
    return (_operator(row), row.csrf_token) if row else None


async def delete_session(conn: AsyncConnection, token_hash: str) -> None:
    """Forget a session (log out)."""
    await conn.execute(sessions.delete().where(sessions.c.id == token_hash))
