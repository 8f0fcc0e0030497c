"""Attachments over HTTP and the sockets (SPEC V6), with a real clamd (tests/clamd.py).

A file goes from "scanning" to shared (or refused) on both sides; limits answer with clear
errors and store nothing; clamd away holds a file and then refuses it, never passes it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from clamd import EICAR, clamd_socket
from clients import Operator, Socket, Visitor
from clock import FakeClock
from conftest import TEST_CONFIG, DatabaseFactory, LiveServer, fire_timers, online
from madoguchi.domain.conversation import Role
from madoguchi.domain.records import Actor
from madoguchi.services import retention, transcript
from madoguchi.store import attachments as repo
from madoguchi.store import files

__all__ = ["clamd_socket"]

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
LOG = "2026-11-22 10:00:01 ERROR データベースに接続できません (111)\n".encode() * 50


def files_config(
    directory: Path,
    clamd: str | None,
    *,
    storage: str = "disk",
    max_bytes: int = 200_000,
    max_per_conversation: int = 3,
    enabled: bool = True,
) -> str:
    """The test desk with attachments (and scanning, when ``clamd`` is given)."""
    text = (
        f"{TEST_CONFIG}\n[attachments]\nenabled = {str(enabled).lower()}\n"
        f'storage = "{storage}"\ndirectory = "{directory}"\nmax_bytes = {max_bytes}\n'
        f"max_per_conversation = {max_per_conversation}\n"
    )
    if clamd is not None:
        text += f'\n[scanning]\nclamd = "{clamd}"\ntimeout_seconds = 5\ngive_up_minutes = 1\n'
    return text


def start(databases: DatabaseFactory, backend: str, config: str, **kw: Any) -> LiveServer:
    return LiveServer(databases.new(backend), config=config, **kw).start()


@pytest.fixture(params=["disk", "database"])
def storage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def desk(
    backend: str, databases: DatabaseFactory, clamd_socket: Path, tmp_path: Path, storage: str
) -> Iterator[LiveServer]:
    """A node that scans with the test clamd and keeps files where ``storage`` says."""
    config = files_config(tmp_path / "files", f"unix:{clamd_socket}", storage=storage)
    live = start(databases, backend, config)
    yield live
    live.stop()
    databases.release(live.database_url)


@pytest.fixture
async def chat(desk: LiveServer, stack: AsyncExitStack) -> Chat:
    return await Chat.open(desk, stack)


class Chat:
    """A visitor chatting with an operator, both with their sockets open."""

    def __init__(
        self,
        server: LiveServer,
        visitor: Visitor,
        visitor_ws: Socket,
        operator: Operator,
        operator_ws: Socket,
        conv: dict[str, Any],
    ) -> None:
        self.server, self.visitor, self.visitor_ws = server, visitor, visitor_ws
        self.operator, self.operator_ws, self.conv = operator, operator_ws, conv

    @classmethod
    async def open(cls, server: LiveServer, stack: AsyncExitStack) -> Chat:
        operator, operator_ws = await online(server, stack, "Sato")
        visitor = await stack.enter_async_context(Visitor(server.url))
        conv = await visitor.start(message="ログを送ります")
        assert (await operator_ws.expect("assigned"))["conversation"]["id"] == conv["id"]
        visitor_ws = await visitor.connect()
        stack.push_async_callback(visitor_ws.close)
        return cls(server, visitor, visitor_ws, operator, operator_ws, conv)

    @property
    def id(self) -> str:
        return str(self.conv["id"])


async def upload(
    who: Visitor | Operator,
    conv_id: str,
    data: bytes,
    name: str,
    client_id: str | None = None,
) -> httpx.Response:
    side = "agent" if isinstance(who, Operator) else "visitor"
    return await who.http.post(
        f"/api/v1/{side}/conversations/{conv_id}/attachments",
        params={"name": name, "client_id": client_id or str(uuid.uuid4())},
        content=data,
    )


async def download(who: Visitor | Operator, conv_id: str, attachment_id: str) -> httpx.Response:
    side = "agent" if isinstance(who, Operator) else "visitor"
    return await who.http.get(f"/api/v1/{side}/conversations/{conv_id}/attachments/{attachment_id}")


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


async def test_a_screenshot_is_scanned_then_shared_both_ways(chat: Chat) -> None:
    sent = await upload(chat.visitor, chat.id, PNG, "スクリーンショット.png")
    assert sent.status_code == 201, sent.text
    shared = sent.json()
    assert shared["status"] == "scanning"
    assert (shared["name"], shared["size"], shared["type"]) == (
        "スクリーンショット.png",
        len(PNG),
        "image/png",
    )
    for ws in (chat.visitor_ws, chat.operator_ws):
        event = await ws.event("attachment")
        assert event["author"]["role"] == "visitor"
        assert event["data"]["attachment_id"] == shared["attachment_id"]
        assert event["data"]["status"] == "scanning"
        assert event["data"]["preview"] is True
        ok = await ws.event("attachment_ok")
        assert ok["data"] == {"attachment_id": shared["attachment_id"]}

    got = await download(chat.operator, chat.id, shared["attachment_id"])
    assert got.status_code == 200
    assert got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E3%82%B9" in got.headers["content-disposition"]
    assert "private" in got.headers["cache-control"]
    assert (await download(chat.visitor, chat.id, shared["attachment_id"])).content == PNG

    # The other way: the operator sends a log, the visitor gets it as bytes to save.
    back = await upload(chat.operator, chat.id, LOG, "server.log")
    assert back.status_code == 201, back.text
    event = await chat.visitor_ws.event("attachment")
    assert event["author"] == {"role": "operator", "name": "Sato"}
    assert event["data"]["preview"] is False
    await chat.visitor_ws.event("attachment_ok")
    got = await download(chat.visitor, chat.id, back.json()["attachment_id"])
    assert got.content == LOG
    assert got.headers["content-type"] == "application/octet-stream"

    # The transcript names the files, and holds nothing of them.
    visitor = Actor(Role.VISITOR, chat.visitor.visitor_id or "")
    _, text = chat.server.call(transcript.get_transcript, chat.server.desk, visitor, chat.id)
    assert "スクリーンショット.png" in text
    assert "server.log" in text
    assert "ERROR" not in text


async def test_an_infected_file_is_refused_its_bytes_deleted_and_both_sides_told(
    chat: Chat, storage: str, tmp_path: Path
) -> None:
    # EICAR deep inside an ordinary-looking log: a body signature finds it anywhere.
    infected = LOG + b"\n" + EICAR + b"\n" + LOG
    sent = await upload(chat.visitor, chat.id, infected, "debug.log")
    assert sent.status_code == 201, sent.text
    attachment_id = sent.json()["attachment_id"]
    for ws in (chat.visitor_ws, chat.operator_ws):
        bad = await ws.event("attachment_bad")
        assert bad["data"] == {
            "attachment_id": attachment_id,
            "name": "debug.log",
            "reason": "infected",
        }
    for who in (chat.visitor, chat.operator):
        refused = await download(who, chat.id, attachment_id)
        assert (refused.status_code, error_code(refused)) == (410, "attachment_refused")
    if storage == "disk":
        assert not files.path_of(tmp_path / "files", attachment_id).exists()


async def test_limits_answer_clearly_and_store_nothing(chat: Chat) -> None:
    too_big = await upload(chat.visitor, chat.id, PNG + bytes(200_000), "big.png")
    assert (too_big.status_code, error_code(too_big)) == (413, "attachment_too_large")
    assert too_big.json()["error"]["details"] == {"max_bytes": 200_000}

    # Sent without a length (chunked): refused once the stream passes the limit.
    async def stream() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield PNG[:8] + bytes(30_000)

    chunked = await chat.visitor.http.post(
        f"/api/v1/visitor/conversations/{chat.id}/attachments",
        params={"name": "stream.png", "client_id": str(uuid.uuid4())},
        content=stream(),
    )
    assert (chunked.status_code, error_code(chunked)) == (413, "attachment_too_large")

    program = await upload(chat.visitor, chat.id, b"MZ\x90\x00" + os.urandom(500), "photo.png")
    assert (program.status_code, error_code(program)) == (415, "attachment_type_not_allowed")
    empty = await upload(chat.visitor, chat.id, b"", "empty.txt")
    assert (empty.status_code, error_code(empty)) == (400, "empty_attachment")
    nameless = await upload(chat.visitor, chat.id, LOG, "../")
    assert (nameless.status_code, error_code(nameless)) == (400, "bad_attachment_name")

    for n in range(3):
        assert (await upload(chat.visitor, chat.id, LOG, f"{n}.log")).status_code == 201
    fourth = await upload(chat.operator, chat.id, LOG, "3.log")
    assert (fourth.status_code, error_code(fourth)) == (409, "too_many_attachments")
    assert fourth.json()["error"]["details"] == {"limit": 3}

    events = (await chat.visitor.http.get(f"/api/v1/visitor/conversations/{chat.id}/events")).json()
    names = [e["data"]["name"] for e in events["events"] if e["kind"] == "attachment"]
    assert names == ["0.log", "1.log", "2.log"]


async def test_a_retried_upload_is_stored_once(chat: Chat) -> None:
    client_id = str(uuid.uuid4())
    first = await upload(chat.visitor, chat.id, PNG, "a.png", client_id)
    again = await upload(chat.visitor, chat.id, PNG, "a.png", client_id)
    assert first.status_code == again.status_code == 201
    assert first.json()["attachment_id"] == again.json()["attachment_id"]
    stolen = await upload(chat.operator, chat.id, LOG, "b.log", client_id)
    assert (stolen.status_code, error_code(stolen)) == (409, "duplicate_client_id")
    events = (await chat.visitor.http.get(f"/api/v1/visitor/conversations/{chat.id}/events")).json()
    assert sum(e["kind"] == "attachment" for e in events["events"]) == 1


async def test_nothing_is_shared_in_an_ended_chat(chat: Chat) -> None:
    client_id = str(uuid.uuid4())
    before = await upload(chat.visitor, chat.id, PNG, "before.png", client_id)
    ended = await chat.operator.http.post(
        f"/api/v1/agent/conversations/{chat.id}/end", json={"reason": "resolved"}
    )
    assert ended.status_code == 200, ended.text
    late = await upload(chat.visitor, chat.id, PNG, "late.png")
    assert (late.status_code, error_code(late)) == (409, "conversation_ended")
    # The retry of an upload made before the end is still answered with it.
    retry = await upload(chat.visitor, chat.id, PNG, "before.png", client_id)
    assert retry.status_code == 201
    assert retry.json()["attachment_id"] == before.json()["attachment_id"]


async def test_erasing_a_conversation_deletes_its_files(
    chat: Chat, storage: str, tmp_path: Path
) -> None:
    sent = (await upload(chat.visitor, chat.id, PNG, "a.png")).json()
    await chat.visitor_ws.event("attachment_ok")
    await chat.operator.http.post(
        f"/api/v1/agent/conversations/{chat.id}/end", json={"reason": "resolved"}
    )
    if storage == "disk":
        assert files.path_of(tmp_path / "files", sent["attachment_id"]).exists()
    assert chat.server.call(retention.do_erase, chat.server.desk, chat.id)
    gone = await download(chat.visitor, chat.id, sent["attachment_id"])
    assert (gone.status_code, error_code(gone)) == (404, "not_found")
    assert not files.path_of(tmp_path / "files", sent["attachment_id"]).exists()

    async def blob() -> bytes | None:
        async with chat.server.desk.db.read() as conn:
            return await repo.get_blob(conn, sent["attachment_id"])

    assert chat.server.call(blob) is None


async def test_with_clamd_away_a_file_waits_then_is_refused_never_passed(
    backend: str,
    databases: DatabaseFactory,
    tmp_path: Path,
    stack: AsyncExitStack,
    clock: FakeClock,
) -> None:
    config = files_config(tmp_path / "files", f"unix:{tmp_path / 'no-clamd.sock'}")
    server = start(databases, backend, config, clock=clock)
    try:
        chat = await Chat.open(server, stack)
        sent = (await upload(chat.visitor, chat.id, PNG, "a.png")).json()
        event = await chat.operator_ws.event("attachment")
        assert event["data"]["status"] == "scanning"
        held = await download(chat.operator, chat.id, sent["attachment_id"])
        assert (held.status_code, error_code(held)) == (409, "attachment_not_scanned")
        fire_timers(server, clock, 30)  # tried again, clamd still away: still held
        held = await download(chat.visitor, chat.id, sent["attachment_id"])
        assert (held.status_code, error_code(held)) == (409, "attachment_not_scanned")
        fire_timers(server, clock, 31)  # a minute after the upload: given up
        for ws in (chat.visitor_ws, chat.operator_ws):
            bad = await ws.event("attachment_bad")
            assert bad["data"]["reason"] == "scanner_unavailable"
        refused = await download(chat.visitor, chat.id, sent["attachment_id"])
        assert (refused.status_code, error_code(refused)) == (410, "attachment_refused")
        assert not files.path_of(tmp_path / "files", sent["attachment_id"]).exists()
    finally:
        await stack.aclose()
        server.stop()
        databases.release(server.database_url)


async def test_without_scanning_files_are_shared_at_once_and_can_be_turned_off(
    backend: str, databases: DatabaseFactory, tmp_path: Path, stack: AsyncExitStack
) -> None:
    server = start(databases, backend, files_config(tmp_path, None, storage="database"))
    try:
        chat = await Chat.open(server, stack)
        sent = await upload(chat.visitor, chat.id, PNG, "a.png")
        assert sent.json()["status"] == "ok"
        assert (await download(chat.operator, chat.id, sent.json()["attachment_id"])).content == PNG
    finally:
        await stack.aclose()
        server.stop()
        databases.release(server.database_url)
    server = start(databases, backend, files_config(tmp_path, None, enabled=False))
    try:
        async with AsyncExitStack() as inner:
            chat = await Chat.open(server, inner)
            off = await upload(chat.visitor, chat.id, PNG, "a.png")
            assert (off.status_code, error_code(off)) == (403, "attachments_disabled")
            config = (await chat.visitor.http.get("/api/v1/visitor/config")).json()
            assert config["attachments"]["enabled"] is False
    finally:
        server.stop()
        databases.release(server.database_url)
