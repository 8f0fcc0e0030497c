"""Routing under concurrency: chats arriving at once never overfill an operator (both backends)."""

from __future__ import annotations

import asyncio
from collections import Counter

from clients import Operator, Visitor
from conftest import LiveServer


async def test_simultaneous_arrivals_respect_capacity(server: LiveServer) -> None:
    ops = [server.create_operator(name=f"op{i}", capacity=2) for i in range(3)]
    visitors = [Visitor(server.url) for _ in range(10)]
    operators = [Operator(server.url, o["email"], o["password"]) for o in ops]
    for client in [*visitors, *operators]:
        await client.__aenter__()
    try:
        # Operators come online while the chats arrive: both paths of routing race.
        results = await asyncio.gather(
            *(v.start() for v in visitors), *(o.presence("online") for o in operators)
        )
        for response in results[len(visitors) :]:
            assert response.status_code == 200
        holders: Counter[str] = Counter()
        for operator in operators:
            mine = (await operator.http.get("/api/v1/agent/conversations")).json()["conversations"]
            holders[operator.me["name"]] = len(mine)
        assert holders == {"op0": 2, "op1": 2, "op2": 2}
        waiting = (await operators[0].http.get("/api/v1/agent/queue")).json()["conversations"]
        assert len(waiting) == 4
        # The queue is in arrival order, and each conversation is in exactly one place.
        created = [w["created_at"] for w in waiting]
        assert created == sorted(created)
    finally:
        for client in [*visitors, *operators]:
            await client.__aexit__(None, None, None)
