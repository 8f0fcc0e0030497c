"""The madoguchi command: migrate, user add, hours, check-config, and their errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def madoguchi(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "MADOGUCHI_VAR_DIR": str(tmp_path),
        "MADOGUCHI_CONFIG": str(ROOT / "tests/madoguchi.test.toml"),
        "MADOGUCHI_USER_PASSWORD": "a good password",
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [sys.executable, "-m", "madoguchi.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


def test_user_add_creates_an_account_once(tmp_path: Path) -> None:
    assert madoguchi(tmp_path, "migrate").returncode == 0
    made = madoguchi(
        tmp_path, "user", "add", "sato@example.com", "--name", "佐藤", "--languages", "ja",
        "--departments", "support,sales", "--capacity", "4",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "created operator sato@example.com" in made.stdout
    again = madoguchi(tmp_path, "user", "add", "SATO@example.com", "--name", "Sato")
    assert again.returncode == 1
    assert "exists" in again.stderr


def test_user_add_refuses_what_the_config_does_not_have(tmp_path: Path) -> None:
    bad = madoguchi(tmp_path, "user", "add", "a@example.com", "--name", "A", "--departments", "hr")
    assert bad.returncode == 1
    assert "'hr' is not configured" in bad.stderr
    short = madoguchi(
        tmp_path, "user", "add", "b@example.com", "--name", "B", "--password", "short"
    )
    assert short.returncode == 1
    assert "at least 8" in short.stderr


def bare(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command with no MADOGUCHI_* variables at all, run in an empty directory."""
    return subprocess.run(
        [sys.executable, "-m", "madoguchi.cli", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        cwd=cwd,
        check=False,
        timeout=60,
    )


def test_hours_prints_who_answers_and_until_when(tmp_path: Path) -> None:
    example = str(ROOT / "examples/hosting-global.toml")
    # Saturday 05:59 UTC: the malware desk is still on Friday's span, which ends at 06:00.
    result = bare(tmp_path, "hours", "--config", example, "--at", "2026-11-28T05:59:00Z")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["at"] == "2026-11-28T05:59:00+00:00"
    desks = report["departments"]
    assert desks["abuse"]["en"] == {
        "open": True,
        "next_change": "2026-11-28T06:00:00+00:00",
        "hours": "malware-abuse",
    }
    assert desks["support"]["en"] == {"open": True, "next_change": None, "hours": "always"}
    # Japanese opens on Monday at 10:00, shown in Japan time.
    assert desks["support"]["ja"] == {
        "open": False,
        "next_change": "2026-11-30T10:00:00+09:00",
        "hours": "japan-office",
    }
    assert list(desks["support"]) == ["en", "ja", "fr", "it", "pt", "es"]
    assert "de" not in desks["support"]
    # Neither the environment nor a var/ directory was needed, and none was made.
    assert list(tmp_path.iterdir()) == []


def test_hours_on_a_japanese_holiday(tmp_path: Path) -> None:
    example = str(ROOT / "examples/hosting-jp.toml")
    result = bare(tmp_path, "--config", example, "hours", "--at", "2026-11-23T10:00:00+09:00")
    assert result.returncode == 0, result.stderr
    support = json.loads(result.stdout)["departments"]["support"]
    assert support == {
        "ja": {"open": False, "next_change": "2026-11-24T10:00:00+09:00", "hours": "office"}
    }


def test_hours_wants_an_instant_with_its_offset(tmp_path: Path) -> None:
    example = str(ROOT / "examples/hosting-jp.toml")
    naive = bare(tmp_path, "hours", "--config", example, "--at", "2026-11-24T10:00")
    assert naive.returncode == 2
    assert "'2026-11-24T10:00' has no offset" in naive.stderr
    garbage = bare(tmp_path, "hours", "--config", example, "--at", "next tuesday")
    assert garbage.returncode == 2
    assert "'next tuesday' is not an ISO 8601 instant" in garbage.stderr
    assert naive.stdout == garbage.stdout == ""


def test_check_config_needs_only_the_file(tmp_path: Path) -> None:
    for name in ("hosting-jp.toml", "hosting-global.toml"):
        path = str(ROOT / "examples" / name)
        good = bare(tmp_path, "check-config", path)
        assert good.returncode == 0, good.stderr
        assert good.stdout == f"madoguchi: {path} is valid\n"
    bad = tmp_path / "bad.toml"
    text = (ROOT / "examples/hosting-jp.toml").read_text(encoding="utf-8")
    bad.write_text(text.replace('weekdays = ["10:00-18:00"]', 'weekdays = ["25:00-26:00"]'))
    wrong = bare(tmp_path, "check-config", str(bad))
    assert wrong.returncode == 2
    line = next(
        number
        for number, content in enumerate(bad.read_text().splitlines(), start=1)
        if content.startswith("weekdays")
    )
    assert f"hours.office.weekdays.0 (line {line}): " in wrong.stderr
    assert "'25:00-26:00': the start is not a time of day" in wrong.stderr
    missing = bare(tmp_path, "check-config", str(tmp_path / "nothing.toml"))
    assert missing.returncode == 2
    assert "cannot read the configuration file" in missing.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]
