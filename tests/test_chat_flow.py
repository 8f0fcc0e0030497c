"""A visitor and an operator chat end to end over REST and WebSocket, on both backends."""

from __future__ import annotations

import uuid

from clients import Operator, Visitor
from conftest import LiveServer


async def test_visitor_and_operator_chat_both_ways(server: LiveServer) -> None:
    op = server.create_operator(name="佐藤")
    async with Operator(server.url, op["email"], op["password"]) as operator:
        assert (await operator.presence("online")).status_code == 200
        op_socket = await operator.connect()
        async with Visitor(server.url) as visitor:
            conv = await visitor.start(
                prechat={
                    "member_id": "AB12345",
                    "contract_name": "株式会社テスト",
                    "contact_person": None,
                },
                context={"page_url": "https://example.com/panel", "time_zone": "Asia/Tokyo"},
            )
            # Least-active routing gave it to the only online operator.
            assert conv["status"] == "active"
            assert conv["operator"] == {"name": "佐藤"}
            assigned = await op_socket.expect("assigned")
            assert assigned["conversation"]["prechat"] == {
                "member_id": "AB12345",
                "contract_name": "株式会社テスト",
                "contact_person": None,
                "name": None,  # asked by the offline message form only
                "email": None,
            }
            assert assigned["conversation"]["context"]["time_zone"] == "Asia/Tokyo"
            first = await op_socket.event("message")
            assert first["body"] == "こんにちは"
            assert first["author"] == {"role": "visitor", "name": None}

            v_socket = await visitor.connect()
            # The visitor's socket replays the whole history: created, message, assigned.
            kinds = [(await v_socket.expect("event"))["kind"] for _ in range(3)]
            assert kinds == ["created", "message", "assigned"]

            code = 'Traceback (most recent call last):\n  File "app.py", line 3\n    x = 1/0\nZeroDivisionError'
            await op_socket.send(
                {"type": "send", "conversation_id": conv["id"], "client_id": "c1", "body": code}
            )
            ack = await op_socket.expect("ack", client_id="c1")
            got = await v_socket.event("message")
            assert got["body"] == code  # whitespace kept verbatim
            assert got["seq"] == ack["seq"]
            assert got["author"] == {"role": "operator", "name": "佐藤"}

            await v_socket.send(
                {
                    "type": "send",
                    "conversation_id": conv["id"],
                    "client_id": "v1",
                    "body": "ありがとうございます",
                }
            )
            await v_socket.expect("ack", client_id="v1")
            reply = await op_socket.event("message", body="ありがとうございます")
            assert reply["seq"] == got["seq"] + 1

            await v_socket.send({"type": "typing", "conversation_id": conv["id"], "typing": True})
            typing = await op_socket.expect("typing")
            assert typing == {
                "type": "typing",
                "conversation_id": conv["id"],
                "role": "visitor",
                "typing": True,
            }

            end = await operator.http.post(
                f"/api/v1/agent/conversations/{conv['id']}/end", json={"reason": "resolved"}
            )
            assert end.status_code == 200, end.text
            ended = await v_socket.event("ended")
            assert ended["data"] == {"reason": "resolved", "by": "operator"}
            await v_socket.close()
        await op_socket.close()


async def test_retry_with_same_client_id_is_stored_once(server: LiveServer) -> None:
    async with Visitor(server.url) as visitor:
        conv = await visitor.start(message=None)
        client_id = str(uuid.uuid4())
        socket = await visitor.connect()
        for _ in range(3):
            await socket.send(
                {
                    "type": "send",
                    "conversation_id": conv["id"],
                    "client_id": client_id,
                    "body": "once",
                }
            )
        acks = [await socket.expect("ack") for _ in range(3)]
        assert len({(a["message_id"], a["seq"]) for a in acks}) == 1
        rest = await visitor.http.post(
            f"/api/v1/visitor/conversations/{conv['id']}/messages",
            json={"client_id": client_id, "body": "once"},
        )
        assert rest.json() == {"message_id": acks[0]["message_id"], "seq": acks[0]["seq"]}
        events = (
            await visitor.http.get(f"/api/v1/visitor/conversations/{conv['id']}/events")
        ).json()["events"]
        assert [e["body"] for e in events if e["kind"] == "message"] == ["once"]
        await socket.close()


async def test_reconnect_with_since_gets_exactly_what_was_missed(server: LiveServer) -> None:
    op = server.create_operator()
    async with (
        Operator(server.url, op["email"], op["password"]) as operator,
        Visitor(server.url) as visitor,
    ):
        await operator.presence("online")
        conv = await visitor.start(message="one")
        socket = await visitor.connect()
        seen = [await socket.expect("event") for _ in range(3)]
        last = seen[-1]["seq"]
        await socket.close()
        for text in ("two", "three"):
            response = await operator.http.post(
                f"/api/v1/agent/conversations/{conv['id']}/messages",
                json={"client_id": text, "body": text},
            )
            assert response.status_code == 201, response.text
        socket = await visitor.connect(resume={conv["id"]: last})
        missed = [await socket.expect("event") for _ in range(2)]
        assert [(e["seq"], e["body"]) for e in missed] == [(last + 1, "two"), (last + 2, "three")]
        await socket.send({"type": "ping", "t": 1})
        # Nothing else was replayed before the pong.
        assert await socket.recv() == {"type": "pong", "t": 1}
        await socket.close()
