"""The in-process bus: for one node (the embedded default)."""

from __future__ import annotations

from madoguchi.bus.base import Bus


class MemoryBus(Bus):
    """Delivers straight to this process's listeners."""

    async def publish(self, topic: str, message: bytes) -> None:
        """Deliver now, on this loop."""
        self._deliver(topic, message)
