"""Security: rate-limit bypass across two nodes (SPEC P11, issue 6).

An abuser who spreads requests over the nodes of a desk (a load balancer does it for them), or
takes a new visitor id for every chat, must meet the same limits as on one node. Two real
``madoguchi serve`` processes on one PostgreSQL database and Redis; each test would fail if
each node counted alone (it would let through twice the limit).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from clients import Socket, Visitor
from conftest import REDIS_URL, RUN_ID, TEST_CONFIG, DatabaseFactory
from nodes import START_TIMEOUT, Node, start_node, stop, wait_ready

# Two cold starts on a shared, busy machine can take longer than one node's usual allowance.
STARTUP = 4 * START_TIMEOUT

pytestmark = [pytest.mark.xdist_group("two_nodes_rate"), pytest.mark.usefixtures("redis_server")]
MESSAGES = 4  # a visitor's messages per minute
CONFIG = (
    TEST_CONFIG
    + f"""
[rate_limits.message]
visitor = "{MESSAGES}/1m"

[rate_limits.start]
visitor = "2/10m"
network = "3/10m"
"""
)


@pytest.fixture
def pair(
    databases: DatabaseFactory, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[list[Node]]:
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
    }
    nodes = [start_node(name, env, tmp_path) for name in ("node1", "node2")]
    try:
        deadline = time.monotonic() + STARTUP
        for node in nodes:
            wait_ready(node, deadline)
        yield nodes
    finally:
        stop(nodes)
        for node in nodes:
            print(f"----- {node.name} ({node.url}) -----\n{node.output()}")
        databases.release(database_url)


async def test_messages_sent_through_both_nodes_in_turn_meet_one_limit(pair: list[Node]) -> None:
    node1, node2 = pair
    async with Visitor(node1.url) as visitor:
        conv = await visitor.start(message=None)
        sockets: list[Socket] = [
            await visitor.connect(resume={conv["id"]: 0}, url=node.url) for node in pair
        ]
        try:
            answers = []
            for n in range(2 * MESSAGES):
                ws = sockets[n % 2]  # node 1, node 2, node 1, …
                client_id = f"m{n}"
                await ws.send(
                    {
                        "type": "send",
                        "conversation_id": conv["id"],
                        "client_id": client_id,
                        "body": f"message {n}",
                    }
                )
                while True:
                    frame = await ws.recv()
                    if frame.get("client_id") == client_id and frame["type"] in ("ack", "error"):
                        answers.append(frame)
                        break
        finally:
            for ws in sockets:
                await ws.close()
        assert [a["type"] for a in answers] == ["ack"] * MESSAGES + ["error"] * MESSAGES
        assert {a["code"] for a in answers[MESSAGES:]} == {"rate_limited"}
        assert all(0 < a["retry_after"] <= 15 for a in answers[MESSAGES:])
        # What a visitor on either node reads: the accepted ones, and no refused one.
        for node in (node1, node2):
            response = await visitor.http.get(
                f"{node.url}/api/v1/visitor/conversations/{conv['id']}/events"
            )
            stored = [e["body"] for e in response.json()["events"] if e["kind"] == "message"]
            assert stored == [f"message {n}" for n in range(MESSAGES)]


async def test_a_new_visitor_id_per_chat_through_both_nodes_meets_the_network_limit(
    pair: list[Node],
) -> None:
    statuses = []
    for n in range(6):
        node = pair[n % 2]
        async with Visitor(node.url) as visitor:  # a fresh visitor id every time
            response = await visitor.http.post(
                "/api/v1/visitor/conversations",
                json={"topic": "technical", "language": "ja", "consent": True},
            )
            statuses.append(response.status_code)
            if response.status_code == 429:
                body = response.json()["error"]
                assert body["code"] == "rate_limited"
                assert body["details"]["action"] == "start"
                assert int(response.headers["Retry-After"]) == body["details"]["retry_after"]
    assert statuses == [201, 201, 201, 429, 429, 429]


async def test_one_visitor_cannot_start_more_chats_by_changing_node(pair: list[Node]) -> None:
    node1, node2 = pair
    async with Visitor(node1.url) as visitor:
        assert (await visitor.start(topic="technical"))["status"] == "waiting"
        moved = Visitor(node2.url, token=visitor.token)
        async with moved:
            assert (await moved.start(topic="billing"))["status"] == "waiting"
            response = await moved.http.post(
                "/api/v1/visitor/conversations",
                json={"topic": "plan", "language": "ja", "consent": True},
            )
            assert response.status_code == 429
        response = await visitor.http.post(
            "/api/v1/visitor/conversations",
            json={"topic": "plan", "language": "ja", "consent": True},
        )
        assert response.status_code == 429
        listed = await visitor.http.get("/api/v1/visitor/conversations")
        assert len(listed.json()["conversations"]) == 2
