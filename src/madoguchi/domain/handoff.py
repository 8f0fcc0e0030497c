"""Transfers, private notes and supervisors, as rules and frames (SPEC A6, A9).

What a visitor may never read lives here too: an operator-only event (a private note) reaches a
visitor only as a ``hidden`` placeholder that keeps its ``seq``, so that the visitor's client,
which treats a missing seq as a gap to fill, never waits for a number it will not get.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any

from madoguchi.domain.conversation import EventKind, Role, Status
from madoguchi.domain.errors import DomainError
from madoguchi.domain.records import Actor, Conversation, Event

# Private notes, the time-limit countdown (the visitor is not rushed, P4), the flag on a
# message with abuse words (P9: the visitor is not told), and the note that the visitor was
# mailed what they missed (V9: the mail itself is theirs).
OPERATOR_ONLY = frozenset(
    {
        EventKind.NOTE.value,
        EventKind.TIME_NOTICE.value,
        EventKind.FLAGGED.value,
        EventKind.AWAY_MAILED.value,
    }
)
HIDDEN = "hidden"  # the kind a visitor sees in place of an operator-only event

TRANSFER = "transfer"
TAKE_OVER = "take_over"


def is_operator_only(kind: str) -> bool:
    """Whether events of this kind are for operators' eyes only."""
    return kind in OPERATOR_ONLY


def hide(event: Event) -> Event:
    """The placeholder a visitor gets for an operator-only event: its place, nothing of it."""
    return replace(
        event,
        kind=HIDDEN,
        author_role=Role.SYSTEM,
        author_id=None,
        author_name=None,
        client_id=None,
        body=None,
        data={},
    )


def for_visitor(event: Event) -> Event:
    """The event as a visitor may see it."""
    return hide(event) if is_operator_only(event.kind) else event


def hide_frame(frame: dict[str, Any]) -> dict[str, Any]:
    """``event_frame(hide(event))`` from the frame of ``event``, for the bus path."""
    return {
        "type": "event",
        "conversation_id": frame["conversation_id"],
        "seq": frame["seq"],
        "kind": HIDDEN,
        "id": frame["id"],
        "at": frame["at"],
        "client_id": None,
        "author": {"role": Role.SYSTEM.value, "name": None},
        "body": None,
        "data": {},
    }


def check_supervisor(actor: Actor) -> None:
    """Raise unless the actor is a supervisor or an admin."""
    if not actor.is_supervisor:
        raise DomainError("not_supervisor", "Only supervisors and admins may do this.", 403)


def check_can_hand_off(conv: Conversation, actor: Actor) -> None:
    """Raise unless ``actor`` may transfer ``conv``: its operator, or a supervisor, while active."""
    if conv.operator_id != actor.id and not actor.is_supervisor:
        raise DomainError("forbidden", "Only the assigned operator may transfer this chat.", 403)
    check_active(conv)


def check_active(conv: Conversation) -> None:
    """Raise unless an operator holds the conversation now."""
    if conv.status is Status.ENDED:
        raise DomainError("conversation_ended", "This conversation has ended.", 409)
    if conv.status is not Status.ACTIVE:
        raise DomainError("not_active", "Only a chat an operator holds can be handed over.", 409)


def check_transfer_target(
    operator_id: str | None, department: str | None, departments: Collection[str]
) -> None:
    """Raise unless exactly one target is given and a department one exists."""
    if (operator_id is None) == (department is None):
        raise DomainError("bad_request", "Give either operator_id or department, not both.")
    if department is not None and department not in departments:
        raise DomainError("unknown_department", f"There is no department {department!r}.")


def transferred_data(
    *,
    from_name: str | None,
    to_name: str | None,
    department: str,
    department_name: dict[str, str],
    reason: str = TRANSFER,
) -> dict[str, Any]:
    """The data of a ``transferred`` event; ``to`` is None when it went to a department's queue.

    The department's name goes along in every language, so that each reader's client can say
    where the chat went in their own. No note text: the visitor reads this event.
    """
    return {
        "from": {"name": from_name},
        "to": {"name": to_name} if to_name is not None else None,
        "department": department,
        "department_name": department_name,
        "reason": reason,
    }


def unassigned_frame(conversation_id: str, reason: str, to_name: str | None) -> dict[str, Any]:
    """The ``unassigned`` frame: a chat is no longer yours (transferred, or taken over)."""
    return {
        "type": "unassigned",
        "conversation_id": conversation_id,
        "reason": reason,
        "to": {"name": to_name} if to_name is not None else None,
    }
