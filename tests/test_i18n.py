"""The server's translator: the browser's catalogs, plural rules and numbers, without Babel."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel import Locale

from madoguchi.domain.conversation import SUPPORTED_LANGUAGES
from madoguchi.i18n import format_number, get_catalog, plural_category, translator

COUNTS: list[int | float | Decimal] = [
    *range(0, 30),
    100,
    101,
    1000,
    1_000_000,
    2_000_000,
    1_000_001,
    0.0,
    0.5,
    1.0,
    1.5,
    2.5,
    Decimal("1.0"),
    Decimal("1.50"),
    Decimal("0.1"),
]


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_plural_categories_match_cldr_as_babel_has_it(lang: str) -> None:
    rule = Locale.parse(lang).plural_form
    for count in COUNTS:
        assert plural_category(lang, count) == rule(count), (lang, count)


def test_a_key_is_filled_in_the_language_then_english_then_is_itself() -> None:
    ja, en = translator("ja"), translator("en")
    assert ja("event.assigned", name="佐藤") == get_catalog("ja")["event.assigned"].replace(
        "{name}", "佐藤"
    )
    assert en("event.assigned", name="Sato") == "Sato joined the chat"
    assert en("event.assigned") == "{name} joined the chat"  # a missing value stays visible
    assert en("no.such.key") == "no.such.key"
    assert translator("xx")("message.you") == "You"  # an unknown language reads English
    assert translator("ja").has("message.you")
    assert not translator("ja").has("no.such.key")


def test_plural_values_pick_their_form_by_count() -> None:
    assert translator("en")("queue.count", count=1).startswith("1 ")
    one, many = (
        translator("en")("console.unread", count=1),
        translator("en")("console.unread", count=3),
    )
    assert "1" in one
    assert "3" in many
    assert translator("fr")("survey.average", count=1, average=4.5) == "Note 4,5 (1 réponse)"
    assert translator("fr")("survey.average", count=0, average=4) == "Note 4 (0 réponse)"
    assert translator("fr")("survey.average", count=2, average=4) == "Note 4 (2 réponses)"
    assert translator("ja")("survey.average", count=3, average=4.25) == "評価 4.25（回答 3 件）"


@pytest.mark.parametrize(
    ("lang", "number", "written"),
    [
        ("en", 1234567, "1,234,567"),
        ("ja", 1234, "1,234"),
        ("de", 1234.5, "1.234,5"),
        ("fr", 12345, "12\u202f345"),
        ("sv", -1234, "\u22121\u00a0234"),
        ("es", 1234, "1234"),
        ("es", 12345, "12.345"),
        ("it", 1234, "1234"),
        ("pt", 1234, "1.234"),
        ("da", 999, "999"),
        ("nl", Decimal("0.25"), "0,25"),
    ],
)
def test_numbers_are_written_as_the_browser_writes_them(
    lang: str, number: int | float | Decimal, written: str
) -> None:
    assert format_number(lang, number) == written
