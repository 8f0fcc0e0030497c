"""Retention (SPEC P10): erasing a conversation's content when the policy says so.

``[retention] policy`` (docs/lifecycle.md, "Retention"):

- ``keep``: nothing is erased.
- ``none``: ``after_end`` sets a durable timer ``erase:<conversation>`` at the end plus the
  visitor's download window; when it fires, the content goes.
- ``days``: one desk-wide timer, ``purge:retention``, erases every conversation that ended more
  than N days ago, a batch per transaction, then sets itself for the same time the next day.
  Each node makes sure it exists when it starts (``do_ensure_purge``).

Erasing (``erase_in``) keeps what metrics need and removes what a person wrote or gave.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from madoguchi.domain.conversation import Status
from madoguchi.domain.events import iso
from madoguchi.services import timers
from madoguchi.services.desk import Desk, Unit
from madoguchi.store import attachments as attachment_repo
from madoguchi.store import conversations as conv_repo
from madoguchi.store import files, outbox, visitor_sockets
from madoguchi.store import retention as repo
from madoguchi.store import timers as timer_repo

ERASE_TIMER = "erase"
PURGE_TIMER = "purge"
PURGE_KEY = "purge:retention"
# Conversations erased per transaction by the daily purge: a backlog (the first purge after
# switching from "keep" to "days") is worked off in many short transactions, not one long one
# that would hold SQLite's write lock or PostgreSQL's row locks for minutes.
PURGE_BATCH = 200
_DAY = timedelta(days=1)


def erase_key(conversation_id: str) -> str:
    """The timer key of a conversation's erasure under policy ``none``."""
    return f"erase:{conversation_id}"


async def after_end(unit: Unit, conversation_id: str, ended_at: datetime) -> None:
    """A conversation ended at ``ended_at`` (within ``unit``): schedule its erasure if the
    policy erases."""
    retention = unit.desk.settings.desk.retention
    if retention.policy != "none":
        return  # "keep" keeps; under "days" the daily purge finds it in its time
    due = ended_at + timedelta(minutes=retention.download_window_minutes)
    await timers.schedule(unit, ERASE_TIMER, erase_key(conversation_id), due)


async def erase_in(unit: Unit, conversation_id: str) -> bool:
    """Within a unit: erase an ended conversation's content; whether it was erased now.

    A conversation that is not ENDED (live, offline, a follow-up) or was erased already is
    left as it is.
    """
    if not await repo.erase_content(unit.conn, conversation_id, unit.desk.clock()):
        return False
    # Its other timers (an e-mail to send, a limit) would only act on content that is gone.
    await timer_repo.delete_keyed_to(unit.conn, conversation_id)
    # Its mails hold its words and the visitor's address (docs/email.md, "Retention").
    await outbox.erase_for_conversation(unit.conn, conversation_id)
    await visitor_sockets.forget_conversation(unit.conn, conversation_id)
    # Attachments (SPEC V6) are content: their rows, and their bytes in the database or on
    # disk. A file is unlinked before the commit: should the commit fail, the erasure is tried
    # again and finds the row; the other order could leave a file nothing points at.
    directory = unit.desk.settings.desk.attachments.directory
    for gone in await attachment_repo.delete_for_conversation(unit.conn, conversation_id):
        if gone.storage == "disk":
            await files.delete(directory, gone.id)
    return True


async def do_erase(desk: Desk, conversation_id: str) -> bool:
    """Erase an ended conversation's content now, whatever the policy; whether it was erased."""
    async with desk.unit() as unit:
        return await erase_in(unit, conversation_id)


async def on_erase_due(unit: Unit, timer: timers.Timer) -> None:
    """Timer: the download window of an ended conversation closed; erase its content."""
    retention = unit.desk.settings.desk.retention
    if retention.policy != "none":
        return  # changed since it was set: "keep" keeps, "days" leaves it to the purge
    conversation_id = timer.key.removeprefix("erase:")
    conv = await conv_repo.get_conversation(unit.conn, conversation_id)
    if conv is None or conv.status is not Status.ENDED or conv.erased_at is not None:
        return
    if conv.ended_at is not None:
        # A window made longer since the end is honoured: the visitor was promised it.
        due = conv.ended_at + timedelta(minutes=retention.download_window_minutes)
        if due > unit.desk.clock():
            await timers.schedule(unit, ERASE_TIMER, timer.key, due)
            return
    await erase_in(unit, conversation_id)


async def on_purge_due(unit: Unit, timer: timers.Timer) -> None:
    """Timer: erase a batch of conversations ended more than N days ago; then the next batch at
    once, or, with none left, the purge of the next day."""
    retention = unit.desk.settings.desk.retention
    if retention.policy != "days" or retention.days is None:
        return  # the policy changed: the purge stops; a node started under "days" sets it again
    now = unit.desk.clock()
    # The time of day the purge runs at, kept while it works through a backlog batch by batch.
    slot = _slot(timer)
    found = await repo.list_erasable(
        unit.conn, now - timedelta(days=retention.days), limit=PURGE_BATCH
    )
    for conversation_id in found:
        await erase_in(unit, conversation_id)
    if len(found) == PURGE_BATCH:
        await timers.schedule(unit, PURGE_TIMER, PURGE_KEY, now, {"slot": iso(slot)})
        return
    following = slot + _DAY
    while following <= now:  # after a long stop, the next one still comes, not a catch-up run
        following += _DAY
    await timers.schedule(unit, PURGE_TIMER, PURGE_KEY, following)


def _slot(timer: timers.Timer) -> datetime:
    stored = timer.payload.get("slot")
    return datetime.fromisoformat(stored) if isinstance(stored, str) else timer.due_at


async def do_ensure_purge(desk: Desk) -> bool:
    """At a node's start: set the daily purge if the policy is ``days`` and none is set yet.

    Whether this node set it. Run before the timer loop starts; the first purge runs at once.
    """
    if desk.settings.desk.retention.policy != "days":
        return False
    now = desk.clock()
    async with desk.unit() as unit:
        # Insert, never replace: nodes starting one after another must not push the purge on.
        return await timer_repo.insert_if_absent(
            unit.conn, timers.Timer(key=PURGE_KEY, kind=PURGE_TIMER, due_at=now, payload={}), now
        )


TIMER_HANDLERS: dict[str, timers.TimerHandler] = {
    ERASE_TIMER: on_erase_due,
    PURGE_TIMER: on_purge_due,
}
