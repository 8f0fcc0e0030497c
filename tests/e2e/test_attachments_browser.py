"""Attachments in the browsers (SPEC V6), with a real clamd: a screenshot from the chat frame's clip
button, previewed on both sides once scanned; a log dropped on the console's chat, downloaded by
the visitor; the EICAR test file refused, and both sides told."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from clamd import EICAR, clamd_socket
from conftest import TEST_CONFIG, DatabaseFactory, LiveServer

from .actors import Operator, Visitor

__all__ = ["clamd_socket"]

LOG = "2026-11-22 10:00:01 ERROR データベースに接続できません (111)\n" * 20


def png(width: int = 40, height: int = 24) -> bytes:
    """A real PNG (a blue box) a browser can show."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x1f\x5f\x8b" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def live_server(
    databases: DatabaseFactory, clamd_socket: Path, tmp_path: Path
) -> Iterator[LiveServer]:
    """The browser tests' node, scanning files with the test clamd."""
    config = (
        f'{TEST_CONFIG}\n[attachments]\ndirectory = "{tmp_path / "files"}"\n'
        f'\n[scanning]\nclamd = "unix:{clamd_socket}"\n'
    )
    live = LiveServer(databases.new("sqlite"), config=config).start()
    yield live
    live.stop()


def test_files_go_both_ways_with_previews_and_an_infected_one_is_refused(
    live_server: Any, visitor: Visitor, make_operator: Callable[..., Operator], tmp_path: Path
) -> None:
    sato = make_operator(name="佐藤")
    visitor.open_chat().start("技術的な質問", message="画面を送ります")
    expect(sato.messages.first).to_contain_text("画面を送ります")

    # The visitor picks a screenshot with the clip button's file picker.
    clip = visitor.frame.get_by_role("button", name="ファイルを添付")
    expect(clip).to_be_visible()
    with visitor.page.expect_file_chooser() as chooser:
        clip.click()
    chooser.value.set_files(
        files=[{"name": "スクリーンショット.png", "mimeType": "image/png", "buffer": png()}]
    )
    for side in (visitor.messages.last, sato.messages.last):
        expect(side).to_contain_text("スクリーンショット.png")
        preview = side.get_by_role("img", name="スクリーンショット.pngのプレビュー")
        expect(preview).to_be_visible()
        expect(preview).to_have_js_property("naturalWidth", 40)

    # The operator drops a log on the chat; the visitor downloads it under its own name.
    data = sato.page.evaluate_handle(
        """(text) => {
            const dt = new DataTransfer();
            dt.items.add(new File([text], 'server.log', { type: 'text/plain' }));
            return dt;
        }""",
        LOG,
    )
    sato.pane.dispatch_event("dragover", {"dataTransfer": data})
    expect(sato.pane).to_have_class(re.compile(r"\bdrop-target\b"))
    sato.pane.locator(".messages").dispatch_event("drop", {"dataTransfer": data})
    bubble = visitor.messages.last
    expect(bubble).to_contain_text("server.log")
    download_button = bubble.get_by_role("button", name="ダウンロード: server.log")
    expect(download_button).to_be_visible()
    with visitor.page.expect_download() as got:
        download_button.click()
    assert got.value.suggested_filename == "server.log"
    saved = tmp_path / "server.log"
    got.value.save_as(saved)
    assert saved.read_text(encoding="utf-8") == LOG

    # A file with the EICAR test string inside: refused, and both sides see why.
    with visitor.page.expect_file_chooser() as chooser:
        clip.click()
    chooser.value.set_files(
        files=[{"name": "debug.log", "mimeType": "text/plain", "buffer": LOG.encode() + EICAR}]
    )
    refusal = "ウイルスが検出されたため、このファイルは受け付けられませんでした。"
    for side in (visitor.messages.last, sato.messages.last):
        expect(side).to_contain_text("debug.log")
        expect(side.get_by_role("alert")).to_have_text(refusal)
        expect(side.get_by_role("button", name="ダウンロード: debug.log")).to_have_count(0)


def test_a_file_over_the_limit_is_refused_with_a_clear_message(
    live_server: Any, visitor: Visitor, make_operator: Callable[..., Operator]
) -> None:
    make_operator(name="佐藤")
    visitor.open_chat().start("技術的な質問", message="動画を送ります")
    with visitor.page.expect_file_chooser() as chooser:
        visitor.frame.get_by_role("button", name="ファイルを添付").click()
    big = b"\x00\x00\x00\x20ftypisom" + bytes(11 * 1024 * 1024)
    chooser.value.set_files(
        files=[{"name": "画面録画.mp4", "mimeType": "video/mp4", "buffer": big}]
    )
    expect(visitor.frame.locator(".uploads [role=alert]")).to_contain_text(
        "画面録画.mp4を送信できませんでした：ファイルが大きすぎます。"
    )
    expect(visitor.frame.locator("li.msg--file")).to_have_count(0)
