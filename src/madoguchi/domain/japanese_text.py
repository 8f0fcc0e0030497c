"""What Japanese text looks like, for telling a repaired message from more mojibake (SPEC P8).

Mojibake of Japanese, read back the right way, is Japanese: kana between common kanji. Read
back a wrong way it is noise: rare kanji (JIS level 2, where UTF-8's lead bytes land in CP932),
half-width kana, Latin-1 letters, U+FFFD. ``reads_as_japanese`` tells the two apart by counting.
"""

from __future__ import annotations

import codecs
import re

# JIS X 0208 level 1: the 2,965 kanji of everyday Japanese (EUC-JP rows 0xB0-0xCF). Kanji
# outside it are rare in real text but make up about half of any wrong-way decoding.
COMMON_KANJI = frozenset(
    bytes((lead, trail)).decode("euc_jp")
    for lead in range(0xB0, 0xD0)
    for trail in range(0xA1, 0xFF)
    if (lead, trail) < (0xCF, 0xD4)  # row 47 ends at 0xCFD3
)

# The characters CP932 gives to UTF-8's three-byte lead bytes (0xE0-0xEF) and a continuation
# byte: what UTF-8 Japanese read as CP932 is made of ('繧', '縺', '繝', …).
CP932_RARE_ROWS = "".join(
    sorted(
        {
            bytes((lead, trail)).decode("cp932", errors="ignore")
            for lead in range(0xE0, 0xF0)
            for trail in range(0x80, 0xC0)
        }
        - {""}
    )
)

# Windows-1252 as browsers decode it (and "ISO-8859-1", which they treat as the same): the
# five bytes it leaves undefined become C1 controls.
SLOPPY_CP1252 = "".join(
    bytes((byte,)).decode("cp1252", errors="ignore") or chr(byte) for byte in range(256)
)
# Back to bytes at C speed, from Windows-1252's letters and from true Latin-1's C1 controls.
_SLOPPY_CP1252_ENCODING = {ord(character): byte for byte, character in enumerate(SLOPPY_CP1252)}
_SLOPPY_CP1252_ENCODING.update({byte: byte for byte in range(0x80, 0xA0)})
_KANA_PAIR = re.compile("[\u3041-\u3093\u30a1-\u30f6\u30fc]{2}")

# Two kana at least: one is what a stray byte pair of half-width kana gives as often as not.
MIN_KANA = 2
# Kana must be at least this share of kana and kanji together: Japanese sentences run about
# 40-70% (a formal one with many kanji nouns 25%), noise from a wrong decoding rarely any.
KANA_SHARE = 0.2
# Kana come in runs ('について', 'お問い合わせ' has the fewest: 1 pair in 4): at least this
# share of the kana follow a kana. A wrong decoding scatters single kana between kanji.
KANA_PAIR_SHARE = 0.2
# At most this share of the kanji may be rare (outside level 1).
RARE_KANJI_SHARE = 0.2
# At most this share of the non-ASCII characters may be neither Japanese nor common symbols.
FOREIGN_SHARE = 0.1
# A lossy decoding may keep this share of U+FFFD among its non-ASCII characters: UTF-8 read
# as CP932 loses a byte every third character or so, and each loss costs one or two.
LOSSY_SHARE = 0.4


def sloppy_latin1_encode(text: str, errors: str) -> bytes:
    """The bytes a Windows-1252 (or Latin-1) reading of them turned into this text."""
    return codecs.charmap_encode(text, errors, _SLOPPY_CP1252_ENCODING)[0]


def reads_as_japanese(text: str, *, lossy: bool = False) -> bool:
    """Whether the text reads as Japanese: kana among common kanji, little else but ASCII."""
    if _KANA_PAIR.search(text) is None:
        return False  # the cheap test first: most text that is not Japanese stops here
    kana = kana_pairs = kanji = rare = symbols = foreign = lost = 0
    after_kana = False
    for character in text:
        code = ord(character)
        is_kana = 0x3041 <= code <= 0x3093 or 0x30A1 <= code <= 0x30F6 or code == 0x30FC
        kana_pairs += is_kana and after_kana
        after_kana = is_kana
        if code < 0x80:
            if code < 0x20 and character not in "\t\n\r":
                foreign += 1
        elif is_kana:
            kana += 1  # the kana of words, not iteration marks ('ヽ') a stray byte pair gives
        elif 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
            kanji += 1
            rare += character not in COMMON_KANJI
        elif _is_common_symbol(code):
            symbols += 1
        elif code == 0xFFFD:
            lost += 1
        else:
            foreign += 1
    non_ascii = kana + kanji + symbols + foreign + lost
    if lost and not lossy:
        return False
    return (
        kana >= MIN_KANA
        and kana_pairs >= max(1, KANA_PAIR_SHARE * kana)
        and kana >= KANA_SHARE * (kana + kanji)
        and rare <= RARE_KANJI_SHARE * kanji
        and foreign <= FOREIGN_SHARE * non_ascii
        and lost <= LOSSY_SHARE * non_ascii
    )


def _is_common_symbol(code: int) -> bool:
    """Punctuation, full-width forms, symbols and emoji that Japanese text uses freely."""
    return (
        0x3000 <= code <= 0x303F  # 、。「」 and the ideographic space
        or 0xFF01 <= code <= 0xFF60  # full-width ASCII
        or 0x2010 <= code <= 0x2BFF  # dashes, quotes, arrows, ①, ■, ★, ✓
        or code >= 0x1F000  # emoji
        or code in (0xD7, 0xF7, 0xB0, 0xA7, 0xB1)  # × ÷ ° § ±
    )
