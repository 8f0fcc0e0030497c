"""Routing: which operator gets a waiting conversation (SPEC A2, A3; docs/routing.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

LEAST_ACTIVE = "least-active"
MOST_AVAILABLE = "most-available"
ROUND_ROBIN = "round-robin"
MANUAL = "manual"


@dataclass(frozen=True)
class Candidate:
    """An operator as routing sees them: skills, capacity and current load.

    ``load`` counts the chats they hold and the offers waiting on them: an operator with
    one free slot and one open offer has no room for a second offer.
    """

    operator_id: str
    online: bool
    departments: frozenset[str]
    languages: frozenset[str]
    capacity: int
    load: int
    last_assigned_at: datetime | None

    @property
    def free(self) -> int:
        """Slots left before capacity."""
        return max(self.capacity - self.load, 0)


def can_take(candidate: Candidate, department: str, language: str) -> bool:
    """Whether this operator may be given a conversation of this department and language."""
    return (
        candidate.online
        and department in candidate.departments
        and language in candidate.languages
        and candidate.load < candidate.capacity
    )


def _waited(c: Candidate) -> tuple[Any, ...]:
    # Never assigned sorts first, then whoever got their last chat longest ago.
    return (c.last_assigned_at is not None, c.last_assigned_at or datetime.min)


_ORDER: dict[str, Callable[[Candidate], tuple[Any, ...]]] = {
    # Fewest chats; ties to whoever waited longest, so that two idle operators share the work
    # instead of the first by id getting everything.
    LEAST_ACTIVE: lambda c: (c.load, *_waited(c), c.operator_id),
    # Most free slots: an operator with capacity 5 and 2 chats (3 free) before one with
    # capacity 2 and no chat (2 free).
    MOST_AVAILABLE: lambda c: (-c.free, *_waited(c), c.operator_id),
    # Whoever got a chat longest ago, whatever their load: each in turn.
    ROUND_ROBIN: lambda c: (*_waited(c), c.operator_id),
}


def choose_operator(
    mode: str,
    candidates: Iterable[Candidate],
    department: str,
    language: str,
    *,
    exclude: Iterable[str] = (),
) -> Candidate | None:
    """The eligible operator ``mode`` picks, leaving out ``exclude`` (who let an offer lapse).

    ``manual`` picks nobody: operators take chats from the queue themselves.
    """
    order = _ORDER.get(mode)
    if order is None:
        return None
    skipped = set(exclude)
    eligible = [
        c for c in candidates if can_take(c, department, language) and c.operator_id not in skipped
    ]
    return min(eligible, key=order) if eligible else None
