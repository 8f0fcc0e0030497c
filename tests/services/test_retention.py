"""Retention (SPEC P10) on both backends: what is erased, when, and that no trace is left.

The strongest check dumps the whole database after erasure (``sqlite3 .dump`` and the raw
bytes of the file and its WAL; ``pg_dump``) and searches it for every piece of text the chat
held. The same search run just before erasure finds all of it, so the search is known to work.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from clients import Operator, Socket, Visitor
from clock import START, FakeClock
from conftest import TEST_CONFIG, DatabaseFactory, LiveServer, fire_timers, make_settings, online
from madoguchi.bus import MemoryBus
from madoguchi.config import ConfigError, parse_desk_config
from madoguchi.domain.events import iso
from madoguchi.services import retention
from madoguchi.services.desk import Desk
from madoguchi.store import timers as timer_repo
from madoguchi.store.database import Database
from madoguchi.store.tables import conversation_participants, conversations, events
from madoguchi.store.timers import Timer

# No idle or time limit: chats stay live while the tests move the clock by days.
BASE = TEST_CONFIG.replace(
    'routing = "least-active"\n',
    'routing = "least-active"\nidle_minutes = 0\ntime_limit_minutes = 0\n',
    1,
)
WINDOW = 60  # download_window_minutes

QUESTION_JA = "サーバーの管理画面にログインできません。至急確認をお願いします"
DETAIL_EN = "The panel says: quota exceeded on volume zeta-9931"
REPLY = "確認いたします。Please wait while I check the mail server logs"
NOTE = "Customer disputed invoice 58120; refund pending approval"
MEMBER_ID = "MBR-20260401-7781"
CONTRACT = "株式会社ひかりネット商事"
CONTACT = "山田花子"
PAGE_URL = "https://panel.example.jp/account/hikari-7781"
COMMENT = "とても親切で助かりました。Thank you so much"
EVERY_TEXT = (QUESTION_JA, DETAIL_EN, REPLY, NOTE, MEMBER_ID, CONTRACT, CONTACT, PAGE_URL, COMMENT)


def config(policy: str, days: int | None = None, window: int = WINDOW) -> str:
    """The test desk with a retention policy."""
    keys = f'\n[retention]\npolicy = "{policy}"\ndownload_window_minutes = {window}\n'
    return BASE + keys + (f"days = {days}\n" if days is not None else "")


class Nodes:
    """Nodes started one after another on one database, as a restart does; all stopped at the end."""

    def __init__(self, url: str, clock: FakeClock) -> None:
        self.url, self.clock = url, clock
        self.running: list[LiveServer] = []

    def start(self, policy: str, days: int | None = None, window: int = WINDOW) -> LiveServer:
        node = LiveServer(self.url, config=config(policy, days, window), clock=self.clock).start()
        self.running.append(node)
        return node

    def stop(self, node: LiveServer) -> None:
        self.running.remove(node)
        node.stop()


@pytest.fixture
def url(backend: str, databases: DatabaseFactory) -> Iterator[str]:
    database_url = databases.new(backend)
    yield database_url
    databases.release(database_url)


@pytest.fixture
def nodes(url: str, clock: FakeClock) -> Iterator[Nodes]:
    made = Nodes(url, clock)
    yield made
    for node in list(made.running):
        made.stop(node)


# -- helpers ---------------------------------------------------------------------------------


def path(conv_id: str, action: str = "") -> str:
    return f"/api/v1/agent/conversations/{conv_id}{action}"


async def say(who: Operator | Visitor, conv_id: str, body: str) -> None:
    prefix = "agent" if isinstance(who, Operator) else "visitor"
    response = await who.http.post(
        f"/api/v1/{prefix}/conversations/{conv_id}/messages",
        json={"client_id": str(uuid.uuid4()), "body": body},
    )
    assert response.status_code == 201, response.text


async def heartbeat(console: Socket) -> None:
    """The console's ping after the clock jumped: its operator counts as there again.

    A socket handles its frames in turn, so the second pong means the first ping is stored.
    """
    for t in (1, 2):
        await console.send({"type": "ping", "t": t})
    await console.expect("pong", t=2)


async def visitor_sees(visitor: Visitor, conv_id: str) -> tuple[dict[str, Any], list[Any]]:
    """The conversation as the visitor's list shows it, and its events."""
    listed = (await visitor.http.get("/api/v1/visitor/conversations")).json()["conversations"]
    found = next(c for c in listed if c["id"] == conv_id)
    response = await visitor.http.get(f"/api/v1/visitor/conversations/{conv_id}/events")
    assert response.status_code == 200, response.text
    return found, response.json()["events"]


async def operator_sees(operator: Operator, conv_id: str) -> tuple[dict[str, Any], list[Any]]:
    """The conversation as the console shows it, and its events."""
    summary = await operator.http.get(path(conv_id))
    assert summary.status_code == 200, summary.text
    response = await operator.http.get(path(conv_id, "/events"))
    assert response.status_code == 200, response.text
    return summary.json(), response.json()["events"]


async def row(desk: Desk, conv_id: str) -> Any:
    async with desk.db.read() as conn:
        return (
            await conn.execute(select(conversations).where(conversations.c.id == conv_id))
        ).one()


async def count(desk: Desk, table: Any, conv_id: str) -> int:
    async with desk.db.read() as conn:
        query = select(func.count()).select_from(table).where(table.c.conversation_id == conv_id)
        return int((await conn.execute(query)).scalar_one())


async def stored_timer(desk: Desk, key: str) -> Timer | None:
    async with desk.db.read() as conn:
        return await timer_repo.get_timer(conn, key)


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    """Wait until ``check()`` holds: a node's own timer loop may be the one firing the timer."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.02)


def erased(node: LiveServer, conv_id: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return bool(node.call(row, node.desk, conv_id).erased_at is not None)

    return check


def purge_due(node: LiveServer, at: datetime) -> Callable[[], Awaitable[bool]]:
    return _timer_due(node, retention.PURGE_KEY, at)


async def chat_and_end(
    node: LiveServer, stack: AsyncExitStack, operator: Operator, joiner: Operator | None = None
) -> tuple[Visitor, str]:
    """A visitor's chat with ``operator``: messages in Japanese and English, the pre-chat form,
    the page, a private note (and ``joiner``, a supervisor, in it); the operator ends it, the
    visitor rates it with a comment."""
    visitor = await stack.enter_async_context(Visitor(node.url))
    conv = await visitor.start(
        message=QUESTION_JA,
        prechat={"member_id": MEMBER_ID, "contract_name": CONTRACT, "contact_person": CONTACT},
        context={"page_url": PAGE_URL, "time_zone": "Asia/Tokyo", "language": "ja-JP"},
    )
    conv_id = str(conv["id"])
    _, events_now = await operator_sees(operator, conv_id)  # assigned to them by routing
    assert [e["body"] for e in events_now if e["kind"] == "message"] == [QUESTION_JA]
    await say(visitor, conv_id, DETAIL_EN)
    await say(operator, conv_id, REPLY)
    note = await operator.http.post(
        path(conv_id, "/notes"), json={"client_id": str(uuid.uuid4()), "body": NOTE}
    )
    assert note.status_code == 201, note.text
    if joiner is not None:
        assert (await joiner.http.post(path(conv_id, "/join"))).status_code == 200
    ended = await operator.http.post(path(conv_id, "/end"), json={"reason": "resolved"})
    assert ended.status_code == 200, ended.text
    rated = await visitor.http.post(
        f"/api/v1/visitor/conversations/{conv_id}/survey", json={"rating": 4, "comment": COMMENT}
    )
    assert rated.status_code == 201, rated.text
    return visitor, conv_id


# -- dumping the database --------------------------------------------------------------------


def dump(database_url: str) -> bytes:
    """Everything the database holds, as its own tools show it, plus (SQLite) its raw files."""
    if database_url.startswith("sqlite"):
        return _dump_sqlite(Path(database_url.removeprefix("sqlite+aiosqlite:///")))
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.fail("pg_dump is needed: apt-get install postgresql-client-15")
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    done = subprocess.run([pg_dump, "--no-owner", dsn], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def _dump_sqlite(file: Path) -> bytes:
    # Move what the WAL holds into the file and empty the WAL; the node's connections stay open.
    with sqlite3.connect(file, timeout=10) as conn:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0, "the checkpoint could not complete"
        listing = "\n".join(conn.iterdump()).encode()
    conn.close()
    cli = shutil.which("sqlite3")
    if cli is not None:
        done = subprocess.run([cli, str(file), ".dump"], capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr.decode()
        listing = done.stdout
    wal = file.with_name(file.name + "-wal")
    return listing + file.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def appears(text: str, dumped: bytes) -> bool:
    """Whether ``text`` is in the dump as stored: plain, in JSON (\\uXXXX), or COPY-escaped."""
    in_json = json.dumps(text)[1:-1]
    forms = {text, in_json, in_json.replace("\\", "\\\\")}
    return any(form.encode() in dumped for form in forms)


# -- policy "none" ---------------------------------------------------------------------------


async def test_none_erases_when_the_download_window_closes_and_leaves_no_trace(
    nodes: Nodes, clock: FakeClock, stack: AsyncExitStack
) -> None:
    node = nodes.start("none")
    sato, _ = await online(node, stack, "Sato")
    # In sales only, so that routing gives the support chat to Sato, whom the supervisor joins.
    boss, _ = await online(node, stack, "Boss", role="supervisor", departments=["sales"])
    visitor, conv_id = await chat_and_end(node, stack, sato, joiner=boss)
    before = node.call(row, node.desk, conv_id)
    assert before.client_address == "127.0.0.1"  # what a network ban covers (SPEC A10)

    # A second before the window closes, the visitor can still read (and download) it all.
    fire_timers(node, clock, WINDOW * 60 - 1)
    summary, kept = await visitor_sees(visitor, conv_id)
    assert (summary["status"], summary["erased_at"]) == ("ended", None)
    assert [e["body"] for e in kept if e["kind"] == "message"] == [QUESTION_JA, DETAIL_EN, REPLY]
    transcript = await visitor.http.get(f"/api/v1/visitor/conversations/{conv_id}/transcript")
    assert transcript.status_code == 200
    assert QUESTION_JA in transcript.text
    dumped = dump(node.database_url)
    assert [text for text in EVERY_TEXT if not appears(text, dumped)] == []

    fire_timers(node, clock, 1)
    await eventually(erased(node, conv_id))

    summary, gone = await visitor_sees(visitor, conv_id)
    closed_at = iso(START + timedelta(minutes=WINDOW))
    assert (summary["status"], summary["end_reason"], summary["erased_at"], gone) == (
        "ended",
        "resolved",
        closed_at,
        [],
    )
    transcript = await visitor.http.get(f"/api/v1/visitor/conversations/{conv_id}/transcript")
    assert (transcript.status_code, transcript.json()["error"]["code"]) == (410, "erased")
    console, gone = await operator_sees(sato, conv_id)
    assert (console["status"], console["end_reason"], console["erased_at"]) == (
        "ended",
        "resolved",
        closed_at,
    )
    assert console["operator"]["name"] == "Sato"
    assert set(console["prechat"].values()) == {None}
    assert set(console["context"].values()) == {None}
    assert gone == []
    dumped = dump(node.database_url)
    assert [text for text in EVERY_TEXT if appears(text, dumped)] == []
    # What metrics need survives: times, topic, department, language, operator, rating, reason.
    after = node.call(row, node.desk, conv_id)
    for column in (
        "created_at",
        "assigned_at",
        "ended_at",
        "rated_at",
        "topic",
        "department",
        "language",
        "operator_id",
        "rating",
        "end_reason",
        "status",
        "last_seq",
        "last_activity_at",
    ):
        assert getattr(after, column) == getattr(before, column), column
    assert (after.rating, after.end_reason, after.department, after.language) == (
        4,
        "resolved",
        "support",
        "ja",
    )
    assert (after.prechat, after.context, after.rating_comment) == ({}, {}, None)
    assert after.client_address is None  # personal data, erased with the content
    assert node.call(count, node.desk, events, conv_id) == 0
    assert node.call(count, node.desk, conversation_participants, conv_id) == 1
    assert node.call(stored_timer, node.desk, retention.erase_key(conv_id)) is None


async def test_a_restart_between_the_end_and_the_erasure_still_erases(
    nodes: Nodes, clock: FakeClock
) -> None:
    first = nodes.start("none")
    async with AsyncExitStack() as stack:
        sato, _ = await online(first, stack, "Sato")
        _, conv_id = await chat_and_end(first, stack, sato)
    nodes.stop(first)

    second = nodes.start("none")
    fire_timers(second, clock, WINDOW * 60)
    await eventually(erased(second, conv_id))
    assert second.call(count, second.desk, events, conv_id) == 0
    assert second.call(row, second.desk, conv_id).rating_comment is None


async def test_live_conversations_and_follow_ups_are_never_erased(
    nodes: Nodes, clock: FakeClock, stack: AsyncExitStack
) -> None:
    node = nodes.start("none")
    sato, _ = await online(node, stack, "Sato")
    visitor = await stack.enter_async_context(Visitor(node.url))
    active = (await visitor.start(message=QUESTION_JA))["id"]
    waiting = (await visitor.start(topic="sales", message=DETAIL_EN))["id"]  # picked by hand
    later = (await visitor.start(topic="plan", message=REPLY))["id"]
    promised = await sato.http.post(path(later, "/end"), json={"reason": "deferred"})
    assert promised.json()["status"] == "follow_up"

    for conv_id in (active, waiting, later):
        assert node.call(retention.do_erase, node.desk, conv_id) is False
    fire_timers(node, clock, 2 * WINDOW * 60)
    for conv_id, text in ((active, QUESTION_JA), (waiting, DETAIL_EN), (later, REPLY)):
        summary, kept = await visitor_sees(visitor, conv_id)
        assert summary["erased_at"] is None
        assert text in [e["body"] for e in kept]

    # The follow-up answered and closed: now it has ended, and its window starts.
    closed = await sato.http.post(path(later, "/end"), json={"reason": "resolved"})
    assert closed.json()["status"] == "ended"
    fire_timers(node, clock, WINDOW * 60)
    await eventually(erased(node, later))
    assert (await visitor_sees(visitor, later))[1] == []
    assert (await visitor_sees(visitor, active))[0]["erased_at"] is None


async def test_a_window_made_longer_after_the_end_is_honoured(
    nodes: Nodes, clock: FakeClock, stack: AsyncExitStack
) -> None:
    node = nodes.start("none")
    sato, _ = await online(node, stack, "Sato")
    _, conv_id = await chat_and_end(node, stack, sato)
    nodes.stop(node)
    longer = nodes.start("none", window=2 * WINDOW)
    fire_timers(longer, clock, WINDOW * 60)
    longer_due = START + timedelta(minutes=2 * WINDOW)
    await eventually(_timer_due(longer, retention.erase_key(conv_id), longer_due))
    assert longer.call(row, longer.desk, conv_id).erased_at is None
    fire_timers(longer, clock, WINDOW * 60)
    await eventually(erased(longer, conv_id))


async def test_an_erasure_set_under_none_does_nothing_once_the_policy_is_keep(
    nodes: Nodes, clock: FakeClock, stack: AsyncExitStack
) -> None:
    node = nodes.start("none")
    sato, _ = await online(node, stack, "Sato")
    _, conv_id = await chat_and_end(node, stack, sato)
    nodes.stop(node)
    kept = nodes.start("keep")
    fire_timers(kept, clock, WINDOW * 60)
    await eventually(_no_timer(kept, retention.erase_key(conv_id)))
    assert kept.call(row, kept.desk, conv_id).erased_at is None
    assert kept.call(count, kept.desk, events, conv_id) > 0


def _timer_due(node: LiveServer, key: str, at: datetime) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        timer = node.call(stored_timer, node.desk, key)
        return timer is not None and timer.due_at == at

    return check


def _no_timer(node: LiveServer, key: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return node.call(stored_timer, node.desk, key) is None

    return check


# -- policy "keep" ---------------------------------------------------------------------------


async def test_keep_erases_nothing(nodes: Nodes, clock: FakeClock, stack: AsyncExitStack) -> None:
    node = nodes.start("keep")
    sato, _ = await online(node, stack, "Sato")
    visitor, conv_id = await chat_and_end(node, stack, sato)
    assert node.call(stored_timer, node.desk, retention.erase_key(conv_id)) is None
    assert node.call(stored_timer, node.desk, retention.PURGE_KEY) is None
    fire_timers(node, clock, 400 * 86_400)
    summary, kept = await visitor_sees(visitor, conv_id)
    assert summary["erased_at"] is None
    assert QUESTION_JA in [e["body"] for e in kept]
    assert node.call(row, node.desk, conv_id).rating_comment == COMMENT


# -- policy "days" ---------------------------------------------------------------------------


async def test_days_purges_what_ended_n_days_ago_and_runs_again_a_day_later(
    nodes: Nodes, clock: FakeClock, stack: AsyncExitStack
) -> None:
    node = nodes.start("days", days=30)
    day = timedelta(days=1)
    # A fresh desk gets its purge at start; it runs at once and sets itself a day on.
    fire_timers(node, clock, 0)
    await eventually(purge_due(node, START + day))
    sato, console = await online(node, stack, "Sato")
    visitor = await stack.enter_async_context(Visitor(node.url))
    live = (await visitor.start(message="まだ続いているチャットです"))["id"]
    clock.set(START + day - timedelta(minutes=1))
    await heartbeat(console)
    _, old = await chat_and_end(node, stack, sato)
    clock.set(START + day + timedelta(minutes=1))
    await heartbeat(console)
    _, young = await chat_and_end(node, stack, sato)

    # 31 days on: "old" ended 30 days and a minute ago, "young" 30 days less a minute ago.
    clock.set(START + 31 * day)
    fire_timers(node, clock, 0)
    await eventually(purge_due(node, START + 32 * day))
    assert node.call(row, node.desk, old).erased_at == START + 31 * day
    assert node.call(count, node.desk, events, old) == 0
    assert node.call(row, node.desk, young).erased_at is None
    assert node.call(count, node.desk, events, young) > 0
    summary, kept = await visitor_sees(visitor, live)
    assert (summary["status"], summary["erased_at"]) == ("active", None)
    assert "まだ続いているチャットです" in [e["body"] for e in kept]

    fire_timers(node, clock, 86_400)
    await eventually(purge_due(node, START + 33 * day))
    assert node.call(row, node.desk, young).erased_at == START + 32 * day
    assert node.call(row, node.desk, live).erased_at is None


async def test_a_backlog_is_purged_a_batch_per_transaction(
    nodes: Nodes, clock: FakeClock, stack: AsyncExitStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "PURGE_BATCH", 2)
    node = nodes.start("days", days=1)
    scheduler = node.app.state.scheduler
    node.call(scheduler.stop)  # this test fires each run itself, to see every batch
    # Online without a console: no presence timer fires beside the purge when the clock jumps.
    account = node.create_operator(name="Sato", capacity=10)
    sato = await stack.enter_async_context(
        Operator(node.url, account["email"], account["password"])
    )
    assert (await sato.presence("online")).status_code == 200
    ended = [(await chat_and_end(node, stack, sato))[1] for _ in range(5)]

    def erased_count() -> int:
        return sum(node.call(row, node.desk, c).erased_at is not None for c in ended)

    node.call(scheduler.run_due)  # the first purge, at start (if the loop has not run it yet)
    assert (erased_count(), node.call(stored_timer, node.desk, retention.PURGE_KEY).due_at) == (
        0,
        START + timedelta(days=1),
    )
    clock.set(START + timedelta(days=1))
    # Each batch commits, and sets the purge due at once for the next one: 2, 2, then 1.
    for done, due in ((2, START + timedelta(days=1)), (4, START + timedelta(days=1))):
        assert node.call(scheduler.run_due) == 1
        assert (erased_count(), node.call(stored_timer, node.desk, retention.PURGE_KEY).due_at) == (
            done,
            due,
        )
    assert node.call(scheduler.run_due) == 1
    assert (erased_count(), node.call(stored_timer, node.desk, retention.PURGE_KEY).due_at) == (
        5,
        START + timedelta(days=2),
    )


async def test_the_purge_stops_when_the_policy_is_no_longer_days(
    nodes: Nodes, clock: FakeClock
) -> None:
    node = nodes.start("days", days=7)
    assert node.call(stored_timer, node.desk, retention.PURGE_KEY) is not None
    nodes.stop(node)
    # Restarted with "keep": the purge fires once more, does nothing, and is not set again.
    kept = nodes.start("keep")
    fire_timers(kept, clock, 86_400)
    await eventually(_no_timer(kept, retention.PURGE_KEY))
    fire_timers(kept, clock, 2 * 86_400)
    assert kept.call(stored_timer, kept.desk, retention.PURGE_KEY) is None


async def test_nodes_starting_one_after_another_leave_the_first_purge_deadline_alone(
    url: str, clock: FakeClock
) -> None:
    settings = make_settings(url, "memory://", "http://127.0.0.1", config("days", 7))
    desks = [Desk(settings=settings, db=Database(url), bus=MemoryBus(), clock=clock) for _ in "ab"]
    try:
        assert await retention.do_ensure_purge(desks[0]) is True
        clock.advance(timedelta(hours=5))
        assert await retention.do_ensure_purge(desks[1]) is False
        for desk in desks:
            assert await stored_timer(desk, retention.PURGE_KEY) == Timer(
                retention.PURGE_KEY, retention.PURGE_TIMER, START, {}, 0
            )
        keep = make_settings(url, "memory://", "http://127.0.0.1", config("keep"))
        assert await retention.do_ensure_purge(Desk(keep, desks[0].db, MemoryBus(), clock)) is False
    finally:
        for desk in desks:
            await desk.db.close()


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ('policy = "days"', 'give days = N with policy = "days", and only then'),
        ('policy = "none"\ndays = 3', 'give days = N with policy = "days", and only then'),
        ('policy = "days"\ndays = 0', "days"),
        ('policy = "forever"', "policy"),
        ("download_window_minutes = 0", "download_window_minutes"),
    ],
)
def test_bad_retention_settings_are_refused_with_the_key(keys: str, expected: str) -> None:
    with pytest.raises(ConfigError, match="retention") as refused:
        parse_desk_config(BASE + f"\n[retention]\n{keys}\n")
    assert expected in str(refused.value)
