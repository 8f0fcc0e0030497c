"""Several conversations per visitor in the browser (SPEC V16): a technical question and a billing
one at once, the list of both, and a reply to the one not on screen marked unread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, expect

from .actors import Operator, Visitor

BACK = "お問い合わせ一覧に戻る"
BACK_UNREAD = "お問い合わせ一覧に戻る（未読のメッセージがあります）"


def item(visitor: Visitor, topic: str) -> Any:
    return visitor.frame.locator("#conversation-list").get_by_role("button", name=topic)


def test_a_visitor_asks_two_questions_and_sees_the_reply_to_the_other_marked_unread(
    live_server: Any,
    visitor_context: Callable[..., BrowserContext],
    make_operator: Callable[..., Operator],
) -> None:
    sato = make_operator("佐藤")
    visitor = Visitor(visitor_context().new_page(), live_server).open_demo().open_chat()
    visitor.start("技術的な質問", message="メールが送信できません")
    expect(visitor.frame.locator("#chat-status")).to_have_text("佐藤が対応いたします")

    # Something else to ask: back to the list, then a new question on billing.
    visitor.frame.get_by_role("button", name=BACK).click()
    expect(visitor.frame.get_by_role("heading", name="お問い合わせ一覧")).to_be_focused()
    expect(item(visitor, "技術的な質問")).to_contain_text("オペレーターが対応中")
    visitor.frame.get_by_role("button", name="新しいお問い合わせ").click()
    visitor.start("お支払いに関する質問", message="請求書の宛名を変更したいです")
    expect(visitor.messages.last).to_contain_text("請求書の宛名を変更したいです")

    visitor.frame.get_by_role("button", name=BACK).click()
    listed = visitor.frame.locator("#conversation-list > li")
    expect(listed).to_have_count(2)
    expect(listed.nth(0)).to_contain_text("お支払いに関する質問")
    expect(listed.nth(1)).to_contain_text("技術的な質問")
    expect(visitor.frame.locator(".conversation-unread")).to_have_count(0)

    # The billing question is on screen while the operator answers the technical one.
    item(visitor, "お支払いに関する質問").click()
    expect(visitor.messages.last).to_contain_text("請求書の宛名を変更したいです")
    sato.page.get_by_role("tab").filter(has_text="技術的な質問").click()
    expect(sato.messages.last).to_contain_text("メールが送信できません")
    sato.send("SMTPの設定を確認いたします")
    expect(visitor.frame.get_by_role("button", name=BACK_UNREAD)).to_be_visible()
    expect(visitor.messages.filter(has_text="SMTPの設定")).to_have_count(0)

    visitor.frame.get_by_role("button", name=BACK_UNREAD).click()
    expect(item(visitor, "技術的な質問")).to_contain_text("未読")
    expect(item(visitor, "お支払いに関する質問")).not_to_contain_text("未読")
    # A reload keeps what was read and what was not.
    visitor.page.reload()
    visitor.open_chat()
    expect(item(visitor, "技術的な質問")).to_contain_text("未読")

    item(visitor, "技術的な質問").click()
    expect(visitor.messages.last).to_contain_text("SMTPの設定を確認いたします")
    expect(visitor.messages.first).to_contain_text("メールが送信できません")
    visitor.send("ありがとうございます")
    expect(sato.messages.last).to_contain_text("ありがとうございます")
    visitor.frame.get_by_role("button", name=BACK).click()
    expect(visitor.frame.locator(".conversation-unread")).to_have_count(0)

    # The technical topic again: the open conversation on it, not a second one.
    visitor.frame.get_by_role("button", name="新しいお問い合わせ").click()
    visitor.frame.get_by_role("button", name="技術的な質問").click()
    expect(visitor.messages.last).to_contain_text("ありがとうございます")
    visitor.frame.get_by_role("button", name=BACK).click()
    expect(listed).to_have_count(2)


def test_a_second_tab_starting_the_same_topic_is_shown_the_open_conversation(
    live_server: Any, visitor_context: Callable[..., BrowserContext]
) -> None:
    """Two tabs of one browser share the visitor: the server's 409 `already_open` names the
    conversation the other tab started, and the widget shows it instead of a second one."""
    context = visitor_context()
    first = Visitor(context.new_page(), live_server).open_demo().open_chat()
    second = Visitor(context.new_page(), live_server).open_demo().open_chat()
    first.start("技術的な質問", message="一つ目のタブからの質問です")
    second.frame.get_by_role("button", name="技術的な質問").click()
    second.frame.locator("#prechat-message").fill("二つ目のタブからの質問です")
    second.frame.locator("#prechat-consent").check()
    second.frame.get_by_role("button", name="チャットを開始").click()
    expect(second.composer).to_be_visible()
    expect(second.messages.first).to_contain_text("一つ目のタブからの質問です")
    second.frame.get_by_role("button", name=BACK).click()
    expect(second.frame.locator("#conversation-list > li")).to_have_count(1)
