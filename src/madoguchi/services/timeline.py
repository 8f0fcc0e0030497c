"""Appending events to a conversation: claim a sequence number, store, publish after commit."""

from __future__ import annotations

from typing import Any

from madoguchi.domain.conversation import EventKind, Role
from madoguchi.domain.errors import not_found
from madoguchi.domain.events import event_frame
from madoguchi.domain.records import Event
from madoguchi.services.desk import Unit, conversation_topic
from madoguchi.store import conversations as repo


async def append_event(
    unit: Unit,
    conversation_id: str,
    kind: EventKind,
    *,
    role: Role,
    author_id: str | None = None,
    author_name: str | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Append a system or lifecycle event (no client id) and queue its frame."""
    claim = await repo.next_seq(unit.conn, conversation_id)
    if claim is None:
        raise not_found()
    event = await repo.insert_event(
        unit.conn,
        conversation_id=conversation_id,
        seq=claim.seq,
        kind=kind.value,
        author_role=role,
        author_id=author_id,
        author_name=author_name,
        data=data,
        now=unit.desk.clock(),
    )
    assert event is not None  # only a client id can collide
    unit.publish(conversation_topic(conversation_id), event_frame(event))
    return event
