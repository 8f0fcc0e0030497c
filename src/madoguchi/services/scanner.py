"""A clamd client: PING and INSTREAM over clamd's socket, Unix or TCP (SPEC V6).

INSTREAM sends ``zINSTREAM\\0``, then the file as chunks each preceded by its length as four
big-endian bytes, then a zero-length chunk; clamd answers ``stream: OK``, ``stream: <name>
FOUND`` or ``… ERROR`` (e.g. ``INSTREAM size limit exceeded``: clamd's ``StreamMaxLength`` is
below the desk's ``[attachments] max_bytes``). Commands prefixed with ``z`` end with a NUL, and
so do the answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

_CHUNK = 64 * 1024


class ScannerUnavailable(Exception):
    """clamd could not be reached, or did not answer in time: the scan should be tried again."""


class ScanFailed(Exception):
    """clamd answered that it could not scan this file: trying again would not help."""


@dataclass(frozen=True)
class Verdict:
    """What clamd found: nothing (``signature`` None), or the signature's name."""

    signature: str | None

    @property
    def clean(self) -> bool:
        """Whether clamd found nothing."""
        return self.signature is None


def parse_reply(reply: bytes) -> Verdict:
    """Read clamd's answer to INSTREAM."""
    text = reply.rstrip(b"\x00\n").decode("utf-8", "replace")
    _, _, result = text.partition(": ")
    if result == "OK":
        return Verdict(None)
    if result.endswith(" FOUND"):
        return Verdict(result.removesuffix(" FOUND").strip() or "unknown")
    raise ScanFailed(text or "no answer")


class Clamd:
    """clamd at ``unix:/path`` or ``tcp:host:port``; every call opens its own connection."""

    def __init__(self, address: str, *, timeout: float = 30.0) -> None:
        scheme, _, rest = address.partition(":")
        if scheme == "unix" and rest:
            self._path: str | None = rest
            self._host, self._port = "", 0
        elif scheme == "tcp" and ":" in rest:
            host, _, port = rest.rpartition(":")
            self._path = None
            self._host, self._port = host, int(port)
        else:
            raise ValueError(f"clamd address {address!r} is not unix:/path or tcp:host:port")
        self.address = address
        self.timeout = timeout

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            if self._path is not None:
                return await asyncio.wait_for(
                    asyncio.open_unix_connection(self._path), self.timeout
                )
            return await asyncio.wait_for(
                asyncio.open_connection(self._host, self._port), self.timeout
            )
        except (OSError, TimeoutError) as exc:
            raise ScannerUnavailable(f"clamd at {self.address}: {exc!r}") from exc

    async def _exchange(self, send: list[bytes]) -> bytes:
        reader, writer = await self._open()
        try:
            try:
                for part in send:
                    writer.write(part)
                    await asyncio.wait_for(writer.drain(), self.timeout)
            except (BrokenPipeError, ConnectionResetError):
                pass  # clamd hung up mid-stream, perhaps saying why (a size limit): read it
            return await asyncio.wait_for(reader.readuntil(b"\x00"), self.timeout)
        except asyncio.IncompleteReadError as exc:
            # clamd hangs up mid-stream when it refuses the size; what it said is in partial.
            if exc.partial:
                return exc.partial
            raise ScannerUnavailable(f"clamd at {self.address} closed the connection") from exc
        except (OSError, TimeoutError, asyncio.LimitOverrunError) as exc:
            raise ScannerUnavailable(f"clamd at {self.address}: {exc!r}") from exc
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def ping(self) -> bool:
        """Whether clamd answers PING with PONG."""
        try:
            return (await self._exchange([b"zPING\x00"])).rstrip(b"\x00") == b"PONG"
        except ScannerUnavailable:
            return False

    async def scan(self, data: bytes) -> Verdict:
        """Scan ``data``; raise ScannerUnavailable (try later) or ScanFailed (clamd refused)."""
        parts = [b"zINSTREAM\x00"]
        for start in range(0, len(data), _CHUNK):
            chunk = data[start : start + _CHUNK]
            parts.append(len(chunk).to_bytes(4, "big") + chunk)
        parts.append(b"\x00\x00\x00\x00")
        return parse_reply(await self._exchange(parts))
