"""Rate limits on messages, chat starts and uploads, shared by every node (SPEC P11).

``check`` is called before an action's transaction, so a refused action changes nothing; an
action that was let through is never undone by a limit. Each check is at most one round trip
to the bus's counters (one Lua script on Redis for all keys of the action; a dict on the memory
bus), no database work, and nothing at all for an action without limits.

Who is counted (docs/security.md, "Rate limits"): a visitor by visitor id *and* by network
(the client address as the node saw it, an IPv6 /64 as one), so that a new visitor id per
request does not escape; an operator by operator id only (a whole office shares one network).
"""

from __future__ import annotations

from madoguchi.domain.conversation import Role
from madoguchi.domain.errors import DomainError
from madoguchi.domain.ratelimits import (
    Action,
    Rule,
    limit_key,
    network_of,
    retry_after_seconds,
)
from madoguchi.domain.records import Actor
from madoguchi.services.desk import Desk

_ACTION_WORDS = {"message": "messages", "start": "new chats", "upload": "uploads"}


def _limits(actor: Actor, action: Action, rules: tuple[Rule | None, ...]) -> list[tuple[str, Rule]]:
    visitor, network, operator = rules
    limits: list[tuple[str, Rule]] = []
    if actor.role is Role.VISITOR:
        if visitor is not None:
            limits.append((limit_key(action, "visitor", actor.id), visitor))
        where = network_of(actor.network)
        if network is not None and where is not None:
            limits.append((limit_key(action, "network", where), network))
    elif actor.role is Role.OPERATOR and operator is not None:
        limits.append((limit_key(action, "operator", actor.id), operator))
    return limits


async def check(desk: Desk, actor: Actor, action: Action) -> None:
    """Count one ``action`` by ``actor``; refuse it when a limit is reached.

    Raises:
        DomainError: 429 ``rate_limited``; ``details`` has ``retry_after`` (whole seconds,
            rounded up: trying again then succeeds unless others on the network used it up)
            and ``action``.
    """
    rules = desk.settings.desk.rate_limits.rules(action)
    if rules is None:
        return
    limits = _limits(actor, action, rules)
    if not limits:
        return
    now = int(desk.clock().timestamp() * 1000)
    wait = await desk.bus.hit(limits, now)
    if wait is None:
        return
    seconds = retry_after_seconds(wait)
    raise DomainError(
        "rate_limited",
        f"Too many {_ACTION_WORDS[action]}; try again in {seconds} s.",
        429,
        details={"retry_after": seconds, "action": action},
    )
