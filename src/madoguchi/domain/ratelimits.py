"""Rate limits (SPEC P11) as GCRA, the generic cell rate algorithm: pure arithmetic on ms.

A limit ``count/period`` lets ``count`` actions through at once (the burst), then one every
``period / count`` (the interval): a visitor may send 30 quick messages, then one every two
seconds, and after a minute of silence 30 at once again. Its whole state is one number per
key, the *theoretical arrival time* (TAT): when the key would be back to a full burst.
One integer per key is what makes the Redis side a single small Lua script and the memory
side a dict; a sliding-window log would keep a list per key.

An action is checked against several keys at once (the visitor, their network): it passes
only if every key lets it through, and only then does every key count it. A refused action
counts nowhere, so that a client which waits the ``retry_after`` it was given gets through.

Time is integer milliseconds since the epoch (exact in a Lua double, and on both sides the
same arithmetic); nothing here reads a clock.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Action = Literal["message", "start", "upload"]
Scope = Literal["visitor", "network", "operator"]
ACTIONS: tuple[Action, ...] = ("message", "start", "upload")
SCOPES: tuple[Scope, ...] = ("visitor", "network", "operator")

_UNITS_MS = {"s": 1000, "m": 60_000, "h": 3_600_000}
_RULE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smh])\s*$")


@dataclass(frozen=True)
class Rule:
    """``count`` actions at once, then ``count`` more every ``period_ms``."""

    count: int
    period_ms: int

    @property
    def interval_ms(self) -> int:
        """The steady pace: one action every this many ms (never 0)."""
        return max(1, self.period_ms // self.count)

    @property
    def window_ms(self) -> int:
        """How far ahead of now the TAT may run: the burst, in ms."""
        return self.interval_ms * self.count

    def __str__(self) -> str:
        return f"{self.count}/{self.period_ms // 1000}s"


def parse_rule(value: str | int) -> Rule | None:
    """``"30/1m"`` (or ``"30/m"``, ``"5/10m"``, ``"100/1h"``, ``"3/20s"``) as a Rule; 0 is none.

    Raises:
        ValueError: the value is neither; the message says how to write one.
    """
    if value == 0 or (isinstance(value, str) and value.strip() in ("0", "off")):
        return None
    match = _RULE.match(value) if isinstance(value, str) else None
    if match is None or isinstance(value, bool):
        raise ValueError(
            f'{value!r} is not a limit: write COUNT/PERIOD such as "30/1m" '
            "(s, m or h), or 0 for no limit"
        )
    count, amount, unit = int(match.group(1)), int(match.group(2) or 1), match.group(3)
    period_ms = amount * _UNITS_MS[unit]
    if count < 1 or period_ms < 1000:
        raise ValueError(f"{value!r}: give a count of at least 1 per at least one second, or 0")
    if period_ms > 7 * 24 * _UNITS_MS["h"]:
        raise ValueError(f"{value!r}: a period of at most a week (168h)")
    return Rule(count, period_ms)


@dataclass(frozen=True)
class Decision:
    """What one check decided: the new TATs to store, or how long to wait."""

    retry_after_ms: int | None  # None: let through (then store ``tats``)
    tats: tuple[int, ...]


def decide(tats: Sequence[int | None], rules: Sequence[Rule], now: int) -> Decision:
    """Check one action against each key (its stored TAT, or None) with its rule, at ``now``.

    Let through when every key has room: then each TAT moves on by its interval. Otherwise
    nothing changes and ``retry_after_ms`` is when the fullest key will have room.
    """
    wait = 0
    new: list[int] = []
    for tat, rule in zip(tats, rules, strict=True):
        moved = max(tat if tat is not None else now, now) + rule.interval_ms
        new.append(moved)
        wait = max(wait, moved - rule.window_ms - now)
    if wait > 0:
        return Decision(wait, tuple(t if t is not None else now for t in tats))
    return Decision(None, tuple(new))


def retry_after_seconds(wait_ms: int) -> int:
    """A wait as whole seconds, rounded up (HTTP's Retry-After): never 0, never early."""
    return max(1, -(-wait_ms // 1000))


def network_of(address: str | None) -> str | None:
    """The network a client counts in: its IPv4 address, or its IPv6 /64.

    One IPv6 subscriber usually holds a whole /64 and can pick a new address in it for every
    request, so per-address counting would let anyone bypass the network limit. An IPv4
    address mapped into IPv6 counts as the IPv4 address. None (no address) counts nowhere.
    """
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an IP (a test client, a unix socket): counted as it is
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def limit_key(action: Action, scope: Scope, who: str) -> str:
    """The key one limit is counted under (the bus adds its own prefix)."""
    return f"rl:{action}:{scope[0]}:{who}"
