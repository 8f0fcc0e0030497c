"""How long a queued visitor will wait, and how fast the desk usually replies (V7, R2).

The estimator is documented in docs/routing.md. In short: a chat at place ``p`` in line needs
``p - free`` slots to come free before it (none, if enough operators have room now). While
every slot is busy, ``serving`` slots each free up once per mean handle time, so one frees
every ``mean / serving`` seconds on average. The expected wait is then
``(p - free) * mean / serving``.

A moving average of recent waits (Salesforce's estimate) lags: it reports what waiting was
like when the last few visitors joined, not what it is now. This estimate reacts the moment
an operator logs on or off, and uses waits only through the handle times, which change slowly.
tests/domain/test_estimate.py simulates a desk and compares the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# With no history yet (a new desk), assume a chat takes ten minutes: the seed's 30-minute
# limit is the worst case, and most hosting questions are shorter.
DEFAULT_HANDLE_SECONDS = 600.0


@dataclass(frozen=True)
class Staffing:
    """The online operators who could take a chat: all their slots, and the free ones."""

    serving_slots: int
    free_slots: int


def robust_mean(values: Sequence[float], cap: float = 5.0) -> float | None:
    """The mean, with each value capped at ``cap`` times the median.

    The mean is what sets how fast slots free up, so it is kept (a trimmed mean would
    underestimate the long tail real chats have); the cap keeps one chat someone forgot to
    end from reading as a trend.
    """
    middle = median(values)
    if middle is None:
        return None
    ceiling = cap * middle
    return sum(min(v, ceiling) for v in values) / len(values)


def median(values: Sequence[float]) -> float | None:
    """The middle value; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def estimate_wait(
    position: int, staffing: Staffing, handle_seconds: Sequence[float]
) -> float | None:
    """Expected seconds until the chat at ``position`` (1 = next) gets an operator.

    None when nobody who could take it is online: no honest number exists, and the
    widget says so instead.
    """
    if position < 1:
        raise ValueError("position starts at 1")
    if position <= staffing.free_slots:
        return 0.0
    if staffing.serving_slots <= 0:
        return None
    mean = robust_mean(handle_seconds) or DEFAULT_HANDLE_SECONDS
    return (position - staffing.free_slots) * mean / staffing.serving_slots


def typical_reply(first_reply_seconds: Sequence[float]) -> float | None:
    """How soon the desk usually replies: the median time from joining the queue to the
    operator's first message over recent chats (R2); None with too little data to say."""
    if len(first_reply_seconds) < 3:
        return None
    return median(first_reply_seconds)
