"""The Bus interface and the local registry of listeners both transports share."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

from madoguchi.domain.ratelimits import Rule

log = logging.getLogger(__name__)

# A listener is called on the event loop with the topic and the message; it must not block
# or await: it hands the message to a bounded per-connection queue and returns.
Listener = Callable[[str, bytes], None]


class Bus(ABC):
    """Publish after commit; subscribe per topic (``conv:<id>``, ``op:<id>``, ``queue:<dep>``)."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Listener]] = {}
        self._on_reconnect: list[Callable[[], None]] = []
        # Rate limits (services/ratelimits.py): the keys of a refused action -> the ms until
        # which they certainly stay refused (a TAT never goes back), so that a client hammering
        # at a limit costs no round trip, and a send that was already on its way when the one
        # before it was refused is refused too and cannot overtake it.
        self._refused: dict[tuple[str, ...], int] = {}

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

    async def publish_many(self, messages: Sequence[tuple[str, bytes]]) -> None:
        """Publish each ``(topic, message)``, in order (a transport may send them at once)."""
        for topic, message in messages:
            await self.publish(topic, message)

    async def hit(self, limits: Sequence[tuple[str, Rule]], now: int) -> int | None:
        """Count one action against every ``(key, rule)``, on every node; ``now`` in ms.

        Returns None when every key let it through (each has counted it), else the ms to wait
        (none has counted it). All keys of an action are decided in one atomic step.
        """
        keys = tuple(key for key, _ in limits)
        until = self._refused.get(keys)
        if until is not None:
            if until > now:
                return until - now
            del self._refused[keys]
        wait = await self._hit(limits, now)
        if wait is not None:
            if len(self._refused) >= 10_000:  # forget the lapsed ones before growing further
                self._refused = {k: u for k, u in self._refused.items() if u > now}
            self._refused[keys] = now + wait
        return wait

    @abstractmethod
    async def _hit(self, limits: Sequence[tuple[str, Rule]], now: int) -> int | None:
        """``hit`` on the shared counters, without the local memory of refusals."""

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
