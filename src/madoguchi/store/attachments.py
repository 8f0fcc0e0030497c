"""Attachments' rows, and their bytes when the database keeps them (SPEC V6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.domain.attachments import ScanStatus
from madoguchi.domain.conversation import Role
from madoguchi.store.tables import attachment_blobs, attachments


@dataclass(frozen=True)
class Attachment:
    """One shared file, without its bytes."""

    id: str
    conversation_id: str
    uploader_role: Role
    uploader_id: str
    client_id: str
    name: str
    size: int
    kind: str
    storage: str
    status: ScanStatus
    reason: str | None
    signature: str | None
    created_at: datetime
    scanned_at: datetime | None


def _attachment(row: Row[tuple[object, ...]]) -> Attachment:
    values = row._mapping
    return Attachment(
        id=values["id"],
        conversation_id=values["conversation_id"],
        uploader_role=Role(values["uploader_role"]),
        uploader_id=values["uploader_id"],
        client_id=values["client_id"],
        name=values["name"],
        size=values["size"],
        kind=values["kind"],
        storage=values["storage"],
        status=ScanStatus(values["status"]),
        reason=values["reason"],
        signature=values["signature"],
        created_at=values["created_at"],
        scanned_at=values["scanned_at"],
    )


async def insert_attachment(
    conn: AsyncConnection,
    *,
    attachment_id: str,
    conversation_id: str,
    uploader_role: Role,
    uploader_id: str,
    client_id: str,
    name: str,
    size: int,
    kind: str,
    storage: str,
    status: ScanStatus,
    now: datetime,
) -> Attachment | None:
    """Store a new attachment's row; None when ``client_id`` was used in the conversation.

    ON CONFLICT DO NOTHING keeps the caller's transaction usable when a retry collides.
    """
    values = {
        "id": attachment_id,
        "conversation_id": conversation_id,
        "uploader_role": uploader_role.value,
        "uploader_id": uploader_id,
        "client_id": client_id,
        "name": name,
        "size": size,
        "kind": kind,
        "storage": storage,
        "status": status.value,
        "reason": None,
        "signature": None,
        "created_at": now,
        "scanned_at": now if status is ScanStatus.CLEAN else None,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(attachments)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["conversation_id", "client_id"])
        .returning(attachments.c.id)
    )
    if (await conn.execute(stmt)).first() is None:
        return None
    row = (await conn.execute(select(attachments).where(attachments.c.id == values["id"]))).one()
    return _attachment(row)


async def get_attachment(conn: AsyncConnection, attachment_id: str) -> Attachment | None:
    """An attachment by id."""
    row = (await conn.execute(select(attachments).where(attachments.c.id == attachment_id))).first()
    return _attachment(row) if row is not None else None


async def get_by_client_id(
    conn: AsyncConnection, conversation_id: str, client_id: str
) -> Attachment | None:
    """The attachment a client id made in a conversation."""
    row = (
        await conn.execute(
            select(attachments)
            .where(attachments.c.conversation_id == conversation_id)
            .where(attachments.c.client_id == client_id)
        )
    ).first()
    return _attachment(row) if row is not None else None


async def count_for_conversation(conn: AsyncConnection, conversation_id: str) -> int:
    """How many files a conversation holds (refused ones count: they were shared)."""
    return int(
        (
            await conn.execute(
                select(func.count())
                .select_from(attachments)
                .where(attachments.c.conversation_id == conversation_id)
            )
        ).scalar_one()
    )


async def list_for_conversation(conn: AsyncConnection, conversation_id: str) -> list[Attachment]:
    """A conversation's attachments, oldest first."""
    rows = await conn.execute(
        select(attachments)
        .where(attachments.c.conversation_id == conversation_id)
        .order_by(attachments.c.created_at, attachments.c.id)
    )
    return [_attachment(row) for row in rows]


async def set_scanned(
    conn: AsyncConnection,
    attachment_id: str,
    status: ScanStatus,
    now: datetime,
    *,
    reason: str | None = None,
    signature: str | None = None,
) -> bool:
    """End a scan that is still running; whether this call ended it (a second one does not)."""
    result = await conn.execute(
        update(attachments)
        .where(attachments.c.id == attachment_id)
        .where(attachments.c.status == ScanStatus.SCANNING.value)
        .values(status=status.value, reason=reason, signature=signature, scanned_at=now)
    )
    return result.rowcount == 1


async def put_blob(conn: AsyncConnection, attachment_id: str, data: bytes) -> None:
    """Keep an attachment's bytes in the database."""
    await conn.execute(insert(attachment_blobs).values(attachment_id=attachment_id, data=data))


async def get_blob(conn: AsyncConnection, attachment_id: str) -> bytes | None:
    """An attachment's bytes kept in the database, or None."""
    row = (
        await conn.execute(
            select(attachment_blobs.c.data).where(attachment_blobs.c.attachment_id == attachment_id)
        )
    ).first()
    return bytes(row.data) if row is not None else None


async def delete_blob(conn: AsyncConnection, attachment_id: str) -> None:
    """Forget an attachment's bytes kept in the database (none: nothing happens)."""
    await conn.execute(
        delete(attachment_blobs).where(attachment_blobs.c.attachment_id == attachment_id)
    )


async def delete_for_conversation(conn: AsyncConnection, conversation_id: str) -> list[Attachment]:
    """Delete a conversation's attachments, rows and database-kept bytes; return what was there."""
    found = await list_for_conversation(conn, conversation_id)
    if found:
        ids = [attachment.id for attachment in found]
        blobs = attachment_blobs.c.attachment_id
        await conn.execute(delete(attachment_blobs).where(blobs.in_(ids)))
        await conn.execute(delete(attachments).where(attachments.c.id.in_(ids)))
    return found
