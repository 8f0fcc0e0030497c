"""Garbled input (P8): mojibake and U+FFFD are caught, good text in any UI language never is."""

from __future__ import annotations

import timeit
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.domain.garbled import Garble, Verdict, check_garbled

JAPANESE = [
    "サービスの契約について質問があります。ログインできません",
    "お世話になっております。レンタルサーバーの料金プランを変更したいのですが、手続きを教えてください。",
    "独自ドメインのDNS設定を変更してから24時間たちますが、まだ反映されていません。",
    "メールが送信できなくなりました。SMTPの認証エラーと表示されます。",
    "請求書の宛名を会社名に変更してもらえますか？",
    "WordPressの管理画面が真っ白になってしまいました…どうすればいいでしょうか",
    "SSL証明書の更新が失敗したようです。サイトに「保護されていない通信」と出ます。",
    "契約者名義の変更をしたいです。必要な書類は何ですか",
    "先ほどのお問い合わせの続きです。バックアップから復元できますか？",
    "クレジットカードの有効期限が切れたので、支払い方法を更新したいです",
    "FTPでファイルをアップロードすると権限エラーになります",
    "ありがとうございました！とても助かりました😊",
]


def sloppy_cp1252(data: bytes) -> str:
    """Windows-1252 as browsers decode it: the five undefined bytes become C1 controls."""
    return "".join(
        chr(byte) if byte in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else bytes((byte,)).decode("cp1252")
        for byte in data
    )


def strict_or_none(data: bytes, decode: Callable[[bytes], str]) -> str | None:
    try:
        return decode(data)
    except UnicodeError:
        return None


# (name, the good text's encoding, how the client read the bytes: errors="replace" where a real
# client would, None for a reading that cannot be lossless)
WRONG_READINGS: list[tuple[str, str, Callable[[bytes], str], Callable[[bytes], str] | None]] = [
    (
        "utf8_as_cp932",
        "utf-8",
        lambda b: b.decode("cp932", "replace"),
        lambda b: b.decode("cp932"),
    ),
    ("utf8_as_eucjp", "utf-8", lambda b: b.decode("euc_jp", "replace"), None),
    ("utf8_as_latin1", "utf-8", lambda b: b.decode("latin-1"), lambda b: b.decode("latin-1")),
    ("utf8_as_cp1252", "utf-8", sloppy_cp1252, sloppy_cp1252),
    ("utf8_as_cp1252_replace", "utf-8", lambda b: b.decode("cp1252", "replace"), None),
    ("cp932_as_latin1", "cp932", lambda b: b.decode("latin-1"), lambda b: b.decode("latin-1")),
    ("cp932_as_cp1252", "cp932", sloppy_cp1252, sloppy_cp1252),
    ("cp932_as_cp1252_replace", "cp932", lambda b: b.decode("cp1252", "replace"), None),
    ("cp932_as_utf8", "cp932", lambda b: b.decode("utf-8", "replace"), None),
    ("cp932_as_eucjp", "cp932", lambda b: b.decode("euc_jp", "replace"), None),
    ("eucjp_as_latin1", "euc_jp", lambda b: b.decode("latin-1"), lambda b: b.decode("latin-1")),
    ("eucjp_as_cp1252", "euc_jp", sloppy_cp1252, sloppy_cp1252),
    ("eucjp_as_utf8", "euc_jp", lambda b: b.decode("utf-8", "replace"), None),
    (
        "eucjp_as_cp932",
        "euc_jp",
        lambda b: b.decode("cp932", "replace"),
        lambda b: b.decode("cp932"),
    ),
]


def garble(text: str, encoding: str, read: Callable[[bytes], str]) -> str:
    # A legacy-encoding client sends "?" for what its encoding lacks (emoji).
    return read(text.encode(encoding, "replace"))


def encode_or_none(text: str, encoding: str) -> bytes | None:
    try:
        return text.encode(encoding)
    except UnicodeError:
        return None


GARBLED = [
    (name, original, garble(original, encoding, read))
    for original in JAPANESE
    for name, encoding, read, _ in WRONG_READINGS
] + [
    ("replacement", "", "\ufffd" * 12),
    ("replacement", "", "\ufffd\ufffd\ufffd \ufffd\ufffd?"),
    ("replacement", "", "\ufffd"),
    ("replacement", "", "Hi, \ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd"),
    ("replacement", "", "ID 12345 \ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd"),
]

# The lossless readings, where the exact message must come back as the repair.
LOSSLESS = [
    (name, original, garbled)
    for original in JAPANESE
    for name, encoding, _, exact in WRONG_READINGS
    if exact is not None
    and (data := encode_or_none(original, encoding)) is not None
    and (garbled := strict_or_none(data, exact)) is not None
]


def test_each_wrong_reading_of_a_support_question_is_caught_and_named() -> None:
    assert check_garbled("メールの設定を変更できません".encode().decode("cp932")) == Verdict(
        True, Garble.UTF8_AS_CP932, "メールの設定を変更できません"
    )
    text = "サービスの契約について質問があります。"
    assert check_garbled(text.encode("cp932").decode("latin-1")) == Verdict(
        True, Garble.CP932_AS_LATIN1, text
    )
    assert check_garbled(text.encode("euc_jp").decode("latin-1")) == Verdict(
        True, Garble.EUCJP_AS_LATIN1, text
    )
    assert check_garbled(text.encode("euc_jp").decode("cp932")) == Verdict(
        True, Garble.EUCJP_AS_CP932, text
    )
    assert check_garbled(text.encode("utf-8").decode("latin-1")) == Verdict(
        True, Garble.UTF8_AS_LATIN1, text
    )
    # Bytes lost to U+FFFD: garbled, but there is nothing exact to offer.
    assert check_garbled(text.encode("cp932").decode("utf-8", "replace")) == Verdict(
        True, Garble.REPLACEMENT, None
    )


def test_the_windows_case_ftfy_misses_is_repaired() -> None:
    assert check_garbled("繧ｵ繝ｼ繝薙せ") == Verdict(True, Garble.UTF8_AS_CP932, "サービス")


def test_a_lossy_reading_is_flagged_without_a_repair() -> None:
    # UTF-8 read as CP932 is seldom lossless: 'い' is E3 81 84, and 84 E3 is no CP932 pair.
    lossy = "ログインできません。".encode().decode("cp932", "replace")
    assert "\ufffd" in lossy
    assert check_garbled(lossy) == Verdict(True, Garble.UTF8_AS_CP932, None)


@pytest.mark.parametrize(("name", "original", "garbled"), LOSSLESS)
def test_a_lossless_wrong_reading_is_repaired_to_the_original(
    name: str, original: str, garbled: str
) -> None:
    verdict = check_garbled(garbled)
    assert verdict.garbled, name
    assert verdict.repaired == original, name


# Without '､' and '･': half-width kana strewn with them can be, byte for byte, EUC-JP Japanese
# read as CP932 ('､｢､熙' is 'あり'), and is taken for it.
@given(st.text(alphabet="ﾃｽﾄｻｰﾋﾞｽｱｲｳｴｵｶｷｸｹｺﾝｧｨｯ｡｢｣ ", max_size=30))
def test_half_width_kana_is_never_flagged(text: str) -> None:
    assert check_garbled(text) == Verdict(False)


HALF_WIDTH_WORDS = [
    "ｻｰﾊﾞｰ",
    "ﾄﾞﾒｲﾝ",
    "ﾒｰﾙ",
    "ﾊﾟｽﾜｰﾄﾞ",
    "ﾛｸﾞｲﾝ",
    "ｴﾗｰ",
    "ﾌﾟﾗﾝ",
    "ｱｶｳﾝﾄ",
    "ｹｲﾔｸ",
    "ｶｲｲﾝ",
    "ﾊﾞﾝｺﾞｳ",
    "ﾍﾝｺｳ",
    "ﾈｶﾞｲﾏｽ",
    "ｱﾘｶﾞﾄｳ",
    "ｺﾞｻﾞｲﾏｽ",
    "ﾃﾞｷﾏｾﾝ",
    "ﾄﾞｳｼﾀﾗ",
    "ｲｲﾃﾞｽｶ",
    "ｶｸﾆﾝ",
    "ｼﾃｸﾀﾞｻｲ",
    "ﾊｲ",
    "ﾜｶﾘﾏｼﾀ",
    "ﾖﾛｼｸ",
    "ｾﾂｿﾞｸ",
    "ｷｬﾝｾﾙ",
]


@given(
    st.lists(st.sampled_from(HALF_WIDTH_WORDS), min_size=1, max_size=8),
    st.sampled_from(["", " ", "､", "･", "､ "]),
    st.sampled_from(["", "｡", "?", "!"]),
)
def test_half_width_kana_words_with_half_width_commas_are_never_flagged(
    words: list[str], separator: str, end: str
) -> None:
    assert check_garbled(separator.join(words) + end) == Verdict(False)


@given(
    st.text(
        alphabet=st.sampled_from(
            "あいうえおかきくけこさしすアイウエオンー漢字契約料金変更確認、。「」！？"
            "ＡＢＣ１２３ｱｲｳ 😊👍🙇 abcXYZ019-_/.:"
        ),
        max_size=80,
    )
)
def test_text_made_of_ordinary_japanese_characters_is_never_flagged(text: str) -> None:
    assert not check_garbled(text).garbled


@given(st.lists(st.sampled_from(JAPANESE), min_size=1, max_size=3).map("".join))
def test_utf8_read_as_latin1_or_cp932_comes_back_exactly(text: str) -> None:
    assert check_garbled(text.encode().decode("latin-1")).repaired == text
    assert check_garbled(text.encode().decode("cp932", "replace")).garbled


def test_a_200_character_japanese_message_is_checked_in_microseconds() -> None:
    message = (JAPANESE[1] * 4)[:200]
    runs = 2000
    seconds = timeit.timeit(lambda: check_garbled(message), number=runs) / runs
    print(f"\ncheck_garbled on 200 Japanese characters: {seconds * 1e6:.2f} µs")
    assert seconds < 50e-6


GOOD = {
    "ja": [
        *JAPANESE,
        "ｻｰﾊﾞｰﾆ ｱｸｾｽ ﾃﾞｷﾏｾﾝ､ﾄﾞｳｼﾀﾗ ｲｲﾃﾞｽｶ｡",
        "ｶﾌﾞｼｷｶﾞｲｼｬ ﾔﾏﾀﾞｼｮｳｼﾞ ﾉ ｹｲﾔｸ ﾃﾞｽ",
        "会員ＩＤはＡＢＣ１２３４５です。よろしくお願いします。",
        "料金は¥1,100（税込）で合っていますか？ 容量は100GB×2です",
        "※至急※ サイトが表示されません！！ 503エラーです",
        "①ログイン ②設定 ③保存 の順で操作しましたが反映されません",
        "サーバーの温度が40°を超えているとアラートが来ました",
        "はい",
        "了解です👍",
        "お疲れ様です。繋がらない状態が続いています…",
        "管理画面→メール設定→転送設定のところです",
        "「パスワードを忘れた場合」のリンクを押しても何も起きません",
        "今月の請求額が先月の2倍になっています。内訳を確認できますか",
    ],
    "ja+en": [
        "Dockerコンテナが起動しません: Error response from daemon: port is already allocated",
        "php.iniのmemory_limitを256Mに変更したいです",
        "ssh user@example.jp -p 2222 で接続すると Permission denied (publickey) になります",
        "https://example.co.jp/お問い合わせ/ が404になります",
    ],
    "zh-Hans": [
        "你好，我的网站打不开了，请帮忙看一下。",
        "请问如何修改域名的DNS解析记录？",
        "我想升级到更高的套餐，价格是多少？",
        "发票抬头需要改成公司名称，谢谢。",
    ],
    "zh-Hant": [
        "您好，我的網站無法連線，請協助檢查。",
        "請問如何變更網域的DNS設定？",
        "帳單金額與合約不符，麻煩確認。",
        "繁體中文的客服時間是幾點到幾點？",
    ],
    "ko": [
        "안녕하세요, 웹사이트 접속이 안 됩니다.",
        "도메인 DNS 설정을 변경하고 싶습니다.",
        "요금제를 변경하려면 어떻게 해야 하나요?",
        "감사합니다! 해결되었습니다 🙏",
    ],
    "en": [
        "Hi, my website has been down since this morning. Can you check?",
        "How do I point my domain's A record to the new server?",
        "I was charged twice this month — could you refund one of the payments?",
        "“Error establishing a database connection” on WordPress after the migration…",
        "Thanks, that fixed it!",
        "ok",
    ],
    "fr": [
        "Bonjour, je n'arrive plus à me connecter à mon espace client. Pouvez-vous m'aider ?",
        "Où puis-je télécharger ma facture du mois dernier ? Merci d'avance.",
        "Le certificat SSL a expiré, le site affiche « Votre connexion n'est pas privée ».",
    ],
    "de": [
        "Guten Tag, meine E-Mails kommen seit gestern nicht mehr an. Grüße aus Köln",
        "Können Sie bitte die Rechnungsadresse ändern? Straße: Hauptstraße 5, 80331 München",
    ],
    "es": [
        "Hola, ¿cómo puedo cambiar la contraseña de mi cuenta de correo?",
        "¡Gracias! El dominio ya funciona. Año nuevo, servidor nuevo.",
    ],
    "it": [
        "Buongiorno, il sito non è raggiungibile da stamattina. Perché?",
        "Vorrei disdire il contratto entro la scadenza: è possibile?",
    ],
    "pt": [
        "Olá, não consigo acessar o painel. As configurações não são salvas.",
        "Qual é o preço do plano anual? Informações sobre a migração, por favor.",
    ],
    "nl": [
        "Hallo, mijn website geeft een foutmelding. Kunt u even meekijken?",
        "Ik wil graag mijn abonnement opzeggen per één januari, dank u wel.",
    ],
    "sv": [
        "Hej! Jag kan inte logga in på kontrollpanelen. Vad gör jag för fel?",
        "Fakturan för året är fel, beloppet ska vara 1 200 kr. Tack på förhand.",
    ],
    "da": [
        "Hej, jeg får en fejl når jeg prøver at uploade filer. Kan I hjælpe?",
        "Jeg vil gerne skifte til en større pakke på ærøskøbing.dk – tak!",
    ],
    "code and logs": [
        "```\nTraceback (most recent call last):\n  File \"app.py\", line 3\nKeyError: 'db'\n```",
        "[Tue Nov 24 10:00:01.123 2026] [php:error] PHP Fatal error: Allowed memory size exhausted",
        "$ curl -I https://example.com\nHTTP/2 502\nserver: nginx",
        "SELECT * FROM users WHERE email = 'taro@example.jp';",
        "Mar 3 12:00:00 web01 postfix/smtp[1234]: status=deferred (Connection timed out)",
        "const msg = `こんにちは、${name}さん`; // 挨拶",
        "2026-11-24T10:00:00+09:00 ERROR 接続がタイムアウトしました host=db01 retry=3",
    ],
    "urls": [
        "https://example.com/wp-admin/post.php?post=42&action=edit",
        "https://ja.wikipedia.org/wiki/文字化け を見ました",
        "http://例え.jp/パス?検索=サーバー",
    ],
    "emoji": [
        "🙂🙂🙂",
        "サイト復活しました🎉🎉 ありがとうございます🙇‍♂️",
        "Thank you!! 👍🏽❤️",
    ],
}

GOOD_MESSAGES = [message for messages in GOOD.values() for message in messages]


def precision_and_recall() -> tuple[float, float, list[str], list[tuple[str, str]]]:
    flagged_good = [message for message in GOOD_MESSAGES if check_garbled(message).garbled]
    missed = [(name, garbled) for name, _, garbled in GARBLED if not check_garbled(garbled).garbled]
    true_positives = len(GARBLED) - len(missed)
    precision = true_positives / (true_positives + len(flagged_good))
    recall = true_positives / len(GARBLED)
    return precision, recall, flagged_good, missed


def test_the_corpus_is_large_enough() -> None:
    assert len(GOOD_MESSAGES) >= 60
    assert len(GARBLED) >= 40


def test_no_good_message_is_flagged_and_nearly_every_garbled_one_is() -> None:
    precision, recall, flagged_good, missed = precision_and_recall()
    print(
        f"\ngood {len(GOOD_MESSAGES)}, garbled {len(GARBLED)}: "
        f"precision {precision:.3f}, recall {recall:.3f}, missed {missed}"
    )
    assert flagged_good == []
    assert precision == 1.0
    assert recall >= 0.95


@pytest.mark.parametrize("message", GOOD_MESSAGES)
def test_a_good_message_is_never_flagged(message: str) -> None:
    assert check_garbled(message) == Verdict(False)


# What the operator is told; readings that lose most bytes can only say "replacement".
EXPECTED_KIND = {
    "utf8_as_cp1252": "utf8_as_latin1",
    "utf8_as_cp1252_replace": "utf8_as_latin1",
    "cp932_as_cp1252": "cp932_as_latin1",
    "cp932_as_cp1252_replace": "cp932_as_latin1",
    "eucjp_as_cp1252": "eucjp_as_latin1",
    "utf8_as_eucjp": "replacement",
    "cp932_as_utf8": "replacement",
    "cp932_as_eucjp": "replacement",
    "eucjp_as_utf8": "replacement",
}


def test_each_garbled_message_is_named_by_its_wrong_reading() -> None:
    named = [(name, str(check_garbled(garbled).kind)) for name, _, garbled in GARBLED]
    assert named == [(name, EXPECTED_KIND.get(name, name)) for name, _, _ in GARBLED]
