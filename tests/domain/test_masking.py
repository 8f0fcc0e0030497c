"""Card numbers typed in a message are masked before storage; other numbers are left alone."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from madoguchi.domain.masking import is_card_number, luhn_valid, mask_card_numbers

# Test numbers the card networks publish for testing (all pass Luhn).
VISA = "4111111111111111"
MASTERCARD = "5555555555554444"
AMEX = "378282246310005"
JCB = "3530111333300000"
DINERS = "30569309025904"
VISA_19 = "4222222222222222224"


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) - 48 + 0xFF10) if c.isdigit() else c for c in text)


def _with_check_digit(body: str) -> str:
    """``body`` plus the digit that makes it pass Luhn."""
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


@pytest.mark.parametrize("number", [VISA, MASTERCARD, AMEX, JCB, DINERS, VISA_19])
def test_test_card_numbers_pass_luhn(number: str) -> None:
    assert is_card_number(number)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("4111 1111 1111 1111", "**** **** **** 1111"),
        ("4111-1111-1111-1111", "****-****-****-1111"),
        ("5555555555554444", "************4444"),
        ("3782 822463 10005", "**** ****** *0005"),
        ("my card is 4111 1111 1111 1111.", "my card is **** **** **** 1111."),
        ("カード番号は4111111111111111です", "カード番号は************1111です"),
        (
            "番号：４１１１－１１１１－１１１１－１１１１",
            "番号：＊＊＊＊－＊＊＊＊－＊＊＊＊－１１１１",
        ),
        ("４１１１　１１１１　１１１１　１１１１", "＊＊＊＊　＊＊＊＊　＊＊＊＊　１１１１"),
        # The katakana prolonged sound mark is what a kana-mode keyboard types for "-".
        ("4111ー1111ー1111ー1111", "****ー****ー****ー1111"),
        # A card followed by its CVV or preceded by a list number: the card is still found.
        ("4111 1111 1111 1111 123", "**** **** **** 1111 123"),
        ("1. 4111 1111 1111 1111", "1. **** **** **** 1111"),
        ("4111111111111111 123", "************1111 123"),
        ("05 4111111111111111", "05 ************1111"),
        ("No 12 4111 1111 1111 1111 exp 12/25", "No 12 **** **** **** 1111 exp 12/25"),
    ],
)
def test_card_numbers_are_masked_keeping_the_last_four_and_the_layout(
    typed: str, stored: str
) -> None:
    assert mask_card_numbers(typed) == (stored, 1)


def test_two_cards_in_one_message_are_both_masked() -> None:
    masked, count = mask_card_numbers(f"old {VISA}, new {MASTERCARD}")
    assert (masked, count) == ("old ************1111, new ************4444", 2)


@pytest.mark.parametrize(
    "text",
    [
        "注文番号 4111111111111112",  # fails Luhn
        "電話 090-1234-5678 / 03-1234-5678",
        "+81 90 1234 5678",
        "2024-01-15 12:34:56 error",
        "IP 192.168.100.200 and 10.0.0.1",
        "contract ID AB4111111111111111",  # glued to letters: an identifier
        "hash 4111111111111111ff",
        "log 41111111111111111111111",  # 23 digits
        "4111  1111  1111  1111",  # double spaces: not typed as one number
        "0120-123-456 0120-987-654 03-1234-5678",
        "v1.4111111111111111",  # not separated by a space or hyphen
        "1,234,567,890,123,456",
    ],
)
def test_numbers_that_are_not_cards_are_left_alone(text: str) -> None:
    assert mask_card_numbers(text) == (text, 0)


card_numbers = st.integers(min_value=12, max_value=18).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n).map(_with_check_digit)
)
# Any text around a number, without digits (so what changed is known) and with a space next to
# the number: a number glued to a Latin letter is part of a longer token.
_no_digits = st.text(st.characters(blacklist_categories=("Nd", "Cs")), max_size=20)
befores = _no_digits.map(lambda s: s + " ")
afters = _no_digits.map(lambda s: " " + s)


def _layout(number: str, separator: str, width: int) -> str:
    return separator.join(number[i : i + width] for i in range(0, len(number), width))


def _digits_only(text: str) -> str:
    return "".join(
        chr(ord(c) - 0xFF10 + 48) if "０" <= c <= "９" else c for c in text if c.isdecimal()
    )


@given(
    number=card_numbers,
    before=befores,
    after=afters,
    separator=st.sampled_from([" ", "-", "－", "　", "ー"]),
    width=st.sampled_from([4, 4, 5, 6, 19]),
    full_width=st.booleans(),
)
@settings(max_examples=400)
def test_every_luhn_valid_number_is_masked_in_any_text(
    number: str, before: str, after: str, separator: str, width: int, full_width: bool
) -> None:
    typed = _layout(number, separator, width)
    if full_width:
        typed = _full_width(typed)
    masked, count = mask_card_numbers(before + typed + after)
    assert count == 1
    assert masked.startswith(before)
    assert masked.endswith(after)
    shown = masked[len(before) : len(masked) - len(after)]
    # Only the last four digits remain, and the separators are where the visitor put them.
    assert _digits_only(shown) == number[-4:]
    star = "＊" if full_width else "*"
    assert shown == _starred_but_last_four(typed, star)


def _starred_but_last_four(typed: str, star: str) -> str:
    digits = sum(c.isdecimal() for c in typed)
    seen = 0
    out = []
    for c in typed:
        if c.isdecimal():
            seen += 1
            out.append(c if seen > digits - 4 else star)
        else:
            out.append(c)
    return "".join(out)


@given(number=card_numbers, before=st.text(max_size=30), after=st.text(max_size=30))
def test_a_masked_text_never_contains_the_full_number(number: str, before: str, after: str) -> None:
    masked, _ = mask_card_numbers(f"{before} {number} {after}")
    assert number not in masked or number in before + after


@given(
    digits=st.text(alphabet="0123456789", min_size=1, max_size=30).filter(
        lambda d: not is_card_number(d)
    ),
    before=befores,
    after=afters,
)
@settings(max_examples=400)
def test_no_digit_run_that_fails_luhn_is_changed(digits: str, before: str, after: str) -> None:
    text = before + digits + after
    assert mask_card_numbers(text) == (text, 0)


@given(
    parts=st.lists(st.text(alphabet="0123456789", min_size=2, max_size=3), min_size=2, max_size=8),
    separator=st.sampled_from([" ", "-"]),
)
def test_runs_in_phone_number_layouts_are_left_alone_unless_luhn_valid_as_a_whole(
    parts: list[str], separator: str
) -> None:
    # Groups of two or three digits are phone and postal numbers, not a card's layout.
    text = separator.join(parts)
    masked, count = mask_card_numbers(f"tel {text} です")
    if is_card_number("".join(parts)):
        assert count == 1
    else:
        assert (masked, count) == (f"tel {text} です", 0)


def test_a_long_message_of_digits_is_masked_quickly() -> None:
    text = ("4111 1111 1111 1111 123 " * 200) + ("1234-" * 2000) + "1"
    started = time.perf_counter()
    masked, count = mask_card_numbers(text)
    elapsed = time.perf_counter() - started
    assert count == 200
    assert "4111 1111 1111 1111" not in masked
    assert elapsed < 0.5
