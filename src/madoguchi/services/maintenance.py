"""The maintenance switch (SPEC X5): an admin pauses new chats, with a message, without a deploy.

The switch is a row of ``switches`` that every node reads from the database when a chat or an
offline message would start and when the widget asks for availability: one primary-key
lookup, no per-node copy, so two nodes never disagree. Chats already running are not touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from madoguchi.domain.conversation import Role
from madoguchi.domain.errors import DomainError
from madoguchi.domain.events import iso
from madoguchi.domain.records import Actor
from madoguchi.services.desk import Desk
from madoguchi.store import switches as repo

SWITCH = "maintenance"
# Every console's socket joins this bus topic, so that a banner appears the moment it changes.
TOPIC = "desk:maintenance"
MESSAGE_MAX = 1000


@dataclass(frozen=True)
class MaintenanceState:
    """The switch: on or off, the message visitors see, since when and by whom."""

    enabled: bool
    message: str
    since: datetime | None
    by_id: str | None
    by_name: str | None


OFF = MaintenanceState(False, "", None, None, None)


def _state(switch: repo.Switch | None) -> MaintenanceState:
    if switch is None:
        return OFF
    value = switch.value
    since = value.get("since")
    return MaintenanceState(
        enabled=bool(value.get("enabled")),
        message=str(value.get("message") or ""),
        since=datetime.fromisoformat(since) if since else switch.updated_at,
        by_id=switch.updated_by,
        by_name=value.get("by_name"),
    )


def maintenance_view(state: MaintenanceState) -> dict[str, Any]:
    """The switch as the console reads it (``GET /api/v1/agent/maintenance``, the bus frame)."""
    return {
        "enabled": state.enabled,
        "message": state.message,
        "since": iso(state.since),
        "by": None if state.by_id is None else {"id": state.by_id, "name": state.by_name},
    }


def maintenance_frame(state: MaintenanceState) -> dict[str, Any]:
    """The ``maintenance`` frame every console gets when an admin flips the switch."""
    return {"type": "maintenance", **maintenance_view(state)}


def check_admin(actor: Actor) -> None:
    """Only admins flip the switch; supervisors and operators only see it."""
    if actor.role is not Role.OPERATOR or actor.staff_role != "admin":
        raise DomainError("forbidden", "Only an admin can switch maintenance on or off.", 403)


def check_message(message: str, *, required: bool) -> str:
    """The message visitors will read, as plain text: 1 to 1000 characters once trimmed."""
    text = message.replace("\r\n", "\n").strip()
    if not text and not required:
        return ""
    if not 0 < len(text) <= MESSAGE_MAX:
        raise DomainError(
            "bad_message",
            f"Give the message visitors will read, 1 to {MESSAGE_MAX} characters.",
            422,
        )
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise DomainError("bad_message", "The message must be plain text.", 422)
    return text


async def get_maintenance_state(desk: Desk) -> MaintenanceState:
    """The switch as stored (off when never set)."""
    async with desk.db.read() as conn:
        return _state(await repo.get_switch(conn, SWITCH))


async def get_maintenance(desk: Desk) -> dict[str, Any] | None:
    """None while chat is open; ``{message, since, by}`` while maintenance is on."""
    state = await get_maintenance_state(desk)
    if not state.enabled:
        return None
    by = None if state.by_id is None else {"id": state.by_id, "name": state.by_name}
    return {"message": state.message, "since": iso(state.since), "by": by}


async def do_set_maintenance(
    desk: Desk, actor: Actor, enabled: bool, message: str
) -> MaintenanceState:
    """Turn maintenance on (with the message visitors see) or off; every console is told.

    Turning it off keeps the last message (or takes a new one) for the next time. Setting a
    new message while it is on keeps the time it went on.
    """
    check_admin(actor)
    text = check_message(message, required=enabled)
    now = desk.clock()
    async with desk.unit() as unit:
        before = _state(await repo.get_switch(unit.conn, SWITCH))
        since = before.since if enabled and before.enabled else now
        state = MaintenanceState(enabled, text or before.message, since, actor.id, actor.name)
        value = {
            "enabled": state.enabled,
            "message": state.message,
            "since": iso(since),
            "by_name": actor.name,
        }
        await repo.set_switch(unit.conn, SWITCH, value, by=actor.id, now=now)
        unit.publish(TOPIC, maintenance_frame(state))
    return state
