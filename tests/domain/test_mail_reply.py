"""The new text of a reply by email: decoded, without quotes and signatures."""

from __future__ import annotations

import pytest

from madoguchi.domain.mail_reply import body_text, reply_text, strip_reply
from madoguchi.domain.reply_address import make_reply_address, read_reply_address

SECRET = b"s" * 32


@pytest.mark.parametrize(
    "quoted",
    [
        "2026年11月22日(日) 10:00 madoguchi <support@example.com>:\n> 前のメール\n",
        "2026/11/22 10:00、madoguchi <support@example.com> のメール:\n> 前のメール\n",
        "On Sun, 22 Nov 2026 at 10:00, madoguchi <support@example.com> wrote:\n> earlier\n",
        "On Sun, 22 Nov 2026 at 10:00, madoguchi <support@example.com>\nwrote:\n> earlier\n",
        "-----Original Message-----\nFrom: madoguchi\nSent: Sunday\nSubject: x\n\nearlier\n",
        "-----元のメッセージ-----\n差出人: madoguchi\n送信日時: 2026年11月22日\n\n前のメール\n",
        "________________________________\nFrom: madoguchi <support@example.com>\n"
        "Sent: Sunday, November 22, 2026 10:00\nTo: you\n\nearlier\n",
        "差出人: madoguchi <support@example.com>\n件名: Re: お問い合わせ\n\n前のメール\n",
    ],
)
def test_the_quoted_mail_is_cut_whatever_the_client(quoted: str) -> None:
    assert strip_reply(f"直りました。\nありがとうございます。\n\n{quoted}") == (
        "直りました。\nありがとうございます。"
    )


def test_quote_lines_signatures_and_sent_from_lines_go() -> None:
    text = "> question?\nThe answer is yes.\n> more\n  keep indented\n\nSent from my iPhone\n"
    assert strip_reply(text) == "The answer is yes.\n  keep indented"
    assert strip_reply("了解です。\n-- \n山田花子\n株式会社サンプル") == "了解です。"
    assert strip_reply("了解です。\n＞ 全角の引用\n") == "了解です。"
    assert strip_reply("> only a quote\n") == ""


def test_iso_2022_jp_with_vendor_extensions_is_decoded() -> None:
    # As Windows writes it (CP50220): ① and ㈱ are NEC's row 13, under ESC $ B.
    body = b'\x1b$B-!$N7o!"-j%5%s%W%k$G$9!#\x1b(B ok \x1b(I6\x1b(B'
    raw = (
        b'Content-Type: text/plain; charset="ISO-2022-JP"\r\n'
        b"Content-Transfer-Encoding: 7bit\r\n\r\n" + body
    )
    assert body_text(raw) == "①の件、㈱サンプルです。 ok ｶ"


def test_an_html_only_reply_is_read_as_text_without_its_blockquote() -> None:
    raw = (
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        b"<div>Fixed, thanks!</div><blockquote>old &amp; quoted</blockquote>"
    )
    assert reply_text(raw) == "Fixed, thanks!"


def test_reply_addresses_carry_a_signed_token() -> None:
    address = make_reply_address(SECRET, "c_AbC-123_xyz", "reply.example.com")
    assert address == address.lower()
    assert read_reply_address(SECRET, address, "reply.example.com") == "c_AbC-123_xyz"
    assert read_reply_address(SECRET, address.upper(), "REPLY.example.com") == "c_AbC-123_xyz"
    assert read_reply_address(b"t" * 32, address, "reply.example.com") is None
    assert read_reply_address(SECRET, address, "example.com") is None
    assert (
        read_reply_address(SECRET, "reply+zzz.0000@reply.example.com", "reply.example.com") is None
    )
