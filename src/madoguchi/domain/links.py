"""Links in a message, the way people paste them, and the ones to refuse (P9).

``find_links`` says what may become clickable: http(s) URLs and bare domains with a familiar
top-level domain (``example.com/path``, ``www.example.jp``), in English or in Japanese text
without spaces, where a URL ends at a closing bracket or ideographic punctuation
(「https://example.com/設定」). Full-width input (``ｈｔｔｐｓ：／／…``, as IMEs type it) is read
as its ASCII equivalent. Each link's ``url`` is rebuilt from the parsed parts (scheme,
normalized host, port, path) without userinfo, so what a browser opens is exactly ``host``.

``check_links`` says what to refuse. It looks wider than ``find_links``: every host-like token,
including bare domains with any top-level domain, e-mail domains, hosts inside another URL's
query (``?next=evil.example``) and bare IPv4 addresses, is compared with the block list, since
a blocked host must not get through by being written so that it is not linked. ``javascript:``,
``data:``, ``vbscript:`` and ``file:`` URIs are never links; an attempt at one is refused.

Known limit: Japanese glued to a URL's path without a bracket, space or punctuation
(``https://example.com/faqをご覧ください``) stays in the path, since paths may be Japanese too;
the host, which is what blocking looks at, is still right.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from madoguchi.domain.hosts import BlockList, check_block_list, normalize_host

RefusalReason = Literal["blocked_host", "unsafe_scheme"]

# Where a URL ends, besides white space: characters a URL never contains unescaped, and the
# brackets and punctuation Japanese text closes a URL with.
_ENDS = '<>"`{}|^「」『』【】〈〉《》〔〕〘〙〚〛、。“”‘’…'
# Characters of a domain label in a bare domain: letters and digits of any script but the
# CJK ones, since Japanese runs into a domain without a space ("詳しくはexample.comへ").
_LABEL = r"[^\W_\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

_SCHEME_URL = re.compile(
    r"(?<![A-Za-z0-9+.\-])(https?):[/\\]*"  # browsers skip any run of slashes and backslashes
    # The authority; 。 between labels is a dot. Sentence punctuation is not taken, although a
    # browser would take it (into a host that then fails): "(https://example.com)," means the
    # host example.com.
    rf"((?:[^\s/\\?#,;!()'*{_ENDS}]|。(?=[A-Za-z0-9]))*)"
    rf"([/\\?#][^\s{_ENDS}]*)?",
    re.IGNORECASE,
)
_BARE_HOST = re.compile(
    rf"(?<![-._。])(?<!{_LABEL})"  # a domain starts at a label's start, or it is re-scanned
    rf"((?:{_LABEL}+(?:-+{_LABEL}+)*(?:\.|。(?={_LABEL})))+"
    rf"(?:[a-z]{{2,63}}|xn--[a-z0-9-]{{1,59}}))(?![-_])(?!{_LABEL})"
    rf"(?::(\d{{1,5}}))?"
    rf"([/?#][^\s{_ENDS}]*)?",
    re.IGNORECASE,
)
_BARE_IPV4 = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(?!\w|\.\d)")
_UNSAFE = re.compile(
    r"(?<![A-Za-z0-9+.\-])(javascript|vbscript):\S"
    r"|(?<![A-Za-z0-9+.\-])data:(?:[\w.+-]+/[\w.+-]+|[;,])"  # data:text/html…, data:,…
    r"|(?<![A-Za-z0-9+.\-])file:[/\\]",
    re.IGNORECASE,
)
_TRAILING = ".,:;!?'*"

# Top-level domains a bare domain needs to become a link. Without a scheme, "setup.py" or
# "config.pl" are file names, and "user.name" code: those ccTLDs and gTLDs are left out (a
# URL with a scheme or "www." is linked whatever its top-level domain).
_COUNTRY_CODES = (
    "ad ae af ag ai al ao ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs bt"
    " bw by bz ca cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee"
    " eg er es et eu fi fj fk fm fo fr ga gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy"
    " hk hm hn hr ht hu ie il io iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la"
    " lb lc li lk lr ls lt lu lv ly ma mc me mg mh mm mn mo mp mq mr mt mu mv mw mx my mz"
    " na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pn pr pt pw py qa re ro ru rw"
    " sa sb sc sd se sg si sk sl sm sn sr ss st sv sx sy sz tc td tf tg th tj tk tl tm tn to"
    " tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw in"
)
_GENERIC = (
    "com net org info biz edu gov mil int app dev page xyz online site shop store tech blog"
    " cloud tokyo osaka nagoya yokohama okinawa ryukyu kyoto jobs mobi pro travel news live"
    " io ai me tv cc"
)
_FILE_LIKE = {"py", "sh", "md", "rs", "so", "pl", "pm", "ps", "mk", "ml", "am", "ac", "id"}
LINKABLE_TLDS = frozenset((_COUNTRY_CODES + " " + _GENERIC).split()) - _FILE_LIKE


@dataclass(frozen=True)
class Link:
    """A link found in a message; ``span`` indexes the original text."""

    scheme: str  # "http" or "https"; "https" for a bare domain
    host: str  # normalized: lower-case ASCII, punycode, no trailing dot ("[::1]" for IPv6)
    url: str  # what to open: rebuilt from the parts, no userinfo
    span: tuple[int, int]
    bare: bool = False  # typed without a scheme


@dataclass(frozen=True)
class Refusal:
    """Why a message cannot go out as it is; ``text`` is what the sender typed."""

    reason: RefusalReason
    text: str
    span: tuple[int, int]
    host: str | None = None
    rule: str | None = None  # the block-list entry that matched


def find_links(text: str) -> list[Link]:
    """The http(s) links and bare domains in ``text``, in order."""
    folded, origin = _fold(text)
    links = list(_scheme_links(folded, origin))
    taken = [link.span for link in links]
    for candidate in _bare_links(folded, origin):
        before = folded[candidate.start - 1] if candidate.start else " "
        tld = candidate.link.host.rsplit(".", 1)[-1]
        linkable = tld in LINKABLE_TLDS or candidate.link.host.startswith("www.")
        if before in "@/\\:=" or not linkable or _overlaps(candidate.link.span, taken):
            continue  # an e-mail address, part of another URL, or a file name
        links.append(candidate.link)
    return sorted(links, key=lambda link: link.span)


def check_links(text: str, blocked_hosts: Iterable[str] | BlockList) -> list[Refusal]:
    """The links in ``text`` to refuse: blocked hosts (and their subdomains), unsafe schemes."""
    block_list = (
        blocked_hosts if isinstance(blocked_hosts, BlockList) else check_block_list(blocked_hosts)
    )
    folded, origin = _fold(text)
    refusals: dict[tuple[tuple[int, int], str], Refusal] = {}
    hosts: list[Link] = [
        *_scheme_links(folded, origin),
        *(candidate.link for candidate in _bare_links(folded, origin, into_paths=True)),
        *_bare_ipv4(folded, origin),
    ]
    for link in hosts:
        rule = block_list.match(link.host)
        inside = [key[0] for key in refusals if key[0] != link.span]
        if rule is not None and not _within(link.span, inside):
            start, end = link.span
            refusal = Refusal("blocked_host", text[start:end], link.span, link.host, rule)
            refusals.setdefault((link.span, link.host), refusal)
    for match in _UNSAFE.finditer(folded):
        span = _original_span(origin, match.start(), _url_end(folded, match.start()))
        refusals.setdefault((span, ""), Refusal("unsafe_scheme", text[span[0] : span[1]], span))
    return sorted(refusals.values(), key=lambda refusal: refusal.span)


@dataclass(frozen=True)
class _Candidate:
    link: Link
    start: int  # in the folded text


def _scheme_links(folded: str, origin: list[int]) -> Iterator[Link]:
    for match in _SCHEME_URL.finditer(folded):
        scheme = match.group(1).lower()
        authority, rest = _cut_at_japanese(match.group(2), match.group(3) or "")
        if not rest:
            authority = authority.rstrip(".:")  # "… at https://example.com."
        userless = authority.rpartition("@")[2]
        parsed = _host_and_port(userless)
        if parsed is None:
            continue
        host, port = parsed
        if "." not in host and host.startswith("xn--"):
            continue  # "https:とは": a word about URLs, not one
        path = _trim(rest)
        end = match.start(2) + len(authority) + len(path)
        default_port = {"http": 80, "https": 443}[scheme]
        url = _url(scheme, host, None if port == default_port else port, path)
        yield Link(scheme, host, url, _original_span(origin, match.start(), end))


def _bare_links(
    folded: str, origin: list[int], *, into_paths: bool = False
) -> Iterator[_Candidate]:
    """Bare domains; with ``into_paths``, also those inside the path found with another."""
    position = 0
    while match := _BARE_HOST.search(folded, position):
        position = match.end(1) if into_paths else match.end()
        host = normalize_host(match.group(1))
        port = int(match.group(2)) if match.group(2) else None
        if host is None or (port is not None and port > 65535):
            continue
        path = _trim(match.group(3) or "")
        end = match.end(2) if match.group(2) else match.end(1)
        url = _url("https", host, port, path)
        span = _original_span(origin, match.start(), end + len(path))
        yield _Candidate(Link("https", host, url, span, bare=True), match.start())


def _bare_ipv4(folded: str, origin: list[int]) -> Iterator[Link]:
    for match in _BARE_IPV4.finditer(folded):
        host = normalize_host(match.group(1))
        if host is not None:
            span = _original_span(origin, match.start(), match.end())
            yield Link("https", host, f"https://{host}/", span, bare=True)


def _cut_at_japanese(authority: str, rest: str) -> tuple[str, str]:
    """Japanese right after a URL's last label (or port) ends the URL.

    "https://example.comをご覧ください" means example.com; an IDN label may be Japanese,
    but then a dot follows it ("https://日本語.jp").
    """
    for index in range(1, len(authority)):
        previous = authority[index - 1]
        after_label = previous.isascii() and previous.isalnum()
        if after_label and _CJK.match(authority[index]) and "." not in authority[index:]:
            return authority[:index], ""
    return authority, rest


def _host_and_port(authority: str) -> tuple[str, int | None] | None:
    if authority.startswith("["):
        raw_host, _, after = authority.partition("]")
        raw_host += "]"
        if after and not after.startswith(":"):
            return None
        raw_port = after[1:]
    else:
        raw_host, _, raw_port = authority.partition(":")
    if raw_port and not (raw_port.isascii() and raw_port.isdigit() and int(raw_port) < 65536):
        return None
    host = normalize_host(raw_host.replace("。", ".")) if raw_host else None
    if host is None:
        return None
    return host, int(raw_port) if raw_port else None


def _trim(path: str) -> str:
    """A path without the bracket that closes around it or the punctuation that ends a sentence.

    A closing bracket with no opening one in the path is the text's ("(see https://x/a)" and
    the full-width "（…）" of Japanese), a balanced one the URL's ("…/wiki/Foo_(bar)").
    """
    depth = {")": 0, "]": 0}
    for index, char in enumerate(path):
        if char in "([":
            depth[")" if char == "(" else "]"] += 1
        elif char in ")]":
            depth[char] -= 1
            if depth[char] < 0:
                path = path[:index]
                break
    return path.rstrip(_TRAILING)


def _url(scheme: str, host: str, port: int | None, path: str) -> str:
    # Backslashes are slashes in http(s) URLs (URL Standard); written out, so no parser differs.
    path = path.replace("\\", "/")
    if not path.startswith("/"):
        path = "/" + path
    authority = host if port is None else f"{host}:{port}"
    return f"{scheme}://{authority}{path}"


def _url_end(folded: str, start: int) -> int:
    match = re.compile(rf"[^\s{_ENDS}]*").match(folded, start)
    return start + len(_trim(match.group())) if match else start


def _fold(text: str) -> tuple[str, list[int]]:
    """NFKC, character by character, and where each folded character came from.

    Full-width Latin letters, digits, "：", "／" and "．" become ASCII, so ｈｔｔｐｓ：／／…
    reads as a URL; the map turns spans in the folded text back into the original's.
    """
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        normal = unicodedata.normalize("NFKC", char) if ord(char) > 0x7F else char
        folded.append(normal)
        origin.extend([index] * len(normal))
    origin.append(len(text))
    return "".join(folded), origin


def _original_span(origin: list[int], start: int, end: int) -> tuple[int, int]:
    return origin[start], (origin[end - 1] + 1 if end > start else origin[start])


def _within(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in spans)


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)
