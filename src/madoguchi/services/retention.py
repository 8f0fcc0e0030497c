"""Retention (SPEC P10): erasing a conversation's content when the policy says so.

Being built: ``after_end`` is where an ended conversation's erasure gets scheduled.
"""

from __future__ import annotations

from madoguchi.services.desk import Unit


async def after_end(unit: Unit, conversation_id: str) -> None:
    """A conversation just ended (within ``unit``): schedule its erasure if the policy erases."""
