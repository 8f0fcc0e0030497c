"""Security: identity tokens that were tampered with, forged or expired are never trusted (V4).

Every forgery below is sent to a real node the way the chat frame sends a token. None may make
a chat "verified", none may be an error the visitor sees (the chat starts, unverified), and the
reason is logged for the host's developers without the token itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from clients import Operator, Visitor
from clock import FakeClock
from conftest import PASSWORD, DatabaseFactory
from identity_desk import SECRET, IdentityServer, token
from madoguchi.domain.identity import Rejection, TokenRejected, check_token

NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
WRONG_SECRET = b"someone-elses-secret-of-enough-length-0123456789"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(signed: str, secret: bytes) -> str:
    return _b64(hmac.new(secret, signed.encode(), hashlib.sha256).digest())


def _good(plan: str = "pro") -> str:
    return token("M-1001", plan, now=NOW)


def _with_payload(original: str, **changes: Any) -> str:
    """The token with its payload edited and its signature kept, as an attacker would try."""
    version, body, signature = original.split(".")
    payload = orjson.loads(_unb64(body))
    payload.update(changes)
    return f"{version}.{_b64(orjson.dumps(payload))}.{signature}"


def _flip_signature(original: str) -> str:
    version, body, signature = original.split(".")
    raw = bytearray(_unb64(signature))
    raw[0] ^= 1
    return f"{version}.{body}.{_b64(bytes(raw))}"


def _non_canonical_signature(original: str) -> str:
    # The last base64 character of a 32-byte value carries 2 unused bits: setting one gives the
    # same bytes under another spelling, which a lenient decoder would accept.
    version, body, signature = original.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet[alphabet.index(signature[-1]) ^ 1]
    return f"{version}.{body}.{signature[:-1]}{last}"


def _alg_none(original: str) -> str:
    # A JWT-style header choosing "no algorithm", in place of the version, and no signature.
    header = _b64(orjson.dumps({"alg": "none", "typ": "JWT"}))
    return f"{header}.{original.split('.')[1]}."


def _resigned_as(version: str) -> str:
    body = _good().split(".")[1]
    return f"{version}.{body}.{_sign(f'{version}.{body}', SECRET)}"


def _signed_without_version(original: str) -> str:
    _, body, _ = original.split(".")
    return f"v1.{body}.{_sign(body, SECRET)}"  # HMAC over the payload alone


FORGERIES: dict[str, tuple[Callable[[], object], Rejection]] = {
    "tampered payload: another member": (
        lambda: _with_payload(_good(), sub="M-9999"),
        Rejection.SIGNATURE,
    ),
    "tampered payload: later expiry": (
        lambda: _with_payload(_good(), exp=int((NOW + timedelta(minutes=50)).timestamp())),
        Rejection.SIGNATURE,
    ),
    "plan X replayed as plan Y": (
        lambda: _with_payload(_good("lite"), plan="pro"),
        Rejection.SIGNATURE,
    ),
    "tampered signature": (lambda: _flip_signature(_good()), Rejection.SIGNATURE),
    "non-canonical signature": (lambda: _non_canonical_signature(_good()), Rejection.SIGNATURE),
    "truncated signature": (lambda: _good()[:-4], Rejection.SIGNATURE),
    "wrong secret": (lambda: token(now=NOW, secret=WRONG_SECRET), Rejection.SIGNATURE),
    "signed over the payload only": (
        lambda: _signed_without_version(_good()),
        Rejection.SIGNATURE,
    ),
    "expired": (lambda: token(now=NOW, lifetime=timedelta(seconds=-1)), Rejection.EXPIRED),
    "expires right now": (lambda: token(now=NOW, lifetime=timedelta(0)), Rejection.EXPIRED),
    "far-future expiry beyond the maximum lifetime": (
        lambda: token(now=NOW, lifetime=timedelta(days=3650)),
        Rejection.TOO_LONG_LIVED,
    ),
    "unsigned: payload alone": (lambda: _good().split(".")[1], Rejection.MALFORMED),
    "unsigned: empty signature": (lambda: _good().rsplit(".", 1)[0] + ".", Rejection.MALFORMED),
    "alg none header": (lambda: _alg_none(_good()), Rejection.MALFORMED),
    "alg none header, signature kept": (
        lambda: _alg_none(_good()) + _good().split(".")[2],
        Rejection.VERSION,
    ),
    "another version, signed right": (lambda: _resigned_as("v2"), Rejection.VERSION),
    "a fourth part": (lambda: _good() + ".extra", Rejection.MALFORMED),
    "not base64url": (lambda: _good().replace("-", "+", 1) + "+", Rejection.MALFORMED),
    "padding": (lambda: _good() + "=", Rejection.MALFORMED),
    "huge": (lambda: "v1." + "A" * 5000 + "." + "A" * 43, Rejection.MALFORMED),
    "not ascii": (lambda: "v1.ｅｙ.ｓｉｇ", Rejection.MALFORMED),
    "empty": (lambda: "", Rejection.MALFORMED),
    "plain member id": (lambda: "M-1001", Rejection.MALFORMED),
}


@pytest.mark.parametrize("name", FORGERIES)
def test_the_domain_refuses_each_forgery_for_its_reason(name: str) -> None:
    make, reason = FORGERIES[name]
    with pytest.raises(TokenRejected) as caught:
        check_token((SECRET,), make(), now=NOW, max_lifetime=timedelta(minutes=60))
    assert caught.value.reason is reason


def test_the_genuine_token_the_forgeries_start_from_verifies() -> None:
    identity = check_token((SECRET,), _good(), now=NOW, max_lifetime=timedelta(minutes=60))
    assert (identity.member_id, identity.plan) == ("M-1001", "pro")


@pytest.fixture
def node(backend: str, databases: DatabaseFactory) -> Iterator[IdentityServer]:
    """A node that verifies tokens, its clock stopped at NOW."""
    live = IdentityServer(databases.new(backend), clock=FakeClock(NOW)).start()
    yield live
    live.stop()
    databases.release(live.database_url)


async def _operator_view(node: IdentityServer, conversation_id: str) -> dict[str, Any]:
    account = node.create_operator(name="Sato")
    async with Operator(node.url, account["email"], PASSWORD) as operator:
        response = await operator.http.get(f"/api/v1/agent/conversations/{conversation_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.parametrize(
    "name",
    [
        "tampered payload: another member",
        "plan X replayed as plan Y",
        "tampered signature",
        "wrong secret",
        "expired",
        "far-future expiry beyond the maximum lifetime",
        "alg none header",
        "unsigned: payload alone",
    ],
)
async def test_a_forged_token_starts_an_unverified_chat_and_is_logged_without_itself(
    node: IdentityServer, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    make, reason = FORGERIES[name]
    forged = make()
    assert isinstance(forged, str)
    caplog.set_level(logging.INFO, logger="madoguchi.services.identity")
    async with httpx.AsyncClient(base_url=node.url) as client:
        response = await client.post("/api/v1/visitor/identity", json={"token": forged})
    assert response.json() == {"verified": False, "chat_allowed": True, "links": []}
    async with Visitor(node.url) as visitor:
        started = await visitor.start(identity=forged, prechat={"member_id": "M-1001"})
    assert "visitor" not in started  # the visitor's own summary does not echo anything
    seen = await _operator_view(node, started["id"])
    assert seen["visitor"]["verified"] is False
    assert seen["visitor"]["member_id"] is None
    assert seen["visitor"]["plan"] is None
    assert seen["prechat"]["member_id"] == "M-1001"  # typed, and shown as such
    assert f"identity token not trusted: {reason.value}" in caplog.text
    signature = forged.rsplit(".", 1)[-1]
    assert forged not in caplog.text
    assert not signature or signature not in caplog.text


async def test_a_plan_without_chat_cannot_be_bypassed_by_editing_the_plan(
    node: IdentityServer,
) -> None:
    """The lite member's real token is refused chat; the edited one is only unverified."""
    lite = _good("lite")
    async with Visitor(node.url) as visitor:
        response = await visitor.http.post(
            "/api/v1/visitor/conversations",
            json={"topic": "technical", "language": "ja", "consent": True, "identity": lite},
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "plan_without_chat"
        started = await visitor.start(identity=_with_payload(lite, plan="pro"))
    seen = await _operator_view(node, started["id"])
    assert seen["visitor"]["verified"] is False
    assert seen["visitor"]["plan"] is None


async def test_a_token_stops_verifying_once_the_desk_clock_passes_its_expiry(
    node: IdentityServer,
) -> None:
    short = token(now=NOW, lifetime=timedelta(minutes=5))
    async with httpx.AsyncClient(base_url=node.url) as client:
        before = await client.post("/api/v1/visitor/identity", json={"token": short})
        assert before.json()["verified"] is True
        clock = node.desk.clock
        assert isinstance(clock, FakeClock)
        clock.advance(timedelta(minutes=5))
        after = await client.post("/api/v1/visitor/identity", json={"token": short})
    assert after.json()["verified"] is False


@pytest.mark.parametrize("bad", [123, ["v1", "x"], {"token": "v1.a.b"}])
async def test_a_token_that_is_not_text_is_a_bad_request(node: IdentityServer, bad: object) -> None:
    async with Visitor(node.url) as visitor:
        response = await visitor.http.post(
            "/api/v1/visitor/conversations",
            json={"topic": "technical", "language": "ja", "consent": True, "identity": bad},
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
