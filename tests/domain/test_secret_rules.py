"""The rules of secrets (SPEC V15) and their sealing, without a server."""

from __future__ import annotations

import pytest

from clock import START
from madoguchi.domain.conversation import Status
from madoguchi.domain.errors import DomainError
from madoguchi.domain.secrets import (
    check_can_reveal,
    check_can_send,
    check_label,
    check_value,
    secret_data,
)
from madoguchi.services.secrets import seal, unseal
from madoguchi.store.secrets import SealedSecret

KEY = b"k" * 48


def code(call: object, *args: object) -> tuple[int, str]:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.status, caught.value.code


def test_values_are_kept_verbatim_and_bad_ones_refused() -> None:
    assert check_value(" pass word ", 20) == " pass word "
    assert code(check_value, "", 20) == (422, "bad_secret")
    assert code(check_value, " \n", 20) == (422, "bad_secret")
    assert code(check_value, "a\x00", 20) == (422, "bad_secret")
    assert code(check_value, "x" * 21, 20) == (413, "secret_too_long")


def test_labels_are_one_short_line() -> None:
    assert check_label(None) == ""
    assert check_label("  FTP  ") == "FTP"
    assert code(check_label, "x" * 101) == (422, "bad_secret")
    assert code(check_label, "a\tb") == (422, "bad_secret")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Status.WAITING, (409, "secret_needs_operator")),
        (Status.OFFLINE, (409, "secret_needs_operator")),
        (Status.FOLLOW_UP, (409, "secret_needs_operator")),
        (Status.ENDED, (409, "conversation_ended")),
    ],
)
def test_only_a_chat_an_operator_holds_takes_secrets(
    status: Status, expected: tuple[int, str]
) -> None:
    check_can_send(Status.ACTIVE)
    assert code(check_can_send, status) == expected


def test_only_the_assigned_operator_reveals() -> None:
    check_can_reveal("op_1", "op_1")
    assert code(check_can_reveal, "op_1", "op_2") == (403, "forbidden")
    assert code(check_can_reveal, None, "op_2") == (403, "forbidden")


def test_the_event_never_carries_the_value() -> None:
    assert secret_data("s_1", "FTP", START) == {
        "secret_id": "s_1",
        "label": "FTP",
        "expires_at": "2026-04-01T09:00:00.000Z",
    }


def sealed(secret_id: str, conversation_id: str, value: str, key: bytes = KEY) -> SealedSecret:
    nonce, ciphertext = seal(key, secret_id, conversation_id, value)
    return SealedSecret(secret_id, conversation_id, "", nonce, ciphertext, START)


def test_sealing_opens_only_with_the_same_key_id_and_conversation() -> None:
    value = "hunter2 パスワード"
    box = sealed("s_1", "c_1", value)
    assert value.encode() not in box.ciphertext
    assert len(box.nonce) == 12
    assert unseal(KEY, box) == value
    # A fresh nonce each time: the same value never seals to the same bytes.
    assert sealed("s_1", "c_1", value).ciphertext != box.ciphertext
    assert unseal(b"another key" * 4, box) is None
    moved = SealedSecret("s_2", "c_1", "", box.nonce, box.ciphertext, START)
    assert unseal(KEY, moved) is None
    elsewhere = SealedSecret("s_1", "c_2", "", box.nonce, box.ciphertext, START)
    assert unseal(KEY, elsewhere) is None
