"""The one fake the tests use: a clock that moves only when told to."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

START = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


class FakeClock:
    """A ``Desk.clock`` stopped at a time of the test's choosing; ``advance`` moves it."""

    def __init__(self, now: datetime = START) -> None:
        self._now = now
        # A LiveServer reads it on its own thread while the test moves it.
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | None = None, *, seconds: float = 0.0) -> datetime:
        """Move forward by ``delta`` (or ``seconds``); return the new time."""
        with self._lock:
            self._now += (delta or timedelta()) + timedelta(seconds=seconds)
            return self._now

    def set(self, now: datetime) -> None:
        """Jump to ``now`` (never backwards: deadlines only pass, as real time does)."""
        with self._lock:
            if now < self._now:
                raise ValueError("a clock does not go back")
            self._now = now
