"""The post-chat survey's answers (SPEC V12), kept on the conversation's row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.store.tables import conversations


async def rate(
    conn: AsyncConnection,
    conversation_id: str,
    rating: int,
    comment: str | None,
    now: datetime,
) -> bool:
    """Store the visitor's answer once; False when the conversation was rated already.

    The row already says who answered the chat (operator), where (department) and in which
    language, so the answer is stored with all three without copying them.
    """
    result = await conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .where(conversations.c.rated_at.is_(None))
        .values(rating=rating, rating_comment=comment, rated_at=now)
    )
    return result.rowcount == 1


async def average_ratings(conn: AsyncConnection, since: datetime) -> dict[str, tuple[float, int]]:
    """Per department, the average rating and the number of answers given since ``since``."""
    rows = await conn.execute(
        select(
            conversations.c.department,
            func.avg(conversations.c.rating).label("average"),
            func.count(conversations.c.rating).label("answers"),
        )
        .where(conversations.c.rated_at >= since)
        .where(conversations.c.rating.is_not(None))
        .group_by(conversations.c.department)
    )
    return {row.department: (float(row.average), int(row.answers)) for row in rows}
