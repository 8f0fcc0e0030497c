"""The idle limit in the browsers (SPEC P2): the warning at 15 minutes, "I'm still here", the end
at 20. The server runs on a fake clock that the test moves; the browsers keep real time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from clock import FakeClock
from conftest import TEST_CONFIG, DatabaseFactory, LiveServer

from .actors import Operator, Visitor

# Consoles prove they are there every 25 s of real time; the fake clock jumps minutes at once,
# so the grace is made longer than the test's jumps (tests/e2e/test_handover.py tests it). The
# 30-minute time limit is off: this test waits on idleness past it.
CONFIG = (
    TEST_CONFIG.replace(
        'routing = "least-active"', 'routing = "least-active"\ntime_limit_minutes = 0'
    )
    + "\n[operators]\ndisconnect_grace_seconds = 3600\n"
)
MINUTE = 60


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def live_server(databases: DatabaseFactory, clock: FakeClock) -> Iterator[LiveServer]:
    live = LiveServer(databases.new("sqlite"), config=CONFIG, clock=clock).start()
    yield live
    live.stop()


def fire_timers(server: LiveServer, clock: FakeClock, seconds: float) -> None:
    clock.advance(seconds=seconds)
    server.call(server.app.state.scheduler.run_due)


def test_the_idle_warning_appears_at_fifteen_minutes_and_the_chat_ends_at_twenty(
    live_server: LiveServer,
    clock: FakeClock,
    visitor: Visitor,
    make_operator: Callable[..., Operator],
) -> None:
    operator = make_operator()
    visitor.open_chat().start("技術的な質問", message="サーバーにつながりません")
    expect(operator.messages.last).to_contain_text("サーバーにつながりません")

    fire_timers(live_server, clock, 15 * MINUTE - 1)
    warning = visitor.frame.locator("li.system--warning")
    expect(warning).to_have_count(0)
    fire_timers(live_server, clock, 1)
    expect(warning).to_contain_text("あと5分でチャットが自動終了します")
    expect(operator.pane.locator("li.system--warning")).to_contain_text("チャットが自動終了します")

    # One click answers it on both sides; the chat goes on.
    visitor.frame.get_by_role("button", name="チャットを続ける").click()
    expect(visitor.frame.get_by_role("button", name="チャットを続ける")).to_have_count(0)
    expect(operator.pane.locator("li.system--still_here")).to_contain_text(
        "お客様がチャットの継続を選択しました"
    )
    fire_timers(live_server, clock, 5 * MINUTE)
    expect(visitor.composer).to_be_visible()

    # Then nobody does anything: warned again 15 minutes after the click, ended 5 after that.
    fire_timers(live_server, clock, 10 * MINUTE)
    expect(warning).to_have_count(2)
    fire_timers(live_server, clock, 5 * MINUTE)
    expect(visitor.frame.locator("li.system--ended")).to_contain_text(
        "一定時間操作がなかったため、チャットを終了しました"
    )
    expect(visitor.composer).to_have_count(0)
    expect(operator.pane.locator(".ended-note")).to_contain_text("無操作")
