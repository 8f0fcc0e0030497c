"""A visitor who types faster than the rate limit (SPEC P11): told to slow down, and nothing lost.

The desk allows a visitor two messages at once, then one every two seconds. Every message the
widget could not send yet waits in its outbox, says when it goes again, and goes by itself;
the operator gets all of them, in the order typed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import expect

from conftest import TEST_CONFIG, DatabaseFactory, LiveServer

from .actors import Operator, Visitor

LIMITED = TEST_CONFIG + '\n[rate_limits.message]\nvisitor = "2/4s"\n'
TYPED = [f"{n}番目のメッセージです" for n in range(1, 7)]


@pytest.fixture
def live_server(databases: DatabaseFactory) -> Iterator[LiveServer]:
    """The browser tests' node, with a small message limit."""
    live = LiveServer(databases.new("sqlite"), config=LIMITED).start()
    yield live
    live.stop()


def test_messages_typed_faster_than_the_limit_all_arrive_in_order(
    visitor: Visitor, make_operator: Callable[..., Operator]
) -> None:
    operator = make_operator()
    visitor.open_chat().start("技術的な質問", message="よろしくお願いします")
    expect(operator.messages).to_have_count(1)
    for text in TYPED:
        visitor.send(text)
    # The third is refused for speed: it stays, saying it will be sent again by itself.
    held = visitor.frame.locator("li.msg--held .status").first
    expect(held).to_have_text("送信が速すぎます。2 秒後に再送します")
    expect(visitor.frame.locator("li.msg--failed")).to_have_count(0)

    everything = ["よろしくお願いします", *TYPED]
    expect(operator.messages).to_have_count(len(everything), timeout=30_000)
    bodies = operator.messages.locator(".body")
    assert bodies.evaluate_all("els => els.map(e => e.textContent)") == everything
    expect(visitor.frame.locator("li.msg--pending")).to_have_count(0)
    expect(visitor.messages).to_have_count(len(everything))
