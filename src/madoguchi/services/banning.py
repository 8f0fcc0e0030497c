"""Making and lifting bans, and reading them and the audit log (SPEC A10, docs/security.md).

An operator bans the visitor of a chat they can see, with a reason and one of the desk's
durations, and optionally the network the chat came from. The ban, its audit entry and the end
of the visitor's open conversations (reason ``prohibited``) commit together, so the operator is
freed for the next chat at once. Supervisors list the bans in force, lift them, and read the
audit log. Where ``bans.py`` says how bans are enforced, this module changes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.domain.bans import (
    check_duration,
    check_reason,
    expires_at,
    is_active,
)
from madoguchi.domain.conversation import EndReason, Role, Status
from madoguchi.domain.errors import DomainError, not_found
from madoguchi.domain.events import iso
from madoguchi.domain.handoff import check_supervisor
from madoguchi.domain.records import Actor
from madoguchi.services import lifecycle, routing
from madoguchi.services.bans import forget_snapshot, network
from madoguchi.services.chat import check_visible
from madoguchi.services.desk import Desk
from madoguchi.store import audit
from madoguchi.store import bans as store
from madoguchi.store import conversations as repo
from madoguchi.store import operators as op_repo
from madoguchi.store.bans import Ban


def get_ban_options(desk: Desk) -> dict[str, Any]:
    """What the console's Ban dialog offers (``[bans]`` in the config)."""
    config = desk.settings.desk.bans
    return {
        "durations": list(config.durations),
        "ipv4_prefix": config.ipv4_prefix,
        "ipv6_prefix": config.ipv6_prefix,
    }


def _target(visitor_id: str) -> str:
    return f"visitor:{visitor_id}"


async def do_ban(
    desk: Desk,
    actor: Actor,
    conversation_id: str,
    *,
    reason: str,
    duration: str,
    include_network: bool,
) -> dict[str, Any]:
    """Ban the visitor of a conversation (and their network); end their open conversations."""
    config = desk.settings.desk.bans
    reason = check_reason(reason)
    length = check_duration(duration, config.durations)
    now = desk.clock()
    freed: list[str] = []
    async with desk.unit() as unit:
        conv = check_visible(
            await repo.get_conversation(unit.conn, conversation_id, lock=True), actor
        )
        net = None
        if include_network:
            net = network(desk, await store.get_client_address(unit.conn, conv.id))
            if net is None:  # made before bans existed, or erased since
                raise DomainError(
                    "network_unknown",
                    "The network of this chat is not known; ban the visitor alone.",
                    409,
                )
        until = expires_at(now, length)
        ban_id = await store.insert_ban(
            unit.conn,
            visitor_id=conv.visitor_id,
            network=net,
            reason=reason,
            duration=duration,
            conversation_id=conv.id,
            created_by=actor.id,
            now=now,
            expires_at=until,
        )
        await audit.record(
            unit.conn,
            actor_id=actor.id,
            action="ban",
            target=_target(conv.visitor_id),
            now=now,
            data={
                "ban_id": ban_id,
                "reason": reason,
                "duration": duration,
                "expires_at": iso(until),
                "network": net,
                "conversation_id": conv.id,
            },
        )
        # Every open conversation of theirs ends, the one banned from first (it is locked).
        others = await repo.list_for_visitor(unit.conn, conv.visitor_id)
        for one in [conv, *(c for c in others if c.id != conv.id)]:
            locked = (
                one
                if one.id == conv.id
                else await repo.get_conversation(unit.conn, one.id, lock=True)
            )
            if locked is None or locked.status is Status.ENDED:
                continue
            await lifecycle.end_in(unit, locked, EndReason.PROHIBITED, Role.OPERATOR)
            if locked.status is Status.ACTIVE and locked.operator_id is not None:
                freed.append(locked.operator_id)
        unit.after_commit(lambda: forget_snapshot(desk))
    for operator_id in dict.fromkeys(freed):
        await routing.do_route_to_operator(desk, operator_id)
    async with desk.db.read() as conn:
        ban = await store.get_ban(conn, ban_id)
        assert ban is not None
        return await _ban_view(conn, ban, now)


async def do_lift(desk: Desk, actor: Actor, ban_id: str) -> dict[str, Any]:
    """A supervisor lifts a ban in force; the audit log gets ``unban``."""
    check_supervisor(actor)
    now = desk.clock()
    async with desk.unit() as unit:
        ban = await store.get_ban(unit.conn, ban_id, lock=True)
        if ban is None:
            raise not_found("ban")
        if not is_active(ban.expires_at, ban.lifted_at, now):
            raise DomainError("ban_not_in_force", "This ban has expired or was lifted.", 409)
        await store.lift(unit.conn, ban.id, by=actor.id, now=now)
        await audit.record(
            unit.conn,
            actor_id=actor.id,
            action="unban",
            target=_target(ban.visitor_id),
            now=now,
            data={"ban_id": ban.id, "network": ban.network},
        )
        unit.after_commit(lambda: forget_snapshot(desk))
    async with desk.db.read() as conn:
        lifted = await store.get_ban(conn, ban_id)
        assert lifted is not None
        return await _ban_view(conn, lifted, now)


async def get_bans(desk: Desk, actor: Actor) -> list[dict[str, Any]]:
    """The bans in force, newest first (supervisors)."""
    check_supervisor(actor)
    now = desk.clock()
    async with desk.db.read() as conn:
        names = await _names(conn)
        return [_view(ban, names, now) for ban in await store.list_in_force(conn, now)]


async def get_audit_log(
    desk: Desk, actor: Actor, *, target: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The newest audit entries, all or about one target (supervisors)."""
    check_supervisor(actor)
    async with desk.db.read() as conn:
        names = await _names(conn)
        entries = await audit.list_entries(conn, target=target, limit=limit)
    return [
        {
            "id": e.id,
            "at": iso(e.at),
            "actor": {"id": e.actor_id, "name": names.get(e.actor_id or "")}
            if e.actor_id
            else None,
            "action": e.action,
            "target": e.target,
            "data": e.data,
        }
        for e in entries
    ]


async def _names(conn: AsyncConnection) -> dict[str, str]:
    return {op.id: op.name for op in await op_repo.list_operators(conn)}


async def _ban_view(conn: AsyncConnection, ban: Ban, now: datetime) -> dict[str, Any]:
    return _view(ban, await _names(conn), now)


def _view(ban: Ban, names: dict[str, str], now: datetime) -> dict[str, Any]:
    def who(operator_id: str | None) -> dict[str, Any] | None:
        return {"id": operator_id, "name": names.get(operator_id)} if operator_id else None

    return {
        "id": ban.id,
        "visitor_id": ban.visitor_id,
        "network": ban.network,
        "reason": ban.reason,
        "duration": ban.duration,
        "conversation_id": ban.conversation_id,
        "created_by": who(ban.created_by),
        "created_at": iso(ban.created_at),
        "expires_at": iso(ban.expires_at),
        "lifted_by": who(ban.lifted_by),
        "lifted_at": iso(ban.lifted_at),
        "in_force": is_active(ban.expires_at, ban.lifted_at, now),
    }
