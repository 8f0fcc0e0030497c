"""The configuration file is validated at start; an error names the key and the line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from madoguchi.config import ConfigError, load_settings, parse_desk_config

ROOT = Path(__file__).resolve().parent.parent

GOOD = """
[languages]
default = "en"
enabled = ["en", "ja"]

[departments.support]
name = { en = "Support" }

[[topics]]
id = "technical"
department = "support"
label = { en = "Technical" }
"""


def test_a_minimal_file_gets_sensible_defaults() -> None:
    config = parse_desk_config(GOOD)
    assert config.limits.message_max_chars == 5000
    assert config.departments["support"].routing == "least-active"
    assert config.topic("technical") is not None
    assert config.topic("nothing") is None


def test_the_shipped_files_are_valid() -> None:
    for path in (ROOT / "madoguchi.toml", ROOT / "src/madoguchi/default.toml"):
        parse_desk_config(path.read_text(encoding="utf-8"), source=str(path))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('routing = "x"', "[departments.support]\nrouting"),
            "departments.support.routing (line 7)",
        ),
        (
            ('department = "support"', 'department = "billing"'),
            "topics.0.department (line 11): department 'billing' is not under [departments]",
        ),
        (("[departments.support]", "[department.support]"), "department (line 6)"),
        (('enabled = ["en", "ja"]', 'enabled = ["en", "tlh"]'), "language 'tlh'"),
        (('default = "en"', 'default = "da"'), "default language 'da' is not in enabled"),
        (('id = "technical"', 'id = "Not An Id!"'), "topics.0.id (line 10)"),
        (
            ("[[topics]]", "[limits]\nmessage_max_chars = 0\n\n[[topics]]"),
            "limits.message_max_chars (line 10)",
        ),
        (("[[topics]]", "[widgets]\nx = 1\n\n[[topics]]"), "widgets (line 9)"),
        (("[[topics]]", "[[topics"), "not valid TOML"),
        (
            ("[[topics]]", '[moderation]\nblocked_hosts = ["ok.example", "http://"]\n\n[[topics]]'),
            "moderation (line 9): Value error, blocked_hosts: blocked host 'http://'",
        ),
        (
            ("[[topics]]", '[moderation]\nabuse_lists = ["ja", "fr"]\n\n[[topics]]'),
            "moderation.abuse_lists.1 (line 10)",
        ),
    ],
)
def test_errors_name_the_key_and_line(change: tuple[str, str], expected: str) -> None:
    old, new = change
    if old == 'routing = "x"':
        text = GOOD.replace("[departments.support]\n", '[departments.support]\nrouting = "x"\n')
    else:
        assert old in GOOD
        text = GOOD.replace(old, new, 1)
    with pytest.raises(ConfigError) as exc:
        parse_desk_config(text, source="desk.toml")
    assert "desk.toml" in str(exc.value)
    assert expected in str(exc.value)


def test_environment_urls_are_checked(tmp_path: Path) -> None:
    env = {"MADOGUCHI_VAR_DIR": str(tmp_path), "MADOGUCHI_DATABASE_URL": "mysql://x"}
    with pytest.raises(ConfigError, match="MADOGUCHI_DATABASE_URL"):
        load_settings(env=env)
    with pytest.raises(ConfigError, match="MADOGUCHI_BUS_URL"):
        load_settings(env={"MADOGUCHI_VAR_DIR": str(tmp_path), "MADOGUCHI_BUS_URL": "kafka://x"})
    with pytest.raises(ConfigError, match="at least 32"):
        load_settings(env={"MADOGUCHI_VAR_DIR": str(tmp_path), "MADOGUCHI_SECRET_KEY": "short"})


def test_the_secret_key_is_made_once_and_kept(tmp_path: Path) -> None:
    env = {"MADOGUCHI_VAR_DIR": str(tmp_path), "MADOGUCHI_CONFIG": str(ROOT / "madoguchi.toml")}
    first = load_settings(env=env)
    second = load_settings(env=env)
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
    assert first.database_url == f"sqlite+aiosqlite:///{tmp_path / 'madoguchi.db'}"


def test_the_command_reports_a_bad_file_and_exits_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace('department = "support"', 'department = "nowhere"'))
    result = subprocess.run(
        [sys.executable, "-m", "madoguchi.cli", "--config", str(bad), "check"],
        capture_output=True,
        text=True,
        env={"MADOGUCHI_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 2
    assert "department 'nowhere'" in result.stderr
    assert str(bad) in result.stderr


HOURS = GOOD.replace('name = { en = "Support" }', 'name = { en = "Support" }\nhours = "office"') + (
    """
[hours.office]
time_zone = "Asia/Tokyo"
weekdays = ["10:00-18:00"]
holidays = "JP"
closed = ["2026-12-29..2027-01-03", 2027-05-06]
"""
)


def test_hours_give_each_department_and_language_a_schedule() -> None:
    config = parse_desk_config(HOURS)
    office = config.hours["office"].schedule
    assert office.time_zone.key == "Asia/Tokyo"
    assert office.country == "JP"
    assert len(office.closed) == 7
    # Built once, when the file is read: every call hands out the same schedule.
    assert config.schedule_for("support", "en") is office
    assert config.schedule_for("support", "ja") is office
    assert config.schedule_for("support", "fr") is None  # not enabled
    assert config.schedule_for("nowhere", "en") is None
    # Without hours a department is open 24/7.
    always = parse_desk_config(GOOD).schedule_for("support", "ja")
    assert always is not None
    assert always.always


def test_a_language_without_hours_in_the_table_form_is_not_served() -> None:
    text = HOURS.replace('hours = "office"', 'hours = { ja = "office" }')
    config = parse_desk_config(text)
    assert config.department_languages("support") == ["ja"]
    assert config.schedule_for("support", "ja") is config.hours["office"].schedule
    assert config.schedule_for("support", "en") is None
    assert config.topic_languages("technical") == ["ja"]


def test_a_topic_can_keep_to_some_of_its_departments_languages() -> None:
    config = parse_desk_config(GOOD)
    assert config.topic_languages("technical") == ["en", "ja"]
    restricted = parse_desk_config(GOOD + 'languages = ["en"]\n')
    assert restricted.topic_languages("technical") == ["en"]
    assert restricted.topic_languages("nothing") == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'hours = "office"',
            'hours = "nowhere"',
            "departments.support.hours (line 8): no [hours.nowhere] table",
        ),
        (
            'hours = "office"',
            'hours = { en = "office", fr = "office", ja = "late" }',
            "departments.support.hours.fr (line 8): 'fr' is not one of the department's languages",
        ),
        (
            'hours = "office"',
            'hours = { en = "office", fr = "office", ja = "late" }',
            "departments.support.hours.ja (line 8): no [hours.late] table",
        ),
        (
            'time_zone = "Asia/Tokyo"',
            'time_zone = "Asia/Osaka"',
            "hours.office.time_zone (line 16): Value error, 'Asia/Osaka' is not a time zone",
        ),
        (
            'weekdays = ["10:00-18:00"]',
            'weekdays = ["09:00-12:00", "25:00-26:00"]',
            "hours.office.weekdays.1 (line 17): Value error, '25:00-26:00': the start is not a "
            "time of day",
        ),
        (
            'weekdays = ["10:00-18:00"]',
            'weekdays = ["10:00-18:00"]\nmonday = ["10:00-12:00"]',
            "hours.office.monday (line 18): Extra inputs are not permitted",
        ),
        (
            "2027-05-06]",
            '"2027-02-30"]',
            "hours.office.closed.1 (line 19): Value error, '2027-02-30' is not a date",
        ),
        (
            'holidays = "JP"',
            'holidays = "XX"',
            "hours.office.holidays (line 18): Value error, 'XX' is not a country",
        ),
        (
            'holidays = "JP"',
            'holidays_subdivision = "13"',
            "hours.office (line 15): Value error, holidays_subdivision needs holidays",
        ),
        (
            'time_zone = "Asia/Tokyo"\n',
            "",
            "hours.office (line 15): Value error, time_zone is required",
        ),
        (
            'time_zone = "Asia/Tokyo"',
            "always = true",
            "hours.office (line 15): Value error, always = true is open every hour of every day; "
            "remove closed, holidays, weekdays",
        ),
        (
            'weekdays = ["10:00-18:00"]',
            "weekend = []",
            "hours.office (line 15): Value error, no opening hours",
        ),
        (
            'label = { en = "Technical" }',
            'label = { en = "Technical" }\nlanguages = ["en", "fr"]',
            "topics.0.languages (line 14): department 'support' does not serve 'fr' "
            "(it serves en, ja)",
        ),
    ],
)
def test_hours_errors_name_the_key_and_line(old: str, new: str, expected: str) -> None:
    assert old in HOURS
    with pytest.raises(ConfigError) as exc:
        parse_desk_config(HOURS.replace(old, new, 1), source="desk.toml")
    assert expected in str(exc.value)


def test_the_example_desks_are_valid() -> None:
    for name in ("hosting-jp.toml", "hosting-global.toml"):
        path = ROOT / "examples" / name
        parse_desk_config(path.read_text(encoding="utf-8"), source=str(path))
