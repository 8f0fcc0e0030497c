"""Attachments (SPEC V6): sharing a file in a chat, scanning it, and handing it out.

An upload is one unit of work: the attachment's row, its bytes (in the database, or on disk
written just before), an ``attachment`` event with status ``scanning`` and a durable timer
``scan:<id>`` due at once. The timer's handler does no I/O in its transaction: it pushes its
own deadline on by a lease and, after the commit, starts the scan in a task. The task reads the
bytes, asks clamd, and records the outcome in a unit of its own: ``attachment_ok``, or
``attachment_bad`` with the bytes deleted. A node that dies mid-scan leaves the timer, which
fires again when the lease runs out, on any node. clamd unreachable: the timer is set again
with backoff, and once ``[scanning] give_up_minutes`` have passed since the upload the file
is refused; a file is never handed out unscanned while scanning is configured.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from madoguchi.domain.attachments import (
    KINDS,
    SNIFF_BYTES,
    ScanStatus,
    check_count,
    check_downloadable,
    check_kind,
    check_name,
    check_size,
    next_scan_attempt,
    stored_name,
)
from madoguchi.domain.conversation import EventKind, Role, check_can_write
from madoguchi.domain.errors import DomainError, not_found
from madoguchi.domain.records import Actor, Conversation
from madoguchi.services import bans, lifecycle, ratelimits, timers
from madoguchi.services.chat import check_visible
from madoguchi.services.desk import Desk, Unit
from madoguchi.services.scanner import Clamd, ScanFailed, ScannerUnavailable, Verdict
from madoguchi.services.timeline import append_event, record_event
from madoguchi.store import attachments as repo
from madoguchi.store import conversations as conv_repo
from madoguchi.store import files, participants
from madoguchi.store.attachments import Attachment
from madoguchi.store.ids import new_id

__all__ = ["TIMER_HANDLERS", "Attachment", "do_upload", "get_download"]

log = logging.getLogger(__name__)

SCAN_TIMER = "scan"


def scan_key(attachment_id: str) -> str:
    """The timer key of an attachment's scan."""
    return f"scan:{attachment_id}"


def attachment_data(attachment: Attachment) -> dict[str, Any]:
    """An attachment as events and the REST API describe it (never its bytes nor the uploader's
    own name for its type)."""
    kind = KINDS[attachment.kind]
    status = {
        ScanStatus.SCANNING: "scanning",
        ScanStatus.CLEAN: "ok",
    }.get(attachment.status, "refused")
    return {
        "attachment_id": attachment.id,
        "name": attachment.name,
        "size": attachment.size,
        "type": kind.mime,
        "preview": kind.preview,
        "status": status,
    }


def _check_enabled(desk: Desk) -> None:
    if not desk.settings.desk.attachments.enabled:
        raise DomainError("attachments_disabled", "This desk does not take files.", 403)


def _check_client_id(client_id: str | None) -> str:
    if not client_id or len(client_id) > 64 or not client_id.isascii():
        raise DomainError("bad_request", "client_id must be 1 to 64 ASCII characters.")
    if not client_id.isprintable():
        raise DomainError("bad_request", "client_id must be printable.")
    return client_id


async def _check_writer(unit_conn: Any, conv: Conversation | None, actor: Actor) -> Conversation:
    """The conversation, if ``actor`` may add to it: its visitor, its operator, or a supervisor
    who joined it."""
    if conv is None or (actor.role is Role.VISITOR and not actor.owns(conv.visitor_id, conv.id)):
        raise not_found()
    if (
        actor.role is not Role.VISITOR
        and conv.operator_id != actor.id
        and not await participants.is_participant(unit_conn, conv.id, actor.id)
    ):
        raise DomainError("forbidden", "Only the chat's operators may share files here.", 403)
    check_can_write(conv.status)
    return conv


async def check_can_upload(
    desk: Desk, actor: Actor, conversation_id: str, client_id: str | None = None
) -> None:
    """Before a body is read: the actor may add a file to this conversation now (or this is
    the retry of an upload of theirs, answered with the first one)."""
    _check_enabled(desk)
    async with desk.db.read() as conn:
        conv = await conv_repo.get_conversation(conn, conversation_id)
        if conv is not None and client_id:
            earlier = await repo.get_by_client_id(conn, conv.id, client_id)
            if earlier is not None and (earlier.uploader_role, earlier.uploader_id) == (
                actor.role,
                actor.id,
            ):
                return
        conv = await _check_writer(conn, conv, actor)
        check_count(
            await repo.count_for_conversation(conn, conv.id),
            desk.settings.desk.attachments.max_per_conversation,
        )
    if actor.role is Role.VISITOR:  # a banned visitor's file is not read at all (A10)
        await bans.check_can_send(desk, actor)
    # Last, so that only an upload that would be taken counts (P11); a retry above does not.
    await ratelimits.check(desk, actor, "upload")


class _Duplicate(Exception):
    """The client id was used before in this conversation."""


async def do_upload(
    desk: Desk,
    actor: Actor,
    conversation_id: str,
    *,
    name: str | None,
    client_id: str | None,
    data: bytes,
) -> tuple[Attachment, bool]:
    """Share a file in a conversation once per client id; return it and whether it is new."""
    _check_enabled(desk)
    config = desk.settings.desk
    client_id = _check_client_id(client_id)
    check_size(len(data), config.attachments.max_bytes)
    complete = len(data) <= SNIFF_BYTES
    kind = check_kind(data[:SNIFF_BYTES], config.attachments.allowed, complete=complete)
    display = stored_name(check_name(name), kind)
    scanning = config.scanning.clamd is not None
    storage = config.attachments.storage
    attachment_id = new_id("a")
    if storage == "disk":
        await files.write(config.attachments.directory, attachment_id, data)
    committed: list[bool] = []
    try:
        async with desk.unit() as unit:
            unit.after_commit(lambda: committed.append(True))
            attachment = await _insert(
                unit, actor, conversation_id, attachment_id, client_id, display, kind.id, data
            )
            if scanning:
                await timers.schedule(
                    unit, SCAN_TIMER, scan_key(attachment.id), desk.clock(), {"attempts": 0}
                )
        return attachment, True
    except BaseException as exc:
        if storage == "disk" and not committed:  # no row will ever point at the file
            await files.delete(config.attachments.directory, attachment_id)
        if not isinstance(exc, _Duplicate):
            raise
    async with desk.db.read() as conn:
        earlier = await repo.get_by_client_id(conn, conversation_id, client_id)
    if earlier is None or (earlier.uploader_role, earlier.uploader_id) != (actor.role, actor.id):
        raise DomainError(
            "duplicate_client_id", "This client_id was already used by someone else.", 409
        )
    return earlier, False


async def _insert(
    unit: Unit,
    actor: Actor,
    conversation_id: str,
    attachment_id: str,
    client_id: str,
    name: str,
    kind: str,
    data: bytes,
) -> Attachment:
    """Within the upload's unit: the row, the bytes kept in the database, the event."""
    config = unit.desk.settings.desk
    now = unit.desk.clock()
    conv = await conv_repo.get_conversation(unit.conn, conversation_id, lock=True)
    if conv is not None and await repo.get_by_client_id(unit.conn, conv.id, client_id):
        raise _Duplicate  # a retry: answered with the first upload, even after the chat ended
    conv = await _check_writer(unit.conn, conv, actor)
    check_count(
        await repo.count_for_conversation(unit.conn, conv.id),
        config.attachments.max_per_conversation,
    )
    attachment = await repo.insert_attachment(
        unit.conn,
        attachment_id=attachment_id,
        conversation_id=conv.id,
        uploader_role=actor.role,
        uploader_id=actor.id,
        client_id=client_id,
        name=name,
        size=len(data),
        kind=kind,
        storage=config.attachments.storage,
        # Scanning off: nothing to wait for (docs/security.md says what that means).
        status=ScanStatus.SCANNING if config.scanning.clamd else ScanStatus.CLEAN,
        now=now,
    )
    if attachment is None:
        raise _Duplicate
    if attachment.storage == "database":
        await repo.put_blob(unit.conn, attachment.id, data)
    claim = await conv_repo.next_seq(unit.conn, conv.id, activity=actor.role, now=now)
    assert claim is not None  # the row is locked: it cannot have gone
    event = await record_event(
        unit,
        conv.id,
        claim.seq,
        EventKind.ATTACHMENT,
        role=actor.role,
        author_id=actor.id,
        author_name=actor.name if actor.role is Role.OPERATOR else None,
        client_id=client_id,
        data=attachment_data(attachment),
    )
    if event is None:
        raise _Duplicate  # a message took this client id
    await lifecycle.after_message_in(unit, conv.id, claim, actor.role)
    return attachment


async def get_attachment(
    desk: Desk, actor: Actor, conversation_id: str, attachment_id: str
) -> Attachment:
    """An attachment of a conversation the actor may see; 404 ``not_found`` otherwise, whatever
    the reason, so that nobody learns what exists in someone else's conversation."""
    async with desk.db.read() as conn:
        try:
            check_visible(await conv_repo.get_conversation(conn, conversation_id), actor)
        except DomainError:
            raise not_found("attachment") from None
        attachment = await repo.get_attachment(conn, attachment_id)
    if attachment is None or attachment.conversation_id != conversation_id:
        raise not_found("attachment")
    return attachment


async def get_download(
    desk: Desk, actor: Actor, conversation_id: str, attachment_id: str
) -> tuple[Attachment, bytes]:
    """A clean attachment and its bytes, for someone who may see its conversation."""
    attachment = await get_attachment(desk, actor, conversation_id, attachment_id)
    check_downloadable(attachment.status)
    data = await _read_bytes(desk, attachment)
    if data is None:
        raise DomainError("attachment_refused", "The file is gone.", 410)
    return attachment, data


async def _read_bytes(desk: Desk, attachment: Attachment) -> bytes | None:
    if attachment.storage == "database":
        async with desk.db.read() as conn:
            return await repo.get_blob(conn, attachment.id)
    return await files.read(desk.settings.desk.attachments.directory, attachment.id)


async def _delete_bytes(unit: Unit, attachment: Attachment) -> None:
    await repo.delete_blob(unit.conn, attachment.id)
    if attachment.storage == "disk":
        await files.delete(unit.desk.settings.desk.attachments.directory, attachment.id)


# --- scanning ---------------------------------------------------------------------------------


def _lease(desk: Desk) -> timedelta:
    """How long a started scan holds its timer off: past clamd's timeouts, with room to spare."""
    return timedelta(seconds=desk.settings.desk.scanning.timeout_seconds * 3 + 30)


async def on_scan_due(unit: Unit, timer: timers.Timer) -> None:
    """Timer: scan an attachment. Sets the timer again a lease ahead, then starts the scan
    after the commit, outside any transaction (clamd may take seconds)."""
    attachment_id = timer.key.removeprefix("scan:")
    attachment = await repo.get_attachment(unit.conn, attachment_id)
    if attachment is None or attachment.status is not ScanStatus.SCANNING:
        return
    desk = unit.desk
    attempts = int(timer.payload.get("attempts", 0))
    await timers.schedule(unit, SCAN_TIMER, timer.key, desk.clock() + _lease(desk), timer.payload)
    # A failed scan needs nothing more: the timer is still set a lease ahead, and tries again.
    unit.after_commit(lambda: desk.spawn(do_scan(desk, attachment, attempts), "an attachment scan"))


async def do_scan(desk: Desk, attachment: Attachment, attempts: int) -> None:
    """Scan one attachment with clamd and record the outcome (both sides are told)."""
    scanning = desk.settings.desk.scanning
    if scanning.clamd is None:  # turned off since the upload: nothing can scan it here
        return
    data = await _read_bytes(desk, attachment)
    verdict: Verdict | None = None
    refused: str | None = None
    if data is None:
        refused = "missing"
    else:
        try:
            verdict = await Clamd(scanning.clamd, timeout=scanning.timeout_seconds).scan(data)
        except ScannerUnavailable as exc:
            log.warning("attachment %s not scanned yet: %s", attachment.id, exc)
        except ScanFailed as exc:
            log.warning("clamd could not scan attachment %s: %s", attachment.id, exc)
            refused = "unscannable"
    async with desk.unit() as unit:
        current = await repo.get_attachment(unit.conn, attachment.id)
        if current is None or current.status is not ScanStatus.SCANNING:
            return  # erased, or another node's scan finished first
        now = desk.clock()
        if verdict is None and refused is None:
            retry_at = next_scan_attempt(
                attempts, current.created_at, now, timedelta(minutes=scanning.give_up_minutes)
            )
            if retry_at is not None:
                await timers.schedule(
                    unit, SCAN_TIMER, scan_key(current.id), retry_at, {"attempts": attempts + 1}
                )
                return
            refused = "scanner_unavailable"
        await timers.cancel(unit, scan_key(current.id))
        if verdict is not None and verdict.clean:
            await repo.set_scanned(unit.conn, current.id, ScanStatus.CLEAN, now)
            await append_event(
                unit,
                current.conversation_id,
                EventKind.ATTACHMENT_OK,
                role=Role.SYSTEM,
                data={"attachment_id": current.id},
            )
            return
        infected = verdict is not None
        await repo.set_scanned(
            unit.conn,
            current.id,
            ScanStatus.INFECTED if infected else ScanStatus.REFUSED,
            now,
            reason="infected" if infected else refused,
            signature=verdict.signature if verdict is not None else None,
        )
        await _delete_bytes(unit, current)
        await append_event(
            unit,
            current.conversation_id,
            EventKind.ATTACHMENT_BAD,
            role=Role.SYSTEM,
            data={
                "attachment_id": current.id,
                "name": current.name,
                "reason": "infected" if infected else refused,
            },
        )


TIMER_HANDLERS: dict[str, timers.TimerHandler] = {SCAN_TIMER: on_scan_due}
