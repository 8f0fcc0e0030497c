"""The UI language follows the browser and the switcher; catalogs stay complete (SPEC V13)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, expect

from madoguchi.domain.conversation import EndReason

from .actors import Visitor

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "src" / "madoguchi" / "locales"
PROTOCOL = ROOT / "docs" / "protocol.md"
WIDGET = ROOT / "src" / "madoguchi" / "static" / "widget.js"


def catalog(lang: str) -> dict[str, str]:
    return json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("locale", "launcher", "heading", "lang"),
    [
        ("ja-JP", "チャットで問い合わせる", "メッセージを送る", "ja"),
        ("en-US", "Chat with us", "Send us a message", "en"),
    ],
)
def test_the_widget_follows_the_browser_language(
    live_server: Any,
    visitor_context: Callable[..., BrowserContext],
    locale: str,
    launcher: str,
    heading: str,
    lang: str,
) -> None:
    visitor = Visitor(visitor_context(locale=locale).new_page(), live_server).open_demo()
    visitor.open_chat(launcher)
    expect(visitor.frame.get_by_role("heading", name=heading)).to_be_visible()
    expect(visitor.frame.locator("html")).to_have_attribute("lang", lang)


def test_the_switcher_changes_and_remembers_the_language(
    live_server: Any, visitor_context: Callable[..., BrowserContext]
) -> None:
    visitor = (
        Visitor(visitor_context(locale="en-US").new_page(), live_server)
        .open_demo()
        .open_chat("Chat with us")
    )
    expect(visitor.frame.get_by_role("button", name="I need technical support")).to_be_visible()
    visitor.frame.get_by_label("Language").select_option("ja")
    expect(visitor.frame.get_by_role("heading", name="メッセージを送る")).to_be_visible()
    expect(visitor.frame.get_by_role("button", name="技術的な質問")).to_be_visible()
    expect(visitor.frame.locator("html")).to_have_attribute("lang", "ja")
    expect(
        visitor.page.get_by_role("button", name="チャットを閉じる")
    ).to_be_visible()  # the launcher follows

    # The frame remembers the choice; the launcher cannot know it before the frame loads.
    visitor.page.reload()
    visitor.open_chat("Chat with us")
    expect(visitor.frame.get_by_role("heading", name="メッセージを送る")).to_be_visible()
    expect(visitor.page.get_by_role("button", name="チャットを閉じる")).to_be_visible()


def test_the_console_follows_the_browser_and_the_switcher(
    live_server: Any, watched_context: Callable[..., BrowserContext]
) -> None:
    page = watched_context(locale="en-US").new_page()
    page.goto(f"{live_server.url}/console")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.get_by_label("Email address").fill("nobody@example.com")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text(catalog("en")["error.invalid_credentials"])
    page.get_by_label("Language").select_option("ja")
    expect(page.get_by_role("button", name="ログイン")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "ja")


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    en, ja = catalog("en"), catalog("ja")
    assert sorted(en) == sorted(ja)
    for key in en:
        assert set(re.findall(r"\{(\w+)\}", en[key])) == set(re.findall(r"\{(\w+)\}", ja[key])), key
        assert en[key].strip(), key
        assert ja[key].strip(), key


def test_catalogs_cover_every_error_code_and_end_reason() -> None:
    text = PROTOCOL.read_text(encoding="utf-8")
    rest = text.split("## REST errors", 1)[1].split("## WebSocket", 1)[0]
    codes = {
        c
        for row in rest.splitlines()
        if row.startswith("| 4") or row.startswith("| 5")
        for c in re.findall(r"`([a-z_]+)`", row.split("|")[2])
    }
    ws = text.split("### WebSocket error codes", 1)[1].split("###", 1)[0]
    codes |= set(re.findall(r"`([a-z_]+)`", ws.split("The socket stays open", 1)[0]))
    assert {"already_assigned", "invalid_credentials", "hello_required"} <= codes
    for lang in ("en", "ja"):
        words = catalog(lang)
        assert sorted(c for c in codes if f"error.{c}" not in words) == [], lang
        for reason in EndReason:  # every reason the server can give, so a new one needs words
            assert f"ended.{reason.value}" in words, (lang, reason)
            assert f"reason.{reason.value}" in words, (lang, reason)
        assert "event.assigned" in words
        assert "event.created" in words


def test_the_launcher_labels_match_the_catalogs() -> None:
    """widget.js carries its three labels itself (it fetches nothing before a click)."""
    source = WIDGET.read_text(encoding="utf-8")
    for lang in ("en", "ja"):
        words = catalog(lang)
        match = re.search(rf"{lang}: \[([^\]]*)\]", source)
        assert match, lang
        labels = re.findall(r"'([^']*)'", match.group(1))
        assert labels == [words["widget.open"], words["widget.close"], words["widget.frame_title"]]
