"""What a visitor wrote in a reply by email: decoded, without the quote and the signature.

Pure: bytes of a message in, text out. Mail clients quote the mail they answer below a header
line ("On … wrote:", Japanese clients' "2026年11月22日(日) 10:00 佐藤 <…>:", Outlook's
"-----Original Message-----" or a "From:" block) and add a signature after "-- "; the chat
wants only the new text. docs/email.md ("Replies") lists every rule.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from html.parser import HTMLParser

# Mail labelled ISO-2022-JP or Shift_JIS often carries the vendors' extensions (①, ㈱, NEC and
# IBM rows): the supersets read them, and read plain ISO-2022-JP / Shift_JIS the same.
_SUPERSETS = {
    "iso-2022-jp": ("iso2022_jp_2004", "iso2022_jp_ext", "iso2022_jp_2"),
    "shift_jis": ("cp932", "shift_jis"),
    "sjis": ("cp932",),
    "x-sjis": ("cp932",),
    "euc-jp": ("euc_jis_2004", "euc_jp"),
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "ks_c_5601-1987": ("cp949",),
}


_ESCAPE = re.compile(rb"\x1b(\$@|\$B|\(B|\(J|\(I)")


def _jis_pair_to_sjis(j1: int, j2: int) -> bytes:
    s1 = ((j1 - 0x21) >> 1) + 0x81
    if s1 > 0x9F:
        s1 += 0x40
    s2 = j2 + (0x1F if j2 < 0x60 else 0x20) if j1 & 1 else j2 + 0x7E
    return bytes((s1, s2))


def decode_iso2022jp(payload: bytes) -> str:
    """ISO-2022-JP as Windows and most Japanese clients write it (CP50220): the JIS X 0208
    rows, with the NEC and IBM extensions (①, ㈱, ⅰ …) that Python's iso2022_jp codecs refuse,
    and half-width katakana. Raises UnicodeDecodeError on anything else."""
    out: list[str] = []
    mode = b"(B"
    position = 0
    for match in [*_ESCAPE.finditer(payload), None]:
        end = match.start() if match else len(payload)
        chunk = payload[position:end]
        if mode in (b"$@", b"$B"):
            if len(chunk) % 2:
                raise UnicodeDecodeError("iso-2022-jp", payload, position, end, "odd length")
            sjis = b"".join(
                _jis_pair_to_sjis(chunk[i], chunk[i + 1]) for i in range(0, len(chunk), 2)
            )
            out.append(sjis.decode("cp932"))
        elif mode == b"(I":
            out.append(bytes(byte | 0x80 for byte in chunk).decode("cp932"))
        else:
            if any(byte > 0x7F or byte == 0x1B for byte in chunk):
                raise UnicodeDecodeError("iso-2022-jp", payload, position, end, "not 7-bit")
            out.append(chunk.decode("ascii"))
        if match:
            mode = match.group(1)
            position = match.end()
    return "".join(out)


def _decode(payload: bytes, charset: str | None) -> str:
    if (charset or "").lower() in ("iso-2022-jp", "csiso2022jp"):
        try:
            return decode_iso2022jp(payload)
        except UnicodeDecodeError:
            pass  # ISO-2022-JP-2 or -3 escapes: the codecs below know them
    names = (*_SUPERSETS.get((charset or "").lower(), ()), charset or "utf-8")
    for name in names:
        try:
            return payload.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="replace")


class _Text(HTMLParser):
    """The visible text of an HTML part: blocks become lines, quotes are dropped."""

    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "pre"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("blockquote", "style", "script", "head"):
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("blockquote", "style", "script", "head") and self._skip:
            self._skip -= 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The visible text of HTML, quoted blocks left out."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def body_text(raw: bytes) -> str:
    """The message's text: its text/plain part (else its HTML as text), decoded by its charset
    and transfer encoding (7bit, quoted-printable, base64)."""
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _part_text(part)
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return text


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return _decode(payload, part.get_content_charset())


# -- what is not the new text -----------------------------------------------------------------

_QUOTE_HEADERS = [
    re.compile(p)
    for p in (
        r"^On .{4,200} wrote:\s*$",  # Gmail, Apple Mail, Thunderbird (en)
        r"^Le .{4,200} a écrit\s?:\s*$",
        r"^Am .{4,200} schrieb .{1,200}:\s*$",
        r"^El .{4,200} escribió:\s*$",
        r"^Il .{4,200} ha scritto:\s*$",
        r"^Em .{4,200} escreveu:\s*$",
        r"^Op .{4,200} schreef .{1,200}:\s*$",
        r"^Den .{4,200} skrev .{1,200}:\s*$",
        # Japanese clients: "2026年11月22日(日) 10:00 佐藤 <sato@example.com>:", "2026/11/22 10:00、
        # … のメール:", "… wrote:", "…さんは書きました:"
        r"^\d{4}年\s*\d{1,2}月\s*\d{1,2}日.{0,200}[:：]\s*$",
        r"^\d{4}[/-]\d{1,2}[/-]\d{1,2}.{0,200}<[^>\s]+@[^>\s]+>.{0,40}[:：]\s*$",
        r"^.{1,200}(さんは書きました|のメッセージ|のメール|wrote)\s*[:：]\s*$",
        r"^-{2,}\s*(Original Message|Forwarded message|元のメッセージ|転送されたメッセージ)"
        r"\s*-{2,}\s*$",
        r"^_{10,}\s*$",  # Outlook's rule above its "From:" block
    )
]
_HEADER_BLOCK = re.compile(r"^(From|差出人|送信者|Von|De|Da|Van|Från|Fra)\s*[:：]\s*\S")
_NEXT_HEADER = re.compile(
    r"^(Sent|Date|To|Subject|送信日時|日時|宛先|件名|Gesendet|Envoyé)\s*[:：]"
)
_QUOTED = re.compile(r"^\s*[>＞]")
_SIGNATURE = re.compile(r"^--\s?$")
_SENT_FROM = re.compile(
    r"^(Sent from my .{1,40}|Get Outlook for .{1,40}|iPhoneから送信|iPadから送信|"
    r"Android ?から送信|Outlook for .{1,40} を入手)\s*$"
)


def _cut_at(lines: list[str]) -> int:
    """Where the quoted mail begins: the first quote header or header block, else the end."""
    for index, line in enumerate(lines):
        text = line.strip()
        if any(p.match(text) for p in _QUOTE_HEADERS):
            return index
        # "On Sun, 22 Nov 2026 at 10:00, Sato <sato@example.com>\nwrote:" (wrapped)
        wrapped = index + 1 < len(lines) and lines[index + 1].strip() in ("wrote:", "a écrit :")
        if wrapped and text.startswith(("On ", "Le ")):
            return index
        if _HEADER_BLOCK.match(text) and any(
            _NEXT_HEADER.match(following.strip()) for following in lines[index + 1 : index + 5]
        ):
            return index
    return len(lines)


def strip_reply(text: str) -> str:
    """The new text of a reply: the quoted mail, "> " lines and the signature removed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = lines[: _cut_at(lines)]
    for index, line in enumerate(lines):
        if _SIGNATURE.match(line):
            lines = lines[:index]
            break
    kept = [line.rstrip() for line in lines if not _QUOTED.match(line)]
    while kept and (not kept[-1].strip() or _SENT_FROM.match(kept[-1].strip())):
        kept.pop()
    while kept and not kept[0].strip():
        kept.pop(0)
    return "\n".join(kept)


def reply_text(raw: bytes) -> str:
    """What the visitor wrote in the reply ``raw`` (the whole message, headers and body)."""
    return strip_reply(body_text(raw))


def message_id(raw: bytes) -> str | None:
    """The Message-ID header of ``raw``, if it has one."""
    message = message_from_bytes(raw, policy=policy.default)
    value = message.get("Message-ID")
    return str(value).strip() if value else None
