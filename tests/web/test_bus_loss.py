"""A node whose Redis connection drops catches its clients up from the database (SPEC X2).

Redis pub/sub forgets what it could not deliver. The database is the truth, so when the
node's pub/sub connection comes back, every socket on it fills what it follows from the
database: a message, an assignment, a queue change published in the outage all arrive.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis

from clients import Operator, Visitor
from conftest import REDIS_URL, RUN_ID, DatabaseFactory, LiveServer
from madoguchi.bus import MemoryBus
from madoguchi.domain.conversation import Role
from madoguchi.domain.records import Actor
from madoguchi.services import chat
from madoguchi.services.auth import get_operator
from madoguchi.services.desk import Desk
from madoguchi.store.database import Database
from madoguchi.web.deps import operator_actor

pytestmark = pytest.mark.usefixtures("redis_server")


@pytest.fixture
def redis_node(backend: str, databases: DatabaseFactory) -> Iterator[tuple[LiveServer, str]]:
    name = f"mdg-node-{uuid.uuid4().hex[:12]}"
    bus_url = f"{REDIS_URL}?prefix=mdg_{RUN_ID}_{uuid.uuid4().hex[:6]}:&client_name={name}"
    live = LiveServer(databases.new(backend), bus_url=bus_url).start()
    yield live, name
    live.stop()
    databases.release(live.database_url)


async def _cut_pubsub(name: str) -> None:
    admin = aioredis.from_url(REDIS_URL)
    try:
        clients = [c for c in await admin.client_list() if c.get("name") == name]
        subscribed = [c for c in clients if int(c.get("sub", 0)) > 0]
        assert len(subscribed) == 1, clients
        assert await admin.client_kill_filter(_id=subscribed[0]["id"]) == 1
    finally:
        await admin.aclose()


async def test_what_was_published_during_an_outage_arrives_after_it(
    redis_node: tuple[LiveServer, str],
) -> None:
    server, name = redis_node
    op = server.create_operator(name="佐藤", capacity=2)
    # A second desk on the same database whose bus reaches nobody: its writes are committed
    # and never published, exactly what a node sees when the bus lost them.
    silent = Desk(settings=server.settings, db=Database(server.database_url), bus=MemoryBus())
    try:
        async with Operator(server.url, op["email"], op["password"]) as operator:
            await operator.presence("online")
            op_socket = await operator.connect()
            async with Visitor(server.url) as visitor, Visitor(server.url) as second:
                conv = await visitor.start(message="最初")
                await op_socket.expect("assigned")
                v_socket = await visitor.connect()
                last = [await v_socket.expect("event") for _ in range(3)][-1]["seq"]

                actor = operator_actor(await get_operator(silent, op["id"]))
                await chat.do_send_message(silent, actor, conv["id"], "lost", "停電中の返信")
                # The second visitor's chat is assigned in the outage: the `assigned` is lost.
                other = await chat.do_start_conversation(
                    silent, Actor(Role.VISITOR, second.visitor_id or ""), topic="technical", language="ja",
                    consent=True, first_message=("q", "二件目"),
                )  # fmt: skip
                assert other.status.value == "active"

                await _cut_pubsub(name)

                missed = await v_socket.event("message", client_id="lost")
                assert missed["seq"] == last + 1
                assert missed["body"] == "停電中の返信"
                assigned = await op_socket.expect("assigned")
                assert assigned["conversation"]["id"] == other.id
                first = await op_socket.event("message", conversation_id=other.id)
                assert first["body"] == "二件目"
                await op_socket.expect("queue_changed", department="support")
                # And live delivery works again.
                await v_socket.send(
                    {
                        "type": "send",
                        "conversation_id": conv["id"],
                        "client_id": "after",
                        "body": "復旧",
                    }
                )
                assert (await op_socket.event("message", client_id="after"))["body"] == "復旧"
                await v_socket.close()
            await op_socket.close()
    finally:
        await silent.db.close()
