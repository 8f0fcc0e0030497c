"""Plain records the store returns and the services pass around."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from madoguchi.domain.conversation import Role, Status


@dataclass(frozen=True)
class Operator:
    """An operator account (SPEC A1, A2)."""

    id: str
    email: str
    name: str
    role: str  # operator | supervisor | admin
    status: str  # online | away | offline
    languages: tuple[str, ...]
    departments: tuple[str, ...]
    capacity: int
    last_assigned_at: datetime | None = None
    seen_at: datetime | None = None


@dataclass(frozen=True)
class Conversation:
    """A conversation's state, without its events."""

    id: str
    visitor_id: str
    topic: str
    department: str
    language: str
    status: Status
    operator_id: str | None
    operator_name: str | None
    last_seq: int
    created_at: datetime
    assigned_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    prechat: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    queued_at: datetime | None = None
    offered_to: str | None = None
    offer_expires_at: datetime | None = None
    passed_by: tuple[str, ...] = ()
    last_activity_at: datetime | None = None
    last_visitor_at: datetime | None = None
    last_operator_at: datetime | None = None
    warned: dict[str, datetime] = field(default_factory=dict)  # limit → the end announced
    follow_up_at: datetime | None = None
    rating: int | None = None
    rating_comment: str | None = None
    rated_at: datetime | None = None
    erased_at: datetime | None = None
    # The member a host app vouched for (SPEC V4): {member_id, plan, verified_at}, else None.
    identity: dict[str, Any] | None = None
    # V9: the visitor gave an address for mail while away, and the last seq known to have
    # reached them (live, or in an away mail).
    mail_when_away: bool = False
    visitor_has_seq: int = 0


@dataclass(frozen=True)
class Event:
    """One stored event of a conversation; ``seq`` is its place in the conversation."""

    conversation_id: str
    seq: int
    id: str
    kind: str
    author_role: Role
    author_id: str | None
    author_name: str | None
    client_id: str | None
    body: str | None
    data: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class Actor:
    """Who is acting: a visitor or an operator, as authenticated by the web layer."""

    role: Role
    id: str
    name: str | None = None
    departments: tuple[str, ...] = ()
    staff_role: str | None = None  # operator | supervisor | admin, for operators
    network: str | None = None  # the client's address as the node saw it (bans, rate limits)
    # A visitor who came back by an emailed link (V9, docs/email.md) acts on that one
    # conversation only; None: on all of theirs.
    conversation: str | None = None

    @property
    def is_supervisor(self) -> bool:
        """Supervisors and admins may see every conversation."""
        return self.staff_role in ("supervisor", "admin")

    def owns(self, visitor_id: str, conversation_id: str) -> bool:
        """Whether this visitor is the conversation's (and their token reaches it)."""
        return self.id == visitor_id and self.conversation in (None, conversation_id)
