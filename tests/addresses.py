"""Clients that come from another loopback address, as visitors on other networks do.

Linux accepts any 127.x.y.z as a source address on the loopback interface, so a test can be
two visitors on one network (127.0.1.7 and 127.0.1.99 share 127.0.1.0/24) and a third on
another (127.0.2.5), all talking to the same node on 127.0.0.1.
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Any

import httpx
import websockets

from clients import TIMEOUT, Socket


class VisitorAt:
    """A visitor's HTTP client and socket, bound to one source address."""

    def __init__(self, base_url: str, address: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.address = address
        self.token = token
        self.http = httpx.AsyncClient(
            base_url=base_url,
            timeout=TIMEOUT,
            transport=httpx.AsyncHTTPTransport(local_address=address),
        )

    async def __aenter__(self) -> VisitorAt:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.http.aclose()

    async def session(self) -> httpx.Response:
        """Ask for a new visitor session; keep its token when one is given."""
        response = await self.http.post("/api/v1/visitor/session", json={})
        if response.status_code == 201:
            self.token = response.json()["token"]
        return response

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def start(self, topic: str = "technical", body: str = "こんにちは") -> httpx.Response:
        """Try to start a chat."""
        return await self.http.post(
            "/api/v1/visitor/conversations",
            headers=self._auth(),
            json={
                "topic": topic,
                "language": "ja",
                "consent": True,
                "message": {"client_id": str(uuid.uuid4()), "body": body},
            },
        )

    async def leave_message(self) -> httpx.Response:
        """Try to leave an offline message."""
        return await self.http.post(
            "/api/v1/visitor/offline-messages",
            headers=self._auth(),
            json={
                "topic": "technical",
                "language": "ja",
                "consent": True,
                "name": "山田",
                "email": "yamada@example.com",
                "message": {"client_id": "left-1", "body": "お返事ください"},
            },
        )

    async def conversations(self) -> list[dict[str, Any]]:
        response = await self.http.get("/api/v1/visitor/conversations", headers=self._auth())
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["conversations"]
        return found

    async def open_socket(self) -> Socket:
        """Open the visitor socket from this address and say hello (the answer is the test's)."""
        ws_url = self.base_url.replace("http", "ws", 1) + "/ws/visitor"
        socket = Socket(await websockets.connect(ws_url, local_addr=(self.address, 0)))
        await socket.send({"type": "hello", "token": self.token, "resume": {}})
        return socket
