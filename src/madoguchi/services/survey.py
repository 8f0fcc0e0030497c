"""The post-chat survey (SPEC V12): the visitor rates an ended chat, and its operator is told."""

from __future__ import annotations

from madoguchi.domain.conversation import Role
from madoguchi.domain.errors import DomainError
from madoguchi.domain.records import Actor, Conversation
from madoguchi.domain.survey import check_comment, check_rateable, check_rating, rated_frame
from madoguchi.services.chat import check_visible
from madoguchi.services.desk import Desk, operator_topic
from madoguchi.store import conversations as repo
from madoguchi.store import surveys


async def do_rate(
    desk: Desk, actor: Actor, conversation_id: str, rating: object, comment: str | None
) -> Conversation:
    """Store the visitor's rating (and comment) of their ended chat; tell its operator."""
    config = desk.settings.desk.survey
    if not config.enabled:
        raise DomainError("survey_disabled", "This desk has no post-chat survey.", 404)
    if actor.role is not Role.VISITOR:
        raise DomainError("forbidden", "Only the visitor rates a chat.", 403)
    score = check_rating(rating)
    text = check_comment(comment, config.comment_max_chars)
    async with desk.unit() as unit:
        conv = check_visible(
            await repo.get_conversation(unit.conn, conversation_id, lock=True),
            actor,
        )
        check_rateable(conv)
        if not await surveys.rate(unit.conn, conv.id, score, text, desk.clock()):
            # Answered meanwhile (a double click, two tabs): the first answer stands.
            raise DomainError("already_rated", "This chat has been rated already.", 409)
        rated = await repo.get_conversation(unit.conn, conv.id)
        assert rated is not None
        if rated.operator_id is not None:
            unit.publish(operator_topic(rated.operator_id), rated_frame(rated))
    return rated
