"""Offers and offline messages in the console (SPEC A3, V8, P5): never to the wrong person.

The desk offers each support chat for 30 s. The server's clock is a FakeClock started at the real
time, so the browsers' countdowns make sense and an offer lapses only when a test says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, expect

from clock import FakeClock
from conftest import TEST_CONFIG, DatabaseFactory, LiveServer

from .actors import Operator, Visitor

CONFIG = TEST_CONFIG.replace(
    'routing = "least-active"',
    'routing = "least-active"\noffer_seconds = 30\nmax_wait_minutes = 10',
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def live_server(databases: DatabaseFactory, clock: FakeClock) -> Iterator[LiveServer]:
    """This module's node: offers on, on the fake clock (the e2e fixtures use it)."""
    live = LiveServer(databases.new("sqlite"), config=CONFIG, clock=clock).start()
    yield live
    live.stop()


def catch_up(clock: FakeClock) -> None:
    """Bring the stopped server clock to the browsers' time, so a new offer has its full 30 s."""
    clock.set(datetime.now(UTC))


def fire_timers(server: LiveServer, clock: FakeClock, seconds: float) -> None:
    clock.advance(seconds=seconds)
    server.call(server.app.state.scheduler.run_due)


def start_chat(server: LiveServer, clock: FakeClock, message: str, **fields: Any) -> dict[str, Any]:
    """A visitor starts a support chat in Japanese through the API (the widget's own calls)."""
    catch_up(clock)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        token = http.post("/api/v1/visitor/session", json={}).json()["token"]
        body = {
            "topic": "technical",
            "language": "ja",
            "consent": True,
            "message": {"client_id": "first", "body": message},
            **fields,
        }
        response = http.post(
            "/api/v1/visitor/conversations", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result


def offer_card(operator: Operator) -> Locator:
    return operator.page.locator(".offer-card")


def notice(operator: Operator) -> Locator:
    return operator.page.locator(".offer-notice")


def countdown_seconds(card: Locator) -> int:
    text = card.locator(".offer-countdown").inner_text()
    found = re.fullmatch(r"あと(\d+)秒以内に受け付けてください", text)
    assert found, text
    return int(found.group(1))


def test_going_offline_moves_the_offered_chat_to_another_operator(
    visitor: Visitor, clock: FakeClock, make_operator: Callable[..., Operator]
) -> None:
    sato = make_operator(name="佐藤")
    suzuki = make_operator(name="鈴木", online=False)
    visitor.open_chat()
    catch_up(clock)
    visitor.start("技術的な質問", message="サーバーに接続できません", member_id="SKR-7")

    card = offer_card(sato)
    expect(card).to_contain_text("技術的な質問")
    expect(card).to_contain_text("日本語")
    expect(card).to_contain_text("テクニカルサポート")
    expect(card).to_contain_text("SKR-7")
    expect(card.locator(".qi-preview")).to_have_text("サーバーに接続できません")
    # The countdown runs from the server's expires_at on the browser's clock.
    first = countdown_seconds(card)
    assert 5 <= first <= 30  # never more than the 30 s it was given, never negative
    expect(card.locator(".offer-countdown")).not_to_have_text(
        f"あと{first}秒以内に受け付けてください"
    )
    assert countdown_seconds(card) < first
    # It is mine to accept, so it is not also in my waiting list.
    expect(sato.page.locator(".queue-item")).to_have_count(0)
    # A reload shows it again (the welcome frame lists my offers).
    sato.page.reload()
    expect(card).to_contain_text("サーバーに接続できません")

    # Suzuki comes online: the chat waits for Sato, so Suzuki sees it queued but not offered.
    suzuki.go_online()
    expect(suzuki.page.locator(".queue-item")).to_have_count(1)
    expect(offer_card(suzuki)).to_have_count(0)

    sato.page.locator("#presence").select_option("offline")
    expect(card).to_have_count(0)
    expect(notice(sato)).to_contain_text(
        "離席中またはオフラインになったため、別のオペレーターに移りました。"
    )
    other = offer_card(suzuki)
    expect(other).to_contain_text("サーバーに接続できません")
    expect(suzuki.page.locator(".queue-item")).to_have_count(0)
    other.get_by_role("button", name="受け付ける").click()

    expect(other).to_have_count(0)
    expect(suzuki.page.get_by_role("tab")).to_have_count(1)
    expect(suzuki.messages.first).to_contain_text("サーバーに接続できません")
    expect(suzuki.composer).to_be_focused()
    expect(visitor.frame.locator("li.system--assigned")).to_contain_text(
        "鈴木がチャットに参加しました"
    )


def test_a_lapsed_offer_moves_on_and_the_next_one_sees_it_taken(
    live_server: LiveServer, clock: FakeClock, make_operator: Callable[..., Operator]
) -> None:
    sato = make_operator(name="佐藤")
    start_chat(live_server, clock, "ドメインの更新について")
    expect(offer_card(sato)).to_contain_text("ドメインの更新について")
    suzuki = make_operator(name="鈴木")
    expect(suzuki.page.locator(".queue-item")).to_have_count(1)

    fire_timers(live_server, clock, 30)
    expect(offer_card(sato)).to_have_count(0)
    expect(notice(sato)).to_contain_text(
        "時間内に受け付けられなかったため、別のオペレーターに移りました。"
    )
    expect(offer_card(suzuki)).to_contain_text("ドメインの更新について")

    # Sato may still take it from the waiting list; the offer to Suzuki goes, and says why.
    sato.page.locator(".queue-item").get_by_role("button", name="受け付ける").click()
    expect(sato.page.get_by_role("tab")).to_have_count(1)
    expect(offer_card(suzuki)).to_have_count(0)
    expect(notice(suzuki)).to_contain_text("別のオペレーターがこのチャットを受け付けました。")


def test_declining_says_so_and_leaves_the_chat_in_the_queue(
    live_server: LiveServer, clock: FakeClock, make_operator: Callable[..., Operator]
) -> None:
    sato = make_operator(name="Sato", locale="en-US")
    start_chat(live_server, clock, "My site shows a 500 error")
    card = offer_card(sato)
    expect(card).to_contain_text("I need technical support")
    expect(card.locator(".offer-countdown")).to_have_text(re.compile(r"^Accept within \d+ s$"))
    card.get_by_role("button", name="Decline").click()

    expect(card).to_have_count(0)
    expect(notice(sato)).to_contain_text("You declined this chat; it goes to another operator.")
    # Nobody else is online: it waits, and anyone (Sato too) may still take it.
    item = sato.page.locator(".queue-item")
    expect(item).to_contain_text("My site shows a 500 error")
    notice(sato).get_by_role("button", name="Dismiss").click()
    expect(notice(sato)).to_have_count(0)


def test_offline_messages_are_listed_and_read_with_how_to_answer(
    live_server: LiveServer, clock: FakeClock, make_operator: Callable[..., Operator]
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        token = http.post("/api/v1/visitor/session", json={}).json()["token"]
        left = http.post(
            "/api/v1/visitor/offline-messages",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "topic": "billing",
                "language": "ja",
                "consent": True,
                "name": "山田 太郎",
                "email": "taro@example.jp",
                "message": {"client_id": "m1", "body": "請求書の宛名を変更したいです"},
            },
        )
        assert left.status_code == 201, left.text
    sato = make_operator(name="佐藤", online=False)
    section = sato.page.locator("section.offline")
    expect(section.locator("#offline-title .count")).to_have_text("1")
    item = section.get_by_role("button", name=re.compile("山田 太郎"))
    expect(item).to_contain_text("taro@example.jp")
    expect(item).to_contain_text("お支払いに関する質問")
    expect(item).to_contain_text("請求書の宛名を変更したいです")

    item.click()
    reader = sato.page.get_by_role("dialog", name="山田 太郎")
    expect(reader.locator("li.msg")).to_contain_text("請求書の宛名を変更したいです")
    expect(reader.locator("li.system--offline")).to_contain_text(
        "受付時間外または混雑時に、お客様がこのメッセージを残しました。"
    )
    # The answer goes by email from here (issue 5; tests/e2e/test_email_console.py sends one).
    expect(reader.get_by_label("メールで回答")).to_be_editable()
    expect(reader.locator(".reader-note")).to_contain_text("あてにメールで送信されます")
    mail = reader.locator(".reader-note").get_by_role("link", name="taro@example.jp")
    expect(mail).to_have_attribute("href", "mailto:taro@example.jp")
    reader.get_by_role("button", name="閉じる").click()
    expect(reader).to_be_hidden()
    expect(item).to_be_focused()

    # A chat nobody takes within max_wait_minutes leaves the queue and joins the list.
    start_chat(live_server, clock, "メールが届きません")
    expect(sato.page.locator(".queue-item")).to_contain_text("メールが届きません")
    fire_timers(live_server, clock, 10 * 60)
    expect(sato.page.locator(".queue-item")).to_have_count(0)
    expect(section.locator("#offline-title .count")).to_have_text("2")
    section.get_by_role("button", name=re.compile("メールが届きません")).click()
    reader = sato.page.get_by_role("dialog")
    expect(reader.locator("li.system--offline")).to_contain_text(
        "時間内に対応できるオペレーターがいなかったため、オフラインメッセージになりました。"
    )
    expect(reader.locator(".reader-note")).to_contain_text("メールアドレスを残していない")
