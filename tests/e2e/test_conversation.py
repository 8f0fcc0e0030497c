"""A visitor starts a chat from a customer's page and talks with an operator (SPEC V1–V3, V5, A4)."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import expect

from .actors import Operator, Visitor

CODE = (
    "Traceback (most recent call last):\n"
    '  File "/home/yamada/app.py", line 12, in <module>\n'
    "    main()\n"
    "PermissionError: [Errno 13] Permission denied: '/var/www/html'"
)


def test_chat_from_the_demo_page_both_ways(
    visitor: Visitor, make_operator: Callable[..., Operator]
) -> None:
    operator = make_operator(name="佐藤")
    launcher = visitor.page.get_by_role("button", name="チャットで問い合わせる")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    visitor.open_chat()
    expect(visitor.page.get_by_role("button", name="チャットを閉じる")).to_have_attribute(
        "aria-expanded", "true"
    )
    expect(visitor.frame.get_by_role("heading", name="メッセージを送る")).to_be_visible()

    visitor.frame.get_by_role("button", name="技術的な質問").click()
    # Every customer field is optional; the consent is not.
    for label in ("会員ID", "契約者名", "担当者名"):
        expect(visitor.frame.get_by_label(label)).to_be_visible()
    expect(visitor.frame.locator(".optional")).to_have_count(3)
    expect(visitor.frame.get_by_role("link", name="チャットサポートのポリシー")).to_have_attribute(
        "target", "_blank"
    )
    visitor.frame.locator("#prechat-member_id").fill("SKR-204518")
    visitor.frame.locator("#prechat-message").fill("WordPressの管理画面にログインできません。")
    visitor.frame.get_by_role("button", name="チャットを開始").click()
    expect(visitor.frame.locator("#prechat-consent-error")).to_be_visible()
    visitor.frame.locator("#prechat-consent").check()
    visitor.frame.get_by_role("button", name="チャットを開始").click()

    # Routed to the online operator of the department, who sees the message and the context.
    expect(visitor.frame.locator("#chat-status")).to_have_text("佐藤が対応いたします")
    expect(operator.messages.first).to_contain_text("WordPressの管理画面にログインできません。")
    context = operator.pane.locator(".context")
    expect(context).to_contain_text("SKR-204518")
    expect(context).to_contain_text("未確認")
    expect(context).to_contain_text(f"{visitor.server.host_url}/demo")
    expect(context).to_contain_text("技術的な質問")

    operator.send("お問い合わせありがとうございます。表示されるエラーを貼り付けていただけますか？")
    reply = visitor.messages.last
    expect(reply).to_contain_text("表示されるエラーを貼り付けていただけますか？")
    expect(reply).to_have_class(re.compile(r"\bmsg--theirs\b"))
    expect(reply.locator(".who")).to_have_text("佐藤")
    expect(reply.locator("time")).to_have_text(re.compile(r"\d{2}:\d{2}"))

    visitor.send(f"こちらです：\n```\n{CODE}\n```")
    mine = visitor.messages.last
    expect(mine).to_have_class(re.compile(r"\bmsg--mine\b"))
    for side in (mine, operator.messages.last):
        code = side.locator("pre code")
        expect(code).to_be_visible()
        assert code.evaluate("e => e.textContent") == CODE  # every space and line kept
        assert "monospace" in code.evaluate("e => getComputedStyle(e).fontFamily")
        assert side.locator("pre").evaluate("e => getComputedStyle(e).whiteSpace") == "pre"
        expect(side.locator(".text")).to_have_text("こちらです：")
        expect(side.get_by_role("button", name="コードをコピー")).to_be_visible()

    copy = mine.get_by_role("button", name="コードをコピー")
    copy.click()
    expect(copy).to_have_text("コピーしました")

    # Pasted error output without fences is shown as code too.
    operator.send(
        "Fatal error: Uncaught Error: Call to undefined function mysql_connect()\n    in /home/yamada/www/wp-db.php:1570"
    )
    expect(visitor.messages.last.locator("pre code")).to_contain_text("mysql_connect()")


def test_enter_sends_shift_enter_breaks_the_line_and_typing_shows(
    visitor: Visitor, make_operator: Callable[..., Operator]
) -> None:
    operator = make_operator()
    visitor.open_chat().start("技術的な質問", message="こんにちは")
    expect(operator.messages.first).to_contain_text("こんにちは")

    visitor.composer.click()
    visitor.composer.press_sequentially("一行目")
    # The other side sees that the visitor types.
    expect(operator.pane.locator(".typing")).to_have_text("お客様が入力しています")
    visitor.composer.press("Shift+Enter")
    visitor.composer.press_sequentially("二行目")
    expect(visitor.composer).to_have_value("一行目\n二行目")
    # An Enter that confirms an IME conversion does not send.
    visitor.composer.dispatch_event(
        "keydown", {"key": "Enter", "isComposing": True, "bubbles": True}
    )
    expect(visitor.composer).to_have_value("一行目\n二行目")
    visitor.composer.press("Enter")
    expect(visitor.composer).to_have_value("")
    expect(operator.messages.last).to_contain_text("二行目")
    text = operator.messages.last.locator(".text")
    expect(text).to_be_visible()
    assert text.evaluate("e => e.textContent") == "一行目\n二行目"
    assert text.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
    expect(operator.pane.locator(".typing")).to_be_hidden()

    operator.composer.click()
    operator.composer.press_sequentially("確認します")
    expect(visitor.frame.locator(".typing")).to_have_text("オペレーターが入力しています")
    operator.composer.press("Shift+Enter")
    operator.composer.press_sequentially("少々お待ちください")
    operator.composer.press("Enter")
    last = visitor.messages.last.locator(".text")
    expect(last).to_contain_text("少々お待ちください")
    assert last.evaluate("e => e.textContent") == "確認します\n少々お待ちください"
    expect(visitor.frame.locator(".typing")).to_be_hidden()

    # The send button works as well as Enter.
    visitor.composer.fill("ボタンで送信")
    visitor.frame.get_by_role("button", name="送信", exact=True).click()
    expect(operator.messages.last).to_contain_text("ボタンで送信")
