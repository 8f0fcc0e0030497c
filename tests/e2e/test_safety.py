"""Message text is text: markup in a message never becomes markup on either side (STYLE 9)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from .actors import Operator, Visitor

PAYLOADS = [
    "<script>window.__x=1</script>",
    '<img src=x onerror="window.__x=1">',
    "javascript:alert(1)",
]


def test_markup_in_messages_shows_as_literal_text(
    visitor: Visitor, make_operator: Callable[..., Operator]
) -> None:
    operator = make_operator()
    visitor.open_chat().start("技術的な質問", message=PAYLOADS[0])
    expect(operator.messages.first).to_contain_text("window.__x")
    for payload in PAYLOADS[1:]:
        visitor.send(payload)
    for payload in PAYLOADS:
        operator.send(payload)
    expect(visitor.messages).to_have_count(6)
    expect(operator.messages).to_have_count(6)

    frame = visitor.page.frames[1]
    for lst in (visitor.frame.locator("ol.messages"), operator.pane.locator("ol.messages")):
        bodies = lst.locator("li.msg .body")
        assert bodies.evaluate_all("els => els.map(e => e.textContent)") == PAYLOADS + PAYLOADS
        expect(lst.locator("script, img, a, iframe")).to_have_count(0)
    for page_or_frame in (visitor.page, frame, operator.page):
        assert page_or_frame.evaluate("typeof window.__x") == "undefined"
