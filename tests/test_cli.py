"""The madoguchi command: migrate, user add, and its errors."""

from __future__ import annotations

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
