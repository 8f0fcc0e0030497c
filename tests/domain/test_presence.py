"""When a console counts as there (domain/presence.py): a heartbeat plus the grace."""

from __future__ import annotations

from datetime import timedelta

from clock import START
from madoguchi.domain.presence import HEARTBEAT_SECONDS, alive_since, lost_after


def test_a_console_is_given_up_one_heartbeat_plus_the_grace_after_its_last_sign() -> None:
    assert HEARTBEAT_SECONDS == 25
    assert lost_after(45) == timedelta(seconds=70)
    assert alive_since(START, 45) == START - timedelta(seconds=70)
