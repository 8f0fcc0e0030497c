"""Bans through the REST API (SPEC A10): who may ban and lift, what is checked, the audit log,
and the operator freed by the end of the banned chat."""

from __future__ import annotations

from contextlib import AsyncExitStack

from clients import Operator, Visitor
from conftest import LiveServer, online


async def staff(server: LiveServer, stack: AsyncExitStack, role: str, name: str) -> Operator:
    account = server.create_operator(name=name, role=role)
    return await stack.enter_async_context(
        Operator(server.url, account["email"], account["password"])
    )


async def test_a_ban_ends_the_chat_frees_the_operator_and_is_audited(
    server: LiveServer, stack: AsyncExitStack
) -> None:
    operator, op_socket = await online(server, stack, "佐藤", capacity=1)
    rude = await stack.enter_async_context(Visitor(server.url))
    conv = await rude.start(message="ばか")
    await op_socket.expect("assigned")
    waiting = await stack.enter_async_context(Visitor(server.url))
    other = await waiting.start(message="質問があります")  # waits: the operator is full

    response = await operator.http.post(
        f"/api/v1/agent/conversations/{conv['id']}/ban",
        json={"reason": "暴言", "duration": "7d", "network": True},
    )
    assert response.status_code == 201, response.text
    ban = response.json()
    assert ban["visitor_id"] == rude.visitor_id
    assert ban["network"] == "127.0.0.0/24"
    assert ban["created_by"] == {"id": operator.me["id"], "name": "佐藤"}
    assert ban["in_force"] is True
    assert ban["expires_at"] is not None

    # The operator is freed: the waiting chat comes to them at once.
    assigned = await op_socket.expect("assigned")
    assert assigned["conversation"]["id"] == other["id"]
    ended = await rude.http.get("/api/v1/visitor/conversations")
    [mine] = ended.json()["conversations"]
    assert (mine["status"], mine["end_reason"]) == ("ended", "prohibited")

    supervisor = await staff(server, stack, "supervisor", "鈴木")
    [listed] = (await supervisor.http.get("/api/v1/agent/bans")).json()["bans"]
    assert listed["id"] == ban["id"]
    lifted = await supervisor.http.post(f"/api/v1/agent/bans/{ban['id']}/lift")
    assert lifted.json()["lifted_by"]["name"] == "鈴木"
    again = await supervisor.http.post(f"/api/v1/agent/bans/{ban['id']}/lift")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "ban_not_in_force")
    assert (await supervisor.http.get("/api/v1/agent/bans")).json()["bans"] == []

    audit = await supervisor.http.get(
        "/api/v1/agent/audit", params={"target": f"visitor:{rude.visitor_id}"}
    )
    entries = audit.json()["entries"]
    assert [e["action"] for e in entries] == ["unban", "ban"]
    assert entries[0]["actor"]["name"] == "鈴木"
    assert entries[1]["actor"]["name"] == "佐藤"
    assert entries[1]["data"]["reason"] == "暴言"
    assert entries[1]["data"]["duration"] == "7d"
    assert entries[1]["data"]["network"] == "127.0.0.0/24"
    assert entries[1]["data"]["conversation_id"] == conv["id"]


async def test_what_a_ban_needs_and_who_may_do_what(
    server: LiveServer, stack: AsyncExitStack
) -> None:
    operator = await staff(server, stack, "operator", "佐藤")
    visitor = await stack.enter_async_context(Visitor(server.url))
    conv = await visitor.start()
    path = f"/api/v1/agent/conversations/{conv['id']}/ban"

    options = await operator.http.get("/api/v1/agent/bans/options")
    assert options.json() == {
        "durations": ["1d", "7d", "30d", "permanent"],
        "ipv4_prefix": 24,
        "ipv6_prefix": 64,
    }
    for body, code in [
        ({"reason": "  ", "duration": "1d"}, "reason_required"),
        ({"reason": "x" * 501, "duration": "1d"}, "reason_required"),
        ({"reason": "暴言", "duration": "2d"}, "bad_duration"),
        ({"reason": "暴言", "duration": "permanent", "extra": 1}, "bad_request"),
    ]:
        response = await operator.http.post(path, json=body)
        assert response.json()["error"]["code"] == code, response.text

    # Another department's operator cannot see the chat, so cannot ban its visitor.
    stranger = server.create_operator(name="田中", departments=["sales"])
    async with Operator(server.url, stranger["email"], stranger["password"]) as other:
        response = await other.http.post(path, json={"reason": "暴言", "duration": "1d"})
        assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden")
    missing = await operator.http.post(
        "/api/v1/agent/conversations/c-nope/ban", json={"reason": "暴言", "duration": "1d"}
    )
    assert missing.status_code == 404

    # Without the CSRF header, a ban is refused.
    del operator.http.headers["X-CSRF-Token"]
    no_csrf = await operator.http.post(path, json={"reason": "暴言", "duration": "1d"})
    assert no_csrf.json()["error"]["code"] == "csrf_failed"
    operator.http.headers["X-CSRF-Token"] = operator.csrf

    made = await operator.http.post(path, json={"reason": "暴言", "duration": "1d"})
    assert made.status_code == 201
    # Only supervisors and admins list, lift and read the log.
    for method, url in [
        ("GET", "/api/v1/agent/bans"),
        ("POST", f"/api/v1/agent/bans/{made.json()['id']}/lift"),
        ("GET", "/api/v1/agent/audit"),
    ]:
        response = await operator.http.request(method, url)
        assert (response.status_code, response.json()["error"]["code"]) == (
            403,
            "not_supervisor",
        )
    admin = await staff(server, stack, "admin", "管理者")
    unknown = await admin.http.post("/api/v1/agent/bans/b-nope/lift")
    assert unknown.status_code == 404
