"""What every use case needs: settings, the database, the bus and the clock."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.bus import Bus
from madoguchi.config import Settings
from madoguchi.domain.bans import BanSnapshot
from madoguchi.store.database import Database

if TYPE_CHECKING:
    from madoguchi.services.writer import MessageWriter

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """The real clock; tests pass their own."""
    return datetime.now(UTC)


@dataclass
class Desk:
    """A node's resources, built once in the app's lifespan."""

    settings: Settings
    db: Database
    bus: Bus
    clock: Callable[[], datetime] = utcnow
    # Told each deadline a committed unit scheduled, so that this node's timer loop can wake
    # before its next poll; set while a Scheduler runs (services/timers.py).
    timer_alarm: Callable[[datetime], None] | None = None
    # Operator id -> consoles whose socket is open on this node (web/sockets.py). The node
    # speaks for them when their "gone" timer fires here (services/presence.py).
    consoles: Counter[str] = field(default_factory=Counter)
    # Told when a committed unit queued a mail, so that this node's mail sender sends it now
    # instead of at its next poll; set while a Mailer runs (mail/sender.py).
    mail_alarm: Callable[[], None] | None = None
    # This node's copy of the bans in force, for the message hot path (services/bans.py);
    # None until read, and again whenever this node makes or lifts a ban.
    bans: BanSnapshot | None = None
    # Work started after a commit (a scan, routing after a timer's end): stopped, and its
    # connections given back, before the database closes (``drain``).
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    # Writes the messages that arrive together in one transaction (services/writer.py); set
    # while the app runs. Without it, each message is written alone.
    writer: MessageWriter | None = None

    def spawn(self, work: Coroutine[Any, Any, Any], what: str) -> None:
        """Run ``work`` on this node in the background; a failure is logged as ``what``."""
        task = asyncio.get_running_loop().create_task(work)
        self.background.add(task)

        def finished(task: asyncio.Task[Any]) -> None:
            self.background.discard(task)
            if not task.cancelled() and task.exception() is not None:
                log.error("%s failed", what, exc_info=task.exception())

        task.add_done_callback(finished)

    async def drain(self) -> None:
        """Cancel the background work and wait for it, so no transaction is left open."""
        tasks = list(self.background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Unit]:
        """A write transaction whose messages are published only after it commits."""
        unit = Unit(self)
        async with self.db.write() as conn:
            unit.conn = conn
            yield unit
        for callback in unit.committed:
            callback()
        if unit.outbox:
            await self.bus.publish_many(unit.outbox)


@dataclass
class Unit:
    """One unit of work: a connection in a transaction and the messages to send after it."""

    desk: Desk
    conn: AsyncConnection = field(init=False)
    outbox: list[tuple[str, bytes]] = field(default_factory=list)
    committed: list[Callable[[], None]] = field(default_factory=list)

    def publish(self, topic: str, frame: dict[str, Any]) -> None:
        """Queue a frame for ``topic``; it goes out after the commit, or never."""
        self.outbox.append((topic, orjson.dumps(frame)))

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (quick, local, no I/O) once the commit is done, or never."""
        self.committed.append(callback)


def conversation_topic(conversation_id: str) -> str:
    """The bus topic of a conversation's events and typing."""
    return f"conv:{conversation_id}"


def operator_topic(operator_id: str) -> str:
    """The bus topic of one operator's notices (``assigned``)."""
    return f"op:{operator_id}"


def queue_topic(department: str) -> str:
    """The bus topic telling operators that a department's waiting list changed."""
    return f"queue:{department}"
