"""A visitor's several conversations (SPEC V16): one live chat per topic, a few at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from madoguchi.domain.conversation import Status
from madoguchi.domain.errors import DomainError

# Waiting or with an operator. Offline messages and follow-ups wait for an answer by email:
# they keep nobody from asking again, on the same topic or another.
LIVE = frozenset({Status.WAITING, Status.ACTIVE})
# Enough for a billing question while a technical one waits; few enough that one visitor
# cannot fill a queue alone.
MAX_LIVE = 5


@dataclass(frozen=True)
class LiveChat:
    """One of a visitor's live conversations, as the check needs it."""

    id: str
    topic: str


def check_can_open(live: Sequence[LiveChat], topic: str, limit: int = MAX_LIVE) -> None:
    """Raise unless a visitor with these live chats may start another on ``topic``.

    A second chat on a topic already live would split one question between two operators:
    it is refused with the id of the live one, which the widget shows instead.
    """
    for chat in live:
        if chat.topic == topic:
            raise DomainError(
                "already_open",
                "You already have a conversation open on this topic.",
                409,
                details={"conversation_id": chat.id},
            )
    if len(live) >= limit:
        raise DomainError(
            "too_many_open",
            f"You already have {limit} conversations open; end one to start another.",
            409,
            details={"limit": limit},
        )
