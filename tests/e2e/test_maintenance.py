"""The maintenance switch in the browsers (SPEC X5): an admin pauses chat from the console, the
widget shows the message instead of the form, a chat already running goes on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, expect

from .actors import Operator, Visitor

# Markup in the message stays text: the widget shows the admin's words, never parses them.
NOTICE = "本日 2:00〜4:00 は<b>システムメンテナンス</b>のため、チャットをお休みします。"


def admin_console(server: Any, watched_context: Callable[..., BrowserContext]) -> Operator:
    account = server.create_operator(name="管理者", role="admin")
    page = watched_context(locale="ja-JP", viewport={"width": 1280, "height": 800}).new_page()
    return Operator(page, server, account).login()


def switch(admin: Operator, on: bool, message: str | None = None) -> None:
    """Open the admin's dialog, set the switch (and the message), save, and close it."""
    admin.page.get_by_role("button", name="メンテナンス", exact=True).click()
    dialog = admin.page.get_by_role("dialog", name="メンテナンスモード")
    box = dialog.get_by_label("新しいチャットの受付を停止する")
    box.set_checked(on)
    if message is not None:
        dialog.get_by_label("お客様に表示するメッセージ").fill(message)
    dialog.get_by_role("button", name="保存").click()
    said = "メンテナンスモードをオンにしました。" if on else "メンテナンスモードをオフにしました。"
    expect(dialog.get_by_role("status")).to_have_text(said)
    dialog.get_by_role("button", name="閉じる").click()
    expect(dialog).to_be_hidden()


def test_an_admin_pauses_chat_and_running_chats_go_on(
    live_server: Any,
    watched_context: Callable[..., BrowserContext],
    visitor_context: Callable[..., BrowserContext],
    make_operator: Callable[..., Operator],
) -> None:
    sato = make_operator("佐藤")
    running = Visitor(visitor_context().new_page(), live_server).open_demo().open_chat()
    running.start("技術的な質問", message="サーバーに接続できません")
    expect(running.frame.locator("#chat-status")).to_have_text("佐藤が対応いたします")

    admin = admin_console(live_server, watched_context)
    # An admin with an empty message is told what is missing, and nothing changes.
    admin.page.get_by_role("button", name="メンテナンス", exact=True).click()
    dialog = admin.page.get_by_role("dialog", name="メンテナンスモード")
    dialog.get_by_label("新しいチャットの受付を停止する").check()
    dialog.get_by_role("button", name="保存").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "お客様に表示するメッセージを1〜1000文字で入力してください。"
    )
    dialog.get_by_role("button", name="閉じる").click()
    expect(sato.page.locator("#maintenance-banner")).to_be_hidden()

    switch(admin, True, NOTICE)
    # Every operator's console says so, with the message visitors read.
    for console in (sato, admin):
        banner = console.page.locator("#maintenance-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("メンテナンス中：新しいチャットの受付を停止しています。")
        expect(console.page.locator("#maintenance-banner-text")).to_have_text(NOTICE)
    # Only admins have the switch.
    expect(sato.page.get_by_role("button", name="メンテナンス", exact=True)).to_have_count(0)

    newcomer = Visitor(visitor_context().new_page(), live_server).open_demo().open_chat()
    expect(newcomer.frame.get_by_role("heading", name="ただいまメンテナンス中です")).to_be_visible()
    expect(newcomer.frame.locator("#maintenance-message")).to_have_text(NOTICE)
    expect(newcomer.frame.locator("#maintenance-message b")).to_have_count(0)
    expect(newcomer.frame.get_by_role("button", name="技術的な質問")).to_have_count(0)
    expect(newcomer.frame.locator("[data-form=prechat], [data-form=leave]")).to_have_count(0)

    # The visitor whose chat was running keeps chatting, even after a reload.
    running.send("メンテナンス中でも話せますか")
    expect(sato.messages.last).to_contain_text("メンテナンス中でも話せますか")
    running.page.reload()
    running.open_chat()
    expect(running.composer).to_be_visible()
    sato.send("はい、このままご案内します")
    expect(running.messages.last).to_contain_text("はい、このままご案内します")

    switch(admin, False)
    expect(sato.page.locator("#maintenance-banner")).to_be_hidden()
    # The widget asks again when it is opened: the topics and the form are back.
    newcomer.page.get_by_role("button", name="チャットを閉じる").click()
    newcomer.open_chat()
    newcomer.start("技術的な質問", message="再開後の質問です")
    expect(newcomer.messages.last).to_contain_text("再開後の質問です")


def test_a_form_sent_after_chat_was_paused_shows_the_message(
    live_server: Any,
    watched_context: Callable[..., BrowserContext],
    visitor_context: Callable[..., BrowserContext],
) -> None:
    visitor = Visitor(visitor_context().new_page(), live_server).open_demo().open_chat()
    visitor.frame.get_by_role("button", name="技術的な質問").click()
    visitor.frame.locator("#prechat-message").fill("ドメインの更新について")
    visitor.frame.locator("#prechat-consent").check()
    switch(admin_console(live_server, watched_context), True, "ただいま休止中です。")
    visitor.frame.get_by_role("button", name="チャットを開始").click()
    expect(visitor.frame.get_by_role("heading", name="ただいまメンテナンス中です")).to_be_focused()
    expect(visitor.frame.locator("#maintenance-message")).to_have_text("ただいま休止中です。")
    expect(visitor.frame.locator("[data-form=prechat]")).to_have_count(0)
