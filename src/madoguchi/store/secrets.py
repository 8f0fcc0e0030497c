"""Secrets at rest (table ``secrets``, SPEC V15): ciphertext only, deleted when it is used up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.store.tables import secrets


@dataclass(frozen=True)
class SealedSecret:
    """A stored secret: its label and its AES-GCM nonce and ciphertext."""

    id: str
    conversation_id: str
    label: str
    nonce: bytes
    ciphertext: bytes
    expires_at: datetime


async def insert_secret(conn: AsyncConnection, sealed: SealedSecret, now: datetime) -> None:
    """Store a sealed secret in the caller's transaction."""
    await conn.execute(
        insert(secrets).values(
            id=sealed.id,
            conversation_id=sealed.conversation_id,
            label=sealed.label,
            nonce=sealed.nonce,
            ciphertext=sealed.ciphertext,
            created_at=now,
            expires_at=sealed.expires_at,
        )
    )


def _sealed(row: Any) -> SealedSecret:
    return SealedSecret(
        row.id,
        row.conversation_id,
        row.label,
        bytes(row.nonce),
        bytes(row.ciphertext),
        row.expires_at,
    )


async def take_secret(
    conn: AsyncConnection, conversation_id: str, secret_id: str
) -> SealedSecret | None:
    """Delete a conversation's secret and return what it was; None if it is not there.

    One ``DELETE … RETURNING``: of two transactions taking the same secret, the second waits
    for the first's row lock (PostgreSQL) or its turn to write (SQLite) and then finds no row,
    so a secret is handed out once at most.
    """
    result = await conn.execute(
        delete(secrets)
        .where(secrets.c.id == secret_id)
        .where(secrets.c.conversation_id == conversation_id)
        .returning(*secrets.c)
    )
    row = result.first()
    return _sealed(row) if row is not None else None


async def take_all(conn: AsyncConnection, conversation_id: str) -> list[SealedSecret]:
    """Delete every secret of a conversation; what they were, oldest first."""
    result = await conn.execute(
        delete(secrets).where(secrets.c.conversation_id == conversation_id).returning(*secrets.c)
    )
    return sorted((_sealed(row) for row in result), key=lambda s: (s.expires_at, s.id))
