"""The post-chat survey's rules and frames (SPEC V12).

Offered once an operator has handled the chat and its live part is over (ended, or a
follow-up); answered at most once; skipping it is not recorded. The rating stays when retention
erases the content (it is a metric); the comment is content and goes with the rest.
"""

from __future__ import annotations

from typing import Any

from madoguchi.domain.conversation import Status
from madoguchi.domain.errors import DomainError
from madoguchi.domain.events import rating_view
from madoguchi.domain.records import Conversation
from madoguchi.domain.transcript import check_not_erased

RATINGS = range(1, 6)
_RATEABLE = (Status.ENDED, Status.FOLLOW_UP)


def check_rating(rating: object) -> int:
    """A whole number from 1 to 5, or 422 ``bad_rating`` (4.0, "4" and true are not)."""
    if type(rating) is not int or rating not in RATINGS:
        raise DomainError("bad_rating", "Give a rating as a whole number from 1 to 5.", 422)
    return rating


def check_comment(comment: str | None, max_chars: int) -> str | None:
    """The comment to store (None for none or blanks), or 413 ``comment_too_long``."""
    if comment is None:
        return None
    if "\x00" in comment:
        raise DomainError("bad_request", "The comment contains a NUL character.")
    text = comment.strip()
    if len(text) > max_chars:
        raise DomainError(
            "comment_too_long", f"The comment is longer than {max_chars} characters.", 413
        )
    return text or None


def check_rateable(conv: Conversation) -> None:
    """Raise unless the visitor may rate ``conv`` now: its live part is over, an operator
    handled it, its content is still there, and it was not rated before."""
    if conv.status not in _RATEABLE:
        raise DomainError("not_ended", "A chat can be rated once it has ended.", 409)
    if conv.assigned_at is None:
        raise DomainError("no_operator", "Only a chat an operator handled can be rated.", 409)
    check_not_erased(conv)
    if conv.rated_at is not None:
        raise DomainError("already_rated", "This chat has been rated already.", 409)


def rated_frame(conv: Conversation) -> dict[str, Any]:
    """The ``rated`` frame telling the chat's operator how the visitor rated it."""
    return {"type": "rated", "conversation_id": conv.id, "rating": rating_view(conv)}
