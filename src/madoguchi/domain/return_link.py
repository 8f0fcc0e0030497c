"""The signed, expiring link back into a conversation that an away mail carries (V9).

``<conversation id>.<visitor id>.<expiry, Unix seconds>.<signature>``, the signature being the
first 128 bits of an HMAC-SHA256 of the rest under the desk's secret, base64url. The chat frame
finds it in its URL's fragment (``/chat#return=…``, so no server log or Referer sees it) and
trades it for a visitor token that reaches that one conversation (services/visitors.py).
Whoever holds the mail may read and continue the conversation until the link expires, as the
visitor could: the mail went to the address the visitor gave.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from madoguchi.domain.errors import DomainError

_CONTEXT = b"madoguchi return link v1\x00"
_SIGNATURE_BYTES = 16


def _signature(secret: bytes, payload: str) -> str:
    mac = hmac.new(secret, _CONTEXT + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:_SIGNATURE_BYTES]).rstrip(b"=").decode()


def make_return_token(
    secret: bytes, conversation_id: str, visitor_id: str, expires_at: datetime
) -> str:
    """The token of a link back into ``conversation_id`` for its visitor, until ``expires_at``."""
    payload = f"{conversation_id}.{visitor_id}.{int(expires_at.timestamp())}"
    return f"{payload}.{_signature(secret, payload)}"


def read_return_token(secret: bytes, token: str, now: datetime) -> tuple[str, str]:
    """(conversation id, visitor id) of a genuine token not yet expired at ``now``; else
    ``bad_link`` (damaged, forged, signed with another key) or ``link_expired``."""
    parts = token.split(".") if isinstance(token, str) and len(token) <= 300 else []
    if len(parts) != 4 or not parts[2].isdigit():
        raise DomainError("bad_link", "This link is not valid.", 400)
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(parts[3], _signature(secret, payload)):
        raise DomainError("bad_link", "This link is not valid.", 400)
    if datetime.fromtimestamp(int(parts[2]), UTC) <= now:
        raise DomainError("link_expired", "This link has expired.", 410)
    return parts[0], parts[1]
