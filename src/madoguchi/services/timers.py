"""Durable timers (SPEC P6): deadlines kept in the database, each fired once by some node.

``schedule`` and ``cancel`` join the caller's unit of work, so a deadline is set or dropped
together with the change that called for it. Every node runs a ``Scheduler``: it claims one
due timer per transaction, runs the handler of its kind in that same transaction and deletes
the timer there, so the handler's effects and the timer's end commit together or not at all.
docs/routing.md ("Durable timers") has the whole argument.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from madoguchi.services.desk import Desk, Unit
from madoguchi.store import timers as repo
from madoguchi.store.timers import Timer

__all__ = ["Scheduler", "Timer", "TimerHandler", "cancel", "schedule"]

log = logging.getLogger(__name__)

TimerHandler = Callable[[Unit, Timer], Awaitable[None]]

# A failed run is tried again after 1 s, 2 s, 4 s … and then every 5 minutes: soon after a
# lock conflict, rarely for a handler that stays broken until a fix is deployed.
_RETRY_FIRST_SECONDS = 1.0
_RETRY_MAX_SECONDS = 300.0
# On PostgreSQL a handler waits at most this long for a row lock. Code that moves a deadline
# while holding a lock the timer's handler needs (a message locks its conversation, then
# pushes the idle deadline whose handler is running) would otherwise deadlock with it until
# PostgreSQL's detector (deadlock_timeout, 1 s) failed either side; this way the handler gives
# way first, and is retried.
_HANDLER_LOCK_TIMEOUT = "500ms"
# After failing queries, the loop waits twice as long each time, up to this: once the database
# is back, overdue timers fire within half a minute.
_LOOP_BACKOFF_MAX_SECONDS = 30.0
# How long stop() lets a running handler finish before cancelling it, which rolls it back.
_STOP_GRACE_SECONDS = 5.0


async def schedule(
    unit: Unit,
    kind: str,
    key: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
    *,
    keep_earlier: bool = False,
) -> None:
    """Set timer ``key`` to run ``kind``'s handler at ``due_at``, replacing one already there
    (``keep_earlier``: unless that one is due sooner)."""
    if due_at.tzinfo is None:
        raise ValueError("a timer's due_at must be aware")
    timer = Timer(key=key, kind=kind, due_at=due_at, payload=payload or {})
    await repo.upsert(unit.conn, timer, unit.desk.clock(), keep_earlier=keep_earlier)
    unit.after_commit(lambda: _ring(unit.desk, due_at))


async def cancel(unit: Unit, key: str) -> None:
    """Drop timer ``key``; nothing happens if it is not set."""
    await repo.delete_timer(unit.conn, key)


def _ring(desk: Desk, due_at: datetime) -> None:
    if desk.timer_alarm is not None:
        desk.timer_alarm(due_at)


class Scheduler:
    """One node's timer loop: fires the due timers of the kinds it has handlers for.

    Timers of other kinds are left for a node that has their handler (during a rolling
    deploy, the new kinds wait for the new nodes instead of failing on the old ones).
    """

    def __init__(
        self, desk: Desk, handlers: Mapping[str, TimerHandler], *, poll_seconds: float = 1.0
    ) -> None:
        self.desk = desk
        self.handlers = dict(handlers)
        self.poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake = asyncio.Event()
        # The clock time the sleeping loop will look again at; None while it is looking.
        self._next_look: datetime | None = None

    async def run_due(self) -> int:
        """Fire every timer due at ``desk.clock()`` now, earliest first; return how many fired."""
        if not self.handlers:
            return 0
        now = self.desk.clock()
        async with self.desk.db.read() as conn:
            due = await repo.count_due(conn, now, self.handlers)
        fired = 0
        # No more than were due when we looked: a handler that sets its own key again for a
        # time already past has it fired by the next run, instead of looping in this one.
        for _ in range(due):
            if self._stopping:
                break
            outcome = await self._fire_next(now)
            if outcome is None:
                break
            fired += outcome
        return fired

    async def start(self) -> None:
        """Run the loop in the background: after the bus starts, in the app's lifespan."""
        if self._task is not None:
            return
        self._stopping = False
        self.desk.timer_alarm = self._alarm
        self._task = asyncio.create_task(self._loop(), name="madoguchi-timers")

    async def stop(self) -> None:
        """End the loop; a handler that is running gets a few seconds, then is rolled back."""
        task, self._task = self._task, None
        if task is None:
            return
        if self.desk.timer_alarm == self._alarm:
            self.desk.timer_alarm = None
        self._stopping = True
        self._wake.set()
        done, _ = await asyncio.wait({task}, timeout=_STOP_GRACE_SECONDS)
        if not done:
            task.cancel()
            await asyncio.wait({task})
        self._stopping = False

    async def _fire_next(self, now: datetime) -> bool | None:
        """Fire the earliest due timer no one else holds: None if none, else whether it ran."""
        timer: Timer | None = None
        committed = False

        def mark_committed() -> None:
            nonlocal committed
            committed = True

        try:
            async with self.desk.unit() as unit:
                timer = await repo.claim_due(unit.conn, now, self.handlers)
                if timer is None:
                    return None
                if not self.desk.db.is_sqlite:
                    await unit.conn.execute(
                        text(f"SET LOCAL lock_timeout = '{_HANDLER_LOCK_TIMEOUT}'")
                    )
                unit.after_commit(mark_committed)
                await self.handlers[timer.kind](unit, timer)
        except Exception:
            if timer is None:
                raise  # the claim itself failed: the loop logs it and backs off
            if committed:
                # Fired and gone; only telling the bus failed, and the bus only tells.
                log.exception("timer %s fired, but its messages were not published", timer.key)
                return True
            retry_at = self._retry_at(timer)
            log.exception(
                "timer %s (%s) failed on attempt %d; trying again at %s",
                timer.key,
                timer.kind,
                timer.attempts + 1,
                retry_at.isoformat(),
            )
            async with self.desk.unit() as unit:
                await repo.push_back(unit.conn, timer, retry_at)
            return False
        return True

    def _retry_at(self, failed: Timer) -> datetime:
        exponent = min(failed.attempts, 16)  # 2**16 s is past the cap already
        seconds = min(_RETRY_MAX_SECONDS, _RETRY_FIRST_SECONDS * 2**exponent)
        return self.desk.clock() + timedelta(seconds=seconds)

    async def _loop(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                fired = await self.run_due()
                delay = await self._seconds_to_next(fired)
                failures = 0
            except Exception:
                # The database is away or refused: the timers are safe in it; try again later.
                failures += 1
                delay = min(_LOOP_BACKOFF_MAX_SECONDS, self.poll_seconds * 2 ** min(failures, 16))
                log.exception("timer loop failed (%d in a row); again in %.1f s", failures, delay)
            await self._sleep(delay)

    async def _seconds_to_next(self, fired: int) -> float:
        """How long to sleep: until the next deadline, and never more than ``poll_seconds``."""
        if not self.handlers:
            return self.poll_seconds
        async with self.desk.db.read() as conn:
            next_due = await repo.next_due_at(conn, self.handlers)
        if next_due is None:
            return self.poll_seconds
        seconds = (next_due - self.desk.clock()).total_seconds()
        if seconds <= 0 and not fired:
            # Due, but nothing could be taken: other nodes hold those timers. Do not spin.
            return self.poll_seconds
        return min(self.poll_seconds, max(0.0, seconds))

    async def _sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of real time (the clock may be a test's), or until woken."""
        self._next_look = self.desk.clock() + timedelta(seconds=seconds)
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass
        finally:
            self._wake.clear()
            self._next_look = None

    def _alarm(self, due_at: datetime) -> None:
        """A commit set ``due_at``: wake the loop if it would otherwise look too late."""
        next_look = self._next_look or self.desk.clock() + timedelta(seconds=self.poll_seconds)
        if due_at < next_look:
            self._wake.set()
