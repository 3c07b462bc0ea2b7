"""A structure's services are stored in its one DynamoDB item (400 KB at most; moto counts loosely): the service cap
must keep a full structure of full-length French names and codes under that by DynamoDB's own size rules."""

from __future__ import annotations

from chalicelib.adapters.directory import structure_to_record
from chalicelib.adapters.tables import DYNAMODB_ITEM_BYTES, item_bytes
from chalicelib.domain.directory import Service, Structure
from chalicelib.services.directory import MAX_SERVICES


def _name(i: int) -> str:
    """200 characters of a French administration's name, its accents and dashes taking 2 or 3 bytes in UTF-8."""
    phrase = f"Direction régionale des affaires culturelles d'Île-de-France — pôle patrimoine, service n° {i} — "
    return (phrase * 3)[:200]


def test_a_structure_with_the_most_services_fits_in_one_item():
    services = tuple(Service(f"{i:05d}".ljust(100, "X"), _name(i), True, True) for i in range(MAX_SERVICES))
    structure = Structure(
        siret="21750001600019", name="M" * 200, roles=("supplier", "recipient"), services=services,
        updated_at="2026-11-27T22:00:00.000Z", version=7,
    )  # fmt: skip
    assert all(len(s.code) == 100 and len(s.name) == 200 for s in services)
    size = item_bytes(structure_to_record(structure))
    assert size < DYNAMODB_ITEM_BYTES, size
