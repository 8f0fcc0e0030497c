"""The Bus interface and the local registry of listeners both transports share."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable

log = logging.getLogger(__name__)

# A listener is called on the event loop with the topic and the message; it must not block
# or await: it hands the message to a bounded per-connection queue and returns.
Listener = Callable[[str, bytes], None]


class Bus(ABC):
    """Publish after commit; subscribe per topic (``conv:<id>``, ``op:<id>``, ``queue:<dep>``)."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Listener]] = {}
        self._on_reconnect: list[Callable[[], None]] = []

    def on_reconnect(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever the bus comes back after losing its connection.

        Messages published meanwhile are gone; whoever follows topics should catch up
        from the database.
        """
        self._on_reconnect.append(callback)

    def _reconnected(self) -> None:
        for callback in tuple(self._on_reconnect):
            try:
                callback()
            except Exception:
                log.exception("bus reconnect callback failed")

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect (a no-op for the memory bus)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Disconnect."""

    @abstractmethod
    async def publish(self, topic: str, message: bytes) -> None:
        """Send a message to every listener of ``topic`` on every node."""

    async def ping(self) -> bool:
        """Whether the bus is reachable."""
        return True

    async def subscribe(self, topic: str, listener: Listener) -> None:
        """Call ``listener`` for every message on ``topic`` from now on."""
        listeners = self._listeners.setdefault(topic, set())
        first = not listeners
        listeners.add(listener)
        if first:
            await self._watch(topic)

    async def unsubscribe(self, topic: str, listener: Listener) -> None:
        """Stop calling ``listener`` for ``topic``."""
        listeners = self._listeners.get(topic)
        if not listeners or listener not in listeners:
            return
        listeners.discard(listener)
        if not listeners:
            del self._listeners[topic]
            await self._unwatch(topic)

    async def _watch(self, topic: str) -> None:  # noqa: B027 - transports override
        """Start receiving ``topic`` from other nodes."""

    async def _unwatch(self, topic: str) -> None:  # noqa: B027 - transports override
        """Stop receiving ``topic`` from other nodes."""

    def _deliver(self, topic: str, message: bytes) -> None:
        for listener in tuple(self._listeners.get(topic, ())):
            try:
                listener(topic, message)
            except Exception:
                # One broken connection must not stop delivery to the others.
                log.exception("bus listener failed on %s", topic)
