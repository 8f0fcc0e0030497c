"""When an operator's console counts as there (SPEC A3, V10; docs/routing.md, "Presence").

A console proves itself by opening its socket and by a ``ping`` every ``HEARTBEAT_SECONDS``
(with up to 20 % jitter). Silence longer than one heartbeat plus the grace period means the
console, or the node that held its socket, is gone: a node killed with ``kill -9`` closes no
socket and tells nobody, so the deadline must follow from the last sign of life alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

HEARTBEAT_SECONDS = 25  # between a client's pings; the server closes a socket silent for 3


def lost_after(grace_seconds: int) -> timedelta:
    """How long after its last sign of life a console is given up: a heartbeat and the grace.

    The heartbeat is added because the console may have died just before its next ping was
    due: the operator still gets the whole grace period after they really went away.
    """
    return timedelta(seconds=HEARTBEAT_SECONDS + grace_seconds)


def alive_since(now: datetime, grace_seconds: int) -> datetime:
    """The oldest last sign of life of a console that still counts as there at ``now``."""
    return now - lost_after(grace_seconds)
