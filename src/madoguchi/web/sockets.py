"""The WebSocket endpoints ``/ws/visitor`` and ``/ws/agent`` (docs/protocol.md).

A connection never waits for its peer while handling another: frames go through a bounded
queue drained by a writer task, and a peer that stops reading is dropped (code 1013), to
reconnect and resume from its last sequence number.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from madoguchi.domain.conversation import EventKind, Role, Status
from madoguchi.domain.errors import DomainError
from madoguchi.domain.events import (
    assigned_frame,
    conversation_summary,
    event_frame,
    offered_frame,
    queue_changed_frame,
)
from madoguchi.domain.handoff import hide_frame, is_operator_only
from madoguchi.domain.presence import HEARTBEAT_SECONDS
from madoguchi.domain.records import Actor, Conversation
from madoguchi.services import away, bans, chat, handover, lifecycle, maintenance, presence
from madoguchi.services.auth import get_session_operator, session_id
from madoguchi.services.desk import Desk, conversation_topic, operator_topic, queue_topic
from madoguchi.services.queue import QueueBoard
from madoguchi.services.visitors import check_visitor_token
from madoguchi.web.deps import SESSION_COOKIE, client_address, operator_actor
from madoguchi.web.hub import Hub

log = logging.getLogger(__name__)

HEARTBEAT = HEARTBEAT_SECONDS  # between a client's pings; silence for 3 of them closes the socket
# Typing counts as activity for the idle limit at most this often per socket and conversation:
# a client repeats typing=true every 3 s, and a minute's precision is plenty for a 20-minute limit.
TOUCH_EVERY = 15.0
CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_AVAILABLE = 4403  # a banned visitor (SPEC A10): the client stops reconnecting
CLOSE_TOO_SLOW = 1013


def _error(code: str, message: str, **extra: Any) -> str:
    return orjson.dumps({"type": "error", "code": code, "message": message, **extra}).decode()


class Connection:
    """One client's socket: what it follows, the last seq it has of each, its send queue."""

    def __init__(
        self,
        ws: WebSocket,
        desk: Desk,
        hub: Hub,
        actor: Actor,
        session: str | None = None,
        board: QueueBoard | None = None,
    ) -> None:
        self.ws = ws
        self.board = board  # the node's queue positions, for a visitor's waiting chats
        self.session = session  # an operator's login session, to close with it
        self.desk = desk
        self.hub = hub
        self.actor = actor
        self.queue: asyncio.Queue[str] = asyncio.Queue(desk.settings.desk.limits.send_queue_frames)
        self.last_seq: dict[str, int] = {}  # the conversations followed, and what was sent
        self._filling: dict[str, bool] = {}  # conversation -> another fill wanted
        # conversation -> loop time its typing last counted as activity (docs/lifecycle.md)
        self._touched: dict[str, float] = {}
        self._topics: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        # V9 (services/away.py): a visitor's conversations that want mail when away, and the
        # last seq sent on this socket before its client last spoke: what it is known to have.
        self.socket_id = uuid.uuid4().hex
        self._seen: dict[str, int] = {}

    # -- outgoing ---------------------------------------------------------------------------

    def push(self, text: str) -> None:
        """Queue a frame; a full queue means the client stopped reading: drop it."""
        if self._closing:
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self._closing = True
            self._spawn(self._close(CLOSE_TOO_SLOW))

    def deliver(self, frame: dict[str, Any], text: str) -> None:
        """A bus message for a topic this socket joined."""
        kind = frame.get("type")
        if kind == "event":
            conv_id = frame["conversation_id"]
            last = self.last_seq.get(conv_id)
            if last is None:
                return
            seq = frame["seq"]
            if self.actor.role is Role.VISITOR and is_operator_only(frame["kind"]):
                # A private note: the visitor gets its seq, so that no gap waits to be filled.
                text = orjson.dumps(hide_frame(frame)).decode()
            if seq == last + 1:
                self.last_seq[conv_id] = seq
                self.push(text)
                self._after_event(frame)
            elif seq > last + 1:
                # Published out of order (two writers) or a message lost between nodes:
                # the database has everything up to seq, so fill the gap from it.
                self._spawn(self._fill(conv_id))
        elif kind == "typing":
            if frame["role"] != self.actor.role.value and frame["conversation_id"] in self.last_seq:
                self.push(text)
        elif kind == "session_ended":
            if frame["session"] == self.session:
                self.push(_error("unauthorized", "You have logged out."))
                self._spawn(self._close_when_flushed(CLOSE_UNAUTHORIZED))
        elif kind == "assigned":
            conv_id = frame["conversation"]["id"]
            self.push(text)
            if conv_id not in self.last_seq:
                self._spawn(self.follow(conv_id, 0))
        elif kind == "unassigned":
            # Transferred or taken over: the chat is no longer this operator's to follow.
            self.push(text)
            self._spawn(self.unfollow(frame["conversation_id"]))
        elif kind == "queue_changed" and self.board is not None:
            self.board.changed(frame["department"])
            self._spawn(self.send_places(frame["department"]))
        else:
            self.push(text)

    async def send_places(self, department: str) -> None:
        """Tell a visitor where their waiting conversations stand in the department's queue."""
        assert self.board is not None
        places = await self.board.positions(department)
        for conv_id in self.last_seq:
            if conv_id in places:
                self.push(orjson.dumps(places[conv_id]).decode())

    def resync(self) -> None:
        """The bus lost messages (its connection dropped): catch up from the database."""
        self._spawn(self._resync())

    async def _resync(self) -> None:
        for conv_id in tuple(self.last_seq):
            await self._fill(conv_id)
        if self.actor.role is not Role.OPERATOR:
            for topic in self._topics:
                if topic.startswith("queue:") and self.board is not None:
                    self.board.changed(topic.removeprefix("queue:"))
                    await self.send_places(topic.removeprefix("queue:"))
            return
        for conv in await chat.get_offers(self.desk, self.actor):  # an `offered` lost
            self.push(orjson.dumps(offered_frame(conv)).decode())
        for conv in await chat.get_operator_conversations(self.desk, self.actor):
            if conv.id not in self.last_seq:  # its `assigned` notice was lost
                self.push(orjson.dumps(assigned_frame(conv)).decode())
                await self.follow(conv.id, 0)
        for topic in self._topics:
            if topic.startswith("queue:"):
                frame = queue_changed_frame(topic.removeprefix("queue:"))
                self.push(orjson.dumps(frame).decode())
        if maintenance.TOPIC in self._topics:  # a switch flipped meanwhile
            state = await maintenance.get_maintenance_state(self.desk)
            self.push(orjson.dumps(maintenance.maintenance_frame(state)).decode())

    async def _writer(self) -> None:
        while True:
            text = await self.queue.get()
            try:
                await self.ws.send_text(text)
            finally:
                self.queue.task_done()

    # -- following conversations -------------------------------------------------------------

    async def join(self, topic: str) -> None:
        """Join a bus topic once."""
        if topic not in self._topics:
            self._topics.add(topic)
            await self.hub.join(topic, self)

    async def follow(self, conv_id: str, since: int) -> None:
        """Send the conversation's events after ``since``, then keep sending new ones."""
        if conv_id in self.last_seq:
            self.last_seq[conv_id] = min(self.last_seq[conv_id], since)
        else:
            self.last_seq[conv_id] = since
            await self.join(conversation_topic(conv_id))
        await self._fill(conv_id)

    async def unfollow(self, conv_id: str) -> None:
        """Stop sending a conversation's events."""
        self.last_seq.pop(conv_id, None)
        topic = conversation_topic(conv_id)
        if topic in self._topics:
            self._topics.discard(topic)
            await self.hub.leave(topic, self)

    async def watch_away(self, convs: list[Conversation], resume: dict[str, int]) -> None:
        """Keep the rows that say this visitor is here, for their chats that want mail when
        they are away; what the client said it has (``resume``) is what it is known to have."""
        found = {
            conv.id: resume.get(conv.id, 0)
            for conv in convs
            if conv.mail_when_away and conv.status is not Status.ENDED and conv.id not in self._seen
        }
        self._seen.update(found)
        await away.do_socket_follows(self.desk, self.socket_id, found)

    async def _client_spoke(self) -> None:
        """The visitor's client is alive: what was sent to it before has reached it."""
        if self._seen:
            self._seen = {conv_id: self.last_seq.get(conv_id, 0) for conv_id in self._seen}
            await away.do_socket_beat(self.desk, self.socket_id, self._seen)

    def _after_event(self, frame: dict[str, Any]) -> None:
        """A visitor whose chat went back to a queue (a transfer, or its operator was lost) is
        told its place there."""
        data = frame.get("data") or {}
        if self.actor.role is not Role.VISITOR:
            return
        if (frame["kind"] == EventKind.TRANSFERRED.value and data.get("to") is None) or (
            frame["kind"] == EventKind.REQUEUED.value and data.get("department")
        ):
            self._spawn(self._watch_queue(data["department"]))

    async def _watch_queue(self, department: str) -> None:
        await self.join(queue_topic(department))
        await self.send_places(department)

    async def _fill(self, conv_id: str) -> None:
        if conv_id in self._filling:
            self._filling[conv_id] = True  # the running fill goes round once more
            return
        self._filling[conv_id] = False
        try:
            while conv_id in self.last_seq:  # unfollow() may end it
                events = await chat.get_events(
                    self.desk, self.actor, conv_id, self.last_seq[conv_id]
                )
                for event in events:
                    if event.seq > self.last_seq.get(conv_id, event.seq):
                        self.last_seq[conv_id] = event.seq
                        frame = event_frame(event)
                        self.push(orjson.dumps(frame).decode())
                        self._after_event(frame)
                if not self._filling[conv_id]:
                    break
                self._filling[conv_id] = False
        except DomainError:
            self.last_seq.pop(conv_id, None)  # no longer visible to this actor
        finally:
            self._filling.pop(conv_id, None)

    # -- incoming ---------------------------------------------------------------------------

    async def handle(self, frame: dict[str, Any]) -> None:
        """Act on one frame from the client."""
        kind = frame.get("type")
        if kind == "send":
            await self._on_send(frame)
        elif kind == "typing":
            conv_id = frame.get("conversation_id")
            if not isinstance(conv_id, str) or not isinstance(frame.get("typing"), bool):
                self.push(_error("bad_frame", "typing needs conversation_id and typing (bool)."))
            elif conv_id not in self.last_seq:
                self.push(_error("not_found", "You do not follow this conversation."))
            else:
                await chat.do_send_typing(self.desk, conv_id, self.actor.role, frame["typing"])
                if frame["typing"]:
                    await self._typing_is_activity(conv_id)
        elif kind == "resume":
            conv_id, since = frame.get("conversation_id"), frame.get("since", 0)
            if not isinstance(conv_id, str) or type(since) is not int or since < 0:
                self.push(_error("bad_frame", "resume needs conversation_id and since (>= 0)."))
                return
            try:
                conv = await chat.get_conversation(self.desk, self.actor, conv_id)
            except DomainError as exc:
                self.push(_error(exc.code, exc.message, conversation_id=conv_id))
                return
            await self.follow(conv_id, since)
            if self.actor.role is Role.VISITOR:
                await self.watch_away([conv], {conv_id: since})
            if conv.status is Status.WAITING and self.actor.role is Role.VISITOR:
                await self.join(queue_topic(conv.department))
                await self.send_places(conv.department)
        elif kind == "still_here":
            conv_id = frame.get("conversation_id")
            if not isinstance(conv_id, str):
                self.push(_error("bad_frame", "still_here needs conversation_id."))
                return
            try:
                await lifecycle.do_still_here(self.desk, self.actor, conv_id)
            except DomainError as exc:
                self.push(_error(exc.code, exc.message, conversation_id=conv_id))
        elif kind == "ping":
            if self.actor.role is Role.VISITOR:  # recorded before the pong says it was
                await self._client_spoke()
            self.push(orjson.dumps({"type": "pong", "t": frame.get("t")}).decode())
            if self.actor.role is Role.OPERATOR:  # the console is still there
                await presence.do_console_seen(self.desk, self.actor.id)
        elif kind == "hello":
            self.push(_error("bad_frame", "hello was already received."))
        else:
            self.push(_error("unknown_type", f"Unknown frame type {kind!r}."))

    async def _typing_is_activity(self, conv_id: str) -> None:
        """Typing keeps a chat from going idle; counted at most every TOUCH_EVERY seconds."""
        now = self.desk.clock().timestamp()
        if now - self._touched.get(conv_id, -TOUCH_EVERY) < TOUCH_EVERY:
            return
        self._touched[conv_id] = now
        await lifecycle.do_touch(self.desk, self.actor, conv_id)

    async def _on_send(self, frame: dict[str, Any]) -> None:
        conv_id, client_id, body = (frame.get(k) for k in ("conversation_id", "client_id", "body"))
        if not all(isinstance(v, str) for v in (conv_id, client_id, body)):
            self.push(
                _error(
                    "bad_frame",
                    "send needs conversation_id, client_id and body as strings.",
                    client_id=client_id if isinstance(client_id, str) else None,
                )
            )
            return
        assert isinstance(conv_id, str)
        assert isinstance(client_id, str)
        assert isinstance(body, str)
        try:
            event, _ = await chat.do_send_message(self.desk, self.actor, conv_id, client_id, body)
        except DomainError as exc:
            extra = {"details": exc.details} if exc.details is not None else {}
            if exc.code == "rate_limited" and exc.details:  # kept, and sent again after it
                extra["retry_after"] = exc.details["retry_after"]
            self.push(
                _error(exc.code, exc.message, client_id=client_id, conversation_id=conv_id, **extra)
            )
            return
        ack = {
            "type": "ack",
            "conversation_id": conv_id,
            "client_id": client_id,
            "message_id": event.id,
            "seq": event.seq,
        }
        self.push(orjson.dumps(ack).decode())

    async def run(self) -> None:
        """Read frames until the client goes; then leave every topic."""
        writer = asyncio.create_task(self._writer())
        try:
            while not self._closing:
                try:
                    # asyncio.timeout, not wait_for: no task of its own for every frame read.
                    async with asyncio.timeout(3 * HEARTBEAT):
                        message = await self.ws.receive()
                except TimeoutError:
                    await self._close(1000)
                    return
                if message["type"] == "websocket.disconnect":
                    # The client closed: what was sent before its close frame reached it.
                    self._seen = {conv_id: self.last_seq.get(conv_id, 0) for conv_id in self._seen}
                    return
                text = message.get("text")
                if text is None:
                    self.push(_error("bad_json", "Frames must be JSON text."))
                    continue
                try:
                    frame = orjson.loads(text)
                except orjson.JSONDecodeError:
                    self.push(_error("bad_json", "The frame is not valid JSON."))
                    continue
                if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
                    self.push(_error("bad_frame", "A frame is a JSON object with a type."))
                    continue
                await self.handle(frame)
        except WebSocketDisconnect:
            return
        finally:
            self._closing = True
            writer.cancel()
            for task in tuple(self._tasks):
                task.cancel()
            for topic in self._topics:
                await self.hub.leave(topic, self)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
            try:
                await away.do_socket_closed(self.desk, self.socket_id, self._seen)
            except Exception:  # its rows lapse on their own (services/away.py)
                log.exception("could not record a closed visitor socket")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close_when_flushed(self, code: int) -> None:
        await self.queue.join()
        await self._close(code)

    async def _close(self, code: int) -> None:
        self._closing = True
        if self.ws.client_state is WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self.ws.close(code)


async def _hello(ws: WebSocket) -> dict[str, Any] | None:
    try:
        text = await asyncio.wait_for(ws.receive_text(), timeout=3 * HEARTBEAT)
        frame = orjson.loads(text)
    except (TimeoutError, KeyError, orjson.JSONDecodeError, WebSocketDisconnect):
        frame = None
    if not isinstance(frame, dict) or frame.get("type") != "hello":
        if ws.client_state is WebSocketState.CONNECTED:
            await ws.send_text(_error("hello_required", "The first frame must be hello."))
            await ws.close(1008)
        return None
    return frame


def _resume_map(frame: dict[str, Any]) -> dict[str, int]:
    resume = frame.get("resume") or {}
    if not isinstance(resume, dict):
        return {}
    return {
        str(k): v for k, v in resume.items() if type(v) is int and v >= 0 and isinstance(k, str)
    }


async def _reject(ws: WebSocket, exc: DomainError) -> None:
    await ws.send_text(_error(exc.code, exc.message))
    await ws.close(CLOSE_UNAUTHORIZED)


async def visitor_socket(ws: WebSocket) -> None:
    """``/ws/visitor``: a visitor's conversations, live."""
    desk: Desk = ws.app.state.desk
    hub: Hub = ws.app.state.hub
    await ws.accept()
    hello = await _hello(ws)
    if hello is None:
        return
    try:
        visitor_id, only = check_visitor_token(desk.settings.secret_key, hello.get("token", ""))
    except DomainError as exc:
        await _reject(ws, exc)
        return
    actor = Actor(role=Role.VISITOR, id=visitor_id, network=client_address(ws), conversation=only)
    try:
        await bans.check_can_chat(desk, actor)  # SPEC A10: a neutral "not available"
    except DomainError as exc:
        await ws.send_text(_error(exc.code, exc.message))
        await ws.close(CLOSE_NOT_AVAILABLE)
        return
    conn = Connection(ws, desk, hub, actor, board=ws.app.state.queue_board)
    resume = _resume_map(hello)
    convs = await chat.get_visitor_conversations(desk, actor)
    followed = [c for c in convs if c.status is not Status.ENDED or c.id in resume]
    conn.push(
        orjson.dumps(
            {
                "type": "welcome",
                "role": "visitor",
                "conversations": [conversation_summary(c, for_operator=False) for c in followed],
                "heartbeat": HEARTBEAT,
            }
        ).decode()
    )
    await _follow_all(conn, [c.id for c in followed], resume)
    await conn.watch_away(followed, resume)
    for department in {c.department for c in followed if c.status is Status.WAITING}:
        await conn.join(queue_topic(department))
        await conn.send_places(department)
    await conn.run()


async def agent_socket(ws: WebSocket) -> None:
    """``/ws/agent``: an operator's chats, queue changes and new assignments, live."""
    desk: Desk = ws.app.state.desk
    hub: Hub = ws.app.state.hub
    # The session cookie rides along with any page's request, so only our own pages may
    # open this socket (cross-site WebSocket hijacking).
    origin = ws.headers.get("origin")
    host = ws.headers.get("host")
    if origin is None or urlsplit(origin).netloc != host:
        await ws.close(1008)
        return
    token = ws.cookies.get(SESSION_COOKIE)
    found = await get_session_operator(desk, token) if token else None
    await ws.accept()
    if found is None:
        await _reject(ws, DomainError("unauthorized", "Please log in.", 401))
        return
    hello = await _hello(ws)
    if hello is None:
        return
    actor = operator_actor(found[0])
    conn = Connection(ws, desk, hub, actor, session=session_id(token or ""))
    resume = _resume_map(hello)
    convs = await chat.get_operator_conversations(desk, actor)
    offers = await chat.get_offers(desk, actor)
    conn.push(
        orjson.dumps(
            {
                "type": "welcome",
                "role": "operator",
                "conversations": [conversation_summary(c, for_operator=True) for c in convs],
                "offers": [offered_frame(c) for c in offers],
                "heartbeat": HEARTBEAT,
            }
        ).decode()
    )
    await conn.join(operator_topic(actor.id))
    await conn.join(maintenance.TOPIC)  # the console's banner (SPEC X5)
    for department in desk.settings.desk.departments if actor.is_supervisor else actor.departments:
        await conn.join(queue_topic(department))
    # Chats this console still shows that left it while it was away (it was lost, V10): it is
    # told, as it would have been at the time, instead of following them.
    for frame in await handover.get_lost_chats(desk, actor, resume):
        conn.push(orjson.dumps(frame).decode())
        resume.pop(frame["conversation_id"], None)
    # Conversations named in resume that are still visible (e.g. just ended) are followed too.
    await _follow_all(conn, [c.id for c in convs], resume)
    consoles: Counter[str] = ws.app.state.consoles
    consoles[actor.id] += 1
    await presence.do_console_seen(desk, actor.id)
    try:
        await conn.run()
    finally:
        consoles[actor.id] -= 1
        if consoles[actor.id] <= 0:
            del consoles[actor.id]
            await presence.do_console_closed(desk, actor.id)


async def _follow_all(conn: Connection, conv_ids: list[str], resume: dict[str, int]) -> None:
    for conv_id in conv_ids:
        await conn.follow(conv_id, resume.get(conv_id, 0))
    for conv_id, since in resume.items():
        if conv_id not in conn.last_seq:
            with contextlib.suppress(DomainError):
                await chat.get_conversation(conn.desk, conn.actor, conv_id)
                await conn.follow(conv_id, since)
