"""Identifiers: time-ordered, URL-safe, unguessable (ULID layout: 48-bit ms time + 80 random bits), or derived
from what a client sent when a retry must find its first attempt's id (derived_id)."""

from __future__ import annotations

import hashlib
import os
import re
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_PATTERN = re.compile(r"\A[0-9A-HJKMNP-TV-Z]{26}\Z")  # \Z: no trailing newline either


def new_id(now_ms: int | None = None) -> str:
    """A 26-character ULID: lexicographic order is creation order."""
    value = ((now_ms if now_ms is not None else time.time_ns() // 1_000_000) << 80) | int.from_bytes(
        os.urandom(10), "big"
    )
    return base32(value, 26)


def derived_id(purpose: str, owner: str, client_key: str) -> str:
    """A ULID-shaped id that is a function of (purpose, owner, client's key): 128 bits of their SHA-256, so a retry
    with the same Idempotency-Key targets the same object. It has no creation time (not time-ordered). Knowing an
    owner's SIRET and key gives its id, but an id is not a credential: every read checks the caller is a party."""
    digest = hashlib.sha256("\0".join((purpose, owner, client_key)).encode()).digest()  # NUL: no header holds one
    return base32(int.from_bytes(digest[:16], "big"), 26)  # 128 bits: a valid ULID (first digit 0-7)


def base32(value: int, length: int) -> str:
    """The last `length` digits of `value` in Crockford's base 32 (a ULID's alphabet), most significant first."""
    chars = []
    for _ in range(length):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_ulid(value: str) -> bool:
    """An id this module made (an invoice, a flow or upload, a subscription, an attachment): 26 characters of
    Crockford base 32, nothing else."""
    return bool(ULID_PATTERN.match(value))
