"""Structures of the directory (suppliers and public recipients) and their services."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["supplier", "recipient"]
ROLES: tuple[Role, ...] = ("supplier", "recipient")
_SIRET = re.compile(r"^\d{14}$")


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            value -= 9 if value > 9 else 0
        total += value
    return total % 10 == 0


def is_valid_siret(value: str) -> bool:
    """14 digits passing the Luhn check (La Poste's SIRETs, SIREN 356000000, follow another rule)."""
    if not isinstance(value, str) or not _SIRET.match(value):
        return False
    if value.startswith("356000000"):
        return sum(int(c) for c in value) % 5 == 0
    return luhn_ok(value)


# The folded name is stored in a DynamoDB sort key (with '#<siret>') and compared in a key condition, both at
# most 1,024 bytes; NFKD can expand a 200-character name to 6,600 bytes (U+FDFA is 33 letters).
MAX_SEARCH_KEY_BYTES = 900


def search_key(name: str) -> str:
    """Case- and accent-insensitive form of a name, for prefix search: the same cut for stored names and typed
    prefixes, so a name folded beyond the limit is still found by its whole self."""
    decomposed = unicodedata.normalize("NFKD", name)
    folded = " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())
    encoded = folded.encode()
    if len(encoded) > MAX_SEARCH_KEY_BYTES:
        folded = encoded[:MAX_SEARCH_KEY_BYTES].decode("utf-8", "ignore")  # cut on a character boundary
    return folded


def hash_api_key(key: str) -> str:
    # Keys are 256-bit random tokens: a fast hash is enough, and keeps lookups O(1).
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Service:
    code: str
    name: str
    active: bool = True
    requires_engagement: bool = False


@dataclass(frozen=True, slots=True)
class Structure:
    siret: str
    name: str
    roles: tuple[Role, ...]
    active: bool = True
    requires_service_code: bool = False
    requires_engagement: bool = False
    services: tuple[Service, ...] = field(default_factory=tuple)
    updated_at: str | None = None

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    def service(self, code: str) -> Service | None:
        return next((s for s in self.services if s.code == code), None)


# The role of the platform's administrator keys (configured, not in the directory): no structure is behind them.
ADMINISTRATOR = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: one structure, or the platform administrator (role "admin", no structure)."""

    siret: str
    name: str
    roles: tuple[Role, ...]

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_administrator(self) -> bool:
        return ADMINISTRATOR in self.roles
