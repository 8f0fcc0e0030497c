"""What a file is, whether it may be shared, and how it is served (domain/attachments.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from madoguchi.domain.attachments import (
    OCTET_STREAM,
    check_kind,
    check_name,
    content_disposition,
    next_scan_attempt,
    served_type,
    sniff,
    stored_name,
)
from madoguchi.domain.errors import DomainError

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
ALL = ["png", "jpeg", "gif", "webp", "text", "pdf", "zip", "mp4", "webm", "quicktime"]


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (PNG, "png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"GIF89a\x01\x00", "gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "webp"),
        (b"%PDF-1.7\n", "pdf"),
        (b"PK\x03\x04\x14\x00", "zip"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00", "mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00", "quicktime"),
        (b"\x1a\x45\xdf\xa3\x9f", "webm"),
        ("2026-11-22 10:00:00 ERROR 接続できません\n".encode(), "text"),
        (b"\x1b[31mred\x1b[0m log line\r\n", "text"),
    ],
)
def test_kinds_are_told_by_their_first_bytes(head: bytes, kind: str) -> None:
    found = sniff(head, complete=True)
    assert found is not None
    assert found.id == kind


@pytest.mark.parametrize(
    "head",
    [
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows program
        b"\x7fELF\x02\x01\x01",  # a Linux one
        b"\x00\x01\x02binary",
        "ゲーム".encode("shift_jis") + b"\x00",
        b"",
    ],
)
def test_programs_and_unknown_bytes_are_no_kind(head: bytes) -> None:
    assert sniff(head, complete=True) is None


def test_a_character_cut_at_the_end_of_the_sniffed_part_is_still_text() -> None:
    cut = "あ".encode()[:2]
    assert sniff(b"log " + cut) is not None  # more follows
    assert sniff(b"log " + cut, complete=True) is None  # the whole file: broken UTF-8


def test_the_name_and_type_the_client_gives_do_not_matter() -> None:
    with pytest.raises(DomainError) as refused:
        check_kind(b"MZ\x90\x00", ALL, complete=True)
    assert (refused.value.code, refused.value.status) == ("attachment_type_not_allowed", 415)
    with pytest.raises(DomainError):
        check_kind(PNG, ["pdf"], complete=False)  # a kind the desk does not take


def test_svg_and_html_are_never_served_as_themselves() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    html = b"<!doctype html><script>alert(1)</script>"
    for payload in (svg, html):
        kind = sniff(payload, complete=True)
        assert kind is not None
        assert kind.id == "text"
        assert served_type(kind.id) == OCTET_STREAM
    assert served_type("png") == "image/png"
    assert served_type("pdf") == OCTET_STREAM
    assert served_type("mp4") == OCTET_STREAM


def test_names_lose_paths_and_control_characters() -> None:
    assert check_name("C:\\Users\\sato\\スクリーンショット 1.png") == "スクリーンショット 1.png"
    assert check_name("../../etc/passwd") == "passwd"
    assert check_name("a\r\nSet-Cookie: x=1\x00.png") == "aSet-Cookie: x=1.png"
    assert len(check_name("x" * 500 + ".log")) == 200
    assert check_name("x" * 500 + ".log").endswith(".log")
    for empty in ("", "   ", "../", None, "\x00"):
        with pytest.raises(DomainError) as refused:
            check_name(empty)
        assert refused.value.code == "bad_attachment_name"


def test_the_extension_follows_what_the_file_is() -> None:
    png = sniff(PNG)
    text = sniff(b"hello")
    assert png is not None
    assert text is not None
    assert stored_name("screen.PNG", png) == "screen.PNG"
    assert stored_name("setup.exe", png) == "setup.exe.png"
    assert stored_name("page.html", text) == "page.html.txt"
    assert stored_name("error.log", text) == "error.log"


def test_content_disposition_keeps_the_real_name_and_cannot_be_broken_out_of() -> None:
    header = content_disposition('画面 "1";.png')
    assert header.startswith('attachment; filename="')
    assert "filename*=UTF-8''%E7%94%BB%E9%9D%A2%20%221%22%3B.png" in header
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in fallback
    assert ";" not in fallback
    assert header.isascii()


def test_an_unreachable_scanner_is_retried_with_backoff_then_gives_up() -> None:
    start = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    give_up = timedelta(minutes=10)
    first = next_scan_attempt(0, start, start, give_up)
    assert first == start + timedelta(seconds=2)
    later = next_scan_attempt(10, start, start + timedelta(minutes=5), give_up)
    assert later == start + timedelta(minutes=5, seconds=60)
    last = next_scan_attempt(10, start, start + timedelta(minutes=9, seconds=30), give_up)
    assert last == start + give_up  # the last try is at the give-up time, not after it
    assert next_scan_attempt(11, start, start + give_up, give_up) is None
