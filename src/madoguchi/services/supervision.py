"""What supervisors watch: the live queue, every active chat, operators' load and presence (A9).

The transfer picker (A6) reads the same list of operators, so every operator may read that.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.domain.events import conversation_summary, iso
from madoguchi.domain.handoff import check_supervisor
from madoguchi.domain.records import Actor, Operator
from madoguchi.services.desk import Desk
from madoguchi.store import conversations as conv_repo
from madoguchi.store import operators as op_repo
from madoguchi.store import participants, surveys

# The overview's average survey rating per department covers this many days (SPEC V12).
RATING_DAYS = 30


def _rating_stats(found: tuple[float, int] | None) -> dict[str, Any]:
    average, count = found if found is not None else (None, 0)
    return {
        "average": None if average is None else round(average, 2),
        "count": count,
        "days": RATING_DAYS,
    }


def _operator_row(op: Operator, load: int) -> dict[str, Any]:
    return {
        "id": op.id,
        "name": op.name,
        "role": op.role,
        "status": op.status,
        "departments": list(op.departments),
        "languages": list(op.languages),
        "load": load,
        "capacity": op.capacity,
    }


async def _operators(conn: AsyncConnection) -> list[dict[str, Any]]:
    found = await op_repo.list_operators(conn)
    loads = await op_repo.load_counts(conn, [op.id for op in found])
    return [_operator_row(op, loads.get(op.id, 0)) for op in found]


async def get_operators(desk: Desk) -> list[dict[str, Any]]:
    """Every operator with presence, skills, load (chats held and offers open) and capacity."""
    async with desk.db.read() as conn:
        return await _operators(conn)


async def get_overview(desk: Desk, actor: Actor) -> dict[str, Any]:
    """The supervisor's view: waiting chats per department, active chats, operators."""
    check_supervisor(actor)
    async with desk.db.read() as conn:
        waiting = await conv_repo.list_waiting(conn, None)
        active = await conv_repo.list_active(conn)
        joined = await participants.list_by_conversation(conn, [c.id for c in active])
        operators = await _operators(conn)
        ratings = await surveys.average_ratings(conn, desk.clock() - timedelta(days=RATING_DAYS))
    departments = [
        {
            "id": dep,
            "waiting": [
                conversation_summary(c, for_operator=True) for c in waiting if c.department == dep
            ],
            "rating": _rating_stats(ratings.get(dep)),
        }
        for dep in desk.settings.desk.departments
    ]
    return {
        "at": iso(desk.clock()),
        "departments": departments,
        "active": [
            {**conversation_summary(c, for_operator=True), "participants": joined.get(c.id, [])}
            for c in active
        ],
        "operators": operators,
    }
