"""Away (SPEC V9): what an operator writes while the visitor has no live socket reaches them by
email, with a link back into the same conversation (docs/email.md, "Away").

Whether the visitor is there is known from the sockets, across nodes and after a node's
``kill -9``: each visitor socket following a conversation whose visitor gave an address keeps
a row (store/visitor_sockets.py) alive with its heartbeats and records, at each heartbeat, the
last event it had sent: what a live client is known to have. An operator's message sets the
conversation's durable timer ``away:<id>`` ``[email] away_delay_seconds`` later (not later
again: the first unread message starts the wait). When it fires, the operators' messages after
what the visitor is known to have are unread; if a socket is still alive its next heartbeat
will say whether they arrived, so the timer looks again then; if none is, they go in one mail.
"""

from __future__ import annotations

from datetime import timedelta

from madoguchi.domain.conversation import EventKind, Role, Status
from madoguchi.domain.errors import not_found
from madoguchi.domain.presence import HEARTBEAT_SECONDS
from madoguchi.domain.records import Actor
from madoguchi.domain.return_link import make_return_token, read_return_token
from madoguchi.services import bans, mail_out, timers
from madoguchi.services.desk import Desk, Unit
from madoguchi.services.timeline import append_event
from madoguchi.services.visitors import make_visitor_token
from madoguchi.store import conversations as repo
from madoguchi.store import visitor_sockets

AWAY_TIMER = "away"
# A socket counts as alive this long after its client last spoke: two heartbeats, so one ping
# late (a busy phone) is not taken for a visitor gone.
ALIVE_FOR = timedelta(seconds=2 * HEARTBEAT_SECONDS)
# Conversations where an operator's message may still be mailed.
_MAILED_IN = frozenset({Status.ACTIVE, Status.ENDED})


def away_key(conversation_id: str) -> str:
    """The timer key of a conversation's away check."""
    return f"away:{conversation_id}"


async def after_operator_message_in(unit: Unit, conversation_id: str) -> None:
    """Within the unit that stored an operator's message to a visitor who wants mail when
    away: look whether it reached them after the delay (not later, if a check is set)."""
    delay = timedelta(seconds=unit.desk.settings.desk.email.away_delay_seconds)
    due = unit.desk.clock() + delay
    await timers.schedule(unit, AWAY_TIMER, away_key(conversation_id), due, keep_earlier=True)


async def do_socket_follows(desk: Desk, socket_id: str, sent: dict[str, int]) -> None:
    """A visitor socket follows these conversations (id → last seq sent on it)."""
    if not sent:
        return
    until = desk.clock() + ALIVE_FOR
    async with desk.unit() as unit:
        for conversation_id, seq in sent.items():
            await visitor_sockets.register(unit.conn, conversation_id, socket_id, until, seq)


async def do_socket_beat(desk: Desk, socket_id: str, sent: dict[str, int]) -> None:
    """The socket's client spoke (a heartbeat): it is alive, and has what was sent before."""
    if not sent:
        return
    async with desk.unit() as unit:
        await visitor_sockets.beat(unit.conn, socket_id, desk.clock() + ALIVE_FOR, sent)


async def do_socket_closed(desk: Desk, socket_id: str, seen: dict[str, int]) -> None:
    """The socket closed; ``seen``: what it had sent before its client last spoke."""
    if not seen:
        return
    async with desk.unit() as unit:
        await visitor_sockets.close(unit.conn, socket_id, seen)


async def on_away_due(unit: Unit, timer: timers.Timer) -> None:
    """Mail the operators' messages the visitor has not received, if no socket of theirs is
    alive; with one alive, look again when its heartbeat is due."""
    conversation_id = timer.key.removeprefix("away:")
    conv = await repo.get_conversation(unit.conn, conversation_id, lock=True)
    if conv is None or conv.status not in _MAILED_IN or mail_out.visitor_address(conv) is None:
        return
    now = unit.desk.clock()
    sockets = await visitor_sockets.list_for(unit.conn, conv.id)
    has = max([conv.visitor_has_seq, *(socket.seen_seq for socket in sockets)])
    unread = [
        event
        for event in await repo.get_events(unit.conn, conv.id, has)
        if event.kind == EventKind.MESSAGE.value and event.author_role is Role.OPERATOR
    ]
    alive = [socket.alive_until for socket in sockets if socket.alive_until > now]
    if unread and alive:
        again = max(alive) + timedelta(seconds=1)
        await timers.schedule(unit, AWAY_TIMER, away_key(conv.id), again)
    elif unread:
        email = unit.desk.settings.desk.email
        expires_at = now + timedelta(days=email.return_link_days)
        token = make_return_token(
            unit.desk.settings.secret_key, conv.id, conv.visitor_id, expires_at
        )
        link = f"{unit.desk.settings.public_url}/chat#return={token}"
        await mail_out.queue_away_in(unit, conv, unread, link, expires_at)
        has = conv.last_seq
        await append_event(
            unit, conv.id, EventKind.AWAY_MAILED, role=Role.SYSTEM, data={"messages": len(unread)}
        )
    await visitor_sockets.raise_has_seq(unit.conn, conv.id, has)
    await visitor_sockets.forget_lapsed(unit.conn, conv.id, now)


async def do_come_back(desk: Desk, token: str, network: str | None) -> tuple[str, str, str]:
    """Trade an away mail's link for a session on that one conversation: (visitor id, a
    visitor token limited to the conversation, the conversation id). ``network``: the
    client's address, for the bans (SPEC A10)."""
    conversation_id, visitor_id = read_return_token(desk.settings.secret_key, token, desk.clock())
    async with desk.db.read() as conn:
        conv = await repo.get_conversation(conn, conversation_id)
    if conv is None or conv.visitor_id != visitor_id:
        raise not_found()
    came_back = Actor(
        role=Role.VISITOR, id=visitor_id, network=network, conversation=conversation_id
    )
    await bans.check_can_chat(desk, came_back)
    scoped = make_visitor_token(desk.settings.secret_key, visitor_id, conversation_id)
    return visitor_id, scoped, conversation_id


TIMER_HANDLERS: dict[str, timers.TimerHandler] = {AWAY_TIMER: on_away_due}
