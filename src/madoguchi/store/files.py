"""Attachments' bytes on the local disk ([attachments] storage = "disk", SPEC V6).

One file per attachment, named by its id (random, URL-safe: never the uploader's file name),
under a folder of the id's first two random characters so that no folder grows too large.
The blocking file calls run in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


def path_of(directory: str | Path, attachment_id: str) -> Path:
    """Where an attachment's bytes live."""
    if not attachment_id.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"not an attachment id: {attachment_id!r}")
    return Path(directory) / attachment_id[2:4] / attachment_id


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(f".{path.name}.part")
    with open(partial, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(partial, 0o600)
    os.replace(partial, path)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


async def write(directory: str | Path, attachment_id: str, data: bytes) -> None:
    """Store the bytes (complete or not at all: written aside, then renamed into place)."""
    await asyncio.to_thread(_write, path_of(directory, attachment_id), data)


async def read(directory: str | Path, attachment_id: str) -> bytes | None:
    """The bytes, or None when there are none."""
    return await asyncio.to_thread(_read, path_of(directory, attachment_id))


async def delete(directory: str | Path, attachment_id: str) -> None:
    """Remove the bytes; nothing happens when there are none."""
    await asyncio.to_thread(path_of(directory, attachment_id).unlink, missing_ok=True)
