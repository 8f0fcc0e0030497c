"""Bans (SPEC A10): the rules, without I/O.

A ban names a visitor id and, optionally, the network they wrote from: the address's IPv4 /24
or IPv6 /64 by default (``[bans]`` in the config). A visitor who clears their storage gets a
new visitor id but usually keeps their network, which is what the network ban is for. A ban
lasts for one of the configured durations, or for good; an expired or lifted ban simply stops
matching. What a banned visitor is told is neutral (``not_available``): never that they are
banned, which would only tell them to change address.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from madoguchi.domain.errors import DomainError

PERMANENT = "permanent"
REASON_MAX = 500
_DURATION = re.compile(r"^([1-9][0-9]{0,3})([hd])$")


def not_available() -> DomainError:
    """The neutral refusal a banned visitor gets, the same wherever they meet it."""
    return DomainError("not_available", "Chat is not available.", 403)


@functools.lru_cache(maxsize=4096)  # asked for every visitor message (services/bans.py)
def network_of(address: str | None, ipv4_prefix: int = 24, ipv6_prefix: int = 64) -> str | None:
    """The network an address belongs to, as CIDR text (``203.0.113.0/24``); None if unknown.

    An IPv4 address seen through an IPv6 socket (``::ffff:203.0.113.9``) counts as IPv4, so
    that one visitor does not have two networks depending on how the node listens.
    """
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = ipv4_prefix if ip.version == 4 else ipv6_prefix
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def parse_duration(token: str) -> timedelta | None:
    """``"12h"`` or ``"7d"`` as a timedelta; ``"permanent"`` is None. Raise if neither."""
    if token == PERMANENT:
        return None
    found = _DURATION.match(token) if isinstance(token, str) else None
    if found is None:
        raise ValueError(f"{token!r} is not a duration such as 12h, 7d or permanent")
    amount = int(found.group(1))
    return timedelta(hours=amount) if found.group(2) == "h" else timedelta(days=amount)


def check_duration(token: str, allowed: list[str]) -> timedelta | None:
    """A duration the desk offers (``[bans] durations``); None means for good."""
    if token not in allowed:
        raise DomainError("bad_duration", f"Choose a duration among: {', '.join(allowed)}.", 422)
    return parse_duration(token)


def check_reason(reason: str) -> str:
    """The reason is required: the audit log and the supervisor who reviews it need it."""
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > REASON_MAX:
        raise DomainError("reason_required", f"Give a reason of 1 to {REASON_MAX} characters.", 422)
    return reason


def expires_at(now: datetime, duration: timedelta | None) -> datetime | None:
    """When a ban made ``now`` stops matching; None for good."""
    return None if duration is None else now + duration


def is_active(expires: datetime | None, lifted: datetime | None, now: datetime) -> bool:
    """Whether a ban still matches at ``now``."""
    return lifted is None and (expires is None or expires > now)


@dataclass
class BanSnapshot:
    """The bans in force, as a node last read them: for the message hot path, which must not
    query the database for each message. Each key maps to its latest expiry (None: for good)."""

    visitors: dict[str, datetime | None] = field(default_factory=dict)
    networks: dict[str, datetime | None] = field(default_factory=dict)
    loaded_at: float = 0.0  # monotonic seconds: the desk's clock may be a test's, stopped

    def add(self, visitor_id: str | None, network: str | None, expires: datetime | None) -> None:
        """Count one ban in; the longest expiry of a key wins."""
        for table, key in ((self.visitors, visitor_id), (self.networks, network)):
            if key is None:
                continue
            if key in table:
                known = table[key]
                table[key] = None if known is None or expires is None else max(known, expires)
            else:
                table[key] = expires

    def matches(self, visitor_id: str | None, network: str | None, now: datetime) -> bool:
        """Whether a ban in the snapshot covers this visitor or network at ``now``."""
        for table, key in ((self.visitors, visitor_id), (self.networks, network)):
            if key is not None and key in table:
                expires = table[key]
                if expires is None or expires > now:
                    return True
        return False
