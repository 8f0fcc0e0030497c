"""Whether an operator's console is really there (SPEC A3: never to an operator who is gone).

An operator chooses online, away or offline; but a console closed without logging out, a
crashed laptop or a lost network says nothing. So every console proves itself: opening the
socket and each heartbeat (every 25 s) record ``seen_at``. When a node's last socket of an
operator closes, it sets a durable timer ``gone:<operator>`` at ``disconnect_grace_seconds``;
if no console of theirs, on any node, has been seen since, the timer sets them offline and
their offers move on. A reload or a short network drop reconnects well within the grace.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from madoguchi.services import routing, timers
from madoguchi.services.desk import Desk, Unit
from madoguchi.store import operators as op_repo

GONE_TIMER = "gone"


def gone_key(operator_id: str) -> str:
    """The timer key of an operator whose console went away."""
    return f"gone:{operator_id}"


async def do_console_seen(desk: Desk, operator_id: str, *, opened: bool = False) -> None:
    """A console of this operator is here: it opened (which also stops a pending "gone")."""
    async with desk.unit() as unit:
        await op_repo.mark_seen(unit.conn, operator_id, desk.clock())
        if opened:
            await timers.cancel(unit, gone_key(operator_id))


async def do_console_closed(desk: Desk, operator_id: str) -> None:
    """This node's last console of the operator closed: decide after the grace period."""
    now = desk.clock()
    grace = desk.settings.desk.operators.disconnect_grace_seconds
    async with desk.unit() as unit:
        await timers.schedule(
            unit,
            GONE_TIMER,
            gone_key(operator_id),
            now + timedelta(seconds=grace),
            {"operator_id": operator_id, "closed_at": now.isoformat()},
        )


async def on_console_gone(unit: Unit, timer: timers.Timer) -> None:
    """Timer: no console of the operator seen since one closed; set them offline."""
    operator_id = str(timer.payload["operator_id"])
    operator = await op_repo.get_operator(unit.conn, operator_id)
    if operator is None or operator.status == "offline":
        return
    closed_at = datetime.fromisoformat(str(timer.payload["closed_at"]))
    if operator.seen_at is not None and operator.seen_at > closed_at:
        return  # a console of theirs (this node or another) is still, or again, there
    withdrawn = await routing.withdraw_offers_in(unit, operator_id)
    await op_repo.set_status(unit.conn, operator_id, "offline")
    await routing.reroute_in(unit, withdrawn)


TIMER_HANDLERS: dict[str, timers.TimerHandler] = {GONE_TIMER: on_console_gone}
