"""Load a directory seed file (the contract in README: structures with their API keys)."""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib.adapters.directory import DynamoDirectory
from chalicelib.domain.directory import ROLES, Service, Structure, hash_api_key, is_valid_siret
from chalicelib.services.clock import utc_now


class SeedError(ValueError):
    pass


def parse_seed(document: dict) -> list[tuple[Structure, list[str]]]:
    """Structures and their plaintext API keys, checked; SeedError names the first bad entry."""
    if not isinstance(document, dict) or not isinstance(document.get("structures"), list):
        raise SeedError('a seed is {"structures": [...]}')
    parsed = []
    for index, entry in enumerate(document["structures"]):
        where = f"structures[{index}]"
        siret = str(entry.get("siret", ""))
        if not is_valid_siret(siret):
            raise SeedError(f"{where}.siret {siret!r} is not a valid SIRET (14 digits, Luhn)")
        roles = tuple(entry.get("roles") or ())
        if not roles or any(role not in ROLES for role in roles):
            raise SeedError(f"{where}.roles must be a non-empty subset of {list(ROLES)}")
        services = tuple(
            Service(
                code=str(s["code"]),
                name=str(s.get("name", s["code"])),
                active=bool(s.get("active", True)),
                requires_engagement=bool(s.get("requires_engagement", False)),
            )
            for s in entry.get("services") or []
        )
        structure = Structure(
            siret=siret,
            name=str(entry.get("name") or siret),
            roles=roles,
            active=bool(entry.get("active", True)),
            requires_service_code=bool(entry.get("requires_service_code", False)),
            requires_engagement=bool(entry.get("requires_engagement", False)),
            services=services,
            updated_at=utc_now(),
        )
        keys = [str(k) for k in entry.get("api_keys") or []]
        parsed.append((structure, keys))
    return parsed


def load_seed(path: str | Path, directory: DynamoDirectory | None = None) -> list[tuple[Structure, list[str]]]:
    parsed = parse_seed(json.loads(Path(path).read_text(encoding="utf-8")))
    directory = directory or DynamoDirectory()
    now = utc_now()
    for structure, keys in parsed:
        directory.put_structure(structure)
        for key in keys:
            directory.put_api_key(hash_api_key(key), structure.siret, now)
    return parsed
