"""Messages written in batches: the hot path of a busy node (services/writer.py).

Two statements store the messages of many conversations at once, whatever their number: one
``UPDATE … RETURNING`` claims each conversation's next sequence numbers (and moves its limits'
clocks, as ``next_seq`` does for one message), one multi-row ``INSERT`` stores the events. The
``UPDATE`` claims only where the message may be written as it stands: the conversation exists
and has not ended, the author is its visitor or its assigned operator, and none of the client
ids was used before. Anything else is left alone, unclaimed, for the one-message path to write
or refuse with its exact error; so a batch never leaves a gap in a conversation's sequence.

The ``UPDATE`` is plain SQL because it joins a batch passed as JSON, which each backend unpacks
its own way (``jsonb_to_recordset``, ``json_each``). On PostgreSQL it first locks the
conversations in id order, so two nodes writing batches that share conversations wait for each
other instead of deadlocking.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from madoguchi.domain.conversation import Role
from madoguchi.domain.records import Event
from madoguchi.store.conversations import CLAIM_COLUMNS, SeqClaim, claim_of, event_row
from madoguchi.store.tables import UTCDateTime, conversations, events


class Group(NamedTuple):
    """The messages one author sends to one conversation in a batch, in order."""

    conversation_id: str
    role: Role
    author_id: str
    client_ids: Sequence[str]


_POSTGRES = """
WITH v AS (
    SELECT * FROM jsonb_to_recordset(CAST(:batch AS jsonb))
        AS v(id text, n integer, role text, author text)
), used AS (
    SELECT * FROM jsonb_to_recordset(CAST(:used AS jsonb)) AS d(id text, client text)
), locked AS (
    SELECT c.id FROM conversations AS c WHERE c.id IN (SELECT id FROM v)
    ORDER BY c.id FOR UPDATE
)
UPDATE conversations AS c SET
    last_seq = c.last_seq + v.n,
    last_activity_at = :now,
    last_visitor_at = CASE WHEN v.role = 'visitor' THEN :now ELSE c.last_visitor_at END,
    last_operator_at = CASE WHEN v.role = 'operator' THEN :now ELSE c.last_operator_at END
FROM v, locked
WHERE c.id = v.id AND locked.id = v.id
    AND c.status <> 'ended'
    AND (CASE WHEN v.role = 'visitor' THEN c.visitor_id ELSE c.operator_id END) = v.author
    AND v.id NOT IN (
        SELECT e.conversation_id FROM events AS e JOIN used
            ON e.conversation_id = used.id AND e.client_id = used.client
    )
RETURNING c.id, c.last_seq, c.visitor_id, c.operator_id, c.status, c.department, c.warned,
    c.mail_when_away
"""

_SQLITE = """
UPDATE conversations SET
    last_seq = last_seq + v.n,
    last_activity_at = :now,
    last_visitor_at = CASE WHEN v.role = 'visitor' THEN :now ELSE last_visitor_at END,
    last_operator_at = CASE WHEN v.role = 'operator' THEN :now ELSE last_operator_at END
FROM (
    SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.n') AS n,
        json_extract(value, '$.role') AS role, json_extract(value, '$.author') AS author
    FROM json_each(:batch)
) AS v
WHERE conversations.id = v.id
    AND conversations.status <> 'ended'
    AND (CASE WHEN v.role = 'visitor' THEN conversations.visitor_id
        ELSE conversations.operator_id END) = v.author
    AND v.id NOT IN (
        SELECT e.conversation_id FROM events AS e JOIN (
            SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.client') AS client
            FROM json_each(:used)
        ) AS used ON e.conversation_id = used.id AND e.client_id = used.client
    )
RETURNING conversations.id, conversations.last_seq, conversations.visitor_id,
    conversations.operator_id, conversations.status, conversations.department,
    conversations.warned, conversations.mail_when_away
"""


def _statement(sql: str) -> Any:
    return (
        text(sql)
        .bindparams(bindparam("now", type_=UTCDateTime))
        .columns(conversations.c.id, *CLAIM_COLUMNS)
    )


_CLAIM = {"postgresql": _statement(_POSTGRES), "sqlite": _statement(_SQLITE)}


async def claim_many(
    conn: AsyncConnection, groups: Sequence[Group], now: datetime
) -> dict[str, SeqClaim]:
    """Claim ``len(group.client_ids)`` sequence numbers for each group that may be written
    (at most one group per conversation); conversation id → its claim, whose ``seq`` is the
    last number claimed."""
    batch = [
        {
            "id": g.conversation_id,
            "n": len(g.client_ids),
            "role": g.role.value,
            "author": g.author_id,
        }
        for g in groups
    ]
    used = [{"id": g.conversation_id, "client": c} for g in groups for c in g.client_ids]
    result = await conn.execute(
        _CLAIM[conn.dialect.name],
        {"batch": orjson.dumps(batch).decode(), "used": orjson.dumps(used).decode(), "now": now},
    )
    claims = {row.id: claim_of(row) for row in result}
    return {conv_id: claim for conv_id, claim in claims.items() if claim is not None}


_INSERT = events.insert()


async def insert_many(conn: AsyncConnection, stored: Sequence[Event]) -> None:
    """Store events whose sequence numbers were claimed (one statement, many rows)."""
    await conn.execute(_INSERT, [event_row(event) for event in stored])
