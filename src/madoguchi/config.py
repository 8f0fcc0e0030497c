"""Settings: one TOML file for the company's rules, environment variables for URLs and secrets.

The TOML file (``madoguchi.toml``) says what the desk is: departments, topics, languages, limits.
The environment says where it runs: database and bus URLs, the secret key, the public URL.
Both are validated at start; an error names the key, what is wrong, and the line of the file.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from madoguchi.domain.conversation import SUPPORTED_LANGUAGES

Localized = dict[str, str]
_ID = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


class ConfigError(Exception):
    """The configuration is invalid; the message says where and why."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Company(_Model):
    name: str = "madoguchi"
    chat_policy_url: str = "/demo/policy"
    privacy_policy_url: str = "/demo/privacy"


class Languages(_Model):
    default: str = "ja"
    enabled: list[str] = Field(default_factory=lambda: ["ja", "en"], min_length=1)

    @model_validator(mode="after")
    def _known(self) -> Languages:
        for code in self.enabled:
            if code not in SUPPORTED_LANGUAGES:
                raise ValueError(
                    f"language {code!r} is not one madoguchi speaks; "
                    f"choose from {', '.join(SUPPORTED_LANGUAGES)}"
                )
        if self.default not in self.enabled:
            raise ValueError(f"the default language {self.default!r} is not in enabled")
        return self


class Department(_Model):
    name: Localized
    languages: list[str] | None = None
    routing: Literal["least-active", "manual"] = "least-active"


class Topic(_Model):
    id: _ID
    department: str
    label: Localized


class Limits(_Model):
    message_max_chars: int = Field(5000, ge=1, le=100_000)
    frame_max_bytes: int = Field(65536, ge=1024, le=1_048_576)
    send_queue_frames: int = Field(256, ge=8, le=100_000)


class Operators(_Model):
    default_capacity: int = Field(3, ge=1, le=100)


class Auth(_Model):
    # Argon2id cost. The defaults are argon2-cffi's (RFC 9106's low-memory choice); lower
    # them only for tests or very small machines, raise them when logins can afford it.
    argon2_time_cost: int = Field(3, ge=1, le=20)
    argon2_memory_kib: int = Field(65536, ge=1024, le=4_194_304)
    argon2_parallelism: int = Field(4, ge=1, le=64)


class Widget(_Model):
    # Origins allowed to embed the chat frame (CSP frame-ancestors); "*" allows any page.
    allowed_origins: list[str] = Field(default_factory=lambda: ["*"])


class DeskConfig(_Model):
    """The validated contents of ``madoguchi.toml``."""

    company: Company = Field(default_factory=Company)
    languages: Languages = Field(default_factory=Languages)
    departments: dict[_ID, Department] = Field(min_length=1)
    topics: list[Topic] = Field(min_length=1)
    limits: Limits = Field(default_factory=Limits)
    operators: Operators = Field(default_factory=Operators)
    auth: Auth = Field(default_factory=Auth)
    widget: Widget = Field(default_factory=Widget)

    def topic(self, topic_id: str) -> Topic | None:
        """The topic with this id, if configured."""
        return next((t for t in self.topics if t.id == topic_id), None)


def load_desk_config(path: Path) -> DeskConfig:
    """Read and validate a TOML file; raise ConfigError naming the key and line on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc.strerror}") from exc
    return parse_desk_config(text, source=str(path))


def parse_desk_config(text: str, *, source: str = "madoguchi.toml") -> DeskConfig:
    """Validate TOML text as a desk configuration."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    try:
        config = DeskConfig.model_validate(data)
    except ValidationError as exc:
        problems = [(tuple(err["loc"]), err["msg"]) for err in exc.errors()]
    else:
        problems = _cross_check(config)
        if not problems:
            return config
    lines = _key_lines(text)
    report = []
    for loc, message in problems:
        key = ".".join(str(part) for part in loc) or "(top level)"
        where = _line_of(lines, loc)
        at = f" (line {where})" if where else ""
        report.append(f"  {key}{at}: {message}")
    raise ConfigError(f"{source}: invalid configuration:\n" + "\n".join(report))


def _cross_check(config: DeskConfig) -> list[tuple[tuple[str | int, ...], str]]:
    """The rules that tie one part of the file to another, each with the key it is about."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    seen: set[str] = set()
    for index, topic in enumerate(config.topics):
        if topic.department not in config.departments:
            problems.append(
                (
                    ("topics", index, "department"),
                    f"department {topic.department!r} is not under [departments]",
                )
            )
        if topic.id in seen:
            problems.append((("topics", index, "id"), f"topic {topic.id!r} is listed twice"))
        seen.add(topic.id)
    for dep_id, dep in config.departments.items():
        for code in dep.languages or []:
            if code not in config.languages.enabled:
                problems.append(
                    (
                        ("departments", dep_id, "languages"),
                        f"{code!r} is not in languages.enabled",
                    )
                )
    return problems


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_.\"' -]+?)\s*=")


def _key_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """Map each key path in TOML text to the line it starts on (array tables get their index)."""
    found: dict[tuple[str | int, ...], int] = {}
    counters: dict[tuple[str, ...], int] = {}
    table: tuple[str | int, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            names = tuple(part.strip().strip("\"'") for part in header.group(2).split("."))
            if header.group(1) == "[[":
                index = counters.get(names, -1) + 1
                counters[names] = index
                table = (*names, index)
            else:
                table = names
            for end in range(1, len(names) + 1):  # a misspelt [a.b] is reported at its line
                found.setdefault(names[:end], number)
            found.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            parts = tuple(part.strip().strip("\"'") for part in key.group(1).split("."))
            found.setdefault((*table, *parts), number)
    return found


def _line_of(lines: dict[tuple[str | int, ...], int], loc: tuple[Any, ...]) -> int | None:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


@dataclass(frozen=True)
class Settings:
    """Everything a node needs to run: the desk configuration plus the environment."""

    desk: DeskConfig
    database_url: str
    bus_url: str
    secret_key: bytes
    public_url: str
    config_path: Path | None
    admin_email: str
    admin_password: str | None
    # Tests and the demo set this; production leaves cookies Secure when public_url is https.
    cookie_secure: bool


DEFAULT_CONFIG = Path(__file__).parent / "default.toml"


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
) -> Settings:
    """Build Settings from a config path (or MADOGUCHI_CONFIG, or ./madoguchi.toml) and the env."""
    env = dict(os.environ if env is None else env)
    raw_path = config_path or env.get("MADOGUCHI_CONFIG")
    if raw_path:
        path: Path | None = Path(raw_path)
    elif Path("madoguchi.toml").exists():
        path = Path("madoguchi.toml")
    else:
        path = None
    desk = load_desk_config(path or DEFAULT_CONFIG)
    var = Path(env.get("MADOGUCHI_VAR_DIR", "var"))
    database_url = (
        env.get("MADOGUCHI_DATABASE_URL") or f"sqlite+aiosqlite:///{var / 'madoguchi.db'}"
    )
    bus_url = env.get("MADOGUCHI_BUS_URL") or "memory://"
    if not database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(
            "MADOGUCHI_DATABASE_URL: must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    if not bus_url.startswith(("memory://", "redis://", "rediss://")):
        raise ConfigError("MADOGUCHI_BUS_URL: must be memory:// or redis://host:port/db")
    public_url = (env.get("MADOGUCHI_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")
    return Settings(
        desk=desk,
        database_url=database_url,
        bus_url=bus_url,
        secret_key=_secret_key(env, var),
        public_url=public_url,
        config_path=path,
        admin_email=env.get("MADOGUCHI_ADMIN_EMAIL", "admin@example.com"),
        admin_password=env.get("MADOGUCHI_ADMIN_PASSWORD") or None,
        cookie_secure=public_url.startswith("https://"),
    )


def _secret_key(env: dict[str, str], var: Path) -> bytes:
    """The signing key: from the env (required on several nodes), else one kept under ./var/."""
    if env.get("MADOGUCHI_SECRET_KEY"):
        key = env["MADOGUCHI_SECRET_KEY"].encode()
        if len(key) < 32:
            raise ConfigError("MADOGUCHI_SECRET_KEY: must be at least 32 characters")
        return key
    path = var / "secret.key"
    if not path.exists():
        var.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip().encode()
