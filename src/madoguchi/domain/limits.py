"""The limits on a chat with an operator (SPEC P2, P3, P4): what is due, and when to look again.

Three limits run while a conversation is active, each set per department (docs/lifecycle.md):

- **idle** (P2): nothing happened (a message, typing, "I'm still here") for ``idle``; a
  warning ``idle_warning`` before the end, to both sides.
- **no reply** (P3): the operator wrote last and the visitor neither answered nor typed for
  ``no_reply``; a warning ``no_reply_warning`` before the end, to both sides.
- **time limit** (P4): ``time_limit`` after the operator first took the chat; the operator
  sees the time left from ``time_notice`` before; at the limit the chat ends, or becomes a
  follow-up.

Nothing here keeps time: ``next_step`` is given the facts and the time and says the one thing
to do now, or when to look again. A warning is remembered as the end it announced
(``warned``); activity forgets it, so the next warning is for the new end. A chat is never
ended by idleness or silence without a warning that gave the full warning period: a node
that was down past a deadline warns late rather than ending at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal


class Limit(StrEnum):
    """A limit on an active chat."""

    IDLE = "idle"
    NO_REPLY = "no_reply"
    TIME_LIMIT = "time_limit"


# The warnings that activity puts off: all activity the idle one, the visitor's (or a new
# operator message, which starts a new wait) the no-reply one. The time limit's stays.
CLEARED_BY_ANY_ACTIVITY = (Limit.IDLE,)
CLEARED_BY_A_REPLY = (Limit.IDLE, Limit.NO_REPLY)


@dataclass(frozen=True)
class Policy:
    """A department's limits; a limit of None is off."""

    idle: timedelta | None = timedelta(minutes=20)
    idle_warning: timedelta = timedelta(minutes=5)
    no_reply: timedelta | None = None
    no_reply_warning: timedelta = timedelta(minutes=2)
    time_limit: timedelta | None = timedelta(minutes=30)
    time_notice: timedelta = timedelta(minutes=10)
    time_limit_action: Literal["end", "follow_up"] = "end"

    @property
    def is_off(self) -> bool:
        """No limit at all: nothing to schedule."""
        return self.idle is None and self.no_reply is None and self.time_limit is None


@dataclass(frozen=True)
class Clocks:
    """What the limits are measured from, as stored on the conversation."""

    assigned_at: datetime  # first taken by an operator: the inquiry's handling time starts
    last_activity_at: datetime  # any message, typing or "still here", or the assignment
    last_visitor_at: datetime | None  # the visitor's last message, typing or "still here"
    last_operator_at: datetime | None  # the operator's last message
    warned: Mapping[str, datetime]  # limit → the end its warning announced


@dataclass(frozen=True)
class Step:
    """The one thing to do now: warn, end, make it a follow-up, or wait until ``at``."""

    action: Literal["warn", "end", "follow_up", "wait"]
    limit: Limit | None
    at: datetime | None  # warn: the end announced; wait: when to look again (None: never)


def deadlines(policy: Policy, clocks: Clocks) -> dict[Limit, datetime]:
    """When each limit in force would end the chat, with no warning given yet."""
    ends: dict[Limit, datetime] = {}
    if policy.idle is not None:
        ends[Limit.IDLE] = clocks.last_activity_at + policy.idle
    if policy.no_reply is not None and awaits_reply(clocks):
        assert clocks.last_operator_at is not None
        ends[Limit.NO_REPLY] = clocks.last_operator_at + policy.no_reply
    if policy.time_limit is not None:
        ends[Limit.TIME_LIMIT] = clocks.assigned_at + policy.time_limit
    return ends


def awaits_reply(clocks: Clocks) -> bool:
    """The operator wrote last: the visitor's turn."""
    if clocks.last_operator_at is None:
        return False
    return clocks.last_visitor_at is None or clocks.last_operator_at > clocks.last_visitor_at


def _lead(policy: Policy, limit: Limit) -> timedelta:
    """How long before its end a limit is announced."""
    if limit is Limit.IDLE:
        return policy.idle_warning
    if limit is Limit.NO_REPLY:
        return policy.no_reply_warning
    return policy.time_notice


def next_step(policy: Policy, clocks: Clocks, now: datetime) -> Step:
    """What the limits call for at ``now``; call again after acting, until it says wait."""
    ends = deadlines(policy, clocks)
    # 1. An end whose time has come: the earliest. Idle and no reply end only as warned.
    due: list[tuple[datetime, Limit]] = []
    for limit in (Limit.IDLE, Limit.NO_REPLY):
        announced = clocks.warned.get(limit)
        if limit in ends and announced is not None and announced <= now:
            due.append((announced, limit))
    if Limit.TIME_LIMIT in ends and ends[Limit.TIME_LIMIT] <= now:
        due.append((ends[Limit.TIME_LIMIT], Limit.TIME_LIMIT))
    if due:
        _, limit = min(due)
        if limit is Limit.TIME_LIMIT and policy.time_limit_action == "follow_up":
            return Step("follow_up", limit, None)
        return Step("end", limit, None)
    # 2. A warning whose time has come, and not yet given.
    wake: list[datetime] = []
    for limit, end in sorted(ends.items(), key=lambda item: item[1]):
        announced = clocks.warned.get(limit)
        if announced is not None:
            if limit is not Limit.TIME_LIMIT:
                wake.append(announced)  # the end it announced
            continue
        warn_at = end - _lead(policy, limit)
        if warn_at <= now:
            if limit is Limit.TIME_LIMIT:
                return Step("warn", limit, end)
            return Step("warn", limit, max(end, now + _lead(policy, limit)))
        wake.append(warn_at)
    if Limit.TIME_LIMIT in ends:
        wake.append(ends[Limit.TIME_LIMIT])
    # 3. Nothing now: look again at the earliest of the times above.
    return Step("wait", None, min(wake) if wake else None)
