"""Security: who may fetch or add a conversation's files (SPEC V6, docs/security.md).

Only the conversation's participants fetch its files: its visitor, and operators who may see the
conversation. Anyone else gets 404, the same answer as for a file that does not exist, so that
nobody can learn what another conversation holds. Files are served so that no browser runs them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from test_attachments import PNG, Chat, download, error_code, files_config, upload

from clamd import clamd_socket
from clients import Operator, Visitor
from conftest import DatabaseFactory, LiveServer, online

__all__ = ["clamd_socket"]


@pytest.fixture
def desk(
    backend: str, databases: DatabaseFactory, clamd_socket: Path, tmp_path: Path
) -> Iterator[LiveServer]:
    live = LiveServer(
        databases.new(backend), config=files_config(tmp_path / "files", f"unix:{clamd_socket}")
    ).start()
    yield live
    live.stop()
    databases.release(live.database_url)


async def shared(chat: Chat, data: bytes = PNG, name: str = "a.png") -> str:
    sent = await upload(chat.visitor, chat.id, data, name)
    assert sent.status_code == 201, sent.text
    await chat.operator_ws.event("attachment_ok")
    return str(sent.json()["attachment_id"])


async def test_another_visitor_cannot_fetch_a_file_by_any_path(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    chat = await Chat.open(desk, stack)
    file_id = await shared(chat)
    mallory = await stack.enter_async_context(Visitor(desk.url))
    own = await mallory.start(topic="billing", message="hi")

    for conv_id in (chat.id, own["id"]):  # the real path, and the file id under her own chat
        stolen = await download(mallory, conv_id, file_id)
        assert (stolen.status_code, error_code(stolen)) == (404, "not_found")
    # The same answer as for a file that does not exist: nothing is revealed.
    missing = await download(mallory, chat.id, "a_doesnotexist0000")
    assert (missing.status_code, missing.json()) == (stolen.status_code, stolen.json())

    anonymous = await mallory.http.get(
        f"/api/v1/visitor/conversations/{chat.id}/attachments/{file_id}",
        headers={"Authorization": ""},
    )
    assert (anonymous.status_code, error_code(anonymous)) == (401, "unauthorized")
    forged = await mallory.http.get(
        f"/api/v1/visitor/conversations/{chat.id}/attachments/{file_id}",
        headers={"Authorization": f"Bearer {chat.visitor.token}x"},
    )
    assert forged.status_code == 401
    # Nor can she add a file to it.
    pushed = await upload(mallory, chat.id, PNG, "x.png")
    assert (pushed.status_code, error_code(pushed)) == (404, "not_found")
    # The owner still can.
    assert (await download(chat.visitor, chat.id, file_id)).status_code == 200


async def test_operators_fetch_only_files_of_chats_they_may_see(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    chat = await Chat.open(desk, stack)
    file_id = await shared(chat)
    path = f"/api/v1/agent/conversations/{chat.id}/attachments/{file_id}"
    # Another department's operator, and a colleague of the same one whose chat this is not.
    sales, _ = await online(desk, stack, "Tanaka", departments=["sales"])
    colleague, _ = await online(desk, stack, "Suzuki")
    for outsider in (sales, colleague):
        refused = await outsider.http.get(path)
        assert (refused.status_code, error_code(refused)) == (404, "not_found")
        pushed = await upload(outsider, chat.id, PNG, "x.png")
        assert (pushed.status_code, error_code(pushed)) == (403, "forbidden")
    # A supervisor sees every chat (SPEC A9).
    boss, _ = await online(desk, stack, "Boss", role="supervisor", departments=["sales"])
    assert (await boss.http.get(path)).content == PNG
    # Logged out, nothing.
    async with Operator(desk.url, chat.operator.email, chat.operator.password) as again:
        again.http.cookies.clear()
        assert (await again.http.get(path)).status_code == 401


async def test_an_operator_loses_the_files_with_the_chat(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    chat = await Chat.open(desk, stack)
    file_id = await shared(chat)
    other, other_ws = await online(desk, stack, "Suzuki")
    moved = await chat.operator.http.post(
        f"/api/v1/agent/conversations/{chat.id}/transfer",
        json={"operator_id": other.me["id"], "note": ""},
    )
    assert moved.status_code == 200, moved.text
    await other_ws.expect("assigned")
    gone = await download(chat.operator, chat.id, file_id)
    assert (gone.status_code, error_code(gone)) == (404, "not_found")
    assert (await download(other, chat.id, file_id)).content == PNG


async def test_an_operator_upload_needs_the_csrf_token(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    chat = await Chat.open(desk, stack)
    forged = await chat.operator.http.post(
        f"/api/v1/agent/conversations/{chat.id}/attachments",
        params={"name": "x.png", "client_id": str(uuid.uuid4())},
        content=PNG,
        headers={"X-CSRF-Token": "wrong"},
    )
    assert (forged.status_code, error_code(forged)) == (403, "csrf_failed")


@pytest.mark.parametrize(
    ("payload", "name", "saved_as"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "logo.svg",
            "logo.svg.txt",
        ),
        (b"<!doctype html><script>alert(document.cookie)</script>", "page.html", "page.html.txt"),
        (
            PNG,
            'evil"; filename=x.html\r\nX-Injected: 1.png',
            "evil__ filename=x.htmlX-Injected: 1.png",
        ),
    ],
)
async def test_files_are_served_so_that_no_browser_runs_them(
    desk: LiveServer, stack: AsyncExitStack, payload: bytes, name: str, saved_as: str
) -> None:
    chat = await Chat.open(desk, stack)
    file_id = await shared(chat, payload, name)
    got = await download(chat.operator, chat.id, file_id)
    assert got.status_code == 200
    assert got.headers["content-type"] in ("application/octet-stream", "image/png")
    assert "svg" not in got.headers["content-type"]
    assert "html" not in got.headers["content-type"]
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "x-injected" not in {key.lower() for key in got.headers}
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback == saved_as
