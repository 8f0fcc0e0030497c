"""Abuse words that flag a message to the operator (P9); the visitor is never told.

A word list mixes languages; each entry is matched the way its language is written:

- English (an entry of ASCII letters, digits, spaces, ``'`` and ``-``): whole words, so
  "class" does not flag "ass", case-insensitive, with leetspeak folded (``1d10t`` is
  "idiot", ``@$$`` is "ass"), a plural ``s``/``es`` allowed, a phrase also matched written as
  one word ("shutup"), and letters spaced out to dodge ("f u c k") read as one word.
- Anything else (Japanese): Japanese has no spaces, so as a substring, after NFKC (half-width
  ｶﾀｶﾅ, full-width ＡＢＣ) and with spaces and zero-width characters removed, since
  "死 ね" and "死\u200bね" are the usual ways round a filter.

A substring has no word boundary to stop it, so a short word can sit inside a harmless one
("バカ" in "バカンス"). An entry starting with ``!`` is an exception: a listed word found
inside an exception is not flagged. Entries are kept verbatim in the result, so the operator
sees which entry of the configured list fired.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

_ENGLISH_ENTRY = re.compile(r"[a-z0-9 '\-]+")
_TOKEN = re.compile(r"[a-z0-9@$]+")
# Leetspeak: what digits and symbols stand for when a word is spelled to get past a filter.
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
# Characters invisible or blank in a message: white space and the Unicode format characters
# (zero-width space and joiners, soft hyphen, bidi marks …).
_INVISIBLE = re.compile(
    r"[\s\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufeff\uffa0]"
)
_INVISIBLE_ONLY = re.compile(r"[\u00ad\u034f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
# Spelling a word out letter by letter ("f u c k", "k.y.s") takes at least this many letters.
_SPELLED_OUT = 3


@dataclass(frozen=True)
class WordList:
    """A word list ready to match: English entries by their tokens, the others by substring."""

    english: tuple[tuple[str, tuple[str, ...]], ...]  # (entry, folded tokens)
    substrings: tuple[tuple[str, str], ...]  # (entry, folded text)
    english_exceptions: tuple[tuple[str, ...], ...]
    substring_exceptions: tuple[str, ...]
    # The first look, so that a clean message (nearly all) costs one set and one regex test:
    # every word an English entry's match must contain, and every substring entry at once.
    english_keys: frozenset[str] = frozenset()
    substring_pattern: re.Pattern[str] | None = None


def compile_words(words: Iterable[str]) -> WordList:
    """A ``WordList`` from entries as configured (``!`` marks an exception)."""
    english: list[tuple[str, tuple[str, ...]]] = []
    substrings: list[tuple[str, str]] = []
    english_exceptions: list[tuple[str, ...]] = []
    substring_exceptions: list[str] = []
    for entry in words:
        exception = entry.startswith("!")
        text = entry[1:] if exception else entry
        normal = unicodedata.normalize("NFKC", text).casefold().strip()
        if not normal:
            continue
        if _ENGLISH_ENTRY.fullmatch(normal):
            tokens = tuple(token.translate(_LEET) for token in _TOKEN.findall(normal))
            (english_exceptions.append(tokens) if exception else english.append((entry, tokens)))
        else:
            squeezed = _INVISIBLE.sub("", normal)
            if exception:
                substring_exceptions.append(squeezed)
            else:
                substrings.append((entry, squeezed))
    keys: set[str] = set()
    for _, tokens in english:
        if not tokens:
            continue
        joined = "".join(tokens)
        keys.update((joined, joined + "s", joined + "es"))  # one word, or the phrase as one
        keys.add(tokens[0])
    needles = sorted({needle for _, needle in substrings}, key=len, reverse=True)
    return WordList(
        tuple(english),
        tuple(substrings),
        tuple(english_exceptions),
        tuple(substring_exceptions),
        frozenset(keys),
        re.compile("|".join(map(re.escape, needles))) if needles else None,
    )


def find_abuse(text: str, words: Iterable[str] | WordList) -> list[str]:
    """The entries of ``words`` found in ``text``, each once, in the order they appear."""
    word_list = words if isinstance(words, WordList) else compile_words(words)
    found: dict[str, int] = {}
    for entry, position in [*_english_hits(text, word_list), *_substring_hits(text, word_list)]:
        found[entry] = min(position, found.get(entry, position))
    return sorted(found, key=lambda entry: found[entry])


def parse_word_list(text: str) -> list[str]:
    """The entries of a word-list file: one a line; blank lines and ``#`` comments skipped."""
    entries = (line.strip() for line in text.splitlines())
    return [entry for entry in entries if entry and not entry.startswith("#")]


def default_words(language: str) -> list[str]:
    """The word list shipped for ``language`` ("ja" or "en")."""
    if language not in ("ja", "en"):
        raise ValueError(f"no abuse word list is shipped for {language!r}; there are ja and en")
    data = resources.files("madoguchi.domain").joinpath("abuse_words", f"{language}.txt")
    return parse_word_list(data.read_text(encoding="utf-8"))


def _english_hits(text: str, word_list: WordList) -> list[tuple[str, int]]:
    folded = unicodedata.normalize("NFKC", _INVISIBLE_ONLY.sub("", text)).casefold()
    tokens = [(m.group().translate(_LEET), m.start()) for m in _TOKEN.finditer(folded)]
    words = _join_spelled_out(tokens)
    if word_list.english_keys.isdisjoint(word for word, _ in words):
        return []
    excepted: set[int] = set()
    for exception in word_list.english_exceptions:
        for start in _token_matches(words, exception):
            excepted.update(range(start, start + len(exception)))
    hits: list[tuple[str, int]] = []
    for entry, entry_tokens in word_list.english:
        for start in _token_matches(words, entry_tokens):
            if not excepted.issuperset(range(start, start + len(entry_tokens))):
                hits.append((entry, words[start][1]))
                break
        else:
            joined = "".join(entry_tokens)
            if len(entry_tokens) > 1 and _token_matches(words, (joined,)):
                hits.append((entry, words[_token_matches(words, (joined,))[0]][1]))
    return hits


def _join_spelled_out(tokens: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Runs of single letters ("f u c k", "k.y.s") joined into the word they spell."""
    words: list[tuple[str, int]] = []
    run: list[tuple[str, int]] = []
    for token in [*tokens, ("", -1)]:
        if len(token[0]) == 1:
            run.append(token)
            continue
        if len(run) >= _SPELLED_OUT:
            words.append(("".join(letter for letter, _ in run), run[0][1]))
        else:
            words.extend(run)
        run = []
        if token[0]:
            words.append(token)
    return words


def _token_matches(words: list[tuple[str, int]], entry: tuple[str, ...]) -> list[int]:
    """Where the entry's tokens stand in ``words``; its last word may take a plural ending."""
    if not entry:
        return []
    *head, last = entry
    plurals = (last, last + "s", last + "es")
    firsts = (head[0],) if head else plurals
    return [
        start
        for start, (word, _) in enumerate(words[: len(words) - len(entry) + 1])
        if word in firsts
        and all(words[start + i][0] == token for i, token in enumerate(head))
        and words[start + len(head)][0] in plurals
    ]


def _substring_hits(text: str, word_list: WordList) -> list[tuple[str, int]]:
    if word_list.substring_pattern is None:
        return []
    # What _squeeze makes, without the positions: casefold and the removal work per character.
    plain = unicodedata.normalize("NFKC", _INVISIBLE_ONLY.sub("", text)).casefold()
    if word_list.substring_pattern.search(_INVISIBLE.sub("", plain)) is None:
        return []
    squeezed, origin = _squeeze(text)
    excepted: set[int] = set()
    for exception in word_list.substring_exceptions:
        for start in _find_all(squeezed, exception):
            excepted.update(range(start, start + len(exception)))
    hits: list[tuple[str, int]] = []
    for entry, needle in word_list.substrings:
        for start in _find_all(squeezed, needle):
            if not excepted.issuperset(range(start, start + len(needle))):
                hits.append((entry, origin[start]))
                break
    return hits


def _squeeze(text: str) -> tuple[str, list[int]]:
    """NFKC, case-folded, invisible characters dropped; where each character stood in NFKC.

    NFKC runs on the whole text first, since it composes across characters (ﾊﾞ → バ). Both
    kinds of hits report positions in the NFKC text, so they can be put in order together.
    """
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(unicodedata.normalize("NFKC", _INVISIBLE_ONLY.sub("", text))):
        for folded in char.casefold():
            if not _INVISIBLE.match(folded):
                chars.append(folded)
                origin.append(index)
    return "".join(chars), origin


def _find_all(haystack: str, needle: str) -> list[int]:
    starts: list[int] = []
    start = haystack.find(needle)
    while start != -1:
        starts.append(start)
        start = haystack.find(needle, start + 1)
    return starts
