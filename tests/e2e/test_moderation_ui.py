"""Moderation as both people see it (SPEC P8, P9, P10): garbled text comes back with its repair,
card numbers are masked with a word why, links open exactly their target, abuse is flagged to
the operator alone."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from .actors import Operator, Visitor

ORIGINAL = "サービスについて質問です"
GARBLED = ORIGINAL.encode("utf-8").decode("latin-1")


def test_garbled_text_is_offered_back_repaired_and_the_repair_reaches_the_operator(
    visitor: Visitor, make_operator: Callable[..., Operator]
) -> None:
    operator = make_operator()
    visitor.open_chat().start("技術的な質問", message="こんにちは")
    expect(operator.messages).to_have_count(1)

    visitor.send(GARBLED)
    failed = visitor.frame.locator("li.msg--failed")
    expect(failed).to_contain_text("文字化けしているようです")
    expect(failed.locator(".repaired-text")).to_have_text(ORIGINAL)
    failed.get_by_role("button", name="この文章を使う").click()
    expect(visitor.composer).to_have_value(ORIGINAL)
    expect(visitor.frame.locator("li.msg--failed")).to_have_count(0)
    visitor.composer.press("Enter")

    expect(operator.messages).to_have_count(2)
    expect(operator.messages.last).to_contain_text(ORIGINAL)
    expect(operator.pane).not_to_contain_text("ã")


def test_masking_links_and_flags_as_each_side_sees_them(
    visitor: Visitor, make_operator: Callable[..., Operator]
) -> None:
    operator = make_operator()
    visitor.open_chat().start("技術的な質問", message="こんにちは")
    expect(operator.messages).to_have_count(1)

    visitor.send("カードは 4111 1111 1111 1111 です")
    mine = visitor.messages.last
    expect(mine).to_contain_text("**** **** **** 1111")
    expect(mine.locator(".msg-note")).to_contain_text("カード番号は保存前に伏せ字にしました")
    expect(operator.messages.last).to_contain_text("**** **** **** 1111")
    expect(operator.pane).not_to_contain_text("4111 1111")

    visitor.send("手順は https://docs.example.com/設定 です。javascript:alert(1) も試しました")
    link = operator.messages.last.get_by_role("link")
    expect(link).to_have_count(1)  # javascript: stays text
    expect(link).to_have_text("https://docs.example.com/設定")
    assert link.evaluate("a => a.href") == "https://docs.example.com/%E8%A8%AD%E5%AE%9A"
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(operator.messages.last).to_contain_text("javascript:alert(1)")

    # A link whose text hides its real host (userinfo) shows the host it opens.
    visitor.send("ログインは http://support.example.com@login.example.net/ から")
    expect(visitor.messages.last.locator(".link-host")).to_have_text("→ login.example.net")

    visitor.send("ﾊﾞｶじゃないの")
    flag = operator.pane.locator("li.system--flagged")
    expect(flag).to_contain_text("不適切な言葉が含まれています: バカ")
    expect(visitor.frame.locator("main")).not_to_contain_text("不適切")
    flag.get_by_role("button", name="「禁止事項」で終了").click()
    expect(operator.pane.locator("[data-end-reason]")).to_have_value("prohibited")
