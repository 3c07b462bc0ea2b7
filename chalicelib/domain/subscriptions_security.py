"""Webhook signatures and the SSRF rules for webhook URLs. Pure: resolving names is the caller's job."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .subscriptions import MAX_URL_LENGTH

SIGNATURE_HEADER = "Chorale-Signature"
REPLAY_TOLERANCE_SECONDS = 300

# --- signatures -------------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """hex HMAC-SHA256(secret, "<timestamp>.<body>")."""
    message = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hex>` (one v1 per secret: during a rotation the previous secret signs too)."""
    return ",".join([f"t={int(timestamp)}"] + [f"v1={signature(s, timestamp, body)}" for s in secrets])


class BadSignature(ValueError):
    pass


def verify_signature(
    secret: str, header: str, body: bytes, now: float, tolerance: int = REPLAY_TOLERANCE_SECONDS
) -> int:
    """What a receiver does (docs/webhooks.md): check one v1 matches and the timestamp is recent. Returns t."""
    timestamp, candidates = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():  # ("²".isdigit() is true, int("²") raises)
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise BadSignature("malformed signature header")
    if abs(now - timestamp) > tolerance:
        raise BadSignature("timestamp outside the tolerance: possible replay")
    expected = signature(secret, timestamp, body).encode("ascii")
    # Bytes, not str: compare_digest raises TypeError on a non-ASCII str; any such value simply does not match.
    if not any(hmac.compare_digest(expected, c.encode("utf-8", "replace")) for c in candidates):
        raise BadSignature("no signature matches")
    return timestamp


# --- SSRF -------------------------------------------------------------------------------------


class UnsafeUrl(ValueError):
    """A webhook URL we refuse to call; the message says why (shown to the subscriber). `detail` is for the
    platform's logs only: it may name what a host resolves to, which the subscriber must not learn (the
    platform's resolver sees internal DNS names)."""

    def __init__(self, message: str, detail: str | None = None):
        super().__init__(message)
        self.detail = detail or message


def not_public(host: str, detail: str) -> UnsafeUrl:
    """The one refusal of a host name that does not resolve, or resolves to any address that is not public:
    the same words either way, without the addresses (else any structure could read internal DNS with it)."""
    return UnsafeUrl(f"{host} does not resolve to a public address: webhooks are only delivered to public "
                     "addresses", detail=detail)  # fmt: skip


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    local_stack: bool = False  # the local stack also accepts http:// and loopback receivers

    @property
    def schemes(self) -> tuple[str, ...]:
        return ("https", "http") if self.local_stack else ("https",)


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # as written (Host header, TLS server name)
    port: int
    path: str  # path and query, never empty


_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def parse_target(url: str, policy: UrlPolicy) -> Target:
    """Syntax checks before any resolution: scheme, no credentials, a host, a port."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"the URL must be a string of at most {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise UnsafeUrl("the URL contains whitespace or control characters")
    if not url.isascii():  # an HTTP request line is ASCII: such a URL would fail at every delivery
        raise UnsafeUrl(
            "the URL must be ASCII: percent-encode its path and query, and write an international domain name in "
            "its xn-- form"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeUrl(f"unreadable URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in policy.schemes:
        raise UnsafeUrl("only https:// URLs are accepted" if not policy.local_stack else "use http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("credentials in the URL are not accepted; authenticate the sender with the signature")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeUrl("the URL has no host")
    if _ip_literal(host) is None and (len(host) > 253 or not all(0 < len(label) <= 63 for label in host.split("."))):
        raise UnsafeUrl("the host name is not a DNS name (labels of 1 to 63 characters, 253 in all)")
    if parts.fragment:
        raise UnsafeUrl("the URL must not have a fragment")
    if port == 0:
        raise UnsafeUrl("port 0 is not a port")
    literal = _ip_literal(host)
    if literal is None and _NUMERIC_HOST.match(host):
        # 2130706433, 0x7f.1, 0177.0.0.1…: the resolver reads these as addresses; refuse the ambiguity outright.
        raise UnsafeUrl("numeric host names are not accepted; write the address in standard form")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def address_refusal(address: str, policy: UrlPolicy) -> str | None:
    """Why this resolved address must not be called (None: it may be)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address} is not an IP address"
    embedded = None
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    for candidate in (embedded, ip):  # the embedded IPv4 first: its reason is the telling one
        if candidate is None:
            continue
        if candidate.is_loopback:
            if policy.local_stack:
                continue
            return f"{address} is a loopback address"
        if candidate.is_link_local:
            return f"{address} is a link-local address (cloud metadata lives there)"
        if candidate.is_multicast:
            return f"{address} is a multicast address"
        if candidate.is_unspecified:
            return f"{address} is the unspecified address"
        if candidate.is_reserved:
            return f"{address} is a reserved address"
        if candidate.is_private:
            return f"{address} is a private address"
        if not candidate.is_global:
            return f"{address} is not a public address"
    return None


def check_addresses(target: Target, addresses: list[str], policy: UrlPolicy) -> list[str]:
    """Every address the name resolves to must be callable (else DNS rebinding picks the bad one); returns them."""
    literal = _ip_literal(target.host) is not None  # an address the subscriber wrote: its reason discloses nothing
    if not addresses:
        raise not_public(target.host, f"{target.host} does not resolve")
    for address in addresses:
        refusal = address_refusal(address, policy)
        if refusal and literal:
            raise UnsafeUrl(refusal)
        if refusal:
            raise not_public(target.host, f"{target.host} resolves to {', '.join(addresses)}: {refusal}")
    if target.scheme == "http" and not all(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses):
        raise UnsafeUrl("http:// is only accepted for loopback receivers on the local stack; use https://")
    return list(dict.fromkeys(addresses))


def literal_addresses(target: Target) -> list[str] | None:
    """The address when the host is an IP literal (no resolution needed), else None."""
    literal = _ip_literal(target.host)
    return [str(literal)] if literal is not None else None
