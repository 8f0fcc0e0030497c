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
