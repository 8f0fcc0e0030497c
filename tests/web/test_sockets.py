"""Bad frames on the WebSocket get an error frame with a stable code, and change nothing."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import websockets

from clients import Operator, Visitor
from conftest import LiveServer


async def _events(visitor: Visitor, conv_id: str) -> list[dict[str, object]]:
    response = await visitor.http.get(f"/api/v1/visitor/conversations/{conv_id}/events")
    assert response.status_code == 200
    events: list[dict[str, object]] = response.json()["events"]
    return events


async def test_malformed_json_and_unknown_type_leave_the_socket_working(server: LiveServer) -> None:
    async with Visitor(server.url) as visitor:
        conv = await visitor.start(message="before")
        socket = await visitor.connect()
        await socket.send("{not json")
        assert (await socket.expect("error"))["code"] == "bad_json"
        await socket.send('["a", "list"]')
        assert (await socket.expect("error"))["code"] == "bad_frame"
        await socket.send({"type": "teleport"})
        error = await socket.expect("error")
        assert error["code"] == "unknown_type"
        assert "teleport" in error["message"]
        await socket.send(b"\x00\x01binary")
        assert (await socket.expect("error"))["code"] == "bad_json"
        await socket.send({"type": "send", "conversation_id": conv["id"], "client_id": "a1"})
        error = await socket.expect("error")
        assert error["code"] == "bad_frame"
        assert error["client_id"] == "a1"
        # Still open, still working, and the history is what it was plus the new message.
        await socket.send(
            {"type": "send", "conversation_id": conv["id"], "client_id": "a2", "body": "after"}
        )
        await socket.expect("ack", client_id="a2")
        bodies = [e["body"] for e in await _events(visitor, conv["id"]) if e["kind"] == "message"]
        assert bodies == ["before", "after"]
        await socket.close()


async def test_empty_and_oversize_messages_are_refused(server: LiveServer) -> None:
    limit = server.settings.desk.limits.message_max_chars
    async with Visitor(server.url) as visitor:
        conv = await visitor.start(message=None)
        socket = await visitor.connect()
        for body, code in (("", "empty_message"), ("  \n\t ", "empty_message")):
            await socket.send(
                {"type": "send", "conversation_id": conv["id"], "client_id": "e", "body": body}
            )
            error = await socket.expect("error")
            assert (error["code"], error["client_id"]) == (code, "e")
        too_long = "あ" * (limit + 1)
        await socket.send(
            {"type": "send", "conversation_id": conv["id"], "client_id": "l", "body": too_long}
        )
        assert (await socket.expect("error"))["code"] == "message_too_long"
        # Exactly the limit is fine.
        await socket.send(
            {"type": "send", "conversation_id": conv["id"], "client_id": "ok", "body": "あ" * limit}
        )
        await socket.expect("ack", client_id="ok")
        rest = await visitor.http.post(
            f"/api/v1/visitor/conversations/{conv['id']}/messages",
            json={"client_id": "r", "body": too_long},
        )
        assert rest.status_code == 413
        assert rest.json()["error"]["code"] == "message_too_long"
        messages = [e for e in await _events(visitor, conv["id"]) if e["kind"] == "message"]
        assert [m["client_id"] for m in messages] == ["ok"]
        await socket.close()


async def test_a_frame_over_the_size_limit_closes_the_socket(server: LiveServer) -> None:
    async with Visitor(server.url) as visitor:
        await visitor.start(message=None)
        socket = await visitor.connect()
        await socket.send("x" * (server.settings.desk.limits.frame_max_bytes + 1))
        assert await socket.closed() == 1009


async def test_a_visitor_cannot_write_to_or_read_anothers_conversation(server: LiveServer) -> None:
    async with Visitor(server.url) as owner, Visitor(server.url) as intruder:
        conv = await owner.start(message="private")
        socket = await intruder.connect()
        await socket.send(
            {"type": "send", "conversation_id": conv["id"], "client_id": "x", "body": "hijack"}
        )
        assert (await socket.expect("error"))["code"] == "not_found"
        await socket.send({"type": "resume", "conversation_id": conv["id"], "since": 0})
        assert (await socket.expect("error"))["code"] == "not_found"
        await socket.send({"type": "typing", "conversation_id": conv["id"], "typing": True})
        assert (await socket.expect("error"))["code"] == "not_found"
        for method, path in (
            ("GET", f"/api/v1/visitor/conversations/{conv['id']}/events"),
            ("POST", f"/api/v1/visitor/conversations/{conv['id']}/end"),
        ):
            response = await intruder.http.request(method, path, json={})
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
        response = await intruder.http.post(
            f"/api/v1/visitor/conversations/{conv['id']}/messages",
            json={"client_id": "y", "body": "hijack"},
        )
        assert response.status_code == 404
        events = await _events(owner, conv["id"])
        assert [e["body"] for e in events if e["kind"] == "message"] == ["private"]
        assert (await owner.http.get("/api/v1/visitor/conversations")).json()["conversations"][0][
            "status"
        ] == "waiting"
        await socket.close()


async def test_hello_is_required_and_tokens_are_checked(server: LiveServer) -> None:
    async with websockets.connect(f"{server.ws_url}/ws/visitor") as ws:
        await ws.send('{"type": "ping"}')
        assert '"hello_required"' in await ws.recv()
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
    async with Visitor(server.url) as visitor:
        forged = visitor.token[:-3] + ("AAA" if not visitor.token.endswith("AAA") else "BBB")
    async with websockets.connect(f"{server.ws_url}/ws/visitor") as ws:
        await ws.send(f'{{"type": "hello", "token": "{forged}"}}')
        assert '"unauthorized"' in await ws.recv()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401


async def test_the_agent_socket_needs_a_session_and_our_own_origin(server: LiveServer) -> None:
    async with websockets.connect(f"{server.ws_url}/ws/agent", origin=server.url) as ws:  # type: ignore[arg-type]
        assert '"unauthorized"' in await ws.recv()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401
    op = server.create_operator()
    async with Operator(server.url, op["email"], op["password"]) as operator:
        cookie = operator.http.cookies.get("madoguchi_session")
        # A page on another site cannot ride on the operator's cookie (CSWSH).
        with pytest.raises(websockets.InvalidStatus):
            await websockets.connect(
                f"{server.ws_url}/ws/agent",
                origin="https://evil.example",  # type: ignore[arg-type]
                additional_headers={"Cookie": f"madoguchi_session={cookie}"},
            )
        socket = await operator.connect()
        await socket.close()


async def test_operator_who_does_not_hold_the_chat_cannot_write(server: LiveServer) -> None:
    holder = server.create_operator(name="Holder")
    other = server.create_operator(name="Other")
    async with (
        Operator(server.url, holder["email"], holder["password"]) as op1,
        Operator(server.url, other["email"], other["password"]) as op2,
        Visitor(server.url) as visitor,
    ):
        await op1.presence("online")
        conv = await visitor.start()
        assert conv["operator"] == {"name": "Holder"}
        socket = await op2.connect()
        await socket.send(
            {"type": "send", "conversation_id": conv["id"], "client_id": "z", "body": "me too"}
        )
        assert (await socket.expect("error"))["code"] == "forbidden"
        response = await op2.http.post(
            f"/api/v1/agent/conversations/{conv['id']}/end", json={"reason": "resolved"}
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
        await socket.close()


async def test_writing_to_an_ended_conversation_is_refused_but_a_retry_is_acknowledged(
    server: LiveServer,
) -> None:
    async with Visitor(server.url) as visitor:
        conv = await visitor.start(message=None)
        socket = await visitor.connect()
        client_id = str(uuid.uuid4())
        await socket.send(
            {"type": "send", "conversation_id": conv["id"], "client_id": client_id, "body": "last"}
        )
        ack = await socket.expect("ack")
        ended = await visitor.http.post(f"/api/v1/visitor/conversations/{conv['id']}/end", json={})
        assert ended.json()["status"] == "ended"
        assert ended.json()["end_reason"] == "visitor_left"
        # The retry of a message stored before the end gets its first answer...
        await socket.send(
            {"type": "send", "conversation_id": conv["id"], "client_id": client_id, "body": "last"}
        )
        again = await socket.expect("ack")
        assert (again["message_id"], again["seq"]) == (ack["message_id"], ack["seq"])
        # ...a new message does not get in.
        await socket.send(
            {"type": "send", "conversation_id": conv["id"], "client_id": "new", "body": "more"}
        )
        assert (await socket.expect("error"))["code"] == "conversation_ended"
        second_end = await visitor.http.post(
            f"/api/v1/visitor/conversations/{conv['id']}/end", json={}
        )
        assert second_end.status_code == 409
        assert second_end.json()["error"]["code"] == "conversation_ended"
        await socket.close()


async def test_someone_elses_client_id_is_not_acknowledged_as_theirs(server: LiveServer) -> None:
    op = server.create_operator()
    async with (
        Operator(server.url, op["email"], op["password"]) as operator,
        Visitor(server.url) as visitor,
    ):
        await operator.presence("online")
        conv = await visitor.start(message=None)
        response = await operator.http.post(
            f"/api/v1/agent/conversations/{conv['id']}/messages",
            json={"client_id": "shared", "body": "from the operator"},
        )
        assert response.status_code == 201
        response = await visitor.http.post(
            f"/api/v1/visitor/conversations/{conv['id']}/messages",
            json={"client_id": "shared", "body": "from the visitor"},
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "duplicate_client_id"


async def test_a_socket_silent_for_three_heartbeats_is_closed_and_a_pinging_one_is_not(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madoguchi.web import sockets

    monkeypatch.setattr(sockets, "HEARTBEAT", 0.5)  # three of them: 1.5 s
    async with Visitor(server.url) as visitor:
        await visitor.start(message="まだいますか")
        talking = await visitor.connect()
        silent = await visitor.connect()
        for t in range(8):  # 2 s of pings, each well within the limit
            await talking.send({"type": "ping", "t": t})
            await talking.expect("pong", t=t)
            await asyncio.sleep(0.25)
        assert await silent.closed() == 1000
        await talking.send({"type": "ping", "t": 99})
        assert (await talking.expect("pong", t=99))["t"] == 99
        await talking.close()
