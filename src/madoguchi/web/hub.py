"""The node's sockets by topic: one bus subscription per topic, each message parsed once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from madoguchi.bus import Bus


class Follower(Protocol):
    """A socket that receives a topic's messages."""

    def deliver(self, frame: dict[str, Any], text: str) -> None:
        """Take a parsed frame and its text; must not block."""

    def resync(self) -> None:
        """Messages may have been missed: catch up from the database; must not block."""


@dataclass
class _Room:
    members: set[Follower] = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)


class Hub:
    """Joins sockets to bus topics and hands each bus message to every member."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._rooms: dict[str, _Room] = {}
        bus.on_reconnect(self._resync)

    def _resync(self) -> None:
        members = {member for room in self._rooms.values() for member in room.members}
        for member in members:
            member.resync()

    async def join(self, topic: str, member: Follower) -> None:
        """Receive ``topic`` from now on; returns once the bus subscription is live."""
        room = self._rooms.get(topic)
        if room is None:
            room = self._rooms[topic] = _Room()
            room.members.add(member)
            await self.bus.subscribe(topic, self._on_message)
            room.ready.set()
        else:
            room.members.add(member)
            await room.ready.wait()

    async def leave(self, topic: str, member: Follower) -> None:
        """Stop receiving ``topic``."""
        room = self._rooms.get(topic)
        if room is None:
            return
        room.members.discard(member)
        if not room.members and room.ready.is_set():
            del self._rooms[topic]
            await self.bus.unsubscribe(topic, self._on_message)

    def _on_message(self, topic: str, message: bytes) -> None:
        room = self._rooms.get(topic)
        if room is None or not room.members:
            return
        frame = orjson.loads(message)
        text = message.decode()
        for member in tuple(room.members):
            member.deliver(frame, text)

    @property
    def topics(self) -> int:
        """How many topics this node follows."""
        return len(self._rooms)
