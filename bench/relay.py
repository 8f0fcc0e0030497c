"""The limit: madoguchi's frames relayed between sockets by the same stack, with nothing stored.

uvicorn (with the options ``madoguchi serve`` gives it), a Starlette WebSocket route and orjson,
as madoguchi uses them. A client says which conversations it follows in its ``hello``; a ``send``
is answered with an ``ack`` and relayed as an ``event`` of madoguchi's shape to every socket of
the conversation, the sender's included, exactly as madoguchi does. No database, no bus, no
queue per socket: what is left is the cost of the sockets and the JSON, which is the ceiling
madoguchi's own figures are divided by.

Run alone: ``uv run python -m bench.relay --port 8800``.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
from collections import defaultdict
from datetime import UTC, datetime

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

FRAME_MAX_BYTES = 65536  # madoguchi's default [limits] frame_max_bytes


class Relay:
    """Sockets by conversation; an event sequence number per conversation, in memory."""

    def __init__(self) -> None:
        self.members: defaultdict[str, set[WebSocket]] = defaultdict(set)
        self.seq: defaultdict[str, int] = defaultdict(int)
        self.ids = itertools.count(1)

    async def serve(self, ws: WebSocket) -> None:
        """One client: hello, then ``send`` frames until it goes."""
        await ws.accept()
        hello = orjson.loads(await ws.receive_text())
        role = hello.get("role", "visitor")
        followed = [str(c) for c in hello.get("follow", [])]
        for conv_id in followed:
            self.members[conv_id].add(ws)
        await ws.send_text(
            orjson.dumps({"type": "welcome", "role": role, "conversations": followed}).decode()
        )
        try:
            while True:
                frame = orjson.loads(await ws.receive_text())
                if frame.get("type") == "send":
                    await self._relay(ws, role, frame)
                elif frame.get("type") == "ping":
                    await ws.send_text(orjson.dumps({"type": "pong", "t": frame.get("t")}).decode())
        except WebSocketDisconnect:
            pass
        finally:
            for conv_id in followed:
                self.members[conv_id].discard(ws)

    async def _relay(self, ws: WebSocket, role: str, frame: dict[str, object]) -> None:
        conv_id = str(frame["conversation_id"])
        self.seq[conv_id] += 1
        seq = self.seq[conv_id]
        message_id = f"m_{next(self.ids)}"
        ack = {
            "type": "ack",
            "conversation_id": conv_id,
            "client_id": frame["client_id"],
            "message_id": message_id,
            "seq": seq,
        }
        await ws.send_text(orjson.dumps(ack).decode())
        event = {
            "type": "event",
            "conversation_id": conv_id,
            "seq": seq,
            "kind": "message",
            "id": message_id,
            "at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "client_id": frame["client_id"],
            "author": {"role": role, "name": None},
            "body": frame["body"],
            "data": {},
        }
        text = orjson.dumps(event).decode()
        for member in tuple(self.members[conv_id]):
            with contextlib.suppress(Exception):  # a peer that went: the others still get it
                await member.send_text(text)


async def _ready(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def create_app() -> Starlette:
    """The relay's ASGI app: ``/ws/relay`` and ``/readyz``."""
    relay = Relay()
    return Starlette(
        routes=[Route("/readyz", _ready), WebSocketRoute("/ws/relay", relay.serve)],
    )


def main() -> None:
    """Serve the relay on --host and --port, with the uvicorn options ``madoguchi serve`` gives."""
    parser = argparse.ArgumentParser(prog="python -m bench.relay")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8800)
    args = parser.parse_args()
    uvicorn.run(
        create_app(),
        host=args.host,
        port=args.port,
        ws_max_size=FRAME_MAX_BYTES,
        log_level="info",
        proxy_headers=True,
        # As `madoguchi serve` (src/madoguchi/cli.py) has since a4d0281: keep them the same.
        ws_per_message_deflate=False,
        ws_ping_interval=None,
    )


if __name__ == "__main__":
    main()
