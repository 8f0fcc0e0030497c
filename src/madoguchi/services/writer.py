"""Group commit for messages: the messages a node receives while it writes are written together.

One message written alone costs a transaction: a pool checkout, BEGIN, two statements, COMMIT
(and on SQLite, a turn of the single writer). A busy node receives many at a time, so its
``MessageWriter`` writes whatever has arrived meanwhile in one transaction of two statements
(store/messages.py), then publishes each event after the commit, as every unit does: nothing is
told before it is stored, and each sender is answered only once its message is committed.

Only a message that the batch can write as it stands goes this way; the others (a joined
supervisor's, a retry of a client id, a conversation that ended, a message flagged for abuse …)
come back to the one-message path in services/chat.py, which writes or refuses them exactly as
before. A batch holds at most one author's messages per conversation; a second author's wait
for the next batch, so each conversation's messages keep the order they arrived in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime

from madoguchi.domain.conversation import EventKind, Role
from madoguchi.domain.events import event_frame
from madoguchi.domain.records import Actor, Event
from madoguchi.services import lifecycle
from madoguchi.services.desk import Desk, conversation_topic
from madoguchi.store import messages
from madoguchi.store.ids import new_id

log = logging.getLogger(__name__)

# At most this many messages per transaction: a batch's statements stay small, and a flood
# does not make one commit wait for thousands of rows.
BATCH_MAX = 256
# Batches in flight at once on PostgreSQL.
LANES = 2


@dataclass
class Message:
    """A message as the batch stores it, checked and screened by the caller."""

    actor: Actor
    conversation_id: str
    client_id: str
    body: str
    data: dict[str, object] | None
    answered: asyncio.Future[Event | None] = field(init=False)


class MessageWriter:
    """One node's batches of messages; ``write`` returns the stored event, or None when the
    message must take the one-message path."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self._waiting: list[Message] = []
        self._wake = asyncio.Event()
        # PostgreSQL takes a second batch while the first commits (their conversations are
        # locked in one order, so they wait for each other, never deadlock); SQLite writes one
        # transaction at a time anyway.
        self._lanes = 1 if desk.db.is_sqlite else LANES
        self._tasks: list[asyncio.Task[None]] = []
        # How many batches were committed, and the messages in them (for tests and the bench).
        self.batches = 0
        self.batched = 0

    async def write(self, message: Message) -> Event | None:
        """Store ``message`` in the next batch; its event once committed, or None."""
        loop = asyncio.get_running_loop()
        message.answered = loop.create_future()
        self._waiting.append(message)
        self._wake.set()
        if not self._tasks:
            self._tasks = [loop.create_task(self._run()) for _ in range(self._lanes)]
        return await message.answered

    async def stop(self) -> None:
        """Stop writing; the messages still waiting take the one-message path."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for message in self._waiting:
            if not message.answered.done():
                message.answered.set_result(None)
        self._waiting = []

    async def _run(self) -> None:
        while True:
            while not self._waiting:
                self._wake.clear()
                await self._wake.wait()
            await self._write(self._take())

    def _take(self) -> list[Message]:
        """The next batch: up to BATCH_MAX messages, one author's per conversation."""
        batch: list[Message] = []
        later: list[Message] = []
        authors: dict[str, tuple[Role, str]] = {}
        for message in self._waiting:
            author = (message.actor.role, message.actor.id)
            if (
                len(batch) < BATCH_MAX
                and authors.setdefault(message.conversation_id, author) == author
            ):
                batch.append(message)
            else:
                later.append(message)
        self._waiting = later
        return batch

    async def _write(self, batch: list[Message]) -> None:
        groups: dict[str, list[Message]] = {}
        for message in batch:
            groups.setdefault(message.conversation_id, []).append(message)
        stored: list[Event] = []
        try:
            async with self.desk.unit() as unit:
                now = self.desk.clock()
                claims = await messages.claim_many(
                    unit.conn,
                    [
                        messages.Group(
                            conv_id,
                            group[0].actor.role,
                            group[0].actor.id,
                            [m.client_id for m in group],
                        )
                        for conv_id, group in groups.items()
                    ],
                    now,
                )
                for conv_id, claim in claims.items():
                    group = groups[conv_id]
                    first = claim.seq - len(group) + 1
                    stored.extend(
                        _event(message, first + i, now) for i, message in enumerate(group)
                    )
                await messages.insert_many(unit.conn, stored)
                for event in stored:
                    unit.publish(conversation_topic(event.conversation_id), event_frame(event))
                for conv_id, claim in claims.items():
                    role = groups[conv_id][0].actor.role
                    await lifecycle.after_message_in(unit, conv_id, claim, role)
        except asyncio.CancelledError:
            stored = []
            raise
        except Exception:
            # A client id written meanwhile by another node, a lost connection …: every
            # message of the batch takes the one-message path, which says what went wrong.
            log.warning("a batch of %d messages is written one by one", len(batch), exc_info=True)
            stored = []
        finally:
            if stored:
                self.batches += 1
                self.batched += len(stored)
            written = {(event.conversation_id, event.client_id): event for event in stored}
            for message in batch:
                if not message.answered.done():
                    message.answered.set_result(
                        written.get((message.conversation_id, message.client_id))
                    )


def _event(message: Message, seq: int, now: datetime) -> Event:
    actor = message.actor
    return Event(
        conversation_id=message.conversation_id,
        seq=seq,
        id=new_id("e"),
        kind=EventKind.MESSAGE.value,
        author_role=actor.role,
        author_id=actor.id,
        author_name=actor.name if actor.role is Role.OPERATOR else None,
        client_id=message.client_id,
        body=message.body,
        data=dict(message.data or {}),
        created_at=now,
    )
