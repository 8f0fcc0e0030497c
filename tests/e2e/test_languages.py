"""Ten UI languages: the widget and console follow the browser and the switcher, every catalog is
complete and well-formed, and no screen leaks English or overflows a phone (SPEC V13)."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from babel import Locale
from babel.numbers import format_decimal
from playwright.sync_api import BrowserContext, FrameLocator, Page, expect

from clock import FakeClock
from conftest import TEST_CONFIG, DatabaseFactory, LiveServer
from madoguchi.domain.conversation import SUPPORTED_LANGUAGES, EndReason

from .actors import Operator, Visitor

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "src" / "madoguchi" / "locales"
PROTOCOL = ROOT / "docs" / "protocol.md"
STATIC = ROOT / "src" / "madoguchi" / "static"
WIDGET = STATIC / "widget.js"
LANGS = list(SUPPORTED_LANGUAGES)
PLACEHOLDER = re.compile(r"\{(\w+)\}")

# Values that may read exactly as in English: the product's name, unit abbreviations, and words
# these languages use as they are. (Values without three letters, such as "—", need no entry.)
SAME_AS_ENGLISH_EVERYWHERE = {
    "console.product",
    "queue.waited_minutes",
    "queue.waited_hours",
}
SAME_AS_ENGLISH = {
    "de": {"prechat.optional", "presence.label", "context.browser"},
    "it": {"login.password", "context.browser"},
    "nl": {"context.browser"},
    "da": {"composer.send", "context.browser"},
}

# The test desk's topics and departments in all ten languages, keyed by their English name.
NAMES = {
    "Technical support": {
        "it": "Assistenza tecnica",
        "pt": "Suporte técnico",
        "fr": "Support technique",
        "de": "Technischer Support",
        "nl": "Technische ondersteuning",
        "es": "Soporte técnico",
        "sv": "Teknisk support",
        "da": "Teknisk support",
    },
    "Sales": {
        "it": "Ufficio commerciale",
        "pt": "Vendas",
        "fr": "Service commercial",
        "de": "Vertrieb",
        "nl": "Verkoop",
        "es": "Ventas",
        "sv": "Försäljning",
        "da": "Salg",
    },
    "I need technical support": {
        "it": "Ho bisogno di assistenza tecnica",
        "pt": "Preciso de suporte técnico",
        "fr": "J’ai besoin d’une assistance technique",
        "de": "Ich brauche technischen Support",
        "nl": "Ik heb technische ondersteuning nodig",
        "es": "Necesito soporte técnico",
        "sv": "Jag behöver teknisk support",
        "da": "Jeg har brug for teknisk support",
    },
    "I have a question about my plan": {
        "it": "Ho una domanda sul mio piano",
        "pt": "Tenho uma dúvida sobre o meu plano",
        "fr": "J’ai une question sur mon offre",
        "de": "Ich habe eine Frage zu meinem Tarif",
        "nl": "Ik heb een vraag over mijn abonnement",
        "es": "Tengo una pregunta sobre mi plan",
        "sv": "Jag har en fråga om mitt abonnemang",
        "da": "Jeg har et spørgsmål om mit abonnement",
    },
    "I have a billing or invoice question": {
        "it": "Ho una domanda su pagamenti o fatture",
        "pt": "Tenho uma dúvida sobre pagamento ou fatura",
        "fr": "J’ai une question sur la facturation",
        "de": "Ich habe eine Frage zu Zahlung oder Rechnung",
        "nl": "Ik heb een vraag over betaling of facturen",
        "es": "Tengo una pregunta sobre pagos o facturas",
        "sv": "Jag har en fråga om betalning eller faktura",
        "da": "Jeg har et spørgsmål om betaling eller faktura",
    },
    "I have a question about the affiliate program": {
        "it": "Ho una domanda sul programma di affiliazione",
        "pt": "Tenho uma dúvida sobre o programa de afiliados",
        "fr": "J’ai une question sur le programme d’affiliation",
        "de": "Ich habe eine Frage zum Partnerprogramm",
        "nl": "Ik heb een vraag over het partnerprogramma",
        "es": "Tengo una pregunta sobre el programa de afiliados",
        "sv": "Jag har en fråga om affiliateprogrammet",
        "da": "Jeg har et spørgsmål om affiliateprogrammet",
    },
    "I would like to talk to sales": {
        "it": "Vorrei parlare con l’ufficio commerciale",
        "pt": "Quero falar com a equipe de vendas",
        "fr": "Je souhaite parler au service commercial",
        "de": "Ich möchte mit dem Vertrieb sprechen",
        "nl": "Ik wil graag met de verkoopafdeling spreken",
        "es": "Quiero hablar con el equipo comercial",
        "sv": "Jag vill prata med säljavdelningen",
        "da": "Jeg vil gerne tale med salgsafdelingen",
    },
}
# Each browser asks in a regional form where one is common: the region is dropped (pt-BR -> pt).
BROWSER_LOCALE = {
    "ja": "ja-JP",
    "en": "en-US",
    "it": "it-IT",
    "pt": "pt-BR",
    "fr": "fr-FR",
    "de": "de-AT",
    "nl": "nl-NL",
    "es": "es-ES",
    "sv": "sv-SE",
    "da": "da-DK",
}
PHONE = {"width": 390, "height": 844}
TECHNICAL = {
    "ja": "技術的な質問",
    "en": "I need technical support",
    **NAMES["I need technical support"],
}
SALES = {
    "ja": "営業担当へのご相談",
    "en": "I would like to talk to sales",
    **NAMES["I would like to talk to sales"],
}


def catalog(lang: str) -> dict[str, Any]:
    return json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))


def forms(value: str | dict[str, str]) -> list[str]:
    """The texts of a catalog value: itself, or each plural form."""
    return list(value.values()) if isinstance(value, dict) else [value]


def _has_words(value: str | dict[str, str]) -> bool:
    """Whether a value has English to translate: three letters or more outside placeholders
    ("{start} – {end}" has none)."""
    return any(
        len(re.findall(r"[^\W\d_]", "".join(PLACEHOLDER.split(text)[::2]))) >= 3
        for text in forms(value)
    )


def plural_categories(lang: str) -> set[str]:
    """The CLDR plural categories a language's rules use (Babel leaves out "other")."""
    return set(Locale.parse(lang).plural_form.tags) | {"other"}


def polyglot_config() -> str:
    """The test desk with all ten languages enabled and its names in every one of them; sales
    keeps Tokyo office hours, so that at the fake clock's start (18:00 in Tokyo) it is closed."""

    def ten(match: re.Match[str]) -> str:
        key, ja, en = match.group(1), match.group(2), match.group(3)
        assert en in NAMES, f"add the ten-language names of {en!r} to NAMES"
        names = {"ja": ja, "en": en, **NAMES[en]}
        return f"{key} = {{ " + ", ".join(f'{k} = "{v}"' for k, v in names.items()) + " }"

    text, count = re.subn(
        r'^enabled = \["ja", "en"\]$',
        "enabled = [" + ", ".join(f'"{code}"' for code in LANGS) + "]",
        TEST_CONFIG,
        flags=re.M,
    )
    assert count == 1
    text, count = re.subn(r'^routing = "manual"$', '\\g<0>\nhours = "office"', text, flags=re.M)
    assert count == 1
    text += '\n[hours.office]\ntime_zone = "Asia/Tokyo"\nweekdays = ["10:00-18:00"]\n'
    return re.sub(r'^(name|label) = \{ ja = "([^"]*)", en = "([^"]*)" \}$', ten, text, flags=re.M)


@pytest.fixture
def polyglot_server(databases: DatabaseFactory) -> Iterator[LiveServer]:
    """A node whose desk offers all ten languages."""
    live = LiveServer(databases.new("sqlite"), config=polyglot_config(), clock=FakeClock()).start()
    yield live
    live.stop()


# --- the catalogs ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_catalogs_have_the_same_keys_and_placeholders(lang: str) -> None:
    en, words = catalog("en"), catalog(lang)
    assert sorted(set(en) - set(words)) == [], f"{lang} lacks keys English has"
    assert sorted(set(words) - set(en)) == [], f"{lang} has keys English lacks"
    for key, value in en.items():
        wanted = {frozenset(PLACEHOLDER.findall(text)) for text in forms(value)}
        assert len(wanted) == 1, f"en {key}: plural forms with different placeholders"
        for text in forms(words[key]):
            assert text.strip(), (lang, key)
            assert set(PLACEHOLDER.findall(text)) == set(next(iter(wanted))), (lang, key, text)


@pytest.mark.parametrize("lang", LANGS)
def test_plural_values_have_the_forms_cldr_needs(lang: str) -> None:
    """A value may be {"one": …, "other": …}: exactly the categories of the language's CLDR
    rules, chosen by {count}. Where English needs one, so does every language with plurals."""
    en, words, needed = catalog("en"), catalog(lang), plural_categories(lang)
    for key, value in words.items():
        if isinstance(value, dict):
            assert set(value) == needed, (lang, key, sorted(needed))
            assert "count" in PLACEHOLDER.findall(value["other"]), (lang, key)
        elif isinstance(en[key], dict) and len(needed) > 1:
            pytest.fail(f"{lang} {key}: English has plural forms, so {lang} needs {needed}")


@pytest.mark.parametrize("lang", [code for code in LANGS if code != "en"])
def test_catalogs_do_not_copy_english(lang: str) -> None:
    en, words = catalog("en"), catalog(lang)
    allowed = SAME_AS_ENGLISH_EVERYWHERE | SAME_AS_ENGLISH.get(lang, set())
    same = sorted(
        key for key in en if words[key] == en[key] and key not in allowed and _has_words(en[key])
    )
    assert same == [], f"{lang}: untranslated, or add to SAME_AS_ENGLISH if English is right"


def test_catalogs_cover_every_error_code_and_end_reason() -> None:
    text = PROTOCOL.read_text(encoding="utf-8")
    rest = text.split("## REST errors", 1)[1].split("## WebSocket", 1)[0]
    codes = {
        c
        for row in rest.splitlines()
        if row.startswith("| 4") or row.startswith("| 5")
        for c in re.findall(r"`([a-z_]+)`", row.split("|")[2])
    }
    ws = text.split("### WebSocket error codes", 1)[1].split("###", 1)[0]
    codes |= set(re.findall(r"`([a-z_]+)`", ws.split("The socket stays open", 1)[0]))
    assert {"already_assigned", "invalid_credentials", "hello_required"} <= codes
    for lang in LANGS:
        words = catalog(lang)
        assert sorted(c for c in codes if f"error.{c}" not in words) == [], lang
        for reason in EndReason:  # every reason the server can give, so a new one needs words
            assert f"ended.{reason.value}" in words, (lang, reason)
            assert f"reason.{reason.value}" in words, (lang, reason)
        assert "event.assigned" in words
        assert "event.created" in words


def test_the_ui_offers_the_ten_languages() -> None:
    """i18n.js lists each language the server supports once, and each has its catalog."""
    source = (STATIC / "common" / "i18n.js").read_text(encoding="utf-8")
    listed = re.findall(r"\{ code: '([a-z]+)', name: '[^']+' \}", source)
    assert listed == LANGS
    assert sorted(path.stem for path in LOCALES.glob("*.json")) == sorted(LANGS)


def test_the_launcher_labels_match_the_catalogs() -> None:
    """widget.js carries its three labels itself (it fetches nothing before a click), and stays
    small: it loads on every page of the customer's site."""
    source = WIDGET.read_text(encoding="utf-8")
    for lang in LANGS:
        words = catalog(lang)
        match = re.search(rf"\b{lang}: '([^']*)'", source)
        assert match, lang
        assert match.group(1).split("|") == [
            words["widget.open"],
            words["widget.close"],
            words["widget.frame_title"],
        ]
    assert len(gzip.compress(WIDGET.read_bytes(), compresslevel=9)) <= 3 * 1024


# --- the browser -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "launcher", "heading", "lang"),
    [
        ("ja-JP", "チャットで問い合わせる", "メッセージを送る", "ja"),
        ("en-US", "Chat with us", "Send us a message", "en"),
    ],
)
def test_the_widget_follows_the_browser_language(
    live_server: Any,
    visitor_context: Callable[..., BrowserContext],
    locale: str,
    launcher: str,
    heading: str,
    lang: str,
) -> None:
    visitor = Visitor(visitor_context(locale=locale).new_page(), live_server).open_demo()
    visitor.open_chat(launcher)
    expect(visitor.frame.get_by_role("heading", name=heading)).to_be_visible()
    expect(visitor.frame.locator("html")).to_have_attribute("lang", lang)
    # The loader tells the frame the page's own language (the demo page is Japanese).
    frame = visitor.page.locator("[data-madoguchi] iframe")
    expect(frame).to_have_attribute("src", re.compile(r"[?&]site_lang=ja(&|$)"))


def test_a_desk_offers_only_its_own_languages(
    live_server: Any, visitor_context: Callable[..., BrowserContext]
) -> None:
    """The test desk speaks ja and en: a German browser gets its default, and the switcher
    offers no language the desk cannot chat in. (The launcher, which asks the server nothing
    before a click, speaks German until the frame tells it otherwise.)"""
    visitor = Visitor(visitor_context(locale="de-DE").new_page(), live_server).open_demo()
    visitor.open_chat(catalog("de")["widget.open"])
    expect(visitor.frame.get_by_role("heading", name="メッセージを送る")).to_be_visible()
    expect(visitor.frame.locator("#chat-lang option")).to_have_text(["日本語", "English"])
    expect(visitor.page.get_by_role("button", name="チャットを閉じる")).to_be_visible()


def test_the_switcher_changes_and_remembers_the_language(
    live_server: Any, visitor_context: Callable[..., BrowserContext]
) -> None:
    visitor = (
        Visitor(visitor_context(locale="en-US").new_page(), live_server)
        .open_demo()
        .open_chat("Chat with us")
    )
    expect(visitor.frame.get_by_role("button", name="I need technical support")).to_be_visible()
    visitor.frame.get_by_label("Language").select_option("ja")
    expect(visitor.frame.get_by_role("heading", name="メッセージを送る")).to_be_visible()
    expect(visitor.frame.get_by_role("button", name="技術的な質問")).to_be_visible()
    expect(visitor.frame.locator("html")).to_have_attribute("lang", "ja")
    expect(
        visitor.page.get_by_role("button", name="チャットを閉じる")
    ).to_be_visible()  # the launcher follows

    # The frame remembers the choice; the launcher cannot know it before the frame loads.
    visitor.page.reload()
    visitor.open_chat("Chat with us")
    expect(visitor.frame.get_by_role("heading", name="メッセージを送る")).to_be_visible()
    expect(visitor.page.get_by_role("button", name="チャットを閉じる")).to_be_visible()


def test_the_console_follows_the_browser_and_the_switcher(
    live_server: Any, watched_context: Callable[..., BrowserContext]
) -> None:
    page = watched_context(locale="en-US").new_page()
    page.goto(f"{live_server.url}/console")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.get_by_label("Email address").fill("nobody@example.com")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text(catalog("en")["error.invalid_credentials"])
    page.get_by_label("Language").select_option("ja")
    expect(page.get_by_role("button", name="ログイン")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "ja")


def test_plurals_and_numbers_follow_the_ui_language(
    live_server: Any, watched_context: Callable[..., BrowserContext]
) -> None:
    """Plural forms by Intl.PluralRules and digits by Intl.NumberFormat, which agree with Babel's
    CLDR data (what server-side mail and transcripts will use). Numbers have five digits or more:
    Babel ignores CLDR's minimumGroupingDigits, so it writes "1.234" where ICU writes Spanish and
    Italian "1234" (docs/translations.md)."""
    page = watched_context(locale="en-US").new_page()
    page.goto(f"{live_server.url}/console")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    shown = page.evaluate(
        """async (langs) => {
            const i18n = await import('/static/common/i18n.js');
            const out = {};
            for (const lang of langs) {
              await i18n.setLanguage(lang);
              out[lang] = [1, 2, 12345].map((count) => i18n.t('console.unread', { count }));
              out[lang].push(i18n.t('queue.count', { count: 1234567 }));
            }
            return out;
        }""",
        LANGS,
    )
    for lang in LANGS:
        words, rules = catalog(lang), Locale.parse(lang).plural_form
        expected = []
        for count in (1, 2, 12345):
            value = words["console.unread"]
            text = value[rules(count)] if isinstance(value, dict) else value
            expected.append(text.replace("{count}", format_decimal(count, locale=lang)))
        expected.append(
            words["queue.count"].replace("{count}", format_decimal(1234567, locale=lang))
        )
        assert shown[lang] == expected, lang
    assert shown["sv"][:2] == ["1 oläst", "2 olästa"]
    assert shown["de"][2] == "12.345 ungelesen"


def _english(lang: str) -> tuple[list[re.Pattern[str]], list[str]]:
    """What English would look like on screen where `lang` has its own words: each catalog value
    that differs (placeholders match anything), and the desk's English names."""
    en, words = catalog("en"), catalog(lang)
    patterns = []
    for key, value in en.items():
        if words.get(key) == value:
            continue
        for text in forms(value):
            if not _has_words(text):
                continue  # "{start} – {end}": no English to tell
            parts = PLACEHOLDER.split(text)
            regex = "".join(".+" if i % 2 else re.escape(part) for i, part in enumerate(parts))
            patterns.append(re.compile(regex, re.S))
    return patterns, ([] if lang == "en" else list(NAMES))


# Every visible text, accessible name and placeholder in the document, and each visible box that
# is wider than its own box or sticks out of the viewport.
_INSPECT = """() => {
  const texts = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    const hiddenLabel = el.closest('.visually-hidden');
    if (node.textContent.trim() && (hiddenLabel || el.checkVisibility())) texts.push(node.textContent.trim());
  }
  const overflows = [];
  const width = document.documentElement.clientWidth;
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.visually-hidden') || !el.checkVisibility()) continue;
    for (const name of ['aria-label', 'title', 'placeholder']) {
      if (el.getAttribute(name)) texts.push(el.getAttribute(name).trim());
    }
    const box = el.getBoundingClientRect();
    if (!box.width && !box.height) continue;
    const inline = getComputedStyle(el).display === 'inline';
    const what = `${el.tagName.toLowerCase()}.${el.className} "${(el.textContent || '').trim().slice(0, 40)}"`;
    if (!inline && el.scrollWidth > el.clientWidth + 1) overflows.push(`${what} is wider than its box`);
    if (box.left < -1 || box.right > width + 1) overflows.push(`${what} sticks out (${box.left}..${box.right} of ${width})`);
  }
  return { texts, overflows };
}"""


def _check_screen(frame: FrameLocator, lang: str, screen: str) -> None:
    """No English where `lang` has words, no untranslated key, nothing overflowing."""
    seen = frame.locator("html").evaluate(f"(html) => ({_INSPECT})()")
    patterns, names = _english(lang)
    leaks = [
        text
        for text in seen["texts"]
        if any(p.fullmatch(text) for p in patterns) or any(name in text for name in names)
    ]
    raw_keys = [text for text in seen["texts"] if re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", text)]
    assert leaks == [], f"{lang} {screen}: English shown"
    assert raw_keys == [], f"{lang} {screen}: catalog keys shown"
    assert seen["overflows"] == [], f"{lang} {screen}: overflow at {PHONE['width']} px"


@pytest.mark.parametrize("lang", LANGS)
def test_the_widget_in_every_language_at_phone_width(
    polyglot_server: LiveServer, visitor_context: Callable[..., BrowserContext], lang: str
) -> None:
    """Launcher, topics, a closed topic's hours with the offline message form (and its errors),
    the pre-chat form (with its error), the conversation waiting in the queue, the end dialog and
    the ended view, in each language on a 390 px phone: all in that language, none overflowing."""
    words = catalog(lang)
    page = visitor_context(locale=BROWSER_LOCALE[lang], viewport=PHONE).new_page()
    visitor = Visitor(page, polyglot_server).open_demo()
    launcher = page.get_by_role("button", name=words["widget.open"])
    expect(launcher).to_be_visible()
    visitor.open_chat(words["widget.open"])
    frame = visitor.frame
    expect(page.get_by_role("button", name=words["widget.close"])).to_be_visible()
    expect(page.locator("[data-madoguchi] iframe")).to_have_attribute(
        "title", words["widget.frame_title"]
    )
    expect(frame.locator("html")).to_have_attribute("lang", lang)
    expect(frame.get_by_role("heading", name=words["topics.title"])).to_be_visible()
    _check_screen(frame, lang, "topics")

    frame.get_by_role("button", name=re.compile(re.escape(SALES[lang]))).click()
    expect(frame.get_by_role("heading", name=words["hours.closed_title"])).to_be_visible()
    frame.get_by_role("button", name=words["leave.send"]).click()  # nothing filled in
    expect(frame.locator("#leave-email-error")).to_be_visible()
    _check_screen(frame, lang, "hours and offline message form")
    frame.get_by_role("button", name=words["prechat.change_topic"]).click()

    frame.get_by_role("button", name=TECHNICAL[lang]).click()
    expect(frame.get_by_role("heading", name=words["prechat.title"])).to_be_visible()
    frame.get_by_role("button", name=words["prechat.start"]).click()  # no consent yet
    expect(frame.locator(".field-error")).to_have_text(words["error.consent_required"])
    _check_screen(frame, lang, "pre-chat form")

    frame.locator("#prechat-message").fill("Hello 👋 — 1234")
    frame.locator("#prechat-consent").check()
    frame.get_by_role("button", name=words["prechat.start"]).click()
    expect(visitor.composer).to_be_visible()
    expect(frame.locator("li.system--created")).to_be_visible()
    expect(visitor.messages.first).to_contain_text("Hello 👋")
    _check_screen(frame, lang, "conversation")

    frame.get_by_role("button", name=words["chat.end"]).click()
    expect(frame.get_by_role("dialog")).to_be_visible()
    _check_screen(frame, lang, "end dialog")
    frame.get_by_role("dialog").get_by_role("button", name=words["chat.end"]).click()
    expect(frame.locator("li.system--ended .system-text")).to_have_text(words["ended.visitor_left"])
    expect(frame.get_by_role("heading", name=words["chat.ended_title"])).to_be_visible()
    _check_screen(frame, lang, "ended")


def _open_pinned_chat(page: Page, server: LiveServer, heading: str = "メッセージを送る") -> None:
    """The chat frame as the loader opens it on a Japanese page that pins the chat to Japanese:
    lang= from the script's data-lang, site_lang= from the page's <html lang>. (Opened as a page
    of its own: Chromium lets no test-made host page load a script from the loopback server.)"""
    page.goto(f"{server.url}/chat?page=https%3A%2F%2Fexample.jp%2F&lang=ja&site_lang=ja")
    expect(page.get_by_role("heading", name=heading)).to_be_visible()


def test_a_visitor_is_offered_their_language_when_the_site_pins_another(
    polyglot_server: LiveServer, visitor_context: Callable[..., BrowserContext]
) -> None:
    de = catalog("de")
    page = visitor_context(locale="de-DE").new_page()
    _open_pinned_chat(page, polyglot_server)
    notice = page.locator("#lang-notice")
    expect(notice).to_contain_text(de["lang.available"])
    expect(notice).to_have_attribute("lang", "de")  # read aloud in German, not Japanese

    notice.get_by_role("button", name=de["lang.switch"]).click()
    expect(page.get_by_role("heading", name=de["topics.title"])).to_be_focused()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(notice).to_have_count(0)

    # The choice is remembered over the page's pin, and the offer is not made again.
    _open_pinned_chat(page, polyglot_server, de["topics.title"])
    expect(page.locator("#lang-notice")).to_have_count(0)


def test_a_dismissed_language_offer_stays_dismissed(
    polyglot_server: LiveServer, visitor_context: Callable[..., BrowserContext]
) -> None:
    fr = catalog("fr")
    page = visitor_context(locale="fr-CA").new_page()
    _open_pinned_chat(page, polyglot_server)
    notice = page.locator("#lang-notice")
    expect(notice).to_contain_text(fr["lang.available"])
    notice.get_by_role("button", name=fr["lang.dismiss"]).click()
    expect(notice).to_have_count(0)
    expect(page.get_by_role("heading", name="メッセージを送る")).to_be_focused()

    _open_pinned_chat(page, polyglot_server)
    expect(page.locator("#lang-notice")).to_have_count(0)


def test_no_offer_where_the_page_is_in_the_browser_language(
    polyglot_server: LiveServer, visitor_context: Callable[..., BrowserContext]
) -> None:
    """A Japanese browser on the Japanese page, and a German one whose chat follows it: nothing
    to offer."""
    page = visitor_context(locale="ja-JP").new_page()
    _open_pinned_chat(page, polyglot_server)
    expect(page.locator("#chat-lang")).to_have_value("ja")
    expect(page.locator("#lang-notice")).to_have_count(0)
    page = visitor_context(locale="de-DE").new_page()
    page.goto(f"{polyglot_server.url}/chat?site_lang=ja")
    expect(page.get_by_role("heading", name=catalog("de")["topics.title"])).to_be_visible()
    expect(page.locator("#lang-notice")).to_have_count(0)


def test_the_operator_reads_system_messages_in_the_visitor_language(
    polyglot_server: LiveServer,
    visitor_context: Callable[..., BrowserContext],
    watched_context: Callable[..., BrowserContext],
) -> None:
    """The console shows each chat's language; one chat's system lines can be shown as the
    visitor reads them, while the operator's own screen stays in Japanese."""
    ja, de = catalog("ja"), catalog("de")
    account = polyglot_server.create_operator(name="佐藤", languages=["ja", "de"])
    console = watched_context(locale="ja-JP", viewport={"width": 1280, "height": 800}).new_page()
    operator = Operator(console, polyglot_server, account).login().go_online()

    visitor = Visitor(visitor_context(locale="de-DE").new_page(), polyglot_server).open_demo()
    visitor.open_chat(de["widget.open"]).start(
        TECHNICAL["de"], message="Guten Tag", start=de["prechat.start"]
    )
    expect(operator.messages.first).to_contain_text("Guten Tag")
    expect(operator.pane.locator(".pane-topic")).to_contain_text("ドイツ語")
    created = operator.pane.locator("li.system--created")
    expect(created.locator(".system-text")).to_have_text("チャットを開始しました（技術的な質問）")

    toggle = operator.pane.get_by_label("システムメッセージをお客様の言語（ドイツ語）で表示")
    toggle.check()
    expect(created.locator(".system-text")).to_have_text(
        "Chat gestartet: Ich brauche technischen Support"
    )
    expect(created).to_have_attribute("lang", "de")
    expect(operator.pane.get_by_role("button", name=ja["console.end_chat"])).to_be_visible()

    operator.pane.get_by_label(ja["console.end_reason"]).select_option("resolved")
    operator.pane.get_by_role("button", name=ja["console.end_chat"]).click()
    ended = operator.pane.locator("li.system--ended .system-text")
    expect(ended).to_have_text(de["ended.resolved"])  # what the visitor read
    expect(visitor.frame.locator("li.system--ended .system-text")).to_have_text(
        de["ended.resolved"]
    )
    toggle.uncheck()
    expect(ended).to_have_text("チャット終了：解決済み")
