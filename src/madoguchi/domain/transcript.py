"""The transcript of a conversation as a .txt file (SPEC V11), rendered from its events.

Pure: the caller reads the conversation and its events, picks the time zone and the language,
and gets the text. A transcript holds what the visitor saw and nothing else, whoever downloads
it: each event goes through ``for_visitor`` first, and then only the kinds this module knows how
to tell are written. So a private note or the operators' time-limit countdown can never reach
the file, and neither can a kind added later, until it is added here on purpose. Warnings of a
limit and "I'm still here" are moments of the live chat, not its content: they are left out.

The layout (docs/lifecycle.md, "Transcript")::

    madoguchi チャット履歴
    日付：2026-04-01
    タイムゾーン：Asia/Tokyo
    お問い合わせ内容：技術的な質問
    オペレーター：佐藤
    お問い合わせ番号：c_…

    [18:00] * チャットを開始しました（技術的な質問）
    [18:00] あなた: こんにちは
            二行目
    [18:01] 佐藤: はい、確認いたします。

Times are the 24-hour clock in the chosen time zone and dates ISO 8601 (2026-04-01), which read
the same in the ten languages; a line with the new date comes first when a chat passes midnight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from madoguchi.domain.conversation import EventKind, Role
from madoguchi.domain.errors import DomainError
from madoguchi.domain.handoff import for_visitor
from madoguchi.domain.hours import parse_time_zone
from madoguchi.domain.records import Conversation, Event

# ``t(key, **params)``: the catalogs' words in the reader's language (madoguchi.i18n).
Translate = Callable[..., str]

# The kinds a transcript tells; every other kind (hidden placeholders, notes, the time-limit
# countdown, warnings, kinds not invented yet) is left out.
TOLD = frozenset(
    {
        EventKind.CREATED.value,
        EventKind.MESSAGE.value,
        EventKind.ASSIGNED.value,
        EventKind.JOINED.value,
        EventKind.TRANSFERRED.value,
        EventKind.REQUEUED.value,
        EventKind.OFFLINE.value,
        EventKind.FOLLOW_UP.value,
        EventKind.ENDED.value,
        EventKind.ATTACHMENT.value,  # its file name only, never the file (SPEC V6)
    }
)
# Continuation lines of a message start under its first line's text: len("[18:00] ").
INDENT = " " * 8
_ZONE_MAX = 64


def check_time_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``, or 400 ``bad_time_zone``."""
    if not name or len(name) > _ZONE_MAX:
        raise DomainError("bad_time_zone", "Give an IANA time zone such as Asia/Tokyo.")
    try:
        return parse_time_zone(name)
    except ValueError:
        raise DomainError(
            "bad_time_zone", f"{name!r} is not a time zone; use one such as Asia/Tokyo."
        ) from None


def check_not_erased(conv: Conversation) -> None:
    """Raise 410 ``erased`` when retention has erased the conversation's content (P10)."""
    if conv.erased_at is not None:
        raise DomainError(
            "erased", "This conversation's content has been erased under the retention policy.", 410
        )


def visible_events(events: Iterable[Event]) -> list[Event]:
    """The events a transcript tells: as the visitor sees them, without what they never see."""
    return [seen for seen in (for_visitor(e) for e in events) if seen.kind in TOLD]


def operator_names(events: Iterable[Event]) -> list[str]:
    """The display names of the operators who appear in ``events``, in order of appearance."""
    names: list[str] = []
    for event in events:
        found: list[Any] = []
        if event.kind == EventKind.MESSAGE.value and event.author_role is Role.OPERATOR:
            found.append(event.author_name)
        elif event.kind in (EventKind.ASSIGNED.value, EventKind.JOINED.value):
            found.append((event.data.get("operator") or {}).get("name"))
        elif event.kind == EventKind.TRANSFERRED.value:
            found.append((event.data.get("from") or {}).get("name"))
            found.append((event.data.get("to") or {}).get("name"))
        for name in found:
            if isinstance(name, str) and name and name not in names:
                names.append(name)
    return names


def transcript_filename(conv: Conversation, zone: ZoneInfo) -> str:
    """``chat-<date the chat started, in zone>-<id>.txt``."""
    return f"chat-{conv.created_at.astimezone(zone).date().isoformat()}-{conv.id}.txt"


def render_transcript(
    conv: Conversation,
    events: Iterable[Event],
    *,
    zone: ZoneInfo,
    t: Translate,
    reader: Role,
    language: str,
    company: str,
    topic_label: str,
) -> str:
    """The .txt of ``conv`` in ``language`` for ``reader``: a visitor's own lines are "you",
    an operator reads "visitor"; everything else is the same for both."""
    told = visible_events(events)
    names = operator_names(told)
    separator = t("transcript.list_separator")
    lines = [
        t("transcript.title", company=company),
        t("transcript.date", date=conv.created_at.astimezone(zone).date().isoformat()),
        t("transcript.time_zone", zone=zone.key),
        t("transcript.topic", topic=topic_label),
        t(
            "transcript.operators",
            names=separator.join(names) if names else t("transcript.no_operator"),
        ),
        t("transcript.conversation", id=conv.id),
        "",
    ]
    day = conv.created_at.astimezone(zone).date()
    for event in told:
        local = event.created_at.astimezone(zone)
        if local.date() != day:
            day = local.date()
            lines.append(f"--- {day.isoformat()} ---")
        lines.extend(_event_lines(event, local, t, reader, topic_label, language))
    return "\n".join(lines) + "\n"


def _event_lines(
    event: Event,
    local: datetime,
    t: Translate,
    reader: Role,
    topic_label: str,
    language: str,
) -> list[str]:
    stamp = f"[{local:%H:%M}]"
    if event.kind in (EventKind.MESSAGE.value, EventKind.ATTACHMENT.value):
        if event.author_role is Role.OPERATOR:
            author = event.author_name or t("message.operator")
        elif reader is Role.VISITOR:
            author = t("message.you")
        else:
            author = t("message.visitor")
        if event.kind == EventKind.ATTACHMENT.value:
            return [f"{stamp} {author}: {t('transcript.attachment', name=event.data.get('name'))}"]
        # Kept verbatim, as the chat shows it: only the line breaks are normalized.
        body = (event.body or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
        first = f"{stamp} {author}: {body[0]}"
        return [first] + [f"{INDENT}{line}" if line else "" for line in body[1:]]
    return [f"{stamp} * {_system_text(event, t, reader, topic_label, language)}"]


def _system_text(
    event: Event,
    t: Translate,
    reader: Role,
    topic_label: str,
    language: str,
) -> str:
    """A system event's line, in the words the chat frame or the console uses for it."""
    data = event.data
    visitor = reader is Role.VISITOR
    kind = event.kind
    if kind == EventKind.CREATED.value:
        return t("event.created", topic=topic_label)
    if kind in (EventKind.ASSIGNED.value, EventKind.JOINED.value):
        name = (data.get("operator") or {}).get("name") or t("message.operator")
        return t(f"event.{kind}", name=name)
    if kind == EventKind.TRANSFERRED.value:
        return _transfer_text(data, t, visitor, language)
    if kind == EventKind.REQUEUED.value:
        return t("transcript.requeued")
    if kind == EventKind.OFFLINE.value:
        why = "left_message" if data.get("reason") == "left_message" else "no_operator"
        return t(f"offline.{why}") if visitor else t(f"event.offline.{why}")
    reason = str(data.get("reason") or "resolved")
    if kind == EventKind.FOLLOW_UP.value:
        if visitor:
            return t("transcript.follow_up")
        return t("transcript.follow_up_operator", reason=t(f"reason.{reason}"))
    # ended: the polite explanation the visitor read, or the reason as operators name it
    return t(f"ended.{reason}") if visitor else t("event.ended", reason=t(f"reason.{reason}"))


def _transfer_text(
    data: dict[str, Any],
    t: Translate,
    visitor: bool,
    language: str,
) -> str:
    source = (data.get("from") or {}).get("name") or t("message.operator")
    name = (data.get("to") or {}).get("name")
    if data.get("reason") == "take_over":
        key = "transferred.taken_over" if visitor else "event.taken_over"
        return t(key, name=name or t("message.operator"), **{"from": source})
    if name:
        key = "transferred.operator" if visitor else "event.transferred"
        return t(key, name=name, **{"from": source})
    # The department's name in the reader's language, as the event carries it in every one.
    names = data.get("department_name") or {}
    department = str(names.get(language) or names.get("en") or data.get("department") or "")
    key = "transferred.department" if visitor else "event.transferred_department"
    return t(key, department=department, **{"from": source})
