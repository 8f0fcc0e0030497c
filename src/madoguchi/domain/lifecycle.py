"""The conversation's life as one state machine: every status change is a named transition.

docs/lifecycle.md draws it. A service asks ``apply(status, transition)`` for the status a
transition leads to before it writes it; a transition the current status does not allow is
refused with a stable error code, so no code path can move a conversation in a way this table
does not name.
"""

from __future__ import annotations

from enum import StrEnum

from madoguchi.domain.conversation import EndReason, Status
from madoguchi.domain.errors import DomainError


class Transition(StrEnum):
    """Everything that may change a conversation's status."""

    START = "start"  # a visitor opens a chat: it waits in the queue
    LEAVE_MESSAGE = "leave_message"  # outside hours: an offline message (SPEC V8)
    ASSIGN = "assign"  # an operator takes it, or routing gives it
    TRANSFER = "transfer"  # to another operator, or a supervisor takes it over (A6, A9)
    REQUEUE = "requeue"  # back to a queue: a department transfer, or its operator was lost (V10)
    GIVE_UP_WAITING = "give_up_waiting"  # nobody took it in time: an offline message (P5)
    END = "end"  # the visitor leaves, or an operator ends it with a reason (A7)
    TIME_OUT = "time_out"  # a limit ended it: idle, no reply, time limit (P2, P3, P4)
    FOLLOW_UP = "follow_up"  # the live chat is over, the answer comes later (A7, A8, P4)
    CLOSE = "close"  # an offline message or a follow-up was answered, or withdrawn


_LIVE = frozenset({Status.WAITING, Status.ACTIVE})
_OPEN_LATER = frozenset({Status.OFFLINE, Status.FOLLOW_UP})

# transition: (the statuses it may start from, the status it leads to); None is "no
# conversation yet".
TABLE: dict[Transition, tuple[frozenset[Status | None], Status]] = {
    Transition.START: (frozenset({None}), Status.WAITING),
    Transition.LEAVE_MESSAGE: (frozenset({None}), Status.OFFLINE),
    Transition.ASSIGN: (frozenset({Status.WAITING}), Status.ACTIVE),
    Transition.TRANSFER: (frozenset({Status.ACTIVE}), Status.ACTIVE),
    Transition.REQUEUE: (frozenset({Status.ACTIVE}), Status.WAITING),
    Transition.GIVE_UP_WAITING: (frozenset({Status.WAITING}), Status.OFFLINE),
    Transition.END: (_LIVE, Status.ENDED),
    Transition.TIME_OUT: (frozenset({Status.ACTIVE}), Status.ENDED),
    Transition.FOLLOW_UP: (_LIVE, Status.FOLLOW_UP),
    Transition.CLOSE: (_OPEN_LATER, Status.ENDED),
}

# End reasons that leave the conversation open as a follow-up instead of ending it (A7, A8).
FOLLOW_UP_REASONS = frozenset({EndReason.OTHER_CHANNEL, EndReason.DEFERRED})


def apply(status: Status | None, transition: Transition) -> Status:
    """The status ``transition`` leads to from ``status``, or a refusal saying why not."""
    sources, target = TABLE[transition]
    if status in sources:
        return target
    if status is Status.ENDED:
        raise DomainError("conversation_ended", "This conversation has ended.", 409)
    raise DomainError(
        "illegal_transition",
        f"A conversation that is {status or 'not started'} cannot {transition.replace('_', ' ')}.",
        409,
        details={"status": status.value if status else None, "transition": transition.value},
    )


def ending_for(status: Status, reason: EndReason) -> Transition:
    """How an end with ``reason`` applies: a live chat ends (or becomes a follow-up), an open
    offline message or follow-up is closed."""
    if status in _OPEN_LATER:
        return Transition.CLOSE
    if reason in FOLLOW_UP_REASONS:
        return Transition.FOLLOW_UP
    return Transition.END


def is_live(status: Status) -> bool:
    """Waiting or with an operator: the widget shows a chat in progress."""
    return status in _LIVE


def is_open(status: Status) -> bool:
    """Not ended: live, or waiting for an answer by another channel."""
    return status is not Status.ENDED
