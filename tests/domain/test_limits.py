"""The limits on an active chat: idle, no reply, time limit, as pure decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from madoguchi.domain.limits import Clocks, Limit, Policy, Step, next_step

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
SEED = Policy()  # the first seed page: 20 idle minutes, warned 5 before; 30 minutes an inquiry


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def clocks(
    activity: float = 0,
    visitor: float | None = None,
    operator: float | None = None,
    warned: dict[str, float] | None = None,
) -> Clocks:
    return Clocks(
        assigned_at=T0,
        last_activity_at=minutes(activity),
        last_visitor_at=None if visitor is None else minutes(visitor),
        last_operator_at=None if operator is None else minutes(operator),
        warned={k: minutes(v) for k, v in (warned or {}).items()},
    )


def test_idle_warns_five_minutes_before_twenty_and_ends_at_twenty() -> None:
    assert next_step(SEED, clocks(), minutes(0)) == Step("wait", None, minutes(15))
    assert next_step(SEED, clocks(), minutes(15)) == Step("warn", Limit.IDLE, minutes(20))
    warned = clocks(warned={"idle": 20})
    assert next_step(SEED, warned, minutes(15)) == Step("wait", None, minutes(20))
    assert next_step(SEED, warned, minutes(20)) == Step("end", Limit.IDLE, None)


def test_activity_moves_the_idle_deadline() -> None:
    assert next_step(SEED, clocks(activity=12), minutes(15)) == Step("wait", None, minutes(20))
    no_time_limit = Policy(time_limit=None)
    assert next_step(no_time_limit, clocks(activity=12), minutes(15)) == Step(
        "wait", None, minutes(27)
    )


def test_a_late_look_warns_with_the_full_five_minutes_rather_than_ending_at_once() -> None:
    # The only node was down from minute 14 to minute 40: the visitor still gets 5 minutes.
    no_time_limit = Policy(time_limit=None)
    assert next_step(no_time_limit, clocks(), minutes(40)) == Step("warn", Limit.IDLE, minutes(45))


def test_no_reply_counts_from_the_operators_message_until_the_visitor_answers() -> None:
    policy = Policy(no_reply=timedelta(minutes=10), no_reply_warning=timedelta(minutes=2))
    waiting = clocks(activity=3, visitor=1, operator=3)
    assert next_step(policy, waiting, minutes(3)) == Step("wait", None, minutes(11))
    assert next_step(policy, waiting, minutes(11)) == Step("warn", Limit.NO_REPLY, minutes(13))
    warned = clocks(activity=3, visitor=1, operator=3, warned={"no_reply": 13})
    assert next_step(policy, warned, minutes(13)) == Step("end", Limit.NO_REPLY, None)
    # The visitor answered (or typed): no reply is owed; idle still runs.
    answered = clocks(activity=4, visitor=4, operator=3)
    assert next_step(policy, answered, minutes(11)) == Step("wait", None, minutes(19))


def test_the_time_limit_notice_goes_to_the_operator_ten_minutes_before_and_does_not_wait_for_them() -> (
    None
):
    busy = clocks(activity=19.5, visitor=19.5, operator=19)
    assert next_step(SEED, busy, minutes(20)) == Step("warn", Limit.TIME_LIMIT, minutes(30))
    noticed = clocks(activity=29, visitor=29, operator=28, warned={"time_limit": 30})
    assert next_step(SEED, noticed, minutes(29)) == Step("wait", None, minutes(30))
    assert next_step(SEED, noticed, minutes(30)) == Step("end", Limit.TIME_LIMIT, None)
    follow = Policy(time_limit_action="follow_up")
    assert next_step(follow, noticed, minutes(30)) == Step("follow_up", Limit.TIME_LIMIT, None)


def test_when_two_ends_are_due_the_earlier_one_is_the_reason() -> None:
    both = clocks(activity=0, warned={"idle": 20, "time_limit": 30})
    assert next_step(SEED, both, minutes(31)) == Step("end", Limit.IDLE, None)


def test_limits_that_are_off_never_fire() -> None:
    off = Policy(idle=None, no_reply=None, time_limit=None)
    assert off.is_off
    assert next_step(off, clocks(operator=0), minutes(10_000)) == Step("wait", None, None)


@given(
    activity=st.floats(0, 100),
    now=st.floats(0, 200),
    idle=st.integers(2, 60),
    lead=st.integers(1, 59),
)
def test_idle_never_ends_a_chat_that_was_not_warned_for_that_very_end(
    activity: float, now: float, idle: int, lead: int
) -> None:
    lead = min(lead, idle - 1)
    policy = Policy(
        idle=timedelta(minutes=idle), idle_warning=timedelta(minutes=lead), time_limit=None
    )
    step = next_step(policy, clocks(activity=min(activity, now)), minutes(now))
    assert step.action in ("wait", "warn")
    if step.action == "warn":
        assert step.at is not None
        assert step.at - minutes(now) >= timedelta(minutes=lead)  # the full warning period
    else:
        assert step.at is not None
        assert step.at > minutes(now)  # a wait is always for later
