"""The ban rules (domain/bans.py): networks, durations, reasons, the hot path's snapshot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from madoguchi.domain.bans import (
    BanSnapshot,
    check_duration,
    check_reason,
    expires_at,
    is_active,
    network_of,
    parse_duration,
)
from madoguchi.domain.errors import DomainError

NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.9", "203.0.113.0/24"),
        ("::ffff:203.0.113.9", "203.0.113.0/24"),  # IPv4 through an IPv6 socket
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("not an address", None),
        ("", None),
        (None, None),
    ],
)
def test_the_network_of_an_address(address: str | None, network: str | None) -> None:
    assert network_of(address) == network


def test_the_prefixes_are_configurable() -> None:
    assert network_of("203.0.113.9", ipv4_prefix=32) == "203.0.113.9/32"
    assert network_of("203.0.113.9", ipv4_prefix=16) == "203.0.0.0/16"
    assert network_of("2001:db8::1", ipv6_prefix=48) == "2001:db8::/48"


def test_durations() -> None:
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration("permanent") is None
    for bad in ("0d", "7w", "d", "-1d", "1.5h", "forever"):
        with pytest.raises(ValueError, match="is not a duration"):
            parse_duration(bad)
    assert check_duration("7d", ["1d", "7d"]) == timedelta(days=7)
    with pytest.raises(DomainError) as caught:
        check_duration("30d", ["1d", "7d"])
    assert (caught.value.code, caught.value.status) == ("bad_duration", 422)


def test_a_reason_is_required() -> None:
    assert check_reason("  暴言  ") == "暴言"
    for bad in ("", "   ", "x" * 501):
        with pytest.raises(DomainError) as caught:
            check_reason(bad)
        assert caught.value.code == "reason_required"


def test_expiry() -> None:
    assert expires_at(NOW, None) is None
    until = expires_at(NOW, timedelta(days=1))
    assert until == NOW + timedelta(days=1)
    assert is_active(until, None, NOW)
    assert not is_active(until, None, until)
    assert not is_active(None, NOW, NOW)
    assert is_active(None, None, NOW + timedelta(days=9999))


def test_the_snapshot_matches_visitors_and_networks_until_they_expire() -> None:
    snapshot = BanSnapshot()
    snapshot.add("v1", None, NOW + timedelta(hours=1))
    snapshot.add("v2", "203.0.113.0/24", NOW + timedelta(hours=1))
    snapshot.add("v3", "203.0.113.0/24", None)  # the longest ban on a key wins
    assert snapshot.matches("v1", None, NOW)
    assert not snapshot.matches("v1", None, NOW + timedelta(hours=1))
    assert snapshot.matches("new", "203.0.113.0/24", NOW + timedelta(days=400))
    assert not snapshot.matches("new", "198.51.100.0/24", NOW)
    assert not snapshot.matches(None, None, NOW)
