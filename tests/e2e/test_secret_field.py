"""The secret field (SPEC V15) in the browser: the visitor sends a password through the key
button, the operator reveals it once, sees it a few seconds, and then it is gone for both."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import expect

from conftest import TEST_CONFIG, DatabaseFactory, LiveServer

from .actors import Operator, Visitor

VALUE = "Zq9!xK7#vB3-ftp"


@pytest.fixture
def live_server(databases: DatabaseFactory) -> Iterator[LiveServer]:
    """The test desk, showing a revealed secret for 5 seconds."""
    live = LiveServer(
        databases.new("sqlite"), config=TEST_CONFIG + "\n[secrets]\nshow_seconds = 5\n"
    ).start()
    yield live
    live.stop()


def test_a_secret_is_sent_revealed_once_and_then_gone(
    visitor: Visitor, make_operator: Callable[..., Operator]
) -> None:
    operator = make_operator(name="佐藤")
    visitor.open_chat().start("技術的な質問", message="FTPに接続できません。")
    expect(visitor.frame.locator("#chat-status")).to_have_text("佐藤が対応いたします")

    # The key button beside the message box opens the form; the value is a password field.
    visitor.frame.get_by_role("button", name="パスワードやトークンを安全に送信").click()
    dialog = visitor.frame.get_by_role("dialog", name="シークレットを送信")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("シークレット", exact=True)).to_have_attribute("type", "password")
    dialog.get_by_role("button", name="安全に送信").click()
    expect(dialog.locator(".field-error")).to_have_text(
        "シークレットを入力してください（ラベルは1行・100文字以内です）。"
    )
    dialog.get_by_label("内容（任意）").fill("FTPパスワード")
    dialog.get_by_label("シークレット", exact=True).fill(VALUE)
    dialog.get_by_role("button", name="安全に送信").click()
    expect(dialog).to_be_hidden()

    sent = visitor.frame.locator("li.msg--secret")
    expect(sent).to_contain_text("シークレットを送信しました（FTPパスワード）")
    expect(sent).to_contain_text("オペレーターは")
    expect(visitor.frame.locator("body")).not_to_contain_text(VALUE)
    expect(visitor.frame.locator("#secret-value")).to_have_value("")

    # The operator reveals it once: the value, a copy button, then hidden for good.
    bubble = operator.pane.locator("li.msg--secret")
    expect(bubble).to_contain_text("お客様からのシークレット（FTPパスワード）")
    expect(operator.pane).not_to_contain_text(VALUE)
    bubble.get_by_role("button", name="表示する（1回のみ）").click()
    expect(bubble.locator(".secret-value")).to_have_text(VALUE)
    expect(bubble.get_by_role("button", name="シークレットをコピー")).to_be_visible()
    expect(operator.pane.locator(".system--secret_revealed")).to_contain_text(
        "佐藤がシークレット（FTPパスワード）を表示しました。"
    )
    expect(visitor.frame.locator(".system--secret_revealed .system-text")).to_have_text(
        "オペレーターがシークレット（FTPパスワード）を確認しました。シークレットは削除されました。"
    )
    # Hidden again after [secrets] show_seconds, and the page no longer holds it.
    expect(bubble.locator(".secret-state")).to_have_text("表示済み・削除済み")
    expect(operator.page.locator("body")).not_to_contain_text(VALUE)
    expect(bubble.get_by_role("button", name="表示する（1回のみ）")).to_have_count(0)

    # After a reload the console knows from the events that it was revealed.
    operator.page.reload()
    expect(operator.pane.locator("li.msg--secret .secret-state")).to_have_text("表示済み・削除済み")
    expect(operator.page.locator("body")).not_to_contain_text(VALUE)
