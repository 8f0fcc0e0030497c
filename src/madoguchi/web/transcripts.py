"""Transcript downloads (SPEC V11): the chat frame's and the console's, as a .txt attachment."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from madoguchi.domain.records import Actor
from madoguchi.services import transcript
from madoguchi.web.deps import DeskDep, OperatorDep, VisitorDep
from madoguchi.web.schemas import ERRORS

router = APIRouter(prefix="/api/v1", responses=ERRORS)

_TEXT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {}}, "description": "The transcript, UTF-8 text"}
}
_TZ = Query(None, description="An IANA time zone such as Asia/Tokyo (else see the endpoint)")


def _attachment(filename: str, text: str) -> PlainTextResponse:
    # The file name is ASCII (a date and an id), so it needs no RFC 5987 encoding. The content
    # is a private conversation: no cache along the way keeps it.
    return PlainTextResponse(
        text,
        media_type="text/plain; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


async def _download(
    desk: DeskDep, actor: Actor, conversation_id: str, **kw: str | None
) -> PlainTextResponse:
    filename, text = await transcript.get_transcript(desk, actor, conversation_id, **kw)
    return _attachment(filename, text)


@router.get(
    "/visitor/conversations/{conversation_id}/transcript",
    tags=["visitor"],
    response_class=PlainTextResponse,
    responses=_TEXT,
)
async def visitor_transcript(
    conversation_id: str, desk: DeskDep, visitor: VisitorDep, tz: str | None = _TZ
) -> PlainTextResponse:
    """Your conversation as a .txt file, in its language; times in ``tz``, else the time zone
    your browser reported when the chat started, else UTC."""
    return await _download(desk, visitor, conversation_id, tz=tz)


@router.get(
    "/agent/conversations/{conversation_id}/transcript",
    tags=["agent"],
    response_class=PlainTextResponse,
    responses=_TEXT,
)
async def agent_transcript(
    conversation_id: str,
    desk: DeskDep,
    operator: OperatorDep,
    tz: str | None = _TZ,
    lang: str | None = Query(None, description="One of the ten UI languages (else the desk's)"),
) -> PlainTextResponse:
    """A conversation you may see as the visitor's .txt file (never the private notes), in
    ``lang`` with times in ``tz`` (UTC if not given)."""
    return await _download(desk, operator, conversation_id, tz=tz, lang=lang)
