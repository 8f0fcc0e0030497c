"""Enforcing bans (SPEC A10): where a banned visitor is stopped, and how cheaply.

Sessions, chat starts, offline messages and the visitor socket's hello ask the database (one
indexed query: a ban made on any node counts at once). A message in a running chat is the hot
path and must not cost a query: it is checked against this node's copy of the bans, read again
at most every ``[bans] cache_seconds``, and at once after this node made or lifted one. The
banned visitor's own chats are ended when the ban is made, so the copy only matters for another
visitor id chatting from a banned network.
"""

from __future__ import annotations

import time

from madoguchi.domain.bans import BanSnapshot, network_of, not_available
from madoguchi.domain.records import Actor
from madoguchi.services.desk import Desk
from madoguchi.store import bans as store


def network(desk: Desk, address: str | None) -> str | None:
    """The network a ban on ``address`` covers, by the desk's prefixes."""
    config = desk.settings.desk.bans
    return network_of(address, config.ipv4_prefix, config.ipv6_prefix)


async def check_network_can_chat(desk: Desk, address: str | None) -> None:
    """Before a new visitor session: refuse a banned network (``not_available``)."""
    await _check(desk, None, address)


async def check_can_chat(desk: Desk, visitor: Actor) -> None:
    """Before a chat starts, a message is left or the socket says hello: refuse a visitor
    who is banned, or who writes from a banned network."""
    await _check(desk, visitor.id, visitor.network)


async def _check(desk: Desk, visitor_id: str | None, address: str | None) -> None:
    net = network(desk, address)
    if visitor_id is None and net is None:
        return
    async with desk.db.read() as conn:
        found = await store.find_in_force(
            conn, visitor_id=visitor_id, network=net, now=desk.clock()
        )
    if found is not None:
        raise not_available()


async def check_can_send(desk: Desk, visitor: Actor) -> None:
    """Before a visitor's message: the node's copy of the bans, no query unless it is stale."""
    snapshot = desk.bans
    if snapshot is None or (
        time.monotonic() - snapshot.loaded_at > desk.settings.desk.bans.cache_seconds
    ):
        snapshot = await _load(desk)
    if snapshot.matches(visitor.id, network(desk, visitor.network), desk.clock()):
        raise not_available()


async def _load(desk: Desk) -> BanSnapshot:
    snapshot = BanSnapshot(loaded_at=time.monotonic())
    async with desk.db.read() as conn:
        for ban in await store.list_in_force(conn, desk.clock()):
            snapshot.add(ban.visitor_id, ban.network, ban.expires_at)
    desk.bans = snapshot
    return snapshot


def forget_snapshot(desk: Desk) -> None:
    """This node made or lifted a ban: the next message reads the bans again."""
    desk.bans = None
