"""REST for the chat frame: config, a visitor session, conversations (docs/protocol.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from madoguchi.domain.attachments import attachment_accept
from madoguchi.domain.errors import DomainError
from madoguchi.domain.events import conversation_summary, event_frame
from madoguchi.services import availability, away, chat, lifecycle
from madoguchi.services.visitors import do_create_visitor
from madoguchi.web.deps import DeskDep, QueueBoardDep, VisitorDep, client_address
from madoguchi.web.schemas import (
    ERRORS,
    AvailabilityOut,
    ConversationList,
    ConversationOut,
    EndIn,
    EventList,
    MessageAck,
    MessageIn,
    OfflineMessageIn,
    ReturnIn,
    ReturnOut,
    StartConversationIn,
    VisitorSessionOut,
)

router = APIRouter(prefix="/api/v1/visitor", tags=["visitor"], responses=ERRORS)


@router.get("/config")
async def get_config(desk: DeskDep) -> dict[str, Any]:
    """What the chat frame shows before a conversation: company, languages, topics, limits."""
    config = desk.settings.desk
    return {
        "company": config.company.model_dump(),
        "languages": config.languages.enabled,
        "default_language": config.languages.default,
        "departments": [{"id": key, "name": dep.name} for key, dep in config.departments.items()],
        "topics": [topic.model_dump() for topic in config.topics],
        "limits": {"message_max_chars": config.limits.message_max_chars},
        # Whether the ended chat offers the post-chat survey (SPEC V12), and its comment's size.
        "survey": config.survey.model_dump(),
        # The clip icon's limits (SPEC V6); the server checks them again on every upload.
        "attachments": {
            "enabled": config.attachments.enabled,
            "max_bytes": config.attachments.max_bytes,
            "max_per_conversation": config.attachments.max_per_conversation,
            "accept": attachment_accept(config.attachments.allowed),
        },
        # The widget's key button and the console's reveal (SPEC V15).
        "secrets": config.secrets.model_dump(),
        # The pre-chat form's optional address (SPEC V9, docs/email.md).
        "email": {"continuation": config.email.asks_for_email},
    }


@router.get("/availability", response_model=AvailabilityOut)
async def get_availability(
    desk: DeskDep, board: QueueBoardDep, language: str = Query(min_length=2, max_length=8)
) -> dict[str, Any]:
    """Per topic, whether a chat can start now in ``language``, and each department's hours."""
    if language not in desk.settings.desk.languages.enabled:
        raise DomainError("unknown_language", f"Language {language!r} is not offered.")
    found = await availability.get_availability(desk, language)
    for department, info in found["departments"].items():
        typical = await board.typical_reply_seconds(department)
        info["typical_reply_seconds"] = None if typical is None else round(typical)
    return found


@router.post("/session", status_code=201)
async def create_session(request: Request, desk: DeskDep) -> VisitorSessionOut:
    """A new visitor and the token that proves it; the chat frame keeps it."""
    visitor_id, token = await do_create_visitor(desk, client_address(request))
    return VisitorSessionOut(visitor_id=visitor_id, token=token)


@router.post("/return")
async def come_back(body: ReturnIn, request: Request, desk: DeskDep) -> ReturnOut:
    """Trade the link of an away mail (V9) for a session on that conversation only."""
    visitor_id, token, conversation_id = await away.do_come_back(
        desk, body.token, client_address(request)
    )
    return ReturnOut(visitor_id=visitor_id, token=token, conversation_id=conversation_id)


@router.post(
    "/conversations",
    status_code=201,
    response_model=ConversationOut,
    response_model_exclude_unset=True,
)
async def start_conversation(
    body: StartConversationIn, desk: DeskDep, visitor: VisitorDep
) -> dict[str, Any]:
    """Start a conversation on a topic, with the pre-chat form and an optional first message."""
    conv = await chat.do_start_conversation(
        desk,
        visitor,
        topic=body.topic,
        language=body.language,
        consent=body.consent,
        prechat=body.prechat,
        context=body.context,
        first_message=(body.message.client_id, body.message.body) if body.message else None,
        identity_token=body.identity,
    )
    return conversation_summary(conv, for_operator=False)


@router.post(
    "/offline-messages",
    status_code=201,
    response_model=ConversationOut,
    response_model_exclude_unset=True,
)
async def leave_message(
    body: OfflineMessageIn, desk: DeskDep, visitor: VisitorDep
) -> dict[str, Any]:
    """Leave a message for when the desk is closed or busy; an operator answers it later."""
    conv = await chat.do_leave_message(
        desk,
        visitor,
        topic=body.topic,
        language=body.language,
        consent=body.consent,
        name=body.name,
        email=body.email,
        message=(body.message.client_id, body.message.body),
        context=body.context,
        identity_token=body.identity,
    )
    return conversation_summary(conv, for_operator=False)


@router.get("/conversations", response_model=ConversationList, response_model_exclude_unset=True)
async def list_conversations(desk: DeskDep, visitor: VisitorDep) -> dict[str, Any]:
    """The visitor's conversations, open ones first."""
    convs = await chat.get_visitor_conversations(desk, visitor)
    return {"conversations": [conversation_summary(c, for_operator=False) for c in convs]}


@router.get("/conversations/{conversation_id}/events", response_model=EventList)
async def list_events(
    conversation_id: str, desk: DeskDep, visitor: VisitorDep, since: int = Query(0, ge=0)
) -> dict[str, Any]:
    """The conversation's events after ``since``."""
    events = await chat.get_events(desk, visitor, conversation_id, since)
    return {"events": [event_frame(e) for e in events]}


@router.post("/conversations/{conversation_id}/messages", status_code=201)
async def send_message(
    conversation_id: str, body: MessageIn, desk: DeskDep, visitor: VisitorDep
) -> MessageAck:
    """Send a message (the WebSocket ``send`` frame does the same)."""
    event, _ = await chat.do_send_message(desk, visitor, conversation_id, body.client_id, body.body)
    return MessageAck(message_id=event.id, seq=event.seq)


@router.post("/conversations/{conversation_id}/still-here", status_code=204)
async def still_here(conversation_id: str, desk: DeskDep, visitor: VisitorDep) -> None:
    """Answer an idle warning: the chat goes on (as the socket's ``still_here`` frame does)."""
    await lifecycle.do_still_here(desk, visitor, conversation_id)


@router.post(
    "/conversations/{conversation_id}/end",
    response_model=ConversationOut,
    response_model_exclude_unset=True,
)
async def end_conversation(
    conversation_id: str, desk: DeskDep, visitor: VisitorDep, body: EndIn | None = None
) -> dict[str, Any]:
    """The visitor ends the conversation."""
    conv = await chat.do_end(desk, visitor, conversation_id, "visitor_left")
    return conversation_summary(conv, for_operator=False)
