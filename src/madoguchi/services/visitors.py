"""Visitors and their tokens.

A visitor token is ``v1.<visitor id>.<HMAC-SHA256 of the id>``, signed with the node's secret
key; ``v1c.<visitor id>.<conversation id>.<HMAC>`` reaches one conversation only (V9). The
chat frame keeps it in its own origin's storage; it never reaches the host page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from madoguchi.domain.errors import DomainError
from madoguchi.services import bans
from madoguchi.services.desk import Desk
from madoguchi.store import conversations as repo


def _sign(key: bytes, visitor_id: str, conversation_id: str | None = None) -> str:
    message = b"visitor:" + visitor_id.encode()
    if conversation_id is not None:
        message += b":conversation:" + conversation_id.encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_visitor_token(key: bytes, visitor_id: str, conversation_id: str | None = None) -> str:
    """The token proving a client is this visitor; with ``conversation_id``, a token for that
    one conversation only (a visitor back by an emailed link, docs/email.md)."""
    if conversation_id is None:
        return f"v1.{visitor_id}.{_sign(key, visitor_id)}"
    return f"v1c.{visitor_id}.{conversation_id}.{_sign(key, visitor_id, conversation_id)}"


def check_visitor_token(key: bytes, token: str) -> tuple[str, str | None]:
    """The visitor id in a well-signed token, and the one conversation it is limited to (None:
    all the visitor's); raise ``unauthorized`` otherwise."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) == 3 and parts[0] == "v1":
        visitor_id, conversation_id, signature = parts[1], None, parts[2]
    elif len(parts) == 4 and parts[0] == "v1c":
        visitor_id, conversation_id, signature = parts[1], parts[2], parts[3]
    else:
        raise DomainError("unauthorized", "The visitor token is missing or malformed.", 401)
    if not hmac.compare_digest(_sign(key, visitor_id, conversation_id), signature):
        raise DomainError("unauthorized", "The visitor token is not valid.", 401)
    return visitor_id, conversation_id


async def do_create_visitor(desk: Desk, address: str | None = None) -> tuple[str, str]:
    """A new visitor: (visitor id, token); none for a banned network (SPEC A10)."""
    await bans.check_network_can_chat(desk, address)
    async with desk.unit() as unit:
        visitor_id = await repo.insert_visitor(unit.conn, desk.clock())
    return visitor_id, make_visitor_token(desk.settings.secret_key, visitor_id)
