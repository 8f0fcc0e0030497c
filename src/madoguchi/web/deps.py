"""Dependencies shared by the routes: the desk and the authenticated actors."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from madoguchi.domain.conversation import Role
from madoguchi.domain.errors import DomainError
from madoguchi.domain.records import Actor, Operator
from madoguchi.services.auth import get_session_operator
from madoguchi.services.desk import Desk
from madoguchi.services.queue import QueueBoard
from madoguchi.services.visitors import check_visitor_token

SESSION_COOKIE = "madoguchi_session"
_bearer = HTTPBearer(auto_error=False, description="The visitor token")


def get_desk(request: Request) -> Desk:
    """The node's desk, made in the lifespan."""
    desk: Desk = request.app.state.desk
    return desk


DeskDep = Annotated[Desk, Depends(get_desk)]


def get_queue_board(request: Request) -> QueueBoard:
    """The node's view of the queues, made in the lifespan."""
    board: QueueBoard = request.app.state.queue_board
    return board


QueueBoardDep = Annotated[QueueBoard, Depends(get_queue_board)]


def operator_actor(operator: Operator) -> Actor:
    """The actor an operator acts as."""
    return Actor(
        role=Role.OPERATOR,
        id=operator.id,
        name=operator.name,
        departments=operator.departments,
        staff_role=operator.role,
    )


def client_address(connection: HTTPConnection) -> str | None:
    """The client's address as this node saw it.

    Behind a reverse proxy, run uvicorn with ``--proxy-headers --forwarded-allow-ips`` so
    that this is the visitor's address and not the proxy's (docs/security.md).
    """
    return connection.client.host if connection.client else None


async def get_visitor(
    request: Request,
    desk: DeskDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The visitor behind the Bearer token."""
    if credentials is None:
        raise DomainError("unauthorized", "A visitor token is required.", 401)
    visitor_id, only = check_visitor_token(desk.settings.secret_key, credentials.credentials)
    return Actor(
        role=Role.VISITOR, id=visitor_id, network=client_address(request), conversation=only
    )


async def get_session(request: Request, desk: DeskDep) -> tuple[Operator, str]:
    """The logged-in operator and their CSRF token."""
    token = request.cookies.get(SESSION_COOKIE)
    found = await get_session_operator(desk, token) if token else None
    if found is None:
        raise DomainError("unauthorized", "Please log in.", 401)
    return found


SessionDep = Annotated[tuple[Operator, str], Depends(get_session)]


async def get_operator_reading(session: SessionDep) -> Actor:
    """The operator, for requests that change nothing."""
    return operator_actor(session[0])


async def get_operator_writing(
    session: SessionDep,
    csrf: Annotated[str | None, Header(alias="X-CSRF-Token")] = None,
) -> Actor:
    """The operator, for writes: the session cookie alone is not enough (CSRF)."""
    if not csrf or not hmac.compare_digest(csrf, session[1]):
        raise DomainError("csrf_failed", "The X-CSRF-Token header is missing or wrong.", 403)
    return operator_actor(session[0])


VisitorDep = Annotated[Actor, Depends(get_visitor)]
OperatorDep = Annotated[Actor, Depends(get_operator_reading)]
OperatorWriteDep = Annotated[Actor, Depends(get_operator_writing)]
