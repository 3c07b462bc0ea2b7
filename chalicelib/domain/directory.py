"""Structures of the directory (suppliers and public recipients) and their services."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["supplier", "recipient"]
ROLES: tuple[Role, ...] = ("supplier", "recipient")
MAX_SERVICE_CODE_CHARACTERS = 100  # a service's code in the directory (and in a subscription's filter)
_SIRET = re.compile(r"[0-9]{14}")  # ASCII digits: \d takes any script's, and int() reads them


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            value -= 9 if value > 9 else 0
        total += value
    return total % 10 == 0


# La Poste's establishments (SIREN 356000000) have a digit sum that is a multiple of 5 instead of a Luhn key; its
# head office keeps the Luhn key (as python-stdnum's siret check has it).
LA_POSTE_SIREN = "356000000"
LA_POSTE_HEAD_OFFICE = "35600000000048"
# What a refusal says a SIRET must be.
SIRET_RULE = "14 digits, Luhn check; La Poste's establishments: a digit sum that is a multiple of 5"


def is_valid_siret(value: str) -> bool:
    """14 digits passing the Luhn check (La Poste's establishments other than its head office: the digit sum)."""
    if not isinstance(value, str) or not _SIRET.fullmatch(value):
        return False
    if value.startswith(LA_POSTE_SIREN) and value != LA_POSTE_HEAD_OFFICE:
        return sum(int(c) for c in value) % 5 == 0
    return luhn_ok(value)


# The folded name is stored in a DynamoDB sort key (with '#<siret>') and compared in a key condition, both at
# most 1,024 bytes; NFKD can expand a 200-character name to 6,600 bytes (U+FDFA is 33 letters).
MAX_SEARCH_KEY_BYTES = 900


# Typographic variants a name may be written with (word processors' "smart" quotes, the French guillemets and
# dashes) and the ASCII character anyone types for them. Spaces need no entry: every Unicode space, the no-break
# U+00A0 and narrow no-break U+202F of French typography included, is whitespace to str.split below.
_TYPOGRAPHY = str.maketrans(
    {
        # ‘ ’ ‚ ‛ ′ ‵ ‹ › ʼ ` ´
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2035\u2039\u203a\u02bc\u0060\u00b4", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),  # “ ” „ ‟ ″ « »
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),  # ‐ ‑ ‒ – — ― −
    }
)

# Letters NFKD leaves whole (a ligature, or a letter with a stroke, not an accent) and what anyone types for them:
# an AZERTY keyboard has no œ, so "Œuvres" is searched as "oeuvres" (review r54 F4). Their capitals are lowered to
# these first.
_WHOLE_LETTERS = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "ł": "l", "đ": "d"})


def search_key(name: str) -> str:
    """Case-, accent- and typography-insensitive form of a name, for prefix search ("L’Oréal" and "l'oreal" fold
    alike, and "Œuvres" and "oeuvres": œ æ ß ø ł đ as oe ae ss o l d): the same cut for stored names and typed
    prefixes, so a name folded beyond the limit is still found by its whole self. Changing the fold changes stored
    keys: structures stored before must be written again (make migrate ONLY=names, docs/operations.md)."""
    # Before NFKD, which would turn ´ into a space and a combining accent; after, for what NFKD produces (the
    # fullwidth forms and ″ decompose to variants too).
    decomposed = unicodedata.normalize("NFKD", name.translate(_TYPOGRAPHY)).translate(_TYPOGRAPHY)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).lower().translate(_WHOLE_LETTERS)
    folded = " ".join(bare.split())
    encoded = folded.encode()
    if len(encoded) > MAX_SEARCH_KEY_BYTES:
        folded = encoded[:MAX_SEARCH_KEY_BYTES].decode("utf-8", "ignore")  # cut on a character boundary
    return folded


def name_position(structure) -> str:
    """Where a structure sits in the by-name search ("<folded name>#<siret>"): its index sort key, and a cursor."""
    return f"{search_key(structure.name)}#{structure.siret}"


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
    version: int | None = field(default=None, compare=False)  # optimistic-locking version held by the repository

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
