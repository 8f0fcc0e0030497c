"""The clamd client against a real clamd (tests/clamd.py): PING, clean files, EICAR anywhere."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clamd import EICAR, SIGNATURE, clamd_socket
from madoguchi.services.scanner import Clamd, ScanFailed, ScannerUnavailable, parse_reply

__all__ = ["clamd_socket"]


async def test_clamd_answers_ping(clamd_socket: Path) -> None:
    assert await Clamd(f"unix:{clamd_socket}").ping()


async def test_a_clean_file_is_clean(clamd_socket: Path) -> None:
    verdict = await Clamd(f"unix:{clamd_socket}").scan(b"\x89PNG\r\n\x1a\n" + os.urandom(300_000))
    assert verdict.clean
    assert verdict.signature is None


async def test_the_eicar_file_is_found(clamd_socket: Path) -> None:
    verdict = await Clamd(f"unix:{clamd_socket}").scan(EICAR)
    assert not verdict.clean
    assert verdict.signature == f"{SIGNATURE}.UNOFFICIAL"


async def test_eicar_inside_a_larger_file_across_chunks_is_found(clamd_socket: Path) -> None:
    # 64 KiB chunks: the string is cut in two by a chunk boundary, deep inside a 1 MB file.
    before = os.urandom(3 * 65536 - 20)
    verdict = await Clamd(f"unix:{clamd_socket}").scan(before + EICAR + os.urandom(800_000))
    assert verdict.signature == f"{SIGNATURE}.UNOFFICIAL"


async def test_an_absent_clamd_is_unavailable_not_clean(tmp_path: Path) -> None:
    client = Clamd(f"unix:{tmp_path / 'nobody.sock'}", timeout=2)
    assert not await client.ping()
    with pytest.raises(ScannerUnavailable):
        await client.scan(b"hello")


async def test_a_closed_tcp_port_is_unavailable() -> None:
    with pytest.raises(ScannerUnavailable):
        await Clamd("tcp:127.0.0.1:1", timeout=2).scan(b"hello")


def test_replies_are_read_strictly() -> None:
    assert parse_reply(b"stream: OK\x00").clean
    assert parse_reply(b"stream: Win.Test.EICAR_HDB-1 FOUND\x00").signature == (
        "Win.Test.EICAR_HDB-1"
    )
    with pytest.raises(ScanFailed):
        parse_reply(b"INSTREAM size limit exceeded. ERROR\x00")
    with pytest.raises(ScanFailed):
        parse_reply(b"")


def test_addresses_are_unix_or_tcp() -> None:
    with pytest.raises(ValueError, match="unix:/path or tcp:host:port"):
        Clamd("http://clamd:3310")
