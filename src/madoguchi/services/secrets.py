"""Secrets revealed once (SPEC V15): send, reveal, expire; docs/security.md ("Secrets").

The value is encrypted before it reaches the store and decrypted only in the transaction that
deletes it: AES-256-GCM under a key derived by HKDF-SHA256 from the node's secret key, a random
96-bit nonce per secret, and the secret's id and conversation as associated data, so that a
ciphertext copied onto another row does not open. No event, log line, error message or
transcript ever holds the value; the one place it leaves the process is the reveal's response.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from madoguchi.domain.conversation import EventKind, Role, Status
from madoguchi.domain.errors import DomainError, not_found
from madoguchi.domain.records import Actor, Event
from madoguchi.domain.secrets import (
    ENDED,
    EXPIRED,
    EXPIRY_TIMER,
    check_can_reveal,
    check_can_send,
    check_enabled,
    check_label,
    check_value,
    expired_data,
    expiry_key,
    gone,
    revealed_data,
    secret_data,
)
from madoguchi.services import timers
from madoguchi.services.desk import Desk, Unit
from madoguchi.services.timeline import append_event, record_event
from madoguchi.store import audit

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from madoguchi.store import conversations as repo
from madoguchi.store import secrets as store
from madoguchi.store.ids import new_id
from madoguchi.store.secrets import SealedSecret

log = logging.getLogger(__name__)

_HKDF_INFO = b"madoguchi/secrets/aes-256-gcm/v1"
_NONCE_BYTES = 12


class _Duplicate(Exception):
    """A client id was used before: roll back and answer with the first event."""


@dataclass(frozen=True)
class Revealed:
    """A secret as its one reveal hands it out."""

    secret_id: str
    label: str
    value: str
    revealed_at: datetime


@functools.lru_cache(maxsize=4)
def _cipher(secret_key: bytes) -> AESGCM:
    # Imported on the first secret: a node whose visitors send none does not carry the
    # cryptography package (7 MB).
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    # A key of its own, so that the secret key's other uses (visitor tokens) never meet it.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(secret_key)
    return AESGCM(key)


def _associated(secret_id: str, conversation_id: str) -> bytes:
    return f"{secret_id}\x00{conversation_id}".encode()


def seal(
    secret_key: bytes, secret_id: str, conversation_id: str, value: str
) -> tuple[bytes, bytes]:
    """Encrypt ``value``: the nonce and the ciphertext (with its tag)."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(secret_key).encrypt(
        nonce, value.encode("utf-8"), _associated(secret_id, conversation_id)
    )
    return nonce, sealed


def unseal(secret_key: bytes, sealed: SealedSecret) -> str | None:
    """Decrypt a stored secret; None when it does not open (the secret key changed)."""
    from cryptography.exceptions import InvalidTag

    try:
        plain = _cipher(secret_key).decrypt(
            sealed.nonce, sealed.ciphertext, _associated(sealed.id, sealed.conversation_id)
        )
    except InvalidTag:
        return None
    return plain.decode("utf-8")


async def do_send_secret(
    desk: Desk,
    visitor: Actor,
    conversation_id: str,
    *,
    client_id: str,
    label: str | None,
    value: str,
) -> tuple[Event, bool]:
    """Store a visitor's secret, sealed, for the chat's operator; the ``secret`` event and
    whether it is new (a retry with the same client id is stored once)."""
    from madoguchi.services.chat import check_client_id  # chat → lifecycle → here

    config = desk.settings.desk.secrets
    check_enabled(config.enabled)
    client_id = check_client_id(client_id)
    clean_label = check_label(label)
    value = check_value(value, config.max_chars)
    secret_id = new_id("s")
    nonce, ciphertext = seal(desk.settings.secret_key, secret_id, conversation_id, value)
    del value  # from here on only the ciphertext exists
    try:
        async with desk.unit() as unit:
            now = desk.clock()
            claim = await repo.next_seq(unit.conn, conversation_id, activity=Role.VISITOR, now=now)
            if claim is None or not visitor.owns(claim.visitor_id, conversation_id):
                raise not_found()
            if claim.status is Status.ENDED:
                raise _Duplicate  # perhaps the retry of one sent before the end
            check_can_send(claim.status)
            expires_at = now + timedelta(minutes=config.reveal_minutes)
            event = await record_event(
                unit,
                conversation_id,
                claim.seq,
                EventKind.SECRET,
                role=Role.VISITOR,
                author_id=visitor.id,
                client_id=client_id,
                data=secret_data(secret_id, clean_label, expires_at),
            )
            if event is None:
                raise _Duplicate
            sealed = SealedSecret(
                secret_id, conversation_id, clean_label, nonce, ciphertext, expires_at
            )
            await store.insert_secret(unit.conn, sealed, now)
            await timers.schedule(
                unit,
                EXPIRY_TIMER,
                expiry_key(secret_id),
                expires_at,
                {"conversation_id": conversation_id},
            )
            return event, True
    except _Duplicate:
        pass
    async with desk.db.read() as conn:
        earlier = await repo.get_event_by_client_id(conn, conversation_id, client_id)
    if earlier is None:
        raise DomainError("conversation_ended", "This conversation has ended.", 409)
    if earlier.kind != EventKind.SECRET.value or earlier.author_id != visitor.id:
        raise DomainError(
            "duplicate_client_id", "This client_id was already used by someone else.", 409
        )
    return earlier, False


async def do_reveal_secret(
    desk: Desk, actor: Actor, conversation_id: str, secret_id: str
) -> Revealed:
    """Hand the chat's operator a secret's value once, deleting it in the same transaction.

    The value is returned only after the commit: if the deletion does not commit, the secret
    is still there and nobody saw it.
    """
    check_enabled(desk.settings.desk.secrets.enabled)
    async with desk.unit() as unit:
        # The conversation first, as the end and the expiry do: one lock order, no deadlock.
        conv = await repo.get_conversation(unit.conn, conversation_id, lock=True)
        if conv is None:
            raise not_found()
        check_can_reveal(conv.operator_id, actor.id)
        sealed = await store.take_secret(unit.conn, conversation_id, secret_id)
        if sealed is None:
            raise gone()
        await timers.cancel(unit, expiry_key(secret_id))
        now = desk.clock()
        value = unseal(desk.settings.secret_key, sealed)
        if value is None:
            # Sealed under another secret key (MADOGUCHI_SECRET_KEY changed): it can never
            # open again, so it is deleted as if it had expired, and the visitor is told.
            log.warning("secret %s could not be decrypted; deleted", secret_id)
            await _expire_in(unit, sealed, "unreadable", now)
        else:
            await audit.record(
                unit.conn,
                actor_id=actor.id,
                action="secret_revealed",
                target=f"secret:{secret_id}",
                now=now,
                data={"conversation_id": conversation_id, "label": sealed.label},
            )
            await append_event(
                unit,
                conversation_id,
                EventKind.SECRET_REVEALED,
                role=Role.OPERATOR,
                author_id=actor.id,
                data=revealed_data(secret_id, sealed.label, actor.name),
            )
    if value is None:  # deleted above, committed: now say it is gone
        raise gone()
    return Revealed(secret_id, sealed.label, value, now)


async def _expire_in(unit: Unit, sealed: SealedSecret, reason: str, now: datetime) -> None:
    await audit.record(
        unit.conn,
        actor_id=None,
        action="secret_expired",
        target=f"secret:{sealed.id}",
        now=now,
        data={"conversation_id": sealed.conversation_id, "reason": reason},
    )
    await append_event(
        unit,
        sealed.conversation_id,
        EventKind.SECRET_EXPIRED,
        role=Role.SYSTEM,
        data=expired_data(sealed.id, sealed.label, reason),
    )


async def discard_in(unit: Unit, conversation_id: str) -> None:
    """Within the unit that ends a live chat (or makes it a follow-up): delete its unrevealed
    secrets, each with a ``secret_expired`` event the visitor reads."""
    now = unit.desk.clock()
    for sealed in await store.take_all(unit.conn, conversation_id):
        await timers.cancel(unit, expiry_key(sealed.id))
        await _expire_in(unit, sealed, ENDED, now)


async def on_expiry(unit: Unit, timer: timers.Timer) -> None:
    """Timer: ``reveal_minutes`` passed and the secret was not revealed; delete it."""
    secret_id = timer.key.removeprefix("secret:")
    conversation_id = str(timer.payload.get("conversation_id", ""))
    if await repo.get_conversation(unit.conn, conversation_id, lock=True) is None:
        return
    sealed = await store.take_secret(unit.conn, conversation_id, secret_id)
    if sealed is not None:  # else revealed or discarded meanwhile
        await _expire_in(unit, sealed, EXPIRED, unit.desk.clock())


TIMER_HANDLERS: dict[str, timers.TimerHandler] = {EXPIRY_TIMER: on_expiry}
