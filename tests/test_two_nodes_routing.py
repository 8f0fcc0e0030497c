"""Routing across two real nodes on one PostgreSQL database and Redis (SPEC A3, P6).

Two operators on two nodes accepting the same chat at once: exactly one wins. A node killed
with ``kill -9`` while offers wait on durable timers: the other node fires every one of them.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from clients import Operator, Visitor
from conftest import REDIS_URL, RUN_ID, TEST_CONFIG, DatabaseFactory
from madoguchi.store.database import Database
from madoguchi.store.tables import conversations, timers
from nodes import START_TIMEOUT, Node, run_cli, start_node, stop, wait_ready

pytestmark = [pytest.mark.xdist_group("two_nodes_routing"), pytest.mark.usefixtures("redis_server")]
PASSWORD = "correct horse battery"
# Support offers each chat for one second; sales is manual (operators pick from the queue).
CONFIG = TEST_CONFIG.replace(
    'routing = "least-active"', 'routing = "least-active"\noffer_seconds = 1'
)


class Pair:
    """Two nodes of one desk, with an operator account made on each."""

    def __init__(self, nodes: list[Node], env: dict[str, str], operators: list[dict[str, str]]):
        self.nodes = nodes
        self.env = env
        self.operators = operators


def _pair(databases: DatabaseFactory, request: pytest.FixtureRequest, tmp: Path) -> Iterator[Pair]:
    if databases.pg_template is None:
        databases.pg_template = request.getfixturevalue("pg_template")
    config = tmp / "madoguchi.toml"
    config.write_text(CONFIG, encoding="utf-8")
    prefix = f"mdg-test:{RUN_ID}:{uuid.uuid4().hex[:8]}:"
    env = {
        "MADOGUCHI_DATABASE_URL": databases.new("postgres"),
        "MADOGUCHI_BUS_URL": f"{REDIS_URL}{'&' if '?' in REDIS_URL else '?'}prefix={prefix}",
        "MADOGUCHI_SECRET_KEY": "two-nodes-test-secret-key-0123456789abcdef",
        "MADOGUCHI_CONFIG": str(config),
        "MADOGUCHI_VAR_DIR": str(tmp / "var"),
        "MADOGUCHI_ADMIN_PASSWORD": PASSWORD,
    }
    nodes = [start_node(name, env, tmp) for name in ("node1", "node2")]
    try:
        deadline = time.monotonic() + START_TIMEOUT
        for node in nodes:
            wait_ready(node, deadline)
        operators = []
        for name in ("ando", "baba"):
            email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
            command = f"user add {email} --name {name} --departments support,sales --capacity 50"
            code, _, err = run_cli([*command.split(), "--password", PASSWORD], env)
            assert code == 0, err
            operators.append({"email": email, "password": PASSWORD})
        yield Pair(nodes, env, operators)
    finally:
        stop(nodes)
        for node in nodes:
            print(f"----- {node.name} ({node.url}) -----\n{node.output()}")


@pytest.fixture
def pair(
    databases: DatabaseFactory, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Pair]:
    yield from _pair(databases, request, tmp_path)


async def test_two_operators_on_two_nodes_taking_one_chat_exactly_one_wins(pair: Pair) -> None:
    node1, node2 = pair.nodes
    async with (
        Visitor(node1.url) as visitor,
        Operator(node1.url, **pair.operators[0]) as ando,
        Operator(node2.url, **pair.operators[1]) as baba,
    ):
        for _ in range(10):
            conv = await visitor.start(topic="sales")
            # One live chat per topic (SPEC V16): the visitor ends this round's before the next.
            end_path = f"/api/v1/visitor/conversations/{conv['id']}/end"
            path = f"/api/v1/agent/conversations/{conv['id']}/accept"
            answers = await asyncio.gather(ando.http.post(path), baba.http.post(path))
            codes = sorted(a.status_code for a in answers)
            assert codes == [200, 409], [a.text for a in answers]
            loser = next(a for a in answers if a.status_code == 409)
            assert loser.json()["error"]["code"] == "already_assigned"
            winner = next(a for a in answers if a.status_code == 200).json()
            events = await visitor.http.get(f"/api/v1/visitor/conversations/{conv['id']}/events")
            joined = [e for e in events.json()["events"] if e["kind"] == "assigned"]
            assert [e["data"]["operator"]["name"] for e in joined] == [winner["operator"]["name"]]
            assert (await visitor.http.post(end_path, json={})).status_code == 200


async def test_offers_pending_on_a_node_killed_with_sigkill_all_lapse_once(pair: Pair) -> None:
    node1, node2 = pair.nodes
    async with (
        Operator(node1.url, **pair.operators[0]) as ando,
        Operator(node2.url, **pair.operators[1]) as baba,
    ):
        for operator in (ando, baba):
            assert (await operator.presence("online")).status_code == 200
        started = []
        for _ in range(20):  # twenty visitors: one live chat per topic each (SPEC V16)
            async with Visitor(node2.url) as visitor:
                started.append(await visitor.start(topic="technical"))
        node1.process.send_signal(signal.SIGKILL)
        node1.process.wait(10)
        # Each chat was offered to one of the two, lapsed, went to the other, lapsed again:
        # it waits in the queue, passed over by both, with no timer left behind.
        ids = {c["id"] for c in started}
        db = Database(pair.env["MADOGUCHI_DATABASE_URL"])
        try:
            deadline = time.monotonic() + 20
            while True:
                async with db.read() as conn:
                    rows = (
                        await conn.execute(select(conversations).where(conversations.c.id.in_(ids)))
                    ).all()
                    left = (await conn.execute(select(timers.c.key))).scalars().all()
                settled = [r for r in rows if r.offered_to is None and len(r.passed_by or []) == 2]
                if len(settled) == len(ids) and not [k for k in left if k.startswith("offer:")]:
                    break
                assert time.monotonic() < deadline, (
                    [(r.id, r.offered_to, r.passed_by) for r in rows],
                    left,
                )
                await asyncio.sleep(0.1)  # polling another process's progress
        finally:
            await db.close()
        assert all(r.status == "waiting" for r in rows)
        assert all(sorted(set(r.passed_by)) == sorted(r.passed_by) for r in rows)
