"""Conversations: start, send, accept, end, read (SPEC V2, V3, V5, A3, A7)."""

from __future__ import annotations

import re
from typing import Any

import orjson

from madoguchi.config import DeskConfig, Topic
from madoguchi.domain.conversation import (
    EventKind,
    Role,
    Status,
    check_can_assign,
    check_can_write,
    check_end_reason,
    check_message_body,
)
from madoguchi.domain.errors import DomainError, not_found
from madoguchi.domain.events import queue_changed_frame
from madoguchi.domain.handoff import for_visitor
from madoguchi.domain.lifecycle import Transition, apply
from madoguchi.domain.moderation import Screened, screen_message
from madoguchi.domain.records import Actor, Conversation, Event
from madoguchi.domain.visits import check_can_open
from madoguchi.services import availability, bans, lifecycle, mail_out, ratelimits, routing
from madoguchi.services.desk import Desk, Unit, conversation_topic, queue_topic
from madoguchi.services.identity import check_may_chat, do_record_identity
from madoguchi.services.timeline import append_event, record_event
from madoguchi.services.writer import Message
from madoguchi.store import bans as ban_store
from madoguchi.store import conversations as repo
from madoguchi.store import operators as op_repo
from madoguchi.store import participants, visits

PRECHAT_FIELDS = ("member_id", "contract_name", "contact_person", "email")
CONTEXT_FIELDS = ("page_url", "user_agent", "language", "time_zone", "screen")
_FIELD_MAX = 200
_CONTEXT_MAX = 1000


class _Duplicate(Exception):
    """A client id was used before: the transaction is rolled back and the first answer given."""


def _clean(values: dict[str, Any] | None, keys: tuple[str, ...], limit: int) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for key in keys:
        value = (values or {}).get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise DomainError("bad_request", f"{key} must be text.")
        value = value.strip()
        if len(value) > limit:
            raise DomainError("bad_request", f"{key} is longer than {limit} characters.")
        if value:
            cleaned[key] = value
    return cleaned


def check_client_id(client_id: str) -> str:
    """A client id is 1 to 64 printable ASCII characters (a UUID is)."""
    if not (isinstance(client_id, str) and 0 < len(client_id) <= 64 and client_id.isprintable()):
        raise DomainError("bad_frame", "client_id must be 1 to 64 printable characters.")
    if not client_id.isascii():
        raise DomainError("bad_frame", "client_id must be ASCII.")
    return client_id


def check_visible(conv: Conversation | None, actor: Actor) -> Conversation:
    """The conversation if ``actor`` may see it.

    A visitor sees only their own (others' are "not found", to say nothing of what
    exists); an operator sees theirs and those waiting in their departments, live or as
    offline messages or follow-ups.
    """
    if conv is None:
        raise not_found()
    if actor.role is Role.VISITOR:
        if not actor.owns(conv.visitor_id, conv.id):
            raise not_found()
        return conv
    if conv.operator_id == actor.id or actor.is_supervisor:
        return conv
    if (
        conv.status in (Status.WAITING, Status.OFFLINE, Status.FOLLOW_UP)
        and conv.department in actor.departments
    ):
        return conv
    raise DomainError("forbidden", "This conversation is not yours.", 403)


def check_topic(config: DeskConfig, topic: str, language: str, consent: bool) -> Topic:
    """The topic a visitor may write about, in a language the desk offers, with consent given."""
    chosen = config.topic(topic)
    if chosen is None:
        raise DomainError("unknown_topic", f"There is no topic {topic!r}.")
    if language not in config.languages.enabled:
        raise DomainError("unknown_language", f"Language {language!r} is not offered.")
    if consent is not True:
        raise DomainError(
            "consent_required", "The chat policy and the privacy policy must be accepted."
        )
    return chosen


def check_message(
    config: DeskConfig, role: Role, client_id: str, body: str
) -> tuple[str, Screened]:
    """A message's client id, and its body as moderation lets it be stored (docs/moderation.md)."""
    client_id = check_client_id(client_id)
    body = check_message_body(body, config.limits.message_max_chars)
    return client_id, screen_message(
        config.moderation.rules, body, from_visitor=role is Role.VISITOR
    )


async def _flag(unit: Unit, message: Event, screened: Screened) -> None:
    """Tell the operators, not the visitor, that a message holds abuse words (P9)."""
    if screened.abuse:
        await append_event(
            unit,
            message.conversation_id,
            EventKind.FLAGGED,
            role=Role.SYSTEM,
            data={"seq": message.seq, "words": list(screened.abuse)},
        )


async def _first_events(
    unit: Unit,
    conv_id: str,
    visitor_id: str,
    created: dict[str, Any],
    message: tuple[str, Screened] | None,
) -> None:
    """A new conversation's ``created`` event, then the visitor's first message if any."""
    await append_event(
        unit, conv_id, EventKind.CREATED, role=Role.VISITOR, author_id=visitor_id, data=created
    )
    if message is not None:
        client_id, screened = message
        claim = await repo.next_seq(unit.conn, conv_id)
        assert claim is not None
        event = await record_event(
            unit,
            conv_id,
            claim.seq,
            EventKind.MESSAGE,
            role=Role.VISITOR,
            author_id=visitor_id,
            client_id=client_id,
            body=screened.body,
            data=screened.data or None,
        )
        assert event is not None
        await _flag(unit, event, screened)


async def do_start_conversation(
    desk: Desk,
    visitor: Actor,
    *,
    topic: str,
    language: str,
    consent: bool,
    prechat: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    first_message: tuple[str, str] | None = None,
    identity_token: str | None = None,
) -> Conversation:
    """Open a conversation on a topic (and its first message), queue it, and route it."""
    visitor_id = visitor.id
    check_may_start(visitor)
    await bans.check_can_chat(desk, visitor)  # before anything that says what the desk does
    config = desk.settings.desk
    # The host page's signed token (SPEC V4): a verified member, or None (unverified).
    member = check_may_chat(desk, identity_token, language)
    chosen = check_topic(config, topic, language, consent)
    await availability.check_can_start(desk, chosen.id, language)
    clean_prechat = _clean(prechat, PRECHAT_FIELDS, _FIELD_MAX)
    if "email" in clean_prechat:  # optional; where replies go once the visitor left (V9)
        clean_prechat["email"] = check_address(clean_prechat["email"])
    clean_context = _clean(context, CONTEXT_FIELDS, _CONTEXT_MAX)
    message = None
    if first_message is not None:
        message = check_message(config, Role.VISITOR, *first_message)
    await ratelimits.check(desk, visitor, "start")  # last: only a start that would happen counts
    async with desk.unit() as unit:
        # Several conversations (SPEC V16): one live chat per topic, a few at once.
        await visits.lock_visitor(unit.conn, visitor_id)
        check_can_open(await visits.list_live_chats(unit.conn, visitor_id), chosen.id)
        conv_id = await repo.insert_conversation(
            unit.conn,
            visitor_id=visitor_id,
            topic=chosen.id,
            department=chosen.department,
            language=language,
            prechat=clean_prechat,
            context=clean_context,
            now=desk.clock(),
            status=apply(None, Transition.START),
            mail_when_away="email" in clean_prechat,
        )
        await ban_store.set_client_address(unit.conn, conv_id, visitor.network)
        await _first_events(unit, conv_id, visitor_id, {"topic": chosen.id}, message)
        await do_record_identity(unit, conv_id, member)
        await routing.schedule_max_wait(unit, conv_id, chosen.department)
        unit.publish(
            queue_topic(chosen.department),
            queue_changed_frame(chosen.department),
        )
    await routing.do_route(desk, conv_id)
    return await get_conversation(desk, visitor, conv_id)


_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def check_contact(name: str, email: str) -> dict[str, str]:
    """The name and address an offline message is answered to; both required."""
    name, email = name.strip(), email.strip()
    if not name or len(name) > _FIELD_MAX:
        raise DomainError("bad_name", f"Give a name of 1 to {_FIELD_MAX} characters.", 422)
    # Deliverability is the mail issue's to prove; this only catches typing slips.
    return {"name": name, "email": check_address(email)}


def check_address(email: str) -> str:
    """A visitor's email address, or ``bad_email``."""
    if len(email) > 254 or not _EMAIL.match(email):
        raise DomainError("bad_email", "Give an email address such as name@example.com.", 422)
    return email


async def do_leave_message(
    desk: Desk,
    visitor: Actor,
    *,
    topic: str,
    language: str,
    consent: bool,
    name: str,
    email: str,
    message: tuple[str, str],
    context: dict[str, Any] | None = None,
    identity_token: str | None = None,
) -> Conversation:
    """Leave an offline message (V8): a conversation waiting for an operator's answer."""
    visitor_id = visitor.id
    check_may_start(visitor)
    await bans.check_can_chat(desk, visitor)
    config = desk.settings.desk
    member = check_may_chat(desk, identity_token, language)
    chosen = check_topic(config, topic, language, consent)
    contact = check_contact(name, email)
    await availability.check_not_in_maintenance(desk)
    first = check_message(config, Role.VISITOR, *message)
    await ratelimits.check(desk, visitor, "start")  # an offline message is a chat started too
    async with desk.unit() as unit:
        conv_id = await repo.insert_conversation(
            unit.conn,
            visitor_id=visitor_id,
            topic=chosen.id,
            department=chosen.department,
            language=language,
            prechat=contact,
            context=_clean(context, CONTEXT_FIELDS, _CONTEXT_MAX),
            now=desk.clock(),
            status=apply(None, Transition.LEAVE_MESSAGE),
        )
        await ban_store.set_client_address(unit.conn, conv_id, visitor.network)
        created = {"topic": chosen.id, "offline": True}
        await _first_events(unit, conv_id, visitor_id, created, first)
        await do_record_identity(unit, conv_id, member)
        await append_event(
            unit, conv_id, EventKind.OFFLINE, role=Role.SYSTEM, data={"reason": "left_message"}
        )
        # The acknowledgment by email commits with the message, or neither does (V8).
        left = await repo.get_conversation(unit.conn, conv_id)
        assert left is not None
        await mail_out.queue_ack_in(unit, left, first[1].body)
        # Consoles refresh their lists of waiting chats and offline messages on this.
        unit.publish(queue_topic(chosen.department), queue_changed_frame(chosen.department))
    return await get_conversation(desk, visitor, conv_id)


async def do_send_message(
    desk: Desk, actor: Actor, conversation_id: str, client_id: str, body: str
) -> tuple[Event, bool]:
    """Store a message once per client id; return it and whether it is new.

    The hot path: one UPDATE … RETURNING claims the sequence number and returns what the
    checks need, one INSERT stores the message, one commit; then the frame is published.
    """
    client_id, screened = check_message(desk.settings.desk, actor.role, client_id, body)
    if actor.role is Role.VISITOR:  # from this node's copy of the bans: no query (A10)
        await bans.check_can_send(desk, actor)
    # Before the transaction: a refused message is not stored, and the client sends it again.
    await ratelimits.check(desk, actor, "message")
    writer = desk.writer
    if writer is not None and not screened.abuse and actor.conversation in (None, conversation_id):
        # The common case, written with the other messages arriving now (services/writer.py);
        # None: this one needs the checks below.
        batched = await writer.write(
            Message(actor, conversation_id, client_id, screened.body, screened.data or None)
        )
        if batched is not None:
            return batched, True
    try:
        async with desk.unit() as unit:
            claim = await repo.next_seq(
                unit.conn, conversation_id, activity=actor.role, now=desk.clock()
            )
            if claim is None:
                raise not_found()
            if actor.role is Role.VISITOR:
                if not actor.owns(claim.visitor_id, conversation_id):
                    raise not_found()
            elif claim.operator_id != actor.id and not await participants.is_participant(
                unit.conn, conversation_id, actor.id
            ):  # a supervisor who joined may write too (SPEC A9)
                raise DomainError("forbidden", "Only the chat's operators may write here.", 403)
            if claim.status is Status.ENDED:
                raise _Duplicate  # perhaps the retry of a message sent before the end
            event = await record_event(
                unit,
                conversation_id,
                claim.seq,
                EventKind.MESSAGE,
                role=actor.role,
                author_id=actor.id,
                author_name=actor.name if actor.role is Role.OPERATOR else None,
                client_id=client_id,
                body=screened.body,
                data=screened.data or None,
            )
            if event is None:
                raise _Duplicate
            await _flag(unit, event, screened)
            await lifecycle.after_message_in(unit, conversation_id, claim, actor.role)
            return event, True
    except _Duplicate:
        pass
    async with desk.db.read() as conn:
        earlier = await repo.get_event_by_client_id(conn, conversation_id, client_id)
        if earlier is None:
            conv = await repo.get_conversation(conn, conversation_id)
            check_can_write(conv.status if conv else Status.ENDED)
            raise AssertionError("a duplicate client id with no earlier event")
    if earlier.author_role is not actor.role or earlier.author_id != actor.id:
        raise DomainError(
            "duplicate_client_id", "This client_id was already used by someone else.", 409
        )
    return earlier, False


async def do_accept(desk: Desk, actor: Actor, conversation_id: str) -> Conversation:
    """An operator takes a waiting conversation from the queue."""
    async with desk.unit() as unit:
        conv = await repo.get_conversation(unit.conn, conversation_id, lock=True)
        if conv is None:
            raise not_found()
        if conv.department not in actor.departments and not actor.is_supervisor:
            raise DomainError("forbidden", "This conversation is for another department.", 403)
        check_can_assign(conv.status, conv.operator_id, actor.id)
        if conv.status is Status.OFFLINE:
            raise DomainError(
                "not_waiting", "This chat left the queue; answer it as a message.", 409
            )
        if conv.status is Status.WAITING:
            operator = await op_repo.get_operator(unit.conn, actor.id)
            if operator is None:
                raise DomainError("unauthorized", "Your account no longer exists.", 401)
            held = (await op_repo.active_counts(unit.conn, [actor.id])).get(actor.id, 0)
            if held >= operator.capacity:
                raise DomainError(
                    "at_capacity", "You already hold as many chats as your capacity allows.", 409
                )
            if not await routing.assign_conversation(unit, conv, operator):
                raise DomainError(
                    "already_assigned",
                    "This conversation has already been taken by another operator.",
                    409,
                )
    return await get_conversation(desk, actor, conversation_id)


async def do_end(desk: Desk, actor: Actor, conversation_id: str, reason: str) -> Conversation:
    """End a conversation with a reason (SPEC A7), or make it a follow-up (A7, A8); the freed
    operator gets the next waiting one."""
    end_reason = check_end_reason(reason, actor.role)
    async with desk.unit() as unit:
        conv = check_visible(
            await repo.get_conversation(unit.conn, conversation_id, lock=True),
            actor,
        )
        await lifecycle.end_in(unit, conv, end_reason, actor.role)
    if conv.operator_id is not None and conv.status is Status.ACTIVE:
        await routing.do_route_to_operator(desk, conv.operator_id)
    return await get_conversation(desk, actor, conversation_id)


async def do_set_presence(desk: Desk, actor: Actor, status: str) -> None:
    """Set an operator online, away or offline; coming online hands them waiting chats."""
    if status not in ("online", "away", "offline"):
        raise DomainError("invalid_status", "Presence must be online, away or offline.", 422)
    async with desk.unit() as unit:
        await op_repo.set_status(unit.conn, actor.id, status)
    if status == "online":
        await routing.do_route_to_operator(desk, actor.id)
    else:  # nothing new, and the offers waiting on them move on (A3)
        await routing.do_withdraw_offers(desk, actor.id)


async def get_conversation(desk: Desk, actor: Actor, conversation_id: str) -> Conversation:
    """A conversation the actor may see."""
    async with desk.db.read() as conn:
        return check_visible(await repo.get_conversation(conn, conversation_id), actor)


async def get_events(desk: Desk, actor: Actor, conversation_id: str, since: int = 0) -> list[Event]:
    """The events after ``since`` of a conversation the actor may see."""
    if since < 0:
        raise DomainError("bad_request", "since must not be negative.")
    async with desk.db.read() as conn:
        check_visible(await repo.get_conversation(conn, conversation_id), actor)
        events = await repo.get_events(conn, conversation_id, since)
    if actor.role is Role.VISITOR:  # private notes never reach a visitor (SPEC A6)
        return [for_visitor(event) for event in events]
    return events


async def get_visitor_conversations(desk: Desk, visitor: Actor) -> list[Conversation]:
    """A visitor's conversations, open first (only the one their token reaches, if limited)."""
    async with desk.db.read() as conn:
        convs = await repo.list_for_visitor(conn, visitor.id)
    return [conv for conv in convs if visitor.owns(conv.visitor_id, conv.id)]


def check_may_start(visitor: Actor) -> None:
    """A visitor back by an emailed link holds a token for that conversation only (V9): a new
    chat is started by the visitor's own session, which the chat frame makes."""
    if visitor.conversation is not None:
        raise DomainError(
            "scoped_session", "This session is limited to the conversation the email opened.", 403
        )


async def get_queue(desk: Desk, actor: Actor) -> list[Conversation]:
    """Waiting conversations in the operator's departments (all, for supervisors)."""
    async with desk.db.read() as conn:
        return await repo.list_waiting(conn, None if actor.is_supervisor else actor.departments)


async def get_offline_messages(
    desk: Desk, actor: Actor, status: Status = Status.OFFLINE
) -> list[Conversation]:
    """Offline messages (or, by ``status``, follow-ups: A7, A8) waiting for an answer in the
    operator's departments (all, for supervisors)."""
    async with desk.db.read() as conn:
        return await repo.list_offline(
            conn, None if actor.is_supervisor else actor.departments, status=status
        )


async def get_offers(desk: Desk, actor: Actor) -> list[Conversation]:
    """The chats waiting for this operator to accept them."""
    async with desk.db.read() as conn:
        return await repo.list_offered_to(conn, actor.id)


async def get_operator_conversations(desk: Desk, actor: Actor) -> list[Conversation]:
    """The active conversations an operator holds, and those a supervisor joined."""
    async with desk.db.read() as conn:
        held = await repo.list_active_for_operator(conn, actor.id)
        joined = await repo.list_joined(conn, actor.id) if actor.is_supervisor else []
    return held + joined


async def do_send_typing(desk: Desk, conversation_id: str, role: Role, typing: bool) -> None:
    """Tell the other side someone is typing. Not stored; the caller checked access."""
    frame = {
        "type": "typing",
        "conversation_id": conversation_id,
        "role": role.value,
        "typing": typing,
    }
    await desk.bus.publish(conversation_topic(conversation_id), orjson.dumps(frame))
