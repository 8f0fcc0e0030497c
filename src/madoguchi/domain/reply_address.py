"""Per-conversation Reply-To addresses carrying a signed token (docs/email.md, "Replies").

``reply+<conversation>.<signature>@<domain>``: the conversation id in lowercase base32 (local
parts should survive relays that change case), and the first 20 hex digits (80 bits) of an
HMAC-SHA256 of it under the desk's secret. The signature is the capability: whoever holds the
address may add a message to that conversation as its visitor, as whoever holds the visitor's
token may; nobody can make one up for another conversation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

PREFIX = "reply+"
_SIGNATURE_HEX = 20
_CONTEXT = b"madoguchi mail reply v1\x00"


def _signature(secret: bytes, conversation_id: str) -> str:
    mac = hmac.new(secret, _CONTEXT + conversation_id.encode(), hashlib.sha256)
    return mac.hexdigest()[:_SIGNATURE_HEX]


def _encode(conversation_id: str) -> str:
    return base64.b32encode(conversation_id.encode()).decode().rstrip("=").lower()


def _decode(encoded: str) -> str | None:
    padded = encoded.upper() + "=" * (-len(encoded) % 8)
    try:
        return base64.b32decode(padded).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def make_reply_address(secret: bytes, conversation_id: str, domain: str) -> str:
    """The address a reply to a conversation's mail goes to."""
    local = f"{PREFIX}{_encode(conversation_id)}.{_signature(secret, conversation_id)}"
    return f"{local}@{domain}"


def read_reply_address(secret: bytes, address: str, domain: str) -> str | None:
    """The conversation id of a genuine reply address for ``domain``; None for anything else
    (another domain, no token, a token that was not signed with ``secret``)."""
    local, at, host = address.strip().strip("<>").rpartition("@")
    if not at or host.lower() != domain.lower():
        return None
    local = local.lower()
    if not local.startswith(PREFIX):
        return None
    encoded, dot, signature = local.removeprefix(PREFIX).rpartition(".")
    if not dot or len(signature) != _SIGNATURE_HEX:
        return None
    conversation_id = _decode(encoded)
    if conversation_id is None:
        return None
    if not hmac.compare_digest(signature, _signature(secret, conversation_id)):
        return None
    return conversation_id
