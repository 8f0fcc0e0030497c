"""The two people of a browser test: a visitor on the demo page and an operator in the console."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import FrameLocator, Locator, Page, expect


@dataclass
class Visitor:
    """A visitor's tab on the demo page, with the chat frame once opened."""

    page: Page
    server: Any

    @property
    def frame(self) -> FrameLocator:
        return self.page.frame_locator("[data-madoguchi] iframe")

    def open_demo(self) -> Visitor:
        self.page.goto(f"{self.server.host_url}/demo")
        return self

    def open_chat(
        self,
        launcher_name: str | re.Pattern[str] = re.compile("チャットで問い合わせる|Chat with us"),
    ) -> Visitor:
        self.page.get_by_role("button", name=launcher_name).click()
        expect(self.frame.locator("main")).to_be_visible()
        return self

    def start(
        self,
        topic: str,
        message: str | None = None,
        member_id: str | None = None,
        start: str = "チャットを開始",
    ) -> Visitor:
        """Pick a topic, fill the pre-chat form, accept the policies and start."""
        self.pick(topic)
        if member_id:
            self.frame.locator("#prechat-member_id").fill(member_id)
        if message:
            self.frame.locator("#prechat-message").fill(message)
        self.frame.locator("#prechat-consent").check()
        self.frame.get_by_role("button", name=start).click()
        expect(self.composer).to_be_visible()
        return self

    def pick(self, topic: str) -> None:
        """Click a topic once the list shows what each topic can do now, as a visitor sees it
        settle (the list is drawn again when the availability arrives)."""
        expect(self.frame.locator("button.topic[class*='topic--']").first).to_be_visible()
        self.frame.get_by_role("button", name=topic).click()

    @property
    def composer(self) -> Locator:
        return self.frame.locator("textarea[data-composer]")

    @property
    def messages(self) -> Locator:
        return self.frame.locator("ol.messages > li.msg")

    def send(self, text: str) -> None:
        self.composer.fill(text)
        self.composer.press("Enter")
        expect(self.composer).to_have_value("")


@dataclass
class Operator:
    """An operator's console tab."""

    page: Page
    server: Any
    account: dict[str, Any]

    def login(self) -> Operator:
        self.page.goto(f"{self.server.url}/console")
        self.page.locator("#login-email").fill(self.account["email"])
        self.page.locator("#login-password").fill(self.account["password"])
        self.page.locator("[data-form=login] button[type=submit]").click()
        expect(self.page.locator(".console-header .me")).to_have_text(self.account["name"])
        return self

    def go_online(self) -> Operator:
        self.page.locator("#presence").select_option("online")
        expect(self.page.locator(".presence-dot--online")).to_be_visible()
        return self

    @property
    def pane(self) -> Locator:
        """The chat pane on screen."""
        return self.page.locator(".pane:not([hidden])")

    @property
    def composer(self) -> Locator:
        return self.pane.locator("textarea[data-composer]")

    @property
    def messages(self) -> Locator:
        return self.pane.locator("ol.messages > li.msg")

    def send(self, text: str) -> None:
        self.composer.fill(text)
        self.composer.press("Enter")
        expect(self.composer).to_have_value("")
