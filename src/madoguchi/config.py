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

from madoguchi.domain.abuse import compile_words, default_words
from madoguchi.domain.attachments import KINDS
from madoguchi.domain.bans import parse_duration
from madoguchi.domain.conversation import SUPPORTED_LANGUAGES
from madoguchi.domain.hosts import check_block_list
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
from madoguchi.domain.moderation import Rules
from madoguchi.domain.ratelimits import ACTIONS, SCOPES, Action, Rule, parse_rule

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


def _valid_rule(value: str | int) -> str | int:
    parse_rule(value)
    return value


# A rate limit: "COUNT/PERIOD" ("30/1m": 30 at once, then one every 2 s), or 0 for none.
_RateRule = Annotated[str | int, AfterValidator(_valid_rule)]


class MessageRateLimits(_Model):
    # Far above anyone typing; a network is several visitors (an office, a mobile carrier's NAT).
    visitor: _RateRule = "30/1m"
    network: _RateRule = "180/1m"
    operator: _RateRule = "120/1m"


class StartRateLimits(_Model):
    # Starting a chat or leaving an offline message; operators start none.
    visitor: _RateRule = "10/10m"
    network: _RateRule = "30/10m"
    operator: _RateRule = 0


class UploadRateLimits(_Model):
    visitor: _RateRule = "10/10m"
    network: _RateRule = "60/10m"
    operator: _RateRule = "60/10m"


class RateLimits(_Model):
    """Rate limits per visitor, network and operator (SPEC P11, docs/security.md)."""

    enabled: bool = True
    message: MessageRateLimits = Field(default_factory=MessageRateLimits)
    start: StartRateLimits = Field(default_factory=StartRateLimits)
    upload: UploadRateLimits = Field(default_factory=UploadRateLimits)
    _rules: dict[Action, tuple[Rule | None, Rule | None, Rule | None]] = PrivateAttr(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _parse(self) -> RateLimits:
        # Parsed once here: the message path asks for its rules on every message.
        for action in ACTIONS:
            limits = getattr(self, action)
            rules = tuple(parse_rule(getattr(limits, scope)) for scope in SCOPES)
            if self.enabled and any(rules):
                self._rules[action] = (rules[0], rules[1], rules[2])
        return self

    def rules(self, action: Action) -> tuple[Rule | None, Rule | None, Rule | None] | None:
        """The visitor, network and operator rules of an action; None when it has none."""
        return self._rules.get(action)


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


class Secrets(_Model):
    """``[secrets]``: a password or token the visitor sends, revealed once (SPEC V15)."""

    enabled: bool = True
    # An unrevealed secret is deleted this long after it was sent.
    reveal_minutes: int = Field(10, ge=1, le=24 * 60)
    # Longest value: a password or an API token, with room for a short key file.
    max_chars: int = Field(2000, ge=1, le=10_000)
    # How long the console shows a revealed value before hiding it for good.
    show_seconds: int = Field(30, ge=5, le=600)


def _valid_durations(value: list[str]) -> list[str]:
    for token in value:
        parse_duration(token)
    if len(set(value)) != len(value):
        raise ValueError("a duration is listed twice")
    return value


class Bans(_Model):
    """``[bans]``: what an operator's ban covers and for how long (SPEC A10, docs/security.md)."""

    # A network ban covers the visitor's address's network of this size.
    ipv4_prefix: int = Field(24, ge=8, le=32)
    ipv6_prefix: int = Field(64, ge=16, le=128)
    # The choices the console offers: "12h", "7d" … or "permanent"; the first is the default.
    durations: Annotated[list[str], AfterValidator(_valid_durations)] = Field(
        default_factory=lambda: ["1d", "7d", "30d", "permanent"], min_length=1
    )
    # How stale a node's copy of the bans may be for messages in a running chat (the hot path);
    # sessions, chat starts, offline messages and socket hellos always ask the database.
    cache_seconds: float = Field(5, ge=0, le=300)


AbuseList = Literal["ja", "en"]
SHIPPED_ABUSE_LISTS: tuple[AbuseList, ...] = ("ja", "en")


class Moderation(_Model):
    """``[moderation]``: what is checked in a message before it goes on (docs/moderation.md)."""

    # Mojibake or mostly U+FFFD from a visitor (P8): "refuse" asks them to resend (with the
    # repaired text when a repair is exact); "off" lets it through.
    garbled: Literal["refuse", "off"] = "refuse"
    # Card numbers (13-19 digits passing Luhn) masked before storage (P10), from either side.
    mask_card_numbers: bool = True
    # Hosts whose links are refused (P9): domains (subdomains included), IPs, CIDR networks, URLs.
    blocked_hosts: list[str] = Field(default_factory=list)
    # Abuse words flag a visitor's message to the operator (P9): the shipped lists to use
    # ("ja", "en"), and the desk's own entries ("!word" is an exception).
    abuse_lists: list[AbuseList] = Field(default_factory=lambda: list(SHIPPED_ABUSE_LISTS))
    abuse_words: list[str] = Field(default_factory=list)
    _rules: Rules = PrivateAttr(default_factory=Rules)

    @model_validator(mode="after")
    def _build(self) -> Moderation:
        # Built once here: they are used on every message.
        try:
            block_list = check_block_list(self.blocked_hosts) if self.blocked_hosts else None
        except ValueError as exc:
            raise ValueError(f"blocked_hosts: {exc}") from exc
        entries = [
            *(w for code in self.abuse_lists for w in default_words(code)),
            *self.abuse_words,
        ]
        self._rules = Rules(
            refuse_garbled=self.garbled == "refuse",
            mask_card_numbers=self.mask_card_numbers,
            block_list=block_list,
            words=compile_words(entries) if entries else None,
        )
        return self

    @property
    def rules(self) -> Rules:
        """The settings, ready to apply to a message (domain/moderation.py)."""
        return self._rules


class SmtpConfig(_Model):
    """The company's SMTP relay (docs/email.md): it signs and delivers (SPF, DKIM, DMARC)."""

    host: str = "localhost"
    port: int = Field(587, ge=1, le=65535)
    # "starttls": upgrade a plain connection (port 587); "tls": TLS from the start (465);
    # "none": plain text, for a relay on the same machine or network only.
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    # Better in the environment: MADOGUCHI_SMTP_PASSWORD overrides this.
    password: str | None = None
    timeout_seconds: float = Field(30, gt=0, le=600)


class InboundConfig(_Model):
    """The receiver of replies by email (docs/email.md): off unless ``domain`` is given."""

    enabled: bool = False
    # The domain of the Reply-To addresses; its MX record points at this receiver.
    domain: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(2525, ge=0, le=65535)
    max_bytes: int = Field(10_485_760, ge=1024, le=104_857_600)

    @model_validator(mode="after")
    def _domain_when_enabled(self) -> InboundConfig:
        if self.enabled and not self.domain:
            raise ValueError("give domain (the Reply-To addresses' domain) with enabled = true")
        return self


class EmailConfig(_Model):
    """Outgoing mail and replies by email (SPEC V8, V9, V11, A7, A8; docs/email.md)."""

    # "console": log each mail (development); "smtp": send through [email.smtp].
    backend: Literal["console", "smtp"] = "console"
    from_address: str = "support@example.com"
    from_name: str | None = None  # the company's name when absent
    # A failed send is tried again after retry_first_seconds, doubling up to retry_max_seconds,
    # and given up (status "failed", logged) give_up_hours after the mail was queued.
    retry_first_seconds: float = Field(30, gt=0, le=3600)
    retry_max_seconds: float = Field(3600, gt=0, le=86400)
    give_up_hours: float = Field(72, gt=0, le=24 * 30)
    # The pre-chat form asks for an address (SPEC V9); None: on when backend is "smtp".
    continuation: bool | None = None
    # V9: an operator's message the visitor has not received live, because no socket of
    # theirs was alive, is mailed this long after it was written (a quick reconnect sends
    # nothing), with a link back into the conversation valid for return_link_days.
    away_delay_seconds: float = Field(60, ge=0, le=3600)
    return_link_days: float = Field(7, gt=0, le=90)
    smtp: SmtpConfig = Field(default_factory=SmtpConfig)
    inbound: InboundConfig = Field(default_factory=InboundConfig)

    @property
    def asks_for_email(self) -> bool:
        """Whether the pre-chat form asks for an address (``continuation``, docs/email.md)."""
        return self.backend == "smtp" if self.continuation is None else self.continuation


class Attachments(_Model):
    """Files shared in a chat (SPEC V6, docs/security.md "Attachments")."""

    enabled: bool = True
    max_bytes: int = Field(10 * 1024 * 1024, ge=1, le=1024 * 1024 * 1024)
    max_per_conversation: int = Field(20, ge=1, le=10_000)
    # Kinds told by the file's first bytes (domain/attachments.py), never by its name.
    allowed: list[str] = Field(
        default_factory=lambda: [
            "png", "jpeg", "gif", "webp", "text", "pdf", "zip", "mp4", "webm", "quicktime"
        ]
    )  # fmt: skip
    # "disk": files under ``directory`` (one node, or a shared volume); "database": in the
    # database with everything else (several nodes without a shared volume).
    storage: Literal["disk", "database"] = "disk"
    directory: str = "var/attachments"

    @model_validator(mode="after")
    def _known_kinds(self) -> Attachments:
        for kind in self.allowed:
            if kind not in KINDS:
                raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
        return self


class Scanning(_Model):
    """Virus scanning of attachments by clamd; off (files not scanned) while ``clamd`` is unset."""

    # "unix:/run/clamav/clamd.ctl" or "tcp:127.0.0.1:3310".
    clamd: str | None = Field(None, pattern=r"^(unix:/.+|tcp:[^:]+:[0-9]{1,5})$")
    timeout_seconds: float = Field(30, gt=0, le=600)
    # clamd unreachable this long after an upload: the file is refused (never passed unscanned).
    give_up_minutes: float = Field(10, gt=0, le=7 * 24 * 60)


class Widget(_Model):
    # Origins allowed to embed the chat frame (CSP frame-ancestors); "*" allows any page.
    allowed_origins: list[str] = Field(default_factory=lambda: ["*"])


class IdentityConfig(_Model):
    """``[identity]``: tokens the host page signs for its members (SPEC V4, docs/identity.md).

    The secret itself is in the environment (MADOGUCHI_IDENTITY_SECRET), never in this file.
    """

    # A token whose expiry is further ahead than this is refused, however well signed.
    max_lifetime_minutes: int = Field(120, ge=1, le=7 * 24 * 60)


def _valid_link(value: str | Localized) -> str | Localized:
    for url in [value] if isinstance(value, str) else list(value.values()):
        if not (url.startswith(("https://", "http://")) or re.match(r"^/(?!/)", url)):
            raise ValueError(f"{url!r} is not an http(s):// URL or a path starting with /")
    return value


_Link = Annotated[str | Localized, AfterValidator(_valid_link)]


class Plans(_Model):
    """``[plans]``: members whose verified plan has no chat see these links instead (SPEC V4)."""

    without_chat: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")]] = Field(
        default_factory=list
    )
    # One URL for every language, or {language = URL}.
    docs_url: _Link | None = None
    forum_url: _Link | None = None

    @model_validator(mode="after")
    def _somewhere_to_go(self) -> Plans:
        if self.without_chat and self.docs_url is None and self.forum_url is None:
            raise ValueError("plans without chat need docs_url or forum_url to send members to")
        return self


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
    attachments: Attachments = Field(default_factory=Attachments)
    scanning: Scanning = Field(default_factory=Scanning)
    email: EmailConfig = Field(default_factory=EmailConfig)
    secrets: Secrets = Field(default_factory=Secrets)
    moderation: Moderation = Field(default_factory=Moderation)
    bans: Bans = Field(default_factory=Bans)
    rate_limits: RateLimits = Field(default_factory=RateLimits)
    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    plans: Plans = Field(default_factory=Plans)

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
    # Identity tokens' secrets (docs/identity.md): the current one first, then the previous one
    # while it is being rotated out; none: no token verifies.
    identity_secrets: tuple[bytes, ...] = ()


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
        identity_secrets=_identity_secrets(env),
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


def _identity_secrets(env: dict[str, str]) -> tuple[bytes, ...]:
    """MADOGUCHI_IDENTITY_SECRET, then MADOGUCHI_IDENTITY_SECRET_PREVIOUS during a rotation."""
    found = []
    for name in ("MADOGUCHI_IDENTITY_SECRET", "MADOGUCHI_IDENTITY_SECRET_PREVIOUS"):
        value = env.get(name, "").encode()
        if value and len(value) < 32:
            raise ConfigError(f"{name}: must be at least 32 characters")
        if value:
            found.append(value)
    if env.get("MADOGUCHI_IDENTITY_SECRET_PREVIOUS") and not env.get("MADOGUCHI_IDENTITY_SECRET"):
        raise ConfigError(
            "MADOGUCHI_IDENTITY_SECRET_PREVIOUS: set only beside MADOGUCHI_IDENTITY_SECRET"
        )
    return tuple(found)
