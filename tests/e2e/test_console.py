"""The operator's side: manual accept from the queue, ending with a reason, reloads (SPEC A1, A3, A7, V10)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, expect

from .actors import Operator, Visitor

LOCALES = Path(__file__).resolve().parents[2] / "src" / "madoguchi" / "locales"


def catalog(lang: str) -> dict[str, str]:
    return json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))


def test_sales_chat_is_accepted_from_the_queue(
    visitor: Visitor, make_operator: Callable[..., Operator]
) -> None:
    operator = make_operator(name="田中", departments=["sales"])
    visitor.open_chat().start(
        "営業担当へのご相談", message="法人向けプランの見積もりをお願いします。", member_id="SKR-1"
    )
    expect(visitor.frame.locator("#chat-status")).to_contain_text("おつなぎしています")

    item = operator.page.locator(".queue-item").filter(has_text="営業担当へのご相談")
    expect(item).to_contain_text(
        "法人向けプランの見積もりをお願いします。"
    )  # first message preview
    expect(item).to_contain_text("日本語")
    expect(item).to_contain_text("SKR-1")
    expect(item.locator(".qi-waited")).to_have_text("たった今")
    item.get_by_role("button", name="受け付ける").click()

    expect(operator.page.locator(".queue-item")).to_have_count(0)
    expect(operator.page.get_by_role("tab")).to_have_count(1)
    expect(operator.messages.first).to_contain_text("法人向けプランの見積もりをお願いします。")
    expect(visitor.frame.locator("#chat-status")).to_have_text("田中が対応いたします")
    expect(visitor.frame.locator("li.system--assigned")).to_contain_text(
        "田中がチャットに参加しました"
    )
    operator.send("担当の田中です。ご相談ありがとうございます。")
    expect(visitor.messages.last).to_contain_text("担当の田中です。")


@pytest.mark.parametrize(
    ("locale", "lang", "topic", "start"),
    [
        ("ja-JP", "ja", "技術的な質問", "チャットを開始"),
        ("en-US", "en", "I need technical support", "Start chat"),
    ],
)
def test_operator_ends_with_a_reason_and_the_visitor_reads_why(
    live_server: Any,
    visitor_context: Callable[..., BrowserContext],
    make_operator: Callable[..., Operator],
    locale: str,
    lang: str,
    topic: str,
    start: str,
) -> None:
    operator = make_operator()
    visitor = (
        Visitor(visitor_context(locale=locale).new_page(), live_server).open_demo().open_chat()
    )
    visitor.start(topic, message="hello", start=start)
    expect(operator.messages.first).to_contain_text("hello")

    operator.pane.get_by_role("button", name="チャットを終了").click()
    expect(
        operator.pane.locator(".end-controls .field-error")
    ).to_be_visible()  # a reason is required
    operator.pane.get_by_label("終了理由").select_option("no_reply")
    operator.pane.get_by_role("button", name="チャットを終了").click()

    words = catalog(lang)
    expect(visitor.frame.locator("li.system--ended")).to_contain_text(words["ended.no_reply"])
    expect(visitor.composer).to_have_count(0)
    expect(visitor.frame.get_by_role("button", name=words["chat.new_conversation"])).to_be_focused()
    # With the ended panel up, the visitor reads why exactly once: in the transcript, not again below.
    expect(visitor.frame.get_by_text(words["ended.no_reply"], exact=True)).to_have_count(1)
    expect(operator.pane.locator(".ended-note")).to_contain_text("お客様からの返信なし")

    # A new conversation starts from the topics again.
    visitor.frame.get_by_role("button", name=words["chat.new_conversation"]).click()
    expect(visitor.frame.get_by_role("heading", name=words["topics.title"])).to_be_visible()


def test_visitor_ends_the_chat_after_confirming(
    visitor: Visitor, make_operator: Callable[..., Operator]
) -> None:
    operator = make_operator()
    visitor.open_chat().start("技術的な質問", message="テスト")
    expect(operator.messages.first).to_contain_text("テスト")
    visitor.frame.get_by_role("button", name="チャットを終了").click()
    dialog = visitor.frame.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="キャンセル").click()
    expect(dialog).to_be_hidden()
    expect(visitor.composer).to_be_visible()
    visitor.frame.get_by_role("button", name="チャットを終了").click()
    visitor.frame.get_by_role("dialog").get_by_role("button", name="チャットを終了").click()
    expect(visitor.frame.locator("li.system--ended .system-text")).to_have_text(
        catalog("ja")["ended.visitor_left"]
    )
    expect(operator.pane.locator(".ended-note")).to_contain_text("お客様が終了")


def test_visitor_reload_shows_the_same_history_once(
    visitor: Visitor, make_operator: Callable[..., Operator]
) -> None:
    operator = make_operator()
    visitor.open_chat().start("技術的な質問", message="最初のメッセージ")
    expect(operator.messages.first).to_contain_text("最初のメッセージ")
    operator.send("オペレーターの返信")
    expect(visitor.messages.last).to_contain_text("オペレーターの返信")
    visitor.send("二通目")
    expect(operator.messages.last).to_contain_text("二通目")
    # Sent right before the reload: it is in the outbox or already stored, and shows once either way.
    visitor.composer.fill("リロード直前")
    visitor.composer.press("Enter")
    visitor.page.reload()

    visitor.open_chat()
    expect(visitor.messages).to_have_count(4)
    expect(visitor.frame.locator(".msg--pending")).to_have_count(0)
    expect(visitor.messages.last).to_contain_text("リロード直前")
    expect(operator.messages.last).to_contain_text("リロード直前")
    texts = [t.strip() for t in visitor.messages.locator(".body").all_inner_texts()]
    assert texts == ["最初のメッセージ", "オペレーターの返信", "二通目", "リロード直前"]
    expect(visitor.frame.locator("li.system--created")).to_have_count(1)
    expect(visitor.frame.locator("li.system--assigned")).to_have_count(1)
    seqs = visitor.frame.locator("ol.messages > li[data-seq]").evaluate_all(
        "els => els.map(e => e.dataset.seq)"
    )
    assert len(seqs) == len(set(seqs))
    expect(operator.messages).to_have_count(4)

    # The conversation goes on after the reload.
    visitor.send("リロード後")
    expect(operator.messages.last).to_contain_text("リロード後")


def test_console_reload_brings_the_chat_back(
    visitor: Visitor, make_operator: Callable[..., Operator]
) -> None:
    operator = make_operator()
    visitor.open_chat().start("技術的な質問", message="一通目", member_id="SKR-9")
    expect(operator.messages.first).to_contain_text("一通目")
    operator.send("返信です")
    expect(visitor.messages.last).to_contain_text("返信です")

    operator.page.reload()
    expect(operator.page.get_by_role("tab")).to_have_count(1)
    expect(operator.page.get_by_role("tab")).to_contain_text("SKR-9")
    expect(operator.messages).to_have_count(2)
    texts = [t.strip() for t in operator.messages.locator(".body").all_inner_texts()]
    assert texts == ["一通目", "返信です"]

    visitor.send("リロード後のメッセージ")
    expect(operator.messages.last).to_contain_text("リロード後のメッセージ")
    operator.send("届いています")
    expect(visitor.messages.last).to_contain_text("届いています")


def test_one_operator_holds_two_chats_in_tabs(
    live_server: Any,
    visitor_context: Callable[..., BrowserContext],
    make_operator: Callable[..., Operator],
) -> None:
    operator = make_operator()
    first = Visitor(visitor_context().new_page(), live_server).open_demo().open_chat()
    first.start("技術的な質問", message="一人目の質問", member_id="SKR-1")
    expect(operator.page.get_by_role("tab")).to_have_count(1)
    second = Visitor(visitor_context().new_page(), live_server).open_demo().open_chat()
    second.start("お支払いに関する質問", message="二人目の質問", member_id="SKR-2")
    tabs = operator.page.get_by_role("tab")
    expect(tabs).to_have_count(2)
    one = tabs.filter(has_text="SKR-1")
    two = tabs.filter(has_text="SKR-2")

    two.click()
    expect(two).to_have_attribute("aria-selected", "true")
    expect(operator.messages.first).to_contain_text("二人目の質問")
    operator.send("二人目への返信")
    expect(second.messages.last).to_contain_text("二人目への返信")

    # While the second chat is on screen, the first visitor writes: an unread mark on its tab.
    first.send("一人目の追加")
    expect(one.locator(".unread")).to_have_text("1")
    one.click()
    expect(one.locator(".unread")).to_have_count(0)
    expect(operator.messages.last).to_contain_text("一人目の追加")
    operator.send("一人目への返信")
    expect(first.messages.last).to_contain_text("一人目への返信")
    # Each visitor saw only their own conversation.
    expect(first.messages.filter(has_text="二人目")).to_have_count(0)
    expect(second.messages.filter(has_text="一人目")).to_have_count(0)
