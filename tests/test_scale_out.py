"""Two nodes, one desk (SPEC X2): two server processes on one PostgreSQL database and Redis.

The nodes are real ``madoguchi serve`` processes started as an operator would start them,
configured only by environment variables, with the operator account made by ``madoguchi user
add``. A visitor on one node and an operator on the other must see one conversation, and a
client that moves to the other node must get exactly what it missed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from clients import Operator, Socket, Visitor
from conftest import HERE, REDIS_URL, RUN_ID, DatabaseFactory
from nodes import START_TIMEOUT, Node, run_cli, start_node, stop, wait_ready

# One pair of nodes for the whole module, on one xdist worker (scripts/test uses loadgroup).
pytestmark = [pytest.mark.xdist_group("scale_out"), pytest.mark.usefixtures("redis_server")]
SECRET_KEY = "scale-out-test-secret-key-0123456789abcdef"
PASSWORD = "correct horse battery"


@dataclass
class TwoNodeDesk:
    """Two nodes of one desk and an operator of its support department."""

    nodes: tuple[Node, Node]
    operator: dict[str, str]


@pytest.fixture(scope="module")
def desk(
    databases: DatabaseFactory,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[TwoNodeDesk]:
    """Two nodes started at the same time on a fresh database (they race to make the admin)."""
    if databases.pg_template is None:
        databases.pg_template = request.getfixturevalue("pg_template")
    tmp = tmp_path_factory.mktemp("scale-out")
    prefix = f"mdg-test:{RUN_ID}:{uuid.uuid4().hex[:8]}:"
    env = {
        "MADOGUCHI_DATABASE_URL": databases.new("postgres"),
        "MADOGUCHI_BUS_URL": f"{REDIS_URL}{'&' if '?' in REDIS_URL else '?'}prefix={prefix}",
        "MADOGUCHI_SECRET_KEY": SECRET_KEY,
        "MADOGUCHI_CONFIG": str(HERE / "madoguchi.test.toml"),
        "MADOGUCHI_VAR_DIR": str(tmp / "var"),
    }
    nodes: list[Node] = []
    try:
        for name in ("node1", "node2"):
            nodes.append(start_node(name, env, tmp))
        deadline = time.monotonic() + START_TIMEOUT
        for node in nodes:
            wait_ready(node, deadline)
        # Exactly one node made the first admin, though both started on an empty desk.
        made_admin = [n.name for n in nodes if "first admin created" in n.output()]
        assert len(made_admin) == 1, [n.output() for n in nodes]

        email = f"sato-{uuid.uuid4().hex[:8]}@example.com"
        command = f"user add {email} --name 佐藤 --departments support --capacity 20"
        code, printed, err = run_cli([*command.split(), "--password", PASSWORD], env)
        assert (code, err) == (0, ""), err
        assert printed.startswith(f"madoguchi: created operator {email} (")
        yield TwoNodeDesk(
            nodes=(nodes[0], nodes[1]), operator={"email": email, "password": PASSWORD}
        )
    finally:
        stop(nodes)


@pytest.fixture(autouse=True)
def _node_logs_on_failure(desk: TwoNodeDesk) -> Iterator[None]:
    """Print the nodes' logs in the test's teardown: pytest shows them when the test fails."""
    yield
    for node in desk.nodes:
        print(f"----- {node.name} ({node.url}) -----\n{node.output()}")


async def _until_pong(sock: Socket, t: int) -> list[dict[str, Any]]:
    """Every frame before the answer to a ping: what the server had queued for this socket.

    Frames on one socket keep their order, so anything owed to the client before the ping
    (a replay, a duplicate) arrives before the pong.
    """
    await sock.send({"type": "ping", "t": t})
    frames = []
    while (frame := await sock.recv()) != {"type": "pong", "t": t}:
        frames.append(frame)
    return frames


def _events(frames: list[dict[str, Any]]) -> list[tuple[int, str, str | None]]:
    return [(f["seq"], f["kind"], f.get("body")) for f in frames if f["type"] == "event"]


async def _send(sock: Socket, conv_id: str, body: str) -> dict[str, Any]:
    client_id = str(uuid.uuid4())
    await sock.send(
        {"type": "send", "conversation_id": conv_id, "client_id": client_id, "body": body}
    )
    return await sock.expect("ack", client_id=client_id)


def test_each_node_is_ready_with_database_and_bus(desk: TwoNodeDesk) -> None:
    for node in desk.nodes:
        response = httpx.get(f"{node.url}/readyz", timeout=5)
        assert response.status_code == 200, node.output()
        assert response.json() == {"status": "ok", "database": "ok", "bus": "ok"}


async def test_visitor_on_one_node_and_operator_on_the_other_chat_both_ways(
    desk: TwoNodeDesk,
) -> None:
    node1, node2 = desk.nodes
    async with (
        Operator(node2.url, **desk.operator) as operator,
        Visitor(node1.url) as visitor,
    ):
        assert (await operator.presence("online")).status_code == 200
        op_sock = await operator.connect()
        conv = await visitor.start(message="ノード1から")
        conv_id = conv["id"]
        # Routed on node 1 to the operator, who is online on node 2.
        assert conv["status"] == "active"
        assert conv["operator"] == {"name": "佐藤"}
        assigned = await op_sock.expect("assigned")
        assert assigned["conversation"]["id"] == conv_id
        first = await op_sock.event("message", conversation_id=conv_id)
        assert (first["seq"], first["body"]) == (2, "ノード1から")

        v_sock = await visitor.connect()
        history = [await v_sock.expect("event") for _ in range(3)]
        assert [(e["seq"], e["kind"]) for e in history] == [
            (1, "created"),
            (2, "message"),
            (3, "assigned"),
        ]

        # Operator (node 2) -> visitor (node 1).
        ack = await _send(op_sock, conv_id, "担当の佐藤です。\n  ご用件をどうぞ。")
        got = await v_sock.event("message")
        assert (got["seq"], got["body"], got["author"]) == (
            ack["seq"],
            "担当の佐藤です。\n  ご用件をどうぞ。",
            {"role": "operator", "name": "佐藤"},
        )
        # Visitor (node 1) -> operator (node 2).
        ack = await _send(v_sock, conv_id, "ありがとうございます")
        assert ack["seq"] == got["seq"] + 1
        reply = await op_sock.event("message", body="ありがとうございます")
        assert (reply["seq"], reply["author"]) == (ack["seq"], {"role": "visitor", "name": None})

        # Typing crosses nodes both ways, and nobody hears their own.
        await v_sock.send({"type": "typing", "conversation_id": conv_id, "typing": True})
        assert await op_sock.expect("typing") == {
            "type": "typing",
            "conversation_id": conv_id,
            "role": "visitor",
            "typing": True,
        }
        await op_sock.send({"type": "typing", "conversation_id": conv_id, "typing": False})
        assert await v_sock.expect("typing") == {
            "type": "typing",
            "conversation_id": conv_id,
            "role": "operator",
            "typing": False,
        }

        # Ending on node 2 reaches the visitor on node 1.
        end = await operator.http.post(
            f"/api/v1/agent/conversations/{conv_id}/end", json={"reason": "resolved"}
        )
        assert end.status_code == 200, end.text
        ended = await v_sock.event("ended")
        assert ended["seq"] == ack["seq"] + 1
        assert ended["data"] == {"reason": "resolved", "by": "operator"}
        assert (await op_sock.event("ended"))["seq"] == ended["seq"]

        # Each socket saw every event once, in order, and no typing of its own.
        await _until_pong(v_sock, 1)
        await _until_pong(op_sock, 1)
        assert [seq for seq, _, _ in _events(v_sock.seen)] == [1, 2, 3, 4, 5, 6]
        assert [seq for seq, _, _ in _events(op_sock.seen)] == [1, 2, 3, 4, 5, 6]
        assert [f["role"] for f in op_sock.seen if f["type"] == "typing"] == ["visitor"]
        assert [f["role"] for f in v_sock.seen if f["type"] == "typing"] == ["operator"]
        await v_sock.close()
        await op_sock.close()


async def test_a_client_that_moves_to_the_other_node_gets_exactly_what_it_missed(
    desk: TwoNodeDesk,
) -> None:
    node1, node2 = desk.nodes
    async with (
        Operator(node2.url, **desk.operator) as operator,
        Visitor(node1.url) as visitor,
    ):
        assert (await operator.presence("online")).status_code == 200
        op_sock = await operator.connect()
        conv_id = (await visitor.start(message="one"))["id"]
        await op_sock.expect("assigned")
        v_sock = await visitor.connect()
        seen = [await v_sock.expect("event") for _ in range(3)]
        visitor_last = seen[-1]["seq"]
        assert visitor_last == 3
        await op_sock.event("message", body="one")

        # The visitor's socket on node 1 drops; the operator goes on writing on node 2.
        await v_sock.close()
        missed = [await _send(op_sock, conv_id, body) for body in ("two", "three")]
        v_sock = await visitor.connect(resume={conv_id: visitor_last}, url=node2.url)
        assert _events(await _until_pong(v_sock, 1)) == [
            (missed[0]["seq"], "message", "two"),
            (missed[1]["seq"], "message", "three"),
        ]
        # After the resume it follows live, each event once.
        live = await _send(op_sock, conv_id, "four")
        assert (await v_sock.event("message"))["seq"] == live["seq"]
        assert _events(await _until_pong(v_sock, 2)) == []

        # Now the operator's socket on node 2 drops; the visitor writes; the operator comes
        # back on node 1.
        await _until_pong(op_sock, 1)
        assert [seq for seq, _, _ in _events(op_sock.seen)] == list(range(1, live["seq"] + 1))
        operator_last = live["seq"]
        await op_sock.close()
        missed = [await _send(v_sock, conv_id, body) for body in ("five", "six")]
        op_sock = await operator.connect(resume={conv_id: operator_last}, url=node1.url)
        welcome = next(f for f in op_sock.seen if f["type"] == "welcome")
        assert conv_id in [c["id"] for c in welcome["conversations"]]
        assert _events(await _until_pong(op_sock, 2)) == [
            (missed[0]["seq"], "message", "five"),
            (missed[1]["seq"], "message", "six"),
        ]
        live = await _send(v_sock, conv_id, "seven")
        assert (await op_sock.event("message"))["seq"] == live["seq"]

        # The visitor leaves from node 2; the operator on node 1 hears it, once.
        end = await visitor.http.post(f"/api/v1/visitor/conversations/{conv_id}/end", json={})
        assert end.status_code == 200, end.text
        ended = await op_sock.event("ended")
        assert (ended["seq"], ended["data"]) == (
            live["seq"] + 1,
            {"reason": "visitor_left", "by": "visitor"},
        )
        assert _events(await _until_pong(op_sock, 3)) == []
        assert (await v_sock.event("ended"))["seq"] == ended["seq"]
        assert _events(await _until_pong(v_sock, 3)) == []
        await v_sock.close()
        await op_sock.close()
