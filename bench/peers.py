"""The two sides of a chat as the load generator plays them: the chat frame and the console.

They speak docs/protocol.md as the browser apps do. A visitor makes a session
(``POST /api/v1/visitor/session``), starts a conversation, opens ``/ws/visitor`` and says
``hello`` with its token; an operator logs in (session cookie and CSRF token), opens
``/ws/agent`` from the node's own origin, says ``hello`` and goes online, and is then assigned
chats as ``assigned`` frames. Against the relay (``bench.relay``) the same frames flow, but the
``hello`` names the conversations instead of anything being set up over REST.

Every message's ``client_id`` ends with the monotonic clock at the moment it was sent
(``b<side><worker>.<n>.<ns>``). The receiver, in whichever process, subtracts it from its own
clock on the ``event`` frame: Linux's CLOCK_MONOTONIC is one clock for every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

OPEN_TIMEOUT = 20.0
SETUP_TIMEOUT = 30.0
# Browsers offer permessage-deflate and uvicorn accepts it, so the clients do too by default;
# a worker started with compression off sets this to None (``--no-deflate``).
compression: str | None = "deflate"

# What people write to a hosting company's support, in the desk's language. No digit runs (card
# numbers are masked) and no links (they are parsed), so every message takes the common path.
BODIES = (
    "こんにちは。サーバーにログインできなくなりました。",
    "メールの設定について教えてください。送信はできますが受信ができません。",
    "ありがとうございます。確認してみます。",
    "お問い合わせありがとうございます。状況を確認いたしますので、少々お待ちください。",
    "ドメインの更新手続きはどこから行えばよいでしょうか。",
    "Hello, my website shows an error after the last update. Could you have a look?",
    "Thank you, that fixed it.",
    "Could you tell me which plan includes daily backups?",
)


def ws_url(base: str, path: str) -> str:
    """``ws://host:port/path`` for an ``http://host:port`` base."""
    return base.replace("http", "ws", 1) + path


class Sink:
    """Where a peer reports what it saw; the worker implements it."""

    def sent(self, direction: str, client_id: str) -> None:
        """A message was written to the socket."""

    def acked(self, direction: str, client_id: str) -> None:
        """The server stored it (``ack``)."""

    def delivered(self, direction: str, client_id: str) -> None:
        """The other side received it as an ``event``."""

    def error(self, code: str) -> None:
        """An error frame, a refused request, a socket closed under us."""

    def new_client_id(self, side: str) -> str:
        """A client id carrying the current monotonic time."""
        raise NotImplementedError

    def on_conversation(self, peer: Peer, conv_id: str) -> None:
        """An operator got a chat: load may start on its side of it."""

    def on_message(self, peer: Peer, conv_id: str) -> None:
        """A peer received the other side's message (operators answer in the chat mode)."""


def sent_at(client_id: str) -> int:
    """The monotonic nanoseconds a bench client id carries."""
    return int(client_id.rsplit(".", 1)[1])


def _direction(author_role: str) -> str:
    return "v2o" if author_role == "visitor" else "o2v"


class Peer:
    """One socket of either side, with a reader task dispatching the frames it gets."""

    def __init__(
        self, role: str, ws: ClientConnection, sink: Sink, conversations: list[str]
    ) -> None:
        self.role = role
        self.ws = ws
        self.sink = sink
        self.conversations = conversations
        self.windows: dict[str, asyncio.Semaphore] = {}  # closed-loop sending, per conversation
        self.assigned = asyncio.Event()
        self.closing = False
        self._n = 0
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def send(self, conv_id: str) -> None:
        """Write one message into ``conv_id``."""
        client_id = self.sink.new_client_id(self.role[0])
        self._n += 1
        frame = {
            "type": "send",
            "conversation_id": conv_id,
            "client_id": client_id,
            "body": BODIES[self._n % len(BODIES)],
        }
        await self.ws.send(orjson.dumps(frame).decode())
        self.sink.sent(_direction(self.role), client_id)

    async def ping(self) -> None:
        """The heartbeat the apps send every ``heartbeat`` seconds."""
        await self.ws.send(orjson.dumps({"type": "ping", "t": time.monotonic_ns()}).decode())

    async def close(self) -> None:
        """Close the socket and stop reading."""
        self.closing = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 5)
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.reader

    async def _read(self) -> None:
        try:
            async for text in self.ws:
                self._on_frame(orjson.loads(text))
        except ConnectionClosed:
            pass
        if not self.closing:
            self.sink.error(f"closed_{self.ws.close_code}")

    def _on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "event":
            event = frame.get("kind")
            if event == "message":
                author = frame["author"]["role"]
                client_id = frame.get("client_id") or ""
                if author != self.role and client_id.startswith("b"):
                    self.sink.delivered(_direction(author), client_id)
                    self.sink.on_message(self, frame["conversation_id"])
            elif event == "assigned" and self.role == "visitor":
                self.assigned.set()
        elif kind == "ack":
            self.sink.acked(_direction(self.role), frame["client_id"])
            self._release(frame["conversation_id"])
        elif kind == "assigned":  # operators: a chat is theirs; its events follow
            conv_id = frame["conversation"]["id"]
            if conv_id not in self.conversations:
                self.conversations.append(conv_id)
                self.sink.on_conversation(self, conv_id)
        elif kind == "error":
            self.sink.error(str(frame.get("code")))
            if frame.get("conversation_id"):
                self._release(frame["conversation_id"])
        elif kind in ("unassigned", "offer_withdrawn"):
            self.sink.error(kind)

    def _release(self, conv_id: str) -> None:
        window = self.windows.get(conv_id)
        if window is not None:
            window.release()


def _connect(url: str, local_host: str | None, **options: Any) -> Any:
    return connect(
        url,
        proxy=None,
        ping_interval=None,  # browsers send no protocol pings; the app's own ping is below
        open_timeout=OPEN_TIMEOUT,
        max_size=2**20,
        compression=compression,
        local_addr=(local_host, 0) if local_host else None,
        **options,
    )


async def _hello(ws: ClientConnection, frame: dict[str, Any]) -> dict[str, Any]:
    await ws.send(orjson.dumps(frame).decode())
    while True:
        reply: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.recv(), SETUP_TIMEOUT))
        if reply.get("type") == "welcome":
            return reply
        if reply.get("type") == "error":
            raise RuntimeError(f"hello refused: {reply.get('code')}")


async def new_visitor_token(http: httpx.AsyncClient, base: str) -> str:
    """``POST /api/v1/visitor/session``: a visitor and its token."""
    response = await _post(http, f"{base}/api/v1/visitor/session", json={})
    token: str = response.json()["token"]
    return token


async def _post(http: httpx.AsyncClient, url: str, **options: Any) -> httpx.Response:
    """A POST, tried again on a connection that broke before any answer: uvicorn closes an idle
    keep-alive connection after 5 s, and a request sent on it at that moment gets no answer
    (the browser's fetch retries those too). A request that was answered is never repeated."""
    for attempt in range(3):
        try:
            response = await http.post(url, **options)
        except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError):
            if attempt == 2:
                raise
            continue
        response.raise_for_status()
        return response
    raise AssertionError("unreachable")


async def start_conversation(http: httpx.AsyncClient, base: str, token: str) -> str:
    """``POST /api/v1/visitor/conversations`` with consent, as the pre-chat form sends it."""
    response = await _post(
        http,
        f"{base}/api/v1/visitor/conversations",
        json={
            "topic": "technical",
            "language": "ja",
            "consent": True,
            "context": {"language": "ja", "time_zone": "Asia/Tokyo", "page_url": f"{base}/demo"},
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    conv_id: str = response.json()["id"]
    return conv_id


async def open_visitor(
    sink: Sink, base: str, token: str, conv_id: str | None, local_host: str | None
) -> Peer:
    """The chat frame's socket: ``hello`` with the token; with a conversation, until it has an
    operator (its ``assigned`` event, sent again from the start of the conversation)."""
    ws = await _connect(ws_url(base, "/ws/visitor"), local_host)
    try:
        await _hello(ws, {"type": "hello", "token": token, "resume": {}})
    except BaseException:
        await ws.close()
        raise
    peer = Peer("visitor", ws, sink, [conv_id] if conv_id else [])
    if conv_id:
        try:
            await asyncio.wait_for(peer.assigned.wait(), SETUP_TIMEOUT)
        except BaseException:
            await peer.close()
            raise
    return peer


async def open_operator(sink: Sink, base: str, email: str, password: str) -> Peer:
    """The console: log in, open ``/ws/agent`` with the cookie, ``hello``, go online."""
    async with httpx.AsyncClient(base_url=base, timeout=SETUP_TIMEOUT, trust_env=False) as http:
        response = await http.post(
            "/api/v1/agent/login", json={"email": email, "password": password}
        )
        response.raise_for_status()
        csrf = response.json()["csrf_token"]
        cookie = http.cookies.get("madoguchi_session")
        ws = await _connect(
            ws_url(base, "/ws/agent"),
            None,
            origin=base,
            additional_headers={"Cookie": f"madoguchi_session={cookie}"},
        )
        await _hello(ws, {"type": "hello", "resume": {}})
        peer = Peer("operator", ws, sink, [])
        response = await http.put(
            "/api/v1/agent/presence", json={"status": "online"}, headers={"X-CSRF-Token": csrf}
        )
        response.raise_for_status()
    return peer


async def open_relay(
    sink: Sink, base: str, role: str, conversations: list[str], local_host: str | None
) -> Peer:
    """A socket of the relay following ``conversations``; ready at once."""
    ws = await _connect(ws_url(base, "/ws/relay"), local_host)
    await _hello(ws, {"type": "hello", "role": role, "follow": conversations})
    peer = Peer(role, ws, sink, list(conversations))
    if role == "operator":
        for conv_id in conversations:
            sink.on_conversation(peer, conv_id)
    return peer
