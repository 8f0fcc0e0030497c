"""Identity tokens (SPEC V4): the host page vouches for the member it has signed in.

A host app that knows its customer signs who they are with a secret it shares with the desk;
the chat frame hands the token over when a chat starts, and the desk then shows the operator
"verified member X, plan Y". Anything that does not verify is simply not trusted: the chat
still starts, as an unverified one. The format (docs/identity.md)::

    v1.<payload>.<signature>

    payload   = base64url(JSON {"sub": member id, "plan": plan, "exp": unix seconds}), no padding
    signature = base64url(HMAC-SHA256(secret, "v1." + payload)), no padding

The version is part of what is signed, and there is no algorithm field: nothing in a token can
choose how it is checked (the "alg": "none" family of tricks has nothing to hold on to). The
signature is checked before the payload is even decoded, against its one canonical encoding,
with a constant-time comparison. Pure: the time and the secrets are arguments.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import orjson

VERSION = "v1"
# Far more than a member id and a plan need; a bigger token is refused before any work.
MAX_TOKEN_CHARS = 2048
MEMBER_ID_MAX = 200
PLAN_MAX = 40
# Shorter secrets are guessable offline from one captured token (docs/identity.md).
SECRET_MIN_BYTES = 32

_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_PLAN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


class Rejection(StrEnum):
    """Why a token was not trusted: logged for the host's developers, never shown to a visitor."""

    MALFORMED = "malformed"  # not three base64url parts, too long, or not text
    VERSION = "unknown_version"  # not "v1"
    SIGNATURE = "bad_signature"  # tampered with, or signed with another secret
    PAYLOAD = "bad_payload"  # signed, but not the documented JSON
    EXPIRED = "expired"
    TOO_LONG_LIVED = "lifetime_too_long"  # exp further ahead than the desk's maximum lifetime


class TokenRejected(Exception):
    """The token is not trusted; ``reason`` says why."""

    def __init__(self, reason: Rejection) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class Identity:
    """A member as the host app vouched for them."""

    member_id: str
    plan: str
    expires_at: datetime


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: bytes, signed: str) -> str:
    return _b64encode(hmac.new(secret, signed.encode("ascii"), hashlib.sha256).digest())


def make_token(secret: bytes, member_id: str, plan: str, expires_at: datetime) -> str:
    """A token for ``member_id`` on ``plan`` until ``expires_at`` (what a host app computes)."""
    payload = {"sub": member_id, "plan": plan, "exp": int(expires_at.timestamp())}
    body = _b64encode(orjson.dumps(payload))
    signed = f"{VERSION}.{body}"
    return f"{signed}.{_signature(secret, signed)}"


def check_token(
    secrets: Sequence[bytes], token: object, *, now: datetime, max_lifetime: timedelta
) -> Identity:
    """The identity a token vouches for, or TokenRejected.

    ``secrets`` are the current secret and, while it is being rotated, the previous one; a token
    signed with any of them verifies. ``max_lifetime`` bounds how far ahead ``exp`` may be, so
    that a token minted by mistake for years (or with a stolen secret's help, before rotation)
    cannot be replayed for long.
    """
    if not isinstance(token, str) or not token.isascii() or len(token) > MAX_TOKEN_CHARS:
        raise TokenRejected(Rejection.MALFORMED)
    parts = token.split(".")
    if len(parts) != 3 or not all(_B64URL.match(part) for part in parts[1:]):
        raise TokenRejected(Rejection.MALFORMED)
    version, body, signature = parts
    if version != VERSION:
        raise TokenRejected(Rejection.VERSION)
    signed = f"{version}.{body}"
    # Every secret is tried, so that the time taken does not tell which one matched.
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(_signature(secret, signed), signature)
    if not matched:
        raise TokenRejected(Rejection.SIGNATURE)
    identity = _read_payload(body)
    if identity.expires_at <= now:
        raise TokenRejected(Rejection.EXPIRED)
    if identity.expires_at > now + max_lifetime:
        raise TokenRejected(Rejection.TOO_LONG_LIVED)
    return identity


def _read_payload(body: str) -> Identity:
    try:
        payload = orjson.loads(_b64decode(body))
    except (binascii.Error, ValueError):
        raise TokenRejected(Rejection.PAYLOAD) from None
    if not isinstance(payload, dict):
        raise TokenRejected(Rejection.PAYLOAD)
    member_id, plan, exp = payload.get("sub"), payload.get("plan"), payload.get("exp")
    if not (isinstance(member_id, str) and 0 < len(member_id.strip()) <= MEMBER_ID_MAX):
        raise TokenRejected(Rejection.PAYLOAD)
    if not member_id.isprintable():
        raise TokenRejected(Rejection.PAYLOAD)
    if not (isinstance(plan, str) and _PLAN.match(plan)):
        raise TokenRejected(Rejection.PAYLOAD)
    # A bool is an int to Python, and a float would be a second spelling of the same second.
    if type(exp) is not int or not 0 < exp < 2**41:
        raise TokenRejected(Rejection.PAYLOAD)
    return Identity(
        member_id=member_id.strip(), plan=plan, expires_at=datetime.fromtimestamp(exp, UTC)
    )
