"""The transcript download (SPEC V11): who may read which conversation, in which words and zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.domain.conversation import SUPPORTED_LANGUAGES, Role
from madoguchi.domain.errors import DomainError
from madoguchi.domain.records import Actor, Conversation, Event
from madoguchi.domain.transcript import (
    check_not_erased,
    check_time_zone,
    render_transcript,
    transcript_filename,
)
from madoguchi.i18n import translator
from madoguchi.services.chat import check_visible
from madoguchi.services.desk import Desk
from madoguchi.store import conversations as repo

_PAGE = 1000
UTC_ZONE = ZoneInfo("UTC")


def check_language(language: str) -> str:
    """One of the ten UI languages, or 400 ``unknown_language``."""
    if language not in SUPPORTED_LANGUAGES:
        raise DomainError("unknown_language", f"Language {language!r} is not a UI language.")
    return language


def _visitor_zone(conv: Conversation) -> ZoneInfo:
    """The zone the widget found in the visitor's browser when the chat started, else UTC.

    It came from the browser, unchecked: a value that is not a zone is ignored, not an error
    the visitor could do anything about.
    """
    found = conv.context.get("time_zone")
    if isinstance(found, str):
        try:
            return check_time_zone(found)
        except DomainError:
            pass
    return UTC_ZONE


async def _all_events(conn: AsyncConnection, conversation_id: str) -> list[Event]:
    """Every event of the conversation, page by page."""
    found: list[Event] = []
    while True:
        since = found[-1].seq if found else 0
        page = await repo.get_events(conn, conversation_id, since, limit=_PAGE)
        found.extend(page)
        if len(page) < _PAGE:
            return found


async def get_transcript(
    desk: Desk,
    actor: Actor,
    conversation_id: str,
    *,
    tz: str | None = None,
    lang: str | None = None,
) -> tuple[str, str]:
    """The file name and text of a conversation's transcript, for a visitor or an operator.

    A visitor reads their own conversation in its language, in the time zone asked for, else
    the one their browser reported, else UTC. An operator reads any conversation they may see,
    in the language and the zone they ask for (the desk's default language and UTC if not).
    Both get the same content: what the visitor saw, never a private note.
    """
    zone = check_time_zone(tz) if tz is not None else None
    if actor.role is Role.VISITOR:
        language = None  # the conversation's own
    else:
        language = check_language(lang) if lang is not None else None
    async with desk.db.read() as conn:
        conv = check_visible(await repo.get_conversation(conn, conversation_id), actor)
        check_not_erased(conv)
        events = await _all_events(conn, conv.id)
    config = desk.settings.desk
    if zone is None:
        zone = _visitor_zone(conv) if actor.role is Role.VISITOR else UTC_ZONE
    if language is None:
        language = conv.language if actor.role is Role.VISITOR else config.languages.default
    topic = config.topic(conv.topic)
    labels = topic.label if topic is not None else {}
    topic_label = (
        labels.get(language)
        or labels.get(config.languages.default)
        or next(iter(labels.values()), conv.topic)
    )
    text = render_transcript(
        conv,
        events,
        zone=zone,
        t=translator(language),
        reader=actor.role,
        language=language,
        company=config.company.name,
        topic_label=topic_label,
    )
    return transcript_filename(conv, zone), text
