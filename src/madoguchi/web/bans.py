"""REST for bans and the audit log (SPEC A10, docs/security.md, docs/protocol.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from madoguchi.services import banning
from madoguchi.web.deps import DeskDep, OperatorDep, OperatorWriteDep
from madoguchi.web.schemas import ERRORS

router = APIRouter(prefix="/api/v1/agent", tags=["bans"], responses=ERRORS)


class BanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(description="Why: required, up to 500 characters; kept in the audit log.")
    duration: str = Field(description="One of GET /bans/options' durations, e.g. 7d or permanent.")
    network: bool = Field(False, description="Also ban the network the chat came from.")


class Who(BaseModel):
    id: str
    name: str | None


class BanOut(BaseModel):
    id: str
    visitor_id: str
    network: str | None = Field(description="CIDR, e.g. 203.0.113.0/24; null: the visitor only.")
    reason: str
    duration: str
    conversation_id: str | None
    created_by: Who | None
    created_at: str
    expires_at: str | None = Field(description="null: for good.")
    lifted_by: Who | None
    lifted_at: str | None
    in_force: bool


class BanList(BaseModel):
    bans: list[BanOut]


class BanOptions(BaseModel):
    durations: list[str] = Field(description="The choices, the first the default.")
    ipv4_prefix: int
    ipv6_prefix: int


class AuditEntryOut(BaseModel):
    id: str
    at: str
    actor: Who | None = Field(description="null: the system.")
    action: str = Field(description="ban, unban, …")
    target: str = Field(description="e.g. visitor:<id>")
    data: dict[str, Any]


class AuditList(BaseModel):
    entries: list[AuditEntryOut]


@router.get("/bans/options", response_model=BanOptions)
async def ban_options(desk: DeskDep, operator: OperatorDep) -> dict[str, Any]:
    """What the Ban dialog offers: the durations and the size of a banned network."""
    return banning.get_ban_options(desk)


@router.post("/conversations/{conversation_id}/ban", status_code=201, response_model=BanOut)
async def ban_visitor(
    conversation_id: str, body: BanIn, desk: DeskDep, operator: OperatorWriteDep
) -> dict[str, Any]:
    """Ban the chat's visitor (and their network); their open chats end as prohibited."""
    return await banning.do_ban(
        desk,
        operator,
        conversation_id,
        reason=body.reason,
        duration=body.duration,
        include_network=body.network,
    )


@router.get("/bans", response_model=BanList)
async def list_bans(desk: DeskDep, operator: OperatorDep) -> dict[str, Any]:
    """The bans in force, newest first (supervisors and admins)."""
    return {"bans": await banning.get_bans(desk, operator)}


@router.post("/bans/{ban_id}/lift", response_model=BanOut)
async def lift_ban(ban_id: str, desk: DeskDep, operator: OperatorWriteDep) -> dict[str, Any]:
    """Lift a ban in force (supervisors and admins)."""
    return await banning.do_lift(desk, operator, ban_id)


@router.get("/audit", response_model=AuditList)
async def audit_log(
    desk: DeskDep,
    operator: OperatorDep,
    target: str | None = Query(None, max_length=200, description="e.g. visitor:<id>"),
    limit: int = Query(100, ge=1, le=500),
) -> dict[str, Any]:
    """The audit log, newest first (supervisors and admins)."""
    return {"entries": await banning.get_audit_log(desk, operator, target=target, limit=limit)}
