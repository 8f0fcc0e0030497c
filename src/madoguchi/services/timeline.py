"""Appending events to a conversation: claim a sequence number, store, publish after commit."""

from __future__ import annotations

from typing import Any

from madoguchi.domain.conversation import EventKind, Role
from madoguchi.domain.errors import not_found
from madoguchi.domain.events import event_frame
from madoguchi.domain.records import Event
from madoguchi.services.desk import Unit, conversation_topic
from madoguchi.store import conversations as repo


async def record_event(
    unit: Unit,
    conversation_id: str,
    seq: int,
    kind: EventKind,
    *,
    role: Role,
    author_id: str | None = None,
    author_name: str | None = None,
    body: str | None = None,
    client_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> Event | None:
    """Store an event at a claimed ``seq`` and queue its frame; None if ``client_id`` was used."""
    event = await repo.insert_event(
        unit.conn,
        conversation_id=conversation_id,
        seq=seq,
        kind=kind.value,
        author_role=role,
        author_id=author_id,
        author_name=author_name,
        body=body,
        client_id=client_id,
        data=data,
        now=unit.desk.clock(),
    )
    if event is not None:
        unit.publish(conversation_topic(conversation_id), event_frame(event))
    return event


async def append_event(
    unit: Unit,
    conversation_id: str,
    kind: EventKind,
    *,
    role: Role,
    author_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Append a system or lifecycle event (no client id): claim the next seq and record it."""
    claim = await repo.next_seq(unit.conn, conversation_id)
    if claim is None:
        raise not_found()
    event = await record_event(
        unit, conversation_id, claim.seq, kind, role=role, author_id=author_id, data=data
    )
    assert event is not None  # only a client id can collide
    return event
