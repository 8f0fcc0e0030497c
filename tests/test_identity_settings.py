"""Identity settings (SPEC V4): the secret from the environment, plans without chat in the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from madoguchi.config import ConfigError, load_settings, parse_desk_config

MINIMAL = """
[departments.support]
name = { ja = "サポート", en = "Support" }

[[topics]]
id = "technical"
department = "support"
label = { ja = "技術", en = "Technical" }
"""
CURRENT = "c" * 32
PREVIOUS = "p" * 40


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"MADOGUCHI_VAR_DIR": str(tmp_path), "MADOGUCHI_SECRET_KEY": "k" * 32, **extra}


def test_no_secret_means_no_token_verifies(tmp_path: Path) -> None:
    assert load_settings(env=_env(tmp_path)).identity_secrets == ()


def test_the_current_secret_comes_first_then_the_previous_one(tmp_path: Path) -> None:
    settings = load_settings(
        env=_env(
            tmp_path,
            MADOGUCHI_IDENTITY_SECRET=CURRENT,
            MADOGUCHI_IDENTITY_SECRET_PREVIOUS=PREVIOUS,
        )
    )
    assert settings.identity_secrets == (CURRENT.encode(), PREVIOUS.encode())


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"MADOGUCHI_IDENTITY_SECRET": "short"}, "MADOGUCHI_IDENTITY_SECRET: must be at least 32"),
        (
            {"MADOGUCHI_IDENTITY_SECRET": CURRENT, "MADOGUCHI_IDENTITY_SECRET_PREVIOUS": "short"},
            "MADOGUCHI_IDENTITY_SECRET_PREVIOUS: must be at least 32",
        ),
        (
            {"MADOGUCHI_IDENTITY_SECRET_PREVIOUS": PREVIOUS},
            "set only beside MADOGUCHI_IDENTITY_SECRET",
        ),
    ],
)
def test_a_weak_or_lone_secret_stops_the_start(
    tmp_path: Path, extra: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env=_env(tmp_path, **extra))


def test_defaults_have_no_plan_without_chat_and_two_hours_of_lifetime() -> None:
    desk = parse_desk_config(MINIMAL)
    assert desk.plans.without_chat == []
    assert desk.identity.max_lifetime_minutes == 120


def test_plans_without_chat_with_their_links() -> None:
    desk = parse_desk_config(
        MINIMAL
        + """
[plans]
without_chat = ["lite", "free"]
docs_url = { ja = "https://example.com/ja/manual", en = "/en/manual" }
forum_url = "https://community.example.com/"
"""
    )
    assert desk.plans.without_chat == ["lite", "free"]
    assert desk.plans.forum_url == "https://community.example.com/"


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ('[plans]\nwithout_chat = ["lite"]', "plans (line"),
        ('[plans]\nwithout_chat = ["lite"]\ndocs_url = "javascript:alert(1)"', "plans.docs_url"),
        ('[plans]\nwithout_chat = ["lite"]\nforum_url = "//evil.example"', "plans.forum_url"),
        ('[plans]\nwithout_chat = ["lite plan"]\nforum_url = "/forum"', "plans.without_chat.0"),
        ("[identity]\nmax_lifetime_minutes = 0", "identity.max_lifetime_minutes"),
        ('[identity]\nsecret = "in the file"', "identity.secret"),
    ],
)
def test_bad_plans_and_identity_keys_are_named(section: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(")):
        parse_desk_config(MINIMAL + "\n" + section + "\n")
