"""Card numbers typed by mistake are masked before a message is stored (P10).

A card number is 13 to 19 digits that pass the Luhn check, typed the way people type them:
in one block, or in groups separated by single spaces or hyphens, in ASCII or in the
full-width digits Japanese IMEs produce (``４１１１－１１１１…``). All but the last four
digits become ``*`` (``＊`` for a full-width digit) and the separators stay where they were,
so "**** **** **** 1234" still reads as a card and the visitor and operator can tell which.

What is left alone, and why:
- digit runs glued to Latin letters or digits (``ab41111111…``): hashes, contract IDs and log
  tokens, not something a person typed as a card;
- numbers that fail Luhn: order, phone and contract numbers, dates, IP addresses (dots are not
  separators), long log numbers; one in ten random numbers passes Luhn, so a 16-digit order
  number is masked now and then: in storage that costs a re-ask, a leaked card costs more;
- inside a longer run, only card-shaped windows are tried (one block of 13-19 digits, groups
  of four, or Amex's 4-6-5 and Diners' 4-6-4): "4111 1111 1111 1111 123" (a card then its
  CVV) is caught, while two phone numbers in a row are not searched for a lucky 13 digits;
- a number after "3." or "1," (decimals, thousands): one number, not a card.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_DIGITS = 13
MAX_DIGITS = 19
KEEP_LAST = 4

_DIGITS = "0-9\uff10-\uff19"  # ASCII and full-width
# Hyphens as IMEs type them too: full-width hyphen-minus, the Unicode hyphens and minus, and
# the katakana prolonged sound mark (ー), which a Japanese keyboard gives for "-" in kana mode.
_SEPARATORS = " \u3000\\-\uff0d\u2010\u2011\u2012\u2013\u2212\u30fc"
# A run: digits, each group joined to the next by exactly one separator. It must not touch
# a Latin letter or digit on either side (ASCII or full-width): then it is part of a token.
_GLUE = "0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
_RUN = re.compile(
    rf"(?<![{_GLUE}])(?<![{_DIGITS}][.,])"  # "3.14159…", "1,234": one number, not a card
    rf"[{_DIGITS}]+(?:[{_SEPARATORS}][{_DIGITS}]+)*"
    rf"(?![{_GLUE}])(?![.,][{_DIGITS}])"
)
_GROUP = re.compile(rf"[{_DIGITS}]+")
# Group sizes that are a card's printed layout, for finding a card inside a longer run.
_CARD_LAYOUTS = ((4, 6, 5), (4, 6, 4))


@dataclass(frozen=True)
class _Group:
    start: int
    end: int
    digits: str  # ASCII


def luhn_valid(digits: str) -> bool:
    """Whether an ASCII digit string passes the Luhn checksum."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def is_card_number(digits: str) -> bool:
    """Whether an ASCII digit string is 13-19 digits long and passes Luhn."""
    return MIN_DIGITS <= len(digits) <= MAX_DIGITS and digits.isascii() and luhn_valid(digits)


def mask_card_numbers(text: str) -> tuple[str, int]:
    """The text with every card number masked but its last four digits, and how many."""
    pieces: list[str] = []
    done = 0
    count = 0
    for run in _RUN.finditer(text):
        groups = [
            _Group(g.start() + run.start(), g.end() + run.start(), _ascii(g.group()))
            for g in _GROUP.finditer(run.group())
        ]
        for first, last in _cards_in(groups):
            start, end = groups[first].start, groups[last].end
            pieces.append(text[done:start])
            pieces.append(_masked(text[start:end]))
            done = end
            count += 1
    pieces.append(text[done:])
    return "".join(pieces), count


def _cards_in(groups: list[_Group]) -> list[tuple[int, int]]:
    """The (first, last) group indexes of the card numbers in one run."""
    if is_card_number("".join(g.digits for g in groups)):
        return [(0, len(groups) - 1)]
    if len(groups) == 1:
        return []
    found: list[tuple[int, int]] = []
    first = 0
    while first < len(groups):
        last = _card_ending_at(groups, first)
        if last is None:
            first += 1
            continue
        found.append((first, last))
        first = last + 1
    return found


def _card_ending_at(groups: list[_Group], first: int) -> int | None:
    """The last group of the longest card-shaped, Luhn-valid window starting at ``first``."""
    # A card has at most 19 digits, so no window is longer than six groups: looking further
    # would make a long run of digit groups cost quadratic time for nothing.
    sizes = [len(g.digits) for g in groups[first : first + 6]]
    candidates = [1]  # a card typed in one block, then something else ("… 123" for the CVV)
    # Groups of four, the last one possibly shorter or longer (16-19 digit cards end 4+3 …).
    fours = 0
    while fours < len(sizes) and sizes[fours] == 4:
        fours += 1
    candidates += range(2, min(fours + 1, len(sizes)) + 1)
    candidates += [len(layout) for layout in _CARD_LAYOUTS if tuple(sizes[:3]) == layout]
    for count in sorted(set(candidates), reverse=True):
        digits = "".join(g.digits for g in groups[first : first + count])
        if is_card_number(digits):
            return first + count - 1
    return None


def _masked(number: str) -> str:
    """``number`` with all digits but the last four starred, separators kept."""
    digit_positions = [i for i, char in enumerate(number) if _is_digit(char)]
    hide = set(digit_positions[:-KEEP_LAST])
    return "".join(
        ("＊" if char >= "\uff10" else "*") if i in hide else char for i, char in enumerate(number)
    )


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9" or "\uff10" <= char <= "\uff19"


def _ascii(digits: str) -> str:
    return "".join(chr(ord(c) - 0xFF10 + 48) if c >= "\uff10" else c for c in digits)
