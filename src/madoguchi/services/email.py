"""Email use cases: answering by email from the console, the transcript by email, and a
visitor's reply by email coming back into the conversation (docs/email.md)."""

from __future__ import annotations

import hashlib

from madoguchi.domain.conversation import EventKind, Role, Status
from madoguchi.domain.errors import DomainError, not_found
from madoguchi.domain.events import queue_changed_frame
from madoguchi.domain.mail_reply import message_id, reply_text
from madoguchi.domain.records import Actor, Conversation, Event
from madoguchi.domain.reply_address import read_reply_address
from madoguchi.services import chat, mail_out, transcript
from madoguchi.services.desk import Desk, Unit, queue_topic
from madoguchi.services.timeline import record_event
from madoguchi.store import conversations as repo

# Statuses whose answer goes by email: an offline message (V8) and a follow-up (A7, A8).
ANSWERED_BY_EMAIL = frozenset({Status.OFFLINE, Status.FOLLOW_UP})


class _Duplicate(Exception):
    """The client id was used before: roll back, answer with the first event."""


def check_address(conv: Conversation) -> str:
    """The visitor's address, or 409 ``no_email``."""
    address = mail_out.visitor_address(conv)
    if address is None:
        raise DomainError("no_email", "The visitor gave no email address.", 409)
    return address


def _asked(events: list[Event]) -> list[Event]:
    """The visitor's messages since the operators last wrote: what an answer answers."""
    asked: list[Event] = []
    for event in events:
        if event.kind != EventKind.MESSAGE.value:
            continue
        if event.author_role is Role.OPERATOR:
            asked = []
        elif event.author_role is Role.VISITOR:
            asked.append(event)
    return asked


async def do_answer_by_email(
    desk: Desk, actor: Actor, conversation_id: str, client_id: str, body: str
) -> tuple[Event, bool]:
    """An operator answers an offline message or a follow-up: the answer is a message of the
    conversation and a mail to the visitor, committed together; a retry is stored and mailed
    once. Returns the event and whether it is new."""
    client_id, screened = chat.check_message(desk.settings.desk, Role.OPERATOR, client_id, body)
    try:
        async with desk.unit() as unit:
            conv = chat.check_visible(
                await repo.get_conversation(unit.conn, conversation_id, lock=True), actor
            )
            if conv.status not in ANSWERED_BY_EMAIL:
                raise DomainError(
                    "not_by_email",
                    "Only offline messages and follow-ups are answered by email.",
                    409,
                )
            check_address(conv)
            asked = _asked(await repo.get_events(unit.conn, conv.id, 0))
            claim = await repo.next_seq(unit.conn, conv.id)
            assert claim is not None
            event = await record_event(
                unit,
                conv.id,
                claim.seq,
                EventKind.MESSAGE,
                role=Role.OPERATOR,
                author_id=actor.id,
                author_name=actor.name,
                client_id=client_id,
                body=screened.body,
                data=screened.data,
            )
            if event is None:
                raise _Duplicate
            await mail_out.queue_answer_in(unit, conv, event, asked)
            _tell_consoles(unit, conv)
            return event, True
    except _Duplicate:
        pass
    async with desk.db.read() as conn:
        earlier = await repo.get_event_by_client_id(conn, conversation_id, client_id)
    if earlier is None or earlier.author_id != actor.id:
        raise DomainError(
            "duplicate_client_id", "This client_id was already used by someone else.", 409
        )
    return earlier, False


def _tell_consoles(unit: Unit, conv: Conversation) -> None:
    # The console's lists of offline messages and follow-ups show the latest words.
    unit.publish(queue_topic(conv.department), queue_changed_frame(conv.department))


async def do_email_transcript(
    desk: Desk, visitor: Actor, conversation_id: str, client_id: str
) -> str:
    """V11 by email: the transcript to the address the visitor gave, never another; a retry
    with the same ``client_id`` queues it once. Returns the address (for the widget to say)."""
    client_id = chat.check_client_id(client_id)
    _, text = await transcript.get_transcript(desk, visitor, conversation_id)
    async with desk.unit() as unit:
        conv = chat.check_visible(await repo.get_conversation(unit.conn, conversation_id), visitor)
        address = check_address(conv)
        await mail_out.queue_transcript_in(unit, conv, text, client_id)
    return address


# -- replies by email --------------------------------------------------------------------------


async def get_reply_target(desk: Desk, address: str) -> Conversation:
    """The conversation a reply address stands for, if it may still be written to; else a
    refusal: ``unknown_address`` (not ours, or a forged or damaged token) or ``closed``."""
    inbound = desk.settings.desk.email.inbound
    domain = inbound.domain or ""
    conversation_id = read_reply_address(desk.settings.secret_key, address, domain)
    if conversation_id is None:
        raise DomainError("unknown_address", "No such reply address.", 404)
    async with desk.db.read() as conn:
        conv = await repo.get_conversation(conn, conversation_id)
    if conv is None:
        raise DomainError("unknown_address", "No such reply address.", 404)
    if conv.status is Status.ENDED:
        raise DomainError("conversation_ended", "This conversation has ended.", 409)
    return conv


def _client_id(raw: bytes) -> str:
    """A reply's client id: from its Message-ID, so a relay's retry is stored once."""
    source = message_id(raw) or hashlib.sha256(raw).hexdigest()
    return "mail:" + hashlib.sha256(source.encode()).hexdigest()[:40]


async def do_receive_reply(desk: Desk, conversation_id: str, raw: bytes) -> Event:
    """A reply by email: its new text (quote and signature removed) becomes the visitor's
    message in the conversation, live for the operator as any message is."""
    body = reply_text(raw)
    if not body.strip():
        raise DomainError("empty_message", "The reply has no text above the quoted mail.")
    async with desk.db.read() as conn:
        conv = await repo.get_conversation(conn, conversation_id)
    if conv is None:
        raise not_found()
    visitor = Actor(role=Role.VISITOR, id=conv.visitor_id)
    event, new = await chat.do_send_message(desk, visitor, conv.id, _client_id(raw), body)
    if new and conv.status in ANSWERED_BY_EMAIL:
        async with desk.unit() as unit:
            _tell_consoles(unit, conv)
    return event
