"""The frames clients receive, built from records (docs/protocol.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from madoguchi.domain.records import Conversation, Event, Operator


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds and a Z, as every frame writes times."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_frame(event: Event) -> dict[str, Any]:
    """The ``event`` frame for a stored event."""
    return {
        "type": "event",
        "conversation_id": event.conversation_id,
        "seq": event.seq,
        "kind": event.kind,
        "id": event.id,
        "at": iso(event.created_at),
        "client_id": event.client_id,
        "author": {"role": event.author_role.value, "name": event.author_name},
        "body": event.body,
        "data": event.data,
    }


def conversation_summary(conv: Conversation, *, for_operator: bool) -> dict[str, Any]:
    """A conversation as the visitor sees it, or (``for_operator``) with the visitor's context."""
    summary: dict[str, Any] = {
        "id": conv.id,
        "status": conv.status.value,
        "topic": conv.topic,
        "department": conv.department,
        "language": conv.language,
        "created_at": iso(conv.created_at),
        "queued_at": iso(conv.queued_at),
        # The last message, typing or assignment (null before any): the widget's list of
        # conversations shows it (SPEC V16).
        "last_activity_at": iso(conv.last_activity_at),
        "last_seq": conv.last_seq,
        "end_reason": conv.end_reason,
        # Set once retention erased the content (P10): the events are gone, the facts stay.
        "erased_at": iso(conv.erased_at),
        # The post-chat survey was answered (SPEC V12): the widget does not offer it again.
        "rated": conv.rated_at is not None,
        # The address the visitor gave (V9, V11): the widget's "Email me the transcript".
        "email": conv.prechat.get("email"),
        "operator": None,
    }
    if conv.operator_id is not None:
        summary["operator"] = (
            {"id": conv.operator_id, "name": conv.operator_name}
            if for_operator
            else {"name": conv.operator_name}
        )
    if for_operator:
        # Verified only through the host app's signed token (SPEC V4); the member id the
        # visitor typed stays in prechat, shown as unverified.
        identity = conv.identity or {}
        summary["visitor"] = {
            "id": conv.visitor_id,
            "verified": bool(identity),
            "member_id": identity.get("member_id"),
            "plan": identity.get("plan"),
        }
        summary["prechat"] = {
            key: conv.prechat.get(key)
            for key in ("member_id", "contract_name", "contact_person", "name", "email")
        }
        summary["context"] = {
            key: conv.context.get(key)
            for key in ("page_url", "user_agent", "language", "time_zone", "screen")
        }
        summary["rating"] = rating_view(conv)
    return summary


def rating_view(conv: Conversation) -> dict[str, Any] | None:
    """The visitor's survey answer as operators see it (SPEC V12), or None before one."""
    if conv.rating is None:
        return None
    return {"score": conv.rating, "comment": conv.rating_comment, "at": iso(conv.rated_at)}


def assigned_frame(conv: Conversation) -> dict[str, Any]:
    """The ``assigned`` frame telling an operator a conversation is now theirs."""
    return {"type": "assigned", "conversation": conversation_summary(conv, for_operator=True)}


def offered_frame(conv: Conversation) -> dict[str, Any]:
    """The ``offered`` frame: a chat waits for this operator to accept it until ``expires_at``."""
    return {
        "type": "offered",
        "conversation": conversation_summary(conv, for_operator=True),
        "expires_at": iso(conv.offer_expires_at),
    }


def offer_withdrawn_frame(conversation_id: str, reason: str) -> dict[str, Any]:
    """The ``offer_withdrawn`` frame: an offer lapsed, was declined or went to someone else."""
    return {"type": "offer_withdrawn", "conversation_id": conversation_id, "reason": reason}


def queue_changed_frame(department: str) -> dict[str, Any]:
    """The ``queue_changed`` frame telling operators a department's waiting list changed."""
    return {"type": "queue_changed", "department": department}


def operator_view(op: Operator) -> dict[str, Any]:
    """An operator's own account as the console shows it."""
    return {
        "id": op.id,
        "email": op.email,
        "name": op.name,
        "role": op.role,
        "status": op.status,
        "languages": list(op.languages),
        "departments": list(op.departments),
        "capacity": op.capacity,
    }
