"""GCRA (domain/ratelimits.py) against a leaky bucket written the textbook way, and its edges."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from madoguchi.domain.ratelimits import (
    Rule,
    decide,
    limit_key,
    network_of,
    parse_rule,
    retry_after_seconds,
)

T0 = 1_775_034_000_000  # 2026-04-01 09:00 UTC in ms, as the fake clock starts


@dataclass
class LeakyBucket:
    """The reference: a bucket that holds ``window`` ms of work and drains one ms per ms.

    Each action pours in ``interval`` ms; an action that would overflow it is refused and pours
    nothing. (ITU-T I.371 shows this "continuous-state leaky bucket" and GCRA's virtual
    scheduling admit exactly the same actions.)
    """

    rule: Rule
    level: int = 0
    last: int = 0

    def drained(self, now: int) -> int:
        return max(0, self.level - (now - self.last))

    def wait(self, now: int) -> int:
        return max(0, self.drained(now) + self.rule.interval_ms - self.rule.window_ms)

    def pour(self, now: int) -> None:
        self.level, self.last = self.drained(now) + self.rule.interval_ms, now


rules = st.builds(Rule, count=st.integers(1, 50), period_ms=st.integers(1000, 3_600_000))
# Arrival times: gaps from 0 (a burst) to a few minutes.
arrivals = st.lists(st.integers(0, 200_000), min_size=1, max_size=120).map(
    lambda gaps: [T0 + sum(gaps[: i + 1]) for i in range(len(gaps))]
)


@settings(max_examples=300, deadline=None)
@given(rule_list=st.lists(rules, min_size=1, max_size=3), times=arrivals)
def test_gcra_admits_exactly_what_the_leaky_buckets_admit(
    rule_list: list[Rule], times: list[int]
) -> None:
    buckets = [LeakyBucket(rule) for rule in rule_list]
    tats: list[int | None] = [None] * len(rule_list)
    for now in times:
        decision = decide(tats, rule_list, now)
        expected = max(bucket.wait(now) for bucket in buckets)
        if expected:
            assert decision.retry_after_ms == expected
        else:
            assert decision.retry_after_ms is None
            tats = list(decision.tats)
            for bucket in buckets:
                bucket.pour(now)


@settings(max_examples=200, deadline=None)
@given(rule=rules, times=arrivals)
def test_no_span_admits_more_than_the_burst_plus_the_pace(rule: Rule, times: list[int]) -> None:
    tats: list[int | None] = [None]
    admitted = []
    for now in times:
        decision = decide(tats, [rule], now)
        if decision.retry_after_ms is None:
            tats = list(decision.tats)
            admitted.append(now)
    for i, start in enumerate(admitted):
        for j in range(i, len(admitted)):
            span = admitted[j] - start
            assert j - i + 1 <= rule.count + span // rule.interval_ms


@settings(max_examples=200, deadline=None)
@given(rule=rules, extra=st.integers(0, 5))
def test_a_client_that_waits_retry_after_gets_through_and_not_a_ms_sooner(
    rule: Rule, extra: int
) -> None:
    tats: list[int | None] = [None]
    for _ in range(rule.count):
        decision = decide(tats, [rule], T0)
        assert decision.retry_after_ms is None
        tats = list(decision.tats)
    refused = decide(tats, [rule], T0)
    for _ in range(extra):  # refusals count nowhere: asking again changes nothing
        refused = decide(tats, [rule], T0)
    wait = refused.retry_after_ms
    assert wait is not None
    assert 0 < wait <= rule.interval_ms
    assert decide(tats, [rule], T0 + wait - 1).retry_after_ms == 1
    assert decide(tats, [rule], T0 + wait).retry_after_ms is None


def test_one_full_key_refuses_the_action_for_every_key_and_none_counts_it() -> None:
    visitor, network = Rule(2, 60_000), Rule(100, 60_000)
    tats: list[int | None] = [None, None]
    for _ in range(2):
        tats = list(decide(tats, [visitor, network], T0).tats)
    refused = decide(tats, [visitor, network], T0)
    assert refused.retry_after_ms == 30_000
    assert list(refused.tats) == tats  # the network did not count the refused message


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("30/1m", Rule(30, 60_000)),
        ("30/m", Rule(30, 60_000)),
        ("5/10m", Rule(5, 600_000)),
        (" 3 / 20s ", Rule(3, 20_000)),
        ("100/1h", Rule(100, 3_600_000)),
        (0, None),
        ("0", None),
        ("off", None),
    ],
)
def test_limits_are_written_count_slash_period(text: str | int, rule: Rule | None) -> None:
    assert parse_rule(text) == rule


@pytest.mark.parametrize(
    "text", ["30", "30 per minute", "0/1m", "3/0s", "1/200h", 5, True, "-1/1m"]
)
def test_a_limit_written_otherwise_is_refused_with_how_to_write_it(text: str | int) -> None:
    with pytest.raises(ValueError, match=r"30/1m|at least|at most"):
        parse_rule(text)


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    assert [retry_after_seconds(ms) for ms in (1, 999, 1000, 1001, 2000)] == [1, 1, 1, 2, 2]


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
        (None, None),
        ("", None),
    ],
)
def test_a_network_is_an_ipv4_address_or_an_ipv6_slash_64(
    address: str | None, network: str | None
) -> None:
    assert network_of(address) == network


def test_keys_name_the_action_and_who() -> None:
    assert limit_key("message", "visitor", "v1") == "rl:message:v:v1"
    assert limit_key("start", "network", "2001:db8::/64") == "rl:start:n:2001:db8::/64"
