"""Transfers, private notes and supervisors in the browsers (SPEC A6, A9): the note travels with
the chat from one console to the next and never shows in the visitor's frame."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, expect

from .actors import Operator, Visitor

NOTE = "返金は承認済み。請求書 42 番の件です"


def first_chat(visitor: Visitor, operator: Operator) -> None:
    visitor.open_chat().start("技術的な質問", message="請求書が届きません。")
    expect(operator.messages.first).to_contain_text("請求書が届きません。")
    expect(visitor.frame.locator("#chat-status")).to_have_text("佐藤が対応いたします")


def test_a_chat_moves_between_consoles_with_a_note_the_visitor_never_sees(
    visitor: Visitor, make_operator: Callable[..., Operator]
) -> None:
    sato = make_operator(name="佐藤")
    first_chat(visitor, sato)
    suzuki = make_operator(name="鈴木")

    sato.pane.get_by_role("button", name="転送").click()
    dialog = sato.page.get_by_role("dialog", name="このチャットを転送")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("別のオペレーター")).to_be_checked()
    dialog.get_by_label("オペレーター", exact=True).select_option(label="鈴木(対応中 0/3 件)")
    dialog.get_by_label("次のオペレーターへのメモ").fill(NOTE)
    dialog.get_by_role("button", name="転送する").click()

    # Gone from Sato's console, with a word saying where.
    expect(dialog).to_be_hidden()
    expect(sato.page.get_by_role("tab")).to_have_count(0)
    expect(sato.page.locator(".toast")).to_have_text("チャットを鈴木に転送しました。")
    # Suzuki has the whole history and the note, marked as private.
    expect(suzuki.page.get_by_role("tab")).to_have_count(1)
    expect(suzuki.messages.first).to_contain_text("請求書が届きません。")
    expect(suzuki.pane.locator("li.system--transferred")).to_contain_text(
        "佐藤がチャットを鈴木に転送しました"
    )
    note = suzuki.pane.locator("li.msg--note")
    expect(note).to_contain_text("非公開メモ — お客様には表示されません")
    expect(note).to_contain_text(NOTE)
    # The visitor is told who has the chat now, and nothing of the note.
    expect(visitor.frame.locator("li.system--transferred")).to_contain_text(
        "担当を鈴木に引き継ぎます。"
    )
    expect(visitor.frame.locator("#chat-status")).to_have_text("鈴木が対応いたします")

    # Suzuki writes a note of their own from the composer, then answers the visitor.
    suzuki.pane.get_by_label("非公開メモ", exact=True).check()
    suzuki.send("お客様には伝えないでください")
    expect(suzuki.pane.locator("li.msg--note")).to_have_count(2)
    suzuki.pane.get_by_label("非公開メモ", exact=True).uncheck()
    suzuki.send("担当の鈴木です。確認いたします。")
    expect(visitor.messages.last).to_contain_text("担当の鈴木です。")
    frame_text = visitor.frame.locator("body").inner_text()
    assert NOTE not in frame_text
    assert "お客様には伝えないでください" not in frame_text
    assert "非公開メモ" not in frame_text


def test_a_supervisor_joins_then_takes_over_from_the_overview(
    live_server: Any,
    visitor: Visitor,
    make_operator: Callable[..., Operator],
    watched_context: Callable[..., BrowserContext],
) -> None:
    sato = make_operator(name="佐藤")
    first_chat(visitor, sato)
    account = live_server.create_operator(name="山本", role="supervisor", capacity=2)
    page = watched_context(locale="ja-JP", viewport={"width": 1280, "height": 800}).new_page()
    boss = Operator(page, live_server, account).login().go_online()

    boss.page.get_by_role("button", name="全体状況").click()
    overview = boss.page.get_by_role("dialog", name="スーパーバイザー用の全体状況")
    active = overview.get_by_role("region", name="対応中のチャット")
    operators = overview.get_by_role("region", name="オペレーター")
    expect(active.locator("tbody tr")).to_have_count(1)
    expect(active.locator("tbody tr")).to_contain_text("佐藤")
    expect(operators.locator("tbody tr").filter(has_text="佐藤")).to_contain_text("1 / 3 件")
    expect(operators.locator("tbody tr").filter(has_text="山本")).to_contain_text("0 / 2 件")
    active.get_by_role("button", name="参加する").click()

    expect(overview).to_be_hidden()
    expect(boss.page.get_by_role("tab")).to_have_count(1)
    expect(visitor.frame.locator("li.system--joined")).to_contain_text(
        "山本がチャットに参加しました"
    )
    boss.send("責任者の山本です。")
    expect(visitor.messages.last).to_contain_text("責任者の山本です。")
    sato.send("引き続き佐藤が対応いたします。")
    expect(visitor.messages.last).to_contain_text("引き続き佐藤が対応いたします。")

    boss.page.get_by_role("button", name="全体状況").click()
    expect(active.locator("tbody tr")).to_contain_text("参加中")
    active.get_by_role("button", name="引き継ぐ").click()

    expect(sato.page.get_by_role("tab")).to_have_count(0)
    expect(sato.page.locator(".toast")).to_have_text("山本がこのチャットを引き継ぎました。")
    expect(visitor.frame.locator("li.system--transferred")).to_contain_text(
        "ここからは山本が対応いたします。"
    )
    expect(visitor.frame.locator("#chat-status")).to_have_text("山本が対応いたします")
