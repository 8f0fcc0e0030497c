"""The post-chat survey (SPEC V12): the chat frame sends the visitor's rating."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from madoguchi.domain.events import conversation_summary
from madoguchi.services import survey
from madoguchi.web.deps import DeskDep, VisitorDep
from madoguchi.web.schemas import ERRORS, ConversationOut, SurveyIn

router = APIRouter(prefix="/api/v1/visitor", tags=["visitor"], responses=ERRORS)


@router.post(
    "/conversations/{conversation_id}/survey",
    status_code=201,
    response_model=ConversationOut,
    response_model_exclude_unset=True,
)
async def rate(
    conversation_id: str, body: SurveyIn, desk: DeskDep, visitor: VisitorDep
) -> dict[str, Any]:
    """Rate your ended chat 1 to 5, with an optional comment; once per conversation."""
    conv = await survey.do_rate(desk, visitor, conversation_id, body.rating, body.comment)
    return conversation_summary(conv, for_operator=False)
