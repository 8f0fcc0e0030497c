"""An operator lost for longer than the grace period loses their chats (SPEC V10, second half).

services/presence.py decides that an operator is gone; this module says what becomes of their
chats. Each chat they held goes back to the front of its department's queue (its first
``queued_at`` is kept, as for a transfer to a department), its maximum wait starts again, and a
``requeued`` event tells both sides; routing then gives it to another operator, whose console
loads the whole history on ``assigned``. A chat they had only joined as a supervisor goes on
without them. docs/lifecycle.md, "Handover".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from madoguchi.domain.conversation import EventKind, Role, Status
from madoguchi.domain.events import queue_changed_frame
from madoguchi.domain.handoff import TAKE_OVER, unassigned_frame
from madoguchi.domain.lifecycle import Transition, apply, is_live
from madoguchi.domain.records import Actor, Event, Operator
from madoguchi.services import routing
from madoguchi.services.desk import Desk, Unit, operator_topic, queue_topic
from madoguchi.services.timeline import append_event
from madoguchi.store import conversations as conv_repo
from madoguchi.store import participants

OPERATOR_LOST = "operator_lost"  # the reason of the ``requeued`` event and ``unassigned`` frame


async def requeue_chats_in(unit: Unit, operator: Operator) -> list[str]:
    """Within a unit, before the operator's row is touched: put back every chat they hold.

    Returns the conversations' ids, oldest in the queue first; the caller routes them with
    ``routing.reroute_in`` once the operator can no longer be chosen. The lost operator is
    left out of routing for these chats (the visitor was told another operator continues);
    they may still take one from the queue when they are back.
    """
    held = await conv_repo.list_active_for_operator(unit.conn, operator.id)
    requeued: list[tuple[datetime, str]] = []
    for conv in held:
        locked = await conv_repo.get_conversation(unit.conn, conv.id, lock=True)
        if locked is None or locked.status is not Status.ACTIVE:
            continue
        if locked.operator_id != operator.id:
            continue  # transferred or taken over meanwhile
        apply(locked.status, Transition.REQUEUE)
        await conv_repo.requeue(unit.conn, locked.id, locked.department, passed_by=[operator.id])
        await routing.schedule_max_wait(unit, locked.id, locked.department)
        await append_event(
            unit,
            locked.id,
            EventKind.REQUEUED,
            role=Role.SYSTEM,
            data={
                "reason": OPERATOR_LOST,
                "operator": {"name": operator.name},
                "department": locked.department,
            },
        )
        unit.publish(operator_topic(operator.id), unassigned_frame(locked.id, OPERATOR_LOST, None))
        unit.publish(queue_topic(locked.department), queue_changed_frame(locked.department))
        requeued.append((locked.queued_at or locked.created_at, locked.id))
    return [conv_id for _, conv_id in sorted(requeued)]


async def leave_joined_in(unit: Unit, operator: Operator) -> int:
    """Within a unit: a lost supervisor leaves the chats they joined; the chats go on."""
    left = 0
    for conv in await conv_repo.list_joined(unit.conn, operator.id):
        if await conv_repo.get_conversation(unit.conn, conv.id, lock=True) is None:
            continue
        await participants.remove(unit.conn, conv.id, operator.id)
        unit.publish(operator_topic(operator.id), unassigned_frame(conv.id, OPERATOR_LOST, None))
        left += 1
    return left


def _unassigned_by(event: Event) -> dict[str, Any] | None:
    """The ``unassigned`` frame a hand-off event would have sent its previous operator."""
    data = event.data or {}
    if event.kind == EventKind.REQUEUED.value:
        return unassigned_frame(event.conversation_id, str(data.get("reason", OPERATOR_LOST)), None)
    if event.kind == EventKind.TRANSFERRED.value:
        to = data.get("to") or {}
        reason = "taken_over" if data.get("reason") == TAKE_OVER else "transferred"
        return unassigned_frame(event.conversation_id, reason, to.get("name"))
    return None


async def get_lost_chats(desk: Desk, actor: Actor, resume: dict[str, int]) -> list[dict[str, Any]]:
    """The ``unassigned`` frames a console coming back owes itself: live chats it still shows
    (its ``resume`` map names the chats it has a tab for) that are no longer its operator's.

    The frame sent at the time reached no console of theirs (the bus keeps nothing), so why
    is read from the events the console has not seen; a supervisor who was lost leaves a
    joined chat without an event, which is the case with none.
    """
    frames = []
    async with desk.db.read() as conn:
        for conv_id, since in resume.items():
            conv = await conv_repo.get_conversation(conn, conv_id)
            if conv is None or not is_live(conv.status) or conv.operator_id == actor.id:
                continue
            if await participants.is_participant(conn, conv_id, actor.id):
                continue
            missed = await conv_repo.get_events(conn, conv_id, since)
            handed = [f for f in map(_unassigned_by, missed) if f is not None]
            frames.append(handed[-1] if handed else unassigned_frame(conv_id, OPERATOR_LOST, None))
    return frames
