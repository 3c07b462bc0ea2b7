"""Load a directory seed file (the contract in README: structures with their API keys)."""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib.adapters.directory import DynamoDirectory
from chalicelib.domain.directory import Structure
from chalicelib.services.directory import MAX_IMPORT_ROWS, STRUCTURE_FIELDS, SYSTEM_ADMIN, import_structures
from chalicelib.services.errors import ServiceError, refuse_unknown_fields

# A seed's structure is an import row: the structure's fields and its API keys.
SEED_FIELDS = (*STRUCTURE_FIELDS, "api_keys")


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
    try:  # as an API import: a misspelt top-level key is an error, not a list left unloaded
        refuse_unknown_fields(document, ("structures",), "a seed")
    except ServiceError as exc:
        raise SeedError(exc.detail) from None
    entries, directory = document["structures"], directory or DynamoDirectory()
    for index, entry in enumerate(entries):  # here, so that the fields listed as accepted include api_keys
        try:
            if isinstance(entry, dict):
                refuse_unknown_fields(entry, SEED_FIELDS, "a seed's structure")
        except ServiceError as exc:
            raise SeedError(f"structures[{index}]: {exc.detail}") from None
    structures = []
    try:  # in imports of at most MAX_IMPORT_ROWS (an API import's limit), each checked whole before it is written
        for start in range(0, len(entries), MAX_IMPORT_ROWS):
            chunk = entries[start : start + MAX_IMPORT_ROWS]
            structures += import_structures(SYSTEM_ADMIN, chunk, directory=directory)
    except ServiceError as exc:
        done = f" (the first {start} structures are loaded)" if start else ""
        raise SeedError(f"{exc.detail}{done}") from None
    return [(s, list(entry.get("api_keys") or [])) for s, entry in zip(structures, document["structures"], strict=True)]
