"""Whether a visitor can chat now, per topic: hours, languages, a full queue (V7, V8, P1, P7).

The widget asks before the visitor types; ``do_start_conversation`` asks again, so that a page
left open past closing time cannot start a chat the desk will not answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from madoguchi.domain import hours
from madoguchi.domain.errors import DomainError
from madoguchi.domain.events import iso
from madoguchi.services.desk import Desk
from madoguchi.services.maintenance import get_maintenance
from madoguchi.store import queue as queue_repo

OPEN = "open"
CLOSED = "closed"  # outside the hours of this language in this department
BUSY = "busy"  # the department's queue is full
NOT_SERVED = "not_served"  # this department never serves this language (or topic)

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class TopicState:
    """What the visitor may do on one topic in one language, now."""

    topic: str
    department: str
    state: str
    next_change: datetime | None


def _state_now(desk: Desk, department: str, language: str, at: datetime) -> tuple[str, Any]:
    config = desk.settings.desk
    schedule = config.schedule_for(department, language)
    if schedule is None:
        return NOT_SERVED, None
    if not hours.is_open(schedule, at):
        return CLOSED, hours.next_change(schedule, at)
    return OPEN, hours.next_change(schedule, at)


async def _waiting_counts(desk: Desk) -> dict[str, int]:
    # One indexed GROUP BY; cheap enough to ask each time the widget opens.
    async with desk.db.read() as conn:
        return await queue_repo.waiting_counts(conn)


def _topic_state(
    desk: Desk, topic_id: str, language: str, at: datetime, waiting: dict[str, int]
) -> TopicState:
    config = desk.settings.desk
    topic = config.topic(topic_id)
    assert topic is not None
    if language not in config.topic_languages(topic_id):
        return TopicState(topic_id, topic.department, NOT_SERVED, None)
    state, change = _state_now(desk, topic.department, language, at)
    limit = config.departments[topic.department].max_queue
    if state == OPEN and limit is not None and waiting.get(topic.department, 0) >= limit:
        state = BUSY
    return TopicState(topic_id, topic.department, state, change)


async def check_not_in_maintenance(desk: Desk) -> None:
    """Raise while an admin has paused new chats and offline messages (SPEC X5)."""
    maintenance = await get_maintenance(desk)
    if maintenance is not None:
        raise DomainError(
            "maintenance",
            "Chat is paused for maintenance; please try again later.",
            503,
            details={"message": maintenance["message"]},
        )


async def check_can_start(desk: Desk, topic_id: str, language: str) -> None:
    """Raise unless a chat on this topic in this language can join the queue now."""
    await check_not_in_maintenance(desk)
    found = _topic_state(desk, topic_id, language, desk.clock(), await _waiting_counts(desk))
    if found.state == NOT_SERVED:
        raise DomainError("language_not_served", "This topic is not served in this language.", 409)
    if found.state == CLOSED:
        raise DomainError(
            "closed",
            "The desk is closed for this topic and language now; leave a message instead.",
            409,
            details={"opens_at": iso(found.next_change)},
        )
    if found.state == BUSY:
        raise DomainError(
            "busy", "Every operator is busy and the queue is full; please try again later.", 503
        )


def _intervals(desk: Desk, department: str, language: str, at: datetime) -> list[list[str | None]]:
    schedule = desk.settings.desk.schedule_for(department, language)
    if schedule is None:
        return []
    return [[iso(a), iso(b)] for a, b in hours.open_intervals(schedule, at, at + WEEK)]


async def get_availability(desk: Desk, language: str) -> dict[str, Any]:
    """Per topic: open, closed, busy or not served for ``language``, and the week's hours.

    The hours are the open intervals of the next seven days as UTC instants, for every
    language the topic's department serves, so that the widget can show them in the
    visitor's own time zone and say which languages are served when.
    """
    config = desk.settings.desk
    at = desk.clock()
    waiting = await _waiting_counts(desk)
    topics = []
    departments: dict[str, dict[str, Any]] = {}
    for topic in config.topics:
        found = _topic_state(desk, topic.id, language, at, waiting)
        topics.append(
            {
                "id": topic.id,
                "department": topic.department,
                "state": found.state,
                "next_change": iso(found.next_change),
                "languages": config.topic_languages(topic.id),
            }
        )
        if topic.department not in departments:
            dep_languages = config.departments[topic.department].languages
            served = dep_languages or config.languages.enabled
            departments[topic.department] = {
                "hours": {code: _intervals(desk, topic.department, code, at) for code in served},
                "open_now": [
                    code
                    for code in served
                    if _state_now(desk, topic.department, code, at)[0] == OPEN
                ],
            }
    maintenance = await get_maintenance(desk)
    return {
        "at": iso(at),
        "topics": topics,
        "departments": departments,
        # While on, the widget shows the admin's message instead of the topics (SPEC X5).
        "maintenance": None if maintenance is None else {"message": maintenance["message"]},
    }
