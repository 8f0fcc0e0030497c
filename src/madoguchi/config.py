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
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from madoguchi.domain.conversation import SUPPORTED_LANGUAGES
from madoguchi.domain.hours import (
    ALWAYS_OPEN,
    DAYS,
    Schedule,
    build_schedule,
    check_holiday_country,
    parse_closed_dates,
    parse_span,
    parse_time_zone,
)
from madoguchi.domain.limits import Policy

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


RoutingMode = Literal["least-active", "most-available", "round-robin", "manual"]


class Department(_Model):
    name: Localized
    languages: list[str] | None = None
    # How a waiting chat finds an operator (docs/routing.md); "manual": operators pick.
    routing: RoutingMode = "least-active"
    # Seconds an operator has to accept an offered chat before it moves to the next one;
    # 0 gives the chat at once, without asking.
    offer_seconds: int = Field(0, ge=0, le=600)
    # Minutes a chat may wait for an operator before it leaves the queue and becomes an
    # offline message (the first seed page: no operator could be found in time).
    max_wait_minutes: int = Field(15, ge=1, le=24 * 60)
    # Chats waiting at once before the widget says "busy" instead of queueing; none: no limit.
    max_queue: int | None = Field(None, ge=1, le=100_000)
    # The [hours.<name>] it keeps: one name for every language, or {language = name} (a
    # language without an entry is not served); absent: open 24/7.
    hours: str | dict[str, str] | None = None
    # The limits on a chat with an operator (docs/lifecycle.md); 0 turns a limit off; fractions
    # of a minute are allowed (0.5 is 30 seconds).
    # Idle (P2): nothing happened for this long, a warning idle_warning_minutes before.
    idle_minutes: float = Field(20, ge=0, le=24 * 60)
    idle_warning_minutes: float = Field(5, gt=0, le=24 * 60)
    # No reply (P3): the operator wrote last and the visitor did not answer (off by default:
    # the first seed page promises 20 idle minutes, which a shorter no-reply limit would break).
    no_reply_minutes: float = Field(0, ge=0, le=24 * 60)
    no_reply_warning_minutes: float = Field(2, gt=0, le=24 * 60)
    # Time limit (P4): one inquiry over this long after an operator first took it; the operator
    # sees the time left from time_limit_notice_minutes before; then "end" or "follow_up".
    time_limit_minutes: float = Field(30, ge=0, le=24 * 60)
    time_limit_notice_minutes: float = Field(10, gt=0, le=24 * 60)
    time_limit_action: Literal["end", "follow_up"] = "end"

    @model_validator(mode="after")
    def _warnings_inside_limits(self) -> Department:
        for limit in ("idle", "no_reply", "time_limit"):
            minutes = getattr(self, f"{limit}_minutes")
            lead_name = (
                f"{limit}_notice_minutes" if limit == "time_limit" else f"{limit}_warning_minutes"
            )
            if minutes and getattr(self, lead_name) >= minutes:
                raise ValueError(f"{lead_name} must be less than {limit}_minutes")
        return self

    @property
    def policy(self) -> Policy:
        """The limits as domain/limits.py takes them."""
        return Policy(
            idle=_minutes(self.idle_minutes),
            idle_warning=timedelta(minutes=self.idle_warning_minutes),
            no_reply=_minutes(self.no_reply_minutes),
            no_reply_warning=timedelta(minutes=self.no_reply_warning_minutes),
            time_limit=_minutes(self.time_limit_minutes),
            time_notice=timedelta(minutes=self.time_limit_notice_minutes),
            time_limit_action=self.time_limit_action,
        )


def _minutes(minutes: float) -> timedelta | None:
    return timedelta(minutes=minutes) if minutes else None


class Topic(_Model):
    id: _ID
    department: str
    label: Localized
    # Only these of the department's languages (the second seed page: beta features in English).
    languages: list[str] | None = Field(None, min_length=1)


class Limits(_Model):
    message_max_chars: int = Field(5000, ge=1, le=100_000)
    frame_max_bytes: int = Field(65536, ge=1024, le=1_048_576)
    send_queue_frames: int = Field(256, ge=8, le=100_000)


class Operators(_Model):
    default_capacity: int = Field(3, ge=1, le=100)
    # An operator whose console has been gone this long (closed, crashed, lost network) is set
    # offline and their offers move on. Above the console's 25 s heartbeat plus jitter, so that
    # a console still open on another node always proves itself in time.
    disconnect_grace_seconds: int = Field(45, ge=31, le=3600)


class Auth(_Model):
    # Argon2id cost. The defaults are argon2-cffi's (RFC 9106's low-memory choice); lower
    # them only for tests or very small machines, raise them when logins can afford it.
    argon2_time_cost: int = Field(3, ge=1, le=20)
    argon2_memory_kib: int = Field(65536, ge=1024, le=4_194_304)
    argon2_parallelism: int = Field(4, ge=1, le=64)


class Retention(_Model):
    """How long a conversation's content is kept (SPEC P10, docs/lifecycle.md).

    "keep": forever; "days": erased ``days`` after the chat ended, by a daily purge; "none":
    erased as soon as the chat has ended and the visitor's download window has closed. Erasure
    leaves what metrics need: times, department, language, operator, rating, end reason.
    """

    policy: Literal["keep", "days", "none"] = "keep"
    days: int | None = Field(None, ge=1, le=36_500)
    # After the end, the visitor may still download the transcript this long (V11).
    download_window_minutes: int = Field(60, ge=1, le=7 * 24 * 60)

    @model_validator(mode="after")
    def _days_with_days(self) -> Retention:
        if (self.policy == "days") != (self.days is not None):
            raise ValueError('give days = N with policy = "days", and only then')
        return self


class Survey(_Model):
    # After the end the visitor may rate the chat 1 to 5 and comment (SPEC V12).
    enabled: bool = True
    comment_max_chars: int = Field(2000, ge=0, le=20_000)


class Widget(_Model):
    # Origins allowed to embed the chat frame (CSP frame-ancestors); "*" allows any page.
    allowed_origins: list[str] = Field(default_factory=lambda: ["*"])


def _valid_span(text: str) -> str:
    parse_span(text)
    return text


def _valid_closed(value: date | str) -> date | str:
    parse_closed_dates(value)
    return value


def _valid_time_zone(name: str) -> str:
    parse_time_zone(name)
    return name


def _valid_country(country: str) -> str:
    check_holiday_country(country)
    return country


_Spans = list[Annotated[str, AfterValidator(_valid_span)]]


class HoursConfig(_Model):
    """A named schedule, ``[hours.<name>]``: when a department answers (domain/hours.py)."""

    time_zone: Annotated[str, AfterValidator(_valid_time_zone)] | None = None
    weekdays: _Spans = Field(default_factory=list)
    weekend: _Spans = Field(default_factory=list)
    # A day's own spans replace what weekdays or weekend give it ([] closes that day).
    mon: _Spans | None = None
    tue: _Spans | None = None
    wed: _Spans | None = None
    thu: _Spans | None = None
    fri: _Spans | None = None
    sat: _Spans | None = None
    sun: _Spans | None = None
    always: bool = False
    holidays: Annotated[str, AfterValidator(_valid_country)] | None = None
    holidays_subdivision: str | None = None
    closed: list[Annotated[date | str, AfterValidator(_valid_closed)]] = Field(default_factory=list)
    _schedule: Schedule = PrivateAttr(default=ALWAYS_OPEN)

    @model_validator(mode="after")
    def _build(self) -> HoursConfig:
        # Built once here: routing asks for schedules on every new chat.
        days = {day: getattr(self, day) for day in DAYS if getattr(self, day) is not None}
        if self.always:
            extra = sorted(self.model_fields_set - {"always", "time_zone"})
            if extra:
                raise ValueError(
                    f"always = true is open every hour of every day; remove {', '.join(extra)}"
                )
            return self
        if self.time_zone is None:
            raise ValueError("time_zone is required, e.g. time_zone = 'Asia/Tokyo'")
        if not (self.weekdays or self.weekend or any(days.values())):
            raise ValueError("no opening hours: give weekdays, weekend, mon … sun, or always")
        if self.holidays_subdivision is not None and self.holidays is None:
            raise ValueError("holidays_subdivision needs holidays (the country)")
        self._schedule = build_schedule(
            self.time_zone,
            weekdays=self.weekdays,
            weekend=self.weekend,
            days=days,
            country=self.holidays,
            subdivision=self.holidays_subdivision,
            closed=self.closed,
        )
        return self

    @property
    def schedule(self) -> Schedule:
        """The schedule these keys describe."""
        return self._schedule


class DeskConfig(_Model):
    """The validated contents of ``madoguchi.toml``."""

    company: Company = Field(default_factory=Company)
    languages: Languages = Field(default_factory=Languages)
    departments: dict[_ID, Department] = Field(min_length=1)
    topics: list[Topic] = Field(min_length=1)
    hours: dict[_ID, HoursConfig] = Field(default_factory=dict)
    limits: Limits = Field(default_factory=Limits)
    operators: Operators = Field(default_factory=Operators)
    auth: Auth = Field(default_factory=Auth)
    widget: Widget = Field(default_factory=Widget)
    retention: Retention = Field(default_factory=Retention)
    survey: Survey = Field(default_factory=Survey)

    def topic(self, topic_id: str) -> Topic | None:
        """The topic with this id, if configured."""
        return next((t for t in self.topics if t.id == topic_id), None)

    def department_languages(self, department: str) -> list[str]:
        """The languages a department serves: its own (or all enabled), less any its hours omit."""
        dep = self.departments.get(department)
        if dep is None:
            return []
        spoken = dep.languages if dep.languages is not None else self.languages.enabled
        if isinstance(dep.hours, dict):
            return [code for code in spoken if code in dep.hours]
        return list(spoken)

    def hours_name(self, department: str, language: str) -> str | None:
        """The ``[hours.<name>]`` a department keeps in a language; None when it keeps 24/7."""
        hours = self.departments[department].hours
        return hours.get(language) if isinstance(hours, dict) else hours

    def schedule_for(self, department: str, language: str) -> Schedule | None:
        """When a department answers in a language; None when it does not serve it at all."""
        if language not in self.department_languages(department):
            return None
        name = self.hours_name(department, language)
        return ALWAYS_OPEN if name is None else self.hours[name].schedule

    def topic_languages(self, topic_id: str) -> list[str]:
        """The languages a visitor may use for a topic (none for an unknown topic)."""
        topic = self.topic(topic_id)
        if topic is None:
            return []
        served = self.department_languages(topic.department)
        if topic.languages is None:
            return served
        return [code for code in topic.languages if code in served]


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
    problems.extend(_check_hours_and_topic_languages(config))
    return problems


def _check_hours_and_topic_languages(
    config: DeskConfig,
) -> list[tuple[tuple[str | int, ...], str]]:
    """Departments name existing [hours.<name>]; topics keep to their department's languages."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for dep_id, dep in config.departments.items():
        where: tuple[str | int, ...] = ("departments", dep_id, "hours")
        if isinstance(dep.hours, str) and dep.hours not in config.hours:
            problems.append((where, f"no [hours.{dep.hours}] table"))
        if not isinstance(dep.hours, dict):
            continue
        spoken = dep.languages if dep.languages is not None else config.languages.enabled
        for code, name in dep.hours.items():
            if code not in spoken:
                problems.append(
                    ((*where, code), f"{code!r} is not one of the department's languages")
                )
            if name not in config.hours:
                problems.append(((*where, code), f"no [hours.{name}] table"))
    for index, topic in enumerate(config.topics):
        served = config.department_languages(topic.department)
        for code in topic.languages or []:
            if topic.department in config.departments and code not in served:
                problems.append(
                    (
                        ("topics", index, "languages"),
                        f"department {topic.department!r} does not serve {code!r} "
                        f"(it serves {', '.join(served) or 'none'})",
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
    path = find_config_path(config_path, env)
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


def find_config_path(
    config_path: str | os.PathLike[str] | None, env: dict[str, str]
) -> Path | None:
    """The file given, else MADOGUCHI_CONFIG, else ./madoguchi.toml; None means the built-in."""
    raw_path = config_path or env.get("MADOGUCHI_CONFIG")
    if raw_path:
        return Path(raw_path)
    if Path("madoguchi.toml").exists():
        return Path("madoguchi.toml")
    return None


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
