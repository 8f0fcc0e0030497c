"""Fan-out: tell every node with an interested socket that something was committed."""

from __future__ import annotations

from madoguchi.bus.base import Bus, Listener
from madoguchi.bus.memory import MemoryBus
from madoguchi.bus.redis import RedisBus


def create_bus(url: str) -> Bus:
    """The bus for a URL: ``memory://`` (one process) or ``redis://host:port/db?prefix=…``."""
    if url.startswith("memory://"):
        return MemoryBus()
    if url.startswith(("redis://", "rediss://")):
        return RedisBus(url)
    raise ValueError(f"unknown bus URL {url!r}")


__all__ = ["Bus", "Listener", "MemoryBus", "RedisBus", "create_bus"]
