"""The limits' durable timers across ``kill -9`` of one of two nodes (SPEC P2, P6; issue 4).

Two real ``madoguchi serve`` processes on one PostgreSQL database and Redis, in real time, with
limits short enough to watch: idle after 12 s, warned 6 s before. Node 1 is killed while it is
in the middle of firing one of those timers: it has claimed the timer's row in a transaction
and is waiting for the conversation's lock, which the test holds for that moment. The kill
rolls that transaction back, the row comes back, and node 2 fires it: every chat is warned
once and ended once, and no timer is left behind.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from clients import Operator, Socket, Visitor
from conftest import REDIS_URL, RUN_ID, TEST_CONFIG, DatabaseFactory
from nodes import START_TIMEOUT, Node, run_cli, start_node, stop, wait_ready

pytestmark = [pytest.mark.xdist_group("two_nodes_limits"), pytest.mark.usefixtures("redis_server")]
PASSWORD = "correct horse battery"
CHATS = 10
# Support: idle after 12 s, the warning 6 s before; no time limit, so idleness alone acts.
CONFIG = TEST_CONFIG.replace(
    'routing = "least-active"',
    'routing = "least-active"\n'
    "idle_minutes = 0.2\nidle_warning_minutes = 0.1\ntime_limit_minutes = 0",
)


class Pair:
    """Two nodes of one desk, and an operator account for support."""

    def __init__(self, nodes: list[Node], env: dict[str, str], operator: dict[str, str]):
        self.nodes = nodes
        self.env = env
        self.operator = operator

    @property
    def dsn(self) -> str:
        """The database, as asyncpg itself connects to it."""
        return self.env["MADOGUCHI_DATABASE_URL"].replace("+asyncpg", "", 1)


@pytest.fixture
def pair(
    databases: DatabaseFactory, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Pair]:
    if databases.pg_template is None:
        databases.pg_template = request.getfixturevalue("pg_template")
    config = tmp_path / "madoguchi.toml"
    config.write_text(CONFIG, encoding="utf-8")
    prefix = f"mdg-test:{RUN_ID}:{uuid.uuid4().hex[:8]}:"
    database_url = databases.new("postgres")
    env = {
        "MADOGUCHI_DATABASE_URL": database_url,
        "MADOGUCHI_BUS_URL": f"{REDIS_URL}{'&' if '?' in REDIS_URL else '?'}prefix={prefix}",
        "MADOGUCHI_SECRET_KEY": "two-nodes-test-secret-key-0123456789abcdef",
        "MADOGUCHI_CONFIG": str(config),
        "MADOGUCHI_VAR_DIR": str(tmp_path / "var"),
        "MADOGUCHI_ADMIN_PASSWORD": PASSWORD,
    }
    nodes = [start_node(name, env, tmp_path) for name in ("node1", "node2")]
    try:
        deadline = time.monotonic() + START_TIMEOUT
        for node in nodes:
            wait_ready(node, deadline)
        email = f"ando-{uuid.uuid4().hex[:8]}@example.com"
        command = f"user add {email} --name ando --departments support --capacity 50"
        code, _, err = run_cli([*command.split(), "--password", PASSWORD], env)
        assert code == 0, err
        yield Pair(nodes, env, {"email": email, "password": PASSWORD})
    finally:
        for node in nodes:
            if node.process.poll() is None:
                os.kill(node.process.pid, signal.SIGCONT)  # in case the test left it stopped
        stop(nodes)
        for node in nodes:
            print(f"----- {node.name} ({node.url}) -----\n{node.output()}")
        databases.release(database_url)


def _tcp_ports(pid: int) -> set[int]:
    """The local ports of a process's TCP sockets (Linux): which database sessions are its."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target.removeprefix("socket:[").removesuffix("]"))
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text(encoding="ascii").splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


async def _blocked_by(conn: asyncpg.Connection, pid: int) -> dict[int, int]:
    """Database sessions waiting for a lock that session ``pid`` holds: backend pid → port."""
    rows = await conn.fetch(
        "SELECT pid, client_port FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
        pid,
    )
    return {row["pid"]: row["client_port"] for row in rows}


async def kill_in_the_middle_of_a_run(pair: Pair, node: Node, conv_ids: list[str]) -> None:
    """``kill -9`` the node while it holds a claimed timer of one of these chats, uncommitted.

    The test takes the chats' row locks; a limits timer that comes due is claimed (its row
    deleted, uncommitted) and its handler waits for the conversation's lock. Once one of
    ``node``'s sessions waits so, the node is frozen (SIGSTOP) to pin that moment, checked to
    be still waiting, and killed; only then are the locks let go.
    """
    locker = await asyncpg.connect(pair.dsn)
    try:
        locks = locker.transaction()
        await locks.start()
        await locker.execute(
            "SELECT id FROM conversations WHERE id = ANY($1::text[]) FOR UPDATE", conv_ids
        )
        me = locker.get_server_pid()
        deadline = time.monotonic() + 20
        while True:
            assert node.process.poll() is None, node.output()
            ports = _tcp_ports(node.process.pid)
            waiting = [
                pid for pid, port in (await _blocked_by(locker, me)).items() if port in ports
            ]
            if waiting:
                node.process.send_signal(signal.SIGSTOP)
                # Waited less than its lock_timeout (500 ms) before the freeze: still in
                # the run. Frozen, the node can no longer end that transaction itself.
                if set(waiting) & set(await _blocked_by(locker, me)):
                    break
                node.process.send_signal(signal.SIGCONT)
            assert time.monotonic() < deadline, "the node never ran a limits timer"
            await asyncio.sleep(0.02)  # polling another process's progress
        node.process.send_signal(signal.SIGKILL)
        node.process.wait(10)
        await locks.rollback()  # let the chats go; the dead node's run rolls back
    finally:
        await locker.close()


async def _limits_timers(pair: Pair) -> list[str]:
    conn = await asyncpg.connect(pair.dsn)
    try:
        rows = await conn.fetch("SELECT key FROM timers WHERE key LIKE 'limits:%'")
        return [row["key"] for row in rows]
    finally:
        await conn.close()


def _seen(socket: Socket, kind: str) -> Counter[str]:
    """How many events of this kind the socket delivered, per conversation."""
    return Counter(
        f["conversation_id"]
        for f in socket.seen
        if f.get("type") == "event" and f.get("kind") == kind
    )


async def _ended(socket: Socket, conv_ids: set[str]) -> None:
    """Read until the socket delivered the ``ended`` event of every one of these chats."""
    left = set(conv_ids)
    while left:
        left.discard((await socket.event("ended"))["conversation_id"])


async def test_kill_9_of_a_node_firing_a_limit_loses_no_timer_and_fires_none_twice(
    pair: Pair,
) -> None:
    node1, node2 = pair.nodes
    async with AsyncExitStack() as stack:
        operator = await stack.enter_async_context(Operator(node2.url, **pair.operator))
        console = await operator.connect()
        stack.push_async_callback(console.close)
        assert (await operator.presence("online")).status_code == 200
        visitors = [await stack.enter_async_context(Visitor(node1.url)) for _ in range(CHATS)]
        # Started on node 1, which assigns them and sets their timers; read on node 2.
        convs = await asyncio.gather(*(v.start() for v in visitors))
        assert [c["status"] for c in convs] == ["active"] * CHATS
        ids = [c["id"] for c in convs]
        sockets = []
        for visitor, conv_id in zip(visitors, ids, strict=True):
            socket = await visitor.connect(resume={conv_id: 0}, url=node2.url)
            stack.push_async_callback(socket.close)
            sockets.append(socket)

        await kill_in_the_middle_of_a_run(pair, node1, ids)

        # Every visitor, and the operator, is warned once and sees the chat end once.
        await asyncio.wait_for(
            asyncio.gather(
                *(_ended(s, {c}) for s, c in zip(sockets, ids, strict=True)),
                _ended(console, set(ids)),
            ),
            timeout=30,
        )
        for socket, conv_id in zip(sockets, ids, strict=True):
            assert _seen(socket, "warning") == {conv_id: 1}
            assert _seen(socket, "ended") == {conv_id: 1}
        assert _seen(console, "warning") == dict.fromkeys(ids, 1)
        assert _seen(console, "ended") == dict.fromkeys(ids, 1)
        for conv_id in ids:
            response = await operator.http.get(f"/api/v1/agent/conversations/{conv_id}/events")
            assert response.status_code == 200, response.text
            found: list[dict[str, Any]] = response.json()["events"]
            history = [e["kind"] for e in found]
            assert (history.count("warning"), history.count("ended")) == (1, 1), history
            ended = next(e for e in found if e["kind"] == "ended")
            assert ended["data"] == {"reason": "idle", "by": "system"}
    assert await _limits_timers(pair) == []
    assert node2.process.poll() is None, node2.output()
