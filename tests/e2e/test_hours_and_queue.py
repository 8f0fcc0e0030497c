"""The widget before and while a chat waits: hours, busy, the queue, no operator in time
(SPEC V7, V8, P1, P5, P7, R2)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from clock import FakeClock
from conftest import PASSWORD, TEST_CONFIG, DatabaseFactory, LiveServer

from .actors import Operator, Visitor

LOCALES = Path(__file__).resolve().parents[2] / "src" / "madoguchi" / "locales"

# Support keeps at most 2 chats waiting and gives up on one after 10 minutes; sales answers in
# Japanese only, on Tokyo weekdays 10:00–18:00. The clock starts on Wednesday 2026-04-01 at
# 09:00 UTC, 18:00 in Tokyo: sales has just closed, and opens again on Thursday at 01:00 UTC.
CONFIG = (
    TEST_CONFIG.replace(
        'routing = "least-active"',
        'routing = "least-active"\nmax_wait_minutes = 10\nmax_queue = 2',
    ).replace(
        'routing = "manual"',
        'routing = "manual"\nhours = { ja = "tokyo-office" }',
    )
    + '\n[hours.tokyo-office]\ntime_zone = "Asia/Tokyo"\nweekdays = ["10:00-18:00"]\n'
    'holidays = "JP"\n'
)


def words(lang: str) -> dict[str, Any]:
    return json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def desk(databases: DatabaseFactory, clock: FakeClock) -> Iterator[LiveServer]:
    live = LiveServer(databases.new("sqlite"), config=CONFIG, clock=clock).start()
    yield live
    live.stop()


def start_api_chat(server: LiveServer, message: str = "こんにちは") -> str:
    """A chat started through the REST API alone, by a visitor we do not need to see."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        token = client.post("/api/v1/visitor/session", json={}).json()["token"]
        response = client.post(
            "/api/v1/visitor/conversations",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "topic": "technical",
                "language": "ja",
                "consent": True,
                "message": {"client_id": str(uuid.uuid4()), "body": message},
            },
        )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@contextmanager
def operator_api(server: LiveServer, **kw: Any) -> Iterator[httpx.Client]:
    """An operator logged in through the REST API (no console, so never online)."""
    account = server.create_operator(**kw)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        login = client.post(
            "/api/v1/agent/login", json={"email": account["email"], "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        yield client


def test_outside_hours_the_visitor_sees_the_hours_in_their_time_zone_and_leaves_a_message(
    desk: LiveServer, visitor_context: Callable[..., BrowserContext]
) -> None:
    ja = words("ja")
    page = visitor_context(locale="ja-JP", timezone_id="Europe/Berlin").new_page()
    visitor = Visitor(page, desk).open_demo().open_chat()
    sales = visitor.frame.get_by_role("button", name="営業担当へのご相談")
    # Before choosing, the topic says it is closed and when it opens: Thursday 01:00 UTC is
    # 03:00 in Berlin (summer time since 29 March).
    expect(sales).to_have_accessible_description(
        re.compile(r"受付時間外です（4月2日\(木\) 3:00から受付）")
    )
    expect(
        visitor.frame.get_by_role("button", name="技術的な質問")
    ).not_to_have_accessible_description(re.compile("受付時間外"))
    sales.click()

    frame = visitor.frame
    expect(frame.get_by_role("heading", name=ja["hours.closed_title"])).to_be_visible()
    expect(frame.get_by_text("Europe/Berlin")).to_be_visible()
    # Tokyo's weekdays 10:00–18:00 are 3:00–11:00 in Berlin; no chat at the weekend.
    hours = frame.get_by_role("region", name="日本語")
    expect(hours.locator("dt")).to_have_text(
        ["4月2日木曜日", "4月3日金曜日", "4月6日月曜日", "4月7日火曜日", "4月8日水曜日"]
    )
    expect(hours.locator("dd")).to_have_text(["3:00～11:00"] * 5)

    form = frame.get_by_role("form", name=ja["leave.title"])
    form.get_by_label("お名前").fill("山田 太郎")
    form.get_by_label("メールアドレス").fill("taro@")
    form.get_by_label("お問い合わせ内容").fill("見積もりをお願いします")
    form.get_by_role("button", name=ja["leave.send"]).click()
    # Consent first (asked of everyone), then the server's word on the address.
    expect(form.locator("#leave-consent-error")).to_have_text(ja["error.consent_required"])
    form.get_by_role("checkbox").check()
    form.get_by_role("button", name=ja["leave.send"]).click()
    email = form.get_by_label("メールアドレス")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(ja["error.bad_email"])
    expect(email).to_be_focused()
    expect(form.get_by_label("お名前")).to_have_value("山田 太郎")  # nothing typed is lost
    email.fill("taro@example.jp")
    form.get_by_role("button", name=ja["leave.send"]).click()

    expect(frame.get_by_role("heading", name=ja["leave.thanks_title"])).to_be_visible()
    expect(frame.get_by_text("taro@example.jp 宛てにメールでご回答いたします。")).to_be_visible()

    # The message waits for an operator of sales, with the address to answer.
    with operator_api(desk, name="営業", departments=["sales"]) as operator:
        listed = operator.get("/api/v1/agent/offline-messages").json()["conversations"]
        assert [listed[0]["id"]] == [m["id"] for m in listed]
        events = operator.get(f"/api/v1/agent/conversations/{listed[0]['id']}/events").json()
    message = listed[0]
    assert (message["topic"], message["status"]) == ("sales", "offline")
    assert message["prechat"]["name"] == "山田 太郎"
    assert message["prechat"]["email"] == "taro@example.jp"
    assert message["context"]["time_zone"] == "Europe/Berlin"
    assert [e["body"] for e in events["events"] if e["kind"] == "message"] == [
        "見積もりをお願いします"
    ]


def test_a_topic_not_served_in_the_visitors_language_says_which_are_and_when(
    desk: LiveServer, visitor_context: Callable[..., BrowserContext]
) -> None:
    en = words("en")
    page = visitor_context(locale="en-US", timezone_id="America/New_York").new_page()
    visitor = Visitor(page, desk).open_demo().open_chat("Chat with us")
    visitor.frame.get_by_role("button", name="I would like to talk to sales").click()
    frame = visitor.frame
    expect(frame.get_by_role("heading", name="Not available in English")).to_be_visible()
    expect(frame.get_by_text("Chat on this topic is available in 日本語.")).to_be_visible()
    expect(frame.get_by_text("Eastern Time (America/New_York)")).to_be_visible()
    # 10:00–18:00 in Tokyo is an evening into the next morning in New York, shown as one span
    # under the day it starts; Monday morning in Tokyo is Sunday evening here.
    hours = frame.get_by_role("region", name="日本語")
    days = ["Wednesday, April 1", "Thursday, April 2", "Sunday, April 5", "Monday, April 6"]
    expect(hours.locator("dt")).to_have_text([*days, "Tuesday, April 7"])
    expect(hours.locator("dd")).to_have_text(["9:00 PM – 5:00 AM (next day)"] * 5)
    expect(frame.get_by_role("form", name=en["leave.title"])).to_be_visible()


def test_a_queued_visitor_sees_their_place_go_from_2_to_1(
    desk: LiveServer,
    clock: FakeClock,
    visitor_context: Callable[..., BrowserContext],
    watched_context: Callable[..., BrowserContext],
) -> None:
    ja = words("ja")
    first = Visitor(visitor_context().new_page(), desk).open_demo().open_chat()
    first.start("技術的な質問", message="メールが届きません")
    expect(first.frame.get_by_text(ja["waiting.kind"])).to_be_visible()
    expect(first.frame.locator("#chat-waiting-place")).to_contain_text(
        "ただいま1番目にお待ちいただいています"
    )

    clock.advance(seconds=30)  # the queue is in order of arrival; at one instant, of chance
    second = Visitor(visitor_context().new_page(), desk).open_demo().open_chat()
    second.start("技術的な質問", message="SSL証明書について")
    panel = second.frame.get_by_role("region", name=ja["waiting.label"])
    place = panel.locator("#chat-waiting-place")
    expect(place).to_have_attribute("aria-live", "polite")
    # Nobody is online: no estimate, said honestly.
    expect(place).to_have_text("ただいま2番目にお待ちいただいています" + ja["waiting.nobody"])

    first.frame.get_by_role("button", name="チャットを終了").click()
    first.frame.locator("#end-dialog").get_by_role("button", name="チャットを終了").click()
    expect(first.frame.get_by_role("button", name=ja["chat.new_conversation"])).to_be_visible()
    expect(place).to_contain_text("ただいま1番目にお待ちいただいています")

    # An operator comes online: the chat is theirs at once, and the panel goes.
    account = desk.create_operator(name="佐藤")
    console = watched_context(locale="ja-JP", viewport={"width": 1280, "height": 800}).new_page()
    Operator(console, desk, account).login().go_online()
    expect(second.frame.locator("#chat-status")).to_have_text("佐藤が対応いたします")
    expect(panel).to_have_count(0)


def test_a_full_queue_says_busy_before_the_visitor_types(
    desk: LiveServer, visitor_context: Callable[..., BrowserContext]
) -> None:
    en = words("en")
    for _ in range(2):
        start_api_chat(desk)
    visitor = Visitor(visitor_context(locale="en-US").new_page(), desk).open_demo()
    visitor.open_chat("Chat with us")
    technical = visitor.frame.get_by_role("button", name="I need technical support")
    expect(technical).to_have_accessible_description(en["topics.busy"])
    # Sales answers in Japanese only (P7): the English visitor is told so before choosing.
    expect(
        visitor.frame.get_by_role("button", name="I would like to talk to sales")
    ).to_have_accessible_description("Available in 日本語")
    technical.click()
    expect(visitor.frame.get_by_role("heading", name=en["busy.title"])).to_be_visible()
    expect(visitor.frame.get_by_text(en["busy.lead"])).to_be_visible()
    expect(visitor.frame.get_by_role("form", name=en["leave.title"])).to_be_visible()
    visitor.frame.get_by_role("button", name=en["busy.retry"]).click()
    expect(visitor.frame.get_by_role("status").filter(has_text=en["busy.still"])).to_be_visible()


def test_a_form_left_open_past_a_full_queue_keeps_what_was_typed(
    desk: LiveServer, visitor_context: Callable[..., BrowserContext]
) -> None:
    en = words("en")
    visitor = Visitor(visitor_context(locale="en-US").new_page(), desk).open_demo()
    visitor.open_chat("Chat with us")
    visitor.frame.get_by_role("button", name="I need technical support").click()
    visitor.frame.locator("#prechat-message").fill("My site shows a 500 error")
    visitor.frame.locator("#prechat-consent").check()
    for _ in range(2):  # meanwhile, the queue fills up
        start_api_chat(desk)
    visitor.frame.get_by_role("button", name="Start chat").click()
    expect(visitor.frame.get_by_role("heading", name=en["busy.title"])).to_be_visible()
    expect(visitor.frame.get_by_label("Your message")).to_have_value("My site shows a 500 error")
    expect(visitor.frame.get_by_role("checkbox")).to_be_checked()


def test_no_operator_in_time_turns_the_chat_into_a_kept_message(
    desk: LiveServer, clock: FakeClock, visitor_context: Callable[..., BrowserContext]
) -> None:
    ja = words("ja")
    visitor = Visitor(visitor_context().new_page(), desk).open_demo().open_chat()
    visitor.start("技術的な質問", message="ドメインの更新について")
    expect(visitor.frame.locator("#chat-waiting")).to_be_visible()
    clock.advance(timedelta(minutes=10))
    desk.call(desk.app.state.scheduler.run_due)
    expect(visitor.frame.locator("li.system--offline")).to_contain_text(ja["offline.no_operator"])
    expect(visitor.frame.locator("#chat-status")).to_have_text(ja["status.offline"])
    expect(visitor.frame.locator("#chat-waiting")).to_have_count(0)
    expect(visitor.composer).to_have_count(0)
    expect(visitor.frame.get_by_role("button", name=ja["chat.new_conversation"])).to_be_focused()
    # The message is still there to be answered, and a reload shows it the same way.
    expect(visitor.messages.first).to_contain_text("ドメインの更新について")
    visitor.page.reload()
    visitor.open_chat()
    expect(visitor.frame.locator("li.system--offline")).to_contain_text(ja["offline.no_operator"])


def test_the_topics_say_how_soon_the_desk_usually_replies(
    desk: LiveServer, clock: FakeClock, visitor_context: Callable[..., BrowserContext]
) -> None:
    with operator_api(desk, name="佐藤") as operator:
        for seconds in (95, 100, 140):  # the median, 100 s, is "about 2 minutes"
            conv_id = start_api_chat(desk)
            clock.advance(seconds=seconds)
            accepted = operator.post(f"/api/v1/agent/conversations/{conv_id}/accept")
            assert accepted.status_code == 200, accepted.text
            reply = {"client_id": str(uuid.uuid4()), "body": "お待たせいたしました"}
            sent = operator.post(f"/api/v1/agent/conversations/{conv_id}/messages", json=reply)
            assert sent.status_code == 201, sent.text
            ended = operator.post(
                f"/api/v1/agent/conversations/{conv_id}/end", json={"reason": "resolved"}
            )
            assert ended.status_code == 200, ended.text
    visitor = Visitor(visitor_context(locale="en-US").new_page(), desk).open_demo()
    visitor.open_chat("Chat with us")
    expect(visitor.frame.locator("#topics-typical")).to_have_text(
        "We usually reply in about 2 minutes"
    )
