"""Endings, follow-ups and the limits on a chat (SPEC A7, A8, P2, P3, P4; docs/lifecycle.md).

Every way a conversation stops being live goes through ``end_in``: the visitor leaving, an
operator's reason, a limit. It applies the state machine (domain/lifecycle.py), drops the
conversation's timers, writes the ``ended`` or ``follow_up`` event, and lets retention know.
"""

from __future__ import annotations

import logging
from datetime import datetime

from madoguchi.domain.conversation import EndReason, EventKind, Role, Status
from madoguchi.domain.errors import DomainError, not_found
from madoguchi.domain.events import iso, queue_changed_frame
from madoguchi.domain.lifecycle import Transition, apply, ending_for
from madoguchi.domain.limits import (
    CLEARED_BY_A_REPLY,
    CLEARED_BY_ANY_ACTIVITY,
    Clocks,
    Limit,
    Policy,
    next_step,
)
from madoguchi.domain.records import Actor, Conversation
from madoguchi.services import away, mail_out, retention, routing, secrets, timers
from madoguchi.services.desk import Desk, Unit, queue_topic
from madoguchi.services.timeline import append_event
from madoguchi.store import conversations as repo
from madoguchi.store.conversations import SeqClaim

log = logging.getLogger(__name__)

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
    # Unrevealed secrets go with the live chat (V15): nobody is there to reveal them now.
    await secrets.discard_in(unit, conv.id)
    now = unit.desk.clock()
    data = {"reason": reason.value, "by": by.value}
    if status is Status.FOLLOW_UP:
        await repo.follow_up(unit.conn, conv.id, reason.value, now)
        await append_event(unit, conv.id, EventKind.FOLLOW_UP, role=Role.SYSTEM, data=data)
        await mail_out.queue_follow_up_in(unit, conv, reason.value)  # when it has an address
    else:
        await repo.end(unit.conn, conv.id, reason.value, now)
        await append_event(unit, conv.id, EventKind.ENDED, role=Role.SYSTEM, data=data)
        await retention.after_end(unit, conv.id, now)
    if conv.status is Status.WAITING:
        unit.publish(queue_topic(conv.department), queue_changed_frame(conv.department))
    return status


# -- the limits (P2, P3, P4) -----------------------------------------------------------------
#
# One durable timer per active conversation, ``limits:<id>``, always at the next moment a limit
# may call for something. Activity does not move it (a message costs no timer write): when it
# fires early, the handler finds the new deadlines and sets it again. Only an operator's
# message can bring a deadline nearer (the no-reply limit starts), so it alone pulls the timer
# earlier when that limit is on.

_END_REASONS = {
    Limit.IDLE: EndReason.IDLE,
    Limit.NO_REPLY: EndReason.NO_REPLY,
    Limit.TIME_LIMIT: EndReason.TIME_LIMIT,
}


def _policy(unit: Unit, department: str) -> Policy:
    dep = unit.desk.settings.desk.departments.get(department)
    return dep.policy if dep is not None else Policy()


def _clocks(conv: Conversation) -> Clocks:
    assert conv.assigned_at is not None
    return Clocks(
        assigned_at=conv.assigned_at,
        last_activity_at=conv.last_activity_at or conv.assigned_at,
        last_visitor_at=conv.last_visitor_at,
        last_operator_at=conv.last_operator_at,
        warned=conv.warned,
    )


async def arm_in(unit: Unit, conversation_id: str) -> None:
    """Within a unit: set the limits' timer of a conversation that just became active."""
    conv = await repo.get_conversation(unit.conn, conversation_id)
    if conv is None or conv.status is not Status.ACTIVE:
        return
    step = next_step(_policy(unit, conv.department), _clocks(conv), unit.desk.clock())
    await _wait(unit, conv.id, step.at if step.action == "wait" else unit.desk.clock())


async def _wait(unit: Unit, conversation_id: str, at: datetime | None) -> None:
    if at is None:
        await timers.cancel(unit, limits_key(conversation_id))
    else:
        await timers.schedule(unit, LIMITS_TIMER, limits_key(conversation_id), at)


async def on_limits(unit: Unit, timer: timers.Timer) -> None:
    """Timer: warn of a limit, end the chat at one, or set the timer for the next moment."""
    conv_id = timer.key.removeprefix("limits:")
    conv = await repo.get_conversation(unit.conn, conv_id, lock=True)
    if conv is None or conv.status is not Status.ACTIVE:
        return  # ended, or back in the queue: a new assignment arms it again
    policy = _policy(unit, conv.department)
    now = unit.desk.clock()
    warned = dict(conv.warned)
    while True:
        step = next_step(policy, _clocks(conv), now)
        if step.action == "wait":
            await _wait(unit, conv.id, step.at)
            return
        if step.action == "warn":
            assert step.limit is not None
            assert step.at is not None
            warned[step.limit.value] = step.at
            await repo.set_warned(unit.conn, conv.id, warned)
            kind = EventKind.TIME_NOTICE if step.limit is Limit.TIME_LIMIT else EventKind.WARNING
            await append_event(
                unit,
                conv.id,
                kind,
                role=Role.SYSTEM,
                data={
                    "limit": step.limit.value,
                    "ends_at": iso(step.at),
                    "minutes": max(1, round((step.at - now).total_seconds() / 60)),
                },
            )
            conv = await repo.get_conversation(unit.conn, conv.id)
            assert conv is not None
            continue
        assert step.limit is not None
        await end_in(unit, conv, _END_REASONS[step.limit], Role.SYSTEM)
        if conv.operator_id is not None:  # their slot is free: the next waiting chat
            _route_after_commit(unit, conv.operator_id)
        return


def _route_after_commit(unit: Unit, operator_id: str) -> None:
    desk = unit.desk
    unit.after_commit(
        lambda: desk.spawn(
            routing.do_route_to_operator(desk, operator_id), "routing after a limit ended a chat"
        )
    )


async def after_message_in(unit: Unit, conversation_id: str, claim: SeqClaim, role: Role) -> None:
    """Within the unit that stored a message (alone, or in a batch: services/writer.py): forget
    the warnings it answered, start the no-reply wait after an operator's message, and look
    later whether it reached a visitor who wants mail when away (V9)."""
    await _clear_warnings(unit, conversation_id, claim, CLEARED_BY_A_REPLY)
    if role is Role.OPERATOR and claim.mail_when_away:
        await away.after_operator_message_in(unit, conversation_id)
    if role is Role.OPERATOR and claim.status is Status.ACTIVE:
        policy = _policy(unit, claim.department)
        if policy.no_reply is not None:
            due = unit.desk.clock() + policy.no_reply - policy.no_reply_warning
            await timers.schedule(
                unit, LIMITS_TIMER, limits_key(conversation_id), due, keep_earlier=True
            )


async def _clear_warnings(
    unit: Unit, conversation_id: str, claim: SeqClaim, limits: tuple[Limit, ...]
) -> None:
    warned = claim.warned or {}
    cleared = [limit.value for limit in limits if limit.value in warned]
    if not cleared:
        return
    kept = {
        limit: datetime.fromisoformat(end) for limit, end in warned.items() if limit not in cleared
    }
    await repo.set_warned(unit.conn, conversation_id, kept)
    await append_event(
        unit, conversation_id, EventKind.WARNING_CLEARED, role=Role.SYSTEM, data={"limits": cleared}
    )


async def do_touch(desk: Desk, actor: Actor, conversation_id: str) -> None:
    """Typing counts as activity (the first seed page waits for slow typists); the caller
    checked that the actor follows the conversation. Not active: nothing to do."""
    async with desk.unit() as unit:
        claim = await repo.touch(
            unit.conn, conversation_id, actor.role, desk.clock(), message=False
        )
        if claim is None:
            return
        limits = CLEARED_BY_A_REPLY if actor.role is Role.VISITOR else CLEARED_BY_ANY_ACTIVITY
        await _clear_warnings(unit, conversation_id, claim, limits)


async def do_still_here(desk: Desk, actor: Actor, conversation_id: str) -> None:
    """The visitor answered an idle or no-reply warning with "I'm still here" (P2)."""
    if actor.role is not Role.VISITOR:
        raise DomainError("forbidden", "Only the visitor can say they are still here.", 403)
    async with desk.unit() as unit:
        claim = await repo.touch(
            unit.conn, conversation_id, Role.VISITOR, desk.clock(), message=True
        )
        if claim is None or not actor.owns(claim.visitor_id, conversation_id):
            conv = await repo.get_conversation(unit.conn, conversation_id)
            if conv is None or not actor.owns(conv.visitor_id, conversation_id):
                raise not_found()
            raise DomainError("not_active", "This chat is not with an operator now.", 409)
        await append_event(
            unit, conversation_id, EventKind.STILL_HERE, role=Role.VISITOR, author_id=actor.id
        )
        await _clear_warnings(unit, conversation_id, claim, CLEARED_BY_A_REPLY)


TIMER_HANDLERS: dict[str, timers.TimerHandler] = {LIMITS_TIMER: on_limits}
