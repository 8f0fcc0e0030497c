"""Attachment uploads and downloads (SPEC V6), for the chat frame and the console.

An upload is the file itself as the request body (no multipart), with its name and the client's
id in the query. The body is read in chunks and refused with 413 as soon as it passes the
desk's limit, so a client cannot make the node hold more than ``max_bytes``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from madoguchi.domain.attachments import check_size, content_disposition, served_type
from madoguchi.domain.records import Actor
from madoguchi.services import attachments
from madoguchi.web.deps import DeskDep, OperatorDep, OperatorWriteDep, VisitorDep
from madoguchi.web.errors import json_response
from madoguchi.web.schemas import ERRORS

router = APIRouter(prefix="/api/v1", responses=ERRORS)

_NAME = Query(..., description="The file's name as the uploader's computer has it")
_CLIENT_ID = Query(..., description="A UUID the client made: a retried upload is stored once")
_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "description": "The file's bytes; its kind is read from them, not from any header",
    }
}
_FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/octet-stream": {}},
        "description": "The file, as an attachment to save (images may be previewed)",
    }
}


async def _read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused with 413 once it passes ``max_bytes``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit():
        check_size(int(declared), max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            check_size(size, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def _upload(
    request: Request,
    desk: DeskDep,
    actor: Actor,
    conversation_id: str,
    name: str,
    client_id: str,
) -> Response:
    await attachments.check_can_upload(desk, actor, conversation_id, client_id)
    data = await _read_body(request, desk.settings.desk.attachments.max_bytes)
    attachment, _ = await attachments.do_upload(
        desk, actor, conversation_id, name=name, client_id=client_id, data=data
    )
    return json_response(
        {"conversation_id": conversation_id, **attachments.attachment_data(attachment)}, 201
    )


def _file_response(attachment: attachments.Attachment, data: bytes) -> Response:
    return Response(
        data,
        media_type=served_type(attachment.kind),
        headers={
            "Content-Disposition": content_disposition(attachment.name),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            # Nothing in the file runs, even if a browser were to render it as a document.
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@router.post(
    "/visitor/conversations/{conversation_id}/attachments",
    tags=["visitor"],
    status_code=201,
    openapi_extra=_BODY,
)
async def visitor_upload(
    conversation_id: str,
    request: Request,
    desk: DeskDep,
    visitor: VisitorDep,
    name: str = _NAME,
    client_id: str = _CLIENT_ID,
) -> Response:
    """Share a file in your conversation: it shows as "scanning" until clamd has checked it."""
    return await _upload(request, desk, visitor, conversation_id, name, client_id)


@router.post(
    "/agent/conversations/{conversation_id}/attachments",
    tags=["agent"],
    status_code=201,
    openapi_extra=_BODY,
)
async def agent_upload(
    conversation_id: str,
    request: Request,
    desk: DeskDep,
    operator: OperatorWriteDep,
    name: str = _NAME,
    client_id: str = _CLIENT_ID,
) -> Response:
    """Share a file in a chat you hold (or joined)."""
    return await _upload(request, desk, operator, conversation_id, name, client_id)


@router.get(
    "/visitor/conversations/{conversation_id}/attachments/{attachment_id}",
    tags=["visitor"],
    response_class=Response,
    responses=_FILE,
)
async def visitor_download(
    conversation_id: str, attachment_id: str, desk: DeskDep, visitor: VisitorDep
) -> Response:
    """A file of your conversation, once scanned clean."""
    return _file_response(
        *await attachments.get_download(desk, visitor, conversation_id, attachment_id)
    )


@router.get(
    "/agent/conversations/{conversation_id}/attachments/{attachment_id}",
    tags=["agent"],
    response_class=Response,
    responses=_FILE,
)
async def agent_download(
    conversation_id: str, attachment_id: str, desk: DeskDep, operator: OperatorDep
) -> Response:
    """A file of a conversation you may see, once scanned clean."""
    return _file_response(
        *await attachments.get_download(desk, operator, conversation_id, attachment_id)
    )
