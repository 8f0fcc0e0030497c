"""Server-side text in the visitor's or the operator's language, from the browser's catalogs.

The chat frame and the console translate with ``static/common/i18n.js``; text the server writes
itself (a transcript; later, mail) comes from the same JSON catalogs (``locales/<code>.json``,
docs/translations.md) with the same rules: ``{name}`` placeholders, and plural values chosen by
the ``count`` parameter among the CLDR categories of the language. A key the language lacks
falls back to English, then to the key itself, so a missing word never breaks a transcript.

Plural categories are computed here for the ten UI languages from CLDR's rules rather than with
Babel: Babel is a development dependency only (the catalog tests check these rules against it),
and ten short rules do not justify a runtime dependency.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from madoguchi.domain.conversation import SUPPORTED_LANGUAGES

LOCALES = Path(__file__).parent / "locales"
FALLBACK = "en"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def get_catalog(language: str) -> Mapping[str, Any]:
    """The catalog of a UI language (read once per process); empty for any other code."""
    if language not in SUPPORTED_LANGUAGES:
        return {}
    path = LOCALES / f"{language}.json"
    if not path.exists():
        return {}
    catalog: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return catalog


# -- plural categories (CLDR 45 rules of the ten UI languages) ---------------------------------


def _decimal(number: int | float | Decimal) -> Decimal:
    """The number as a decimal; a whole float is whole (1.0 is 1, as in JavaScript)."""
    if isinstance(number, float):
        return Decimal(int(number)) if number.is_integer() else Decimal(repr(number))
    return Decimal(number)


def _operands(count: int | float | Decimal) -> tuple[Decimal, int, int, int]:
    """CLDR's operands n (absolute value), i (integer digits), v (number of visible fraction
    digits) and t (fraction digits without trailing zeros)."""
    n = abs(_decimal(count))
    digits = format(n, "f")
    fraction = digits.partition(".")[2]
    significant = fraction.rstrip("0")
    return n, int(n), len(fraction), int(significant) if significant else 0


def _millions(i: int, v: int) -> bool:
    # "many" of fr, it, es, pt: a whole number of millions ("1 million de …"); the compact
    # exponent of CLDR's rule (e) is never used here.
    return i != 0 and i % 1_000_000 == 0 and v == 0


_Rule = Callable[[Decimal, int, int, int], str]


def _one_if_exactly_one(n: Decimal, i: int, v: int, t: int) -> str:
    return "one" if i == 1 and v == 0 else "other"


def _danish(n: Decimal, i: int, v: int, t: int) -> str:
    return "one" if n == 1 or (t != 0 and i in (0, 1)) else "other"


def _italian(n: Decimal, i: int, v: int, t: int) -> str:
    if i == 1 and v == 0:
        return "one"
    return "many" if _millions(i, v) else "other"


def _spanish(n: Decimal, i: int, v: int, t: int) -> str:
    if n == 1:
        return "one"
    return "many" if _millions(i, v) else "other"


def _zero_or_one(n: Decimal, i: int, v: int, t: int) -> str:
    # French and (Brazilian) Portuguese: 0 and 1, and 1.5, are singular.
    if i in (0, 1):
        return "one"
    return "many" if _millions(i, v) else "other"


_RULES: dict[str, _Rule] = {
    "ja": lambda n, i, v, t: "other",
    "en": _one_if_exactly_one,
    "de": _one_if_exactly_one,
    "nl": _one_if_exactly_one,
    "sv": _one_if_exactly_one,
    "da": _danish,
    "it": _italian,
    "es": _spanish,
    "fr": _zero_or_one,
    "pt": _zero_or_one,
}


def plural_category(language: str, count: int | float | Decimal) -> str:
    """The CLDR plural category of ``count`` in ``language``: "one", "many" or "other"."""
    rule = _RULES.get(language)
    return rule(*_operands(count)) if rule else "other"


# -- numbers ----------------------------------------------------------------------------------

# Group and decimal separators, and the fewest digits that get grouped, as the browser's
# Intl.NumberFormat writes them (CLDR): 1,234 · 1.234 · 1 234 (narrow space) · 1234 (es, it).
_NUMBERS: dict[str, tuple[str, str, int]] = {
    "ja": (",", ".", 4),
    "en": (",", ".", 4),
    "it": (".", ",", 5),
    "pt": (".", ",", 4),
    "fr": ("\u202f", ",", 4),
    "de": (".", ",", 4),
    "nl": (".", ",", 4),
    "es": (".", ",", 5),
    "sv": ("\u00a0", ",", 4),
    "da": (".", ",", 4),
}
_MINUS = {"sv": "\u2212"}  # Swedish writes a true minus sign


def format_number(language: str, number: int | float | Decimal) -> str:
    """A number as the language writes it (grouped thousands, its decimal sign)."""
    group, decimal, min_digits = _NUMBERS.get(language, _NUMBERS[FALLBACK])
    text = format(_decimal(number), "f")
    sign = _MINUS.get(language, "-") if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    if len(whole) >= min_digits:
        whole = f"{int(whole):,}".replace(",", group)
    return sign + whole + (decimal + fraction if fraction else "")


# -- translating ------------------------------------------------------------------------------


class Translator:
    """``t(key, **params)`` in one language, as ``i18n.js``'s ``t`` does it in the browser."""

    def __init__(self, language: str) -> None:
        self.language = language if language in SUPPORTED_LANGUAGES else FALLBACK

    def has(self, key: str) -> bool:
        """Whether the language's catalog, or English, has ``key``."""
        return key in get_catalog(self.language) or key in get_catalog(FALLBACK)

    def __call__(self, key: str, /, **params: Any) -> str:
        """The text of ``key`` with ``{name}`` filled from ``params``; English, then the key,
        when the language lacks it."""
        value = get_catalog(self.language).get(key)
        language = self.language
        if value is None:
            value, language = get_catalog(FALLBACK).get(key), FALLBACK
        if value is None:
            return key
        return _format(value, params, language)


def _format(value: str | dict[str, str], params: Mapping[str, Any], language: str) -> str:
    text = value
    if isinstance(text, dict):
        count = params.get("count")
        category = "other"
        if isinstance(count, int | float | Decimal) and not isinstance(count, bool):
            category = plural_category(language, count)
        text = text.get(category, text.get("other", ""))

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            return match.group(0)
        param = params[name]
        if isinstance(param, int | float | Decimal) and not isinstance(param, bool):
            return format_number(language, param)
        return str(param)

    return _PLACEHOLDER.sub(fill, text)


def translator(language: str) -> Translator:
    """A translator for ``language`` (any code: an unknown one gets English)."""
    return Translator(language)
