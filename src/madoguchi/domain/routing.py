"""Routing: which operator gets a waiting conversation (SPEC A3)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Candidate:
    """An operator as routing sees them: skills, capacity and current load."""

    operator_id: str
    online: bool
    departments: frozenset[str]
    languages: frozenset[str]
    capacity: int
    active_chats: int
    last_assigned_at: datetime | None


def can_take(candidate: Candidate, department: str, language: str) -> bool:
    """Whether this operator may be given a conversation of this department and language."""
    return (
        candidate.online
        and department in candidate.departments
        and language in candidate.languages
        and candidate.active_chats < candidate.capacity
    )


def choose_least_active(
    candidates: Iterable[Candidate], department: str, language: str
) -> Candidate | None:
    """The eligible operator with the fewest chats; ties go to whoever waited longest for one.

    The tie-break spreads work evenly: without it, two idle operators would see the
    first of them (by id) get every new chat.
    """
    eligible = [c for c in candidates if can_take(c, department, language)]
    if not eligible:
        return None
    return min(
        eligible,
        key=lambda c: (
            c.active_chats,
            c.last_assigned_at is not None,
            c.last_assigned_at or datetime.min,
            c.operator_id,
        ),
    )
