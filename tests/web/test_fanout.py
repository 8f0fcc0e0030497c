"""A client that stops reading is dropped, not waited for (STYLE 4)."""

from __future__ import annotations

import asyncio
from typing import Any

from madoguchi.domain.conversation import Role
from madoguchi.domain.records import Actor
from madoguchi.web.sockets import CLOSE_TOO_SLOW, Connection


class StuckSocket:
    """A peer whose sends never complete, as one that stopped reading."""

    def __init__(self) -> None:
        self.closed_with: int | None = None
        self.client_state = None

    async def send_text(self, text: str) -> None:
        await asyncio.Event().wait()

    async def close(self, code: int = 1000) -> None:
        self.closed_with = code


class FakeDesk:
    def __init__(self, frames: int) -> None:
        limits = type("Limits", (), {"send_queue_frames": frames})
        self.settings = type("S", (), {"desk": type("D", (), {"limits": limits})})


async def test_a_full_queue_closes_the_connection_without_blocking_the_sender() -> None:
    ws = StuckSocket()
    conn = Connection(ws, FakeDesk(8), hub=None, actor=Actor(Role.VISITOR, "v_1"))  # type: ignore[arg-type]
    # Allow the close: the connection only closes sockets that are still connected.
    from starlette.websockets import WebSocketState

    ws.client_state = WebSocketState.CONNECTED  # type: ignore[assignment]
    frame: dict[str, Any] = {"type": "queue_changed", "department": "support"}
    for _ in range(8):
        conn.deliver(frame, '{"type":"queue_changed"}')  # returns at once every time
    assert ws.closed_with is None
    conn.deliver(frame, '{"type":"queue_changed"}')  # the ninth does not fit
    await asyncio.sleep(0)  # let the close task run
    assert ws.closed_with == CLOSE_TOO_SLOW
    conn.deliver(frame, "{}")  # and nothing more is queued
    assert conn.queue.qsize() == 8
