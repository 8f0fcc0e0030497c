"""The console's REST API: login, sessions, CSRF, presence, accept."""

from __future__ import annotations

import httpx
import pytest

from clients import Operator, Visitor
from conftest import LiveServer

OPERATOR_ENDPOINTS = [
    ("GET", "/api/v1/agent/me"),
    ("PUT", "/api/v1/agent/presence"),
    ("GET", "/api/v1/agent/queue"),
    ("GET", "/api/v1/agent/conversations"),
    ("GET", "/api/v1/agent/conversations/c_x"),
    ("GET", "/api/v1/agent/conversations/c_x/events"),
    ("POST", "/api/v1/agent/conversations/c_x/accept"),
    ("POST", "/api/v1/agent/conversations/c_x/messages"),
    ("POST", "/api/v1/agent/conversations/c_x/end"),
    ("POST", "/api/v1/agent/logout"),
]


@pytest.mark.parametrize(("method", "path"), OPERATOR_ENDPOINTS)
async def test_operator_actions_without_login_are_refused(
    server: LiveServer, method: str, path: str
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.request(
            method,
            path,
            json={"status": "online", "reason": "resolved", "client_id": "a", "body": "b"},
        )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_a_wrong_password_gives_no_hint_whether_the_account_exists(
    server: LiveServer,
) -> None:
    op = server.create_operator()
    async with httpx.AsyncClient(base_url=server.url) as client:
        wrong_password = await client.post(
            "/api/v1/agent/login", json={"email": op["email"], "password": "not the password"}
        )
        no_account = await client.post(
            "/api/v1/agent/login",
            json={"email": "nobody@example.com", "password": "not the password"},
        )
    assert wrong_password.status_code == no_account.status_code == 401
    assert wrong_password.json() == no_account.json()
    assert wrong_password.json()["error"]["code"] == "invalid_credentials"
    assert "set-cookie" not in wrong_password.headers


async def test_login_sets_a_strict_httponly_cookie_and_email_case_does_not_matter(
    server: LiveServer,
) -> None:
    op = server.create_operator(email="Mixed.Case@Example.com")
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/api/v1/agent/login",
            json={"email": "mixed.case@example.COM", "password": op["password"]},
        )
        assert response.status_code == 200
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("madoguchi_session=")
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "password" not in response.text
        me = await client.get("/api/v1/agent/me")
        assert me.json()["operator"]["email"] == "mixed.case@example.com"
        assert me.json()["csrf_token"] == response.json()["csrf_token"]


async def test_writes_need_the_csrf_token(server: LiveServer) -> None:
    op = server.create_operator()
    async with Operator(server.url, op["email"], op["password"]) as operator:
        del operator.http.headers["X-CSRF-Token"]
        response = await operator.presence("online")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "csrf_failed"
        operator.http.headers["X-CSRF-Token"] = "forged"
        assert (await operator.presence("online")).status_code == 403
        me = await operator.http.get("/api/v1/agent/me")
        assert me.json()["operator"]["status"] == "offline"  # unchanged
        operator.http.headers["X-CSRF-Token"] = operator.csrf
        response = await operator.presence("online")
        assert response.json()["operator"]["status"] == "online"


async def test_presence_must_be_a_known_status(server: LiveServer) -> None:
    op = server.create_operator()
    async with Operator(server.url, op["email"], op["password"]) as operator:
        response = await operator.presence("invisible")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_status"


async def test_logout_ends_the_session_and_goes_offline(server: LiveServer) -> None:
    op = server.create_operator()
    async with Operator(server.url, op["email"], op["password"]) as operator:
        await operator.presence("online")
        cookie = operator.http.cookies.get("madoguchi_session")
        assert (await operator.http.post("/api/v1/agent/logout")).status_code == 204
        async with httpx.AsyncClient(
            base_url=server.url, cookies={"madoguchi_session": cookie or ""}
        ) as stale:
            assert (await stale.get("/api/v1/agent/me")).status_code == 401
    # Offline now: a new chat is not routed to them.
    async with Visitor(server.url) as visitor:
        assert (await visitor.start())["status"] == "waiting"


async def test_manual_queue_accept_and_a_second_accept_is_refused(server: LiveServer) -> None:
    first = server.create_operator(name="First", departments=["sales"])
    second = server.create_operator(name="Second", departments=["sales"])
    async with (
        Operator(server.url, first["email"], first["password"]) as op1,
        Operator(server.url, second["email"], second["password"]) as op2,
        Visitor(server.url) as visitor,
    ):
        await op1.presence("online")
        await op2.presence("online")
        socket = await op1.connect()
        conv = await visitor.start(topic="sales", message="見積もりをお願いします")
        assert conv["status"] == "waiting"  # sales routes manually
        await socket.expect("queue_changed", department="sales")
        queue = (await op1.http.get("/api/v1/agent/queue")).json()["conversations"]
        assert [c["id"] for c in queue] == [conv["id"]]
        preview = await op1.http.get(f"/api/v1/agent/conversations/{conv['id']}/events")
        assert [e["body"] for e in preview.json()["events"] if e["kind"] == "message"] == [
            "見積もりをお願いします"
        ]
        accepted = await op1.http.post(f"/api/v1/agent/conversations/{conv['id']}/accept")
        assert accepted.status_code == 200
        assert accepted.json()["operator"]["name"] == "First"
        assigned = await socket.expect("assigned")
        assert assigned["conversation"]["id"] == conv["id"]
        again = await op2.http.post(f"/api/v1/agent/conversations/{conv['id']}/accept")
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "already_assigned"
        # The first operator still has it; the second cannot read it any more.
        mine = (await op1.http.get("/api/v1/agent/conversations")).json()["conversations"]
        assert [c["id"] for c in mine] == [conv["id"]]
        theirs = await op2.http.get(f"/api/v1/agent/conversations/{conv['id']}")
        assert theirs.status_code == 403
        assert (await op1.http.get("/api/v1/agent/queue")).json()["conversations"] == []
        await socket.close()


async def test_an_operator_of_another_department_cannot_accept(server: LiveServer) -> None:
    op = server.create_operator(departments=["support"])
    async with (
        Operator(server.url, op["email"], op["password"]) as operator,
        Visitor(server.url) as visitor,
    ):
        conv = await visitor.start(topic="sales")
        response = await operator.http.post(f"/api/v1/agent/conversations/{conv['id']}/accept")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
        missing = await operator.http.post("/api/v1/agent/conversations/c_nothing/accept")
        assert missing.status_code == 404


async def test_end_needs_a_known_reason(server: LiveServer) -> None:
    op = server.create_operator()
    async with (
        Operator(server.url, op["email"], op["password"]) as operator,
        Visitor(server.url) as visitor,
    ):
        await operator.presence("online")
        conv = await visitor.start()
        response = await operator.http.post(
            f"/api/v1/agent/conversations/{conv['id']}/end", json={"reason": "bored"}
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "unknown_reason"
        response = await operator.http.post(
            f"/api/v1/agent/conversations/{conv['id']}/end", json={"reason": "visitor_left"}
        )
        assert response.json()["error"]["code"] == "unknown_reason"
        still = await operator.http.get(f"/api/v1/agent/conversations/{conv['id']}")
        assert still.json()["status"] == "active"
        for reason in ("other_channel",):
            response = await operator.http.post(
                f"/api/v1/agent/conversations/{conv['id']}/end", json={"reason": reason}
            )
            assert response.json()["end_reason"] == reason


async def test_capacity_is_respected_and_a_freed_slot_takes_the_next_waiting_chat(
    server: LiveServer,
) -> None:
    op = server.create_operator(capacity=1)
    async with Operator(server.url, op["email"], op["password"]) as operator:
        await operator.presence("online")
        async with Visitor(server.url) as first, Visitor(server.url) as second:
            one = await first.start()
            two = await second.start()
            assert (one["status"], two["status"]) == ("active", "waiting")
            await operator.http.post(
                f"/api/v1/agent/conversations/{one['id']}/end", json={"reason": "resolved"}
            )
            mine = (await operator.http.get("/api/v1/agent/conversations")).json()["conversations"]
            assert [c["id"] for c in mine] == [two["id"]]


async def test_least_active_routing_spreads_chats(server: LiveServer) -> None:
    a = server.create_operator(name="A")
    b = server.create_operator(name="B")
    async with (
        Operator(server.url, a["email"], a["password"]) as op_a,
        Operator(server.url, b["email"], b["password"]) as op_b,
    ):
        await op_a.presence("online")
        await op_b.presence("online")
        names = []
        for _ in range(4):
            async with Visitor(server.url) as visitor:
                names.append((await visitor.start())["operator"]["name"])
        assert sorted(names) == ["A", "A", "B", "B"]
        assert names[0] != names[1]


async def test_logout_closes_that_sessions_sockets_and_no_others(server: LiveServer) -> None:
    op = server.create_operator()
    async with (
        Operator(server.url, op["email"], op["password"]) as laptop,
        Operator(server.url, op["email"], op["password"]) as phone,
    ):
        laptop_socket = await laptop.connect()
        phone_socket = await phone.connect()
        assert (await laptop.http.post("/api/v1/agent/logout")).status_code == 204
        error = await laptop_socket.expect("error")
        assert error["code"] == "unauthorized"
        assert await laptop_socket.closed() == 4401
        # The same operator's other session goes on.
        await phone_socket.send({"type": "ping", "t": 7})
        assert await phone_socket.expect("pong") == {"type": "pong", "t": 7}
        assert (await phone.http.get("/api/v1/agent/me")).status_code == 200
        await phone_socket.close()
