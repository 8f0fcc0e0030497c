"""Giving waiting conversations to operators (SPEC A3): on arrival, and when a slot frees."""

from __future__ import annotations

from madoguchi.domain.conversation import EventKind, Role, Status
from madoguchi.domain.events import assigned_frame, queue_changed_frame
from madoguchi.domain.records import Conversation, Operator
from madoguchi.domain.routing import can_take, choose_least_active
from madoguchi.services.desk import Desk, Unit, operator_topic, queue_topic
from madoguchi.services.timeline import append_event
from madoguchi.store import conversations as conv_repo
from madoguchi.store import operators as op_repo


async def assign_conversation(unit: Unit, conv: Conversation, operator: Operator) -> bool:
    """Give a waiting conversation to an operator and tell everyone; False if it was taken."""
    now = unit.desk.clock()
    if not await conv_repo.assign(unit.conn, conv.id, operator.id, now):
        return False
    await op_repo.mark_assigned(unit.conn, operator.id, now)
    await append_event(
        unit,
        conv.id,
        EventKind.ASSIGNED,
        role=Role.SYSTEM,
        data={"operator": {"name": operator.name}},
    )
    assigned = await conv_repo.get_conversation(unit.conn, conv.id)
    assert assigned is not None
    unit.publish(
        operator_topic(operator.id),
        assigned_frame(assigned),
    )
    unit.publish(queue_topic(conv.department), queue_changed_frame(conv.department))
    return True


def _is_automatic(desk: Desk, department: str) -> bool:
    dep = desk.settings.desk.departments.get(department)
    return dep is not None and dep.routing != "manual"


async def do_route(desk: Desk, conversation_id: str) -> str | None:
    """Offer a waiting conversation to the least-active eligible operator; return who got it."""
    async with desk.unit() as unit:
        conv = await conv_repo.get_conversation(
            unit.conn, conversation_id, lock=not desk.db.is_sqlite
        )
        if conv is None or conv.status is not Status.WAITING:
            return None
        if not _is_automatic(desk, conv.department):
            return None
        candidates = await op_repo.get_candidates(unit.conn, lock=not desk.db.is_sqlite)
        chosen = choose_least_active(candidates, conv.department, conv.language)
        if chosen is None:
            return None
        operator = await op_repo.get_operator(unit.conn, chosen.operator_id)
        assert operator is not None
        if await assign_conversation(unit, conv, operator):
            return operator.id
    return None


async def do_route_to_operator(desk: Desk, operator_id: str) -> int:
    """Hand an operator the longest-waiting chats they can take, until their capacity is full.

    Called when an operator comes online or frees a slot. Returns how many they got.
    Locks are taken in the order ``do_route`` takes them — the conversation, then the
    operator — so that the two cannot deadlock on PostgreSQL.
    """
    lock = not desk.db.is_sqlite
    given = 0
    while True:
        async with desk.db.read() as conn:
            found = await op_repo.get_candidates(conn, lock=False, operator_id=operator_id)
            if not found:
                return given
            departments = [d for d in found[0].departments if _is_automatic(desk, d)]
            waiting = await conv_repo.list_waiting(conn, departments, limit=50)
        conv = next((c for c in waiting if can_take(found[0], c.department, c.language)), None)
        if conv is None:
            return given
        async with desk.unit() as unit:
            locked = await conv_repo.get_conversation(unit.conn, conv.id, lock=lock)
            me = await op_repo.get_candidates(unit.conn, lock=lock, operator_id=operator_id)
            if not me or not can_take(me[0], conv.department, conv.language):
                return given
            operator = await op_repo.get_operator(unit.conn, operator_id)
            assert operator is not None
            if locked is not None and locked.status is Status.WAITING:
                given += await assign_conversation(unit, locked, operator)
