"""Business hours: when a department answers in a language (SPEC P1).

A schedule is a time zone, a week of spans in that zone's wall-clock time, the national holidays
of a country and the company's own closed dates; or simply 24/7. Time is always passed in.

The rules, which docs/configuration.md repeats for people who write the file:

- A span belongs to the day it starts on. "12:00-06:00" on a Friday runs from Friday 12:00 to
  Saturday 06:00, even if Saturday has no hours of its own.
- A holiday or closed date closes the spans that *start* on it. A span that began the evening
  before and runs past midnight into the holiday is kept.
- A wall-clock time means the first instant at which the local clock shows that time or later.
  When clocks go back, that is the first of the two instants showing it; when clocks go
  forward, a time the clock skips (02:30 on the night Paris goes from 02:00 to 03:00) means the
  first real instant after it (03:00 summer time). A span the change swallows whole is dropped.
- 24/7 ignores every other rule: no holiday closes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MINUTES_A_DAY = 24 * 60
_SPAN = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# next_change looks this far ahead. Two years: a year of closed dates cannot hide an opening.
_HORIZON = timedelta(days=2 * 366)
_CHUNK = timedelta(days=7)


@dataclass(frozen=True, order=True)
class Span:
    """Open from ``start`` to ``end``, in minutes after the local midnight of the span's day.

    ``end`` is above 1440 for a span that runs past midnight ("12:00-06:00" is 720 to 1800).
    A span is shorter than a day, or the whole day from midnight to midnight: what
    "HH:MM-HH:MM" can say.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < _MINUTES_A_DAY or not self.start < self.end:
            raise ValueError(f"not a span: {self.start}..{self.end} minutes")
        if self.end > max(_MINUTES_A_DAY, self.start + _MINUTES_A_DAY - 1):
            raise ValueError(f"a span is shorter than a day: {self.start}..{self.end} minutes")

    def __str__(self) -> str:
        end = self.end if self.end <= _MINUTES_A_DAY else self.end - _MINUTES_A_DAY
        return f"{_clock(self.start)}-{_clock(end)}"


@dataclass(frozen=True)
class Schedule:
    """When someone answers: spans per weekday (Monday first) in a time zone, less closed days."""

    time_zone: ZoneInfo
    week: tuple[tuple[Span, ...], ...] = ((),) * 7
    always: bool = False
    country: str | None = None  # national holidays of this country close the day (e.g. "JP")
    subdivision: str | None = None  # a state or province of that country, for regional ones
    closed: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("a week has seven days, Monday first")


ALWAYS_OPEN = Schedule(time_zone=ZoneInfo("UTC"), always=True)


def parse_span(text: str) -> Span:
    """Read "HH:MM-HH:MM"; an end at or before the start means the next day, "24:00" midnight."""
    found = _SPAN.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a span; write HH:MM-HH:MM, e.g. '10:00-18:00'")
    sh, sm, eh, em = (int(part) for part in found.groups())
    if sh > 23 or sm > 59:
        raise ValueError(f"{text!r}: the start is not a time of day (00:00 to 23:59)")
    if eh > 24 or em > 59 or (eh == 24 and em > 0):
        raise ValueError(f"{text!r}: the end is not a time of day (00:00 to 24:00)")
    start, end = sh * 60 + sm, eh * 60 + em
    if end == start:
        raise ValueError(f"{text!r} is empty; a whole day is '00:00-24:00'")
    return Span(start, end if end > start else end + _MINUTES_A_DAY)


def parse_closed_dates(value: str | date) -> list[date]:
    """Read a date ("2026-12-29") or an inclusive range ("2026-12-29..2027-01-03")."""
    if isinstance(value, date):
        return [value]
    first_text, dots, last_text = value.partition("..")
    first, last = _parse_date(value, first_text), _parse_date(value, last_text or first_text)
    if dots and not last_text:
        raise ValueError(f"{value!r}: a range needs an end, e.g. '2026-12-29..2027-01-03'")
    if last < first:
        raise ValueError(f"{value!r}: the range ends before it starts")
    if last - first > timedelta(days=366):
        raise ValueError(f"{value!r}: a range of closed dates is at most a year long")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def parse_time_zone(name: str) -> ZoneInfo:
    """The IANA time zone of this name ("Asia/Tokyo", "Europe/Paris", "UTC")."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a time zone; use an IANA name such as 'Asia/Tokyo' or 'UTC'"
        ) from None


def check_holiday_country(country: str, subdivision: str | None = None) -> None:
    """Raise ValueError unless the holidays library knows this country (and subdivision)."""
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise ValueError(
            f"{country!r} is not a country with known national holidays; "
            "use an ISO 3166-1 code such as 'JP'"
        )
    if subdivision is not None and subdivision not in supported[country]:
        choices = ", ".join(supported[country]) or "none"
        raise ValueError(
            f"{subdivision!r} is not a subdivision of {country!r}; choose from {choices}"
        )


def build_schedule(
    time_zone: str,
    *,
    weekdays: Sequence[str] = (),
    weekend: Sequence[str] = (),
    days: Mapping[str, Sequence[str]] | None = None,
    always: bool = False,
    country: str | None = None,
    subdivision: str | None = None,
    closed: Iterable[str | date] = (),
) -> Schedule:
    """A schedule from the config's words: spans Mon–Fri, Sat–Sun, and per day ("mon") overrides."""
    if always:
        return ALWAYS_OPEN
    if country is not None:
        check_holiday_country(country, subdivision)
    by_day = {day: weekdays for day in DAYS[:5]} | {day: weekend for day in DAYS[5:]}
    for day, spans in (days or {}).items():
        if day not in DAYS:
            raise ValueError(f"{day!r} is not a day; use one of {', '.join(DAYS)}")
        by_day[day] = spans
    return Schedule(
        time_zone=parse_time_zone(time_zone),
        week=tuple(tuple(sorted(parse_span(text) for text in by_day[day])) for day in DAYS),
        country=country,
        subdivision=subdivision,
        closed=frozenset(day for value in closed for day in parse_closed_dates(value)),
    )


def is_open(schedule: Schedule, at: datetime) -> bool:
    """Whether someone answers at this instant."""
    _check_aware(at)
    if schedule.always:
        return True
    today = at.astimezone(schedule.time_zone).date()
    return any(
        start <= at < end
        for day in (today - timedelta(days=1), today)
        for start, end in _day_intervals(schedule, day)
    )


def open_intervals(
    schedule: Schedule, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The open stretches within [start, end), merged, in order, as UTC datetimes."""
    _check_aware(start)
    _check_aware(end)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return []
    if schedule.always:
        return [(start, end)]
    # A span can start on the day before `start` and run into it; none starts after `end`'s day.
    day = start.astimezone(schedule.time_zone).date() - timedelta(days=1)
    last = end.astimezone(schedule.time_zone).date()
    found: list[tuple[datetime, datetime]] = []
    while day <= last:
        found.extend(_day_intervals(schedule, day))
        day += timedelta(days=1)
    merged: list[tuple[datetime, datetime]] = []
    for opens, closes in sorted(found):
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    clipped = [(max(opens, start), min(closes, end)) for opens, closes in merged]
    return [(opens, closes) for opens, closes in clipped if opens < closes]


def next_change(schedule: Schedule, at: datetime) -> datetime | None:
    """When it next opens (if closed at ``at``) or closes (if open), in UTC.

    None when nothing changes within two years: 24/7, open every hour of every day, or never open.
    """
    _check_aware(at)
    if schedule.always:
        return None
    open_now = is_open(schedule, at)
    chunk = at.astimezone(UTC)
    limit = chunk + _HORIZON
    while chunk < limit:
        chunk_end = chunk + _CHUNK
        intervals = open_intervals(schedule, chunk, chunk_end)
        if not open_now and intervals:
            return intervals[0][0]
        if open_now:
            # Open at the start of every chunk looked at so far: it closes where the first
            # interval ends, or at this chunk's start if the previous one ended right there.
            if not intervals or intervals[0][0] > chunk:
                return chunk
            if intervals[0][1] < chunk_end:
                return intervals[0][1]
        chunk = chunk_end
    return None


def _day_intervals(schedule: Schedule, day: date) -> list[tuple[datetime, datetime]]:
    """The open intervals of the spans that start on this local day."""
    if _closed_on(schedule, day):
        return []
    found = []
    for span in schedule.week[day.weekday()]:
        opens = _instant(schedule.time_zone, day, span.start)
        closes = _instant(schedule.time_zone, day, span.end)
        if opens < closes:
            found.append((opens, closes))
    return found


def _closed_on(schedule: Schedule, day: date) -> bool:
    if day in schedule.closed:
        return True
    if schedule.country is None:
        return False
    return day in _national_holidays(schedule.country, schedule.subdivision, day.year)


@lru_cache(maxsize=512)
def _national_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """One country's holidays of one year; cached, as routing asks on every new chat."""
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def _instant(zone: ZoneInfo, day: date, minute: int) -> datetime:
    """The first instant at which the local clock shows ``minute`` after ``day``'s midnight."""
    wall = datetime.combine(day + timedelta(days=minute // _MINUTES_A_DAY), time()) + timedelta(
        minutes=minute % _MINUTES_A_DAY
    )
    # fold=0 is the earlier of two instants showing this time when clocks go back.
    later = wall.replace(tzinfo=zone).astimezone(UTC)
    if later.astimezone(zone).replace(tzinfo=None) == wall:
        return later
    # The clock skips this time. fold=1 reads it with the offset after the change, which lands
    # before the change; fold=0 with the one before, after it. The change lies between: find the
    # first second whose clock has passed `wall` (tzdata changes fall on whole seconds).
    low = int(wall.replace(tzinfo=zone, fold=1).astimezone(UTC).timestamp())
    high = int(later.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        shown = datetime.fromtimestamp(middle, zone).replace(tzinfo=None)
        low, high = (low, middle) if shown >= wall else (middle, high)
    return datetime.fromtimestamp(high, UTC)


def _parse_date(whole: str, text: str) -> date:
    if not _DATE.match(text):
        raise ValueError(
            f"{whole!r} is not a date; write YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD"
        )
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{whole!r} is not a date: {exc}") from None


def _check_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no time zone; business hours need an instant")


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
