"""Attachments as rules (SPEC V6): what a file is, whether it may be shared, how it is served.

Pure: no I/O. A file's kind is read from its first bytes ("magic"), never from the name or the
type the browser sent, both of which the uploader controls. What a download is served as follows
from the kind alone: the image kinds a browser can preview as themselves (PNG, JPEG, GIF, WebP),
everything else as ``application/octet-stream``. SVG and HTML are never an image kind: they can
carry scripts, so an SVG is only ever text, and text is served as bytes to save.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import quote

from madoguchi.domain.errors import DomainError

OCTET_STREAM = "application/octet-stream"
# Enough of the start of a file to tell every kind below (text is judged on this much too).
SNIFF_BYTES = 8192
NAME_MAX = 200


@dataclass(frozen=True)
class Kind:
    """A kind of file a desk may accept: its id in the config, a MIME type, its extensions."""

    id: str
    mime: str
    extensions: tuple[str, ...]
    preview: bool = False  # shown inline as an image, and served as its own type


KINDS: dict[str, Kind] = {
    kind.id: kind
    for kind in (
        Kind("png", "image/png", (".png",), preview=True),
        Kind("jpeg", "image/jpeg", (".jpg", ".jpeg"), preview=True),
        Kind("gif", "image/gif", (".gif",), preview=True),
        Kind("webp", "image/webp", (".webp",), preview=True),
        Kind("text", "text/plain", (".txt", ".log", ".csv", ".json", ".md", ".conf", ".ini")),
        Kind("pdf", "application/pdf", (".pdf",)),
        Kind("zip", "application/zip", (".zip",)),
        Kind("mp4", "video/mp4", (".mp4", ".m4v")),
        Kind("webm", "video/webm", (".webm",)),
        Kind("quicktime", "video/quicktime", (".mov",)),
    )
}


class ScanStatus(StrEnum):
    """Where an attachment's virus scan stands; only CLEAN may be downloaded."""

    SCANNING = "scanning"  # stored, waiting for clamd (or clamd is away: retried)
    CLEAN = "clean"  # scanned and found nothing (or scanning is off: see docs/security.md)
    INFECTED = "infected"  # clamd found a signature; the bytes are deleted
    REFUSED = "refused"  # never scanned (clamd away too long, or it could not scan it)


def _is_text(head: bytes, complete: bool) -> bool:
    """UTF-8 without NULs or control characters other than tab, line ends, form feed, ESC."""
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sniffed head is still text.
        if complete or exc.start < len(head) - 3 or exc.reason != "unexpected end of data":
            return False
        text = head[: exc.start].decode("utf-8")
    allowed = "\t\n\r\f\x1b"
    return not any(
        unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text if ord(ch) < 0xA0
    )


def sniff(head: bytes, *, complete: bool = False) -> Kind | None:
    """The kind of a file from its first bytes (``complete``: ``head`` is the whole file)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS["png"]
    if head.startswith(b"\xff\xd8\xff"):
        return KINDS["jpeg"]
    if head.startswith((b"GIF87a", b"GIF89a")):
        return KINDS["gif"]
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return KINDS["webp"]
    if head.startswith(b"%PDF-"):
        return KINDS["pdf"]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return KINDS["zip"]
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return KINDS["webm"]
    if head[4:8] == b"ftyp":
        return KINDS["quicktime"] if head[8:12] == b"qt  " else KINDS["mp4"]
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return KINDS["quicktime"]
    if _is_text(head, complete):
        return KINDS["text"]
    return None


def check_kind(head: bytes, allowed: list[str], *, complete: bool) -> Kind:
    """The file's kind, if the desk accepts it; else 415 ``attachment_type_not_allowed``."""
    kind = sniff(head, complete=complete)
    if kind is None or kind.id not in allowed:
        raise DomainError(
            "attachment_type_not_allowed",
            "This kind of file cannot be shared here.",
            415,
            details={"allowed": list(allowed)},
        )
    return kind


def check_name(name: str | None) -> str:
    """A file name fit to show and to save: its last path part, without control characters,
    at most NAME_MAX characters; 400 ``bad_attachment_name`` when nothing is left."""
    raw = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C").strip()
    cleaned = cleaned.strip(". ")
    if not cleaned:
        raise DomainError("bad_attachment_name", "Give the file's name (?name=…).")
    if len(cleaned) > NAME_MAX:
        _, dot, ext = cleaned.rpartition(".")
        keep = f"{dot}{ext}" if dot and len(ext) <= 10 else ""
        cleaned = cleaned[: NAME_MAX - len(keep)] + keep
    return cleaned


def stored_name(name: str, kind: Kind) -> str:
    """The name a file is offered under: its extension made to agree with what it is, so that a
    PNG called ``setup.exe`` is saved as ``setup.exe.png`` and opened as the picture it is."""
    if name.lower().endswith(kind.extensions):
        return name
    return f"{name}{kind.extensions[0]}"


def attachment_accept(allowed: list[str]) -> str:
    """The ``accept`` of a file input for these kinds: their types and extensions (a hint for
    the browser's file picker; the server judges the bytes)."""
    parts: list[str] = []
    for kind_id in allowed:
        kind = KINDS[kind_id]
        parts.extend((kind.mime, *kind.extensions))
    return ",".join(parts)


def served_type(kind_id: str) -> str:
    """The Content-Type a download is served with: previewable images as themselves, all else
    as bytes to save."""
    kind = KINDS.get(kind_id)
    return kind.mime if kind is not None and kind.preview else OCTET_STREAM


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback name and the real one as RFC 5987 ``filename*``."""
    fallback = "".join(
        ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\%;' else "_" for ch in name
    ).strip()
    return f"attachment; filename=\"{fallback or 'file'}\"; filename*=UTF-8''{quote(name, safe='')}"


def check_size(size: int, max_bytes: int) -> None:
    """413 ``attachment_too_large`` past the desk's limit; 400 ``empty_attachment`` for nothing."""
    if size > max_bytes:
        raise DomainError(
            "attachment_too_large",
            f"The file is larger than {max_bytes} bytes.",
            413,
            details={"max_bytes": max_bytes},
        )
    if size == 0:
        raise DomainError("empty_attachment", "The file is empty.")


def check_count(count: int, limit: int) -> None:
    """409 ``too_many_attachments`` once a conversation holds ``limit`` files."""
    if count >= limit:
        raise DomainError(
            "too_many_attachments",
            f"A conversation holds at most {limit} files.",
            409,
            details={"limit": limit},
        )


def check_downloadable(status: ScanStatus) -> None:
    """A file may be fetched only once scanned clean (409 while scanning, 410 once refused)."""
    if status is ScanStatus.SCANNING:
        raise DomainError(
            "attachment_not_scanned", "The file is still being checked for viruses.", 409
        )
    if status is not ScanStatus.CLEAN:
        raise DomainError("attachment_refused", "The file was refused and is gone.", 410)


# A scan clamd could not do (it was away) is tried again after 2 s, 4 s, 8 s … at most a
# minute apart, until the desk's give-up time: then the file is refused, never passed.
_RETRY_FIRST = timedelta(seconds=2)
_RETRY_MAX = timedelta(seconds=60)


def next_scan_attempt(
    attempts: int, uploaded_at: datetime, now: datetime, give_up: timedelta
) -> datetime | None:
    """When to try a scan again after ``attempts`` failures, or None: refuse the file now."""
    if now - uploaded_at >= give_up:
        return None
    delay: timedelta = min(_RETRY_MAX, _RETRY_FIRST * 2 ** min(attempts, 10))
    retry_at: datetime = min(now + delay, uploaded_at + give_up)
    return retry_at
