"""Host names as a browser resolves them, and the block list of known-bad hosts (P9).

A block list is only as good as its comparison. A visitor who wants a blocked host through
writes it the way a browser still understands but a string comparison does not:
``EVIL.com.``, ``ｅｖｉｌ．ｃｏｍ``, ``%65vil.com``, ``evil。com``, ``xn--…`` for an IDN written
in Unicode (or the other way round), ``2130706433`` or ``0x7f.1`` for ``127.0.0.1``,
``[::ffff:127.0.0.1]``. ``normalize_host`` follows the WHATWG URL Standard's host parser
(percent-decoding, UTS #46 mapping to punycode, IPv4 numbers in every base, IPv6) so both sides
of the comparison are what a browser would connect to.

UTS #46 comes from the ``idna`` package (it is what the URL Standard specifies; Python's
built-in ``idna`` codec is IDNA 2003, which maps ``ß`` to ``ss`` where browsers no longer do).
A label the strict IDNA 2008 rules refuse is still punycoded as it stands, because browsers
are lenient there too, and an attacker must not be able to dodge the list by being invalid.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

import idna

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Code points a domain may not contain once decoded (URL Standard, "forbidden domain code
# point"), plus the dot-like ones UTS #46 leaves alone.
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f#%/:<>?@\[\\\]^|]")
_HEX_NUMBER = re.compile(r"0[xX][0-9a-fA-F]*")


def normalize_host(host: str) -> str | None:
    """The host as a browser would resolve it, lower-case ASCII; None if a browser would fail.

    Domains come back punycoded without trailing dots (``bücher.example.`` →
    ``xn--bcher-kva.example``), IPv4 in dotted decimal, IPv6 compressed in brackets.
    """
    if host.startswith("[") and host.endswith("]"):
        return _normalize_ipv6(host[1:-1])
    try:
        decoded = unquote_to_bytes(host).decode("utf-8")
    except UnicodeDecodeError:
        return None
    ascii_host = _domain_to_ascii(decoded)
    if ascii_host is None:
        return None
    if _ends_in_a_number(ascii_host):
        address = _parse_ipv4(ascii_host)
        return None if address is None else str(address)
    domain = ascii_host.rstrip(".")
    if not domain or "" in domain.split("."):
        return None
    return domain


def _domain_to_ascii(domain: str) -> str | None:
    """UTS #46 processing (nontransitional, as browsers do), leniently."""
    try:
        mapped = idna.uts46_remap(domain, std3_rules=False, transitional=False)
    except idna.IDNAError:
        # A code point UTS #46 disallows: fold the way it mostly would, and carry on.
        mapped = unicodedata.normalize("NFKC", domain).casefold()
    labels = mapped.replace("。", ".").split(".")
    ascii_labels = [_label_to_ascii(label) for label in labels]
    result = ".".join(ascii_labels)
    if _FORBIDDEN.search(result):
        return None
    return result


def _label_to_ascii(label: str) -> str:
    if label.isascii():
        return label.lower()
    try:
        return idna.alabel(label).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return "xn--" + label.encode("punycode").decode("ascii")


def _ends_in_a_number(host: str) -> bool:
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    last = labels[-1]
    return (last != "" and last.isdigit() and last.isascii()) or bool(_HEX_NUMBER.fullmatch(last))


def _parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The URL Standard's IPv4 parser: 1-4 parts, each decimal, octal (0…) or hex (0x…)."""
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        return None
    numbers = [_ipv4_number(part) for part in parts]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        return None
    address = values[-1]
    for index, value in enumerate(values[:-1]):
        address += value * 256 ** (3 - index)
    return ipaddress.IPv4Address(address)


def _ipv4_number(part: str) -> int | None:
    if part == "":
        return None
    digits, base = part, 10
    if part[:2] in ("0x", "0X"):
        digits, base = part[2:], 16
    elif len(part) > 1 and part[0] == "0":
        digits, base = part[1:], 8
    if digits == "":
        return 0
    try:
        return int(digits, base) if digits.isascii() and digits.isalnum() else None
    except ValueError:
        return None


def _normalize_ipv6(text: str) -> str | None:
    try:
        return f"[{ipaddress.IPv6Address(text).compressed}]"
    except ValueError:
        return None


@dataclass(frozen=True)
class BlockList:
    """Known-bad hosts: a domain blocks itself and every subdomain; IPs and networks too."""

    domains: frozenset[str]
    networks: tuple[IPNetwork, ...]

    def match(self, host: str) -> str | None:
        """The entry that blocks a normalized ``host`` (see ``normalize_host``), or None."""
        address = _address(host)
        if address is not None:
            for network in self.networks:
                if address.version == network.version and address in network:
                    return str(network)
            return None
        labels = host.split(".")
        for start in range(len(labels)):
            suffix = ".".join(labels[start:])
            if suffix in self.domains:
                return suffix
        return None


def check_block_list(entries: Iterable[str]) -> BlockList:
    """A block list from config entries; ValueError naming the first entry that is no host.

    An entry is a domain (``evil.example``; ``*.evil.example`` and ``.evil.example`` mean
    the same, since subdomains are always blocked), an IP address, a network in CIDR form, or a
    URL, of which the host is kept (threat feeds list URLs).
    """
    domains: set[str] = set()
    networks: list[IPNetwork] = []
    for entry in entries:
        text = _host_of_entry(entry.strip()).removeprefix("*.").lstrip(".")
        network = _network(text)
        if network is not None:
            networks.append(network)
            continue
        host = normalize_host(text) if text else None
        if host is None:
            raise ValueError(f"blocked host {entry!r} is not a host name or IP address")
        address = _address(host)
        if address is not None:
            networks.append(ipaddress.ip_network(address))
        else:
            domains.add(host)
    return BlockList(frozenset(domains), tuple(networks))


def _host_of_entry(entry: str) -> str:
    """The host part of a URL entry; other entries as they are."""
    if "://" not in entry:
        return entry
    authority = re.split(r"[/?#\\]", entry.split("://", 1)[1], maxsplit=1)[0]
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.partition(":")[0]


def _network(text: str) -> IPNetwork | None:
    """An IP network (203.0.113.0/24) or address (2001:db8::1), or None if it is neither."""
    try:
        return ipaddress.ip_network(text.strip("[]"), strict=False)
    except ValueError:
        return None


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a normalized host is, if it is one; IPv4-mapped IPv6 as IPv4."""
    if host.startswith("["):
        v6 = ipaddress.IPv6Address(host[1:-1])
        return v6.ipv4_mapped or v6
    try:
        return ipaddress.IPv4Address(host)
    except ValueError:
        return None
