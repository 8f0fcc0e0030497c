"""The launcher on a customer's page (SPEC V1, V14): isolated, keyboard operable, free until opened."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, Request, expect

from .actors import Visitor


def test_the_launcher_asks_nothing_until_opened_and_works_with_the_keyboard(
    live_server: Any, visitor_context: Callable[..., BrowserContext]
) -> None:
    page = visitor_context().new_page()
    to_chat: list[str] = []

    def record(request: Request) -> None:
        if request.url.startswith(live_server.url):
            to_chat.append(request.url.removeprefix(live_server.url))

    page.on("request", record)
    visitor = Visitor(page, live_server).open_demo()
    launcher = page.get_by_role("button", name="チャットで問い合わせる")
    expect(launcher).to_be_visible()
    # The host page's rude button styles (hot pink, dashed red) do not reach the launcher.
    assert launcher.evaluate("e => getComputedStyle(e).borderTopStyle") != "dashed"
    assert to_chat == ["/widget.js"]

    launcher.focus()
    page.keyboard.press("Enter")
    expect(visitor.frame.get_by_role("heading", name="メッセージを送る")).to_be_visible()
    frame = page.locator("[data-madoguchi] iframe")
    expect(frame).to_have_attribute("title", "サポートチャット")
    assert any(url.startswith("/chat?page=") for url in to_chat)
    assert f"page={live_server.host_url.replace(':', '%3A').replace('/', '%2F')}%2Fdemo" in next(
        url for url in to_chat if url.startswith("/chat?")
    )

    # Escape inside the chat closes it and gives the focus back to the launcher.
    visitor.frame.get_by_role("heading", name="メッセージを送る").press("Escape")
    expect(frame).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Space")
    expect(frame).to_be_visible()


def test_the_chat_fills_a_phone_screen(
    live_server: Any, visitor_context: Callable[..., BrowserContext]
) -> None:
    page = visitor_context(
        locale="en-US", viewport={"width": 390, "height": 760}, is_mobile=True, has_touch=True
    ).new_page()
    visitor = Visitor(page, live_server).open_demo().open_chat("Chat with us")
    expect(visitor.frame.get_by_role("heading", name="Send us a message")).to_be_visible()
    box = page.locator("[data-madoguchi] iframe").bounding_box()
    assert box == {"x": 0, "y": 0, "width": 390, "height": 760}
    close = page.get_by_role("button", name="Close chat")
    close_box = close.bounding_box()
    assert close_box is not None
    assert close_box["y"] < 60
    expect(visitor.frame.locator("html")).to_have_class("fullscreen")
    close.click()
    expect(page.locator("[data-madoguchi] iframe")).to_be_hidden()
