"""Giving waiting conversations to operators (SPEC A2, A3, P5; docs/routing.md).

A waiting conversation is either given at once or, when its department sets
``offer_seconds``, offered: reserved for one operator, who accepts or declines it. An offer
that lapses moves to the next operator; so does one waiting on an operator who goes away.
Every function that changes a conversation locks its row first, then operators' rows, so
that two nodes routing at once cannot deadlock (PostgreSQL) and exactly one of them wins.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from madoguchi.domain.conversation import EventKind, Role, Status
from madoguchi.domain.errors import DomainError
from madoguchi.domain.events import (
    assigned_frame,
    offer_withdrawn_frame,
    offered_frame,
    queue_changed_frame,
)
from madoguchi.domain.lifecycle import Transition, apply
from madoguchi.domain.presence import alive_since
from madoguchi.domain.records import Conversation, Operator
from madoguchi.domain.routing import MANUAL, can_take, choose_operator
from madoguchi.services import lifecycle, timers
from madoguchi.services.desk import Desk, Unit, operator_topic, queue_topic
from madoguchi.services.timeline import append_event
from madoguchi.store import conversations as conv_repo
from madoguchi.store import operators as op_repo

OFFER_TIMER = "offer"
MAX_WAIT_TIMER = "max_wait"


def offer_key(conversation_id: str) -> str:
    """The timer key of a conversation's open offer."""
    return f"offer:{conversation_id}"


def max_wait_key(conversation_id: str) -> str:
    """The timer key of a conversation's maximum wait in the queue."""
    return f"max_wait:{conversation_id}"


def _mode(desk: Desk, department: str) -> str:
    dep = desk.settings.desk.departments.get(department)
    return dep.routing if dep is not None else MANUAL


def alive_cutoff(desk: Desk) -> datetime:
    """The oldest console sign of life routing still trusts (docs/routing.md, "Presence")."""
    return alive_since(desk.clock(), desk.settings.desk.operators.disconnect_grace_seconds)


def _queue_changed(unit: Unit, department: str) -> None:
    unit.publish(queue_topic(department), queue_changed_frame(department))


async def schedule_max_wait(unit: Unit, conv_id: str, department: str) -> None:
    """Start the clock on how long a new conversation may wait for an operator (P5)."""
    dep = unit.desk.settings.desk.departments[department]
    due = unit.desk.clock() + timedelta(minutes=dep.max_wait_minutes)
    await timers.schedule(unit, MAX_WAIT_TIMER, max_wait_key(conv_id), due)


async def assign_conversation(unit: Unit, conv: Conversation, operator: Operator) -> bool:
    """Give a waiting conversation to an operator and tell everyone; False if it was taken."""
    now = unit.desk.clock()
    apply(conv.status, Transition.ASSIGN)
    # The conditional UPDATE is the transition's atomic form: it assigns only a chat still waiting.
    if not await conv_repo.assign(unit.conn, conv.id, operator.id, now):
        return False
    await op_repo.mark_assigned(unit.conn, operator.id, now)
    await timers.cancel(unit, max_wait_key(conv.id))
    if conv.offered_to is not None:
        await timers.cancel(unit, offer_key(conv.id))
        if conv.offered_to != operator.id:
            reason = "taken"
            unit.publish(operator_topic(conv.offered_to), offer_withdrawn_frame(conv.id, reason))
    await append_event(
        unit,
        conv.id,
        EventKind.ASSIGNED,
        role=Role.SYSTEM,
        data={"operator": {"name": operator.name}},
    )
    await lifecycle.arm_in(unit, conv.id)
    assigned = await conv_repo.get_conversation(unit.conn, conv.id)
    assert assigned is not None
    unit.publish(operator_topic(operator.id), assigned_frame(assigned))
    _queue_changed(unit, conv.department)
    return True


async def _give(unit: Unit, conv: Conversation, operator: Operator) -> bool:
    """Assign at once, or offer for the department's ``offer_seconds``."""
    seconds = unit.desk.settings.desk.departments[conv.department].offer_seconds
    if seconds == 0:
        return await assign_conversation(unit, conv, operator)
    now = unit.desk.clock()
    expires = now + timedelta(seconds=seconds)
    if not await conv_repo.offer(unit.conn, conv.id, operator.id, expires):
        return False
    # An offer is the operator's turn, for the tie-break and round-robin, taken or not.
    await op_repo.mark_assigned(unit.conn, operator.id, now)
    await timers.schedule(
        unit, OFFER_TIMER, offer_key(conv.id), expires, {"operator_id": operator.id}
    )
    offered = await conv_repo.get_conversation(unit.conn, conv.id)
    assert offered is not None
    unit.publish(operator_topic(operator.id), offered_frame(offered))
    _queue_changed(unit, conv.department)
    return True


async def route_in(unit: Unit, conv: Conversation) -> str | None:
    """Within a unit that locked ``conv``: choose an operator by the department's mode."""
    if conv.status is not Status.WAITING or conv.offered_to is not None:
        return None
    mode = _mode(unit.desk, conv.department)
    if mode == MANUAL:
        return None
    candidates = await op_repo.get_candidates(
        unit.conn, lock=True, alive_since=alive_cutoff(unit.desk)
    )
    chosen = choose_operator(
        mode, candidates, conv.department, conv.language, exclude=conv.passed_by
    )
    if chosen is None:
        return None
    operator = await op_repo.get_operator(unit.conn, chosen.operator_id)
    assert operator is not None
    return operator.id if await _give(unit, conv, operator) else None


async def withdraw_in(unit: Unit, conv: Conversation, reason: str, *, passed: bool) -> None:
    """Within a unit that locked ``conv``: take back its offer and tell the operator."""
    assert conv.offered_to is not None
    await conv_repo.withdraw_offer(unit.conn, conv, passed=passed)
    if reason != "lapsed":  # a lapsed offer's timer is the one firing
        await timers.cancel(unit, offer_key(conv.id))
    unit.publish(operator_topic(conv.offered_to), offer_withdrawn_frame(conv.id, reason))
    _queue_changed(unit, conv.department)


async def do_route(desk: Desk, conversation_id: str) -> str | None:
    """Give or offer a waiting conversation to the operator its mode picks; return who."""
    async with desk.unit() as unit:
        conv = await conv_repo.get_conversation(unit.conn, conversation_id, lock=True)
        if conv is None:
            return None
        return await route_in(unit, conv)


async def _move_on(unit: Unit, conv: Conversation, reason: str, *, passed: bool) -> str | None:
    """Within a unit that locked ``conv``, an offered chat: take the offer back, route again."""
    await withdraw_in(unit, conv, reason, passed=passed)
    fresh = await conv_repo.get_conversation(unit.conn, conv.id)
    assert fresh is not None
    return await route_in(unit, fresh)


def _offered(conv: Conversation, operator_id: object) -> bool:
    """Whether the chat is waiting and offered to this operator now."""
    return conv.status is Status.WAITING and conv.offered_to == operator_id


async def do_decline(desk: Desk, operator_id: str, conversation_id: str) -> None:
    """An operator declines a chat offered to them: it moves to the next operator."""
    async with desk.unit() as unit:
        conv = await conv_repo.get_conversation(unit.conn, conversation_id, lock=True)
        if conv is None or not _offered(conv, operator_id):
            raise DomainError("not_offered", "This chat is not offered to you (any more).", 409)
        await _move_on(unit, conv, "declined", passed=True)


async def withdraw_offers_in(unit: Unit, operator_id: str) -> list[str]:
    """Within a unit: take back every offer waiting on an operator; return the chats' ids.

    The caller routes them again (``reroute_in``) once the operator can no longer be chosen.
    Conversations are locked before the operator's row is touched, as everywhere.
    """
    withdrawn = []
    for conv in await conv_repo.list_offered_to(unit.conn, operator_id):
        locked = await conv_repo.get_conversation(unit.conn, conv.id, lock=True)
        if locked is not None and _offered(locked, operator_id):
            # Not "passed": once back, they may be offered it again.
            await withdraw_in(unit, locked, "unavailable", passed=False)
            withdrawn.append(locked.id)
    return withdrawn


async def reroute_in(unit: Unit, conversation_ids: list[str]) -> None:
    """Within a unit that locked these conversations: route each of them again."""
    for conv_id in conversation_ids:
        fresh = await conv_repo.get_conversation(unit.conn, conv_id)
        if fresh is not None:
            await route_in(unit, fresh)


async def do_withdraw_offers(desk: Desk, operator_id: str) -> int:
    """Move every offer waiting on an operator who went away or offline to someone else."""
    async with desk.unit() as unit:
        withdrawn = await withdraw_offers_in(unit, operator_id)
        await reroute_in(unit, withdrawn)
    return len(withdrawn)


async def on_offer_lapsed(unit: Unit, timer: timers.Timer) -> None:
    """Timer: an offer was not accepted in time; the next operator gets it."""
    conv = await conv_repo.get_conversation(unit.conn, timer.key.removeprefix("offer:"), lock=True)
    if conv is not None and _offered(conv, timer.payload.get("operator_id")):
        await _move_on(unit, conv, "lapsed", passed=True)


async def on_max_wait(unit: Unit, timer: timers.Timer) -> None:
    """Timer: nobody took the chat in time (P5); it leaves the queue as an offline message."""
    conv_id = timer.key.removeprefix("max_wait:")
    conv = await conv_repo.get_conversation(unit.conn, conv_id, lock=True)
    if conv is None or conv.status is not Status.WAITING:
        return
    if conv.offered_to is not None:
        await withdraw_in(unit, conv, "expired", passed=False)
    await conv_repo.set_status(unit.conn, conv_id, apply(conv.status, Transition.GIVE_UP_WAITING))
    await append_event(
        unit, conv_id, EventKind.OFFLINE, role=Role.SYSTEM, data={"reason": "no_operator"}
    )
    _queue_changed(unit, conv.department)


TIMER_HANDLERS: dict[str, timers.TimerHandler] = {
    OFFER_TIMER: on_offer_lapsed,
    MAX_WAIT_TIMER: on_max_wait,
}


async def do_route_to_operator(desk: Desk, operator_id: str) -> int:
    """Hand an operator the longest-waiting chats they can take, until their capacity is full.

    Called when an operator comes online or frees a slot. Returns how many they got (or
    were offered). Locks are taken in ``do_route``'s order — the conversation, then the
    operator — so that the two cannot deadlock on PostgreSQL.
    """
    given = 0
    tried: set[str] = set()
    while True:
        async with desk.db.read() as conn:
            found = await op_repo.get_candidates(
                conn, lock=False, operator_id=operator_id, alive_since=alive_cutoff(desk)
            )
            if not found:
                return given
            departments = [d for d in found[0].departments if _mode(desk, d) != MANUAL]
            waiting = await conv_repo.list_waiting(conn, departments, limit=50)
        conv = next(
            (
                c
                for c in waiting
                if c.id not in tried
                and c.offered_to is None
                and operator_id not in c.passed_by
                and can_take(found[0], c.department, c.language)
            ),
            None,
        )
        if conv is None:
            return given
        tried.add(conv.id)
        async with desk.unit() as unit:
            locked = await conv_repo.get_conversation(unit.conn, conv.id, lock=True)
            me = await op_repo.get_candidates(
                unit.conn, lock=True, operator_id=operator_id, alive_since=alive_cutoff(desk)
            )
            if not me or not can_take(me[0], conv.department, conv.language):
                return given
            operator = await op_repo.get_operator(unit.conn, operator_id)
            assert operator is not None
            if locked is not None and locked.status is Status.WAITING and locked.offered_to is None:
                given += await _give(unit, locked, operator)
