"""The example desks of examples/ say what the two seed pages say, at the edges of their hours."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from madoguchi.config import DeskConfig, load_desk_config
from madoguchi.domain.hours import is_open, next_change

ROOT = Path(__file__).resolve().parent.parent
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture(scope="module")
def jp() -> DeskConfig:
    return load_desk_config(ROOT / "examples/hosting-jp.toml")


@pytest.fixture(scope="module")
def world() -> DeskConfig:
    return load_desk_config(ROOT / "examples/hosting-global.toml")


def jst(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=TOKYO)


def utc(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def opened(desk: DeskConfig, department: str, language: str, at: datetime) -> bool:
    schedule = desk.schedule_for(department, language)
    assert schedule is not None
    return is_open(schedule, at)


def changes(desk: DeskConfig, department: str, language: str, at: datetime) -> datetime | None:
    schedule = desk.schedule_for(department, language)
    assert schedule is not None
    return next_change(schedule, at)


# --- The first page: 平日の10:00~18:00(土・日・祝日、および当社指定休を除きます), Japanese only.


@pytest.mark.parametrize("department", ["support", "accounts"])
def test_jp_weekdays_ten_to_six_japan_time(jp: DeskConfig, department: str) -> None:
    # Tuesday 2026-11-24.
    assert not opened(jp, department, "ja", jst(11, 24, 9, 59, 59))
    assert opened(jp, department, "ja", jst(11, 24, 10, 0))
    assert opened(jp, department, "ja", jst(11, 24, 17, 59, 59))
    assert not opened(jp, department, "ja", jst(11, 24, 18, 0))
    assert changes(jp, department, "ja", jst(11, 24, 9, 59, 59)) == jst(11, 24, 10, 0)
    assert changes(jp, department, "ja", jst(11, 24, 10, 0)) == jst(11, 24, 18, 0)
    # An instant is an instant: 10:00 JST is 01:00 UTC.
    assert opened(jp, department, "ja", utc(11, 24, 1, 0))


def test_jp_closed_at_weekends_and_national_holidays(jp: DeskConfig) -> None:
    assert not opened(jp, "support", "ja", jst(11, 21, 12, 0))  # Saturday
    assert not opened(jp, "support", "ja", jst(11, 22, 12, 0))  # Sunday
    # Monday 2026-11-23 is Labor Thanksgiving Day (勤労感謝の日): closed all day.
    assert not opened(jp, "support", "ja", jst(11, 23, 10, 0))
    assert not opened(jp, "support", "ja", jst(11, 23, 15, 0))
    # From Friday 18:00, closed through the weekend and the holiday until Tuesday 10:00.
    assert changes(jp, "support", "ja", jst(11, 20, 18, 0)) == jst(11, 24, 10, 0)
    # Wednesday 2026-05-06 is a substitute holiday (振替休日) for Sunday's Constitution Day.
    assert not opened(jp, "support", "ja", jst(5, 6, 12, 0))
    assert changes(jp, "support", "ja", jst(5, 1, 18, 0)) == jst(5, 7, 10, 0)


def test_jp_closed_on_company_holidays(jp: DeskConfig) -> None:
    # 当社指定休: 2026-12-29 (Tuesday) to 2027-01-03, after a normal Monday.
    assert opened(jp, "support", "ja", jst(12, 28, 17, 59, 59))
    assert not opened(jp, "support", "ja", jst(12, 29, 10, 0))
    assert not opened(jp, "accounts", "ja", jst(12, 30, 12, 0))
    assert changes(jp, "support", "ja", jst(12, 28, 18, 0)) == datetime(
        2027, 1, 4, 10, tzinfo=TOKYO
    )


def test_jp_is_japanese_only(jp: DeskConfig) -> None:
    assert jp.schedule_for("support", "en") is None
    assert jp.department_languages("support") == ["ja"]
    assert {topic.id: jp.topic_languages(topic.id) for topic in jp.topics} == {
        "rental-server": ["ja"],
        "domain": ["ja"],
        "ssl": ["ja"],
        "before-contract": ["ja"],
        "procedures": ["ja"],
        "billing": ["ja"],
    }


# --- The second page: a desk per language and department, mostly in UTC.


def test_world_support_per_language(world: DeskConfig) -> None:
    saturday = utc(11, 28, 12, 0)
    # English around the clock, weekends included; nothing ever changes.
    assert opened(world, "support", "en", saturday)
    assert changes(world, "support", "en", saturday) is None
    # Japanese 10:00–18:00 Japan time, Monday to Friday: Monday 10:00 JST is 01:00 UTC.
    assert changes(world, "support", "ja", saturday) == jst(11, 30, 10, 0)
    assert not opened(world, "support", "ja", jst(11, 30, 9, 59, 59))
    assert opened(world, "support", "ja", utc(11, 30, 1, 0))
    # French 06–17, Italian 06–23, Portuguese 09–10 UTC.
    assert not opened(world, "support", "fr", utc(11, 30, 5, 59, 59))
    assert opened(world, "support", "fr", utc(11, 30, 6, 0))
    assert not opened(world, "support", "fr", utc(11, 30, 17, 0))
    assert opened(world, "support", "it", utc(11, 30, 22, 59, 59))
    assert not opened(world, "support", "it", utc(11, 30, 23, 0))
    assert opened(world, "support", "pt", utc(11, 30, 9, 30))
    assert changes(world, "support", "pt", utc(11, 30, 9, 30)) == utc(11, 30, 10, 0)
    # Spanish 14:00 to midnight: Friday's ends as Saturday begins.
    assert opened(world, "support", "es", utc(11, 27, 23, 59, 59))
    assert not opened(world, "support", "es", utc(11, 28, 0, 0))
    assert changes(world, "support", "es", utc(11, 27, 14, 0)) == utc(11, 28, 0, 0)
    # German is not a support language.
    assert world.schedule_for("support", "de") is None


def test_world_sales_per_language(world: DeskConfig) -> None:
    monday = utc(11, 30, 8, 0)
    assert all(opened(world, "sales", code, monday) for code in ("en", "de", "nl", "es", "it"))
    assert not opened(world, "sales", "fr", monday)  # French from 11:00
    assert changes(world, "sales", "de", monday) == utc(11, 30, 16, 0)
    # English sales is round the clock on weekdays only.
    assert opened(world, "sales", "en", utc(11, 27, 23, 59, 59))
    assert not opened(world, "sales", "en", utc(11, 28, 0, 0))
    assert changes(world, "sales", "en", utc(11, 28, 0, 0)) == utc(11, 30, 0, 0)
    assert world.schedule_for("sales", "pt") is None


def test_world_malware_and_abuse_runs_across_midnight(world: DeskConfig) -> None:
    # Monday to Friday 12:00–06:00 UTC: Friday's span ends on Saturday morning.
    assert opened(world, "abuse", "en", utc(11, 28, 5, 59))
    assert opened(world, "abuse", "en", utc(11, 28, 5, 59, 59))
    assert not opened(world, "abuse", "en", utc(11, 28, 6, 0))
    assert changes(world, "abuse", "en", utc(11, 28, 5, 59)) == utc(11, 28, 6, 0)
    # Sunday has no span to run into Monday morning; Monday opens at noon.
    assert not opened(world, "abuse", "en", utc(11, 30, 5, 0))
    assert changes(world, "abuse", "en", utc(11, 28, 6, 0)) == utc(11, 30, 12, 0)
    # Monday's span carries Tuesday morning.
    assert opened(world, "abuse", "en", utc(12, 1, 5, 59, 59))
    assert not opened(world, "abuse", "en", utc(12, 1, 6, 0))


def test_world_migrations_billing_accounts_affiliate(world: DeskConfig) -> None:
    # Migrations: the three regions' weekday hours make one stretch, 01:00–22:00 UTC.
    assert not opened(world, "migrations", "en", utc(11, 30, 0, 59, 59))
    assert changes(world, "migrations", "en", utc(11, 30, 1, 0)) == utc(11, 30, 22, 0)
    # Weekends 13:00–21:00 UTC.
    assert changes(world, "migrations", "en", utc(11, 27, 22, 0)) == utc(11, 28, 13, 0)
    assert opened(world, "migrations", "en", utc(11, 29, 20, 59, 59))
    assert not opened(world, "migrations", "en", utc(11, 29, 21, 0))
    # Billing 01–23, account management 04–22, affiliates 08–17, Monday to Friday.
    assert changes(world, "billing", "en", utc(11, 30, 0, 0)) == utc(11, 30, 1, 0)
    assert changes(world, "billing", "en", utc(11, 30, 1, 0)) == utc(11, 30, 23, 0)
    assert changes(world, "accounts", "en", utc(11, 30, 4, 0)) == utc(11, 30, 22, 0)
    assert not opened(world, "accounts", "en", utc(11, 28, 12, 0))
    assert changes(world, "affiliate", "en", utc(11, 27, 17, 0)) == utc(11, 30, 8, 0)
    assert world.schedule_for("billing", "ja") is None


def test_world_languages_and_topics(world: DeskConfig) -> None:
    assert world.languages.enabled == ["en", "ja", "it", "pt", "fr", "de", "nl", "es", "sv", "da"]
    # ベータ版の機能に関するサポートは、現在英語のみ: beta features in English only.
    assert world.topic_languages("beta") == ["en"]
    assert world.topic_languages("technical") == ["en", "ja", "fr", "it", "pt", "es"]
    assert world.topic_languages("sales") == ["en", "ja", "de", "nl", "es", "fr", "it"]
    assert world.topic_languages("abuse") == ["en"]
