"""Transfers, private notes, and supervisors joining or taking over a chat (SPEC A6, A9).

Each function is one unit of work. As in routing, the conversation's row is locked first,
then operators' rows, so that a transfer racing an accept or another transfer on PostgreSQL
waits instead of deadlocking, and exactly one of them wins.

What the visitor is told is a ``transferred`` or ``joined`` event, rendered from their
catalog; the note that goes with a transfer is a separate ``note`` event, which a visitor's
socket and REST reads get only as a ``hidden`` placeholder (domain/handoff.py).
"""

from __future__ import annotations

from madoguchi.domain import hours
from madoguchi.domain.conversation import EventKind, Role, check_can_write, check_message_body
from madoguchi.domain.errors import DomainError, not_found
from madoguchi.domain.events import assigned_frame, iso, queue_changed_frame
from madoguchi.domain.handoff import (
    TAKE_OVER,
    check_active,
    check_can_hand_off,
    check_supervisor,
    check_transfer_target,
    transferred_data,
    unassigned_frame,
)
from madoguchi.domain.lifecycle import Transition, apply
from madoguchi.domain.records import Actor, Conversation, Event, Operator
from madoguchi.services import routing
from madoguchi.services.chat import check_client_id, check_visible, get_conversation
from madoguchi.services.desk import Desk, Unit, operator_topic, queue_topic
from madoguchi.services.timeline import append_event, record_event
from madoguchi.store import conversations as conv_repo
from madoguchi.store import operators as op_repo
from madoguchi.store import participants


class _Duplicate(Exception):
    """A note's client id was used before: roll back, and answer with the first one."""


async def _locked(unit: Unit, actor: Actor, conversation_id: str) -> Conversation:
    conv = await conv_repo.get_conversation(unit.conn, conversation_id, lock=True)
    return check_visible(conv, actor)


def _unavailable(message: str, reason: str) -> DomainError:
    return DomainError("operator_unavailable", message, 409, details={"reason": reason})


async def _check_target(unit: Unit, conv: Conversation, operator_id: str) -> Operator:
    """The operator a chat is transferred to: online, skilled for it, with a free slot."""
    if operator_id == conv.operator_id:
        raise DomainError("bad_request", "The chat is already with this operator.")
    operator = await op_repo.get_operator(unit.conn, operator_id)
    if operator is None:
        raise _unavailable("There is no such operator.", "unknown")
    found = await op_repo.get_candidates(
        unit.conn,
        lock=True,
        operator_id=operator_id,
        alive_since=routing.alive_cutoff(unit.desk),  # a silent console is not "online"
    )
    if not found:
        raise _unavailable(f"{operator.name} is not online.", "offline")
    candidate = found[0]
    if conv.department not in candidate.departments or conv.language not in candidate.languages:
        raise _unavailable(
            f"{operator.name} does not serve {conv.department} in {conv.language}.", "skills"
        )
    if candidate.load >= candidate.capacity:
        raise _unavailable(f"{operator.name} has no free slot.", "at_capacity")
    return operator


def _check_department_open(desk: Desk, department: str, language: str) -> None:
    schedule = desk.settings.desk.schedule_for(department, language)
    if schedule is None:
        raise DomainError(
            "language_not_served", "That department does not serve this chat's language.", 409
        )
    now = desk.clock()
    if not hours.is_open(schedule, now):
        raise DomainError(
            "department_closed",
            "That department is closed now for this chat's language.",
            409,
            details={"opens_at": iso(hours.next_change(schedule, now))},
        )


async def _record_note(
    unit: Unit, conversation_id: str, actor: Actor, body: str, client_id: str | None
) -> Event | None:
    claim = await conv_repo.next_seq(unit.conn, conversation_id)
    if claim is None:
        raise not_found()
    return await record_event(
        unit,
        conversation_id,
        claim.seq,
        EventKind.NOTE,
        role=Role.OPERATOR,
        author_id=actor.id,
        author_name=actor.name,
        client_id=client_id,
        body=body,
    )


async def do_transfer(
    desk: Desk,
    actor: Actor,
    conversation_id: str,
    *,
    to_operator: str | None = None,
    to_department: str | None = None,
    note: str,
) -> Conversation:
    """Hand an active chat to another operator, or back to a department's queue, with a note.

    To an operator: assigned to them at once (the sender chose them), if they are online, serve
    the chat's department and language, and have a free slot. To a department: it waits again
    at its old place in line and is routed by that department's mode, never back to the sender.
    The note (may be empty) is a private ``note`` event; the visitor sees only who or where.
    """
    config = desk.settings.desk
    check_transfer_target(to_operator, to_department, config.departments)
    text = (
        check_message_body(note, config.limits.message_max_chars) if note and note.strip() else None
    )
    async with desk.unit() as unit:
        conv = await _locked(unit, actor, conversation_id)
        check_can_hand_off(conv, actor)
        previous = conv.operator_id
        assert previous is not None
        if to_operator is not None:
            apply(conv.status, Transition.TRANSFER)
            target = await _check_target(unit, conv, to_operator)
            if not await conv_repo.reassign(unit.conn, conv.id, target.id, from_operator=previous):
                raise DomainError("not_active", "The chat changed hands meanwhile.", 409)
            await participants.remove(unit.conn, conv.id, target.id)
            await op_repo.mark_assigned(unit.conn, target.id, desk.clock())
            department, to_name = conv.department, target.name
        else:
            assert to_department is not None
            _check_department_open(desk, to_department, conv.language)
            apply(conv.status, Transition.REQUEUE)
            await conv_repo.requeue(unit.conn, conv.id, to_department, passed_by=[previous])
            await routing.schedule_max_wait(unit, conv.id, to_department)
            department, to_name = to_department, None
        data = transferred_data(
            from_name=conv.operator_name,
            to_name=to_name,
            department=department,
            department_name=dict(config.departments[department].name),
        )
        await append_event(
            unit, conv.id, EventKind.TRANSFERRED, role=Role.SYSTEM, author_id=actor.id, data=data
        )
        if text is not None:
            await _record_note(unit, conv.id, actor, text, None)
        unit.publish(operator_topic(previous), unassigned_frame(conv.id, "transferred", to_name))
        fresh = await conv_repo.get_conversation(unit.conn, conv.id)
        assert fresh is not None
        if to_operator is not None:
            unit.publish(operator_topic(to_operator), assigned_frame(fresh))
        else:
            unit.publish(queue_topic(department), queue_changed_frame(department))
            if await routing.route_in(unit, fresh) is not None:
                fresh = await conv_repo.get_conversation(unit.conn, conv.id)
                assert fresh is not None
    await routing.do_route_to_operator(desk, previous)  # the sender has a free slot now
    return fresh  # as it is now, though the sender may no longer see it


async def do_add_note(
    desk: Desk, actor: Actor, conversation_id: str, body: str, client_id: str
) -> tuple[Event, bool]:
    """Add a private note, once per client id; return it and whether it is new.

    Any operator who may see the conversation may write one, until it ends.
    """
    if actor.role is not Role.OPERATOR:
        raise not_found()
    client_id = check_client_id(client_id)
    body = check_message_body(body, desk.settings.desk.limits.message_max_chars)
    try:
        async with desk.unit() as unit:
            conv = await _locked(unit, actor, conversation_id)
            check_can_write(conv.status)
            event = await _record_note(unit, conv.id, actor, body, client_id)
            if event is None:
                raise _Duplicate
            return event, True
    except _Duplicate:
        pass
    async with desk.db.read() as conn:
        earlier = await conv_repo.get_event_by_client_id(conn, conversation_id, client_id)
    if earlier is None or earlier.kind != EventKind.NOTE.value or earlier.author_id != actor.id:
        raise DomainError(
            "duplicate_client_id", "This client_id was already used by someone else.", 409
        )
    return earlier, False


async def do_join(desk: Desk, supervisor: Actor, conversation_id: str) -> Conversation:
    """A supervisor joins an active chat as a second operator; the visitor is told."""
    check_supervisor(supervisor)
    async with desk.unit() as unit:
        conv = await _locked(unit, supervisor, conversation_id)
        check_active(conv)
        if conv.operator_id == supervisor.id or not await participants.add(
            unit.conn, conv.id, supervisor.id, desk.clock()
        ):
            raise DomainError("already_joined", "You are in this chat already.", 409)
        await append_event(
            unit,
            conv.id,
            EventKind.JOINED,
            role=Role.SYSTEM,
            author_id=supervisor.id,
            data={"operator": {"name": supervisor.name}},
        )
        # Their other consoles open the chat too, as for an assignment.
        unit.publish(operator_topic(supervisor.id), assigned_frame(conv))
    return await get_conversation(desk, supervisor, conversation_id)


async def do_take_over(desk: Desk, supervisor: Actor, conversation_id: str) -> Conversation:
    """A supervisor becomes the chat's operator; the previous one is told and loses it.

    Presence and capacity are not checked: taking over is a supervisor's deliberate step. A
    second call changes nothing.
    """
    check_supervisor(supervisor)
    async with desk.unit() as unit:
        conv = await _locked(unit, supervisor, conversation_id)
        check_active(conv)
        previous = conv.operator_id
        if previous == supervisor.id:
            return conv
        assert previous is not None
        apply(conv.status, Transition.TRANSFER)  # taken over
        if not await conv_repo.reassign(unit.conn, conv.id, supervisor.id, from_operator=previous):
            raise DomainError("not_active", "The chat changed hands meanwhile.", 409)
        await participants.remove(unit.conn, conv.id, supervisor.id)
        await op_repo.mark_assigned(unit.conn, supervisor.id, desk.clock())
        data = transferred_data(
            from_name=conv.operator_name,
            to_name=supervisor.name,
            department=conv.department,
            department_name=dict(desk.settings.desk.departments[conv.department].name),
            reason=TAKE_OVER,
        )
        await append_event(
            unit,
            conv.id,
            EventKind.TRANSFERRED,
            role=Role.SYSTEM,
            author_id=supervisor.id,
            data=data,
        )
        unit.publish(
            operator_topic(previous), unassigned_frame(conv.id, "taken_over", supervisor.name)
        )
        fresh = await conv_repo.get_conversation(unit.conn, conv.id)
        assert fresh is not None
        unit.publish(operator_topic(supervisor.id), assigned_frame(fresh))
    await routing.do_route_to_operator(desk, previous)
    return await get_conversation(desk, supervisor, conversation_id)
