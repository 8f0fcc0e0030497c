"""Fan-out: tell every node with an interested socket that something was committed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from madoguchi.bus.base import Bus, Listener
from madoguchi.bus.memory import MemoryBus

if TYPE_CHECKING:
    from madoguchi.bus.redis import RedisBus


def create_bus(url: str) -> Bus:
    """The bus for a URL: ``memory://`` (one process) or ``redis://host:port/db?prefix=…``."""
    if url.startswith("memory://"):
        return MemoryBus()
    if url.startswith(("redis://", "rediss://")):
        # Imported when used: a node on the memory bus does not carry the Redis client (4 MB).
        from madoguchi.bus.redis import RedisBus

        return RedisBus(url)
    raise ValueError(f"unknown bus URL {url!r}")


def __getattr__(name: str) -> Any:
    if name == "RedisBus":
        from madoguchi.bus.redis import RedisBus

        return RedisBus
    raise AttributeError(name)


__all__ = ["Bus", "Listener", "MemoryBus", "RedisBus", "create_bus"]
