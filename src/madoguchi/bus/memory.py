"""The in-process bus: for one node (the embedded default)."""

from __future__ import annotations

from collections.abc import Sequence

from madoguchi.bus.base import Bus
from madoguchi.domain.ratelimits import Rule, decide

# Lapsed rate-limit keys are swept after this many writes, so memory follows the keys in use.
_SWEEP_EVERY = 4096


class MemoryBus(Bus):
    """Delivers straight to this process's listeners."""

    def __init__(self) -> None:
        super().__init__()
        self._tats: dict[str, int] = {}  # rate-limit key -> its theoretical arrival time (ms)
        self._writes = 0

    async def publish(self, topic: str, message: bytes) -> None:
        """Deliver now, on this loop."""
        self._deliver(topic, message)

    async def _hit(self, limits: Sequence[tuple[str, Rule]], now: int) -> int | None:
        # One event loop, no await in between: atomic as the Redis script is.
        decision = decide([self._tats.get(key) for key, _ in limits], [r for _, r in limits], now)
        if decision.retry_after_ms is not None:
            return decision.retry_after_ms
        for (key, _), tat in zip(limits, decision.tats, strict=True):
            self._tats[key] = tat
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            # A TAT in the past says no more than a missing key does.
            self._tats = {key: tat for key, tat in self._tats.items() if tat > now}
        return None
