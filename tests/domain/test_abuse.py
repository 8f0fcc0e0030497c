"""Abuse words flag a message to the operator, in English and Japanese, however they are dodged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.domain.abuse import compile_words, default_words, find_abuse, parse_word_list

SHIPPED = compile_words(default_words("ja") + default_words("en"))


@pytest.mark.parametrize(
    ("message", "flagged"),
    [
        ("このバカ！", ["バカ"]),
        ("ﾊﾞｶじゃないの", ["バカ"]),  # half-width kana, as some phones type it
        ("死 ね", ["死ね"]),
        ("死\u200bね", ["死ね"]),  # a zero-width space in between
        ("死　ね", ["死ね"]),  # an ideographic space
        ("スタッフは無能だし、死ね", ["無能", "死ね"]),
        ("殺すぞ", ["殺す", "殺すぞ"]),
        ("you are an idiot", ["idiot"]),
        ("You are an 1D10T", ["idiot"]),
        ("ＳＴＵＰＩＤ support", ["stupid"]),
        ("you idiots", ["idiot"]),
        ("f u c k you", ["fuck you"]),
        ("shutup!!", ["shut up"]),
        ("S.T.F.U", ["stfu"]),
        ("I will kill you", ["kill you"]),
        ("@$$hole", ["asshole"]),
        ("dumb-ass", ["dumb ass"]),
        ("id\u200biot", ["idiot"]),
    ],
)
def test_abuse_is_flagged_however_it_is_written(message: str, flagged: list[str]) -> None:
    assert find_abuse(message, SHIPPED) == flagged


@pytest.mark.parametrize(
    "message",
    [
        "バカンスの前に契約を更新したいです",
        "写真がピンボケしています",
        "カスタマーIDを教えてください",
        "ゴミ箱からメールを戻せますか",
        "ところすごく遅いです",
        "サーバーが遅すぎて使えない。最悪です。",
        "how do I kill the process that hangs?",
        "the class assistant passed",
        "my ISP is terrible and your service is useless",
        "the server died at 3am",
        "please shut down the old VPS",
        "Is this a scam email?",
        "I know where the log file lives",
    ],
)
def test_ordinary_support_messages_and_complaints_are_not_flagged(message: str) -> None:
    assert find_abuse(message, SHIPPED) == []


def test_english_entries_match_whole_words_only() -> None:
    words = ["ass"]
    assert find_abuse("what a class", words) == []
    assert find_abuse("kiss my ass", words) == ["ass"]
    assert find_abuse("Kiss My A$$.", words) == ["ass"]


def test_an_exception_unflags_a_word_found_inside_it_but_not_elsewhere() -> None:
    words = ["バカ", "!バカンス"]
    assert find_abuse("バカンス", words) == []
    assert find_abuse("バカンスなんてバカだ", words) == ["バカ"]


def test_entries_come_back_as_configured_in_the_order_they_appear() -> None:
    words = ["Idiot", "馬鹿", "Shut Up"]
    assert find_abuse("shut up, 馬鹿 idiot", words) == ["Shut Up", "馬鹿", "Idiot"]


def test_the_word_list_file_format() -> None:
    text = "# comment\n\nidiot\n  馬鹿  \n!バカンス\n# another\n"
    assert parse_word_list(text) == ["idiot", "馬鹿", "!バカンス"]


def test_the_shipped_lists_load_and_are_a_few_dozen_each() -> None:
    for language in ("ja", "en"):
        words = default_words(language)
        assert 30 <= len(words) <= 100
        assert all(not word.startswith("#") for word in words)
    with pytest.raises(ValueError, match="ja and en"):
        default_words("fr")


ja_words = st.sampled_from([w for w in default_words("ja") if not w.startswith("!")])
en_words = st.sampled_from([w for w in default_words("en") if " " not in w])
invisible = st.sampled_from([" ", "\u3000", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
# Japanese-looking text around a word: kana and kanji that no exception starts or ends with.
ja_around = st.text(st.sampled_from("はがのをにでですます。、お客様契約確認"), max_size=10)


@given(word=ja_words, data=st.data(), before=ja_around, after=ja_around)
def test_a_japanese_word_with_spaces_or_zero_width_characters_inserted_is_flagged(
    word: str, data: st.DataObject, before: str, after: str
) -> None:
    dodged = "".join(
        char + (data.draw(invisible) if data.draw(st.booleans()) else "") for char in word
    )
    assert word in find_abuse(before + dodged + after, SHIPPED)


_LEET_FOR = {"o": "0", "i": "1", "e": "3", "a": "@", "s": "$", "t": "7"}


@given(word=en_words, data=st.data(), before=st.sampled_from(["", "you ", "so, "]))
def test_an_english_word_in_any_case_and_leetspeak_is_flagged(
    word: str, data: st.DataObject, before: str
) -> None:
    spelled = "".join(
        _LEET_FOR[c]
        if c in _LEET_FOR and data.draw(st.booleans())
        else (c.upper() if data.draw(st.booleans()) else c)
        for c in word
    )
    assert word in find_abuse(f"{before}{spelled}!", SHIPPED)


@given(
    word=en_words,
    prefix=st.sampled_from(["x", "re", "un"]),
    suffix=st.sampled_from(["x", "ly", "ing"]),
)
def test_an_english_word_inside_a_longer_word_is_not_flagged(
    word: str, prefix: str, suffix: str
) -> None:
    assert word not in find_abuse(f"{prefix}{word}{suffix}", [word])
