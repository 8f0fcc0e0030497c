"""Links as people paste them, and the block list a visitor tries to get around."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from madoguchi.domain.hosts import check_block_list, normalize_host
from madoguchi.domain.links import Link, check_links, find_links

BLOCKED = ["evil.example", "xn--80ak6aa92e.com", "127.0.0.1", "10.0.0.0/8", "[2001:db8::1]"]


def _urls(text: str) -> list[str]:
    return [link.url for link in find_links(text)]


def _linked_text(text: str) -> list[str]:
    return [text[link.span[0] : link.span[1]] for link in find_links(text)]


@pytest.mark.parametrize(
    ("text", "linked", "url"),
    [
        ("see https://example.com/help.", "https://example.com/help", "https://example.com/help"),
        ("Visit https://example.com.", "https://example.com", "https://example.com/"),
        ("(https://example.com), then", "https://example.com", "https://example.com/"),
        ("at http://example.com:8080!", "http://example.com:8080", "http://example.com:8080/"),
        (
            "「https://example.com/設定」を開いて",
            "https://example.com/設定",
            "https://example.com/設定",
        ),
        ("（https://example.com/a）です", "https://example.com/a", "https://example.com/a"),
        ("【http://example.com】", "http://example.com", "http://example.com/"),
        ("https://example.com、次に", "https://example.com", "https://example.com/"),
        ("https://example.comをご覧ください", "https://example.com", "https://example.com/"),
        (
            "(https://en.wikipedia.org/wiki/Foo_(bar))",
            "https://en.wikipedia.org/wiki/Foo_(bar)",
            "https://en.wikipedia.org/wiki/Foo_(bar)",
        ),
        ("詳しくはexample.com/helpへ。", "example.com/helpへ", "https://example.com/helpへ"),
        ("try www.example.jp, thanks", "www.example.jp", "https://www.example.jp/"),
        (
            "example.co.jp:8080/x?y=1#z",
            "example.co.jp:8080/x?y=1#z",
            "https://example.co.jp:8080/x?y=1#z",
        ),
        (
            "ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｃｏｍ／ａ",
            "ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｃｏｍ／ａ",
            "https://example.com/a",
        ),
        (
            "ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍを",
            "ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ",
            "https://www.example.com/",
        ),
        ("https://日本語.jp/です", "https://日本語.jp/です", "https://xn--wgv71a119e.jp/です"),
        ("HTTP://Example.COM:80/A", "HTTP://Example.COM:80/A", "http://example.com/A"),
        ("http://localhost:8000/x", "http://localhost:8000/x", "http://localhost:8000/x"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("http:\\\\example.com\\a", "http:\\\\example.com\\a", "http://example.com/a"),
    ],
)
def test_links_are_found_the_way_people_paste_them(text: str, linked: str, url: str) -> None:
    assert _linked_text(text) == [linked]
    assert _urls(text) == [url]


@pytest.mark.parametrize(
    "text",
    [
        "please edit setup.py and wp-config.php, then index.html",
        "run script.pl and read README.md",
        "v1.2.3, e.g. this, i.e. that, U.S.A.",
        "mail support@example.com",
        "https:とは何ですか",
        "javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "file:///etc/passwd",
        "the IP is 203.0.113.5",
        "http://",
        "http://a..b/",
        "http://example.com:99999/",
    ],
)
def test_things_that_are_not_links_are_not_linked(text: str) -> None:
    assert find_links(text) == []


def test_userinfo_is_dropped_so_the_target_is_what_the_host_says() -> None:
    (link,) = find_links("http://good.example@evil.example/login")
    assert link == Link("http", "evil.example", "http://evil.example/login", (0, 38))


def test_an_idn_homograph_shows_its_punycode_host() -> None:
    # Cyrillic а, р, ӏ, е: looks like apple.com, is not.
    (link,) = find_links("https://аррӏе.com/")
    assert link.host == "xn--80ak6aa92e.com"
    assert link.url == "https://xn--80ak6aa92e.com/"


def _refused(text: str, blocked: list[str] = BLOCKED) -> list[tuple[str, str | None]]:
    return [(r.reason, r.host) for r in check_links(text, blocked)]


@pytest.mark.parametrize(
    "text",
    [
        "http://evil.example/",
        "http://EVIL.EXAMPLE/",
        "http://evil.example./",
        "http://evil.example..",
        "http://sub.deep.evil.example/x",
        "http://good.example@evil.example/",
        "http://good.example:pw@evil.example:8080/",
        "http://evil.example#@good.example",
        "http://%65vil.example/",
        "http://evil%2eexample/",
        "ｈｔｔｐ：／／ｅｖｉｌ．ｅｘａｍｐｌｅ",
        "https://evil。example/",
        "http:/\\evil.example",
        "evil.example/download",
        "ＥＶＩＬ．ｅｘａｍｐｌｅ",
        "詳しくはevil.exampleへ",
        "write to x@evil.example",
        "https://good.example/redirect?to=evil.example",
        "http://good.example,@evil.example/",
    ],
)
def test_a_blocked_host_is_refused_however_it_is_written(text: str) -> None:
    assert _refused(text)[0][0] == "blocked_host"
    assert _refused(text)[0][1] is not None
    assert _refused(text)[0][1].endswith("evil.example")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0x7f.1/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.20.30.40/",
        "server at 10.1.2.3 is",
        "http://[2001:db8:0::1]/",
    ],
)
def test_blocked_ip_addresses_are_refused_in_every_notation(text: str) -> None:
    refused = _refused(text)
    assert [reason for reason, _ in refused] == ["blocked_host"]


def test_the_idn_homograph_on_the_list_is_refused_in_unicode_and_in_punycode() -> None:
    assert _refused("https://аррӏе.com/") == [("blocked_host", "xn--80ak6aa92e.com")]
    assert _refused("аррӏе.com") == [("blocked_host", "xn--80ak6aa92e.com")]
    assert _refused("https://xn--80ak6aa92e.com/", ["аррӏе.com"]) == [
        ("blocked_host", "xn--80ak6aa92e.com")
    ]
    # The real apple.com is a different host: the list blocks only what it names.
    assert _refused("https://apple.com/") == []


@pytest.mark.parametrize(
    "text",
    [
        "http://notevil.example/",
        "http://evil.example.good.example/",
        "http://good.example/evil",
        "http://127.0.0.2/",
        "http://11.0.0.1/",
        "evil.examples.com",
    ],
)
def test_hosts_that_only_look_alike_are_not_refused(text: str) -> None:
    assert _refused(text) == []


def test_a_blocked_host_named_in_another_urls_path_is_refused_too() -> None:
    # A backslash is a slash in http URLs: the link goes to good.example ...
    text = "http://good.example\\@evil.example/"
    assert [link.host for link in find_links(text)] == ["good.example"]
    # ... but the message still names the blocked host, and an operator could follow it.
    assert _refused(text) == [("blocked_host", "evil.example")]


@pytest.mark.parametrize(
    "text",
    [
        "javascript:alert(1)",
        "JavaScript:void(0)",
        "ｊａｖａｓｃｒｉｐｔ：alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "data:,hello",
        "file:///etc/passwd",
        "FILE://server/share",
        "click <a href=javascript:x()>",
    ],
)
def test_unsafe_schemes_are_refused_and_never_linked(text: str) -> None:
    assert [reason for reason, _ in _refused(text, [])] == ["unsafe_scheme"]
    assert all(link.scheme in ("http", "https") for link in find_links(text))


@pytest.mark.parametrize(
    "text",
    ["data: 12 rows, 3 columns", "javascript: it is a language", "the file: report.pdf"],
)
def test_the_words_data_and_file_in_a_sentence_are_not_refused(text: str) -> None:
    assert _refused(text, []) == []


def test_a_refusal_names_what_the_visitor_typed_and_the_rule() -> None:
    (refusal,) = check_links("見て→「http://Sub.Evil.Example./x」", ["evil.example"])
    assert refusal.text == "http://Sub.Evil.Example./x"
    assert (refusal.reason, refusal.host, refusal.rule) == (
        "blocked_host",
        "sub.evil.example",
        "evil.example",
    )


@pytest.mark.parametrize(
    ("entry", "blocks", "passes"),
    [
        ("Evil.Example.", "evil.example", "good.example"),
        ("*.evil.example", "a.evil.example", "evil.examplex"),
        ("https://user@evil.example:8443/path?q", "evil.example", "good.example"),
        ("ｅｖｉｌ．ｅｘａｍｐｌｅ", "evil.example", "good.example"),
        ("203.0.113.0/24", "203.0.113.9", "203.0.114.1"),
        ("2001:db8::1", "[2001:db8::1]", "[2001:db8::2]"),
    ],
)
def test_block_list_entries_are_normalized_like_hosts(entry: str, blocks: str, passes: str) -> None:
    block_list = check_block_list([entry])
    assert block_list.match(blocks) is not None
    assert block_list.match(passes) is None


@pytest.mark.parametrize("entry", ["", "not a host", "http://", "a/b/c", "evil..example"])
def test_a_block_list_entry_that_is_no_host_is_a_clear_config_error(entry: str) -> None:
    with pytest.raises(ValueError, match="is not a host name or IP address"):
        check_block_list([entry])


labels = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
hosts = st.lists(labels, min_size=1, max_size=3).map(".".join).map(lambda h: h + ".com")
paths = st.from_regex(r"(/[A-Za-z0-9._~%-]{0,8}){0,3}", fullmatch=True)
# Text around a link: anything, ended by a space or a Japanese bracket.
around = st.text(max_size=15)


@given(
    host=hosts,
    path=paths,
    before=around,
    after=around,
    scheme=st.sampled_from(["http", "https"]),
)
@settings(max_examples=300)
def test_a_url_in_any_text_is_found_with_its_host(
    host: str, path: str, before: str, after: str, scheme: str
) -> None:
    text = f"{before}「{scheme}://{host}{path}」{after}"
    found = [link for link in find_links(text) if link.span[0] == len(before) + 1]
    assert [link.host for link in found] == [host]
    assert found[0].url.startswith(f"{scheme}://{host}/")


@given(host=hosts, trick=st.sampled_from(["upper", "dot", "userinfo", "fullwidth", "percent"]))
def test_a_blocked_host_is_refused_whatever_the_trick(host: str, trick: str) -> None:
    written = {
        "upper": f"http://{host.upper()}/",
        "dot": f"http://{host}./",
        "userinfo": f"http://good.example@{host}/",
        "fullwidth": "".join(chr(ord(c) + 0xFEE0) for c in f"http://{host}/"),
        "percent": f"http://%{ord(host[0]):02x}{host[1:]}/",
    }[trick]
    assert [r.host for r in check_links(written, [host])] == [host]


@given(text=st.text(max_size=200))
@settings(max_examples=300)
def test_every_link_url_parses_to_the_host_it_reports(text: str) -> None:
    for link in find_links(text):
        parsed = urlsplit(link.url)
        assert parsed.scheme in ("http", "https")
        assert not parsed.username
        assert parsed.netloc.rsplit(":", 1)[0] == link.host or parsed.netloc == link.host
        assert normalize_host(link.host) == link.host


@pytest.mark.parametrize(
    "text",
    [
        "a." * 5000,
        "a-" * 5000 + "a.com",
        "http://" + "a" * 10000,
        "x" * 10000 + ".com" + "/" * 10000,
        "。a" * 5000,
        "1.2." * 3000,
    ],
)
def test_adversarial_messages_are_scanned_quickly(text: str) -> None:
    started = time.perf_counter()
    find_links(text)
    check_links(text, BLOCKED)
    assert time.perf_counter() - started < 1.0
