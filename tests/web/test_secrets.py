"""Secrets revealed once (SPEC V15), on both backends: the security tests for "reveal twice".

A secret is revealed once by the chat's operator and then gone: a second reveal, or two at
the same moment, get 410 ``secret_gone``; it expires, and goes with the chat's end. Its value
reaches nobody else: not the events, the sockets, the transcript, the audit log, the server's
logs (with SQL logging on), nor the database (the raw SQLite file and its WAL, ``pg_dump``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from clients import Operator, Socket, Visitor
from clock import FakeClock
from conftest import TEST_CONFIG, DatabaseFactory, LiveServer, fire_timers, online
from madoguchi.store import audit

VALUE = "hunter2-Zq9!xK7#vB3 パスワード"  # a space and Japanese: kept verbatim
LABEL = "FTP password"
MESSAGE = "The FTP login fails with error 530 on ftp.example.jp"


@pytest.fixture
def desk(backend: str, databases: DatabaseFactory, clock: FakeClock) -> Iterator[LiveServer]:
    live = LiveServer(databases.new(backend), clock=clock).start()
    yield live
    live.stop()
    databases.release(live.database_url)


async def chatting(
    server: LiveServer, stack: AsyncExitStack, operator_ws: Socket
) -> tuple[Visitor, Socket, str]:
    """A visitor whose chat the operator behind ``operator_ws`` was just given."""
    visitor = await stack.enter_async_context(Visitor(server.url))
    conv = await visitor.start(message=MESSAGE)
    assigned = await operator_ws.expect("assigned")
    assert assigned["conversation"]["id"] == conv["id"]
    socket = await visitor.connect()
    stack.push_async_callback(socket.close)
    await socket.event("assigned")
    return visitor, socket, conv["id"]


async def send_secret(
    visitor: Visitor, conv_id: str, value: str = VALUE, **extra: Any
) -> httpx.Response:
    body = {"client_id": str(uuid.uuid4()), "label": LABEL, "value": value, **extra}
    return await visitor.http.post(f"/api/v1/visitor/conversations/{conv_id}/secrets", json=body)


async def reveal(operator: Operator, conv_id: str, secret_id: str) -> httpx.Response:
    return await operator.http.post(
        f"/api/v1/agent/conversations/{conv_id}/secrets/{secret_id}/reveal"
    )


def error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def sent(visitor: Visitor, conv_id: str, operator_ws: Socket) -> str:
    """Send the secret; its id, from the operator's ``secret`` event."""
    response = await send_secret(visitor, conv_id)
    assert response.status_code == 201, response.text
    event = await operator_ws.event("secret", conversation_id=conv_id)
    assert event["seq"] == response.json()["seq"]
    return str(event["data"]["secret_id"])


# -- reveal once -----------------------------------------------------------------------------


async def test_the_operator_reveals_a_secret_once_and_then_it_is_gone(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    operator, console = await online(desk, stack, "Sato")
    visitor, widget, conv_id = await chatting(desk, stack, console)

    response = await send_secret(visitor, conv_id)
    assert response.status_code == 201, response.text
    shown = await widget.event("secret")
    event = await console.event("secret")
    assert shown == event
    assert event["author"] == {"role": "visitor", "name": None}
    assert event["body"] is None
    assert set(event["data"]) == {"secret_id", "label", "expires_at"}
    assert event["data"]["label"] == LABEL
    assert event["data"]["expires_at"] == "2026-04-01T09:10:00.000Z"  # reveal_minutes = 10
    secret_id = event["data"]["secret_id"]

    first = await reveal(operator, conv_id, secret_id)
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "no-store"
    assert first.json() == {
        "secret_id": secret_id,
        "label": LABEL,
        "value": VALUE,
        "revealed_at": "2026-04-01T09:00:00.000Z",
    }
    # Both sides are told it was seen, and that it is now deleted.
    told = await widget.event("secret_revealed")
    assert told["data"] == {"secret_id": secret_id, "label": LABEL, "operator": {"name": "Sato"}}
    await console.event("secret_revealed")

    again = await reveal(operator, conv_id, secret_id)
    assert error(again) == (410, "secret_gone")
    assert "value" not in again.json()

    entries = desk.call(_audit, desk.desk, f"secret:{secret_id}")
    assert [(e.action, e.actor_id, e.data) for e in entries] == [
        ("secret_revealed", operator.me["id"], {"conversation_id": conv_id, "label": LABEL})
    ]
    # The value went out once, in the reveal's response, and nowhere else.
    for who, prefix in ((visitor, "visitor"), (operator, "agent")):
        listed = await who.http.get(f"/api/v1/{prefix}/conversations/{conv_id}/events")
        assert [e["kind"] for e in listed.json()["events"]][-2:] == ["secret", "secret_revealed"]
        transcript = await who.http.get(f"/api/v1/{prefix}/conversations/{conv_id}/transcript")
        assert transcript.status_code == 200
        assert MESSAGE in transcript.text
        for text in (listed.text, transcript.text):
            assert not leaked(text)
    assert not leaked(orjson.dumps(widget.seen + console.seen).decode())


async def test_two_reveals_at_the_same_moment_hand_the_secret_out_once(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    operator, console = await online(desk, stack, "Sato")
    visitor, _, conv_id = await chatting(desk, stack, console)
    # The same operator in a second tab (a second session), and a double click in the first.
    second = await stack.enter_async_context(Operator(desk.url, operator.email, operator.password))
    for _ in range(3):
        secret_id = await sent(visitor, conv_id, console)
        answers = await asyncio.gather(
            reveal(operator, conv_id, secret_id),
            reveal(second, conv_id, secret_id),
            reveal(operator, conv_id, secret_id),
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200, 410, 410], [a.text for a in answers]
        assert [a.json()["value"] for a in answers if a.status_code == 200] == [VALUE]
        assert {error(a) for a in answers if a.status_code == 410} == {(410, "secret_gone")}
        await console.event("secret_revealed", conversation_id=conv_id)
        assert len(desk.call(_audit, desk.desk, f"secret:{secret_id}")) == 1


async def test_only_the_chats_operator_may_reveal_it(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    operator, console = await online(desk, stack, "Sato")
    visitor, _, conv_id = await chatting(desk, stack, console)
    secret_id = await sent(visitor, conv_id, console)
    colleague, _ = await online(desk, stack, "Suzuki")
    boss, _ = await online(desk, stack, "Boss", role="supervisor", departments=["sales"])
    joined = await boss.http.post(f"/api/v1/agent/conversations/{conv_id}/join")
    assert joined.status_code == 200, joined.text

    assert error(await reveal(colleague, conv_id, secret_id)) == (403, "forbidden")
    # A supervisor who joined may write in the chat, but the secret is for its operator.
    assert error(await reveal(boss, conv_id, secret_id)) == (403, "forbidden")
    no_csrf = await operator.http.post(
        f"/api/v1/agent/conversations/{conv_id}/secrets/{secret_id}/reveal",
        headers={"X-CSRF-Token": "wrong"},
    )
    assert error(no_csrf) == (403, "csrf_failed")
    as_visitor = await visitor.http.post(
        f"/api/v1/agent/conversations/{conv_id}/secrets/{secret_id}/reveal"
    )
    assert error(as_visitor) == (401, "unauthorized")
    assert error(await reveal(operator, "c_nope", secret_id)) == (404, "not_found")
    # None of that used it up: the operator still gets it, once.
    assert (await reveal(operator, conv_id, secret_id)).json()["value"] == VALUE


async def test_after_a_take_over_the_new_operator_reveals_it(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    operator, console = await online(desk, stack, "Sato")
    visitor, _, conv_id = await chatting(desk, stack, console)
    secret_id = await sent(visitor, conv_id, console)
    boss, _ = await online(desk, stack, "Boss", role="supervisor", departments=["sales"])
    took = await boss.http.post(f"/api/v1/agent/conversations/{conv_id}/take-over")
    assert took.status_code == 200, took.text
    assert error(await reveal(operator, conv_id, secret_id)) == (403, "forbidden")
    assert (await reveal(boss, conv_id, secret_id)).json()["value"] == VALUE


# -- gone without a reveal -------------------------------------------------------------------


async def test_an_unrevealed_secret_expires_after_reveal_minutes(
    desk: LiveServer, clock: FakeClock, stack: AsyncExitStack
) -> None:
    operator, console = await online(desk, stack, "Sato")
    visitor, widget, conv_id = await chatting(desk, stack, console)
    secret_id = await sent(visitor, conv_id, console)

    await pass_time(desk, clock, console, 10 * 60 - 1)
    assert not [f for f in widget.seen if f.get("kind") == "secret_expired"]
    fire_timers(desk, clock, 1)
    expired = await widget.event("secret_expired")
    assert expired["data"] == {"secret_id": secret_id, "label": LABEL, "reason": "expired"}
    assert expired["author"]["role"] == "system"
    await console.event("secret_expired")
    assert error(await reveal(operator, conv_id, secret_id)) == (410, "secret_gone")
    entries = desk.call(_audit, desk.desk, f"secret:{secret_id}")
    assert [(e.action, e.actor_id, e.data["reason"]) for e in entries] == [
        ("secret_expired", None, "expired")
    ]


async def test_ending_the_chat_deletes_its_unrevealed_secrets(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    operator, console = await online(desk, stack, "Sato")
    visitor, widget, conv_id = await chatting(desk, stack, console)
    kept = await sent(visitor, conv_id, console)
    revealed = await sent(visitor, conv_id, console)
    assert (await reveal(operator, conv_id, revealed)).status_code == 200

    ended = await operator.http.post(
        f"/api/v1/agent/conversations/{conv_id}/end", json={"reason": "resolved"}
    )
    assert ended.status_code == 200, ended.text
    expired = await widget.event("secret_expired")
    assert expired["data"] == {"secret_id": kept, "label": LABEL, "reason": "ended"}
    await widget.event("ended")
    assert error(await reveal(operator, conv_id, kept)) == (410, "secret_gone")
    assert desk.call(_count_secrets, desk.desk) == 0


# -- refused ---------------------------------------------------------------------------------


async def test_bad_secrets_are_refused_with_their_codes(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    operator, console = await online(desk, stack, "Sato")
    visitor, _, conv_id = await chatting(desk, stack, console)
    assert error(await send_secret(visitor, conv_id, "")) == (422, "bad_secret")
    assert error(await send_secret(visitor, conv_id, "   ")) == (422, "bad_secret")
    assert error(await send_secret(visitor, conv_id, "a\x00b")) == (422, "bad_secret")
    too_long = await send_secret(visitor, conv_id, "x" * 2001)
    assert error(too_long) == (413, "secret_too_long")
    assert error(await send_secret(visitor, conv_id, label="L" * 101)) == (422, "bad_secret")
    assert error(await send_secret(visitor, conv_id, label="a\nb")) == (422, "bad_secret")
    no_value = await visitor.http.post(
        f"/api/v1/visitor/conversations/{conv_id}/secrets", json={"client_id": "x"}
    )
    assert error(no_value) == (400, "bad_request")
    assert error(await send_secret(visitor, conv_id, 12345)) == (400, "bad_request")  # type: ignore[arg-type]
    assert error(await send_secret(visitor, conv_id, client_id="")) == (400, "bad_frame")

    stranger = await stack.enter_async_context(Visitor(desk.url))
    assert error(await send_secret(stranger, conv_id)) == (404, "not_found")
    waiting = await stranger.start(topic="sales")
    assert error(await send_secret(stranger, waiting["id"])) == (409, "secret_needs_operator")
    await operator.http.post(
        f"/api/v1/agent/conversations/{conv_id}/end", json={"reason": "resolved"}
    )
    assert error(await send_secret(visitor, conv_id)) == (409, "conversation_ended")
    assert desk.call(_count_secrets, desk.desk) == 0


async def test_a_retry_with_the_same_client_id_is_stored_once(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    _, console = await online(desk, stack, "Sato")
    visitor, _, conv_id = await chatting(desk, stack, console)
    client_id = str(uuid.uuid4())
    first = await send_secret(visitor, conv_id, client_id=client_id)
    retry = await send_secret(visitor, conv_id, client_id=client_id)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert first.json() == retry.json()
    assert desk.call(_count_secrets, desk.desk) == 1
    said = await visitor.http.post(
        f"/api/v1/visitor/conversations/{conv_id}/messages",
        json={"client_id": "taken", "body": "hello"},
    )
    assert said.status_code == 201
    clash = await send_secret(visitor, conv_id, client_id="taken")
    assert error(clash) == (409, "duplicate_client_id")


async def test_a_desk_without_secrets_refuses_them(
    backend: str, databases: DatabaseFactory, stack: AsyncExitStack
) -> None:
    live = LiveServer(databases.new(backend), config=TEST_CONFIG + "\n[secrets]\nenabled = false\n")
    live.start()
    try:
        _, console = await online(live, stack, "Sato")
        visitor, _, conv_id = await chatting(live, stack, console)
        config = (await visitor.http.get("/api/v1/visitor/config")).json()
        assert config["secrets"]["enabled"] is False
        assert error(await send_secret(visitor, conv_id)) == (404, "secrets_disabled")
    finally:
        await stack.aclose()
        live.stop()
        databases.release(live.database_url)


# -- never in storage, never in logs ---------------------------------------------------------


async def test_the_value_never_reaches_storage_in_clear_text(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    operator, console = await online(desk, stack, "Sato")
    visitor, _, conv_id = await chatting(desk, stack, console)
    secret_id = await sent(visitor, conv_id, console)

    # Sent and not revealed: stored, but only as ciphertext. The message proves the search.
    dumped = dump(desk.database_url)
    assert appears(MESSAGE, dumped)
    assert appears(LABEL, dumped)
    assert desk.call(_count_secrets, desk.desk) == 1
    assert not appears(VALUE, dumped)
    assert not appears("hunter2", dumped)

    assert (await reveal(operator, conv_id, secret_id)).json()["value"] == VALUE
    dumped = dump(desk.database_url)
    assert appears(MESSAGE, dumped)
    assert desk.call(_count_secrets, desk.desk) == 0
    assert not appears(VALUE, dumped)
    assert not appears("hunter2", dumped)


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.getMessage()} {record.args!r} {record.exc_text}")


@pytest.fixture
def server_logs() -> Iterator[_Recorder]:
    """Every log line of the process at DEBUG, SQL statements and their parameters included."""
    recorder = _Recorder()
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy.engine", "madoguchi")
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(recorder)
        logger.setLevel(logging.DEBUG)
    yield recorder
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(recorder)
        logger.setLevel(level)


async def test_the_value_is_never_logged(
    desk: LiveServer, stack: AsyncExitStack, server_logs: _Recorder
) -> None:
    operator, console = await online(desk, stack, "Sato")
    visitor, _, conv_id = await chatting(desk, stack, console)
    secret_id = await sent(visitor, conv_id, console)
    # Refused ones too: the error answers do not quote the value either.
    for bad in (VALUE + "\x00", VALUE * 200):
        refused = await send_secret(visitor, conv_id, bad)
        assert refused.status_code in (413, 422)
        assert not leaked(refused.text)
    assert (await reveal(operator, conv_id, secret_id)).json()["value"] == VALUE
    assert error(await reveal(operator, conv_id, secret_id)) == (410, "secret_gone")

    logged = "\n".join(server_logs.lines)
    # The search works: the SQL log has the message's text, and the requests' paths.
    assert MESSAGE in logged
    assert f"/secrets/{secret_id}/reveal" in logged
    assert not leaked(logged)


# -- helpers ---------------------------------------------------------------------------------


async def pass_time(desk: LiveServer, clock: FakeClock, console: Socket, seconds: int) -> None:
    """Move the clock on a minute at a time, firing timers, with the console's heartbeats
    between, so that its operator stays present (services/presence.py)."""
    beat = 0
    while seconds > 0:
        step = min(60, seconds)
        fire_timers(desk, clock, step)
        seconds -= step
        # A socket handles its frames in turn: the second pong means the first ping is stored.
        for _ in (1, 2):
            beat += 1
            await console.send({"type": "ping", "t": beat})
        await console.expect("pong", t=beat)


def leaked(text: str) -> bool:
    """Whether ``text`` holds the value, as is or JSON-escaped."""
    return VALUE in text or json.dumps(VALUE)[1:-1] in text or "hunter2" in text


async def _audit(desk: Any, target: str) -> list[audit.AuditEntry]:
    async with desk.db.read() as conn:
        return await audit.list_entries(conn, target=target)


async def _count_secrets(desk: Any) -> int:
    from sqlalchemy import func, select

    from madoguchi.store.tables import secrets

    async with desk.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(secrets))).scalar_one())


def dump(database_url: str) -> bytes:
    """Everything the database holds, as its own tools show it, plus (SQLite) its raw files."""
    if database_url.startswith("sqlite"):
        file = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
        wal = file.with_name(file.name + "-wal")
        # The raw file and WAL first, as the node left them; then a checkpoint and a dump.
        raw = file.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        with sqlite3.connect(file, timeout=10) as conn:
            listing = "\n".join(conn.iterdump()).encode()
        conn.close()
        return raw + listing
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.fail("pg_dump is needed: apt-get install postgresql-client-15")
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    done = subprocess.run([pg_dump, "--no-owner", dsn], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def appears(text: str, dumped: bytes) -> bool:
    """Whether ``text`` is in the dump as stored: plain, in JSON (\\uXXXX), or COPY-escaped."""
    in_json = json.dumps(text)[1:-1]
    forms = {text, in_json, in_json.replace("\\", "\\\\")}
    return any(form.encode() in dumped for form in forms)
