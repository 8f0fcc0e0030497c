"""Queueing mails to a visitor, within the unit of work that calls for them (docs/email.md).

A mail is a row of the outbox, inserted in the caller's transaction: the offline message and
its acknowledgment, the operator's answer and its mail, commit together or not at all. The
sender (mail/sender.py) sends it after the commit. Each mail has a ``dedupe_key`` naming what
asked for it, so a retried request queues it once.
"""

from __future__ import annotations

from datetime import datetime

from madoguchi.domain.conversation import Status
from madoguchi.domain.records import Conversation, Event
from madoguchi.domain.reply_address import make_reply_address
from madoguchi.i18n import Translator, translator
from madoguchi.mail.compose import Draft, Line, Link, local_time, render
from madoguchi.services.desk import Unit
from madoguchi.store import outbox

ACK, ANSWER, TRANSCRIPT, FOLLOW_UP, AWAY = "ack", "answer", "transcript", "follow_up", "away"


def visitor_address(conv: Conversation) -> str | None:
    """Where mail to the conversation's visitor goes: the address they gave, if any."""
    address = conv.prechat.get("email") if conv.prechat else None
    return address if isinstance(address, str) and address else None


def reply_address(unit: Unit, conversation_id: str) -> str | None:
    """The conversation's Reply-To, when replies by email are received (docs/email.md)."""
    inbound = unit.desk.settings.desk.email.inbound
    if not inbound.enabled or inbound.domain is None:
        return None
    return make_reply_address(unit.desk.settings.secret_key, conversation_id, inbound.domain)


def topic_label(unit: Unit, conv: Conversation, t: Translator) -> str:
    """The conversation's topic in the mail's language."""
    topic = unit.desk.settings.desk.topic(conv.topic)
    if topic is None:
        return conv.topic
    return topic.label.get(t.language) or topic.label.get("en") or conv.topic


async def queue_in(
    unit: Unit, conv: Conversation, kind: str, dedupe_key: str, draft: Draft, t: Translator
) -> str | None:
    """Render ``draft`` and queue it to the visitor; the mail's id, or None when the visitor
    gave no address or ``dedupe_key`` was queued before."""
    to = visitor_address(conv)
    if to is None:
        return None
    rendered = render(unit.desk.settings, t, draft)
    mail_id = await outbox.insert(
        unit.conn,
        dedupe_key=dedupe_key,
        conversation_id=conv.id,
        kind=kind,
        to_address=to,
        reply_to=reply_address(unit, conv.id) if draft.reply_hint else None,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        now=unit.desk.clock(),
    )
    if mail_id is not None:
        desk = unit.desk
        unit.after_commit(lambda: desk.mail_alarm() if desk.mail_alarm is not None else None)
    return mail_id


def _subject(unit: Unit, t: Translator, key: str, **params: str) -> str:
    return t(key, company=unit.desk.settings.desk.company.name, **params)


async def queue_ack_in(unit: Unit, conv: Conversation, message: str) -> str | None:
    """V8: the visitor left an offline message; tell them it arrived and how it continues."""
    t = translator(conv.language)
    replies = reply_address(unit, conv.id) is not None
    draft = Draft(
        subject=_subject(unit, t, "mail.ack.subject"),
        paragraphs=[t("mail.ack.intro", topic=topic_label(unit, conv, t))],
        conversation_id=conv.id,
        name=conv.prechat.get("name"),
        quoted=message,
        reply_hint=replies,
        time_zone=conv.context.get("time_zone"),
    )
    return await queue_in(unit, conv, ACK, f"ack:{conv.id}", draft, t)


async def queue_answer_in(
    unit: Unit, conv: Conversation, answer: Event, asked: list[Event]
) -> str | None:
    """V8, A7, A8: an operator answered by email; ``asked`` are the visitor's messages it
    answers (quoted under it)."""
    t = translator(conv.language)
    operator = answer.author_name or t("mail.operator")
    quoted = "\n\n".join(event.body or "" for event in asked) or None
    draft = Draft(
        subject=_subject(unit, t, "mail.answer.subject", topic=topic_label(unit, conv, t)),
        paragraphs=[t("mail.answer.intro", operator=operator)],
        conversation_id=conv.id,
        name=conv.prechat.get("name"),
        messages=[Line(operator, answer.created_at, answer.body or "")],
        quoted=quoted,
        reply_hint=reply_address(unit, conv.id) is not None,
        time_zone=conv.context.get("time_zone"),
    )
    return await queue_in(unit, conv, ANSWER, f"answer:{answer.id}", draft, t)


async def queue_transcript_in(
    unit: Unit, conv: Conversation, transcript: str, request_key: str
) -> str | None:
    """V11: the conversation's transcript, as the download has it, to the visitor's address."""
    t = translator(conv.language)
    draft = Draft(
        subject=_subject(unit, t, "mail.transcript.subject"),
        paragraphs=[t("mail.transcript.intro")],
        conversation_id=conv.id,
        name=conv.prechat.get("name"),
        pre=transcript,
        reply_hint=False,
    )
    return await queue_in(unit, conv, TRANSCRIPT, f"transcript:{conv.id}:{request_key}", draft, t)


async def queue_follow_up_in(unit: Unit, conv: Conversation, reason: str) -> str | None:
    """A7, A8: the live chat became a follow-up; the visitor learns the answer comes by mail."""
    t = translator(conv.language)
    draft = Draft(
        subject=_subject(unit, t, "mail.follow_up.subject", topic=topic_label(unit, conv, t)),
        paragraphs=[t(f"followup.{reason}")],
        conversation_id=conv.id,
        name=conv.prechat.get("name"),
        reply_hint=reply_address(unit, conv.id) is not None,
    )
    return await queue_in(unit, conv, FOLLOW_UP, f"follow_up:{conv.id}", draft, t)


async def queue_away_in(
    unit: Unit, conv: Conversation, unread: list[Event], link_url: str, expires_at: datetime
) -> str | None:
    """V9: operators wrote while the visitor was away; the messages and a link back."""
    t = translator(conv.language)
    zone = conv.context.get("time_zone")
    operator = unread[0].author_name or t("mail.operator")
    open_chat = conv.status is not Status.ENDED
    draft = Draft(
        subject=_subject(unit, t, "mail.away.subject", topic=topic_label(unit, conv, t)),
        paragraphs=[
            t("mail.away.intro", operator=operator)
            if open_chat
            else t("mail.away.intro_ended", operator=operator),
            t("mail.away.expires", date=local_time(expires_at, zone)),
        ],
        conversation_id=conv.id,
        name=conv.prechat.get("name"),
        messages=[
            Line(event.author_name or t("mail.operator"), event.created_at, event.body or "")
            for event in unread
        ],
        link=Link(t("mail.away.open"), link_url),
        # An ended conversation takes no more replies (docs/email.md, "Replies by email").
        reply_hint=open_chat and reply_address(unit, conv.id) is not None,
        time_zone=zone,
    )
    return await queue_in(unit, conv, AWAY, f"away:{conv.id}:{unread[-1].seq}", draft, t)
