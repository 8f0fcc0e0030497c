"""Bans in the browsers (SPEC A10): an operator bans from the chat's pane, the visitor sees only
that chat is not available, and a supervisor lifts the ban and reads the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, expect

from .actors import Operator, Visitor

NOT_AVAILABLE = "チャットは現在ご利用いただけません。"


def test_an_operator_bans_a_visitor_who_then_sees_only_that_chat_is_not_available(
    visitor: Visitor,
    make_operator: Callable[..., Operator],
    live_server: Any,
    watched_context: Callable[..., BrowserContext],
) -> None:
    sato = make_operator(name="佐藤")
    visitor.open_chat().start("技術的な質問", message="ばかやろう")
    expect(sato.messages.first).to_contain_text("ばかやろう")

    sato.pane.get_by_role("button", name="お客様を利用停止").click()
    dialog = sato.page.get_by_role("dialog", name="このお客様を利用停止にする")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("期間")).to_have_value("1d")
    dialog.get_by_role("button", name="利用停止", exact=True).click()
    expect(dialog.locator("#ban-reason-error")).to_have_text("理由を入力してください。")
    expect(dialog.get_by_label("理由（必須）")).to_be_focused()
    dialog.get_by_label("理由（必須）").fill("暴言が続いたため")
    dialog.get_by_label("期間").select_option(label="7 日")
    dialog.get_by_label("ネットワークも利用停止にする").check()
    dialog.get_by_role("button", name="利用停止", exact=True).click()

    expect(dialog).to_be_hidden()
    expect(sato.page.locator(".toast")).to_have_text("お客様を利用停止にしました。")
    expect(sato.pane.locator(".ended-note")).to_contain_text("禁止事項に該当")

    # The visitor's chat ends; a new one is refused in neutral words, never "banned".
    frame = visitor.frame
    frame.get_by_role("button", name="新しいお問い合わせを始める").click()
    frame.get_by_role("button", name="技術的な質問").click()
    frame.locator("#prechat-consent").check()
    frame.locator("form[data-form='prechat'] button[type='submit']").click()
    expect(frame.locator("#unavailable-title")).to_have_text(NOT_AVAILABLE)
    expect(frame.locator("main")).not_to_contain_text("利用停止")

    # A supervisor sees the ban and the audit log, and lifts it.
    account = live_server.create_operator(name="鈴木", role="supervisor")
    page = watched_context(locale="ja-JP", viewport={"width": 1280, "height": 800}).new_page()
    suzuki = Operator(page, live_server, account).login()
    suzuki.page.get_by_role("button", name="利用停止", exact=True).click()
    bans = suzuki.page.get_by_role("dialog", name="利用停止と監査ログ")
    row = bans.locator("#bans-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("127.0.0.0/24")
    expect(row).to_contain_text("暴言が続いたため")
    expect(row).to_contain_text("佐藤")
    audit = bans.locator("#audit-table tbody tr")
    expect(audit).to_have_count(1)
    expect(audit).to_contain_text("利用停止")
    expect(audit).to_contain_text("7 日")
    bans.get_by_role("button", name="解除").click()
    expect(bans.locator("#bans-empty")).to_have_text("有効な利用停止はありません。")
    expect(audit).to_have_count(2)
    expect(audit.first).to_contain_text("利用停止の解除")
    expect(audit.first).to_contain_text("鈴木")
