"""Pages, health, OpenAPI: what a browser or a load balancer asks for."""

from __future__ import annotations

import httpx

from conftest import LiveServer


async def test_health_and_readiness(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "bus": "ok"}


async def test_openapi_describes_the_rest_api(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    for path in (
        "/api/v1/visitor/session",
        "/api/v1/visitor/conversations",
        "/api/v1/agent/login",
        "/api/v1/agent/conversations/{conversation_id}/accept",
    ):
        assert path in paths
    accept = paths["/api/v1/agent/conversations/{conversation_id}/accept"]["post"]
    assert "409" in accept["responses"]


async def test_unknown_paths_and_methods_answer_json(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        missing = await client.get("/api/v1/nothing")
        wrong = await client.delete("/api/v1/visitor/config")
        catalog = await client.get("/locales/xx.json")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (405, "method_not_allowed")
    assert (catalog.status_code, catalog.json()["error"]["code"]) == (404, "not_found")


async def test_the_chat_frame_and_console_forbid_inline_script_and_framing(
    server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        chat = await client.get("/chat")
        console = await client.get("/console")
        widget = await client.get("/widget.js")
    assert "script-src 'self'" in chat.headers["content-security-policy"]
    assert "frame-ancestors *" in chat.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in console.headers["content-security-policy"]
    assert widget.headers["content-type"].startswith("text/javascript")


async def test_the_demo_loads_the_widget_from_another_origin(server: LiveServer) -> None:
    async with httpx.AsyncClient() as client:
        on_localhost = await client.get(f"{server.host_url}/demo")
        on_ip = await client.get(f"{server.url}/demo")
    assert f'src="{server.url}/widget.js"' in on_localhost.text
    assert f'src="{server.host_url}/widget.js"' in on_ip.text
