"""Garbled input (SPEC P8): mojibake and replacement characters, caught before a message is sent on.

A visitor whose browser, terminal or mail client read text in the wrong encoding sends us
mojibake: 'ã‚µãƒ¼ãƒ“ã‚¹' or '繧ｵ繝ｼ繝薙せ' for 'サービス'. ``check_garbled`` says whether a
message is garbled, how (``Garble``), and, when the damage can be undone exactly, the repaired
text to offer the visitor ("did you mean …?").

How (docs/moderation.md has the measured precision and recall):

1. A fast path: ASCII, and text with none of the characters that mojibake is made of, is clean.
   That is most Japanese, Chinese, Korean and emoji messages, for the cost of one regex scan;
   the rest (accented letters, '…', half-width kana) are clean once they read as Japanese or
   fail every round trip.
2. Round trips: for each wrong reading we know (UTF-8 read as CP932, EUC-JP read as Latin-1,
   …) the text is encoded back the wrong way and decoded the right way. A round trip that
   succeeds and gives text that reads as Japanese (``japanese_text.reads_as_japanese``) is a
   confident repair.
3. The same round trips again, lossily: a client that replaced what it could not decode loses
   bytes, so there is no repair to offer, but the text still reads as Japanese once decoded
   the right way, which is evidence enough to ask for a resend.
4. ftfy's ``fix_encoding`` for UTF-8 read as Latin-1/CP1252 and the other single-byte cases it
   knows, in any language (never ``fix_text``: it also rewrites good text, such as half-width
   kana and full-width letters).
5. A message mostly of U+FFFD is garbled whatever the cause (CP932 or EUC-JP read as UTF-8,
   UTF-8 read as EUC-JP): nothing is left to repair. So is one with C1 controls, which are
   bytes read as Latin-1 that no round trip made sense of (a heading of kanji alone).

Good text is not taken for mojibake because a repair must read as Japanese while the original
must not: real Japanese already reads as Japanese, and other languages (and half-width kana)
come out of a wrong round trip as rare kanji and scattered kana, not as Japanese.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import ftfy

from madoguchi.domain.japanese_text import (
    CP932_RARE_ROWS,
    SLOPPY_CP1252,
    reads_as_japanese,
    sloppy_latin1_encode,
)


class Garble(StrEnum):
    """How a message was garbled: which bytes were read as which encoding."""

    REPLACEMENT = "replacement"  # mostly U+FFFD: the bytes are gone
    UTF8_AS_CP932 = "utf8_as_cp932"  # the commonest Japanese case: Windows reading UTF-8
    UTF8_AS_LATIN1 = "utf8_as_latin1"  # also Windows-1252
    CP932_AS_LATIN1 = "cp932_as_latin1"  # also Windows-1252
    EUCJP_AS_LATIN1 = "eucjp_as_latin1"  # also Windows-1252
    EUCJP_AS_CP932 = "eucjp_as_cp932"
    CP932_AS_EUCJP = "cp932_as_eucjp"
    UTF8_AS_EUCJP = "utf8_as_eucjp"
    MOJIBAKE = "mojibake"  # another wrong reading that ftfy recognised


@dataclass(frozen=True)
class Verdict:
    """Whether a message is garbled, how, and the exact repair when there is one."""

    garbled: bool
    kind: Garble | None = None
    repaired: str | None = None


CLEAN = Verdict(garbled=False)

# A message at least this share U+FFFD (of its non-space characters) is unreadable: a stray
# one in a pasted log is not, but CP932 read as UTF-8 is about half U+FFFD.
REPLACEMENT_SHARE = 0.2

# No one types C1 controls (U+0080-U+009F): two are bytes read as Latin-1 that were not.
C1_CONTROLS = 2

_Encoder = Callable[[str, str], bytes]


def _codec(name: str) -> _Encoder:
    return lambda text, errors: text.encode(name, errors)


# (kind, how to get the bytes back, what they really were). Latin-1 is "sloppy": Windows-1252
# where it defines a byte, Latin-1 (C1 controls) where not, as browsers decode "ISO-8859-1".
_WRONG_READINGS: tuple[tuple[Garble, _Encoder, str], ...] = (
    (Garble.UTF8_AS_CP932, _codec("cp932"), "utf-8"),
    (Garble.CP932_AS_LATIN1, sloppy_latin1_encode, "cp932"),
    (Garble.EUCJP_AS_LATIN1, sloppy_latin1_encode, "euc_jp"),
    (Garble.EUCJP_AS_CP932, _codec("cp932"), "euc_jp"),
    (Garble.CP932_AS_EUCJP, _codec("euc_jp"), "cp932"),
    (Garble.UTF8_AS_LATIN1, sloppy_latin1_encode, "utf-8"),
    (Garble.UTF8_AS_EUCJP, _codec("euc_jp"), "utf-8"),
)

# What mojibake is made of; text with none of these skips every round trip. Controls and
# Latin-1 (every *_as_latin1), the Windows-1252 letters and punctuation above U+00FF, U+FFFD,
# half-width kana and the CP932 rows UTF-8's lead bytes land in (*_as_cp932), private use
# (CP932's user rows, where emoji's UTF-8 lands).
_CP1252_HIGH = bytes(range(0x80, 0xA0)).decode("cp1252", errors="ignore")
_SUSPECT = re.compile(
    "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\xff\\ufffd\\uff61-\\uff9f\\ue000-\\uf8ff"
    + re.escape(_CP1252_HIGH + CP932_RARE_ROWS)
    + "]"
)


def check_garbled(text: str) -> Verdict:
    """Say whether a message is mojibake or mostly U+FFFD, and repair it when that is exact."""
    if text.isascii() or _SUSPECT.search(text) is None:
        return CLEAN
    if reads_as_japanese(text):
        return CLEAN
    for kind, encode, real in _WRONG_READINGS:
        repaired = _round_trip(text, encode, real)
        if repaired is not None:
            return Verdict(garbled=True, kind=kind, repaired=repaired)
    for kind, encode, real in _WRONG_READINGS:
        if _lossy_round_trip_reads(text, encode, real):
            return Verdict(garbled=True, kind=kind)
    by_ftfy = _check_with_ftfy(text)
    if by_ftfy is not None:
        return by_ftfy
    if _mostly_replacement(text):
        return Verdict(garbled=True, kind=Garble.REPLACEMENT)
    if len(_C1_CONTROL.findall(text)) >= C1_CONTROLS:
        return Verdict(garbled=True, kind=Garble.MOJIBAKE)
    return CLEAN


def _round_trip(text: str, encode: _Encoder, real: str) -> str | None:
    """The text as it was meant, if reading it back the other way is exact and reads well."""
    try:
        candidate = encode(text, "strict").decode(real)
    except UnicodeError:
        return None
    if candidate != text and reads_as_japanese(candidate):
        return candidate
    return None


def _lossy_round_trip_reads(text: str, encode: _Encoder, real: str) -> bool:
    """Whether the text reads as Japanese once read back the other way, tolerating losses."""
    # Mojibake is made only of what the wrong decoding gives: anything else but U+FFFD (a
    # hangul syllable, a simplified hanzi) means the text was not read this way.
    if real == "utf-8":
        # UTF-8 finds its feet again after a gap, so dropping what cannot go back costs the
        # one character it was in (a "?" would cost two).
        kept = text.replace("\ufffd", "")
    elif encode is sloppy_latin1_encode:
        # Windows-1252 replaced a lead byte it does not define (0x81, 0x90, …): its trail byte
        # is the next character, lost with it; dropping both keeps the pairs after in step.
        kept = _LEAD_AND_TRAIL_LOST.sub("", text)
    else:
        kept = text.replace("\ufffd", "?")  # the two-byte encodings keep their pairs in step
    try:
        data = encode(kept, "strict")
    except UnicodeError:
        return False
    candidate = data.decode(real, errors="replace")
    return candidate != text and reads_as_japanese(candidate, lossy=True)


def _check_with_ftfy(text: str) -> Verdict | None:
    """ftfy's verdict on the single-byte readings it knows, with a repair only when clean."""
    if _UTF8_AS_SINGLE_BYTE.search(text) is None:
        return None  # ftfy takes tens of microseconds to say so
    fixed, explained = ftfy.fix_encoding_and_explain(text)
    steps = explained or []
    encodings = {parameter for action, parameter in steps if action == "encode"}
    # Only a re-reading as UTF-8 undoes mojibake; ftfy's other steps tidy (C1 controls to
    # Windows-1252 quotes, …) and would offer CP932 read as Latin-1 as '‰c‹Æ' for '営業'.
    if fixed == text or not any(
        action == "decode" and parameter.startswith("utf-8") for action, parameter in steps
    ):
        return None
    latin = {"latin-1", "sloppy-windows-1252", "windows-1252", "iso-8859-1"}
    kind = Garble.UTF8_AS_LATIN1 if encodings & latin else Garble.MOJIBAKE
    # ftfy marks what the client lost with U+FFFD ("replace_lossy_sequences"): not a repair.
    clean = "\ufffd" not in fixed and _SUSPECT_CONTROL.search(fixed) is None
    return Verdict(garbled=True, kind=kind, repaired=fixed if clean else None)


# A UTF-8 lead byte then a continuation byte, as Windows-1252 or Latin-1 shows them ('Ã©',
# 'ã‚'): what every UTF-8 character beyond ASCII becomes when read a byte at a time.
_UTF8_AS_SINGLE_BYTE = re.compile("[\xc2-\xf4][" + re.escape(SLOPPY_CP1252[0x80:0xC0]) + "\ufffd]")
_LEAD_AND_TRAIL_LOST = re.compile("\ufffd.?", re.DOTALL)
_C1_CONTROL = re.compile("[\x80-\x9f]")
_SUSPECT_CONTROL = re.compile("[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]")


def _mostly_replacement(text: str) -> bool:
    """Whether U+FFFD makes up enough of the text that it cannot be read."""
    replaced = text.count("\ufffd")
    visible = sum(1 for character in text if not character.isspace())
    if replaced == 0:
        return False
    return replaced == visible or (replaced >= 2 and replaced >= REPLACEMENT_SHARE * visible)
