"""Visitors and their tokens.

A visitor token is ``v1.<visitor id>.<HMAC-SHA256 of the id>``, signed with the node's secret
key. The chat frame keeps it in its own origin's storage; it never reaches the host page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from madoguchi.domain.errors import DomainError
from madoguchi.services import bans
from madoguchi.services.desk import Desk
from madoguchi.store import conversations as repo


def _sign(key: bytes, visitor_id: str) -> str:
    digest = hmac.new(key, b"visitor:" + visitor_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_visitor_token(key: bytes, visitor_id: str) -> str:
    """The token proving a client is this visitor."""
    return f"v1.{visitor_id}.{_sign(key, visitor_id)}"


def check_visitor_token(key: bytes, token: str) -> str:
    """The visitor id in a well-signed token; raise ``unauthorized`` otherwise."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3 or parts[0] != "v1":
        raise DomainError("unauthorized", "The visitor token is missing or malformed.", 401)
    if not hmac.compare_digest(_sign(key, parts[1]), parts[2]):
        raise DomainError("unauthorized", "The visitor token is not valid.", 401)
    return parts[1]


async def do_create_visitor(desk: Desk, address: str | None = None) -> tuple[str, str]:
    """A new visitor: (visitor id, token); none for a banned network (SPEC A10)."""
    await bans.check_network_can_chat(desk, address)
    async with desk.unit() as unit:
        visitor_id = await repo.insert_visitor(unit.conn, desk.clock())
    return visitor_id, make_visitor_token(desk.settings.secret_key, visitor_id)
