"""Mails as text and HTML from one pair of Jinja templates (``templates/mail/``).

The words come from the catalogs (madoguchi/i18n.py) in the mail's language; the HTML is
autoescaped, so a visitor's or an operator's text can never become markup. A mail is rendered
once, when it is queued: every attempt then sends the same bytes under the same Message-ID.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from madoguchi.config import Settings
from madoguchi.i18n import Translator

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).parent.parent / "templates" / "mail"


@dataclass(frozen=True)
class Line:
    """One message quoted in a mail."""

    author: str
    at: datetime
    body: str


@dataclass(frozen=True)
class Link:
    """A button in the HTML, a URL on its own line in the text."""

    label: str
    url: str


@dataclass(frozen=True)
class Draft:
    """What a mail says, before it is laid out."""

    subject: str
    paragraphs: Sequence[str]
    conversation_id: str
    name: str | None = None
    messages: Sequence[Line] = ()
    pre: str | None = None
    link: Link | None = None
    quoted: str | None = None
    reply_hint: bool = True
    time_zone: str | None = None


@dataclass(frozen=True)
class Rendered:
    """A mail's subject and its two bodies."""

    subject: str
    text: str
    html: str
    extra: dict[str, str] = field(default_factory=dict)


@cache
def _environment(autoescape: bool) -> Environment:
    # Imported on the first mail: a node that never mails does not carry Jinja (6 MB).
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        # The text body is no markup: nothing to escape there (the HTML one always is).
        autoescape=select_autoescape(["html"], default_for_string=autoescape),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError):  # not an IANA name: the widget sent something odd
        return ZoneInfo("UTC")


def local_time(at: datetime, zone_name: str | None) -> str:
    """``at`` as the visitor reads it: in their time zone (UTC when unknown), to the minute."""
    return at.astimezone(_zone(zone_name)).strftime("%Y-%m-%d %H:%M")


def render(settings: Settings, t: Translator, draft: Draft) -> Rendered:
    """Lay out ``draft`` in ``t``'s language: subject, plain text and HTML."""
    company = settings.desk.company
    base = settings.public_url + "/"
    context = {
        "lang": t.language,
        "subject": draft.subject,
        "greeting": t("mail.greeting", name=draft.name)
        if draft.name
        else t("mail.greeting_anonymous"),
        "paragraphs": list(draft.paragraphs),
        "messages": [
            {
                "author": line.author,
                "at": local_time(line.at, draft.time_zone),
                "body": line.body,
            }
            for line in draft.messages
        ],
        "pre": draft.pre,
        "link": draft.link,
        "quoted": draft.quoted,
        "quoted_title": t("mail.quoted"),
        "reply_hint": t("mail.reply_hint") if draft.reply_hint else None,
        "reference": t("mail.reference", id=draft.conversation_id),
        "company": company.name,
        "footer_links": [
            Link(t("prechat.chat_policy"), urljoin(base, company.chat_policy_url)),
            Link(t("prechat.privacy_policy"), urljoin(base, company.privacy_policy_url)),
        ],
        "sent_by": t("mail.sent_by", company=company.name),
    }
    text = _environment(False).get_template("mail.txt").render(context)
    html = _environment(True).get_template("mail.html").render(context)
    return Rendered(subject=draft.subject, text=text, html=html)
