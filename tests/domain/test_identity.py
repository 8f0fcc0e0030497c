"""Identity tokens (SPEC V4): the format a host app signs, read back with the desk's clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from madoguchi.domain.identity import (
    Identity,
    Rejection,
    TokenRejected,
    check_token,
    make_token,
)

SECRET = b"a-host-apps-secret-of-enough-length-0123456789"
NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(payload: object, secret: bytes = SECRET, version: str = "v1") -> str:
    """A token over any payload, signed as a host app would sign it."""
    body = _b64(orjson.dumps(payload))
    signature = hmac.new(secret, f"{version}.{body}".encode(), hashlib.sha256).digest()
    return f"{version}.{body}.{_b64(signature)}"


def check(token: object, secrets: tuple[bytes, ...] = (SECRET,)) -> Identity:
    return check_token(secrets, token, now=NOW, max_lifetime=HOUR)


def test_a_token_made_for_a_member_reads_back_as_that_member() -> None:
    token = make_token(SECRET, "M-1001", "pro", NOW + timedelta(minutes=30))
    assert token.startswith("v1.")
    assert "=" not in token
    assert check(token) == Identity("M-1001", "pro", NOW + timedelta(minutes=30))


def test_the_payload_is_the_documented_json() -> None:
    token = make_token(SECRET, "会員-7", "business", NOW + HOUR)
    body = token.split(".")[1]
    payload = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert payload == {"sub": "会員-7", "plan": "business", "exp": int((NOW + HOUR).timestamp())}
    # The same bytes a host app's HMAC gives: the examples in docs/identity.md compute this.
    assert token == signed(payload)
    assert check(token).member_id == "会員-7"


def test_a_token_is_good_until_its_expiry_and_not_at_it() -> None:
    token = make_token(SECRET, "M-1", "pro", NOW + timedelta(seconds=10))
    assert check_token((SECRET,), token, now=NOW + timedelta(seconds=9), max_lifetime=HOUR)
    with pytest.raises(TokenRejected) as caught:
        check_token((SECRET,), token, now=NOW + timedelta(seconds=10), max_lifetime=HOUR)
    assert caught.value.reason is Rejection.EXPIRED


def test_an_expiry_at_the_maximum_lifetime_is_accepted_and_beyond_it_refused() -> None:
    assert check(make_token(SECRET, "M-1", "pro", NOW + HOUR)).plan == "pro"
    with pytest.raises(TokenRejected) as caught:
        check(make_token(SECRET, "M-1", "pro", NOW + HOUR + timedelta(seconds=1)))
    assert caught.value.reason is Rejection.TOO_LONG_LIVED


def test_during_a_rotation_tokens_of_the_previous_secret_still_verify() -> None:
    previous = b"the-old-secret-being-rotated-out-0123456789"
    old = make_token(previous, "M-2", "pro", NOW + HOUR)
    assert check(old, (SECRET, previous)).member_id == "M-2"
    with pytest.raises(TokenRejected) as caught:
        check(old, (SECRET,))  # once the previous secret is dropped
    assert caught.value.reason is Rejection.SIGNATURE


def test_no_secret_verifies_nothing() -> None:
    with pytest.raises(TokenRejected) as caught:
        check(make_token(SECRET, "M-1", "pro", NOW + HOUR), ())
    assert caught.value.reason is Rejection.SIGNATURE


EXP = int((NOW + timedelta(minutes=5)).timestamp())


@pytest.mark.parametrize(
    "payload",
    [
        {"plan": "pro", "exp": EXP},  # no member
        {"sub": "", "plan": "pro", "exp": EXP},
        {"sub": "   ", "plan": "pro", "exp": EXP},
        {"sub": "x" * 201, "plan": "pro", "exp": EXP},
        {"sub": "M\n1", "plan": "pro", "exp": EXP},  # a line break in a log or a console
        {"sub": 1001, "plan": "pro", "exp": EXP},
        {"sub": "M-1", "exp": EXP},  # no plan
        {"sub": "M-1", "plan": "pro plus", "exp": EXP},
        {"sub": "M-1", "plan": "", "exp": EXP},
        {"sub": "M-1", "plan": "pro"},  # no expiry: would be good forever
        {"sub": "M-1", "plan": "pro", "exp": str(EXP)},
        {"sub": "M-1", "plan": "pro", "exp": float(EXP)},
        {"sub": "M-1", "plan": "pro", "exp": True},
        {"sub": "M-1", "plan": "pro", "exp": -1},
        ["M-1", "pro", EXP],
        "M-1",
        None,
    ],
)
def test_a_signed_payload_that_is_not_the_documented_json_is_refused(payload: object) -> None:
    with pytest.raises(TokenRejected) as caught:
        check(signed(payload))
    assert caught.value.reason is Rejection.PAYLOAD


def test_a_signed_body_that_is_not_json_is_refused() -> None:
    body = _b64(b"\xff\xfenot json")
    signature = hmac.new(SECRET, f"v1.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(TokenRejected) as caught:
        check(f"v1.{body}.{_b64(signature)}")
    assert caught.value.reason is Rejection.PAYLOAD


def test_a_member_id_is_trimmed_and_unknown_keys_are_ignored() -> None:
    payload = {"sub": " M-9 ", "plan": "pro", "exp": EXP, "iat": EXP - 60}
    assert check(signed(payload)).member_id == "M-9"
