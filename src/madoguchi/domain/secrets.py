"""Secrets revealed once (SPEC V15): the rules, without the cryptography or the storage.

A visitor sends a password or an API token through a secret field; the chat's operator may
reveal it once, within ``[secrets] reveal_minutes``, and then it is gone. What a secret's
events carry is decided here: its id, its label and when it expires; never its value, since
events are stored, resent on resume, erased only by retention and read into transcripts.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from madoguchi.domain.conversation import Status
from madoguchi.domain.errors import DomainError
from madoguchi.domain.events import iso

LABEL_MAX = 100
EXPIRY_TIMER = "secret_expiry"

# Why an unrevealed secret was deleted (the ``reason`` of a ``secret_expired`` event).
EXPIRED = "expired"  # reveal_minutes passed
ENDED = "ended"  # the live chat ended (or became a follow-up) first


def expiry_key(secret_id: str) -> str:
    """The durable timer that deletes an unrevealed secret."""
    return f"secret:{secret_id}"


def check_enabled(enabled: bool) -> None:
    """Raise 404 ``secrets_disabled`` on a desk that turned secrets off."""
    if not enabled:
        raise DomainError("secrets_disabled", "This desk does not take secrets.", 404)


def check_label(label: str | None) -> str:
    """The label to show with the secret (not secret itself): trimmed, plain, 0–100 chars."""
    text = (label or "").strip()
    if len(text) > LABEL_MAX:
        raise DomainError("bad_secret", f"The label is longer than {LABEL_MAX} characters.", 422)
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise DomainError("bad_secret", "The label contains control characters.", 422)
    return text


def check_value(value: str, max_chars: int) -> str:
    """The value to encrypt, verbatim (a password may begin or end with a space).

    The messages never quote the value: they end up in logs and error reports.
    """
    if not value or value.isspace():
        raise DomainError("bad_secret", "The secret is empty.", 422)
    if len(value) > max_chars:
        raise DomainError(
            "secret_too_long", f"The secret is longer than {max_chars} characters.", 413
        )
    if "\x00" in value:
        raise DomainError("bad_secret", "The secret contains a NUL character.", 422)
    return value


def check_can_send(status: Status) -> None:
    """Raise unless an operator holds the chat: only they could reveal it in time."""
    if status is Status.ENDED:
        raise DomainError("conversation_ended", "This conversation has ended.", 409)
    if status is not Status.ACTIVE:
        raise DomainError(
            "secret_needs_operator", "A secret can be sent once an operator has the chat.", 409
        )


def check_can_reveal(operator_id: str | None, actor_id: str) -> None:
    """Raise unless ``actor_id`` is the chat's assigned operator.

    Not a supervisor who joined, nor one with the overview: the value is for the one person
    answering. A supervisor who must see it takes the chat over first, which the visitor sees.
    """
    if operator_id != actor_id:
        raise DomainError("forbidden", "Only the chat's operator may reveal its secrets.", 403)


def gone() -> DomainError:
    """The 410 for a secret that is not (or no longer) there to reveal."""
    return DomainError(
        "secret_gone", "This secret was already revealed, or has expired and been deleted.", 410
    )


def secret_data(secret_id: str, label: str, expires_at: datetime) -> dict[str, Any]:
    """The data of a ``secret`` event."""
    return {"secret_id": secret_id, "label": label, "expires_at": iso(expires_at)}


def revealed_data(secret_id: str, label: str, operator_name: str | None) -> dict[str, Any]:
    """The data of a ``secret_revealed`` event: both sides read that it was seen and deleted."""
    return {"secret_id": secret_id, "label": label, "operator": {"name": operator_name}}


def expired_data(secret_id: str, label: str, reason: str) -> dict[str, Any]:
    """The data of a ``secret_expired`` event: deleted unread, for ``reason``."""
    return {"secret_id": secret_id, "label": label, "reason": reason}
