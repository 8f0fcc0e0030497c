"""A queued visitor's place in line and expected wait, and the desk's usual reply time (V7, R2).

Positions are counted per department and language: a Japanese chat waits for operators who
speak Japanese, so English chats queued before it are not ahead of it.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from madoguchi.domain.estimate import Staffing, estimate_wait, typical_reply
from madoguchi.domain.presence import alive_since
from madoguchi.domain.records import Conversation
from madoguchi.domain.routing import Candidate
from madoguchi.services.desk import Desk
from madoguchi.store import conversations as conv_repo
from madoguchi.store import operators as op_repo
from madoguchi.store import queue as queue_repo

HISTORY = timedelta(days=7)  # how far back handle and reply times are read
_STATS_TTL = 60.0  # seconds a node reuses a department's history


def queue_frame(conversation_id: str, position: int, wait_seconds: float | None) -> dict[str, Any]:
    """The ``queue`` frame: where a waiting conversation stands (docs/protocol.md)."""
    return {
        "type": "queue",
        "conversation_id": conversation_id,
        "position": position,
        "wait_seconds": None if wait_seconds is None else round(wait_seconds),
    }


def _staffing(candidates: list[Candidate], department: str, language: str) -> Staffing:
    serving = [c for c in candidates if department in c.departments and language in c.languages]
    return Staffing(
        serving_slots=sum(c.capacity for c in serving),
        free_slots=sum(c.free for c in serving),
    )


@dataclass
class _History:
    at: float = -_STATS_TTL
    handle: list[float] = field(default_factory=list)
    replies: list[float] = field(default_factory=list)


@dataclass
class QueueBoard:
    """One node's view of the queues: positions computed once per change, however many
    visitors on the node wait (each change would otherwise cost a query per visitor)."""

    desk: Desk
    _history: dict[str, _History] = field(default_factory=lambda: defaultdict(_History))
    _locks: dict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))
    _version: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _computed: dict[str, tuple[int, dict[str, dict[str, Any]]]] = field(default_factory=dict)

    def changed(self, department: str) -> None:
        """A department's queue changed: the next read computes positions again."""
        self._version[department] += 1

    async def positions(self, department: str) -> dict[str, dict[str, Any]]:
        """The ``queue`` frame of every conversation waiting in ``department``, by id."""
        wanted = self._version[department]
        async with self._locks[department]:
            cached = self._computed.get(department)
            if cached is not None and cached[0] >= wanted:
                return cached[1]
            version = self._version[department]
            frames = await self._compute(department)
            self._computed[department] = (version, frames)
            return frames

    async def _compute(self, department: str) -> dict[str, dict[str, Any]]:
        history = await self._recent(department)
        async with self.desk.db.read() as conn:
            waiting = await conv_repo.list_waiting(conn, [department], limit=10_000)
            # A ghost (a console silent past the grace, its node perhaps dead) serves nobody.
            grace = self.desk.settings.desk.operators.disconnect_grace_seconds
            candidates = await op_repo.get_candidates(
                conn, lock=False, alive_since=alive_since(self.desk.clock(), grace)
            )
        return _frames(waiting, candidates, history.handle)

    async def _recent(self, department: str) -> _History:
        history = self._history[department]
        if time.monotonic() - history.at > _STATS_TTL:
            since = self.desk.clock() - HISTORY
            async with self.desk.db.read() as conn:
                history.handle = await queue_repo.recent_handle_seconds(conn, department, since)
                history.replies = await queue_repo.recent_first_replies(conn, department, since)
            history.at = time.monotonic()
        return history

    async def typical_reply_seconds(self, department: str) -> float | None:
        """How soon the department usually replies, from recent chats (R2)."""
        return typical_reply((await self._recent(department)).replies)


def _frames(
    waiting: list[Conversation], candidates: list[Candidate], handle: list[float]
) -> dict[str, dict[str, Any]]:
    frames: dict[str, dict[str, Any]] = {}
    places: dict[str, int] = defaultdict(int)
    unoffered: dict[str, int] = defaultdict(int)
    for conv in waiting:  # oldest first
        places[conv.language] += 1
        if conv.offered_to is not None:
            wait: float | None = 0.0  # an operator is being asked right now
        else:
            # Offered chats ahead already hold their operator's slot (it counts in the load),
            # so only the unoffered ones ahead still need a slot to come free.
            unoffered[conv.language] += 1
            staffing = _staffing(candidates, conv.department, conv.language)
            wait = estimate_wait(unoffered[conv.language], staffing, handle)
        frames[conv.id] = queue_frame(conv.id, places[conv.language], wait)
    return frames
