"""The transcript download and the post-chat survey in the browsers (SPEC V11, V12): a Japanese
chat downloaded as a .txt from the chat frame and the console, never with the private note; then
the operator ends it, the visitor rates it with the keyboard, and the console shows the rating."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Download, expect

from .actors import Operator, Visitor

QUESTION = "サーバーに接続できません。\nエラー: 接続が拒否されました (111)"
NOTE = "返金は承認済み。お客様には伝えないこと"
ANSWER = "担当の佐藤です。確認いたします。"
COMMENT = "とても丁寧でした。ありがとうございます。"


def saved_text(download: Download, tmp_path: Path) -> str:
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    return path.read_text(encoding="utf-8")


def test_the_visitor_downloads_the_chat_then_rates_it_and_the_console_sees_the_rating(
    live_server: Any,
    visitor_context: Callable[..., BrowserContext],
    make_operator: Callable[..., Operator],
    tmp_path: Path,
) -> None:
    sato = make_operator(name="佐藤")
    # A visitor in Tokyo, whose browser reports that time zone.
    visitor = Visitor(visitor_context(timezone_id="Asia/Tokyo").new_page(), live_server)
    visitor.open_demo().open_chat().start("技術的な質問", message=QUESTION)
    expect(sato.messages.first).to_contain_text("サーバーに接続できません。")
    sato.pane.get_by_label("非公開メモ", exact=True).check()
    sato.send(NOTE)
    expect(sato.pane.locator("li.msg--note")).to_contain_text(NOTE)
    sato.pane.get_by_label("非公開メモ", exact=True).uncheck()
    sato.send(ANSWER)
    expect(visitor.messages.last).to_contain_text(ANSWER)

    # The down arrow at the top right of the chat window saves the conversation as a .txt.
    button = visitor.frame.get_by_role(
        "button", name="このチャットの履歴をテキストファイルでダウンロード"
    )
    expect(button).to_be_visible()
    with visitor.page.expect_download() as got:
        button.click()
    download = got.value
    assert re.fullmatch(r"chat-\d{4}-\d{2}-\d{2}-c_[\w-]+\.txt", download.suggested_filename)
    text = saved_text(download, tmp_path)
    assert text.startswith("madoguchi チャット履歴\n")
    assert "タイムゾーン：Asia/Tokyo\n" in text
    assert "お問い合わせ内容：技術的な質問\nオペレーター：佐藤\n" in text
    assert re.search(
        r"\[\d\d:\d\d\] あなた: サーバーに接続できません。\n"
        r"        エラー: 接続が拒否されました \(111\)\n",
        text,
    )
    assert re.search(rf"\[\d\d:\d\d\] 佐藤: {ANSWER}\n", text)
    assert NOTE not in text
    assert "非公開メモ" not in text

    # The operator downloads it from the console too: the same chat, still without the note.
    with sato.page.expect_download() as got_there:
        sato.pane.get_by_role("button", name="チャット履歴をダウンロード").click()
    console_text = saved_text(got_there.value, tmp_path)
    assert f"佐藤: {ANSWER}" in console_text
    assert "お客様: サーバーに接続できません。" in console_text
    assert NOTE not in console_text

    # The operator ends the chat; the ended screen offers the survey.
    sato.pane.get_by_label("終了理由").select_option("resolved")
    sato.pane.get_by_role("button", name="チャットを終了").click()
    survey = visitor.frame.locator("#chat-survey")
    expect(survey.get_by_role("heading")).to_have_text("チャットサポートはいかがでしたか？")
    # Five stars, each a radio with its words: the arrow keys move along them.
    stars = survey.get_by_role("radio")
    expect(stars).to_have_count(5)
    survey.get_by_role("radio", name="星1つ：とても不満").focus()
    for _ in range(3):
        visitor.frame.locator(":focus").press("ArrowRight")
    expect(survey.get_by_role("radio", name="星4つ：満足")).to_be_checked()
    survey.get_by_label("コメント").fill(COMMENT)
    survey.get_by_role("button", name="送信").click()
    expect(survey).to_have_text("アンケートにご協力いただき、ありがとうございました。")
    expect(survey.get_by_role("radio")).to_have_count(0)
    # The transcript stays downloadable after the end.
    expect(button).to_be_visible()

    # The console shows the rating on the chat's pane as soon as it is given.
    rating = sato.pane.locator(".pane-rating")
    expect(rating).to_contain_text("★★★★☆")
    expect(rating).to_contain_text("お客様の評価：5段階中 4")
    expect(rating).to_contain_text(COMMENT)


def test_skipping_the_survey_hides_it_for_good(
    visitor: Visitor, make_operator: Callable[..., Operator]
) -> None:
    sato = make_operator(name="佐藤")
    visitor.open_chat().start("技術的な質問", message="質問です")
    expect(sato.messages.first).to_contain_text("質問です")
    sato.pane.get_by_label("終了理由").select_option("resolved")
    sato.pane.get_by_role("button", name="チャットを終了").click()
    survey = visitor.frame.locator("#chat-survey")
    # Sending without a rating asks for one; nothing is sent.
    survey.get_by_role("button", name="送信").click()
    expect(survey.get_by_role("alert")).to_have_text("1～5の評価をお選びください。")

    survey.get_by_role("button", name="回答しない").click()

    expect(survey).to_have_count(0)
    expect(visitor.frame.get_by_role("button", name="新しいお問い合わせを始める")).to_be_focused()
    visitor.page.reload()
    visitor.open_chat()
    expect(visitor.frame.locator("#chat-ended")).to_be_visible()
    expect(visitor.frame.locator("#chat-survey")).to_have_count(0)
    expect(sato.pane.locator(".pane-rating")).to_have_count(0)
