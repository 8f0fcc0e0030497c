"""The conversation state machine and the checks on what may be said in one."""

from __future__ import annotations

from enum import StrEnum

from madoguchi.domain.errors import DomainError

# SPEC V13: the ten languages of the UI; a deployment enables some of them.
SUPPORTED_LANGUAGES = ("ja", "en", "it", "pt", "fr", "de", "nl", "es", "sv", "da")


class Status(StrEnum):
    """Where a conversation is in its life."""

    WAITING = "waiting"  # in the queue, no operator yet
    ACTIVE = "active"  # an operator has it
    # Left the live queue (outside hours, or no operator in time): a message waiting for an
    # operator's answer, which the email issue sends.
    OFFLINE = "offline"
    # The live chat is over but the answer is still owed, by email or another channel (A7, A8).
    FOLLOW_UP = "follow_up"
    ENDED = "ended"


class Role(StrEnum):
    """Who did something in a conversation."""

    VISITOR = "visitor"
    OPERATOR = "operator"
    SYSTEM = "system"


class EventKind(StrEnum):
    """What an event of a conversation records (docs/protocol.md, Events)."""

    CREATED = "created"
    MESSAGE = "message"
    ASSIGNED = "assigned"
    OFFLINE = "offline"  # left the live queue; data.reason says why (docs/routing.md)
    ENDED = "ended"
    TRANSFERRED = "transferred"  # to another operator or department, or taken over (SPEC A6, A9)
    NOTE = "note"  # a private note: operators only, never sent to the visitor
    JOINED = "joined"  # a supervisor joined as a second operator (SPEC A9)
    WARNING = "warning"  # idle or no reply is near: data.limit, data.ends_at (P2, P3)
    TIME_NOTICE = "time_notice"  # the time limit is near, operators only: data.ends_at (P4)
    WARNING_CLEARED = "warning_cleared"  # activity put the limit off: data.limit
    STILL_HERE = "still_here"  # the visitor answered an idle warning (P2)
    REQUEUED = "requeued"  # its operator was lost; back to the queue (V10): data.reason
    FOLLOW_UP = "follow_up"  # the live chat is over, the answer comes later: data.reason
    # A file shared in the chat (V6), then the end of its virus scan: ok, or refused (bad).
    ATTACHMENT = "attachment"
    ATTACHMENT_OK = "attachment_ok"
    ATTACHMENT_BAD = "attachment_bad"
    # A visitor's message holds abuse words (P9), operators only: data.seq, data.words.
    FLAGGED = "flagged"
    # A secret the operator may reveal once (V15); the value is never in an event. (Kind
    # names, not passwords: hence the noqa for ruff's S105.)
    SECRET = "secret"  # noqa: S105
    SECRET_REVEALED = "secret_revealed"  # noqa: S105
    # The visitor was away: the operators' unread messages went by email (V9), operators
    # only: data.messages, how many.
    AWAY_MAILED = "away_mailed"
    SECRET_EXPIRED = "secret_expired"  # noqa: S105  deleted unread: data.reason


class EndReason(StrEnum):
    """Why a conversation ended: the reasons of the first seed page (SPEC A7), and the visitor's."""

    RESOLVED = "resolved"
    OTHER_CHANNEL = "other_channel"  # email or phone suits the question better
    UNRELATED = "unrelated"  # not about the company's services
    PROHIBITED = "prohibited"  # harassment, malware, illegal content
    UNREADABLE = "unreadable"  # garbled input (文字化け)
    NO_REPLY = "no_reply"
    TIME_LIMIT = "time_limit"
    DEFERRED = "deferred"  # the operator promised an answer later (A8): a follow-up
    IDLE = "idle"  # nobody did anything for the idle limit (P2)
    VISITOR_LEFT = "visitor_left"


# What an operator may choose; idle and visitor_left are never an operator's choice.
OPERATOR_END_REASONS = tuple(
    r for r in EndReason if r not in (EndReason.VISITOR_LEFT, EndReason.IDLE)
)


def check_can_assign(status: Status, current_operator: str | None, operator_id: str) -> None:
    """Raise unless the conversation may be given to ``operator_id`` now."""
    if status is Status.ENDED:
        raise DomainError("conversation_ended", "This conversation has ended.", 409)
    if status is Status.ACTIVE and current_operator != operator_id:
        raise DomainError(
            "already_assigned", "This conversation has already been taken by another operator.", 409
        )


def check_can_write(status: Status) -> None:
    """Raise unless messages may be added."""
    if status is Status.ENDED:
        raise DomainError("conversation_ended", "This conversation has ended.", 409)


def check_end_reason(reason: str, by: Role) -> EndReason:
    """Parse an end reason; operators give one of A7's, a visitor always leaves."""
    if by is Role.VISITOR:
        return EndReason.VISITOR_LEFT
    try:
        parsed = EndReason(reason)
    except ValueError:
        parsed = None
    if parsed is None or parsed not in OPERATOR_END_REASONS:
        raise DomainError(
            "unknown_reason",
            f"Unknown end reason; use one of: {', '.join(OPERATOR_END_REASONS)}.",
        )
    return parsed


def check_message_body(body: str, max_chars: int) -> str:
    """Return the body to store, verbatim, or raise if it is empty or too long.

    Whitespace is kept as typed: pasted code and error output must reach the other side
    exactly (SPEC V5). Only a body with no visible character at all is refused.
    """
    if not body or body.isspace():
        raise DomainError("empty_message", "The message is empty.")
    if len(body) > max_chars:
        raise DomainError(
            "message_too_long", f"The message is longer than {max_chars} characters.", 413
        )
    if "\x00" in body:
        raise DomainError("bad_request", "The message contains a NUL character.")
    return body
