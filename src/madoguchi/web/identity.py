"""REST for identity tokens (SPEC V4): what the chat frame shows a member before they type."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from madoguchi.services.identity import get_identity_view
from madoguchi.web.deps import DeskDep
from madoguchi.web.schemas import ERRORS, IdentityIn, IdentityOut

router = APIRouter(prefix="/api/v1/visitor", tags=["visitor"], responses=ERRORS)


@router.post("/identity", response_model=IdentityOut, response_model_exclude_none=True)
async def check_identity(body: IdentityIn, desk: DeskDep) -> dict[str, Any]:
    """Whether the host page's token verifies, and for a plan without chat, where to go instead.

    No visitor session is needed: the frame asks before the visitor has typed anything. A
    token that does not verify is answered like no token at all (why is only logged).
    """
    config = desk.settings.desk
    language = body.language if body.language in config.languages.enabled else None
    return get_identity_view(desk, body.token, language or config.languages.default)
