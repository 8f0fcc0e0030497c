"""Handover across two real nodes on one PostgreSQL database and Redis (SPEC V10, A3, P6).

Operator A's console is on node 1; the visitor and operator B are on node 2. Node 1 is killed
with ``kill -9``: it closes no socket and tells nobody. A's dead-man's switch (the last sign of
life plus one 25 s heartbeat plus the grace) fires on node 2, and the chat moves to B with its
history while the visitor is told. Real time: the grace is the smallest allowed, 31 s, so the
wait is about 56 s.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clients import Operator, Socket, Visitor
from conftest import REDIS_URL, RUN_ID, TEST_CONFIG, DatabaseFactory
from nodes import START_TIMEOUT, Node, run_cli, start_node, stop, wait_ready

pytestmark = [
    pytest.mark.xdist_group("two_nodes_handover"),
    pytest.mark.usefixtures("redis_server"),
]
PASSWORD = "correct horse battery"
GRACE = 31  # the least disconnect_grace_seconds allows
CONFIG = TEST_CONFIG + f"\n[operators]\ndisconnect_grace_seconds = {GRACE}\n"


@pytest.fixture
def nodes(
    databases: DatabaseFactory, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[list[Node], list[dict[str, str]]]]:
    """Two nodes of one desk, and two operators of its support department."""
    if databases.pg_template is None:
        databases.pg_template = request.getfixturevalue("pg_template")
    config = tmp_path / "madoguchi.toml"
    config.write_text(CONFIG, encoding="utf-8")
    prefix = f"mdg-test:{RUN_ID}:{uuid.uuid4().hex[:8]}:"
    env = {
        "MADOGUCHI_DATABASE_URL": databases.new("postgres"),
        "MADOGUCHI_BUS_URL": f"{REDIS_URL}{'&' if '?' in REDIS_URL else '?'}prefix={prefix}",
        "MADOGUCHI_SECRET_KEY": "two-nodes-handover-secret-key-0123456789abcdef",
        "MADOGUCHI_CONFIG": str(config),
        "MADOGUCHI_VAR_DIR": str(tmp_path / "var"),
        "MADOGUCHI_ADMIN_PASSWORD": PASSWORD,
    }
    started = [start_node(name, env, tmp_path) for name in ("node1", "node2")]
    try:
        deadline = time.monotonic() + START_TIMEOUT
        for node in started:
            wait_ready(node, deadline)
        operators = []
        for name in ("ando", "baba"):
            email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
            command = f"user add {email} --name {name} --departments support --capacity 5"
            code, _, err = run_cli([*command.split(), "--password", PASSWORD], env)
            assert code == 0, err
            operators.append({"email": email, "password": PASSWORD})
        yield started, operators
    finally:
        stop(started)
        for node in started:
            print(f"----- {node.name} ({node.url}) -----\n{node.output()}")


async def _until_event(
    socket: Socket, kind: str, deadline: float, *alive: Socket
) -> dict[str, Any]:
    """The next event of ``kind`` on ``socket``, waiting up to ``deadline`` (monotonic).

    Meanwhile every socket pings, as a client does each heartbeat, so that the nodes keep
    them open (and count the consoles among them as there).
    """
    while True:
        for each in (socket, *alive):
            await each.send({"type": "ping", "t": 0})
        try:
            return await socket.event(kind)
        except TimeoutError:  # Socket.recv waits 10 s at a time
            assert time.monotonic() < deadline, f"no {kind} event in time"


async def test_a_node_killed_with_sigkill_hands_its_operators_chats_to_another(
    nodes: tuple[list[Node], list[dict[str, str]]],
) -> None:
    (node1, node2), (ando_account, baba_account) = nodes
    async with (
        Operator(node1.url, **ando_account) as ando,
        Operator(node2.url, **baba_account) as baba,
        Visitor(node2.url) as visitor,
    ):
        # Ando's console is on node 1, and Ando alone is online: the chat goes to Ando.
        ando_ws = await ando.connect()
        opened = time.monotonic()
        assert (await ando.presence("online")).status_code == 200
        conv = await visitor.start(message="ログインできません")
        visitor_ws = await visitor.connect()
        assert (await visitor_ws.event("assigned"))["data"]["operator"] == {"name": "ando"}
        said = await ando.http.post(
            f"/api/v1/agent/conversations/{conv['id']}/messages",
            json={"client_id": str(uuid.uuid4()), "body": "お調べします"},
        )
        assert said.status_code == 201, said.text
        await visitor_ws.event("message", body="お調べします")  # across nodes, over Redis
        baba_ws = await baba.connect()
        assert (await baba.presence("online")).status_code == 200

        node1.process.send_signal(signal.SIGKILL)
        node1.process.wait(10)

        # A little under a heartbeat plus the grace after Ando's console was last seen,
        # Baba, on node 2, has the chat, and the visitor was told why.
        deadline = opened + 25 + GRACE + 10
        told = await _until_event(visitor_ws, "requeued", deadline, baba_ws)
        lost_after = time.monotonic() - opened
        assert told["data"] == {
            "reason": "operator_lost",
            "operator": {"name": "ando"},
            "department": "support",
        }
        assert lost_after >= GRACE, lost_after
        assert (await visitor_ws.event("assigned"))["data"]["operator"] == {"name": "baba"}
        assigned = await baba_ws.expect("assigned")
        assert assigned["conversation"]["id"] == conv["id"]
        history = [(await baba_ws.event("message"))["body"] for _ in range(2)]
        assert history == ["ログインできません", "お調べします"]
        answer = await baba.http.post(
            f"/api/v1/agent/conversations/{conv['id']}/messages",
            json={"client_id": str(uuid.uuid4()), "body": "代わりに対応します"},
        )
        assert answer.status_code == 201, answer.text
        assert (await visitor_ws.event("message"))["body"] == "代わりに対応します"
        ando_status = (await baba.http.get("/api/v1/agent/operators")).json()["operators"]
        assert {o["name"]: o["status"] for o in ando_status}["ando"] == "offline"
        for socket in (ando_ws, baba_ws, visitor_ws):
            await socket.close()
