"""The order of the checks on a message, and that their shortcuts change no answer."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.config import Moderation
from madoguchi.domain import abuse
from madoguchi.domain.abuse import compile_words, default_words, find_abuse
from madoguchi.domain.errors import DomainError
from madoguchi.domain.links import find_links
from madoguchi.domain.moderation import Rules, may_hold_link, screen_message

RULES = Moderation(blocked_hosts=["evil.example"]).rules
WORDS = compile_words([*default_words("ja"), *default_words("en")])
# Characters links, abuse words and their disguises are made of, and ordinary text around them.
ALPHABET = st.sampled_from(
    [
        *"abcdefkhilmnopstuwxyz.:/@-_ 0123456789。．｡：／ｈｔｐｓａｂｃ",
        *("バカ", "死ね", "ﾊﾞｶ", "\u200b", "ンス", "f u c k", "com", "jp"),
    ]
)


@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_the_link_shortcut_never_hides_a_link(text: str) -> None:
    if not may_hold_link(text):
        assert find_links(text) == []


@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_the_abuse_shortcuts_give_the_answer_of_the_full_search(text: str) -> None:
    # The same lists with first looks that rule nothing out: every word of this text is a key,
    # and the empty pattern is found in any text.
    folded = text.casefold()
    tokens = [(m.group().translate(abuse._LEET), m.start()) for m in abuse._TOKEN.finditer(folded)]
    every_word = frozenset(word for word, _ in abuse._join_spelled_out(tokens))
    full = replace(WORDS, english_keys=every_word | {""}, substring_pattern=re.compile(""))
    assert find_abuse(text, WORDS) == find_abuse(text, full)


def test_garbled_comes_first_and_only_for_visitors() -> None:
    garbled = "サービス".encode().decode("latin-1") + " 4111 1111 1111 1111"
    with pytest.raises(DomainError) as refused:
        screen_message(RULES, garbled, from_visitor=True)
    assert refused.value.code == "garbled_text"
    assert refused.value.status == 422
    # An operator's text is not judged garbled; its card number is still masked.
    kept = screen_message(RULES, garbled, from_visitor=False)
    assert kept.body.endswith("**** **** **** 1111")


def test_a_blocked_link_is_refused_before_anything_is_masked_or_flagged() -> None:
    with pytest.raises(DomainError) as refused:
        screen_message(RULES, "バカ 4111111111111111 http://a.evil.example", from_visitor=True)
    assert (refused.value.code, refused.value.details) == (
        "blocked_link",
        {"host": "a.evil.example", "text": "http://a.evil.example"},
    )


def test_what_is_stored_masks_links_and_flags() -> None:
    screened = screen_message(
        RULES, "バカ! card 4111111111111111, see https://example.com/x", from_visitor=True
    )
    assert screened.body == "バカ! card ************1111, see https://example.com/x"
    assert screened.data == {
        "masked_cards": 1,
        "links": [
            {"text": "https://example.com/x", "url": "https://example.com/x", "host": "example.com"}
        ],
    }
    assert screened.abuse == ("バカ",)
    assert screen_message(RULES, "バカ", from_visitor=False).abuse == ()


def test_everything_off_lets_the_text_through_as_it_is() -> None:
    off = Rules(refuse_garbled=False, mask_card_numbers=False)
    text = "サービス".encode().decode("latin-1") + " 4111111111111111 バカ evil.example"
    assert screen_message(off, text, from_visitor=True).body == text
