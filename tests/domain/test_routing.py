"""Least-active routing: pure rules, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from madoguchi.domain.routing import Candidate, can_take, choose_least_active

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def op(
    name: str,
    *,
    active: int = 0,
    capacity: int = 3,
    online: bool = True,
    departments: tuple[str, ...] = ("support",),
    languages: tuple[str, ...] = ("ja", "en"),
    last: datetime | None = None,
) -> Candidate:
    return Candidate(
        name, online, frozenset(departments), frozenset(languages), capacity, active, last
    )


def test_fewest_active_chats_wins() -> None:
    chosen = choose_least_active(
        [op("a", active=2), op("b", active=1), op("c", active=3)], "support", "ja"
    )
    assert chosen is not None
    assert chosen.operator_id == "b"


def test_ties_go_to_whoever_waited_longest_and_never_assigned_first() -> None:
    recent = op("a", last=NOW)
    earlier = op("b", last=NOW - timedelta(minutes=5))
    never = op("c")
    assert choose_least_active([recent, earlier], "support", "ja") == earlier
    assert choose_least_active([recent, earlier, never], "support", "ja") == never


def test_never_to_a_full_offline_or_unskilled_operator() -> None:
    full = op("full", active=3, capacity=3)
    offline = op("offline", online=False)
    sales = op("sales", departments=("sales",))
    english = op("english", languages=("en",))
    assert choose_least_active([full, offline, sales, english], "support", "ja") is None
    assert choose_least_active([full, offline, sales, english], "support", "en") == english
    assert not can_take(full, "support", "ja")
    assert can_take(op("free", active=2, capacity=3), "support", "ja")


def test_nobody_eligible_gives_none() -> None:
    assert choose_least_active([], "support", "ja") is None
