"""Identity in the browser (SPEC V4): a host page with a signed token, and a plan without chat."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from conftest import DatabaseFactory
from identity_desk import DOCS_JA, FORUM, IdentityServer, token

from .actors import Operator, Visitor

LOCALES = Path(__file__).resolve().parents[2] / "src" / "madoguchi" / "locales"
JA = json.loads((LOCALES / "ja.json").read_text(encoding="utf-8"))


@pytest.fixture
def live_server(databases: DatabaseFactory) -> Iterator[IdentityServer]:
    """A node that verifies the host's tokens; `make_operator` and the visitors use it."""
    live = IdentityServer(databases.new("sqlite")).start()
    yield live
    live.stop()


def host_page(page: Page, server: IdentityServer, identity: str | None) -> Visitor:
    """The demo host page (another origin than the chat) with the token a signed-in member's
    page carries on the widget's script tag, set as the host app renders it."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    visitor = Visitor(page, server).open_demo()
    if identity:
        page.locator('script[src$="/widget.js"]').evaluate(
            "(script, token) => script.setAttribute('data-identity', token)", identity
        )
    visitor.requested = requested  # type: ignore[attr-defined]
    return visitor


def test_the_operator_sees_the_member_the_host_page_vouched_for(
    live_server: IdentityServer,
    visitor_context: Callable[..., BrowserContext],
    make_operator: Callable[..., Operator],
) -> None:
    operator = make_operator(name="佐藤")
    signed = token("M-1001", "business")
    visitor = host_page(visitor_context().new_page(), live_server, signed).open_chat()
    visitor.pick("技術的な質問")
    # A verified member is not asked for their member ID.
    expect(visitor.frame.locator("#prechat-verified")).to_have_text(
        JA["prechat.verified_member"].replace("{member}", "M-1001")
    )
    expect(visitor.frame.locator("#prechat-member_id")).to_have_count(0)
    visitor.frame.locator("#prechat-message").fill("サーバーにつながりません")
    visitor.frame.locator("#prechat-consent").check()
    visitor.frame.get_by_role("button", name="チャットを開始").click()
    expect(visitor.composer).to_be_visible()

    badge = operator.pane.locator("[data-identity]")
    expect(badge).to_have_attribute("data-identity", "verified")
    expect(badge).to_have_text(
        JA["context.verified_member"].replace("{member}", "M-1001").replace("{plan}", "business")
    )
    expect(operator.page.get_by_role("tab")).to_contain_text("M-1001")
    # The token went to the chat origin by postMessage, never in a URL.
    assert not [url for url in visitor.requested if signed in url]  # type: ignore[attr-defined]


def test_a_member_id_typed_without_a_token_is_marked_as_typed(
    live_server: IdentityServer,
    visitor_context: Callable[..., BrowserContext],
    make_operator: Callable[..., Operator],
) -> None:
    operator = make_operator(name="佐藤")
    visitor = host_page(visitor_context().new_page(), live_server, None).open_chat()
    visitor.start("技術的な質問", message="ログインできません", member_id="M-1001")
    badge = operator.pane.locator("[data-identity]")
    expect(badge).to_have_attribute("data-identity", "unverified")
    expect(badge).to_have_text(JA["context.unverified"])
    expect(operator.pane.locator(".context")).to_contain_text(JA["context.typed_by_visitor"])


def test_a_forged_token_is_shown_as_unverified(
    live_server: IdentityServer,
    visitor_context: Callable[..., BrowserContext],
    make_operator: Callable[..., Operator],
) -> None:
    operator = make_operator(name="佐藤")
    version, body, signature = token("M-1001", "pro").split(".")
    forged = f"{version}.{body}.{signature[::-1]}"
    visitor = host_page(visitor_context().new_page(), live_server, forged).open_chat()
    visitor.start("技術的な質問", message="こんにちは", member_id="M-1001")
    expect(operator.pane.locator("[data-identity]")).to_have_attribute(
        "data-identity", "unverified"
    )


def test_a_plan_without_chat_sees_the_links_and_no_form(
    live_server: IdentityServer, visitor_context: Callable[..., BrowserContext]
) -> None:
    visitor = host_page(visitor_context().new_page(), live_server, token("M-5", "lite")).open_chat()
    frame = visitor.frame
    expect(frame.get_by_role("heading", name=JA["plans.title"])).to_be_visible()
    expect(frame.locator(".lead")).to_have_text(JA["plans.lead"].replace("{plan}", "lite"))
    docs = frame.get_by_role("link", name=JA["plans.docs"])
    expect(docs).to_have_attribute("href", DOCS_JA)
    expect(frame.get_by_role("link", name=JA["plans.forum"])).to_have_attribute("href", FORUM)
    expect(frame.locator("[data-action=topic]")).to_have_count(0)
    expect(frame.locator("form")).to_have_count(0)
    expect(frame.locator("textarea")).to_have_count(0)
