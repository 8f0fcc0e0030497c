"""What each kind of durable timer does when it fires: every kind's handler is registered here.

A handler runs in the transaction that claimed its timer (services/timers.py), so its writes
commit together with the timer's removal, or roll back and the timer is tried again. It is
given the ``Unit`` and the ``Timer``; it should check that what it is about to do still makes
sense (the conversation may have ended), and read the time from ``unit.desk.clock()``.
"""

from __future__ import annotations

from madoguchi.services import attachments, away, lifecycle, presence, retention, routing
from madoguchi.services import secrets as secret_handling
from madoguchi.services.timers import TimerHandler

TIMER_HANDLERS: dict[str, TimerHandler] = {
    **routing.TIMER_HANDLERS,
    **presence.TIMER_HANDLERS,
    **lifecycle.TIMER_HANDLERS,
    **retention.TIMER_HANDLERS,
    **attachments.TIMER_HANDLERS,
    **secret_handling.TIMER_HANDLERS,
    **away.TIMER_HANDLERS,
}
