"""Business hours: pure rules, time passed in (SPEC P1)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from madoguchi.domain.hours import (
    ALWAYS_OPEN,
    Schedule,
    Span,
    build_schedule,
    check_holiday_country,
    is_open,
    next_change,
    open_intervals,
    parse_closed_dates,
    parse_span,
    parse_time_zone,
)

PARIS = ZoneInfo("Europe/Paris")
TOKYO = ZoneInfo("Asia/Tokyo")
US = timedelta(microseconds=1)
# Summer time in the north and in the south, a half-hour change (Lord Howe), and none.
ZONES = (
    "UTC",
    "Asia/Tokyo",
    "Europe/Paris",
    "Europe/Amsterdam",
    "America/New_York",
    "Australia/Lord_Howe",
)
# No example database: each run stands on its own, and a failure shows its example.
PROPERTY = settings(deadline=None, database=None, max_examples=150)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def paris(year: int, month: int, day: int, hour: int, minute: int, *, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS, fold=fold)


spans = st.builds(
    lambda start, length: Span(start, start + length),
    st.integers(0, 1439),
    st.integers(1, 1439),
) | st.just(Span(0, 1440))


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    week = tuple(tuple(sorted(draw(st.lists(spans, max_size=3)))) for _ in range(7))
    closed = draw(st.frozensets(st.dates(date(2025, 1, 1), date(2028, 12, 31)), max_size=20))
    return Schedule(
        time_zone=ZoneInfo(draw(st.sampled_from(ZONES))),
        week=week,
        country=draw(st.sampled_from([None, "JP", "FR"])),
        closed=closed,
    )


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 1), timezones=st.just(UTC)
)


@PROPERTY
@given(schedules(), instants)
def test_is_open_agrees_with_open_intervals(schedule: Schedule, at: datetime) -> None:
    around = open_intervals(schedule, at - timedelta(days=3), at + timedelta(days=3))
    assert is_open(schedule, at) == any(start <= at < end for start, end in around)


@PROPERTY
@given(schedules(), instants, st.integers(1, 14 * 24 * 60))
def test_open_intervals_are_sorted_disjoint_and_within_the_window(
    schedule: Schedule, start: datetime, minutes: int
) -> None:
    end = start + timedelta(minutes=minutes)
    found = open_intervals(schedule, start, end)
    for opens, closes in found:
        assert start <= opens < closes <= end
        assert opens.tzinfo is UTC
        assert closes.tzinfo is UTC
    # Merged: a gap separates each from the next, so every boundary is a real change.
    for (_, closes), (opens, _) in pairwise(found):
        assert closes < opens


@PROPERTY
@given(schedules(), instants, st.integers(1, 10 * 24 * 60), st.integers(1, 10 * 24 * 60))
def test_a_window_split_in_two_gives_the_same_hours(
    schedule: Schedule, start: datetime, first: int, second: int
) -> None:
    middle = start + timedelta(minutes=first)
    end = middle + timedelta(minutes=second)
    halves = open_intervals(schedule, start, middle) + open_intervals(schedule, middle, end)
    joined: list[tuple[datetime, datetime]] = []
    for opens, closes in halves:
        if joined and joined[-1][1] == opens:
            joined[-1] = (joined[-1][0], closes)
        else:
            joined.append((opens, closes))
    assert joined == open_intervals(schedule, start, end)


@PROPERTY
@given(schedules(), instants)
def test_every_boundary_is_where_it_opens_or_closes(schedule: Schedule, at: datetime) -> None:
    window_end = at + timedelta(days=8)
    for opens, closes in open_intervals(schedule, at, window_end):
        if opens > at:
            assert not is_open(schedule, opens - US)
            assert next_change(schedule, opens - US) == opens
        assert is_open(schedule, opens)
        assert is_open(schedule, closes - US)
        if closes < window_end:
            assert not is_open(schedule, closes)
            assert next_change(schedule, opens) == closes


@PROPERTY
@given(schedules(), instants)
def test_next_change_is_a_real_change_and_nothing_changes_before_it(
    schedule: Schedule, at: datetime
) -> None:
    now_open = is_open(schedule, at)
    change = next_change(schedule, at)
    if change is None:
        # Never changes: open all along, or never open, as far as anyone looks.
        stretch = open_intervals(schedule, at, at + timedelta(days=30))
        assert stretch == ([(at, at + timedelta(days=30))] if now_open else [])
        return
    assert change > at
    assert is_open(schedule, change) != now_open
    assert open_intervals(schedule, at, change) == ([(at, change)] if now_open else [])


@PROPERTY
@given(spans)
def test_a_span_reads_back_from_its_own_text(span: Span) -> None:
    assert parse_span(str(span)) == span


@PROPERTY
@given(instants, instants)
def test_always_open_is_open_at_every_instant_and_never_changes(
    at: datetime, other: datetime
) -> None:
    start, end = sorted((at, other))
    assert is_open(ALWAYS_OPEN, at)
    assert next_change(ALWAYS_OPEN, at) is None
    assert open_intervals(ALWAYS_OPEN, start, end) == ([(start, end)] if start < end else [])


def test_a_span_across_midnight_belongs_to_the_day_it_starts() -> None:
    # The second seed page's malware desk: Monday to Friday, 12:00 to 06:00 UTC.
    abuse = build_schedule("UTC", weekdays=["12:00-06:00"])
    assert is_open(abuse, utc(2026, 11, 28, 5, 59, 59))  # Saturday: Friday's span
    assert not is_open(abuse, utc(2026, 11, 28, 6, 0))
    assert next_change(abuse, utc(2026, 11, 28, 5, 59)) == utc(2026, 11, 28, 6, 0)
    # Sunday has no span to run into Monday morning; Monday's starts at noon.
    assert not is_open(abuse, utc(2026, 11, 30, 3, 0))
    assert next_change(abuse, utc(2026, 11, 28, 6, 0)) == utc(2026, 11, 30, 12, 0)
    assert open_intervals(abuse, utc(2026, 11, 30), utc(2026, 12, 2)) == [
        (utc(2026, 11, 30, 12), utc(2026, 12, 1, 6)),
        (utc(2026, 12, 1, 12), utc(2026, 12, 2)),
    ]


def test_a_holiday_closes_the_spans_that_start_on_it_only() -> None:
    abuse = build_schedule("UTC", weekdays=["12:00-06:00"], closed=["2026-11-27"])
    # Friday is closed: its span never starts, so Saturday morning is closed too.
    assert not is_open(abuse, utc(2026, 11, 27, 13, 0))
    assert not is_open(abuse, utc(2026, 11, 28, 1, 0))
    # Thursday's span runs into the closed Friday and is kept, up to 06:00.
    assert is_open(abuse, utc(2026, 11, 27, 5, 59))
    assert next_change(abuse, utc(2026, 11, 27, 5, 59)) == utc(2026, 11, 27, 6, 0)
    # A national holiday the same way: Japan's Labor Thanksgiving Day, Monday 2026-11-23.
    office = build_schedule("Asia/Tokyo", weekdays=["10:00-18:00"], country="JP")
    assert not is_open(office, datetime(2026, 11, 23, 12, tzinfo=TOKYO))
    assert next_change(office, datetime(2026, 11, 23, 12, tzinfo=TOKYO)) == datetime(
        2026, 11, 24, 10, tzinfo=TOKYO
    )


def test_spans_of_consecutive_days_that_touch_are_one_stretch() -> None:
    nights = build_schedule("UTC", weekdays=["18:00-24:00"], weekend=["00:00-24:00"])
    # Friday 18:00 to Monday 00:00, then Monday 18:00 onwards, without a break at midnight.
    assert open_intervals(nights, utc(2026, 11, 27), utc(2026, 12, 1)) == [
        (utc(2026, 11, 27, 18), utc(2026, 11, 30)),
        (utc(2026, 11, 30, 18), utc(2026, 12, 1)),
    ]
    assert next_change(nights, utc(2026, 11, 27, 18)) == utc(2026, 11, 30)


def test_next_change_looks_past_weeks_of_open_or_closed_days() -> None:
    # Round the clock every day, but closed for a company day weeks ahead: open for 25 days on end.
    round_the_clock = build_schedule(
        "Asia/Tokyo", weekdays=["00:00-24:00"], weekend=["00:00-24:00"], closed=["2026-12-31"]
    )
    assert next_change(round_the_clock, utc(2026, 12, 6)) == datetime(2026, 12, 31, tzinfo=TOKYO)
    assert next_change(round_the_clock, datetime(2026, 12, 31, tzinfo=TOKYO)) == datetime(
        2027, 1, 1, tzinfo=TOKYO
    )
    # Never open: no change however far it looks.
    never = build_schedule("UTC", days={"fri": []})
    assert next_change(never, utc(2026, 1, 1)) is None
    # Closed for most of a year: the next opening is eleven months away.
    new_years_eve = build_schedule(
        "UTC", weekdays=["09:00-10:00"], closed=["2026-02-02..2026-12-30"]
    )
    assert next_change(new_years_eve, utc(2026, 2, 1)) == utc(2026, 12, 31, 9)


def test_clocks_going_forward_in_paris() -> None:
    # Sunday 2026-03-29: at 02:00 winter time (01:00 UTC) the clock jumps to 03:00.
    sunday = build_schedule("Europe/Paris", weekend=["02:30-04:00"])
    # 02:30 does not exist that night: the span starts at the first real instant after it.
    assert open_intervals(sunday, utc(2026, 3, 29), utc(2026, 3, 30)) == [
        (utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0))
    ]
    assert not is_open(sunday, utc(2026, 3, 29, 0, 59, 59))
    assert is_open(sunday, paris(2026, 3, 29, 3, 0))
    # The Saturday before, in winter time, and the Sunday after, in summer time.
    assert is_open(sunday, paris(2026, 3, 28, 2, 30))
    assert open_intervals(sunday, utc(2026, 4, 5), utc(2026, 4, 6)) == [
        (utc(2026, 4, 5, 0, 30), utc(2026, 4, 5, 2, 0))
    ]
    # Office hours keep to the wall clock: 09:00 is 08:00 UTC before, 07:00 UTC after.
    office = build_schedule("Europe/Paris", weekdays=["09:00-17:00"])
    assert next_change(office, utc(2026, 3, 27, 17)) == utc(2026, 3, 30, 7)
    assert not is_open(office, utc(2026, 3, 27, 7, 30))
    assert is_open(office, utc(2026, 3, 30, 7, 30))
    # A span the change swallows whole opens never.
    gone = build_schedule("Europe/Paris", weekend=["02:00-02:45"])
    assert open_intervals(gone, utc(2026, 3, 29), utc(2026, 3, 30)) == []


def test_clocks_going_back_in_paris() -> None:
    # Sunday 2026-10-25: at 03:00 summer time (01:00 UTC) the clock goes back to 02:00.
    early = build_schedule("Europe/Paris", weekend=["00:00-02:30"])
    # 02:30 shows twice; the span ends at the first time it does (00:30 UTC).
    assert open_intervals(early, utc(2026, 10, 24, 12), utc(2026, 10, 26)) == [
        (utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 0, 30))
    ]
    assert not is_open(early, paris(2026, 10, 25, 2, 15, fold=1))
    assert is_open(early, paris(2026, 10, 25, 2, 15, fold=0))
    # A span over the change lasts an hour longer than its wall-clock length.
    night = build_schedule("Europe/Amsterdam", weekend=["01:00-04:00"])
    (only,) = open_intervals(night, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12))
    assert only == (utc(2026, 10, 24, 23), utc(2026, 10, 25, 3))


def test_days_of_their_own_override_weekdays_and_weekend() -> None:
    schedule = build_schedule(
        "UTC", weekdays=["09:00-17:00"], days={"wed": ["09:00-12:00", "13:00-17:00"], "fri": []}
    )
    assert is_open(schedule, utc(2026, 11, 24, 12, 30))  # Tuesday
    assert not is_open(schedule, utc(2026, 11, 25, 12, 30))  # Wednesday's lunch
    assert is_open(schedule, utc(2026, 11, 25, 13, 0))
    assert not is_open(schedule, utc(2026, 11, 27, 10, 0))  # Friday: closed


def test_naive_instants_are_refused() -> None:
    office = build_schedule("UTC", weekdays=["09:00-17:00"])
    with pytest.raises(ValueError, match="no time zone"):
        is_open(office, datetime(2026, 11, 24, 10))
    with pytest.raises(ValueError, match="no time zone"):
        next_change(office, datetime(2026, 11, 24, 10))
    with pytest.raises(ValueError, match="no time zone"):
        open_intervals(office, datetime(2026, 11, 24), utc(2026, 11, 25))


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("10:00-18:00", Span(600, 1080)),
        ("00:00-24:00", Span(0, 1440)),
        ("14:00-00:00", Span(840, 1440)),
        ("14:00-24:00", Span(840, 1440)),
        ("12:00-06:00", Span(720, 1800)),
        ("23:30-23:29", Span(1410, 2849)),
    ],
)
def test_spans_are_read(text: str, span: Span) -> None:
    assert parse_span(text) == span


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("25:00-26:00", "the start is not a time of day"),
        ("24:00-06:00", "the start is not a time of day"),
        ("10:60-18:00", "the start is not a time of day"),
        ("10:00-24:30", "the end is not a time of day"),
        ("10:00-10:00", "is empty; a whole day is '00:00-24:00'"),
        ("9:00-17:00", "write HH:MM-HH:MM"),
        ("10:00 - 18:00", "write HH:MM-HH:MM"),
    ],
)
def test_bad_spans_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_span(text)


def test_closed_dates_and_ranges() -> None:
    assert parse_closed_dates("2026-12-29..2027-01-03") == [
        date(2026, 12, 29) + timedelta(days=n) for n in range(6)
    ]
    assert parse_closed_dates(date(2026, 5, 1)) == [date(2026, 5, 1)]
    for bad, message in [
        ("2026-02-30", "not a date"),
        ("29/12/2026", "write YYYY-MM-DD"),
        ("2027-01-03..2026-12-29", "ends before it starts"),
        ("2026-12-29..", "needs an end"),
        ("2026-01-01..2027-06-01", "at most a year"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_closed_dates(bad)


def test_time_zones_and_holiday_countries_are_checked() -> None:
    assert parse_time_zone("Asia/Tokyo") == TOKYO
    for bad in ("Asia/Osaka", "JST+9", "../etc/passwd", ""):
        with pytest.raises(ValueError, match="not a time zone"):
            parse_time_zone(bad)
    check_holiday_country("JP")
    check_holiday_country("DE", "BY")
    with pytest.raises(ValueError, match="'XX' is not a country"):
        check_holiday_country("XX")
    with pytest.raises(ValueError, match="'ZZ' is not a subdivision of 'DE'"):
        check_holiday_country("DE", "ZZ")


def test_regional_holidays_follow_the_subdivision() -> None:
    # Epiphany (6 January) is a holiday in Bavaria, not in Berlin.
    bavaria = build_schedule(
        "Europe/Berlin", weekdays=["09:00-17:00"], country="DE", subdivision="BY"
    )
    berlin = build_schedule(
        "Europe/Berlin", weekdays=["09:00-17:00"], country="DE", subdivision="BE"
    )
    at = datetime(2026, 1, 6, 12, tzinfo=ZoneInfo("Europe/Berlin"))
    assert not is_open(bavaria, at)
    assert is_open(berlin, at)
