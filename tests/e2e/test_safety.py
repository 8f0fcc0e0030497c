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
    # Only then does the operator answer: the order asserted below is the order of the sends.
    expect(operator.messages).to_have_count(len(PAYLOADS))
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


def test_the_host_page_cannot_read_the_chat_or_the_visitor_token(
    visitor: Visitor, make_operator: Callable[..., Operator]
) -> None:
    make_operator()
    visitor.open_chat().start("技術的な質問", message="会員IDはSKR-204518です")
    expect(visitor.frame.locator("#chat-status")).to_contain_text("佐藤")
    page = visitor.page
    # The frame is on madoguchi's origin: the host page gets no document, no storage of it.
    reach = page.evaluate(
        """() => {
            const host = document.querySelector('[data-madoguchi]');
            const frame = (host.shadowRoot || host).querySelector('iframe');
            let doc = 'none';
            try { doc = frame.contentDocument === null ? 'null' : 'readable'; }
            catch (e) { doc = 'blocked'; }
            let storage = 'none';
            try { storage = frame.contentWindow.localStorage ? 'readable' : 'none'; }
            catch (e) { storage = 'blocked'; }
            return {doc, storage, cookie: document.cookie, local: JSON.stringify(localStorage)};
        }"""
    )
    assert reach["doc"] in ("null", "blocked")
    assert reach["storage"] == "blocked"
    for where in (reach["cookie"], reach["local"]):
        assert "v1." not in where
        assert "SKR-204518" not in where
    # The token exists, but only on the frame's side.
    token = visitor.page.frames[1].evaluate(
        "() => (document.cookie.match(/madoguchi_visitor=([^;]+)/) || [])[1]"
        " || localStorage.getItem('madoguchi.visitor') || ''"
    )
    assert "v1." in token
