"""Handover in the browsers (SPEC V10, second half): an operator whose console is gone longer than
the grace period (45 s) loses the chat to another, who gets the whole history, and the visitor
is told another operator will continue. The server's clock is a FakeClock the test moves."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from clock import FakeClock
from conftest import DatabaseFactory, LiveServer, fire_timers
from madoguchi.services.presence import gone_key
from madoguchi.store import timers as timer_repo

from .actors import Operator, Visitor

GRACE = 45


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def live_server(databases: DatabaseFactory, clock: FakeClock) -> Iterator[LiveServer]:
    """This module's node, on the fake clock (the e2e fixtures use it)."""
    live = LiveServer(databases.new("sqlite"), clock=clock).start()
    yield live
    live.stop()


def wait_closed(server: LiveServer, clock: FakeClock, operator_id: str) -> None:
    """Wait until the node has seen the operator's last console close (the grace has begun)."""

    async def due() -> datetime | None:
        async with server.desk.db.read() as conn:
            timer = await timer_repo.get_timer(conn, gone_key(operator_id))
        return timer.due_at if timer is not None else None

    for _ in range(1000):
        if server.call(due) == clock() + timedelta(seconds=GRACE):
            return
        time.sleep(0.01)  # the browser's close reaches the node on its own thread
    raise AssertionError("the node did not see the console close")


def test_a_lost_operators_chat_goes_to_another_with_its_history(
    live_server: LiveServer,
    clock: FakeClock,
    visitor: Visitor,
    make_operator: Callable[..., Operator],
) -> None:
    sato = make_operator(name="佐藤")
    visitor.open_chat().start("技術的な質問", message="請求書が届きません。")
    expect(sato.messages.first).to_contain_text("請求書が届きません。")
    sato.send("お調べします。少々お待ちください。")
    expect(visitor.messages.last).to_contain_text("お調べします。")
    suzuki = make_operator(name="鈴木", online=False)

    # Sato's browser is gone (a crashed laptop). Within the grace nothing changes.
    sato.page.context.close()
    wait_closed(live_server, clock, sato.account["id"])
    fire_timers(live_server, clock, GRACE - 1)
    expect(visitor.frame.locator("#chat-status")).to_have_text("佐藤が対応いたします")

    fire_timers(live_server, clock, 1)
    # The visitor is told, in their language, that someone else continues, and waits again
    # first in line.
    expect(visitor.frame.locator("li.system--requeued .system-text")).to_have_text(
        "担当オペレーターとの接続が切れました。別のオペレーターが引き継ぎます。"
    )
    expect(visitor.frame.locator("#chat-waiting-place")).to_contain_text(
        "ただいま1番目にお待ちいただいています"
    )
    expect(visitor.composer).to_be_visible()
    suzuki.go_online()
    expect(visitor.frame.locator("#chat-status")).to_have_text("鈴木が対応いたします")
    expect(visitor.frame.locator("#chat-waiting")).to_have_count(0)
    # Suzuki has the chat with everything said before, and why it came.
    expect(suzuki.page.get_by_role("tab")).to_have_count(1)
    expect(suzuki.messages).to_have_count(2)
    expect(suzuki.messages.first).to_contain_text("請求書が届きません。")
    expect(suzuki.messages.last).to_contain_text("お調べします。少々お待ちください。")
    expect(suzuki.pane.locator("li.system--requeued")).to_contain_text(
        "佐藤の接続が一定時間以上切れたため、チャットは待ち行列に戻りました"
    )
    suzuki.send("鈴木が引き継ぎました。確認いたします。")
    expect(visitor.messages.last).to_contain_text("鈴木が引き継ぎました。")
    expect(visitor.messages).to_have_count(3)
