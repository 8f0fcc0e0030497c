"""Transcript downloads over HTTP (SPEC V11): the visitor's own, an operator's, and every refusal."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from clients import Operator, Socket, Visitor
from clock import FakeClock
from conftest import DatabaseFactory, LiveServer, online
from madoguchi.services import retention, transcript

NOTE = "返金は承認済み — お客様には伝えないこと"
QUESTION = "サーバーに接続できません。\nエラー:\n  Connection refused (111)"
ANSWER = "確認いたします。少々お待ちください。"


@pytest.fixture
def desk(backend: str, databases: DatabaseFactory, clock: FakeClock) -> Iterator[LiveServer]:
    live = LiveServer(databases.new(backend), clock=clock).start()
    yield live
    live.stop()
    databases.release(live.database_url)


async def chatting(
    server: LiveServer, stack: AsyncExitStack, operator_ws: Socket, time_zone: str | None
) -> tuple[Visitor, dict[str, Any]]:
    """A visitor (whose browser said ``time_zone``) chatting with the operator of ``operator_ws``."""
    visitor = await stack.enter_async_context(Visitor(server.url))
    context = {"time_zone": time_zone} if time_zone else None
    conv = await visitor.start(message=QUESTION, context=context)
    assert (await operator_ws.expect("assigned"))["conversation"]["id"] == conv["id"]
    return visitor, conv


async def say(
    who: Operator | Visitor, conv: dict[str, Any], body: str, kind: str = "messages"
) -> None:
    side = "agent" if isinstance(who, Operator) else "visitor"
    response = await who.http.post(
        f"/api/v1/{side}/conversations/{conv['id']}/{kind}",
        json={"client_id": str(uuid.uuid4()), "body": body},
    )
    assert response.status_code == 201, response.text


def visitor_path(conv: dict[str, Any]) -> str:
    return f"/api/v1/visitor/conversations/{conv['id']}/transcript"


def agent_path(conv: dict[str, Any]) -> str:
    return f"/api/v1/agent/conversations/{conv['id']}/transcript"


def error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def test_the_visitor_downloads_their_chat_in_their_time_zone_without_notes(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "佐藤")
    visitor, conv = await chatting(desk, stack, sato_ws, "Asia/Tokyo")
    await say(sato, conv, NOTE, kind="notes")
    await say(sato, conv, ANSWER)

    got = await visitor.http.get(visitor_path(conv))

    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "text/plain; charset=utf-8"
    assert got.headers["content-disposition"] == (
        f'attachment; filename="chat-2026-04-01-{conv["id"]}.txt"'
    )
    assert got.headers["cache-control"] == "no-store"
    text = got.content.decode("utf-8")
    assert text.startswith("madoguchi チャット履歴\n日付：2026-04-01\nタイムゾーン：Asia/Tokyo\n")
    assert "お問い合わせ内容：技術的な質問\nオペレーター：佐藤\n" in text
    assert f"お問い合わせ番号：{conv['id']}\n" in text
    # The clock stands at 09:00 UTC: 18:00 in Tokyo. Lines of a message stay, indented.
    assert (
        "[18:00] あなた: サーバーに接続できません。\n        エラー:\n          Connection refused (111)\n"
        in text
    )
    assert f"[18:00] 佐藤: {ANSWER}\n" in text
    assert NOTE not in text
    # Another zone asked for: the same moments, Berlin's clock.
    berlin = await visitor.http.get(visitor_path(conv), params={"tz": "Europe/Berlin"})
    assert "タイムゾーン：Europe/Berlin\n" in berlin.text
    assert f"[11:00] 佐藤: {ANSWER}\n" in berlin.text


async def test_without_a_time_zone_from_the_browser_the_visitor_reads_utc(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    _, sato_ws = await online(desk, stack, "佐藤")
    visitor, conv = await chatting(desk, stack, sato_ws, None)
    text = (await visitor.http.get(visitor_path(conv))).text
    assert "タイムゾーン：UTC\n" in text
    assert "[09:00] あなた: サーバーに接続できません。" in text
    # A browser that reported nonsense is not the visitor's fault: UTC too.
    other, odd = await chatting(desk, stack, sato_ws, "Not/AZone")
    assert "タイムゾーン：UTC\n" in (await other.http.get(visitor_path(odd))).text


async def test_an_operator_downloads_in_their_language_and_zone_before_and_after_the_end(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato")
    _, conv = await chatting(desk, stack, sato_ws, "Asia/Tokyo")
    await say(sato, conv, NOTE, kind="notes")
    await say(sato, conv, ANSWER)
    during = await sato.http.get(agent_path(conv), params={"lang": "en", "tz": "Europe/Berlin"})
    ended = await sato.http.post(
        f"/api/v1/agent/conversations/{conv['id']}/end", json={"reason": "resolved"}
    )
    assert ended.status_code == 200, ended.text

    after = await sato.http.get(agent_path(conv), params={"lang": "en"})

    assert during.status_code == after.status_code == 200
    assert during.text.startswith(
        "madoguchi chat transcript\nDate: 2026-04-01\nTime zone: Europe/Berlin\n"
    )
    assert "Topic: I need technical support\nOperators: Sato\n" in during.text
    assert "[11:00] Visitor: サーバーに接続できません。" in during.text
    assert NOTE not in during.text
    assert NOTE not in after.text
    assert "Time zone: UTC\n" in after.text  # an operator's default
    assert after.text.endswith("[09:00] * Chat ended: Resolved\n")
    # Without lang: the desk's default language (ja).
    assert (await sato.http.get(agent_path(conv))).text.startswith("madoguchi チャット履歴\n")


async def test_supervisors_read_any_chat_and_operators_only_those_they_may_see(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    _, sato_ws = await online(desk, stack, "Sato")
    _, conv = await chatting(desk, stack, sato_ws, None)
    boss, _ = await online(desk, stack, "Boss", role="supervisor", departments=["sales"])
    tanaka, _ = await online(desk, stack, "Tanaka", departments=["sales"])
    suzuki, _ = await online(desk, stack, "Suzuki")  # support, but the chat is Sato's

    assert (await boss.http.get(agent_path(conv))).status_code == 200
    assert error(await tanaka.http.get(agent_path(conv))) == (403, "forbidden")
    assert error(await suzuki.http.get(agent_path(conv))) == (403, "forbidden")


async def test_every_bad_request_gets_its_status_and_code(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato")
    visitor, conv = await chatting(desk, stack, sato_ws, "Asia/Tokyo")
    stranger = await stack.enter_async_context(Visitor(desk.url))
    anonymous = await stack.enter_async_context(httpx.AsyncClient(base_url=desk.url))
    missing = {"id": "c_doesnotexist"}

    for bad in ("Mars/Olympus", "", "../../etc/passwd", "x" * 200):
        assert error(await visitor.http.get(visitor_path(conv), params={"tz": bad})) == (
            400,
            "bad_time_zone",
        ), bad
        assert error(await sato.http.get(agent_path(conv), params={"tz": bad})) == (
            400,
            "bad_time_zone",
        )
    assert error(await sato.http.get(agent_path(conv), params={"lang": "xx"})) == (
        400,
        "unknown_language",
    )
    # A visitor reads only their own: another's is "not found", as one that does not exist.
    assert error(await stranger.http.get(visitor_path(conv))) == (404, "not_found")
    assert error(await visitor.http.get(visitor_path(missing))) == (404, "not_found")
    assert error(await sato.http.get(agent_path(missing))) == (404, "not_found")
    assert error(await anonymous.get(visitor_path(conv))) == (401, "unauthorized")
    bad_token = {"Authorization": "Bearer not-a-token"}
    assert error(await anonymous.get(visitor_path(conv), headers=bad_token)) == (
        401,
        "unauthorized",
    )
    assert error(await anonymous.get(agent_path(conv))) == (401, "unauthorized")
    assert error(await visitor.http.post(visitor_path(conv))) == (405, "method_not_allowed")


async def test_after_retention_erased_the_chat_there_is_no_transcript(
    desk: LiveServer, stack: AsyncExitStack
) -> None:
    sato, sato_ws = await online(desk, stack, "Sato")
    visitor, conv = await chatting(desk, stack, sato_ws, "Asia/Tokyo")
    ended = await visitor.http.post(f"/api/v1/visitor/conversations/{conv['id']}/end", json={})
    assert ended.status_code == 200
    assert (await visitor.http.get(visitor_path(conv))).status_code == 200  # the window is open

    assert desk.call(retention.do_erase, desk.desk, conv["id"]) is True

    assert error(await visitor.http.get(visitor_path(conv))) == (410, "erased")
    assert error(await sato.http.get(agent_path(conv))) == (410, "erased")


async def test_a_long_chat_is_read_page_by_page_to_its_end(
    desk: LiveServer, stack: AsyncExitStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages of two events instead of a thousand: the same loop, with a chat of a few lines.
    monkeypatch.setattr(transcript, "_PAGE", 2)
    sato, sato_ws = await online(desk, stack, "Sato")
    visitor, conv = await chatting(desk, stack, sato_ws, None)
    for n in range(1, 6):
        await say(sato if n % 2 else visitor, conv, f"line {n}")

    text = (await visitor.http.get(visitor_path(conv))).text

    lines = [line.split("] ", 1)[1] for line in text.splitlines() if line.startswith("[")]
    assert lines[-5:] == [
        "Sato: line 1",
        "あなた: line 2",
        "Sato: line 3",
        "あなた: line 4",
        "Sato: line 5",
    ]
