"""Clients that speak madoguchi's protocol as the chat frame and the console do."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import orjson
import websockets
from websockets.asyncio.client import ClientConnection

TIMEOUT = 10.0


class Socket:
    """A WebSocket with helpers to wait for frames."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(
            frame if isinstance(frame, (str, bytes)) else orjson.dumps(frame).decode()
        )

    async def recv(self) -> dict[str, Any]:
        frame: dict[str, Any] = orjson.loads(await asyncio.wait_for(self.ws.recv(), TIMEOUT))
        self.seen.append(frame)
        return frame

    async def expect(self, type_: str, **match: Any) -> dict[str, Any]:
        """The next frame of this type whose fields match (other frames are kept in ``seen``)."""
        while True:
            frame = await self.recv()
            if frame.get("type") == type_ and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def event(self, kind: str, **match: Any) -> dict[str, Any]:
        """The next ``event`` of this kind."""
        return await self.expect("event", kind=kind, **match)

    async def closed(self, most: int = 20) -> int:
        """Read until the server closes the socket; return its close code."""
        for _ in range(most):
            try:
                await self.recv()
            except websockets.ConnectionClosed as exc:
                if exc.rcvd is None:
                    raise AssertionError("closed without a close frame") from exc
                return exc.rcvd.code
        raise AssertionError(f"still open after {most} frames")

    async def close(self) -> None:
        await self.ws.close()


class Visitor:
    """The chat frame's side."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.http = httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT)
        self.token = token
        self.visitor_id: str | None = None

    async def __aenter__(self) -> Visitor:
        if self.token is None:
            response = await self.http.post("/api/v1/visitor/session", json={})
            response.raise_for_status()
            self.token = response.json()["token"]
            self.visitor_id = response.json()["visitor_id"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def start(
        self, topic: str = "technical", message: str | None = "こんにちは", **extra: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"topic": topic, "language": "ja", "consent": True, **extra}
        if message is not None:
            body["message"] = {"client_id": str(uuid.uuid4()), "body": message}
        response = await self.http.post("/api/v1/visitor/conversations", json=body)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    async def connect(self, resume: dict[str, int] | None = None, url: str | None = None) -> Socket:
        ws_url = (url or self.base_url).replace("http", "ws", 1) + "/ws/visitor"
        socket = Socket(await websockets.connect(ws_url))
        await socket.send({"type": "hello", "token": self.token, "resume": resume or {}})
        await socket.expect("welcome")
        return socket


class Operator:
    """The console's side."""

    def __init__(self, base_url: str, email: str, password: str) -> None:
        self.base_url = base_url
        self.email, self.password = email, password
        self.http = httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT)
        self.csrf = ""
        self.me: dict[str, Any] = {}

    async def __aenter__(self) -> Operator:
        response = await self.http.post(
            "/api/v1/agent/login", json={"email": self.email, "password": self.password}
        )
        assert response.status_code == 200, response.text
        self.csrf = response.json()["csrf_token"]
        self.me = response.json()["operator"]
        self.http.headers["X-CSRF-Token"] = self.csrf
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def presence(self, status: str = "online") -> httpx.Response:
        return await self.http.put("/api/v1/agent/presence", json={"status": status})

    async def connect(self, resume: dict[str, int] | None = None, url: str | None = None) -> Socket:
        base = url or self.base_url
        cookie = self.http.cookies.get("madoguchi_session")
        socket = Socket(
            await websockets.connect(
                base.replace("http", "ws", 1) + "/ws/agent",
                origin=base,  # type: ignore[arg-type]
                additional_headers={"Cookie": f"madoguchi_session={cookie}"},
            )
        )
        await socket.send({"type": "hello", "resume": resume or {}})
        await socket.expect("welcome")
        return socket
