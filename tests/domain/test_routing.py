"""Routing modes: pure rules, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from madoguchi.domain.routing import (
    LEAST_ACTIVE,
    MANUAL,
    MOST_AVAILABLE,
    ROUND_ROBIN,
    Candidate,
    can_take,
    choose_operator,
)

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
AUTOMATIC = (LEAST_ACTIVE, MOST_AVAILABLE, ROUND_ROBIN)


def op(
    name: str,
    *,
    load: int = 0,
    capacity: int = 3,
    online: bool = True,
    departments: tuple[str, ...] = ("support",),
    languages: tuple[str, ...] = ("ja", "en"),
    last: datetime | None = None,
) -> Candidate:
    return Candidate(
        name, online, frozenset(departments), frozenset(languages), capacity, load, last
    )


def chosen(
    mode: str, candidates: list[Candidate], language: str = "ja", **kw: object
) -> str | None:
    found = choose_operator(mode, candidates, "support", language, **kw)  # type: ignore[arg-type]
    return found.operator_id if found else None


def test_least_active_takes_the_fewest_chats() -> None:
    assert (
        chosen(LEAST_ACTIVE, [op("a", load=2), op("b", load=1), op("c", load=0, capacity=1)]) == "c"
    )
    assert chosen(LEAST_ACTIVE, [op("a", load=2), op("b", load=1)]) == "b"


def test_most_available_takes_the_most_free_slots() -> None:
    big = op("big", load=2, capacity=5)  # 3 free
    small = op("small", load=0, capacity=2)  # 2 free, but fewer chats
    assert chosen(MOST_AVAILABLE, [small, big]) == "big"
    assert chosen(LEAST_ACTIVE, [small, big]) == "small"


def test_round_robin_goes_to_whoever_had_a_chat_longest_ago_whatever_their_load() -> None:
    busy_but_waiting = op("a", load=2, last=NOW - timedelta(minutes=30))
    idle_but_recent = op("b", load=0, last=NOW)
    assert chosen(ROUND_ROBIN, [idle_but_recent, busy_but_waiting]) == "a"
    # Each in turn: a, b, c, then a again.
    team = {name: op(name, last=None) for name in "abc"}
    order = []
    for minute in range(4):
        pick = chosen(ROUND_ROBIN, list(team.values()))
        assert pick is not None
        order.append(pick)
        team[pick] = op(pick, last=NOW + timedelta(minutes=minute))
    assert order == ["a", "b", "c", "a"]


@pytest.mark.parametrize("mode", AUTOMATIC)
def test_ties_go_to_whoever_waited_longest_and_never_assigned_first(mode: str) -> None:
    recent = op("a", last=NOW)
    earlier = op("b", last=NOW - timedelta(minutes=5))
    never = op("c")
    assert chosen(mode, [recent, earlier]) == "b"
    assert chosen(mode, [recent, earlier, never]) == "c"


@pytest.mark.parametrize("mode", AUTOMATIC)
def test_never_to_a_full_offline_or_unskilled_operator(mode: str) -> None:
    full = op("full", load=3, capacity=3)
    offline = op("offline", online=False)
    sales = op("sales", departments=("sales",))
    english = op("english", languages=("en",))
    team = [full, offline, sales, english]
    assert chosen(mode, team, "ja") is None
    assert chosen(mode, team, "en") == "english"
    assert not can_take(full, "support", "ja")
    assert can_take(op("free", load=2, capacity=3), "support", "ja")


@pytest.mark.parametrize("mode", AUTOMATIC)
def test_an_offer_that_lapsed_moves_to_the_next_operator(mode: str) -> None:
    team = [op("a"), op("b", last=NOW)]
    assert chosen(mode, team) == "a"
    assert chosen(mode, team, exclude=["a"]) == "b"
    assert chosen(mode, team, exclude=["a", "b"]) is None


def test_manual_routing_picks_nobody_and_nobody_eligible_gives_none() -> None:
    assert chosen(MANUAL, [op("a")]) is None
    assert chosen(LEAST_ACTIVE, []) is None
