"""Identity tokens and plans without chat (SPEC V4, docs/identity.md).

A token that verifies makes the chat "verified member X, plan Y"; one that does not is ignored,
never trusted and never an error: the visitor still chats, unverified. Why a token failed is
logged at info level for the host's developers (the token itself never is). A verified member
whose plan has no chat is the one refusal: they are sent to the documentation and the forum.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from madoguchi.config import DeskConfig, Settings
from madoguchi.domain.errors import DomainError
from madoguchi.domain.identity import Identity, TokenRejected, check_token
from madoguchi.services.desk import Desk, Unit
from madoguchi.store import identity as repo

log = logging.getLogger(__name__)


def get_identity(settings: Settings, token: object, now: datetime) -> Identity | None:
    """The member a token vouches for, or None when there is no token or it does not verify."""
    if token is None:
        return None
    if not settings.identity_secrets:
        log.info("identity token ignored: MADOGUCHI_IDENTITY_SECRET is not set")
        return None
    max_lifetime = timedelta(minutes=settings.desk.identity.max_lifetime_minutes)
    try:
        return check_token(settings.identity_secrets, token, now=now, max_lifetime=max_lifetime)
    except TokenRejected as exc:
        log.info("identity token not trusted: %s", exc.reason.value)
        return None


def chat_allowed(config: DeskConfig, identity: Identity | None) -> bool:
    """Whether a member may chat: anyone not verified may; a verified plan may unless listed."""
    return identity is None or identity.plan not in config.plans.without_chat


def help_links(config: DeskConfig, language: str) -> list[dict[str, str]]:
    """Where members of plans without chat are sent instead, in ``language`` where given."""
    links = []
    for kind, value in (("docs", config.plans.docs_url), ("forum", config.plans.forum_url)):
        if value is None:
            continue
        url = value if isinstance(value, str) else _localized(value, language, config)
        if url:
            links.append({"kind": kind, "url": url})
    return links


def _localized(urls: dict[str, str], language: str, config: DeskConfig) -> str | None:
    for code in (language, config.languages.default, "en"):
        if code in urls:
            return urls[code]
    return next(iter(urls.values()), None)


def get_identity_view(desk: Desk, token: object, language: str) -> dict[str, Any]:
    """What the chat frame shows before anything is typed: the member, and chat or links."""
    config = desk.settings.desk
    identity = get_identity(desk.settings, token, desk.clock())
    allowed = chat_allowed(config, identity)
    view: dict[str, Any] = {"verified": identity is not None, "chat_allowed": allowed}
    if identity is not None:
        view["member_id"] = identity.member_id
        view["plan"] = identity.plan
    view["links"] = [] if allowed else help_links(config, language)
    return view


def check_may_chat(desk: Desk, token: object, language: str) -> dict[str, Any] | None:
    """The identity to store with a new conversation (None: unverified), or plan_without_chat."""
    identity = get_identity(desk.settings, token, desk.clock())
    if identity is None:
        return None
    if not chat_allowed(desk.settings.desk, identity):
        raise DomainError(
            "plan_without_chat",
            f"Plan {identity.plan!r} does not include chat support.",
            403,
            details={"links": help_links(desk.settings.desk, language)},
        )
    return {
        "member_id": identity.member_id,
        "plan": identity.plan,
        "verified_at": desk.clock().isoformat(),
    }


async def do_record_identity(
    unit: Unit, conversation_id: str, identity: dict[str, Any] | None
) -> None:
    """Store the verified member on a conversation just made (nothing when unverified)."""
    if identity is not None:
        await repo.set_identity(unit.conn, conversation_id, identity)
