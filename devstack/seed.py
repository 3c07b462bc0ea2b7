"""Load a directory seed file (the contract in README: structures with their API keys)."""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib.adapters.directory import DynamoDirectory
from chalicelib.domain.directory import Structure
from chalicelib.services.directory import SYSTEM_ADMIN, import_structures
from chalicelib.services.errors import ServiceError


class SeedError(ValueError):
    pass


def load_seed(path: str | Path, directory: DynamoDirectory | None = None) -> list[tuple[Structure, list[str]]]:
    """Import the seed's structures and keys (all checked first); SeedError says what is wrong."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SeedError(str(exc)) from None
    if not isinstance(document, dict) or not isinstance(document.get("structures"), list):
        raise SeedError('a seed is {"structures": [...]}')
    try:
        structures = import_structures(SYSTEM_ADMIN, document["structures"], directory=directory or DynamoDirectory())
    except ServiceError as exc:
        raise SeedError(exc.detail) from None
    return [(s, list(entry.get("api_keys") or [])) for s, entry in zip(structures, document["structures"], strict=True)]
