"""REST for the console: login, presence, queue, conversations (docs/protocol.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response

from madoguchi.domain.conversation import Status
from madoguchi.domain.events import (
    conversation_summary,
    event_frame,
    offered_frame,
    operator_view,
)
from madoguchi.services import auth, chat, handoff, maintenance, routing, supervision
from madoguchi.web.deps import (
    SESSION_COOKIE,
    DeskDep,
    OperatorDep,
    OperatorWriteDep,
    SessionDep,
)
from madoguchi.web.schemas import (
    ERRORS,
    ConversationList,
    ConversationOut,
    EndIn,
    EventList,
    LoginIn,
    MaintenanceIn,
    MaintenanceOut,
    MessageAck,
    MessageIn,
    OfferList,
    OperatorEnvelope,
    OperatorLoadList,
    OverviewOut,
    PresenceIn,
    SessionOut,
    TransferIn,
)

router = APIRouter(prefix="/api/v1/agent", tags=["agent"], responses=ERRORS)


@router.post("/login", response_model=SessionOut)
async def login(body: LoginIn, desk: DeskDep, response: Response) -> dict[str, Any]:
    """Log in; sets the session cookie and returns the CSRF token for later writes."""
    operator, token, csrf = await auth.do_login(desk, body.email, body.password)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(auth.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=desk.settings.cookie_secure,
        path="/",
    )
    return {"operator": operator_view(operator), "csrf_token": csrf}


@router.post("/logout", status_code=204)
async def logout(
    request: Request, desk: DeskDep, operator: OperatorWriteDep, response: Response
) -> Response:
    """Go offline and end the session."""
    await chat.do_set_presence(desk, operator, "offline")
    await auth.do_logout(desk, operator.id, request.cookies[SESSION_COOKIE])
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=SessionOut)
async def me(session: SessionDep) -> dict[str, Any]:
    """The logged-in operator and their CSRF token."""
    return {"operator": operator_view(session[0]), "csrf_token": session[1]}


@router.put("/presence", response_model=OperatorEnvelope)
async def set_presence(
    body: PresenceIn, desk: DeskDep, operator: OperatorWriteDep
) -> dict[str, Any]:
    """Set online, away or offline; online hands you waiting chats at once."""
    await chat.do_set_presence(desk, operator, body.status)
    found = await auth.get_operator(desk, operator.id)
    return {"operator": operator_view(found)}


@router.get("/queue", response_model=ConversationList)
async def queue(desk: DeskDep, operator: OperatorDep) -> dict[str, Any]:
    """Waiting conversations in your departments, oldest first."""
    convs = await chat.get_queue(desk, operator)
    return {"conversations": [conversation_summary(c, for_operator=True) for c in convs]}


@router.get("/conversations", response_model=ConversationList)
async def my_conversations(desk: DeskDep, operator: OperatorDep) -> dict[str, Any]:
    """The active conversations you hold."""
    convs = await chat.get_operator_conversations(desk, operator)
    return {"conversations": [conversation_summary(c, for_operator=True) for c in convs]}


@router.get("/conversations/{conversation_id}", response_model=ConversationOut)
async def get_conversation(
    conversation_id: str, desk: DeskDep, operator: OperatorDep
) -> dict[str, Any]:
    """One conversation with the visitor's context."""
    conv = await chat.get_conversation(desk, operator, conversation_id)
    return conversation_summary(conv, for_operator=True)


@router.get("/conversations/{conversation_id}/events", response_model=EventList)
async def list_events(
    conversation_id: str, desk: DeskDep, operator: OperatorDep, since: int = Query(0, ge=0)
) -> dict[str, Any]:
    """The conversation's events after ``since``."""
    events = await chat.get_events(desk, operator, conversation_id, since)
    return {"events": [event_frame(e) for e in events]}


@router.post("/conversations/{conversation_id}/accept", response_model=ConversationOut)
async def accept(conversation_id: str, desk: DeskDep, operator: OperatorWriteDep) -> dict[str, Any]:
    """Take a waiting conversation; 409 ``already_assigned`` if someone was faster."""
    conv = await chat.do_accept(desk, operator, conversation_id)
    return conversation_summary(conv, for_operator=True)


@router.post("/conversations/{conversation_id}/decline", status_code=204)
async def decline(conversation_id: str, desk: DeskDep, operator: OperatorWriteDep) -> Response:
    """Decline a chat offered to you; it moves to the next operator at once."""
    await routing.do_decline(desk, operator.id, conversation_id)
    return Response(status_code=204)


@router.get("/offers", response_model=OfferList)
async def offers(desk: DeskDep, operator: OperatorDep) -> dict[str, Any]:
    """Chats offered to you and waiting for you to accept them."""
    convs = await chat.get_offers(desk, operator)
    return {"offers": [offered_frame(c) for c in convs]}


@router.get("/offline-messages", response_model=ConversationList)
async def offline_messages(desk: DeskDep, operator: OperatorDep) -> dict[str, Any]:
    """Messages left while the desk was closed or no operator was free, oldest first."""
    convs = await chat.get_offline_messages(desk, operator)
    return {"conversations": [conversation_summary(c, for_operator=True) for c in convs]}


@router.get("/follow-ups", response_model=ConversationList)
async def list_follow_ups(desk: DeskDep, operator: OperatorDep) -> dict[str, Any]:
    """Chats whose answer is owed by email or another channel (A7, A8), oldest first."""
    found = await chat.get_offline_messages(desk, operator, Status.FOLLOW_UP)
    return {"conversations": [conversation_summary(c, for_operator=True) for c in found]}


@router.post("/conversations/{conversation_id}/messages", status_code=201)
async def send_message(
    conversation_id: str, body: MessageIn, desk: DeskDep, operator: OperatorWriteDep
) -> MessageAck:
    """Send a message (the WebSocket ``send`` frame does the same)."""
    event, _ = await chat.do_send_message(
        desk, operator, conversation_id, body.client_id, body.body
    )
    return MessageAck(message_id=event.id, seq=event.seq)


@router.post("/conversations/{conversation_id}/end", response_model=ConversationOut)
async def end(
    conversation_id: str, body: EndIn, desk: DeskDep, operator: OperatorWriteDep
) -> dict[str, Any]:
    """End a conversation with a reason (resolved, other_channel, … see protocol.md)."""
    conv = await chat.do_end(desk, operator, conversation_id, body.reason)
    return conversation_summary(conv, for_operator=True)


# -- transfers, private notes, supervisors (SPEC A6, A9) ------------------------------------


@router.post("/conversations/{conversation_id}/transfer", response_model=ConversationOut)
async def transfer(
    conversation_id: str, body: TransferIn, desk: DeskDep, operator: OperatorWriteDep
) -> dict[str, Any]:
    """Transfer a chat to an operator or back to a department's queue, with a private note."""
    conv = await handoff.do_transfer(
        desk,
        operator,
        conversation_id,
        to_operator=body.operator_id,
        to_department=body.department,
        note=body.note,
    )
    return conversation_summary(conv, for_operator=True)


@router.post("/conversations/{conversation_id}/notes", status_code=201)
async def add_note(
    conversation_id: str, body: MessageIn, desk: DeskDep, operator: OperatorWriteDep
) -> MessageAck:
    """Add a private note: operators see it, the visitor never does."""
    event, _ = await handoff.do_add_note(desk, operator, conversation_id, body.body, body.client_id)
    return MessageAck(message_id=event.id, seq=event.seq)


@router.post("/conversations/{conversation_id}/join", response_model=ConversationOut)
async def join(conversation_id: str, desk: DeskDep, operator: OperatorWriteDep) -> dict[str, Any]:
    """Supervisors: join an active chat as a second operator (the visitor is told)."""
    conv = await handoff.do_join(desk, operator, conversation_id)
    return conversation_summary(conv, for_operator=True)


@router.post("/conversations/{conversation_id}/take-over", response_model=ConversationOut)
async def take_over(
    conversation_id: str, desk: DeskDep, operator: OperatorWriteDep
) -> dict[str, Any]:
    """Supervisors: become the chat's operator; the previous one loses it."""
    conv = await handoff.do_take_over(desk, operator, conversation_id)
    return conversation_summary(conv, for_operator=True)


@router.get("/operators", response_model=OperatorLoadList)
async def operators(desk: DeskDep, operator: OperatorDep) -> dict[str, Any]:
    """Every operator with presence, skills, load and capacity (the transfer picker)."""
    return {"operators": await supervision.get_operators(desk)}


@router.get("/supervisor/overview", response_model=OverviewOut)
async def overview(desk: DeskDep, operator: OperatorDep) -> dict[str, Any]:
    """Supervisors: the queue per department, every active chat, every operator's load."""
    return await supervision.get_overview(desk, operator)


# -- the maintenance switch (SPEC X5) ---------------------------------------------------------


@router.get("/maintenance", response_model=MaintenanceOut)
async def get_maintenance(desk: DeskDep, operator: OperatorDep) -> dict[str, Any]:
    """Whether new chats are paused, with the message visitors see (any operator may read it)."""
    return maintenance.maintenance_view(await maintenance.get_maintenance_state(desk))


@router.put("/maintenance", response_model=MaintenanceOut)
async def set_maintenance(
    body: MaintenanceIn, desk: DeskDep, operator: OperatorWriteDep
) -> dict[str, Any]:
    """Admins: pause new chats and offline messages with a message, or resume; chats already
    running go on. Every console is told (the ``maintenance`` frame)."""
    state = await maintenance.do_set_maintenance(desk, operator, body.enabled, body.message)
    return maintenance.maintenance_view(state)
