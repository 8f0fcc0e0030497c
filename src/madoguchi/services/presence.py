"""Whether an operator's console is really there (SPEC A3: never to an operator who is gone; V10).

An operator chooses online, away or offline; but a console closed without logging out, a
crashed laptop, a lost network or a node killed with ``kill -9`` says nothing. So every console
proves itself: opening the socket and each heartbeat (every 25 s) record ``seen_at`` and push a
durable timer ``gone:<operator>`` to one heartbeat plus ``disconnect_grace_seconds`` later: a
dead-man's switch that fires unless the console keeps beating, whichever node held its socket.
When a node's last socket of an operator closes, the timer is brought forward to the grace
period alone. When it fires and no console of theirs, on any node, has been seen since, the
operator is set offline, their offers move on, and their chats go back to the queue for another
operator (services/handover.py). A reload or a short network drop reconnects well within the
grace. docs/routing.md, "Presence"; docs/lifecycle.md, "Handover".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from madoguchi.domain.presence import lost_after
from madoguchi.domain.records import Operator
from madoguchi.services import handover, routing, timers
from madoguchi.services.desk import Desk, Unit
from madoguchi.store import operators as op_repo
from madoguchi.store import timers as timers_repo

GONE_TIMER = "gone"


def gone_key(operator_id: str) -> str:
    """The timer key of an operator whose console may go away."""
    return f"gone:{operator_id}"


async def _arm(unit: Unit, operator_id: str, since: datetime, due: datetime) -> None:
    """Give the operator up at ``due`` unless a console of theirs is seen after ``since``."""
    await timers.schedule(
        unit,
        GONE_TIMER,
        gone_key(operator_id),
        due,
        {"operator_id": operator_id, "since": since.isoformat()},
    )


async def seen_in(unit: Unit, operator_id: str, now: datetime) -> None:
    """Within a unit: a console of the operator is here at ``now``; push the dead-man's switch."""
    grace = unit.desk.settings.desk.operators.disconnect_grace_seconds
    # The timer's row first, then the operator's: the order the timer's handler locks them in
    # (it holds its timer, then sets the operator offline), so the two cannot deadlock.
    await _arm(unit, operator_id, now, now + lost_after(grace))
    await op_repo.mark_seen(unit.conn, operator_id, now)


async def do_console_seen(desk: Desk, operator_id: str) -> None:
    """A console of this operator opened its socket or sent its heartbeat."""
    async with desk.unit() as unit:
        await seen_in(unit, operator_id, desk.clock())


async def do_console_closed(desk: Desk, operator_id: str) -> None:
    """This node's last console of the operator closed: decide after the grace period.

    A console that closed is known to be gone now, not up to a heartbeat ago: the deadline is
    the grace period from now, sooner than the dead-man's switch's, and it replaces it.
    """
    now = desk.clock()
    grace = desk.settings.desk.operators.disconnect_grace_seconds
    async with desk.unit() as unit:
        await _arm(unit, operator_id, now, now + timedelta(seconds=grace))


async def do_give_consoles_time(desk: Desk) -> None:
    """A node starts: give every console the grace period to reconnect before judging it.

    While the desk was down (the only node restarting, a deploy) no console could prove itself,
    so the ``gone`` deadlines that passed meanwhile say nothing about the operators; fired at
    once, they would send every chat back to the queue seconds before the consoles return.
    """
    grace = desk.settings.desk.operators.disconnect_grace_seconds
    async with desk.unit() as unit:
        await timers_repo.postpone_kind(
            unit.conn, GONE_TIMER, desk.clock() + timedelta(seconds=grace)
        )


async def on_console_gone(unit: Unit, timer: timers.Timer) -> None:
    """Timer: no console of the operator seen in time; they are gone, and so are their chats."""
    operator_id = str(timer.payload["operator_id"])
    operator = await op_repo.get_operator(unit.conn, operator_id)
    if operator is None:
        return
    now = unit.desk.clock()
    if unit.desk.consoles.get(operator_id, 0) > 0:
        # This node holds an open socket of theirs and is alive to say so. (A socket silent
        # for three heartbeats is closed by the node, which then takes the close path.)
        await seen_in(unit, operator_id, now)
        return
    # Timers written before the dead-man's switch carry closed_at.
    since = datetime.fromisoformat(str(timer.payload.get("since") or timer.payload["closed_at"]))
    if operator.seen_at is not None and operator.seen_at > since:
        # A console on another node beat since; its own ping normally re-arms the timer,
        # but make sure the switch stays set whatever the order of the commits was.
        grace = unit.desk.settings.desk.operators.disconnect_grace_seconds
        await _arm(unit, operator_id, operator.seen_at, operator.seen_at + lost_after(grace))
        return
    await lose_in(unit, operator)


async def lose_in(unit: Unit, operator: Operator) -> None:
    """Within a unit: the operator is gone. Offline; offers and chats move on to others.

    Conversations are locked before the operator's row is written, as everywhere, and routed
    again only once the operator is offline, so that none comes back to them.
    """
    withdrawn = await routing.withdraw_offers_in(unit, operator.id)
    requeued = await handover.requeue_chats_in(unit, operator)
    await handover.leave_joined_in(unit, operator)
    if operator.status != "offline":
        await op_repo.set_status(unit.conn, operator.id, "offline")
    await routing.reroute_in(unit, requeued + withdrawn)


TIMER_HANDLERS: dict[str, timers.TimerHandler] = {GONE_TIMER: on_console_gone}
