"""The pre-chat form's email address and what it is for, in the browser (SPEC V9, V11;
docs/email.md): the address is checked, shown to the operator, and the "Email me the
transcript" button is there only when the visitor gave one; the transcript arrives in the
visitor's mailbox; an answer written after the visitor left arrives by mail, and its link opens
the same conversation in another browser, where the visitor answers and the operator reads it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext, expect

from conftest import DatabaseFactory, LiveServer
from e2e.actors import Operator, Visitor
from mailboxes import Mailbox, email_config, text_of

ADDRESS = "hanako@example.jp"


@pytest.fixture
def live_server(databases: DatabaseFactory, mailbox: Mailbox) -> Iterator[LiveServer]:
    """The browser tests' node, mailing to ``mailbox``; an unread answer is mailed after 1 s."""
    config = email_config(mailbox.port).replace("[email]\n", "[email]\naway_delay_seconds = 1\n")
    live = LiveServer(databases.new("sqlite"), config=config).start()
    yield live
    live.stop()


def test_the_visitor_gives_an_address_and_mails_themselves_the_transcript(
    live_server: LiveServer,
    mailbox: Mailbox,
    visitor: Visitor,
    make_operator: Callable[..., Operator],
) -> None:
    sato = make_operator(name="佐藤")
    visitor.open_chat()
    frame = visitor.frame
    visitor.pick("技術的な質問")
    field = frame.get_by_label("メールアドレス")
    expect(frame.locator("#prechat-email-hint")).to_contain_text("メールでお知らせします")
    # A typing slip is refused with the reason, and what was typed stays.
    field.fill("hanako@example")
    frame.locator("#prechat-message").fill("サーバーに接続できません。")
    frame.locator("#prechat-consent").check()
    frame.get_by_role("button", name="チャットを開始").click()
    expect(frame.locator(".form-error")).to_have_text(
        "正しいメールアドレスを入力してください(例: name@example.com)。"
    )
    expect(frame.get_by_label("メールアドレス")).to_have_value("hanako@example")
    frame.get_by_label("メールアドレス").fill(ADDRESS)
    frame.get_by_role("button", name="チャットを開始").click()
    expect(visitor.composer).to_be_visible()

    # The operator sees where replies would go.
    expect(sato.messages.first).to_contain_text("サーバーに接続できません。")
    context = sato.pane.locator("aside.context")
    expect(context.locator("dt", has_text="メール").first).to_be_visible()
    expect(context.locator("dd", has_text=ADDRESS)).to_be_visible()
    sato.send("担当の佐藤です。確認いたします。")
    expect(visitor.messages.last).to_contain_text("担当の佐藤です。")

    # The envelope beside the download mails the transcript to that address, and says so.
    frame.get_by_role("button", name="履歴をメールで受け取る").click()
    expect(frame.locator(".notice")).to_have_text(f"チャット履歴を {ADDRESS} あてにお送りします。")
    mails = mailbox.wait_for(1, where=lambda m: "チャット履歴" in str(m["Subject"]))
    assert len(mails) == 1
    assert mails[0]["To"] == ADDRESS
    assert "担当の佐藤です。確認いたします。" in text_of(mails[0])


def test_without_an_address_the_transcript_is_not_offered_by_email(
    live_server: LiveServer,
    visitor_context: Callable[..., BrowserContext],
    make_operator: Callable[..., Operator],
) -> None:
    make_operator(name="佐藤")
    visitor = Visitor(visitor_context().new_page(), live_server).open_demo().open_chat()
    visitor.start("技術的な質問", message="メールは要りません")
    expect(
        visitor.frame.get_by_role(
            "button", name="このチャットの履歴をテキストファイルでダウンロード"
        )
    ).to_be_visible()
    expect(visitor.frame.get_by_role("button", name="履歴をメールで受け取る")).to_have_count(0)


def test_an_answer_after_the_visitor_left_comes_by_mail_and_its_link_leads_back(
    live_server: LiveServer,
    mailbox: Mailbox,
    visitor: Visitor,
    visitor_context: Callable[..., BrowserContext],
    make_operator: Callable[..., Operator],
) -> None:
    sato = make_operator(name="佐藤")
    visitor.open_chat()
    visitor.pick("技術的な質問")
    visitor.frame.get_by_label("メールアドレス").fill(ADDRESS)
    visitor.frame.locator("#prechat-message").fill("独自ドメインの設定方法を教えてください。")
    visitor.frame.locator("#prechat-consent").check()
    visitor.frame.get_by_role("button", name="チャットを開始").click()
    expect(sato.messages.first).to_contain_text("独自ドメインの設定方法")
    visitor.page.close()  # the visitor closes the tab before the answer comes

    sato.send("DNS の A レコードを 203.0.113.10 に向けてください。")
    [mail] = mailbox.wait_for(1, where=lambda m: "返信があります" in str(m["Subject"]))
    assert mail["To"] == ADDRESS
    text = text_of(mail)
    assert "DNS の A レコードを 203.0.113.10 に向けてください。" in text
    [link] = [line.strip() for line in text.splitlines() if "#return=" in line]
    expect(sato.pane.locator("li.system--away_mailed")).to_have_text(
        re.compile("お客様が接続していなかったため、メッセージ 1 件をメールでお送りしました。")
    )

    # On their phone, say: another browser, with nothing stored.
    phone = visitor_context().new_page()
    phone.goto(link)
    expect(phone.locator("ol.messages > li.msg").last).to_contain_text("203.0.113.10")
    assert "#return=" not in phone.url  # the token does not stay in the address bar
    composer = phone.locator("textarea[data-composer]")
    composer.fill("できました。ありがとうございます！")
    composer.press("Enter")
    expect(sato.messages.last).to_contain_text("できました。ありがとうございます！")

    # A damaged link says so, and the visitor can still start a chat.
    other = visitor_context().new_page()
    other.goto(link[:-3] + "xyz")
    expect(other.locator("#link-notice")).to_have_text(
        "このリンクは無効です。当社サイトからチャットを開いてください。"
    )
    expect(other.get_by_role("button", name="技術的な質問")).to_be_visible()
