"""Lost frames and dropped sockets lose nothing and double nothing (SPEC V10, protocol "Resumable")."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from playwright.sync_api import WebSocketRoute, expect

from .actors import Operator, Visitor


class SocketTap:
    """Sits between the chat frame and /ws/visitor: can lose one event or cut the connection."""

    def __init__(self) -> None:
        self.routes: list[WebSocketRoute] = []
        self.lose_next_message = False

    def handle(self, route: WebSocketRoute) -> None:
        server = route.connect_to_server()
        self.routes.append(route)

        def from_server(message: str | bytes) -> None:
            frame = json.loads(message)
            if (
                self.lose_next_message
                and frame.get("type") == "event"
                and frame.get("kind") == "message"
            ):
                self.lose_next_message = False
                return  # lost on the way: the next event shows the gap
            route.send(message)

        server.on_message(from_server)

    def cut(self) -> None:
        self.routes[-1].close(code=1011, reason="cut by the test")


def test_a_lost_event_is_refetched_and_a_cut_socket_resumes(
    visitor: Visitor, make_operator: Callable[..., Operator]
) -> None:
    tap = SocketTap()
    visitor.page.context.route_web_socket(re.compile(r"/ws/visitor$"), tap.handle)
    operator = make_operator()
    visitor.open_chat().start("技術的な質問", message="はじめまして")
    expect(operator.messages.first).to_contain_text("はじめまして")
    expect(visitor.frame.locator("#chat-status")).to_contain_text("佐藤")

    tap.lose_next_message = True
    operator.send("一通目（途中で失われる）")
    operator.send("二通目")
    expect(visitor.messages).to_have_count(3)
    texts = [t.strip() for t in visitor.messages.locator(".body").all_inner_texts()]
    assert texts == ["はじめまして", "一通目（途中で失われる）", "二通目"]

    sockets = len(tap.routes)
    tap.cut()
    visitor.composer.fill("切断中に送信")
    visitor.composer.press("Enter")
    operator.send("切断中の返信")
    expect(operator.messages.filter(has_text="切断中に送信")).to_have_count(1)
    expect(visitor.messages.filter(has_text="切断中の返信")).to_have_count(1)
    assert len(tap.routes) > sockets  # it reconnected
    expect(visitor.frame.locator(".msg--pending")).to_have_count(0)
    texts = [t.strip() for t in visitor.messages.locator(".body").all_inner_texts()]
    assert sorted(texts[3:]) == sorted(["切断中に送信", "切断中の返信"])
    assert len(texts) == 5
    expect(operator.messages).to_have_count(5)
