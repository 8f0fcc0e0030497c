"""Endings, follow-ups and the limits on a chat (SPEC A7, A8, P2, P3, P4; docs/lifecycle.md).

Every way a conversation stops being live goes through ``end_in``: the visitor leaving, an
operator's reason, a limit. It applies the state machine (domain/lifecycle.py), drops the
conversation's timers, writes the ``ended`` or ``follow_up`` event, and lets retention know.
"""

from __future__ import annotations

from madoguchi.domain.conversation import EndReason, EventKind, Role, Status
from madoguchi.domain.events import queue_changed_frame
from madoguchi.domain.lifecycle import Transition, apply, ending_for
from madoguchi.domain.records import Conversation
from madoguchi.services import retention, routing, timers
from madoguchi.services.desk import Unit, queue_topic
from madoguchi.services.timeline import append_event
from madoguchi.store import conversations as repo

LIMITS_TIMER = "limits"


def limits_key(conversation_id: str) -> str:
    """The timer key of a conversation's limits (one timer for all three)."""
    return f"limits:{conversation_id}"


async def end_in(unit: Unit, conv: Conversation, reason: EndReason, by: Role) -> Status:
    """Within a unit that locked ``conv``: end it, make it a follow-up, or close it.

    Returns the new status. A live chat with a follow-up reason (another channel, a deferred
    answer, a time limit set to follow up) stays open as a follow-up; an offline message or
    a follow-up is closed; anything else ends.
    """
    transition = ending_for(conv.status, reason)
    if reason is EndReason.TIME_LIMIT and by is Role.SYSTEM and transition is Transition.END:
        action = unit.desk.settings.desk.departments[conv.department].time_limit_action
        if action == "follow_up":
            transition = Transition.FOLLOW_UP
    status = apply(conv.status, transition)
    if conv.status is Status.WAITING and conv.offered_to is not None:
        await routing.withdraw_in(unit, conv, "ended", passed=False)
    await timers.cancel(unit, routing.max_wait_key(conv.id))
    await timers.cancel(unit, limits_key(conv.id))
    now = unit.desk.clock()
    data = {"reason": reason.value, "by": by.value}
    if status is Status.FOLLOW_UP:
        await repo.follow_up(unit.conn, conv.id, reason.value, now)
        await append_event(unit, conv.id, EventKind.FOLLOW_UP, role=Role.SYSTEM, data=data)
    else:
        await repo.end(unit.conn, conv.id, reason.value, now)
        await append_event(unit, conv.id, EventKind.ENDED, role=Role.SYSTEM, data=data)
        await retention.after_end(unit, conv.id)
    if conv.status is Status.WAITING:
        unit.publish(queue_topic(conv.department), queue_changed_frame(conv.department))
    return status
