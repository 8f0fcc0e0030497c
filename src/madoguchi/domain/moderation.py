"""What happens to a message between the sender and the store (SPEC P8, P9, P10).

``screen_message`` runs the checks of ``garbled``, ``links``, ``masking`` and ``abuse`` in the
order a support desk needs them:

1. Garbled input from a visitor is refused (the visitor resends, perhaps the repaired text):
   nothing unreadable reaches the operator.
2. A link to a blocked host is refused with the host, from either side.
3. Card numbers are masked: what is stored is the masked text, and the event says how many.
4. Links are found in the masked text, so the chat shows each target plainly.
5. Abuse words in a visitor's message flag it to the operators; the visitor is not told.

The rules come from ``[moderation]`` (config.Moderation builds them once).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from madoguchi.domain.abuse import WordList, find_abuse
from madoguchi.domain.errors import DomainError
from madoguchi.domain.garbled import check_garbled
from madoguchi.domain.hosts import BlockList
from madoguchi.domain.links import check_links, find_links
from madoguchi.domain.masking import mask_card_numbers

# Every link find_links can return has "://" (as typed, half- or full-width) or a dot followed
# by a letter of its top-level domain; a message with neither skips the search (most do).
_MAY_HOLD_LINK = re.compile(r"[:：][/／]{2}|[.．。｡][A-Za-zＡ-Ｚａ-ｚ]")
# A card number has at least 13 digits.
_DIGITS = re.compile(r"[0-9０-９]")


@dataclass(frozen=True)
class Rules:
    """The desk's moderation settings, ready to apply."""

    refuse_garbled: bool = True
    mask_card_numbers: bool = True
    block_list: BlockList | None = None  # None: no host is blocked
    words: WordList | None = None  # None: no abuse words


@dataclass(frozen=True)
class Screened:
    """A message as it is to be stored: its body, its event data, the abuse words it holds."""

    body: str
    data: dict[str, Any] = field(default_factory=dict)
    abuse: tuple[str, ...] = ()


def may_hold_link(text: str) -> bool:
    """False only when ``find_links(text)`` is certainly empty (a cheap first look)."""
    return _MAY_HOLD_LINK.search(text) is not None


def screen_message(rules: Rules, body: str, *, from_visitor: bool) -> Screened:
    """The message as it may be stored, or a DomainError (422) saying why it may not."""
    if from_visitor and rules.refuse_garbled:
        verdict = check_garbled(body)
        if verdict.garbled:
            details: dict[str, Any] = {"kind": str(verdict.kind)}
            if verdict.repaired is not None:
                details["repaired"] = verdict.repaired
            raise DomainError(
                "garbled_text",
                "The message looks garbled (mojibake); please send it again.",
                422,
                details=details,
            )
    if rules.block_list is not None:
        for refusal in check_links(body, rules.block_list):
            if refusal.reason == "blocked_host":
                raise DomainError(
                    "blocked_link",
                    f"Links to {refusal.host} may not be sent here.",
                    422,
                    details={"host": refusal.host, "text": refusal.text},
                )
    data: dict[str, Any] = {}
    if rules.mask_card_numbers and len(_DIGITS.findall(body)) >= 13:
        body, count = mask_card_numbers(body)
        if count:
            data["masked_cards"] = count
    if may_hold_link(body):
        links = find_links(body)
        if links:
            # The text as typed and where it really goes: the chat shows both (docs/moderation.md).
            data["links"] = [
                {"text": body[link.span[0] : link.span[1]], "url": link.url, "host": link.host}
                for link in links
            ]
    abuse: tuple[str, ...] = ()
    if from_visitor and rules.words is not None:
        abuse = tuple(find_abuse(body, rules.words))
    return Screened(body, data, abuse)
