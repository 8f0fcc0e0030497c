"""Counting what the load generator saw: latencies in log buckets, counts per direction.

Worker processes keep one ``Direction`` per way a message travels (visitor to operator and back)
and send it to the orchestrator as a plain dict; dicts from every worker merge by addition, so a
percentile is over all messages of a run, not an average of averages.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# Buckets 1 % wide: a latency of 12.3 ms is known to within ±0.06 ms, which is plenty.
_BASE = 1.01
_LOG_BASE = math.log(_BASE)


@dataclass
class Histogram:
    """Latencies in microseconds, in buckets growing by 1 %."""

    buckets: Counter[int] = field(default_factory=Counter)
    count: int = 0
    total_us: float = 0.0
    max_us: float = 0.0

    def add(self, us: float) -> None:
        """Count one latency."""
        us = max(us, 1.0)
        self.buckets[int(math.log(us) / _LOG_BASE)] += 1
        self.count += 1
        self.total_us += us
        self.max_us = max(self.max_us, us)

    def merge(self, other: Histogram) -> None:
        """Add another histogram's counts to this one."""
        self.buckets.update(other.buckets)
        self.count += other.count
        self.total_us += other.total_us
        self.max_us = max(self.max_us, other.max_us)

    def percentile(self, p: float) -> float | None:
        """The latency (µs) below which ``p`` percent of the counted ones fall; None when empty."""
        if not self.count:
            return None
        rank = math.ceil(self.count * p / 100)
        seen = 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen >= rank:
                return min(float(_BASE ** (bucket + 0.5)), self.max_us)
        return self.max_us

    def summary_ms(self) -> dict[str, float | None]:
        """p50, p95, p99, mean and max in milliseconds, rounded to 0.01 ms."""

        def ms(us: float | None) -> float | None:
            return None if us is None else round(us / 1000, 2)

        return {
            "p50_ms": ms(self.percentile(50)),
            "p95_ms": ms(self.percentile(95)),
            "p99_ms": ms(self.percentile(99)),
            "mean_ms": ms(self.total_us / self.count) if self.count else None,
            "max_ms": ms(self.max_us) if self.count else None,
        }

    def to_dict(self) -> dict[str, Any]:
        """A picklable, JSON-able form."""
        return {
            "buckets": dict(self.buckets),
            "count": self.count,
            "total_us": self.total_us,
            "max_us": self.max_us,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Histogram:
        """The inverse of ``to_dict``."""
        return cls(
            buckets=Counter({int(k): v for k, v in data["buckets"].items()}),
            count=data["count"],
            total_us=data["total_us"],
            max_us=data["max_us"],
        )


@dataclass
class Direction:
    """Messages one way (``v2o``: visitor to operator, ``o2v``: back) sent within a window.

    ``sent`` and ``acked`` are counted by the sender, ``delivered`` and the latencies by the
    receiver; a message counts when the time it was sent (carried in its client id) falls in
    the window, wherever and whenever it arrives.
    """

    sent: int = 0
    acked: int = 0
    delivered: int = 0
    latency: Histogram = field(default_factory=Histogram)

    def merge(self, other: Direction) -> None:
        """Add another worker's counts."""
        self.sent += other.sent
        self.acked += other.acked
        self.delivered += other.delivered
        self.latency.merge(other.latency)

    def to_dict(self) -> dict[str, Any]:
        """A picklable form."""
        return {
            "sent": self.sent,
            "acked": self.acked,
            "delivered": self.delivered,
            "latency": self.latency.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Direction:
        """The inverse of ``to_dict``."""
        return cls(
            sent=data["sent"],
            acked=data["acked"],
            delivered=data["delivered"],
            latency=Histogram.from_dict(data["latency"]),
        )


@dataclass
class Tally:
    """Everything one measurement window counted, in one worker or merged over all."""

    v2o: Direction = field(default_factory=Direction)
    o2v: Direction = field(default_factory=Direction)
    errors: Counter[str] = field(default_factory=Counter)

    def merge(self, other: Tally) -> None:
        """Add another worker's tally."""
        self.v2o.merge(other.v2o)
        self.o2v.merge(other.o2v)
        self.errors.update(other.errors)

    @property
    def error_count(self) -> int:
        """Error frames, failed connections, sockets closed under us, messages never delivered."""
        lost = max(0, self.v2o.sent - self.v2o.delivered) + max(
            0, self.o2v.sent - self.o2v.delivered
        )
        return sum(self.errors.values()) + lost

    def to_dict(self) -> dict[str, Any]:
        """A picklable form."""
        return {"v2o": self.v2o.to_dict(), "o2v": self.o2v.to_dict(), "errors": dict(self.errors)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tally:
        """The inverse of ``to_dict``."""
        return cls(
            v2o=Direction.from_dict(data["v2o"]),
            o2v=Direction.from_dict(data["o2v"]),
            errors=Counter(data["errors"]),
        )


def merged(tallies: list[dict[str, Any]]) -> Tally:
    """One tally from the dicts every worker sent."""
    total = Tally()
    for data in tallies:
        total.merge(Tally.from_dict(data))
    return total
